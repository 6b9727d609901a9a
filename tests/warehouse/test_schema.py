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
    # numbers may skip (each issue takes its own), so count the migrations, not the latest
    assert con.execute("select count(*) from schema_migrations").fetchone() == (len(MIGRATIONS),)
    con.close()
