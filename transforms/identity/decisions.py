"""Finding people and storing the user's corrections (`kith merge`, `kith split`, `kith review`).

A decision is stored as pairs of records in identity_rules, not as person ids, so it survives
every rebuild and renumbering; the caller rebuilds afterwards to apply it.
"""

from __future__ import annotations

import re

import duckdb

from kith.emails import normalize_email
from kith.phones import default_region, normalize_phone
from kith.transforms.identity.resolve import fold_email


class PersonNotFound(LookupError):
    pass


def find_people(con: duckdb.DuckDBPyConnection, query: str) -> list[int]:
    """Person ids matching a person id, a record key, an e-mail address, a phone number or a
    (part of a) name, best matches first."""
    text = query.strip()
    if not text:
        return []
    if re.fullmatch(r"\d{1,9}", text):
        rows = con.execute("select person_id from people where person_id = ?",
                           [int(text)]).fetchall()
    elif re.match(r"^(card|email|social):", text):
        rows = con.execute("select person_id from person_ids where record_key = ?",
                           [text]).fetchall()
    elif "@" in text:
        address = normalize_email(text) or text.lower()
        rows = con.execute("""
            select distinct person_id from people, unnest(emails) as e(address)
            where address = ? order by person_id
        """, [address]).fetchall()
        folded = fold_email(address)
        if not rows:
            rows = [(pid,) for pid, emails in con.execute(
                "select person_id, emails from people").fetchall()
                if any(fold_email(e) == folded for e in emails)]
    elif sum(ch.isdigit() for ch in text) >= 6 and re.fullmatch(r"[\d\s()+./-]+", text):
        phone = normalize_phone(text, default_region())
        rows = con.execute("""
            select person_id from people where list_contains(phones, ?) order by person_id
        """, [phone]).fetchall() if phone else []
    else:
        pattern = "%" + text.replace("%", "").replace("_", r"\_") + "%"
        rows = con.execute(r"""
            select person_id from (
                select person_id, 0 as rank from people
                where display_name ilike ? escape '\'
                union all
                select ids.person_id, 1 from person_ids as ids
                join int_identity_records as r using (record_key)
                where coalesce(r.full_name, concat_ws(' ', r.given_name, r.family_name))
                      ilike ? escape '\'
            )
            group by person_id order by min(rank), person_id
        """, [pattern, pattern]).fetchall()
    return [row[0] for row in rows]


def records_of(con: duckdb.DuckDBPyConnection, person_id: int) -> list[str]:
    keys = [r[0] for r in con.execute("select record_key from person_ids where person_id = ? "
                                      "order by record_key", [person_id]).fetchall()]
    if not keys:
        raise PersonNotFound(f"no person {person_id}")
    return keys


def _next_rule_id(con: duckdb.DuckDBPyConnection) -> int:
    """Taken before a decision deletes the rules it replaces, so that the resolver's
    fingerprint (count and highest id of the rules) changes with every decision: a split that
    replaced the latest merge once got the merge's id back, and was never applied."""
    return con.execute("select coalesce(max(rule_id), 0) + 1 from identity_rules").fetchone()[0]


def store_merge(con: duckdb.DuckDBPyConnection, person_a: int, person_b: int) -> None:
    """Record that two people are one. Earlier split decisions between them are dropped."""
    if person_a == person_b:
        raise ValueError(f"{person_a} and {person_b} are the same person")
    merge_records(con, records_of(con, person_a), records_of(con, person_b))


def merge_records(con: duckdb.DuckDBPyConnection, keys_a: list[str], keys_b: list[str]) -> None:
    """Record that the records `keys_a` (one person's) and `keys_b` (another's) are one person:
    one merge pair, a record of each. Earlier split decisions between them are dropped."""
    if not keys_a or not keys_b or set(keys_a) & set(keys_b):
        raise ValueError("a merge needs the records of two different people")
    rule_id = _next_rule_id(con)
    con.execute("""
        delete from identity_rules
        where decision = 'split'
          and ((record_a in (select unnest(?)) and record_b in (select unnest(?)))
            or (record_a in (select unnest(?)) and record_b in (select unnest(?))))
    """, [keys_a, keys_b, keys_b, keys_a])
    con.execute("insert into identity_rules values (?, 'merge', ?, ?, now())",
                [rule_id, keys_a[0], keys_b[0]])


def store_split(con: duckdb.DuckDBPyConnection, person_id: int, record_key: str) -> None:
    """Record that one record is not the person it was resolved into: it is kept apart from
    each of the person's other records. Earlier merge decisions tying it to them are dropped."""
    keys = records_of(con, person_id)
    if record_key not in keys:
        raise PersonNotFound(f"{record_key} is not a record of person {person_id}")
    others = [k for k in keys if k != record_key]
    if not others:
        raise ValueError(f"person {person_id} has only this one record")
    keep_apart(con, [record_key], others)


def keep_apart(con: duckdb.DuckDBPyConnection, keys_a: list[str], keys_b: list[str]) -> None:
    """Record that no record of `keys_a` is the same person as any record of `keys_b`: a split
    pair for each. Earlier merge decisions between them are dropped."""
    if not keys_a or not keys_b or set(keys_a) & set(keys_b):
        raise ValueError("keeping apart needs two different sets of records")
    first = _next_rule_id(con)
    con.execute("""
        delete from identity_rules
        where decision = 'merge'
          and ((record_a in (select unnest(?)) and record_b in (select unnest(?)))
            or (record_a in (select unnest(?)) and record_b in (select unnest(?))))
    """, [keys_a, keys_b, keys_b, keys_a])
    con.execute("""
        insert into identity_rules
        select ? + row_number() over (order by a.key, b.key) - 1, 'split', a.key, b.key, now()
        from (select distinct unnest(?) as key) as a, (select distinct unnest(?) as key) as b
    """, [first, keys_a, keys_b])
