"""html_to_document / text_to_document: the one shape every parser reads."""

from __future__ import annotations

import pytest

from shared_code.parsers.html_text import _within_depth, html_to_document, text_to_document


def test_blocks_become_lines_and_inline_text_stays_together() -> None:
    document = html_to_document(
        "<html><head><title>t</title><style>p{}</style></head><body>"
        "<div>Backup job: <b>Daily</b><div>Created by admin</div>after</div>"
        "<p>Dear&nbsp;user,</p><script>var x = 1;</script><ul><li>one</li><li>two</li></ul>"
        "</body></html>"
    )

    assert document.lines == ("Backup job: Daily", "Created by admin", "after", "Dear user,", "one", "two")


def test_source_newlines_and_tabs_are_plain_whitespace() -> None:
    document = html_to_document("<p>The backup task X\n   on NAS01\thas\r\ncompleted.</p>")

    assert document.lines == ("The backup task X on NAS01 has completed.",)


def test_cells_join_breaks_and_decode_entities() -> None:
    document = html_to_document(
        "<table><tr><td>SRV01</td><td>Warning</td>"
        "<td>Skipped &quot;C:\\R&amp;D\\&lt;2024&gt;&quot;:<br />access denied.</td></tr></table>"
    )

    assert document.rows == (("SRV01", "Warning", 'Skipped "C:\\R&D\\<2024>": access denied.'),)


def test_only_innermost_rows_are_rows() -> None:
    document = html_to_document(
        "<table><tr><td>outer<table><tr><th>Name</th><th>Status</th></tr>"
        "<tr><td>VM1</td><td>Success</td></tr></table></td></tr><tr><td>footer</td></tr></table>"
    )

    assert document.rows == (("Name", "Status"), ("VM1", "Success"), ("footer",))


def test_fields_from_two_cell_rows_and_label_lines() -> None:
    document = html_to_document(
        "<table><tr><td>Device:</td><td>WS01</td></tr><tr><td>Device</td><td>second</td></tr></table>"
        "<p><b>Plan name:</b> Daily servers</p><p>no label here</p>"
    )

    assert document.field("DEVICE") == "WS01"
    assert document.field("missing", "plan name") == "Daily servers"
    assert document.field("no label here") is None


def test_preformatted_text_keeps_its_lines() -> None:
    document = html_to_document("<pre>Task: Offsite\nStatus: Failed</pre>")

    assert document.lines == ("Task: Offsite", "Status: Failed")
    assert document.field("status") == "Failed"


def test_plain_text_lines_rows_and_fields() -> None:
    document = text_to_document(
        "Dear user,\r\n\r\nTask:   PC-01\nName\tStatus\tDetails\nWS01\tSuccess\t\t\n  \nonly\tone\n"
    )

    assert document.lines == ("Dear user,", "Task: PC-01", "Name Status Details", "WS01 Success", "only one")
    assert document.rows == (("Name", "Status", "Details"), ("WS01", "Success"), ("only", "one"))
    assert document.field("task") == "PC-01"


def test_folded_text_is_casefolded() -> None:
    assert text_to_document("Hyper Backup\nDONE").folded == "hyper backup\ndone"


def test_broken_html_still_gives_text() -> None:
    document = html_to_document("<table><tr><td>a<td>b</tr><tr><td>c</table></div><p>tail")

    assert document.rows == (("a", "b"), ("c",))
    assert document.lines[-1] == "tail"


def test_elements_nested_deeper_than_any_report_keep_their_text_and_lines() -> None:
    # 100k nested <div>s made the HTML parser quadratic (25 s); the deep ones are flattened to lines.
    depth = 100_000
    document = html_to_document("<div>x" * depth + "</div>" * depth + "<p>after</p>")

    assert document.lines == ("x",) * depth + ("after",)


def test_deep_inline_nesting_keeps_the_text_on_one_line() -> None:
    depth = 1000
    document = html_to_document("<div>" + "<span>x " * depth + "</span>" * depth + "</div><p>end</p>")

    assert document.lines == (" ".join(["x"] * depth), "end")


