"""Syncing a CardDAV account into the warehouse: one load per address book, retried when the
connection fails. Plain functions; the Prefect flows call them."""

from __future__ import annotations

import logging
import os
from typing import Sequence

from connectors.carddav import (CardDavAccount, addressbook_uri, discover, open_session,
                                read_addressbook)
from flows.calendar_sync import _retrying
from warehouse.connection import connect as connect_warehouse
from warehouse.loader import LoadResult, load_records
from warehouse.state import get_cursor

log = logging.getLogger(__name__)


def sync_carddav(db_path: str | os.PathLike | None, account: CardDavAccount, *, retries: int = 3,
                 backoff: Sequence[float] = (2, 5, 15),
                 default_region: str | None = None) -> list[LoadResult]:
    """Load what changed in every selected address book of `account`, one load (one
    transaction, with the address book's new cursor) per address book, source kind "carddav",
    and return the loads in address-book order.

    When the server cannot be reached or fails (CardDavConnectionError) the step is tried again,
    up to `retries` times per address book, waiting `backoff[i]` seconds before retry i (the
    last value repeats); a failed load was rolled back and left a `failed` row in `loads`.
    CardDavAuthError is raised at once: discovery, which logs in, comes before the warehouse is
    opened, so nothing is written.
    """
    session = open_session(account)
    try:
        books = _retrying(lambda: discover(session, account), "discovering address books",
                          retries, backoff)
        con = connect_warehouse(db_path)
        try:
            results = []
            for book in books:
                uri = addressbook_uri(book)
                results.append(_retrying(
                    lambda: load_records(
                        con, "carddav", uri,
                        read_addressbook(session, account, book, get_cursor(con, uri),
                                         default_region=default_region)),
                    f"reading {book.name}", retries, backoff))
            return results
        finally:
            con.close()
    finally:
        session.close()
