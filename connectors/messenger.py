"""Facebook Messenger and Instagram messages from Meta's "Download your information" JSON.

Each conversation is a folder holding `message_1.json`, `message_2.json`... with `participants`
(names), `messages` (`sender_name`, `timestamp_ms`) and `thread_path`. Meta writes every
non-ASCII character as its UTF-8 bytes escaped one by one as Latin-1 (a heart as
"\\u00e2\\u009d\\u00a4"), so names are repaired by reading those code points back as bytes.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from kith.records import ChatMessage, Rejected

_MEDIA_KEYS = ("photos", "videos", "audio_files", "files", "gifs", "sticker")


class NotMetaMessages(ValueError):
    """A JSON file that is not a Messenger / Instagram conversation."""


def looks_like_meta_messages(head: bytes) -> bool:
    text = head.lstrip()
    return (text.startswith(b"{") and b'"participants"' in head
            and (b'"sender_name"' in head or b'"thread_path"' in head or b'"messages"' in head))


def repair_mojibake(text: str | None) -> str | None:
    """Meta's Latin-1-escaped UTF-8 read back as UTF-8; text that is not such is kept."""
    if not text:
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def platform_of(path: Path, data: dict) -> str:
    """instagram or messenger: from where the file sits in the export, else its invite link."""
    where = path.as_posix().lower()
    if "instagram" in where:
        return "instagram"
    if "facebook" in where or "messenger" in where:
        return "messenger"
    link = str((data.get("joinable_mode") or {}).get("link") or "")
    return "instagram" if "ig.me" in link or "instagram" in link else "messenger"


def read_meta_messages(path: Path) -> Iterator[ChatMessage | Rejected]:
    """Yield one ChatMessage per message of one conversation file, a Rejected per message
    without a sender or a time. Raises NotMetaMessages for other JSON."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            data = json.load(f)
    except json.JSONDecodeError as exc:
        raise NotMetaMessages(f"{path.name} is not complete JSON ({exc.msg} at line "
                              f"{exc.lineno}); was the export cut short?") from None
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise NotMetaMessages(f"{path.name} is JSON but not a Messenger or Instagram "
                              "conversation (no messages list)")
    platform = platform_of(path, data)
    title = repair_mojibake(data.get("title"))
    chat_id = data.get("thread_path") or title or path.parent.name
    members = [repair_mojibake(p.get("name")) for p in data.get("participants") or []
               if isinstance(p, dict) and p.get("name")]
    seen: dict[str, int] = {}
    for n, message in enumerate(data["messages"], 1):
        if not isinstance(message, dict):
            yield Rejected(n, "Meta message that is not an object", str(message)[:80])
            continue
        header = {k: message[k] for k in ("sender_name", "timestamp_ms", "type", "is_unsent")
                  if k in message}
        raw = json.dumps(header, ensure_ascii=False)
        sender = repair_mojibake(message.get("sender_name"))
        try:
            sent_at = datetime.fromtimestamp(int(message["timestamp_ms"]) / 1000, timezone.utc)
        except (KeyError, TypeError, ValueError, OverflowError, OSError):
            yield Rejected(n, "Meta message without a readable timestamp_ms", raw)
            continue
        if not sender:
            yield Rejected(n, "Meta message without a sender_name", raw)
            continue
        ident = f"{message['timestamp_ms']}|{sender}"
        seen[ident] = seen.get(ident, 0) + 1
        yield ChatMessage(
            position=n, raw_text=raw, platform=platform, chat_id=chat_id, chat_name=title,
            chat_type=data.get("thread_type"), message_id=f"{ident}|{seen[ident]}",
            sent_at=sent_at, kind=_kind(message), sender_name=sender, members=members)


def _kind(message: dict) -> str:
    kind = message.get("type")
    if message.get("is_unsent"):
        return "deleted"
    if kind in ("Subscribe", "Unsubscribe"):
        return "system"
    if kind == "Call" or "call_duration" in message:
        return "call"
    if any(k in message for k in _MEDIA_KEYS):
        return "media"
    return "message"
