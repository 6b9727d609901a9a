"""Never a traceback, never a lost file: what the command line does with bad input and a bad
warehouse. Exit statuses: 0 everything read, 1 something refused or failed, 2 usage, 130 Ctrl-C.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest

from tests.cli.conftest import PROJECT_ROOT, run_kith

FIXTURES = PROJECT_ROOT / "tests" / "fixtures"

GOOD = {                                   # file in the folder -> fixture it is a copy of
    "cards.vcf": "vcard/google-3.0.vcf",
    "contacts.csv": "csv/google-2024.csv",
    "Connections.csv": "linkedin/connections-2018-us-dates.csv",
    "hello.eml": "mail/three-to-headers.eml",
    "takeout.mbox": "mail/gmail-takeout-crlf.mbox",
    "calendar.ics": "ics/all-day.ics",
}

# One poisoned file of each kind: each used to stop `kith import` with a traceback, or is a file
# kith cannot read at all.
POISONED = {
    # an ATTENDEE line cut after its parameters: icalendar cannot name the property
    "poisoned.ics": b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:poison-1\r\n"
                    b"DTSTART:20260105T090000Z\r\nDTEND:20260105T100000Z\r\n"
                    b"ORGANIZER:mailto:owner@example.org\r\nATTENDEE;CN=Bob;\r\n"
                    b"ATTENDEE:mailto:carol@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    # a header row with a bare CR inside an unquoted field
    "poisoned.csv": b"Name,E-\rmail,Phone\r\nAda Lovelace,ada@example.com,+1 202 555 0101\r\n",
    # a card cut short, then binary junk
    "poisoned.vcf": b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cut Short\r\n" + bytes(range(256)) * 4,
    # a LinkedIn export zip cut off after its first entry's header
    "Basic_LinkedInDataExport_poisoned.zip": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\0" * 16
                                             + b"\x0f\x00\x00\x00Connections.csv" + b"\xff" * 40,
    # an mbox whose second message has a header block of 10 MB
    "poisoned.mbox": b"From a@example.com Mon Jan  5 09:00:00 2026\nFrom: a@example.com\n"
                     b"Message-ID: <p1@example.com>\n\nbody\n\nFrom b@example.com Mon Jan  5 "
                     b"09:00:00 2026\nFrom: b@example.com\nX-Junk: " + b"\0A" * (5 << 20)
                     + b"\n\nbody\n",
    # not a kind kith reads at all
    "holiday.bin": bytes(range(256)) * 64,
}


def query(db_path, sql):
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def no_traceback(proc):
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def poisoned_import(tmp_path_factory):
    folder = tmp_path_factory.mktemp("poisoned") / "exports"
    folder.mkdir()
    for name, fixture in GOOD.items():
        shutil.copy(FIXTURES / fixture, folder / name)
    for name, data in POISONED.items():
        (folder / name).write_bytes(data)
    db_path = folder.parent / "kith.duckdb"
    proc = run_kith("import", folder, "--db", db_path, check=False)
    return proc, db_path


def test_a_folder_with_poisoned_files_exits_1_without_a_traceback(poisoned_import):
    proc, _ = poisoned_import
    no_traceback(proc)
    assert proc.returncode == 1


def test_every_good_file_of_the_poisoned_folder_is_imported(poisoned_import):
    _, db_path = poisoned_import
    completed = {Path(uri).name for (uri,) in query(
        db_path, "select source_uri from loads where status = 'completed'")}
    assert set(GOOD) <= completed


def test_the_files_kith_cannot_read_are_listed_with_their_reason(poisoned_import):
    proc, db_path = poisoned_import
    refused = query(db_path, "select regexp_extract(source_uri, '[^/]+$'), status, error "
                             "from loads where status <> 'completed' order by 1")
    assert [(name, status) for name, status, _ in refused] == [
        ("holiday.bin", "refused"), ("poisoned.csv", "refused")]
    assert all(error for _, _, error in refused)
    assert "2 file(s) not imported" in proc.stdout
    assert "holiday.bin: not a vCard" in proc.stdout
    assert ("poisoned.csv has a header row that cannot be read: a line break inside an unquoted "
            "field") in proc.stdout


def test_the_poisoned_records_are_rejects_with_reasons(poisoned_import):
    _, db_path = poisoned_import
    rejected = dict(query(db_path, """
        select regexp_extract(source_uri, '[^/]+$'), count(*) from rejects
        where reason <> '' and raw_text is not null group by all"""))
    assert rejected["poisoned.vcf"] >= 1 and rejected["poisoned.mbox"] == 1
    assert rejected["Basic_LinkedInDataExport_poisoned.zip"] == 1


def test_a_poisoned_calendar_keeps_its_event_and_says_what_was_ignored(poisoned_import):
    _, db_path = poisoned_import
    assert query(db_path, """
        select uid, [a.email for a in attendees], warnings from raw_events
        where source_uri like '%poisoned.ics'""") == [
        ("poison-1", ["carol@example.com"],
         ["ignored an unreadable line: Content line could not be parsed into parts: "
          "'ATTENDEE;CN=Bob;': '' is not a valid parameter string: not enough values to unpack "
          "(expected 2, got 0)"])]


def test_the_views_are_rebuilt_after_a_poisoned_folder(poisoned_import):
    _, db_path = poisoned_import
    assert query(db_path, "select count(*) > 0 from people") == [(True,)]
    assert query(db_path, "select count(*) from identity_builds") == [(1,)]


# --- An exception kith has never seen, from any parser library ---------------------------------

BREAK_ONE_READER = """
import sys
import kith.connectors.vcard as vcard
real = vcard.read_vcards
def read_vcards(path, default_region=None):
    if path.name == "explodes.vcf":
        yield from real(path, default_region)
        raise KeyError("a parser library's surprise")
    yield from real(path, default_region)
