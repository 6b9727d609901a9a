"""The match model: a Fellegi-Sunter model, run by Splink on DuckDB, that scores how likely two
records are one person.

Each pair of records is compared field by field; each comparison has levels (full name exact,
same family name and a nickname, ...) and each level a weight: log2(m / u), where m is how often
the level is seen on records of one person and u how often on records of two people. Both are
estimated from the user's own records (`train`), so the weights are their data's, not fitted to
one world. A warehouse too small to estimate from (fewer than MIN_TRAINING_RECORDS records)
uses the starting m and u written beside each level below: set by hand from what the levels
mean, in orders of magnitude (an exact full name is shared by about one pair of different
people in 100,000; a date of birth by one in 3,000), and checked on the FEBRL data sets and
generated worlds (bench/).

Splink is the field's standard Fellegi-Sunter implementation on DuckDB; kith gives it one row of
prepared fields per record (transforms.identity.resolve builds them) and reads back the scored
pairs with each level's weight. Splink works in its own in-memory DuckDB, so its working
tables never appear in the user's warehouse.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

import duckdb
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from kith.transforms.identity.names import SHORT_FORM_CUT

MODEL_VERSION = "8"              # bump when comparisons or training change: stored models retrain
MIN_TRAINING_RECORDS = 1_000     # below this there are too few pairs of one person to learn from
MAX_BLOCK = 120                  # records sharing one blocking key before it is split (below)
MIN_KNOWN_PAIRS = 50             # pairs known to be one person needed to estimate m from them
MAX_U_PAIRS = 2_000_000         # random pairs sampled at most to estimate u-probabilities
PREDICT_FLOOR = 0.05             # pairs scored below this probability are not kept at all
# Records whose pairs are scored at once: Splink materialises every blocked pair of a chunk
# (about 14 million at 300,000 records, growing faster than the records as blocks fill up to
# MAX_BLOCK), which at a million records in one chunk spilled over 12 GB under the build's
# memory limit.
PREDICT_CHUNK_RECORDS = 250_000

# Daniel / Daniela: the masculine and feminine forms of a name are neither a nickname nor a
# slip (names.other_forms; `given_other` holds a record's).
_NOT_OTHER_FORM = "not list_contains(given_other_l, given_r)"

# (label, sql, m, u): the starting m and u of each level, and the shipped priors for a small
# warehouse. m sums to about 1 over a comparison's levels, as u does.
_NAME_LEVELS = [
    ("full name exact",
     "given_l <> '' and family_l <> '' and (family_l = family_r or family_alt_l = family_alt_r) "
     "and (given_l = given_r "
     "or list_contains(given_seen_l, given_r) or list_contains(given_seen_r, given_l))",
     0.70, 0.00001),
    ("same family name, nickname or short form of the given name",
     "(family_l = family_r or family_alt_l = family_alt_r) and (given_l = given_r "
     "or list_contains(given_forms_l, given_r) or list_contains(given_forms_r, given_l) "
     "or (length(given_l) >= 3 and length(given_r) >= 3 "
     f"and abs(length(given_l) - length(given_r)) >= {SHORT_FORM_CUT} "
     "and (starts_with(given_l, given_r) or starts_with(given_r, given_l)))) "
     f"and {_NOT_OTHER_FORM}",
     0.08, 0.000005),
    ("same family name, given name spelled slightly differently",
     "(family_l = family_r or family_alt_l = family_alt_r) and length(given_l) > 1 "
     "and length(given_r) > 1 and jaro_winkler_similarity(given_l, given_r) >= 0.88 "
     f"and {_NOT_OTHER_FORM}", 0.05, 0.00002),
    ("same given name, family name spelled slightly differently or in part",
     "given_l = given_r and (jaro_winkler_similarity(family_l, family_r) >= 0.88 "
     "or (length(family_l) >= 3 and length(family_r) >= 3 and (contains(family_l, family_r) "
     "or contains(family_r, family_l))))", 0.05, 0.00002),
    ("given and family name written the other way round",
     "given_l <> '' and family_l <> '' "
     "and jaro_winkler_similarity(given_l, family_r) >= 0.88 "
     "and jaro_winkler_similarity(family_l, given_r) >= 0.88", 0.01, 0.000001),
    ("same family name, an initial for the given name",
     "(family_l = family_r or family_alt_l = family_alt_r) "
     "and (length(given_l) = 1 or length(given_r) = 1) and left(given_l, 1) = left(given_r, 1)",
     0.03, 0.0001),
    ("both names similar",
     "jaro_winkler_similarity(given_l, given_r) >= 0.88 "
     f"and jaro_winkler_similarity(family_l, family_r) >= 0.88 and {_NOT_OTHER_FORM}",
     0.03, 0.0005),
    ("same family name, no given name on one side",
     "(family_l = family_r or family_alt_l = family_alt_r) and (given_l = '' or given_r = '')",
     0.01, 0.0005),
    ("same family name, different given name",
     "family_l = family_r or family_alt_l = family_alt_r", 0.01, 0.002),
    # A married or maiden name: the given name as it was, or with a slip where the data has them
    # (Zachariah / Zachiariah). Its starting m is half of resolve.NAMES_UNRELIABLE_M, as for the
    # other levels where names disagree: only data that shows names replaced often lets it link
    # without a birthday (Mario Morcom and Maria Reid at one address are a couple).
    ("same given name, different family name",
     "given_l = given_r or (length(given_l) >= 4 and length(given_r) >= 4 "
     f"and damerau_levenshtein(given_l, given_r) <= 1 and {_NOT_OTHER_FORM})", 0.01, 0.02),
]

_NAME_NULL = ("((given_l = '' and family_l = '') or (given_r = '' and family_r = ''))")

# Two records each holding an address on one work mail domain, but no address in common: two
# colleagues (two Carlos Rodriguez at one firm, or Aurora Ferrari and Aurora Ferreira), or one
# person with a second address there (an alias: carlos@ or crodriguez@ beside
# carlos.rodriguez@). It is a level of its own, checked before the other organisation levels:
# the "same work mail domain" level's m is learnt on records sharing an address, and gave two
# colleagues' mailboxes the weight of one mailbox. Role addresses (info@) are no one's mailbox.
# Its m is fixed at DIFFERENT_MAILBOXES_M: about a fifth of one person's record pairs carry
# an address at one employer on both sides (the m of the exact employer levels), and about one
# in four of those carry two different ones (aliases are common; the value is a judgement, not
# a measurement). Neither way of estimating m can see it: the pairs the data already ties
# together share an address by construction (an alias shows only where a card lists both), and
# EM blocked on a name takes colleagues of one name for one person, as with "organisation
# agrees". u comes from random pairs as usual (how often two people are colleagues with
# mailboxes). Two addresses that differ only by a number (carlos.rodriguez2@: the second person
# of a name at one employer) are left to a guard in the resolver (resolve._mailboxes_apart).
DIFFERENT_MAILBOXES = "different addresses on one work mail domain"
DIFFERENT_MAILBOXES_M = 0.05

# The exact organisation levels (same organisation, organisation agrees with mail domain, same
# work mail domain) are weighed per pair by how many of the user's people work there
# (transforms.identity.resolve._weigh_commonness), as the exact full name is: the u below is
# only their average over all employers.
_SIMPLE = {
    "organisation": [
        (DIFFERENT_MAILBOXES,
         "list_has_any(mailbox_domains_l, mailbox_domains_r) "
         "and not list_has_any(mailboxes_l, mailboxes_r)", DIFFERENT_MAILBOXES_M, 0.005),
        ("same organisation", "org_l <> '' and org_l = org_r", 0.30, 0.005),
        ("organisation agrees with mail domain",
         "list_has_any(org_domains_l, mail_labels_r) or list_has_any(org_domains_r, mail_labels_l)",
         0.20, 0.002),
        ("same work mail domain", "list_has_any(mail_domains_l, mail_domains_r)", 0.15, 0.005),
        ("organisation similar",
         "org_l <> '' and org_r <> '' and (starts_with(org_l, org_r) or starts_with(org_r, org_l) "
         "or jaro_winkler_similarity(org_l, org_r) >= 0.92)", 0.05, 0.003),
    ],
    "birthday": [
        ("same date of birth", "length(birthday_l) = 10 and birthday_l = birthday_r", 0.87, 0.0003),
        ("same day and month of birth", "right(birthday_l, 5) = right(birthday_r, 5)", 0.08, 0.003),
        ("date of birth off by one slip",
         "length(birthday_l) = 10 and length(birthday_r) = 10 "
         "and damerau_levenshtein(birthday_l, birthday_r) <= 1", 0.045, 0.01),
    ],
    # An address's lines come in either order (a flat or building name before or after the
    # street: "Garden Court, 3 Mulga Street" / "3 Mulga Street, Garden Court"): `street_words`
    # is the address's words in sorted order, compared beside it.
    "street": [
        ("same street address", "street_l = street_r or street_words_l = street_words_r",
         0.6, 0.0005),
        ("street address nearly the same",
         "jaro_winkler_similarity(street_l, street_r) >= 0.9 "
         "or jaro_winkler_similarity(street_words_l, street_words_r) >= 0.9", 0.2, 0.002),
        ("street address similar", "jaro_winkler_similarity(street_l, street_r) >= 0.8",
         0.05, 0.02),
    ],
    "postcode": [
        ("same postcode", "postcode_l = postcode_r", 0.7, 0.002),
        ("postcode one slip apart", "damerau_levenshtein(postcode_l, postcode_r) <= 1",
         0.1, 0.01),
    ],
    "town": [
        ("same town", "locality_l = locality_r", 0.75, 0.01),
        ("town spelled similarly", "jaro_winkler_similarity(locality_l, locality_r) >= 0.9",
         0.1, 0.01),
    ],
    "title": [
        ("same job title", "title_l = title_r", 0.3, 0.02),
    ],
}

# What "missing" means per comparison: either side lacks the field.
_NULLS = {
    "organisation": "(org_l = '' and len(mail_domains_l) = 0) or (org_r = '' and len(mail_domains_r) = 0)",
    "birthday": "birthday_l = '' or birthday_r = ''",
    "street": "street_l = '' or street_r = ''",
    "postcode": "postcode_l = '' or postcode_r = ''",
    "town": "locality_l = '' or locality_r = ''",
    "title": "title_l = '' or title_r = ''",
}

# Organisations: people change employers, and sources (a card from a conference three years ago,
# a LinkedIn profile today) are years apart; EM on a few thousand records learns that
# "organisation differs" almost never happens to one person and then vetoes every job change
# (the pairs the data already ties together share an address, so an employer too). So its m is
# fixed at this share (roughly how many contacts change employer between sources). EM blocked on
# the name cannot tell it either: with the name fixed the organisation is the only evidence left,
# and EM takes "organisation agrees" for "one person". Job titles change with jobs and are written
# many ways: their m stays at the prior (a third of one person's records agree).
ORG_DIFFERS_M = 0.25

_FULL_NAME_RULE = "l.given = r.given and l.family = r.family and l.given <> '' and l.family <> ''"

BLOCKING_KEYS = ("k_family", "k_family_initial", "k_given", "k_given_family_initial",
                 "k_birthday", "k_street", "k_postcode", "k_postcode_initial")

# A blocking key held by more than MAX_BLOCK records (a common family name in a million records)
# is not dropped but split by a second key, then a third, until each group is small enough to
# compare pairwise: the comparisons stay near-linear (at most MAX_BLOCK per record and key) and
# the records of a common name are still compared with those that agree on something more. A
# record without the second key leaves that one oversized group. Each key is split by what the
# other keys do not already pair (a family name by the employer, not by the initial that
# k_family_initial holds). `work` is the first letters of the record's organisation or work
# mail domain (Alder Group / alder.example: "alder").
SUB_KEYS = {
    "k_family": ("work",),
    "k_family_initial": ("given", "work"),
    "k_given": ("work",),
    "k_given_family_initial": ("work",),
    "k_birthday": ("family_initial", "given_initial"),
    "k_street": ("postcode", "family_initial"),
    "k_postcode": ("given_initial", "family"),
    "k_postcode_initial": ("given_initial", "family"),
}


def _levels(comparison: str, levels: list[tuple[str, str, float, float]],
            null_sql: str) -> list[dict]:
    out = [{"sql_condition": null_sql, "label_for_charts": "missing", "is_null_level": True}]
    for label, sql, m, u in levels:
        out.append({"sql_condition": sql, "label_for_charts": label,
                    "m_probability": m, "u_probability": u})
    rest_m = max(1e-3, 1 - sum(m for _, _, m, _ in levels))
    rest_u = max(1e-3, 1 - sum(u for _, _, _, u in levels))
    else_level = {"sql_condition": "ELSE", "label_for_charts": f"{comparison} differs",
                  "m_probability": rest_m, "u_probability": rest_u}
    if comparison == "organisation":
        else_level.update(m_probability=ORG_DIFFERS_M, fix_m_probability=True)
        out[1]["fix_m_probability"] = True           # DIFFERENT_MAILBOXES
    out.append(else_level)
    if comparison == "title":
        for level in out[1:]:
            level["fix_m_probability"] = True
    return out


def settings(prior: float = 1e-4) -> dict:
    """Splink settings with every comparison, starting (prior) m and u, and the blocking rules."""
    comparisons = [{"output_column_name": "name", "comparison_description": "name",
                    "comparison_levels": _levels("name", _NAME_LEVELS, _NAME_NULL)}]
    for name, levels in _SIMPLE.items():
        comparisons.append({"output_column_name": name, "comparison_description": name,
                            "comparison_levels": _levels(name, levels, _NULLS[name])})
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "record_key",
        "probability_two_random_records_match": prior,
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": f"l.{k} = r.{k}"} for k in BLOCKING_KEYS
        ] + [{"blocking_rule": "l.given = r.family and l.family = r.given and l.given <> ''"}],
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": ["source", "reliable"],
    }


@dataclass
class ScoredPair:
    a: str
    b: str
    probability: float
    weight: float
    levels: dict[str, tuple[str, float]]     # comparison -> (level label, match weight)
    # the comparisons' weights summed, without the prior: what the pair's fields say, the same
    # under any prior (transforms.identity.store keeps the pairs above some evidence)
    evidence: float = 0.0


@dataclass
class Model:
    """A trained (or prior) model as Splink's settings dict, with how it came about."""
    settings: dict
    n_records: int
    trained: bool
    note: str

    def m(self, comparison: str, label: str) -> float:
        """The share of one person's record pairs that fall in a level (its m-probability)."""
        return self.level(comparison, label)[0]

    def level(self, comparison: str, label: str) -> tuple[float, float]:
        """(m, u) of a comparison level; zeros when there is no such level."""
        return self._levels.get((comparison, label), (0.0, 0.0))

    @cached_property
    def _levels(self) -> dict[tuple[str, str], tuple[float, float]]:
        """(comparison, level label) -> (m, u), the first level of a label: asked for every
        scored pair (a million at 300,000 records)."""
        out: dict[tuple[str, str], tuple[float, float]] = {}
        for c in self.settings["comparisons"]:
            for level in c["comparison_levels"]:
                out.setdefault((c["output_column_name"], level.get("label_for_charts")),
                               (float(level.get("m_probability") or 0.0),
                                float(level.get("u_probability") or 0.0)))
        return out


