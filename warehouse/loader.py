"""Writing what a connector yields into the warehouse, one load at a time.

`load_records` takes a connector's records for one source and appends them in Arrow record
batches, keeping only what is new: a card whose (record_key, record_hash) is already stored
(earlier in the same load included) counts as already present, one with a known key and a new
hash is a new version of that record. The whole load, with its row in `loads` and its `rejects`
rows, is one transaction, so a crash at any point leaves the warehouse as it was.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import accumulate
from operator import attrgetter
from typing import Iterable, Iterator

import duckdb
import pyarrow as pa

from kith.records import (ChatMessage, ContactCard, Deleted, EventOccurrence, FolderState,
                          Mailbox, MailMessage, RefusedFile, Rejected, SocialInvitation,
                          SocialMessage, UnservedResource)
from kith.warehouse.connection import (WarehouseOutOfMemory, WarehouseWriteFailed,
                                       load_memory_limit)

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
    ("raw_text", pa.string()), ("connected_on", pa.date32()), ("item", pa.string()),
    ("field_confidence", pa.map_(pa.string(), pa.float64())),
])

_MAILBOXES = _struct_list(name=pa.string(), address=pa.string(), normalized=pa.string())

# A message batch as built from records, before the loader adds where and when it was loaded.
MESSAGE_SCHEMA = pa.schema([
    ("record_key", pa.string()), ("record_hash", pa.string()), ("message_id", pa.string()),
    ("has_message_id", pa.bool_()), ("folder", pa.string()), ("position", pa.int64()),
    ("date_raw", pa.string()), ("sent_at", pa.timestamp("us", tz="UTC")),
    ("from_addrs", _MAILBOXES), ("sender_addrs", _MAILBOXES), ("reply_to_addrs", _MAILBOXES),
    ("to_addrs", _MAILBOXES), ("cc_addrs", _MAILBOXES), ("bcc_addrs", _MAILBOXES),
    ("in_reply_to", pa.string()), ("reference_ids", _TEXT_LIST),
    ("list_id", pa.string()), ("list_unsubscribe", pa.string()), ("precedence", pa.string()),
    ("auto_submitted", pa.string()), ("return_path", pa.string()),
    ("gmail_labels", _TEXT_LIST), ("gmail_thread_id", pa.string()), ("subject", pa.string()),
    ("warnings", _TEXT_LIST), ("raw_text", pa.string()),
])
_MAILBOX_COLUMNS = ("from_addrs", "sender_addrs", "reply_to_addrs", "to_addrs", "cc_addrs",
                    "bcc_addrs")

_PERSON = pa.struct([pa.field(name, pa.string()) for name in
                     ("email", "normalized", "name", "partstat", "role", "cutype")])

EVENT_SCHEMA = pa.schema([
    ("record_key", pa.string()), ("record_hash", pa.string()),
    ("source_kind", pa.string()), ("source_uri", pa.string()), ("item", pa.string()),
    ("position", pa.int32()), ("load_id", pa.int64()),
    ("loaded_at", pa.timestamp("us", tz="UTC")), ("calendar", pa.string()),
    ("uid", pa.string()), ("occurrence_id", pa.string()),
    ("start_at", pa.timestamp("us", tz="UTC")), ("end_at", pa.timestamp("us", tz="UTC")),
    ("start_tz", pa.string()), ("is_all_day", pa.bool_()), ("is_recurring", pa.bool_()),
    ("sequence", pa.int32()), ("status", pa.string()), ("organizer", _PERSON),
    ("attendees", pa.list_(_PERSON)), ("summary", pa.string()), ("warnings", _TEXT_LIST),
    ("raw_text", pa.string()),
])

SOCIAL_MESSAGE_SCHEMA = pa.schema([
    ("record_key", pa.string()), ("record_hash", pa.string()),
    ("source_kind", pa.string()), ("source_uri", pa.string()), ("position", pa.int32()),
    ("load_id", pa.int64()), ("loaded_at", pa.timestamp("us", tz="UTC")),
    ("platform", pa.string()), ("conversation_id", pa.string()), ("message_id", pa.string()),
    ("sender_name", pa.string()), ("sender_profile", pa.string()),
    ("recipient_names", _TEXT_LIST), ("recipient_profiles", _TEXT_LIST),
    ("sent_at", pa.timestamp("us", tz="UTC")), ("folder", pa.string()), ("raw_text", pa.string()),
])

SOCIAL_INVITATION_SCHEMA = pa.schema([
    ("record_key", pa.string()), ("record_hash", pa.string()),
    ("source_kind", pa.string()), ("source_uri", pa.string()), ("position", pa.int32()),
    ("load_id", pa.int64()), ("loaded_at", pa.timestamp("us", tz="UTC")),
    ("platform", pa.string()), ("direction", pa.string()), ("other_name", pa.string()),
    ("other_profile", pa.string()), ("sent_at", pa.timestamp("us", tz="UTC")),
    ("raw_text", pa.string()),
])

CHAT_MESSAGE_SCHEMA = pa.schema([
    ("record_key", pa.string()), ("record_hash", pa.string()),
    ("source_kind", pa.string()), ("source_uri", pa.string()), ("position", pa.int64()),
    ("load_id", pa.int64()), ("loaded_at", pa.timestamp("us", tz="UTC")),
    ("platform", pa.string()), ("chat_id", pa.string()), ("chat_name", pa.string()),
    ("chat_type", pa.string()), ("message_id", pa.string()),
    ("sent_at", pa.timestamp("us", tz="UTC")), ("kind", pa.string()),
    ("sender_name", pa.string()), ("sender_id", pa.string()), ("sender_phone", pa.string()),
    ("sender_email", pa.string()), ("is_from_owner", pa.bool_()), ("members", _TEXT_LIST),
    ("warnings", _TEXT_LIST), ("raw_text", pa.string()),
])

# Records stored once and never versioned (the text is never kept, so nothing changes).
_SOCIAL_TABLES = {SocialMessage: ("raw_social_messages", SOCIAL_MESSAGE_SCHEMA),
                  SocialInvitation: ("raw_social_invitations", SOCIAL_INVITATION_SCHEMA),
                  ChatMessage: ("raw_chat_messages", CHAT_MESSAGE_SCHEMA)}

# What a batch carries to DuckDB: the stored columns plus a flag the loader computes.
_FIRST_OF_KEY = pa.field("is_first_of_key", pa.bool_())
_CARD_BATCH_SCHEMA = CONTACT_SCHEMA.append(_FIRST_OF_KEY)
_EVENT_BATCH_SCHEMA = EVENT_SCHEMA.append(_FIRST_OF_KEY)

# Message fields whose column has another name (SQL keywords, or plural for lists).
_MESSAGE_COLUMNS = {"from_": "from_addrs", "sender": "sender_addrs",
                    "reply_to": "reply_to_addrs", "to": "to_addrs", "cc": "cc_addrs",
                    "bcc": "bcc_addrs", "references": "reference_ids"}

REJECT_SCHEMA = pa.schema([
    ("load_id", pa.int64()), ("source_kind", pa.string()), ("source_uri", pa.string()),
    ("position", pa.int32()), ("reason", pa.string()), ("raw_text", pa.string()),
    ("reject_hash", pa.string()), ("rejected_at", pa.timestamp("us", tz="UTC")),
    ("item", pa.string()),
])

_CARD_FIELDS = [f for f in ContactCard.__slots__ if f not in ("position", "raw_text")]


@dataclass
class LoadResult:
    """What one load did, as recorded in the `loads` ledger. `partial`: it loaded, but the
    server could not serve `n_unserved` of the resources (they are rejects)."""
    source_kind: str
    source_uri: str
    load_id: int | None = None
    status: str = "completed"
    n_read: int = 0
    n_new: int = 0
    n_updated: int = 0
    n_already_present: int = 0
    n_rejected: int = 0
    n_unserved: int = 0
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
    row["field_confidence"] = card.field_confidence or None
    row.update(lineage)
    return row


def message_batch(messages: list[MailMessage]) -> pa.RecordBatch:
    """Messages as one Arrow batch (MESSAGE_SCHEMA), built column by column: 8 us a message,
    against 19 us for `RecordBatch.from_pydict` of the same values (bench/mbox_ingest.py)."""
    columns = {"record_key": pa.array([m.record_key for m in messages], pa.string()),
               "record_hash": pa.array([m.record_hash for m in messages], pa.string())}
    for column, get in _MESSAGE_GETTERS:
        values = list(map(get, messages))
        if column in _MAILBOX_COLUMNS:
            columns[column] = _mailbox_lists(values)
        else:
            columns[column] = pa.array(values, MESSAGE_SCHEMA.field(column).type)
    return pa.RecordBatch.from_arrays([columns[f.name] for f in MESSAGE_SCHEMA],
                                      schema=MESSAGE_SCHEMA)


_MESSAGE_GETTERS = [(_MESSAGE_COLUMNS.get(name, name), attrgetter(name))
                    for name in MailMessage.__slots__]


def _mailbox_lists(values: list[list[Mailbox] | None]) -> pa.Array:
    """One message column of mailbox lists, built from flat columns of names, addresses and
    normalized addresses (converting nested Python lists is what made batches slow)."""
    flat = [box for boxes in values if boxes for box in boxes]
    offsets = [0, *accumulate(len(boxes) if boxes else 0 for boxes in values)]
    boxes = pa.StructArray.from_arrays(
        [pa.array([box.name for box in flat], pa.string()),
         pa.array([box.address for box in flat], pa.string()),
         pa.array([box.normalized for box in flat], pa.string())],
        fields=list(_MAILBOXES.value_type))
    mask = pa.array([v is None for v in values]) if None in values else None
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), boxes, type=_MAILBOXES,
                                    mask=mask)


def _event_row(event: EventOccurrence, lineage: dict) -> dict:
    row = {name: getattr(event, name) for name in EventOccurrence.__slots__}
    for name in ("organizer",):
        row[name] = _person(row[name])
    row["attendees"] = [_person(a) for a in row["attendees"]]
    row["record_key"] = event.record_key
    row["record_hash"] = event.record_hash
    row.update(lineage)
    return row


def _person(attendee) -> dict | None:
    if attendee is None:
        return None
    return {f: getattr(attendee, f) for f in attendee.__slots__}


def _social_row(record: SocialMessage | SocialInvitation | ChatMessage, lineage: dict,
                key: str) -> dict:
    row = {name: getattr(record, name) for name in type(record).__slots__}
    row["record_key"] = key
    row["record_hash"] = record.record_hash
    row.update(lineage)
    return row


def _reject_row(reject: Rejected, lineage: dict) -> dict:
    key = f"{lineage['source_uri']}\0{reject.position}\0{reject.reason}\0{reject.raw_text}"
    if reject.item is not None:        # two resources can fail with the same answer
        key += f"\0{reject.item}"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return {"load_id": lineage["load_id"], "source_kind": lineage["source_kind"],
            "source_uri": lineage["source_uri"], "position": reject.position,
            "reason": reject.reason, "raw_text": reject.raw_text, "reject_hash": digest,
            "rejected_at": lineage["loaded_at"], "item": reject.item}


def _batches(records: Iterable, size: int) -> Iterator[list]:
    """Records in lists of `size`, a list ending early at a FolderState: what came before
    it is committed before anything after it is read."""
    batch = []
    for record in records:
        batch.append(record)
        if len(batch) >= size or isinstance(record, FolderState):
            yield batch
            batch = []
    if batch:
        yield batch


def load_records(con: duckdb.DuckDBPyConnection, source_kind: str, source_uri: str,
                 records: Iterable[ContactCard | MailMessage | EventOccurrence | SocialMessage
                                   | SocialInvitation | ChatMessage | Rejected | Deleted
                                   | FolderState], *,
                 tag: str | None = None, batch_size: int = BATCH_SIZE,
                 commit_every: int | None = None) -> LoadResult:
    """Load one source's records and record the load in the ledger.

    Each batch is compared with what is stored (earlier batches of this load included) as it
    arrives, so memory does not grow with the size of the source. A load is one transaction,
    except that mail commits at each FolderState its connector yields (an mbox's resume points,
    an IMAP folder's cursor): each such chunk, with its cursor, is one transaction, and the
    load's row in `loads` says `running` until the last one. An .ics file's load commits every
    `commit_every` occurrences when asked: they are current only once its last transaction
    says which ones the file holds (`event_items`), so a load that stops part-way changes no
    view, and the next leaves the committed ones as already present. If reading or writing fails
    part-way, what was not committed is rolled back, a row in `loads` says why (status
    `refused` when the connector refused the whole file, `interrupted` on Ctrl-C, else
    `failed`; committed chunks stay), and the exception is raised again (DuckDB running out of
    memory as WarehouseOutOfMemory, whose message names the setting; failing to write, a full
    disk, as WarehouseWriteFailed, an OSError).
    """
    with load_memory_limit(con):
        try:
            return _load(con, source_kind, source_uri, records, tag, batch_size, commit_every)
        except duckdb.OutOfMemoryException as exc:
            raise WarehouseOutOfMemory(str(exc)) from exc
        except duckdb.IOException as exc:
            raise WarehouseWriteFailed(str(exc)) from exc


class _Counts:
    """A LoadResult's counts as they stood at the last commit."""

    def __init__(self, result: LoadResult):
        self.values = {name: getattr(result, name) for name in _COUNTED}
        self.reasons = Counter(result.reject_reasons)

    def restore(self, result: LoadResult) -> None:
        for name, value in self.values.items():
            setattr(result, name, value)
        result.reject_reasons = Counter(self.reasons)


_COUNTED = ("n_read", "n_new", "n_updated", "n_already_present", "n_rejected")


def _load(con: duckdb.DuckDBPyConnection, source_kind: str, source_uri: str, records: Iterable,
          tag: str | None, batch_size: int, commit_every: int | None) -> LoadResult:
    if commit_every is not None and source_kind != "ics":
        # a CalDAV load saves a sync token that must not be committed before what it covers
        raise ValueError(f"a {source_kind} load is not committed in chunks of records")
    result = LoadResult(source_kind, source_uri)
    started_at = datetime.now(timezone.utc)
    chunked = source_kind not in CALENDAR_SOURCES + CONTACT_SOURCES
    committed: _Counts | None = None      # set once a chunk of this load is committed
    stage = _MessageStage(con)
    items = _ItemStage(con) if source_kind in CALENDAR_SOURCES + CONTACT_SOURCES else None
    con.execute("begin transaction")
    try:
        result.load_id = con.execute("select nextval('load_id_seq')").fetchone()[0]
        # Only one process writes the warehouse: a load of this source still `running` was
        # killed part-way.
        con.execute("update loads set status = 'interrupted' "
                    "where source_uri = ? and status = 'running'", [source_uri])
        con.execute("""
            insert into loads (load_id, source_kind, source_uri, tag, started_at, status)
            values (?, ?, ?, ?, ?, 'running')""",
                    [result.load_id, source_kind, source_uri, tag, started_at])
        lineage = {"source_kind": source_kind, "source_uri": source_uri,
                   "load_id": result.load_id, "loaded_at": started_at}
        stage.lineage = lineage
        deleted: set[str] = set()        # CalDAV / CardDAV resources the server deleted
        at_commit = 0                     # records of items staged by the last commit
        for batch in _batches(records, batch_size):
            rows = _BatchRows()
            state = None
            seen: dict[str, set[str]] = {}   # record_key -> record_hashes met in this batch
            for record in batch:
                if isinstance(record, FolderState):
                    state = record           # always the last of its batch (see _batches)
                    continue
                if isinstance(record, Deleted):
                    deleted.add(record.key)
                    continue
                if isinstance(record, pa.RecordBatch):      # messages, built by a reader
                    rows.message_batches.append(record)
                    result.n_read += record.num_rows
                    continue
                result.n_read += 1
                if isinstance(record, Rejected):
                    row = _reject_row(record, lineage)
                    rows.rejects.setdefault(row["reject_hash"], row)
                    result.n_rejected += 1
                    result.reject_reasons[record.reason] += 1
                    if isinstance(record, UnservedResource):
                        result.n_unserved += 1
                    continue
                if isinstance(record, MailMessage):
                    rows.messages.append(record)
                    continue
                if isinstance(record, (SocialMessage, SocialInvitation, ChatMessage)):
                    key = record.record_key
                    if key not in seen:
                        seen[key] = set()
                        rows.social[type(record)].append(_social_row(record, lineage, key))
                    else:
                        result.n_already_present += 1
                    continue
                if isinstance(record, EventOccurrence):
                    row = _event_row(record, lineage)
                else:
                    row = _card_row(record, lineage)
                items.add(record.item or "", row["record_key"], row["record_hash"])
                hashes = seen.setdefault(row["record_key"], set())
                if row["record_hash"] in hashes:
                    result.n_already_present += 1   # the same record twice: it adds nothing
                    continue
                row["is_first_of_key"] = not hashes
                hashes.add(row["record_hash"])
                rows.versioned[type(record)].append(row)
            rows.write(con, stage, result, tag)
            if items is not None:
                items.flush()
            if state is not None:
                stage.flush(result)
                _save_cursor(con, state, result.load_id)
            if (state is not None and chunked) or (
                    commit_every is not None and items.n_staged - at_commit >= commit_every):
                _update_load(con, result, "running")
                con.execute("commit")
                committed = _Counts(result)
                at_commit = items.n_staged if items is not None else 0
                con.execute("begin transaction")
            elif stage.n_rows >= STAGE_ROWS:
                stage.flush(result)
        stage.flush(result)
        # A calendar file holding nothing now (one item "", empty) says its old occurrences
        # are gone.
        if source_kind in CALENDAR_SOURCES:
            items.record("event_items", "occurrences", source_uri, result.load_id, deleted,
                         whole_file=source_kind not in SERVER_SOURCES, latest_only=True)
        elif source_kind in CONTACT_SOURCES:
            # (every row counts: a card a later export of a file leaves out stays)
            items.record("contact_items", "cards", source_uri, result.load_id, deleted,
                         whole_file=source_kind not in SERVER_SOURCES, latest_only=False)
        if result.n_unserved:
            result.status = "partial"
        _update_load(con, result, result.status)
        con.execute("commit")
        if items is not None:
            items.drop()
    except BaseException as exc:
        con.execute("rollback")
        stage.forget()
        if items is not None:
            items.drop()
        kept = "the chunks committed before it are kept" if committed is not None else "nothing kept"
        if isinstance(exc, RefusedFile):
            result.status, result.error = "refused", str(exc)
        elif isinstance(exc, (KeyboardInterrupt, duckdb.InterruptException)):
            result.status, result.error = "interrupted", f"interrupted (Ctrl-C); {kept}"
        else:
            result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
        if committed is not None:
            committed.restore(result)
        if isinstance(exc, (Exception, KeyboardInterrupt)):
            try:
                _record_failure(con, result, tag, started_at, committed is not None)
            except Exception:
                pass       # the ledger row is a courtesy; the original error is what matters
        raise
    return result


class _BatchRows:
    """One batch's records as rows, by the table they go to."""

    def __init__(self):
        self.versioned = {ContactCard: [], EventOccurrence: []}
        self.social = {kind: [] for kind in _SOCIAL_TABLES}
        self.messages: list[MailMessage] = []
        self.message_batches: list[pa.RecordBatch] = []
        self.rejects: dict[str, dict] = {}

    def write(self, con: duckdb.DuckDBPyConnection, stage: "_MessageStage", result: LoadResult,
              tag: str | None) -> None:
        if self.versioned[ContactCard]:
            _keep_new_versions(con, "raw_contacts", pa.RecordBatch.from_pylist(
                self.versioned[ContactCard], schema=_CARD_BATCH_SCHEMA), result, tag)
        if self.versioned[EventOccurrence]:
            _keep_new_versions(con, "raw_events", pa.RecordBatch.from_pylist(
                self.versioned[EventOccurrence], schema=_EVENT_BATCH_SCHEMA), result, tag)
        if self.messages:
            self.message_batches.append(message_batch(self.messages))
        for batch in self.message_batches:
            stage.add(batch)
        for kind, (table, schema) in _SOCIAL_TABLES.items():
            if self.social[kind]:
                _keep_new_once(con, table, pa.RecordBatch.from_pylist(self.social[kind],
                                                                      schema=schema), result)
        if self.rejects:
            _keep_new_rejects(con, pa.RecordBatch.from_pylist(list(self.rejects.values()),
                                                              schema=REJECT_SCHEMA))


# Staged messages are de-duplicated against the stored ones at least this often: each pass
# reads the stored Message-IDs once, so fewer, larger passes are faster; this many messages'
# batches are what the stage holds in memory.
STAGE_ROWS = 50_000


class _MessageStage:
    """Messages of the current chunk, held as the Arrow batches they came in until they are
    compared with the stored ones in one pass. An index would make each comparison cheap, but
    DuckDB keeps indexes in memory and cannot spill them; an anti join against a scan of the
    stored keys needs memory only for the stage. (Copying the batches into a temporary table
    first cost as much again as the pass.)"""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.lineage: dict = {}
        self.batches: list[pa.RecordBatch] = []
        self.n_rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        self.batches.append(batch)
        self.n_rows += batch.num_rows

    def flush(self, result: LoadResult) -> None:
        """Store the staged messages not stored yet (one row per Message-ID, as first seen),
        record every place each was seen, and empty the stage."""
        if not self.n_rows:
            return
        con = self.con
        lineage = self.lineage
        # file order, so that the first copy of a message is the one kept
        message_stage = pa.Table.from_batches(self.batches).append_column(
            "stage_seq", pa.array(range(self.n_rows), pa.int64()))
        result.n_new += con.execute("""
            insert into raw_messages by name
            select * exclude (stage_seq), $source_kind as source_kind, $source_uri as source_uri,
                   $load_id::bigint as load_id, $loaded_at::timestamptz as loaded_at
            from message_stage
            -- the first copy of each message in the stage not stored yet, found from the
            -- keys and numbers alone: a window over the staged rows, or an anti join of
            -- them, would carry every wide column through its sort or hash table
            semi join (select min(stage_seq) as stage_seq from message_stage
                       anti join raw_messages as stored using (record_key)
                       group by record_key) as first_new using (stage_seq)
            """, lineage).fetchone()[0]
        result.n_already_present = (result.n_read - result.n_rejected - result.n_new
                                    - result.n_updated)
        con.execute("""
            insert into message_sightings by name
            select distinct on (record_key, position)
                record_key, $source_kind as source_kind, $source_uri as source_uri, folder,
                position, gmail_labels, $load_id::bigint as load_id,
                $loaded_at::timestamptz as seen_at
            from message_stage
            anti join (select record_key, position from message_sightings
                       where source_uri = $source_uri) as stored
                using (record_key, position)""", lineage)
        self.forget()

    def forget(self) -> None:
        """Empty the stage (after a rollback: what it held is not loaded)."""
        self.batches = []
        self.n_rows = 0


def _update_load(con: duckdb.DuckDBPyConnection, result: LoadResult, status: str) -> None:
    con.execute("""
        update loads set status = ?, finished_at = now(), n_read = ?, n_inserted = ?,
                         n_updated = ?, n_already_present = ?, n_rejected = ?
        where load_id = ?""",
                [status, result.n_read, result.n_inserted, result.n_updated,
                 result.n_already_present, result.n_rejected, result.load_id])


def _keep_new_versions(con: duckdb.DuckDBPyConnection, table: str, batch: pa.RecordBatch,
                       result: LoadResult, tag: str | None) -> None:
    """Store the record versions of one batch (cards, event occurrences) that are not stored
    yet in `table`, and count what they were.

    The batch holds each (record_key, record_hash) once; `is_first_of_key` marks the first
    version of a key in the batch, so that a second version of a new card counts as updated.
    """
    n_new, n_updated = con.execute(f"""
        select
            count(*) filter (where stored.record_key is null and known.record_key is null
                             and b.is_first_of_key),
            count(*) filter (where stored.record_key is null
                             and (known.record_key is not null or not b.is_first_of_key))
        from batch as b
        left join {table} as stored using (record_key, record_hash)
        left join (select distinct record_key from {table}
                   where record_key in (select record_key from batch)) as known
            using (record_key)""").fetchone()
    result.n_new += n_new
    result.n_updated += n_updated
    result.n_already_present += batch.num_rows - n_new - n_updated
    con.execute(f"""
        insert into {table} by name
        select * exclude (is_first_of_key) from batch
        anti join {table} as stored using (record_key, record_hash)""")
    if tag:
        con.execute("""
            insert into record_tags by name
            select distinct record_key, $tag as tag, $load_id as load_id, now() as tagged_at
            from batch as b
            where not exists (select 1 from record_tags as t
                              where t.record_key = b.record_key and t.tag = $tag)""",
                    {"tag": tag, "load_id": result.load_id})


# Sources whose every load is a full picture of what each file or resource holds now; a server
# source's load only covers the resources it names (the rest are unchanged).
CALENDAR_SOURCES = ("ics", "caldav")
CONTACT_SOURCES = ("vcard", "contacts_csv", "linkedin", "carddav", "social_lists", "card_photo")
SERVER_SOURCES = ("caldav", "carddav")


class _ItemStage:
    """Calendars, CardDAV and contact files: which records each file or resource holds in this
    load (an item; a whole file is the item ""), kept in a temporary table batch by batch
    rather than in Python, so that memory does not grow with a calendar of a million
    occurrences. `record` says it in `event_items` / `contact_items`, so that a record dropped
    from a file or resource (an EXDATE, a deleted event or card) stops being current."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.columns: tuple[list, list, list] = ([], [], [])
        self.n_staged = 0
        # (a temporary table lives until the connection closes, across the load's commits)
        con.execute("create or replace temp table _kith_load_items "
                    "(seq bigint, item varchar, record_key varchar, record_hash varchar)")

    def add(self, item: str, record_key: str, record_hash: str) -> None:
        for column, value in zip(self.columns, (item, record_key, record_hash)):
            column.append(value)

    def flush(self) -> None:
        n = len(self.columns[0])
        if not n:
            return
        staged = pa.table({"seq": pa.array(range(self.n_staged, self.n_staged + n), pa.int64()),
                           "item": pa.array(self.columns[0], pa.string()),
                           "record_key": pa.array(self.columns[1], pa.string()),
                           "record_hash": pa.array(self.columns[2], pa.string())})
        self.con.execute("insert into _kith_load_items select * from staged")
        self.n_staged += n
        self.columns = ([], [], [])

    def record(self, table: str, column: str, source_uri: str, load_id: int, deleted: set[str],
               *, whole_file: bool, latest_only: bool) -> None:
        """One row per item read (its records in file order), one per item the server said
        was deleted and not read again, and for a whole file that held nothing, one empty.
        `latest_only`: the older rows of the items written are deleted (only an item's latest
        row is read: a calendar of 100,000 events exported every night would otherwise add
        its whole list each night)."""
        self.flush()
        con = self.con
        params = {"source_uri": source_uri, "load_id": load_id}
        con.execute(f"""
            insert into {table} by name
            select $source_uri as source_uri, item, $load_id::bigint as load_id,
                   false as is_deleted,
                   list({{'record_key': record_key, 'record_hash': record_hash}} order by seq)
                       as {column}
            from _kith_load_items group by item""", params)
        gone = pa.table({"item": pa.array(sorted(deleted), pa.string())})
        con.execute(f"""
            insert into {table} by name
            select $source_uri as source_uri, item, $load_id::bigint as load_id,
                   true as is_deleted, [] as {column}
            from gone anti join _kith_load_items using (item)""", params)
        if whole_file and not self.n_staged:
            con.execute(f"""
                insert into {table} by name
                select $source_uri as source_uri, '' as item, $load_id::bigint as load_id,
                       false as is_deleted, [] as {column}""", params)
        if latest_only:
            con.execute(f"""
                delete from {table}
                where source_uri = $source_uri and load_id < $load_id
                    and item in (select item from {table}
                                 where source_uri = $source_uri and load_id = $load_id)""",
                        params)

    def drop(self) -> None:
        self.con.execute("drop table if exists temp._kith_load_items")


def _keep_new_once(con: duckdb.DuckDBPyConnection, table: str, batch: pa.RecordBatch,
                   result: LoadResult) -> None:
    """Store the records of one batch not stored yet in `table` (records never versioned:
    social and chat messages, invitations), and count them."""
    n_new = con.execute(f"""
        select count(*) from batch anti join {table} as stored using (record_key)""").fetchone()[0]
    result.n_new += n_new
    result.n_already_present += batch.num_rows - n_new
    con.execute(f"""
        insert into {table} by name
        select * from batch anti join {table} as stored using (record_key)""")


def _save_cursor(con: duckdb.DuckDBPyConnection, state: FolderState, load_id: int) -> None:
    if state.is_reset:
        con.execute("delete from message_sightings where source_uri = ? and load_id <> ?",
                    [state.source_uri, load_id])
    con.execute("insert or replace into sync_state values (?, ?, ?, now())",
                [state.source_uri, json.dumps(state.cursor), load_id])


def _keep_new_rejects(con: duckdb.DuckDBPyConnection, reject_batch: pa.RecordBatch) -> None:
    """Store the rejects not recorded before: re-reading a bad record does not repeat it."""
    con.execute("""
        insert into rejects by name
        select r.* from reject_batch as r
        anti join rejects as stored using (reject_hash)""")


def _record_failure(con, result: LoadResult, tag: str | None, started_at: datetime,
                    has_committed: bool = False) -> None:
    if has_committed:       # its row, `running` as of the last committed chunk, says so
        con.execute("update loads set status = ?, finished_at = now(), error = ? "
                    "where load_id = ?", [result.status, result.error, result.load_id])
        return
    con.execute("""
        insert into loads (source_kind, source_uri, tag, started_at, finished_at, status, n_read,
                           error)
        values (?, ?, ?, ?, now(), ?, ?, ?)""",
                [result.source_kind, result.source_uri, tag, started_at, result.status,
                 result.n_read, result.error])


def record_refused(con: duckdb.DuckDBPyConnection, source_kind: str | None, source_uri: str,
                   reason: str, *, tag: str | None = None) -> LoadResult:
    """Record in `loads` a file that was not read at all (empty, not a kind kith reads,
    unreadable), with the one sentence that says why. Nothing else is written."""
    result = LoadResult(source_kind or "unknown", source_uri, status="refused", error=reason)
    _record_failure(con, result, tag, datetime.now(timezone.utc))
    return result
