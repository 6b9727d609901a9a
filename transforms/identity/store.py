"""Running identity resolution over the warehouse and keeping person ids stable.

`resolve_people(con)` reads `int_identity_records`, the user's rules and the owner's addresses,
resolves, and rewrites person_ids, person_links, merge_candidates and excluded_handles. It runs
inside the caller's transaction (transforms.runner.build) and does nothing when its inputs have
not changed since the last run.

After a small import only the people it touched are resolved again (`_focus`: the new, changed and
gone records, the records the model would compare them with, and their people), with the stored
model; everyone else stays as they were. When no record is new, changed or gone (an import of cards
already held, under another tag), no one is grouped again. Only those records are read and prepared
in Python: what grouping them needs to know of all the others (how common a name or an employer is,
how big a block) is counted in SQL from identity_record_facts, one row per record as the last
resolution saw it. The records are recognised by a hash of each (in that table) that also covers
the user's rules, the owner's addresses, the model and the identity code, so that a change to any
of those resolves everyone again, as does `force` (`kith rebuild`), a change to more than
INCREMENTAL_SHARE of the records, a model estimated anew, or priors of another kind than the last
resolution's (SourcePriors.kind: they are estimated from all records, and where they change kind
the people left as they were would be grouped otherwise).

The pairs the match model scores are kept too (identity_pairs; identity_blocks, the blocks as
they were): a pair scores the same while neither record changes, so after a small import only the
pairs of the seeds (resolve.KeptPairs.rescore: new, changed or read otherwise; a few percent of the
focus's pairs) are scored, and the focus's other pairs still blocked are read as kept. Records
added only split blocks further, so every pair blocked now was kept; where a block was joined
again (records gone), or the prior moved more than resolve.PAIRS_MARGIN bits from the one the
pairs were kept under, the focus's pairs are all scored and the kept ones dropped until the next
resolution of everyone (`kith rebuild`, a model estimated anew, a large import).

The match model (transforms.identity.model) is kept in identity_models and used as is until the
records have grown by RETRAIN_GROWTH since it was estimated (or kith's comparisons changed); then
it is estimated again from all records. A rebuild after a small import therefore only scores pairs.

Stable ids: each new cluster keeps the id most of its records had before (ties: the oldest id);
a cluster with no earlier id gets a new one, never a reused one. An id that stops existing, or a
record that leaves its person, is written to person_id_changes with where the records went.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa

from kith.transforms.identity.model import (BLOCKING_KEYS, MAX_BLOCK, MIN_TRAINING_RECORDS,
                                            MODEL_VERSION, SUB_KEYS, Model)
from kith.transforms.identity.resolve import (IdentityRecord, KeptPairs, NameStats, Population,
                                              Resolution, Rules, _name_parts, _owner_records,
                                              _Prepared, fold_email, record_facts, resolve)

# Bump when the resolver's logic changes, so that the next build resolves again.
RESOLVER_VERSION = "11"
# The model is estimated again once the records have grown by this factor since it was.
RETRAIN_GROWTH = 1.25
# Beyond this share of the records new, changed or gone, everyone is resolved again: the people
# touched would be most of them anyway.
INCREMENTAL_SHARE = 0.25

_RECORD_FIELDS = [f for f in IdentityRecord.__dataclass_fields__]
_COLUMNS = ", ".join(_RECORD_FIELDS[1:])
# identity_record_facts: a row of resolve.record_facts and the record's hash.
_FACTS = pa.schema(
    [(name, pa.string()) for name in ("record_key", "given", "family", *BLOCKING_KEYS, "work",
                                      "given_initial", "family_initial", "postcode", "source")]
    + [("reliable", pa.bool_()), ("nameless", pa.bool_())]
    + [(name, pa.string()) for name in ("full_given", "full_family", "org")]
    + [("work_labels", pa.list_(pa.string())), ("handles", pa.list_(pa.string()))])


def fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("""
        select (select coalesce(max(load_id), 0) from loads where status = 'completed'),
               (select count(*) from identity_rules),
               (select coalesce(max(rule_id), 0) from identity_rules),
               (select coalesce(string_agg(address, ',' order by address), '')
                from owner_addresses),
               (select coalesce(string_agg(handle, ',' order by handle), '')
                from owner_chat_names)
    """).fetchone()
    return hashlib.sha256(repr((RESOLVER_VERSION, *row)).encode()).hexdigest()[:16]


def read_records(con: duckdb.DuckDBPyConnection, where: str = "true",
                 table: str = "int_identity_records") -> list[IdentityRecord]:
    """The identity records of `table` (int_identity_records or a copy of it) that `where`
    selects, in record key order."""
    table = con.execute(f"select {_COLUMNS}, record_key from {table} where {where} "
                        "order by record_key").fetch_arrow_table()
    records = []
    for row in table.to_pylist():
        key = row.pop("record_key")
        for name in ("emails", "phones", "profiles", "names_seen"):
            row[name] = tuple(row[name] or ())
        records.append(IdentityRecord(key=key, **row))
    return records


def read_rules(con: duckdb.DuckDBPyConnection) -> Rules:
    rows = con.execute("select decision, record_a, record_b from identity_rules "
                       "order by rule_id").fetchall()
    # A later decision about the same pair wins over an earlier one.
    latest: dict[tuple[str, str], str] = {}
    for decision, a, b in rows:
        latest[tuple(sorted((a, b)))] = decision
    return Rules(merges=tuple(p for p, d in latest.items() if d == "merge"),
                 splits=tuple(p for p, d in latest.items() if d == "split"))


def owner_inputs(con: duckdb.DuckDBPyConnection) -> tuple[frozenset[str], frozenset[str]]:
    """The owner's addresses, and the records known to be theirs (their own social profile:
    the one in most of their platform messages; who they are in chats)."""
    emails = frozenset(r[0] for r in con.execute("select address from owner_addresses").fetchall())
    profiles = con.execute("""
        select distinct 'social:' || sender_profile
        from stg_social__messages where direction = 'sent'
        union
        select distinct 'chat:' || platform || ':' || sender
        from stg_chat__messages where direction = 'sent' and sender is not null
    """).fetchall()
    return emails, frozenset(r[0] for r in profiles)


def is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether nothing identity resolution reads has changed since it last ran."""
    last = con.execute("select fingerprint from identity_builds "
                       "order by build_id desc limit 1").fetchone()
    return last is not None and last[0] == fingerprint(con)