def _level_labels(model_settings: dict) -> dict[str, dict[int, str]]:
    """comparison -> gamma value -> level label, as Splink numbers the levels (else = 0)."""
    out = {}
    for comparison in model_settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        n = len(levels)
        out[comparison["output_column_name"]] = {
            n - 1 - i: lv.get("label_for_charts", "") for i, lv in enumerate(levels)}
    return out


def train(con: duckdb.DuckDBPyConnection, table: pa.Table, n_records: int) -> Model:
    """Estimate the model's weights from `table` (see `features`); the priors when the data is
    too small or holds nothing to learn m from.

    u (how often a level occurs between two different people) comes from random pairs of
    records, except for the name comparison: random pairs over all records include the very
    duplicates being sought (the same name twice is often the same person), which makes a
    matching name look common. Its u comes from random pairs within the largest source whose
    names are reliable (a LinkedIn export, an address book: one row per human) where there is one.

    m (how often a level occurs between one person's records) comes from the records the user's
    data already ties together: those sharing an e-mail address, phone or profile, or joined by
    `kith merge` (column `k_known_person`); and from EM over pairs that share a date of birth,
    then (where most records have a birthday or postcode) a full name (each EM pass trains the
    comparisons its blocking does not use; Splink takes the median over the estimates)."""
    from splink import DuckDBAPI, Linker, block_on

    base = settings(prior=prior_for(n_records))
    if n_records < MIN_TRAINING_RECORDS:
        return Model(base, n_records, False,
                     f"{n_records:,} records are too few to estimate the match model from; "
                     "it uses kith's shipped starting weights")
    db = DuckDBAPI(connection=con)
    max_pairs = min(MAX_U_PAIRS, 100.0 * n_records)   # 100 pairs a record, up to the cap
    linker = Linker(db.register(table), base, log_level=logging.ERROR)
    _quiet()
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=1)
    model_settings = _unseen_u(linker.misc.save_model_to_json(), base,
                               min(max_pairs, table.num_rows * (table.num_rows - 1) / 2))
    name_u = _name_u_within_one_source(db, table, base, max_pairs)
    if name_u:
        for level in model_settings["comparisons"][0]["comparison_levels"]:
            if level.get("label_for_charts") in name_u:
                level["u_probability"] = name_u[level["label_for_charts"]]
    sources = []
    # The settings below are `base` with estimated weights, validated by the first Linker
    # (Splink's validation parses every comparison's SQL: 0.2 s a Linker).
    linker = Linker(db.register(table), model_settings, log_level=logging.ERROR,
                    validate_settings=False)
    _quiet()
    known = Counter(k for k in table.column("k_known_person").to_pylist() if k)
    n_known_pairs = sum(n * (n - 1) // 2 for n in known.values())
    if n_known_pairs >= MIN_KNOWN_PAIRS:
        linker.training.estimate_m_from_label_column("k_known_person")
        linker = Linker(db.register(table),
                        _shrunk_m(linker.misc.save_model_to_json(), base, n_known_pairs),
                        log_level=logging.ERROR, validate_settings=False)
        _quiet()
        sources.append(f"{n_known_pairs:,} pairs of records that share an address or phone")
    passes = [(block_on("k_birthday"), "a date of birth")]
    personal = sum(1 for b, p in zip(table.column("birthday").to_pylist(),
                                     table.column("postcode").to_pylist()) if b or p)
    if personal >= table.num_rows / 2:
        # Not a postcode: neighbours share a town and often a street, and EM blocked on the
        # postcode takes them for one person. Within a full name the birthday and the address
        # are evidence of their own; where most records lack them, the employer would be the
        # only evidence left and EM would take "same employer" for "one person".
        passes.append((_FULL_NAME_RULE, "a full name"))
    for rule, what in passes:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True)
            sources.append(f"EM over records sharing {what}")
        except Exception as exc:   # Splink raises plain exceptions when a block has no pairs
            logging.getLogger(__name__).info("EM pass on %s skipped: %s", what, exc)
    if not sources:
        # u needs no pairs of one person: what is common between different people here (one
        # employer for everyone, one surname) is still learnt from random pairs.
        return Model(model_settings, n_records, False,
                     f"nothing in these {n_records:,} records to estimate m (how often one "
                     "person's records agree) from: no shared addresses, birthdays or "
                     "postcodes; it uses kith's shipped starting m, with u from random pairs "
                     "of these records")
    return Model(linker.misc.save_model_to_json(), n_records, True,
                 f"match model estimated from {n_records:,} records: u from random pairs"
                 f"{' (names within one source)' if name_u else ''}, m from "
                 + " and ".join(sources))


