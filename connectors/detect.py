"""Which connector reads a file: decided by its content, the extension only as a last resort."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from connectors.records import ContactCard, Rejected

SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class FileKind:
    name: str                         # source_kind in the warehouse
    description: str
    extensions: tuple[str, ...]

    def sniff(self, head: bytes) -> bool:
        if self.name == "vcard":
            from connectors.vcard import looks_like_vcard
            return looks_like_vcard(head)
        from connectors.contacts_csv import looks_like_contacts_csv
        return looks_like_contacts_csv(head)

    def reader(self) -> Callable[..., Iterator[ContactCard | Rejected]]:
        if self.name == "vcard":
            from connectors.vcard import read_vcards
            return read_vcards
        from connectors.contacts_csv import read_contacts_csv
        return read_contacts_csv


# Order matters: a vCard is recognised by its BEGIN line wherever it is; a CSV only by its shape.
FILE_KINDS = (
    FileKind("vcard", "vCard address book or business cards", (".vcf", ".vcard")),
    FileKind("contacts_csv", "contacts CSV (Google, Outlook, Thunderbird, card scanners)",
             (".csv", ".tsv", ".txt")),
)


def detect(path: Path) -> FileKind | None:
    """The kind of file at `path`, or None when no connector recognises it."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    for kind in FILE_KINDS:
        if kind.sniff(head):
            return kind
    # Content did not say. A file named .vcf is still read as one, so that what is wrong with
    # it ends up as a reject with a reason instead of a silent skip.
    suffix = path.suffix.lower()
    for kind in FILE_KINDS:
        if suffix in kind.extensions and suffix != ".txt":
            return kind
    return None
