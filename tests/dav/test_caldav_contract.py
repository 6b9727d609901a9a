"""The CalDAV contract: every test runs on each real server fixture (see conftest.py)."""

import dataclasses
import json
from urllib.parse import urlsplit

import duckdb
import pytest

from kith.connectors.caldav import (CalDavAccount, CalDavAuthError, CalDavError, discover,
                                    open_session)
from kith.flows.calendar_sync import sync_caldav
from kith.transforms.runner import build
from kith.warehouse.connection import connect as connect_warehouse
from tests.dav.conftest import PASSWORD_ENV, query, spoil
from tests.servers.etag_only import EtagOnlyProxy
from tests.servers.radicale import make_event

STANDUP = [f"ev:standup:2026-01-{d:02d}T09:00:00Z" for d in (5, 12, 19, 26)]
LUNCH = "ev:lunch:2026-01-10T12:00:00Z"
REVIEW = "ev:review:2026-01-12T15:00:00Z"
SEEDED = {
    "standup.ics": make_event("standup", "20260105T090000Z", end="20260105T093000Z",
                              rrule="FREQ=WEEKLY;COUNT=4", organizer="owner@example.org",
                              attendees=("owner@example.org", "bob@example.com")),
    "lunch.ics": make_event("lunch", "20260110T120000Z", end="20260110T130000Z",
                            attendees=("owner@example.org", "carol@example.com")),
    "review.ics": make_event("review", "20260112T150000Z", end="20260112T160000Z"),
}
ALL = sorted(STANDUP + [LUNCH, REVIEW])


@pytest.fixture
def work(server) -> str:
    """The calendar "work" (display name "Work") holding SEEDED; a task list "todo" beside it.
    Returns the calendar's URL."""
    url = server.create_calendar("work", "Work")
    server.create_calendar("todo", "To do", components=("VTODO",))
    with server.session() as s:
        for name, ics in SEEDED.items():
            server.put_event("work", name, ics, session=s)
    return url


@pytest.fixture
def account(server, monkeypatch) -> CalDavAccount:
    monkeypatch.setenv(PASSWORD_ENV, server.password)
    return CalDavAccount(url=server.url, user=server.user, password_env=PASSWORD_ENV,
                         timeout_s=10, batch_size=2)


def sync(db_path, account, **kwargs):
    return sync_caldav(db_path, account, backoff=(0,), **kwargs)


def current(db_path) -> list[str]:
    """The occurrence keys each resource holds now (stg_calendar__occurrences)."""
    con = connect_warehouse(db_path)
    try:
        build(con)
        return [k for (k,) in con.execute("select record_key from stg_calendar__occurrences "
                                          "order by record_key").fetchall()]
    finally:
        con.close()


def href(calendar_url: str, name: str) -> str:
    return urlsplit(calendar_url).path + name


# -- discovery ----------------------------------------------------------------------------------

def test_discovery_from_the_server_root_finds_the_event_calendar(account, work):
    with open_session(account) as session:
        assert [(c.name, c.url) for c in discover(session, account)] == [("Work", work)]


def test_discovery_from_a_calendar_url_finds_it(account, work):
    from_calendar = dataclasses.replace(account, url=work)
    with open_session(from_calendar) as session:
        assert [c.url for c in discover(session, from_calendar)] == [work]


# -- syncing ------------------------------------------------------------------------------------

def test_first_sync_loads_every_occurrence(db_path, account, work):
    results = sync(db_path, account)
    assert ([(r.source_uri, r.status, r.n_new) for r in results], current(db_path)) == (
        [(work, "completed", 6)], ALL)


def test_sync_without_changes_reads_nothing(db_path, account, work, reports):
    sync(db_path, account)
    reports["multiget"].clear()
    results = sync(db_path, account)
    assert (reports["multiget"], [r.n_read for r in results]) == ([], [0])


def test_added_changed_and_deleted_events_are_seen(db_path, account, server, work, reports):
    sync(db_path, account)
    server.put_event("work", "dinner.ics", make_event("dinner", "20260115T190000Z"))
    server.put_event("work", "lunch.ics", make_event("lunch", "20260111T120000Z", sequence=1))
    server.delete_event("work", "review.ics")
    reports["multiget"].clear()
    sync(db_path, account)
    assert (sorted(h for batch in reports["multiget"] for h in batch), current(db_path)) == (
        [href(work, "dinner.ics"), href(work, "lunch.ics")],
        sorted(STANDUP + ["ev:dinner:2026-01-15T19:00:00Z", "ev:lunch:2026-01-11T12:00:00Z"]))


def test_expired_sync_token_falls_back_to_etags(db_path, account, server, work, reports):
    sync(db_path, account)
    with duckdb.connect(str(db_path)) as con:
        state = json.loads(con.execute("select cursor from sync_state").fetchone()[0])
        state["sync_token"] = spoil(state["sync_token"])
        con.execute("update sync_state set cursor = ?", [json.dumps(state)])
    server.delete_event("work", "review.ics")
    server.put_event("work", "lunch.ics", make_event("lunch", "20260111T120000Z", sequence=1))
    reports["multiget"].clear()
    sync(db_path, account)
    assert ([h for batch in reports["multiget"] for h in batch], current(db_path)) == (
        [href(work, "lunch.ics")], sorted(STANDUP + ["ev:lunch:2026-01-11T12:00:00Z"]))


