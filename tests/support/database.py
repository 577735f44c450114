"""The test session's PostgreSQL: TEST_DATABASE_URL when set, else an embedded server."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

from shared_code.db.engine import normalise_url


class TestDatabase:
    __test__ = False  # not a test class

    def __init__(self, url: str | None) -> None:
        self.embedded = None
        if url is None:
            from shared_code.devdb import EmbeddedPostgres

            self.embedded = EmbeddedPostgres(
                Path(tempfile.mkdtemp(prefix="bc-test-")) / "pg", keep_data=False
            )
            url = self.embedded.ensure_database("backupchecks_test")
        self.url = normalise_url(url)

    def reset_schema(self) -> None:
        """An empty public schema, so the migrations build everything from scratch."""
        engine = create_engine(self.url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
