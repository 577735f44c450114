"""Small synthetic mails for the parser tests: the products' layouts with other names and languages."""

from __future__ import annotations

from email.message import EmailMessage
from html import escape


def build_mail(
    subject: str,
    *,
    text: str | None = None,
    html: str | None = None,
    sender: str = "NAS01 <nas01@example.com>",
    charset: str = "utf-8",
    headers: dict[str, str] | None = None,
) -> bytes:
    """A complete RFC 5322 message with a text part, an HTML part, or both (multipart/alternative)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "backup-reports@msp.example"
    message["Subject"] = subject
    message["Date"] = "Mon, 11 Mar 2024 22:31:02 +0100"
    message["Message-ID"] = "<synthetic-1@example.com>"
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text, charset=charset, cte="quoted-printable")
        if html is not None:
            message.add_alternative(html, subtype="html", charset=charset, cte="quoted-printable")
    elif html is not None:
        message.set_content(html, subtype="html", charset=charset, cte="quoted-printable")
    return message.as_bytes()


def field_table(fields: list[tuple[str, str]]) -> str:
    """Label / value rows as HTML, the way Synology, QNAP, NAKIVO and Acronis lay them out."""
    rows = "".join(
        f"<tr><td><b>{escape(label)}</b></td><td>{escape(value)}</td></tr>" for label, value in fields
    )
    return f"<table>{rows}</table>"


def field_lines(fields: list[tuple[str, str]]) -> str:
    """The same fields as "Label: value" lines of a plain-text mail."""
    return "\n".join(f"{label}: {value}" for label, value in fields)


def veeam_html(
    title: str,
    result: str,
    rows: list[tuple[str, str, str]],
    footer: str,
    description: str = "Created by EXAMPLE\\admin at 1/2/2024 9:00 AM.",
) -> str:
    """Veeam's report layout: title cell with the result beside it, summary, Details table, footer.

    ``rows`` are (name, status, details HTML) per object.
    """
    objects = "".join(
        f"<tr><td>{escape(name)}</td><td><span>{escape(status)}</span></td>"
        f"<td>22:00:00</td><td>22:10:00</td><td>{details}</td></tr>"
        for name, status, details in rows
    )
    return (
        "<html><body><table><tr><td><table>"
        f'<tr><td style="background-color: #00B050;">{escape(title)}'
        f'<div class="jobDescription">{escape(description)}</div></td>'
        f"<td>{escape(result)}<div>{len(rows)} of {len(rows)} VMs processed</div></td></tr>"
        '<tr><td colspan="2"><table>'
        "<tr><td><b>Success</b></td><td>1</td><td><b>Start time</b></td><td>22:00:00</td></tr>"
        '<tr><td colspan="5">Details</td></tr>'
        "<tr><td><b>Name</b></td><td><b>Status</b></td><td><b>Start time</b></td>"
        "<td><b>End time</b></td><td><b>Details</b></td></tr>"
        f"{objects}</table></td></tr></table></td></tr>"
        f"<tr><td>{escape(footer)}</td></tr></table></body></html>"
    )
