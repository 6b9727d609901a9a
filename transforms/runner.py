"""Building the SQL models as views, each after the models it reads from.

A model marked `-- materialized: table` is a table, computed again only when what it reads has
changed since it was last computed: its fingerprint (model_builds) hashes its SQL, the state of
every warehouse table it reads, directly or through views (row count and latest load id for
tables with a load_id, else a hash of their rows), the fingerprints of the table models it reads,
and the hour for models that read the clock (so that a meeting that has since taken place
counts within the hour). Identity resolution's `identity_builds` is read for the owner's person
id only. A `-- person_ids of: email social` line says that the model looks up the person of
those kinds of records only (record keys 'email:...', 'social:...'), so that a card joining a
known person leaves it as it was. A model also marked `-- incremental: person_id` promises that
its rows for a person come from that person's `person_ids` rows alone (and from inputs not kept
per person): when nothing but identity resolution changed under it, only the rows of the people
whose records moved are computed again. A view marked `-- materialized: for the build`
(`relationships`) is computed once per build into a temporary table, when a table model that
reads it is computed. `build(con, force=True)` (`kith rebuild`) computes everything from
scratch."""

from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Callable

import duckdb

from kith.warehouse.connection import WarehouseOutOfMemory, build_memory_limit

MODELS_DIR = Path(__file__).resolve().parent
LAYERS = ("staging", "intermediate", "marts")
# What identity resolution writes and a per-person model reads per person (the owner's id in
# identity_builds: a new owner recomputes such a model in full).
IDENTITY_TABLES = frozenset({"person_ids", "identity_builds"})
_CLOCK = re.compile(r"\b(now|current_date|current_timestamp|today|get_current_timestamp)\b",
                    re.IGNORECASE)


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

    @property
    def is_kept_for_build(self) -> bool:
        """A `-- materialized: for the build` line: a view that several steps of a build read
        (and costs seconds) is computed once per build into a temporary table of its name."""
        return "\n-- materialized: for the build\n" in "\n" + self.sql

    @property
    def is_per_person(self) -> bool:
        """A `-- incremental: person_id` line: see the module docstring."""
        return "\n-- incremental: person_id\n" in "\n" + self.sql

    @property
    def record_kinds(self) -> tuple[str, ...] | None:
        """The kinds of records whose person the model looks up (`-- person_ids of: email
        chat`), or None when it may look up any."""
        found = re.search(r"^-- person_ids of: ([a-z ]+)$", self.sql, re.MULTILINE)
        return tuple(sorted(found.group(1).split())) if found else None

    @property
    def words(self) -> frozenset[str]:
        """The names the SQL mentions outside comments (models, tables, columns)."""
        return frozenset(re.findall(r"\b[a-z_][a-z0-9_]*\b", _strip_comments(self.sql)))


def discover(models_dir: Path = MODELS_DIR) -> list[Model]:
    """Every model, in an order where each comes after the models it selects from."""
    models = {}
    for layer in LAYERS:
        for path in sorted((models_dir / layer).glob("*.sql")):
            models[path.stem] = Model(path.stem, layer, path.read_text(encoding="utf-8"))
    graph = {}
    for model in models.values():
        graph[model.name] = {name for name in models if name in model.words and name != model.name}
    return [models[name] for name in TopologicalSorter(graph).static_order()]


def _upstream(models: list[Model], name: str) -> set[str]:
    """The models `name` reads, directly or through others."""
    by_name = {m.name: m for m in models}
    found, todo = set(), [name]
    while todo:
        model = by_name.get(todo.pop())
        for other in (model.words & by_name.keys()) - {model.name} if model else ():
            if other not in found:
                found.add(other)
                todo.append(other)
    return found


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
        fingerprints = _Fingerprints(con, models, tables, force)
        # Staging tables read only what was loaded; identity resolution reads them and the
        # tables under int_identity_records, and the rest read the people it resolves.
        before = _upstream(models, "int_identity_records")
        staging = [m for m in models if m.layer == "staging" or m.name in before]
        fingerprints.make_tables(staging, on_step)
        on_step("people")
        with fingerprints.people_moved():
            resolve_people(con, force=force)
        on_step("organisations")
        resolve_organisations(con)
        fingerprints.tables_written()
        fingerprints.make_tables([m for m in models if m not in staging], on_step)
        on_step("tier changes")
        fingerprints.snapshot(snapshot_tiers)
        fingerprints.close()
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return [model.name for model in models]


