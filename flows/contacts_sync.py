"""Syncing a CardDAV account into the warehouse: one load per address book, retried when the
connection fails. Plain functions; the Prefect flows call them."""

from __future__ import annotations

import os
from typing import Sequence

from kith.connectors.carddav import (CardDavAccount, addressbook_uri, discover, open_session,
                                read_addressbook)
from kith.flows.dav_sync import sync_collections
from kith.warehouse.loader import LoadResult


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
    return sync_collections(
        db_path, session, source_kind="carddav", discover=lambda: discover(session, account),
        collection_uri=addressbook_uri,
        read=lambda book, cursor: read_addressbook(session, account, book, cursor,
                                                   default_region=default_region),
        retries=retries, backoff=backoff)
