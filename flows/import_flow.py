"""`kith import` as a Prefect flow, for runs that a Prefect server should track and show.

Each file is its own task (one load, one transaction); tasks receive the warehouse path, never a
connection, so they stay hashable and each opens the file only for as long as it writes.
"""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from kith.connectors.detect import ReadOptions
from kith.flows.importing import FileOutcome, ImportSummary, expand_paths, import_file, read_options
from kith.transforms.runner import build
from kith.warehouse.connection import connect


@task(name="import-file", cache_policy=NO_CACHE)
def import_file_task(db: str, path: str, tag: str | None, options: ReadOptions) -> FileOutcome:
    started = time.monotonic()
    con = connect(db)
    try:
        outcome = import_file(con, Path(path), tag=tag, options=options,
                              progress=_logged_progress())
    finally:
        con.close()
    if outcome.result is not None:
        seconds = time.monotonic() - started
        get_run_logger().info("%s: %s records read, %s new in %.0f s (%.0f/s)", Path(path).name,
                              f"{outcome.result.n_read:,}", f"{outcome.result.n_new:,}", seconds,
                              outcome.result.n_read / max(seconds, 1e-3))
    return outcome


LOG_EVERY = 50_000      # records between two progress lines in the flow run's log


def _logged_progress():
    """A progress function writing records read and the rate to the flow run's log."""
    logger = get_run_logger()
    started = time.monotonic()
    logged = 0

    def log(path: Path, n: int, phase: str) -> None:
        nonlocal logged
        if n - logged >= LOG_EVERY:
            logged = n
            logger.info("%s: %s, %s records read (%.0f/s)", path.name, phase, f"{n:,}",
                        n / max(time.monotonic() - started, 1e-3))
    return log


@task(name="build-views", cache_policy=NO_CACHE)
def build_views_task(db: str) -> list[str]:
    logger = get_run_logger()
    logger.info("rebuilding views")
    started = time.monotonic()

    def log_step(step: str) -> None:
        logger.info("rebuilding: %s (%.0f s in)", step, time.monotonic() - started)
    con = connect(db)
    try:
        views = build(con, on_step=log_step)
    finally:
        con.close()
    logger.info("rebuilt the views in %.0f s", time.monotonic() - started)
    return views


@flow(name="kith-import")
def import_flow(paths: list[str], db: str, tag: str | None = None,
                region: str | None = None, include_subject: bool = False) -> ImportSummary:
    """Import files and folders into the warehouse at `db`, one task per file, then the views."""
    options = read_options(region, include_subject)
    summary = ImportSummary()
    for path in expand_paths(paths):
        summary.files.append(import_file_task(db, str(path), tag, options))
    build_views_task(db)
    return summary
