"""connectors/ics.py: one fixture per edge case with exact values, and a sweep over the corpus."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kith.connectors.ics import MAX_OCCURRENCES, looks_like_ics, read_calendar_text, read_ics
from kith.records import EventOccurrence, Rejected

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "ics"
WINDOW_END = datetime(2027, 1, 1, tzinfo=timezone.utc)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def read(name: str, **kwargs) -> list:
    kwargs.setdefault("window_end", WINDOW_END)
    return list(read_ics(FIXTURES / name, **kwargs))


def occurrences(name: str, **kwargs) -> list[EventOccurrence]:
    return [r for r in read(name, **kwargs) if isinstance(r, EventOccurrence)]


def rejects(name: str, **kwargs) -> list[Rejected]:
    return [r for r in read(name, **kwargs) if isinstance(r, Rejected)]


def only(name: str, **kwargs) -> EventOccurrence:
    (record,) = read(name, **kwargs)
    assert isinstance(record, EventOccurrence), record
    return record


# ---------------------------------------------------------------------------------------------
# Exact values


@pytest.mark.parametrize("name, field, expected", [
    ("windows-tzid.ics", "start_at", utc(2026, 1, 5, 8, 0)),
    ("windows-tzid.ics", "end_at", utc(2026, 1, 5, 9, 0)),
    ("windows-tzid.ics", "start_tz", "Europe/Berlin"),
    ("windows-tzid.ics", "occurrence_id", "2026-01-05T08:00:00Z"),
    ("windows-tzid.ics", "is_recurring", False),
    ("windows-tzid.ics", "summary", None),
    ("mozilla-tzid.ics", "start_at", utc(2026, 3, 1, 9, 0)),
    ("mozilla-tzid.ics", "start_tz", "Europe/Berlin"),
    ("cancelled.ics", "status", "CANCELLED"),
    ("cancelled.ics", "sequence", 3),
    ("all-day.ics", "is_all_day", True),
    ("all-day.ics", "occurrence_id", "2026-11-20"),
    ("all-day.ics", "start_at", utc(2026, 11, 20)),
    ("all-day.ics", "end_at", utc(2026, 11, 22)),
    ("no-uid.ics", "warnings", ["no UID; made one from a hash of DTSTART, SUMMARY and ORGANIZER"]),
    ("unknown-tzid.ics", "start_at", utc(2026, 3, 1, 10, 0)),
    ("unknown-tzid.ics", "start_tz", "Mars/Olympus"),
    ("unknown-tzid.ics", "warnings", ["unknown TZID 'Mars/Olympus'; read as UTC"]),
    ("personal-text.ics", "raw_text", "BEGIN:VEVENT\r\nUID:pt-1\r\nDTSTART:20260301T100000Z\r\n"
                                      "END:VEVENT"),
])
def test_single_event_field(name, field, expected):
    assert getattr(only(name), field) == expected


def test_floating_time_read_in_owner_zone():
    record = only("floating.ics", owner_tz="Europe/Berlin")
    assert (record.start_at, record.end_at, record.start_tz) == (
        utc(2026, 7, 1, 7, 0), utc(2026, 7, 1, 8, 0), None)


def test_floating_time_defaults_to_utc():
    assert only("floating.ics").start_at == utc(2026, 7, 1, 9, 0)


def test_summary_only_when_opted_in():
    assert only("personal-text.ics", include_summary=True).summary == "Dinner with Maya"


def test_no_uid_gets_a_stable_hash_uid():
    assert only("no-uid.ics").uid == only("no-uid.ics").uid
    assert re.fullmatch(r"hash:[0-9a-f]{32}", only("no-uid.ics").uid)


def test_attendee_room_and_partstat():
    record = only("attendee-room.ics")
    room, tom = record.attendees
    assert (room.email, room.normalized, room.name, room.cutype, room.role, room.partstat) == (
        "room4@example.com", "room4@example.com", "Board Room 4", "ROOM", "NON-PARTICIPANT",
        "ACCEPTED")
    assert (tom.normalized, tom.partstat, tom.role) == ("tom@example.com", "DECLINED",
                                                        "OPT-PARTICIPANT")


def test_organizer():
    organizer = only("attendee-room.ics").organizer
    assert (organizer.email, organizer.normalized, organizer.name) == (
        "Priya@Example.com", "priya@example.com", "Priya Natarajan")


def test_exdate_removes_an_occurrence():
    assert [r.occurrence_id for r in occurrences("exdate.ics")] == [
        "2026-01-05T08:00:00Z", "2026-01-19T08:00:00Z", "2026-01-26T08:00:00Z"]


def test_recurring_instances_are_marked():
    assert {r.is_recurring for r in occurrences("exdate.ics")} == {True}


def test_override_keeps_occurrence_id_and_moves_start():
    moved = [r for r in occurrences("recurrence-id-override.ics")
             if r.occurrence_id == "2026-01-12T17:00:00Z"]
    (record,) = moved
    assert (record.start_at, record.end_at, record.sequence) == (
        utc(2026, 1, 13, 20), utc(2026, 1, 13, 21), 2)
    assert [a.normalized for a in record.attendees] == ["daniel@example.com"]


def test_override_leaves_other_occurrences():
    assert [r.start_at for r in occurrences("recurrence-id-override.ics")] == [
        utc(2026, 1, 5, 17), utc(2026, 1, 13, 20), utc(2026, 1, 19, 17)]


def test_endless_rule_bounded_by_window_end():
    records = occurrences("endless-rrule.ics", window_end=utc(2026, 3, 1))
    assert (len(records), records[0].start_at, records[-1].start_at) == (
        8, utc(2026, 1, 5, 14), utc(2026, 2, 23, 14))


def test_huge_count_dense_rule_is_capped_quickly():
    started = time.perf_counter()
    records = occurrences("huge-count.ics")
    assert len(records) == MAX_OCCURRENCES
    assert "occurrences before the window end" in records[-1].warnings[-1]
    assert time.perf_counter() - started < 10


def test_a_dense_rule_written_twice_is_capped_too(tmp_path):
    """Found by bench/fuzz.py: RRULE doubled made the rule a list, which skipped the sub-daily
    bound, and recurring_ical_events expanded every minute since 1990 (minutes, gigabytes)."""
    path = tmp_path / "twice.ics"
    path.write_bytes(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:hc-1\r\n"
                     b"DTSTART:19900101T000000Z\r\n" + b"RRULE:FREQ=MINUTELY;COUNT=999999999\r\n" * 2
                     + b"END:VEVENT\r\nEND:VCALENDAR\r\n")
    records = list(read_ics(path, window_end=WINDOW_END))
    assert len(records) == MAX_OCCURRENCES
    assert (records[0].start_at, records[-1].start_at) == (
        utc(1990, 1, 1), utc(1990, 1, 1) + timedelta(minutes=MAX_OCCURRENCES - 1))
    assert "occurrences before the window end" in records[-1].warnings[-1]


@pytest.mark.parametrize("name, reason", [
    ("no-dtstart.ics", "VEVENT without DTSTART"),
    ("invalid-date.ics", "invalid DTSTART"),
    ("unclosed-vevent.ics", "VEVENT not closed: no END:VEVENT before the next BEGIN:VEVENT"),
    ("binary-junk.ics", "no VEVENT found"),
])
def test_bad_input_rejected_with_reason(name, reason):
    (record,) = rejects(name)
    assert record.reason.startswith(reason)


def test_unclosed_vevent_keeps_the_next_event():
    assert [r.uid for r in occurrences("unclosed-vevent.ics")] == ["ok-1"]


def test_vcalendar_1_read_with_a_warning():
    record = only("vcalendar-1.0.ics")
    assert (record.attendees[0].normalized, record.attendees[0].name, record.warnings) == (
        "lena@example.com", "Lena Fischer", ["vCalendar 1.0: read with iCalendar 2.0 rules"])


def test_concatenated_calendars_keep_their_names():
    assert [(r.uid, r.calendar) for r in occurrences("two-calendars.ics")] == [
        ("a-1", "Work"), ("b-1", "Home")]


def test_read_calendar_text_caldav_item():
    text = (FIXTURES / "recurrence-id-override.ics").read_text()
    records = list(read_calendar_text(text, calendar="Work", item="/cal/mv-1.ics",
                                      window_end=WINDOW_END, position_offset=100))
    assert [(r.calendar, r.item, r.position) for r in records] == [
        ("Work", "/cal/mv-1.ics", 103), ("Work", "/cal/mv-1.ics", 110),
        ("Work", "/cal/mv-1.ics", 103)]


@pytest.mark.parametrize("head, expected", [
    (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", True),
    (b"\xef\xbb\xbfBEGIN:VCALENDAR\r\n", True),
    ("BEGIN:VCALENDAR\r\n".encode("utf-16"), True),
    (b"\r\n\r\nbegin:vcalendar\n", True),
    (b"BEGIN:VCARD\r\n", False),
    (b"\x00\x01\x02BEGIN:VCALENDAR", False),
])
def test_looks_like_ics(head, expected):
    assert looks_like_ics(head) is expected


# ---------------------------------------------------------------------------------------------
# Corpus: exact values on a few real files


def corpus(name: str) -> list:
    path = CORPUS / name
    if not path.exists():
        pytest.skip("shared corpus not found: ../shared/corpus/ics")
    return list(read_ics(path, window_end=WINDOW_END))


def test_corpus_khal_override_cancelled():
    records = corpus("khal__event_rrule_recuid_cancelled.ics")
    by_id = {r.occurrence_id: r for r in records}
    assert (by_id["2014-07-07T05:00:00Z"].start_at, by_id["2014-07-14T05:00:00Z"].status,
            len(records)) == (utc(2014, 7, 7, 7), "CANCELLED", 6)


def test_corpus_outlook_windows_tzid():
    (record,) = corpus("icalendar__issue_836_do_not_quote_tzid.ics")
    assert record.start_tz == "America/New_York"


def test_corpus_overrides_without_master():
    records = corpus("khal__event_dt_multi_recuid_no_master.ics")
    assert [r.is_recurring for r in records] == [True, True]


def test_corpus_unknown_tzid_warns():
    records = corpus("khal__event_rrule_recuid_invalid_tzid.ics")
    assert records[0].warnings == ["unknown TZID 'foo'; read as UTC"]


def test_corpus_latin1_file():
    records = corpus("thunderbird__importLatin1.ics")
    assert len(records) == 4


# ---------------------------------------------------------------------------------------------
# Corpus sweep: every file read without raising, every VEVENT accounted for


_BEGIN_VEVENT = re.compile(rb"(?m)^BEGIN:VEVENT\r?$")
CORPUS_FILES = sorted(CORPUS.glob("*.ics")) if CORPUS.is_dir() else []


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_sweep_every_vevent_accounted_for(path):
    """A VEVENT is accounted for by a record at its line, or (a master whose every instance was
    overridden or excluded) by occurrences of its UID."""
    records = list(read_ics(path, window_end=WINDOW_END))
    positions = {r.position for r in records}
    uids = {r.uid for r in records if isinstance(r, EventOccurrence)}
    text = path.read_bytes().lstrip(b"\xef\xbb\xbf").decode("utf-8", "replace")
    lines = text.replace("\r\n", "\n").split("\n")
    missing = []
    for i, line in enumerate(lines, 1):
        if line.strip().upper() == "BEGIN:VEVENT" and i not in positions:
            block = "\n".join(lines[i:i + 200]).split("END:VEVENT")[0]
            uid = re.search(r"(?m)^UID:(.*)$", block)
            if not uid or uid.group(1).strip() not in uids:
                missing.append(i)
    assert missing == []
    assert all(r.reason for r in records if isinstance(r, Rejected))


def test_corpus_present():
    if not CORPUS_FILES:
        pytest.skip("shared corpus not found: ../shared/corpus/ics")
    assert len(CORPUS_FILES) > 50


# ---------------------------------------------------------------------------------------------
# Found by fuzzing (tests/fuzz): what used to raise or vanish

def _calendar(*events: str) -> list:
    text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + "".join(events) + "END:VCALENDAR\r\n"
    return list(read_calendar_text(text, calendar=None, item=None, window_end=WINDOW_END))


def _override(uid: str, rid: str, *extra: str) -> str:
    return ("BEGIN:VEVENT\r\n" f"UID:{uid}\r\nDTSTART:{rid}\r\nRECURRENCE-ID:{rid}\r\n"
            + "".join(f"{line}\r\n" for line in extra) + "END:VEVENT\r\n")


def test_an_attendee_line_cut_after_its_parameters_is_ignored_with_a_warning():
    (record,) = _calendar("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260105T090000Z\r\n"
                          "ATTENDEE;CN=Bob;\r\nATTENDEE:mailto:carol@example.com\r\nEND:VEVENT\r\n")
    assert ([a.email for a in record.attendees], record.warnings[0][:38]) == (
        ["carol@example.com"], "ignored an unreadable line: Content li")


def test_recurrence_id_written_twice_counts_once():
    (record,) = _calendar(_override("b", "20260105T090000Z",
                                    "RECURRENCE-ID:20260105T090000Z"))
    assert (record.uid, record.occurrence_id) == ("b", "2026-01-05T09:00:00Z")


def test_a_second_override_of_the_same_occurrence_is_a_reject_not_a_silent_loss():
    records = _calendar(_override("c", "20260105T090000Z"), _override("c", "20260105T090000Z"))
    assert [(type(r).__name__, r.position) for r in records] == [
        ("Rejected", 8), ("EventOccurrence", 3)]
    assert records[0].reason == ("a second VEVENT for the occurrence 2026-01-05T09:00:00Z of "
                                 "UID c")


def test_one_series_whose_uid_is_folded_and_escaped_differently_in_its_vevents():
    # Series are grouped by the UID as written before any is parsed: the master's UID is
    # folded and escapes its comma, the override's is written on one line as it reads.
    master = ("BEGIN:VEVENT\r\nUID:weekly\\,team@exa\r\n mple.com\r\n"
              "DTSTART:20260105T090000Z\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\n")
    records = _calendar(master, _override("weekly,team@example.com", "20260112T090000Z",
                                          "SEQUENCE:4"))
    assert [(r.uid, r.occurrence_id, r.position) for r in records] == [
        ("weekly,team@example.com", "2026-01-05T09:00:00Z", 3),
        ("weekly,team@example.com", "2026-01-12T09:00:00Z", 9),
        ("weekly,team@example.com", "2026-01-19T09:00:00Z", 3)]


def test_a_bare_cr_ends_a_line_even_in_a_file_that_mostly_uses_lf():
    (record,) = _calendar("BEGIN:VEVENT\rUID:d\nDTSTART:20260105T090000Z\r\nEND:VEVENT\n")
    assert record.uid == "d"


def test_a_utf32_calendar_is_read():
    text = ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:e\r\nDTSTART:20260105T090000Z\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n")
    (record,) = read_calendar_text(text.encode("utf-32"), calendar=None, item=None,
                                   window_end=WINDOW_END)
    assert record.uid == "e"
