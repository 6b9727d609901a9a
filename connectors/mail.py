"""E-mail headers from mbox files, Maildir folders and single `.eml` messages.

kith only needs who wrote to whom and when, so only the header block of each message is read:
bodies are skipped as bytes, never decoded nor parsed, and nothing of them is stored.

An mbox is split into messages by a byte scan before anything is parsed: a message starts at a
line beginning `From ` that opens the file or follows a blank line, and whose next line is a
header field (so an unescaped `From time to time` in an mboxo body does not split a message).
A From_ line in the strict envelope form (`From sender Mon Jan  1 00:00:00 2024`) followed by a
header counts even without the blank line before it, as crashed appends leave behind. The file is
read in chunks and a body is dropped as soon as it has been scanned past, so memory stays flat
whatever the size of the file or of one message.

Each header block is split by hand (unfolding, NUL bytes, CR, LF and CRLF endings alike) rather
than by `email.parser`, and only the fields in `HEADER_FIELDS` are decoded: raw 8-bit headers as
UTF-8, else windows-1252; RFC 2047 encoded-words wherever they are (inside quotes, without the
spaces around them, split across words in the middle of a character, unknown charsets). Address
lists go through `email.utils.getaddresses`, on the still-encoded text, so an encoded comma
(`=?UTF-8?Q?H=C3=B6rst=2C_Kenny?=`) cannot split one address in two. Parsed address lists are
cached by their text, since the same From and To lines come back thousands of times in a mailbox.

Large mbox files are parsed on a small pool of processes (header blocks go out in batches, records
come back in order), which `read_mail` hides: it stays a plain generator.
"""

from __future__ import annotations

import binascii
import codecs
import csv
import hashlib
import multiprocessing
import os
import pathlib
import re
from collections import deque
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import getaddresses, parsedate_to_datetime
from functools import lru_cache

from kith.emails import normalize_email
from kith.records import FolderState, Mailbox, MailMessage, Rejected

HEADER_FIELDS = ("From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Date", "Message-ID",
                 "In-Reply-To", "References", "List-Id", "List-Unsubscribe", "Precedence",
                 "Auto-Submitted", "Return-Path", "X-Gmail-Labels", "X-GM-THRID", "Subject")

# Fields hashed into the id of a message without a Message-ID: what the sender wrote. Left out:
# what a mailbox adds or changes later (labels, thread ids, Return-Path, a Sent copy's Bcc).
_HASHED = ("from", "sender", "reply-to", "to", "cc", "date", "subject", "in-reply-to",
           "references", "list-id")
_ADDRESS_FIELDS = (("from", "from_"), ("sender", "sender"), ("reply-to", "reply_to"),
                   ("to", "to"), ("cc", "cc"), ("bcc", "bcc"))
# Header names that only mail has: a block must show one of them to count as a message when a
# file is sniffed (a vCard's `BEGIN:` or a CSV's first line is shaped like a header too).
_MAIL_FIELDS = frozenset({
    b"from", b"to", b"cc", b"date", b"message-id", b"subject", b"received", b"return-path",
    b"delivered-to", b"mime-version", b"content-type", b"sender", b"reply-to", b"in-reply-to",
    b"references", b"x-mailer", b"x-gmail-labels", b"x-gm-thrid", b"x-mozilla-status",
    b"x-mozilla-status2", b"user-agent", b"list-id", b"dkim-signature", b"x-original-to",
    b"envelope-to", b"status", b"x-uid", b"thread-index", b"x-ms-exchange-organization-scl"})

SNIFF_BYTES = 64 * 1024
_CHUNK = 4 << 20               # mbox read size
_LOOKAHEAD = 4096              # bytes needed past a `From ` to decide whether it starts a message
_MAX_HEADER = 8 << 20          # a header block still open after this many bytes is given up on
_MAX_REJECTED_TEXT = 4000      # raw_text kept for rejects
_MAX_RAW_FIELD = 16 << 10      # raw_text keeps this much of one field (a 145 KB Subject is cut)
_BATCH = 400                   # header blocks per task sent to a worker process
_PARALLEL_MIN_BYTES = 32 << 20  # smaller mbox files are always parsed in-process

_FIELD_NAME = re.compile(rb"[!-9;-~]+[ \t]*:")     # RFC 5322 ftext, then (sloppily) blanks
_FIELD_LINE = re.compile(           # a line: a field's name and colon, and its value with the
    r"\n([!-9;-~]+[ \t]*:)?([^\n]*(?:\n[ \t][^\n]*)*)")   # lines folded into it; or ("", a line)
_WANTED_NAMES = frozenset(name.lower() for name in HEADER_FIELDS)
_ENVELOPE = re.compile(                              # strict From_ line: sender, then asctime
    rb"From \S*\s+(?:[A-Z][a-z]{2} )?[A-Z][a-z]{2} [ \d]?\d \d\d?:\d\d(?::\d\d)? "
    rb"(?:[A-Z]{3,4} |[+-]\d{4} )?\d{4}")
_ENCODED_WORD = re.compile(r"=\?([^?\s]*)\?([QqBb])\?(.*?)\?=", re.S)
_MSG_ID = re.compile(r"<([^<>]*)>")
_PIPERMAIL_AT = re.compile(r"(?<![^\s<(\"',;:])([^\s@<>()\",;:]+) at "
                           r"([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?=$|[\s>),;])")
