"""Mail that is never a new run, whatever it quotes: auto-replies, forwards and replies.

A forward is a person talking about a run. The original report reaches the mailbox
on its own; parsing the forward would book a duplicate run under the wrong sender
and the wrong time. So people's mail is recognised first and left unparsed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared_code.parsers.mime import DecodedMail

_AUTO_REPLY_SUBJECTS = (
    "automatic reply:",
    "automatisch antwoord:",
    "automatische antwort:",
    "autoreply:",
    "auto-reply:",
    "out of office",
    "abwesenheitsnotiz",
    "afwezigheidsbericht",
)
# FW:, Fwd:, RE:, AW:, WG:, Doorst:, Antw:, TR:, RV:, SV:, VS: - optionally behind one "[EXTERNAL]" tag.
_PERSON_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:fwd?|re|aw|wg|doorst|antw|tr|rv|sv|vs)\s{0,3}:", re.IGNORECASE
)
_QUOTE_MARKERS = (
    "-----original message-----",
    "---------- forwarded message",
    "begin forwarded message:",
    "-----oorspronkelijk bericht-----",
    "-------- doorgestuurd bericht",
    "-----ursprüngliche nachricht-----",
    "-------- weitergeleitete nachricht",
)


def noise_reason(mail: DecodedMail) -> str | None:
    """Why the mail is not a product's report (auto-reply, forward, reply), or None."""
    subject = mail.subject.casefold()
    if (mail.auto_submitted or "").casefold().startswith("auto-replied"):
        return "auto-reply (Auto-Submitted header)"
    if subject.startswith(_AUTO_REPLY_SUBJECTS):
        return "auto-reply (subject)"
    if _PERSON_PREFIX.match(subject):
        return "forward or reply (subject)"
    if any(marker in mail.document.folded for marker in _QUOTE_MARKERS):
        return "forward or reply (quoted message in the body)"
    return None
