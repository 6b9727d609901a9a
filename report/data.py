"""What the report shows, read from the documented views (docs/tables.md) with plain SQL.

Every number comes from a view as it stands; the report computes nothing of its own beyond
grouping rows for a chart (interactions per month, strength in bands of ten).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import duckdb

from kith.transforms.relationships import TIERS, read_settings

# Long tables stop here and say how many people they leave out: a warehouse of 50,000 people
# still gives a page a browser opens at once.
TABLE_LIMIT = 200
MONTHS = 24


def rows(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(query, params or [])
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


@dataclass
class PeopleTable:
    """Up to TABLE_LIMIT rows of a people list, and how many there are in all."""
    rows: list[dict]
    n_total: int

    @property
    def n_left_out(self) -> int:
        return self.n_total - len(self.rows)


def people_tables(con, query: str, params: list | None = None, *, group: str, order: str,
                  limit: int = TABLE_LIMIT) -> dict[str, PeopleTable]:
    """The rows of `query`, per value of its column `group`: the first `limit` of each in
    `order`, and how many there are. One query for many tables: the people views are costly."""
    found = rows(con, f"""
        select * from (
            select *, row_number() over (partition by {group} order by {order}) as row_rank,
                   count(*) over (partition by {group}) as n_total_rows
            from ({query})
        ) where row_rank <= ? order by {group}, row_rank
    """, [*(params or []), limit])
    tables: dict[str, PeopleTable] = {}
    for r in found:
        tables.setdefault(r[group], PeopleTable([], r["n_total_rows"])).rows.append(r)
    return tables


def people_table(con, query: str, params: list | None = None, *, order: str,
                 limit: int = TABLE_LIMIT) -> PeopleTable:
    return people_tables(con, f"select 1 as one_table, * from ({query})", params,
                         group="one_table", order=order, limit=limit).get(1, PeopleTable([], 0))


@dataclass
class Network:
    """Everything on the network page."""
    generated_at: datetime
    warnings: list[str]
    lists: list[dict]                  # network_summary rows, `everyone` last
    tiers: list[dict]                  # {tier, meaning, n}
    strength_bands: list[dict]         # {band, n}
    months: list[dict]                 # {month, n_sent, n_received, n_meetings}
    reconnect: PeopleTable
    sparklines: dict[int, list[int]]   # person_id -> interactions per month, oldest first
    inbound_only: PeopleTable
    unanswered: PeopleTable
    follow_ups: list[dict]             # the card-tag rows of network_summary
    not_followed_up: dict[str, PeopleTable] = field(default_factory=dict)
    tier_changes: PeopleTable | None = None
    tier_moves: list[dict] = field(default_factory=list)
    n_merge_candidates: int = 0

    @property
    def everyone(self) -> dict | None:
        return next((r for r in self.lists if r["kind"] == "everyone"), None)

    @property
    def is_empty(self) -> bool:
        return self.everyone is None


def read_network(con: duckdb.DuckDBPyConnection, limit: int = TABLE_LIMIT) -> Network:
    """The network page's content. Raises duckdb.CatalogException on a warehouse whose views
    were never built."""
    summary = rows(con, "select * from network_summary order by position, list_name")
    lists = [r for r in summary if r["kind"] != "warning"]
    everyone = next((r for r in lists if r["kind"] == "everyone"), None)
    settings = read_settings(con)
    tiers = [{"tier": t, "meaning": meaning.format(**settings),
              "n": everyone[f"n_{t}"] if everyone else 0} for t, meaning in TIERS.items()]
    follow_ups = [r for r in lists if r["list_name"].startswith("cards: ")]
    not_followed_up = people_tables(con, """
        select 'cards: ' || tag as list_name, person_id, display_name, organisation, email,
               met_on, tier
        from follow_ups where not is_followed_up
    """, group="list_name", order="display_name, person_id", limit=limit)
    waiting = people_tables(con, """
        select tier, person_id, display_name, organisation, primary_email,
               last_small_group_received_at, n_received, last_small_group_sent_at, n_sent,
               coalesce(last_small_group_received_at, last_small_group_sent_at) as last_at
        from network where tier in ('inbound_only', 'unanswered')
    """, group="tier", order="last_at desc nulls last, person_id", limit=limit)
    reconnect = people_table(con, "select * from reconnect", order="reconnect_rank",
                             limit=limit)
    # tier_changes is empty until a second snapshot; the check spares a costly people query
    n_snapshots = con.execute("select count(distinct snapshot_id) from tier_snapshots"
                              ).fetchone()[0]
    # One pass over the view for both the capped table and every move's count: a row comes
    # back when it is in the table, or when it is the first of its move.
    changed = rows(con, """
        select * from (
            select person_id, display_name, organisation, previous_tier, tier, changed_at,
                   row_number() over (order by tier, display_name, person_id) as row_rank,
                   row_number() over (partition by previous_tier, tier
                                      order by person_id) as move_rank,
                   count(*) over (partition by previous_tier, tier) as n_move,
                   count(*) over () as n_total_rows
            from tier_changes
        ) where row_rank <= ? or move_rank = 1 order by row_rank
    """, [limit]) if n_snapshots > 1 else []
    nobody = PeopleTable([], 0)
    return Network(
        generated_at=datetime.now(timezone.utc),
        warnings=[r["summary"] for r in summary if r["kind"] == "warning"],
        lists=lists,
        tiers=tiers,
        strength_bands=_strength_bands(con),
        months=_months(con),
        reconnect=reconnect,
        sparklines=_monthly_counts(con, [r["person_id"] for r in reconnect.rows]),
        inbound_only=waiting.get("inbound_only", nobody),
        unanswered=waiting.get("unanswered", nobody),
        follow_ups=follow_ups,
        not_followed_up={r["list_name"]: not_followed_up.get(r["list_name"], nobody)
                         for r in follow_ups},
        tier_changes=PeopleTable([r for r in changed if r["row_rank"] <= limit],
                                 changed[0]["n_total_rows"] if changed else 0),
        tier_moves=sorted(({"previous_tier": r["previous_tier"], "tier": r["tier"],
                            "n": r["n_move"]} for r in changed if r["move_rank"] == 1),
                          key=lambda m: (-m["n"], m["tier"], m["previous_tier"])),
        n_merge_candidates=con.execute("select count(*) from candidates_to_review"
                                       ).fetchone()[0],
    )


def _strength_bands(con) -> list[dict]:
    """People with any interaction, by strength in bands of ten (0-9 ... 90-100)."""
    found = {r["band"]: r["n"] for r in rows(con, """
        select least(floor(strength / 10), 9)::int * 10 as band, count(*) as n
        from relationships where n_interactions > 0 group by band
    """)}
    return [{"band": f"{b}-{b + 9 if b < 90 else 100}", "n": found.get(b, 0)}
            for b in range(0, 100, 10)]


# The last MONTHS full calendar months (UTC): the month under way would show as a fall.
_MONTH_SERIES = f"""
    select unnest(generate_series(
        date_trunc('month', now() at time zone 'UTC') - interval {MONTHS} month,
        date_trunc('month', now() at time zone 'UTC') - interval 1 month,
        interval 1 month)) as month