vcard.read_vcards = read_vcards
from kith.flows.cli import main
sys.argv = ["kith", *sys.argv[1:]]
main()
"""


def run_with_a_broken_reader(*args, env=None):
    return subprocess.run([sys.executable, "-c", BREAK_ONE_READER, *map(str, args)],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "COLUMNS": "200",
                               **(env or {})})


def test_an_unexpected_exception_refuses_that_file_only(tmp_path, db_path):
    shutil.copy(FIXTURES / "vcard" / "google-3.0.vcf", tmp_path / "explodes.vcf")
    shutil.copy(FIXTURES / "vcard" / "apple-3.0-company.vcf", tmp_path / "fine.vcf")
    proc = run_with_a_broken_reader("import", tmp_path, "--db", db_path,
                                    env={"KITH_RAISE_ERRORS": "0"})
    no_traceback(proc)
    assert proc.returncode == 1
    assert "explodes.vcf: could not be read (KeyError: \"a parser library's surprise\"); " \
           "nothing of it was kept" in proc.stdout
    assert query(db_path, "select regexp_extract(source_uri, '[^/]+$'), status, error from loads "
                          "order by 1") == [
        ("explodes.vcf", "failed", "KeyError: \"a parser library's surprise\""),
        ("fine.vcf", "completed", None)]
    assert query(db_path, "select count(*) from raw_contacts where source_uri like "
                          "'%explodes.vcf'") == [(0,)]


def test_kith_raise_errors_lets_a_bug_fail_loudly(tmp_path, db_path):
    shutil.copy(FIXTURES / "vcard" / "google-3.0.vcf", tmp_path / "explodes.vcf")
    proc = run_with_a_broken_reader("--debug", "import", tmp_path, "--db", db_path,
                                    env={"KITH_RAISE_ERRORS": "1"})
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "KeyError" in proc.stderr


# --- The warehouse: not one, read-only, full ----------------------------------------------------

@pytest.mark.parametrize("args", [("status",), ("people",), ("sql", "select 1"),
                                  ("person", "ada"), ("rebuild",), ("owner",),
                                  ("import", FIXTURES / "vcard" / "google-3.0.vcf")],
                         ids=lambda a: a[0])
def test_a_db_that_is_not_a_warehouse_is_one_sentence_and_exit_1(tmp_path, args):
    notes = tmp_path / "notes.txt"
    notes.write_text("Call Ada about the engines.\n" * 20)
    proc = run_kith(*args, "--db", notes, check=False)
    no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"kith {args[0]}: {notes} is not a kith warehouse (it is not a DuckDB database file): "
        "pass the warehouse with --db, or a new file name to start one"]
    assert notes.read_text() == "Call Ada about the engines.\n" * 20


@pytest.mark.parametrize("args", [("rebuild",), ("merge", "1", "2"), ("split", "1", "2")],
                         ids=lambda a: a[0])
def test_a_missing_warehouse_is_not_created_by_commands_that_change_one(tmp_path, args):
    missing = tmp_path / "no-such-folder" / "kith.duckdb"
    proc = run_kith(*args, "--db", missing, check=False)
    no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"kith {args[0]}: no warehouse at {missing}: run `kith import` first, or pass --db"]
    assert not missing.parent.exists()


def test_a_duckdb_file_that_is_not_kiths_is_named_as_such(tmp_path):
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    proc = run_kith("status", "--db", other, check=False)
    no_traceback(proc)
    assert proc.returncode == 1 and "not a kith warehouse" in proc.stderr


def test_debug_shows_the_traceback(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a warehouse")
    proc = run_kith("--debug", "status", "--db", notes, check=False)
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "NotAWarehouse" in proc.stderr


def test_kith_debug_variable_shows_the_traceback(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a warehouse")
    proc = run_kith("status", "--db", notes, check=False, env={"KITH_DEBUG": "1"})
    assert "Traceback" in proc.stderr


def test_a_usage_error_exits_2(tmp_path):
    proc = run_kith("import", "--no-such-option", check=False)
    assert proc.returncode == 2


def as_an_ordinary_user() -> list[str]:
    """The command prefix that makes file permissions apply to kith: as root (CI runs as root,
    and root ignores them) the capabilities that bypass them are dropped; otherwise nothing."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("needs a non-root user: running as root and setpriv (util-linux) is missing")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]


