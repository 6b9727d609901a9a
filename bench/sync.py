"""Benchmark: the sync on the demo world — a first sync, a sync with nothing new, and a sync after
one new mail message and one new calendar event.

Runs `kith sync` (no Prefect server: the same code the nightly flow runs, without Prefect's own
start-up) as a command, each in a fresh process, on a copy of examples/ in a temporary folder.
Targets: the no-change sync under 5 s; the one-message sync within 2x of the no-change sync.

    python bench/sync.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NEW_MESSAGE = """From maya.okafor@northwind.example Sat Nov 28 09:00:00 2026
From: Maya Okafor <maya.okafor@northwind.example>
To: Alex Morgan <alex@morgan-studio.example>
Date: Sat, 28 Nov 2026 09:00:00 +0000
Message-ID: <bench-new@mail.example>
Subject: One more thing

Body.

"""

NEW_EVENT = ("BEGIN:VEVENT\r\nUID:bench-new-event\r\nDTSTAMP:20261120T120000Z\r\n"
             "DTSTART:20261127T150000Z\r\nDURATION:PT30M\r\n"
             "ORGANIZER:mailto:alex@morgan-studio.example\r\n"
             "ATTENDEE;PARTSTAT=ACCEPTED:mailto:maya.okafor@northwind.example\r\n"
             "END:VEVENT\r\n")


def timed_sync(config: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kith.flows.cli", "sync", "--config", str(config)],
                   check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="kith-bench-sync-"))
    try:
        world = workdir / "examples"
        shutil.copytree(ROOT / "examples", world)
        config = world / "kith.toml"
        rows = [("first sync", timed_sync(config)), ("no change", timed_sync(config))]
        with open(world / "mail" / "demo.mbox", "a") as f:
            f.write(NEW_MESSAGE)
        ics = world / "calendar" / "demo.ics"
        ics.write_text(ics.read_text().replace("END:VCALENDAR", NEW_EVENT + "END:VCALENDAR"))
        rows.append(("one new message + one new event", timed_sync(config)))
        baseline = rows[1][1]
        print(f"{'sync':<34} {'seconds':>8} {'x no-change':>12}")
        for label, seconds in rows:
            print(f"{label:<34} {seconds:>8.2f} {seconds / baseline:>12.2f}")
        print("targets: no change < 5 s; one new message within 2x of no change")
    finally:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
