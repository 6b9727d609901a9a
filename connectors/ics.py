"""iCalendar files (.ics) and CalDAV calendar resources as event occurrences.

A file is read as bytes and cut into VCALENDAR / VTIMEZONE / VEVENT chunks by a line scanner before
icalendar sees anything, so memory stays flat however large the file (icalendar holds about 16x a
whole file) and one unreadable event fails alone. Personal text (DESCRIPTION, SUMMARY, LOCATION,
COMMENT, ATTACH and their X- cousins) is dropped while scanning: it is never parsed and never kept
in `raw_text`; SUMMARY is parsed only when the caller opts in.

A single event (no RRULE / RDATE / RECURRENCE-ID) is parsed and yielded at once. A recurring event
and its overrides wait for the end of their VCALENDAR, are grouped by UID and expanded with
`recurring_ical_events` (RRULE, RDATE, EXDATE, RECURRENCE-ID incl. RANGE=THISANDFUTURE, overrides
without a master) up to `window_end`, at most `MAX_OCCURRENCES` per event. A dense endless rule
starting long ago is expanded only over its last `MAX_OCCURRENCES` periods, so the recent
occurrences are the ones kept.

Time zones: VTIMEZONE definitions are handed to icalendar's zone cache; icalendar itself resolves
Olson names, Windows names ("W. Europe Standard Time") and vendor prefixes
("/mozilla.org/20050126_1/Europe/Berlin"). TZIDs like "(GMT +01:00)" or "UTC+11" are read as fixed
offsets. A TZID nobody knows falls back to the floating zone, with a warning naming it. Floating
times and all-day dates are read in the calendar's X-WR-TIMEZONE when it has one, else `owner_tz`,
else UTC.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar, Event, Timezone
from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from kith.connectors.lines import bom_encoding, physical_lines, reencoded_chunks
from kith.emails import normalize_email
from kith.records import Attendee, EventOccurrence, Rejected

MAX_OCCURRENCES = 5000          # per recurring event
DEFAULT_HORIZON = timedelta(days=90)
# The window moves with time, so a calendar that has not changed still has new occurrences to
# show: incremental syncs read every calendar again after this long, however unchanged.
REREAD_EVERY = timedelta(days=7)

_CHUNK = 1 << 20
_MAX_LINE = 1 << 20             # a longer physical line is cut: no real event has one
_MAX_COMPONENT = 4 << 20        # a VEVENT / VTIMEZONE still open after this many bytes is given up
_MAX_REJECTED_TEXT = 4000
_PERSONAL = {b"DESCRIPTION", b"SUMMARY", b"LOCATION", b"COMMENT", b"ATTACH", b"X-ALT-DESC",
             b"X-APPLE-STRUCTURED-LOCATION", b"X-MICROSOFT-LOCATIONS",
             b"X-LIC-LOCATION-DESC"}
_RECURRING_PROPS = (b"RRULE", b"RDATE", b"RECURRENCE-ID")
_GMT_OFFSET = re.compile(r"(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", re.I)
_PERIODS = {"SECONDLY": timedelta(seconds=1), "MINUTELY": timedelta(minutes=1),
            "HOURLY": timedelta(hours=1), "DAILY": timedelta(days=1), "WEEKLY": timedelta(days=7)}


def read_ics(path: Path, *, owner_tz: str | None = None, window_end: datetime | None = None,
             include_summary: bool = False) -> Iterator[EventOccurrence | Rejected]:
    """Yield an EventOccurrence per occurrence of each readable VEVENT of an `.ics` file, and a
    Rejected per VEVENT (or stretch of text outside a calendar) that cannot be read.

    Positions are 1-based line numbers of the VEVENT's BEGIN. Raises only for I/O errors.
    """
    with open(path, "rb") as f:
        yield from _read(_file_chunks(f), calendar=None, item=None, owner_tz=owner_tz,
                         window_end=window_end, include_summary=include_summary, offset=0)


def read_calendar_text(text: bytes | str, *, calendar: str | None, item: str | None,
                       owner_tz: str | None = None, window_end: datetime | None = None,
                       include_summary: bool = False, position_offset: int = 0
                       ) -> Iterator[EventOccurrence | Rejected]:
    """The same as `read_ics` for one calendar object resource held in memory (a CalDAV item).

    `calendar` names the collection (it wins over X-WR-CALNAME), `item` is the resource href, and
    `position_offset` is added to every line number.
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    yield from _read(_memory_chunks(data), calendar=calendar, item=item, owner_tz=owner_tz,
                     window_end=window_end, include_summary=include_summary,
                     offset=position_offset)


