"""LinkedIn data export: connections, messages and invitations, from the zip, its folder or one CSV.

An export is a set of files; a registry maps file names (case-insensitive, at any folder depth) to
readers, and every other file is skipped and listed by `skipped_files`:

- `Connections.csv` -> one ContactCard per connection (`source_format='linkedin-connection'`)
- `messages.csv` -> one SocialMessage per message, without its subject or text
- `Invitations.csv` -> one SocialInvitation per invitation, without its note
- `Contacts.csv` / `ImportedContacts.csv` (the address book the user uploaded) -> read by
  `connectors.contacts_csv`

Nothing here raises for what a file says: an unreadable row, an unknown header (an export made in
another language) or an empty export become `Rejected` records with a reason.
"""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Iterator

from kith.connectors.contacts_csv import (HEAD_SIZE, UnmappableCsv, _detect_encoding, _Lines,
                                          csv_problem, read_contacts_csv)
from kith.emails import normalize_email
from kith.profiles import normalize_profile_url
from kith.records import (ContactCard, Email, Link, Rejected, SocialInvitation,
                                SocialMessage)

LinkedInRecord = ContactCard | SocialMessage | SocialInvitation | Rejected
PLATFORM = "linkedin"


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.casefold()))


# ---------------------------------------------------------------------------------------------
# Files: a zip, a folder or one CSV, seen as a list of (name, opener)

@dataclass(frozen=True, slots=True)
class _Member:
    name: str                                   # path inside the export, '/'-separated
    open: Callable[[], IO[bytes]]
    path: Path | None = None                    # on disk, when it is not inside a zip


def _members(path: Path) -> Iterator[_Member]:
    """Raises zipfile.BadZipFile / OSError for an unreadable archive."""
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            yield _Member(file.relative_to(path).as_posix(), lambda file=file: file.open("rb"), file)
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    yield _Member(info.filename, lambda info=info: archive.open(info))
    else:
        yield _Member(path.name, lambda: path.open("rb"), path)


def _kind_of_name(name: str) -> str | None:
    base = PurePosixPath(name).name.casefold().replace(" ", "").replace("_", "")
    return _NAMES.get(base)


_NAMES = {"connections.csv": "connections", "messages.csv": "messages",
          "invitations.csv": "invitations", "contacts.csv": "contacts",
          "importedcontacts.csv": "contacts"}


# ---------------------------------------------------------------------------------------------
# Dates

_MONTHS = {m: i for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
_DMY_NAME = re.compile(r"(\d{1,2})[ -]([A-Za-z]{3})[A-Za-z]*[ -,]+(\d{4})")
_NUMERIC = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})"
                      r"(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")


def _parse_when(text: str) -> datetime | None:
    """A LinkedIn date or timestamp in UTC: '30 May 2024', '1/8/18, 6:14 PM' (US month first),
    '2023-05-02 14:07:33 UTC'. Times without a zone are read as UTC. None when it does not parse."""
    text = text.strip()
    try:
        if m := _ISO.fullmatch(text.removesuffix("UTC").removesuffix("Z").strip()):
            y, mo, d, hh, mm, ss = (int(g) if g else 0 for g in m.groups())
            return datetime(y, mo, d, hh, mm, ss, tzinfo=timezone.utc)
        if m := _DMY_NAME.fullmatch(text):
            month = _MONTHS.get(m[2].casefold())
            return datetime(int(m[3]), month, int(m[1]), tzinfo=timezone.utc) if month else None
        if m := _NUMERIC.fullmatch(text):
            a, b, y = int(m[1]), int(m[2]), int(m[3])
            month, day = (b, a) if a > 12 >= b else (a, b)    # LinkedIn writes month first
            year = y + 2000 if y < 100 else y
            hour, minute, second = int(m[4] or 0), int(m[5] or 0), int(m[6] or 0)
            if m[7]:
                hour = hour % 12 + (12 if m[7].lower() == "pm" else 0)
            return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        return None
    return None


