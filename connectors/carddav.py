"""Reading contact cards from a CardDAV account, one address book at a time, incrementally.

CardDAV (RFC 6352) is CalDAV's sibling: the same WebDAV discovery, the same REPORT
sync-collection (RFC 6578) with an etag comparison as the fall-back, and a multiget report to
fetch changed resources. This module reuses `connectors.caldav` for all of that (requests,
redirects, multistatus parsing, sync-collection, etag listing) and adds only what is CardDAV's
own: discovery through /.well-known/carddav and addressbook-home-set, address-book collections,
and addressbook-multiget with address-data. A resource the server cannot serve is handled as in
`connectors.caldav`: the batch is split down to single GETs and what still fails is a reject.

Each vCard resource goes through the same vCard reader as `.vcf` files (`connectors.vcard`), and
each card it holds gets `item` = the resource's href as a decoded path; a resource gone yields
`Deleted(href)`. The cursor, stored by the loader with the cards, is
{"sync_token", "ctag", "etags": {href: etag}}.

Errors: CalDAV's helpers raise CalDavError and its subclasses; they are turned into the CardDAV
classes below (which subclass them, so code that retries on CalDavConnectionError retries on
CardDavConnectionError too). Like CalDavAccount, CardDavAccount never holds the password.
"""

from __future__ import annotations

import fnmatch
import io
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import requests

from kith.connectors import vcard
from kith.connectors.caldav import (CALSERVER, DAV, CalDavAuthError, CalDavConnectionError,
                                    CalDavError, DavAccount, Multiget, _etag_listing, _fetch,
                                    _href_text, _path, _propfind, _request, _sync_collection,
                                    _TokenRefused, check_served, retry_unserved)
from kith.connectors.caldav import open_session as _open_caldav_session
from kith.records import ContactCard, Deleted, FolderState, Rejected, UnservedResource

log = logging.getLogger(__name__)

CARDDAV = "urn:ietf:params:xml:ns:carddav"
# Inline namespace for the CardDAV elements put into caldav's PROPFIND bodies (which declare
# only D:, C: and CS:).
_CR = f'xmlns:CR="{CARDDAV}"'


class CardDavError(CalDavError):
    """The server refused or did not understand something kith asked. Retrying will not help."""


class CardDavAuthError(CardDavError, CalDavAuthError):
    """The account's login was refused, or no password is configured. Retrying will not help."""


class CardDavConnectionError(CardDavError, CalDavConnectionError):
    """The server could not be reached, timed out or failed (5xx). Retrying may help."""


@contextmanager
def _carddav_errors():
    """Turn the CalDAV helpers' errors into CardDAV ones (same message, 'CardDAV' for 'CalDAV')."""
    try:
        yield
    except CardDavError:
        raise
    except CalDavError as exc:
        cls = (CardDavAuthError if isinstance(exc, CalDavAuthError)
               else CardDavConnectionError if isinstance(exc, CalDavConnectionError)
               else CardDavError)
        raise cls(str(exc).replace("CalDAV", "CardDAV")) from None


@dataclass(frozen=True)
class CardDavAccount(DavAccount):
    """A CardDAV account (see DavAccount). `include_addressbooks` / `exclude_addressbooks` are
    glob patterns, case-insensitive, matched against an address book's display name and the
    last segment of its URL."""
    include_addressbooks: tuple[str, ...] = ()
    exclude_addressbooks: tuple[str, ...] = ()

    PROTOCOL = "CardDAV"
    AUTH_ERROR = CardDavAuthError


@dataclass(frozen=True)
class AddressBook:
    """One address-book collection found by `discover`."""
    url: str                                    # absolute, ends with '/', no credentials
    name: str                                   # displayname, else the URL's last segment
    ctag: str | None = None
    sync_token: str | None = None


def open_session(account: CardDavAccount) -> requests.Session:
    """A requests session with the account's credentials (Basic auth). Raises CardDavAuthError
    when no password is configured."""
    session = _open_caldav_session(account)
    session.headers["User-Agent"] = "kith-carddav"
    return session


def addressbook_uri(book: AddressBook) -> str:
    """The address book's source URI: its URL without credentials."""
    parts = urlsplit(book.url)
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, "", ""))


# -- discovery ------------------------------------------------------------------------------------

def discover(session: requests.Session, account: CardDavAccount) -> list[AddressBook]:
    """The account's address books, selected by include / exclude, in name order:
    /.well-known/carddav (RFC 6764), then current-user-principal, addressbook-home-set, and the
    home's collections whose resourcetype is CR:addressbook.

    Raises CardDavAuthError when the login is refused, CardDavConnectionError when the server
    cannot be reached, CardDavError when it does not answer as a CardDAV server.
    """
    with _carddav_errors():
        context = _context_url(session, account)
        responses, context = _propfind(session, account, context,
                                       "<D:current-user-principal/>", "0", redirects=True)
        principal = next((_href_text(r.props.get(f"{{{DAV}}}current-user-principal"))
                          for r in responses
                          if r.props.get(f"{{{DAV}}}current-user-principal") is not None), None)
        principal_url = urljoin(context, principal) if principal else context
        responses, principal_url = _propfind(session, account, principal_url,
                                             f"<CR:addressbook-home-set {_CR}/>", "0",
                                             redirects=True)
        home = next((_href_text(r.props.get(f"{{{CARDDAV}}}addressbook-home-set"))
                     for r in responses
                     if r.props.get(f"{{{CARDDAV}}}addressbook-home-set") is not None), None)
        home_url = urljoin(principal_url, home) if home else principal_url
        responses, home_url = _propfind(
            session, account, home_url,
            "<D:resourcetype/><D:displayname/><CS:getctag/><D:sync-token/>", "1",
            redirects=True)
    books = []
    for r in responses:
        rtype = r.props.get(f"{{{DAV}}}resourcetype")
        if rtype is None or rtype.find(f"{{{CARDDAV}}}addressbook") is None:
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
        books.append(AddressBook(url=url, name=name,
                                 ctag=ctag.text if ctag is not None else None,
                                 sync_token=token.text if token is not None else None))
    log.debug("%s: %d address books at %s", account.label, len(books), _path(home_url))
    return sorted(books, key=lambda b: (b.name.casefold(), b.url))