def _name_u_within_one_source(db, table: pa.Table, base: dict, max_pairs: float
                              ) -> dict[str, float]:
    """The name comparison's u-probabilities among the records of the largest source with
    reliable names, or {} when no source has enough records."""
    from splink import Linker

    sources = Counter(s for s, ok in zip(table.column("source").to_pylist(),
                                         table.column("reliable").to_pylist()) if ok)
    if not sources:
        return {}
    source, n = sources.most_common(1)[0]
    if n < MIN_TRAINING_RECORDS // 2:
        return {}
    mask = pa.compute.and_(pa.compute.equal(table.column("source"), source),
                           table.column("reliable"))
    # Every pair of the source, up to the cap: a name level is rare among different people
    # (two of a list's 2,300 people sharing a family name and a nickname: 2 pairs in 2.6
    # million), and a sample of fewer pairs than the source holds sees it at most once.
    # Only the name comparison is estimated here: the others would double the time.
    max_pairs = max(max_pairs, min(MAX_U_PAIRS, n * (n - 1) / 2))
    base = {**base, "comparisons": base["comparisons"][:1]}
    linker = Linker(db.register(table.filter(mask)), base, log_level=logging.ERROR)
    _quiet()
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=1)
    trained = _unseen_u(linker.misc.save_model_to_json(), base, min(max_pairs, n * (n - 1) / 2))
    return {level["label_for_charts"]: level["u_probability"]
            for level in trained["comparisons"][0]["comparison_levels"]
            if not level.get("is_null_level") and level.get("u_probability")}


