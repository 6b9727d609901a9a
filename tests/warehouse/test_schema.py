import stat

from kith.warehouse.connection import connect
from kith.warehouse.schema import LATEST_VERSION, MIGRATIONS, current_version, migrate


def test_new_warehouse_is_created_at_the_latest_version(db_path):
    con = connect(db_path)
    assert current_version(con) == LATEST_VERSION
    con.close()


def test_new_warehouse_file_is_readable_by_its_owner_only(db_path):
    connect(db_path).close()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600


def test_older_warehouse_is_upgraded_in_place_keeping_its_data(db_path):
    import duckdb
    con = duckdb.connect(str(db_path))
    migrate(con, target=1)
    con.execute("insert into loads (source_kind, source_uri, started_at, status) "
                "values ('vcard', 'file:///old.vcf', now(), 'completed')")
    con.close()

    con = connect(db_path)
    assert current_version(con) == LATEST_VERSION
    assert con.execute("select source_uri from loads").fetchall() == [("file:///old.vcf",)]
    assert con.execute("select count(*) from raw_contacts").fetchone() == (0,)
    con.close()


def test_migrations_run_once(db_path):
    connect(db_path).close()
    con = connect(db_path)
    assert migrate(con) == []
    assert con.execute("select count(*) from schema_migrations").fetchone() == (len(MIGRATIONS),)
    con.close()


def test_messages_stored_before_version_8_are_kept_without_their_unspillable_keys(db_path):
    import duckdb
    con = duckdb.connect(str(db_path))
    migrate(con, target=7)
    con.execute("""
        insert into raw_messages (record_key, record_hash, message_id, has_message_id,
                                  source_kind, source_uri, position, load_id, loaded_at)
        values ('mid:1@x', 'h', '1@x', true, 'mbox', 'file:///old.mbox', 1, 1, now())""")
    con.execute("insert into message_sightings values "
                "('mid:1@x', 'mbox', 'file:///old.mbox', null, 1, null, 1, now())")
    con.close()

    con = connect(db_path)
    assert con.execute("select record_key, position from raw_messages").fetchall() == [
        ("mid:1@x", 1)]
    assert con.execute("select record_key from message_sightings").fetchall() == [("mid:1@x",)]
    assert con.execute("select count(*) from duckdb_indexes() where table_name in "
                       "('raw_messages', 'message_sightings')").fetchone() == (0,)
    assert con.execute("select count(*) from duckdb_constraints() where table_name in "
                       "('raw_messages', 'message_sightings') and constraint_type in "
                       "('PRIMARY KEY', 'UNIQUE')").fetchone() == (0,)
    con.close()


def test_a_new_warehouse_killed_before_any_load_opens_again(db_path):
    """DuckDB 1.4 could not replay a WAL holding the migrations: migrate() checkpoints."""
    import subprocess
    import sys
    subprocess.run([sys.executable, "-c",
                    "import os, sys; from kith.warehouse.connection import connect; "
                    "connect(sys.argv[1]); os._exit(9)", str(db_path)], check=False)
    con = connect(db_path)
    assert current_version(con) == LATEST_VERSION
    con.close()


def test_a_migration_numbered_below_the_files_version_is_still_applied(db_path):
    # Branches add migrations in parallel (8, 9, 10, 11): one merged after a higher one must
    # still reach warehouses already at the higher version.
    con = connect(db_path)
    con.execute("delete from schema_migrations where version = 7")
    con.execute("drop table tier_snapshots")
    con.execute("drop table relationship_settings")
    assert migrate(con) == [7]
    assert con.execute("select count(*) from tier_snapshots").fetchone() == (0,)
    con.close()
