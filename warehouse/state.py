"""Incremental state: where each incremental source (an IMAP folder, later CalDAV / CardDAV
collections) stopped. The loader writes it in the same transaction as the records it covers."""

from __future__ import annotations

import json

import duckdb


def get_cursor(con: duckdb.DuckDBPyConnection, source_uri: str) -> dict | None:
    """The cursor stored for `source_uri` by its last completed load, or None."""
    row = con.execute("select cursor from sync_state where source_uri = ?",
                      [source_uri]).fetchone()
    return json.loads(row[0]) if row else None
