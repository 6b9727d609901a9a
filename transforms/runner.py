"""Building the SQL models as views, each after the models it reads from.

A model marked `-- materialized: table` is a table, computed again only when what it reads has
changed since it was last computed: its fingerprint (model_builds) hashes its SQL, the state of
every warehouse table it reads, directly or through views (row count and latest load id for
tables with a load_id, else a hash of their rows), the fingerprints of the table models it reads,
and the day (UTC) for models that read the clock (a score that fades with time is computed again
at the first build of each day: its half-lives are months, and a small import later that day,
a stack of cards after the nightly sync, then computes only what it changed). Every model of a
build reads one instant as now() (`build_clock`, kept as model_builds.built_at); the views left
for `kith sql` read the clock as they are queried. A model marked
`-- the clock decides: stg_mail__messages by sent_at - interval 1 day; ...`
promises that it reads the clock only to keep the rows of those relations whose expression is
at most now(): its fingerprint leaves the day out, and when the clock moved since its last
build, the rows whose expression lies between the two clocks are the only ones the clock
changed (`column - interval ...` is read as the models write it: the column between the two
clocks plus the interval). In a model incremental by messages (below), a relation named
with a key column (`stg_calendar__occurrences.record_key`) promises that the model's rows
for such a row carry that key in its message column: those keys count as messages touched; a
row of a relation without one has the model computed in full; none leaves it as it was. Identity
resolution's `identity_builds` is read for the owner's person id only. A `-- person_ids of:
email social` line says that the model looks up the person of those kinds of records only
(record keys 'email:...', 'social:...'), so that a card joining a known person leaves it as it
was. A model also marked `-- incremental: person_id` promises that
its rows for a person come from that person's `person_ids` rows alone (and from inputs not kept
per person): when nothing but identity resolution changed under it, only the rows of the people
whose records moved are computed again. A per-person model also marked `-- records of:
int_identity_records; record_tags by 'card:' || record_key; ...` (`people`) promises that its
rows for a person come from that person's records' rows in int_identity_records and in the
tables named (each row naming its record by the expression given), besides inputs not kept per
person: what it reads through int_identity_records alone counts with identity resolution (by
identity_record_facts), and the named tables' row counts and latest load ids are kept in clear.
When only those changed, the rows computed again are those of the people whose records moved,
whose int_identity_records row changed (identity resolution leaves them in
_kith_records_changed) or that rows loaded into the named tables since name. A table model
marked `-- moves the people of: email`
(`int_mailing_list_addresses`, one row per address) counts with identity resolution: the
people of the addresses whose rows it gained or lost count as moved.

Mail is only ever added (raw_messages keeps a message as first seen), so the fingerprint keeps
raw_messages' row count and latest load id apart, in clear. A model marked `-- incremental:
messages by message_key` (or another column holding a message key) promises that a message
added changes only the rows of the messages "touched": itself, those that answer it (its
Message-ID in their In-Reply-To or References) and those whose thread it heads. When nothing
but the mail (and identity resolution, for a per-person model) changed under it and
raw_messages only grew since its last build, by no more than a quarter, just those rows are
computed again, by the model's SQL seeing no more of the mail tables (MAIL_TABLES) than the
touched messages and the messages they answer, up to their threads' roots. A view marked
`-- materialized: for the build`
(`relationships`) is computed once per build into a temporary table, when a table model that
reads it is computed. `relationships` (also marked `-- incremental: person_id`: a person's row
comes from that person's person_ids and interactions rows alone) is kept between builds as the
tier snapshot computed it (RELATIONSHIPS_AS_BUILT, under the snapshot's fingerprint): when only
identity resolution, interactions computed for some people or messages, or nothing changed
under it (the day included), a build computes it again only for the people whose rows may
have changed (_kith_people_changed: those whose records moved and those whose rows a model
computed again for some people or messages) and reads the rest as kept.

A table model in KEYED_BY_PEOPLE (`organisations`, `introductions`, `int_people_together`)
promises that its rows for a key come from the rows that name the key in the tables it lists
and, of what is kept per person (`relationships`, `people`, `interactions`, person_ids), from
the rows of the people its `people` select gives the key (and of the person its `also` column
names). What it reads of those counts with identity resolution in its fingerprint; when
nothing else changed (its SQL, the day, the other tables) and the per-person table models it
reads were not computed in full, only the rows of the keys of the people whose rows may have
changed, of the keys whose rows in the listed tables changed (a count and hash per key, taken
as the build begins, or for a table model as it is about to be computed: one the build leaves
as it was changed none) and naming one of those people in `also` are computed again
(model_builds.how 'keys'), and of those only the rows that differ are written.

`build(con, force=True)` (`kith rebuild`) computes everything from scratch."""

from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Callable

import duckdb

from kith.warehouse.connection import (WarehouseOutOfMemory, build_memory_limit,
                                       settle_storage, sql_text)

MODELS_DIR = Path(__file__).resolve().parent
LAYERS = ("staging", "intermediate", "marts")
# What identity resolution writes and a per-person model reads per person (the owner's id in
# identity_builds: a new owner recomputes such a model in full).
IDENTITY_TABLES = frozenset({"person_ids", "identity_builds"})
# The mail tables, keyed by message (record_key is 'mid:<Message-ID>'): what a model that is
# incremental by messages reads of them is cut to the messages it computes again.
MAIL_TABLES = {"raw_messages": "record_key", "stg_mail__messages": "message_key",
               "stg_mail__participants": "message_key"}


