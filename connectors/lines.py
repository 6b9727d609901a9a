"""Text files as their physical lines, whatever their line endings and Unicode encoding form.

Files reach kith hand-edited, re-saved and concatenated: LF, CRLF, a bare CR (classic Mac) and CR
CR LF (a CRLF file written again in text mode on Windows) all occur, sometimes in one file, and
a few tools write UTF-16 or UTF-32. The calendar and vCard readers share this so that each line
ending and each encoding form is handled once.
"""

from __future__ import annotations

import codecs
import re
from typing import BinaryIO, Iterable, Iterator

# A bare CR is never part of a value in iCalendar or vCard (line breaks inside values are
# escaped, or quoted-printable), so every CR or LF run ends a line; CR CR LF is one ending.
_BREAK = re.compile(rb"\r*\n|\r+")

_UTF32 = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"))
_UTF16 = ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark at the start of `head` names (UTF-32 before UTF-16: the
    UTF-32-LE mark starts with the UTF-16-LE one); None for UTF-8 or no mark."""
    for bom, encoding in _UTF32 + _UTF16:
        if head.startswith(bom):
            return encoding
    return None


def reencoded_chunks(f: BinaryIO, head: bytes, encoding: str, size: int) -> Iterator[bytes]:
    """`head` and the rest of `f`, decoded from `encoding` and encoded as UTF-8, in chunks."""
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    data = head
    while data:
        yield decoder.decode(data).encode("utf-8")
        data = f.read(size)
    yield decoder.decode(b"", final=True).encode("utf-8")


def physical_lines(chunks: Iterable[bytes], max_line: int) -> Iterator[bytes]:
    """The lines of a byte stream without their endings. A line longer than `max_line` is cut
    there and the rest of it skipped, so memory stays bounded whatever the file holds."""
    carry = b""
    skipping = False            # inside an overlong line whose start was already kept
    for chunk in chunks:
        if skipping:
            found = _BREAK.search(chunk)
            if found is None:
                continue
            chunk = chunk[found.start():]
            skipping = False
        if carry:
            chunk = carry + chunk
        # CRs at the very end may be the first half of a CRLF split across two chunks.
        body = chunk.rstrip(b"\r")
        parts = _BREAK.split(body)
        carry = parts.pop() + chunk[len(body):]
        if len(carry) > max_line:
            carry = carry[:max_line].rstrip(b"\r")
            skipping = True
        yield from parts
    carry = carry.rstrip(b"\r")
    if carry:
        yield carry
