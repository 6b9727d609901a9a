"""Benchmark: `kith report` on the demo world, its size, and screenshots to look at.

The seeded demo world (examples/world.py, seed 7, today's date, 2,300 LinkedIn connections
unless --connections) is synced into a fresh warehouse with `kith sync` (not measured). Then,
each the median of three runs of the real command in a fresh process (interpreter start-up
included):

  kith status     the baseline: the same views read and printed as text
  kith report     the network page
  kith report --person   the page of the first person to reconnect with

Printed: seconds, the page's size, and how many rows the long tables left out. Targets (the
issue): the demo world's page under 2 MB and written in under 3 s. With --people N, N more
LinkedIn connections (a generated Connections.csv, `kith import`ed) are added to the demo world
and it is measured again: the page must stay usable (long tables capped).

Screenshots of the demo world's page, taken by Debian's headless Chromium through Playwright
(offline, every request refused), go to bench/out/report-1280.png and report-375.png (a phone),
and the top of the page to docs/report.png for the README.

    python bench/report.py [--connections 2300] [--people 50000] [--no-screenshots]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
KITH = ROOT / ".venv" / "bin" / "kith"
sys.path.insert(0, str(ROOT / "examples"))
import world  # noqa: E402


def synced(workdir: Path, n_connections: int) -> tuple[Path, float]:
    started = time.perf_counter()
    world.generate(workdir, seed=7, n_connections=n_connections)
    subprocess.run([str(KITH), "sync", "--config", str(workdir / "kith.toml")], check=True,
                   capture_output=True)
    return workdir / "world.duckdb", time.perf_counter() - started


def many_connections(folder: Path, n: int) -> Path:
    """A LinkedIn Connections.csv of n people no one has written to."""
    import csv
    import random

    rng = random.Random(7)
    given = ["Ana", "Ben", "Chen", "Dana", "Eli", "Fatima", "Goran", "Hana", "Ivan", "Jun",
             "Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara"]
    family = ["Alvarez", "Brooks", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Huang",
              "Ibrahim", "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov"]
    folder.mkdir(parents=True)
    path = folder / "Connections.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["First Name", "Last Name", "URL", "Email Address", "Company",
                         "Position", "Connected On"])
        for i in range(n):
            first, last = rng.choice(given), rng.choice(family)
            writer.writerow([first, f"{last}-{i}", f"https://www.linkedin.com/in/bench-{i:06d}",
                             "", f"Company {i % 997}", "Engineer", "03 Mar 2024"])
    return path


def timed(*args: str, runs: int = 3) -> tuple[float, float]:
    """Median wall and CPU seconds (user + system, all threads) of the command."""
    seconds, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([str(KITH), *args], check=True, capture_output=True)
        seconds.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(seconds), statistics.median(cpu)


def left_out(page: Path) -> str:
    found = re.findall(r"([\d,]+) more not shown", page.read_text(encoding="utf-8"))
    return ", ".join(found) if found else "none"


def measure(db: Path, label: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    n_people = con.execute("select count(*) from people").fetchone()[0]
    first = con.execute("select person_id from reconnect order by reconnect_rank limit 1"
                        ).fetchone()
    con.close()
    page, person_page = db.parent / "kith-report.html", db.parent / "person.html"
    rows = [(label, f"{n_people:,}", "kith status (baseline)", timed("status", "--db", str(db)),
             "", ""),
            (label, f"{n_people:,}", "kith report", timed("report", "--db", str(db)),
             page.stat().st_size, left_out(page))]
    if first:
        rows.append((label, f"{n_people:,}", "kith report --person",
                     timed("report", "--person", str(first[0]), "--db", str(db), "--out",
                           str(person_page)), person_page.stat().st_size, ""))
    return rows


def screenshots(page: Path) -> None:
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium") or "/usr/bin/chromium"
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for width in (1280, 375):
            context = browser.new_context(offline=True, viewport={"width": width, "height": 900},
                                          device_scale_factor=1)
            context.route("**/*", lambda route: route.continue_()
                          if route.request.url.startswith("file:") else route.abort())
            shot = context.new_page()
            shot.goto(page.resolve().as_uri())
            shot.screenshot(path=str(OUT / f"report-{width}.png"), full_page=True)
            if width == 1280:
                shot.screenshot(path=str(ROOT / "docs" / "report.png"), full_page=True,
                                clip={"x": 0, "y": 0, "width": 1280, "height": 1500})
            context.close()
        browser.close()
    print(f"screenshots: {OUT / 'report-1280.png'}, {OUT / 'report-375.png'}, "
          f"{ROOT / 'docs' / 'report.png'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=2300)
    parser.add_argument("--people", type=int, default=0,
                        help="also measure a world of this many LinkedIn connections")
    parser.add_argument("--no-screenshots", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="kith-report-") as tmp:
        db, sync_s = synced(Path(tmp) / "demo", args.connections)
        print(f"demo world synced in {sync_s:.1f} s (not measured below)")
        rows += measure(db, "demo world")
        if not args.no_screenshots:
            screenshots(db.parent / "kith-report.html")
        if args.people:
            started = time.perf_counter()
            csv_path = many_connections(Path(tmp) / "many", args.people)
            subprocess.run([str(KITH), "import", str(csv_path), "--db", str(db)], check=True,
                           capture_output=True)
            print(f"{args.people:,} more connections imported in "
                  f"{time.perf_counter() - started:.1f} s")
            rows += measure(db, f"+{args.people:,} connections")
    print()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: wall seconds grow "
          f"with it, CPU seconds much less")
    print(f"{'world':<20} {'people':>8}  {'command':<24} {'seconds':>8} {'cpu s':>6} "
          f"{'page bytes':>11}  rows left out")
    for label, people, command, (seconds, cpu), size, dropped in rows:
        size_text = f"{size:,}" if size != "" else ""
        print(f"{label:<20} {people:>8}  {command:<24} {seconds:>8.2f} {cpu:>6.2f} "
              f"{size_text:>11}  {dropped}")
    demo = next(r for r in rows if r[0] == "demo world" and r[2] == "kith report")
    met = demo[3][0] < 3 and demo[4] < 2_000_000
    print(f"target (demo world: under 3 s, under 2 MB): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