def _pairs_of_levels(trained: dict, base: dict):
    """(trained level, its starting level) of every comparison level but the null ones."""
    for c, c0 in zip(trained["comparisons"], base["comparisons"]):
        for level, start in zip(c["comparison_levels"], c0["comparison_levels"]):
            if not level.get("is_null_level"):
                yield level, start


def _unseen_u(trained: dict, base: dict, n_pairs: float) -> dict:
    """`trained` with the u of each level that random sampling did not see among its `n_pairs`
    pairs (Splink then keeps the starting u) at most one in n_pairs: a level no pair of
    different people showed is rarer than that, whatever was guessed beforehand (same family
    name and an initial for the given name: 1 in 10,000 guessed, about 1 in 5,000,000 in a
    generated world of 3,000 records). Not a comparison no sampled pair had on both sides (a
    street on a handful of cards): it showed nothing, and keeps its starting u; nor a
    comparison's last level ("differs"), which a sample rarer in it would make evidence *for*
    one person."""
    for c, c0 in zip(trained["comparisons"], base["comparisons"]):
        levels = [(lv, start) for lv, start in zip(c["comparison_levels"],
                                                    c0["comparison_levels"])
                  if not lv.get("is_null_level")]
        if n_pairs < 1 or all(lv.get("u_probability") == start.get("u_probability")
                              for lv, start in levels):
            continue
        for level, start in levels[:-1]:
            u = level.get("u_probability")
            if u is not None and u == start.get("u_probability"):
                level["u_probability"] = min(u, 1.0 / n_pairs)
    return trained


