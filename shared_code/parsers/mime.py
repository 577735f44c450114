"""Decode a raw RFC 5322 message into the few clean fields the application works with.

Real mail servers send every kind of mess: wrong or unknown charsets, broken base64,
8-bit headers, missing dates. ``decode_mail`` never raises on such input; a part
it cannot make sense of becomes empty instead. Nested ``message/rfc822`` parts are
not read: a mail that carries another mail is about that mail, not a report itself.
"""

from __future__ import annotations

import email
import email.parser
import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header
from email.message import Message
from functools import cached_property
from itertools import islice
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared_code.parsers.html_text import TextDocument

# Browsers decode iso-8859-1 as windows-1252 (a superset), and so do mail clients.
_CHARSET_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252"}
# 8-bit bytes in a mail labelled ASCII are never ASCII: guess as if unlabelled.
_NO_CHARSET = frozenset({"", "us-ascii", "ascii"})
_UTF8 = frozenset({"utf-8", "utf8"})
_HTML_SNIFF = ("<html", "<!doctype html", "<body", "<table")
# The stdlib parser pays for every MIME part in Python; 100k tiny parts took over a second. A real
# report has a few dozen parts at most: only the first this many are read, the rest are counted.
MAX_MIME_PARTS = 1000
_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]+)"|([^\s;"]+))', re.IGNORECASE)


@dataclass(frozen=True)
class DecodedMail:
    """A mail as the parsers and the database see it."""

    from_address: str = ""
    from_name: str = ""
    subject: str = ""
    received_at: datetime | None = None
    text_body: str | None = None
    html_body: str | None = None
    internet_message_id: str | None = None
    in_reply_to: str | None = None
    auto_submitted: str | None = None
    unread_parts: int = 0  # MIME parts beyond MAX_MIME_PARTS, counted but not read

    @cached_property
    def document(self) -> TextDocument:
        """The body as normalised lines, table rows and fields (HTML preferred), built once."""
        from shared_code.parsers.html_text import html_to_document, text_to_document

        if self.html_body:
            document = html_to_document(self.html_body)
            if document.lines or not self.text_body:
                return document
        return text_to_document(self.text_body or "")


def decode_mail(raw: bytes) -> DecodedMail:
    """Decode a raw message; never raises, whatever the bytes."""
    whole = bytes(raw)
    raw, unread_parts = _within_part_limit(whole)
    try:
        message = email.message_from_bytes(raw)
        text_body, html_body = _bodies(message)
    except Exception:  # the stdlib parser is lenient but recurses on deep nesting
        # What the top-level headers say (sender, subject, Message-ID) is still known; the body is raw text.
        message = email.parser.BytesHeaderParser().parsebytes(whole)
        text_body, html_body = _normalise_newlines(decode_bytes(whole, None)), None
    from_name, from_address = _address(message)
    return DecodedMail(
        from_address=from_address,
        from_name=from_name,
        subject=_header(message, "Subject"),
        received_at=_received_at(message),
        text_body=text_body,
        html_body=html_body,
        internet_message_id=_header(message, "Message-ID") or None,
        in_reply_to=_header(message, "In-Reply-To") or None,
        auto_submitted=_header(message, "Auto-Submitted") or None,
        unread_parts=unread_parts,
    )


def _within_part_limit(raw: bytes) -> tuple[bytes, int]:
    """The mail cut before its part number ``MAX_MIME_PARTS + 1``, and how many parts were cut off.

    Parts are counted by their opening boundary lines or, when a mail declares more boundaries
    than that, by their declarations. The cut mail lacks its
    closing boundaries, which the stdlib parser tolerates.
    """
    if raw.count(b"\n--") <= MAX_MIME_PARTS:  # cheap: not even this many lines start with "--"
        return raw, 0
    declared = _BOUNDARY.findall(raw)
    if len(declared) > MAX_MIME_PARTS:
        return _cut_at_match(raw, _BOUNDARY, len(declared))
    boundaries = sorted({quoted or bare for quoted, bare in declared})
    if not boundaries:
        return raw, 0
    lines = re.compile(b"\n--(?:" + b"|".join(map(re.escape, boundaries)) + b")(?!--)")  # not a closing line
    count = len(lines.findall(raw))
    return _cut_at_match(raw, lines, count) if count > MAX_MIME_PARTS else (raw, 0)


