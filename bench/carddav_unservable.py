"""Benchmark: what one bad resource costs a CardDAV sync, on a local Xandikos.

Starts Xandikos on 127.0.0.1 (tests/servers/xandikos.py) with an address book of N cards (one
PUT each) and times a first `sync_carddav` into an empty warehouse, with the requests it made:
  1. every card good (the baseline),
  2. with K cards stored in Latin-1: Xandikos fails (HTTP 500) on every multiget holding one,
     so each such batch is split in halves down to the bad card, which is then read by GET,
  3. with K cards whose content is lost from the store: the multiget answers them without
     data, and their GET fails; each becomes a reject and the load is `partial`.

    python bench/carddav_unservable.py [--cards 1000] [--bad 5] [--batch-size 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from kith.connectors.carddav import CardDavAccount  # noqa: E402
from kith.flows.contacts_sync import sync_carddav  # noqa: E402
from tests.servers.radicale import make_card  # noqa: E402
from tests.servers.xandikos import XandikosServer  # noqa: E402

PASSWORD_ENV = "KITH_BENCH_CARDDAV_PASSWORD"
requests_made: Counter = Counter()


def count_requests() -> None:
    """Count kith's requests by kind; every request still goes to the server."""
    original = requests.Session.request

    def counting(self, method, url, *args, **kwargs):
        data = kwargs.get("data")
        requests_made["multiget" if method == "REPORT" and data and b"multiget" in data
                      else method] += 1
        return original(self, method, url, *args, **kwargs)

    requests.Session.request = counting


def run(server: XandikosServer, n: int, bad: int, how: str, batch_size: int) -> str:
    server.clear()
    url = server.create_addressbook("book")
    with server.session() as s:
        for i in range(n):
            server.put_card("book", f"c{i:05d}.vcf", make_card(f"c{i:05d}", f"Person {i:05d}"),
                            session=s)
    for j in range(bad if how != "good" else 0):
        card = make_card(f"bad{j}", f"Zoë Müller {j}")
        if how == "latin-1":
            server.store_latin1(url, f"bad{j}.vcf", card)
        else:
            server.store_unservable(url, f"bad{j}.vcf", card)
    account = CardDavAccount(url=server.url, user=server.user, password_env=PASSWORD_ENV,
                             batch_size=batch_size)
    db = Path(tempfile.mkdtemp(prefix="kith-bench-")) / "kith.duckdb"
    requests_made.clear()
    started = time.perf_counter()
    [load] = sync_carddav(db, account, backoff=(0,))
    seconds = time.perf_counter() - started
    return (f"| {how:<9} | {seconds:6.2f} | {load.status:<9} | {load.n_new:>6,} | "
            f"{load.n_unserved:>8} | {requests_made['multiget']:>9} | {requests_made['GET']:>4} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--bad", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    os.environ[PASSWORD_ENV] = "xandikos does no authentication"
    count_requests()
    server = XandikosServer.create()
    server.start()
    try:
        print(f"{args.cards:,} cards, {args.bad} bad, batches of {args.batch_size}")
        print("| bad cards | sync s | status    |    new | unserved | multigets | GETs |")
        print("|-----------|--------|-----------|--------|----------|-----------|------|")
        for how in ("good", "latin-1", "lost"):
            print(run(server, args.cards, args.bad, how, args.batch_size))
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
