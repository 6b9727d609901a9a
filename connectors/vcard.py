"""vCard files (2.1, 3.0, 4.0) as contact cards.

A `.vcf` file is read as bytes and split into cards at BEGIN:VCARD / END:VCARD before anything is
parsed, so memory stays flat however large the file and one unreadable card fails alone. Each card
then gets a cheap normalising pass over its bytes, the part where real exports differ from the RFCs:
line folding (space or TAB), vCard 2.1 quoted-printable with soft line breaks (also splitting a
UTF-8 sequence across lines), CHARSET per property (UTF-8, windows-1252, Shift_JIS, unknown labels),
`#` comment lines, blank lines, base64 continuation lines without indent, Sony Ericsson
backslash-newline continuations, empty or dangling parameters (`TYPE=WORK,`, `;;`, `;:`), nested
AGENT cards. Each logical line then goes through vobject's content-line parser (`parseLine`).

vobject's component reader (`readOne` / `readComponents`) is not used on purpose: once a card has a
VERSION, it decodes every unknown text property with `stringToTextValues(...)[0]`, which silently
truncates a value at its first unescaped comma (`NOTE:Met in Berlin, 2019` -> `Met in Berlin`), and
it applies vCard 3.0 backslash unescaping to 2.1 values, which have none. Values are unescaped here
instead, by the rules of the card's own version.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import pathlib
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import BinaryIO
from urllib.parse import unquote_to_bytes, urlsplit

from vobject.base import ParseError, parseLine

from kith.connectors.lines import bom_encoding, physical_lines, reencoded_chunks
from kith.emails import normalize_email
from kith.names import is_cjk, split_full_name
from kith.phones import normalize_phone
from kith.records import Address, ContactCard, Email, Link, Phone, Rejected

_CHUNK = 1 << 20
_MAX_LINE = 8 << 20          # a longer physical line is cut: no real card has one
_MAX_CARD = 16 << 20         # a card still open after this many bytes is given up on
_MAX_NESTED = 8              # more nested BEGIN:VCARD than this is a missing END, not AGENT
_MAX_REJECTED_TEXT = 4000    # raw_text kept for junk / oversized rejects

_BASE64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_BINARY_PROPS = {"PHOTO", "LOGO", "SOUND", "KEY"}

# Labels that writers use for charsets Python names otherwise, or where the real encoding is a
# superset (Japanese phones write cp932 and call it Shift_JIS; "ISO-8859-1" is windows-1252).
_CHARSET_ALIASES = {
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
    "us-ascii": "utf-8", "ascii": "utf-8",
}

_SOCIAL_HOSTS = {
    "linkedin.com": "linkedin", "twitter.com": "twitter", "x.com": "twitter",
    "github.com": "github", "gitlab.com": "gitlab",
    "facebook.com": "facebook", "fb.com": "facebook",
    "instagram.com": "instagram", "xing.com": "xing", "youtube.com": "youtube",
    "tiktok.com": "tiktok", "threads.net": "threads", "bsky.app": "bluesky",
    "mastodon.social": "mastodon", "flickr.com": "flickr", "myspace.com": "myspace",
    "weibo.com": "weibo", "vk.com": "vk", "t.me": "telegram", "reddit.com": "reddit",
    "pinterest.com": "pinterest", "plus.google.com": "googleplus",
}
# Properties that name an IM handle or a social profile, with the service they imply.
_IMPP_PROPS = {
    "X-AIM": "aim", "X-JABBER": "xmpp", "X-SKYPE": "skype", "X-SKYPE-USERNAME": "skype",
    "X-ICQ": "icq", "X-MSN": "msn", "X-YAHOO": "yahoo", "X-GADUGADU": "gadugadu",
    "X-GOOGLE-TALK": "googletalk", "X-GTALK": "googletalk", "X-QQ": "qq", "X-SIP": "sip",
    "X-GROUPWISE": "groupwise", "X-MATRIX": "matrix", "X-MS-IMADDRESS": None,
}
_SOCIAL_PROPS = {
    "X-TWITTER": "twitter", "X-FACEBOOK": "facebook", "X-LINKEDIN": "linkedin",
    "X-INSTAGRAM": "instagram", "X-MASTODON": "mastodon", "X-GITHUB": "github",
}
_IMPP_SCHEMES = {
    "xmpp": "xmpp", "aim": "aim", "skype": "skype", "callto": "skype", "ymsgr": "yahoo",
    "msnim": "msn", "icq": "icq", "sip": "sip", "irc": "irc", "gg": "gadugadu", "matrix": "matrix",
}

_UNESCAPE = re.compile(r"\\(.)", re.S)
_UNESCAPES = {"n": "\n", "N": "\n"}
_APPLE_LABEL = re.compile(r"^_?\$!<(.*)>!\$_?$", re.S)
_PROPERTY_NAME = re.compile(r"^(?:[A-Za-z0-9_-]+\.)?[A-Za-z0-9_-]+$")
_REV = re.compile(
    r"^(\d{4})-?(\d{2})-?(\d{2})"
    r"(?:[T ](\d{2}):?(\d{2})(?::?(\d{2}))?(?:[.,]\d+)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?")


def read_vcards(path: pathlib.Path, default_region: str | None = None
                ) -> Iterator[ContactCard | Rejected]:
    """Yield a ContactCard per readable card of a `.vcf` file, a Rejected per card that is not.

    Text outside any card (other than blank and `#` comment lines) is yielded as a Rejected too,
    and a file with content but no card at all yields one Rejected saying so. Positions are
    1-based line numbers. Raises only for I/O errors (a missing or unreadable file).
    """
    with open(path, "rb") as f:
        yield from read_vcard_stream(f, default_region, what="file")


def read_vcard_stream(f: BinaryIO, default_region: str | None = None, *, what: str = "file"
                      ) -> Iterator[ContactCard | Rejected]:
    """The cards of an open binary stream (a file, or a CardDAV resource in io.BytesIO), read
    as `read_vcards` describes; `what` names it in the no-card reason."""
    head = f.read(_CHUNK)
    chunks = _decoded_chunks(f, head)
    found = False
    for kind, start, payload in _split_cards(_physical_lines(chunks)):
        if kind == "card":
            found = True
            yield _read_card(payload, start, default_region)
        elif kind == "junk":
            yield Rejected(start, "text outside a vCard (no BEGIN:VCARD before it)", payload)
        elif kind == "junk-at-end":
            reason = ("text outside a vCard (no BEGIN:VCARD before it)" if found
                      else f"no vCard found in {what} (no BEGIN:VCARD line)")
            yield Rejected(start, reason, payload)
        else:  # a card cut short: payload is (reason, lines)
            found = True
            reason, lines = payload
            yield Rejected(start, reason, _clip(_decode(b"\n".join(lines))))


def looks_like_vcard(head: bytes) -> bool:
    """True when the first bytes of a file (about 64 KB) are a vCard, whatever its extension.

    Understands UTF-8 and UTF-16 (with or without BOM) and skips leading blank and `#` lines.
    A file whose first line is VERSION:x (BEGIN:VCARD lost) counts when an END:VCARD follows.
    """
    text = _head_text(head)
    if text is None:
        return False
    first = None
    for line in text.splitlines():
        s = line.strip()
        if s and not s.startswith("#"):
            first = s.upper()
            break
    if first is None:
        return False
    if first == "BEGIN:VCARD":
        return True
    return (first in ("VERSION:2.1", "VERSION:3.0", "VERSION:4.0")
            and re.search(r"(?im)^END:VCARD\s*$", text) is not None)


# ---------------------------------------------------------------------------------------------
# Splitting a file into cards


def _head_text(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    elif bom_encoding(head) or _is_bomless_utf16(head):
        enc = bom_encoding(head) or ("utf-16-le" if head[1:2] == b"\0" else "utf-16-be")
        width = 4 if enc == "utf-32" else 2
        return head[: len(head) // width * width].decode(enc, "replace")
    if b"\0" in head[:1024]:
        return None
    return head.decode("utf-8", "replace")


def _is_bomless_utf16(head: bytes) -> bool:
    sample = head[:64]
    mostly = len(sample) // 2 * 3 // 4   # three quarters of the even (or odd) bytes are NUL
    few = len(sample) // 2 // 4          # ... and at most a quarter of the others: text, not a
    even, odd = sample[0::2].count(0), sample[1::2].count(0)   # run of NULs
    return len(sample) >= 8 and ((odd > mostly and even <= few) or (even > mostly and odd <= few))


def _decoded_chunks(f, head: bytes) -> Iterator[bytes]:
    """The file's bytes in chunks, UTF-16 files re-encoded as UTF-8, a UTF-8 BOM dropped."""
    if bom_encoding(head) or _is_bomless_utf16(head):
        enc = bom_encoding(head) or ("utf-16-le" if head[1:2] == b"\0" else "utf-16-be")
        yield from reencoded_chunks(f, head, enc, _CHUNK)
        return
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    data = head
    while data:
        yield data
        data = f.read(_CHUNK)


