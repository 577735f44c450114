"""decode_mail: what real mail servers send, decoded into clean fields, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared_code.parsers.mime import MAX_MIME_PARTS, decode_bytes, decode_mail

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"


def raw_mail(headers: str, body: bytes = b"Hello\n") -> bytes:
    return headers.strip().replace("\n", "\r\n").encode("latin-1") + b"\r\n\r\n" + body


def test_html_only_quoted_printable_report() -> None:
    mail = decode_mail((CORPUS / "veeam_backup_success_3vms.eml").read_bytes())

    assert mail.from_address == "vbr01@contoso.example"
    assert mail.from_name == "Veeam Backup Server"
    assert mail.subject == "[Success] Daily VM Backup (3 VMs)"
    assert mail.received_at == datetime(2024, 3, 11, 21, 31, 2, tzinfo=UTC)
    assert mail.internet_message_id == "<53AA3A6121D6C816-c0e9c08f@contoso.example>"
    assert mail.text_body is None
    assert mail.html_body is not None
    assert "font-weight: bold" in mail.html_body  # soft line breaks of quoted-printable are joined


def test_multipart_alternative_gives_both_bodies() -> None:
    mail = decode_mail((CORPUS / "veeam_agent_windows_success.eml").read_bytes())

    assert mail.text_body is not None and mail.text_body.startswith("Agent Backup job: Daily Volume Backup")
    assert mail.html_body is not None and "<html" in mail.html_body


def test_encoded_word_subject_with_non_ascii() -> None:
    mail = decode_mail((CORPUS / "vb365_warning_encoded_subject.eml").read_bytes())

    assert mail.subject == "[Warning] M365 – Teams & SharePoint (8 objects) 1 warning"


def test_iso_8859_1_body() -> None:
    mail = decode_mail((CORPUS / "synology_abb_vm_partial_nl.eml").read_bytes())

    assert mail.text_body is not None and "SRV-Financiën" in mail.text_body


def test_windows_1252_body_with_en_dash() -> None:
    mail = decode_mail((CORPUS / "noise_forwarded_report.eml").read_bytes())

    assert mail.text_body is not None and "since Tuesday – I think" in mail.text_body


def test_crlf_line_endings_become_newlines() -> None:
    mail = decode_mail((CORPUS / "veeam_backup_failed_crlf.eml").read_bytes())

    assert mail.html_body is not None and "\r" not in mail.html_body


def test_auto_submitted_and_in_reply_to_are_kept() -> None:
    mail = decode_mail((CORPUS / "noise_out_of_office.eml").read_bytes())

    assert mail.auto_submitted == "auto-replied"
    assert mail.in_reply_to == "<5E1F0C2A9B774D3E8A61@contoso.example>"


def test_attachments_are_not_bodies() -> None:
    mail = decode_mail((CORPUS / "noise_dmarc_report.eml").read_bytes())

    assert mail.text_body is not None and mail.text_body.startswith("This is an aggregate DMARC report")
    assert mail.html_body is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("=?iso-8859-1?Q?Back-uptaak_voltooid_op_N=E4S01?=", "Back-uptaak voltooid op NäS01"),
        ("FW: =?utf-8?B?4oCTIGRvbmU=?= today", "FW: – done today"),
        ("=?windows-1252?Q?=96_ok?=", "– ok"),
        ("=?x-unknown?Q?plain?=", "plain"),
        ("=?utf-8?Q?broken", "=?utf-8?Q?broken"),
        ("folded\n  over\n\tlines", "folded over lines"),
    ],
)
def test_subject_decoding(header: str, expected: str) -> None:
    mail = decode_mail(raw_mail(f"Subject: {header}"))

    assert mail.subject == expected


def test_raw_utf8_header_bytes() -> None:
    raw = "Subject: Sicherung für NAS01 erfolgreich".encode() + b"\r\n\r\nbody"

    assert decode_mail(raw).subject == "Sicherung für NAS01 erfolgreich"


def test_encoded_display_name() -> None:
    mail = decode_mail(raw_mail('From: "=?utf-8?Q?Z=C3=BCrich_NAS?=" <nas@example.com>'))

    assert (mail.from_name, mail.from_address) == ("Zürich NAS", "nas@example.com")


def test_received_header_wins_over_date() -> None:
    mail = decode_mail(
        raw_mail(
            "Received: from mx.example.com by mailbox.example.com; Tue, 12 Mar 2024 08:00:05 +0100\n"
            "Received: from nas01 by mx.example.com; Tue, 12 Mar 2024 07:59:59 +0100\n"
            "Date: Tue, 12 Mar 2024 07:59:00 +0100"
        )
    )

    assert mail.received_at == datetime(2024, 3, 12, 7, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Mon, 11 Mar 2024 22:31:02 -0000", datetime(2024, 3, 11, 22, 31, 2, tzinfo=UTC)),
        ("Mon, 11 Mar 2024 22:31:02 +0530", datetime(2024, 3, 11, 17, 1, 2, tzinfo=UTC)),
        ("yesterday", None),
        ("Mon, 99 Foo 99999 99:99:99 +9999", None),
        ("", None),
    ],
)
def test_date_header(date: str, expected: datetime | None) -> None:
    assert decode_mail(raw_mail(f"Date: {date}")).received_at == expected


def test_unknown_and_lying_charsets_fall_back() -> None:
    unknown = raw_mail('Content-Type: text/plain; charset="x-made-up"', "Grüße".encode())
    lying = raw_mail('Content-Type: text/plain; charset="utf-8"', "Gr\xfc\xdfe \x96 ok".encode("latin-1"))
    ascii_8bit = raw_mail('Content-Type: text/plain; charset="us-ascii"', "Grüße".encode("cp1252"))

    assert decode_mail(unknown).text_body == "Grüße"
    assert decode_mail(lying).text_body == "Gr\ufffd\ufffde \ufffd ok"
    assert decode_mail(ascii_8bit).text_body == "Grüße"


def test_decode_bytes_never_raises() -> None:
    assert decode_bytes(b"\x81\x8d\x8f", "windows-1252") == "\ufffd\ufffd\ufffd"
    assert decode_bytes(b"caf\xc3\xa9", None) == "café"
    assert decode_bytes(b"caf\xe9", '"ISO-8859-1"') == "café"


def test_broken_base64_does_not_raise() -> None:
    raw = raw_mail(
        "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64", b"PGh0bW*%%%\n"
    )

    mail = decode_mail(raw)

    assert isinstance(mail.html_body, str)


def test_html_sent_as_text_plain_is_read_as_html() -> None:
    raw = raw_mail("Content-Type: text/plain", b"<html><body><p>Backup job: Daily</p></body></html>")

    mail = decode_mail(raw)

    assert mail.text_body is None
    assert mail.document.lines == ("Backup job: Daily",)


def test_attached_message_is_not_read() -> None:
    inner = b"Subject: [Failed] Daily\r\nContent-Type: text/html\r\n\r\n<p>Backup job: Daily</p>"
    raw = raw_mail(
        'Content-Type: multipart/mixed; boundary="b1"',
        b"--b1\r\nContent-Type: text/plain\r\n\r\nSee the attached report.\r\n"
        b"--b1\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--b1--\r\n",
    )

    mail = decode_mail(raw)

    assert mail.text_body == "See the attached report."
    assert mail.html_body is None


@pytest.mark.parametrize("raw", [b"", b"\x00\xff\xfe", b"\r\n\r\n", b"Subject: x", b"--\r\n" * 1000])
def test_degenerate_input(raw: bytes) -> None:
    mail = decode_mail(raw)

    assert isinstance(mail.subject, str)
    assert mail.document is mail.document  # built once


def test_deeply_nested_multipart_keeps_its_top_level_headers() -> None:
    depth = 5000
    head = b"".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode() for i in range(depth)
    )
    top = b"From: Veeam <veeam@example.com>\r\nSubject: [Failed] Deep\r\nMessage-ID: <deep@example.com>\r\n"
    raw = top + head + b"Content-Type: text/plain\r\n\r\nbottom"

    mail = decode_mail(raw)

    assert (mail.from_address, mail.from_name) == ("veeam@example.com", "Veeam")
    assert mail.subject == "[Failed] Deep"
    assert mail.internet_message_id == "<deep@example.com>"
    assert mail.text_body is not None and "bottom" in mail.text_body


def tiny_parts(count: int) -> bytes:
    return b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" * count


def test_parts_beyond_the_limit_are_counted_not_read() -> None:
    first = b"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Report</p>\r\n"
    body = first + tiny_parts(MAX_MIME_PARTS + 4000) + b"--b--\r\n"
    raw = raw_mail('From: a@example.com\nSubject: Many\nContent-Type: multipart/mixed; boundary="b"', body)

    mail = decode_mail(raw)

    assert (mail.subject, mail.html_body, mail.unread_parts) == ("Many", "<p>Report</p>", 4001)


def test_a_mail_with_parts_up_to_the_limit_is_read_whole() -> None:
    body = tiny_parts(MAX_MIME_PARTS - 1) + b"--b\r\nContent-Type: text/html\r\n\r\n<p>last</p>\r\n--b--\r\n"
    raw = raw_mail('From: a@example.com\nContent-Type: multipart/mixed; boundary="b"', body)

    mail = decode_mail(raw)

    assert (mail.html_body, mail.unread_parts) == ("<p>last</p>", 0)
