"""WhatsApp chat exports ("Export chat" on a phone): a `.txt` per chat, or the zip with media.

Every message starts a line with its date and time; lines that do not are the rest of the
message before. The phone's locale decides the layout:

    iOS      [15/08/2023, 09:12:33] Name: text     [8/15/23, 9:12:33 AM] Name: text
    Android  15/08/2023, 09:12 - Name: text         8/15/23, 9:12 AM - Name: text
             16.02.21, 22:10 - Name: text           [2023/5/4, 16:13:23] Name: text

Day-first or month-first is told from the file's own dates (a 13th..31st day decides); when
every date fits both, the order that keeps the chat in time order wins, and when that does not
decide either, the phone region's custom does, with a warning on each message. Times have no
zone: they are read in the owner's zone (KITH_TIMEZONE), else UTC.

Only who wrote when is kept. A line that starts like a message header but cannot be read is
rejected with its header part; a file in which no line reads as a message is refused with a
sentence naming its first line.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from kith.phones import normalize_phone
from kith.records import ChatMessage, Rejected

# Bidi marks iOS puts before system lines and media, a BOM at the start.
_MARKS = "\u200e\u200f\ufeff\u202a\u202b\u202c\u2066\u2067\u2068\u2069"
_SPACE = r"[ \u00a0\u202f]"
_DATE = r"(?P<date>\d{1,4}(?P<sep>[./-])\d{1,2}(?P=sep)\d{1,4})\.?"
_TIME = (rf"(?P<time>\d{{1,2}}[:.]\d{{2}}(?:[:.]\d{{2}})?)"
         rf"(?:{_SPACE}*(?P<ampm>[AaPp]\.?{_SPACE}?[Mm]\.?))?")
IOS_LINE = re.compile(rf"\[{_DATE},?{_SPACE}*{_TIME}\]{_SPACE}(?P<rest>.*)", re.S)
ANDROID_LINE = re.compile(rf"{_DATE},?{_SPACE}*{_TIME}{_SPACE}[-\u2013]{_SPACE}(?P<rest>.*)", re.S)
# Starts like a header (date, then a time) but may not be one kith can read.
HEADER_LIKE = re.compile(r"\[?\d{1,4}[./-]\d{1,2}[./-]\d{2,4}\.?,?[ \u00a0\u202f]+\d{1,2}[:.]\d")

_PHONE_LIKE = re.compile(r"\+?[\d \u00a0\u202f().-]{7,}")
# Android's placeholders for media left out of the export, and attached files, in the
# languages WhatsApp ships most; iOS marks its placeholders with a leading U+200E instead.
_ATTACHED = re.compile(r"\((file attached|Datei angehängt|archivo adjunto|fichier joint|"
                       r"arquivo anexado|file allegato|bestand bijgevoegd)\)", re.I)
_DELETED = frozenset(s.casefold().rstrip(".") for s in (
    "This message was deleted", "You deleted this message", "Diese Nachricht wurde gelöscht.",
    "Du hast diese Nachricht gelöscht.", "Se eliminó este mensaje.", "Eliminaste este mensaje.",
    "Ce message a été supprimé.", "Vous avez supprimé ce message.",
    "Questo messaggio è stato eliminato", "Hai eliminato questo messaggio",
    "Mensagem apagada", "Você apagou esta mensagem", "Dit bericht is verwijderd.",
    "Je hebt dit bericht verwijderd."))
# Regions whose phones write month before day (the rest of the world writes day first).
_MONTH_FIRST_REGIONS = frozenset({"US", "PH", "CA", "FM", "MH", "PW", "GU", "AS", "MP", "VI",
                                  "PR", "UM", "BZ"})
# WhatsApp names the file after the chat, in the phone's language.
_FILE_PREFIX = re.compile(r"^(whats\s?app[ _-]?chat|chat[ _-]de[ _-]whatsapp|"
                          r"conversa[ _-]do[ _-]whatsapp)\s*(with|mit|con|avec|met|com|med|"
                          r"z|-|–)?\s*", re.I)


# Distinct (time, sender) pairs remembered to number messages sent in the same minute.
SEEN_LIMIT = 50_000


class UnknownChatLayout(ValueError):
    """No line of the file reads as a WhatsApp message in a layout kith knows."""


def looks_like_whatsapp(head: bytes) -> bool:
    """True when the first line with text is a WhatsApp message header."""
    text = head.decode("utf-8", "ignore")
    for line in text.splitlines()[:5]:
        line = line.strip(_MARKS + " ")
        if line:
            return bool(IOS_LINE.match(line) or ANDROID_LINE.match(line))
    return False


def is_whatsapp_name(path: Path) -> bool:
    """A file or zip WhatsApp named: "WhatsApp Chat with Ann.txt", iOS's "_chat.txt"."""
    name = path.name.lower()
    return (name == "_chat.txt" or (_FILE_PREFIX.match(path.stem) is not None
                                    and path.suffix.lower() in (".txt", ".zip")))


