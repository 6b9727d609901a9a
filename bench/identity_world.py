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
   >= 0.995, recall >= 0.98 on every world. Three quirk tables follow. (a) Recall per quirk the
   generator recorded in truth.json (`quirks`: an address with no name, a job change with mail
   from the old employer, a nickname against the given name and a middle initial, diacritics
   dropped in one source, a Gmail variant, an organisation whose domain does not spell it): a
   true pair carries the quirk when one of its records holds the identifiers the quirk concerns
   and the other does not. (b) People who must stay apart (two of one common name at one
   employer, a shared family phone): how many pairs of their records were merged, each a wrong
   merge. (c) Recall per quirk read off the two records alone (no shared handle, no name, a
   nickname, a middle name or initial, diacritics, organisations that differ, a Gmail variant,
   a name another person shares...), tags that apply to any world. With several seeds, the
   pooled precision and recall and the tables summed over them close the run. With
   `--baseline CHECKOUT` (another kith source tree with its own .venv, e.g. main) that kith
   syncs the same worlds and resolves the same population in the same run, printed beside
   this one.
2. Speed. A synthetic population of about 100,000 records (names from the world's lists, each
   person on one to four sources with the same variations) resolved in memory by
   `transforms.identity.resolve.resolve` (estimating its match model from them, then scoring),
   next to a baseline in the same run: grouping the same records by exact shared e-mail only
   (the floor any resolver pays), with kith's recall apart on the true pairs whose name another
   person shares (nobody can tell those apart by the name; their share grows with the
   population). Target: under 30 s.

    python bench/identity_world.py [--seeds 7 8 9] [--records 100000] [--baseline ../main]
                                   [--today 2026-12-06] [--explain]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from datetime import date
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

import duckdb  # noqa: E402

import world  # noqa: E402
from truth import load_truth, record_truth, synced_world  # noqa: E402
from kith.profiles import normalize_profile_url  # noqa: E402
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
    return {"records": len(keys), "true_pairs": len(true), "pred_pairs": len(pred), "hits": hit,
            "precision": precision, "recall": recall, "f1": f1, "wrong_merges": wrong}


def world_quality(workdir: Path, seed: int = 7, checkout: Path = ROOT,
                  records: dict | None = None, today: date | None = None
                  ) -> tuple[dict, list[str], dict[str, dict[str, tuple[int, int]]], dict]:
    """Scores, missed and wrong people in words, the quirk tables and the records of the kith
    in `checkout` on the world of `seed` (generated into workdir once). Quirk tables: "world",
    recall per quirk the generator recorded in truth.json (`world_quirk_recall`); "apart",
    wrong merges among people who must stay apart (`kept_apart`); "records", recall per quirk
    read off the records (`quirk_recall`). Quirks are read off `records` when given (another
    run's, so that two resolvers are scored on the same tags), else off this warehouse's."""
    db = synced_world(workdir, seed=seed, checkout=checkout, today=today)
    people = load_truth(workdir)
    role_ids = {t for t, p in people.items() if p["kind"] == "role"}
    con = duckdb.connect(str(db), read_only=True)
    predicted = dict(con.execute("select record_key, person_id from person_ids").fetchall())
    truth = {k: t for k, t in record_truth(con, people).items() if t not in role_ids}
    seconds = con.execute("select seconds from identity_builds order by build_id desc limit 1"
                          ).fetchone()[0]
    columns = ("record_key", "full_name", "given_name", "family_name", "emails", "phones",
               "profiles", "org", "names_seen")
    if records is None:
        records = {row[0]: dict(zip(columns, row)) for row in con.execute(
            f"select {', '.join(columns)} from int_identity_records").fetchall()}
    con.close()
    result = score(predicted, truth)
    result["seconds"] = seconds
    tables = {"world": world_quirk_recall(predicted, truth, records, people),
              "apart": kept_apart(predicted, truth, people),
              "records": quirk_recall(predicted, truth, records)}
    return result, _explain(predicted, truth), tables, records


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
            lines.append(f"  WRONG: person {p} holds {sorted({truth[k] for k in keys})}: {sorted(keys)}")
    return lines


