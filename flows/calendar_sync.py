"""Syncing a CalDAV account into the warehouse: one load per calendar, retried when the connection
fails. Plain functions; the Prefect flows call them."""

from __future__ import annotations

import os
from typing import Sequence

from kith.connectors.caldav import CalDavAccount, calendar_uri, discover, open_session, read_calendar
from kith.flows.dav_sync import sync_collections
from kith.warehouse.loader import LoadResult


def sync_caldav(db_path: str | os.PathLike | None, account: CalDavAccount, *, retries: int = 3,
                backoff: Sequence[float] = (2, 5, 15), window_end=None, owner_tz=None,
                include_summary: bool = False) -> list[LoadResult]:
    """Load what changed in every selected calendar of `account`, one load (one transaction,
    with the calendar's new cursor) per calendar, and return the loads in calendar order.

    When the server cannot be reached or fails (CalDavConnectionError) the step is tried again,
    up to `retries` times per calendar, waiting `backoff[i]` seconds before retry i (the last
    value repeats); a failed load was rolled back and left a `failed` row in `loads`.
    CalDavAuthError is raised at once: discovery, which logs in, comes before the warehouse is
    opened, so nothing is written.
    """
    session = open_session(account)
    return sync_collections(
        db_path, session, source_kind="caldav", discover=lambda: discover(session, account),
        collection_uri=calendar_uri,
        read=lambda calendar, cursor: read_calendar(
            session, account, calendar, cursor, window_end=window_end, owner_tz=owner_tz,
            include_summary=include_summary),
        retries=retries, backoff=backoff)
