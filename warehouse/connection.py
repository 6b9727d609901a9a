"""Opening the warehouse file: where it is, who may read it, and waiting for DuckDB's file lock."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

DEFAULT_DB = "kith.duckdb"
LOCK_TIMEOUT_S = float(os.environ.get("KITH_LOCK_TIMEOUT", "30"))
# DuckDB's buffer pool would otherwise grow towards 80% of RAM; with a limit it spills to a
# temporary folder beside the warehouse (<warehouse>.tmp), and an import's memory stays bounded
# whatever the size of the mailbox. A load needs little; rebuilding the views after it (joins
# and aggregates over every message) needs more to run without spilling most of its work.
# Both defaults leave room on a laptop with 8 GB. Ad hoc queries keep DuckDB's own default.
LOAD_MEMORY_LIMIT = os.environ.get("KITH_MEMORY_LIMIT", "256MB")
BUILD_MEMORY_LIMIT = os.environ.get("KITH_BUILD_MEMORY_LIMIT", "1GB")


class WarehouseOutOfMemory(MemoryError):
    """DuckDB could not finish a load within $KITH_MEMORY_LIMIT, or a rebuild of the views
    within $KITH_BUILD_MEMORY_LIMIT, even by spilling to disk."""

    def __init__(self, detail: str, *, building: bool = False):
        if building:
            text = (f"DuckDB ran out of memory rebuilding the views "
                    f"(KITH_BUILD_MEMORY_LIMIT={BUILD_MEMORY_LIMIT}); the imported data is kept: "
                    f"set KITH_BUILD_MEMORY_LIMIT higher (e.g. 4GB) and run `kith rebuild`.")
        else:
            text = (f"DuckDB ran out of memory loading this file "
                    f"(KITH_MEMORY_LIMIT={LOAD_MEMORY_LIMIT}); what was committed is kept: set "
                    f"KITH_MEMORY_LIMIT higher (e.g. 1GB) and import again to carry on.")
        super().__init__(f"{text} ({detail.splitlines()[0][:200]})")


class WarehouseWriteFailed(OSError):
    """DuckDB could not write the warehouse or its temporary files (a full disk, most often)."""

    def __init__(self, detail: str):
        super().__init__(
            f"could not write the warehouse ({detail.splitlines()[0][:200]}); what was "
            f"committed is kept: free some disk space and import again to carry on.")


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse file for longer than we were willing to wait."""


class NotAWarehouse(ValueError):
    """The file given as the warehouse is not one (not a DuckDB file, or not kith's)."""


class BadSetting(ValueError):
    """An environment setting kith reads (a memory limit) has a value it cannot use."""


def resolve_db_path(db: str | os.PathLike | None = None) -> Path:
    """The warehouse path: the `--db` argument, else `KITH_DB`, else ./kith.duckdb."""
    return Path(db or os.environ.get("KITH_DB") or DEFAULT_DB).expanduser()