def _parse_day(text: str) -> date | None:
    when = _parse_when(text)
    return when.date() if when else None


# ---------------------------------------------------------------------------------------------
# CSV rows

@dataclass(slots=True)
class _Row:
    position: int                    # 1-based line the row starts on
    cells: list[str] | None          # None when the row could not be read
    raw: str                         # the row's lines as written
    error: str | None = None


def _unquote_whole(cells: list[str]) -> list[str]:
    """A row a spreadsheet saved as one quoted cell ("a,b,c") split into its fields."""
    if len(cells) == 1 and "," in cells[0]:
        try:
            return next(csv.reader([cells[0]]), cells)
        except csv.Error:
            return cells
    return cells


def _rows(member: _Member) -> Iterator[_Row]:
    with member.open() as f:
        head = f.read(HEAD_SIZE)
    try:
        encoding = _detect_encoding(head)
    except UnmappableCsv as exc:
        yield _Row(1, None, "", f"{member.name} {exc}")
        return
    with member.open() as binary:
        stream = io.TextIOWrapper(binary, encoding=encoding, errors="replace", newline="")
        lines = _Lines(stream)
        reader = csv.reader(lines)
        while True:
            position = lines.count + 1
            lines.current.clear()
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield _Row(position, None, "".join(lines.current)[:20_000],
                           f"unreadable CSV row: {csv_problem(exc)}")
                continue
            if any(cell.strip() for cell in cells):
                cells = [c.lstrip("\ufeff") for c in _unquote_whole(cells)]
                yield _Row(position, cells, "".join(lines.current).rstrip("\r\n"))


def _as_json(header: list[str], cells: list[str], leave_out: frozenset[str] = frozenset()) -> str:
    data: dict[str, str] = {}
    for index, value in enumerate(cells):
        key = header[index].strip() if index < len(header) else f"column {index + 1}"
        if not value.strip() or _norm(key) in leave_out:
            continue
        data[key if key not in data else f"{key} (column {index + 1})"] = value
    return json.dumps(data, ensure_ascii=False)


def _find_header(rows: Iterator[_Row], is_header: Callable[[list[str]], bool], scan: int = 6
                 ) -> tuple[_Row | None, list[_Row]]:
    """The header row within the first `scan` rows (a Notes: preamble may come first), and the
    rows read before it (or, when there is none, the rows read while looking)."""
    seen: list[_Row] = []
    for row in rows:
        if row.cells is not None and is_header(row.cells):
            return row, seen
        seen.append(row)
        if len(seen) >= scan:
            break
    return None, seen


def _drop_preamble(rows: list[_Row]) -> list[_Row]:
    """LinkedIn's 'Notes:' line and the quoted note after it, when they are there."""
    if rows and rows[0].cells is not None and _norm("".join(rows[0].cells)) == "notes":
        return rows[2:]
    return rows


def _unknown_header(name: str, header: _Row, rest: Iterator[_Row], expected: str
                    ) -> Iterator[Rejected]:
    seen = ", ".join(repr(c) for c in header.cells or [] if c.strip()) or "(none)"
    yield Rejected(header.position,
                   f"{name}: header not recognised (an export in another language?). Headers "
                   f"seen: {seen}. Expected: {expected}. Set LinkedIn's language to English and "
                   f"export again", header.raw)
    for row in rest:
        yield Rejected(row.position, f"{name}: columns unknown, header at line {header.position} "
                                     f"not recognised", row.raw)


# ---------------------------------------------------------------------------------------------
# Connections.csv

_CONNECTION_COLUMNS = {"first name": "given", "last name": "family", "url": "url",
                       "profile url": "url", "email address": "email", "email": "email",
                       "company": "org", "position": "title", "connected on": "connected"}
_WITH_URL = ["First Name", "Last Name", "URL", "Email Address", "Company", "Position",
             "Connected On"]
