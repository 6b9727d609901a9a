"""A real Xandikos CalDAV / CardDAV server on 127.0.0.1 for tests, in a temporary folder.

Xandikos (a second server beside Radicale) keeps each collection in a git repository and does no
authentication of its own: whatever Basic credentials a client sends are ignored. Collections
live under /user/calendars/ and /user/contacts/; they are made with MKCALENDAR and an extended
MKCOL, resources written with PUT (one resource per PUT: a file holding several UIDs is refused)
and removed with DELETE, over HTTP like any client.

Two ways Xandikos genuinely serves a stored resource badly, used by the contract suites:
- `store_latin1`: a resource committed to the collection's git repository in Latin-1. Its
  multiget REPORT answers HTTP 500 for the whole batch it is in (Xandikos decodes it as UTF-8);
  a plain GET returns a card's bytes, but fails (HTTP 500) on a calendar resource.
- `store_unservable`: a resource whose git object is gone (a damaged repository). Listings name
  it with an etag; a multiget answers its data as 404 and a GET answers HTTP 500.

Traps met: `--defaults` makes a calendar "calendar" and an address book "addressbook"
(`clear` removes them); `--state-dir` keeps its keys out of $XDG_DATA_HOME; the server keeps
inherited stdout/stderr open, so its output goes to a file.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.servers.process import ServerProcess

from tests.servers.radicale import free_port



class XandikosUnavailable(RuntimeError):
    """Xandikos is not installed or would not start here; the message says why."""


@dataclass
class XandikosServer(ServerProcess):
    """One Xandikos instance serving the principal /user/."""
    root: Path
    user: str = "user"
    password: str = "ignored by xandikos"
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @classmethod
    def create(cls, **kwargs) -> "XandikosServer":
        """Raises XandikosUnavailable when the package is not installed."""
        try:
            import xandikos  # noqa: F401
            import dulwich  # noqa: F401
        except ImportError as exc:
            raise XandikosUnavailable(f"xandikos is not installed ({exc}); "
                                      "pip install -e '.[test]'") from None
        return cls(root=Path(tempfile.mkdtemp(prefix="kith-xandikos-")), **kwargs)

    # -- addresses ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def calendar_url(self, name: str) -> str:
        return f"{self.url}/{self.user}/calendars/{name}/"

    def event_url(self, calendar: str, name: str) -> str:
        return f"{self.calendar_url(calendar)}{name}"

    def addressbook_url(self, name: str) -> str:
        return f"{self.url}/{self.user}/contacts/{name}/"

    def card_url(self, book: str, name: str) -> str:
        return f"{self.addressbook_url(book)}{name}"

    @property
    def log_path(self) -> Path:
        return self.root / "xandikos.log"

    # -- process ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start Xandikos and wait until it answers HTTP. Raises XandikosUnavailable with the
        reason (and the log's tail) when it will not start."""
        if self.process is not None and self.process.poll() is None:
            return
        args = [sys.executable, "-m", "xandikos", "serve", "-d", str(self.data_dir),
                "--defaults", "-l", self.host, "-p", str(self.port),
                "--state-dir", str(self.root / "state"), "--no-detect-systemd"]
        self._spawn(args, "/", XandikosUnavailable, "xandikos")

    # -- collections and resources ----------------------------------------------------------------

    def session(self) -> requests.Session:
        return requests.Session()

    def clear(self) -> None:
        """Remove every calendar and address book, for a fresh start."""
        with self.session() as s:
            for home in ("calendars", "contacts"):
                home_url = f"{self.url}/{self.user}/{home}/"
                r = s.request("PROPFIND", home_url, headers={"Depth": "1"})
                if r.status_code != 207:
                    raise RuntimeError(f"PROPFIND {home_url}: {r.status_code} {r.text[:300]}")
                hrefs = [h.text for h in ET.fromstring(r.content).iter("{DAV:}href")]
                for href in hrefs:
                    if href.startswith(f"/{self.user}/{home}/") and href.rstrip("/") != \
                            f"/{self.user}/{home}":
                        r = s.delete(self.url + href)
                        if r.status_code not in (200, 204, 404):
                            raise RuntimeError(f"DELETE {href}: {r.status_code} {r.text[:300]}")

    def create_calendar(self, name: str, display_name: str | None = None,
                        components: tuple[str, ...] = ("VEVENT",)) -> str:
        comps = "".join(f'<C:comp name="{c}"/>' for c in components)
        body = ('<?xml version="1.0" encoding="utf-8"?>'
                '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
                f'<D:set><D:prop><D:displayname>{display_name or name}</D:displayname>'
                f'<C:supported-calendar-component-set>{comps}</C:supported-calendar-component-set>'
                '</D:prop></D:set></C:mkcalendar>')
        return self._make(self.calendar_url(name), "MKCALENDAR", body)

    def create_addressbook(self, name: str, display_name: str | None = None) -> str:
        body = ('<?xml version="1.0" encoding="utf-8"?>'
                '<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">'
                '<D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>'
                f'<D:displayname>{display_name or name}</D:displayname>'
                '</D:prop></D:set></D:mkcol>')
        return self._make(self.addressbook_url(name), "MKCOL", body)

    def _make(self, url: str, method: str, body: str) -> str:
        with self.session() as s:
            r = s.request(method, url, data=body.encode("utf-8"),
                          headers={"Content-Type": "application/xml; charset=utf-8"})
        if r.status_code != 201:
            raise RuntimeError(f"{method} {url}: {r.status_code} {r.text[:300]}")
        return url

    def put_event(self, calendar: str, name: str, ics: str,
                  session: requests.Session | None = None) -> str:
        return self._put(self.event_url(calendar, name), ics, "text/calendar", session)

    def put_card(self, book: str, name: str, vcf: str,
                 session: requests.Session | None = None) -> str:
        return self._put(self.card_url(book, name), vcf, "text/vcard", session)

    def _put(self, url: str, text: str, content_type: str,
             session: requests.Session | None) -> str:
        s = session or self.session()
        try:
            r = s.put(url, data=text.encode("utf-8"),
                      headers={"Content-Type": f"{content_type}; charset=utf-8"})
        finally:
            if session is None:
                s.close()
        if r.status_code not in (200, 201, 204):
            raise RuntimeError(f"PUT {url}: {r.status_code} {r.text[:300]}")
        return url

    def delete_event(self, calendar: str, name: str) -> None:
        self._delete(self.event_url(calendar, name))

    def delete_card(self, book: str, name: str) -> None:
        self._delete(self.card_url(book, name))

    def _delete(self, url: str) -> None:
        with self.session() as s:
            r = s.delete(url)
        if r.status_code not in (200, 204):
            raise RuntimeError(f"DELETE {url}: {r.status_code} {r.text[:300]}")

    # -- resources it serves badly ----------------------------------------------------------------

    def _repo(self, collection_url: str) -> Path:
        return self.data_dir / collection_url[len(self.url) + 1:].strip("/")

    def _commit(self, collection_url: str, name: str, data: bytes) -> Path:
        """Commit `data` as resource `name` straight into the collection's git repository, as
        another program writing to the store would."""
        self.store_files(collection_url, {name: data})
        return self._repo(collection_url)

    def store_files(self, collection_url: str, files: dict[str, bytes]) -> None:
        """Commit `files` (name -> bytes, as they are) into the collection's git repository in
        one commit, bypassing the checks a PUT makes (one UID per resource, valid text)."""
        from dulwich import porcelain

        repo = self._repo(collection_url)
        for name, data in files.items():
            (repo / name).write_bytes(data)
        porcelain.add(str(repo), [str(repo / name) for name in files])
        porcelain.commit(str(repo), message=f"kith tests: {len(files)} files".encode(),
                         author=b"kith tests <tests@kith.invalid>",
                         committer=b"kith tests <tests@kith.invalid>")

    def store_latin1(self, collection_url: str, name: str, text: str) -> None:
        """Store `text` encoded in Latin-1: every multiget holding it fails (HTTP 500); GET
        serves a card but not a calendar resource."""
        self._commit(collection_url, name, text.encode("latin-1"))

    def store_unservable(self, collection_url: str, name: str, text: str) -> str:
        """Store a resource whose content is then lost from the repository: listed with an
        etag, but neither multiget nor GET can serve it. Returns the text stored: `text` with
        a line that makes it unique, as Xandikos keeps what it once read by content hash."""
        from dulwich.objects import Blob

        end = text.rstrip().rindex("\n") + 1
        text = f"{text[:end]}X-KITH-TEST-NONCE:{uuid.uuid4()}\r\n{text[end:]}"
        repo = self._repo(collection_url)
        self._commit(collection_url, name, text.encode("utf-8"))
        blob_id = Blob.from_string(text.encode("utf-8")).id.decode()
        (repo / ".git" / "objects" / blob_id[:2] / blob_id[2:]).unlink()
        return text

    def repair(self, collection_url: str, name: str, text: str) -> None:
        """Write `text` as resource `name` into the git store again (a PUT cannot: Xandikos
        reads the lost content first). With the text `store_unservable` returned, the lost
        object comes back and the resource's etag is unchanged."""
        self._commit(collection_url, name, text.encode("utf-8"))