def test_server_without_sync_collection_is_read_by_etags(db_path, account, server, work,
                                                         reports):
    with EtagOnlyProxy(server.url) as proxy:
        etag_only = dataclasses.replace(account, url=proxy.url)
        sync(db_path, etag_only)
        server.delete_event("work", "review.ics")
        server.put_event("work", "lunch.ics", make_event("lunch", "20260111T120000Z"))
        reports["multiget"].clear()
        sync(db_path, etag_only)
    assert (proxy.refused, [h for batch in reports["multiget"] for h in batch],
            current(db_path)) == (2, [href(work, "lunch.ics")],
                                  sorted(STANDUP + ["ev:lunch:2026-01-11T12:00:00Z"]))


def test_server_without_sync_collection_and_no_change_reads_nothing(db_path, account, server,
                                                                  work, reports):
    with EtagOnlyProxy(server.url) as proxy:
        etag_only = dataclasses.replace(account, url=proxy.url)
        sync(db_path, etag_only)
        reports["multiget"].clear()
        results = sync(db_path, etag_only)
    assert (proxy.refused, reports["multiget"], [r.n_read for r in results]) == (2, [], [0])


def test_huge_calendar_is_fetched_in_batches(db_path, account, server, reports):
    server.create_calendar("big", "Big")
    with server.session() as s:
        for i in range(40):
            server.put_event("big", f"e{i:02d}.ics",
                             make_event(f"e{i:02d}", f"202602{1 + i % 28:02d}T{8 + i % 10:02d}0000Z"),
                             session=s)
    results = sync(db_path, dataclasses.replace(account, batch_size=7))
    assert ([len(batch) for batch in reports["multiget"]], [r.n_new for r in results]) == (
        [7, 7, 7, 7, 7, 5], [40])


# -- resources the server cannot serve ------------------------------------------------------------

@pytest.mark.needs("unservable-resource")
def test_event_the_server_cannot_serve_is_a_reject_and_the_rest_loads(db_path, account, server,
                                                                      work):
    server.store_unservable(work, "broken.ics", make_event("broken", "20260120T100000Z"))
    results = sync(db_path, account)
    assert ([(r.status, r.n_new, r.n_unserved) for r in results], current(db_path),
            query(db_path, "select item, reason from rejects")) == (
        [("partial", 6, 1)], ALL,
        [(href(work, "broken.ics"), "the server could not serve this resource: HTTP 500")])


@pytest.mark.needs("unservable-resource")
def test_batch_that_fails_is_split_and_only_the_bad_event_is_rejected(db_path, account, server,
                                                                      work, reports):
    # Stored in Latin-1: Xandikos fails (HTTP 500) on every multiget holding it, and on its GET.
    server.store_latin1(work, "café.ics", make_event("cafe", "20260121T080000Z",
                                                     summary="Café crème"))
    cafe, lunch = href(work, "caf%C3%A9.ics"), href(work, "lunch.ics")
    results = sync(db_path, account)
    assert ([(r.status, r.n_new) for r in results], current(db_path), reports["multiget"][:3],
            reports["get"], query(db_path, "select item, reason from rejects")) == (
        [("partial", 6)], ALL, [[cafe, lunch], [cafe], [lunch]], [cafe],
        [(href(work, "café.ics"), "the server could not serve this resource: HTTP 500")])


@pytest.mark.needs("unservable-resource")
def test_unserved_event_is_asked_for_again_and_loads_once_repaired(db_path, account, server,
                                                                   work):
    broken = server.store_unservable(work, "broken.ics",
                                     make_event("broken", "20260120T100000Z"))
    sync(db_path, account)
    server.repair(work, "broken.ics", broken)    # same etag: no listing names it as changed
    results = sync(db_path, account)
    assert ([(r.status, r.n_new) for r in results], "ev:broken:2026-01-20T10:00:00Z" in
            current(db_path)) == ([("completed", 1)], True)


@pytest.mark.needs("unservable-resource")
def test_calendar_the_server_serves_nothing_of_fails_in_one_sentence(db_path, account, server):
    url = server.create_calendar("lost", "Lost")
    server.store_unservable(url, "a.ics", make_event("a", "20260120T100000Z"))
    server.store_unservable(url, "b.ics", make_event("b", "20260121T100000Z"))
    with pytest.raises(CalDavError) as info:
        sync(db_path, account)
    assert (str(info.value), query(db_path, "select status from loads")) == (
        f"the server could not serve any of the 2 resources of {url}; see the rejects of this "
        "source for its answers", [("failed",)])


# -- errors -------------------------------------------------------------------------------------

@pytest.mark.needs("auth")
def test_wrong_password_is_refused_without_showing_it(db_path, account, server, work,
                                                      monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "hunter2-not-the-password")
    with pytest.raises(CalDavAuthError) as info:
        sync(db_path, account)
    assert (str(info.value), db_path.exists()) == (
        f"CalDAV login refused for {server.user}@127.0.0.1:{server.port} (HTTP 401)", False)