def resolve_people(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> bool:
    """Resolve records into people and store the result (its counts in identity_builds; see
    the module docstring). False when skipped because nothing it reads has changed."""
    started = time.perf_counter()
    if not force and is_current(con):
        return False
    stamp = fingerprint(con)

    owner_emails, owner_records = owner_inputs(con)
    rules = read_rules(con)
    # the records as this resolution sees them, each with its text (what its hash is of)
    con.execute(f"""
        create or replace temp table _kith_records as
        select record_key, {_COLUMNS}, cast(row({_COLUMNS}) as varchar) as record_text
        from int_identity_records""")
    n_records = con.execute("select count(*) from _kith_records").fetchone()[0]
    stored_id, stored = stored_model(con, n_records)

    def context(model_id: int | None) -> str:
        """What else decides a record's person, beside the record: see the module docstring."""
        return repr((RESOLVER_VERSION, _code_version(), model_id, rules, sorted(owner_emails),
                     sorted(owner_records)))
    resolution = None
    if not force and stored is not None:
        n_changed, n_known = _find_changed(con, context(stored_id))
        if n_known and not n_changed:
            # no record new, changed or gone, under the same rules, owner, model and code:
            # grouping them again would group them as they are
            _keep_people(con, stamp, time.perf_counter() - started)
            return True
        focus = _focus(con, context(stored_id), n_records, n_changed, n_known, owner_emails,
                       owner_records)
        if focus is not None:
            resolution = resolve(focus[0], rules=rules, owner_emails=owner_emails,
                                 owner_records=owner_records, model=stored, population=focus[1])
            if _priors_kind(resolution) != _last_priors_kind(con):
                # The priors are estimated from all records; when their kind changes
                # (estimated now rather than kith's starting prior, or a source now found to
                # hold duplicates), the people left as they were would be grouped otherwise:
                # everyone is resolved again.
                resolution = None
    if resolution is None:
        resolution = resolve(read_records(con, table="_kith_records"), rules=rules,
                             owner_emails=owner_emails, owner_records=owner_records,
                             model=stored)
    focus = resolution.focus
    model_id = stored_id
    if resolution.model is not None and resolution.model is not stored:
        model_id = _store_model(con, resolution.model)
    build_id = con.execute("select coalesce(max(build_id), 0) + 1 "
                           "from identity_builds").fetchone()[0]
    person_of, max_id = _assign_ids(con, resolution, build_id, focus)
    _write(con, resolution, person_of, focus)
    if focus is None:
        # under the model used (estimated now, or not)
        con.execute("delete from identity_record_facts")
        _insert_facts(con, record_facts(resolution.prepared), context(model_id))
    if focus is not None:
        _pass_on_changed(con)
    pairs_floor = _keep_pairs(con, resolution)
    for table in _TEMPORARY:
        con.execute(f"drop table if exists temp.{table}")
    n_people, n_links, n_candidates = con.execute("""
        select (select count(distinct person_id) from person_ids),
               (select count(*) from person_links),
               (select count(*) from merge_candidates)""").fetchone()
    if focus is None:
        n_links, n_candidates = len(resolution.links), len(resolution.candidates)
    # the owner's records are always in the focus (see _previous)
    owner_id = next((person_of[k] for k in sorted(resolution.owner_keys)), None)
    seconds = time.perf_counter() - started
    note = _model_note(con, model_id, stored is not None)
    if note and resolution.priors is not None:
        note = f"{note}; {resolution.priors.note}"
    con.execute("insert into identity_builds values "
                "(?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [build_id, stamp, n_records, n_people, n_links, n_candidates,
                 len(resolution.refused), resolution.n_skipped_blocks, max_id, owner_id,
                 seconds, model_id, note, _priors_kind(resolution), pairs_floor])
    return True


