"""Parsing rules an operator writes for a sender no built-in parser knows: data, not code.

A rule says which mail it takes (sender address or domain, optionally a subject pattern), where
the job name comes from (a pattern group in the subject or body, or fixed text), which words mean
success, warning and failed (and where to look for them), and optionally a pattern that yields one
object per body line or table row (groups ``name``, ``status``, ``message``).

Patterns are RE2 (``google-re2``): matching is linear in the input whatever the pattern, so a rule
such as ``(a+)+$`` cannot hang ingestion. Patterns, words and inputs have length limits. RE2 is
imported on first use, never at start-up. ``evaluate`` is a pure function of a rule and a mail;
``RuleMiss`` says in words why a rule does not parse a mail ("no status word found").
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared_code.parsers.base import DisplayName, ParsedObject, ParseResult, message_or_none
from shared_code.parsers.vocabulary import FAILED, SUCCESS, WARNING, Status, status_of_word, worst

if TYPE_CHECKING:
    from shared_code.parsers.mime import DecodedMail

MAX_PATTERN = 500  # characters of one pattern
MAX_WORDS = 30  # words per status
MAX_SUBJECT = 1_000  # characters of the subject a rule reads
MAX_BODY = 200_000  # characters of the body text a rule reads
MAX_OBJECT_LINES = 2_000  # body lines or table rows tried for objects
MAX_LINE = 2_000  # characters of one line or row
_RE2_MEMORY = 8 << 20  # bytes RE2 may use for one compiled pattern
# Word boundaries for status words in any script (RE2 has no lookaround).
_EDGE_BEFORE = r"(?:^|[^\pL\pN_])"
_EDGE_AFTER = r"(?:[^\pL\pN_]|$)"


class RuleMiss(Exception):
    """The rule does not parse this mail; the message says why, for the operator."""


class PatternError(ValueError):
    """A pattern RE2 refuses (syntax, lookaround, back-references, too large)."""


@lru_cache(maxsize=512)
def compiled(pattern: str) -> Any:
    """The pattern compiled by RE2 (cached); ``PatternError`` with RE2's reason when it is refused."""
    import re2  # first use only: RE2 is not needed to start the app

    options = re2.Options()
    options.max_mem = _RE2_MEMORY
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(f"not a pattern RE2 accepts: {reason}") from None


def _checked_pattern(pattern: str) -> str:
    compiled(pattern)
    return pattern


def _checked_word(word: str) -> str:
    if not word.strip():
        raise ValueError("a status word cannot be blank")
    return word.strip()


Pattern = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_PATTERN), AfterValidator(_checked_pattern)
]
Word = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_checked_word)]
Label = Annotated[DisplayName, StringConstraints(max_length=100)]
Where = Literal["subject", "body", "both"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleMatch(_Spec):
    sender: Annotated[
        str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=3, max_length=320)
    ] = Field(
        description="A sender address (backup@nas01.example.com) or a domain (example.com, @example.com)."
    )
    subject_pattern: Pattern | None = Field(None, description="RE2 pattern the subject must contain.")

    @model_validator(mode="after")
    def _looks_like_a_sender(self) -> RuleMatch:
        address = self.sender.removeprefix("@")
        if " " in address or "." not in address.rpartition("@")[2] or address.count("@") > 1:
            raise ValueError("sender must be an address or a domain")
        return self

    def takes(self, address: str) -> bool:
        """The sender address is this one, or in this domain (or a subdomain of it)."""
        address = address.strip().casefold()
        if "@" in self.sender and not self.sender.startswith("@"):
            return address == self.sender
        domain = self.sender.removeprefix("@")
        host = address.rpartition("@")[2]
        return host == domain or host.endswith("." + domain)


class JobNameFrom(_Spec):
    source: Literal["subject", "body", "fixed"]
    pattern: Pattern | None = Field(
        None, description="subject / body: RE2 pattern whose group 'job' (else group 1) is the job name."
    )
    text: Label | None = Field(None, description="fixed: the job name.")

    @model_validator(mode="after")
    def _complete(self) -> JobNameFrom:
        if self.source == "fixed" and not self.text:
            raise ValueError("a fixed job name needs its text")
        if self.source != "fixed":
            if not self.pattern:
                raise ValueError(f"a job name from the {self.source} needs a pattern")
            if compiled(self.pattern).groups < 1:
                raise ValueError("the job name pattern needs a group: (?P<job>...) or (...)")
        return self


class StatusWords(_Spec):
    where: Where = Field(
        "both", description="Where to look: the body, the subject, or both (the body first)."
    )
    success: list[Word] = Field([], max_length=MAX_WORDS)
    warning: list[Word] = Field([], max_length=MAX_WORDS)
    failed: list[Word] = Field([], max_length=MAX_WORDS)

    @model_validator(mode="after")
    def _some_word(self) -> StatusWords:
        if not (self.success or self.warning or self.failed):
            raise ValueError("give at least one status word")
        return self

    def by_severity(self) -> tuple[tuple[Status, tuple[str, ...]], ...]:
        """The most severe first: "completed with warnings" holds a success word too."""
        return ((FAILED, tuple(self.failed)), (WARNING, tuple(self.warning)), (SUCCESS, tuple(self.success)))