def is_whatsapp_zip(path: Path) -> bool:
    """A zip holding one chat text (iOS: `_chat.txt`; Android: `WhatsApp Chat with ....txt`)."""
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as z:
            return _chat_member(z) is not None
    except (zipfile.BadZipFile, OSError):
        return False


def _chat_member(z: zipfile.ZipFile) -> str | None:
    texts = [n for n in z.namelist() if n.lower().endswith(".txt") and not n.startswith("__MACOSX")]
    for name in texts:
        if Path(name).name.lower() == "_chat.txt" or _FILE_PREFIX.match(Path(name).stem):
            return name
    return None


def chat_name(path: Path) -> str:
    """The chat's name as WhatsApp put it in the file name ("WhatsApp Chat with Ann" -> Ann)."""
    stem = path.parent.name if path.name.lower() == "_chat.txt" else path.stem
    return _FILE_PREFIX.sub("", stem).strip() or stem


def read_whatsapp(path: Path, *, region: str | None = None,
                  owner_tz: str | None = None) -> Iterator[ChatMessage | Rejected]:
    """Yield one ChatMessage per message of a WhatsApp export (text file or zip) and a Rejected
    per header line that cannot be read. Raises UnknownChatLayout when no line reads."""
    name = chat_name(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            member = _chat_member(z)
            if member is None:
                raise UnknownChatLayout(f"{path.name}: no WhatsApp chat text in this zip")

            def lines() -> Iterator[str]:
                with z.open(member) as raw:
                    for line in raw:
                        yield line.decode("utf-8", "replace")
            yield from _read(lines, name, region, owner_tz)
        return

    def lines() -> Iterator[str]:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            yield from f
    yield from _read(lines, name, region, owner_tz)


def _headers(lines: Iterable[str]) -> Iterator[tuple[int, str, re.Match | None]]:
    """(line number, line, header match) for each line that starts like a header."""
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if number == 1:
            line = line.lstrip("\ufeff")
        bare = line.lstrip(_MARKS)
        if not bare[:1].isdigit() and not bare.startswith("["):
            continue
        match = IOS_LINE.match(bare) or ANDROID_LINE.match(bare)
        if match or HEADER_LIKE.match(bare):
            yield number, bare, match


def _read(lines, name: str, region: str | None, owner_tz: str | None
          ) -> Iterator[ChatMessage | Rejected]:
    order, warning = _date_order(lines(), region)
    zone = ZoneInfo(owner_tz) if owner_tz else timezone.utc
    seen: Counter = Counter()
    n_read = 0
    for number, line, match in _headers(lines()):
        if match is None:
            yield Rejected(number, "unreadable WhatsApp message header (date or time in a form "
                                   "kith does not know)", _header_part(line))
            continue
        try:
            sent_at = _when(match, order, zone)
        except ValueError as exc:
            yield Rejected(number, f"unreadable WhatsApp date: {exc}", _header_part(line))
            continue
        n_read += 1
        rest = match.group("rest")
        head = line[:match.start("rest")]
        sender, body = _split_sender(rest)
        kind = _kind(sender, body)
        sender_name = sender.lstrip("~").strip(_MARKS + " \u00a0\u202f") if sender else None
        phone = None
        if sender_name and _PHONE_LIKE.fullmatch(sender_name):
            phone = normalize_phone(sender_name, region)
        ident = f"{sent_at.isoformat()}|{phone or sender_name or ''}"
        if len(seen) > SEEN_LIMIT and ident not in seen:
            # Memory stays flat on a huge chat: a time's messages come together in the file,
            # so forgetting older times only matters if one came back far later.
            seen.clear()
        seen[ident] += 1
        yield ChatMessage(
            position=number,
            raw_text=head + (f"{sender}:" if sender is not None else ""),
            platform="whatsapp", chat_id=name, chat_name=name,
            message_id=f"{ident}|{seen[ident]}", sent_at=sent_at, kind=kind,
            sender_name=sender_name if phone is None else None, sender_phone=phone,
            warnings=[warning] if warning else [])
    if n_read == 0:
        first = next((line.strip() for line in lines() if line.strip(_MARKS + " \r\n")), "")
        raise UnknownChatLayout(
            f"no line reads as a WhatsApp message in a layout kith knows (first line: "
            f"{first[:40]!r}); tell the project which phone language wrote it")


def _header_part(line: str) -> str:
    # The text after the sender is the message itself, which kith never stores.
    match = re.match(r"[^:]*\d[:.]\d{2}[^:]*?:", line)
    head = match.group(0) if match else line
    return head[:60]


def _split_sender(rest: str) -> tuple[str | None, str]:
    """(sender, body); sender None for a system line ("You created group ...")."""
    if rest.startswith(tuple(_MARKS)):
        return None, rest                       # iOS system line without a sender
    sender, colon, body = rest.partition(":")
    if not colon or not sender.strip() or len(sender) > 80:
        return None, rest
    return sender.strip(), body[1:] if body.startswith(" ") else body


def _kind(sender: str | None, body: str) -> str:
    if sender is None:
        return "system"
    text = body.strip()
    if body.startswith(tuple(_MARKS)):            # iOS placeholders and notices
        lowered = text.lower()
        if "<attached:" in lowered or "omitted" in lowered:
            return "media"
        return "deleted" if "deleted" in lowered else "system"
    first = text.split("\n", 1)[0]
    if first.casefold().rstrip(".") in _DELETED:
        return "deleted"
    if (first.startswith("<") and first.endswith(">")) or _ATTACHED.search(first):
        return "media"
    return "message"


@lru_cache(maxsize=4096)
def _date_parts(date: str) -> tuple[int, int, int]:
    a, b, c = _SEPARATORS.split(date)
    return int(a), int(b), int(c)


_SEPARATORS = re.compile(r"[./-]")


def _date_order(lines: Iterable[str], region: str | None) -> tuple[str, str | None]:
    """'dmy' or 'mdy' for the file's dates that do not start with a 4-digit year, and a
    warning when the file's dates could not decide it."""
    day_first = month_first = 0
    backwards = {"dmy": 0, "mdy": 0}
    previous: dict[str, tuple] = {}
    last = None
    for _, _, match in _headers(lines):
        if match is None or match.group("date") == last:
            continue                    # a chat's messages mostly share their day with the one before
        last = match.group("date")
        if len(_SEPARATORS.split(last, 1)[0]) == 4:
            continue
        a, b, c = _date_parts(last)
        day_first += a > 12
        month_first += b > 12
        for order, key in (("dmy", (c, b, a)), ("mdy", (c, a, b))):
            if order in previous and key < previous[order]:
                backwards[order] += 1
            previous[order] = key
    if day_first and not month_first:
        return "dmy", None
    if month_first and not day_first:
        return "mdy", None
    if backwards["dmy"] != backwards["mdy"]:
        order = min(backwards, key=backwards.get)
        how = "keeps the chat in time order"
    else:
        order = "mdy" if region in _MONTH_FIRST_REGIONS else "dmy"
        how = f"is the custom of phone region {region or 'unknown'}"
    if day_first and month_first:
        return order, ("dates are written both day-first and month-first; read the ambiguous "
                       f"ones as {_ORDER_WORDS[order]}, which {how}")
    if not previous:
        return order, None
    return order, (f"day and month order ambiguous (every day is 12 or less): read as "
                   f"{_ORDER_WORDS[order]}, which {how}")


_ORDER_WORDS = {"dmy": "day/month/year", "mdy": "month/day/year"}


@lru_cache(maxsize=4096)
def _day(date: str, order: str) -> tuple[int, int, int]:
    """(year, month, day) of a header's date in the file's order."""
    a, b, c = _date_parts(date)
    if len(_SEPARATORS.split(date, 1)[0]) == 4:
        year, month, day = a, b, c
    elif a > 12:
        day, month, year = a, b, c
    elif b > 12:
        month, day, year = a, b, c
    elif "." in date or order == "dmy":
        day, month, year = a, b, c
    else:
        month, day, year = a, b, c
    return (year + 2000 if year < 100 else year), month, day


def _when(match: re.Match, order: str, zone) -> datetime:
    year, month, day = _day(match.group("date"), order)
    time = match.group("time")
    parts = time.replace(".", ":").split(":")
    hour, minute = int(parts[0]), int(parts[1])
    second = int(parts[2]) if len(parts) > 2 else 0
    ampm = match.group("ampm")
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError(f"hour {hour} with {ampm.strip()}")
        is_pm = ampm.strip().lower().startswith("p")
        hour = hour % 12 + (12 if is_pm else 0)
    local = datetime(year, month, day, hour, minute, second, tzinfo=zone)
    return local if zone is timezone.utc else local.astimezone(timezone.utc)

