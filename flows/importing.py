"""Importing files: find them, tell their kind, load each one, rebuild the views."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Callable, Iterable, Iterator

import duckdb
import pyarrow as pa

from kith.connectors.card_photos import ReadAhead
from kith.connectors.detect import FileKind, ReadOptions, detect, is_maildir
from kith.phones import default_region
from kith.records import FolderState, RefusedFile
from kith.transforms.runner import build
from kith.warehouse.connection import WarehouseOutOfMemory, WarehouseWriteFailed, connect
from kith.warehouse.loader import LoadResult, load_records, record_refused
from kith.warehouse.state import get_cursor

# (file, records read so far, phase): "reading" while a file is read and loaded (a big mbox is
# parsed in a child process while this one loads), then "rebuilding" once for the views after
# the last file, and "rebuilding: <step>" as each costly step of the rebuild begins.
ProgressFn = Callable[[Path, int, str], None]
PROGRESS_EVERY = 500


@dataclass
class FileOutcome:
    """What happened to one input file."""
    path: Path
    kind: str | None
    result: LoadResult | None = None
    problem: str | None = None        # why the file was refused or failed as a whole
    skipped_inside: list[str] = field(default_factory=list)   # an archive's files not read
    notes: list[str] = field(default_factory=list)            # read, but worth saying how

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.status == "completed"


@dataclass
class ImportSummary:
    files: list[FileOutcome] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(f.result, name) for f in self.files if f.ok)

    @property
    def reject_reasons(self) -> Counter:
        reasons = Counter()
        for f in self.files:
            if f.ok:
                reasons.update(f.result.reject_reasons)
        return reasons

    @property
    def failed(self) -> list[FileOutcome]:
        return [f for f in self.files if not f.ok]


def expand_paths(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The sources to import: each file given, every file under each folder (hidden ones left
    out), and each Maildir folder as one source, in a stable order.
    Raises FileNotFoundError for a path that does not exist."""
    sources = []
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"{given}: no such file or folder")
        sources.extend(_walk(path))
    return sources


def _walk(path: Path) -> Iterator[Path]:
    # An unpacked LinkedIn export is walked like any folder: its Connections / messages /
    # Invitations files are each recognised on their own, so a folder that holds one of them
    # next to other files (~/Downloads) still has all of them imported.
    if path.is_file() or is_maildir(path):
        yield path
        return
    try:
        children = sorted(path.iterdir())
    except OSError:
        yield path               # import_file refuses it with the reason (permission denied...)
        return
    for child in children:
        if not child.name.startswith(".") and (child.is_file() or child.is_dir()):
            yield from _walk(child)


def _counting(records: Iterator, path: Path, progress: ProgressFn | None) -> Iterator:
    n = shown = 0
    for record in records:
        if isinstance(record, pa.RecordBatch):      # messages read in another process
            n += record.num_rows
        elif not isinstance(record, FolderState):
            n += 1
        if progress and n - shown >= PROGRESS_EVERY:
            progress(path, n, "reading")
            shown = n
        yield record
    if progress:
        progress(path, n, "reading")


# Set (tests set it) to let an unexpected exception from a connector escape `import_file`
# instead of being recorded as a refused file: a bug in kith's own code then fails loudly.
RAISE_ENV = "KITH_RAISE_ERRORS"


def import_file(con: duckdb.DuckDBPyConnection, path: Path, *, tag: str | None = None,
                options: ReadOptions = ReadOptions(), state: FolderState | None = None,
                progress: ProgressFn | None = None) -> FileOutcome:
    """Detect one file's (or Maildir's) kind and load it as one load. Never raises for what a
    file holds: a file that cannot be read at all comes back with `problem` set (one sentence)
    and a `refused` or `failed` row in `loads`, whatever a parser library raised. Raises
    KeyboardInterrupt (the file's load rolled back) and errors of the warehouse itself.
    `state`, when given, is stored with the load (the file's fingerprint, so the next sync can
    skip it when unchanged)."""
    uri = path.resolve().as_uri()

    def refused(kind: str | None, problem: str) -> FileOutcome:
        outcome = FileOutcome(path, kind, problem=problem)
        outcome.result = record_refused(con, kind, uri, problem, tag=tag)
        return outcome

    try:
        if path.is_file() and path.stat().st_size == 0:
            return refused(None, "empty file; nothing to import")
        if path.is_dir():
            os.listdir(path)                         # an unreadable folder says so here
        kind = detect(path)
    except OSError as exc:
        return refused(None, f"cannot read: {exc.strerror or exc}")
    except Exception as exc:
        _raise_if_asked()
        return refused(None, f"cannot tell what kind of file it is: {_describe(exc)}")
    if kind is None:
        return refused(None, "not a vCard, contacts CSV, calendar, mail file, chat export, "
                             "LinkedIn export or card photo; skipped")
    records = _counting(_read(con, kind, path, options), path, progress)
    if state is not None:
        records = chain(records, [state])
    try:
        result = load_records(con, kind.name, uri, records, tag=tag,
                              commit_every=ICS_CHUNK if kind.name == "ics" else None)
    except RefusedFile as exc:                       # the connector's own sentence
        return FileOutcome(path, kind.name, problem=str(exc), result=_last_load(con, uri))
    except (WarehouseOutOfMemory, WarehouseWriteFailed) as exc:   # one sentence from the loader
        return FileOutcome(path, kind.name, problem=str(exc), result=_last_load(con, uri))
    except OSError as exc:
        return FileOutcome(path, kind.name, problem=f"cannot read: {exc.strerror or exc}",
                           result=_last_load(con, uri))
    except duckdb.Error:
        raise                                        # the warehouse, not the file
    except Exception as exc:
        # Anything a parser library raised that the connector did not turn into a reject:
        # the file's load is rolled back and recorded as failed, and the import goes on.
        _raise_if_asked()
        return FileOutcome(path, kind.name, problem=f"could not be read ({_describe(exc)}); "
                                                    "nothing of it was kept",
                           result=_last_load(con, uri))
    outcome = FileOutcome(path, kind.name, result=result)
    if kind.name == "linkedin":
        from kith.connectors.linkedin import reading_notes, skipped_files
        outcome.skipped_inside = skipped_files(path)
        outcome.notes = reading_notes(path)
    return outcome


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _raise_if_asked() -> None:
    if os.environ.get(RAISE_ENV, "").strip() not in ("", "0"):
        raise


