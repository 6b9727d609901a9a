"""Benchmark: `kith intro` against the demo world's hidden truth of who knows whom.

The seeded demo world (examples/world.py; seeds 7 and 8 unless --seed) is synced into a fresh
warehouse with `kith sync`. Its truth.json says who knows whom (`knows`): people on a group
thread together, and employees of companies the owner reaches only through a colleague, an
external or a friend who works with them. For every organisation with at least one reachable
employee (one whose employer the files show, by a work address or a LinkedIn connection, and
who knows someone the truth puts in the owner's inner circle, active or cooling tiers),
`kith intro <company>`
(transforms.introductions: find_target, find_paths) ranks its introducers; an introducer is
right when the truth says they know someone at the company. Printed per seed: precision at 1
and at 3 of the introducers, coverage (the share of those organisations for which kith lists a
true introducer at all), and the slowest `kith intro` answer. Baseline in the same run: the
same paths ranked by the owner's strength with the introducer alone (the closest contact who
was ever on a small thread with someone there). Targets (issue 15): precision@1 at least 0.9,
coverage at least 0.9.

    python bench/introductions_world.py [--seed 7 --seed 8]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import duckdb

from truth import load_truth, record_truth, synced_world

REAL = {"inner_circle", "active", "cooling"}


def score(ranked: dict[str, list[str]], truth: dict[str, set[str]]) -> tuple[float, float, float]:
    """(precision@1, precision@3, coverage) of introducer truth ids ranked per company."""
    at1 = [r[0] in truth[c] for c, r in ranked.items() if r]
    at3 = [t in truth[c] for c, r in ranked.items() for t in r[:3]]
    covered = [any(t in truth[c] for t in ranked.get(c, [])) for c in truth]
    return (sum(at1) / len(at1) if at1 else 0.0, sum(at3) / len(at3) if at3 else 0.0,
            sum(covered) / len(covered) if covered else 0.0)


def run(seed: int) -> dict:
    from kith.transforms.introductions import PATH_COLUMNS, find_paths, find_target

    with tempfile.TemporaryDirectory(prefix="kith-intro-") as tmp:
        db = synced_world(Path(tmp), seed=seed)
        people = load_truth(Path(tmp))
        con = duckdb.connect(str(db), read_only=True)
        records = record_truth(con, people)
        person_of = dict(con.execute("select record_key, person_id from person_ids").fetchall())
        votes: dict[int, Counter] = defaultdict(Counter)
        for key, truth_id in records.items():
            votes[person_of[key]][truth_id] += 1
        truth_of = {pid: v.most_common(1)[0][0] for pid, v in votes.items()}

        # every company, and who in the owner's real tiers truly knows someone there whose
        # employer the files show (a work address, or a LinkedIn connection, which names it)
        knowers: dict[str, set[str]] = defaultdict(set)
        for p in people.values():
            shown = "linkedin/Connections.csv" in p["sources"] or any(
                e.lower().endswith("@" + (p["org_domain"] or "")) for e in p["emails"])
            if p["org"] and p["kind"] == "person" and p["tier"] != "owner" and shown:
                for t in p["knows"]:
                    if people[t]["tier"] in REAL:
                        knowers[p["org"]].add(t)
        kith_paths, baseline, seconds = {}, {}, []
        for company in sorted(knowers):
            started = time.perf_counter()
            try:
                target = find_target(con, company)
                rows = find_paths(con, target)
            except Exception as exc:          # a target kith cannot resolve counts as a miss
                print(f"  seed {seed}: {company}: {type(exc).__name__}")
                rows = []
            seconds.append(time.perf_counter() - started)
            paths = [dict(zip(PATH_COLUMNS, row)) for row in rows]
            kith_paths[company] = [p for p in paths if p["path"] == "introducer"]
            baseline[company] = sorted(kith_paths[company],
                                       key=lambda p: -(p["introducer_strength"] or 0))
        con.close()

    def truth_ids(paths):
        return [truth_of.get(p["introducer_person_id"], "") for p in paths]

    ranked = {c: truth_ids(rows) for c, rows in kith_paths.items()}
    ranked_base = {c: truth_ids(rows) for c, rows in baseline.items()}
    return {"seed": seed, "n": len(knowers), "kith": score(ranked, knowers),
            "baseline": score(ranked_base, knowers), "slowest": max(seconds, default=0.0)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, action="append")
    seeds = parser.parse_args().seed or [7, 8]
    results = [run(seed) for seed in seeds]
    print(f"{'seed':>4} {'orgs':>5} {'ranking':<32} {'prec@1':>7} {'prec@3':>7} {'coverage':>8}"
          f" {'slowest intro':>14}")
    for r in results:
        for label, key in (("kith intro", "kith"), ("baseline: owner's tie alone", "baseline")):
            p1, p3, cov = r[key]
            print(f"{r['seed']:>4} {r['n']:>5} {label:<32} {p1:>7.3f} {p3:>7.3f} {cov:>8.3f}"
                  f" {r['slowest'] if key == 'kith' else 0:>12.3f} s")
    met = all(r["kith"][0] >= 0.9 and r["kith"][2] >= 0.9 for r in results)
    print(f"target (precision@1 >= 0.9 and coverage >= 0.9 on every seed): "
          f"{'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
