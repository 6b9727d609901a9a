"""Benchmark: `sync_imap` of a 20,000-message account on a local Dovecot.

Seeds the messages straight into a temporary Maildir (INBOX and Sent), starts Dovecot on
127.0.0.1 (tests/servers/dovecot.py; needs the `dovecot-imapd` package), then times:
  1. reading every folder with `read_folder` on a cold server (Dovecot builds its index and
     header cache on this first pass; a real server has them already),
  2. the same on the now warm server: the connector alone, nothing written,
  3. the first `sync_imap` into an empty warehouse (fetch + parse + load),
  4. a second `sync_imap` with no new mail (EXAMINE + UID SEARCH per folder, nothing fetched).

    python bench/imap_sync.py [--messages 20000] [--batch-size 500] [--keep]
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

from kith.connectors.imap import ImapAccount, close, connect, list_folders, read_folder  # noqa: E402
from kith.records import FolderState  # noqa: E402
from kith.flows.mail_sync import sync_imap  # noqa: E402
from tests.servers.dovecot import DovecotServer, make_message  # noqa: E402

PEOPLE = ["Maya Okafor", "Daniel Reyes", "Priya Natarajan", "Tom Becker", "Lena Fischer",
          "Sam Whitaker", "Grace Lin", "Oscar Haddad", "Jürgen Müller", "Zoë García",
          "Ahmed Kowalski", "Mei Tanaka", "Carlos Nguyen", "Olga O'Brien", "Kwame Silva"]
OWNER = "Owner Person <owner@example.org>"


def address(name: str) -> str:
    local = name.lower().replace(" ", ".").replace("'", "")
    return f"{name} <{local.encode('ascii', 'ignore').decode()}@example.com>"


def seed(server: DovecotServer, n: int) -> dict[str, int]:
    rng = random.Random(n)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    counts = {"INBOX": 0, "Sent": 0}
    for i in range(1, n + 1):
        folder = "Sent" if i % 4 == 0 else "INBOX"
        other = address(rng.choice(PEOPLE))
        sender, to = (OWNER, other) if folder == "Sent" else (other, OWNER)
        cc = address(rng.choice(PEOPLE)) if i % 3 == 0 else None
        server.add_message(folder, make_message(
            i, sender=sender, to=to, cc=cc, when=start + timedelta(minutes=37 * i),
            body="Hello,\r\n\r\n" + "A line of body text that kith never reads.\r\n" * 20))
        counts[folder] += 1
    return counts


def drain(account: ImapAccount) -> int:
    imap = connect(account)
    try:
        return sum(1 for folder in list_folders(imap, account)
                   for r in read_folder(imap, account, folder, None)
                   if not isinstance(r, FolderState))
    finally:
        close(imap)


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the Maildir and warehouse")
    args = parser.parse_args()

    server = DovecotServer.create()
    work = Path(tempfile.mkdtemp(prefix="kith-bench-imap-"))
    try:
        counts, t_seed = timed(lambda: seed(server, args.messages))
        server.start()
        os.environ["KITH_BENCH_IMAP_PASSWORD"] = server.password
        account = ImapAccount(host=server.host, port=server.port, user=server.user,
                              security="plain", password_env="KITH_BENCH_IMAP_PASSWORD",
                              batch_size=args.batch_size)
        db = work / "kith.duckdb"
        rows = []
        n, t = timed(lambda: drain(account))
        rows.append(("read_folder, cold server", n, t))
        n, t = timed(lambda: drain(account))
        rows.append(("read_folder, warm server", n, t))
        results, t = timed(lambda: sync_imap(db, account, backoff=(0,)))
        rows.append(("sync_imap, first", sum(r.n_read for r in results), t))
        first_new = sum(r.n_new for r in results)
        results, t = timed(lambda: sync_imap(db, account, backoff=(0,)))
        rows.append(("sync_imap, no new mail", sum(r.n_read for r in results), t))

        print(f"{args.messages:,} messages seeded ({counts['INBOX']:,} INBOX, "
              f"{counts['Sent']:,} Sent) in {t_seed:.1f}s; batch size {args.batch_size}; "
              f"first sync stored {first_new:,} new messages")
        print(f"{'step':<28} {'messages':>9} {'seconds':>8} {'msgs/s':>9}")
        for name, n, t in rows:
            rate = f"{n / t:,.0f}" if n else "-"
            print(f"{name:<28} {n:>9,} {t:>8.2f} {rate:>9}")
        if args.keep:
            print(f"kept: Maildir {server.maildir}, warehouse {db}")
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
