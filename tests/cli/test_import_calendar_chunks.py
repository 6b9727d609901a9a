"""A big .ics file loads in committed chunks: an import killed part-way changes nothing the views
read, and the next import of the file ends with exactly what a clean import holds."""

from pathlib import Path

import duckdb

from kith.warehouse.loader import BATCH_SIZE
from tests.cli.conftest import run_kith
from tests.cli.test_import_resume import killed_part_way

N_EVENTS = 12_000         # the loader commits after a batch (BATCH_SIZE) once a chunk is full
CHUNK = 1_000


def write_calendar(path: Path, n: int) -> None:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//kith tests//EN"]
    for i in range(n):
        day, guest = f"2025{1 + i % 12:02d}{1 + i % 28:02d}", i % 300
        lines += ["BEGIN:VEVENT", f"UID:event-{i}@chunks.example", "DTSTAMP:20250101T000000Z",
                  f"DTSTART:{day}T{8 + i % 9:02d}0000Z", f"DTEND:{day}T{9 + i % 9:02d}0000Z",
                  "ORGANIZER;CN=Owner:mailto:owner@example.com",
                  f"ATTENDEE;CN=Guest {guest};PARTSTAT=ACCEPTED:mailto:guest{guest}@example.org",
                  "END:VEVENT"]
    lines.append("END:VCALENDAR")
    path.write_text("\r\n".join(lines) + "\r\n")


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def n_versions(db: Path) -> int:
    """Occurrences a killed import left; 0 when it died before it had a warehouse."""
    try:
        return query(db, "select count(*) from raw_events")[0][0]
    except duckdb.CatalogException:
        return 0


VERSIONS = "select record_key, record_hash from raw_events order by all"
CURRENT = "select record_key, record_hash from stg_calendar__occurrences order by all"


def test_a_killed_calendar_import_changes_no_view_and_the_next_one_finishes_it(tmp_path):
    ics = tmp_path / "work.ics"
    write_calendar(ics, N_EVENTS)
    env = {"KITH_ICS_CHUNK": str(CHUNK)}
    clean_db, db = killed_part_way(ics, tmp_path, env, n_versions, N_EVENTS)
    kept = n_versions(db)
    assert 0 < kept < N_EVENTS, "the kill did not land half way; nothing to resume"
    assert kept % BATCH_SIZE == 0             # whole batches, each committed
    # nothing is current until the load's last transaction says what the file holds
    assert query(db, "select count(*) from event_items") == [(0,)]
    assert query(db, "select status, n_read, n_inserted from loads") == [
        ("running", kept, kept)]

    run_kith("import", ics, "--db", db, env=env)
    assert query(db, VERSIONS) == query(clean_db, VERSIONS)
    assert query(db, CURRENT) == query(clean_db, CURRENT)
    assert len(query(db, CURRENT)) == N_EVENTS
    assert query(db, "select status, n_read, n_inserted from loads order by load_id") == [
        ("interrupted", kept, kept), ("completed", N_EVENTS, N_EVENTS - kept)]


ITEMS = """
    select load_id, item, len(occurrences), occurrences[1].record_key, occurrences[-1].record_key
    from event_items order by load_id"""
FIRST, LAST = ("ev:event-0@chunks.example:2025-01-01T08:00:00Z",
               "ev:event-7002@chunks.example:2025-07-03T08:00:00Z")


def test_importing_a_calendar_again_adds_nothing_and_keeps_the_latest_list(tmp_path):
    ics = tmp_path / "work.ics"
    write_calendar(ics, 7_003)
    db = tmp_path / "kith.duckdb"
    env = {"KITH_ICS_CHUNK": str(CHUNK)}
    run_kith("import", ics, "--db", db, env=env)
    first = query(db, VERSIONS), query(db, CURRENT)
    # the load says, in file order, which occurrences the file holds
    assert query(db, ITEMS) == [(1, "", 7_003, FIRST, LAST)]
    run_kith("import", ics, "--db", db, env=env)
    assert (query(db, VERSIONS), query(db, CURRENT)) == first
    assert query(db, "select status, n_read, n_inserted from loads order by load_id") == [
        ("completed", 7_003, 7_003), ("completed", 7_003, 0)]
    # only the latest list is read: the one before it is gone, not kept a night at a time
    assert query(db, ITEMS) == [(2, "", 7_003, FIRST, LAST)]