_COMMENT = re.compile(r"\([^()]*\)")
_ADDR_SPEC = r"[^\s\"<>(),;:\\@\[\]]+@[^\s\"<>(),;:\\@\[\]]+"
_ITEM = (r" ?(?:(?:\"([^\"\\]*)\"|([^\s\"<>(),;:\\@\[\]](?:[^\"<>(),;:\\@\[\]]*"
         r"[^\s\"<>(),;:\\@\[\]])?)?) ?<(" + _ADDR_SPEC + r")>|(" + _ADDR_SPEC + r")) ?")
_SIMPLE_ITEM = re.compile(_ITEM)
_SIMPLE_LIST = re.compile(r"(?:" + _ITEM + r",)*(?:" + _ITEM + r")?,?\s*")

# Labels mailers write for charsets Python spells otherwise, or whose real encoding is a superset.
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
    "us-ascii": "cp1252", "ascii": "cp1252", "gb2312": "gb18030", "gbk": "gb18030",
    "x-gbk": "gb18030", "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "shift_jis": "cp932",
    "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "utf-8", "unknown-8bit": "utf-8", "unknown": "utf-8", "x-user-defined": "utf-8",
    "utf8": "utf-8", "iso-8859-8-i": "iso-8859-8", "windows-874": "cp874",
}
# Zone names seen in real Date headers that `email.utils` does not know (it knows UT, GMT,
# EST/EDT, CST/CDT, MST/MDT, PST/PDT and military letters).
_ZONES = {
    "CET": "+0100", "MET": "+0100", "CEST": "+0200", "MEST": "+0200", "MESZ": "+0200",
    "MEZ": "+0100", "BST": "+0100", "WET": "+0000", "WEST": "+0100", "EET": "+0200",
    "EEST": "+0300", "MSK": "+0300", "IST": "+0530", "JST": "+0900", "KST": "+0900",
    "HKT": "+0800", "SGT": "+0800", "AEST": "+1000", "AEDT": "+1100", "NZST": "+1200",
    "NZDT": "+1300", "UTC": "+0000", "Z": "+0000", "HST": "-1000", "AKST": "-0900",
    "AKDT": "-0800", "AST": "-0400", "ADT": "-0300", "NST": "-0330", "BRT": "-0300",
}
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                 "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d",
                 "%d %b %Y %H:%M:%S", "%d %B %Y %H:%M:%S", "%b %d, %Y %H:%M:%S",
                 "%B %d, %Y %I:%M %p", "%b %d, %Y %I:%M %p", "%a %b %d %H:%M:%S %Y")


# ---------------------------------------------------------------------------------------------
# One message's header block


def parse_headers(header_block: bytes, *, position: int, folder: str | None,
                  include_subject: bool = False,
                  gmail_thread_id: str | None = None) -> MailMessage | Rejected:
    """Read one message's raw header block (bytes up to the blank line; a leading From_ line and
    anything after the blank line are ignored) into a MailMessage.

    A block with no header field at all is a Rejected with the reason. Bad content never raises:
    what cannot be read is left out of the record, with a warning where it matters (an
    unparseable Date). `gmail_thread_id` (IMAP's X-GM-THRID) wins over an X-GM-THRID header.
    """
    try:
        return _parse(header_block, position, folder, include_subject, gmail_thread_id)
    except Exception as exc:  # noqa: BLE001 - one message's surprise must not stop the rest
        return Rejected(position, f"could not read headers: {type(exc).__name__}: {exc}",
                        _clip(_text(header_block[:_MAX_REJECTED_TEXT])))


def _split_fields(block: bytes, include_subject: bool
                  ) -> tuple[dict[str, list[str]], list[str], bool]:
    """The unfolded values of the wanted fields of a header block by lower-case name, in
    order; the fields as written that raw_text keeps (the Subject only if `include_subject`);
    and whether the block has any header field at all. Bytes that are not UTF-8 are read as
    `_text` reads them."""
    if b"\0" in block:
        block = block.replace(b"\0", b"")
    try:
        text = block.decode("utf-8")
        dirty = False
    except UnicodeDecodeError:
        text = block.decode("utf-8", "surrogateescape")
        dirty = True
    if "\n" not in text:
        text = text.replace("\r", "\n")         # classic Mac line ends, or one line
    elif "\r\n" in text:
        text = text.replace("\r\n", "\n")       # once here, not in each field below
    text = "\n" + text                          # every field now follows a "\n"
    start = 1
    while text.startswith(("\n", "\r\n"), start):
        start = text.index("\n", start) + 1     # blank lines before the headers
    if text.startswith(("From ", ">From "), start):
        start = text.find("\n", start) + 1 or len(text)   # an mbox envelope line, not a field
    if start >= len(text) or text[start] in " \t":
        return {}, [], False
    # One match per field, or, at the blank line or the first line that is not a field (a body
    # that began without a blank line), the end of the header section. Matching any field and
    # keeping the wanted ones by name costs a third of looking for each wanted name at every
    # line (bench/mbox_ingest.py's headers: 10 us a message instead of 30).
    values: dict[str, list[str]] = {}
    raw_lines = []
    is_message = False
    for head, value in _FIELD_LINE.findall(text, start - 1):
        if not head:
            break
        is_message = True
        name = _wanted_name(head)
        if name is None:
            continue
        raw = head + value
        if "\n" in value or "\r" in value:
            value = value.replace("\r", "").replace("\n", "")   # unfold: drop the line breaks
            raw = raw.replace("\r", "")
        elif raw[-1:] == "\r":
            raw = raw[:-1]
        if dirty:
            value, raw = _redecode(value), _redecode(raw)
        if name in values:
            values[name].append(value)
        else:
            values[name] = [value]
        if name != "subject" or include_subject:
            raw_lines.append(raw if len(raw) <= _MAX_RAW_FIELD else raw[:_MAX_RAW_FIELD])
    return values, raw_lines, is_message


