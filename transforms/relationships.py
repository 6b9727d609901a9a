"""Relationship settings and tier snapshots: the stored state beside the relationship views.

The views in `transforms/marts/` (`interactions`, `relationships`, `network`...) compute
everything at query time from the interactions; they read their thresholds and weights from the
one-row table `relationship_settings`. `apply_settings` writes that row (from kith.toml's
`[transforms]`), and `snapshot_tiers`, run after each build, records whose tier changed, so that
`tier_changes` can say "3 people moved to cooling".
"""

from __future__ import annotations

import duckdb

# name -> (type, default, what it means). The defaults are migrations 7's and 11's.
SETTINGS: dict[str, tuple[type, float, str]] = {
    "half_life_days": (float, 90, "an interaction counts half as much to strength after this "
                                  "many days"),
    "active_days": (int, 90, "two-way contact within this many days is active"),
    "cooling_days": (int, 365, "last two-way contact within this many days (but not within "
                               "active_days) is cooling; older is dormant"),
    "inner_circle_min_strength": (float, 80, "an active relationship this strong (0-100)..."),
    "inner_circle_min_months": (int, 9, "...with contact in this many of the last 12 months "
                                        "is inner circle"),
    "small_group_max_people": (int, 8, "an e-mail, message or meeting with at most this many "
                                       "people (you included) is small-group contact"),
    "intensity_scale": (float, 10, "decayed weight at which intensity reaches 63% of its "
                                   "maximum"),
    "meeting_weight": (float, 2, "weight of a 1:1 meeting (a 1:1 e-mail weighs 1)"),
    "cc_weight": (float, 0.5, "factor for an e-mail where they (or you) were only copied"),
    "chat_volume_weight": (float, 0.5, "a day of chat with someone, one way, weighs 1 + this "
                                       "x ln(messages that day)"),
}
DEFAULTS = {name: kind(default) for name, (kind, default, _) in SETTINGS.items()}

# Every tier, strongest first, with what it means ({...} are settings).
TIERS: dict[str, str] = {
    "inner_circle": "two-way within {active_days} days, strength at least "
                    "{inner_circle_min_strength:g}, contact in {inner_circle_min_months}+ of the "
                    "last 12 months",
    "active": "two-way within {active_days} days",
    "cooling": "two-way before, nothing two-way for {active_days}-{cooling_days} days",
    "dormant": "two-way, but more than {cooling_days} days ago",
    "unanswered": "you wrote, they never answered",
    "inbound_only": "they wrote, you never answered",
    "list_only": "on a list (LinkedIn, cards, address book), no small-group contact",
    "seen_only": "on no list and no small-group contact: a newsletter, someone in large "
                 "meetings or other people's mail",
}


def read_settings(con: duckdb.DuckDBPyConnection) -> dict:
    """The settings the views use now, as {name: value}."""
    cursor = con.execute(f"select {', '.join(SETTINGS)} from relationship_settings")
    row = cursor.fetchone()
    return dict(zip(SETTINGS, row)) if row else dict(DEFAULTS)


def apply_settings(con: duckdb.DuckDBPyConnection, settings: dict) -> dict:
    """Store the relationship settings: the given ones, and the defaults for the rest (so the
    table always mirrors the configuration). Returns what was stored.
    Raises ValueError naming the key for an unknown key or a value that makes no sense."""
    values = validate_settings(settings)
    names = list(values)
    con.execute(f"""
        insert or replace into relationship_settings (settings_id, {', '.join(names)}, updated_at)
        values (1, {', '.join('?' for _ in names)}, now())
    """, [values[n] for n in names])
    return values


def validate_settings(settings: dict) -> dict:
    """The settings with defaults filled in; ValueError naming the key for an unknown key or a
    value that makes no sense."""
    values = dict(DEFAULTS)
    for name, value in settings.items():
        if name not in SETTINGS:
            raise ValueError(f"{name}: not a relationship setting; known: {', '.join(SETTINGS)}")
        kind = SETTINGS[name][0]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                kind is int and value != int(value)):
            raise ValueError(f"{name}: {value!r} should be a{'n integer' if kind is int else ' number'}")
        if value <= 0:
            raise ValueError(f"{name}: {value!r} should be more than 0")
        values[name] = kind(value)
    if values["cooling_days"] < values["active_days"]:
        raise ValueError(f"cooling_days ({values['cooling_days']}) should be at least "
                         f"active_days ({values['active_days']})")
    if values["inner_circle_min_strength"] > 100:
        raise ValueError("inner_circle_min_strength: strength is 0-100")
    if values["inner_circle_min_months"] > 12:
        raise ValueError("inner_circle_min_months: counted over the last 12 months")
    if values["cc_weight"] > 1:
        raise ValueError("cc_weight: being copied counts at most as much as being addressed (1)")
    return values


def snapshot_tiers(con: duckdb.DuckDBPyConnection, among: str | None = None) -> int:
    """Record the tier of every person whose tier differs from the latest snapshot (everyone,
    the first time) as a new snapshot in `tier_snapshots`; record nothing when no tier changed.
    `among` names a table of person_ids to look at only (the others known unchanged). Returns
    how many people changed tier. Runs in the caller's transaction, after the views are built."""
    only = f"where r.person_id in (select person_id from {among})" if among else ""
    rows = con.execute(f"""
        insert into tier_snapshots
        with latest as (
            select person_id, tier
            from tier_snapshots
            qualify row_number() over (partition by person_id order by snapshot_id desc) = 1
        )
        select (select coalesce(max(snapshot_id), 0) + 1 from tier_snapshots), now(),
               r.person_id, r.tier, l.tier
        from (select * from relationships as r {only}) as r
        left join latest as l on l.person_id = r.person_id
        where l.tier is distinct from r.tier
        returning person_id
    """).fetchall()
    return len(rows)


def change_mark(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Where the people and tier snapshots stand now: (highest person id, latest snapshot)."""
    return con.execute("""
        select (select coalesce(max(max_person_id), 0) from identity_builds),
               (select coalesce(max(snapshot_id), 0) from tier_snapshots)
    """).fetchone()


def changes_since(con: duckdb.DuckDBPyConnection, mark: tuple[int, int]) -> list[str]:
    """What changed in the network since `mark` (from change_mark), in words: "12 new people",
    "3 people moved to cooling". A first build, when everyone is new, says only how many."""
    max_person, snapshot = mark
    lines = []
    (new_people,) = con.execute("""
        select count(*) from people where person_id > ? and not is_owner
    """, [max_person]).fetchone()
    if new_people:
        lines.append(f"{new_people:,} new {'person' if new_people == 1 else 'people'}")
    if snapshot == 0:
        return lines
    moves = con.execute("""
        select tier, count(*) from tier_snapshots
        where snapshot_id > ? and previous_tier is not null
        group by tier order by count(*) desc, tier
    """, [snapshot]).fetchall()
    for tier, n in moves:
        lines.append(f"{n:,} {'person' if n == 1 else 'people'} moved to {tier}")
    return lines
