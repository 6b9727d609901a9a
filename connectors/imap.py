"""Reading mail headers from an IMAP account, one folder at a time, incrementally.

An IMAP folder is an incremental source: its cursor is (UIDVALIDITY, last UID read). While the
server keeps the same UIDVALIDITY, UIDs only grow, so the next read fetches UIDs above the cursor;
when UIDVALIDITY changes the folder is read again from the start (the loader keeps one row per
Message-ID, so nothing is stored twice). Only header fields are fetched, with BODY.PEEK so nothing
is marked \\Seen, and the folder is opened read-only (EXAMINE).

`read_folder` is a plain generator: it yields what `connectors.mail.parse_headers` makes of each
message and, last, a `FolderState` with the new cursor; it never opens the warehouse.
"""

from __future__ import annotations

import base64
import fnmatch
import imaplib
import ipaddress
import re
import ssl
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import quote

from kith.connectors.mail import HEADER_FIELDS, parse_headers
from kith.records import FolderState, MailMessage, Rejected
from kith.connectors.secrets import resolve_password

SECURITY_MODES = ("tls", "starttls", "plain")

# Excluded by default, matched against a folder's full name and each level of it (so "Trash"
# also leaves out "INBOX.Trash" and "[Gmail]/Trash"). Localised names ("Papierkorb") are caught by
# their special-use flag when the server sends one.
DEFAULT_EXCLUDE = ("Trash", "Deleted Items", "Deleted Messages", "Spam", "Junk", "Junk E-mail",
                   "Junk Email", "Bulk Mail", "Drafts")
# Special-use flags (RFC 6154) of folders left out unless an include pattern names them.
_SKIPPED_SPECIAL_USE = {"\\trash", "\\junk", "\\drafts"}

# UIDs asked for per UID SEARCH: imaplib refuses response lines over 1 MB, and a SEARCH answer
# is one line (up to ~9 bytes per UID).
_SEARCH_WINDOW = 50_000


class ImapError(RuntimeError):
    """The server refused something kith asked (a folder that will not open, a bad command)."""


class ImapAuthError(ImapError):
    """The account's login was refused, or no password is configured. Retrying will not help."""


class ImapConnectionError(ImapError):
    """The server could not be reached, or the connection failed. Retrying may help."""


class ImapDropped(ImapConnectionError):
    """The connection dropped during a command. Whatever was read from the folder is incomplete;
    the caller reconnects and reads the folder again."""