def _shrunk_m(trained: dict, base: dict, n_pairs: int) -> dict:
    """`trained` with each m estimated from `n_pairs` pairs known to be one person drawn
    towards its starting m as if that were MIN_KNOWN_PAIRS more pairs (a Dirichlet prior): a
    few hundred known pairs are mostly a card and the mail of its own address, which write
    the name alike, so a rarer level (a nickname: seen once in 114 pairs, 1 in 33 of all one
    person's pairs) is under-counted. A level they never show keeps its starting m, as Splink
    leaves it: known pairs may be unable to show it at all (a LinkedIn connection has no
    address to share, so 'same organisation' between it and a card is never among them)."""
    for level, start in _pairs_of_levels(trained, base):
        m, m0 = level.get("m_probability"), start.get("m_probability")
        if m is None or m0 is None or m == m0 or level.get("fix_m_probability"):
            continue
        level["m_probability"] = (m * n_pairs + m0 * MIN_KNOWN_PAIRS) / (
            n_pairs + MIN_KNOWN_PAIRS)
    return trained


def prior_for(n_records: int) -> float:
    """The chance two random records are one person. Duplicates grow with the records, pairs
    with their square: about one duplicate pair per record gives 2/n; below 10,000 records it
    is held at 2/10,000 so that a small address book does not make every pair likely."""
    return 2.0 / max(n_records, 10_000)


