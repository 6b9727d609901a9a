"""The long fuzzing run: every connector against mutated copies of real files, for minutes.

The same mutations (tests/fuzz/mutations.py) and properties (tests/fuzz/properties.py) as the
short run in the test suite, drawn here from a seeded `random.Random` instead of Hypothesis, so a
run counts every failure instead of stopping at the first, and any failure is replayed from its
seed and input number. Prints, per connector: inputs tried, failures, distinct failure
signatures (exception type and the line that raised), and the slowest input; an input that takes
longer than SLOW_S (60 s) counts as a failure, for a user it is a hang. The baseline is the
unmutated seed files, read once each.

    python bench/fuzz.py                       # 10 minutes, split evenly over the connectors
    python bench/fuzz.py --minutes 30 --seed 7
    python bench/fuzz.py --only ics --replay 7:1234   # one input again, with its traceback
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz import properties  # noqa: E402
from tests.fuzz.mutations import mutate, random_mutation, seeds  # noqa: E402

SLOW_S = 60        # an input that takes longer hangs a user's import: counted as a failure


class SlowInput(BaseException):
    """Raised by the alarm inside a check; a BaseException so kith's file boundary can't catch it."""


def _too_slow(signum, frame):
    raise SlowInput(f"no answer within {SLOW_S} s")


CONNECTORS = {
    "vcard": (lambda: seeds("vcard"), properties.vcard),
    "ics": (lambda: seeds("ics"), properties.ics),
    "contacts_csv": (lambda: seeds("contacts_csv"), properties.contacts_csv),
    "linkedin": (lambda: seeds("linkedin"), properties.linkedin),
    "mail": (lambda: seeds("mail"), properties.mail),
    "maildir": (lambda: [properties.maildir_seed()], properties.maildir),
}


def _input(rng: random.Random, files: list[Path]) -> tuple[Path, list, bytes]:
    seed = rng.choice(files)
    changes = [random_mutation(rng) for _ in range(rng.randint(1, 3))]
    return seed, changes, mutate(seed.read_bytes(), changes)


def _check(name: str, check, seed: Path, data: bytes, folder: Path) -> None:
    if name == "mail":
        check(data, folder, seed.suffix)
    else:
        check(data, folder)


def _signature(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = next((f for f in reversed(frames) if "/site-packages/" not in f.filename),
                 frames[-1] if frames else None)
    place = f"{Path(where.filename).name}:{where.lineno}" if where else "?"
    return f"{type(exc).__name__} at {place}"


def run(name: str, seconds: float, seed: int, work: Path) -> dict:
    files, check = CONNECTORS[name]
    files = files()
    rng = random.Random(f"{seed}:{name}")
    started = time.perf_counter()
    baseline = time.perf_counter()
    for path in files:                             # the unmutated seeds must pass too
        folder = Path(tempfile.mkdtemp(dir=work))
        _check(name, check, path, path.read_bytes(), folder)
    baseline = time.perf_counter() - baseline
    tried, failures, signatures, slowest = 0, 0, Counter(), (0.0, "")
    first_failure = {}
    while time.perf_counter() - started < seconds:
        number = tried
        path, changes, data = _input(rng, files)
        folder = Path(tempfile.mkdtemp(dir=work))
        t0 = time.perf_counter()
        signal.alarm(SLOW_S)
        try:
            _check(name, check, path, data, folder)
        except (Exception, SlowInput) as exc:
            failures += 1
            signature = _signature(exc)
            signatures[signature] += 1
            first_failure.setdefault(signature, f"input {number}: {path.name} {changes}")
        finally:
            signal.alarm(0)
        elapsed = time.perf_counter() - t0
        if elapsed > slowest[0]:
            slowest = (elapsed, f"{path.name} {changes}"[:120])
        tried += 1
        shutil.rmtree(folder, ignore_errors=True)
    return {"connector": name, "seeds": len(files), "baseline_s": baseline, "tried": tried,
            "failures": failures, "signatures": signatures, "first": first_failure,
            "slowest": slowest}


def replay(name: str, seed: int, number: int) -> None:
    files, check = CONNECTORS[name]
    files = files()
    rng = random.Random(f"{seed}:{name}")
    for _ in range(number + 1):
        path, changes, data = _input(rng, files)
    print(f"{name} input {number}: {path} {changes}")
    with tempfile.TemporaryDirectory() as work:
        _check(name, check, path, data, Path(work))
    print("passes")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=sorted(CONNECTORS), action="append")
    parser.add_argument("--replay", help="SEED:N: run input N of that seed again (with --only)")
    args = parser.parse_args()
    names = args.only or list(CONNECTORS)
    if args.replay:
        seed, number = map(int, args.replay.split(":"))
        replay(names[0], seed, number)
        return 0
    signal.signal(signal.SIGALRM, _too_slow)
    share = args.minutes * 60 / len(names)
    results = []
    with tempfile.TemporaryDirectory(prefix="kith-fuzz-") as work:
        for name in names:
            results.append(run(name, share, args.seed, Path(work)))
            r = results[-1]
            print(f"{name}: {r['tried']:,} inputs, {r['failures']:,} failures", flush=True)
    sys.stdout.reconfigure(line_buffering=True)
    print()
    print(f"{'connector':<14}{'seeds':>6}{'seeds read (s)':>16}{'inputs':>10}{'failures':>10}"
          f"{'slowest input (s)':>19}")
    for r in results:
        print(f"{r['connector']:<14}{r['seeds']:>6}{r['baseline_s']:>16.1f}{r['tried']:>10,}"
              f"{r['failures']:>10,}{r['slowest'][0]:>19.2f}")
    total = sum(r["tried"] for r in results)
    failed = sum(r["failures"] for r in results)
    print(f"{'total':<14}{'':>6}{'':>16}{total:>10,}{failed:>10,}")
    for r in results:
        for signature, n in r["signatures"].most_common():
            print(f"  {r['connector']}: {n:,} x {signature}; first: {r['first'][signature]} "
                  f"(replay: --only {r['connector']} --replay {args.seed}:"
                  f"{r['first'][signature].split(':')[0].split()[-1]})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
