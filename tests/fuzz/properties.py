"""The fuzzing properties, one per connector, as plain functions over a file's bytes: reading
never raises (a whole file refused with one sentence is allowed where the connector says so),
every record is a record or a reject with a reason, and what the input holds is accounted for.

Used by tests/fuzz/test_fuzz_connectors.py (a short run) and bench/fuzz.py (the long run).
"""

from __future__ import annotations

import codecs
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

from kith.connectors.contacts_csv import UnmappableCsv, read_contacts_csv
from kith.connectors.ics import read_ics
from kith.connectors.linkedin import read_linkedin
from kith.connectors.mail import read_mail
from kith.connectors.vcard import read_vcards
from kith.records import (ContactCard, EventOccurrence, MailMessage, Rejected, SocialInvitation,
                          SocialMessage)

WINDOW_END = datetime(2027, 1, 1, tzinfo=timezone.utc)
MAILDIR = Path(__file__).resolve().parents[1] / "fixtures" / "mail" / "maildir"


# ---------------------------------------------------------------------------------------------
# What each input holds, counted independently of the connector

def decoded(data: bytes) -> str:
    """The text as a reader would see it (UTF-16/32 by their BOM, else UTF-8 with replacement)."""
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding, "replace")
    return data.decode("utf-8", "replace").lstrip("\ufeff")


def lines_of(data: bytes) -> list[str]:
    return re.split(r"\r*\n|\r+", decoded(data))     # LF, CRLF, CR and CR CR LF all end a line


def top_level_vcard_begins(data: bytes) -> int:
    count = depth = 0
    for line in lines_of(data):
        marker = line.strip().upper()
        if marker == "BEGIN:VCARD":
            count += depth == 0
            depth += 1
        elif marker == "END:VCARD" and depth:
            depth -= 1
    return count


def is_blank(data: bytes) -> bool:
    return not decoded(data).replace("\0", "").replace("\ufeff", "").strip()


def check_records(records: list, types: tuple) -> None:
    for r in records:
        assert isinstance(r, types) or (isinstance(r, Rejected) and r.reason), r


# ---------------------------------------------------------------------------------------------
# The properties: each writes `data` under `folder` and reads it back

def vcard(data: bytes, folder: Path) -> None:
    path = folder / "cards.vcf"
    path.write_bytes(data)
    records = list(read_vcards(path, default_region="US"))
    check_records(records, (ContactCard,))
    # Each BEGIN:VCARD at the top level is one card or one reject; junk between cards may add
    # more rejects, never fewer records.
    assert len(records) >= top_level_vcard_begins(data)
    # Only blank and `#` comment lines (which vCard writers add as headers) may yield nothing.
    assert records or all(not line.replace("\0", "").strip() or line.lstrip().startswith("#")
                          for line in lines_of(data))


def ics(data: bytes, folder: Path) -> None:
    path = folder / "calendar.ics"
    path.write_bytes(data)
    records = list(read_ics(path, window_end=WINDOW_END))
    check_records(records, (EventOccurrence,))
    positions = {r.position for r in records}
    uids = {r.uid for r in records if isinstance(r, EventOccurrence)}
    lines = lines_of(data)
    for i, line in enumerate(lines, 1):
        # the marker with ASCII blanks around it (a control character after it spoils it)
        if line.strip(" \t\x0b\x0c").upper() == "BEGIN:VEVENT" and i not in positions:
            # A recurring event is accounted for by its occurrences, which carry the line of
            # the VEVENT they come from (the master's, for the instances it generates).
            block = "\n".join(lines[i:i + 400]).split("END:VEVENT")[0]
            uid = re.search(r"(?m)^UID:(.*)$", block)
            assert uid and uid.group(1).strip() in uids, f"VEVENT at line {i} not accounted for"


def contacts_csv(data: bytes, folder: Path) -> None:
    path = folder / "contacts.csv"
    path.write_bytes(data)
    try:
        records = list(read_contacts_csv(path, "US"))
    except UnmappableCsv as refused:      # the whole file refused, with one sentence: allowed
        assert "contacts.csv" in str(refused)
        return
    check_records(records, (ContactCard,))


def linkedin(data: bytes, folder: Path) -> None:
    path = folder / "Connections.csv"
    path.write_bytes(data)
    records = list(read_linkedin(path))
    check_records(records, (ContactCard, SocialMessage, SocialInvitation))
    # A file that holds no rows (LinkedIn's Notes preamble and a header at most) may yield
    # nothing; one with rows yields a record or a reject for them.
    assert records or len(linkedin_rows(data)) <= 1


def linkedin_rows(data: bytes) -> list[str]:
    """The lines of a LinkedIn CSV other than blank ones and its Notes preamble."""
    lines = [line for line in lines_of(data) if line.strip(" \t\0\ufeff")]
    if lines and lines[0].strip(" \t\0\ufeff").lower().startswith("notes"):
        lines = lines[2:]
    return lines


def mail(data: bytes, folder: Path, suffix: str = ".mbox") -> None:
    path = folder / f"mail{suffix}"
    path.write_bytes(data)
    records = list(read_mail(path))
    check_records(records, (MailMessage,))
    if suffix == ".eml" and not is_blank(data):
        assert len(records) == 1                    # one message, or one reject saying why
    assert records or not data.strip(b"\r\n\t \0")


def maildir(data: bytes, folder: Path) -> None:
    """A Maildir whose first message is `data`: one record per non-empty message file."""
    box = folder / "Maildir"
    shutil.copytree(MAILDIR, box)
    files = sorted(p for sub in ("cur", "new") for p in (box / sub).rglob("*") if p.is_file())
    files[0].write_bytes(data)
    records = list(read_mail(box))
    check_records(records, (MailMessage,))
    every = [p for p in box.rglob("*") if p.is_file() and p.parent.name in ("cur", "new")]
    assert len(records) >= len([p for p in every if p.read_bytes().strip(b"\r\n\t \0")])


def maildir_seed() -> Path:
    return sorted(p for sub in ("cur", "new") for p in (MAILDIR / sub).rglob("*")
                  if p.is_file())[0]