def _physical_lines(chunks: Iterable[bytes], sep: bytes | None = None) -> Iterator[bytes]:
    """Lines without their ending (LF, CRLF, CRCRLF or CR, mixed or not); overlong lines cut."""
    return physical_lines(chunks, _MAX_LINE)


def _is_marker(line: bytes, marker: bytes) -> bool:
    return line.rstrip().upper() == marker


def _split_cards(lines: Iterable[bytes]):
    """Yield ('card', start, lines), ('junk', start, text) and ('cut', start, (reason, lines)).

    Text outside cards comes as 'junk' when a card follows it, as 'junk-at-end' when none does.

    Nested BEGIN/END pairs (vCard 2.1 AGENT) stay inside their card. A card that never ends is
    cut at its first nested BEGIN, and the lines from there are read again as cards of their own.
    """
    source = enumerate(lines, 1)
    replay: list[tuple[int, bytes]] = []   # lines to read again, last one first
    card: list[bytes] | None = None
    start = depth = size = n_nested = 0
    nested_at: int | None = None
    junk: list[bytes] = []
    junk_start = 0
    junk_size = 0
    skipping = False                          # after an oversized card, until its END

    while True:
        if replay:
            lineno, line = replay.pop()
        else:
            item = next(source, None)
            if item is None:
                if card is not None and nested_at is not None:
                    yield "cut", start, ("truncated card: no END:VCARD before the next "
                                         "BEGIN:VCARD", card[:nested_at])
                    replay.extend((start + i, card[i])
                                  for i in range(len(card) - 1, nested_at - 1, -1))
                    card = None
                    continue
                break
            lineno, line = item

        if card is not None:
            first = line[:1]
            if first in b"Ee" and first and _is_marker(line, b"END:VCARD"):
                depth -= 1
                card.append(line)
                if depth == 0:
                    yield "card", start, card
                    card = None
                continue
            if first in b"Bb" and first and _is_marker(line, b"BEGIN:VCARD"):
                depth += 1
                n_nested += 1
                if nested_at is None:
                    nested_at = len(card)
            card.append(line)
            size += len(line) + 1
            if (n_nested > _MAX_NESTED or size > _MAX_CARD) and nested_at is not None:
                yield "cut", start, ("truncated card: no END:VCARD before the next BEGIN:VCARD",
                                     card[:nested_at])
                replay.extend((start + i, card[i]) for i in range(len(card) - 1, nested_at - 1, -1))
                card = None
            elif size > _MAX_CARD:
                yield "cut", start, (f"card is larger than {_MAX_CARD >> 20} MB", card[:50])
                card = None
                skipping = True
            continue

        stripped = line.strip()
        if _is_marker(stripped, b"BEGIN:VCARD"):
            if junk:
                yield "junk", junk_start, _clip(_decode(b"\n".join(junk)))
                junk = []
            card, start, depth, size, n_nested, nested_at = [line], lineno, 1, 0, 0, None
            skipping = False
            continue
        if skipping:
            if _is_marker(stripped, b"END:VCARD"):
                skipping = False
            continue
        if not stripped or stripped[:1] == b"#":
            continue
        if not junk:
            junk_start, junk_size = lineno, 0
        if junk_size < _MAX_REJECTED_TEXT:
            junk.append(line[:_MAX_REJECTED_TEXT])
            junk_size += min(len(line), _MAX_REJECTED_TEXT)

    if card is not None:
        yield "cut", start, ("truncated card: no END:VCARD before the end of the file", card)
    if junk:
        yield "junk-at-end", junk_start, _clip(_decode(b"\n".join(junk)))


