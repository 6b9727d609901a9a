"""The nightly sync against a real Prefect server: `kith serve` registers a cron deployment that
the server schedules and runs, and a run with a failing source ends Failed, naming it."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from kith.flows.config import load_config

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CARDS = PROJECT_ROOT / "examples" / "cards"
CRON, ZONE = "30 4 * * *", "America/New_York"


def kith_env(api_url):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PREFECT_API_URL": api_url,
           "COLUMNS": "200",
           # the served runner looks for runs to start every second, not every 10
           "PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    return env


def write_config(folder: Path, sources: str) -> Path:
    path = folder / "kith.toml"
    path.write_text(f'[owner]\ntimezone = "Europe/Berlin"\n[warehouse]\npath = "kith.duckdb"\n'
                    f'[schedule]\ncron = "{CRON}"\ntimezone = "{ZONE}"\n{sources}')
    return path


def files_source(name, path):
    return f'[[sources]]\nname = "{name}"\nkind = "files"\npaths = ["{path}"]\n'


# The server answers 503 when its SQLite database is busy (a load of 10 on two cores does that),
# meaning "try again"; Prefect's own client retries it, and so do the tests.
_SESSION = requests.Session()
_SESSION.mount("http://", HTTPAdapter(max_retries=Retry(
    total=6, backoff_factor=0.5, status_forcelist=[503], allowed_methods=None,
    raise_on_status=False)))


def api(url, path, body=None):
    response = (_SESSION.post(f"{url}{path}", json=body or {}, timeout=10) if body is not None
                else _SESSION.get(f"{url}{path}", timeout=10))
    response.raise_for_status()
    return response.json()


def wait_for(what, check, timeout_s, proc=None):
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"kith serve exited ({proc.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout_s} s")
        time.sleep(0.5)


def loads_completed(config_path):
    con = duckdb.connect(str(load_config(config_path).db_path), read_only=True)
    try:
        return con.execute("select count(*) from loads where status = 'completed'").fetchone()[0]
    finally:
        con.close()


# kith serve

@pytest.fixture(scope="module")
def served(prefect_server, tmp_path_factory):
    """A `kith serve` process with its deployment as the API shows it."""
    folder = tmp_path_factory.mktemp("serve")
    config_path = write_config(folder, files_source("cards", CARDS))
    log = open(folder / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "kith.flows.cli", "serve", "--config", config_path],
                            stdout=log, stderr=subprocess.STDOUT, env=kith_env(prefect_server),
                            cwd=folder, start_new_session=True)

    def deployment():
        found = api(prefect_server, "/deployments/filter",
                    {"deployments": {"name": {"any_": ["nightly"]}},
                     "flows": {"name": {"any_": ["kith-nightly-sync"]}}})
        return found[0] if found else None

    try:
        yield {"proc": proc, "config_path": config_path, "log": folder / "serve.log",
               "deployment": wait_for("deployment", deployment, 60, proc)}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_serve_registers_the_deployment_with_its_cron_and_zone(served):
    schedules = served["deployment"]["schedules"]
    assert [(s["schedule"]["cron"], s["schedule"]["timezone"], s["active"]) for s in schedules] \
        == [(CRON, ZONE, True)]
    assert served["deployment"]["parameters"] == {"config_path": str(served["config_path"])}


def test_the_scheduler_creates_runs_at_the_configured_times(served, prefect_server):
    """Fails when the server's scheduler is broken (e.g. SQLAlchemy 2.1: no runs, no error)."""
    from kith.flows.config import next_runs

    def scheduled():
        return api(prefect_server, "/flow_runs/filter", {
            "deployments": {"id": {"any_": [served["deployment"]["id"]]}},
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
            "sort": "EXPECTED_START_TIME_ASC"})

    runs = wait_for("scheduled runs", scheduled, 30, served["proc"])
    expected = next_runs(load_config(served["config_path"]), len(runs))
    assert [datetime.fromisoformat(r["expected_start_time"]) for r in runs] == expected


