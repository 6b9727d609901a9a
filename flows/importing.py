"""Importing files: find them, tell their kind, load each one, rebuild the views."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Callable, Iterable, Iterator

import duckdb

from kith.connectors.card_photos import ReadAhead
from kith.connectors.detect import ReadOptions, detect, is_maildir
from kith.phones import default_region
from kith.records import FolderState
from kith.transforms.runner import build
from kith.warehouse.connection import connect
from kith.warehouse.loader import LoadResult, load_records

ProgressFn = Callable[[Path, int], None]
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
    n = 0
    for record in records:
        n += 1
        if progress and n % PROGRESS_EVERY == 0:
            progress(path, n)
        yield record
    if progress:
        progress(path, n)


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
                           problem="not a vCard, contacts CSV, calendar, mail file, LinkedIn "
                                   "export or card photo; skipped")
    records = _counting(kind.read(path, options), path, progress)
    if state is not None:
        records = chain(records, [state])
    try:
        result = load_records(con, kind.name, path.resolve().as_uri(), records, tag=tag)
    except (ValueError, OSError) as exc:  # UnmappableCsv is a ValueError
        return FileOutcome(path, kind.name, problem=str(exc))
    outcome = FileOutcome(path, kind.name, result=result)
    if kind.name == "linkedin":
        from kith.connectors.linkedin import skipped_files
        outcome.skipped_inside = skipped_files(path)
    return outcome


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
    # A stack of card photos is read by OCR on every core, ahead of the loads that store it.
    ahead = ReadAhead(files, options.region)
    try:
        for path in files:
            summary.files.append(import_file(con, path, tag=tag, options=options,
                                             progress=progress))
        build(con)
    finally:
        ahead.close()
        con.close()
    return summary