# ---------------------------------------------------------------------------------------------
# One card


class _Prop:
    """One parsed content line: name upper-cased, params by upper-cased key, bare params apart."""
    __slots__ = ("name", "group", "params", "singles", "value")

    def __init__(self, name, group, params, singles, value):
        self.name = name
        self.group = group
        self.params = params
        self.singles = singles
        self.value = value

    def types(self) -> list[str]:
        out: list[str] = []
        for raw in self.params.get("TYPE", ()):
            for t in raw.split(","):
                t = t.strip().lower()
                if t.startswith("type="):   # TYPE=HOME,TYPE=VOICE
                    t = t[5:]
                if t and t not in out:
                    out.append(t)
        for t in self.singles:
            t = t.strip().lower()
            if t and t not in out and t not in ("base64", "quoted-printable", "8bit", "7bit"):
                out.append(t)
        if "PREF" in self.params and "pref" not in out:
            out.append("pref")
        return out

    def param(self, key: str) -> str | None:
        values = self.params.get(key)
        return values[0] if values else None


def _read_card(lines: list[bytes], start: int, region: str | None) -> ContactCard | Rejected:
    try:
        return _card_from_lines(lines, start, region)
    except Exception as exc:  # noqa: BLE001 - one card's surprise must not stop the file
        return Rejected(start, f"could not read card: {type(exc).__name__}: {exc}",
                        _clip(_decode(b"\n".join(lines))))


