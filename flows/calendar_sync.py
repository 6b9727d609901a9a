"""Syncing a CalDAV account into the warehouse: one load per calendar, retried when the connection
fails. Plain functions; the Prefect flows call them."""

from __future__ import annotations

import logging
import os
from typing import Sequence

from connectors.caldav import (CalDavAccount, CalDavConnectionError, calendar_uri, discover,
                               open_session, read_calendar)
from flows.mail_sync import _wait
from warehouse.connection import connect as connect_warehouse
from warehouse.loader import LoadResult, load_records
from warehouse.state import get_cursor

log = logging.getLogger(__name__)


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
    try:
        calendars = _retrying(lambda: discover(session, account), "discovering calendars",
                              retries, backoff)
        con = connect_warehouse(db_path)
        try:
            results = []
            for calendar in calendars:
                uri = calendar_uri(calendar)
                results.append(_retrying(
                    lambda: load_records(
                        con, "caldav", uri,
                        read_calendar(session, account, calendar, get_cursor(con, uri),
                                      window_end=window_end, owner_tz=owner_tz,
                                      include_summary=include_summary)),
                    f"reading {calendar.name}", retries, backoff))
            return results
        finally:
            con.close()
    finally:
        session.close()


def _retrying(operation, what: str, retries: int, backoff: Sequence[float]):
    attempt = 0
    while True:
        try:
            return operation()
        except CalDavConnectionError as exc:
            if attempt >= retries:
                raise
            log.warning("%s; %s again (retry %d of %d)", exc, what, attempt + 1, retries)
            _wait(backoff, attempt)
            attempt += 1
