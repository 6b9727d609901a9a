"""Benchmark: `sync_caldav` of a 5,000-event calendar on a local Radicale.

Starts Radicale on 127.0.0.1 (tests/servers/radicale.py) and PUTs the events into one calendar
with a single PUT of the whole VCALENDAR on the collection (Radicale splits it into one resource
per UID; 5,000 single PUTs took 7 minutes). Every tenth event is a weekly series of 10. Times:
  1. the first `sync_caldav` into an empty warehouse (sync-collection, multiget, parse, load),
  2. a second `sync_caldav` with nothing changed (one sync-collection; nothing fetched),
  3. a third after 50 events were changed and 50 deleted,
  4. a no-change sync without sync-collection (ctag unchanged: nothing listed or fetched).

    python bench/caldav_sync.py [--events 5000] [--batch-size 100] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

import kith.connectors.caldav  # noqa: E402
from kith.connectors.caldav import CalDavAccount  # noqa: E402
from kith.flows.calendar_sync import sync_caldav  # noqa: E402
from tests.servers.radicale import RadicaleServer, make_event  # noqa: E402

PEOPLE = ["maya.okafor", "daniel.reyes", "priya.natarajan", "tom.becker", "lena.fischer",
          "sam.whitaker", "grace.lin", "oscar.haddad", "mei.tanaka", "kwame.silva"]
OWNER = "owner@example.org"


def event(i: int, rng: random.Random, sequence: int = 0) -> str:
    start = datetime(2025, 1, 6, 8, tzinfo=timezone.utc) + timedelta(hours=7 * i)
    end = start + timedelta(minutes=30 + 30 * (i % 3))
    people = rng.sample(PEOPLE, 1 + i % 4)
    return make_event(f"bench-{i}@kith.test", start.strftime("%Y%m%dT%H%M%SZ"),
                      end=end.strftime("%Y%m%dT%H%M%SZ"),
                      rrule="FREQ=WEEKLY;COUNT=10" if i % 10 == 0 else None,
                      organizer=OWNER, sequence=sequence,
                      attendees=(OWNER, *(f"{p}@example.com" for p in people)))


def seed(server: RadicaleServer, n: int) -> None:
    rng = random.Random(n)
    server.upload_calendar("work", [event(i, rng) for i in range(n)], "Work")


def href(i: int) -> str:
    """The resource name Radicale gave event i: its UID, '@' percent-encoded, + '.ics'."""
    return f"bench-{i}%40kith.test.ics"


class _Counting:
    """Counts the hrefs asked for by calendar-multiget."""

    def __init__(self):
        self.n = 0
        self._original = requests.Session.request

    def __enter__(self):
        counter, original = self, self._original

        def request(session, method, url, *args, **kwargs):
            data = kwargs.get("data") or b""
            if method == "REPORT" and b"calendar-multiget" in data:
                counter.n += data.count(b"<D:href>")
            return original(session, method, url, *args, **kwargs)

        requests.Session.request = request
        return self

    def __exit__(self, *exc):
        requests.Session.request = self._original


def timed_sync(db, account) -> tuple[int, int, int, float]:
    """(records read, occurrences new or updated, hrefs fetched, seconds)"""
    with _Counting() as counting:
        t0 = time.perf_counter()
        results = sync_caldav(db, account, backoff=(0,))
        t = time.perf_counter() - t0
    return (sum(r.n_read for r in results), sum(r.n_inserted for r in results), counting.n, t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the server files and warehouse")
    args = parser.parse_args()

    server = RadicaleServer.create()
    work = Path(tempfile.mkdtemp(prefix="kith-bench-caldav-"))
    try:
        server.start()
        t0 = time.perf_counter()
        seed(server, args.events)
        t_seed = time.perf_counter() - t0
        os.environ["KITH_BENCH_CALDAV_PASSWORD"] = server.password
        account = CalDavAccount(url=server.url, user=server.user,
                                password_env="KITH_BENCH_CALDAV_PASSWORD",
                                batch_size=args.batch_size)
        db = work / "kith.duckdb"
        rows = [("first sync", *timed_sync(db, account)),
                ("no change", *timed_sync(db, account))]
        rng = random.Random(0)
        for i in range(1, 100, 2):
            server.put_event("work", href(i), event(i, rng, sequence=1))
        for i in range(2, 102, 2):
            server.delete_event("work", href(i))
        rows.append(("50 changed, 50 deleted", *timed_sync(db, account)))

        def refuse(*_args):
            raise kith.connectors.caldav._TokenRefused("benchmark: no sync-collection")

        kith.connectors.caldav._sync_collection = refuse
        rows.append(("no change, etag fallback", *timed_sync(db, account)))

        print(f"{args.events:,} events PUT in {t_seed:.1f}s, one calendar "
              f"({args.events // 10:,} weekly series of 10); multiget batch {args.batch_size}")
        print(f"{'step':<26} {'records':>8} {'stored':>7} {'fetched':>8} {'seconds':>8}")
        for name, n_read, n_stored, n_fetched, t in rows:
            print(f"{name:<26} {n_read:>8,} {n_stored:>7,} {n_fetched:>8,} {t:>8.2f}")
        if args.keep:
            print(f"kept: Radicale files {server.root}, warehouse {db}")
    finally:
        if args.keep:
            server.stop()
        else:
            server.cleanup()
            for p in work.iterdir():
                p.unlink()
            work.rmdir()


if __name__ == "__main__":
    main()
