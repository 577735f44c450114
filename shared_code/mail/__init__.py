"""Mail: decoding raw RFC 5322 messages (``mime``) and turning HTML into text (``html_text``).

Kept empty on purpose: importing this package must stay cheap, because the HTTP app
may import sibling modules of it; ``html_text`` (selectolax) loads only when a parser asks.
"""
