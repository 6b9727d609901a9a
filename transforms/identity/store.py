"""Running identity resolution over the warehouse and keeping person ids stable.

`resolve_people(con)` reads `int_identity_records`, the user's rules and the owner's addresses,
resolves, and rewrites person_ids, person_links, merge_candidates and excluded_handles. It runs
inside the caller's transaction (transforms.runner.build) and does nothing when its inputs have
not changed since the last run.

After a small import only the people it touched are resolved again (`resolve._touched`: the
new, changed and gone records, the records the model would compare them with, and their
people), with the stored model; everyone else stays as they were. The records are recognised
by a hash of each (identity_record_hashes) that also covers the user's rules, the owner's
addresses and the model, so that a change to any of those resolves everyone again, as does
`force` (`kith rebuild`), a change to more than INCREMENTAL_SHARE of the records, a model
estimated anew, or priors of another kind than the last resolution's (SourcePriors.kind: they
are estimated from all records, and where they change kind the people left as they were would
be grouped otherwise).

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

import duckdb
import pyarrow as pa

from kith.transforms.identity.model import MIN_TRAINING_RECORDS, MODEL_VERSION, Model
from kith.transforms.identity.resolve import IdentityRecord, Previous, Resolution, Rules, resolve

# Bump when the resolver's logic changes, so that the next build resolves again.
RESOLVER_VERSION = "5"
# The model is estimated again once the records have grown by this factor since it was.
RETRAIN_GROWTH = 1.25
# Beyond this share of the records new, changed or gone, everyone is resolved again: the people
# touched would be most of them anyway.
INCREMENTAL_SHARE = 0.25

_RECORD_FIELDS = [f for f in IdentityRecord.__dataclass_fields__]


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


def read_records(con: duckdb.DuckDBPyConnection) -> list[IdentityRecord]:
    table = con.execute(f"select {', '.join(_RECORD_FIELDS[1:])}, record_key "
                        "from int_identity_records order by record_key").fetch_arrow_table()
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


def resolve_people(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> bool:
    """Resolve records into people and store the result (its counts in identity_builds; see
    the module docstring). False when skipped because nothing it reads has changed."""
    started = time.perf_counter()
    stamp = fingerprint(con)
    last = con.execute("select fingerprint from identity_builds "
                       "order by build_id desc limit 1").fetchone()
    if not force and last is not None and last[0] == stamp:
        return False

    records = read_records(con)
    owner_emails, owner_records = owner_inputs(con)
    stored_id, stored = stored_model(con, len(records))
    rules = read_rules(con)

    def hashes(model_id: int | None) -> dict[str, str]:
        return _record_hashes(records, (RESOLVER_VERSION, model_id, rules, sorted(owner_emails),
                                        sorted(owner_records)))
    seen = hashes(stored_id)
    previous = None if force or stored is None else _previous(con, seen)
    resolution = resolve(records, rules=rules, owner_emails=owner_emails,
                         owner_records=owner_records, model=stored, previous=previous)
    if previous is not None and _priors_kind(resolution) != _last_priors_kind(con):
        # The priors are estimated from all records; when their kind changes (estimated now
        # rather than kith's starting prior, or a source now found to hold duplicates), the
        # people left as they were would be grouped otherwise: everyone is resolved again.
        resolution = resolve(records, rules=rules, owner_emails=owner_emails,
                             owner_records=owner_records, model=stored)
    focus = resolution.focus
    model_id = stored_id
    if resolution.model is not None and resolution.model is not stored:
        model_id = _store_model(con, resolution.model)
    build_id = con.execute("select coalesce(max(build_id), 0) + 1 "
                           "from identity_builds").fetchone()[0]
    person_of, max_id = _assign_ids(con, resolution, build_id, focus)
    _write(con, resolution, person_of, focus)
    con.execute("delete from identity_record_hashes")
    if model_id != stored_id:
        seen = hashes(model_id)        # under the model used: estimated now
    con.register("_hashes", pa.table({"record_key": list(seen),
                                      "record_hash": list(seen.values())}))
    con.execute("insert into identity_record_hashes select * from _hashes")
    con.unregister("_hashes")
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
                "(?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [build_id, stamp, len(records), n_people, n_links, n_candidates,
                 len(resolution.refused), resolution.n_skipped_blocks, max_id, owner_id,
                 seconds, model_id, note, _priors_kind(resolution)])
    return True


def _priors_kind(resolution: Resolution) -> str | None:
    return resolution.priors.kind if resolution.priors is not None else None


def _last_priors_kind(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("select priors_kind from identity_builds "
                      "order by build_id desc limit 1").fetchone()
    return row[0] if row else None


def _record_hashes(records: list[IdentityRecord], context: tuple) -> dict[str, str]:
    """record key -> a hash of the record and of what else decides its person (`context`)."""
    salt = repr(context).encode()
    return {r.key: hashlib.sha256(salt + repr(r).encode()).hexdigest()[:16] for r in records}


def _previous(con: duckdb.DuckDBPyConnection, hashes: dict[str, str]) -> Previous | None:
    """What the last resolution made and what changed since, or None to resolve everyone (see
    the module docstring)."""
    before = dict(con.execute("select record_key, record_hash from identity_record_hashes"
                              ).fetchall())
    if not before:
        return None
    changed = {k for k, h in hashes.items() if before.get(k) != h} | (before.keys() - hashes)
    if len(changed) > INCREMENTAL_SHARE * max(len(hashes), 1):
        return None
    person_of = dict(con.execute("select record_key, person_id from person_ids").fetchall())
    owner = con.execute("select owner_person_id from identity_builds "
                        "order by build_id desc limit 1").fetchone()
    owner_keys = frozenset(k for k, p in person_of.items() if owner and p == owner[0])
    return Previous(person_of, frozenset(changed), owner_keys)


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
        "excluded_handles": "true",
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