@pytest.fixture
def open_folder():
    """A folder every user can enter (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="kith-perm-"))
    os.chmod(folder, 0o755)
    yield folder
    for path in folder.rglob("*"):
        os.chmod(path, 0o700)
    shutil.rmtree(folder, ignore_errors=True)


def run_as_user(*args, home: Path):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "COLUMNS": "200", "HOME": str(home)}
    return subprocess.run([*as_an_ordinary_user(), sys.executable, "-m", "kith.flows.cli",
                           *map(str, args)], capture_output=True, text=True, cwd=home, env=env,
                          timeout=300)


@pytest.fixture
def read_only_warehouse(open_folder):
    db = open_folder / "kith.duckdb"
    run_kith("import", FIXTURES / "vcard" / "google-3.0.vcf", "--db", db)
    os.chmod(db, 0o444)
    os.chmod(open_folder, 0o555)          # no new WAL file beside it either
    return db, open_folder


def test_a_read_only_warehouse_refuses_writes_in_one_sentence(read_only_warehouse):
    db, home = read_only_warehouse
    proc = run_as_user("import", FIXTURES / "vcard" / "apple-3.0-company.vcf", "--db", db,
                       home=home)
    no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.startswith("kith import: ") and "permission denied" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_read_only_warehouse_can_still_be_queried(read_only_warehouse):
    db, home = read_only_warehouse
    proc = run_as_user("sql", "select count(*) as n from raw_contacts", "--format", "csv",
                       "--db", db, home=home)
    assert (proc.returncode, proc.stdout) == (0, "n\n1\n"), proc.stderr


def test_an_unreadable_input_file_is_refused_and_the_others_imported(open_folder):
    inputs = open_folder / "in"
    inputs.mkdir()
    shutil.copy(FIXTURES / "vcard" / "google-3.0.vcf", inputs / "readable.vcf")
    shutil.copy(FIXTURES / "vcard" / "apple-3.0-company.vcf", inputs / "secret.vcf")
    os.chmod(inputs, 0o755)
    os.chmod(inputs / "readable.vcf", 0o644)
    os.chmod(inputs / "secret.vcf", 0o000)
    db = open_folder / "kith.duckdb"
    proc = run_as_user("import", inputs, "--db", db, home=open_folder)
    no_traceback(proc)
    assert proc.returncode == 1
    assert f"{inputs / 'secret.vcf'}: cannot read: Permission denied" in proc.stdout
    assert query(db, "select regexp_extract(source_uri, '[^/]+$'), status, error from loads "
                     "order by 1") == [("readable.vcf", "completed", None),
                                       ("secret.vcf", "refused", "cannot read: Permission denied")]


def test_a_full_disk_is_one_sentence():
    import errno

    from kith.flows.cli import explain_error
    full = OSError(errno.ENOSPC, "No space left on device", "/data/kith.duckdb.wal")
    assert explain_error(full) == ("the disk is full (/data/kith.duckdb.wal): free some space and "
                                   "run the command again (what was finished before is kept)")
    assert explain_error(duckdb.IOException(
        'IO Error: Could not write file "kith.duckdb.wal": No space left on device')).startswith(
        "the disk holding the warehouse is full")


# --- Ctrl-C during an import --------------------------------------------------------------------

SLOW_IMPORT = """
import sys, time
import kith.connectors.vcard as vcard
real = vcard.read_vcards
def read_vcards(path, default_region=None):
    for n, record in enumerate(real(path, default_region), 1):
        yield record
        if path.name == "2-big.vcf" and n == 10:
            print("loading", file=sys.stderr, flush=True)   # the handshake: this file is open
            time.sleep(120)
