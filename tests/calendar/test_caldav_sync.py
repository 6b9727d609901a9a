"""CalDAV sync against a real Radicale on 127.0.0.1 (see conftest.py for the seeded calendar)."""

import dataclasses
import json
import xml.etree.ElementTree as ET

import duckdb
import pytest
import requests

from kith.connectors.caldav import (CalDavAccount, CalDavAuthError, CalDavConnectionError,
                               calendar_uri, discover, open_session)
from kith.flows.calendar_sync import sync_caldav
from tests.servers.radicale import make_event
from kith.transforms.runner import build
from kith.warehouse.connection import connect as connect_warehouse

STANDUP = [f"ev:standup:2026-01-{d:02d}T09:00:00Z" for d in (5, 12, 19, 26)]
LUNCH = "ev:lunch:2026-01-10T12:00:00Z"
REVIEW = "ev:review:2026-01-12T15:00:00Z"


@pytest.fixture
def fetched(monkeypatch) -> list[str]:
    """The hrefs asked for by every calendar-multiget, in order."""
    hrefs: list[str] = []
    original = requests.Session.request

    def recording(self, method, url, *args, **kwargs):
        data = kwargs.get("data")
        if method == "REPORT" and data and b"calendar-multiget" in data:
            root = ET.fromstring(data)
            hrefs.extend(h.text for h in root.iter("{DAV:}href"))
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", recording)
    return hrefs


def sync(db_path, account, **kwargs):
    return sync_caldav(db_path, account, backoff=(0,), **kwargs)


def query(db_path, sql, params=()):
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def current(db_path, columns="record_key"):
    """Rows of stg_calendar__occurrences (the occurrences each resource holds now)."""
    con = connect_warehouse(db_path)
    try:
        build(con)
        return con.execute(f"select {columns} from stg_calendar__occurrences "
                           "order by record_key").fetchall()
    finally:
        con.close()


def cursor(db_path, url):
    rows = query(db_path, "select cursor from sync_state where source_uri = ?", [url])
    return json.loads(rows[0][0]) if rows else None


# -- discovery ----------------------------------------------------------------------------------

def test_discover_from_server_url_finds_the_event_calendar_by_display_name(account, radicale):
    with open_session(account) as session:
        calendars = discover(session, account)
    assert [(c.name, c.url) for c in calendars] == [("Work", radicale.calendar_url("work"))]


def test_discover_from_the_calendar_home_url(account, radicale):
    home = dataclasses.replace(account, url=radicale.home_url)
    with open_session(home) as session:
        assert [c.name for c in discover(session, home)] == ["Work"]


def test_discover_leaves_out_excluded_calendars(account, radicale):
    radicale.create_calendar("holidays", "Holidays")
    some = dataclasses.replace(account, exclude_calendars=("holi*",))
    with open_session(some) as session:
        assert [c.name for c in discover(session, some)] == ["Work"]


def test_discover_with_include_reads_only_the_named_calendars(account, radicale):
    radicale.create_calendar("holidays", "Holidays")
    some = dataclasses.replace(account, include_calendars=("holidays",))
    with open_session(some) as session:
        assert [c.name for c in discover(session, some)] == ["Holidays"]


# -- first sync ---------------------------------------------------------------------------------

def test_first_sync_loads_every_occurrence(db_path, account):
    sync(db_path, account)
    assert current(db_path) == sorted([(k,) for k in STANDUP + [LUNCH, REVIEW]])


def test_first_sync_records_calendar_name_and_resource_href(db_path, account):
    sync(db_path, account)
    assert current(db_path, "distinct calendar, item") == [
        ("Work", "/kith/work/lunch.ics"), ("Work", "/kith/work/review.ics"),
        ("Work", "/kith/work/standup.ics")]


def test_first_sync_is_one_completed_caldav_load_per_calendar(db_path, account, radicale):
    results = sync(db_path, account)
    assert [(r.source_kind, r.source_uri, r.status, r.n_new) for r in results] == [
        ("caldav", radicale.calendar_url("work"), "completed", 6)]