@lru_cache(maxsize=4096)
def _wanted_name(head: str) -> str | None:
    """A field's name in lower case when kith reads the field, from its head (`From:`,
    `Received :`); cached, as the same few dozen heads open nearly every field of a mailbox."""
    name = head[:-1].rstrip(" \t").lower()
    return name if name in _WANTED_NAMES else None


def _parse(block: bytes, position: int, folder: str | None, include_subject: bool,
           gmail_thread_id: str | None) -> MailMessage | Rejected:
    values, raw_lines, is_message = _split_fields(block, include_subject)
    if not is_message:
        text = _text(block[:_MAX_REJECTED_TEXT].replace(b"\0", b"")).strip()
        reason = ("no header fields: not an e-mail message" if text
                  else "empty message: no header fields")
        return Rejected(position, reason, _clip(text))
    warnings: list[str] = []

    message_id = None
    for value in values.get("message-id", ()):
        message_id = _message_id(value)
        if message_id:
            break
    has_message_id = message_id is not None
    if message_id is None:
        message_id = "kith-" + _fallback_hash(values, block)

    date_raw = _first(values, "date")
    sent_at = None
    if date_raw is not None:
        date_raw = " ".join(date_raw.split()) or None     # `Date: ` with nothing is no date
    if date_raw is not None:
        sent_at = parse_date(date_raw)
        if sent_at is None:
            warnings.append(f"unparseable Date: {date_raw[:200]}")

    msg = MailMessage(position=position, raw_text="\n".join(raw_lines), folder=folder,
                      message_id=message_id, has_message_id=has_message_id,
                      date_raw=date_raw, sent_at=sent_at, warnings=warnings)
    for key, attr in _ADDRESS_FIELDS:
        texts = values.get(key)
        if texts:
            setattr(msg, attr, [Mailbox(*box) for text in texts for box in _mailboxes(text)])
    in_reply_to = _first(values, "in-reply-to")
    if in_reply_to is not None:
        ids = _msg_ids(in_reply_to)
        msg.in_reply_to = ids[0] if ids else None
    references = values.get("references")
    if references:
        msg.references = [i for text in references for i in _msg_ids(text)]
    msg.list_id = _plain_value(values, "list-id")
    msg.list_unsubscribe = _plain_value(values, "list-unsubscribe")
    msg.precedence = _plain_value(values, "precedence")
    msg.auto_submitted = _plain_value(values, "auto-submitted")
    msg.return_path = _plain_value(values, "return-path")
    labels = values.get("x-gmail-labels")
    if labels:
        msg.gmail_labels = list(_gmail_labels(",".join(labels)))
    msg.gmail_thread_id = gmail_thread_id or _plain_value(values, "x-gm-thrid")
    if include_subject:
        subject = _first(values, "subject")
        if subject is not None:
            msg.subject = " ".join(decode_words(subject).split())
    return msg


def _redecode(text: str) -> str:
    """A string decoded with surrogate escapes, decoded again as `_text` would."""
    return _text(text.encode("utf-8", "surrogateescape")) if not text.isascii() else text


def _first(values: dict[str, list[str]], key: str) -> str | None:
    found = values.get(key)
    return found[0] if found else None


def _plain_value(values: dict[str, list[str]], key: str) -> str | None:
    if key not in values:
        return None
    value = " ".join(values[key][0].split())
    return value or None


