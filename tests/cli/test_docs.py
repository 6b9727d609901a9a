from pathlib import Path
import re

import pytest
import typer.main

from kith.flows.cli import app
from kith.transforms.runner import build
from kith.warehouse.connection import connect

PROJECT_ROOT = Path(__file__).resolve().parents[2]

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
TABLES_DOC = (PROJECT_ROOT / "docs" / "tables.md").read_text(encoding="utf-8")
COMMANDS = typer.main.get_command(app).commands


def test_readme_opens_with_the_demo_and_test_commands():
    first_block = README.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name):
    assert (COMMANDS[name].help or "").strip()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_in_the_readme(name):
    assert f"### `kith {name}" in README


def _relations(db_path):
    con = connect(db_path)
    build(con)
    rows = con.execute("""
        select table_name, column_name from duckdb_columns()
        where database_name = current_database() and schema_name = 'main'""").fetchall()
    con.close()
    return rows


def test_every_table_and_view_is_documented(db_path):
    names = {table for table, _ in _relations(db_path)}
    missing = sorted(n for n in names if f"`{n}`" not in TABLES_DOC)
    assert missing == []


def test_every_column_a_user_may_query_is_documented(db_path):
    documented = set(re.findall(r"`([a-z_0-9]+)`", TABLES_DOC))
    missing = sorted(f"{t}.{c}" for t, c in _relations(db_path) if c not in documented)
    assert missing == []