def test_first_sync_stores_sync_token_and_etags(db_path, account, radicale):
    sync(db_path, account)
    state = cursor(db_path, radicale.calendar_url("work"))
    assert state["sync_token"].startswith("http://radicale.org/ns/sync/")
    assert sorted(state["etags"]) == ["/kith/work/lunch.ics", "/kith/work/review.ics",
                                      "/kith/work/standup.ics"]


def test_first_sync_fetches_every_resource_once(db_path, account, fetched):
    sync(db_path, account)
    assert sorted(fetched) == ["/kith/work/lunch.ics", "/kith/work/review.ics",
                               "/kith/work/standup.ics"]


# -- second sync --------------------------------------------------------------------------------

def change_move_and_delete(radicale):
    """Lunch gains Dave; the stand-up of 12 January moves to 10:00; the review is deleted."""
    radicale.put_event("work", "lunch.ics", make_event(
        "lunch", "20260110T120000Z", end="20260110T130000Z", organizer="owner@example.org",
        attendees=("owner@example.org", "carol@example.com", "dave@example.com"), sequence=1))
    radicale.put_event("work", "standup.ics", make_event(
        "standup", "20260105T090000Z", end="20260105T093000Z", rrule="FREQ=WEEKLY;COUNT=4",
        organizer="owner@example.org", attendees=("owner@example.org", "bob@example.com"),
        overrides=("RECURRENCE-ID:20260112T090000Z\nDTSTART:20260112T100000Z\n"
                   "DTEND:20260112T103000Z\nSUMMARY:Stand-up (moved)\nSEQUENCE:1\n"
                   "ORGANIZER:mailto:owner@example.org\n"
                   "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.com",)))
    radicale.delete_event("work", "review.ics")


def test_second_sync_without_changes_fetches_nothing(db_path, account, fetched):
    sync(db_path, account)
    fetched.clear()
    results = sync(db_path, account)
    assert (fetched, [r.n_read for r in results]) == ([], [0])


def test_second_sync_fetches_only_the_changed_resources(db_path, account, radicale, fetched):
    sync(db_path, account)
    change_move_and_delete(radicale)
    fetched.clear()
    sync(db_path, account)
    assert sorted(fetched) == ["/kith/work/lunch.ics", "/kith/work/standup.ics"]


def test_deleted_event_is_no_longer_current(db_path, account, radicale):
    sync(db_path, account)
    change_move_and_delete(radicale)
    sync(db_path, account)
    assert current(db_path) == sorted([(k,) for k in STANDUP + [LUNCH]])


def test_changed_event_replaces_its_occurrence(db_path, account, radicale):
    sync(db_path, account)
    change_move_and_delete(radicale)
    sync(db_path, account)
    rows = current(db_path, "record_key, sequence, "
                            "list_sort([a.normalized for a in attendees])")
    assert [r for r in rows if r[0] == LUNCH] == [
        (LUNCH, 1, ["carol@example.com", "dave@example.com", "owner@example.org"])]


def test_moved_occurrence_keeps_its_key_and_takes_the_new_start(db_path, account, radicale):
    sync(db_path, account)
    change_move_and_delete(radicale)
    sync(db_path, account)
    rows = current(db_path, "record_key, strftime(start_at at time zone 'UTC', '%d %H:%M')")
    assert [r for r in rows if r[0].startswith("ev:standup:")] == [
        (STANDUP[0], "05 09:00"), (STANDUP[1], "12 10:00"), (STANDUP[2], "19 09:00"),
        (STANDUP[3], "26 09:00")]


def test_second_sync_drops_the_deleted_href_from_the_cursor(db_path, account, radicale):
    sync(db_path, account)
    first = cursor(db_path, radicale.calendar_url("work"))
    change_move_and_delete(radicale)
    sync(db_path, account)
    second = cursor(db_path, radicale.calendar_url("work"))
    assert (sorted(second["etags"]), second["sync_token"] != first["sync_token"]) == (
        ["/kith/work/lunch.ics", "/kith/work/standup.ics"], True)


