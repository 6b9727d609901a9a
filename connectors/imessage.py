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
    chats: dict[int, tuple[str, str | None]] = {}     # chat ROWID -> (id, display name)
    if "chat" in tables:
        chat_cols = _columns(con, "chat")
        name_col = "display_name" if "display_name" in chat_cols else "null"
        ident_col = "guid" if "guid" in chat_cols else "ROWID"
        chats = {rowid: (str(ident), name or None) for rowid, ident, name in con.execute(
            f"select ROWID, {ident_col}, {name_col} from chat")}
    # A message's chat comes from chat_message_join; an excerpt without it has one chat per
    # handle. Members come from chat_handle_join, else from the handles the messages name.
    join = ("left join chat_message_join as j on j.message_id = m.ROWID"
            if "chat_message_join" in tables else "left join (select null as chat_id) as j on true")
    members: dict[str, set[str]] = {}
    if "chat_handle_join" in tables and chats:
        pairs = con.execute("select chat_id, handle_id from chat_handle_join")
    else:
        pairs = con.execute(f"select distinct j.chat_id, m.handle_id from message as m {join}")
    for chat_rowid, handle_rowid in pairs:
        if handle_rowid in handles:
            chat_id = _chat_id(chat_rowid, chats, handles.get(handle_rowid))
            members.setdefault(chat_id, set()).add(handles[handle_rowid])
    names = _NEEDED["message"] + tuple(optional)
    select = ", ".join(f"m.{c}" for c in names)
    chat_names = {ident: name for ident, name in chats.values()}
    # One row at a time: a chat.db can hold hundreds of thousands of messages.
    for values in con.execute(f"select {select}, j.chat_id from message as m {join} "
                              "order by m.ROWID"):
        row = dict(zip(names, values))
        handle = handles.get(row["handle_id"])
        row["_handle"], row["_chat"] = handle, _chat_id(values[-1], chats, handle)
        yield _message(row, members, chat_names, region)


def _chat_id(chat_rowid, chats: dict, handle: str | None) -> str:
    if chat_rowid is not None:
        return chats.get(chat_rowid, (f"chat{chat_rowid}", None))[0]
    return f"handle:{handle}" if handle else "unknown"


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
