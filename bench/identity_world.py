"""Benchmark: identity resolution against known truth, and its speed at 100,000 records.

1. Quality. The seeded demo world (examples/world.py: LinkedIn export mostly without e-mails,
   event cards, a phone book, two years of mail, a calendar; nicknames, middle names, a maiden
   name, typos, several and Gmail-variant addresses, job changes, shared role addresses and a
   family phone, three John Smiths) is synced into a fresh warehouse with `kith sync`. Each
   identity record is mapped to its true person through truth.json (which kith never reads) by
   vCard UID, e-mail address, LinkedIn profile URL or phone; records of shared role handles
   (truth kind `role`) and unmapped records are left out. Pairwise precision, recall and F1 over
   every pair of records kith put in one person, and wrong merges (people holding records of
   more than one true person), for each seed given (7, 8 and 9 by default). Target: precision
   >= 0.995, recall >= 0.98 on every world.
2. Speed. A synthetic population of about 100,000 records (names from the world's lists, each
   person on one to four sources with the same variations) resolved in memory by
   `transforms.identity.resolve.resolve` (estimating its match model from them, then scoring),
   next to a baseline in the same run: grouping the same records by exact shared e-mail only
   (the floor any resolver pays). Target: under 30 s.

    python bench/identity_world.py [--records 100000]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

import duckdb  # noqa: E402

import world  # noqa: E402
from truth import load_truth, record_truth, synced_world  # noqa: E402
from kith.transforms.identity.resolve import IdentityRecord, fold_email, resolve  # noqa: E402


def pairs_of(groups):
    return {tuple(sorted(p)) for g in groups for p in combinations(g, 2)}


def score(predicted: dict[str, int], truth: dict[str, str]) -> dict:
    """Pairwise precision / recall / F1 over records with a known truth."""
    keys = [k for k in predicted if k in truth]
    by_pred, by_true = defaultdict(list), defaultdict(list)
    for k in keys:
        by_pred[predicted[k]].append(k)
        by_true[truth[k]].append(k)
    pred, true = pairs_of(by_pred.values()), pairs_of(by_true.values())
    hit = len(pred & true)
    precision = hit / len(pred) if pred else 1.0
    recall = hit / len(true) if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    wrong = sum(1 for g in by_pred.values() if len({truth[k] for k in g}) > 1)
    return {"records": len(keys), "true_pairs": len(true), "pred_pairs": len(pred),
            "precision": precision, "recall": recall, "f1": f1, "wrong_merges": wrong}


def world_quality(workdir: Path, seed: int = 7) -> tuple[dict, list[str]]:
    db = synced_world(workdir, seed=seed)
    people = load_truth(workdir)
    role_ids = {t for t, p in people.items() if p["kind"] == "role"}
    con = duckdb.connect(str(db), read_only=True)
    predicted = dict(con.execute("select record_key, person_id from person_ids").fetchall())
    truth = {k: t for k, t in record_truth(con, people).items() if t not in role_ids}
    seconds = con.execute("select seconds from identity_builds order by build_id desc limit 1"
                          ).fetchone()[0]
    con.close()
    result = score(predicted, truth)
    result["seconds"] = seconds
    return result, _explain(predicted, truth)


def _explain(predicted, truth, limit=8) -> list[str]:
    lines = []
    by_true = defaultdict(list)
    for k, t in truth.items():
        by_true[t].append(k)
    for t, keys in by_true.items():
        persons = {predicted[k] for k in keys}
        if len(persons) > 1 and len(lines) < limit:
            lines.append(f"  missed: {t} split into {len(persons)}: {sorted(keys)[:4]}")
    by_pred = defaultdict(list)
    for k in truth:
        by_pred[predicted[k]].append(k)
    for p, keys in by_pred.items():
        if len({truth[k] for k in keys}) > 1:
            lines.append(f"  WRONG: person {p} holds {sorted({truth[k] for k in keys})}")
    return lines


_SYLLABLES = ("ka ri to an el mo su ve da lin or na be go tha ren vi as ko ul mar te si "
              "ber wen do ha ni ro ly ca fe").split()


def _invented(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


def synthetic(n_records: int, seed: int = 11) -> tuple[list[IdentityRecord], dict[str, str]]:
    """About n_records records of people spread over four kinds of source.

    Names follow a long tail as real ones do: given names from the world's list (weights
    1/(rank+5))
    with one in five invented; family names one in three from the world's list (same weights,
    so the first names of the list repeat often) and the rest invented from syllables. Employers: a few
    large ones hold many people, most hold a handful."""
    rng = random.Random(seed)
    given, family = list(world.GIVEN), list(world.FAMILY)
    given_weights = [1 / (r + 5) for r in range(len(given))]
    family_weights = [1 / (r + 5) for r in range(len(family))]
    companies = [f"{w} {k}" for w in world.COMPANY_WORDS for k in world.COMPANY_KINDS]
    rng.shuffle(companies)
    company_weights = [1 / (r + 5) for r in range(len(companies))]
    nick = world.NICKNAMES
    records, truth = [], {}
    i = 0
    while len(records) < n_records:
        i += 1
        g = (rng.choices(given, given_weights)[0] if rng.random() < 0.8
             else _invented(rng, 2))
        f = (rng.choices(family, family_weights)[0] if rng.random() < 1 / 3
             else _invented(rng, rng.choice((2, 3))))
        org = " ".join(rng.choices(companies, company_weights)[0].split())
        domain = org.lower().replace(" ", "") + ".example"
        work = f"{g.lower()}.{f.lower()}{i}@{domain}"
        gmail = f"{g.lower()}{f.lower()}{i}@gmail.com"
        phone = f"+1415{i:07d}"
        sources = rng.sample(["linkedin", "card", "phone", "mail"], rng.randint(1, 4))
        for s in sources:
            key = f"{s}:{i}"
            if s == "linkedin":
                rec = IdentityRecord(key, "linkedin", given_name=g, family_name=f,
                                     org=org + rng.choice(["", " Inc.", " LLC"]),
                                     profiles=(f"https://www.linkedin.com/in/{g}-{f}-{i}",),
                                     platform="linkedin")
            elif s == "card":
                rec = IdentityRecord(key, f"cards{i % 7}", full_name=f"{g} {f}", org=org,
                                     emails=(work,), phones=(phone,) if rng.random() < .5 else ())
            elif s == "phone":
                first = rng.choice(nick.get(g, [g]))
                rec = IdentityRecord(key, "phone", full_name=f"{first} {f}", phones=(phone,),
                                     emails=(gmail.replace(g.lower(), g.lower() + "."),)
                                     if rng.random() < .3 else ())
            else:
                address = rng.choice([work, gmail])
                rec = IdentityRecord(f"email:{address}", "email", full_name=f"{g} {f}",
                                     emails=(address,), names_seen=(f"{g} {f}",),
                                     names_reliable=False)
            if rec.key not in truth:
                records.append(rec)
                truth[rec.key] = str(i)
    return records, truth


def by_email_only(records: list[IdentityRecord]) -> int:
    first: dict[str, str] = {}
    groups = 0
    for r in records:
        for e in r.emails:
            if fold_email(e) not in first:
                first[fold_email(e)] = r.key
                groups += 1
    return groups


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, nargs="*", default=[7, 8, 9],
                        help="demo worlds to score (examples/world.py --seed)")
    parser.add_argument("--explain", action="store_true", help="print missed and wrong people")
    args = parser.parse_args()

    print("Identity resolution on demo worlds, against truth.json")
    print(f"{'seed':>5} {'records':>8} {'true_pairs':>10} {'pred_pairs':>10} {'precision':>9} "
          f"{'recall':>7} {'f1':>7} {'wrong_merges':>12} {'seconds':>8}")
    all_met = True
    for seed in args.seeds:
        with tempfile.TemporaryDirectory(prefix="kith-identity-") as tmp:
            q, misses = world_quality(Path(tmp), seed)
        print(f"{seed:>5} {q['records']:>8,} {q['true_pairs']:>10,} {q['pred_pairs']:>10,} "
              f"{q['precision']:>9.4f} {q['recall']:>7.4f} {q['f1']:>7.4f} "
              f"{q['wrong_merges']:>12} {q['seconds']:>8.2f}")
        if args.explain:
            for line in misses:
                print(line)
        all_met &= q["precision"] >= 0.995 and q["recall"] >= 0.98
    if args.seeds:
        print(f"target precision >= 0.995 and recall >= 0.98 on every world: "
              f"{'met' if all_met else 'NOT met'}")

    records, truth = synthetic(args.records)
    started = time.perf_counter()
    groups = by_email_only(records)
    floor = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    result = resolve(records)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    predicted = {k: n for n, cluster in enumerate(result.clusters) for k in cluster}
    s = score(predicted, truth)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(f"Resolution of {len(records):,} synthetic records (in memory)")
    print(f"{'method':<22} {'seconds':>8} {'cpu_s':>8} {'people':>8} {'precision':>9} "
          f"{'recall':>7}")
    print(f"{'exact e-mail only':<22} {floor:>8.2f} {'':>8} {groups:>8,} {'':>9} {'':>7}")
    print(f"{'kith resolve':<22} {seconds:>8.2f} {cpu:>8.2f} {len(result.clusters):>8,} "
          f"{s['precision']:>9.4f} {s['recall']:>7.4f}")
    print(f"peak RSS {peak:,.0f} MB; target under 30 s: {'met' if seconds < 30 else 'NOT met'}")
    if result.model is not None:
        print(result.model.note)


if __name__ == "__main__":
    main()
