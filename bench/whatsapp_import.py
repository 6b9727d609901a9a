"""Benchmark: `kith import` of a folder of WhatsApp exports (1,000,000 messages in 200 chats by
default), next to a bare pass that splits the same files into lines (the floor for reading them
at all) and the connector alone (reading, no warehouse).

The chats mix the layouts phones write: Android 12-hour US dates with a narrow no-break space,
Android 24-hour day-first, iOS bracketed with seconds; one message in ten runs over two lines,
a few are media or system lines. Each measurement runs in a fresh process; peak RSS is that
process's own. Targets: the connector's memory flat whatever the export's size (it streams
lines); the import's bounded by DuckDB's limits (`$KITH_MEMORY_LIMIT` while loading), not by
Python holding the export.

Measured 2026-12-01 on the shared 2-core machine at load average ~17 (so slow and noisy):
bare 2.7 s, connector 162 s (6.2k msg/s, 24 MB), kith import 573 s (1.7k msg/s, peak 732 MB).
At 200,000 messages on a quieter machine: load 23 s (8.7k msg/s, 208 MB), views 3.7 s.

    python bench/whatsapp_import.py [--messages 1000000] [--chats 200]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from memory import peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
WORDS = "see you at the station tomorrow ok great thanks lol when are you back did you".split()


def header(layout: int, t: datetime) -> str:
    if layout == 0:
        hour = t.hour % 12 or 12
        return f"{t.month}/{t.day}/{t:%y}, {hour}:{t:%M}\u202f{'AM' if t.hour < 12 else 'PM'} - "
    if layout == 1:
        return f"{t:%d/%m/%Y}, {t:%H:%M} - "
    return f"[{t:%d.%m.%y}, {t:%H:%M:%S}] "


def generate(folder: Path, messages: int, chats: int) -> int:
    """Write the chats; return their total size in bytes."""
    rng = random.Random(messages)
    per_chat = messages // chats
    size = 0
    for c in range(chats):
        layout = c % 3
        people = ["Sam Owner"] + [f"Friend{c}_{i}" for i in range(1 if c % 4 else 6)]
        t = datetime(2021, 1, 1) + timedelta(minutes=c)
        lines = []
        for i in range(per_chat):
            t += timedelta(seconds=rng.randrange(20, 3600))
            who = rng.choice(people)
            text = " ".join(rng.choices(WORDS, k=rng.randrange(2, 12)))
            if i % 50 == 0:
                text = "<Media omitted>" if layout < 2 else "\u200eimage omitted"
            elif i % 10 == 0:
                text += "\n" + " ".join(rng.choices(WORDS, k=5))
            lines.append(f"{header(layout, t)}{who}: {text}\n")
        path = folder / f"WhatsApp Chat with Friend{c}.txt"
        path.write_text("".join(lines), encoding="utf-8")
        size += path.stat().st_size
    return size


def bare(folder: str, db: str) -> int:
    n = 0
    for path in sorted(Path(folder).glob("*.txt")):
        with open(path, encoding="utf-8") as f:
            n += sum(1 for _ in f)
    return n


def connector(folder: str, db: str) -> int:
    from kith.connectors.whatsapp import read_whatsapp
    return sum(sum(1 for _ in read_whatsapp(path, region="US"))
               for path in sorted(Path(folder).glob("*.txt")))


def kith(folder: str, db: str) -> int:
    from kith.flows.importing import run_import
    return run_import([folder], db=db, region="US").total("n_read")


def run_one(kind: str, folder: str, db: str) -> None:
    started = time.perf_counter()
    n = {"bare": bare, "connector": connector, "kith": kith}[kind](folder, db)
    print(f"{time.perf_counter() - started} "
          f"{peak_rss_mb()} {n}")


def isolated(kind: str, folder: Path, db: Path) -> tuple[float, float, int]:
    out = subprocess.run([sys.executable, __file__, "--one", kind, str(folder), str(db)],
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(*args.one)
        return
    workdir = Path(tempfile.mkdtemp(prefix="kith-bench-whatsapp-"))
    try:
        folder = workdir / "chats"
        folder.mkdir()
        size = generate(folder, args.messages, args.chats)
        print(f"{args.messages:,} messages in {args.chats} chats, {size / 1e6:,.0f} MB")
        base = isolated("bare", folder, workdir / "unused.duckdb")
        read = isolated("connector", folder, workdir / "unused.duckdb")
        imported = isolated("kith", folder, workdir / "kith.duckdb")
        if imported[2] != read[2]:
            raise SystemExit(f"kith import read {imported[2]:,} records, the connector {read[2]:,}")
        print(f"{'path':<34} {'seconds':>8} {'msg/s':>9} {'peak MB':>8} {'x bare':>7}")
        for label, (secs, peak, _) in (("split lines (bare)", base),
                                       ("read_whatsapp (connector only)", read),
                                       ("kith import (load + views)", imported)):
            print(f"{label:<34} {secs:>8.2f} {args.messages / secs:>9,.0f} {peak:>8.0f} "
                  f"{secs / base[0]:>7.1f}")
    finally:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
