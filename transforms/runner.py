"""Building the SQL models as views, each after the models it reads from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Callable

import duckdb

from kith.warehouse.connection import WarehouseOutOfMemory, build_memory_limit

MODELS_DIR = Path(__file__).resolve().parent
LAYERS = ("staging", "intermediate", "marts")


@dataclass(frozen=True)
class Model:
    name: str
    layer: str
    sql: str

    @property
    def grain(self) -> str:
        """The first-line comment, e.g. 'one row per contact card'."""
        first = self.sql.lstrip().splitlines()[0]
        return first.lstrip("- ").strip() if first.startswith("--") else ""

    @property
    def is_table(self) -> bool:
        """A `-- materialized: table` line makes the model a table that every build computes
        once, for costly models that many others read; the rest are views."""
        return "\n-- materialized: table\n" in "\n" + self.sql


def discover(models_dir: Path = MODELS_DIR) -> list[Model]:
    """Every model, in an order where each comes after the models it selects from."""
    models = {}
    for layer in LAYERS:
        for path in sorted((models_dir / layer).glob("*.sql")):
            models[path.stem] = Model(path.stem, layer, path.read_text(encoding="utf-8"))
    graph = {}
    for model in models.values():
        words = set(re.findall(r"\b[a-z_][a-z0-9_]*\b", _strip_comments(model.sql)))
        graph[model.name] = {name for name in models if name in words and name != model.name}
    return [models[name] for name in TopologicalSorter(graph).static_order()]


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def build(con: duckdb.DuckDBPyConnection, models: list[Model] | None = None, *,
          force: bool = False, on_step: Callable[[str], None] | None = None) -> list[str]:
    """(Re)create every model as a view, resolve identities (transforms.identity) and
    organisations (transforms.organisations) and record tier changes
    (transforms.relationships), in one transaction; return the views' names in build order.
    Resolving people is skipped when its inputs have not changed since the last build, unless
    `force`. DuckDB's memory is capped at $KITH_BUILD_MEMORY_LIMIT (spilling to disk beyond
    it); running out even so raises WarehouseOutOfMemory, whose message names the setting.
    `on_step(name)` is called as each costly step begins (a table model, "people",
    "organisations", "tier changes"), for progress."""
    try:
        with build_memory_limit(con):
            return _build(con, models if models is not None else discover(), force,
                          on_step or (lambda name: None))
    except duckdb.OutOfMemoryException as exc:
        raise WarehouseOutOfMemory(str(exc), building=True) from exc


def _build(con: duckdb.DuckDBPyConnection, models: list[Model], force: bool,
           on_step: Callable[[str], None]) -> list[str]:
    from kith.transforms.identity.store import resolve_people
    from kith.transforms.organisations import resolve_organisations
    from kith.transforms.relationships import snapshot_tiers

    con.execute("begin transaction")
    try:
        tables = {row[0] for row in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database()"
        ).fetchall()}
        for model in models:
            # a table model stands as a view the first time, so that the models reading it bind
            if not (model.is_table and model.name in tables):
                con.execute(f"create or replace view {model.name} as\n{model.sql}")
                if model.grain:
                    con.execute(f"comment on view {model.name} is {_quote(model.grain)}")
        # Staging tables read only what was loaded; identity resolution reads them, and the
        # rest read the people it resolves.
        staging = [m for m in models if m.layer == "staging"]
        _make_tables(con, staging, tables, on_step)
        on_step("people")
        resolve_people(con, force=force)
        on_step("organisations")
        resolve_organisations(con)
        _make_tables(con, [m for m in models if m not in staging], tables, on_step)
        on_step("tier changes")
        snapshot_tiers(con)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return [model.name for model in models]


def _make_tables(con: duckdb.DuckDBPyConnection, models: list[Model], tables: set[str],
                 on_step: Callable[[str], None]) -> None:
    for model in models:
        if model.is_table:
            on_step(model.name)
            if model.name not in tables:
                con.execute(f"drop view {model.name}")
            con.execute(f"create or replace table {model.name} as\n{model.sql}")
            if model.grain:
                con.execute(f"comment on table {model.name} is {_quote(model.grain)}")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