# -- recall per quirk -------------------------------------------------------------------------
# Each true pair of records (two records of one person) is tagged with what makes it hard, read
# off the two records alone (not off how the generator made them), so the same tags apply to
# any world: a pair can carry several.

def _fold(text: str | None) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    return re.sub(r"[^a-z ]+", " ", "".join(c for c in text if not unicodedata.combining(c))
                  .lower()).strip()


def _record_name(r: dict) -> str:
    name = r["full_name"] or " ".join(x for x in (r["given_name"], r["family_name"]) if x)
    if not name and r["names_seen"]:
        name = r["names_seen"][0]
    # A calendar guest with no name is written with the address as its name: no name.
    return "" if not name or "@" in name else name


def _org_words(r: dict) -> set[str]:
    words = {w for w in _fold(r["org"]).split() if len(w) > 2}
    for e in r["emails"] or []:
        domain = e.rpartition("@")[2].lower()
        if domain and not world_free_mail(domain):
            words.add(re.sub(r"[^a-z]", "", domain.split(".")[0]))
    return {w for w in words if w}


def world_free_mail(domain: str) -> bool:
    from kith.organisations import is_free_mail
    return is_free_mail(domain)


def quirks(a: dict, b: dict, name_holders: Counter) -> list[str]:
    """What makes the true pair (a, b) hard to see as one person."""
    tags = []
    shared = (set(map(fold_email, a["emails"] or [])) & set(map(fold_email, b["emails"] or []))
              or set(a["phones"] or []) & set(b["phones"] or [])
              or set(a["profiles"] or []) & set(b["profiles"] or []))
    tags.append("shares an address, phone or profile" if shared else "no shared handle")
    raw_a, raw_b = _record_name(a), _record_name(b)
    na, nb = _fold(raw_a).split(), _fold(raw_b).split()
    if not na or not nb:
        tags.append("no name on one side (address only)")
    else:
        if raw_a != raw_b and na == nb and raw_a.lower() != raw_b.lower():
            tags.append("diacritics or case differ")
        if na[0] != nb[0] and len(na[0]) > 1 and len(nb[0]) > 1 and na[-1] == nb[-1]:
            tags.append("other given name (nickname)")
        if na[-1] != nb[-1] and na[0] == nb[0]:
            tags.append("other family name")
        if na[0] != nb[0] and na[-1] != nb[-1]:
            tags.append("names differ entirely")
        if (len(na) > 2) != (len(nb) > 2) or any(len(t) == 1 for t in na + nb):
            tags.append("middle name or initial on one side")
        if name_holders[" ".join([na[0], na[-1]])] > 1 or name_holders[
                " ".join([nb[0], nb[-1]])] > 1:
            tags.append("name shared with another person")
    oa, ob = _org_words(a), _org_words(b)
    if oa and ob and not oa & ob:
        tags.append("organisations differ (job change)")
    ga = {e.lower() for e in a["emails"] or [] if e.lower().endswith("@gmail.com")}
    gb = {e.lower() for e in b["emails"] or [] if e.lower().endswith("@gmail.com")}
    if ga and gb and not ga & gb and set(map(fold_email, ga)) & set(map(fold_email, gb)):
        tags.append("Gmail dots or +tag variant")
    return tags