def test_tags_in_any_case_count_towards_the_depth() -> None:
    depth = 1000
    document = html_to_document("<DiV>x" * depth + "</dIV>" * depth + "<P>after</P>")

    assert document.lines == ("x",) * depth + ("after",)


def test_text_longer_in_lower_case_does_not_move_the_cut() -> None:
    depth = 300  # "İ" lower-cases to two characters: the depth scan must keep every position
    document = html_to_document("<p>İSTANBUL</p>" * 50 + "<div>x" * depth + "</div>" * depth + "<p>end</p>")

    assert document.lines == ("İSTANBUL",) * 50 + ("x",) * depth + ("end",)


def test_a_table_nested_deeper_than_any_report_reads_as_lines() -> None:
    deep = "<div>" * 300
    document = html_to_document(f"{deep}<table><tr><td>Name</td><td>Status</td></tr></table>after")

    assert (document.lines, document.rows) == (("Name", "Status", "after"), ())


def test_a_shallow_table_inside_deep_nesting_still_gives_rows() -> None:
    deep = "<div>" * 300
    document = html_to_document(f"<table><tr><td>Name</td><td>Status</td></tr></table>{deep}x")

    assert document.rows == (("Name", "Status"),)


def test_elements_named_like_cells_still_count_towards_the_depth() -> None:
    # The depth check counts <td>, <tr> and <th> start tags out; longer names are other elements.
    html = "<trx>x" * 300 + "<td-x>y" * 300

    assert _within_depth(html) != html


def test_cells_are_normalised_one_by_one() -> None:
    document = html_to_document(
        "<table><tr><td> \u00a0a\tb </td><td></td><td><div>x</div>y<br>z</td></tr>"
        "<tr><td>c</td></tr><tr><td>  </td><th> e </th></tr></table>"
    )

    assert document.rows == (("a b", "", "x y z"), ("c",), ("", "e"))


def test_a_caption_after_the_rows_is_no_part_of_the_last_row() -> None:
    document = html_to_document(
        "<table><tr><td>a</td><td>b</td></tr><caption>Note</caption></table><p>after</p>"
    )

    assert (document.lines, document.rows) == (("a", "b", "Note", "after"), (("a", "b"),))


def test_a_table_without_rows_inside_a_cell_stays_in_the_cell() -> None:
    document = html_to_document(
        "<table><tr><td>a<table></table></td><td>b<table><caption>in</caption></table></td></tr></table>"
    )

    assert (document.lines, document.rows) == (("a", "b", "in"), (("a", "b in"),))


def test_cells_of_an_svg_are_rows_too() -> None:
    document = html_to_document(
        "<svg><tr><td>a</td><td>b</td></tr></svg>x<table><tr><td>c</td><td>d</td></tr></table>"
    )

    assert (document.lines, document.rows) == (("a", "bx", "c", "d"), (("a", "b"), ("c", "d")))


def test_a_cell_mark_in_the_mail_outside_any_row_starts_no_row() -> None:
    document = html_to_document(
        "<table><tr><td>a</td><td>b</td></tr></table><p>x&#x1f;y</p><table><tr><td>c</td></tr></table>"
    )

    assert (document.lines, document.rows) == (("a", "b", "x", "y", "c"), (("a", "b"), ("c",)))


def test_a_nul_in_the_mail_never_reaches_the_text() -> None:
    # The row edge is a NUL: the HTML parser drops or replaces the mail's own.
    document = html_to_document("a\x00b&#0;c<table><tr><td>\x00</td><td>d</td></tr></table>")

    assert (document.lines, document.rows) == (("ab\ufffdc", "d"), (("", "d"),))


@pytest.mark.parametrize("holder", ["pre", "noscript"])
def test_cells_that_go_with_a_pre_or_noscript_are_not_counted(holder: str) -> None:
    # Their marks never reach the text: counted, they would hide the cell mark written in the mail.
    document = html_to_document(
        f"<p>q</p><{holder}><table><tr><td>p</td></tr></table></{holder}>"
        "<table><tr><td>a</td><td>b</td></tr></table><p>y&#x1f;z</p><table><tr><td>c</td></tr></table>"
    )

    assert document.rows == (("a", "b"), ("c",))
