"""Where mail comes from (SPEC §4.4): a source hands the pipeline raw RFC 5322 bytes by reference.

Graph is one source (a reference is a Graph message id), a directory of ``.eml`` files another
(a reference is a file path). Everything after ``fetch`` is the same pipeline (``ingest``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from shared_code.mail.graph_client import GraphMailbox


@dataclass(frozen=True)
class RawMail:
    source: str  # "graph" | "directory" (mail_messages.source)
    ref: str  # the Graph message id, or the file path
    mime: bytes

    @property
    def graph_message_id(self) -> str | None:
        return self.ref if self.source == "graph" else None


class MailSource(Protocol):
    kind: str

    def fetch(self, ref: str) -> RawMail:
        """The mail behind a reference; raises when it cannot be had (gone, unreachable)."""
        ...


class GraphSource:
    """The configured Graph mailbox: references are message ids from notifications or delta."""

    kind = "graph"

    def __init__(self, mailbox: GraphMailbox) -> None:
        self.mailbox = mailbox

    def fetch(self, ref: str) -> RawMail:
        return RawMail(self.kind, ref, self.mailbox.mime(ref))


class DirectorySource:
    """A folder of ``.eml`` files, the extension in any case (searched recursively, in name order)."""

    kind = "directory"

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise NotADirectoryError(f"{root} is not a directory")
        self.root = root

    def refs(self) -> Iterator[str]:
        for path in self._files():
            if path.suffix.lower() == ".eml":
                yield str(path)

    def others(self) -> int:
        """How many files below the folder are not mail (skipped, but counted in the summary)."""
        return sum(1 for path in self._files() if path.suffix.lower() != ".eml")

    def _files(self) -> list[Path]:
        # a dangling link is a file too: one named .eml is one we fail to read, and say so
        return sorted(path for path in self.root.rglob("*") if not path.is_dir())

    def fetch(self, ref: str) -> RawMail:
        return RawMail(self.kind, ref, Path(ref).read_bytes())
