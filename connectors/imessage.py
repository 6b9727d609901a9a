"""iMessage and SMS from a copy of macOS Messages' `chat.db` (SQLite), opened read-only.

Only the columns kith needs are selected by name, so a newer macOS with more columns reads the
same. `handle` holds the other side (a phone number or an e-mail address); `is_from_me` says the
direction; `chat_message_join` and `chat_handle_join` say which chat a message is in and who is
in it (an excerpt may lack them: a message's chat is then its handle). Dates count from
2001-01-01 UTC, in seconds before macOS 10.13 and in nanoseconds since.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from kith.emails import normalize_email
from kith.phones import normalize_phone
from kith.records import ChatMessage, Rejected

SQLITE_MAGIC = b"SQLite format 3\x00"
APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=timezone.utc)
_NEEDED = {"message": ("ROWID", "guid", "handle_id", "is_from_me", "date"),
           "handle": ("ROWID", "id")}


class NotChatDb(ValueError):
    """An SQLite file that is not a Messages chat.db kith can read."""


def looks_like_chat_db(head: bytes) -> bool:
    """An SQLite file whose schema (at its start) has Messages' tables."""
    return (head.startswith(SQLITE_MAGIC) and b"CREATE TABLE message" in head
            and b"handle" in head)


def apple_time(value) -> datetime | None:
    """An Apple epoch date in seconds or nanoseconds, as UTC; None for 0 or nonsense."""
    if not value:
        return None
    seconds = value / 1e9 if abs(value) > 1e11 else value
    try:
        return APPLE_EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return None


def _columns(con: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in con.execute(f"pragma table_info({table})")}


def read_chat_db(path: Path, *, region: str | None = None
                 ) -> Iterator[ChatMessage | Rejected]:
    """Yield one ChatMessage per row of `message`, a Rejected per row without a date.
    Raises NotChatDb when the file lacks the tables or columns kith needs."""
    uri = path.resolve().as_uri() + "?mode=ro&immutable=1"
    try:
        con = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise NotChatDb(f"{path.name}: cannot open as SQLite ({exc})") from None
    try:
        yield from _read(con, path, region)
    except sqlite3.DatabaseError as exc:
        raise NotChatDb(f"{path.name}: {exc}") from None
    finally:
        con.close()


def _read(con: sqlite3.Connection, path: Path, region: str | None):
    tables = {row[0] for row in con.execute("select name from sqlite_master where type='table'")}
    for table, needed in _NEEDED.items():
        missing = [c for c in needed if c not in (_columns(con, table) if table in tables else ())]
        if missing:
            raise NotChatDb(f"{path.name} is not a Messages chat.db: table {table} lacks "
                            f"{', '.join(missing)}")
    message_columns = _columns(con, "message")
    optional = [c for c in ("service", "associated_message_type", "item_type",
                            "is_system_message") if c in message_columns]
    handles = {rowid: handle for rowid, handle in con.execute("select ROWID, id from handle")}
    has_join = "chat_message_join" in tables
    has_chat = has_join and "chat" in tables
    chat_of: dict[int, str] = {}
    chat_names: dict[str, str | None] = {}
    members: dict[str, set[str]] = {}
    if has_join:
        if has_chat:
            chat_cols = _columns(con, "chat")
            name_col = "display_name" if "display_name" in chat_cols else "null"
            ident_col = "guid" if "guid" in chat_cols else "ROWID"
            chats = {rowid: (str(ident), name) for rowid, ident, name in con.execute(
                f"select ROWID, {ident_col}, {name_col} from chat")}
        else:
            chats = {}
        for chat_rowid, message_rowid in con.execute(
                "select chat_id, message_id from chat_message_join"):
            chat_id, name = chats.get(chat_rowid, (f"chat{chat_rowid}", None))
            chat_of[message_rowid] = chat_id
            chat_names[chat_id] = name or None
        if has_chat and "chat_handle_join" in tables:
            for chat_rowid, handle_rowid in con.execute(
                    "select chat_id, handle_id from chat_handle_join"):
                if chat_rowid in chats and handle_rowid in handles:
                    members.setdefault(chats[chat_rowid][0], set()).add(handles[handle_rowid])
    select = ", ".join(_NEEDED["message"] + tuple(optional))
    rows = con.execute(f"select {select} from message order by ROWID")
    names = _NEEDED["message"] + tuple(optional)
    # Without chat_handle_join, a chat's members are the handles its messages name.
    pending: list[dict] = []
    for values in rows:
        row = dict(zip(names, values))
        handle = handles.get(row["handle_id"])
        chat_id = chat_of.get(row["ROWID"]) or (f"handle:{handle}" if handle else "unknown")
        if handle and not (has_chat and "chat_handle_join" in tables):
            members.setdefault(chat_id, set()).add(handle)
        row["_handle"], row["_chat"] = handle, chat_id
        pending.append(row)
    for row in pending:
        yield _message(row, members, chat_names, region)


def _message(row: dict, members: dict, chat_names: dict, region: str | None
             ) -> ChatMessage | Rejected:
    raw = json.dumps({k: v for k, v in row.items() if not k.startswith("_")},
                     ensure_ascii=False, default=str)
    sent_at = apple_time(row["date"])
    if sent_at is None:
        return Rejected(row["ROWID"], "chat.db message without a date", raw)
    is_mine = bool(row["is_from_me"])
    handle = None if is_mine else row["_handle"]
    if row.get("associated_message_type"):
        kind = "reaction"                  # a tapback ("Loved ...") on another message
    elif row.get("item_type") or row.get("is_system_message"):
        kind = "system"                    # renames, members added or removed
    else:
        kind = "message"
    email = normalize_email(handle) if handle and "@" in handle else None
    phone = normalize_phone(handle, region) if handle and email is None else None
    return ChatMessage(
        position=row["ROWID"], raw_text=raw, platform="imessage", chat_id=row["_chat"],
        chat_name=chat_names.get(row["_chat"]), chat_type=row.get("service"),
        message_id=str(row["guid"]), sent_at=sent_at, kind=kind,
        sender_id=handle, sender_phone=phone, sender_email=email, is_from_owner=is_mine,
        members=sorted(members.get(row["_chat"], ())))
