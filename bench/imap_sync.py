"""Benchmark: `sync_imap` of a 20,000-message (or bigger) account on a local Dovecot.

Seeds the messages straight into a temporary Maildir (INBOX and Sent), starts Dovecot on
127.0.0.1 (tests/servers/dovecot.py; needs the `dovecot-imapd` package), then times:
  1. reading every folder with `read_folder` on a cold server (Dovecot builds its index and
     header cache on this first pass; a real server has them already),
  2. the same on the now warm server: the connector alone, nothing written (--skip-warm leaves
     it out),
  3. the first `sync_imap` into an empty warehouse (fetch + parse + load),
  4. a second `sync_imap` with no new mail (EXAMINE + UID SEARCH per folder, nothing fetched).
Each sync runs in a fresh child process, so its peak resident memory (VmHWM) is its own; the
parent samples the child's RSS, so a peak that grows during the sync shows where.

With --kill-at F, a first sync into another warehouse is killed (SIGKILL) after F times the
clean first sync's duration, then `sync_imap` runs again; the two warehouses must then hold
the same messages, each once.

    python bench/imap_sync.py [--messages 20000 ...] [--batch-size 500] [--kill-at 0.5]
                              [--skip-warm] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PASSWORD_ENV = "KITH_BENCH_IMAP_PASSWORD"

from memory import peak_rss_mb, status_mb  # noqa: E402
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


def account_for(port: int, user: str, batch_size: int) -> ImapAccount:
    return ImapAccount(host="127.0.0.1", port=port, user=user, security="plain",
                       password_env=PASSWORD_ENV, batch_size=batch_size)


def run_one(db: str, port: str, user: str, batch_size: str) -> None:
    """In the child: one sync_imap, then seconds, peak MB, messages read and stored."""
    account = account_for(int(port), user, int(batch_size))
    results, elapsed = timed(lambda: sync_imap(db, account, backoff=(0,)))
    print(f"{elapsed} {peak_rss_mb()} {sum(r.n_read for r in results)} "
          f"{sum(r.n_new for r in results)}")


def child(db: Path, server: DovecotServer, batch_size: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--one", str(db), str(server.port),
                             server.user, str(batch_size)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def isolated(db: Path, server: DovecotServer, batch_size: int, *,
             kill_after: float | None = None) -> tuple | None:
    """One sync in a fresh child: (seconds, peak MB, read, stored, RSS samples (s, MB), the
    child's whole run in seconds); None when it was killed after `kill_after` seconds."""
    started = time.perf_counter()
    proc = child(db, server, batch_size)
    samples = []
    while proc.poll() is None:
        now = time.perf_counter() - started
        if kill_after is not None and now >= kill_after:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return None
        rss = status_mb("VmRSS", proc.pid)
        if rss is not None:
            samples.append((now, rss))
        time.sleep(0.5)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"sync failed ({proc.returncode}): {err.strip()[-2000:]}")
    secs, peak, n_read, n_new = out.split()
    return (float(secs), float(peak), int(n_read), int(n_new), samples,
            time.perf_counter() - started)


def profile(samples: list) -> str:
    """The child's RSS at each tenth of its run, in MB."""
    if not samples:
        return "-"
    end = samples[-1][0]
    picks = [next(mb for t, mb in samples if t >= end * k / 10) for k in range(1, 11)]
    return " ".join(f"{mb:.0f}" for mb in picks)


def stored(db: Path) -> tuple[set[str], int, int]:
    """Record keys in raw_messages, its row count, and the message_sightings row count."""
    import duckdb
    with duckdb.connect(str(db), read_only=True) as con:
        keys = {k for (k,) in con.execute("select record_key from raw_messages").fetchall()}
        n_rows = con.execute("select count(*) from raw_messages").fetchone()[0]
        n_seen = con.execute("select count(*) from message_sightings").fetchone()[0]
    return keys, n_rows, n_seen