def _priors_kind(resolution: Resolution) -> str | None:
    return resolution.priors.kind if resolution.priors is not None else None


def _last_priors_kind(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("select priors_kind from identity_builds "
                      "order by build_id desc limit 1").fetchone()
    return row[0] if row else None


def _code_version() -> str:
    """A hash of the code that makes what identity_record_facts keeps of a record (and that
    groups records): a change to it resolves everyone again."""
    from kith import names, organisations, profiles
    from kith.transforms.identity import model, names as identity_names, resolve as resolving
    code = b"".join(Path(m.__file__).read_bytes()
                    for m in (names, organisations, profiles, model, identity_names, resolving))
    return hashlib.sha256(code).hexdigest()[:16]


# The temporary tables of one resolution (dropped at its end).
_TEMPORARY = ("_kith_records", "_kith_changed", "_kith_seeds", "_kith_owner", "_kith_blocks",
              "_kith_handles", "_kith_focus", "_kith_focus_handles")


def _pairs_floor(con: duckdb.DuckDBPyConnection) -> float | None:
    """The evidence down to which identity_pairs holds every blocked pair (None: it does
    not hold them)."""
    row = con.execute("select pairs_floor from identity_builds "
                      "order by build_id desc limit 1").fetchone()
    return row[0] if row else None


def _kept_pairs(con: duckdb.DuckDBPyConnection) -> KeptPairs | None:
    """The pairs kept among the focus (_kith_focus) but of the records to score again
    (_kith_seeds) that are blocked now (_kith_blocks), or None when identity_pairs does not
    hold every one of those: it holds every pair blocked when it was scored, and records only
    added split blocks further (a pair blocked now was blocked then); where a block was joined
    again (records gone), identity_pairs is dropped until the next resolution of everyone."""
    floor = _pairs_floor(con)
    if floor is None:
        return None
    split_further = " and ".join(
        f"(b.{key} is not distinct from o.{key} or b.{key} is null "
        f"or coalesce(starts_with(b.{key}, o.{key} || '|'), false))" for key in BLOCKING_KEYS)
    joined, = con.execute(f"""
        select count(*) from _kith_blocks as b left join identity_blocks as o using (record_key)
        where record_key not in (select record_key from _kith_seeds)
            and (o.record_key is null or not ({split_further}))""").fetchone()
    if joined:
        return None
    blocked = " or ".join(f"a.{key} = b.{key}" for key in BLOCKING_KEYS)
    rows = con.execute(f"""
        select p.record_a, p.record_b, p.evidence, p.levels
        from identity_pairs as p
        join _kith_blocks as a on a.record_key = p.record_a
        join _kith_blocks as b on b.record_key = p.record_b
        join identity_record_facts as fa on fa.record_key = p.record_a
        join identity_record_facts as fb on fb.record_key = p.record_b
        where p.record_a in (select record_key from _kith_focus)
            and p.record_b in (select record_key from _kith_focus)
            and p.record_a not in (select record_key from _kith_seeds)
            and p.record_b not in (select record_key from _kith_seeds)
            -- the model's blocking rules (model.settings), the pair's records as l and r
            and ({blocked} or (fa.given = fb.family and fa.family = fb.given
                               and fa.given <> ''))""").fetchall()
    rescore = {row[0] for row in con.execute("select record_key from _kith_seeds").fetchall()}
    return KeptPairs(floor, [(a, b, evidence, {k: tuple(v) for k, v in json.loads(levels).items()})
                             for a, b, evidence, levels in rows], frozenset(rescore))


def _keep_pairs(con: duckdb.DuckDBPyConnection, resolution: Resolution) -> float | None:
    """Keep the pairs the resolution scored (identity_pairs: all of them, or those of the
    records it scored again, _kith_seeds, in place of theirs) and the blocks as they are now
    (identity_blocks); empty identity_pairs when it can no longer serve. The floor to record
    (see _pairs_floor)."""
    if resolution.scored is None:
        con.execute("delete from identity_pairs")
        return None
    if resolution.focus is None:
        con.execute("delete from identity_pairs")
        _owner_table(con, resolution.owner_keys)
        _split_blocks(con)
    else:
        con.execute("""
            delete from identity_pairs
            where record_a in (select record_key from _kith_seeds)
                or record_b in (select record_key from _kith_seeds)""")
    # only the rows that differ are written: a rewrite of every record's row costs the
    # checkpoint at the end of a small import more than the resolution saves
    con.execute("""
        delete from identity_blocks where record_key in (
            select record_key from (select * from identity_blocks
                                    except select * from _kith_blocks))""")
    con.execute("""
        insert into identity_blocks
        select * from _kith_blocks except select * from identity_blocks""")
    scored = resolution.scored
    con.register("_pairs", pa.table({
        "record_a": [p[0] for p in scored], "record_b": [p[1] for p in scored],
        "evidence": pa.array([p[2] for p in scored], pa.float64()),
        "levels": [json.dumps(p[3]) for p in scored]}))
    con.execute("insert into identity_pairs select * from _pairs")
    con.unregister("_pairs")
    return resolution.scored_floor


def _insert_facts(con: duckdb.DuckDBPyConnection, rows: list[dict], context: str) -> None:
    con.register("_facts", pa.Table.from_pylist(rows, schema=_FACTS))
    con.execute("""
        insert into identity_record_facts by name
        select f.*, md5(? || r.record_text) as record_hash
        from _facts as f join _kith_records as r using (record_key)""", [context])
    con.unregister("_facts")


def _find_changed(con: duckdb.DuckDBPyConnection, context: str) -> tuple[int, int]:
    """_kith_changed: the records new, changed or gone since the last resolution (their hash
    in identity_record_facts differs); (how many, how many records that table holds)."""
    con.execute("""
        create or replace temp table _kith_changed as
        select r.record_key from _kith_records as r
            left join identity_record_facts as f using (record_key)
        where f.record_hash is distinct from md5(? || r.record_text)
        union all
        select record_key from identity_record_facts
        where record_key not in (select record_key from _kith_records)""", [context])
    return con.execute("""
        select (select count(*) from _kith_changed),
               (select count(*) from identity_record_facts)""").fetchone()


def _pass_on_changed(con: duckdb.DuckDBPyConnection) -> None:
    """Leave the records whose row changed (_kith_changed) to the models that read them:
    transforms.runner reads _kith_records_changed after identity resolution."""
    con.execute("create or replace temp table _kith_records_changed as "
                "select record_key from _kith_changed")


def _keep_people(con: duckdb.DuckDBPyConnection, stamp: str, seconds: float) -> None:
    """Record a resolution that left everyone as they were (as the last one, under `stamp`)."""
    _pass_on_changed(con)
    con.execute("""
        insert into identity_builds by name
        select build_id + 1 as build_id, now() as built_at, ? as fingerprint, ? as seconds,
               * exclude (build_id, built_at, fingerprint, seconds)
        from identity_builds order by build_id desc limit 1""", [stamp, seconds])
    for table in _TEMPORARY:
        con.execute(f"drop table if exists temp.{table}")


def _focus(con: duckdb.DuckDBPyConnection, context: str, n_records: int, n_changed: int,
           n_known: int, owner_emails: frozenset[str], owner_records: frozenset[str]
           ) -> tuple[list[IdentityRecord], Population] | None:
    """The records to group again after a small change, and all records as grouping them
    needs to know them; None when everyone must be grouped again (see the module docstring).

    The records new, changed or gone since the last resolution (their hash in
    identity_record_facts differs) are the seeds, with the owner's records and the addresses
    without a name that a name new or gone among the cards would read otherwise. The focus is
    the seeds, the records sharing a blocking key (big blocks split as among all records) or a
    handle with them, and then every record of the people these were part of, and of the
    people sharing a handle with those, until nothing is added: a handle's records are all in
    the focus or all out, and the people outside it stay as they were. Only the seeds are
    prepared in Python; the rest is counted in SQL from identity_record_facts, which is
    brought up to date here (_find_changed made _kith_changed)."""
    if not n_known or n_changed > INCREMENTAL_SHARE * max(n_records, 1):
        return None
    old_names = _stored_name_parts(con, "true")
    kept_names = _stored_name_parts(con, "record_key not in (select record_key from "
                                         "_kith_changed)")
    fresh = _prepare(con, "record_key in (select record_key from _kith_changed)")
    fresh_names = _name_parts(fresh)
    givens, families = kept_names[0] | fresh_names[0], kept_names[1] | fresh_names[1]
    # Addresses without a name are read with the names of cards and profiles: where one of
    # those names came or went, such an address may read otherwise (maria@ -> Maria).
    moved = (old_names[0] ^ givens) | (old_names[1] ^ families)
    stale = {}
    if moved:
        con.register("_moved", pa.table({"name": sorted(moved)}))
        stale = _prepare(con, """record_key in (
            select f.record_key
            from (select record_key, unnest(handles) as handle from identity_record_facts
                  where nameless) as f
            join _moved on contains(f.handle, _moved.name))
            and record_key not in (select record_key from _kith_changed)""")
        con.unregister("_moved")
    con.execute("""
        create or replace temp table _kith_seeds as
        select record_key, handles from identity_record_facts
        where record_key in (select record_key from _kith_changed)""")
    con.execute("delete from identity_record_facts where record_key in "
                "(select record_key from _kith_changed)")
    if stale:
        con.register("_stale", pa.table({"record_key": sorted(stale)}))
        con.execute("insert into _kith_seeds select record_key, handles "
                    "from identity_record_facts where record_key in (select * from _stale)")
        con.execute("delete from identity_record_facts where record_key in "
                    "(select * from _stale)")
        con.unregister("_stale")
    _insert_facts(con, record_facts(fresh | stale, (givens, families)), context)
    con.execute("insert into _kith_seeds select record_key, [] from _kith_changed")

    _owner_table(con, _owner_keys(con, owner_emails, owner_records))
    n_skipped = _split_blocks(con)
    con.execute("""
        create or replace temp table _kith_handles as
        select record_key, unnest(handles) as handle from identity_record_facts""")
    same_block = " union ".join(
        f"""select b.record_key from _kith_blocks as a join _kith_blocks as b using ({key})
            where a.record_key in (select record_key from _kith_seeds)"""
        for key in BLOCKING_KEYS)
    con.execute(f"""
        create or replace temp table _kith_focus as
        select record_key from _kith_seeds
        union select record_key from _kith_owner
        union select record_key from person_ids where person_id = (
            select owner_person_id from identity_builds order by build_id desc limit 1)
        union {same_block}
        union
        -- the model's blocking rule for a name written family name first
        select b.record_key from identity_record_facts as a join identity_record_facts as b
            on b.given = a.family and b.family = a.given
        where a.record_key in (select record_key from _kith_seeds)
            and a.given <> '' and b.given <> ''
        union
        select record_key from _kith_handles
        where handle in (select unnest(handles) from _kith_seeds)
            or handle in (select handle from _kith_handles
                          where record_key in (select record_key from _kith_seeds))""")
    n_focus = con.execute("select count(*) from _kith_focus").fetchone()[0]
    while True:
        con.execute("""
            insert into _kith_focus
            select record_key from person_ids where person_id in (
                select person_id from person_ids
                where record_key in (select record_key from _kith_focus))
            union
            select record_key from _kith_handles where handle in (
                select handle from _kith_handles
                where record_key in (select record_key from _kith_focus))
            except select record_key from _kith_focus""")
        grown = con.execute("select count(*) from _kith_focus").fetchone()[0]
        if grown == n_focus:
            break
        n_focus = grown
    con.execute("""
        create or replace temp table _kith_focus_handles as
        select handle from _kith_handles
        where record_key in (select record_key from _kith_focus)
        union select unnest(handles) from _kith_seeds""")
    records = read_records(con, "record_key in (select record_key from _kith_focus)",
                           "_kith_records")
    blocks = con.execute(f"""
        select record_key, {', '.join(BLOCKING_KEYS)} from _kith_blocks
        where record_key in (select record_key from _kith_focus)""").fetchall()
    named, by_name = Counter(), {}
    for source, given, family, n in con.execute("""
            select source, full_given, full_family, count(*) from identity_record_facts
            where full_given is not null group by all""").fetchall():
        named[source] += n
        by_name.setdefault((given, family), Counter())[source] += n
    population = Population(
        n_records=n_records, stats=_stored_stats(con), named=named, by_name=by_name,
        givens=givens, families=families,
        blocks={row[0]: dict(zip(BLOCKING_KEYS, row[1:])) for row in blocks},
        n_skipped_blocks=n_skipped, pairs=_kept_pairs(con))
    return records, population


def _prepare(con: duckdb.DuckDBPyConnection, where: str) -> dict[str, _Prepared]:
    return {r.key: _Prepared(r) for r in read_records(con, where, "_kith_records")}


def _stored_name_parts(con: duckdb.DuckDBPyConnection, where: str) -> tuple[set[str], set[str]]:
    """resolve._name_parts of the records of identity_record_facts that `where` selects."""
    givens, families = con.execute(f"""
        select coalesce(list(distinct full_given) filter (where length(full_given) > 1), []),
               coalesce(list(distinct full_family), [])
        from identity_record_facts
        where full_given is not null and reliable and {where}""").fetchone()
    return set(givens), set(families)


def _stored_stats(con: duckdb.DuckDBPyConnection) -> NameStats:
    """NameStats.of all the records of identity_record_facts."""
    names = Counter({(source, (given, family)): n for source, given, family, n in con.execute("""
        select source, full_given, full_family, count(*) from identity_record_facts
        where full_given is not null and reliable group by all""").fetchall()})
    orgs = Counter({(source, org): n for source, org, n in con.execute("""
        select source, org, count(*) from identity_record_facts
        where org is not null group by all""").fetchall()})
    domains = Counter({(source, label): n for source, label, n in con.execute("""
        select source, label, count(*)
        from (select source, unnest(work_labels) as label from identity_record_facts)
        group by all""").fetchall()})
    return NameStats.of_counts(names, orgs, domains)


def _owner_keys(con: duckdb.DuckDBPyConnection, owner_emails: frozenset[str],
                owner_records: frozenset[str]) -> set[str]:
    """The owner's records among all (as resolve finds them among those it groups)."""
    handles = sorted({"email:" + fold_email(e) for e in owner_emails})
    con.register("_owner_handles", pa.table({"handle": handles}, schema=pa.schema(
        [("handle", pa.string())])))
    holders = _prepare(con, """record_key in (
        select record_key from identity_record_facts
        where list_has_any(handles, (select coalesce(list(handle), []) from _owner_handles)))""")
    con.unregister("_owner_handles")
    known = {r[0] for r in con.execute("select record_key from identity_record_facts"
                                       ).fetchall()} if owner_records else set()
    return (set(_owner_records(holders, {h.removeprefix("email:") for h in handles}))
            | (owner_records & known))


def _owner_table(con: duckdb.DuckDBPyConnection, keys: set[str] | frozenset[str]) -> None:
    """_kith_owner: the owner's records (left out of the blocks)."""
    con.register("_owner", pa.table({"record_key": sorted(keys)}, schema=pa.schema(
        [("record_key", pa.string())])))
    con.execute("create or replace temp table _kith_owner as select * from _owner")
    con.unregister("_owner")


def _split_blocks(con: duckdb.DuckDBPyConnection) -> int:
    """_kith_blocks: every record's blocking keys with the groups of more than MAX_BLOCK
    records split by their SUB_KEYS in turn, over all records but the owner's (as
    resolve._split_big_blocks splits them); the number of groups some of whose records were
    left out. Only the records of big groups go through the rounds of splitting."""
    dropped = 0
    for i, key in enumerate(BLOCKING_KEYS):
        subs = list(SUB_KEYS[key])
        columns = ", ".join(dict.fromkeys(subs))
        counts = []
        steps = [f"""base as (select record_key, {columns}, nullif({key}, '') as v
                          from identity_record_facts
                          where record_key not in (select record_key from _kith_owner)),
                     s0 as (select *, false as left_out, null::varchar as was from base
                            where v in (select v from base group by v
                                        having count(*) > {MAX_BLOCK}))"""]
        for n, sub in enumerate([*subs, None]):
            split = f"case when coalesce({sub}, '') <> '' then v || '|' || {sub} end" \
                if sub else "null"
            gone = f"coalesce({sub}, '') = ''" if sub else "true"
            steps.append(f"""
                c{n} as (select *, count(*) over (partition by v) > {MAX_BLOCK}
                                       and v is not null as big from s{n}),
                s{n + 1} as (select record_key, {columns},
                                    case when big then {split} else v end as v,
                                    big and {gone} as left_out, v as was from c{n})""")
            counts.append(f"(select count(distinct was) from s{n + 1} where left_out)")
        last = len(subs) + 1
        con.execute(f"""
            create or replace temp table _kith_block_{i} as
            with {', '.join(steps)}
            select record_key, v as {key}, {' + '.join(counts)} as n_dropped from s{last}""")
        row = con.execute(f"select any_value(n_dropped) from _kith_block_{i}").fetchone()
        dropped += row[0] or 0
    joined = " ".join(f"left join _kith_block_{i} as b{i} using (record_key)"
                      for i in range(len(BLOCKING_KEYS)))
    keys = ", ".join(f"case when b{i}.record_key is null then nullif(f.{key}, '') "
                     f"else b{i}.{key} end as {key}" for i, key in enumerate(BLOCKING_KEYS))
    con.execute(f"""
        create or replace temp table _kith_blocks as
        select record_key, {keys}
        from identity_record_facts as f {joined}
        where record_key not in (select record_key from _kith_owner)""")
    for i in range(len(BLOCKING_KEYS)):
        con.execute(f"drop table temp._kith_block_{i}")
    return dropped


def stored_model(con: duckdb.DuckDBPyConnection, n_records: int) -> tuple[int | None, Model | None]:
    """The latest stored model and its id, or (None, None) when it should be estimated again:
    none yet, kith's comparisons changed, the records grew by RETRAIN_GROWTH (or shrank by as
    much), or it holds the starting weights and there are now enough records to estimate."""
    row = con.execute("""
        select model_id, n_records, is_estimated, model_version, note, settings
        from identity_models order by model_id desc limit 1
    """).fetchone()
    if row is None:
        return None, None
    model_id, n_then, estimated, version, note, settings = row
    grown = n_records >= n_then * RETRAIN_GROWTH or n_records * RETRAIN_GROWTH <= n_then
    if (version != MODEL_VERSION or (grown and (estimated or n_records >= MIN_TRAINING_RECORDS))
            or (not estimated and n_records >= MIN_TRAINING_RECORDS)):
        return None, None
    return model_id, Model(json.loads(settings), n_then, estimated, note)


def _store_model(con: duckdb.DuckDBPyConnection, model: Model) -> int:
    model_id = con.execute("select coalesce(max(model_id), 0) + 1 from identity_models"
                           ).fetchone()[0]
    con.execute("insert into identity_models values (?, now(), ?, ?, ?, ?, ?)",
                [model_id, model.n_records, model.trained, MODEL_VERSION, model.note,
                 json.dumps(model.settings)])
    return model_id


def _model_note(con: duckdb.DuckDBPyConnection, model_id: int | None, reused: bool) -> str | None:
    """What `kith rebuild` says about the model: estimated now, reused, or the starting weights."""
    if model_id is None:
        return None
    trained_at, note = con.execute("select trained_at, note from identity_models "
                                   "where model_id = ?", [model_id]).fetchone()
    if reused:
        return f"{note} (on {trained_at:%Y-%m-%d}; re-estimated when the records grow by a quarter)"
    return note


def _assign_ids(con: duckdb.DuckDBPyConnection, resolution: Resolution, build_id: int,
                focus: frozenset[str] | None) -> tuple[dict[str, int], int]:
    previous = dict(con.execute("select record_key, person_id from person_ids").fetchall())
    if focus is not None:
        previous = {k: p for k, p in previous.items() if k in focus}
    max_id = con.execute("""
        select greatest((select coalesce(max(person_id), 0) from person_ids),
                        (select coalesce(max(max_person_id), 0) from identity_builds))
    """).fetchone()[0]

    claims = []
    for index, cluster in enumerate(resolution.clusters):
        for person_id, n in Counter(previous[k] for k in cluster if k in previous).items():
            claims.append((-n, person_id, index))
    cluster_id: dict[int, int] = {}
    taken: set[int] = set()
    for _, person_id, index in sorted(claims):
        if index not in cluster_id and person_id not in taken:
            cluster_id[index] = person_id
            taken.add(person_id)
    for index in range(len(resolution.clusters)):
        if index not in cluster_id:
            max_id += 1
            cluster_id[index] = max_id

    person_of = {key: cluster_id[index]
                 for index, cluster in enumerate(resolution.clusters) for key in cluster}
    changes = []
    for key, old in previous.items():
        new = person_of.get(key)
        if new == old:
            continue
        if new is None:
            change = "record gone"
        elif old in taken:
            change = "split"                 # the old person lives on without this record
        else:
            change = "merged" if _all_went_to_one(old, previous, person_of) else "split"
        changes.append((build_id, old, change, key, new))
    if changes:
        con.executemany("insert into person_id_changes values (?, now(), ?, ?, ?, ?)", changes)
    return person_of, max_id


def _all_went_to_one(old: int, previous: dict[str, int], person_of: dict[str, int]) -> bool:
    return len({person_of.get(k) for k, p in previous.items() if p == old} - {None}) == 1


def _write(con: duckdb.DuckDBPyConnection, resolution: Resolution,
           person_of: dict[str, int], focus: frozenset[str] | None) -> None:
    """Store the people of `resolution`: all of them, or (with `focus`) those of the records in
    it, keeping the others' links and the merge candidates between the two."""
    keys = sorted(person_of)
    ids = pa.table({"record_key": keys, "person_id": [person_of[k] for k in keys]})
    links = pa.table({
        "person_id": [person_of[link.a] for link in resolution.links],
        "record_a": [link.a for link in resolution.links],
        "record_b": [link.b for link in resolution.links],
        "rule": [link.rule for link in resolution.links],
        "evidence": [link.evidence for link in resolution.links],
        "score": pa.array([link.score for link in resolution.links], pa.float64()),
    })
    size_refused = [r for r in resolution.refused if "kith split" not in r.evidence]
    pairs = resolution.candidates + size_refused
    candidates = pa.table({
        "person_a": [person_of[c.a] for c in pairs],
        "person_b": [person_of[c.b] for c in pairs],
        "record_a": [c.a for c in pairs],
        "record_b": [c.b for c in pairs],
        "score": pa.array([c.score for c in pairs], pa.float64()),
        "evidence": [c.evidence for c in pairs],
    })
    excluded = pa.table({
        "kind": [e.kind for e in resolution.excluded],
        "handle": [e.value for e in resolution.excluded],
        "reason": [e.reason for e in resolution.excluded],
        "n_records": pa.array([e.n_records for e in resolution.excluded], pa.int32()),
    })
    con.register("_ids", ids)
    con.register("_focus", pa.table({"record_key": sorted(focus or ())}))
    everyone = focus is None
    con.execute("delete from person_ids where record_key not in (select record_key from _ids) "
                "and (? or record_key in (select record_key from _focus))", [everyone])
    con.execute("""
        insert into person_ids
        select record_key, person_id, now() from _ids
        on conflict (record_key) do update set person_id = excluded.person_id,
            assigned_at = case when person_ids.person_id = excluded.person_id
                               then person_ids.assigned_at else excluded.assigned_at end
    """)
    # A person's links join its own records: those of the focus are all the focus's people's.
    # A merge candidate between a person of the focus and one outside it stays (with its
    # people's ids now), unless one of its records is gone.
    where = {
        "person_links": "record_a in (select record_key from _focus)",
        "merge_candidates": """
            (record_a in (select record_key from _focus)
             and record_b in (select record_key from _focus))
            or record_a not in (select record_key from person_ids)
            or record_b not in (select record_key from person_ids)""",
        "excluded_handles": "kind || ':' || handle in (select handle from _kith_focus_handles)",
    }
    for table, data in (("person_links", links), ("merge_candidates", candidates),
                        ("excluded_handles", excluded)):
        con.execute(f"delete from {table} where {'true' if everyone else where[table]}")
        con.register("_rows", data)
        con.execute(f"insert into {table} select * from _rows")
        con.unregister("_rows")
    if not everyone:
        con.execute("""
            update merge_candidates set
                person_a = (select person_id from person_ids where record_key = record_a),
                person_b = (select person_id from person_ids where record_key = record_b)
            where record_a in (select record_key from _focus)
                or record_b in (select record_key from _focus)
        """)
    con.unregister("_focus")
    con.unregister("_ids")


def last_build(con: duckdb.DuckDBPyConnection) -> dict:
    """The latest identity_builds row as a dict."""
    cursor = con.execute("select * from identity_builds order by build_id desc limit 1")
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row)) if row else {}