def _card_from_lines(lines, start, region):
    logical = _logical_lines(lines)
    props: list[_Prop] = []
    charsets: list[str] = []
    elide: dict[int, tuple[int, str]] = {}   # first physical index -> (last index, replacement)
    for parts, first, last, qp, has_charset in logical:
        raw = parts[0] if len(parts) == 1 else b"".join(parts)
        if qp or has_charset:
            text, charset = _decode_encoded_line(raw, qp)
            if charset:
                charsets.append(charset)
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("cp1252", "replace")
        colon = text.find(":")
        if colon < 0:
            continue
        head = text[:colon]
        if "," in head or ";;" in head or head.endswith(";") or '"' in head:
            text = _clean_head(head) + text[colon:]
        try:
            name, plist, value, group = parseLine(text, start + first)
        except ParseError as exc:
            if not _PROPERTY_NAME.match(_split_params(head)[0].strip() if head else ""):
                continue   # not a property at all: a stray line in the card
            return Rejected(start, f"vobject could not parse line {start + first}: "
                                   f"{_clip(str(exc), 200)}", _raw_text(lines, elide, charsets))
        name = name.upper()
        params: dict[str, list[str]] = {}
        singles: list[str] = []
        for p in plist:
            if len(p) == 1:
                singles.append(p[0])
            else:
                params.setdefault(p[0].upper(), []).extend(p[1:])
        prop = _Prop(name, group, params, singles, value)
        props.append(prop)
        # Inline data goes (the card's text stays small); a short link stays as written.
        # Outlook's X-MS-CARDPICTURE and the like are base64 under another name.
        if (name in _BINARY_PROPS and not ("://" in value[:40] and len(value) < 1000)) or (
                len(value) > 1000 and _is_base64(prop)):
            digest = _binary_sha256(prop)
            prop.value = "<sha256:" + digest + ">"
            elide[first] = (last, head.strip() + ":<sha256:" + digest + ">")
    return _build_card(props, lines, start, region, elide, charsets)


