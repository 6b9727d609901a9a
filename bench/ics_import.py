"""Benchmark: reading a large .ics file with `read_ics` against bare icalendar + recurring_ical_events.

Generates a 20,000-VEVENT calendar (1-8 attendees each, TZIDs with VTIMEZONEs, 10% weekly recurring
with COUNT=20), then runs each measurement in a fresh process so that peak memory (VmHWM)
belongs to that measurement alone, and prints one table: time, occurrences/s and peak RSS for
(1) `icalendar.Calendar.from_ical` on the whole file + `recurring_ical_events.of(cal).between(...)`
over the same window (the baseline), (2) `read_ics` alone, (3) kith's load alone
(`flows.importing.import_file` into a new warehouse: read, load, committed every 50,000
occurrences, no rebuild), (4) kith's whole import (`flows.importing.run_import`: the load, then
the rebuild of the views), and their ratio to (1). `--events` takes several sizes, one table
each: the load's peak should not grow with the calendar (issue 12).
Target: `read_ics` within 1.5x of the bare libraries.

    python bench/ics_import.py [--events 20000 [100000 ...]] [--keep] [--only bare read load import]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from memory import peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
WINDOW_START = datetime(2025, 1, 1, tzinfo=timezone.utc)
WINDOW_END = datetime(2027, 1, 1, tzinfo=timezone.utc)

NAMES = ["Maya Okafor", "Daniel Reyes", "Priya Natarajan", "Tom Becker", "Lena Fischer",
         "Sam Whitaker", "Grace Lin", "Oscar Haddad", "Jürgen Müller", "Zoë García"]
ZONES = ["Europe/Berlin", "America/New_York", "W. Europe Standard Time", "Asia/Tokyo"]
VTIMEZONE_BERLIN = """BEGIN:VTIMEZONE\r
TZID:Europe/Berlin\r
BEGIN:DAYLIGHT\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
DTSTART:19700329T020000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
END:DAYLIGHT\r
BEGIN:STANDARD\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
DTSTART:19701025T030000\r
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r
END:STANDARD\r
END:VTIMEZONE\r
"""


def make_event(i: int, rng: random.Random) -> str:
    zone = rng.choice(ZONES)
    month, day, hour = rng.randint(1, 12), rng.randint(1, 28), rng.randint(7, 18)
    lines = ["BEGIN:VEVENT", f"UID:{i:08d}-{rng.getrandbits(32):08x}@bench.example",
             "DTSTAMP:20261120T193000Z",
             f"DTSTART;TZID={zone}:2026{month:02d}{day:02d}T{hour:02d}0000",
             f"DTEND;TZID={zone}:2026{month:02d}{day:02d}T{hour:02d}3000",
             f"SUMMARY:Meeting {i}", "DESCRIPTION:Agenda\\, notes and a dial-in number that "
             "is long enough to be folded by a\r\n  careful exporter.",
             "ORGANIZER;CN=Maya Okafor:mailto:maya@bench.example", "STATUS:CONFIRMED",
             f"SEQUENCE:{i % 3}"]
    for k in range(rng.randint(1, 8)):
        name = rng.choice(NAMES)
        lines.append(f"ATTENDEE;CN={name};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;"
                     f"CUTYPE=INDIVIDUAL:mailto:{name.split()[0].lower()}{k}@bench.example")
    if i % 10 == 0:
        lines.append("RRULE:FREQ=WEEKLY;COUNT=20")
    lines.append("END:VEVENT")
    return "\r\n".join(lines) + "\r\n"


def generate(path: Path, n: int) -> None:
    rng = random.Random(n)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//kith//bench//EN\r\n")
        f.write(VTIMEZONE_BERLIN)
        for i in range(n):
            f.write(make_event(i, rng))
        f.write("END:VCALENDAR\r\n")


def bare(file: str, db: str) -> int:
    import icalendar
    import recurring_ical_events
    cal = icalendar.Calendar.from_ical(Path(file).read_bytes())
    return len(recurring_ical_events.of(cal).between(WINDOW_START, WINDOW_END))


def kith_read(file: str, db: str) -> int:
    from kith.connectors.ics import read_ics
    from kith.records import EventOccurrence
    return sum(isinstance(r, EventOccurrence)
               for r in read_ics(Path(file), window_end=WINDOW_END))


def kith_load(file: str, db: str) -> int:
    from kith.flows.importing import import_file
    from kith.warehouse.connection import connect
    con = connect(db)
    try:
        return import_file(con, Path(file)).result.n_read
    finally:
        con.close()


def kith_import(file: str, db: str) -> int:
    from kith.flows.importing import run_import
    return run_import([file], db=db).total("n_read")


KINDS = {"bare": bare, "read": kith_read, "load": kith_load, "import": kith_import}
LABELS = {"bare": "icalendar.from_ical + recurring_ical_events", "read": "read_ics",
          "load": "kith load (import_file)", "import": "kith import (run_import)"}


def run_one(kind: str, file: str, db: str) -> None:
    """Child entry point: one measurement in a fresh process, so its peak RSS is its own."""
    sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    n = KINDS[kind](file, db)
    elapsed = time.perf_counter() - started
    peak_mb = peak_rss_mb()
    print(f"{elapsed} {peak_mb} {n}")


def isolated(kind: str, file: Path, db: Path) -> tuple[float, float, int] | str:
    done = subprocess.run([sys.executable, __file__, "--one", kind, str(file), str(db)],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
    out = done.stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[20000])
    parser.add_argument("--only", nargs="+", choices=list(KINDS), default=list(KINDS))
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    if args.one:
        run_one(*args.one)
        return
    workdir = Path(tempfile.mkdtemp(prefix="kith-bench-"))
    for n_events in args.events:
        file = workdir / f"events-{n_events}.ics"
        generate(file, n_events)
        print(f"\n{n_events:,} VEVENTs, {file.stat().st_size / 1e6:.1f} MB, window "
              f"{WINDOW_START:%Y-%m-%d}..{WINDOW_END:%Y-%m-%d}")
        print(f"{'path':<44} {'seconds':>8} {'occ.':>9} {'occ/s':>8} {'peak MB':>8} "
              f"{'x bare':>7}")
        base = None
        for kind in (k for k in KINDS if k in args.only):
            result = isolated(kind, file, workdir / f"{kind}-{n_events}.duckdb")
            if isinstance(result, str):
                print(f"{LABELS[kind]:<44} not available: {result[:60]}")
                continue
            secs, peak, n = result
            if kind == "bare":
                base = secs
            ratio = f"{secs / base:>7.2f}" if base else f"{'-':>7}"
            print(f"{LABELS[kind]:<44} {secs:>8.2f} {n:>9,} {n / secs:>8,.0f} {peak:>8.0f} "
                  f"{ratio}")
        if not args.keep:
            file.unlink()
            for db in workdir.glob(f"*-{n_events}.duckdb*"):
                db.unlink()
    if not args.keep:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