def _context_url(session, account: CardDavAccount) -> str:
    """Where discovery starts: what /.well-known/carddav leads to when the account's URL is the
    bare server, else the URL itself."""
    parts = urlsplit(account.url)
    if parts.path not in ("", "/"):
        return account.url
    well_known = urlunsplit((parts.scheme, parts.netloc, "/.well-known/carddav", "", ""))
    response = _request(session, account, "PROPFIND", well_known, depth="0",
                        body=f'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="{DAV}">'
                             '<D:prop><D:current-user-principal/></D:prop></D:propfind>',
                        redirects=True)
    if response.status_code in (207, 200):
        return response.final_url
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


def _is_selected(account: CardDavAccount, name: str, segment: str) -> bool:
    def matches(pattern: str) -> bool:
        return any(fnmatch.fnmatchcase(x.casefold(), pattern.casefold()) for x in (name, segment))

    if account.include_addressbooks and not any(matches(p) for p in account.include_addressbooks):
        return False
    return not any(matches(p) for p in account.exclude_addressbooks)


# -- reading an address book ----------------------------------------------------------------------

def read_addressbook(session: requests.Session, account: CardDavAccount, book: AddressBook,
                     cursor: dict | None, *, default_region: str | None = None
                     ) -> Iterator[ContactCard | Deleted | Rejected | FolderState]:
    """Yield what changed in `book` since `cursor` (everything, without one): the cards of each
    new or changed resource as the vCard reader reads them (item = the resource's href as a
    decoded path), `Deleted(href)` for each resource gone (or that no longer holds a readable
    card), an `UnservedResource` for each the server cannot serve (see `connectors.caldav`),
    then a FolderState with the new cursor {"sync_token", "ctag", "etags", "unserved"}.

    Raises CardDavAuthError, CardDavConnectionError (worth retrying), CardDavError (also when
    the server could serve none of the book's cards).
    """
    with _carddav_errors():
        yield from _read_addressbook(session, account, book, cursor or {}, default_region)


def _read_addressbook(session, account, book, cursor, default_region):
    known: dict[str, str] = dict(cursor.get("etags") or {})
    try:
        listing = _sync_collection(session, account, book, cursor.get("sync_token"))
    except _TokenRefused as exc:
        log.info("%s: %s; comparing etags instead", addressbook_uri(book), exc)
        listing = _etag_listing(session, account, book, cursor)
    was_unserved: dict[str, str] = dict(cursor.get("unserved") or {})
    if listing.complete:
        listing.gone |= (set(known) | set(was_unserved)) - set(listing.changed)
    etags = {} if listing.complete else dict(known)
    to_fetch: dict[str, str] = {}
    for key, (href, etag) in listing.changed.items():
        if etag is not None and known.get(key) == etag:
            etags[key] = etag                   # unchanged since the last read
            continue
        to_fetch[key] = href
        if etag is not None:
            etags[key] = etag
    unserved = retry_unserved(was_unserved, listing, to_fetch)
    for key in sorted(listing.gone):
        etags.pop(key, None)
        if listing.complete or key in known or key in was_unserved:
            yield Deleted(key)                  # (not one made and deleted between two reads)
    log.debug("%s: %d to fetch, %d gone", addressbook_uri(book), len(to_fetch),
              len(listing.gone))
    keys = sorted(to_fetch)
    for i in range(0, len(keys), account.batch_size):
        batch = keys[i:i + account.batch_size]
        for fetched in _fetch(session, account, book.url, [to_fetch[k] for k in batch],
                              ADDRESSBOOK_MULTIGET):
            if isinstance(fetched, UnservedResource):
                etags.pop(fetched.item, None)   # so that an etag listing asks again too
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
            n_cards = 0
            for record in read_vcard_text(data, default_region):
                record.item = key
                if isinstance(record, ContactCard):
                    n_cards += 1
                yield record
            if n_cards == 0:
                # The resource no longer holds a readable card: what it held before is gone.
                yield Deleted(key)
    check_served(addressbook_uri(book), unserved, etags)
    yield FolderState(addressbook_uri(book), {"sync_token": listing.sync_token,
                                              "ctag": listing.ctag,
                                              "etags": dict(sorted(etags.items())),
                                              "unserved": dict(sorted(unserved.items()))})


ADDRESSBOOK_MULTIGET = Multiget("addressbook-multiget", CARDDAV, "address-data")


def read_vcard_text(data: str | bytes, default_region: str | None = None
                    ) -> Iterator[ContactCard | Rejected]:
    """The cards of one vCard resource, read exactly as `vcard.read_vcards` reads a file."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return vcard.read_vcard_stream(io.BytesIO(raw), default_region, what="resource")