_WITHOUT_URL = ["First Name", "Last Name", "Email Address", "Company", "Position", "Connected On"]
_CONNECTIONS_EXPECTED = ", ".join(_WITH_URL) + " (URL since 2020)"


def _is_connections_header(cells: list[str]) -> bool:
    return {"first name", "last name", "connected on"} <= {_norm(c) for c in cells}


def _headerless_layout(cells: list[str]) -> list[str] | str:
    """The column names of a Connections row written without a header, told by its shape, or
    the reason it cannot be told."""
    if len(cells) == 7 and (not cells[2].strip() or "linkedin." in cells[2].casefold()):
        layout = _WITH_URL
    elif len(cells) == 6:
        layout = _WITHOUT_URL
    else:
        return (f"headerless Connections row has {len(cells)} fields; kith reads 7 (with URL) "
                f"or 6 (without URL)")
    if _parse_day(cells[-1]) is None:
        return f"headerless Connections row: last field {cells[-1]!r} is not a connection date"
    return layout


def _connection(cells: list[str], header: list[str], position: int) -> ContactCard | Rejected:
    raw = _as_json(header, cells)
    if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
        return Rejected(position, f"row has {len(cells)} fields, header has {len(header)}", raw)
    value: dict[str, str] = {}
    for label, cell in zip(header, cells):
        field = _CONNECTION_COLUMNS.get(_norm(label))
        if field and cell.strip() and field not in value:
            value[field] = cell.strip()
    given, family = value.get("given"), value.get("family")
    if not ({"given", "family", "url", "email", "org", "title"} & value.keys()):
        if "connected" in value:
            return Rejected(position, "a deleted LinkedIn member: the row has only a connection "
                                      "date", raw)
        return Rejected(position, "row has no name, profile or company", raw)
    card = ContactCard(position=position, raw_text=raw, source_format="linkedin-connection",
                       given_name=given, family_name=family,
                       full_name=" ".join(p for p in (given, family) if p) or None,
                       org=value.get("org"), title=value.get("title"))
    if "connected" in value:
        card.connected_on = _parse_day(value["connected"])
    email = value.get("email")
    if email and not email.casefold().startswith("urn:"):   # urn:li:member:123 is no address
        card.emails = [Email(address=email, normalized=normalize_email(email))]
    if "url" in value:
        profile = normalize_profile_url(value["url"])
        card.links = [Link(profile or value["url"], "social", PLATFORM)]
        card.uid = profile              # the profile URL is the connection's natural id
    return card


def _read_connections(member: _Member) -> Iterator[ContactCard | Rejected]:
    rows = _rows(member)
    header_row, before = _find_header(rows, _is_connections_header)
    if header_row is not None:
        header = header_row.cells
        # Rows above the header (other than LinkedIn's Notes preamble) are read with it too:
        # a spreadsheet's sort can move the header down.
        pending: Iterator[_Row] = _chain(_drop_preamble(before), rows)
    else:
        preamble = before
        before = _drop_preamble(before)
        first = next((r for r in before if r.cells is not None), None)
        if first is None:
            yield from (Rejected(r.position, r.error or "unreadable", r.raw) for r in before)
            if preamble and not before:
                yield Rejected(preamble[0].position, f"{member.name}: no connections: LinkedIn's "
                                                     "Notes preamble, then no header and no rows "
                                                     "(a file cut short?)",
                               "\n".join(r.raw for r in preamble)[:4000])
            return
        if isinstance(_headerless_layout(first.cells), str) and _parse_day(first.cells[-1]) is None:
            index = before.index(first)
            yield from (Rejected(r.position, r.error or "unreadable", r.raw)
                        for r in before[:index])
            yield from _unknown_header(member.name, first, _chain(before[index + 1:], rows),
                                       _CONNECTIONS_EXPECTED)
            return
        header = None
        pending = _chain(before, rows)
    for row in pending:
        if row.cells is None:
            yield Rejected(row.position, row.error or "unreadable", row.raw)
            continue
        layout = header
        if layout is None:
            layout = _headerless_layout(row.cells)
            if isinstance(layout, str):
                yield Rejected(row.position, layout, row.raw)
                continue
        yield _connection(row.cells, layout, row.position)