def _text(raw: bytes) -> str:
    """Header bytes as text: ASCII and UTF-8 as they are, other 8-bit bytes as windows-1252."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:       # the five bytes cp1252 leaves undefined
        return raw.decode("latin-1")


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_REJECTED_TEXT else text[:_MAX_REJECTED_TEXT] + " [...]"


# -- addresses


@lru_cache(maxsize=16384)
def _mailboxes(text: str) -> tuple[tuple[str | None, str, str | None], ...]:
    """(name, address, normalized) for each address of one header line, names decoded."""
    if "@" not in text and " at " in text:
        text = _PIPERMAIL_AT.sub(r"\1@\2", text)     # pipermail's `jane at example.org`
    text = " ".join(text.split())
    pairs = _simple_addresses(text)
    if pairs is None:
        pairs = getaddresses([text])
    out = []
    for name, address in pairs:
        address = address.strip()
        if not address:
            continue                     # an empty group (`undisclosed-recipients:;`), `,,`
        name = decode_words(name) if "=?" in name else name
        name = " ".join(name.split())
        if len(name) > 1 and name[0] == name[-1] and name[0] in "'\"":
            name = name[1:-1].strip()    # Outlook's 'Jane Doe', or quotes an encoded-word held
        out.append((name or None, address, normalize_email(address)))
    return tuple(out)


def _simple_addresses(text: str) -> list[tuple[str, str]] | None:
    """The (name, address) pairs of a list in the shapes nearly all mail uses (`a@b`,
    `Name <a@b>`, `"Last, First" <a@b>`), exactly as getaddresses gives them, at a tenth of its
    cost; None for anything else (comments, groups, escapes, routes), which getaddresses reads."""
    if _SIMPLE_LIST.fullmatch(text) is None:
        return None
    return [(q or n, a or b)
            for q, n, a, b in _SIMPLE_ITEM.findall(text)]


def decode_words(text: str) -> str:
    """Decode the RFC 2047 encoded-words in a header text, leniently: wherever they stand, adjacent
    words joined before decoding (a character split across two words survives), unknown or
    wrong charsets falling back to UTF-8 then windows-1252, a word that does not decode kept as
    written."""
    if "=?" not in text:
        return text
    out: list[str] = []
    pending: list[bytes] = []            # bytes of adjacent words in one charset
    pending_charset = None
    after_word = False                   # whether text[:last] ends with an encoded-word
    last = 0
    for m in _ENCODED_WORD.finditer(text):
        between = text[last:m.start()]
        charset = m.group(1).split("*", 1)[0].lower()   # RFC 2231 language suffix
        data = _word_bytes(m.group(2), m.group(3))
        last = m.end()
        if data is None:                                 # broken base64: keep as written
            _flush(out, pending, pending_charset)
            pending, after_word = [], False
            out.append(between + m.group(0))
            continue
        # Blanks between two encoded-words are not text (RFC 2047 section 6.2).
        joined = after_word and not between.strip()
        if pending and (not joined or charset != pending_charset):
            _flush(out, pending, pending_charset)
            pending = []
        if between and not joined:
            out.append(between)
        pending.append(data)
        pending_charset, after_word = charset, True
    _flush(out, pending, pending_charset)
    out.append(text[last:])
    return "".join(out)


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    raw = payload.encode("ascii", "replace")
    try:
        if encoding in "Bb":
            raw = raw.replace(b" ", b"")
            return binascii.a2b_base64(raw + b"=" * (-len(raw.rstrip(b"=")) % 4))
        return binascii.a2b_qp(raw, header=True)
    except (binascii.Error, ValueError):
        return None


def _flush(out: list[str], pending: list[bytes], charset: str | None) -> None:
    if pending:
        out.append(_decode_charset(b"".join(pending), charset or "utf-8"))


def _decode_charset(data: bytes, charset: str) -> str:
    name = _CHARSET_ALIASES.get(charset, charset)
    try:
        codecs.lookup(name)
    except LookupError:
        name = "utf-8"
    try:
        return data.decode(name)
    except UnicodeDecodeError:
        pass
    if name != "utf-8":
        try:
            return data.decode("utf-8")     # declared wrongly: UTF-8 is the usual truth
        except UnicodeDecodeError:
            pass
    return data.decode(name if name != "utf-8" else "cp1252", "replace")


# -- ids, dates, labels


def _message_id(value: str) -> str | None:
    ids = _msg_ids(value)
    return ids[0] if ids else None


def _msg_ids(value: str) -> list[str]:
    """The msg-ids of a Message-ID, In-Reply-To or References value, without angle brackets.
    Without brackets, whitespace-separated tokens holding an @ count."""
    found = ["".join(i.split()) for i in _MSG_ID.findall(value)]
    found = [i for i in found if i]
    if found:
        return found
    return [t.strip("<>") for t in _COMMENT.sub(" ", value).split() if "@" in t.strip("<>")]


def _fallback_hash(values: dict[str, list[str]], block: bytes) -> str:
    """A stable id for a message without a Message-ID: its normalised sender-side fields (the
    same whether the message came from a file or over IMAP), else the whole block."""
    parts = [f"{key}:{' '.join(v.split())}" for key in _HASHED for v in values.get(key, ())]
    if not parts:
        parts = [" ".join(_text(block.replace(b"\0", b"")).split())]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def parse_date(text: str) -> datetime | None:
    """A Date header as an aware UTC datetime, or None. A date with no zone is taken as UTC."""
    dt = _common_date(text)
    if dt is not None:
        return dt
    dt = _rfc_date(text)
    if dt is None or dt.tzinfo is None:
        dt = _broken_date(text) or dt
    if dt is None:
        return None
    try:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        dt = dt.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None
    return dt if 1900 <= dt.year <= 2200 else None


_COMMON_DATE = re.compile(          # `Tue, 4 Mar 2025 10:00:00 +0100`, as most mailers write
    r"(?:[A-Z][a-z]{2}, )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([12]\d{3}) "
    r"(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")
_MONTHS = {name: i for i, name in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}


def _common_date(text: str) -> datetime | None:
    """parse_date's answer for a date in the usual RFC 5322 form, at a fifth of the cost of
    `email.utils`; None for any other form (or a date that form cannot hold), which the
    general path reads. `-0000` (no zone information) is left to it too."""
    m = _COMMON_DATE.fullmatch(text)
    if m is None or m[7] == "-" and m[8] == m[9] == "00":
        return None
    minutes = int(m[8]) * 60 + int(m[9])
    try:
        dt = datetime(int(m[3]), _MONTHS[m[2]], int(m[1]), int(m[4]), int(m[5]), int(m[6]),
                      tzinfo=timezone(timedelta(minutes=-minutes if m[7] == "-" else minutes)))
        dt = dt.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None
    return dt if 1900 <= dt.year <= 2200 else None


def _rfc_date(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _broken_date(text: str) -> datetime | None:
    s = " ".join(_COMMENT.sub(" ", text).replace(",", ", ").split())
    s = re.sub(r"(\d{1,2})\.(\d\d)(?:\.(\d\d))?(?=\s|$)",
               lambda m: f"{m[1]}:{m[2]}" + (f":{m[3]}" if m[3] else ""), s) if " " in s else s
    zone = re.search(r"\s([A-Z]{1,5})(\s*DST)?$", s)
    if zone and zone[1] in _ZONES:
        z = _ZONES[zone[1]]
        minutes = (int(z[1:3]) * 60 + int(z[3:])) * (1 if z[0] == "+" else -1)
        minutes += 60 if zone[2] else 0
        dt = _rfc_date(s[:zone.start()] + f" {'+' if minutes >= 0 else '-'}"
                       f"{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}")
        if dt is not None:
            return dt
    dt = _rfc_date(s)
    if dt is not None:
        return dt
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        pass
    offset = None
    m = re.search(r"\s*([+-])(\d\d):?(\d\d)$", s)
    if m:
        offset = timedelta(hours=int(m[2]), minutes=int(m[3])) * (1 if m[1] == "+" else -1)
        s = s[:m.start()]
    elif zone and zone[1] in _ZONES:
        z = _ZONES[zone[1]]
        offset = timedelta(hours=int(z[1:3]), minutes=int(z[3:])) * (1 if z[0] == "+" else -1)
        s = s[:zone.start()]
    s = re.sub(r"^[A-Za-z]{3,9},?\s+(?=\d)", "", s.strip())     # a leading day name
    for fmt in _DATE_FORMATS:
        try:
            dt = datetime.strptime(s, fmt)
        except ValueError:
            continue
        if offset is None:
            return dt
        try:
            return dt.replace(tzinfo=timezone(offset))
        except ValueError:          # a zone a day or more away from UTC (`+9960`) is none
            return None
    return None


@lru_cache(maxsize=4096)
def _gmail_labels(text: str) -> tuple[str, ...]:
    """X-Gmail-Labels: comma-separated, a label with a comma in double quotes, encoded-words.
    Cached: a mailbox has a few hundred label sets."""
    text = " ".join(text.split())
    try:
        labels = next(csv.reader([text], skipinitialspace=True))
    except (csv.Error, StopIteration):
        labels = text.split(",")
    out = []
    for label in labels:
        label = decode_words(label).strip()
        if label and label not in out:
            out.append(label)
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Telling files apart


def _lines(head: bytes, limit: int = 200) -> list[bytes]:
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    sep = b"\n" if b"\n" in head else b"\r"
    return [line.rstrip(b"\r") for line in head.split(sep, limit)[:limit]]


def _is_field(line: bytes) -> bool:
    return _FIELD_NAME.match(line) is not None


def looks_like_mbox(head: bytes) -> bool:
    """True when a file's first bytes (about 64 KB) are an mbox: after any blank lines, a line
    starting `From ` followed by a header field."""
    lines = _lines(head, 50)
    while lines and not lines[0].strip():
        lines.pop(0)
    return (len(lines) >= 2 and lines[0].startswith(b"From ") and _is_field(lines[1])
            and not lines[1].startswith(b"From "))


def looks_like_eml(head: bytes) -> bool:
    """True when a file's first bytes are one e-mail message: after blank lines and an optional
    From_ line, header fields (folded or not) up to the first blank line, one of them a field only
    mail has (From, Date, Received, Message-ID...)."""
    if b"\0" in head[:1024]:
        return False
    lines = _lines(head)
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and lines[0].startswith(b"From ") and not _is_field(lines[0]):
        lines.pop(0)
    if not lines or not _is_field(lines[0]):
        return False
    for line in lines:
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            continue
        m = _FIELD_NAME.match(line)
        if m is None:
            break
        if line[:m.end() - 1].rstrip(b" \t").lower() in _MAIL_FIELDS:
            return True
    return False


def is_maildir(path: pathlib.Path) -> bool:
    """True for a Maildir folder: one holding both cur/ and new/."""
    path = pathlib.Path(path)
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


# ---------------------------------------------------------------------------------------------
# Reading files


def read_mail(path: pathlib.Path, *, include_subject: bool = False,
              processes: int | None = None, resume_points: int | None = None,
              resume: dict | None = None) -> Iterator[MailMessage | Rejected | FolderState]:
    """Yield a MailMessage per message of an mbox file, a single `.eml` message or a Maildir
    folder (cur/ and new/, Maildir++ sub-folders like `.Sent` as folder 'Sent', the top as
    'INBOX'), and a Rejected per block that is not a message, or for a file that is not mail.

    `processes` is how many processes parse an mbox of 32 MB or more, this one included
    (default 1). With `resume_points`, an mbox also yields a FolderState every that many
    messages (where the next message starts: everything before it has been yielded) and one
    when the file is finished; `resume`, such a cursor from an earlier unfinished read of the
    same file, makes the read carry on from there. Raises only for I/O errors.
    """
    path = pathlib.Path(path)
    if path.is_dir():
        if not is_maildir(path):
            raise NotADirectoryError(f"{path}: a folder that is not a Maildir (no cur/ and new/)")
        yield from _read_maildir(path, include_subject)
        return
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
        if not head.strip(_BLANK) and _rest_is_blank(f):
            return                                       # an empty file holds no messages
        single = path.suffix.lower() == ".eml" and looks_like_eml(head)
        if not single and looks_like_mbox(head):
            size = os.fstat(f.fileno()).st_size
            if processes is None:
                processes = 1       # see _parse_parallel: a second process did not pay off
            if size < _PARALLEL_MIN_BYTES:
                processes = 1
            offset, line = _resume_point(f, head, resume)
            first = head
            if offset:
                f.seek(offset)
                first = f.read(_CHUNK)
            blocks = _mbox_blocks(f, first, offset=offset, line=line)
            if resume_points:
                blocks = _with_resume_points(blocks, resume_points, path, head)
            if processes > 1:
                yield from _parse_parallel(blocks, processes, include_subject)
            else:
                for item in blocks:
                    yield _record_or_state(item, include_subject)
            return
        if single or looks_like_eml(head):
            block, problem = _header_block_of_file(f, head)
            yield _record(1, block, problem, None, include_subject)
            return
    yield Rejected(1, "not a mail file: no From_ line nor mail header fields at its start",
                   _clip(_text(head[:_MAX_REJECTED_TEXT])))


_BLANK = b"\r\n\t \0"


def _rest_is_blank(f) -> bool:
    """True when the rest of an open file holds only blanks and NULs (then rewound to where
    it was: a file that only starts with a run of NULs is not empty)."""
    where = f.tell()
    try:
        while chunk := f.read(1 << 20):
            if chunk.strip(_BLANK):
                return False
        return True
    finally:
        f.seek(where)


def _head_digest(head: bytes) -> str:
    return hashlib.sha256(head).hexdigest()


def _resume_point(f, head: bytes, resume: dict | None) -> tuple[int, int]:
    """(byte offset, line) to start reading an mbox at: where an unfinished earlier read of this
    same file stopped, else its start. A cursor that does not fit the file (another file now
    has the name, or it shrank) is ignored: the read starts over and nothing is added twice."""
    if not resume or resume.get("finished") or not resume.get("offset"):
        return 0, 1
    offset, line = int(resume["offset"]), int(resume.get("line", 1))
    if resume.get("head_sha256") != _head_digest(head):
        return 0, 1
    f.seek(offset)
    at = f.read(5)
    f.seek(len(head))
    return (offset, line) if at == b"From " else (0, 1)


def _with_resume_points(blocks, every: int, path: pathlib.Path, head: bytes):
    """The blocks, with a FolderState before every `every`-th one and after the last: the file
    offset and line where the rest of the file starts."""
    digest = _head_digest(head)
    n = 0
    for item in blocks:
        if n and n % every == 0:
            yield resume_state(path, digest, item[3], item[0])
        n += 1
        yield item
    yield finished_state(path, digest)


def resume_state(path: pathlib.Path, digest: str, offset: int, line: int) -> FolderState:
    """The cursor of an mbox read that stopped before the message at `offset` (on `line`);
    `digest` identifies the file (see `mbox_resume_point`)."""
    return FolderState(path.resolve().as_uri(), {"offset": offset, "line": line,
                                                 "head_sha256": digest, "finished": False})


def finished_state(path: pathlib.Path, digest: str) -> FolderState:
    """The cursor of an mbox read to its end."""
    stat = path.stat()
    # size and mtime_ns as a finished `kith sync` writes them: an unchanged file is then skipped.
    return FolderState(path.resolve().as_uri(), {
        "finished": True, "head_sha256": digest, "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns})


def mbox_resume_point(path: pathlib.Path, resume: dict | None) -> tuple[int, int, str] | None:
    """(byte offset, line, digest of the file's head) where `read_mail(path, resume=resume)`
    starts reading an mbox file, for a reader that reads its messages in ranges
    (`MboxRange`); None when read_mail would not read the file as an mbox (empty, a single
    message, not mail)."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
        if not head.strip(_BLANK) and _rest_is_blank(f):
            return None
        if path.suffix.lower() == ".eml" and looks_like_eml(head) or not looks_like_mbox(head):
            return None
        offset, line = _resume_point(f, head, resume)
        return offset, line, _head_digest(head)


def message_start_after(f, offset: int) -> int:
    """The file offset of the first message of an open mbox that starts at or after `offset`
    on a From_ line after a blank line; the file's size when there is none.

    A From_ line without a blank line before it (which `read_mail` also takes as a boundary
    when it has the strict envelope form) is passed over: inside a header block it is none, so
    only a boundary after a blank line is one whatever the scan that reaches it."""
    at = max(0, offset - 8)
    f.seek(at)
    scan = _MboxScan(f, f.read(_CHUNK), at)
    lo = max(0, offset - at - 1)
    while True:
        i = scan.next_message(lo)
        if i is None:
            return os.fstat(f.fileno()).st_size
        if _after_blank(scan.buf, i - 1):
            return scan.at(i)
        lo = i


class MboxRange:
    """The messages of an mbox file whose From_ line is in bytes [start, end), `start` and `end`
    being message boundaries (`message_start_after`): iterating yields (file offset of the
    From_ line, MailMessage or Rejected) as `read_mail` would for them, except that positions
    are lines counted from 1 at `start`; then `n_lines` is the number of lines in the range.
    Ranges of one file can so be read side by side, each not knowing the line it starts on."""

    def __init__(self, path: pathlib.Path, start: int, end: int, include_subject: bool):
        self.path, self.start, self.end = path, start, end
        self.include_subject = include_subject
        self.n_lines = 0

    def __iter__(self) -> Iterator[tuple[int, MailMessage | Rejected]]:
        with open(self.path, "rb") as f:
            f.seek(self.start)
            part = _Part(f, self.end - self.start)
            scan = _MboxScan(part, part.read(_CHUNK), self.start)
            for item in _scan_blocks(scan):
                yield item[3], _record_or_state(item, self.include_subject)
            self.n_lines = scan.line_of(len(scan.buf)) - 1


class _Part:
    """The next `size` bytes of an open file, as a file to read from."""

    def __init__(self, f, size: int):
        self.f, self.left = f, size

    def read(self, n: int) -> bytes:
        data = self.f.read(min(n, self.left))
        self.left -= len(data)
        return data


def _record_or_state(item, include_subject: bool) -> MailMessage | Rejected | FolderState:
    if isinstance(item, FolderState):
        return item
    position, block, problem, _ = item
    return _record(position, block, problem, None, include_subject)


def _record(position: int, block: bytes, problem: str | None, folder: str | None,
            include_subject: bool) -> MailMessage | Rejected:
    if problem is not None and problem.startswith("reject:"):
        return Rejected(position, problem[7:], _clip(_text(block[:_MAX_REJECTED_TEXT])))
    record = parse_headers(block, position=position, folder=folder,
                           include_subject=include_subject)
    if problem is not None and isinstance(record, MailMessage):
        record.warnings.append(problem)
    return record


def _parse_batch(batch: list, include_subject: bool) -> list[MailMessage | Rejected | FolderState]:
    return [_record_or_state(item, include_subject) for item in batch]


class _Parsed:
    """A batch parsed in this process, queued behind the batches the worker still has."""
    __slots__ = ("records",)

    def __init__(self, records):
        self.records = records

    def ready(self) -> bool:
        return True

    def get(self):
        return self.records


def _parse_parallel(blocks, processes: int, include_subject: bool
                    ) -> Iterator[MailMessage | Rejected]:
    """Parse header blocks in batches on `processes - 1` worker processes and in this one,
    yielding records in file order.

    This process scans the file and hands batches to the workers; when they are all busy it
    parses the batch itself instead of waiting, and when its caller is busy (loading into the
    warehouse) the workers do all the parsing. Batches in flight are bounded, so a fast scan of
    a huge file cannot pile its header blocks up in memory (as Pool.imap would).

    Measured on 2 cores (bench/mbox_ingest.py): 1.0-1.3x the single-process rate when the other
    core is free, down to 0.75x when a neighbour holds it, and no gain under the warehouse loader
    (its DuckDB threads use the second core, and Pool's threads contend for the GIL). So it is
    opt-in, not the default.
    """
    workers = processes - 1
    in_flight = 2 * workers
    # spawn, not fork: the caller may hold DuckDB or Prefect threads that fork would copy mid-lock.
    pool = multiprocessing.get_context("spawn").Pool(workers)
    try:
        pending: deque = deque()
        n_sent = 0                      # batches of `pending` that went to a worker
        for batch in _batches(blocks):
            while pending and pending[0].ready():
                done = pending.popleft()
                n_sent -= not isinstance(done, _Parsed)
                yield from done.get()
            if n_sent < in_flight:
                pending.append(pool.apply_async(_parse_batch, (batch, include_subject)))
                n_sent += 1
            elif len(pending) < 4 * in_flight:
                pending.append(_Parsed(_parse_batch(batch, include_subject)))
            else:
                done = pending.popleft()
                n_sent -= not isinstance(done, _Parsed)
                yield from done.get()
                pending.append(_Parsed(_parse_batch(batch, include_subject)))
        while pending:
            yield from pending.popleft().get()
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _batches(blocks) -> Iterator[list]:
    batch = []
    for item in blocks:
        batch.append(item)
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _header_block_of_file(f, head: bytes) -> tuple[bytes, str | None]:
    """A single message's header block, reading no further than its blank line."""
    data = head
    searched = 0
    while True:
        m = _BLANK_LINE.search(data, max(0, searched - 2))
        if m is not None:
            return data[:m.start() + 1], None
        if len(data) > _MAX_HEADER:
            return data[:_MAX_HEADER], f"header block longer than {_MAX_HEADER >> 20} MB: cut"
        searched = len(data)
        more = f.read(_CHUNK)
        if not more:
            return data, None
        data += more


_BLANK_LINE = re.compile(rb"\n\r*\n")
_TOO_LONG, _NO_END = -1, -2        # header blocks that end too far on, or not at all


def _mbox_blocks(f, head: bytes, *, offset: int = 0, line: int = 1
                 ) -> Iterator[tuple[int, bytes, str | None, int]]:
    """(line of the From_ line, header block, problem, file offset of the From_ line) for each
    message of an mbox file; `head` is the file's bytes from `offset`, which is at `line`.

    problem is None, a warning for the record, or 'reject:<reason>' for a block that is no
    message. Bodies are scanned for the next boundary and dropped chunk by chunk.
    """
    return _scan_blocks(_MboxScan(f, head, offset, line))


def _scan_blocks(scan: "_MboxScan") -> Iterator[tuple[int, bytes, str | None, int]]:
    start = 0
    while start < len(scan.buf) and scan.buf[start] in b"\r\n\t \0":
        start += 1                     # blank lines before the first From_ line
    while start is not None:
        if start > _CHUNK:
            scan.drop(start)
            start = 0
        position = scan.line_of(start)
        eol = scan.find(b"\n", start)
        if eol < 0:                                   # a From_ line and nothing after it
            if scan.buf[start:].strip(b"\r\n\t \0"):
                yield (position, scan.buf[start:start + _MAX_HEADER],
                       "reject:the file ends on this line: a From_ line with no message after it",
                       scan.at(start))
            return
        hdr = eol + 1
        blank = scan.header_end(hdr)
        if blank == _NO_END:
            yield (position, scan.buf[hdr:],
                   "truncated: the file ends inside this message's headers", scan.at(start))
            return
        if blank == _TOO_LONG:
            yield (position, scan.buf[hdr:hdr + _MAX_HEADER],
                   f"reject:header block longer than {_MAX_HEADER >> 20} MB (no blank line)",
                   scan.at(start))
            blank = scan.skip_to_blank_line(hdr)
            if blank < 0:
                return
        else:
            yield position, scan.buf[hdr:blank], None, scan.at(start)
        start = scan.next_message(blank)


class _MboxScan:
    """A window on an mbox file: the bytes not yet passed, and the line number where they start."""

    def __init__(self, f, head: bytes, offset: int = 0, line: int = 1):
        self.f = f
        self.buf = head
        self.eof = False
        self.base = offset     # the file offset of buf[0]
        self.counted_to = 0    # newlines before buf[counted_to] are counted in line_at
        self.line_at = line

    def at(self, index: int) -> int:
        """The file offset of buf[index]."""
        return self.base + index

    def read_more(self) -> bool:
        more = self.f.read(_CHUNK)
        if not more:
            self.eof = True
            return False
        self.buf = self.buf + more
        return True

    def drop(self, upto: int) -> None:
        """Forget buf[:upto], keeping the line count right."""
        if upto >= self.counted_to:
            self.line_at += self.buf.count(b"\n", self.counted_to, upto)
        else:
            self.line_at -= self.buf.count(b"\n", upto, self.counted_to)
        self.buf = self.buf[upto:]
        self.base += upto
        self.counted_to = 0

    def line_of(self, index: int) -> int:
        self.line_at += self.buf.count(b"\n", self.counted_to, index)
        self.counted_to = index
        return self.line_at

    def find(self, needle: bytes, start: int) -> int:
        i = self.buf.find(needle, start)
        while i < 0 and self.read_more():
            i = self.buf.find(needle, start)
        return i

    def header_end(self, hdr: int) -> int:
        """Index of the blank line ending the header block at hdr; _TOO_LONG when it is more
        than _MAX_HEADER bytes on, _NO_END when the file ends before it."""
        buf = self.buf
        if buf[hdr:hdr + 1] == b"\n" or buf[hdr:hdr + 2] == b"\r\n":
            return hdr
        searched = hdr
        while True:
            m = _BLANK_LINE.search(self.buf, max(hdr, searched - 4))
            if m is not None:
                # past the limit wherever the reads happened to stop, so that a range of the
                # file read on its own (flows.mbox_reader) ends the block where a whole read does
                return m.start() + 1 if m.start() - hdr <= _MAX_HEADER else _TOO_LONG
            searched = len(self.buf)
            if searched - hdr > _MAX_HEADER:
                return _TOO_LONG
            if not self.read_more():
                return _NO_END

    def skip_to_blank_line(self, hdr: int) -> int:
        """After an oversized header block: drop bytes up to its blank line (-1: none)."""
        while True:
            m = _BLANK_LINE.search(self.buf, hdr)
            if m is not None:
                return m.start() + 1
            cut = max(hdr, len(self.buf) - 8)
            self.drop(cut)
            hdr = 0
            if not self.read_more():
                return -1

    def next_message(self, lo: int) -> int | None:
        """Index of the next From_ line that starts a message, scanning (and dropping) the body
        from lo; None at the end of the file."""
        while True:
            i = self.buf.find(b"\nFrom ", lo)
            if i < 0:
                if self.eof:
                    return None
                cut = max(0, len(self.buf) - 8)
                self.drop(cut)
                lo = max(0, lo - cut)
                if not self.read_more():
                    return None
                continue
            verdict = self.starts_message(i + 1)
            while verdict is None:
                self.read_more()
                verdict = self.starts_message(i + 1)
            if verdict and (_after_blank(self.buf, i) or _ENVELOPE.match(self.buf, i + 1)):
                return i + 1
            lo = i + 1

    def starts_message(self, i: int) -> bool | None:
        """Whether the `From ` line at buf[i] is followed by a header field (None: cannot tell
        before reading more)."""
        buf = self.buf
        eol = buf.find(b"\n", i, i + _LOOKAHEAD)
        if eol < 0:
            return None if (not self.eof and len(buf) - i < _LOOKAHEAD) else False
        nxt = buf[eol + 1:eol + 1 + 1000]
        if not self.eof and len(nxt) < 1000 and b":" not in nxt and b"\n" not in nxt:
            return None
        return _FIELD_NAME.match(nxt) is not None and not nxt.startswith(b"From ")


def _after_blank(buf: bytes, i: int) -> bool:
    """Whether the newline at buf[i] ends a blank line (LF LF, CRLF CRLF, LF CRLF)."""
    return i == 0 or buf[i - 1] == 10 or (buf[i - 1] == 13 and (i < 2 or buf[i - 2] == 10))


# ---------------------------------------------------------------------------------------------
# Maildir


def _read_maildir(path: pathlib.Path, include_subject: bool
                  ) -> Iterator[MailMessage | Rejected]:
    folders = [("INBOX", path)]
    for child in sorted(path.iterdir()):
        if child.name.startswith(".") and child.name not in (".", "..") and is_maildir(child):
            folders.append((child.name[1:], child))
    for folder, root in folders:
        for sub in ("cur", "new"):
            for file in sorted((root / sub).iterdir()):
                if file.name.startswith(".") or not file.is_file():
                    continue
                with open(file, "rb") as f:
                    head = f.read(SNIFF_BYTES)
                    if not head.strip(b"\r\n\t \0"):
                        yield Rejected(1, f"empty message file {sub}/{file.name}", "")
                        continue
                    block, problem = _header_block_of_file(f, head)
                record = _record(1, block, problem, folder, include_subject)
                if isinstance(record, Rejected):
                    record.reason += f" ({folder}: {sub}/{file.name})"
                yield record