def looks_like_ics(head: bytes) -> bool:
    """True when the first bytes of a file (about 64 KB) are an iCalendar stream: its first
    non-blank line is BEGIN:VCALENDAR (UTF-8 with or without BOM, or UTF-16 with BOM)."""
    encoding = bom_encoding(head)
    if encoding:
        width = 4 if encoding == "utf-32" else 2
        text = head[: len(head) // width * width].decode(encoding, "replace")
    else:
        if head.startswith(codecs.BOM_UTF8):
            head = head[3:]
        if b"\0" in head[:1024]:
            return False
        text = head.decode("utf-8", "replace")
    for line in text.splitlines():
        if line.strip():
            return line.strip().upper() == "BEGIN:VCALENDAR"
    return False


# ---------------------------------------------------------------------------------------------
# Bytes to physical lines


def _file_chunks(f) -> Iterator[bytes]:
    head = f.read(_CHUNK)
    encoding = bom_encoding(head)
    if encoding:
        yield from reencoded_chunks(f, head, encoding, _CHUNK)
        return
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    data = head
    while data:
        yield data
        data = f.read(_CHUNK)


def _memory_chunks(data: bytes) -> Iterator[bytes]:
    encoding = bom_encoding(data)
    if encoding:
        data = data.decode(encoding, "replace").encode("utf-8")
    elif data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    yield data


def _physical_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    return physical_lines(chunks, _MAX_LINE)


# ---------------------------------------------------------------------------------------------
# Lines to calendars, zones and events


@dataclass(slots=True)
class _Chunk:
    """One VEVENT as the scanner saw it."""
    start: int                          # line of BEGIN:VEVENT
    lines: list[bytes] = field(default_factory=list)      # without personal properties
    parse: list[bytes] = field(default_factory=list)      # the same without VALARM & co.
    summary: list[bytes] = field(default_factory=list)    # SUMMARY lines, folded as written
    size: int = 0
    recurring: bool = False             # has RRULE, RDATE or RECURRENCE-ID


@dataclass(slots=True)
class _Context:
    """What one VCALENDAR says about all its events."""
    calendar: str | None
    item: str | None
    floating: tzinfo
    floating_name: str | None
    window_end: datetime
    include_summary: bool
    version: str | None = None
    broken_zones: dict = field(default_factory=dict)      # TZID -> why its VTIMEZONE failed


def _read(chunks, *, calendar, item, owner_tz, window_end, include_summary, offset):
    if window_end is None:
        window_end = datetime.now(timezone.utc) + DEFAULT_HORIZON
    elif window_end.tzinfo is None:
        window_end = window_end.replace(tzinfo=timezone.utc)
    owner_zone = _zone(owner_tz) if owner_tz else None
    base = _Context(calendar, item, owner_zone or timezone.utc, owner_tz if owner_zone else None,
                    window_end, include_summary)
    ctx = base
    deferred: list[_Chunk] = []
    found_event = False
    junk: list[bytes] = []
    junk_start = 0
    event: _Chunk | None = None
    zone: list[bytes] | None = None
    depth = 0                 # nesting inside the current VEVENT (VALARM...)
    dropping = None           # "drop" / "summary": inside a personal property's folds
    oversized = False
    in_calendar = False
    line_no = offset

    def flush_calendar():
        nonlocal deferred
        if deferred:
            yield from _expand_groups(deferred, ctx)
            deferred = []

    for line_no, line in enumerate(_physical_lines(chunks), offset + 1):
        upper = line[:16].upper() if line[:1] in b"BbEe" else b""
        if event is not None:
            if upper.startswith(b"BEGIN:VEVENT") and line.strip().upper() == b"BEGIN:VEVENT":
                yield Rejected(event.start, "VEVENT not closed: no END:VEVENT before the next "
                               "BEGIN:VEVENT", _clip(_text(event.lines)))
                event = _Chunk(line_no, [line], [line])
                depth = 0
                continue
            if upper.startswith(b"END:VCALENDAR"):
                yield Rejected(event.start, "VEVENT not closed: END:VCALENDAR came first",
                               _clip(_text(event.lines)))
                event = None
                # fall through: the calendar ends
            else:
                if oversized:
                    if line.strip().upper() == b"END:VEVENT":
                        event, oversized = None, False
                    continue
                top = depth == 0
                if line[:1] in (b" ", b"\t"):
                    if dropping:
                        if dropping == "summary":
                            event.summary.append(line)
                        continue
                else:
                    dropping = None
                    name = _prop_name(line)
                    if name in _PERSONAL or (name.startswith(b"X-") and (b"DESC" in name
                                                                          or b"LOCATION" in name)):
                        dropping = "drop"
                        if name == b"SUMMARY" and depth == 0:
                            event.summary.append(line)
                            dropping = "summary"
                        continue
                    if name in _RECURRING_PROPS and depth == 0:
                        event.recurring = True
                    if upper.startswith(b"BEGIN:"):
                        depth += 1
                    elif upper.startswith(b"END:"):
                        if depth == 0 and line.strip().upper() == b"END:VEVENT":
                            event.lines.append(line)
                            event.parse.append(line)
                            found_event = True
                            if event.recurring:
                                deferred.append(event)
                            else:
                                yield from _read_single(event, ctx)
                            event = None
                            continue
                        depth -= 1
                event.lines.append(line)
                if top and depth == 0:
                    if b";;" in line.partition(b":")[0]:   # DTSTART;;VALUE=... (a real writer)
                        line = re.sub(rb";;+", b";", line, count=1)
                    event.parse.append(line)
                event.size += len(line)
                if event.size > _MAX_COMPONENT:
                    yield Rejected(event.start, f"VEVENT larger than {_MAX_COMPONENT >> 20} MB; "
                                   "skipped", _clip(_text(event.lines)))
                    event.lines = []
                    oversized = True
                continue
        if zone is not None:
            if upper.startswith(b"END:VCALENDAR") or upper.startswith(b"BEGIN:VEVENT"):
                zone = None   # a VTIMEZONE cut short: events using it fall back with a warning
            else:
                zone.append(line)
                if upper.startswith(b"END:VTIMEZONE"):
                    _learn_zone(zone, ctx)
                    zone = None
                elif sum(map(len, zone)) > _MAX_COMPONENT:
                    zone = None
                continue
        stripped = line.strip()
        key = stripped.upper()
        if key == b"BEGIN:VEVENT":
            if junk:
                yield _junk(junk_start, junk)
                junk = []
            event = _Chunk(line_no, [line], [line])
            depth, dropping = 0, None
        elif key == b"BEGIN:VTIMEZONE":
            zone = [line]
        elif key == b"BEGIN:VCALENDAR":
            if junk:
                yield _junk(junk_start, junk)
                junk = []
            yield from flush_calendar()
            in_calendar = True
            ctx = _Context(base.calendar, base.item, base.floating, base.floating_name,
                           window_end, include_summary)
        elif key == b"END:VCALENDAR":
            yield from flush_calendar()
            in_calendar = False
            ctx = base
        elif in_calendar:
            name = _prop_name(line)
            if name == b"X-WR-CALNAME" and calendar is None:
                ctx.calendar = _decode(line.partition(b":")[2]).strip() or None
            elif name == b"X-WR-TIMEZONE":
                wr = _decode(line.partition(b":")[2]).strip()
                zone_info = _zone(wr)
                if zone_info is not None:
                    ctx.floating, ctx.floating_name = zone_info, wr
            elif name == b"VERSION":
                ctx.version = _decode(line.partition(b":")[2]).strip()
        elif stripped and not _is_component_marker(key):
            if not junk:
                junk_start = line_no
            if sum(map(len, junk)) < _MAX_REJECTED_TEXT:
                junk.append(line)
    if event is not None and not oversized:
        found_event = True
        yield Rejected(event.start, "VEVENT not closed: the file ends before END:VEVENT",
                       _clip(_text(event.lines)))
    yield from flush_calendar()
    if junk:
        yield _junk(junk_start, junk, at_end=not found_event)


def _is_component_marker(key: bytes) -> bool:
    """Lines outside any VCALENDAR that are not junk: other components' own markers."""
    return key.startswith((b"BEGIN:", b"END:"))


def _junk(start: int, lines: list[bytes], at_end: bool = False) -> Rejected:
    reason = ("no VEVENT found (no BEGIN:VCALENDAR / BEGIN:VEVENT line)" if at_end
              else "text outside a calendar")
    return Rejected(start, reason, _clip(_text(lines)))


def _prop_name(line: bytes) -> bytes:
    end = len(line)
    for sep in (b";", b":"):
        i = line.find(sep, 0, end)
        if i >= 0:
            end = i
    return line[:end].strip().upper()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _text(lines: list[bytes]) -> str:
    return _decode(b"\r\n".join(lines))


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_REJECTED_TEXT else text[:_MAX_REJECTED_TEXT] + "\n[...]"


def _learn_zone(lines: list[bytes], ctx: _Context) -> None:
    """Hand a VTIMEZONE to icalendar's zone cache (kept for the process, keyed by TZID)."""
    text = _text(lines)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            component = Timezone.from_ical(text)
            tzp.cache_timezone_component(component)
    except Exception as exc:   # a broken VTIMEZONE only costs the events that use it
        m = re.search(r"(?im)^TZID[^:]*:(.*)$", text)
        if m:
            ctx.broken_zones[m.group(1).strip()] = f"{type(exc).__name__}: {exc}"[:200]


# ---------------------------------------------------------------------------------------------
# Events to occurrences


def _parse(chunk: _Chunk, ctx: _Context) -> tuple[Event | None, list[str], str]:
    """The VEVENT parsed by icalendar, warnings so far and the raw_text; None and a reason in
    warnings[0] when it cannot be read (whatever icalendar raised)."""
    try:
        return _parse_chunk(chunk, ctx)
    except Exception as exc:
        return None, [f"unreadable VEVENT: {type(exc).__name__}: {exc}"[:300]], \
            _text(chunk.lines)


def _parse_chunk(chunk: _Chunk, ctx: _Context) -> tuple[Event | None, list[str], str]:
    notes: list[str] = []
    raw = b"\r\n".join(chunk.lines)
    try:
        raw_text = raw.decode("utf-8")
        summary_text = b"\r\n".join(chunk.summary).decode("utf-8")
    except UnicodeDecodeError:
        raw_text = raw.decode("cp1252", "replace")
        summary_text = b"\r\n".join(chunk.summary).decode("cp1252", "replace")
        notes.append("not UTF-8; read as windows-1252")
    latin = bool(notes)
    text = b"\r\n".join(chunk.parse).decode("cp1252" if latin else "utf-8", "replace")
    if ctx.include_summary and chunk.summary:
        text = text.replace("\r\n", "\r\n" + summary_text + "\r\n", 1)
    if ctx.version and ctx.version.strip() == "1.0":
        notes.append("vCalendar 1.0: read with iCalendar 2.0 rules")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            component = Event.from_ical(text)
    except Exception as exc:
        return None, [f"unreadable VEVENT: {type(exc).__name__}: {exc}"[:300]], raw_text
    if not isinstance(component, Event):
        return None, ["unreadable VEVENT"], raw_text
    errors = dict(component.errors) if getattr(component, "errors", None) else {}
    if "DTSTART" not in component:
        return None, ["VEVENT without DTSTART"], raw_text
    if "DTSTART" in errors or not isinstance(component["DTSTART"].dt, (date, datetime)):
        return None, [f"invalid DTSTART: {errors.get('DTSTART', component['DTSTART'])}"[:300]], \
            raw_text
    for name, why in errors.items():
        if isinstance(name, str):
            notes.append(f"ignored invalid {name}: {why}"[:300])
            component.pop(name, None)
        else:       # a line icalendar could not even name (ATTENDEE;...;: a parameter cut short)
            notes.append(f"ignored an unreadable line: {why}"[:300])
    if not str(component.get("UID", "")).strip():
        # DTSTART, SUMMARY, ORGANIZER and the rest of what the event says, without the lines
        # that change on every export.
        kept = [l for l in raw_text.splitlines()
                if not l.upper().startswith(("DTSTAMP", "CREATED", "LAST-MODIFIED"))]
        blob = "\n".join([_value(component, "DTSTART"), summary_text,
                          _value(component, "ORGANIZER"), *kept])
        component["UID"] = "hash:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]
        notes.append("no UID; made one from a hash of DTSTART, SUMMARY and ORGANIZER")
    return component, notes, raw_text


def _value(component, name: str) -> str:
    prop = component.get(name)
    if prop is None:
        return ""
    try:
        return prop.to_ical().decode("utf-8", "replace") if hasattr(prop, "to_ical") else str(prop)
    except Exception:
        return str(prop)


def _read_single(chunk: _Chunk, ctx: _Context) -> Iterator[EventOccurrence | Rejected]:
    component, notes, raw_text = _parse(chunk, ctx)
    if component is None:
        yield Rejected(chunk.start, notes[0], _clip(raw_text))
        return
    try:
        yield _occurrence(component, component, chunk.start, raw_text, ctx, notes,
                          recurring=False)
    except Exception as exc:
        yield Rejected(chunk.start, f"unreadable VEVENT: {type(exc).__name__}: {exc}"[:300],
                       _clip(raw_text))


def _expand_groups(chunks: list[_Chunk], ctx: _Context) -> Iterator[EventOccurrence | Rejected]:
    """The recurring events of a calendar, a series (one UID) at a time: grouped by the UID as
    written first, each group parsed only when its turn comes. A parsed VEVENT is about ten
    times its text, and a calendar can hold tens of thousands of series."""
    by_uid: dict[bytes, list[_Chunk]] = {}
    for chunk in chunks:
        by_uid.setdefault(_written_uid(chunk), []).append(chunk)
    for group in by_uid.values():
        yield from _expand_series(group, ctx)


def _written_uid(chunk: _Chunk) -> bytes:
    """The UID line's value, unfolded and unescaped as TEXT (b"" when there is none): two
    VEVENTs of one series written alike. icalendar's reading decides in the end (a VEVENT
    without a UID gets one from a hash, see _parse_chunk)."""
    for i, line in enumerate(chunk.parse):
        if _prop_name(line) == b"UID":
            value = line.partition(b":")[2]
            for more in chunk.parse[i + 1:]:
                if more[:1] not in (b" ", b"\t"):
                    break
                value += more[1:]
            return re.sub(rb"\\([\\;,])", rb"\1", value.strip())
    return b""


def _expand_series(chunks: list[_Chunk], ctx: _Context
                   ) -> Iterator[EventOccurrence | Rejected]:
    groups: dict[str, list] = {}
    for chunk in chunks:
        component, notes, raw_text = _parse(chunk, ctx)
        if component is None:
            yield Rejected(chunk.start, notes[0], _clip(raw_text))
            continue
        groups.setdefault(str(component["UID"]), []).append((component, chunk.start, raw_text,
                                                             notes))
    for members in groups.values():
        yielded = set()
        try:
            for record in _expand(members, ctx):
                yielded.add(record.position)
                yield record
        except Exception as exc:      # one series that breaks the expansion fails alone
            for _, start, raw_text, _ in members:
                if start not in yielded:
                    yield Rejected(start, f"unreadable recurring VEVENT: {type(exc).__name__}: "
                                          f"{exc}"[:300], _clip(raw_text))


def _expand(members: list, ctx: _Context) -> Iterator[EventOccurrence | Rejected]:
    masters = [m for m in members if "RECURRENCE-ID" not in m[0]]
    overrides = {}
    unread = []               # (member, reason): overrides that cannot take part
    for m in members:
        if "RECURRENCE-ID" in m[0]:
            try:
                rid = m[0]["RECURRENCE-ID"]
                if isinstance(rid, list):          # written twice: the first one counts
                    m[0].pop("RECURRENCE-ID")
                    m[0].add("RECURRENCE-ID", rid[0].dt, parameters=dict(rid[0].params))
                    rid = rid[0]
                key = _occurrence_id(rid.dt, m[0], ctx, [])
            except Exception as exc:
                unread.append((m, f"unreadable RECURRENCE-ID: {type(exc).__name__}: {exc}"
                                  [:300]))
                continue
            if key in overrides:
                unread.append((m, f"a second VEVENT for the occurrence {key} of UID "
                                  f"{m[0]['UID']}"[:300]))
                continue
            overrides[key] = m
    master = masters[0] if masters else None
    extra = []
    for dup in masters[1:]:   # two masters for one UID: the first wins, the others read alone
        extra.append(dup)
    for m, reason in unread:
        yield Rejected(m[1], reason, _clip(m[2]))
    if master is None and not overrides:
        return
    notes_all = list(master[3]) if master else []
    calendar = Calendar()
    for m in ([master] if master else []) + list(overrides.values()):
        calendar.add_component(m[0])
    if master is not None:
        notes_all += _densify(master[0], ctx)
    kept: list[EventOccurrence] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            n = 0
            for occ in _walk(calendar, master[0] if master else None, ctx):
                source = master
                rid = occ.get("RECURRENCE-ID")
                record_notes = notes_all
                key = _occurrence_id(rid.dt, occ, ctx, []) if rid is not None else None
                if key in overrides:
                    source = overrides[key]
                    record_notes = source[3]
                if source is None:
                    source = next(iter(overrides.values()))
                record = _occurrence(occ, source[0], source[1], source[2], ctx,
                                     list(record_notes), recurring=True)
                if record.start_at >= ctx.window_end:
                    break
                n += 1
                if n > MAX_OCCURRENCES:
                    kept[-1].warnings.append(f"more than {MAX_OCCURRENCES} occurrences before "
                                             f"the window end; the rest were not read")
                    break
                kept.append(record)
    except Exception as exc:
        # A rule recurring_ical_events cannot expand: read each VEVENT as written, once.
        if kept:
            kept[-1].warnings.append(f"recurrence expansion stopped: {type(exc).__name__}: {exc}"
                                     [:300])
            yield from kept
            return
        for component, start, raw_text, notes in ([master] if master else []) + list(
                overrides.values()):
            try:
                yield _occurrence(component, component, start, raw_text, ctx,
                                  notes + [f"could not expand recurrence "
                                           f"({type(exc).__name__}: {exc}); read as written"
                                           [:300]], recurring="RECURRENCE-ID" in component)
            except Exception as exc2:
                yield Rejected(start, f"unreadable VEVENT: {type(exc2).__name__}: {exc2}"[:300],
                               _clip(raw_text))
        return
    yield from kept
    if not kept:
        for component, start, raw_text, _ in ([master] if master else []) + list(
                overrides.values()):
            yield Rejected(start, "recurring event with no occurrence before the window end "
                           "(every instance excluded, or the series starts later)",
                           _clip(raw_text))
    for dup in extra:
        yield Rejected(dup[1], f"second VEVENT with UID {dup[0]['UID']} and no RECURRENCE-ID",
                       _clip(dup[2]))


def _walk(calendar: Calendar, master: Event | None, ctx: _Context):
    """The occurrences in start order. recurring_ical_events' `all()` pages through whole years,
    which for a sub-daily rule is millions of candidates per page; such a rule is queried only
    over the span its first MAX_OCCURRENCES periods can cover."""
    query = recurring_ical_events.of(calendar)
    step = _sub_daily_step(master.get("RRULE")) if master is not None else None
    if step is not None:
        start = master["DTSTART"].dt
        stop = start + step * (MAX_OCCURRENCES + 1)
        begin = start.date() if isinstance(start, datetime) else start
        stop = min(stop.date() if isinstance(stop, datetime) else stop,
                   ctx.window_end.date()) + timedelta(days=1)
        return iter(query.between(begin, stop))
    # Any other rule only up to the window end: `all()` goes on paging year after year for a
    # next occurrence that never comes, and an event lasting decades makes each page slow (a
    # fuzzed calendar hung here for minutes).
    starts = [_day(c["DTSTART"].dt) for c in calendar.walk("VEVENT") if "DTSTART" in c]
    stop = ctx.window_end.date() + timedelta(days=1)
    if not starts or min(starts) >= stop:
        return iter(())
    return iter(sorted(query.between(min(starts), stop), key=lambda occ: _start_utc(occ, ctx)))


def _sub_daily_step(rules) -> timedelta | None:
    """The shortest step of a master's SECONDLY / MINUTELY / HOURLY rules (an RRULE written more
    than once counts as each of them, as recurring_ical_events expands them), else None."""
    steps = []
    for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
        freq = str((rule.get("FREQ") or [""])[0]).upper()
        if freq in ("SECONDLY", "MINUTELY", "HOURLY"):
            steps.append(_PERIODS[freq] * int((rule.get("INTERVAL") or [1])[0] or 1))
    return min(steps, default=None)


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _start_utc(occ, ctx: _Context) -> datetime:
    start = occ["DTSTART"].dt
    if not isinstance(start, datetime):
        start = datetime.combine(start, time())
    return _to_utc_plain(start, ctx.floating)


def _densify(master: Event, ctx: _Context) -> list[str]:
    """Move a dense endless rule's DTSTART forward so expansion starts near the window end.

    recurring_ical_events walks a rule from its DTSTART, about 0.4 ms an occurrence; a minutely
    rule from 1990 would take hours. Moving DTSTART by whole rule periods keeps every occurrence
    on the same grid, so only rules without COUNT (whose meaning depends on DTSTART) are moved.
    """
    rules = master.get("RRULE")
    if rules is None or isinstance(rules, list):
        return []
    try:
        freq = str(rules.get("FREQ", [""])[0]).upper()
        interval = int(rules.get("INTERVAL", [1])[0] or 1)
    except Exception:
        return []
    if freq not in _PERIODS or "COUNT" in rules or "BYSETPOS" in rules:
        return []
    start = master["DTSTART"].dt
    if not isinstance(start, datetime):
        start = datetime.combine(start, time())
    start_utc = _to_utc_plain(start, ctx.floating)
    per = 1
    for part in ("BYDAY", "BYHOUR", "BYMINUTE", "BYSECOND"):
        if part in rules:
            per *= max(1, len(rules[part]))
    step = _PERIODS[freq] * interval
    end = ctx.window_end
    if "UNTIL" in rules:
        try:
            until = rules["UNTIL"][0]
            if not isinstance(until, datetime):
                until = datetime.combine(until, time())
            end = min(end, _to_utc_plain(until, ctx.floating))
        except Exception:
            return []
    span = end - start_utc
    if span <= step * (MAX_OCCURRENCES // per):
        return []
    k = (span - step * (MAX_OCCURRENCES // per - 1)) // step
    new_start = master["DTSTART"].dt + step * k
    duration = None
    if "DTEND" in master:
        duration = master["DTEND"].dt - master["DTSTART"].dt
    params = dict(master["DTSTART"].params)
    master.pop("DTSTART")
    master.add("DTSTART", new_start, parameters=params)
    if duration is not None:
        end_params = dict(master["DTEND"].params)
        master.pop("DTEND")
        master.add("DTEND", new_start + duration, parameters=end_params)
    return [f"dense recurrence ({freq}); occurrences before {new_start.isoformat()} were not read"]


def _occurrence(occ, source, position: int, raw_text: str, ctx: _Context, notes: list[str], *,
                recurring: bool) -> EventOccurrence:
    start_prop = occ["DTSTART"]
    start = start_prop.dt
    is_all_day = not isinstance(start, datetime)
    start_tz, start_at = _instant(start, source.get("DTSTART"), ctx, notes)
    end_at = None
    end_prop = occ.get("DTEND")
    if end_prop is not None and isinstance(getattr(end_prop, "dt", None), (date, datetime)):
        _, end_at = _instant(end_prop.dt, source.get("DTEND") or source.get("DTSTART"), ctx,
                             notes, quiet=True)
    elif occ.get("DURATION") is not None and isinstance(occ["DURATION"].dt, timedelta):
        end_at = start_at + occ["DURATION"].dt
    elif is_all_day:
        end_at = start_at + timedelta(days=1)
    else:
        end_at = start_at
    if end_at is not None and end_at < start_at:
        notes.append("DTEND before DTSTART; end_at left empty")
        end_at = None
    rid = occ.get("RECURRENCE-ID") if recurring or "RECURRENCE-ID" in source else None
    if rid is not None and isinstance(getattr(rid, "dt", None), (date, datetime)):
        occurrence_id = _occurrence_id(rid.dt, occ, ctx, notes)
    else:
        occurrence_id = _occurrence_id(start, occ, ctx, notes)
    try:
        sequence = int(occ.get("SEQUENCE")) if occ.get("SEQUENCE") is not None else None
    except (TypeError, ValueError):
        sequence = None
    status = str(occ.get("STATUS")).strip().upper() if occ.get("STATUS") else None
    organizer = _attendee(occ.get("ORGANIZER")) if occ.get("ORGANIZER") is not None else None
    attendees_prop = occ.get("ATTENDEE")
    if attendees_prop is None:
        attendees_prop = []
    elif not isinstance(attendees_prop, list):
        attendees_prop = [attendees_prop]
    summary = None
    if ctx.include_summary and occ.get("SUMMARY") is not None:
        summary = str(occ.get("SUMMARY"))
    return EventOccurrence(
        position=position, raw_text=raw_text, calendar=ctx.calendar, item=ctx.item,
        uid=str(occ["UID"]), occurrence_id=occurrence_id, start_at=start_at, end_at=end_at,
        start_tz=start_tz, is_all_day=is_all_day, is_recurring=recurring, sequence=sequence,
        status=status, organizer=organizer,
        attendees=[a for a in map(_attendee, attendees_prop) if a is not None],
        summary=summary, warnings=list(dict.fromkeys(notes)))


def _occurrence_id(value, occ, ctx: _Context, notes: list[str]) -> str:
    if not isinstance(value, datetime):
        return value.isoformat()
    _, utc = _instant(value, occ.get("RECURRENCE-ID") or occ.get("DTSTART"), ctx, notes,
                      quiet=True)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(value, prop, ctx: _Context, notes: list[str], quiet: bool = False
             ) -> tuple[str | None, datetime]:
    """(zone name as written or resolved, UTC instant) of a DATE or DATE-TIME value."""
    if not isinstance(value, datetime):
        return None, datetime.combine(value, time(), ctx.floating).astimezone(timezone.utc)
    if value.tzinfo is not None:
        return _zone_name(value, prop), value.astimezone(timezone.utc)
    tzid = None
    params = getattr(prop, "params", None)
    if params is not None:
        tzid = params.get("TZID")
    if tzid:
        offset_zone = _offset_zone(str(tzid))
        if offset_zone is not None:
            if not quiet:
                notes.append(f"TZID {tzid!r} read as a fixed offset")
            return str(tzid), value.replace(tzinfo=offset_zone).astimezone(timezone.utc)
        if not quiet:
            why = ctx.broken_zones.get(str(tzid))
            fallback = ctx.floating_name or "UTC"
            notes.append(f"unknown TZID {str(tzid)!r}; read as {fallback}"
                         + (f" (its VTIMEZONE failed: {why})" if why else ""))
        return str(tzid), value.replace(tzinfo=ctx.floating).astimezone(timezone.utc)
    return None, value.replace(tzinfo=ctx.floating).astimezone(timezone.utc)


def _to_utc_plain(value: datetime, floating: tzinfo) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=floating)
    return value.astimezone(timezone.utc)


def _zone_name(value: datetime, prop) -> str | None:
    key = getattr(value.tzinfo, "key", None)
    if key:
        return key
    params = getattr(prop, "params", None)
    tzid = params.get("TZID") if params is not None else None
    if tzid:
        return WINDOWS_TO_OLSON.get(str(tzid).strip("/"), str(tzid))
    if value.utcoffset() == timedelta(0):
        return "UTC"
    return str(value.tzinfo)


def _offset_zone(tzid: str) -> tzinfo | None:
    m = _GMT_OFFSET.search(tzid)
    if not m or "/" in tzid:   # "GMT +0100 (Standard) / GMT +0200 (Daylight)": no single offset
        return None
    sign = -1 if m.group(1) == "-" else 1
    hours, minutes = int(m.group(2)), int(m.group(3) or 0)
    if hours > 14 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except Exception:
        found = tzp.timezone(name) if name else None
        return found


def _attendee(prop) -> Attendee | None:
    if prop is None:
        return None
    value = str(prop).strip()
    params = getattr(prop, "params", {}) or {}
    if value.lower().startswith("mailto:"):
        address = value[7:].strip() or None
    elif "<" in value:   # vCalendar 1.0: "Name <addr>"
        name, address = parseaddr(value)
        address = address or None
        if name and not params.get("CN"):
            params = dict(params)
            params["CN"] = name
    elif "@" in value and ":" not in value:
        address = value
    else:
        address = None
    name = params.get("CN")
    name = str(name).strip().strip('"') if name else None

    def upper(key):
        v = params.get(key)
        return str(v).strip().upper() or None if v else None

    if address is None and not name:
        return None
    return Attendee(email=address, normalized=normalize_email(address), name=name or None,
                    partstat=upper("PARTSTAT"), role=upper("ROLE"), cutype=upper("CUTYPE"))
