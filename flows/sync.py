"""The sync: every configured source into the warehouse, incrementally, then the views.

Plain functions; `flows.nightly` wraps them into a Prefect flow. Each source is independent: a
failing one raises `SourceFailed` with one clear message and the others still run. Each file
and each mailbox folder or calendar is its own short write transaction, so `kith sql` and other
readers get in between (they wait for the lock, see `warehouse.connection`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from kith.connectors.ics import REREAD_EVERY
from kith.records import FolderState
from kith.flows.config import Config, SourceConfig
from kith.warehouse.connection import connect
from kith.warehouse.loader import LoadResult
from kith.warehouse.state import get_cursor


class SourceFailed(RuntimeError):
    """A configured source could not be synced. The message names it and says why."""

    def __init__(self, name: str, message: str):
        super().__init__(f"source {name!r}: {message}")
        self.name = name


class SyncAlreadyRunning(RuntimeError):
    """Another sync holds the warehouse's sync lock."""


@dataclass
class SourceResult:
    name: str
    kind: str
    loads: list[LoadResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)    # files unchanged since the last sync
    problems: list[str] = field(default_factory=list)   # files that could not be read at all

    def totals(self) -> dict:
        counts = Counter()
        for load in self.loads:
            counts.update(new=load.n_new, updated=load.n_updated,
                          already_present=load.n_already_present, rejected=load.n_rejected)
        return {"new": counts["new"], "updated": counts["updated"],
                "already_present": counts["already_present"], "rejected": counts["rejected"],
                "skipped": len(self.skipped)}

    @property
    def n_unserved(self) -> int:
        """CalDAV / CardDAV resources the server could not serve (they are rejects)."""
        return sum(load.n_unserved for load in self.loads)


@contextmanager
def sync_lock(config: Config) -> Iterator[None]:
    """Held for the whole of a sync; a second sync on the same warehouse refuses at once.

    An OS file lock (not a marker file), so a sync killed with kill -9 never leaves it behind.
    """
    lock_path = Path(f"{config.db_path}.sync-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise SyncAlreadyRunning(f"a sync of {config.db_path} is already running "
                                     f"({holder}); try again when it has finished") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {datetime.now().isoformat(timespec='seconds')}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare(config: Config) -> None:
    """Store the owner's addresses and the relationship settings from the config, so mail
    direction is known and tiers follow the configured thresholds."""
    from kith.transforms.relationships import apply_settings

    con = connect(config.db_path)
    try:
        con.execute("begin transaction")
        for email in config.owner.emails:
            con.execute("insert or ignore into owner_addresses values (?, now())", [email])
        for handle in config.owner.chat_names:
            con.execute("insert or ignore into owner_chat_names values (?, now())", [handle])
        apply_settings(con, config.transforms)
        # chat days are the owner's days: an evening's chat in New York is one day, not two
        con.execute("update relationship_settings set owner_timezone = ?",
                    [config.owner.timezone])
        con.execute("commit")
    finally:
        con.close()


def sync_source(config: Config, name: str, *, retries: int = 3) -> SourceResult:
    """Bring one configured source up to date. Raises SourceFailed (one clear message).

    `retries`: how often a network source retries a dropped connection (0 when the caller,
    a Prefect task, retries the whole source itself)."""
    source = config.source(name)
    try:
        if source.kind == "files":
            return _sync_files(config, source)
        if source.kind == "imap":
            return _sync_imap(config, source, retries)
        if source.kind == "carddav":
            return _sync_carddav(config, source, retries)
        return _sync_caldav(config, source, retries)
    except SourceFailed:
        raise
    except (OSError, ValueError, RuntimeError) as exc:
        # Connector errors (ImapError, CalDavError...) carry a message fit for the user and
        # never a password; anything else is a bug and keeps its traceback.
        raise SourceFailed(name, str(exc)) from exc


def _sync_files(config: Config, source: SourceConfig) -> SourceResult:
    from kith.flows.importing import expand_paths, import_file, read_options

    result = SourceResult(source.name, source.kind)
    try:
        files = expand_paths(source.settings["paths"])
    except FileNotFoundError as exc:
        raise SourceFailed(source.name, str(exc)) from None
    options = read_options(config.owner.phone_region, source.settings.get("subjects", False),
                           owner_tz=config.owner.timezone)
    for path in files:
        con = connect(config.db_path)
        try:
            uri = path.resolve().as_uri()
            try:
                fingerprint = _fingerprint(path, get_cursor(con, uri), _is_calendar(path))
            except OSError:
                fingerprint = {}     # unreadable: import_file refuses it, with the reason
            if fingerprint is None:
                result.skipped.append(str(path))
                continue
            outcome = import_file(con, path, tag=source.settings.get("tag"), options=options,
                                  state=FolderState(uri, fingerprint) if fingerprint else None)
        finally:
            con.close()
        if outcome.ok:
            result.loads.append(outcome.result)
        else:
            result.problems.append(f"{path}: {outcome.problem}")
    if result.problems and not result.loads and not result.skipped:
        raise SourceFailed(source.name, "; ".join(result.problems))
    return result


