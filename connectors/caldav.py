"""Reading calendar events from a CalDAV account, one calendar collection at a time, incrementally.

A CalDAV calendar is an incremental source. Its cursor is the collection's sync-token (RFC 6578),
its ctag (getctag, a calendarserver.org extension) and the etag of every resource read, keyed by
href. The next read asks the server, with REPORT sync-collection and the stored token, which
resources changed or went since; when the server has no sync-collection or no longer accepts the
token, the resources' etags are listed (PROPFIND Depth 1) and compared with the stored ones.
Changed resources are fetched with calendar-multiget, a batch at a time, and each is read by
`connectors.ics.read_calendar_text`; a resource the server reports gone yields `Deleted(href)`.

One bad resource never stops a collection: when a multiget fails on the server's side (a 5xx,
an answer that is not a multistatus) the batch is split in halves, down to single resources,
and a single resource is finally fetched with a plain GET. A resource that still fails yields
`UnservedResource` (a reject with its href, the server's status and answer); the rest of the
collection loads, the cursor advances for what loaded, and the unserved hrefs are kept in the
cursor so the next sync asks for them again. Only a collection of which the server served
nothing at all fails as a whole.

Only `requests` and `xml.etree` are used: no CalDAV library. `read_calendar` is a plain generator;
it never opens the warehouse. Hrefs are kept as paths, percent-decoded ('/dav/me/work/a b.ics'),
so the same resource has one key whichever way the server spells it.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterator
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit
from xml.sax.saxutils import escape

import requests

from kith.connectors.ics import REREAD_EVERY, read_calendar_text
from kith.records import Deleted, EventOccurrence, FolderState, Rejected, UnservedResource
from kith.connectors.secrets import resolve_password

log = logging.getLogger(__name__)

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
CALSERVER = "http://calendarserver.org/ns/"
_NS = f'xmlns:D="{DAV}" xmlns:C="{CALDAV}" xmlns:CS="{CALSERVER}"'

_MAX_REDIRECTS = 5
# How much of a server's error answer is kept with a reject.
_ANSWER_CHARS = 1000
# A sync-collection answer may be truncated (507 on the collection itself); ask again with the
# token it gave, but not forever.
_MAX_SYNC_ROUNDS = 100


class CalDavError(RuntimeError):
    """The server refused or did not understand something kith asked. Retrying will not help."""


class CalDavAuthError(CalDavError):
    """The account's login was refused, or no password is configured. Retrying will not help."""


class CalDavConnectionError(CalDavError):
    """The server could not be reached, timed out or failed (5xx). Retrying may help."""


class CalDavServerError(CalDavConnectionError):
    """The server answered with a 5xx: it failed on the request itself. `status` is the HTTP
    status and `answer` the start of what it said."""

    def __init__(self, message: str, status: int, answer: str = ""):
        super().__init__(message)
        self.status = status
        self.answer = answer


@dataclass(frozen=True)
class DavAccount:
    """One CalDAV or CardDAV account. The password itself is never held here: it is read, when
    the session opens, from the environment variable `password_env` or the Prefect Secret block
    `password_block`.

    `url` is the server (discovery starts at its /.well-known/ URL), or any URL on it that
    answers current-user-principal (a principal, a home collection). `verify` is True, False,
    or the path of a CA bundle to trust. Plain http is only allowed to 127.0.0.1 / localhost.
    """
    url: str
    user: str
    password_env: str | None = None
    password_block: str | None = None
    verify: bool | str = True
    timeout_s: float = 60.0
    batch_size: int = 100                       # hrefs per multiget

    # Class attributes, not fields (no annotation): what each protocol's messages and errors say.
    PROTOCOL = "CalDAV"
    AUTH_ERROR = CalDavAuthError

    def __post_init__(self):
        parts = urlsplit(self.url)
        if parts.username or parts.password:     # checked first: the url is never printed then
            raise ValueError("the url must not hold credentials: give user and password_env")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url={self.url!r}: give an http(s) URL of the {self.PROTOCOL} "
                             "server")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ValueError(f"plain http would send the password for {self.label} unencrypted; "
                             "it is only allowed to 127.0.0.1 / localhost (use https)")
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc.rsplit("@", 1)[-1].lower()

    @property
    def label(self) -> str:
        """user@host[:port], for messages; never the password."""
        return f"{self.user}@{self.host}"

    def resolve_password(self) -> str:
        """The password, from the environment or a Prefect Secret block. Raises the protocol's
        auth error (naming the variable or block, not its value) when none is set."""
        return resolve_password(self.label, self.password_env, self.password_block,
                                self.AUTH_ERROR)


