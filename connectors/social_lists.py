"""Who you are connected to on Facebook, Instagram and X, from their data exports: lists, like
LinkedIn connections, that say nothing about contact by themselves.

- Facebook `your_friends.json` / `friends.json`: `{"friends_v2": [{"name", "timestamp"}]}`
  (names garbled the way Meta garbles them: repaired as in the messages).
- Instagram `followers_1.json` (a list) and `following.json` (`relationships_following`):
  entries with `string_list_data: [{"href", "value", "timestamp"}]`.
- X `follower.js` / `following.js`: `window.YTD.follower.part0 = [{"follower": {"accountId",
  "userLink"}}]`. An account is known by id, written `x:<id>` like the senders of X messages,
  so a follower links to the person you exchanged direct messages with.

Each entry is a contact card (`source_format` `facebook-friend`, `instagram-follower`,
`instagram-following`, `x-follower`, `x-following`).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterator

from kith.connectors.messenger import repair_mojibake
from kith.profiles import normalize_profile_url
from kith.records import ContactCard, Link, Rejected

_X_PREFIX = re.compile(rb"^\s*window\.YTD\.(follower|following)\.part\d+\s*=")
_META_KEYS = re.compile(rb'^\s*[\[{]\s*"(friends_v2|relationships_following|relationships_followers)"'
                        rb'|^\s*\[\s*\{\s*"title"\s*:\s*"[^"]*"\s*,\s*"media_list_data"')


class NotSocialList(ValueError):
    """A file that is not a friends, followers or following list kith knows."""


def looks_like_social_list(head: bytes) -> bool:
    head = head.lstrip(b"\xef\xbb\xbf")
    return bool(_X_PREFIX.match(head) or _META_KEYS.match(head))


def read_social_list(path: Path) -> Iterator[ContactCard | Rejected]:
    """Yield one ContactCard per friend, follower or followed account; a Rejected per entry
    without a name or id. Raises NotSocialList for other files."""
    text = path.read_text(encoding="utf-8-sig")
    prefix = _X_PREFIX.match(text.encode("utf-8")[:200])
    body = text.partition("=")[2] if prefix else text
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise NotSocialList(f"{path.name} is not complete JSON ({exc.msg} at line "
                            f"{exc.lineno}); was the export cut short?") from None
    if prefix:
        yield from _x(data, prefix.group(1).decode())
    elif isinstance(data, dict) and "friends_v2" in data:
        yield from _facebook(data["friends_v2"])
    elif isinstance(data, dict) and "relationships_following" in data:
        yield from _instagram(data["relationships_following"], "instagram-following")
    elif isinstance(data, dict) and "relationships_followers" in data:
        yield from _instagram(data["relationships_followers"], "instagram-follower")
    elif isinstance(data, list):
        yield from _instagram(data, "instagram-follower")
    else:
        raise NotSocialList(f"{path.name} is not a Facebook friends, Instagram followers / "
                            "following or X follower / following list")


def _day(timestamp) -> date | None:
    try:
        return datetime.fromtimestamp(int(timestamp), timezone.utc).date() if timestamp else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _facebook(entries) -> Iterator[ContactCard | Rejected]:
    for n, entry in enumerate(entries or [], 1):
        raw = json.dumps(entry, ensure_ascii=False)
        name = repair_mojibake(entry.get("name")) if isinstance(entry, dict) else None
        if not name:
            yield Rejected(n, "Facebook friend without a name", raw)
            continue
        yield ContactCard(position=n, raw_text=raw, source_format="facebook-friend",
                          full_name=name, connected_on=_day(entry.get("timestamp")))


def _instagram(entries, source_format: str) -> Iterator[ContactCard | Rejected]:
    for n, entry in enumerate(entries or [], 1):
        raw = json.dumps(entry, ensure_ascii=False)
        data = (entry.get("string_list_data") or [{}])[0] if isinstance(entry, dict) else {}
        handle = data.get("value") or (entry.get("title") if isinstance(entry, dict) else None)
        url = normalize_profile_url(data.get("href") or
                                    (f"https://www.instagram.com/{handle}" if handle else None))
        if not handle or not url:
            yield Rejected(n, "Instagram entry without an account name", raw)
            continue
        yield ContactCard(position=n, raw_text=raw, source_format=source_format,
                          full_name=None, nicknames=[handle],
                          links=[Link(value=url, kind="social", service="instagram")],
                          connected_on=_day(data.get("timestamp")))


def _x(entries, kind: str) -> Iterator[ContactCard | Rejected]:
    for n, entry in enumerate(entries or [], 1):
        raw = json.dumps(entry, ensure_ascii=False)
        account = (entry.get(kind) or {}).get("accountId") if isinstance(entry, dict) else None
        if not account:
            yield Rejected(n, f"X {kind} entry without an accountId", raw)
            continue
        yield ContactCard(position=n, raw_text=raw, source_format=f"x-{kind}",
                          links=[Link(value=f"x:{account}", kind="social", service="twitter")])