# -- fallbacks ----------------------------------------------------------------------------------

def spoil_sync_token(db_path, url):
    with duckdb.connect(str(db_path)) as con:
        state = json.loads(con.execute("select cursor from sync_state where source_uri = ?",
                                       [url]).fetchone()[0])
        state["sync_token"] = "http://radicale.org/ns/sync/" + "0" * 64
        con.execute("update sync_state set cursor = ? where source_uri = ?",
                    [json.dumps(state), url])


def test_refused_sync_token_falls_back_to_etags_and_fetches_only_changes(
        db_path, account, radicale, fetched):
    sync(db_path, account)
    spoil_sync_token(db_path, radicale.calendar_url("work"))
    change_move_and_delete(radicale)
    fetched.clear()
    sync(db_path, account)
    assert (sorted(fetched), current(db_path)) == (
        ["/kith/work/lunch.ics", "/kith/work/standup.ics"],
        sorted([(k,) for k in STANDUP + [LUNCH]]))


# A server without sync-collection: tests/dav (a real proxy that refuses the report).


def test_resource_that_no_longer_holds_an_event_is_removed(db_path, account, radicale):
    sync(db_path, account)
    radicale.put_event("work", "review.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                       "PRODID:-//kith//tests//EN\r\nBEGIN:VTODO\r\nUID:review\r\n"
                       "DTSTAMP:20260101T000000Z\r\nSUMMARY:Review\r\nEND:VTODO\r\n"
                       "END:VCALENDAR\r\n")
    sync(db_path, account)
    assert current(db_path) == sorted([(k,) for k in STANDUP + [LUNCH]])


# -- errors -------------------------------------------------------------------------------------

def test_wrong_password_raises_auth_error_naming_user_and_host(db_path, account, radicale,
                                                                monkeypatch):
    monkeypatch.setenv("KITH_TEST_CALDAV_PASSWORD", "not the password")
    with pytest.raises(CalDavAuthError) as info:
        sync(db_path, account)
    assert (str(info.value), db_path.exists()) == (
        f"CalDAV login refused for kith@127.0.0.1:{radicale.port} (HTTP 401)", False)


def test_auth_error_does_not_carry_the_password(db_path, account, monkeypatch):
    monkeypatch.setenv("KITH_TEST_CALDAV_PASSWORD", "hunter2-secret")
    with pytest.raises(CalDavAuthError) as info:
        sync(db_path, account)
    assert "hunter2" not in repr(info.value) + str(info.value.__cause__) + \
        str(info.value.__context__)


def test_missing_password_names_the_variable(db_path, account, monkeypatch):
    monkeypatch.delenv("KITH_TEST_CALDAV_PASSWORD")
    with pytest.raises(CalDavAuthError, match="KITH_TEST_CALDAV_PASSWORD is not set"):
        sync(db_path, account)


def test_unreachable_server_raises_connection_error_after_retries(db_path, account, monkeypatch):
    from tests.servers.radicale import free_port
    gone = dataclasses.replace(account, url=f"http://127.0.0.1:{free_port()}", timeout_s=2)
    calls = []
    monkeypatch.setattr("kith.flows.dav_sync._wait", lambda backoff, attempt: calls.append(attempt))
    with pytest.raises(CalDavConnectionError, match="cannot reach CalDAV server for kith@"):
        sync(db_path, gone, retries=2)
    assert (calls, db_path.exists()) == ([0, 1], False)


def test_plain_http_to_another_host_is_refused():
    with pytest.raises(ValueError, match="only allowed to 127.0.0.1"):
        CalDavAccount(url="http://cal.example.com", user="me", password_env="X")


def test_calendar_uri_has_no_credentials(account, radicale):
    with open_session(account) as session:
        [calendar] = discover(session, account)
    assert calendar_uri(calendar) == radicale.calendar_url("work")