def _chain(first: list[_Row], rest: Iterator[_Row]) -> Iterator[_Row]:
    yield from first
    yield from rest


# ---------------------------------------------------------------------------------------------
# messages.csv

# Text a person wrote is never kept, not even in raw_text.
_MESSAGE_PRIVATE = frozenset({"subject", "content", "conversation title", "attachments"})
_MESSAGES_EXPECTED = ("CONVERSATION ID, CONVERSATION TITLE, FROM, SENDER PROFILE URL, TO, "
                      "RECIPIENT PROFILE URLS, DATE, SUBJECT, CONTENT, FOLDER (or the older "
                      "From, To, Date, Subject, Content, Direction, Folder)")
_CREDENTIAL = re.compile(r"^[A-Za-z.]{2,6}$")      # PhD, MBA, P.Eng. after a comma in a name


def _is_messages_header(cells: list[str]) -> bool:
    names = {_norm(c) for c in cells}
    return {"from", "to", "date"} <= names and bool({"content", "conversation id"} & names)


def _split_names(text: str, count: int | None) -> list[str]:
    """Recipient names from one cell. Names can hold commas ('Ada Lovelace, PhD'): a short
    single word after a comma is glued back unless the profile URLs say there are that many."""
    pieces = [p.strip() for p in text.split(",") if p.strip()]
    if count is not None and len(pieces) == count:
        return pieces
    if count == 1:
        return [text.strip()] if text.strip() else []
    names: list[str] = []
    for piece in pieces:
        if names and _CREDENTIAL.match(piece):
            names[-1] += ", " + piece
        else:
            names.append(piece)
    return names


def _read_messages(member: _Member) -> Iterator[SocialMessage | Rejected]:
    rows = _rows(member)
    header_row, before = _find_header(rows, _is_messages_header)
    if header_row is None:
        first = next((r for r in before if r.cells is not None), None)
        index = before.index(first) if first is not None else len(before)
        yield from (Rejected(r.position, r.error or "unreadable", r.raw) for r in before[:index])
        if first is not None:
            yield from _unknown_header(member.name, first, _chain(before[index + 1:], rows),
                                       _MESSAGES_EXPECTED)
        return
    rows = _chain(_drop_preamble(before), rows)    # rows a sort moved above the header
    header = header_row.cells
    col = {}
    for index, label in enumerate(header):
        col.setdefault(_norm(label), index)
    seen: Counter = Counter()
    for row in rows:
        if row.cells is None:
            yield Rejected(row.position, row.error or "unreadable", "")
            continue
        cells = row.cells + [""] * (len(header) - len(row.cells))

        def get(name: str) -> str:
            return cells[col[name]].strip() if name in col else ""

        raw = _as_json(header, cells, _MESSAGE_PRIVATE)
        sender, date_text = get("from"), get("date")
        if not sender and not get("sender profile url") and not date_text:
            yield Rejected(row.position, "message row has no sender and no date", raw)
            continue
        urls = [u for u in (normalize_profile_url(p) for p in
                            re.split(r"[,\s]+", get("recipient profile urls"))) if u]
        message = SocialMessage(
            position=row.position, raw_text=raw, platform=PLATFORM,
            conversation_id=get("conversation id") or None,
            sender_name=sender or None,
            sender_profile=normalize_profile_url(get("sender profile url")),
            recipient_names=_split_names(get("to"), len(urls) if urls else None),
            recipient_profiles=urls,
            sent_at=_parse_when(date_text) if date_text else None,
            folder=get("folder") or None)
        # Two messages with the same sender, recipients and second (a burst, a re-sent line)
        # would hash alike; the later ones are told apart by their order in the file.
        key = message.record_hash
        seen[key] += 1
        if seen[key] > 1:
            message.message_id = f"{key}-{seen[key]}"
        yield message


