"""Writing what a connector yields into the warehouse, one load at a time.

`load_records` takes a connector's records for one source, appends them in Arrow record batches to
a staging table, and then, in the same transaction, keeps only what is new: a card whose
(record_key, record_hash) is already stored counts as already present, one with a known key and a
new hash is a new version of that record. The load's row in `loads` and its `rejects` rows are
written in that same transaction, so a crash at any point leaves the warehouse as it was.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import islice
from typing import Iterable, Iterator

import duckdb
import pyarrow as pa

from connectors.records import ContactCard, Rejected

BATCH_SIZE = 5_000

_TEXT_LIST = pa.list_(pa.string())


def _struct_list(**fields) -> pa.DataType:
    return pa.list_(pa.struct([pa.field(name, typ) for name, typ in fields.items()]))


CONTACT_SCHEMA = pa.schema([
    ("record_key", pa.string()), ("record_hash", pa.string()),
    ("source_kind", pa.string()), ("source_uri", pa.string()), ("position", pa.int32()),
    ("load_id", pa.int64()), ("loaded_at", pa.timestamp("us", tz="UTC")),
    ("source_format", pa.string()),
    ("full_name", pa.string()), ("given_name", pa.string()), ("family_name", pa.string()),
    ("additional_names", pa.string()), ("name_prefix", pa.string()), ("name_suffix", pa.string()),
    ("is_name_derived", pa.bool_()), ("nicknames", _TEXT_LIST),
    ("org", pa.string()), ("org_units", _TEXT_LIST), ("title", pa.string()), ("role", pa.string()),
    ("note", pa.string()), ("categories", _TEXT_LIST), ("birthday", pa.string()),
    ("uid", pa.string()), ("revision", pa.string()), ("revised_at", pa.timestamp("us", tz="UTC")),
    ("photo_sha256", pa.string()),
    ("emails", _struct_list(address=pa.string(), normalized=pa.string(), types=_TEXT_LIST,
                            label=pa.string())),
    ("phones", _struct_list(number=pa.string(), e164=pa.string(), types=_TEXT_LIST,
                            label=pa.string())),
    ("addresses", _struct_list(po_box=pa.string(), extended=pa.string(), street=pa.string(),
                               locality=pa.string(), region=pa.string(),
                               postal_code=pa.string(), country=pa.string(),
                               types=_TEXT_LIST, label=pa.string())),
    ("links", _struct_list(value=pa.string(), kind=pa.string(), service=pa.string(),
                           types=_TEXT_LIST, label=pa.string())),
    ("raw_text", pa.string()),
])

REJECT_SCHEMA = pa.schema([
    ("load_id", pa.int64()), ("source_kind", pa.string()), ("source_uri", pa.string()),
    ("position", pa.int32()), ("reason", pa.string()), ("raw_text", pa.string()),
    ("reject_hash", pa.string()), ("rejected_at", pa.timestamp("us", tz="UTC")),
])

_CARD_FIELDS = [f for f in ContactCard.__slots__ if f not in ("position", "raw_text")]


@dataclass
class LoadResult:
    """What one load did, as recorded in the `loads` ledger."""
    source_kind: str
    source_uri: str
    load_id: int | None = None
    status: str = "completed"
    n_read: int = 0
    n_new: int = 0
    n_updated: int = 0
    n_already_present: int = 0
    n_rejected: int = 0
    reject_reasons: Counter = field(default_factory=Counter)
    error: str | None = None

    @property
    def n_inserted(self) -> int:
        return self.n_new + self.n_updated


def _card_row(card: ContactCard, lineage: dict) -> dict:
    row = {name: getattr(card, name) for name in _CARD_FIELDS}
    for name in ("emails", "phones", "addresses", "links"):
        row[name] = [{f: getattr(item, f) for f in item.__slots__} for item in row[name]]
    row["record_key"] = card.record_key
    row["record_hash"] = card.record_hash
    row["position"] = card.position
    row["raw_text"] = card.raw_text
    row.update(lineage)
    return row


def _reject_row(reject: Rejected, lineage: dict) -> dict:
    digest = hashlib.sha256(
        f"{lineage['source_uri']}\0{reject.position}\0{reject.reason}\0{reject.raw_text}".encode(
            "utf-8", "surrogatepass")).hexdigest()
    return {"load_id": lineage["load_id"], "source_kind": lineage["source_kind"],
            "source_uri": lineage["source_uri"], "position": reject.position,
            "reason": reject.reason, "raw_text": reject.raw_text, "reject_hash": digest,
            "rejected_at": lineage["loaded_at"]}


def _batches(records: Iterable, size: int) -> Iterator[list]:
    it = iter(records)
    while batch := list(islice(it, size)):
        yield batch


def load_records(con: duckdb.DuckDBPyConnection, source_kind: str, source_uri: str,
                 records: Iterable[ContactCard | Rejected], *, tag: str | None = None,
                 batch_size: int = BATCH_SIZE) -> LoadResult:
    """Load one source's records in one transaction and record the load in the ledger.

    If reading or writing fails part-way, nothing of this load is kept; a `failed` row is written
    to `loads` with the error, and the exception is raised again.
    """
    result = LoadResult(source_kind, source_uri)
    started_at = datetime.now(timezone.utc)
    con.execute("begin transaction")
    try:
        result.load_id = con.execute("select nextval('load_id_seq')").fetchone()[0]
        lineage = {"source_kind": source_kind, "source_uri": source_uri,
                   "load_id": result.load_id, "loaded_at": started_at}
        con.execute("create or replace temp table incoming_contacts as "
                    "select * from raw_contacts limit 0")
        con.execute("create or replace temp table incoming_rejects as "
                    "select * from rejects limit 0")
        for batch in _batches(records, batch_size):
            cards, rejects = [], []
            for record in batch:
                if isinstance(record, Rejected):
                    rejects.append(_reject_row(record, lineage))
                    result.reject_reasons[record.reason] += 1
                else:
                    cards.append(_card_row(record, lineage))
            result.n_read += len(batch)
            result.n_rejected += len(rejects)
            if cards:
                card_batch = pa.RecordBatch.from_pylist(cards, schema=CONTACT_SCHEMA)
                con.execute("insert into incoming_contacts by name select * from card_batch")
            if rejects:
                reject_batch = pa.RecordBatch.from_pylist(rejects, schema=REJECT_SCHEMA)
                con.execute("insert into incoming_rejects by name select * from reject_batch")
        _keep_what_is_new(con, result, tag)
        con.execute("""
            insert into loads (load_id, source_kind, source_uri, tag, started_at, finished_at,
                               status, n_read, n_inserted, n_updated, n_already_present, n_rejected)
            values (?, ?, ?, ?, ?, now(), 'completed', ?, ?, ?, ?, ?)""",
                    [result.load_id, source_kind, source_uri, tag, started_at, result.n_read,
                     result.n_inserted, result.n_updated, result.n_already_present,
                     result.n_rejected])
        con.execute("drop table incoming_contacts")
        con.execute("drop table incoming_rejects")
        con.execute("commit")
    except BaseException as exc:
        con.execute("rollback")
        result.status = "failed"
        result.error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, Exception):
            _record_failure(con, result, tag, started_at)
        raise
    return result


def _keep_what_is_new(con: duckdb.DuckDBPyConnection, result: LoadResult, tag: str | None) -> None:
    """Move this load's new card versions, new rejects and tags from staging into the warehouse."""
    # A card repeated inside one load (same key and content) is one card; the first one wins.
    con.execute("""
        create or replace temp table incoming_distinct as
        select * from incoming_contacts
        qualify row_number() over (partition by record_key, record_hash order by position) = 1""")
    counts = con.execute("""
        select
            count(*) filter (where stored.record_key is not null),
            count(*) filter (where stored.record_key is null and known.record_key is null
                             and first_of_key),
            count(*) filter (where stored.record_key is null
                             and (known.record_key is not null or not first_of_key))
        from (select *, row_number() over (partition by record_key order by position) = 1
                        as first_of_key
              from incoming_distinct) as i
        left join raw_contacts as stored using (record_key, record_hash)
        left join (select distinct record_key from raw_contacts) as known using (record_key)
        """).fetchone()
    result.n_already_present, result.n_new, result.n_updated = counts
    # Duplicates inside the file are "already present" too: they add nothing.
    n_cards = result.n_read - result.n_rejected
    result.n_already_present += n_cards - sum(counts)
    con.execute("""
        insert into raw_contacts by name
        select i.* from incoming_distinct as i
        anti join raw_contacts as stored using (record_key, record_hash)""")
    con.execute("""
        insert into rejects by name
        select i.* from (
            select * from incoming_rejects
            qualify row_number() over (partition by reject_hash order by position) = 1) as i
        anti join rejects as stored using (reject_hash)""")
    if tag:
        con.execute("""
            insert into record_tags by name
            select distinct record_key, $tag as tag, $load_id as load_id, now() as tagged_at
            from incoming_distinct as i
            where not exists (select 1 from record_tags as t
                              where t.record_key = i.record_key and t.tag = $tag)""",
                    {"tag": tag, "load_id": result.load_id})
    con.execute("drop table incoming_distinct")


def _record_failure(con, result: LoadResult, tag: str | None, started_at: datetime) -> None:
    con.execute("""
        insert into loads (source_kind, source_uri, tag, started_at, finished_at, status, n_read,
                           error)
        values (?, ?, ?, ?, now(), 'failed', ?, ?)""",
                [result.source_kind, result.source_uri, tag, started_at, result.n_read,
                 result.error])
