"""`kith init`, `kith schedule` and `kith sync` without a Prefect server (no engine, no server)."""

import os
import shutil
import stat
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from kith.flows.config import TEMPLATE, load_config
from kith.flows.sync import SourceFailed
from kith.flows.sync_run import run_sync

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CARDS = PROJECT_ROOT / "examples" / "cards"


def kith(*args, check=True):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "COLUMNS": "200"}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.run([sys.executable, "-m", "kith.flows.cli", *map(str, args)], env=env,
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"kith {args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def write_config(tmp_path, sources: str, schedule: str = "") -> Path:
    path = tmp_path / "kith.toml"
    path.write_text('[owner]\nemails = ["me@home.example"]\ntimezone = "Europe/Berlin"\n'
                    f'[warehouse]\npath = "kith.duckdb"\n{schedule}\n{sources}')
    return path


def files_source(name, *paths):
    return (f'[[sources]]\nname = "{name}"\nkind = "files"\n'
            f'paths = [{", ".join(repr(str(p)).replace(chr(39), chr(34)) for p in paths)}]\n')


@pytest.fixture
def cards(tmp_path):
    folder = tmp_path / "cards"
    shutil.copytree(CARDS, folder)
    return folder


def count_contacts(config_path):
    con = duckdb.connect(str(load_config(config_path).db_path), read_only=True)
    try:
        return con.execute("select count(*) from contacts").fetchone()[0]
    finally:
        con.close()


# kith init

def test_init_writes_the_template_and_it_loads(tmp_path):
    path = tmp_path / "kith.toml"
    kith("init", "--config", path)
    assert path.read_text() == TEMPLATE
    assert load_config(path).sources[0].name == "address-book"


def test_init_file_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "kith.toml"
    kith("init", "--config", path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_init_refuses_to_overwrite(tmp_path):
    path = tmp_path / "kith.toml"
    path.write_text("# mine\n")
    proc = kith("init", "--config", path, check=False)
    assert proc.returncode == 1 and "--force" in proc.stderr
    assert path.read_text() == "# mine\n"


def test_init_force_replaces_and_tightens_the_mode(tmp_path):
    path = tmp_path / "kith.toml"
    path.write_text("# mine\n")
    path.chmod(0o644)
    kith("init", "--config", path, "--force")
    assert (path.read_text(), stat.S_IMODE(path.stat().st_mode)) == (TEMPLATE, 0o600)


# kith schedule

def test_schedule_prints_the_cron_its_zone_and_five_future_runs(tmp_path):
    path = write_config(tmp_path, "", '[schedule]\ncron = "15 4 * * 1-5"\n'
                                      'timezone = "America/New_York"')
    lines = kith("schedule", "--config", path).stdout.splitlines()
    assert lines[0].startswith("cron 15 4 * * 1-5 in America/New_York")
    times = [datetime.fromisoformat(line.split()[0]) for line in lines[1:]]
    assert len(times) == 5
    assert times == sorted(times) and times[0] > datetime.now(timezone.utc)
    assert {(t.hour, t.minute) for t in times} == {(4, 15)}
    assert all(t.weekday() < 5 for t in times)


# kith sync (no PREFECT_API_URL: plain functions in this process)

def test_sync_prints_the_summary(tmp_path, cards):
    path = write_config(tmp_path, files_source("cards", cards))
    proc = kith("sync", "--config", path)
    row = next(line for line in proc.stdout.splitlines() if line.strip().startswith("cards"))
    cells = [cell.strip() for cell in row.split("│")]    # source, kind, new, ..., skipped
    assert cells[:2] == ["cards", "files"] and int(cells[2]) == 10 and cells[-1] == "0"
    assert "Nothing new" not in proc.stdout and "Views now hold" in proc.stdout
    assert count_contacts(path) == 10           # examples/cards: 10 cards in 3 files


def test_second_sync_says_nothing_new_and_skips_unchanged_files(tmp_path, cards):
    path = write_config(tmp_path, files_source("cards", cards))
    kith("sync", "--config", path)
    proc = kith("sync", "--config", path)
    assert "Nothing new: 0 records already present, 3 unchanged files skipped." in proc.stdout


def test_sync_with_a_failing_source_loads_the_others_and_exits_1(tmp_path, cards):
    path = write_config(tmp_path, files_source("gone", tmp_path / "missing.vcf")
                        + files_source("cards", cards))
    proc = kith("sync", "--config", path, check=False)
    assert proc.returncode == 1
    assert "source 'gone': " in proc.stdout and "missing.vcf" in proc.stdout
    assert count_contacts(path) == 10


def test_sync_with_a_bad_config_names_the_problem(tmp_path):
    path = tmp_path / "kith.toml"
    path.write_text('[schedule]\ncron = "every night"\n')
    proc = kith("sync", "--config", path, check=False)
    assert proc.returncode == 2 and "schedule.cron" in proc.stderr


def test_sync_without_a_server_does_not_load_prefect(tmp_path, cards):
    path = write_config(tmp_path, files_source("cards", cards))
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("PREFECT_API_URL", None)
    script = ("import sys\nfrom flows.cli import app\n"
              f"app(['sync', '--config', {str(path)!r}], standalone_mode=False)\n"
              "print('prefect loaded' if 'prefect' in sys.modules else 'no prefect')\n")
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.stdout.splitlines()[-1] == "no prefect", proc.stderr


def test_serve_without_a_server_says_how_to_start_one(tmp_path):
    path = write_config(tmp_path, "")
    proc = kith("serve", "--config", path, check=False)
    assert proc.returncode == 2 and "prefect server start" in proc.stderr


# run_sync: the loop shared by `kith sync` and the flow

def test_a_source_failing_unexpectedly_does_not_stop_the_next(tmp_path):
    config = load_config(write_config(tmp_path, files_source("a", tmp_path)
                                      + files_source("b", tmp_path)
                                      + files_source("c", tmp_path)))
    ran = []

    def run_source(config, name):
        ran.append(name)
        if name == "a":
            raise SourceFailed(name, "server said no")
        if name == "b":
            raise KeyError("bug")
        from kith.flows.sync import SourceResult
        return SourceResult(name, "files")

    report = run_sync(config, run_source=run_source, run_rebuild=lambda c: {"contacts": 0})
    assert ran == ["a", "b", "c"]
    assert [(s.name, s.failed) for s in report.sources] == [("a", True), ("b", True),
                                                            ("c", False)]
    assert report.failure_message() == ("2 of 3 sources failed: source 'a': server said no; "
                                        "source 'b': unexpected KeyError: 'bug'")


def test_a_failed_rebuild_fails_the_run(tmp_path):
    config = load_config(write_config(tmp_path, ""))

    def run_rebuild(config):
        raise RuntimeError("view broke")

    report = run_sync(config, run_rebuild=run_rebuild)
    assert not report.ok and "view broke" in report.failure_message()