def connect(db: str | os.PathLike | None = None, *, read_only: bool = False,
            create: bool = True, timeout_s: float = LOCK_TIMEOUT_S) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, upgrading its schema when opened for writing.

    DuckDB lets one process write a file, and a reader in another process fails at once while a
    writer holds it; both sides therefore retry with backoff for up to `timeout_s` seconds.
    A new file (and its WAL) is created readable by its owner only.
    Raises FileNotFoundError for a missing file opened read-only or with `create=False` (commands
    that change an existing warehouse: rebuild, merge, split), WarehouseBusy on timeout,
    NotAWarehouse for a file that is not a DuckDB database (or, read-only, not kith's),
    BadSetting (before touching the file) when opened for writing with a memory limit in
    $KITH_MEMORY_LIMIT or $KITH_BUILD_MEMORY_LIMIT that is not a size.
    """
    path = resolve_db_path(db)
    if not read_only:
        # Checked before anything is written, so that a bad value stops the command at once
        # rather than failing each file of an import, or the rebuild after it.
        _checked_size(LOAD_MEMORY_LIMIT, "KITH_MEMORY_LIMIT")
        _checked_size(BUILD_MEMORY_LIMIT, "KITH_BUILD_MEMORY_LIMIT")
    if (read_only or not create) and not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `kith import` first, or pass --db")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Contacts are personal data: files this process creates (the .duckdb and its .wal) are
        # private to the owner whatever the user's umask.
        os.umask(os.umask(0) | 0o077)
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "not a valid duckdb database" in str(exc).lower():
                raise NotAWarehouse(
                    f"{path} is not a kith warehouse (it is not a DuckDB database file): pass "
                    f"the warehouse with --db, or a new file name to start one") from None
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"{path} is in use by another kith process (a sync or an import); "
                    f"waited {timeout_s:.0f}s. Try again when it has finished.") from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    if read_only:
        from kith.warehouse.schema import current_version
        if current_version(con) == 0:
            con.close()
            raise NotAWarehouse(f"{path} is a DuckDB database but not a kith warehouse (it has "
                                f"no schema_migrations table): pass the warehouse with --db")
    else:
        os.chmod(path, 0o600)
        _remove_stale_spill(con, path)
        from kith.warehouse.schema import migrate
        migrate(con)
    return con


def _remove_stale_spill(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Delete what a killed process left in DuckDB's temporary folder beside the warehouse at
    `path` (<warehouse>.tmp). DuckDB deletes its spill files when it closes, but not those of a
    process killed while it spilled (kill -9, the system out of memory), nor later: a big
    import that crashed could leave gigabytes there for good. A process that opens the
    warehouse for writing is the only one to have it open, so the spill files this connection
    is not using are stale. A folder set elsewhere (maybe shared) is left alone."""
    (folder,) = con.execute("select current_setting('temp_directory')").fetchone()
    folder = Path(folder) if folder else None
    if folder is None or folder.resolve() != Path(f"{path.resolve()}.tmp") or not folder.is_dir():
        return
    in_use = {Path(row[0]).resolve() for row in con.execute(
        "select path from duckdb_temporary_files()").fetchall()}
    for stale in folder.glob("duckdb_temp_*"):
        if stale.resolve() not in in_use:
            stale.unlink(missing_ok=True)
    try:
        folder.rmdir()         # only when nothing else is in it
    except OSError:
        pass


@contextmanager
def load_memory_limit(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Cap DuckDB's memory at $KITH_MEMORY_LIMIT (256MB) for the duration of a load, let its
    write-ahead log grow to LOAD_CHECKPOINT_AT before it is checkpointed, and run it on
    LOAD_THREADS threads."""
    with memory_limit(con, LOAD_MEMORY_LIMIT, "KITH_MEMORY_LIMIT"), \
            _setting(con, "checkpoint_threshold", LOAD_CHECKPOINT_AT), \
            _setting(con, "threads", LOAD_THREADS):
        yield


# A load's statements are small (appending a batch, comparing it with the stored keys), and a
# big mbox is parsed on the other cores meanwhile (flows.mbox_reader): on more threads DuckDB
# spent more CPU on the same work (appending 50,000 messages: 0.07-0.09 s of CPU on one thread,
# 0.14-0.40 s on two) and took it from the parsers. At 100,000 messages on 2 cores the loading
# process used 2.5-3.5 s of CPU instead of 2.9-4.1 s, and peaked 10-40 MB lower.
LOAD_THREADS = "1"


# A load of mail commits every 50,000 messages, and at DuckDB's default (16 MB of log) each
# commit was also a checkpoint, which compresses what was appended into the file: on a
# 1M-message warehouse three such commits took 57 s, and 4.5 s plus 13 s for one checkpoint
# of all three when the log was let grow. Committed data in the log is as durable (a warehouse
# opened after a crash replays it); DuckDB checkpoints once the log passes this size, and when
# the warehouse is closed.
LOAD_CHECKPOINT_AT = "1GB"


def close_after_loads(con: duckdb.DuckDBPyConnection) -> None:
    """Checkpoint under the load's memory limit, then close: a sync that loads and closes
    without a build (IMAP, CalDAV, CardDAV). The loads let DuckDB's log grow
    (LOAD_CHECKPOINT_AT), and the checkpoint that writes it out would otherwise come at close,
    under DuckDB's default limit (80% of RAM): it took a 300,000-message first IMAP sync's
    peak from 473 to 728 MB."""
    try:
        with load_memory_limit(con):
            con.execute("checkpoint")
    except duckdb.Error:
        pass        # what was committed is in the log either way: close checkpoints it
    con.close()


def settle_storage(con: duckdb.DuckDBPyConnection) -> None:
    """After a commit that DuckDB checkpointed itself (its log passed `checkpoint_threshold`: a
    build that rewrote much of the warehouse), checkpoint once more now, so that the next
    command does not pay for it. DuckDB 1.4's first checkpoint after one that wrote much of
    the file takes far longer than the ones after it, whichever process makes it: on a
    1M-message warehouse after the rebuild of a 200-message import, 1.0-1.5 s against
    0.1-0.2 s, and it fell on the close of the next small import (a stack of cards). A
    checkpoint with nothing to write is skipped, so one table's comment is written again as
    it is. A commit DuckDB did not checkpoint is left to the checkpoint at close."""
    (path,) = con.execute("select path from duckdb_databases() "
                          "where database_name = current_database()").fetchone()
    wal = Path(f"{path}.wal") if path else None
    if wal is None or (wal.exists() and wal.stat().st_size > 0):
        return
    (comment,) = con.execute("select comment from duckdb_tables() where database_name = "
                             "current_database() and table_name = 'loads'").fetchone()
    con.execute("comment on table loads is " + sql_text(comment))
    con.execute("checkpoint")


def sql_text(text: str) -> str:
    """`text` as an SQL string literal (for statements that take no parameters: comments)."""
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def build_memory_limit(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Cap DuckDB's memory at $KITH_BUILD_MEMORY_LIMIT (1GB) while the views are rebuilt."""
    with memory_limit(con, BUILD_MEMORY_LIMIT, "KITH_BUILD_MEMORY_LIMIT"):
        yield


@contextmanager
def memory_limit(con: duckdb.DuckDBPyConnection, limit: str, setting: str) -> Iterator[None]:
    """Cap DuckDB's memory at `limit` (the value of the environment variable `setting`)."""
    with _setting(con, "memory_limit", _checked_size(limit, setting)):
        yield


@contextmanager
def _setting(con: duckdb.DuckDBPyConnection, name: str, value: str) -> Iterator[None]:
    """DuckDB's setting `name` at `value` for the duration, then as it was before. Set back
    explicitly: DuckDB 1.4's `reset memory_limit` reports the default again but leaves its
    buffer pool capped."""
    before = con.execute(f"select current_setting('{name}')").fetchone()[0]
    con.execute(f"set {name} = '{value}'")
    try:
        yield
    finally:
        con.execute(f"set {name} = '{before}'")


def _checked_size(text: str, setting: str) -> str:
    value = text.strip()
    if not value[:-2].replace(".", "", 1).isdigit() or value[-2:].upper() not in ("KB", "MB", "GB"):
        raise BadSetting(f"{setting}={text!r} is not a size: give one such as 256MB or 2GB")
    return value