def _logical_lines(lines: list[bytes]):
    """Group a card's physical lines (BEGIN and END excluded) into logical lines.

    Returns [parts, first index, last index, is quoted-printable, has CHARSET] per logical line.
    """
    out = []
    cur = None
    qp_more = False     # the last line ended in a quoted-printable soft break
    b64 = False         # inside a 2.1 base64 value, which may go on without indent
    depth = 0           # inside a nested card (AGENT), which is skipped
    last = len(lines) - 1 if len(lines) > 1 and _is_marker(lines[-1], b"END:VCARD") else len(lines)
    for idx in range(1, last):
        raw = lines[idx]
        if qp_more:
            cur[0].append(b"\n")
            cur[0].append(raw)
            cur[2] = idx
            qp_more = raw.endswith(b"=")
            continue
        first = raw[:1]
        if (first == b" " or first == b"\t") and cur is not None and raw.strip():
            if depth:
                continue
            cur[0].append(raw[1:])
            cur[2] = idx
            qp_more = cur[3] and raw.endswith(b"=")
            continue
        stripped = raw.strip()
        if not stripped:
            b64 = False
            continue
        if stripped[:1] == b"#":
            continue
        if first in b"BbEe":
            if _is_marker(stripped, b"BEGIN:VCARD"):
                depth += 1
                cur = None
                continue
            if depth and _is_marker(stripped, b"END:VCARD"):
                depth -= 1
                continue
        if depth:
            continue
        colon = raw.find(b":")
        if b64 and colon < 0 and not stripped.translate(None, _BASE64_CHARS):
            cur[0].append(stripped)
            cur[2] = idx
            continue
        b64 = False
        if colon < 0 and cur is not None and cur[0][-1].endswith(b"\\"):
            # Sony Ericsson writes newlines in values as a backslash at the end of the line.
            cur[0][-1] = cur[0][-1][:-1]
            cur[0].append(b"\n")
            cur[0].append(raw)
            cur[2] = idx
            continue
        # A line without a colon may still get one from its folded continuation lines; one that
        # does not is dropped when the line is parsed.
        hu = raw[:colon].upper() if colon >= 0 else raw.upper()
        qp = b"QUOTED-PRINTABLE" in hu
        cur = [[raw], idx, idx, qp, b"CHARSET" in hu]
        out.append(cur)
        qp_more = qp and raw.endswith(b"=")
        b64 = b"BASE64" in hu
    return out


def _decode_encoded_line(raw: bytes, qp: bool) -> tuple[str, str | None]:
    """A line with QUOTED-PRINTABLE and/or CHARSET as clean text, those parameters removed."""
    colon = _value_colon(raw)
    if colon < 0:
        return raw.decode("utf-8", "replace"), None
    head, value = raw[:colon], raw[colon + 1:]
    charset = None
    kept = []
    for token in _split_params(head.decode("utf-8", "replace")):
        key, eq, val = token.partition("=")
        k = key.strip().upper()
        if eq and k == "CHARSET":
            charset = val.strip().strip('"')
            continue
        if (eq and k == "ENCODING" and val.strip().upper() == "QUOTED-PRINTABLE") or (
                not eq and k == "QUOTED-PRINTABLE"):
            continue
        kept.append(token)
    if qp:
        value = binascii.a2b_qp(value)
    return ";".join(kept) + ":" + _decode(value, charset), charset


def _value_colon(raw: bytes) -> int:
    """Index of the colon that ends the name and parameters (a quoted parameter may hold one)."""
    colon = raw.find(b":")
    if colon < 0 or raw.find(b'"', 0, colon) < 0:
        return colon
    in_quotes = False
    for i, c in enumerate(raw):
        if c == 34:
            in_quotes = not in_quotes
        elif c == 58 and not in_quotes:
            return i
    return -1


def _split_params(head: str) -> list[str]:
    """Split `name;p=a;p="x;y"` at semicolons outside double quotes."""
    if '"' not in head:
        return head.split(";")
    out, buf, in_quotes = [], [], False
    for c in head:
        if c == '"':
            in_quotes = not in_quotes
        if c == ";" and not in_quotes:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(c)
    out.append("".join(buf))
    return out


def _clean_head(head: str) -> str:
    """Drop empty parameters and empty list items; bare `A,B` parameters become TYPE=A,B."""
    tokens = _split_params(head)
    out = [tokens[0].strip()]
    for token in tokens[1:]:
        token = token.strip()
        if not token:
            continue
        key, eq, val = token.partition("=")
        if eq:
            items = [i.strip() for i in _split_commas(val) if i.strip() and i.strip() != '""']
            if items:
                out.append(key.strip() + "=" + ",".join(items))
        else:
            items = [i.strip() for i in token.split(",") if i.strip()]
            if len(items) > 1:
                out.append("TYPE=" + ",".join(items))
            elif items:
                out.append(items[0])
    return ";".join(out)