def quirk_recall(predicted: dict, truth: dict, records: dict) -> dict[str, tuple[int, int]]:
    """quirk -> (true pairs found, true pairs) over the true pairs carrying it."""
    by_true = defaultdict(list)
    for k, t in truth.items():
        if k in records and k in predicted:
            by_true[t].append(k)
    holders = defaultdict(set)
    for k, t in truth.items():
        if k in records:
            n = _fold(_record_name(records[k])).split()
            if n:
                holders[" ".join([n[0], n[-1]])].add(t)
    name_holders = Counter({n: len(ts) for n, ts in holders.items()})
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for keys in by_true.values():
        for a, b in combinations(sorted(keys), 2):
            found = predicted[a] == predicted[b]
            for tag in ["all"] + quirks(records[a], records[b], name_holders):
                out[tag][0] += found
                out[tag][1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


# -- the generator's own quirks (truth.json `quirks`) -------------------------------------------

def _handles(key: str, r: dict) -> set[str]:
    """The identifiers a record holds, spelt as truth.json's quirks spell them."""
    found = {f"email:{e.lower()}" for e in r["emails"] or []}
    found |= {f"phone:{p}" for p in r["phones"] or []}
    found |= {f"profile:{normalize_profile_url(u) or u}" for u in r["profiles"] or []}
    if key.startswith("card:uid:"):
        found.add("uid:" + key.removeprefix("card:uid:"))
    return found


def _quirk_side(handles: list[str]) -> set[str]:
    return {"profile:" + (normalize_profile_url(h[8:]) or h[8:]) if h.startswith("profile:")
            else h for h in handles}


def world_quirk_recall(predicted: dict, truth: dict, records: dict,
                       people: dict[str, dict]) -> dict[str, tuple[int, int]]:
    """quirk -> (true pairs found, true pairs) for the quirks the generator recorded: a true
    pair carries a quirk when one record holds one of its `handles` and the other holds none of
    them but one of its `versus` (any record, when `versus` is empty)."""
    by_true = defaultdict(list)
    for k, t in truth.items():
        if k in records and k in predicted:
            by_true[t].append(k)
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t, keys in by_true.items():
        sides = [(q["quirk"], _quirk_side(q["handles"]), _quirk_side(q["versus"]))
                 for q in people[t].get("quirks", []) if "handles" in q]
        if not sides:
            continue
        held = {k: _handles(k, records[k]) for k in keys}
        for a, b in combinations(sorted(keys), 2):
            found = predicted[a] == predicted[b]
            for quirk, handles, versus in sides:
                if any(held[x] & handles and not held[y] & handles
                       and (not versus or held[y] & versus) for x, y in ((a, b), (b, a))):
                    out[quirk][0] += found
                    out[quirk][1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def kept_apart(predicted: dict, truth: dict,
               people: dict[str, dict]) -> dict[str, tuple[int, int]]:
    """quirk -> (pairs merged, pairs) over the pairs of records of two people the generator
    says must stay apart (`with`: the same name at the same employer, a shared family phone).
    Every merged pair is a wrong merge."""
    by_true = defaultdict(list)
    for k, t in truth.items():
        if k in predicted:
            by_true[t].append(k)
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t, p in people.items():
        for q in p.get("quirks", []):
            for other in q.get("with", []):
                if other < t:
                    continue                 # each pair of people once
                for a in by_true[t]:
                    for b in by_true[other]:
                        out[q["quirk"]][0] += predicted[a] == predicted[b]
                        out[q["quirk"]][1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


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


def speed(n_records: int) -> dict:
    """Resolve the synthetic population with this checkout's kith, in this process."""
    records, truth = synthetic(n_records)
    started = time.perf_counter()
    groups = by_email_only(records)
    floor = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    result = resolve(records)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    predicted = {k: n for n, cluster in enumerate(result.clusters) for k in cluster}
    s = score(predicted, truth)
    model = getattr(result, "model", None)
    # The generator draws names from fixed lists, so the more people, the more of them share a
    # full name with someone else (a sixth of the true pairs at 100,000 records, two fifths at a
    # million), and records that agree on a name alone cannot be told apart by anyone: recall
    # is shown for those and for the rest apart, so that a fall with size can be read.
    tags = quirk_recall(predicted, truth, {r.key: vars(r) for r in records})
    found, n = tags["all"]
    shared = tags.get("name shared with another person", (0, 0))
    return {"records": len(records), "floor": floor, "email_groups": groups,
            "seconds": seconds, "cpu": cpu, "people": len(result.clusters),
            "precision": s["precision"], "recall": s["recall"],
            "peak_mb": peak_mb(), "name_shared": shared,
            "name_alone": (found - shared[0], n - shared[1]),
            "note": model.note if model is not None else ""}


def peak_mb() -> float:
    """This process's own peak resident memory (VmHWM): ru_maxrss would carry a parent's peak
    across fork + exec."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_BASELINE_SPEED = """
import json, sys
sys.argv = ["identity_world"]
sys.path.insert(0, {bench!r})
import identity_world as b
{peak}
records, truth = b.synthetic({n})
started, cpu = b.time.perf_counter(), b.time.process_time()
result = b.resolve(records)
seconds, cpu = b.time.perf_counter() - started, b.time.process_time() - cpu
predicted = {{k: n for n, cluster in enumerate(result.clusters) for k in cluster}}
s = b.score(predicted, truth)
print(json.dumps({{"seconds": seconds, "cpu": cpu, "people": len(result.clusters),
                  "precision": s["precision"], "recall": s["recall"],
                  "peak_mb": peak_mb()}}))
"""


def baseline_speed(checkout: Path, n_records: int) -> dict:
    """The same synthetic population resolved by another checkout's kith (its own bench's
    generator, which must be this one's), in a process of its own."""
    import inspect
    code = _BASELINE_SPEED.format(bench=str(checkout / "bench"), n=n_records,
                                  peak=inspect.getsource(peak_mb))
    out = subprocess.run([str(checkout / ".venv" / "bin" / "python"), "-c", code],
                         cwd=checkout, check=True, capture_output=True, text=True).stdout
    # Splink prints progress bars on stdout, after the result or before it on its line: the
    # last line whose text from its first brace parses as JSON holds the result.
    for line in reversed(out.splitlines()):
        try:
            return json.loads(line[line.find("{"):])
        except ValueError:
            continue
    raise SystemExit(f"the baseline at {checkout} printed no result:\n{out[-2000:]}")


QUIRK_TABLES = [
    ("world", "recall per quirk the generator recorded (truth.json; true pairs found / true "
              "pairs)"),
    ("apart", "people who must stay apart (truth.json; pairs of their records merged, each a "
              "wrong merge / pairs)"),
    ("records", "recall per quirk read off the two records (true pairs found / true pairs)")]


def print_quirks(per_quirk: dict, with_baseline: bool) -> None:
    """The three quirk tables of one world or of several summed, kith beside the baseline."""
    for table, title in QUIRK_TABLES:
        rows = per_quirk["kith"].get(table, {})
        print(f"      {title}{'; kith, then baseline' if with_baseline else ''}:")
        if not rows:
            print("        (none in this world)")
        for tag, (found, n) in sorted(rows.items(), key=lambda t: (-t[1][1], t[0])):
            line = f"        {tag:<44} {found:>5}/{n:<5} {found / n if n else 1:>6.3f}"
            if with_baseline:
                bf, bn = per_quirk["baseline"].get(table, {}).get(tag, (0, 0))
                line += f"   {bf:>5}/{bn:<5} {bf / bn if bn else 1:>6.3f}"
            print(line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000,
                        help="synthetic records for the speed run (0: no speed run)")
    parser.add_argument("--seeds", type=int, nargs="*", default=[7, 8, 9],
                        help="demo worlds to score (examples/world.py --seed)")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another kith checkout with its own .venv (e.g. main) to score "
                             "beside this one on the same worlds and population")
    parser.add_argument("--explain", action="store_true", help="print missed and wrong people")
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="generate the worlds as of this date (YYYY-MM-DD; default: today), "
                             "so that runs on different days score the same worlds")
    args = parser.parse_args()

    runs = [("kith", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    print("Identity resolution on demo worlds, against truth.json")
    print(f"{'seed':>5} {'resolver':<9} {'records':>8} {'true_pairs':>10} {'pred_pairs':>10} "
          f"{'precision':>9} {'recall':>7} {'f1':>7} {'wrong_merges':>12} {'seconds':>8}")
    all_met, at_least_baseline = True, True
    # resolver -> table -> tag -> [found, n], and resolver -> [hits, pred_pairs, true_pairs],
    # summed over the seeds
    totals = {label: defaultdict(lambda: defaultdict(lambda: [0, 0])) for label, _ in runs}
    pooled = {label: [0, 0, 0] for label, _ in runs}
    for seed in args.seeds:
        per_quirk = {}
        with tempfile.TemporaryDirectory(prefix="kith-identity-") as tmp:
            scores, records = {}, None
            for label, checkout in runs:
                q, misses, per_quirk[label], records = world_quality(Path(tmp), seed, checkout,
                                                                     records, args.today)
                scores[label] = q
                for table, tags in per_quirk[label].items():
                    for tag, (found, n) in tags.items():
                        totals[label][table][tag][0] += found
                        totals[label][table][tag][1] += n
                pooled[label][0] += q["hits"]
                pooled[label][1] += q["pred_pairs"]
                pooled[label][2] += q["true_pairs"]
                print(f"{seed:>5} {label:<9} {q['records']:>8,} {q['true_pairs']:>10,} "
                      f"{q['pred_pairs']:>10,} {q['precision']:>9.4f} {q['recall']:>7.4f} "
                      f"{q['f1']:>7.4f} {q['wrong_merges']:>12} {q['seconds']:>8.2f}")
                if args.explain:
                    for line in misses:
                        print(line)
        q = scores["kith"]
        all_met &= q["precision"] >= 0.995 and q["recall"] >= 0.98
        if "baseline" in scores:
            at_least_baseline &= q["recall"] >= scores["baseline"]["recall"]
        print_quirks(per_quirk, args.baseline is not None)
    if len(args.seeds) > 1:
        print(f"All {len(args.seeds)} worlds together (seeds {' '.join(map(str, args.seeds))}):")
        for label, (hit, pred, true) in pooled.items():
            print(f"      {label:<9} precision {hit / pred if pred else 1:.4f}  recall "
                  f"{hit / true if true else 1:.4f}  ({hit:,} of {pred:,} merged pairs right, "
                  f"{hit:,} of {true:,} true pairs found)")
        print_quirks(totals, args.baseline is not None)
    if args.seeds:
        print(f"target precision >= 0.995 and recall >= 0.98 on every world: "
              f"{'met' if all_met else 'NOT met'}")
        if args.baseline:
            print(f"recall at least the baseline's on every world: "
                  f"{'yes' if at_least_baseline else 'NO'}")
    if not args.records:
        return

    s = speed(args.records)
    print()
    print(f"Resolution of {s['records']:,} synthetic records (in memory)")
    print(f"{'method':<22} {'seconds':>8} {'cpu_s':>8} {'peak_MB':>8} {'people':>8} "
          f"{'precision':>9} {'recall':>7}")
    print(f"{'exact e-mail only':<22} {s['floor']:>8.2f} {'':>8} {'':>8} "
          f"{s['email_groups']:>8,} {'':>9} {'':>7}")
    print(f"{'kith resolve':<22} {s['seconds']:>8.2f} {s['cpu']:>8.2f} {s['peak_mb']:>8,.0f} "
          f"{s['people']:>8,} {s['precision']:>9.4f} {s['recall']:>7.4f}")
    if args.baseline:
        b = baseline_speed(args.baseline.resolve(), args.records)
        print(f"{'baseline resolve':<22} {b['seconds']:>8.2f} {b['cpu']:>8.2f} "
              f"{b['peak_mb']:>8,.0f} {b['people']:>8,} {b['precision']:>9.4f} "
              f"{b['recall']:>7.4f}")
    for words, (found, n) in (("nobody else's", s["name_alone"]),
                              ("shared with another person", s["name_shared"])):
        print(f"kith recall on true pairs whose name is {words}: "
              f"{found / n if n else 1:.4f} ({found:,} of {n:,})")
    print(f"target under 30 s: {'met' if s['seconds'] < 30 else 'NOT met'}")
    if s["note"]:
        print(s["note"])


if __name__ == "__main__":
    main()
