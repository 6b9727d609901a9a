"""Syncing an IMAP account into the warehouse: one load per folder, retried when the connection
drops. Plain functions; the Prefect flows call them."""

from __future__ import annotations

import logging
import os
import time
from typing import Sequence

from kith.connectors.imap import (ImapAccount, ImapConnectionError, close, connect, folder_uri,
                             list_folders, read_folder)
from kith.warehouse.connection import close_after_loads, connect as connect_warehouse
from kith.warehouse.loader import LoadResult, load_records
from kith.warehouse.state import get_cursor

log = logging.getLogger(__name__)


def sync_imap(db_path: str | os.PathLike | None, account: ImapAccount, *, retries: int = 3,
              backoff: Sequence[float] = (2, 5, 15),
              include_subject: bool = False) -> list[LoadResult]:
    """Load the new messages of every selected folder of `account`, one load (one transaction,
    with the folder's new cursor) per folder, and return the loads in folder order.

    When the connection fails (ImapConnectionError; ImapDropped is one) it is opened again and
    the folder read again, up to `retries` times per folder, waiting `backoff[i]` seconds before
    retry i (the last value repeats). The failed attempt was rolled back by the loader and left a
    `failed` row in `loads`. ImapAuthError is raised at once: the login comes before the
    warehouse is opened, so nothing is written.
    """
    session = _Session(account, retries, backoff)
    try:
        session.run(lambda imap: None, "connecting")   # a refused login raises here
        con = connect_warehouse(db_path)
        try:
            folders = session.run(lambda imap: list_folders(imap, account), "listing folders")
            results = []
            for folder in folders:
                uri = folder_uri(account, folder)
                results.append(session.run(
                    lambda imap: load_records(
                        con, "imap", uri,
                        read_folder(imap, account, folder, get_cursor(con, uri),
                                    include_subject=include_subject)),
                    f"reading {folder}"))
            return results
        finally:
            close_after_loads(con)
    finally:
        session.close()


class _Session:
    """One IMAP connection, opened again after a failure, with a retry budget per operation."""

    def __init__(self, account: ImapAccount, retries: int, backoff: Sequence[float]):
        self.account, self.retries, self.backoff = account, retries, backoff
        self.imap = None

    def run(self, operation, what: str):
        attempt = 0
        while True:
            try:
                if self.imap is None:
                    self.imap = connect(self.account)
                return operation(self.imap)
            except ImapConnectionError as exc:
                self.close()
                if attempt >= self.retries:
                    raise
                log.warning("%s; %s again (retry %d of %d)", exc,
                            what, attempt + 1, self.retries)
                _wait(self.backoff, attempt)
                attempt += 1

    def close(self) -> None:
        if self.imap is not None:
            close(self.imap)
            self.imap = None


def _wait(backoff: Sequence[float], attempt: int) -> None:
    if backoff:
        delay = backoff[min(attempt, len(backoff) - 1)]
        if delay > 0:
            time.sleep(delay)
