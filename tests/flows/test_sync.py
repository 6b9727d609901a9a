import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from kith.flows.config import load_config
from kith.flows.sync import SourceFailed, SyncAlreadyRunning, prepare, rebuild, sync_lock, sync_source

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CARDS = PROJECT_ROOT / "examples" / "cards"


def make_config(tmp_path, paths, extra=""):
    path = tmp_path / "kith.toml"
    path.write_text(f'[owner]\nemails = ["me@home.example"]\n[warehouse]\npath = "kith.duckdb"\n'
                    f'[[sources]]\nname = "cards"\nkind = "files"\n'
                    f'paths = {[str(p) for p in paths]!r}\n{extra}'.replace("'", '"'))
    return load_config(path)


def query(config, sql):
    con = duckdb.connect(str(config.db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def cards(tmp_path):
    folder = tmp_path / "cards"
    shutil.copytree(CARDS, folder)
    return folder


def test_first_sync_loads_every_file(tmp_path, cards):
    config = make_config(tmp_path, [cards])
    result = sync_source(config, "cards")
    assert len(result.loads) == 3 and result.skipped == []
    assert result.totals()["new"] == 10          # examples/cards: 10 cards in 3 files


def test_second_sync_skips_unchanged_files(tmp_path, cards):
    config = make_config(tmp_path, [cards])
    sync_source(config, "cards")
    again = sync_source(config, "cards")
    assert (again.loads, len(again.skipped)) == ([], 3)


def test_a_touched_but_unchanged_file_is_skipped(tmp_path, cards):
    config = make_config(tmp_path, [cards])
    sync_source(config, "cards")
    os.utime(cards / "camcard-scan.csv", (time.time() + 60, time.time() + 60))
    assert len(sync_source(config, "cards").skipped) == 3


def test_a_changed_file_is_read_again(tmp_path, cards):
    config = make_config(tmp_path, [cards])
    sync_source(config, "cards")
    with open(cards / "camcard-scan.csv", "a") as f:
        f.write("Nia,Park,Park Labs,CEO,nia@parklabs.example,,,,\r\n")
    result = sync_source(config, "cards")
    assert [load.n_new for load in result.loads] == [1]
    assert len(result.skipped) == 2


def test_a_missing_path_fails_the_source_with_its_name(tmp_path):
    config = make_config(tmp_path, [tmp_path / "gone"])
    with pytest.raises(SourceFailed, match="source 'cards': .*gone: no such file"):
        sync_source(config, "cards")


def test_owner_addresses_come_from_the_config(tmp_path, cards):
    config = make_config(tmp_path, [cards])
    prepare(config)
    assert query(config, "select address from owner_addresses") == [("me@home.example",)]


def test_rebuild_counts_what_the_views_hold(tmp_path, cards):
    config = make_config(tmp_path, [cards])
    sync_source(config, "cards")
    counts = rebuild(config)
    assert counts["contacts"] == query(config, "select count(*) from contacts")[0][0] == 10


def test_a_second_sync_refuses_while_one_runs(tmp_path, cards):
    config = make_config(tmp_path, [cards])
    with sync_lock(config):
        with pytest.raises(SyncAlreadyRunning, match="already running"):
            with sync_lock(config):
                pass
    with sync_lock(config):   # released: the next sync gets it
        pass


SYNC_ONE_SOURCE = """
import sys, time
import kith.warehouse.loader as loader
from kith.flows.config import load_config
from kith.flows.sync import sync_lock, sync_source

keep = loader._keep_new_versions

def keep_then_wait(con, table, batch, result, tag):
    # The handshake: the first batch of the big file is written inside its open transaction;
    # say so, and stay there until killed.
    keep(con, table, batch, result, tag)
    if result.source_uri.endswith("big.vcf"):
        print("loading", flush=True)
        time.sleep(120)

loader._keep_new_versions = keep_then_wait
config = load_config(sys.argv[1])
with sync_lock(config):
    sync_source(config, "cards")
"""


def test_a_sync_killed_mid_load_leaves_the_warehouse_as_it_was_and_the_next_completes(
        tmp_path, cards):
    sys.path.insert(0, str(PROJECT_ROOT / "bench"))
    from vcard_import import generate
    generate(cards / "big.vcf", 30_000)
    config = make_config(tmp_path, [cards])
    (cards / "big.vcf").rename(tmp_path / "big.vcf")
    sync_source(config, "cards")                       # the demo files, loaded and committed
    before = query(config, "select count(*) from raw_contacts")
    (tmp_path / "big.vcf").rename(cards / "big.vcf")

    proc = subprocess.Popen([sys.executable, "-c", SYNC_ONE_SOURCE, str(config.path)],
                            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert proc.stdout.readline().strip() == "loading"  # inside the 30,000-card load
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert query(config, "select count(*) from raw_contacts") == before
    assert query(config, "select count(*) from sync_state where source_uri like '%big.vcf'") == [
        (0,)]

    result = sync_source(config, "cards")              # the lock died with the process
    assert [load.n_new for load in result.loads] == [30_000]


def test_an_unchanged_calendar_is_read_again_after_a_week(tmp_path):
    folder = tmp_path / "cal"
    folder.mkdir()
    (folder / "team.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:standup\r\n"
        "DTSTART:20260105T090000Z\r\nDTEND:20260105T091500Z\r\nRRULE:FREQ=WEEKLY\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n")
    config = make_config(tmp_path, [folder])
    sync_source(config, "cards")
    assert sync_source(config, "cards").skipped == [str(folder / "team.ics")]
    con = duckdb.connect(str(config.db_path))
    con.execute("update sync_state set cursor = json_merge_patch(cursor, "
                "'{\"read_at\": \"2020-01-01T00:00:00+00:00\"}')")
    con.close()
    assert len(sync_source(config, "cards").loads) == 1


def test_the_sync_report_says_who_is_new_and_who_moved_tier(tmp_path, cards):
    from kith.flows.sync_run import run_sync

    config = make_config(tmp_path, [cards])
    first = run_sync(config)
    n_people = query(config, "select count(*) from network")[0][0]
    assert first.changes == [f"{n_people} new people"]
    (cards / "new.vcf").write_text("BEGIN:VCARD\nVERSION:3.0\nUID:zoe\nFN:Zoe Quist\n"
                                   "EMAIL:zoe@quist.example\nEND:VCARD\n", encoding="utf-8")
    second = run_sync(config)
    assert second.changes == ["1 new person"]
    (cards / "mail.mbox").write_text(
        "From me@home.example Mon Nov  2 10:00:00 2026\nFrom: me@home.example\n"
        "To: zoe@quist.example\nDate: Mon, 02 Nov 2026 10:00:00 +0000\nMessage-ID: <z1@home>\n\n"
        "hi\n", encoding="utf-8")
    third = run_sync(config)
    assert third.changes == ["1 person moved to unanswered"]
