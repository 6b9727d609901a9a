"""Direct messages from an X (Twitter) archive: `direct-messages.js`,
`direct-messages-group.js` and the text-free `direct-message-headers.js` variants.

Each file is JavaScript: `window.YTD.direct_messages.part0 = [...]`; past the `=` it is JSON.
People are known by numeric user id. A one-to-one conversation's id is the two user ids joined
by "-"; a group's members come from its join events. Joins, leaves and renames are kind
'system'. A message in both the messages and the headers file has one id, so it is stored once.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Iterator

from kith.records import ChatMessage, Rejected

_PREFIX = re.compile(rb"^\s*window\.YTD\.direct_messages?[\w.]*\s*=")
_SYSTEM_EVENTS = ("participantsJoin", "participantsLeave", "joinConversation",
                  "conversationNameUpdate")


class NotXArchive(ValueError):
    """A file that is not an X archive's direct-message file."""


def looks_like_x_dms(head: bytes) -> bool:
    return bool(_PREFIX.match(head.lstrip(b"\xef\xbb\xbf")))


def read_x_dms(path: Path) -> Iterator[ChatMessage | Rejected]:
    """Yield one ChatMessage per direct message and conversation event, a Rejected per event
    without a readable time. Raises NotXArchive for a file that does not parse."""
    text = path.read_text(encoding="utf-8-sig")
    _, eq, body = text.partition("=")
    try:
        conversations = json.loads(body) if eq else None
    except json.JSONDecodeError as exc:
        raise NotXArchive(f"{path.name} is not complete ({exc.msg} at line {exc.lineno}); was "
                          "the archive cut short?") from None
    if not isinstance(conversations, list):
        raise NotXArchive(f"{path.name} is not an X archive's direct-message file")
    n = 0
    for item in conversations:
        convo = (item or {}).get("dmConversation") if isinstance(item, dict) else None
        if not isinstance(convo, dict):
            continue
        chat_id = str(convo.get("conversationId") or "")
        events = [e for e in convo.get("messages") or [] if isinstance(e, dict)]
        members = _members(chat_id, events)
        is_group = "direct_messages_group" in path.name.replace("-", "_") or len(members) > 2 \
            or "-" not in chat_id
        for event in events:
            n += 1
            yield _event(n, chat_id, event, members, "group" if is_group else "one_to_one")


def _members(chat_id: str, events: list[dict]) -> list[str]:
    ids = set()
    if re.fullmatch(r"\d+-\d+", chat_id):
        ids.update(chat_id.split("-"))
    for event in events:
        for kind, body in event.items():
            if not isinstance(body, dict):
                continue
            ids.update(str(u) for u in body.get("participantsSnapshot") or [])
            if kind == "participantsJoin":
                ids.update(str(u) for u in body.get("userIds") or [])
            for key in ("senderId", "recipientId", "initiatingUserId"):
                if body.get(key):
                    ids.add(str(body[key]))
    return sorted(ids)


def _event(n: int, chat_id: str, event: dict, members: list[str], chat_type: str
           ) -> ChatMessage | Rejected:
    kind_name, body = next(iter(event.items()), ("", {}))
    body = body if isinstance(body, dict) else {}
    header = {k: body[k] for k in ("id", "senderId", "recipientId", "initiatingUserId",
                                   "createdAt") if k in body}
    header = {"event": kind_name, **header}
    raw = json.dumps(header, ensure_ascii=False)
    try:
        sent_at = datetime.fromisoformat(body["createdAt"].replace("Z", "+00:00"))
    except (KeyError, AttributeError, ValueError):
        return Rejected(n, f"X {kind_name} without a readable createdAt", raw)
    sender = body.get("senderId") or body.get("initiatingUserId")
    is_message = kind_name == "messageCreate"
    return ChatMessage(
        position=n, raw_text=raw, platform="x", chat_id=chat_id, chat_type=chat_type,
        message_id=str(body.get("id") or f"{kind_name}|{body['createdAt']}|{sender}"),
        sent_at=sent_at, kind="message" if is_message else "system",
        sender_id=str(sender) if sender else None, members=members)