@dataclass(frozen=True)
class KeyedByPeople:
    """How a table model is computed again for some of its keys (see the module docstring)."""
    key: str                    # the model's key column
    people: str                 # select (key, person_id): the people whose rows a key's rows read
    tables: dict[str, str]      # table -> the key each of its rows names
    # a column naming one more person whose rows a row reads (the rows naming one of the people
    # whose rows changed are computed again, whatever their key)
    also: str | None = None
    # tables of `tables` of which a row reads only the rows naming its key or its `also` person
    # (read only for the keys and people computed again)
    cut: tuple[str, ...] = ()
    # a key's rows read of its people their person_ids rows alone (of the kinds of the model's
    # `-- person_ids of:` line): only the people whose records of those kinds moved count as
    # changed, not those whose rows of what is kept per person changed
    only_moved: bool = False


# Table models whose rows for a key come from the rows of some tables that name the key and,
# of what is kept per person, from the rows of the people `people` gives the key alone.
KEYED_BY_PEOPLE = {
    "organisations": KeyedByPeople(
        key="organisation_key",
        people="select organisation_key, person_id from int_organisation_members",
        tables={"int_organisation_members": "organisation_key",
                "organisation_handles": "organisation_key"}),
    "introductions": KeyedByPeople(
        key="target_person_id",
        people="select person_id, person_id from people",
        tables={"acquaintances": "unnest([person_a_id, person_b_id])",
                "int_organisation_members": "person_id"},
        also="introducer_person_id", cut=("acquaintances",)),
    # an occasion (a thread, a meeting) pairs up the people of its addresses
    "int_people_together": KeyedByPeople(
        key="occasion_key",
        people="""select o.occasion_key, ids.person_id from int_occasion_people as o
                  join person_ids as ids on ids.record_key = 'email:' || o.email""",
        tables={"int_occasion_people": "occasion_key"}, cut=("int_occasion_people",),
        only_moved=True),
}
# The rows of `relationships` as the last build computed them (for everyone, at the build's
# clock): a build computes them again only for the people whose rows may have changed.
RELATIONSHIPS_AS_BUILT = "relationships_as_built"
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
    def message_column(self) -> str | None:
        """The column named by a `-- incremental: messages by source_key` line: see the module
        docstring."""
        found = re.search(r"^-- incremental: messages by ([a-z_]+)$", self.sql, re.MULTILINE)
        return found.group(1) if found else None

    @property
    def clock_rows(self) -> tuple[tuple[str, str | None, str], ...] | None:
        """The (relation, key column or None, expression) of each part of a `-- the clock
        decides: stg_mail__messages.message_key by sent_at - interval 1 day; ...` line: see the
        module docstring. None without one."""
        found = re.search(r"^-- the clock decides: (.+)$", self.sql, re.MULTILINE)
        if not found:
            return None
        parts = [re.fullmatch(r"([a-z_]+)(?:\.([a-z_]+))? by (.+)", part.strip())
                 for part in found.group(1).split(";")]
        return tuple(part.groups() for part in parts if part)

    @property
    def records_of(self) -> tuple[tuple[str, str], ...] | None:
        """The (table, expression) of each part of a `-- records of: int_identity_records;
        record_tags by 'card:' || record_key; ...` line: see the module docstring. None
        without one."""
        found = re.search(r"^-- records of: int_identity_records((?:; .+)?)$", self.sql,
                          re.MULTILINE)
        if not found:
            return None
        parts = [re.fullmatch(r"([a-z_]+) by (.+)", part.strip())
                 for part in found.group(1).split(";") if part.strip()]
        return tuple(part.groups() for part in parts if part)

    @property
    def moves_people(self) -> bool:
        """A `-- moves the people of: email` line: see the module docstring."""
        return "\n-- moves the people of: email\n" in "\n" + self.sql

    @property
    def record_kinds(self) -> tuple[str, ...] | None:
        """The kinds of records whose person the model looks up (`-- person_ids of: email
        chat`), or None when it may look up any."""
        found = re.search(r"^-- person_ids of: ([a-z ]+)$", self.sql, re.MULTILINE)
        return tuple(sorted(found.group(1).split())) if found else None

    @cached_property
    def words(self) -> frozenset[str]:
        """The names the SQL mentions outside comments (models, tables, columns); read for
        every pair of models as they are ordered, so found once."""
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
            names = _build(con, models if models is not None else discover(), force,
                           on_step or (lambda name: None))
            settle_storage(con)
            return names
    except duckdb.OutOfMemoryException as exc:
        raise WarehouseOutOfMemory(str(exc), building=True) from exc


def _build(con: duckdb.DuckDBPyConnection, models: list[Model], force: bool,
           on_step: Callable[[str], None]) -> list[str]:
    from kith.transforms.identity.store import is_current, resolve_people
    from kith.transforms.organisations import resolve_organisations
    from kith.transforms.relationships import snapshot_tiers

    con.execute("begin transaction")
    try:
        tables = {row[0] for row in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database()"
        ).fetchall()}
        clock = build_clock()
        _create_views(con, models, tables, clock)
        fingerprints = _Fingerprints(con, models, tables, force, clock)
        fingerprints.keys_before()
        # Staging tables read only what was loaded; identity resolution reads them and the
        # tables under int_identity_records, and the rest read the people it resolves.
        before = _upstream(models, "int_identity_records")
        staging = [m for m in models if m.layer == "staging" or m.name in before]
        fingerprints.make_tables(staging, on_step)
        on_step("people")
        if force or not is_current(con):
            # identity resolution reads all of it, and the models after it the records of
            # the people it moved
            fingerprints.keep("int_identity_records")
        with fingerprints.people_moved() as moved:
            moved.resolved = resolve_people(con, force=force)
        on_step("organisations")
        # what organisation resolution reads, computed before it
        employers = [m for m in models if m.name == "int_person_employers"]
        fingerprints.make_tables(employers, on_step)
        resolve_organisations(con)
        fingerprints.tables_written()
        fingerprints.make_tables([m for m in models if m not in staging + employers], on_step)
        on_step("tier changes")
        fingerprints.snapshot(snapshot_tiers)
        fingerprints.close()
        # the views left for `kith sql` read the clock as they are queried
        _create_views(con, models, fingerprints.tables, None)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return [model.name for model in models]


