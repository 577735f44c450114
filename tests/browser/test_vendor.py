"""The site's third-party code is exactly what the pinned npm packages ship."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_vendored_files_match_the_pinned_packages() -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "vendor-web.sh"), "--check"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr


def test_the_site_loads_no_code_from_elsewhere() -> None:
    for page in (ROOT / "web").glob("*.html"):
        text = page.read_text()
        assert "http://" not in text and "https://" not in text, page.name
