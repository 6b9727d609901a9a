from pathlib import Path
import json
import subprocess
import sys

import pytest

from kith.records import ContactCard, Email
from kith.transforms.runner import build
from kith.warehouse.connection import connect
from kith.warehouse.loader import load_records

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def warehouse(db_path):
    con = connect(db_path)
    load_records(con, "vcard", "file:///cards.vcf", [
        ContactCard(position=1, raw_text="", source_format="vcard-3.0", full_name="Jane Doe",
                    org="Acme", emails=[Email("jane@acme.com", "jane@acme.com")]),
        ContactCard(position=9, raw_text="", source_format="vcard-3.0", full_name="[Bob] Stone")],
        tag="mixer")
    build(con)
    con.close()
    return db_path


def test_sql_prints_a_table(kith, warehouse):
    out = kith("sql", "--db", warehouse, "select display_name from contacts order by 1").stdout
    assert "Jane Doe" in out and "[Bob] Stone" in out and "2 rows" in out


def test_sql_csv_format(kith, warehouse):
    out = kith("sql", "--db", warehouse, "--format", "csv",
               "select display_name, emails from contacts order by 1").stdout
    assert out.splitlines() == ["display_name,emails", 'Jane Doe,"[""jane@acme.com""]"',
                                "[Bob] Stone,[]"]


def test_sql_json_format(kith, warehouse):
    out = kith("sql", "--db", warehouse, "--format", "json",
               "select display_name, tags from contacts where org = 'Acme'").stdout
    assert json.loads(out) == [{"display_name": "Jane Doe", "tags": ["mixer"]}]


def test_sql_without_query_lists_tables_and_views_with_descriptions(kith, warehouse):
    out = kith("sql", "--db", warehouse, "--format", "csv").stdout
    names = {line.split(",")[0] for line in out.splitlines()[1:]}
    assert {"contacts", "raw_contacts", "loads", "rejects", "record_tags"} <= names
    assert "One row per load" in out


def test_sql_opens_the_warehouse_read_only(kith, warehouse):
    proc = kith("sql", "--db", warehouse, "delete from raw_contacts", check=False)
    assert proc.returncode == 1
    assert "read-only" in proc.stderr


def test_sql_error_is_one_clear_line(kith, warehouse):
    proc = kith("sql", "--db", warehouse, "select nope from contacts", check=False)
    assert proc.returncode == 1
    assert "nope" in proc.stderr and "Traceback" not in proc.stderr


def test_sql_on_a_missing_warehouse_says_how_to_make_one(kith, tmp_path):
    proc = kith("sql", "--db", tmp_path / "none.duckdb", "select 1", check=False)
    assert proc.returncode == 1 and "kith import" in proc.stderr


def test_sql_does_not_load_prefect(warehouse):
    code = ("import sys\nfrom flows.cli import app\n"
            f"try:\n    app(['sql', '--db', {str(warehouse)!r}, 'select 1'])\n"
            "except SystemExit:\n    pass\n"
            "print('PREFECT-LOADED' if 'prefect' in sys.modules else 'NO-PREFECT')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=PROJECT_ROOT).stdout
    assert out.strip().endswith("NO-PREFECT")
