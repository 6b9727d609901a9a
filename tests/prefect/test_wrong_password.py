"""A wrong password through `kith sync` as a Prefect flow run: it shows nowhere, not in the
output, the warehouse, the run's logs nor its artifacts."""

import subprocess
import sys

import duckdb
import pytest

from tests.prefect.test_nightly import api, kith_env, write_config

WRONG = "Wr0ng-Pa55word-for-prefect-never-shown"
PASSWORD_ENV = "KITH_TEST_PREFECT_DAV_PASSWORD"


@pytest.fixture(scope="module")
def wrong_password_run(prefect_server, radicale_server, tmp_path_factory):
    radicale_server.start()
    folder = tmp_path_factory.mktemp("wrong-password")
    sources = "".join(f'[[sources]]\nname = "{kind}"\nkind = "{kind}"\n'
                      f'url = "{radicale_server.url}/"\nuser = "{radicale_server.user}"\n'
                      f'password_env = "{PASSWORD_ENV}"\n' for kind in ("caldav", "carddav"))
    config_path = write_config(folder, sources)
    proc = subprocess.run([sys.executable, "-m", "kith.flows.cli", "sync", "--config",
                           config_path], capture_output=True, text=True, cwd=folder, timeout=180,
                          env={**kith_env(prefect_server), PASSWORD_ENV: WRONG})
    runs = [r for r in api(prefect_server, "/flow_runs/filter",
                           {"flows": {"name": {"any_": ["kith-nightly-sync"]}}})
            if r["parameters"].get("config_path") == str(config_path)]
    return {"proc": proc, "runs": runs, "db": folder / "kith.duckdb"}


def test_the_run_fails_naming_both_sources(wrong_password_run):
    proc = wrong_password_run["proc"]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "source 'caldav': " in proc.stdout and "source 'carddav': " in proc.stdout
    assert [r["state_type"] for r in wrong_password_run["runs"]] == ["FAILED"]


def test_the_password_is_not_in_the_output(wrong_password_run):
    proc = wrong_password_run["proc"]
    assert WRONG not in proc.stdout + proc.stderr


def test_the_password_is_not_in_the_runs_logs(wrong_password_run, prefect_server):
    run_id = wrong_password_run["runs"][0]["id"]
    logs = api(prefect_server, "/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}})
    assert logs                                      # there are logs, and none holds it
    assert not [log["message"] for log in logs if WRONG in log["message"]]


def test_the_password_is_not_in_the_runs_artifacts(wrong_password_run, prefect_server):
    run_id = wrong_password_run["runs"][0]["id"]
    artifacts = api(prefect_server, "/artifacts/filter",
                    {"artifacts": {"flow_run_id": {"any_": [run_id]}}})
    assert artifacts and WRONG not in repr(artifacts)


def test_the_password_is_not_in_the_runs_state_or_parameters(wrong_password_run, prefect_server):
    run = api(prefect_server, f"/flow_runs/{wrong_password_run['runs'][0]['id']}")
    tasks = api(prefect_server, "/task_runs/filter",
                {"flow_runs": {"id": {"any_": [run["id"]]}}})
    assert WRONG not in repr(run) + repr(tasks)


def test_the_password_is_not_in_the_warehouse(wrong_password_run):
    with duckdb.connect(str(wrong_password_run["db"]), read_only=True) as con:
        for table in ("loads", "rejects", "sync_state"):
            assert WRONG not in repr(con.execute(f"select * from {table}").fetchall()), table