def _split_commas(value: str) -> list[str]:
    if '"' not in value:
        return value.split(",")
    out, buf, in_quotes = [], [], False
    for c in value:
        if c == '"':
            in_quotes = not in_quotes
        if c == "," and not in_quotes:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(c)
    out.append("".join(buf))
    return out


# ---------------------------------------------------------------------------------------------
# Values


def _decode(data: bytes, charset: str | None = None) -> str:
    if charset:
        name = _CHARSET_ALIASES.get(charset.lower(), charset)
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            pass   # a wrong or unknown label: the bytes decide
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _unescape(value: str) -> str:
    """vCard 3.0/4.0 text: \\n is a newline, \\, \\; \\\\ are themselves."""
    if "\\" not in value:
        return value
    return _UNESCAPE.sub(lambda m: _UNESCAPES.get(m.group(1), m.group(1)), value)


def _split_unescaped(value: str, sep: str) -> list[str]:
    """Split at `sep` not preceded by a backslash; backslash escapes are kept for _unescape."""
    if "\\" not in value:
        return value.split(sep)
    out, buf, i, n = [], [], 0, len(value)
    while i < n:
        c = value[i]
        if c == "\\" and i + 1 < n:
            buf.append(value[i:i + 2])
            i += 2
            continue
        if c == sep:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(c)
        i += 1
    out.append("".join(buf))
    return out


