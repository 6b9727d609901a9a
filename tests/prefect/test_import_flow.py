import os
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.prefect.test_nightly import api

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CARDS = PROJECT_ROOT / "examples" / "cards"


def kith_import(api_url, db_path, *args):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PREFECT_API_URL": api_url,
           "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "kith.flows.cli", "import", *map(str, args),
                           "--db", str(db_path)], capture_output=True, text=True, env=env,
                          cwd=PROJECT_ROOT, timeout=300)


def flow_runs(api_url):
    # Only this flow's runs: other tests in this folder share the server.
    return api(api_url, "/flow_runs/filter", {
        "limit": 50, "flows": {"name": {"any_": ["kith-import"]}}})


def test_import_with_a_prefect_server_is_a_recorded_flow_run(prefect_server, db_path):
    proc = kith_import(prefect_server, db_path, CARDS, "--tag", "mixer")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "total" in proc.stdout

    runs = [r for r in flow_runs(prefect_server) if r["state_type"] == "COMPLETED"]
    assert len(runs) == 1
    tasks = api(prefect_server, "/task_runs/filter", {
        "flow_runs": {"id": {"any_": [runs[0]["id"]]}}})
    n_files = len([p for p in CARDS.iterdir() if p.is_file()])
    assert len(tasks) == n_files + 1

    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("select count(*) from loads where status = 'completed'").fetchone() == (
        n_files,)
    con.close()


def test_the_flow_run_logs_each_file_and_each_step_of_the_rebuild(prefect_server, db_path):
    before = {r["id"] for r in flow_runs(prefect_server)}
    proc = kith_import(prefect_server, db_path, CARDS / "mixer-2026-11-20.vcf")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = [r for r in flow_runs(prefect_server) if r["id"] not in before]
    logs = api(prefect_server, "/logs/filter", {
        "logs": {"flow_run_id": {"any_": [run["id"]]}}, "limit": 200})
    messages = [log["message"] for log in logs]
    assert any(m.startswith("mixer-2026-11-20.vcf: ") and " records read, " in m for m in messages)
    assert any(m.startswith("rebuilding: interactions (") for m in messages)
    assert any(m.startswith("rebuilt the views in ") for m in messages)