@dataclass(frozen=True)
class CalDavAccount(DavAccount):
    """A CalDAV account. `include_calendars` / `exclude_calendars` are glob patterns,
    case-insensitive, matched against a calendar's display name and the last segment of its URL."""
    include_calendars: tuple[str, ...] = ()
    exclude_calendars: tuple[str, ...] = ()


@dataclass(frozen=True)
class Calendar:
    """One calendar collection found by `discover`."""
    url: str                                    # absolute, ends with '/', no credentials
    name: str                                   # displayname, else the URL's last segment
    components: tuple[str, ...] = ()            # supported-calendar-component-set; () = unknown
    ctag: str | None = None
    sync_token: str | None = None


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def open_session(account: CalDavAccount) -> requests.Session:
    """A requests session that sends the account's credentials (Basic auth, which every CalDAV
    server takes over TLS). Raises CalDavAuthError when no password is configured."""
    session = requests.Session()
    session.auth = (account.user, account.resolve_password())
    session.verify = account.verify
    session.headers["User-Agent"] = "kith-caldav"
    # No ~/.netrc: the password comes from the account only.
    session.trust_env = False
    return session


def calendar_uri(calendar: Calendar) -> str:
    """The calendar's source URI: its URL without credentials."""
    parts = urlsplit(calendar.url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# -- HTTP -----------------------------------------------------------------------------------------

def _request(session: requests.Session, account: CalDavAccount, method: str, url: str, *,
             body: str | None = None, depth: str | None = None,
             redirects: bool = False) -> requests.Response:
    """One request. 401 -> CalDavAuthError; no answer, a timeout or a 5xx ->
    CalDavConnectionError. Other statuses are the caller's to judge.

    Redirects are followed by hand (requests turns a redirected PROPFIND into a GET), and only
    to the same host or to https, so the password does not leak to a plain-http host.
    """
    headers = {}
    if body is not None:
        headers["Content-Type"] = "application/xml; charset=utf-8"
    if depth is not None:
        headers["Depth"] = depth
    for _ in range(_MAX_REDIRECTS + 1):
        try:
            response = session.request(method, url, data=body.encode("utf-8") if body else None,
                                       headers=headers, timeout=account.timeout_s,
                                       allow_redirects=False)
        except requests.exceptions.SSLError as exc:
            raise CalDavError(f"the CalDAV server for {account.label} sent a certificate that "
                              f"could not be verified; give its CA with verify=PATH ({exc})"
                              ) from None
        except requests.RequestException as exc:
            raise CalDavConnectionError(
                f"cannot reach CalDAV server for {account.label}: {type(exc).__name__}: {exc}"
            ) from None
        if redirects and response.status_code in (301, 302, 303, 307, 308) \
                and response.headers.get("Location"):
            target = urljoin(url, response.headers["Location"])
            if urlsplit(target).scheme != "https" and \
                    urlsplit(target).netloc.lower() != urlsplit(url).netloc.lower():
                raise CalDavError(f"{account.label}: refusing to follow a redirect to {target} "
                                  "(another host over plain http)")
            url = target
            continue
        break
    else:
        raise CalDavError(f"{account.label}: more than {_MAX_REDIRECTS} redirects from {url}")
    if response.status_code == 401:
        raise CalDavAuthError(f"CalDAV login refused for {account.label} (HTTP 401)")
    if response.status_code >= 500:
        raise CalDavServerError(f"CalDAV server for {account.label} failed on {method} "
                                f"{_path(url)}: HTTP {response.status_code}",
                                response.status_code, response.text[:_ANSWER_CHARS])
    response.final_url = url
    return response


def _path(url: str) -> str:
    return urlsplit(url).path


@dataclass
class _Response:
    """One <D:response> of a multistatus: its href, its own status (when it has one) and the
    properties found (status 200), by Clark name ('{DAV:}getetag')."""
    href: str
    status: int | None
    props: dict[str, ET.Element]


def _multistatus(response: requests.Response, account: CalDavAccount,
                 what: str) -> tuple[list[_Response], ET.Element]:
    if response.status_code != 207:
        raise CalDavError(f"{what} failed for {account.label}: HTTP {response.status_code} "
                          f"{response.text[:300]}")
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError as exc:
        raise CalDavError(f"{what}: {account.label} sent XML that does not parse: {exc}") from None
    out = []
    for node in root.findall(f"{{{DAV}}}response"):
        href = (node.findtext(f"{{{DAV}}}href") or "").strip()
        status = _status(node.findtext(f"{{{DAV}}}status"))
        props = {}
        for propstat in node.findall(f"{{{DAV}}}propstat"):
            if _status(propstat.findtext(f"{{{DAV}}}status")) != 200:
                continue
            for prop in propstat.findall(f"{{{DAV}}}prop"):
                for child in prop:
                    props[child.tag] = child
        out.append(_Response(href, status, props))
    return out, root


def _status(text: str | None) -> int | None:
    """'HTTP/1.1 404 Not Found' -> 404."""
    if not text:
        return None
    parts = text.split()
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        return None


def _propfind(session, account, url: str, props: str, depth: str, *,
              redirects: bool = False) -> tuple[list[_Response], str]:
    body = f'<?xml version="1.0" encoding="utf-8"?><D:propfind {_NS}><D:prop>{props}</D:prop></D:propfind>'
    response = _request(session, account, "PROPFIND", url, body=body, depth=depth,
                        redirects=redirects)
    if response.status_code == 403:
        raise CalDavAuthError(f"CalDAV server refused {account.label} access to {_path(url)} "
                              "(HTTP 403)")
    responses, _ = _multistatus(response, account, f"PROPFIND {_path(url)}")
    return responses, response.final_url


def _href_text(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    href = element.findtext(f"{{{DAV}}}href")
    return href.strip() if href and href.strip() else None


def _key(base_url: str, href: str) -> str:
    """The href as a decoded path: the resource's key."""
    return unquote(urlsplit(urljoin(base_url, href)).path)


# -- discovery ------------------------------------------------------------------------------------

def discover(session: requests.Session, account: CalDavAccount) -> list[Calendar]:
    """The account's calendars that hold events (VEVENT), selected by include / exclude, in name
    order: /.well-known/caldav (RFC 6764), then current-user-principal, calendar-home-set, and
    the home's calendar collections.

    Raises CalDavAuthError when the login is refused, CalDavConnectionError when the server
    cannot be reached, CalDavError when it does not answer as a CalDAV server.
    """
    context = _context_url(session, account)
    responses, context = _propfind(session, account, context, "<D:current-user-principal/>", "0",
                                   redirects=True)
    principal = next((_href_text(r.props.get(f"{{{DAV}}}current-user-principal"))
                      for r in responses if r.props.get(f"{{{DAV}}}current-user-principal")
                      is not None), None)
    principal_url = urljoin(context, principal) if principal else context
    responses, principal_url = _propfind(session, account, principal_url,
                                         "<C:calendar-home-set/>", "0", redirects=True)
    home = next((_href_text(r.props.get(f"{{{CALDAV}}}calendar-home-set")) for r in responses
                 if r.props.get(f"{{{CALDAV}}}calendar-home-set") is not None), None)
    home_url = urljoin(principal_url, home) if home else principal_url
    responses, home_url = _propfind(
        session, account, home_url,
        "<D:resourcetype/><D:displayname/><C:supported-calendar-component-set/>"
        "<CS:getctag/><D:sync-token/>", "1", redirects=True)
    calendars = []
    for r in responses:
        rtype = r.props.get(f"{{{DAV}}}resourcetype")
        if rtype is None or rtype.find(f"{{{CALDAV}}}calendar") is None:
            continue
        comp_set = r.props.get(f"{{{CALDAV}}}supported-calendar-component-set")
        components = tuple(c.get("name", "").upper() for c in comp_set
                           if c.tag == f"{{{CALDAV}}}comp") if comp_set is not None else ()
        if components and "VEVENT" not in components:
            continue
        url = urljoin(home_url, r.href)
        if not url.endswith("/"):
            url += "/"
        segment = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
        name = (r.props[f"{{{DAV}}}displayname"].text or "").strip() \
            if f"{{{DAV}}}displayname" in r.props else ""
        name = name or segment
        if not _is_selected(account, name, segment):
            continue
        ctag = r.props.get(f"{{{CALSERVER}}}getctag")
        token = r.props.get(f"{{{DAV}}}sync-token")
        calendars.append(Calendar(url=url, name=name, components=components,
                                  ctag=ctag.text if ctag is not None else None,
                                  sync_token=token.text if token is not None else None))
    log.debug("%s: %d calendars at %s", account.label, len(calendars), _path(home_url))
    return sorted(calendars, key=lambda c: (c.name.casefold(), c.url))


def _context_url(session, account: CalDavAccount) -> str:
    """Where discovery starts: what /.well-known/caldav redirects to when the account's URL is
    the bare server, else the URL itself."""
    parts = urlsplit(account.url)
    if parts.path not in ("", "/"):
        return account.url
    well_known = urlunsplit((parts.scheme, parts.netloc, "/.well-known/caldav", "", ""))
    response = _request(session, account, "PROPFIND", well_known, depth="0",
                        body=f'<?xml version="1.0" encoding="utf-8"?><D:propfind {_NS}><D:prop>'
                             '<D:current-user-principal/></D:prop></D:propfind>',
                        redirects=True)
    if response.status_code in (207, 200):
        return response.final_url
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


def _is_selected(account: CalDavAccount, name: str, segment: str) -> bool:
    def matches(pattern: str) -> bool:
        return any(fnmatch.fnmatchcase(x.casefold(), pattern.casefold()) for x in (name, segment))

    if account.include_calendars and not any(matches(p) for p in account.include_calendars):
        return False
    return not any(matches(p) for p in account.exclude_calendars)


# -- reading a calendar ---------------------------------------------------------------------------

@dataclass
class _Listing:
    """What changed in a collection since the cursor: hrefs to fetch (key -> href as the server
    wrote it, and its etag), keys gone, the new sync-token and ctag, and the etags of everything
    the collection now holds (None: only the changes are known; apply them to the cursor's)."""
    changed: dict[str, tuple[str, str | None]]
    gone: set[str]
    sync_token: str | None
    ctag: str | None
    complete: bool


class _TokenRefused(Exception):
    """The server does not support sync-collection here, or no longer accepts the token."""


def read_calendar(session: requests.Session, account: CalDavAccount, calendar: Calendar,
                  cursor: dict | None, *, window_end=None, owner_tz=None,
                  include_summary: bool = False
                  ) -> Iterator[EventOccurrence | Deleted | Rejected | FolderState]:
    """Yield what changed in `calendar` since `cursor` (everything, without one): the
    occurrences of each new or changed resource, as `read_calendar_text` reads it (item = the
    resource's href as a decoded path), `Deleted(href)` for each resource gone (or that now holds
    no event), an `UnservedResource` for each the server cannot serve, then a FolderState with
    the new cursor {"sync_token", "ctag", "read_all_at", "etags": {href: etag},
    "unserved": {href: href as the server wrote it}}.

    Raises CalDavAuthError, CalDavConnectionError (worth retrying), CalDavError (also when the
    server could serve none of the calendar's resources).
    """
    cursor = cursor or {}
    known: dict[str, str] = dict(cursor.get("etags") or {})
    # The expansion window moves with time: every resource is read again now and then.
    now = datetime.now(timezone.utc)
    read_all_at = cursor.get("read_all_at")
    read_all = read_all_at is None or now - datetime.fromisoformat(read_all_at) > REREAD_EVERY
    if read_all:
        read_all_at = now.isoformat(timespec="seconds")
    try:
        listing = _sync_collection(session, account, calendar,
                                   None if read_all else cursor.get("sync_token"))
    except _TokenRefused as exc:
        log.info("%s: %s; comparing etags instead", calendar_uri(calendar), exc)
        listing = _etag_listing(session, account, calendar, {} if read_all else cursor)
    was_unserved: dict[str, str] = dict(cursor.get("unserved") or {})
    if listing.complete:
        listing.gone |= (set(known) | set(was_unserved)) - set(listing.changed)
    etags = {} if listing.complete else dict(known)
    to_fetch: dict[str, str] = {}
    for key, (href, etag) in listing.changed.items():
        if etag is not None and known.get(key) == etag and not read_all:
            etags[key] = etag          # unchanged since the last read
            continue
        to_fetch[key] = href
        if etag is not None:
            etags[key] = etag
    unserved = retry_unserved(was_unserved, listing, to_fetch)
    for key in sorted(listing.gone):
        etags.pop(key, None)
        if listing.complete or key in known or key in was_unserved:
            yield Deleted(key)         # (not one made and deleted between two reads)
    log.debug("%s: %d to fetch, %d gone", calendar_uri(calendar), len(to_fetch),
              len(listing.gone))
    keys = sorted(to_fetch)
    for i in range(0, len(keys), account.batch_size):
        batch = keys[i:i + account.batch_size]
        for fetched in _fetch(session, account, calendar.url, [to_fetch[k] for k in batch],
                              CALENDAR_MULTIGET):
            if isinstance(fetched, UnservedResource):
                etags.pop(fetched.item, None)      # so that an etag listing asks again too
                unserved[fetched.item] = to_fetch[fetched.item]
                yield fetched
                continue
            key, etag, data = fetched
            if data is None:
                etags.pop(key, None)
                yield Deleted(key)
                continue
            if etag is not None:
                etags[key] = etag
            n_occurrences = 0
            for record in read_calendar_text(data, calendar=calendar.name, item=key,
                                             owner_tz=owner_tz, window_end=window_end,
                                             include_summary=include_summary):
                if isinstance(record, EventOccurrence):
                    n_occurrences += 1
                else:
                    record.item = key
                yield record
            if n_occurrences == 0:
                # A resource that now holds no event (a VTODO, every occurrence excluded): what
                # it held before is no longer there.
                yield Deleted(key)
    check_served(calendar_uri(calendar), unserved, etags)
    yield FolderState(calendar_uri(calendar), {"sync_token": listing.sync_token,
                                               "ctag": listing.ctag, "read_all_at": read_all_at,
                                               "etags": dict(sorted(etags.items())),
                                               "unserved": dict(sorted(unserved.items()))})


def retry_unserved(was_unserved: dict[str, str], listing: "_Listing",
                   to_fetch: dict[str, str]) -> dict[str, str]:
    """Add to `to_fetch` the resources the server could not serve last time (a sync-token
    listing does not name them again until they change), unless they are gone; return those
    still to keep in the cursor as unserved (not asked for this time)."""
    still = {}
    for key, href in was_unserved.items():
        if key in listing.gone:
            continue
        if not listing.complete or key in listing.changed:
            to_fetch.setdefault(key, href)
        else:
            still[key] = href
    return still


def check_served(uri: str, unserved: dict[str, str], etags: dict[str, str]) -> None:
    """Raise CalDavError when the server served nothing of the collection: that is a broken
    server, not a bad resource."""
    if unserved and not etags:
        raise CalDavError(f"the server could not serve any of the {len(unserved)} resources of "
                          f"{uri}; see the rejects of this source for its answers")


def _sync_collection(session, account: CalDavAccount, calendar: Calendar,
                     token: str | None) -> _Listing:
    """REPORT sync-collection (RFC 6578) from `token` (the whole collection without one),
    following truncated answers. Raises _TokenRefused when the server has no such report or no
    longer accepts the token."""
    changed: dict[str, tuple[str, str | None]] = {}
    gone: set[str] = set()
    complete = not token
    collection_key = _key(calendar.url, calendar.url)
    for _ in range(_MAX_SYNC_ROUNDS):
        body = (f'<?xml version="1.0" encoding="utf-8"?><D:sync-collection {_NS}>'
                f'<D:sync-token>{escape(token or "")}</D:sync-token>'
                '<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop>'
                '</D:sync-collection>')
        response = _request(session, account, "REPORT", calendar.url, body=body, depth="1")
        # RFC 6578 says 403 valid-sync-token for an expired token; Xandikos answers 412 (with
        # valid-sync-token), others 400 or 409; servers without the report 403, 405 or 501.
        if response.status_code in (400, 403, 404, 405, 409, 412, 415, 501):
            if response.status_code == 404 and not token:
                raise CalDavError(f"calendar {calendar_uri(calendar)} no longer exists")
            reason = ("the sync-token is no longer valid" if b"valid-sync-token" in
                      response.content else f"sync-collection answered HTTP "
                                            f"{response.status_code}")
            raise _TokenRefused(reason)
        responses, root = _multistatus(response, account,
                                       f"sync-collection {_path(calendar.url)}")
        truncated = False
        for r in responses:
            key = _key(calendar.url, r.href)
            if key == collection_key:
                truncated = truncated or r.status == 507
                continue
            if r.status == 404:
                gone.add(key)
                changed.pop(key, None)
                continue
            etag = r.props.get(f"{{{DAV}}}getetag")
            changed[key] = (r.href, etag.text if etag is not None else None)
            gone.discard(key)
        new_token = (root.findtext(f"{{{DAV}}}sync-token") or "").strip() or None
        if not truncated or not new_token or new_token == token:
            return _Listing(changed, gone, new_token, None, complete)
        token = new_token
    raise CalDavError(f"sync-collection of {calendar_uri(calendar)} did not finish in "
                      f"{_MAX_SYNC_ROUNDS} rounds")


def _etag_listing(session, account: CalDavAccount, calendar: Calendar,
                  cursor: dict) -> _Listing:
    """Every resource's etag by PROPFIND Depth 1, unless the ctag says nothing changed."""
    responses, _ = _propfind(session, account, calendar.url, "<CS:getctag/><D:sync-token/>", "0")
    props = responses[0].props if responses else {}
    ctag = props[f"{{{CALSERVER}}}getctag"].text if f"{{{CALSERVER}}}getctag" in props else None
    known = cursor.get("etags") or {}
    if ctag is not None and ctag == cursor.get("ctag"):
        # Nothing changed; what the server could not serve last time is asked for again.
        unchanged = {k: (h, None) for k, h in (cursor.get("unserved") or {}).items()}
        unchanged.update((k, (k, e)) for k, e in known.items())
        return _Listing(unchanged, set(), None, ctag, True)
    responses, _ = _propfind(session, account, calendar.url,
                             "<D:getetag/><D:resourcetype/>", "1")
    collection_key = _key(calendar.url, calendar.url)
    changed = {}
    for r in responses:
        key = _key(calendar.url, r.href)
        rtype = r.props.get(f"{{{DAV}}}resourcetype")
        if key == collection_key or (rtype is not None and len(rtype)):
            continue                   # the collection itself, or a sub-collection
        etag = r.props.get(f"{{{DAV}}}getetag")
        changed[key] = (r.href, etag.text if etag is not None else None)
    # No sync-token: the next read starts from the etags again (or from scratch, if the server
    # starts supporting sync-collection).
    return _Listing(changed, set(), None, ctag, True)


@dataclass(frozen=True)
class Multiget:
    """How one DAV kind asks for a batch of resources: the REPORT's element (in namespace
    `namespace`, prefix R) and the property that carries each resource's data."""
    report: str                               # 'calendar-multiget'
    namespace: str
    data_property: str                        # 'calendar-data'

    def body(self, hrefs: list[str]) -> str:
        return (f'<?xml version="1.0" encoding="utf-8"?>'
                f'<R:{self.report} xmlns:D="{DAV}" xmlns:R="{self.namespace}">'
                f'<D:prop><D:getetag/><R:{self.data_property}/></D:prop>'
                + "".join(f"<D:href>{escape(h)}</D:href>" for h in hrefs)
                + f"</R:{self.report}>")


CALENDAR_MULTIGET = Multiget("calendar-multiget", CALDAV, "calendar-data")

Fetched = tuple[str, "str | None", "str | bytes | None"]


def _fetch(session, account: DavAccount, collection_url: str, hrefs: list[str],
           multiget: Multiget) -> Iterator[Fetched | UnservedResource]:
    """(key, etag, data) for each href asked, data None when the server says it is gone; an
    UnservedResource for each the server cannot serve.

    One multiget for the batch. When the server fails on it (a 5xx, a refusal, an answer that
    is not a multistatus) the batch is split in halves and each asked again, down to single
    resources; a single resource, and one the multiget answered without data, is fetched with
    GET. A dropped connection or a refused login is raised: retrying the collection may help.
    """
    what = f"{multiget.report} {_path(collection_url)}"
    try:
        response = _request(session, account, "REPORT", collection_url,
                            body=multiget.body(hrefs), depth="1")
        responses, _ = _multistatus(response, account, what)
    except CalDavAuthError:
        raise
    except CalDavServerError as exc:
        failure = str(exc)
    except CalDavConnectionError:
        raise
    except CalDavError as exc:
        failure = str(exc)
    else:
        failure = None
    if failure is not None:
        if len(hrefs) == 1:
            yield _get(session, account, collection_url, hrefs[0])
            return
        log.info("%s; asking for its %d resources in two halves", failure, len(hrefs))
        half = len(hrefs) // 2
        yield from _fetch(session, account, collection_url, hrefs[:half], multiget)
        yield from _fetch(session, account, collection_url, hrefs[half:], multiget)
        return
    asked = {_key(collection_url, h): h for h in hrefs}
    answered = set()
    data_tag = f"{{{multiget.namespace}}}{multiget.data_property}"
    for r in responses:
        key = _key(collection_url, r.href)
        if key not in asked or key in answered:
            continue
        if r.status == 404:
            answered.add(key)
            yield key, None, None
            continue
        data = r.props.get(data_tag)
        if data is None:
            continue                   # no data for it in the answer: asked again with GET
        answered.add(key)
        etag = r.props.get(f"{{{DAV}}}getetag")
        yield key, etag.text if etag is not None else None, data.text or ""
    for key in sorted(set(asked) - answered):
        yield _get(session, account, collection_url, asked[key])


def _get(session, account: DavAccount, collection_url: str,
         href: str) -> Fetched | UnservedResource:
    """One resource by GET: (key, etag, bytes), (key, None, None) when it is gone, or an
    UnservedResource when the server fails on it."""
    key = _key(collection_url, href)
    try:
        response = _request(session, account, "GET", urljoin(collection_url, href))
    except CalDavServerError as exc:
        return UnservedResource(0, f"the server could not serve this resource: HTTP "
                                   f"{exc.status}", exc.answer, item=key, status=exc.status)
    if response.status_code in (404, 410):
        return key, None, None
    if response.status_code != 200:
        return UnservedResource(0, f"the server could not serve this resource: HTTP "
                                   f"{response.status_code}",
                                response.text[:_ANSWER_CHARS], item=key,
                                status=response.status_code)
    return key, response.headers.get("ETag"), response.content
