"""checkov's Bicep scan: no failed check, every skip justified inline, every file parsed.

checkov exits 0 when it cannot parse a file (its pinned pycep-parser rejects newer Bicep syntax),
so the parse result is read from ``parsing_errors`` in its JSON report. It runs once per module
(importing checkov alone takes seconds).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.infra.bicep_model import INFRA, REPO, bicep_files, template

# Files checkov cannot parse (its pycep grammar knows neither lambdas nor fail()) and that declare
# no resource, so there is nothing for it to check; test_unscanned_files_declare_nothing_to_scan
# keeps it that way.
UNSCANNED = {"modules/environment.bicep"}

pytestmark = pytest.mark.slow  # importing checkov and scanning take seconds

SKIP_COMMENT = re.compile(r"checkov:skip=(?P<id>CKV2?_[A-Z]+_\d+)(?::(?P<reason>[^\n]*))?")


def _checkov_command() -> list[str]:
    beside = Path(sys.executable).with_name("checkov")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("checkov")
    if found:
        return [found]
    pytest.fail("checkov is not installed (it is in requirements-dev.txt)")


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    command = [
        *_checkov_command(),
        "--directory",
        str(INFRA),
        "--framework",
        "bicep",
        "--skip-download",
        *[option for path in sorted(UNSCANNED) for option in ("--skip-path", re.escape(path))],
        "--output",
        "json",
    ]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode in (0, 1), f"checkov failed to run:\n{result.stderr[-3000:]}"
    data = json.loads(result.stdout)
    reports = data if isinstance(data, list) else [data]
    bicep = [r for r in reports if r.get("check_type") == "bicep"]
    assert len(bicep) == 1, f"expected one bicep report, got {[r.get('check_type') for r in reports]}"
    return bicep[0]


def _label(check: dict[str, Any]) -> str:
    return f"{check['check_id']} {check['check_name']} — {check['file_path']} {check['resource']}"


def test_no_failed_checks(report: dict[str, Any]) -> None:
    failed = [_label(c) for c in report["results"]["failed_checks"]]
    assert failed == [], "\n".join(failed)
    assert report["summary"]["failed"] == 0


def test_every_template_parsed(report: dict[str, Any]) -> None:
    assert report["summary"]["parsing_errors"] == 0, report["results"].get("parsing_errors")
    assert report["results"].get("parsing_errors", []) == []
    assert report["summary"]["passed"] > 0
    assert report["summary"]["resource_count"] > 0


def test_checks_ran_over_the_resource_types_they_cover(report: dict[str, Any]) -> None:
    """A sanity check that checkov really evaluated the templates (not an empty scan)."""
    results = report["results"]
    seen = {
        c["resource"].rsplit(".", 1)[0]
        for kind in ("passed_checks", "failed_checks", "skipped_checks")
        for c in results.get(kind, [])
    }
    assert {
        "Microsoft.Storage/storageAccounts",
        "Microsoft.KeyVault/vaults",
        "Microsoft.Web/sites",
        "Microsoft.Web/serverfarms",
    } <= seen


def test_unscanned_files_declare_nothing_to_scan() -> None:
    for path in UNSCANNED:
        unscanned = template(INFRA / path)
        assert unscanned.resources == [] and unscanned.modules == [], path
        assert not unscanned.errors, path


def _skip_comments() -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for path in bicep_files():
        if str(path.relative_to(INFRA)) in UNSCANNED:
            continue
        for match in SKIP_COMMENT.finditer(path.read_text()):
            found[("/" + str(path.relative_to(INFRA)), match["id"])] = (match["reason"] or "").strip()
    return found


def test_every_skip_is_justified_inline() -> None:
    skips = _skip_comments()
    assert skips, "no inline skips found (the parser of skip comments is broken?)"
    for (file, check), reason in skips.items():
        assert len(reason) >= 30, f"{file}: the skip of {check} needs a reason (checkov:skip={check}:<why>)"


def test_every_skip_is_used_and_every_skipped_check_has_a_comment(report: dict[str, Any]) -> None:
    skipped = {(c["file_path"], c["check_id"]) for c in report["results"].get("skipped_checks", [])}
    comments = set(_skip_comments())
    assert comments - skipped == set(), "skip comments checkov did not apply (stale or misplaced)"
    assert skipped - comments == set(), "checks skipped without an inline justification"
    for check in report["results"].get("skipped_checks", []):
        assert (check["check_result"].get("suppress_comment") or "").strip(), _label(check)