vcard.read_vcards = read_vcards
from kith.flows.cli import main
sys.argv = ["kith", *sys.argv[1:]]
main()
"""


@pytest.fixture
def interrupted_import(tmp_path, db_path):
    folder = tmp_path / "cards"
    folder.mkdir()
    shutil.copy(FIXTURES / "vcard" / "google-3.0.vcf", folder / "1-small.vcf")
    sys.path.insert(0, str(PROJECT_ROOT / "bench"))
    from vcard_import import generate
    generate(folder / "2-big.vcf", 50)
    shutil.copy(FIXTURES / "vcard" / "apple-3.0-company.vcf", folder / "3-after.vcf")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_IMPORT, "import", folder, "--db",
                             db_path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT),
                                                   "COLUMNS": "200"})
    assert proc.stderr.readline().strip() == "loading"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=240)   # a loaded machine (tests run on every core)
    return proc.returncode, out, err, db_path


def test_ctrl_c_exits_130_without_a_traceback(interrupted_import):
    returncode, out, err, _ = interrupted_import
    assert returncode == 130 and "Traceback" not in out + err, out + err


def test_ctrl_c_rolls_back_the_current_file_and_keeps_the_finished_ones(interrupted_import):
    _, _, _, db_path = interrupted_import
    assert query(db_path, "select regexp_extract(source_uri, '[^/]+$'), status from loads "
                          "order by load_id") == [("1-small.vcf", "completed"),
                                                  ("2-big.vcf", "interrupted")]
    assert query(db_path, "select distinct regexp_extract(source_uri, '[^/]+$') "
                          "from raw_contacts") == [("1-small.vcf",)]


def test_ctrl_c_says_what_was_kept(interrupted_import):
    _, out, err, _ = interrupted_import
    assert "1-small.vcf" in out                          # the summary of what finished
    assert "interrupted (Ctrl-C) while reading" in err and "2-big.vcf" in err
    assert "that file was rolled back" in err and "The 1 file(s) finished before it are kept; " \
                                                  "1 were not read" in err


# --- Headerless LinkedIn connections through the command line -----------------------------------

def test_headerless_linkedin_connections_import_with_a_note(tmp_path, db_path):
    path = tmp_path / "my connections.csv"
    shutil.copy(FIXTURES / "linkedin" / "connections-no-header-no-url.csv", path)
    proc = run_kith("import", path, "--db", db_path)
    assert "my connections.csv: no header row; read as LinkedIn connections" in proc.stdout
    assert query(db_path, "select count(*) from raw_contacts "
                          "where source_format = 'linkedin-connection'") == [(3,)]


def test_an_unreadable_file_in_a_sync_is_refused_and_the_source_still_syncs(open_folder):
    inputs = open_folder / "in"
    inputs.mkdir()
    shutil.copy(FIXTURES / "vcard" / "google-3.0.vcf", inputs / "readable.vcf")
    shutil.copy(FIXTURES / "vcard" / "apple-3.0-company.vcf", inputs / "secret.vcf")
    os.chmod(inputs, 0o755)
    os.chmod(inputs / "readable.vcf", 0o644)
    os.chmod(inputs / "secret.vcf", 0o000)
    config = open_folder / "kith.toml"
    config.write_text(f'[warehouse]\npath = "kith.duckdb"\n[[sources]]\nname = "cards"\n'
                      f'kind = "files"\npaths = ["{inputs}"]\n')
    proc = run_as_user("sync", "--config", config, home=open_folder)
    no_traceback(proc)
    assert proc.returncode == 1
    assert f"{inputs / 'secret.vcf'}: cannot read: Permission denied" in proc.stdout
    assert query(open_folder / "kith.duckdb",
                 "select regexp_extract(source_uri, '[^/]+$'), status from loads order by 1") == [
        ("readable.vcf", "completed"), ("secret.vcf", "refused")]
