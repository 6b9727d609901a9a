"""The README's "existing Prefect server, with a work pool and a worker" commands, run as written
against a real server: the module-path entrypoint deploys, and a worker runs the deployment."""

import shlex
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.prefect.test_nightly import CARDS, api, files_source, kith_env, write_config

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")


def readme_commands() -> list[list[str]]:
    """The shell commands of the README block that creates the work pool, one argv each."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("prefect work-pool create")
    block = text[start:text.index("```", start)]
    return [shlex.split(line) for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def run(argv, env, cwd, timeout=180):
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    assert proc.returncode == 0, f"{shlex.join(argv)}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc


def test_the_readme_work_pool_deployment_runs_on_a_worker(prefect_server, tmp_path):
    config_path = write_config(tmp_path, files_source("cards", CARDS))
    env = kith_env(prefect_server)
    create, deploy, worker = readme_commands()
    assert create[:3] == ["prefect", "work-pool", "create"] and worker[:3] == [
        "prefect", "worker", "start"]

    run([PREFECT, *create[1:]], env, tmp_path)
    deploy = [PREFECT, *(f"config_path={config_path}" if a == "config_path=$HOME/kith.toml" else a
                         for a in deploy[1:])]
    run(deploy, env, tmp_path)
    [deployment] = api(prefect_server, "/deployments/filter",
                       {"deployments": {"name": {"any_": ["nightly"]}},
                        "work_pools": {"name": {"any_": ["kith"]}}})
    assert deployment["entrypoint"] == "kith.flows.nightly.nightly_sync"
    assert [s["schedule"]["cron"] for s in deployment["schedules"]] == ["0 3 * * *"]

    flow_run = api(prefect_server, f"/deployments/{deployment['id']}/create_flow_run", {})
    run([PREFECT, *worker[1:], "--run-once"], env, tmp_path)
    assert api(prefect_server, f"/flow_runs/{flow_run['id']}")["state_type"] == "COMPLETED"
    con = duckdb.connect(str(tmp_path / "kith.duckdb"), read_only=True)
    try:
        completed = con.execute("select count(*) from loads where status = 'completed'").fetchone()[0]
    finally:
        con.close()
    assert completed == len([p for p in CARDS.iterdir() if p.is_file()])
