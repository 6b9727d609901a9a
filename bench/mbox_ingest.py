"""Benchmark: importing a large mbox with kith against stdlib `mailbox.mbox` reading the same headers.

For each size asked for (default 100,000 and 300,000 messages, about 1.1 GB at 300k) it generates a
Gmail-Takeout-like mbox (Received chains, DKIM signatures, encoded-word and quoted display names,
1-3 KB bodies, some `>From ` lines), then runs each measurement in a fresh process so that peak
memory (ru_maxrss, of the process and of its largest child) belongs to it alone, and prints one
table per size with the baseline beside it:

  scan         find message boundaries and slice out header blocks, nothing parsed
  mailbox.mbox stdlib `mailbox.mbox`, reading kith's HEADER_FIELDS of each message (the baseline)
  read_mail    `connectors.mail.read_mail`, 1 process (2 processes with --two-process-parse)
  kith load    `flows.importing.import_file` into a new warehouse: parse (in `child MB`'s
               processes) and load, committed in chunks, at default settings (no rebuild)
  kith import  `flows.importing.run_import([path], db=tmp)`: parse, load, rebuild the views

Targets (issue 12): kith import at least 3x mailbox.mbox end to end; peak memory that does not
grow with the mailbox (the largest size within 1.5x of the smallest, under 1.5 GB).

    python bench/mbox_ingest.py [--messages 100000 300000] [--keep] [--skip-baseline]
                                [--only scan mailbox read1 load import]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIRST = ["Maya", "Daniel", "Priya", "Tom", "Lena", "Sam", "Grace", "Oscar", "Jürgen", "Zoë",
         "Ahmed", "Mei", "Carlos", "Olga", "Kwame", "Sofia", "Ivan", "Aiko", "Liam", "Fatima"]
LAST = ["Okafor", "Reyes", "Natarajan", "Becker", "Fischer", "Whitaker", "Lin", "Haddad",
        "Müller", "García", "Kowalski", "Tanaka", "Nguyen", "O'Brien", "Silva", "Jensen"]
DOMAINS = ["gmail.com", "northwind.example", "bayview-health.example", "fischer-design.example",
           "lincapital.example", "contoso.example", "acme.example", "globex.example"]
LISTS = ["dev.lists.example.org", "announce.python.example", "hiking-club.groups.example"]
WORDS = ("the quick brown fox jumps over a lazy dog while we discuss the quarterly plan and "
         "lunch next week with everyone from the team about budgets and travel").split()


def _people(rng: random.Random, n: int) -> list[str]:
    """Formatted addresses as mailers write them: plain, quoted, 'Last, First', encoded-word."""
    out = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        addr = f"{first.lower()}.{last.lower()}{i}@{rng.choice(DOMAINS)}".encode(
            "ascii", "ignore").decode().replace("'", "")
        style = i % 5
        if style == 0:
            out.append(addr)
        elif style == 1:
            out.append(f'"{last}, {first}" <{addr}>')
        elif style == 2 and not (first + last).isascii():
            encoded = "".join(c if c.isascii() and c.isalnum() else
                              "".join(f"={b:02X}" for b in c.encode()) for c in f"{first} {last}")
            out.append(f"=?UTF-8?Q?{encoded.replace(' ', '_')}?= <{addr}>")
        else:
            out.append(f"{first} {last} <{addr}>")
    return out


def _body(rng: random.Random) -> str:
    lines = []
    size = rng.randint(1000, 3000)
    n = 0
    while n < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))
        if rng.random() < 0.02:
            line = ">From the desk of the organiser: " + line
        lines.append(line)
        n += len(line) + 2
    return "\r\n".join(lines)


def generate(path: Path, n: int) -> None:
    rng = random.Random(n)
    people = _people(rng, 2000)
    me = "Maya Okafor <maya.okafor@gmail.com>"
    bodies = [_body(rng) for _ in range(300)]
    with open(path, "w", encoding="utf-8", newline="") as f:
        for i in range(n):
            sent = i % 4 == 0
            sender = me if sent else rng.choice(people)
            to = ", ".join(rng.sample(people, rng.randint(1, 3))) if sent else me
            day = 1 + i % 28
            date = f"Tue, {day} Mar 2025 {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d} +0100"
            labels = ("Sent" if sent else "Inbox,Important") + (
                ',"Work, 2025"' if i % 7 == 0 else ",Opened")
            headers = [f"From {1700000000000000000 + i}@xxx Tue Mar {day:2d} 10:00:00 +0000 2025",
                       f"X-GM-THRID: {1700000000000000000 + i // 3}",
                       f"X-Gmail-Labels: {labels}"]
            for hop in range(rng.randint(2, 5)):
                headers.append(f"Received: from mail{hop}.{rng.choice(DOMAINS)} "
                               f"(mail{hop}.example [203.0.113.{hop + 10}])\r\n"
                               f"        by mx.google.com with ESMTPS id x{i}y{hop}\r\n"
                               f"        for <maya.okafor@gmail.com>; {date}")
            headers += [
                "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel;\r\n"
                "        h=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJ"
                "WZG3hSuFU=;\r\n        b=" + "A" * 300,
                f"Return-Path: <{sender.split('<')[-1].strip('>')}>",
                f"From: {sender}",
                f"To: {to}",
            ]
            if i % 3 == 0:
                headers.append(f"Cc: {rng.choice(people)}, {rng.choice(people)}")
            headers += [f"Date: {date}", f"Subject: Re: plan for week {i % 52}",
                        f"Message-ID: <{i}.{rng.getrandbits(40):x}@mail.example>"]
            if i % 2:
                headers.append(f"In-Reply-To: <{i - 1}.abc@mail.example>")
                headers.append(f"References: <{i - 2}.abc@mail.example> <{i - 1}.abc@mail.example>")
            if i % 10 == 0:
                lst = rng.choice(LISTS)
                headers += [f"List-Id: <{lst}>", f"List-Unsubscribe: <mailto:leave@{lst}>",
                            "Precedence: list"]
            headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8"]
            f.write("\r\n".join(headers) + "\r\n\r\n" + rng.choice(bodies) + "\r\n\r\n")


# -- the measurements, each run in a child process


def kith_load(file: str, db: str) -> int:
    from kith.flows.importing import import_file
    from kith.warehouse.connection import connect
    con = connect(db)
    try:
        outcome = import_file(con, Path(file))
    finally:
        con.close()
    if not outcome.ok:
        raise SystemExit(outcome.problem)
    return outcome.result.n_read


def scan(file: str, db: str) -> int:
    from kith.connectors.mail import _mbox_blocks
    with open(file, "rb") as f:
        return sum(1 for _ in _mbox_blocks(f, f.read(65536)))


def stdlib_mailbox(file: str, db: str) -> int:
    import mailbox
    from kith.connectors.mail import HEADER_FIELDS
    n = 0
    for message in mailbox.mbox(file, create=False):
        for name in HEADER_FIELDS:
            message.get_all(name)
        n += 1
    return n


def read_mail_n(processes: int):
    def run(file: str, db: str) -> int:
        from kith.connectors.mail import read_mail
        return sum(1 for _ in read_mail(Path(file), processes=processes))
    return run


def kith_import(file: str, db: str) -> int:
    from kith.flows.importing import run_import
    return run_import([file], db=db).total("n_read")


MEASUREMENTS = {
    "scan": ("boundary scan + header slices", scan),
    "mailbox": ("mailbox.mbox + HEADER_FIELDS", stdlib_mailbox),
    "read1": ("read_mail, 1 process", read_mail_n(1)),
    "read2": ("read_mail, 2 processes", read_mail_n(2)),
    "load": ("kith load (import_file)", kith_load),
    "import": ("kith import (run_import)", kith_import),
}


def run_one(kind: str, file: str, db: str) -> None:
    """Child entry point: one measurement in a fresh process, so its peak RSS is its own."""
    if importlib.util.find_spec("kith") is None:       # not installed: this checkout's
        sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    n = MEASUREMENTS[kind][1](file, db)
    elapsed = time.perf_counter() - started
    self, children = (resource.getrusage(resource.RUSAGE_SELF),
                      resource.getrusage(resource.RUSAGE_CHILDREN))
    cpu = self.ru_utime + self.ru_stime + children.ru_utime + children.ru_stime
    print(f"{elapsed} {self.ru_maxrss / 1024} {children.ru_maxrss / 1024} {n} {cpu}")


def isolated(kind: str, file: Path, db: Path, python: str = sys.executable
             ) -> tuple[float, float, float, int, float] | str:
    proc = subprocess.run([python, __file__, "--one", kind, str(file), str(db)],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        return proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
    out = proc.stdout.split()
    return float(out[0]), float(out[1]), float(out[2]), int(out[3]), float(out[4])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--skip-baseline", action="store_true",
                        help="leave out mailbox.mbox (slow); ratios are then not printed")
    parser.add_argument("--two-process-parse", action="store_true",
                        help="also time read_mail on 2 processes")
    parser.add_argument("--only", nargs="+", choices=list(MEASUREMENTS),
                        help="run only these measurements (e.g. load at millions of messages)")
    parser.add_argument("--other", metavar="PYTHON",
                        help="also time kith load and import with this interpreter (one whose "
                             "kith is another checkout, e.g. main), beside this one's")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(*args.one)
        return
    workdir = Path(tempfile.mkdtemp(prefix="kith-bench-"))
    peaks = {}
    try:
        for n_messages in args.messages:
            peaks[n_messages] = _one_size(workdir, n_messages, args)
            if not args.keep:
                for path in workdir.iterdir():
                    path.unlink() if path.is_file() else shutil.rmtree(path)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir)
    sizes = [n for n in args.messages if isinstance(peaks.get(n), float)]
    if len(sizes) > 1:
        low, high = min(sizes), max(sizes)
        print(f"kith import peak RSS: {peaks[high]:.0f} MB at {high:,} messages, "
              f"{peaks[low]:.0f} MB at {low:,}: {peaks[high] / peaks[low]:.2f}x "
              f"(target <= 1.5x and under 1,500 MB)")


def _one_size(workdir: Path, n_messages: int, args) -> float | None:
    file = workdir / f"All mail Including Spam and Trash {n_messages}.mbox"
    started = time.perf_counter()
    generate(file, n_messages)
    size_mb = file.stat().st_size / 1e6
    print(f"\n{n_messages:,} messages, {size_mb:,.0f} MB, generated in "
          f"{time.perf_counter() - started:.0f} s")
    print(f"{'path':<32} {'seconds':>8} {'msg/s':>9} {'peak MB':>8} {'child MB':>9} "
          f"{'x mailbox':>9} {'CPU s':>7} {'x CPU':>6}")
    results = {}
    runs = [(kind, label, sys.executable) for kind, (label, _) in MEASUREMENTS.items()]
    if args.other:
        runs += [(kind, label + " (other)", args.other) for kind, (label, _)
                 in MEASUREMENTS.items() if kind in ("load", "import")]
    for kind, label, python in runs:
        if (kind == "mailbox" and args.skip_baseline) or (kind == "read2"
                                                          and not args.two_process_parse):
            continue
        if args.only and kind not in args.only:
            continue
        db = workdir / f"{kind}-{n_messages}{'-other' if python != sys.executable else ''}.duckdb"
        got = isolated(kind, file, db, python)
        results[kind if python == sys.executable else kind + "-other"] = got
        if isinstance(got, str):
            print(f"{label:<32} failed: {got}")
            continue
        secs, peak, workers, n, cpu = got
        base = results.get("mailbox")
        ratio, cpu_ratio = ((f"{base[0] / secs:>9.2f}", f"{base[4] / cpu:>6.2f}")
                            if isinstance(base, tuple) else (f"{'':>9}", f"{'':>6}"))
        print(f"{label:<32} {secs:>8.2f} {n / secs:>9,.0f} {peak:>8.0f} "
              f"{workers if workers else 0:>9.0f} {ratio} {cpu:>7.1f} {cpu_ratio}   "
              f"({n:,} read)", flush=True)
    base, kith = results.get("mailbox"), results.get("import")
    if isinstance(base, tuple) and isinstance(kith, tuple):
        print(f"kith import / mailbox.mbox: {base[0] / kith[0]:.2f}x faster (target >= 3x)")
    load = results.get("load")
    if isinstance(load, tuple) and isinstance(kith, tuple):
        print(f"rebuild after the load (kith import - kith load): {kith[0] - load[0]:.1f} s, "
              f"{(kith[0] - load[0]) / kith[0]:.0%} of kith import")
    return kith[1] if isinstance(kith, tuple) else None


if __name__ == "__main__":
    main()