def test_a_run_triggered_through_the_api_completes_and_loads_the_files(served, prefect_server):
    run = api(prefect_server, f"/deployments/{served['deployment']['id']}/create_flow_run", {})

    def finished():
        state = api(prefect_server, f"/flow_runs/{run['id']}")["state_type"]
        return state if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

    assert wait_for("finished run", finished, 60, served["proc"]) == "COMPLETED", \
        served["log"].read_text()[-3000:]
    n_files = len([p for p in CARDS.iterdir() if p.is_file()])
    assert loads_completed(served["config_path"]) == n_files


def test_sigterm_stops_serve_and_pauses_the_schedule(served, prefect_server):
    proc = served["proc"]
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("kith serve did not exit within 30 s of SIGTERM")
    deployment = api(prefect_server, f"/deployments/{served['deployment']['id']}")
    assert deployment["paused"], served["log"].read_text()[-3000:]


# kith sync with PREFECT_API_URL: a flow run with one good and one failing source

@pytest.fixture(scope="module")
def failed_sync(prefect_server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("failing")
    config_path = write_config(folder, files_source("cards", CARDS)
                               + files_source("gone", folder / "missing.vcf"))
    proc = subprocess.run([sys.executable, "-m", "kith.flows.cli", "sync", "--config", config_path],
                          capture_output=True, text=True, env=kith_env(prefect_server),
                          cwd=folder, timeout=120)
    runs = [r for r in api(prefect_server, "/flow_runs/filter",
                           {"flows": {"name": {"any_": ["kith-nightly-sync"]}}})
            if r["parameters"].get("config_path") == str(config_path)]
    return {"proc": proc, "config_path": config_path, "runs": runs}


def test_sync_with_a_failing_source_exits_1_naming_it(failed_sync):
    proc = failed_sync["proc"]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "source 'gone': " in proc.stdout


def test_the_flow_run_ends_failed(failed_sync):
    assert [r["state_type"] for r in failed_sync["runs"]] == ["FAILED"]


def test_the_good_source_is_loaded_anyway(failed_sync):
    n_files = len([p for p in CARDS.iterdir() if p.is_file()])
    assert loads_completed(failed_sync["config_path"]) == n_files


def test_the_summary_artifact_names_the_failed_source(failed_sync, prefect_server):
    artifacts = api(prefect_server, "/artifacts/filter", {
        "artifacts": {"flow_run_id": {"any_": [failed_sync["runs"][0]["id"]]},
                      "key": {"any_": ["kith-sync-summary"]}}})
    rows = json.loads(artifacts[0]["data"])
    assert [(r["source"], r["status"]) for r in rows] == [("cards", "ok"), ("gone", "failed")]
    assert "missing.vcf" in rows[1]["message"]


def test_the_run_writes_the_report_and_its_headline_artifact(failed_sync, prefect_server):
    page = failed_sync["config_path"].parent / "kith-report.html"
    assert (page.stat().st_mode & 0o777) == 0o600
    assert "<h1>Your network</h1>" in page.read_text(encoding="utf-8")
    artifacts = api(prefect_server, "/artifacts/filter", {
        "artifacts": {"flow_run_id": {"any_": [failed_sync["runs"][0]["id"]]},
                      "key": {"any_": ["kith-network-report"]}}})
    markdown = artifacts[0]["data"]
    con = duckdb.connect(str(load_config(failed_sync["config_path"]).db_path), read_only=True)
    try:
        lists = con.execute("select list_name, n_people, n_two_way from network_summary "
                            "where kind <> 'warning' order by position, list_name").fetchall()
    finally:
        con.close()
    assert f"The report: `{page}`" in markdown
    rows = [line.split(" | ") for line in markdown.splitlines()
            if line.startswith("| ") and not line.startswith("| list ")]
    assert [(r[0], r[1], r[3]) for r in rows] == \
        [(f"| {name}", f"{n_people:,}", f"{n_two_way:,}") for name, n_people, n_two_way in lists]
    assert lists and "Tier moves at the last build that changed any: " in markdown