class ObjectLines(_Spec):
    per: Literal["line", "row"] = Field(
        "line", description="line: each body line; row: each table row, its cells joined by ' | '."
    )
    pattern: Pattern = Field(description="RE2 pattern with group 'name', optionally 'status' and 'message'.")

    @model_validator(mode="after")
    def _names_an_object(self) -> ObjectLines:
        if "name" not in compiled(self.pattern).groupindex:
            raise ValueError("the object pattern needs a group (?P<name>...)")
        return self


class RuleSpec(_Spec):
    """What an operator writes; stored as data, versioned with its rule."""

    software: Label
    backup_type: Label
    match: RuleMatch
    job_name: JobNameFrom
    status: StatusWords
    objects: ObjectLines | None = None

    @model_validator(mode="after")
    def _storable(self) -> RuleSpec:
        if _holds_nul(self.model_dump()):  # PostgreSQL text and JSON cannot hold NUL
            raise ValueError("a rule cannot contain NUL characters")
        return self


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def evaluate(spec: RuleSpec, mail: DecodedMail) -> ParseResult:
    """The run this rule reads from the mail; ``RuleMiss`` with the reason when it reads none."""
    if not spec.match.takes(mail.from_address or ""):
        raise RuleMiss(f"the sender {mail.from_address or '(none)'} is not {spec.match.sender}")
    subject = mail.subject[:MAX_SUBJECT]
    if spec.match.subject_pattern and compiled(spec.match.subject_pattern).search(subject) is None:
        raise RuleMiss("the subject does not match the subject pattern")
    reading = _Reading(spec, mail, subject)
    rows = reading.object_rows()
    stated = reading.stated_status()
    status = stated or worst(row_status for _, row_status, _ in rows if row_status)
    if status is None:
        raise RuleMiss("no status word found")
    # An object line without a status word of its own takes the run's status.
    objects = [
        ParsedObject(name=name, status=row_status or status, message=text) for name, row_status, text in rows
    ]
    return ParseResult(
        software=spec.software,
        backup_type=spec.backup_type,
        job_name=reading.job_name(),
        status=status,
        objects=objects,
        status_stated=stated is not None,
    )


class _Reading:
    """One mail as a rule reads it: the subject and the body as text lines (HTML turned into text)."""

    def __init__(self, spec: RuleSpec, mail: DecodedMail, subject: str) -> None:
        self.spec = spec
        self.subject = subject
        self.document = mail.document
        self.body = "\n".join(self.document.lines)[:MAX_BODY]

    def job_name(self) -> str:
        source = self.spec.job_name
        if source.source == "fixed":
            return source.text or ""
        text = self.subject if source.source == "subject" else self.body
        match = compiled(source.pattern).search(text)
        name = " ".join((_group(match, "job") or _group(match, 1) or "").split()) if match else ""
        if not name:
            raise RuleMiss(f"no job name found: the pattern does not match the {source.source}")
        return name

    def stated_status(self) -> Status | None:
        words = self.spec.status
        places = {"subject": (self.subject,), "body": (self.body,), "both": (self.body, self.subject)}[
            words.where
        ]
        for text in places:
            found = _word_status(words, text)
            if found is not None:
                return found
        return None

    def object_rows(self) -> list[tuple[str, Status | None, str | None]]:
        """Name, status (None: no status word on the line) and message of each object line."""
        lines = self.spec.objects
        if lines is None:
            return []
        pattern = compiled(lines.pattern)
        texts = (
            self.document.lines if lines.per == "line" else [" | ".join(row) for row in self.document.rows]
        )
        found: list[tuple[str, Status | None, str | None]] = []
        for text in texts[:MAX_OBJECT_LINES]:
            match = pattern.search(text[:MAX_LINE])
            name = " ".join((_group(match, "name") or "").split()) if match else ""
            if not name:
                continue
            status_text = _group(match, "status")
            status = (
                _word_status(self.spec.status, status_text) or status_of_word(status_text)
                if status_text
                else None
            )
            found.append((name, status, message_or_none(_group(match, "message"))))
        return found


def _group(match: Any, group: str | int) -> str | None:
    """A group's text, or None when the pattern has no such group or it did not take part."""
    try:
        value = match.group(group)
    except (IndexError, KeyError):
        return None
    return value if isinstance(value, str) else None


def _word_status(words: StatusWords, text: str) -> Status | None:
    for status, alternatives in words.by_severity():
        if alternatives and _words_pattern(alternatives).search(text) is not None:
            return status
    return None


@lru_cache(maxsize=1024)
def _words_pattern(words: tuple[str, ...]) -> Any:
    import re2

    alternatives = "|".join(re2.escape(word) for word in words)
    return compiled(f"(?i){_EDGE_BEFORE}(?:{alternatives}){_EDGE_AFTER}")
