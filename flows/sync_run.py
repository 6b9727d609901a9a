"""One sync run: every configured source, then the views, then a summary of what happened.

This is the one implementation of the run, shared by `kith sync` (which calls it directly, with
no Prefect engine) and the `kith-nightly-sync` flow (which passes runners that make each source
and the rebuild a Prefect task). It imports no Prefect, so a one-off `kith sync` starts at once.

A source that fails never stops the others: its error is kept, the remaining sources and the
rebuild still run, and the report says the run failed. Nothing here is ever silently green.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from kith.flows.config import Config, SourceConfig
from kith.flows.sync import SourceFailed, SourceResult, prepare, rebuild, sync_lock, sync_source
from kith.warehouse.connection import connect

RunSource = Callable[[Config, str], SourceResult]
RunRebuild = Callable[[Config], dict]

# Columns of the summary, in the order the CLI table and the Prefect artifact show them.
COUNTS = ("new", "updated", "already_present", "rejected", "skipped")

log = logging.getLogger(__name__)


@dataclass
class SourceOutcome:
    """What one source did in this run: its result, or the message of its failure."""
    name: str
    kind: str
    result: SourceResult | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def status(self) -> str:
        """'failed'; 'partial' (it loaded, but its server could not serve some resources);
        or 'ok'."""
        if self.failed:
            return "failed"
        return "partial" if self.result.n_unserved else "ok"

    def unserved_message(self) -> str:
        n = self.result.n_unserved if self.result else 0
        return (f"the server could not serve {n:,} resource(s); they are listed in rejects "
                "with their href" if n else "")

    def counts(self) -> dict:
        return self.result.totals() if self.result else dict.fromkeys(COUNTS, 0)

    def describe(self) -> str:
        """One line for progress output and logs."""
        if self.failed:
            return f"{self.name} ({self.kind}): FAILED: {self.error}"
        c = self.counts()
        line = (f"{self.name} ({self.kind}): {c['new']:,} new, {c['updated']:,} updated, "
                f"{c['already_present']:,} already present, {c['rejected']:,} rejected, "
                f"{c['skipped']:,} unchanged files skipped")
        if self.result.problems:
            line += f"; {len(self.result.problems)} file(s) could not be read"
        if self.result.n_unserved:
            line += f"; {self.unserved_message()}"
        return line


@dataclass
class SyncReport:
    """The outcome of one run over every configured source."""
    db_path: str
    sources: list[SourceOutcome] = field(default_factory=list)
    views: dict | None = None            # the counts `rebuild` returned
    rebuild_error: str | None = None
    changes: list[str] = field(default_factory=list)   # "12 new people", "3 moved to cooling"

    @property
    def failed(self) -> list[SourceOutcome]:
        return [s for s in self.sources if s.failed]

    @property
    def ok(self) -> bool:
        return not self.failed and self.rebuild_error is None

    @property
    def nothing_new(self) -> bool:
        return self.total("new") + self.total("updated") == 0

    def total(self, name: str) -> int:
        return sum(s.counts()[name] for s in self.sources)

    def rows(self) -> list[dict]:
        """One row per source: its counts, its status and, if it failed, why."""
        rows = []
        for s in self.sources:
            notes = (s.result.problems if s.result else []) + [s.unserved_message()]
            message = s.error or "; ".join(note for note in notes if note)
            rows.append({"source": s.name, "kind": s.kind, "status": s.status,
                         **s.counts(), "message": message})
        return rows

    def failure_message(self) -> str:
        """Why the run failed, naming each failed source; empty when it did not fail."""
        parts = []
        if self.failed:
            parts.append(f"{len(self.failed)} of {len(self.sources)} sources failed: "
                         + "; ".join(s.error for s in self.failed))
        if self.rebuild_error:
            parts.append(f"rebuilding the views failed: {self.rebuild_error}")
        return ". ".join(parts)


class SyncFailed(RuntimeError):
    """Raised at the end of a run in which a source or the rebuild failed; carries the report."""

    def __init__(self, report: SyncReport):
        super().__init__(report.failure_message())
        self.report = report

    def __reduce__(self):   # Prefect pickles a failed run's exception; keep the report with it
        return (SyncFailed, (self.report,))


def run_sync(config: Config, *, run_source: RunSource = sync_source,
             run_rebuild: RunRebuild = rebuild,
             on_start: Callable[[SourceConfig], None] | None = None,
             on_done: Callable[[SourceOutcome], None] | None = None) -> SyncReport:
    """Sync every configured source in order, then rebuild the views, under the sync lock.

    `run_source(config, name)` and `run_rebuild(config)` do the work (the plain functions of
    `flows.sync` by default; the Prefect flow passes task-wrapped ones). A source raising
    SourceFailed, or anything else, is recorded as failed and the next one runs; so is a failed
    rebuild. Returns the report: check `report.ok`. Raises SyncAlreadyRunning when another sync
    holds the lock.
    """
    with sync_lock(config):
        prepare(config)
        report = SyncReport(db_path=str(config.db_path))
        mark = _change_mark(config)
        for source in config.sources:
            if on_start:
                on_start(source)
            outcome = SourceOutcome(source.name, source.kind)
            try:
                outcome.result = run_source(config, source.name)
            except SourceFailed as exc:
                outcome.error = str(exc)
            except Exception as exc:  # a bug in one source must not hide the others' data
                log.exception("source %r failed unexpectedly", source.name)
                outcome.error = f"source {source.name!r}: unexpected {type(exc).__name__}: {exc}"
            report.sources.append(outcome)
            if on_done:
                on_done(outcome)
        try:
            report.views = run_rebuild(config)
        except Exception as exc:
            log.exception("rebuilding the views failed")
            report.rebuild_error = f"{type(exc).__name__}: {exc}"
        else:
            report.changes = _changes(config, mark)
    return report


def _change_mark(config: Config) -> tuple[int, int] | None:
    from kith.transforms.relationships import change_mark

    con = connect(config.db_path)
    try:
        return change_mark(con)
    finally:
        con.close()


def _changes(config: Config, mark: tuple[int, int] | None) -> list[str]:
    """What changed in the network during this run; a summary, so never a reason to fail."""
    from kith.transforms.relationships import changes_since

    con = connect(config.db_path, read_only=True)
    try:
        return changes_since(con, mark)
    except Exception:
        log.exception("summarising what changed failed")
        return []
    finally:
        con.close()
