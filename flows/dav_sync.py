"""Syncing a CalDAV or CardDAV account: discover its collections, then one load per collection
(one transaction, with the collection's new cursor), retried when the connection fails.
Plain functions; the Prefect flows call them."""

from __future__ import annotations

import logging
import os
from typing import Callable, Iterable, Sequence

from kith.connectors.caldav import CalDavConnectionError
from kith.flows.mail_sync import _wait
from kith.warehouse.connection import close_after_loads, connect as connect_warehouse
from kith.warehouse.loader import LoadResult, load_records
from kith.warehouse.state import get_cursor

log = logging.getLogger(__name__)


def sync_collections(db_path: str | os.PathLike | None, session, *, source_kind: str,
                     discover: Callable[[], list], collection_uri: Callable[[object], str],
                     read: Callable[[object, dict | None], Iterable], retries: int,
                     backoff: Sequence[float]) -> list[LoadResult]:
    """Load every collection `discover()` finds, reading each with `read(collection, cursor)`.

    A connection failure (CalDavConnectionError, of which CardDAV's is one) is retried up to
    `retries` times per step, waiting `backoff[i]` seconds before retry i (the last value
    repeats); a failed load was rolled back and left a `failed` row in `loads`. An auth error is
    raised at once: discovery, which logs in, comes before the warehouse is opened, so nothing
    is written. The session is closed at the end.
    """
    try:
        collections = _retrying(discover, "discovering collections", retries, backoff)
        con = connect_warehouse(db_path)
        try:
            results = []
            for collection in collections:
                uri = collection_uri(collection)
                results.append(_retrying(
                    lambda: load_records(con, source_kind, uri,
                                         read(collection, get_cursor(con, uri))),
                    f"reading {uri}", retries, backoff))
            return results
        finally:
            close_after_loads(con)
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