def _last_load(con: duckdb.DuckDBPyConnection, uri: str) -> LoadResult | None:
    """The ledger row the loader wrote for a load that did not complete."""
    row = con.execute("select load_id, source_kind, status, error from loads "
                      "where source_uri = ? order by load_id desc limit 1", [uri]).fetchone()
    if row is None:
        return None
    return LoadResult(row[1], uri, load_id=row[0], status=row[2], error=row[3])


# An mbox is loaded in chunks of this many messages, each committed with the point where the
# next one starts, so an import that is killed carries on from there next time.
MBOX_CHUNK = int(os.environ.get("KITH_MBOX_CHUNK", "50000"))
# An .ics file's load commits every this many occurrences, so that what it holds in memory does
# not grow with the calendar (warehouse.loader.load_records).
ICS_CHUNK = int(os.environ.get("KITH_ICS_CHUNK", "50000"))
# A bigger mbox is read in a child process while this one loads; below it, starting the child
# costs more than it saves.
BACKGROUND_MIN_BYTES = 16 << 20


def _read(con: duckdb.DuckDBPyConnection, kind: FileKind, path: Path, options: ReadOptions
          ) -> Iterator:
    if kind.name != "mbox":
        return kind.read(path, options)
    resume = get_cursor(con, path.resolve().as_uri())
    if path.stat().st_size >= BACKGROUND_MIN_BYTES:
        from kith.flows.mbox_reader import read_mbox_batches
        return read_mbox_batches(path, include_subject=options.include_subject,
                                 resume_points=MBOX_CHUNK, resume=resume)
    from kith.connectors.mail import read_mail
    return read_mail(path, include_subject=options.include_subject, resume_points=MBOX_CHUNK,
                     resume=resume)


def read_options(region: str | None, include_subject: bool,
                 owner_tz: str | None = None) -> ReadOptions:
    """The user's choices plus the defaults from the environment (`KITH_PHONE_REGION` or the
    locale for phones, `KITH_TIMEZONE` for calendar times written without a zone)."""
    return ReadOptions(region=region or default_region(), include_subject=include_subject,
                       owner_tz=owner_tz or os.environ.get("KITH_TIMEZONE"))


def run_import(paths: Iterable[str | os.PathLike], *, db: str | os.PathLike | None = None,
               tag: str | None = None, region: str | None = None,
               include_subject: bool = False,
               progress: ProgressFn | None = None) -> ImportSummary:
    """Import files and folders into the warehouse, then rebuild the views.

    Each file is its own load: one that cannot be read is refused (see `import_file`) and the
    others go on. Raises ImportInterrupted on Ctrl-C: the file being read is rolled back, the
    finished ones are kept (the views are then not rebuilt)."""
    files = expand_paths(paths)
    options = read_options(region, include_subject)
    summary = ImportSummary()
    con = connect(db)
    # A stack of card photos is read by OCR on every core, ahead of the loads that store it.
    ahead = ReadAhead(files, options.region)
    try:
        for path in files:
            try:
                outcome = import_file(con, path, tag=tag, options=options, progress=progress)
            except (KeyboardInterrupt, duckdb.InterruptException):
                raise ImportInterrupted(summary, path, len(files)) from None
            summary.files.append(outcome)
        if progress and files:
            progress(files[-1], 0, "rebuilding")
            build(con, on_step=lambda step: progress(files[-1], 0, f"rebuilding: {step}"))
        else:
            build(con)
    finally:
        ahead.close()
        con.close()
    return summary


class ImportInterrupted(Exception):
    """Ctrl-C during an import: `current` was rolled back, `summary` holds the files finished
    before it (kept in the warehouse)."""

    def __init__(self, summary: ImportSummary, current: Path, n_files: int):
        super().__init__(f"interrupted while reading {current}")
        self.summary, self.current, self.n_files = summary, current, n_files