@dataclass(frozen=True)
class ImapAccount:
    """One mailbox account. The password itself is never held here: it is read, when connecting,
    from the environment variable `password_env` or the Prefect Secret block `password_block`.

    `include_folders` / `exclude_folders` are glob patterns, case-insensitive. A folder is read
    when it matches an include pattern (any folder, when there are none) and no exclude pattern
    matches its full name or one level of it.
    """
    host: str
    user: str
    port: int | None = None                     # 993 for tls, else 143
    security: str = "tls"                       # 'tls' | 'starttls' | 'plain' (loopback only)
    password_env: str | None = None
    password_block: str | None = None
    include_folders: tuple[str, ...] = ()
    exclude_folders: tuple[str, ...] = DEFAULT_EXCLUDE
    batch_size: int = 500                       # messages per UID FETCH
    timeout_s: float = 60.0
    ca_file: str | None = None                  # extra CA / self-signed certificate to trust

    def __post_init__(self):
        if self.security not in SECURITY_MODES:
            raise ValueError(f"security={self.security!r}: use one of {', '.join(SECURITY_MODES)}")
        if self.security == "plain" and not _is_loopback(self.host):
            raise ValueError(f"plain IMAP would send the password for {self.label} unencrypted; "
                             "it is only allowed to 127.0.0.1 / localhost (use tls or starttls)")
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)

    @property
    def label(self) -> str:
        """user@host:port, for messages; never the password."""
        return f"{self.user}@{self.host}:{self.effective_port}"

    def resolve_password(self) -> str:
        """The password, from the environment or a Prefect Secret block. Raises ImapAuthError
        (naming the variable or block, not its value) when none is set."""
        return resolve_password(self.label, self.password_env, self.password_block, ImapAuthError)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def connect(account: ImapAccount) -> imaplib.IMAP4:
    """A logged-in IMAP connection over TLS, STARTTLS or (loopback only) plain.

    Raises ImapAuthError when the login is refused, ImapConnectionError when the server cannot be
    reached, ImapError (not worth retrying) when its certificate does not verify or it does not
    offer STARTTLS when asked to.
    """
    password = account.resolve_password()
    host, port = account.host, account.effective_port
    context = ssl.create_default_context(cafile=account.ca_file)
    imap = None
    try:
        if account.security == "tls":
            imap = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=account.timeout_s)
        else:
            imap = imaplib.IMAP4(host, port, timeout=account.timeout_s)
        if account.security == "starttls":
            if "STARTTLS" not in imap.capabilities:
                imap.shutdown()
                raise ImapError(
                    f"{host}:{port} does not offer STARTTLS; refusing to log in as "
                    f"{account.user} without encryption")
            imap.starttls(ssl_context=context)
    except ssl.SSLCertVerificationError as exc:
        if imap is not None:
            _close_quietly(imap)
        # Not worth retrying: the certificate will be the same next time.
        raise ImapError(f"the IMAP server for {account.label} sent a certificate that could not "
                        f"be verified ({exc.verify_message}); give its CA with ca_file") from exc
    except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
        raise ImapConnectionError(f"cannot reach IMAP server for {account.label}: {exc}") from exc
    except imaplib.IMAP4.error as exc:
        raise ImapConnectionError(f"IMAP server for {account.label} failed: {exc}") from exc
    try:
        if password.isascii():
            imap.login(account.user, password)
        else:
            # LOGIN is ASCII-only in imaplib; SASL PLAIN carries UTF-8.
            secret = f"\0{account.user}\0{password}".encode("utf-8")
            imap.authenticate("PLAIN", lambda _challenge: secret)
    except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
        raise ImapDropped(f"connection to {account.label} dropped during login: {exc}") from None
    except imaplib.IMAP4.error as exc:
        _close_quietly(imap)
        # `from None`: the chained exception would carry no password, but neither need it.
        raise ImapAuthError(f"IMAP login refused for {account.label}: "
                            f"{_text(exc.args[0] if exc.args else exc)}") from None
    # Servers may offer more once logged in (Gmail's X-GM-EXT-1); imaplib only asked before.
    typ, data = _call(imap, account, "CAPABILITY", imap.capability)
    if typ == "OK" and data and data[-1]:
        imap.capabilities = tuple(_text(data[-1]).upper().split())
    return imap


def _close_quietly(imap: imaplib.IMAP4) -> None:
    try:
        imap.shutdown()
    except (OSError, imaplib.IMAP4.error):
        pass


def close(imap: imaplib.IMAP4) -> None:
    """Log out, ignoring a connection that has already gone."""
    try:
        imap.logout()
    except (OSError, EOFError, imaplib.IMAP4.error):
        _close_quietly(imap)


# -- folder names --------------------------------------------------------------------------------

def decode_folder_name(raw: bytes | str) -> str:
    """An IMAP folder name in modified UTF-7 (RFC 3501 5.1.3) as text. Raw UTF-8 (servers with
    UTF8=ACCEPT) is passed through."""
    if isinstance(raw, bytes):
        if not raw.isascii():
            return raw.decode("utf-8", "replace")
        raw = raw.decode("ascii")
    out, i = [], 0
    while i < len(raw):
        ch = raw[i]
        if ch != "&":
            out.append(ch)
            i += 1
            continue
        end = raw.find("-", i)
        if end == -1:            # not valid modified UTF-7: keep it as written
            out.append(raw[i:])
            break
        chunk = raw[i + 1:end]
        if not chunk:
            out.append("&")
        else:
            b64 = chunk.replace(",", "/")
            try:
                out.append(base64.b64decode(b64 + "=" * (-len(b64) % 4)).decode("utf-16-be"))
            except (ValueError, UnicodeDecodeError):
                out.append(raw[i:end + 1])
        i = end + 1
    return "".join(out)