def _create_views(con: duckdb.DuckDBPyConnection, models: list[Model], tables: set[str],
                  clock: datetime | None) -> None:
    """Create every model that is not a table yet as a view, reading `clock` as now()."""
    for model in models:
        # a table model stands as a view the first time, so that the models reading it bind
        if not (model.is_table and model.name in tables):
            con.execute(f"create or replace view {model.name} as\n{_at(model.sql, clock)}")
            if model.grain:
                con.execute(f"comment on view {model.name} is {sql_text(model.grain)}")


def _at(sql: str, clock: datetime | None) -> str:
    """The SQL reading `clock` where it reads now() (unchanged for None)."""
    if clock is None:
        return sql
    return re.sub(r"\bnow\(\)", f"'{clock.isoformat()}'::timestamptz", sql, flags=re.IGNORECASE)


class _Fingerprints:
    """Which table models to compute again in one build, and how (see the module docstring)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, models: list[Model], tables: set[str],
                 force: bool, clock: datetime):
        self.con, self.force, self.tables, self.clock = con, force, tables, clock
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
        self.stored, self.clocks = {}, {}
        for name, stamp, built_at in con.execute(
                "select model, fingerprint, built_at from model_builds").fetchall():
            self.stored[name], self.clocks[name] = stamp, built_at
        self.built: dict[str, str] = {}
        self._stamps: dict[str, tuple] = {}
        self.people_known = False      # _kith_people_moved holds every person whose records moved
        self.kept: set[str] = set()    # views computed once for this build (is_kept_for_build)
        self.before: set[str] = set()   # the tables of keys_before
        self._touched_for: dict[tuple[str, str | None], str | None] = {}
        self.how: dict[str, str] = {}  # how each table model computed in this build was
        # _kith_records_changed holds every record whose int_identity_records row changed
        self.records_known = False
        self.per_record: set[str] = set()   # the tables of _people_to_compute, _people_moved_of
        # the tables of people whose records moved (of some kinds: _people_moved_of)
        self.moved: set[str] = {"_kith_people_moved"}
        self._counts: dict[tuple[str, str], int] = {}   # see _count

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
            elif self.sources.get(table):
                sql = f'select count(*), max(load_id) from "{table}"'
            else:
                sql = f'select count(*), bit_xor(hash(t)) from "{table}" as t'
            self._stamps[(table, kinds)] = self.con.execute(sql).fetchone()
        return self._stamps[(table, kinds)]

    def _inputs(self, model: Model, opaque: frozenset[str] = frozenset()
                ) -> tuple[set[str], set[str], bool]:
        """The warehouse tables a model reads, directly or through views (but not through
        those named in `opaque`); the table models it reads; whether it (or a view under it)
        reads the clock."""
        tables, upstream = set(), set()
        clock = bool(_CLOCK.search(_strip_comments(model.sql)))
        for word in model.words:
            if word in opaque:
                continue
            if word in self.sources:
                tables.add(word)
            elif word in self.models and word != model.name:
                other = self.models[word]
                if other.is_table:
                    upstream.add(word)
                else:
                    more_tables, more_upstream, more_clock = self._inputs(other, opaque)
                    tables |= more_tables
                    upstream |= more_upstream
                    clock = clock or more_clock
        return tables, upstream, clock

    def _reads_messages(self, model: Model) -> bool:
        tables, upstream, _ = self._inputs(model)
        return "raw_messages" in tables or any(self._reads_messages(self.models[m])
                                               for m in upstream)

    def fingerprint(self, model: Model) -> tuple[str, str, str, str]:
        """What the model reads: a hash of everything but identity resolution's tables (and
        the models that move people) and the messages; a hash of those; the row count and
        latest load id of raw_messages ('n/load_id', in clear: a later build reads which
        messages were added since), or '' when the model does not read mail; and for a model
        with a `-- records of:` line, the row count and latest load id of each table it names
        ('table=n/load_id,...', in clear likewise; what it reads through int_identity_records
        alone counts with identity resolution, by identity_record_facts)."""
        records_of = model.records_of
        opaque = frozenset({"int_identity_records"}) if records_of is not None else frozenset()
        tables, upstream, clock = self._inputs(model, opaque)
        day = self.clock.strftime("%Y-%m-%d") if clock and model.clock_rows is None else ""
        moving = {m for m in upstream if self.models[m].moves_people}
        by_record = {table for table, _ in records_of or ()}
        # a model computed again by key: what it reads per person or per key counts with
        # identity resolution
        loose = self._loose(model, upstream)
        other = (model.sql, day,
                 [(t, self._stamp(t)) for t in sorted(tables - IDENTITY_TABLES - by_record
                                                      - loose - {"raw_messages"})],
                 [(m, _without_messages(self.built.get(m, self.stored.get(m))))
                  for m in sorted(upstream - moving - loose)])
        identity = [(t, self._stamp(t, model.record_kinds if t == "person_ids" else None))
                    for t in sorted(tables & IDENTITY_TABLES)]
        identity += [(m, self._stamp(m)) for m in sorted(moving)]
        identity += [(t, self._stamp(t)) for t in sorted(tables & loose)]
        identity += [(m, self.built.get(m, self.stored.get(m))) for m in sorted(upstream & loose)]
        if records_of is not None:
            identity += [("identity_record_facts", self._stamp("identity_record_facts"))]
        messages = ("/".join(map(str, self._stamp("raw_messages")))
                    if self._reads_messages(model) else "")
        records = ",".join(f"{t}={'/'.join(map(str, self._stamp(t)))}" for t in sorted(by_record))
        return _hash(other), _hash(identity), messages, records

    def _loose(self, model: Model, upstream: set[str]) -> set[str]:
        """For a model computed again by key (KEYED_BY_PEOPLE): the tables naming its keys and
        the table models it reads that are kept per person; for a per-person view kept for the
        build (`relationships`), those table models; else none."""
        per_person = {m for m in upstream if self.models[m].is_per_person}
        keyed = KEYED_BY_PEOPLE.get(model.name)
        if keyed is not None:
            return set(keyed.tables) | per_person
        return per_person if model.is_kept_for_build and model.is_per_person else set()

    def make_tables(self, models: list[Model], on_step: Callable[[str], None]) -> None:
        for model in models:
            if model.is_table:
                self._make(model, on_step)

    def _keep_views_under(self, model: Model) -> None:
        for word in sorted(model.words & self.models.keys() - {model.name}):
            other = self.models[word]
            if not other.is_table:
                self._keep_views_under(other)
                self.keep(word)

    def keep(self, name: str) -> None:
        """Compute a view marked `-- materialized: for the build` once for this build.
        `relationships` is computed only for the people whose rows may have changed
        (_kith_people_changed) when the rows the last build computed (RELATIONSHIPS_AS_BUILT)
        hold for everyone else."""
        model = self.models[name]
        if not model.is_kept_for_build or name in self.kept:
            return
        if name == "relationships" and self._relationships_as_built():
            # a per-person view's rows for a person come from that person's rows alone
            shadows = ",\n".join(
                f"{table} as (select * from main.{table} where person_id in "
                f"(select person_id from _kith_people_changed))"
                for table in sorted(self._with_people(model)))
            self.con.execute(f"""
                create temp table {name} as
                select * from main.{RELATIONSHIPS_AS_BUILT}
                where person_id not in (select person_id from _kith_people_changed)
                union all by name
                select * from (with {shadows}
                               select * from (\n{_at(model.sql, self.clock)}\n))""")
        else:
            self.con.execute(f"create temp table {name} as select * from {name}")
        self.kept.add(name)

    def _with_people(self, model: Model) -> set[str]:
        """The tables and views a model reads that have a person_id column."""
        return {row[0] for row in self.con.execute("""
            select distinct table_name from duckdb_columns()
            where database_name = current_database() and schema_name = 'main'
                and column_name = 'person_id' and list_contains(?, table_name)
        """, [sorted(model.words)]).fetchall()}

    def keys_before(self) -> None:
        """Before anything is computed: of each warehouse table naming the keys of a model
        computed again by key (KEYED_BY_PEOPLE), each key's rows as they stand (a count and a
        hash). A table model's are kept as it is about to be computed (`keys_before_computing`):
        one a build leaves as it was changed no key's rows."""
        if self.force:
            return
        for name, keyed in KEYED_BY_PEOPLE.items():
            for table, expression in keyed.tables.items():
                if table in self.sources:
                    self._keep_key_rows(name, table, expression)

    def keys_before_computing(self, model: Model) -> None:
        """Just before a table model is computed: its key rows for each model computed again by
        key that lists it (see keys_before)."""
        if self.force:
            return
        for name, keyed in KEYED_BY_PEOPLE.items():
            if model.name in keyed.tables and model.name in self.tables:
                self._keep_key_rows(name, model.name, keyed.tables[model.name])

    def _keep_key_rows(self, name: str, table: str, expression: str) -> None:
        before = _keys_before(name, table)
        if name in self.tables and name in self.stored and before not in self.before:
            self.con.execute(f"create temp table {before} as {_key_rows(table, expression)}")
            self.before.add(before)

    def _by_keys(self, model: Model) -> bool:
        """Whether a model computed again by key can be now: the keys' rows as they stood
        before the build are known, and so is whose rows kept per person changed (their
        table models computed for some people or messages, or not at all)."""
        keyed = KEYED_BY_PEOPLE.get(model.name)
        if keyed is None or self.force or not self.people_known:
            return False
        if any(_keys_before(model.name, table) not in self.before
               for table in keyed.tables if table in self.sources):
            return False
        upstream = self._inputs(model)[1]
        return all(self.how.get(m) != "full" for m in upstream if self.models[m].is_per_person)

    def _make_for_keys(self, model: Model) -> None:
        """Compute the model again for the keys whose rows may have changed: those the
        people whose rows changed (_kith_people_changed; for a model whose keys read only
        person_ids, those whose records moved) belong to, and those whose rows
        changed in the tables naming keys; and the rows naming one of those people in the
        `also` column."""
        keyed = KEYED_BY_PEOPLE[model.name]
        people = (self._people_moved_of(model.record_kinds) if keyed.only_moved
                  else "_kith_people_changed")
        keys = f"_kith_keys_of_{model.name}"
        pairs = f"({keyed.people}) as pairs(key, person_id)"
        # (a table model with no key rows kept was not computed in this build)
        changed = "".join(f"""
            union select coalesce(b.key, a.key)
            from {_keys_before(model.name, table)} as b
            full join ({_key_rows(table, expression)}) as a on a.key is not distinct from b.key
            where a.n is distinct from b.n or a.row_hash is distinct from b.row_hash"""
                          for table, expression in keyed.tables.items()
                          if _keys_before(model.name, table) in self.before)
        self.con.execute(f"""
            create or replace temp table {keys} as
            select key from {pairs}
            where person_id in (select person_id from {people})
            {changed}""")
        self._keep_views_under(model)
        rows = f"{keyed.key} in (select key from {keys})" + (
            f" or {keyed.also} in (select person_id from _kith_people_changed)"
            if keyed.also else "")
        old = f"(select * from {model.name} where {rows})"
        named = (f"(select key from {keys} union select person_id from _kith_people_changed)"
                 if keyed.also else f"(select key from {keys})")
        shadows = ",\n".join(f"{table} as (select * from main.{table} as t where "
                              f"{_naming(keyed.tables[table], named)})" for table in keyed.cut)
        sql = _at(model.sql, self.clock)
        sql = f"with {shadows}\nselect * from (\n{sql}\n)" if shadows else sql
        self.con.execute(f"""
            create or replace temp table _kith_rows_new as
            select * from (\n{sql}\n)
            where {rows}""")
        # Only the rows that differ are written: most rows of a key are as they were (the
        # paths to someone through the people who did not change), and writing them all
        # again costs more than finding them.
        self.con.execute(f"create or replace temp table _kith_rows_gone as "
                         f"select * from {old} except all select * from _kith_rows_new")
        columns = [row[0] for row in self.con.execute(
            "select column_name from duckdb_columns() where table_name = ? "
            "and database_name = current_database() and schema_name = 'main' "
            "order by column_index", [model.name]).fetchall()]
        same = " and ".join(f't."{c}" is not distinct from g."{c}"' for c in columns)
        self.con.execute(f"""
            delete from {model.name} where rowid in (
                select t.rowid from {model.name} as t join _kith_rows_gone as g on {same})""")
        self.con.execute(f"""
            insert into {model.name} by name
            select * from _kith_rows_new except all select * from {old}""")
        self.con.execute(f"drop table {keys}")
        self.con.execute("drop table _kith_rows_new")
        self.con.execute("drop table _kith_rows_gone")

    def _make(self, model: Model, on_step: Callable[[str], None]) -> None:
        other, identity, messages, records = self.fingerprint(model)
        stamp = ":".join([other, identity, messages] + ([records] if records else []))
        last = self.stored.get(model.name)
        exists = model.name in self.tables
        # (a fingerprint stored before messages had a part of their own has two)
        last_other, last_identity, last_messages, last_records = \
            (last.split(":") + ["", "", ""])[:4] if last else ("", "", "", "")
        # the rows the clock moved in or out of the model since its last build: none, the
        # messages of `timed` (a select of message keys), or others (`clock_moved`)
        clock_moved, timed = (self._clock_moved(model) if exists and not self.force
                              and last is not None else (False, None))
        unchanged = (exists and not self.force and last is not None and not clock_moved
                     and timed is None
                     and (last_other, last_identity, last_messages, last_records)
                     == (other, identity, messages, records))
        # what changed since the last build can be computed again for the messages added (or
        # moved by the clock) or the people moved alone
        new_messages = messages != last_messages or timed is not None
        by_messages = (exists and not self.force and new_messages
                       and model.message_column is not None
                       and self._touched(last_messages, timed) is not None)
        people_moved = identity != last_identity or records != last_records
        people = (self._people_to_compute(model, last_records)
                  if people_moved and model.is_per_person and self.people_known else None)
        by_people = people is not None
        how = None
        if not unchanged:
            # a model computed again by key that reads this one finds the keys it changed
            self.keys_before_computing(model)
        if unchanged:
            pass
        elif (exists and not self.force and last_other == other and not clock_moved
              and self._by_keys(model)):
            on_step(model.name)
            how = "keys"
            self._make_for_keys(model)
        elif (exists and not self.force and last_other == other and not clock_moved
              and (not new_messages or by_messages)
              and (not people_moved or by_people)):
            on_step(model.name)
            self._keep_views_under(model)
            how = "+".join((["messages"] if new_messages else [])
                           + (["people"] if people_moved else []))
            if new_messages:
                self._make_for_messages(model, self._touched(last_messages, timed))
            if people_moved:
                self._make_for_people(model, people)
        else:
            on_step(model.name)
            self._keep_views_under(model)
            how = "full"
            before = self._rows_before(model) if model.moves_people else None
            if not exists:
                self.con.execute(f"drop view {model.name}")
            self.con.execute(f"create or replace table {model.name} as\n"
                             f"{_at(model.sql, self.clock)}")
            if model.grain:
                self.con.execute(f"comment on table {model.name} is {sql_text(model.grain)}")
            self.tables.add(model.name)
            if model.moves_people:
                self._people_of_rows_changed(model, before)
        if how is not None:
            self.how[model.name] = how
            self._counts = {k: n for k, n in self._counts.items() if k[0] != model.name}
            self._stamps.pop((model.name, None), None)
            self.con.execute("""
                insert or replace into model_builds values (?, ?, ?, ?)
            """, [model.name, stamp, self.clock, how])
        self.built[model.name] = stamp

    def _clock_moved(self, model: Model) -> tuple[bool, str | None]:
        """For a model that reads the clock by a `-- the clock decides:` line: whether rows
        without a key lie between the clock of its last build and this build's (by the line's
        expressions), and a select of the keys of those with one (None when none do; in a
        model not incremental by messages, every row counts as one without a key)."""
        since = self.clocks.get(model.name)
        if (model.clock_rows is None or since is None or since == self.clock
                or not self._inputs(model)[2]):
            return False, None
        low, high = sorted([since, self.clock])
        moved, timed = False, []
        for relation, key, expression in model.clock_rows:
            between = _between(expression, low, high)
            found = self._count(relation, between)
            if not found:
                continue
            if key and model.message_column is not None:
                timed.append(f"select {key} from {relation} where {between}")
            else:
                moved = True
        return moved, " union ".join(timed) or None

    def _count(self, relation: str, where: str) -> int:
        """The rows of `relation` that `where` selects. Counted once per build for a table
        model (until it is computed again) and for a view over the loaded tables alone (no
        table model, nothing identity resolution writes): several models ask the clock of
        the same costly relation."""
        query = f"select count(*) from {relation} where {where}"
        model = self.models.get(relation)
        if model is None:
            return self.con.execute(query).fetchone()[0]
        tables, upstream, _ = self._inputs(model)
        if not model.is_table and (upstream or tables & IDENTITY_TABLES):
            return self.con.execute(query).fetchone()[0]
        if (relation, query) not in self._counts:
            self._counts[(relation, query)] = self.con.execute(query).fetchone()[0]
        return self._counts[(relation, query)]

    def _rows_before(self, model: Model) -> str | None:
        """Keep the model's rows (a model that moves people) before it is computed again."""
        if self.force or model.name not in self.tables or not self.people_known:
            return None
        self.con.execute(f"create or replace temp table _kith_rows_before as "
                         f"select * from {model.name}")
        return "_kith_rows_before"

    def _people_of_rows_changed(self, model: Model, before: str | None) -> None:
        """The people of the addresses whose rows a model that moves people gained or lost
        count as moved; without its rows before, who moved is not known."""
        if before is None:
            self.people_known = False
            return
        self.con.execute(f"""
            insert into _kith_ids_moved
            select record_key, person_id from person_ids
            where record_key in (
                select 'email:' || email from (
                    (select * from {model.name} except select * from {before})
                    union all
                    (select * from {before} except select * from {model.name})))
        """)
        self.con.execute("""
            insert into _kith_people_moved
            select distinct person_id from _kith_ids_moved
            where person_id not in (select person_id from _kith_people_moved)
        """)
        self.con.execute(f"drop table {before}")

    def _touched(self, last_messages: str, timed: str | None = None) -> str | None:
        """The name of a temporary table of the messages a model that is incremental by
        messages computes again after raw_messages grew from `last_messages` ('n/load_id'):
        the messages added and those `timed` selects (moved by the clock), those that answer
        one of them (In-Reply-To, References) and those whose thread one heads
        (stg_mail__messages.thread_id, as it stood). None when raw_messages did not only grow
        (rows removed or changed), or grew by more than a quarter (computing everything is
        then as quick)."""
        if (last_messages, timed) not in self._touched_for:
            self._touched_for[(last_messages, timed)] = self._find_touched(last_messages, timed)
        return self._touched_for[(last_messages, timed)]

    def _find_touched(self, last_messages: str, timed: str | None) -> str | None:
        n_before, _, load_before = last_messages.partition("/")
        if not n_before.isdigit() or not load_before.isdigit() or int(n_before) == 0:
            return None
        n_before, load_before = int(n_before), int(load_before)
        n_kept, n_now = self.con.execute("""
            select count(*) filter (where load_id <= $1), count(*) from raw_messages
        """, [load_before]).fetchone()
        if n_kept != n_before or n_now - n_before > n_before / 4:
            return None
        name = f"_kith_messages_touched_{len(self._touched_for)}"
        threads = ("union select message_key from stg_mail__messages "
                   "where thread_id in (select message_key from added)"
                   if "stg_mail__messages" in self.tables else "")
        self.con.execute(f"""
            create temp table {name} as
            with added as (
                select record_key as message_key from raw_messages where load_id > $1
                {f"union {timed}" if timed else ""}
            ),
            answers as (
                select record_key, 'mid:' || in_reply_to as parent_key
                from raw_messages
                where load_id <= $1 and in_reply_to is not null
                union all
                select record_key, 'mid:' || unnest(reference_ids)
                from raw_messages
                where load_id <= $1
            )
            select message_key from added
            union select record_key from answers
            where parent_key in (select message_key from added)
            {threads}
        """, [load_before])
        # and the messages they answer, and those answer, up to their threads' roots: what
        # the rows of a message are computed from (its thread, the message it answers). Each
        # step reads the headers of the messages found in the last one only, and `union` ends
        # the walk when a step finds none not found before, loops of References included (a
        # depth counted in the rows kept a loop going for 100 steps, each reading all mail:
        # 13 s of a 200-message import into a 1M-message warehouse, now 1 s).
        self.con.execute(f"""
            create temp table {name}_near as
            with recursive near(message_key) as (
                select message_key from {name}
                union
                select 'mid:' || p.parent_id
                from near
                join raw_messages as m on m.record_key = near.message_key,
                    unnest(list_append(m.reference_ids, m.in_reply_to)) as p(parent_id)
                where p.parent_id is not null
            )
            select message_key from near
        """)
        return name

    def _make_for_messages(self, model: Model, touched: str) -> None:
        """Compute the model again for the messages `touched` (see _touched): the rows whose
        message column names one are replaced by what the model gives for them when it sees
        no messages but those and the ones they answer, up to their threads' roots (the mail
        tables, keyed by message, read only theirs)."""
        near = f"(select message_key from {touched}_near)"
        column = model.message_column
        shadows = ",\n".join(f"{table} as (select * from main.{table} where {key} in {near})"
                              for table, key in MAIL_TABLES.items()
                              if table != model.name and table in model.words)
        sql = _at(model.sql, self.clock)
        sql = f"with {shadows}\nselect * from (\n{sql}\n)" if shadows else sql
        touched = f"(select message_key from {touched})"
        # whose rows change, for the tier snapshot
        people = (f"insert into _kith_people_touched select distinct person_id "
                  f"from {model.name} where {column} in {touched}")
        has_people = self.con.execute(
            "select count(*) from duckdb_columns() where table_name = ? "
            "and column_name = 'person_id' and database_name = current_database()",
            [model.name]).fetchone()[0]
        if has_people:
            self.con.execute(people)
        self.con.execute(f"delete from {model.name} where {column} in {touched}")
        self.con.execute(f"insert into {model.name} by name select * from (\n{sql}\n) "
                         f"where {column} in {touched}")
        if has_people:
            self.con.execute(people)

    def _relationships_stamp(self) -> tuple[str, bool]:
        """The fingerprint of `relationships`, and whether only the rows of the people whose
        rows may have changed (_kith_people_changed) differ from the last tier snapshot's."""
        relationships = self.models["relationships"]
        other, identity, messages, _ = self.fingerprint(relationships)
        last = self.stored.get("tier_snapshots")
        # a table it reads computed in full for new mail: whose rows changed is not known
        unknown = any(self.how.get(m) == "full" for m in self._inputs(relationships)[1])
        known = (not self.force and last is not None and last.split(":")[0] == other
                 and self.people_known and not unknown)
        return f"{other}:{identity}:{messages}", known

    def _relationships_as_built(self) -> bool:
        """Whether RELATIONSHIPS_AS_BUILT holds the rows of the last tier snapshot, and only
        the people whose rows may have changed differ from them."""
        _, known = self._relationships_stamp()
        return (known and RELATIONSHIPS_AS_BUILT in self.tables
                and self.stored.get(RELATIONSHIPS_AS_BUILT) == self.stored.get("tier_snapshots"))

    def snapshot(self, snapshot_tiers: Callable[..., int]) -> None:
        """Snapshot the tiers (transforms.relationships) of everyone, of the people whose
        records moved, or of no one, as `relationships` would have changed (its fingerprint is
        kept as tier_snapshots'), and keep the rows of `relationships` as computed
        (RELATIONSHIPS_AS_BUILT, under the same fingerprint)."""
        stamp, known = self._relationships_stamp()
        if not known:
            self.keep("relationships")
            snapshot_tiers(self.con)
            how = "full"
        elif self.stored.get("tier_snapshots") != stamp:
            self.keep("relationships")
            snapshot_tiers(self.con, among="_kith_people_changed")
            how = "people"
        else:
            return
        if how == "people" and self._relationships_as_built():
            self.con.execute(f"""
                delete from main.{RELATIONSHIPS_AS_BUILT}
                where person_id in (select person_id from _kith_people_changed)""")
            self.con.execute(f"""
                insert into main.{RELATIONSHIPS_AS_BUILT}
                select * from temp.relationships
                where person_id in (select person_id from _kith_people_changed)""")
        else:
            self.con.execute(f"create or replace table main.{RELATIONSHIPS_AS_BUILT} as "
                             "select * from temp.relationships")
        for name in ("tier_snapshots", RELATIONSHIPS_AS_BUILT):
            self.con.execute("insert or replace into model_builds values (?, ?, ?, ?)",
                             [name, stamp, self.clock, how])

    def _people_to_compute(self, model: Model, last_records: str) -> str | None:
        """The name of a table of the people whose rows of a per-person model are computed
        again: those whose records moved (_kith_people_moved; for a model with a `-- person_ids
        of:` line, those whose records of those kinds moved), and for a model with a
        `-- records of:` line, the people of the records whose int_identity_records row
        changed (identity resolution's _kith_records_changed) or that rows loaded into its
        tables since its last build name. None when that is not known (the tables did not
        only grow since, or identity resolution grouped everyone again)."""
        if model.records_of is None:
            return self._people_moved_of(model.record_kinds)
        if not self.records_known:
            return None
        cursors = dict(part.split("=", 1) for part in last_records.split(",") if "=" in part)
        loaded = []
        for table, expression in model.records_of:
            n_before, _, load_before = cursors.get(table, "").partition("/")
            if not n_before.isdigit():
                return None
            # ('None' when the table was empty)
            load_before = int(load_before) if load_before.isdigit() else 0
            n_kept = self.con.execute(f"select count(*) from {table} where load_id <= ?",
                                      [load_before]).fetchone()[0]
            if n_kept != int(n_before):
                return None
            loaded.append(f"select {expression} from {table} where load_id > {load_before}")
        name = f"_kith_people_of_{model.name}"
        self.con.execute(f"""
            create or replace temp table {name} as
            select person_id from _kith_people_moved
            union
            select person_id from person_ids where record_key in (
                select record_key from _kith_records_changed
                {''.join(f' union {select}' for select in loaded)})
        """)
        self.per_record.add(name)
        return name

    def _people_moved_of(self, kinds: tuple[str, ...] | None) -> str:
        """The name of a table of the people whose records of these kinds (None: any) moved: a
        model that looks up the person of addresses alone is as it was for a person who
        gained a card."""
        if kinds is None:
            return "_kith_people_moved"
        name = "_kith_people_moved_of_" + "_".join(kinds)
        # (again each time: a model that moves people adds to _kith_ids_moved)
        self.con.execute(f"create or replace temp table {name} as select distinct person_id "
                         f"from _kith_ids_moved where {_kinds_filter(kinds)}")
        self.per_record.add(name)
        self.moved.add(name)
        return name

    def _make_for_people(self, model: Model, people: str) -> None:
        """Compute the model again for the people in the table `people` only: their rows are
        replaced by what the model gives when it sees no one else's person_ids rows."""
        sql = re.sub(r"\bperson_ids\b", "_kith_moved_person_ids",
                     _at(model.sql, self.clock))
        kinds = f" and {_kinds_filter(model.record_kinds)}" if model.record_kinds else ""
        self.con.execute(f"""
            create or replace temp view _kith_moved_person_ids as
            select * from person_ids
            where person_id in (select person_id from {people}){kinds}
        """)
        if people not in self.moved:
            # people whose records did not move but whose rows change, for the tier snapshot
            self.con.execute(f"insert into _kith_people_touched select person_id from {people}")
        self.con.execute(f"delete from {model.name} "
                         f"where person_id in (select person_id from {people})")
        self.con.execute(f"insert into {model.name} by name select * from (\n{sql}\n) "
                         f"where person_id in (select person_id from {people})")

    @contextmanager
    def people_moved(self):
        """Around identity resolution: afterwards _kith_ids_moved holds each record's person_ids
        row that changed (old and new) and _kith_people_moved every person who gained, lost or
        changed records (old ids and new), unless the owner's person changed
        (then every per-person model is computed in full)."""
        owner = "select owner_person_id from identity_builds order by build_id desc limit 1"
        self.con.execute("create or replace temp table _kith_ids_before as "
                         "select record_key, person_id from person_ids")
        owner_before = self.con.execute(owner).fetchone()
        self.con.execute("drop table if exists _kith_records_changed")
        self.resolved = True
        yield self
        self.tables_written()
        # identity resolution grouping only the records an import touched leaves those whose
        # row changed in _kith_records_changed; not resolving at all changed none
        if not self.resolved:
            self.con.execute("create temp table _kith_records_changed (record_key varchar)")
        self.records_known = self.con.execute(
            "select count(*) from duckdb_tables() where table_name = '_kith_records_changed'"
            " and temporary").fetchone()[0] > 0
        self.con.execute("""
            create or replace temp table _kith_ids_moved as
            (select record_key, person_id from person_ids
             except select * from _kith_ids_before)
            union all
            (select * from _kith_ids_before
             except select record_key, person_id from person_ids)
        """)
        self.con.execute("create or replace temp table _kith_people_moved as "
                         "select distinct person_id from _kith_ids_moved")
        self.con.execute("drop table _kith_ids_before")
        self.con.execute("create or replace temp table _kith_people_touched "
                         "(person_id bigint)")
        # whose rows of what is kept per person may have changed
        self.con.execute("create or replace temp view _kith_people_changed as "
                         "select person_id from _kith_people_moved "
                         "union select person_id from _kith_people_touched")
        self.people_known = self.con.execute(owner).fetchone() == owner_before

    def close(self) -> None:
        for name in self.kept | self.before:
            self.con.execute(f"drop table temp.{name}")
        for name in filter(None, self._touched_for.values()):
            self.con.execute(f"drop table {name}")
            self.con.execute(f"drop table {name}_near")
        self.con.execute("drop view if exists _kith_moved_person_ids")
        self.con.execute("drop view if exists _kith_people_changed")
        self.con.execute("drop table if exists _kith_people_touched")
        for name in self.per_record:
            self.con.execute(f"drop table {name}")
        self.con.execute("drop table if exists _kith_records_changed")
        self.con.execute("drop table if exists _kith_people_moved")
        self.con.execute("drop table if exists _kith_ids_moved")