def _cut_at_match(raw: bytes, pattern: re.Pattern[bytes], count: int) -> tuple[bytes, int]:
    """The mail up to the line of ``pattern``'s match number ``MAX_MIME_PARTS + 1`` (of ``count``)."""
    match = next(islice(pattern.finditer(raw), MAX_MIME_PARTS, None))
    return raw[: raw.rfind(b"\n", 0, match.start() + 1)], count - MAX_MIME_PARTS


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes to text with the declared charset, else UTF-8, else windows-1252; never raises."""
    declared = (charset or "").strip().strip("\"'").lower()
    declared = "" if declared in _NO_CHARSET else _CHARSET_ALIASES.get(declared, declared)
    for encoding in (declared, "utf-8"):
        if not encoding:
            continue
        try:
            return data.decode(encoding)
        except (LookupError, ValueError):  # unknown or malformed charset name, or bytes it cannot decode
            continue
    # Neither fits: a UTF-8 label keeps UTF-8 (with replacement marks), anything else reads as windows-1252.
    return data.decode("utf-8" if declared in _UTF8 else "cp1252", errors="replace")


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
        return _decode_words(value) if value is not None else ""
    except Exception:  # malformed encoded-words or parameters: treat the header as absent
        return ""


def _decode_words(value: object) -> str:
    """RFC 2047 encoded-words (and raw 8-bit headers) to one whitespace-normalised line."""
    text = "".join(
        chunk if isinstance(chunk, str) else _decode_chunk(chunk, charset)
        # A header value is a str or an email.header.Header, which decode_header's stub does not admit.
        for chunk, charset in decode_header(value)  # type: ignore[arg-type]
    )
    return " ".join(text.split())


def _decode_chunk(chunk: bytes, charset: str | None) -> str:
    # decode_header hands back the unencoded stretches as latin-1 bytes, without a charset
    return chunk.decode("latin-1") if charset is None else decode_bytes(chunk, charset)


def _address(message: Message) -> tuple[str, str]:
    try:
        raw = message.get("From")
        if raw is None:
            return "", ""
        name, address = email.utils.parseaddr(str(raw))
        return _decode_words(name), address.strip()
    except Exception:  # an unparsable From is an unknown sender, not a broken mail
        return "", ""


def _received_at(message: Message) -> datetime | None:
    """When the mailbox received the mail: the newest Received header, else the Date header."""
    candidates: list[str] = []
    try:
        received = message.get_all("Received") or []
        if received:
            candidates.append(str(received[0]).rpartition(";")[2])
        candidates.append(str(message.get("Date") or ""))
    except Exception:  # header access on a mangled message
        return None
    for candidate in candidates:
        moment = _parse_date(candidate)
        if moment is not None:
            return moment
    return None


def _parse_date(value: str) -> datetime | None:
    value = " ".join(value.split())
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000": the time is UTC, the zone unknown
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _bodies(message: Message) -> tuple[str | None, str | None]:
    """The first text/plain and the first text/html body part, decoded to str."""
    text_body: str | None = None
    html_body: str | None = None
    for part in _leaf_parts(message):
        subtype = part.get_content_subtype()
        if subtype == "plain" and text_body is None:
            text_body = _part_text(part)
        elif subtype == "html" and html_body is None:
            html_body = _part_text(part)
    if html_body is None and text_body and _looks_like_html(text_body):
        html_body, text_body = text_body, None
    return text_body, html_body


def _leaf_parts(message: Message) -> list[Message]:
    """Inline text parts in mail order, without descending into attached messages."""
    leaves: list[Message] = []
    stack = [message]
    while stack:
        part = stack.pop()
        maintype = part.get_content_maintype()
        if maintype == "multipart":
            children = part.get_payload()
            if isinstance(children, list):  # a multipart's payload is its parts
                stack.extend(reversed([child for child in children if isinstance(child, Message)]))
        elif maintype == "text" and part.get_content_disposition() != "attachment":
            leaves.append(part)
    return leaves


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
        charset = part.get_content_charset()
    except Exception:  # undecodable transfer encoding or parameters
        return ""
    if not isinstance(payload, bytes):
        return ""
    return _normalise_newlines(decode_bytes(payload, charset))


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_like_html(text: str) -> bool:
    head = text[:2000].lstrip().lower()
    return head.startswith("<") and any(marker in head for marker in _HTML_SNIFF)
