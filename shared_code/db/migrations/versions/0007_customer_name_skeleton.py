"""Customer names: a skeleton per name, unique among live customers

Revision ID: 0007
Revises: 0006

Names that look alike ("Contoso", "Cоntoso" with a Cyrillic о, "Contoso" with a zero-width space)
share a skeleton (shared_code.schema.names); the unique index keeps two live customers from
looking the same. Existing rows get theirs here; should two live ones already look alike, the
newer keeps no skeleton (it is listed in the log) until it is renamed.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared_code.schema.names import UnreadableName, skeleton

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.add_column("customers", sa.Column("name_skeleton", sa.Text(), nullable=True))
    connection = op.get_bind()
    taken: set[str] = set()
    rows = connection.execute(sa.text("SELECT id, name, deleted_at IS NULL FROM customers ORDER BY id"))
    for customer_id, name, live in rows.all():
        try:
            value = skeleton(name)
        except UnreadableName:
            continue
        if live and value in taken:
            log.warning("customer %s (%r) looks like an earlier one; rename it", customer_id, name)
            continue
        if live:
            taken.add(value)
        connection.execute(
            sa.text("UPDATE customers SET name_skeleton = :value WHERE id = :id"),
            {"value": value, "id": customer_id},
        )
    op.create_index(
        "uq_customers_live_skeleton",
        "customers",
        ["name_skeleton"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_customers_live_skeleton", table_name="customers")
    op.drop_column("customers", "name_skeleton")
