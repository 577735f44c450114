"""Backup-report parsers: a registry of one parser per product family.

``parse_mail`` turns a raw or decoded mail into a ``ParseOutcome``; ``parser_docs``
lists the parsers for ``GET /api/parsers`` without loading any of them.
"""

from shared_code.parsers.base import ParsedObject, ParserDoc, ParseResult
from shared_code.parsers.registry import ParseOutcome, parse_mail, parser_docs

__all__ = ["ParseOutcome", "ParseResult", "ParsedObject", "ParserDoc", "parse_mail", "parser_docs"]