def build_clock() -> datetime:
    """The instant a build's models read as now(), all of them the same (model_builds.built_at
    keeps it)."""
    return datetime.now(timezone.utc)


def _kinds_filter(kinds: tuple[str, ...]) -> str:
    return "(" + " or ".join(f"starts_with(record_key, '{kind}:')" for kind in kinds) + ")"


def _without_messages(stamp: str | None) -> str | None:
    """A model's stamp without its messages and records parts: a model reading it reads
    raw_messages too, and has that part of its own; its records' changes are its own rows'."""
    return ":".join(stamp.split(":")[:2]) if stamp else stamp


def _between(expression: str, low: datetime, high: datetime) -> str:
    """A condition: `expression` lies after `low`, up to `high`. `column - interval ...` is
    compared as the models compare it (`column <= now() + interval ...`), with the interval
    added to the bounds: reckoning every row's column with an interval costs seconds."""
    offset = re.fullmatch(r"([a-z_]+) - (interval [^;]+)", expression.strip())
    if offset:
        column, interval = offset.groups()
        return (f"{column} > '{low.isoformat()}'::timestamptz + {interval} "
                f"and {column} <= '{high.isoformat()}'::timestamptz + {interval}")
    return (f"{expression} > '{low.isoformat()}'::timestamptz "
            f"and {expression} <= '{high.isoformat()}'::timestamptz")


def _keys_before(model: str, table: str) -> str:
    """The temporary table keeping the key rows of `table` for `model` as the build began."""
    return f"_kith_before_{model}__{table}"


def _naming(expression: str, keys: str) -> str:
    """A condition: the key a row names by `expression` is one of `keys` (a select)."""
    if re.fullmatch(r"[a-z_]+", expression):
        return f"{expression} in {keys}"
    return f"exists (select 1 from (select {expression} as key) where key in {keys})"


def _key_rows(table: str, expression: str) -> str:
    """A select of the key each row of `table` names (by `expression`), its number of rows and
    a hash of them."""
    return (f"select key, count(*) as n, sum(row_hash) as row_hash from "
            f"(select {expression} as key, hash(t) as row_hash from {table} as t) group by key")


def _hash(value) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]
