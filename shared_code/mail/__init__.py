"""Mail: where reports come from (Graph, a folder), their ingestion, booking, the Inbox and
ingestion failures. Reading a mail (MIME decoding, HTML to text) belongs to ``parsers``.

Kept empty on purpose: importing this package must stay cheap, because the HTTP app
may import sibling modules of it.
"""