"""


def _months(con) -> list[dict]:
    """Interactions per calendar month (UTC) of the last MONTHS full months: e-mails and messages
    sent, received, and meetings, each counted once however many people were in it."""
    return rows(con, f"""
        with months as ({_MONTH_SERIES})
        select m.month::date as month,
               count(distinct i.source_key) filter (where i.direction = 'sent') as n_sent,
               count(distinct i.source_key) filter (where i.direction = 'received')
                   as n_received,
               count(distinct i.source_key) filter (where i.channel = 'meeting') as n_meetings
        from months as m
        left join interactions as i
            on date_trunc('month', i.interaction_at at time zone 'UTC') = m.month
        group by m.month order by m.month
    """)


def _monthly_counts(con, person_ids: list[int]) -> dict[int, list[int]]:
    """person_id -> their interactions in each of the last MONTHS months, oldest first."""
    if not person_ids:
        return {}
    found = rows(con, f"""
        with months as ({_MONTH_SERIES}),
        people as (select unnest(?::bigint[]) as person_id)
        select p.person_id, m.month, count(i.person_id) as n
        from people as p cross join months as m
        left join interactions as i
            on i.person_id = p.person_id
            and date_trunc('month', i.interaction_at at time zone 'UTC') = m.month
        group by all order by p.person_id, m.month
    """, [person_ids])
    counts: dict[int, list[int]] = {pid: [] for pid in person_ids}
    for r in found:
        counts[r["person_id"]].append(r["n"])
    return counts


@dataclass
class Person:
    """Everything on one person's page."""
    generated_at: datetime
    person: dict                # the `network` row (`people` for the owner)
    records: list[dict]         # int_identity_records of the person
    links: list[dict]           # person_links
    candidates: list[dict]      # candidates_to_review naming the person
    months: list[dict]          # {month, channel, n} over the whole relationship
    latest: list[dict]          # the latest interactions


def read_person(con: duckdb.DuckDBPyConnection, person_id: int, limit: int = 50) -> Person:
    person = (rows(con, "select * from network where person_id = ?", [person_id])
              or rows(con, "select * from people where person_id = ?", [person_id]))[0]
    return Person(
        generated_at=datetime.now(timezone.utc),
        person=person,
        records=rows(con, """
            select r.record_key, r.record_kind, r.source,
                   coalesce(r.full_name, concat_ws(' ', r.given_name, r.family_name)) as name,
                   r.org, r.title, list_concat(r.emails, r.phones, r.profiles) as handles
            from person_ids as ids join int_identity_records as r using (record_key)
            where ids.person_id = ? order by r.source, r.record_kind, r.record_key
        """, [person_id]),
        links=rows(con, """
            select record_a, record_b, rule, evidence, score from person_links
            where person_id = ? order by rule, record_a, record_b
        """, [person_id]),
        candidates=rows(con, """
            select case when person_a = ? then person_b else person_a end as other, score,
                   evidence
            from candidates_to_review where ? in (person_a, person_b) order by review_rank
        """, [person_id, person_id]),
        months=rows(con, """
            select date_trunc('month', interaction_at at time zone 'UTC')::date as month,
                   channel, count(*) as n
            from interactions where person_id = ? group by all order by month, channel
        """, [person_id]),
        latest=rows(con, """
            select interaction_at, channel, direction, is_reply, is_cc, n_participants
            from interactions where person_id = ? order by interaction_at desc limit ?
        """, [person_id, limit]),
    )
