"""The nightly sync as a Prefect flow, and the deployment that runs it on the configured schedule.

The flow only wires tasks: `flows.sync_run.run_sync` does the run (the same code `kith sync`
runs without Prefect), with each source and the rebuild made a task here. Tasks receive the
config path and a source name, never a connection, so they stay hashable and each opens the
warehouse only while it writes. Only network sources (IMAP, CalDAV) are retried.
"""

from __future__ import annotations

from dataclasses import replace

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from kith.flows.config import Config, load_config
from kith.flows.sync import SourceResult, rebuild, sync_source
from kith.flows.sync_run import COUNTS, SyncFailed, SyncReport, run_sync

FLOW_NAME = "kith-nightly-sync"
DEPLOYMENT_NAME = "nightly"
ARTIFACT_KEY = "kith-sync-summary"
REPORT_ARTIFACT_KEY = "kith-network-report"


def _worth_retrying(task, task_run, state) -> bool:
    """Retry a network source unless the server refused the login: a wrong password stays
    wrong, and trying it again only delays the report (and may lock the account)."""
    from kith.connectors.caldav import CalDavAuthError   # CardDavAuthError is one too
    from kith.connectors.imap import ImapAuthError

    try:
        # _sync: Prefect hands back a coroutine instead when it thinks it is in async code (a
        # run context left over, an event loop running), which would raise nothing here
        state.result(_sync=True)
    except Exception as exc:
        return not isinstance(exc.__cause__, (ImapAuthError, CalDavAuthError))
    return True


def _sync_source(config_path: str, name: str) -> SourceResult:
    # The task retries a failed network source; the connector's own retries would multiply that.
    return sync_source(load_config(config_path), name, retries=0)


file_source_task = task(_sync_source, name="sync-files", task_run_name="sync-{name}",
                        cache_policy=NO_CACHE)
network_source_task = task(_sync_source, name="sync-network-source", task_run_name="sync-{name}",
                           cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 5, 15],
                           retry_condition_fn=_worth_retrying)


@task(name="rebuild-views", cache_policy=NO_CACHE)
def rebuild_task(config_path: str) -> dict:
    return rebuild(load_config(config_path))


@task(name="write-report", cache_policy=NO_CACHE)
def report_task(config_path: str) -> str:
    """Write kith-report.html beside the warehouse; return the artifact's markdown."""
    from kith.report.page import default_path, write_network_report
    from kith.warehouse.connection import connect

    config = load_config(config_path)
    path = default_path(config.db_path)
    con = connect(config.db_path, read_only=True)
    try:
        network = write_network_report(con, path)
    finally:
        con.close()
    return report_markdown(network, path)


def sync_source_task(config: Config, name: str) -> SourceResult:
    """Run one source as its own task run (retried when it is a network source); raise what
    the task raised once its retries are spent."""
    runner = network_source_task if config.source(name).is_network else file_source_task
    return runner(str(config.path), name, return_state=True).result()


def _rebuild_as_task(config: Config) -> dict:
    return rebuild_task(str(config.path))


@flow(name=FLOW_NAME)
def nightly_sync(config_path: str | None = None) -> SyncReport:
    """Sync every configured source (one task each), rebuild the views, publish a summary
    artifact. Fails, naming the failed sources, when any source failed."""
    logger = get_run_logger()
    config = _with_absolute_path(load_config(config_path))
    report = run_sync(config, run_source=sync_source_task, run_rebuild=_rebuild_as_task,
                      on_start=lambda s: logger.info("syncing %s (%s)", s.name, s.kind),
                      on_done=lambda o: (logger.error if o.failed else logger.info)(
                          "%s", o.describe()))
    publish_summary(report)
    if report.views is not None:        # the views were rebuilt: the page can be too
        create_markdown_artifact(key=REPORT_ARTIFACT_KEY, markdown=report_task(str(config.path)),
                                 description=f"kith report of {report.db_path}")
    if not report.ok:
        raise SyncFailed(report)
    return report


