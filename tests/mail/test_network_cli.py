"""`kith imap` and `kith sync` with IMAP and CalDAV sources, end to end on real servers (Dovecot
from conftest.py, Radicale from tests/conftest.py), and a wrong password that never shows."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.calendar.conftest import SEEDED as CALENDAR
from tests.mail.conftest import SEEDED

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IMAP_PASSWORD_ENV = "KITH_TEST_CLI_IMAP_PASSWORD"
DAV_PASSWORD_ENV = "KITH_TEST_CLI_DAV_PASSWORD"
WRONG = "Wr0ng-Pa55word-that-must-never-show"


def kith(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "kith.flows.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd or PROJECT_ROOT, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "COLUMNS": "200",
                               **(env or {})})


def query(db_path, sql):
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def table_rows(output: str) -> list[list[str]]:
    """The cells of each row of a table the CLI printed."""
    return [cells for line in output.splitlines()
            if (cells := line.replace("│", " ").split())]


@pytest.fixture
def calendar(radicale_server):
    """Radicale with the calendar "work" of tests/calendar (a weekly stand-up of 4, a lunch,
    a review: 6 occurrences)."""
    radicale_server.start()
    radicale_server.clear()
    radicale_server.create_calendar("work", "Work")
    with radicale_server.session() as s:
        for name, ics in CALENDAR.items():
            radicale_server.put_event("work", name, ics, session=s)
    return radicale_server


# -- kith imap -----------------------------------------------------------------------------------

def imap_args(dovecot, db_path):
    return ("imap", dovecot.host, "--port", dovecot.port, "--user", dovecot.user,
            "--password-env", IMAP_PASSWORD_ENV, "--security", "plain", "--db", db_path)


def test_kith_imap_reads_inbox_and_sent_and_prints_each_folder(dovecot, db_path):
    proc = kith(*imap_args(dovecot, db_path), env={IMAP_PASSWORD_ENV: dovecot.password})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {cells[0].rsplit("/", 1)[-1]: cells[1:] for cells in table_rows(proc.stdout)
            if cells[0].startswith("imap://")}
    # folder: read, new, already present, rejected; msg-5 is in both folders
    assert rows == {"INBOX": ["5", "5", "0", "0"], "Sent": ["3", "2", "1", "0"]}
    assert query(db_path, "select count(*) from raw_messages") == [(7,)]
    assert query(db_path, "select count(*) from message_sightings") == [(8,)]


def test_kith_imap_a_second_time_reads_nothing_new(dovecot, db_path):
    env = {IMAP_PASSWORD_ENV: dovecot.password}
    kith(*imap_args(dovecot, db_path), env=env)
    proc = kith(*imap_args(dovecot, db_path), env=env)
    assert proc.returncode == 0
    assert query(db_path, "select sum(n_inserted) from loads where load_id > 2") == [(0,)]
    assert query(db_path, "select count(*) from raw_messages") == [(7,)]


def test_kith_imap_with_a_wrong_password_says_so_in_one_sentence(dovecot, db_path):
    proc = kith(*imap_args(dovecot, db_path), env={IMAP_PASSWORD_ENV: WRONG})
    assert proc.returncode == 1
    assert WRONG not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("kith imap: ")


# -- kith sync with IMAP and CalDAV sources ------------------------------------------------------

def write_config(folder: Path, dovecot, radicale, *, dav_url=None) -> Path:
    path = folder / "kith.toml"
    path.write_text(f"""
[owner]
emails = ["owner@example.org"]
timezone = "Europe/Berlin"
[warehouse]
path = "kith.duckdb"
[[sources]]
name = "mail"
kind = "imap"
host = "{dovecot.host}"
port = {dovecot.port}
user = "{dovecot.user}"
security = "plain"
password_env = "{IMAP_PASSWORD_ENV}"
[[sources]]
name = "calendar"
kind = "caldav"
url = "{dav_url or radicale.url + '/'}"
user = "{radicale.user}"
password_env = "{DAV_PASSWORD_ENV}"
""")
    return path


@pytest.fixture
def synced(dovecot, calendar, tmp_path):
    config = write_config(tmp_path, dovecot, calendar)
    env = {IMAP_PASSWORD_ENV: dovecot.password, DAV_PASSWORD_ENV: calendar.password}
    first = kith("sync", "--config", config, env=env, cwd=tmp_path)
    return first, config, env, tmp_path / "kith.duckdb"


def test_sync_of_imap_and_caldav_sources_exits_0(synced):
    first, *_ = synced
    assert first.returncode == 0, first.stdout + first.stderr


def test_sync_loads_every_message_and_every_occurrence(synced):
    _, _, _, db = synced
    assert query(db, "select count(*) from raw_messages") == [(7,)]
    assert query(db, "select count(*) from raw_events") == [(6,)]
    assert query(db, "select source_kind, count(*) from loads where status = 'completed' "
                     "group by all order by 1") == [("caldav", 1), ("imap", 2)]


def test_sync_summary_counts_each_source(synced):
    first, *_ = synced
    rows = {cells[0]: cells[1:] for cells in table_rows(first.stdout)
            if cells[0] in ("mail", "calendar")}
    # kind, new, updated, already present, rejected, skipped
    assert rows == {"mail": ["imap", "7", "0", "1", "0", "0"],
                    "calendar": ["caldav", "6", "0", "0", "0", "0"]}


def test_a_second_sync_of_the_servers_finds_nothing_new(synced):
    _, config, env, db = synced
    second = kith("sync", "--config", config, env=env, cwd=config.parent)
    assert second.returncode == 0
    assert "Nothing new" in second.stdout
    assert query(db, "select count(*) from raw_messages") == [(7,)]
    assert query(db, "select count(*) from raw_events") == [(6,)]


# -- a wrong password never shows ----------------------------------------------------------------

@pytest.fixture
def wrong_password_sync(dovecot, calendar, tmp_path):
    config = write_config(tmp_path, dovecot, calendar)
    proc = kith("sync", "--config", config, env={IMAP_PASSWORD_ENV: WRONG, DAV_PASSWORD_ENV: WRONG},
                cwd=tmp_path)
    return proc, tmp_path / "kith.duckdb"


def test_a_wrong_password_fails_both_sources_and_the_run(wrong_password_sync):
    proc, _ = wrong_password_sync
    assert proc.returncode == 1
    assert "source 'mail': " in proc.stdout and "source 'calendar': " in proc.stdout


def test_a_wrong_password_is_never_printed(wrong_password_sync):
    proc, _ = wrong_password_sync
    assert WRONG not in proc.stdout + proc.stderr


def test_a_wrong_password_is_never_stored(wrong_password_sync):
    _, db = wrong_password_sync
    for table in ("loads", "rejects", "sync_state"):
        rows = query(db, f"select * from {table}")
        assert WRONG not in repr(rows), table


def test_a_dav_url_with_credentials_is_refused_without_printing_them(dovecot, calendar, tmp_path):
    url = calendar.url.replace("http://", f"http://{calendar.user}:{WRONG}@") + "/"
    config = write_config(tmp_path, dovecot, calendar, dav_url=url)
    proc = kith("sync", "--config", config,
                env={IMAP_PASSWORD_ENV: dovecot.password, DAV_PASSWORD_ENV: WRONG}, cwd=tmp_path)
    assert proc.returncode == 1
    assert "the url must not hold credentials" in proc.stdout
    assert WRONG not in proc.stdout + proc.stderr
    assert WRONG not in repr(query(tmp_path / "kith.duckdb", "select * from loads"))
