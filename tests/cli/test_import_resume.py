"""A big mbox loads in committed chunks: an import killed part-way leaves whole chunks, and the
next import carries on from the resume point to exactly what a clean import holds."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import duckdb

from tests.cli.conftest import PROJECT_ROOT, run_kith

N_MESSAGES = 40_000
CHUNK = 2_000
BODY = "\n".join(f"line {i} of a body nobody reads, padded to look like real mail text"
                 for i in range(8))


def write_mbox(path, n: int) -> None:
    """n messages of about 700 bytes: big enough (28 MB) to be read in the reader process."""
    with open(path, "w", encoding="ascii") as f:
        for i in range(n):
            f.write(f"From sender{i % 97}@example.org Tue Mar  4 10:00:00 2025\n"
                    f"From: Sender {i % 97} <sender{i % 97}@example.org>\n"
                    f"To: owner@example.com\n"
                    f"Date: Tue, 4 Mar 2025 10:{i % 60:02d}:00 +0000\n"
                    f"Message-ID: <{i}@gen.example>\n\n{BODY}\n\n")


def stored(db) -> tuple[list, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        messages = con.execute("select record_key, position from raw_messages "
                               "order by all").fetchall()
        sightings = con.execute("select record_key, source_uri, position from "
                                "message_sightings order by all").fetchall()
        return messages, sightings
    finally:
        con.close()


def loads(db) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select status, n_read, n_inserted from loads "
                           "order by load_id").fetchall()
    finally:
        con.close()


def kill_import_after(mbox, db, env, seconds: float) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kith.flows.cli", "import", str(mbox), "--db", str(db)],
        cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env})
    time.sleep(seconds)
    children = children_of(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in children):
        assert time.monotonic() < deadline, "the mail reader outlived the killed import"
        time.sleep(0.2)


def children_of(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc), the mail reader among them."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def killed_part_way(source: Path, tmp_path: Path, env: dict, n_kept: Callable[[Path], int],
                    n_total: int) -> tuple[Path, Path]:
    """A clean import of `source` (tmp_path / clean.duckdb), then the warehouse of an import of
    it killed half way through (by the time the clean one took): when the kill landed before the
    first commit or after the last (a machine faster or slower than the clean run suggested),
    tried again earlier or later."""
    clean_db = tmp_path / "clean.duckdb"
    started = time.monotonic()
    run_kith("import", source, "--db", clean_db, env=env)
    clean_seconds = time.monotonic() - started
    low, high = 0.0, 1.0
    for attempt in range(5):
        db = tmp_path / f"killed-{attempt}.duckdb"
        kill_import_after(source, db, env, clean_seconds * (low + high) / 2)
        kept = n_kept(db) if db.exists() else 0
        if 0 < kept < n_total:
            break
        low, high = ((low + high) / 2, high) if kept == 0 else (low, (low + high) / 2)
    return clean_db, db


def n_kept(db) -> int:
    """Messages a killed import left; 0 when it died before it had a warehouse."""
    try:
        return len(stored(db)[0])
    except duckdb.CatalogException:
        return 0


def test_a_killed_import_keeps_whole_chunks_and_the_next_one_finishes_it(tmp_path):
    mbox = tmp_path / "All mail.mbox"
    write_mbox(mbox, N_MESSAGES)
    env = {"KITH_MBOX_CHUNK": str(CHUNK)}
    clean_db, db = killed_part_way(mbox, tmp_path, env, n_kept, N_MESSAGES)
    messages, _ = stored(db)
    assert 0 < len(messages) < N_MESSAGES, "the kill did not land half way; nothing to resume"
    assert len(messages) % CHUNK == 0          # every committed chunk whole, nothing else
    assert loads(db) == [("running", len(messages), len(messages))]

    run_kith("import", mbox, "--db", db, env=env)
    assert stored(db) == stored(clean_db)
    assert loads(db) == [("interrupted", len(messages), len(messages)),
                         ("completed", N_MESSAGES - len(messages), N_MESSAGES - len(messages))]


def test_importing_a_finished_mbox_again_adds_nothing(tmp_path):
    mbox = tmp_path / "All mail.mbox"
    write_mbox(mbox, 5 * CHUNK + 7)
    db = tmp_path / "kith.duckdb"
    env = {"KITH_MBOX_CHUNK": str(CHUNK)}
    run_kith("import", mbox, "--db", db, env=env)
    first = stored(db)
    run_kith("import", mbox, "--db", db, env=env)
    assert stored(db) == first
    assert loads(db) == [("completed", 5 * CHUNK + 7, 5 * CHUNK + 7),
                         ("completed", 5 * CHUNK + 7, 0)]


def test_running_out_of_memory_is_one_sentence_naming_the_setting(tmp_path):
    mbox = tmp_path / "All mail.mbox"
    write_mbox(mbox, 200)
    proc = run_kith("import", mbox, "--db", tmp_path / "kith.duckdb", check=False,
                    env={"KITH_MEMORY_LIMIT": "3MB"})
    output = proc.stdout + proc.stderr
    assert "DuckDB ran out of memory loading this file (KITH_MEMORY_LIMIT=3MB)" in output
    assert "Traceback" not in output


def test_a_rebuild_running_out_of_memory_is_one_sentence_and_keeps_the_import(tmp_path):
    mbox = tmp_path / "All mail.mbox"
    write_mbox(mbox, 200)
    db = tmp_path / "kith.duckdb"
    proc = run_kith("import", mbox, "--db", db, check=False,
                    env={"KITH_BUILD_MEMORY_LIMIT": "2MB"})
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1
    assert ("DuckDB ran out of memory rebuilding the views (KITH_BUILD_MEMORY_LIMIT=2MB); the "
            "imported data is kept" in " ".join(output.split()))
    assert "Traceback" not in output
    assert loads(db) == [("completed", 200, 200)]


def test_a_memory_setting_that_is_not_a_size_stops_the_command_before_the_warehouse(tmp_path):
    mbox = tmp_path / "All mail.mbox"
    write_mbox(mbox, 20)
    db = tmp_path / "kith.duckdb"
    for setting in ("KITH_MEMORY_LIMIT", "KITH_BUILD_MEMORY_LIMIT"):
        proc = run_kith("import", mbox, "--db", db, check=False, env={setting: "lots"})
        output = " ".join((proc.stdout + proc.stderr).split())
        assert proc.returncode == 1
        assert f"{setting}='lots' is not a size: give one such as 256MB or 2GB" in output
        assert "Traceback" not in output and "bug" not in output
        assert not db.exists()


def test_progress_reports_messages_read_then_the_rebuild(tmp_path):
    from kith.flows.importing import run_import
    mbox = tmp_path / "All mail.mbox"
    write_mbox(mbox, 1_200)
    calls = []
    run_import([mbox], db=tmp_path / "kith.duckdb",
               progress=lambda path, n, phase: calls.append((path.name, n, phase)))
    assert calls[:4] == [("All mail.mbox", 500, "reading"), ("All mail.mbox", 1000, "reading"),
                         ("All mail.mbox", 1200, "reading"), ("All mail.mbox", 0, "rebuilding")]
    steps = [phase.removeprefix("rebuilding: ") for _, _, phase in calls[4:]]
    # the staging tables, then the people resolved from them, then what reads the people
    assert (steps.index("stg_mail__messages") < steps.index("people")
            < steps.index("interactions"))
    assert steps[-1] == "tier changes"
