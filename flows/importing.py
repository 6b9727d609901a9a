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

from kith.connectors.detect import FileKind, ReadOptions, detect, is_maildir
from kith.phones import default_region
from kith.records import FolderState
from kith.transforms.runner import build
from kith.warehouse.connection import WarehouseOutOfMemory, connect
from kith.warehouse.loader import LoadResult, load_records
from kith.warehouse.state import get_cursor

# (file, records read so far, phase): "reading" while a file is read and loaded, "rebuilding"
# once, for the views after the last file.
ProgressFn = Callable[[Path, int, str], None]
PROGRESS_EVERY = 500


@dataclass
class FileOutcome:
    """What happened to one input file."""
    path: Path
    kind: str | None
    result: LoadResult | None = None
    problem: str | None = None        # why the file was skipped or failed as a whole
    skipped_inside: list[str] = field(default_factory=list)   # an archive's files not read

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
    for child in sorted(path.iterdir()):
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


def import_file(con: duckdb.DuckDBPyConnection, path: Path, *, tag: str | None = None,
                options: ReadOptions = ReadOptions(), state: FolderState | None = None,
                progress: ProgressFn | None = None) -> FileOutcome:
    """Detect one file's (or Maildir's) kind and load it as one load. Never raises for bad
    content: a file that cannot be read at all comes back with `problem` set (and a failed row
    in `loads`). `state`, when given, is stored with the load (the file's fingerprint, so the
    next sync can skip it when unchanged)."""
    try:
        if path.is_file() and path.stat().st_size == 0:
            return FileOutcome(path, None, problem="empty file; nothing to import")
        kind = detect(path)
    except OSError as exc:
        return FileOutcome(path, None, problem=f"cannot read: {exc.strerror or exc}")
    if kind is None:
        return FileOutcome(path, None,
                           problem="not a vCard, contacts CSV, calendar, mail file or LinkedIn "
                                   "export; skipped")
    records = _counting(_read(con, kind, path, options), path, progress)
    if state is not None:
        records = chain(records, [state])
    try:
        result = load_records(con, kind.name, path.resolve().as_uri(), records, tag=tag)
    except (ValueError, OSError, WarehouseOutOfMemory) as exc:  # UnmappableCsv: a ValueError
        return FileOutcome(path, kind.name, problem=str(exc))
    outcome = FileOutcome(path, kind.name, result=result)
    if kind.name == "linkedin":
        from kith.connectors.linkedin import skipped_files
        outcome.skipped_inside = skipped_files(path)
    return outcome


# An mbox is loaded in chunks of this many messages, each committed with the point where the
# next one starts, so an import that is killed carries on from there next time.
MBOX_CHUNK = int(os.environ.get("KITH_MBOX_CHUNK", "50000"))
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
    """Import files and folders into the warehouse, then rebuild the views."""
    files = expand_paths(paths)
    options = read_options(region, include_subject)
    summary = ImportSummary()
    con = connect(db)
    try:
        for path in files:
            summary.files.append(import_file(con, path, tag=tag, options=options,
                                             progress=progress))
        if progress and files:
            progress(files[-1], 0, "rebuilding")
        build(con)
    finally:
        con.close()
    return summary
