"""Benchmark: `kith import` of a large vCard 3.0 file against a bare vobject parse of it.

Generates 10,000- and 100,000-card files, then runs each measurement in a fresh process so that
peak memory (VmHWM) belongs to that measurement alone, and prints one table:
time, cards/s and peak RSS for the bare `vobject.readComponents` loop (the baseline) and for the
whole kith import (parse, normalise, load into DuckDB, rebuild views), and their ratio.
Targets: import time within 1.5x of the bare parse; peak memory flat from 10k to 100k cards;
a 100-card stack from command to summary in under 3 s.

    python bench/vcard_import.py [--sizes 10000 100000] [--keep]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from memory import peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]

FIRST = ["Maya", "Daniel", "Priya", "Tom", "Lena", "Sam", "Grace", "Oscar", "Jürgen", "Zoë",
         "Ahmed", "Mei", "Carlos", "Olga", "Kwame", "Sofia", "Ivan", "Aiko", "Liam", "Fatima"]
LAST = ["Okafor", "Reyes", "Natarajan", "Becker", "Fischer", "Whitaker", "Lin", "Haddad",
        "Müller", "García", "Kowalski", "Tanaka", "Nguyen", "O'Brien", "Silva", "Jensen"]
ORGS = ["Northwind Logistics", "Reyes & Vogel LLP", "Bayview Health", "Fischer Design GmbH",
        "Lin Capital", "Contoso Ltd", "Acme Corp", "Globex, Inc."]


def make_card(i: int, rng: random.Random) -> str:
    first, last, org = rng.choice(FIRST), rng.choice(LAST), rng.choice(ORGS)
    domain = org.split()[0].lower().strip(",&") + ".example"
    lines = ["BEGIN:VCARD", "VERSION:3.0", "PRODID:-//Apple Inc.//iPhone OS 18.1//EN",
             f"N:{last};{first};;;", f"FN:{first} {last}", f"ORG:{org.replace(',', chr(92) + ',')};",
             "TITLE:Head of Partnerships",
             f"item1.EMAIL;type=INTERNET;type=pref:{first.lower()}.{last.lower()}{i}@{domain}",
             "item1.X-ABLabel:_$!<Work>!$_",
             f"TEL;type=CELL;type=VOICE;type=pref:+1 415 555 {i % 10000:04d}"]
    if i % 3 == 0:
        lines.append(f"EMAIL;type=INTERNET;type=HOME:{first.lower()}{i}@gmail.com")
    if i % 4 == 0:
        lines.append(f"TEL;type=WORK:(650) 555-{(i * 7) % 10000:04d}")
    if i % 5 == 0:
        lines.append("ADR;type=WORK:;;1 Market Street;San Francisco;CA;94105;USA")
    if i % 7 == 0:
        lines.append("NOTE:Met at the Chamber mixer. Interested in the logistics pilot\\, "
                     "follow up in January. This note is long enough to be folded by a\r\n"
                     "  careful exporter onto a second line.")
    lines += [f"UID:{i:08d}-bench-{rng.getrandbits(32):08x}", "REV:2026-11-20T19:30:00Z",
              "END:VCARD"]
    return "\r\n".join(lines) + "\r\n"


def generate(path: Path, n: int) -> None:
    rng = random.Random(n)
    with open(path, "w", encoding="utf-8", newline="") as f:
        for i in range(n):
            f.write(make_card(i, rng))


def bare_parse(file: str, db: str) -> int:
    import vobject
    n = 0
    with open(file, encoding="utf-8") as f:
        for card in vobject.readComponents(f):
            n += 1
            card.fn.value
    return n


def kith_import(file: str, db: str) -> int:
    from kith.flows.importing import run_import
    return run_import([file], db=db, region="US").total("n_read")


def run_one(kind: str, file: str, db: str) -> None:
    """Child entry point: one measurement in a fresh process, so its peak RSS is its own."""
    sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    n = (bare_parse if kind == "bare" else kith_import)(file, db)
    elapsed = time.perf_counter() - started
    peak_mb = peak_rss_mb()
    print(f"{elapsed} {peak_mb} {n}")


def isolated(kind: str, file: Path, db: Path) -> tuple[float, float, int]:
    out = subprocess.run([sys.executable, __file__, "--one", kind, str(file), str(db)],
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    if args.one:
        run_one(*args.one)
        return
    workdir = Path(tempfile.mkdtemp(prefix="kith-bench-"))
    print(f"{'cards':>8} {'path':<28} {'seconds':>8} {'cards/s':>9} {'peak MB':>8} {'x bare':>7}")
    results = {}
    for n in args.sizes:
        file = workdir / f"cards-{n}.vcf"
        generate(file, n)
        size_mb = file.stat().st_size / 1e6
        bare = isolated("bare", file, workdir / "unused.duckdb")
        kith = isolated("kith", file, workdir / f"kith-{n}.duckdb")
        assert bare[2] == n and kith[2] == n, (bare, kith)
        results[n] = (bare, kith)
        for label, (secs, peak, _) in (("vobject.readComponents", bare),
                                        ("kith import", kith)):
            ratio = secs / bare[0]
            print(f"{n:>8,} {label:<28} {secs:>8.2f} {n / secs:>9,.0f} {peak:>8.0f} "
                  f"{ratio:>7.2f}")
        print(f"{'':>8} ({size_mb:.1f} MB file)")
    stack = workdir / "stack-100.vcf"
    generate(stack, 100)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kith.flows.cli", "import", str(stack), "--tag", "bench",
                    "--db", str(workdir / "stack.duckdb")], check=True, cwd=ROOT,
                   capture_output=True)
    print(f"100-card stack, `kith import` command to summary: "
          f"{time.perf_counter() - started:.2f} s (target < 3 s)")
    if len(args.sizes) > 1:
        small, large = min(args.sizes), max(args.sizes)
        growth = results[large][1][1] / results[small][1][1]
        print(f"kith peak memory {large:,} vs {small:,} cards: {growth:.2f}x")
    if not args.keep:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
