import os
import subprocess
import sys
import textwrap
import time

import pytest

from kith.warehouse.connection import (WarehouseBusy, connect, resolve_db_path,
                                       settle_storage)

HOLD_WRITE_LOCK = textwrap.dedent("""
    import sys, time
    from kith.warehouse.connection import connect
    con = connect(sys.argv[1])
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
""")


def hold_lock(db_path, tmp_path, seconds):
    script = tmp_path / "hold.py"
    script.write_text(HOLD_WRITE_LOCK)
    proc = subprocess.Popen([sys.executable, str(script), str(db_path), str(seconds)],
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_db_path_comes_from_argument_then_environment_then_default(monkeypatch):
    monkeypatch.setenv("KITH_DB", "/tmp/from-env.duckdb")
    assert str(resolve_db_path("/tmp/arg.duckdb")) == "/tmp/arg.duckdb"
    assert str(resolve_db_path(None)) == "/tmp/from-env.duckdb"
    monkeypatch.delenv("KITH_DB")
    assert str(resolve_db_path(None)) == "kith.duckdb"


def test_reader_waits_for_a_writer_in_another_process(db_path, tmp_path):
    connect(db_path).close()
    proc = hold_lock(db_path, tmp_path, 1.0)
    started = time.monotonic()
    con = connect(db_path, read_only=True, timeout_s=20)
    waited = time.monotonic() - started
    con.close()
    proc.wait()
    assert waited > 0.2


def test_waiting_too_long_for_the_lock_is_a_clear_error(db_path, tmp_path):
    connect(db_path).close()
    proc = hold_lock(db_path, tmp_path, 5.0)
    with pytest.raises(WarehouseBusy, match="in use by another kith process"):
        connect(db_path, read_only=True, timeout_s=0.3)
    proc.kill()
    proc.wait()


def test_read_only_open_of_a_missing_warehouse_says_how_to_create_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="kith import"):
        connect(tmp_path / "missing.duckdb", read_only=True)


def _written_at(path):
    return path.stat().st_mtime_ns


def test_a_commit_duckdb_checkpointed_is_followed_by_one_more_checkpoint(db_path):
    con = connect(db_path)
    con.execute("comment on table loads is 'The load''s ledger'")
    con.execute("set checkpoint_threshold = '1KB'")     # the next commit is checkpointed
    con.execute("create table big as select range as n from range(100000)")
    assert not os.path.exists(f"{db_path}.wal") or os.path.getsize(f"{db_path}.wal") == 0
    before = _written_at(db_path)
    time.sleep(0.01)
    settle_storage(con)
    assert _written_at(db_path) > before
    assert con.execute("select comment from duckdb_tables() "
                       "where table_name = 'loads'").fetchone() == ("The load's ledger",)
    con.close()


def test_a_commit_still_in_the_log_is_left_to_the_checkpoint_at_close(db_path):
    con = connect(db_path)
    con.execute("checkpoint")
    con.execute("set checkpoint_threshold = '1GB'")
    con.execute("create table small as select range as n from range(10)")
    before = _written_at(db_path)
    time.sleep(0.01)
    settle_storage(con)
    assert _written_at(db_path) == before
    assert os.path.getsize(f"{db_path}.wal") > 0
    con.close()


# A query that spills: grouping 8 million keys on one thread under 200 MB.
SPILL_UNTIL_KILLED = textwrap.dedent("""
    import sys
    from kith.warehouse.connection import connect
    con = connect(sys.argv[1])
    con.execute("set memory_limit = '200MB'; set threads = 1; "
                "set preserve_insertion_order = false")
    con.execute("select count(*) from (select range % 8000000 as k, count(*) "
                "from range(16000000) group by 1)").fetchall()
""")


def test_spill_files_of_a_killed_process_are_deleted_when_the_warehouse_is_opened(
        db_path, tmp_path):
    connect(db_path).close()
    script = tmp_path / "spill.py"
    script.write_text(SPILL_UNTIL_KILLED)
    folder = db_path.with_name(db_path.name + ".tmp")
    proc = subprocess.Popen([sys.executable, str(script), str(db_path)],
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    deadline = time.monotonic() + 60
    while not (folder.is_dir() and any(folder.glob("duckdb_temp_*"))):
        assert proc.poll() is None and time.monotonic() < deadline, "it never spilled"
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert any(folder.glob("duckdb_temp_*"))
    # a reader may share the folder with other readers: it leaves it
    connect(db_path, read_only=True).close()
    assert any(folder.glob("duckdb_temp_*"))
    connect(db_path).close()
    assert not folder.exists()