# ---------------------------------------------------------------------------------------------
# Invitations.csv

_INVITATIONS_EXPECTED = "From, To, Sent At, Message, Direction, inviterProfileUrl, inviteeProfileUrl"


def _is_invitations_header(cells: list[str]) -> bool:
    return {"from", "to", "sent at", "direction"} <= {_norm(c) for c in cells}


def _read_invitations(member: _Member) -> Iterator[SocialInvitation | Rejected]:
    rows = _rows(member)
    header_row, before = _find_header(rows, _is_invitations_header)
    if header_row is None:
        first = next((r for r in before if r.cells is not None), None)
        index = before.index(first) if first is not None else len(before)
        yield from (Rejected(r.position, r.error or "unreadable", r.raw) for r in before[:index])
        if first is not None:
            yield from _unknown_header(member.name, first, _chain(before[index + 1:], rows),
                                       _INVITATIONS_EXPECTED)
        return
    rows = _chain(_drop_preamble(before), rows)    # rows a sort moved above the header
    header = header_row.cells
    col = {}
    for index, label in enumerate(header):
        col.setdefault(_norm(label), index)
    for row in rows:
        if row.cells is None:
            yield Rejected(row.position, row.error or "unreadable", "")
            continue
        cells = row.cells + [""] * (len(header) - len(row.cells))

        def get(name: str) -> str:
            return cells[col[name]].strip() if name in col else ""

        raw = _as_json(header, cells, frozenset({"message"}))
        direction = get("direction").casefold()
        if direction == "outgoing":
            name, profile = get("to"), get("inviteeprofileurl")
        elif direction == "incoming":
            name, profile = get("from"), get("inviterprofileurl")
        else:
            yield Rejected(row.position, f"invitation direction {get('direction')!r} is neither "
                                         f"INCOMING nor OUTGOING", raw)
            continue
        sent = get("sent at")
        yield SocialInvitation(position=row.position, raw_text=raw, platform=PLATFORM,
                               direction=direction, other_name=name or None,
                               other_profile=normalize_profile_url(profile),
                               sent_at=_parse_when(sent) if sent else None)


# ---------------------------------------------------------------------------------------------
# Contacts.csv / ImportedContacts.csv: an address book, read by the contacts CSV connector

def _read_imported_contacts(member: _Member) -> Iterator[ContactCard | Rejected]:
    try:
        if member.path is not None:
            yield from read_contacts_csv(member.path)
            return
        with tempfile.TemporaryDirectory(prefix="kith-linkedin-") as folder:
            copy = Path(folder) / PurePosixPath(member.name).name
            with member.open() as source, copy.open("wb") as target:
                while chunk := source.read(1 << 20):
                    target.write(chunk)
            yield from read_contacts_csv(copy)
    except UnmappableCsv as exc:
        yield Rejected(1, f"{member.name}: {exc}", "")


_READERS: dict[str, Callable[[_Member], Iterator[LinkedInRecord]]] = {
    "connections": _read_connections,
    "messages": _read_messages,
    "invitations": _read_invitations,
    "contacts": _read_imported_contacts,
}


# ---------------------------------------------------------------------------------------------
# Sniffing