def _text(value: str, v21: bool) -> str:
    """A single text value as the person wrote it. vCard 2.1 has no backslash escapes."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.strip() if v21 else _unescape(value).strip()


def _components(value: str, v21: bool) -> list[str]:
    """The ;-separated components of N, ADR, ORG. In 2.1 only \\; (and \\\\) are escapes."""
    parts = _split_unescaped(value, ";")
    if v21:
        return [p.replace("\\;", ";").replace("\\:", ":").replace("\\\\", "\\")
                .replace("\r", "").strip() for p in parts]
    return [_unescape(p).replace("\r", "").strip() for p in parts]


def _list(value: str, v21: bool) -> list[str]:
    """A comma-separated list (NICKNAME, CATEGORIES); 2.1 writers also use semicolons."""
    if v21:
        return [p.strip() for p in re.split(r"[,;]", value) if p.strip()]
    return [_unescape(p).strip() for p in _split_unescaped(value, ",") if _unescape(p).strip()]


def _label(value: str) -> str | None:
    value = value.strip()
    match = _APPLE_LABEL.match(value)
    if match:
        value = match.group(1)
    return value or None


def _birthday(prop: _Prop) -> str | None:
    value = prop.value.strip()
    if (prop.param("VALUE") or "").lower() == "text":
        return None
    if value.startswith("--"):
        digits = value[2:].replace("-", "")[:4]
        if len(digits) == 4 and digits.isdigit() and _valid_day(2000, digits[:2], digits[2:]):
            return f"--{digits[:2]}-{digits[2:]}"
        return None
    match = _REV.match(value)
    if not match:
        return None
    year, month, day = match.group(1), match.group(2), match.group(3)
    if not _valid_day(int(year), month, day):
        return None
    omit = prop.param("X-APPLE-OMIT-YEAR")
    if omit and omit.strip() == year:
        return f"--{month}-{day}"
    return f"{year}-{month}-{day}"


def _valid_day(year: int, month: str, day: str) -> bool:
    try:
        date(year, int(month), int(day))
    except ValueError:
        return False
    return True


def _revised_at(value: str) -> datetime | None:
    match = _REV.match(value.strip())
    if not match:
        return None
    y, mo, d, h, mi, s, zone = match.groups()
    try:
        moment = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                          tzinfo=timezone.utc)
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        moment -= sign * offset
    return moment


def _binary_sha256(prop: _Prop) -> str:
    """sha256 of a PHOTO's (LOGO's...) decoded bytes, or of its text when it is a link."""
    value = prop.value.strip()
    if value[:5].lower() == "data:":
        header, _, data = value.replace("\\,", ",").partition(",")
        if ";base64" in header.lower():
            blob = _b64decode(data)
        else:
            blob = unquote_to_bytes(data)
        if blob is not None:
            return hashlib.sha256(blob).hexdigest()
    is_b64 = _is_base64(prop)
    is_link = (prop.param("VALUE") or "").lower() in ("uri", "url") or "://" in value[:40]
    if is_b64 or (not is_link and len(value) > 64 and ":" not in value[:40]):
        blob = _b64decode(value)
        if blob is not None:
            return hashlib.sha256(blob).hexdigest()
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _is_base64(prop: _Prop) -> bool:
    encoding = (prop.param("ENCODING") or "").upper()
    return encoding in ("B", "BASE64") or any(s.upper() == "BASE64" for s in prop.singles)


def _b64decode(text: str) -> bytes | None:
    data = "".join(text.split()).rstrip("=")
    try:
        return base64.b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return None


def _host_service(url: str) -> str | None:
    try:
        host = urlsplit(url if "://" in url else "http://" + url).hostname or ""
    except ValueError:
        return None
    host = host.lower()
    for prefix in ("www.", "m.", "mobile."):
        if host.startswith(prefix):
            host = host[len(prefix):]
    if host in _SOCIAL_HOSTS:
        return _SOCIAL_HOSTS[host]
    for known, service in _SOCIAL_HOSTS.items():
        if host.endswith("." + known):
            return service
    return None


# ---------------------------------------------------------------------------------------------
# Building the record


def _build_card(props, lines, start, region, elide, charsets) -> ContactCard | Rejected:
    version = None
    for p in props:
        if p.name == "VERSION":
            version = p.value.strip()
            break
    source_format = _source_format(version, props, lines)
    v21 = source_format == "vcard-2.1"

    labels = {}
    for p in props:
        if p.group and p.name == "X-ABLABEL":
            labels[p.group.lower()] = _label(_text(p.value, v21))

    card = ContactCard(position=start, raw_text="", source_format=source_format)
    fn = n_parts = org_parts = kind = show_as = None
    notes = []
    for p in props:
        name = p.name
        label = labels.get(p.group.lower()) if p.group else None
        if name == "EMAIL":
            address = _text(p.value, v21)
            if address:
                normalized = normalize_email(address)
                if normalized is None and "<" in address and ">" in address:
                    normalized = normalize_email(address[address.rfind("<"):address.rfind(">") + 1])
                card.emails.append(Email(address, normalized, p.types(), label))
        elif name == "TEL":
            number = _text(p.value, v21)
            if number:
                card.phones.append(Phone(number, normalize_phone(number, region), p.types(), label))
        elif name == "ADR":
            parts = (_components(p.value, v21) + [""] * 7)[:7]
            if any(parts):
                card.addresses.append(Address(*(x or None for x in parts),
                                              types=p.types(), label=label))
        elif name == "FN":
            if fn is None:
                fn = _text(p.value, v21) or None
        elif name == "N":
            if n_parts is None:
                n_parts = (_components(p.value, v21) + [""] * 5)[:5]
        elif name == "ORG":
            if org_parts is None:
                org_parts = [x for x in _components(p.value, v21) if x]
        elif name == "NICKNAME":
            card.nicknames.extend(x for x in _list(p.value, v21) if x not in card.nicknames)
        elif name == "CATEGORIES":
            card.categories.extend(x for x in _list(p.value, v21) if x not in card.categories)
        elif name == "TITLE":
            card.title = card.title or _text(p.value, v21) or None
        elif name == "ROLE":
            card.role = card.role or _text(p.value, v21) or None
        elif name == "NOTE":
            note = _text(p.value, v21)
            if note:
                notes.append(note)
        elif name == "BDAY":
            if card.birthday is None:
                card.birthday = _birthday(p)
        elif name == "UID":
            card.uid = card.uid or _text(p.value, v21) or None
        elif name == "REV":
            if card.revision is None:
                card.revision = p.value.strip() or None
                card.revised_at = _revised_at(p.value) if card.revision else None
        elif name == "PHOTO":
            if card.photo_sha256 is None:
                card.photo_sha256 = (p.value[8:-1] if p.value.startswith("<sha256:")
                                     else _binary_sha256(p))
        elif name == "KIND" or name == "X-ADDRESSBOOKSERVER-KIND":
            kind = p.value.strip().lower()
        elif name == "X-ABSHOWAS":
            show_as = p.value.strip().upper()
        elif name in ("URL", "X-SOCIALPROFILE", "IMPP") or name in _IMPP_PROPS \
                or name in _SOCIAL_PROPS:
            link = _link(p, name, v21, label)
            if link is not None:
                card.links.append(link)

    card.note = "\n".join(notes) or None
    if org_parts:
        card.org, card.org_units = org_parts[0], org_parts[1:]
    is_org = kind == "org" or show_as == "COMPANY" or (fn is not None and fn == card.org)
    card.full_name = fn
    has_n = False
    if n_parts is not None:
        family, given, additional, prefix, suffix = (x or None for x in n_parts)
        if family or given:
            has_n = True
            card.family_name, card.given_name = family, given
            card.additional_names, card.name_prefix, card.name_suffix = additional, prefix, suffix
            if fn is None:
                card.full_name = _compose_name(prefix, given, additional, family, suffix)
    if fn and not has_n and not is_org:
        given, family = split_full_name(fn)
        if given or family:
            card.given_name, card.family_name = given, family
            card.is_name_derived = True
    if card.full_name is None and is_org and card.org:
        card.full_name = card.org

    card.raw_text = _raw_text(lines, elide, charsets)
    if not (card.full_name or has_n or card.emails or card.phones or card.org):
        return Rejected(start, "card has no name, e-mail, phone or organisation", card.raw_text)
    return card


def _compose_name(prefix, given, additional, family, suffix) -> str | None:
    if family and given and is_cjk(family + given):
        core = family + given
        return " ".join(x for x in (prefix, core, suffix) if x) or None
    parts = (prefix, given, additional and additional.replace(",", " "), family, suffix)
    return " ".join(x for x in parts if x) or None


def _link(p: _Prop, name: str, v21: bool, label: str | None) -> Link | None:
    value = _text(p.value, v21)
    if not value:
        return None
    types = p.types()
    if name == "URL":
        service = _host_service(value)
        return Link(value, "social" if service else "url", service, types, label)
    if name == "X-SOCIALPROFILE" or name in _SOCIAL_PROPS:
        service = _SOCIAL_PROPS.get(name)
        if service is None:
            named = [t for t in types if t != "pref"]
            service = named[0] if named else _host_service(value)
        return Link(value, "social", service, [t for t in types if t != service], label)
    service = _IMPP_PROPS.get(name)
    if service is None:
        service = (p.param("X-SERVICE-TYPE") or "").strip().lower() or None
    if service is None and ":" in value:
        scheme = value.split(":", 1)[0].lower()
        service = _IMPP_SCHEMES.get(scheme, scheme if scheme.isalpha() else None)
    return Link(value, "impp", service, types, label)


def _source_format(version: str | None, props, lines) -> str:
    if version:
        if version.startswith("2"):
            return "vcard-2.1"
        if version.startswith("4"):
            return "vcard-4.0"
        if version.startswith("3"):
            return "vcard-3.0"
    # No VERSION: guess from what only one version writes.
    names = {p.name for p in props}
    if "KIND" in names or any("PREF" in p.params or (p.param("VALUE") or "").lower() == "uri"
                              and p.value.startswith("tel:") for p in props):
        return "vcard-4.0"
    if any("TYPE" in p.params for p in props):
        return "vcard-3.0"
    if any(b"QUOTED-PRINTABLE" in line.upper() for line in lines) or any(
            p.singles for p in props if p.name in ("TEL", "EMAIL", "ADR")):
        return "vcard-2.1"
    return "vcard-3.0"


def _raw_text(lines: list[bytes], elide: dict, charsets: list[str]) -> str:
    if not elide:
        blob = b"\n".join(lines)
        try:
            return blob.decode("utf-8")
        except UnicodeDecodeError:
            charset = charsets[0] if charsets else None
            return "\n".join(_decode(line, charset) for line in lines)
    out = []
    charset = charsets[0] if charsets else None
    i, n = 0, len(lines)
    while i < n:
        if i in elide:
            last, replacement = elide[i]
            out.append(replacement)
            i = last + 1
            continue
        out.append(_decode(lines[i], charset))
        i += 1
    return "\n".join(out)


def _clip(text: str, limit: int = _MAX_REJECTED_TEXT) -> str:
    return text if len(text) <= limit else text[:limit] + " [...]"
