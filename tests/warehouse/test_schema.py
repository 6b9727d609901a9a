import stat

from kith.warehouse.connection import connect
from kith.warehouse.schema import LATEST_VERSION, current_version, migrate


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
    assert con.execute("select count(*) from schema_migrations").fetchone() == (LATEST_VERSION,)
    con.close()


def test_a_process_killed_right_after_a_migration_leaves_a_file_that_opens(tmp_path):
    # DuckDB 1.4 cannot replay COMMENT ON from its WAL; migrate checkpoints so none is left there.
    import os
    import subprocess
    import sys

    import duckdb
    path = tmp_path / "kith.duckdb"
    subprocess.run([sys.executable, "-c", "import os, sys\n"
                    "from kith.warehouse.connection import connect\n"
                    "connect(sys.argv[1])\nos._exit(0)\n", str(path)], check=True,
                   env={**os.environ, "PYTHONPATH": os.getcwd()})
    con = duckdb.connect(str(path))
    assert current_version(con) == LATEST_VERSION
    con.close()