def publish_summary(report: SyncReport) -> None:
    """The run's summary as a table artifact: one row per source, failures with their message."""
    columns = ["source", "kind", "status", *COUNTS, "message"]
    views = ", ".join(f"{n:,} {name}" for name, n in (report.views or {}).items())
    create_table_artifact(
        key=ARTIFACT_KEY,
        table=[{c: row[c] for c in columns} for row in report.rows()],
        description=f"kith sync into {report.db_path}: "
                    + (report.failure_message() if not report.ok else "all sources synced")
                    + (f". Views now hold {views}." if views else ".")
                    + (" " + "; ".join(report.changes) + "." if report.changes else ""))


def report_markdown(network, path) -> str:
    """The report's headline for the Prefect UI: where the page is, each list's funnel numbers
    and the tier moves of the last build."""
    lines = ["# Your network", "", f"The report: `{path}`", ""]
    lines += [f"**{_cell(w)}**" for w in network.warnings]
    if network.is_empty:
        return "\n".join(lines + ["Nobody yet: import contacts and mail first."])
    lines += ["| list | people | any contact | two-way | % two-way | inner circle | active |",
              "|---|--:|--:|--:|--:|--:|--:|"]
    lines += [f"| {_cell(r['list_name'])} | {r['n_people']:,} | {r['n_with_interaction']:,} | "
              f"{r['n_two_way']:,} | {r['pct_two_way']} | {r['n_inner_circle']:,} | "
              f"{r['n_active']:,} |" for r in network.lists]
    moves = [f"{m['n']:,} new, {m['tier']}" if m["previous_tier"] == "new" else
             f"{m['n']:,} moved from {m['previous_tier']} to {m['tier']}"
             for m in network.tier_moves]
    lines += ["", "Tier moves at the last build that changed any: "
              + ("; ".join(moves) if moves else "none") + "."]
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Text from the user's data (a card tag) as markdown that stays text and in its cell."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "\\|").replace("\n", " "))


def serve_nightly(config: Config) -> None:
    """Register the deployment `kith-nightly-sync/nightly` on the configured cron and time zone,
    and run its scheduled (and manually triggered) runs until stopped with Ctrl-C or SIGTERM,
    which pauses its schedule. Needs a Prefect server (PREFECT_API_URL)."""
    import asyncio
    import signal

    from prefect.runner import Runner
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    config = _with_absolute_path(config)
    # What `nightly_sync.serve(...)` does, but with our SIGTERM handler: Prefect 3.8.8's own
    # exits from inside the signal handler, and when a run has just ended the process is gone
    # before the schedule is paused (measured: paused after SIGINT, still active after SIGTERM).
    runner = Runner(name=DEPLOYMENT_NAME, pause_on_shutdown=True, limit=1)
    # Until the runner is up, SIGTERM stops `kith serve` like Ctrl-C does (no traceback).
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        runner.add_flow(
            nightly_sync, name=DEPLOYMENT_NAME,
            schedules=[Cron(config.schedule.cron, timezone=config.schedule.timezone)],
            parameters={"config_path": str(config.path)},
            description=f"Sync the sources of {config.path} into the warehouse.",
            # Runs start in a fresh process: import the flow as `flows.nightly` (the installed
            # package), not from a file path relative to wherever `kith serve` was started.
            entrypoint_type=EntrypointType.MODULE_PATH)
        asyncio.run(_serve_until_stopped(runner))
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(*args) -> None:
    raise KeyboardInterrupt


async def _serve_until_stopped(runner) -> None:
    """Run `runner` until Ctrl-C or SIGTERM; both cancel it the same way, so that it leaves
    through its own clean-up (which pauses the schedule)."""
    import asyncio

    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    # Runner.start() installs `handle_sigterm` as the SIGTERM handler.
    runner.handle_sigterm = lambda *args: loop.call_soon_threadsafe(main.cancel)
    await runner.start()


def _with_absolute_path(config: Config) -> Config:
    """The config with an absolute `path`: tasks and served runs may start in another folder."""
    return config if config.path.is_absolute() else replace(config, path=config.path.resolve())
