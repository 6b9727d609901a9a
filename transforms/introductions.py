"""Warm introductions: who in the owner's network can introduce them to a person, an
organisation or a mail domain, ranked and explained (the `introductions` table, per target)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

from kith.emails import normalize_email
from kith.organisations import domain_label, org_key, org_matches_domain

# Organisations listed when a target is too broad or matches nothing.
MAX_CHOICES = 10


@dataclass
class Target:
    """Who `kith intro` looks for: one person, or everyone kith knows at one organisation."""
    label: str
    person_ids: list[int]
    organisation_key: str | None = None


@dataclass
class TargetNotFound(Exception):
    text: str
    suggestions: list[str] = field(default_factory=list)


@dataclass
class TargetTooBroad(Exception):
    text: str
    n_matches: int
    choices: list[str]


def find_target(con: duckdb.DuckDBPyConnection, text: str) -> Target:
    """The target `text` names: a mail domain (globex.com), an organisation name (Globex,
    GLOBEX Inc.) or a person (anything `kith person` finds). Raises TargetNotFound (with the
    closest organisation names) or TargetTooBroad (several people or organisations match)."""
    from kith.transforms.identity.decisions import find_people

    text = text.strip()
    if not text:
        raise TargetNotFound(text)
    if re.fullmatch(r"[\w.-]+\.[a-z]{2,}", text.lower()) and "@" not in text:
        keys = _column(con, """
            select distinct organisation_key from organisation_handles
            where kind = 'domain' and (handle = ? or handle like '%.' || ?)
        """, [text.lower(), text.lower()])
        if keys:
            return _organisation(con, text, keys)
    compact = org_key(text).replace(" ", "")
    if compact:
        keys = sorted({key for key, name in con.execute(
            "select organisation_key, handle from organisation_handles where kind = 'name'"
        ).fetchall() if org_key(name).replace(" ", "") == compact})
        if not keys:
            # an organisation kith knows only by its mail domain: Acme Corp and acme.com; a
            # domain that spells the whole name (clearwaterhealth.com) before one that spells
            # its first word (clearwater.com, another company)
            found = [(key, domain) for key, domain in con.execute("""
                select organisation_key, handle from organisation_handles
                where kind = 'domain' and organisation_key not in (
                    select organisation_key from organisation_handles where kind = 'name')
            """).fetchall() if org_matches_domain(text, domain)]
            whole = {key for key, domain in found
                     if domain_label(domain).replace("-", "") == compact}
            keys = sorted(whole or {key for key, _ in found})
        if keys:
            return _organisation(con, text, keys)
    # an address or a person id is looked up in person_ids first: `people` costs seconds on a
    # large mailbox, and find_people reads it
    address = normalize_email(text)
    people = _column(con, "select person_id from person_ids where record_key = ?",
                     [f"email:{address}"]) if address else []
    if re.fullmatch(r"\d{1,9}", text):
        people = _column(con, "select distinct person_id from person_ids where person_id = ?",
                         [int(text)])
    if not people and not address:
        # a name: among the people there are paths to first (all there is to show), a whole
        # name before a part of one
        pattern = "%" + text.replace("%", "").replace("_", r"\_") + "%"
        matches = _column(con, r"""
            select distinct target_person_id from introductions
            where target_name ilike ? escape '\' order by 1
        """, [pattern])
        exact = _column(con, """
            select distinct target_person_id from introductions where lower(target_name) = lower(?)
        """, [text])
        people = exact if len(exact) == 1 else matches
    people = people or find_people(con, text)
    if len(people) == 1:
        return Target(_display_name(con, people[0]), people)
    if len(people) > 1:
        names = [f"{_display_name(con, pid)} ({pid})" for pid in people[:MAX_CHOICES]]
        raise TargetTooBroad(text, len(people), names)
    pattern = "%" + text.replace("%", "").replace("_", r"\_") + "%"
    keys = _column(con, r"""
        select distinct organisation_key from organisation_handles
        where handle ilike ? escape '\' or organisation ilike ? escape '\'
    """, [pattern, pattern])
    if keys:
        return _organisation(con, text, keys)
    raise TargetNotFound(text, closest_organisations(con, text))


def _organisation(con, text: str, keys: list[str]) -> Target:
    if len(keys) > 1:
        names = _column(con, """
            select organisation from organisations where organisation_key in (select unnest(?))
            order by n_people desc, organisation limit ?
        """, [keys, MAX_CHOICES])
        raise TargetTooBroad(text, len(keys), names)
    (name,) = con.execute("select organisation from organisations where organisation_key = ?",
                          keys).fetchone()
    people = _column(con, """
        select person_id from int_organisation_members where organisation_key = ?
        order by person_id
    """, keys)
    return Target(name, people, keys[0])


def closest_organisations(con: duckdb.DuckDBPyConnection, text: str) -> list[str]:
    """The organisation names most like `text`, closest first (for a target that matched
    nothing)."""
    from rapidfuzz import fuzz, process, utils

    names = _column(con, "select organisation from organisations order by organisation")
    found = process.extract(text, names, scorer=fuzz.WRatio, processor=utils.default_process,
                            limit=3, score_cutoff=60)
    return [name for name, _, _ in found]


PATH_COLUMNS = ["rank", "path", "introducer", "introducer_tier", "introducer_strength",
                "target", "tie_strength", "score", "n_threads", "n_meetings",
                "last_together_at", "evidence", "introducer_person_id", "target_person_id"]


def find_paths(con: duckdb.DuckDBPyConnection, target: Target, limit: int | None = None
               ) -> list[tuple]:
    """Paths to the target, best first, as rows of PATH_COLUMNS: the owner's own two-way ties
    first (strongest first), then introducers by score, each introducer once (with the person
    at the target they know best)."""
    rows = con.execute("""
        with paths as (
            select * from introductions where target_person_id in (select unnest(?))
        ),

        best as (
            select * from paths
            where is_direct
            union all
            select * from paths
            where not is_direct
            qualify row_number() over (partition by introducer_person_id
                                       order by score desc, tie_strength desc,
                                                target_person_id) = 1
        )

        select
            row_number() over ranking as rank,
            case when is_direct then 'direct' else 'introducer' end as path,
            introducer_name, introducer_tier, introducer_strength, target_name, tie_strength,
            score, n_threads, n_meetings, last_together_at, evidence, introducer_person_id,
            target_person_id
        from best
        window ranking as (order by is_direct desc, score desc, last_together_at desc,
                                    introducer_name, target_person_id)
        order by rank
        limit ?
    """, [target.person_ids, limit]).fetchall()
    return rows


def why_no_paths(con: duckdb.DuckDBPyConnection, target: Target) -> str:
    """Why there is no path to the target, in words."""
    (n_interactions,) = con.execute("select count(*) from interactions").fetchone()
    (n_owner_addresses,) = con.execute("select count(*) from owner_addresses").fetchone()
    if n_owner_addresses == 0:
        return ("kith does not know your own addresses, so it cannot tell which mail and "
                "meetings were yours: run `kith owner you@example.com` first.")
    if n_interactions == 0:
        return ("kith has none of your mail or meetings: who knows whom comes from the small "
                "threads and meetings you were on. Import your mail or calendar first.")
    (n_pairs,) = con.execute("select count(*) from acquaintances").fetchone()
    if n_pairs == 0:
        return ("none of your mail or meetings had two other people on a small thread or "
                "meeting, so kith cannot see who knows whom.")
    return (f"you have no two-way contact with {target.label}, and nobody you are in touch with "
            f"(inner circle, active or cooling) was on a small thread or meeting of yours with "
            f"{'anyone there' if target.organisation_key else 'them'}.")


def _display_name(con, person_id: int) -> str:
    """Their name as the introductions table has it, else as `people` has it."""
    row = con.execute("select target_name from introductions where target_person_id = ? limit 1",
                      [person_id]).fetchone()
    return row[0] if row else con.execute(
        "select display_name from people where person_id = ?", [person_id]).fetchone()[0]


def _column(con, query: str, params: list | None = None) -> list:
    return [row[0] for row in con.execute(query, params or []).fetchall()]