def loads_of(db: Path) -> list[tuple]:
    import duckdb
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select regexp_extract(source_uri, '[^/]+$'), status, n_read, "
                           "n_inserted from loads order by load_id").fetchall()


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[20_000])
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--kill-at", type=float, metavar="F",
                        help="also kill a first sync after F x its clean duration, and resume")
    parser.add_argument("--skip-warm", action="store_true",
                        help="leave out the second read_folder pass (long at a million)")
    parser.add_argument("--keep", action="store_true", help="keep the Maildir and warehouse")
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(*args.one)
        return
    peaks = {}
    for n_messages in args.messages:
        peaks[n_messages] = one_size(n_messages, args)
    if len(peaks) > 1:
        print("first sync peak MB by size: " + ", ".join(
            f"{n:,}: {peak:.0f}" for n, peak in peaks.items()))


def one_size(n_messages: int, args) -> float:
    server = DovecotServer.create()
    work = Path(tempfile.mkdtemp(prefix="kith-bench-imap-"))
    try:
        counts, t_seed = timed(lambda: seed(server, n_messages))
        print(f"\n{n_messages:,} messages seeded ({counts['INBOX']:,} INBOX, "
              f"{counts['Sent']:,} Sent) in {t_seed:.1f}s ({n_messages / t_seed:,.0f}/s); "
              f"batch size {args.batch_size}; load {load()}", flush=True)
        server.start()
        os.environ[PASSWORD_ENV] = server.password
        account = account_for(server.port, server.user, args.batch_size)
        db = work / "kith.duckdb"
        print(f"{'step':<28} {'messages':>9} {'seconds':>8} {'msgs/s':>9} {'peak MB':>8}  "
              f"load 1/5/15 min; RSS MB at each tenth of the run")
        steps = [("read_folder, cold server", True),
                 ("read_folder, warm server", not args.skip_warm)]
        for name, wanted in steps:
            if wanted:
                n, t = timed(lambda: drain(account))
                print(f"{name:<28} {n:>9,} {t:>8.2f} {n / t:>9,.0f} {'-':>8}  {load()}",
                      flush=True)
        first = None
        for name in ("sync_imap, first", "sync_imap, no new mail"):
            secs, peak, n_read, n_new, samples, wall = isolated(db, server, args.batch_size)
            first = first or (wall, peak, n_new)
            rate = f"{n_read / secs:,.0f}" if n_read else "-"
            print(f"{name:<28} {n_read:>9,} {secs:>8.2f} {rate:>9} {peak:>8.0f}  {load()}; "
                  f"{profile(samples)}", flush=True)
        print(f"first sync stored {first[2]:,} new messages")
        if args.kill_at:
            kill_and_resume(work, server, db, first[0] * args.kill_at, args)
        if args.keep:
            print(f"kept: Maildir {server.maildir}, warehouses in {work}")
        return first[1]
    finally:
        if args.keep:
            server.stop()
        else:
            server.cleanup()
            # rmtree: a sync killed while DuckDB spilled leaves its <warehouse>.tmp folder
            shutil.rmtree(work)


def kill_and_resume(work: Path, server: DovecotServer, clean_db: Path, after: float,
                    args) -> None:
    db = work / "killed.duckdb"
    assert isolated(db, server, args.batch_size, kill_after=after) is None, "finished early"
    print(f"killed a first sync (SIGKILL) after {after:.1f}s; loads then: {loads_of(db)}")
    secs, peak, n_read, n_new, _, _ = isolated(db, server, args.batch_size)
    print(f"{'sync_imap, after the kill':<28} {n_read:>9,} {secs:>8.2f} "
          f"{n_read / secs if n_read else 0:>9,.0f} {peak:>8.0f}  {load()}; "
          f"stored {n_new:,} new")
    print(f"loads: {loads_of(db)}")
    clean_keys, clean_rows, clean_seen = stored(clean_db)
    keys, rows, seen = stored(db)
    print(f"clean: {clean_rows:,} messages ({len(clean_keys):,} keys), {clean_seen:,} "
          f"sightings; killed + resumed: {rows:,} messages ({len(keys):,} keys), {seen:,} "
          f"sightings; same keys: {keys == clean_keys}")


if __name__ == "__main__":
    main()
