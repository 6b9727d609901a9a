"""CalDAV test fixtures on the shared Radicale server (`radicale_server` in tests/conftest.py)."""

import pytest

from kith.connectors.caldav import CalDavAccount
from tests.servers.radicale import RadicaleServer, make_event

PASSWORD_ENV = "KITH_TEST_CALDAV_PASSWORD"

# What every test starts from, in the calendar "work" (display name "Work"): a weekly stand-up
# (4 occurrences) with Bob, a lunch with Carol, a review alone. "todo" holds tasks only and is
# not a calendar of events.
SEEDED = {
    "standup.ics": make_event("standup", "20260105T090000Z", end="20260105T093000Z",
                              rrule="FREQ=WEEKLY;COUNT=4", organizer="owner@example.org",
                              attendees=("owner@example.org", "bob@example.com")),
    "lunch.ics": make_event("lunch", "20260110T120000Z", end="20260110T130000Z",
                            organizer="owner@example.org",
                            attendees=("owner@example.org", "carol@example.com")),
    "review.ics": make_event("review", "20260112T150000Z", end="20260112T160000Z"),
}


@pytest.fixture
def radicale(radicale_server) -> RadicaleServer:
    """The server with a fresh calendar "work" holding SEEDED and a task list "todo"."""
    radicale_server.start()
    radicale_server.clear()
    radicale_server.create_calendar("work", "Work")
    radicale_server.create_calendar("todo", "To do", components=("VTODO",))
    with radicale_server.session() as s:
        for name, ics in SEEDED.items():
            radicale_server.put_event("work", name, ics, session=s)
    return radicale_server


@pytest.fixture
def account(radicale, monkeypatch) -> CalDavAccount:
    monkeypatch.setenv(PASSWORD_ENV, radicale.password)
    return CalDavAccount(url=radicale.url, user=radicale.user, password_env=PASSWORD_ENV,
                         timeout_s=10, batch_size=2)
