from datetime import datetime, timedelta, timezone

import pytest

from kith.records import Attendee, Deleted, EventOccurrence
from kith.transforms.runner import build
from kith.warehouse.connection import connect
from kith.warehouse.loader import load_records

ME = "me@home.example"
PAST = datetime(2026, 10, 5, 9, tzinfo=timezone.utc)
FILE = "file:///work.ics"


def person(email, partstat=None, cutype=None, name=None):
    return Attendee(email, email.lower(), name, partstat, None, cutype)


def occurrence(uid, start, attendees=(), organizer=None, item=None, status=None,
               occurrence_id=None):
    return EventOccurrence(
        position=1, raw_text="", calendar="Work", item=item, uid=uid,
        occurrence_id=occurrence_id or start.strftime("%Y-%m-%dT%H:%M:%SZ"), start_at=start,
        end_at=start + timedelta(hours=1), status=status, organizer=organizer,
        attendees=list(attendees))


WEEKLY = [occurrence("weekly", PAST + timedelta(days=7 * i),
                     [person(ME, "ACCEPTED"), person("ann@acme.example", "ACCEPTED")],
                     organizer=person(ME)) for i in range(3)]


@pytest.fixture
def con(db_path):
    con = connect(db_path)
    con.execute("insert into owner_addresses values (?, now())", [ME])
    yield con
    con.close()


def events(con, where="true"):
    build(con)
    return con.execute(f"select occurrence_id, start_at from stg_calendar__events where {where} "
                       "order by occurrence_id").fetchall()


def test_moved_occurrence_keeps_its_identity_and_shows_its_new_start(con):
    load_records(con, "ics", FILE, WEEKLY)
    moved = occurrence("weekly", PAST + timedelta(days=8), WEEKLY[1].attendees,
                       organizer=person(ME), occurrence_id=WEEKLY[1].occurrence_id)
    load_records(con, "ics", FILE, [WEEKLY[0], moved, WEEKLY[2]])
    assert events(con)[1] == (WEEKLY[1].occurrence_id, PAST + timedelta(days=8))
    assert len(events(con)) == 3


def test_occurrence_dropped_from_the_file_is_no_longer_current(con):
    load_records(con, "ics", FILE, WEEKLY)
    load_records(con, "ics", FILE, [WEEKLY[0], WEEKLY[2]])
    assert [row[0] for row in events(con)] == [WEEKLY[0].occurrence_id, WEEKLY[2].occurrence_id]


def test_file_that_now_holds_no_events_has_none_current(con):
    load_records(con, "ics", FILE, WEEKLY)
    load_records(con, "ics", FILE, [])
    assert events(con) == []


def test_resource_deleted_on_the_server_removes_its_occurrences(con):
    url = "http://dav.example/cal/work/"
    load_records(con, "caldav", url, [occurrence("a", PAST, item="/a.ics"),
                                      occurrence("b", PAST, item="/b.ics")])
    load_records(con, "caldav", url, [Deleted("/a.ics")])
    build(con)
    assert con.execute("select uid from stg_calendar__events").fetchall() == [("b",)]


def test_meeting_facts(con):
    load_records(con, "ics", FILE, [occurrence("m", PAST, [
        person(ME, "ACCEPTED"), person("ann@acme.example", "ACCEPTED"),
        person("Room 4@acme.example", "ACCEPTED", "ROOM")], organizer=person("ann@acme.example"))])
    build(con)
    assert con.execute("select n_people, n_other_people, is_owner_organizer, owner_partstat, "
                       "has_happened from stg_calendar__events").fetchone() == (
        2, 1, False, "ACCEPTED", True)


@pytest.mark.parametrize("status, partstat, start", [
    ("CANCELLED", "ACCEPTED", PAST),
    (None, "DECLINED", PAST),
    (None, "ACCEPTED", datetime.now(timezone.utc) + timedelta(days=3)),
])
def test_cancelled_declined_or_future_meetings_have_not_happened(con, status, partstat, start):
    load_records(con, "ics", FILE, [occurrence("m", start, [person(ME, partstat)],
                                               status=status)])
    build(con)
    assert con.execute("select has_happened from stg_calendar__events").fetchone() == (False,)


def test_owner_organising_counts_as_accepted(con):
    load_records(con, "ics", FILE, [occurrence("m", PAST, [person("ann@acme.example")],
                                               organizer=person(ME))])
    build(con)
    assert con.execute("select is_owner_organizer, owner_partstat from stg_calendar__events"
                       ).fetchone() == (True, "ACCEPTED")


def test_an_address_written_as_the_name_is_no_name(con):
    # Google Calendar writes CN=<address> for a guest it knows no name for
    load_records(con, "ics", FILE, [occurrence("m", PAST, [
        person(ME, "ACCEPTED"), person("ann@acme.example", "ACCEPTED", name="ann@acme.example"),
        person("bo@acme.example", "ACCEPTED", name="Bo Lind")], organizer=person(ME))])
    build(con)
    assert con.execute("select email, display_name from stg_calendar__attendees "
                       "where not is_owner order by email").fetchall() == [
        ("ann@acme.example", None), ("bo@acme.example", "Bo Lind")]