def log_odds(probability: float) -> float:
    """log2 of the odds of a probability: a prior or a probability as a match weight."""
    return math.log2(probability / (1.0 - probability))


def predict(con: duckdb.DuckDBPyConnection, table: pa.Table, model: Model,
            prior: float | None = None, *, below: float = 0.0,
            one_of: str | None = None) -> list[ScoredPair]:
    """Every blocked pair of records whose match weight under `prior` (by default `_prior`)
    reaches PREDICT_FLOOR's, or `below` bits less, with its match probability and each
    comparison's level. The weight is summed here from the levels (`scored`), as Splink sums
    it, so that a pair read back from its levels weighs the same to the last digit. `one_of`: a
    boolean column of `table`; only the pairs of which one record has it true are scored."""
    from splink import DuckDBAPI, Linker

    db = DuckDBAPI(connection=con)
    model_settings = dict(model.settings)
    prior = prior or prior_for(table.num_rows)
    model_settings["probability_two_random_records_match"] = prior
    if one_of:
        model_settings["blocking_rules_to_generate_predictions"] = [
            {**rule, "blocking_rule": f"({rule['blocking_rule']}) and (l.{one_of} or r.{one_of})"}
            for rule in model_settings["blocking_rules_to_generate_predictions"]]
    # The settings are kith's own and were validated when the model was estimated.
    linker = Linker(db.register(table), model_settings, log_level=logging.ERROR,
                    validate_settings=False)
    _quiet()
    floor = log_odds(PREDICT_FLOOR) - below
    labels = _level_labels(model_settings)
    names = list(labels)
    columns = ", ".join(["record_key_l", "record_key_r"]
                        + [f"gamma_{c}" for c in names] + [f"mw_{c}" for c in names])
    pairs = []
    prior_weight = log_odds(prior)
    # Every pair in one level has its weight: one (label, weight) per level, shared by its
    # pairs, and the rows read in batches (at a million records, millions of pairs).
    shared: dict[tuple[str, int, float], tuple[str, float]] = {}
    # Each chunk scores the pairs whose left record is in one slice of the records.
    chunks = -(-table.num_rows // PREDICT_CHUNK_RECORDS)
    for chunk in range(1, chunks + 1):
        # (Splink's sum may differ from this one in the last digit: the floor is applied below)
        frame = linker.inference.predict_chunk(
            left_chunk=(chunk, chunks), right_chunk=(1, 1),
            threshold_match_weight=floor - 0.01)
        result = con.execute(f"select {columns} from {frame.physical_name}")
        while rows := result.fetchmany(100_000):
            for row in rows:
                a, b = row[:2]
                gammas, weights = row[2:2 + len(names)], row[2 + len(names):]
                levels, evidence = {}, 0.0
                for name, gamma, w in zip(names, gammas, weights):
                    evidence += float(w or 0.0)
                    if gamma is None or gamma < 0:
                        continue
                    level = shared.get((name, gamma, w))
                    if level is None:
                        level = shared[(name, gamma, w)] = (labels[name].get(gamma, ""),
                                                            float(w or 0.0))
                    levels[name] = level
                pair = scored(a, b, prior_weight, levels, evidence)
                if pair.weight >= floor:
                    pairs.append(pair)
        frame.drop_table_from_database_and_remove_from_cache()
    return pairs


def scored(a: str, b: str, prior_weight: float, levels: dict[str, tuple[str, float]],
           evidence: float) -> ScoredPair:
    """A pair of these levels under a prior of this weight: the prior's weight plus each
    level's in the comparisons' order, as Splink adds them (a level not compared, a null,
    weighs 0); its probability follows."""
    weight = prior_weight
    for _, level_weight in levels.values():
        weight += level_weight
    return ScoredPair(a, b, 1.0 / (1.0 + 2.0 ** -weight), weight, levels, evidence)


def _quiet() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)


def explain(pair: ScoredPair) -> str:
    """Each comparison that counted, in words with its match weight (bits), strongest first;
    the prior, when the resolver set one, before them: together they add up to the probability."""
    parts = sorted(((w, label) for comparison, (label, w) in pair.levels.items()
                    if comparison != "prior" and abs(w) >= 0.05), key=lambda t: -abs(t[0]))
    if "prior" in pair.levels:
        label, w = pair.levels["prior"]
        parts.insert(0, (w, label))
    words = "; ".join(f"{label}: {w:+.1f}" for w, label in parts)
    return f"match probability {pair.probability:.3f} ({words})"
