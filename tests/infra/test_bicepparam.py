"""main.bicepparam names only parameters main.bicep declares, and covers the required ones."""

from __future__ import annotations

import re
from pathlib import Path

from tests.infra.bicep_model import MAIN, PARAM_FILE, parse_bicepparam, template


def test_the_param_file_parses() -> None:
    parsed = parse_bicepparam(PARAM_FILE)
    assert parsed.problems == []
    assert parsed.using == "./main.bicep"
    assert (PARAM_FILE.parent / parsed.using).resolve() == MAIN.resolve()


def test_names_only_declared_parameters() -> None:
    declared = set(template(MAIN).params)
    named = set(parse_bicepparam(PARAM_FILE).values)
    assert named - declared == set(), "the param file sets parameters main.bicep does not declare"


def test_covers_every_required_parameter() -> None:
    required = {name for name, p in template(MAIN).params.items() if not p.has_default}
    assert required - set(parse_bicepparam(PARAM_FILE).values) == set()


def test_literal_values_respect_allowed_lists() -> None:
    """A quoted literal for a parameter with @allowed must be one of the allowed values."""
    params = template(MAIN).params
    for name, source in parse_bicepparam(PARAM_FILE).values.items():
        allowed = params[name].decorators.get("allowed")
        literal = re.fullmatch(r"'([^']*)'|(\d+)|(true|false)", source.strip())
        if allowed is None or literal is None:
            continue
        value = literal.group(1) if literal.group(1) is not None else source.strip()
        if literal.group(2):
            value = int(value)
        assert value in allowed, f"{name} = {source} is not in {allowed}"


def test_environment_specific_values_come_from_the_environment() -> None:
    """Tenant-, subscription- and environment-specific values are not committed."""
    values = parse_bicepparam(PARAM_FILE).values
    for name in (
        "environmentName",
        "apiClientId",
        "graphMailbox",
        "postgresAdminObjectId",
        "postgresAdminName",
    ):
        assert values[name].startswith("readEnvironmentVariable("), name


def test_parser_reads_multi_line_values_and_comments(tmp_path: Path) -> None:
    sample = tmp_path / "x.bicepparam"
    sample.write_text(
        "// leading comment\n"
        "using './main.bicep'\n"
        "param a = 'x // not a comment'  // a comment\n"
        "param b = {\n  k: [\n    1\n  ]\n}\n"
        "/* block\n comment */\n"
        "param c = readEnvironmentVariable('C', '')\n"
    )
    parsed = parse_bicepparam(sample)
    assert parsed.problems == []
    assert parsed.values["a"] == "'x // not a comment'"
    assert set(parsed.values) == {"a", "b", "c"}
    assert "k: [" in parsed.values["b"]


def test_parser_reports_junk(tmp_path: Path) -> None:
    sample = tmp_path / "x.bicepparam"
    sample.write_text("using './main.bicep'\nparam a = 1\nparam a = 2\nvar x = 3\nparam b = {\n")
    problems = parse_bicepparam(sample).problems
    assert any("set twice" in p for p in problems)
    assert any("not a using or param line" in p for p in problems)
    assert any("unclosed" in p for p in problems)