def _kind_of_head(head: bytes) -> str | None:
    try:
        encoding = _detect_encoding(head[:HEAD_SIZE])
    except UnmappableCsv:
        return None
    text = head[:HEAD_SIZE].decode(encoding, errors="replace").lstrip("\ufeff")
    records = []
    try:
        for cells in csv.reader(io.StringIO(text, newline="")):
            if any(c.strip() for c in cells):
                records.append(_unquote_whole(cells))
            if len(records) >= 6:
                break
    except csv.Error:
        pass
    for cells in records:
        if _is_connections_header(cells):
            return "connections"
        if _is_messages_header(cells):
            return "messages"
        if _is_invitations_header(cells):
            return "invitations"
    # A Connections file re-saved without its header: most rows have the shape of one, and at
    # least one names a LinkedIn profile, or (exports before 2020 have no URL column) every
    # such row is two names, an e-mail cell that is empty or an address, company, position and
    # a day written the way LinkedIn writes it ("11 Jun 2021").
    rows = records[:-1] if len(records) > 2 else records     # the last may be cut mid-row
    shaped = [r for r in rows if not isinstance(_headerless_layout(r), str)]
    if len(shaped) >= 2 and len(shaped) * 2 > len(rows) and (
            any("linkedin.com/in/" in c.casefold() for r in shaped for c in r)
            or all(_is_old_connection_row(r) for r in shaped)):
        return "connections"
    return None


def _is_old_connection_row(cells: list[str]) -> bool:
    email = cells[2].strip() if len(cells) == 6 else "?"
    return (len(cells) == 6 and (not email or "@" in email)
            and _DMY_NAME.fullmatch(cells[5].strip()) is not None
            and any(c.strip() for c in cells[:2]))


def _zip_names_in_head(head: bytes) -> list[str]:
    """File names from the local headers a zip's first bytes hold (the directory is at the end)."""
    names, offset = [], 0
    while head[offset:offset + 4] == b"PK\x03\x04" and offset + 30 <= len(head):
        flags, = struct.unpack_from("<H", head, offset + 6)
        size, = struct.unpack_from("<I", head, offset + 18)
        name_len, extra_len = struct.unpack_from("<HH", head, offset + 26)
        names.append(head[offset + 30:offset + 30 + name_len].decode("utf-8", "replace"))
        if flags & 0x08 and size == 0:      # size only in a trailing descriptor: cannot skip on
            break
        offset += 30 + name_len + extra_len + size
    return names


def looks_like_linkedin(head: bytes) -> bool:
    """True when a file's first bytes are a LinkedIn Connections (with or without the Notes:
    preamble, or re-saved without its header), messages or Invitations CSV, or a zip whose first
    entries are named like a LinkedIn export's."""
    if head.startswith(b"PK\x03\x04"):
        return any(_kind_of_name(n) in ("connections", "messages", "invitations")
                   for n in _zip_names_in_head(head))
    return _kind_of_head(head) is not None


def is_linkedin_export(path: Path) -> bool:
    """True for a LinkedIn export zip or folder (it holds Connections.csv, messages.csv or
    Invitations.csv), or a single file of one (by its content or its name). Never raises."""
    path = Path(path)
    try:
        if path.is_dir():
            # Only the folder's own files: a folder that merely has an export somewhere below
            # it (~/Downloads) is not one, and `kith import` walks into it as usual.
            return any(_kind_of_name(p.name) in ("connections", "messages", "invitations")
                       for p in path.iterdir() if p.is_file())
        if zipfile.is_zipfile(path):
            return any(_kind_of_name(m.name) in ("connections", "messages", "invitations")
                       for m in _members(path))
        if _kind_of_name(path.name) in ("connections", "messages", "invitations"):
            return True
        with path.open("rb") as f:
            return looks_like_linkedin(f.read(HEAD_SIZE))
    except (OSError, zipfile.BadZipFile):
        return False


# ---------------------------------------------------------------------------------------------
# Reading

def _kind_of_member(member: _Member, single: bool) -> str | None:
    kind = _kind_of_name(member.name)
    if kind is None and single:
        with member.open() as f:
            kind = _kind_of_head(f.read(HEAD_SIZE))
    return kind


def _headers_seen(member: _Member) -> str:
    rows = _drop_preamble([r for _, r in zip(range(3), _rows(member))])
    first = next((r.cells for r in rows if r.cells is not None), None) or []
    return ", ".join(repr(c) for c in first if c.strip()) or "(none)"


