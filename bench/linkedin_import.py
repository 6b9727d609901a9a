"""Benchmark: `kith import` of a 25,000-connection LinkedIn Connections.csv, next to a bare
`csv.reader` pass over the same file (the floor for reading it at all).

Each measurement runs in a fresh process; peak RSS is that process's own.
Target: the import in a few seconds.

    python bench/linkedin_import.py [--rows 25000]
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from memory import peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
COMPANIES = ["Northwind Logistics", "Acme, Inc.", "Globex", "Bayview Health", "Contoso Ltd"]
TITLES = ["Head of Partnerships", "Recruiter", "Software Engineer", "CFO", "Account Manager"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def generate(path: Path, rows: int) -> None:
    rng = random.Random(rows)
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write('Notes:\n"When exporting your connection data, you may notice that some of the '
                'email addresses are missing."\n\n')
        writer = csv.writer(f)
        writer.writerow(["First Name", "Last Name", "URL", "Email Address", "Company",
                         "Position", "Connected On"])
        for i in range(rows):
            first, last = f"First{i}", f"Last{rng.randrange(10_000)}"
            email = f"{first.lower()}@example.com" if i % 10 == 0 else ""
            writer.writerow([first, last, f"https://www.linkedin.com/in/{first.lower()}-{i}",
                             email, rng.choice(COMPANIES), rng.choice(TITLES),
                             f"{rng.randrange(1, 29)} {rng.choice(MONTHS)} {rng.randrange(2012, 2027)}"])


def bare(file: str, db: str) -> int:
    with open(file, newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f))


def kith(file: str, db: str) -> int:
    from kith.flows.importing import run_import
    return run_import([file], db=db).total("n_read")


def run_one(kind: str, file: str, db: str) -> None:
    sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    n = (bare if kind == "bare" else kith)(file, db)
    print(f"{time.perf_counter() - started} "
          f"{peak_rss_mb()} {n}")


def isolated(kind: str, file: Path, db: Path) -> tuple[float, float, int]:
    out = subprocess.run([sys.executable, __file__, "--one", kind, str(file), str(db)],
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=25_000)
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(*args.one)
        return
    workdir = Path(tempfile.mkdtemp(prefix="kith-bench-linkedin-"))
    try:
        file = workdir / "Connections.csv"
        generate(file, args.rows)
        base = isolated("bare", file, workdir / "unused.duckdb")
        imported = isolated("kith", file, workdir / "kith.duckdb")
        print(f"{'path':<24} {'seconds':>8} {'rows/s':>9} {'peak MB':>8} {'x bare':>7}")
        for label, (secs, peak, _) in (("csv.reader", base), ("kith import", imported)):
            print(f"{label:<24} {secs:>8.2f} {args.rows / secs:>9,.0f} {peak:>8.0f} "
                  f"{secs / base[0]:>7.1f}")
    finally:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