def encode_folder_name(name: str) -> str:
    """A folder name in modified UTF-7, as IMAP commands take it."""
    out, run = [], []

    def flush():
        if run:
            b64 = base64.b64encode("".join(run).encode("utf-16-be")).decode("ascii")
            out.append("&" + b64.rstrip("=").replace("/", ",") + "-")
            run.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def _quoted(name: str) -> str:
    encoded = encode_folder_name(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


_LIST_LINE = re.compile(
    rb'^\((?P<flags>[^)]*)\)\s+(?P<delim>"(?:\\.|[^"\\])*"|NIL)\s*(?P<name>.*)$',
    re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class _Listed:
    name: str
    flags: frozenset[str]            # lower-case, with the backslash
    delimiter: str | None


def _parse_list(data: list) -> list[_Listed]:
    folders = []
    for item in data:
        if item is None or item == b")" or item == b"":
            continue
        literal = None
        if isinstance(item, tuple):
            item, literal = item[0], item[1]
        m = _LIST_LINE.match(item.strip())
        if not m:
            continue
        flags = frozenset(f.lower() for f in m["flags"].decode("ascii", "replace").split())
        delim = m["delim"]
        delimiter = None if delim.upper() == b"NIL" else _unquote(delim).decode("ascii", "replace")
        if literal is not None:
            raw_name = literal
        else:
            raw_name = m["name"].strip()
            if raw_name.startswith(b'"'):
                raw_name = _unquote(raw_name)
        folders.append(_Listed(decode_folder_name(raw_name), flags, delimiter))
    return folders


def _unquote(quoted: bytes) -> bytes:
    body = quoted[1:-1] if quoted[:1] == b'"' and quoted[-1:] == b'"' else quoted
    return re.sub(rb"\\(.)", rb"\1", body)


def _matches(text: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(text.casefold(), pattern.casefold())


def _is_selected(folder: _Listed, account: ImapAccount) -> bool:
    included = any(_matches(folder.name, p) for p in account.include_folders)
    if account.include_folders and not included:
        return False
    levels = folder.name.split(folder.delimiter) if folder.delimiter else [folder.name]
    if any(_matches(x, p) for p in account.exclude_folders for x in [folder.name, *levels]):
        return False
    if folder.flags & _SKIPPED_SPECIAL_USE and not included:
        return False
    return True


def _is_gmail_all_mail(folder: _Listed) -> bool:
    return "\\all" in folder.flags or folder.name in ("[Gmail]/All Mail",
                                                      "[Google Mail]/All Mail")


def _is_gmail_sent(folder: _Listed) -> bool:
    return folder.name.startswith(("[Gmail]/", "[Google Mail]/")) and (
        "\\sent" in folder.flags or folder.name.endswith("/Sent Mail"))


def list_folders(imap: imaplib.IMAP4, account: ImapAccount) -> list[str]:
    """The names (decoded) of the folders to read, INBOX first, then in name order.

    `\\Noselect` folders are skipped. On Gmail every label is a view of "All Mail", so when the
    account has no include patterns only All Mail and Sent Mail are read: every message once,
    plus where the owner's sent mail is.
    """
    typ, data = _call(imap, account, "LIST", imap.list)
    if typ != "OK":
        raise ImapError(f"LIST failed for {account.label}: {_text(data)}")
    listed = [f for f in _parse_list(data) if "\\noselect" not in f.flags
              and "\\nonexistent" not in f.flags]
    if not account.include_folders and any(_is_gmail_all_mail(f) for f in listed):
        listed = [f for f in listed if _is_gmail_all_mail(f) or _is_gmail_sent(f)]
    names = [f.name for f in listed if _is_selected(f, account)]
    return sorted(set(names), key=lambda n: (n.upper() != "INBOX", n))


# -- reading a folder ----------------------------------------------------------------------------

def folder_uri(account: ImapAccount, folder: str) -> str:
    """The folder's source URI, e.g. imaps://me%40example.com@imap.example.com:993/INBOX."""
    scheme = "imaps" if account.security == "tls" else "imap"
    return (f"{scheme}://{quote(account.user, safe='')}@{account.host.lower()}:"
            f"{account.effective_port}/{quote(folder, safe='/')}")


# A first sync of a big folder yields its cursor every this many messages; the loader commits
# there, so a dropped connection or a killed sync carries on from that UID.
RESUME_EVERY = 50_000


def read_folder(imap: imaplib.IMAP4, account: ImapAccount, folder: str, cursor: dict | None, *,
                include_subject: bool = False) -> Iterator[MailMessage | Rejected | FolderState]:
    """Yield the folder's messages not read yet (UID > the cursor's last_uid, or all of them when
    there is no cursor or UIDVALIDITY changed), each as `parse_headers` reads its header fields
    (position = UID), then a FolderState with the new cursor; on a big folder also one every
    RESUME_EVERY messages, with the UID reached so far.

    Raises ImapDropped when the connection fails part-way, ImapError when the folder cannot be
    opened.
    """
    typ, data = _call(imap, account, f"EXAMINE {folder}",
                      lambda: imap.select(_quoted(folder), readonly=True))
    if typ != "OK":
        raise ImapError(f"cannot open folder {folder!r} of {account.label}: {_text(data)}")
    uidvalidity = _response_int(imap, "UIDVALIDITY")
    if uidvalidity is None:
        raise ImapError(f"{account.label} sent no UIDVALIDITY for {folder!r}")
    uidnext = _response_int(imap, "UIDNEXT")
    exists = int(data[0]) if data and data[0] and data[0].isdigit() else None
    if cursor and cursor.get("uidvalidity") == uidvalidity:
        last_uid = int(cursor.get("last_uid", 0))
    else:
        last_uid = 0
    with_thread_id = "X-GM-EXT-1" in imap.capabilities
    items = (("X-GM-THRID " if with_thread_id else "") + "UID BODY.PEEK[HEADER.FIELDS ("
             + " ".join(HEADER_FIELDS) + ")]")
    # A new UIDVALIDITY means the UIDs seen before name nothing any more.
    is_reset = bool(cursor) and cursor.get("uidvalidity") != uidvalidity
    n_read = 0
    for uids in _new_uids(imap, account, folder, last_uid + 1, uidnext, exists):
        for uid, header_block, thread_id in _fetch(imap, account, folder, uids, items):
            if n_read and n_read % RESUME_EVERY == 0:
                # UIDs come in ascending order: everything up to last_uid has been yielded.
                yield FolderState(folder_uri(account, folder),
                                  {"uidvalidity": uidvalidity, "last_uid": last_uid},
                                  is_reset=is_reset)
            yield parse_headers(header_block, position=uid, folder=folder,
                                include_subject=include_subject, gmail_thread_id=thread_id)
            last_uid = max(last_uid, uid)
            n_read += 1
    if uidnext:
        # Everything below UIDNEXT at EXAMINE time has been considered; later mail is above it.
        last_uid = max(last_uid, uidnext - 1)
    yield FolderState(folder_uri(account, folder),
                      {"uidvalidity": uidvalidity, "last_uid": last_uid}, is_reset=is_reset)


def _new_uids(imap, account: ImapAccount, folder: str, first: int, uidnext: int | None,
              exists: int | None) -> Iterator[list[int]]:
    """UIDs >= first in ascending order, in lists of account.batch_size."""
    for lo, hi in _search_windows(imap, account, folder, first, uidnext, exists):
        criteria = f"UID {lo}:{hi if hi is not None else '*'}"
        typ, data = _call(imap, account, f"UID SEARCH in {folder}",
                          lambda: imap.uid("SEARCH", criteria))
        if typ != "OK":
            raise ImapError(f"UID SEARCH failed in {folder!r} of {account.label}: {_text(data)}")
        # "n:*" always matches the highest UID, even when it is below n: filter by range.
        uids = sorted({int(u) for line in data if line for u in line.split()
                       if lo <= int(u) and (hi is None or int(u) <= hi)})
        for i in range(0, len(uids), account.batch_size):
            yield uids[i:i + account.batch_size]


def _search_windows(imap, account: ImapAccount, folder: str, first: int, uidnext: int | None,
                    exists: int | None) -> list[tuple[int, int | None]]:
    """UID ranges covering first .. UIDNEXT - 1, each holding at most _SEARCH_WINDOW messages.

    UIDs need not be dense: a server may number a folder's messages from 300,000,000, and
    windows _SEARCH_WINDOW UIDs wide then took 6,000 UID SEARCHes for 100 messages. So a span
    wider than one window is cut at the UIDs of messages 1, 1 + _SEARCH_WINDOW, ..., fetched
    in one command. The cuts are UIDs, not message numbers, so mail expunged meanwhile only
    makes a window hold less; new mail is above UIDNEXT and read next time.
    """
    if uidnext is None:
        return [(first, None)]
    if uidnext - first <= _SEARCH_WINDOW or not exists:
        return [(first, uidnext - 1)] if first < uidnext else []
    numbers = ",".join(str(n) for n in range(1, exists + 1, _SEARCH_WINDOW))
    typ, data = _call(imap, account, f"FETCH in {folder}",
                      lambda: imap.fetch(numbers, "(UID)"))
    if typ != "OK":
        raise ImapError(f"FETCH failed in {folder!r} of {account.label}: {_text(data)}")
    cuts = sorted(int(m[1]) for line in data if isinstance(line, bytes)
                  for m in [_UID_ITEM.search(line)] if m)
    if cuts:
        first = max(first, cuts[0])     # no message has a UID below the first one's
    edges = [first, *(u for u in cuts if first < u < uidnext), uidnext]
    return [(lo, hi - 1) for lo, hi in zip(edges, edges[1:]) if lo < hi]


_UID_ITEM = re.compile(rb"\bUID (\d+)", re.IGNORECASE)
_THRID_ITEM = re.compile(rb"\bX-GM-THRID (\d+)", re.IGNORECASE)


def _fetch(imap, account: ImapAccount, folder: str, uids: list[int],
           items: str) -> Iterator[tuple[int, bytes, str | None]]:
    """(uid, header block, Gmail thread id) for each of `uids` the server still has."""
    typ, data = _call(imap, account, f"UID FETCH in {folder}",
                      lambda: imap.uid("FETCH", _uid_set(uids), f"({items})"))
    if typ != "OK":
        raise ImapError(f"UID FETCH failed in {folder!r} of {account.label}: {_text(data)}")
    wanted = set(uids)
    responses: list[list[bytes]] = []          # [everything but the literal, the literal]
    for part in data:
        if isinstance(part, tuple):
            responses.append([part[0], part[1]])
        elif isinstance(part, bytes) and responses and not re.match(rb"\d+ \(", part):
            responses[-1][0] += b" " + part       # items after the literal (Gmail puts UID here)
    for meta, literal in responses:
        uid = _UID_ITEM.search(meta)
        if uid is None or int(uid[1]) not in wanted:
            continue
        thread = _THRID_ITEM.search(meta)
        yield int(uid[1]), literal, thread[1].decode("ascii") if thread else None


def _uid_set(uids: list[int]) -> str:
    """1,2,3,7,9,10 -> '1:3,7,9:10'."""
    ranges, start, prev = [], uids[0], uids[0]
    for u in uids[1:]:
        if u == prev + 1:
            prev = u
            continue
        ranges.append(f"{start}:{prev}" if prev != start else str(start))
        start = prev = u
    ranges.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(ranges)


def _response_int(imap, code: str) -> int | None:
    _, values = imap.response(code)
    for value in values or []:
        if value is not None:
            try:
                return int(value)
            except ValueError:
                continue
    return None


def _call(imap, account: ImapAccount, what: str, command):
    """Run one IMAP command, turning a dropped connection into ImapDropped."""
    try:
        return command()
    except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
        raise ImapDropped(f"connection to {account.label} dropped during {what}: {exc}") from exc
    except imaplib.IMAP4.error as exc:
        raise ImapError(f"{what} failed for {account.label}: {exc}") from exc


def _text(value) -> str:
    if isinstance(value, list):
        return " ".join(_text(v) for v in value if v is not None)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