def linkedin_files(path: Path) -> Iterator[tuple[str, Iterator[LinkedInRecord]]]:
    """(file name inside the export, its records) for each file the registry reads, so a loader
    can keep which file a record's position refers to. Unread files are left out (see
    `skipped_files`); an archive that cannot be opened yields one Rejected under its own name."""
    path = Path(path)
    single = path.is_file() and not zipfile.is_zipfile(path)
    try:
        members = list(_members(path))
    except (OSError, zipfile.BadZipFile) as exc:
        yield path.name, iter([Rejected(0, f"{path.name}: cannot be read as a LinkedIn export: "
                                           f"{exc}", "")])
        return
    if single:
        kind = _kind_of_member(members[0], single=True)
        if kind is None:
            yield path.name, iter([Rejected(1, f"{path.name}: not a LinkedIn Connections, "
                                               f"messages or Invitations file (an export in "
                                               f"another language?). Headers seen: "
                                               f"{_headers_seen(members[0])}", "")])
            return
        yield path.name, _READERS[kind](members[0])
        return
    read = [(m, _kind_of_name(m.name)) for m in members]
    read = [(m, k) for m, k in read if k is not None]
    if not read:
        skipped = len(members)
        yield path.name, iter([Rejected(0, f"{path.name}: no Connections.csv, messages.csv, "
                                           f"Invitations.csv or Contacts.csv in this export "
                                           f"({skipped} other files skipped)", "")])
        return
    if zipfile.is_zipfile(path):
        # The members' openers need the archive open while they are read.
        with zipfile.ZipFile(path) as archive:
            for member, kind in read:
                info = archive.getinfo(member.name)
                opened = _Member(member.name, lambda info=info: archive.open(info))
                yield member.name, _READERS[kind](opened)
        return
    for member, kind in read:
        yield member.name, _READERS[kind](member)


def read_linkedin(path: Path) -> Iterator[LinkedInRecord]:
    """Yield the records of a LinkedIn export zip, its unpacked folder or one of its CSV files:
    ContactCard per connection (and per imported address-book entry), SocialMessage per message,
    SocialInvitation per invitation, Rejected with a reason for anything unreadable. Positions
    are lines within each file; use `linkedin_files` to know which file. Never raises for
    content; OSError only when the path itself cannot be opened."""
    for _name, records in linkedin_files(path):
        yield from records


def reading_notes(path: Path) -> list[str]:
    """What is worth telling about how the export was read: a Connections file that had no
    header row, read by the shape of its rows. Never raises."""
    notes = []
    try:
        for name, kind, member in _read_members(Path(path)):
            if kind == "connections" and _find_header(_rows(member),
                                                      _is_connections_header)[0] is None:
                notes.append(f"{name}: no header row; read as LinkedIn connections by the shape "
                             f"of its rows ({', '.join(_WITH_URL)}, the URL column only since "
                             f"2020)")
    except Exception:
        return notes
    return notes


def _read_members(path: Path) -> Iterator[tuple[str, str, _Member]]:
    if path.is_file() and not zipfile.is_zipfile(path):
        member = next(_members(path))
        kind = _kind_of_member(member, single=True)
        if kind:
            yield path.name, kind, member
        return
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                kind = _kind_of_name(info.filename)
                if kind:
                    yield info.filename, kind, _Member(info.filename,
                                                       lambda info=info: archive.open(info))
        return
    for member in _members(path):
        kind = _kind_of_name(member.name)
        if kind:
            yield member.name, kind, member


def skipped_files(path: Path) -> list[str]:
    """Names of the files in the export that no reader in the registry reads."""
    path = Path(path)
    try:
        members = list(_members(path))
    except (OSError, zipfile.BadZipFile):
        return [path.name]
    if path.is_file() and not zipfile.is_zipfile(path):
        return [] if _kind_of_member(members[0], single=True) else [path.name]
    return [m.name for m in members if _kind_of_name(m.name) is None]
