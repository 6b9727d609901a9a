"""A load and a build cap DuckDB's memory; what was set before must be set again after it."""

from kith.transforms.runner import build
from kith.warehouse.connection import build_memory_limit, connect, load_memory_limit
from kith.warehouse.loader import load_records


def limit(con) -> str:
    """The limit in whole MiB (DuckDB prints it rounded to one decimal, which drifts when set
    back from its own printout)."""
    value = con.execute("select current_setting('memory_limit')").fetchone()[0]
    return value.split(".")[0] + " " + value.split()[-1]


def test_a_load_caps_memory_and_sets_the_earlier_limit_back(db_path):
    con = connect(db_path)
    try:
        con.execute("set memory_limit = '1GB'")
        before = limit(con)
        with load_memory_limit(con):
            assert limit(con) == "244 MiB"
        assert limit(con) == before
        load_records(con, "file", "file:///nothing.vcf", [])
        assert limit(con) == before
    finally:
        con.close()


def test_a_build_caps_memory_and_sets_the_earlier_limit_back(db_path):
    con = connect(db_path)
    try:
        con.execute("set memory_limit = '2GB'")
        before = limit(con)
        with build_memory_limit(con):
            assert limit(con) == "953 MiB"
        assert limit(con) == before
        build(con)
        assert limit(con) == before
    finally:
        con.close()
