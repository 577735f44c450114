"""The memoised parameter conversion gives exactly what pg8000's own scan gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pg8000.dbapi import convert_paramstyle as original

from shared_code.db.pg8000_statements import memoised

SQL_BITS = st.sampled_from(
    [
        "SELECT ",
        "%s",
        "%%",
        "'it''s %s'",
        '"col%s"',
        "E'\\'%s'",
        "$$ %s $$",
        "-- %s\n",
        "::int",
        ", ",
        "x",
        " ",
    ]
)


@given(st.lists(SQL_BITS, max_size=30).map("".join), st.sampled_from(["format", "qmark", "numeric"]))
@settings(max_examples=300, deadline=None)
def test_the_memoised_conversion_equals_pg8000s(query: str, style: str) -> None:
    args = (1, "two", None)
    try:
        expected = original(style, query, args)
    except Exception as error:
        expected = type(error)
    convert = memoised(original)
    for _ in range(2):  # the second call is served from the cache
        try:
            actual = convert(style, query, args)
        except Exception as error:
            actual = type(error)
        assert actual == expected


def test_the_engine_uses_it(db) -> None:
    import pg8000.legacy

    assert getattr(pg8000.legacy.convert_paramstyle, "memoised", False)
