"""Benchmark: kith's relationship tiers against the demo world's hidden truth.

The seeded demo world (examples/world.py, seed 7 unless --seed, today's date) is synced into a fresh warehouse
with `kith sync`. Each truth person (the owner, role addresses and automated senders left out)
is matched to the kith person holding most of their records (records map to truth by vCard
UID, e-mail, LinkedIn profile URL or phone: bench/truth.py). Printed: the confusion matrix of
truth tier (rows) against kith tier (columns); the precision and recall of "real relationship"
(inner_circle, active, cooling) against "list" (every other tier); and whether every
inner-circle truth person is in inner_circle or active. Baseline in the same run: "anyone you
ever exchanged mail with both ways is real" (kith's sent and received counts, no recency, no
intimacy). Targets: precision and recall of "real" at least 0.95; every inner-circle truth
person in inner_circle or active. Also printed: the same precision and recall when the world's
chat exports (WhatsApp, Telegram) are left out of the sync, and what kith makes of the people
who are close only through chat, with and without them.

    python bench/relationships_world.py [--seed 7]
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
KITH_TIERS = ["inner_circle", "active", "cooling", "dormant", "unanswered", "inbound_only",
              "list_only", "seen_only", "(none)"]


def precision_recall(truth_real: set[str], predicted_real: set[str]) -> tuple[float, float]:
    hit = len(truth_real & predicted_real)
    return (hit / len(predicted_real) if predicted_real else 1.0,
            hit / len(truth_real) if truth_real else 1.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    seed = parser.parse_args().seed
    with tempfile.TemporaryDirectory(prefix="kith-tiers-") as tmp:
        started = time.perf_counter()
        db = synced_world(Path(tmp), seed=seed)
        sync_seconds = time.perf_counter() - started
        people = load_truth(Path(tmp))
        evaluated = {t: p for t, p in people.items()
                     if p["tier"] not in ("owner", "role", "automated")}
        kith_tier, kith_person, two_way = kith_tiers(db, people, evaluated)
        without, _, _ = kith_tiers(synced_world(Path(tmp), seed=seed, chats=False), people,
                                   evaluated)

    truth_tiers = ["inner_circle", "active", "cooling", "dormant", "unanswered",
                   "inbound_only", "list_only"]
    matrix = Counter((evaluated[t]["tier"], kith_tier[t]) for t in evaluated)
    print(f"Tiers on the demo world (seed {seed}): {len(evaluated):,} truth people; "
          f"sync {sync_seconds:.1f} s")
    print(f"{'truth / kith':<14}" + "".join(f"{k[:12]:>13}" for k in KITH_TIERS))
    for t in truth_tiers:
        print(f"{t:<14}" + "".join(f"{matrix[(t, k)]:>13,}" for k in KITH_TIERS))

    truth_real = {t for t in evaluated if evaluated[t]["tier"] in REAL}
    kith_real = {t for t in evaluated if kith_tier[t] in REAL}
    baseline_real = {t for t in evaluated if kith_person.get(t) in two_way}
    p, r = precision_recall(truth_real, kith_real)
    bp, br = precision_recall(truth_real, baseline_real)
    print()
    print(f"{'real relationship':<28} {'precision':>9} {'recall':>7}")
    print(f"{'kith tiers':<28} {p:>9.3f} {r:>7.3f}")
    print(f"{'baseline: ever two-way mail':<28} {bp:>9.3f} {br:>7.3f}")
    inner = [t for t in evaluated if evaluated[t]["tier"] == "inner_circle"]
    inner_ok = [t for t in inner if kith_tier[t] in ("inner_circle", "active")]
    print(f"inner-circle truth people in inner_circle or active: {len(inner_ok)} of {len(inner)}")
    met = p >= 0.95 and r >= 0.95 and len(inner_ok) == len(inner)
    print(f"target (precision and recall >= 0.95, every inner-circle person inner_circle or "
          f"active): {'met' if met else 'NOT met'}")
    for t in sorted(truth_real ^ kith_real)[:12]:
        print(f"  {t} {evaluated[t]['name']}: truth {evaluated[t]['tier']}, kith {kith_tier[t]}")
    np_, nr = precision_recall(truth_real, {t for t in evaluated if without[t] in REAL})
    print()
    print(f"{'chats':<28} {'precision':>9} {'recall':>7}")
    print(f"{'without the chat exports':<28} {np_:>9.3f} {nr:>7.3f}")
    print(f"{'with them':<28} {p:>9.3f} {r:>7.3f}")
    for t in sorted(t for t in evaluated if evaluated[t]["circle"] == "chat friend"):
        print(f"  {t} {evaluated[t]['name']}: truth {evaluated[t]['tier']}, kith "
              f"{without[t]} without chats, {kith_tier[t]} with them")


def kith_tiers(db: Path, people: dict, evaluated: dict) -> tuple[dict, dict, set]:
    """truth_id -> kith tier and kith person (the person holding most of their records), and
    the kith people with two-way contact."""
    con = duckdb.connect(str(db), read_only=True)
    records = record_truth(con, people)
    person_of = dict(con.execute("select record_key, person_id from person_ids").fetchall())
    tiers = dict(con.execute("select person_id, tier from relationships").fetchall())
    two_way = {pid for pid, sent, received in con.execute(
        "select person_id, n_sent, n_received from relationships").fetchall()
        if (sent or 0) > 0 and (received or 0) > 0}
    con.close()
    votes: dict[str, Counter] = defaultdict(Counter)
    for key, truth_id in records.items():
        votes[truth_id][person_of[key]] += 1
    kith_tier, kith_person = {}, {}
    for truth_id in evaluated:
        if votes[truth_id]:
            kith_person[truth_id] = votes[truth_id].most_common(1)[0][0]
            kith_tier[truth_id] = tiers.get(kith_person[truth_id], "(none)")
        else:
            kith_tier[truth_id] = "(none)"
    return kith_tier, kith_person, two_way


if __name__ == "__main__":
    main()
