"""Telegram Desktop's JSON export (`result.json`): one chat, or the whole account.

A one-chat export is an object with `name`, `type`, `id` and `messages`; an account export holds
`personal_information` (the owner's `user_id`) and `chats.list`, each chat like a one-chat export.
Senders are known by `from_id` ("user123"; older exports wrote the bare number). Service messages
(pins, joins, calls started) are kept as kind 'system' and never count as someone writing.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from kith.records import ChatMessage, Rejected

_TOP_KEYS = re.compile(rb'^\s*\{\s*"(about|personal_information|profile_pictures|contacts|'
                       rb'frequent_contacts|chats|left_chats|name|type|id|messages)"')
_HEADER_FIELDS = ("id", "type", "date", "date_unixtime", "from", "from_id", "actor", "actor_id",
                  "action", "media_type")


class NotTelegram(ValueError):
    """A JSON file that is not a Telegram Desktop export."""


def looks_like_telegram(head: bytes) -> bool:
    """An object starting with the keys Telegram Desktop writes, and Telegram's field names."""
    return bool(_TOP_KEYS.match(head)) and (
        b'"personal_information"' in head or b'"from_id"' in head
        or b'"date_unixtime"' in head or b'"left_chats"' in head
        or (b'"chats"' in head and b'"list"' in head))


def read_telegram(path: Path, *, owner_tz: str | None = None
                  ) -> Iterator[ChatMessage | Rejected]:
    """Yield one ChatMessage per message of every chat in a Telegram export, and a Rejected per
    message without a readable date. Raises NotTelegram for other JSON."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            data = json.load(f)
    except json.JSONDecodeError as exc:
        raise NotTelegram(f"{path.name} is not complete JSON ({exc.msg} at line {exc.lineno}); "
                          "was the export cut short?") from None
    if not isinstance(data, dict):
        raise NotTelegram(f"{path.name} is JSON but not a Telegram Desktop export")
    if isinstance(data.get("chats"), dict):
        owner = (data.get("personal_information") or {}).get("user_id")
        chats = list(data["chats"].get("list") or [])
        chats += list((data.get("left_chats") or {}).get("list") or [])
    elif isinstance(data.get("messages"), list):
        owner, chats = None, [data]
    else:
        raise NotTelegram(f"{path.name} is JSON but not a Telegram Desktop export: it has no "
                          "chats or messages")
    zone = ZoneInfo(owner_tz) if owner_tz else timezone.utc
    for chat in chats:
        yield from _chat(chat, owner, zone)


def _user(value) -> str | None:
    if value is None:
        return None
    return f"user{value}" if isinstance(value, int) else str(value)


def _chat(chat: dict, owner, zone) -> Iterator[ChatMessage | Rejected]:
    chat_type = chat.get("type")
    name = chat.get("name")
    chat_id = str(chat["id"]) if chat.get("id") is not None else (name or "unnamed chat")
    messages = [m for m in chat.get("messages") or [] if isinstance(m, dict)]
    owner_id = _user(owner)
    if owner_id is None and chat_type == "saved_messages" and chat.get("id") is not None:
        owner_id = _user(chat["id"])    # saved messages are the owner's notes to themselves
    peer_id = None
    if owner_id is None and chat_type == "personal_chat" and chat.get("id") is not None:
        # a one-to-one chat's id is the other person's user id; the other sender is the owner
        peer_id = _user(chat["id"])
        if not any(_user(m.get("from_id")) == peer_id for m in messages):
            peer_id = None
    for n, message in enumerate(messages, 1):
        header = {k: message[k] for k in _HEADER_FIELDS if k in message}
        raw = json.dumps(header, ensure_ascii=False)
        sent_at = _when(message, zone)
        if sent_at is None:
            yield Rejected(n, f"Telegram message in chat {name or chat_id!r} without a readable "
                              "date", raw)
            continue
        is_service = message.get("type") == "service"
        sender_id = _user(message.get("actor_id" if is_service else "from_id"))
        sender_name = message.get("actor" if is_service else "from")
        if owner_id is not None and sender_id is not None:
            is_owner = sender_id == owner_id
        elif peer_id is not None and sender_id is not None:
            is_owner = sender_id != peer_id
        else:
            is_owner = None
        kind = "system" if is_service else ("media" if _has_media(message) else "message")
        yield ChatMessage(
            position=n, raw_text=raw, platform="telegram", chat_id=chat_id, chat_name=name,
            chat_type=chat_type,
            message_id=str(message["id"]) if message.get("id") is not None
            else f"{sent_at.isoformat()}|{sender_id or sender_name}|{n}",
            sent_at=sent_at, kind=kind, sender_name=sender_name, sender_id=sender_id,
            is_from_owner=is_owner)


def _has_media(message: dict) -> bool:
    return any(k in message for k in ("photo", "file", "media_type", "sticker_emoji", "poll",
                                      "contact_information", "location_information"))


def _when(message: dict, zone) -> datetime | None:
    unix = message.get("date_unixtime")
    try:
        if unix is not None:
            return datetime.fromtimestamp(int(unix), timezone.utc)
        # Older exports wrote only the exporting computer's local time.
        local = datetime.fromisoformat(message["date"])
        return local.replace(tzinfo=zone).astimezone(timezone.utc)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None