def _is_calendar(path: Path) -> bool:
    from kith.connectors.detect import ICS, detect
    try:
        return path.is_file() and detect(path) == ICS
    except OSError:
        return False


def _fingerprint(path: Path, cursor: dict | None, is_calendar: bool) -> dict | None:
    """The file's (size, mtime, sha256) when it changed since `cursor`, else None.

    Size and mtime decide cheaply; a file touched but not changed (same content hash) is also
    left alone. Maildir folders are always read (the loader skips what is already stored), and
    so is a calendar last read a week ago or more: its recurring events have new occurrences
    inside the window, which moves with time.
    """
    now = datetime.now(timezone.utc)
    if path.is_dir():
        return {"read_at": now.isoformat(timespec="seconds")}
    stat = path.stat()
    stale = is_calendar and (not cursor or "read_at" not in cursor or
                             now - datetime.fromisoformat(cursor["read_at"]) > REREAD_EVERY)
    if (not stale and cursor and cursor.get("size") == stat.st_size
            and cursor.get("mtime_ns") == stat.st_mtime_ns):
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    if not stale and cursor and cursor.get("sha256") == digest.hexdigest():
        return None
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest.hexdigest(),
            "read_at": now.isoformat(timespec="seconds")}


def _sync_imap(config: Config, source: SourceConfig, retries: int) -> SourceResult:
    from kith.connectors.imap import DEFAULT_EXCLUDE, ImapAccount
    from kith.flows.mail_sync import sync_imap

    s = source.settings
    account = ImapAccount(host=s["host"], user=s["user"], port=s.get("port"),
                          security=s.get("security", "tls"), password_env=s.get("password_env"),
                          password_block=s.get("password_block"),
                          include_folders=tuple(s.get("folders", ())),
                          exclude_folders=tuple(s.get("exclude", DEFAULT_EXCLUDE)))
    loads = sync_imap(config.db_path, account, retries=retries,
                      include_subject=s.get("subjects", False))
    return SourceResult(source.name, source.kind, loads=loads)


def _sync_caldav(config: Config, source: SourceConfig, retries: int) -> SourceResult:
    from kith.connectors.caldav import CalDavAccount
    from kith.flows.calendar_sync import sync_caldav

    s = source.settings
    account = CalDavAccount(url=s["url"], user=s["user"], password_env=s.get("password_env"),
                            password_block=s.get("password_block"),
                            include_calendars=tuple(s.get("calendars", ())),
                            exclude_calendars=tuple(s.get("exclude", ())),
                            verify=s.get("verify", True))
    loads = sync_caldav(config.db_path, account, retries=retries, owner_tz=config.owner.timezone)
    return SourceResult(source.name, source.kind, loads=loads)


def _sync_carddav(config: Config, source: SourceConfig, retries: int) -> SourceResult:
    from kith.connectors.carddav import CardDavAccount
    from kith.flows.contacts_sync import sync_carddav

    s = source.settings
    account = CardDavAccount(url=s["url"], user=s["user"], password_env=s.get("password_env"),
                             password_block=s.get("password_block"),
                             include_addressbooks=tuple(s.get("addressbooks", ())),
                             exclude_addressbooks=tuple(s.get("exclude", ())),
                             verify=s.get("verify", True))
    loads = sync_carddav(config.db_path, account, retries=retries,
                         default_region=config.owner.phone_region)
    return SourceResult(source.name, source.kind, loads=loads)


def rebuild(config: Config) -> dict:
    """Rebuild the views; return how many contacts, people, messages and events they now hold."""
    from kith.transforms.runner import build

    con = connect(config.db_path)
    try:
        build(con)
        return {name: con.execute(f"select count(*) from {view}").fetchone()[0]
                for name, view in (("contacts", "contacts"), ("people", "network"),
                                   ("messages", "stg_mail__messages"),
                                   ("events", "stg_calendar__events"))}
    finally:
        con.close()