class _Fingerprints:
    """Which table models to compute again in one build, and how (see the module docstring)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, models: list[Model], tables: set[str],
                 force: bool):
        self.con, self.force, self.tables = con, force, tables
        self.models = {m.name: m for m in models}
        # the warehouse's own tables (not models), and whether each has a load_id
        self.sources = dict(con.execute("""
            select table_name, bool_or(column_name = 'load_id')
            from duckdb_columns()
            where database_name = current_database() and schema_name = 'main'
                and table_name in (select table_name from duckdb_tables()
                                   where database_name = current_database())
            group by table_name
        """).fetchall())
        for name in self.models:
            self.sources.pop(name, None)
        self.stored = dict(con.execute("select model, fingerprint from model_builds").fetchall())
        self.built: dict[str, str] = {}
        self._stamps: dict[str, tuple] = {}
        self.people_known = False      # _kith_people_moved holds every person whose records moved
        self.kept: set[str] = set()    # views computed once for this build (is_kept_for_build)

    def tables_written(self) -> None:
        """Forget the tables' states: a step has written some."""
        self._stamps.clear()

    def _stamp(self, table: str, kinds: tuple[str, ...] | None = None) -> tuple:
        if (table, kinds) not in self._stamps:
            if table == "identity_builds":
                sql = ("select owner_person_id from identity_builds "
                       "order by build_id desc limit 1")
            elif kinds is not None:
                sql = (f'select count(*), bit_xor(hash(t)) from "{table}" as t '
                       f"where {_kinds_filter(kinds)}")
            elif self.sources[table]:
                sql = f'select count(*), max(load_id) from "{table}"'
            else:
                sql = f'select count(*), bit_xor(hash(t)) from "{table}" as t'
            self._stamps[(table, kinds)] = self.con.execute(sql).fetchone()
        return self._stamps[(table, kinds)]

    def _inputs(self, model: Model) -> tuple[set[str], set[str], bool]:
        """The warehouse tables a model reads, directly or through views; the table models it
        reads; whether it (or a view under it) reads the clock."""
        tables, upstream = set(), set()
        clock = bool(_CLOCK.search(_strip_comments(model.sql)))
        for word in model.words:
            if word in self.sources:
                tables.add(word)
            elif word in self.models and word != model.name:
                other = self.models[word]
                if other.is_table:
                    upstream.add(word)
                else:
                    more_tables, more_upstream, more_clock = self._inputs(other)
                    tables |= more_tables
                    upstream |= more_upstream
                    clock = clock or more_clock
        return tables, upstream, clock

    def fingerprint(self, model: Model) -> tuple[str, str]:
        """Hashes of what the model reads: everything but identity resolution's tables, and
        those."""
        tables, upstream, clock = self._inputs(model)
        hour = clock_hour() if clock else ""
        other = (model.sql, hour, [(t, self._stamp(t)) for t in sorted(tables - IDENTITY_TABLES)],
                 [(m, self.built.get(m, self.stored.get(m))) for m in sorted(upstream)])
        identity = [(t, self._stamp(t, model.record_kinds if t == "person_ids" else None))
                    for t in sorted(tables & IDENTITY_TABLES)]
        return _hash(other), _hash(identity)

    def make_tables(self, models: list[Model], on_step: Callable[[str], None]) -> None:
        for model in models:
            if model.is_table:
                self._make(model, on_step)

    def _keep_views_under(self, model: Model) -> None:
        for word in sorted(model.words & self.models.keys() - {model.name}):
            other = self.models[word]
            if not other.is_table:
                self._keep_views_under(other)
                if other.is_kept_for_build and word not in self.kept:
                    self.con.execute(f"create temp table {word} as select * from {word}")
                    self.kept.add(word)

    def _make(self, model: Model, on_step: Callable[[str], None]) -> None:
        other, identity = self.fingerprint(model)
        stamp = f"{other}:{identity}"
        last = self.stored.get(model.name)
        exists = model.name in self.tables
        unchanged = exists and not self.force and last == stamp
        if not unchanged:
            self._keep_views_under(model)
        if unchanged:
            how = None
        elif (exists and not self.force and model.is_per_person and self.people_known
              and last is not None and last.split(":")[0] == other):
            on_step(model.name)
            how = "people"
            self._make_for_people(model)
        else:
            on_step(model.name)
            how = "full"
            if not exists:
                self.con.execute(f"drop view {model.name}")
            self.con.execute(f"create or replace table {model.name} as\n{model.sql}")
            if model.grain:
                self.con.execute(f"comment on table {model.name} is {_quote(model.grain)}")
            self.tables.add(model.name)
        if how is not None:
            self.con.execute("""
                insert or replace into model_builds values (?, ?, now(), ?)
            """, [model.name, stamp, how])
        self.built[model.name] = stamp

    def snapshot(self, snapshot_tiers: Callable[..., int]) -> None:
        """Snapshot the tiers (transforms.relationships) of everyone, of the people whose
        records moved, or of no one, as `relationships` would have changed (its fingerprint is
        kept as tier_snapshots')."""
        other, identity = self.fingerprint(self.models["relationships"])
        stamp, last = f"{other}:{identity}", self.stored.get("tier_snapshots")
        if self.force or last is None or last.split(":")[0] != other or not self.people_known:
            snapshot_tiers(self.con)
            how = "full"
        elif last != stamp:
            snapshot_tiers(self.con, among="_kith_people_moved")
            how = "people"
        else:
            return
        self.con.execute("insert or replace into model_builds "
                         "values ('tier_snapshots', ?, now(), ?)", [stamp, how])

    def _make_for_people(self, model: Model) -> None:
        """Compute the model again for the people in _kith_people_moved only: their rows are
        replaced by what the model gives when it sees no one else's person_ids rows."""
        sql = re.sub(r"\bperson_ids\b", "_kith_moved_person_ids", model.sql)
        kinds = f" and {_kinds_filter(model.record_kinds)}" if model.record_kinds else ""
        self.con.execute(f"""
            create or replace temp view _kith_moved_person_ids as
            select * from person_ids
            where person_id in (select person_id from _kith_people_moved){kinds}
        """)
        self.con.execute(f"delete from {model.name} "
                         "where person_id in (select person_id from _kith_people_moved)")
        self.con.execute(f"insert into {model.name} by name select * from (\n{sql}\n) "
                         "where person_id in (select person_id from _kith_people_moved)")

    @contextmanager
    def people_moved(self):
        """Around identity resolution: afterwards _kith_people_moved holds every person who
        gained, lost or changed records (old ids and new), unless the owner's person changed
        (then every per-person model is computed in full)."""
        owner = "select owner_person_id from identity_builds order by build_id desc limit 1"
        self.con.execute("create or replace temp table _kith_ids_before as "
                         "select record_key, person_id from person_ids")
        owner_before = self.con.execute(owner).fetchone()
        yield
        self.tables_written()
        self.con.execute("""
            create or replace temp table _kith_people_moved as
            select distinct person_id from (
                (select record_key, person_id from person_ids
                 except select * from _kith_ids_before)
                union all
                (select * from _kith_ids_before
                 except select record_key, person_id from person_ids))
        """)
        self.con.execute("drop table _kith_ids_before")
        self.people_known = self.con.execute(owner).fetchone() == owner_before

    def close(self) -> None:
        for name in self.kept:
            self.con.execute(f"drop table temp.{name}")
        self.con.execute("drop view if exists _kith_moved_person_ids")
        self.con.execute("drop table if exists _kith_people_moved")


def clock_hour() -> str:
    """The hour a model that reads the clock was computed in (its fingerprint holds it)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H")


def _kinds_filter(kinds: tuple[str, ...]) -> str:
    return "(" + " or ".join(f"starts_with(record_key, '{kind}:')" for kind in kinds) + ")"


def _hash(value) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
