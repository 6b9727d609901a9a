"""A real Radicale CalDAV / CardDAV server on 127.0.0.1 for tests and benchmarks, in a temporary
folder.

`RadicaleServer` writes an htpasswd file (plain text: a test password only), starts
`python -m radicale` on a free port with filesystem storage in its own folder, and waits until
the server answers. Calendars are made with MKCALENDAR, events written with PUT and removed
with DELETE, over HTTP like any client, so Radicale keeps its own sync-token history. Address
books are made with an extended MKCOL (RFC 5689) whose resourcetype is CardDAV's addressbook,
cards written with PUT (text/vcard) and removed with DELETE.

Traps met: `--config ""` keeps Radicale from reading /etc/radicale/config or ~/.config; a wrong
password is answered only after `auth.delay` seconds (1 by default), so it is set to 0; the
server keeps inherited stdout/stderr open, so its output goes to a file.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.servers.process import ServerProcess



class RadicaleUnavailable(RuntimeError):
    """Radicale is not installed or would not start here; the message says why."""


class RadicaleNotInstalled(RadicaleUnavailable):
    """The radicale package is missing (as opposed to a server that would not start)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RadicaleServer(ServerProcess):
    """One Radicale instance with one user. Calendars are addressed by their collection name
    under the user's home (`/kith/work/`)."""
    root: Path
    user: str = "kith"
    password: str = "correct horse battery staple"
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @classmethod
    def create(cls, **kwargs) -> "RadicaleServer":
        try:
            import radicale  # noqa: F401
        except ImportError as exc:
            raise RadicaleNotInstalled(f"radicale is not installed ({exc}); pip install radicale")
        root = Path(tempfile.mkdtemp(prefix="kith-radicale-"))
        server = cls(root=root, **kwargs)
        (root / "users").write_text(f"{server.user}:{server.password}\n")
        (root / "collections").mkdir()
        return server

    # -- addresses ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def home_url(self) -> str:
        return f"{self.url}/{self.user}/"

    def calendar_url(self, name: str) -> str:
        return f"{self.home_url}{name}/"

    def event_url(self, calendar: str, name: str) -> str:
        return f"{self.calendar_url(calendar)}{name}"

    @property
    def log_path(self) -> Path:
        return self.root / "radicale.log"

    # -- process ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start Radicale and wait until it answers HTTP. Raises RadicaleUnavailable with the
        reason (and the log's tail) when it will not start."""
        if self.process is not None and self.process.poll() is None:
            return
        args = [sys.executable, "-m", "radicale", "--config", "",
                "--server-hosts", f"{self.host}:{self.port}",
                "--storage-filesystem-folder", str(self.root / "collections"),
                "--auth-type", "htpasswd",
                "--auth-htpasswd-filename", str(self.root / "users"),
                "--auth-htpasswd-encryption", "plain",
                "--auth-delay", "0",
                "--rights-type", "owner_only",
                "--logging-level", "warning"]
        self._spawn(args, "/.web/", RadicaleUnavailable, "radicale")

    # -- calendars and events -------------------------------------------------------------------

    def session(self) -> requests.Session:
        s = requests.Session()
        s.auth = (self.user, self.password)
        return s

    def clear(self) -> None:
        """Remove every collection of the user, for a fresh start."""
        with self.session() as s:
            r = s.delete(self.home_url)
            if r.status_code not in (200, 204, 404):
                raise RuntimeError(f"DELETE {self.home_url}: {r.status_code} {r.text[:300]}")

    def create_calendar(self, name: str, display_name: str | None = None,
                        components: tuple[str, ...] = ("VEVENT",)) -> str:
        """MKCALENDAR `name` under the user's home; returns its URL."""
        comps = "".join(f'<C:comp name="{c}"/>' for c in components)
        body = ('<?xml version="1.0" encoding="utf-8"?>'
                '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
                '<D:set><D:prop>'
                f'<D:displayname>{display_name or name}</D:displayname>'
                f'<C:supported-calendar-component-set>{comps}</C:supported-calendar-component-set>'
                '</D:prop></D:set></C:mkcalendar>')
        url = self.calendar_url(name)
        with self.session() as s:
            r = s.request("MKCALENDAR", url, data=body.encode("utf-8"),
                          headers={"Content-Type": "application/xml; charset=utf-8"})
        if r.status_code != 201:
            raise RuntimeError(f"MKCALENDAR {url}: {r.status_code} {r.text[:300]}")
        return url

    def put_event(self, calendar: str, name: str, ics: str,
                  session: requests.Session | None = None) -> str:
        """PUT one calendar object resource (`name` ends in .ics); returns its URL."""
        url = self.event_url(calendar, name)
        s = session or self.session()
        try:
            r = s.put(url, data=ics.encode("utf-8"),
                      headers={"Content-Type": "text/calendar; charset=utf-8"})
        finally:
            if session is None:
                s.close()
        if r.status_code not in (200, 201, 204):
            raise RuntimeError(f"PUT {url}: {r.status_code} {r.text[:300]}")
        return url

    def upload_calendar(self, name: str, events: list[str], display_name: str | None = None
                        ) -> str:
        """Create (or replace) calendar `name` holding `events` (make_event texts) with one PUT
        of a whole VCALENDAR on the collection, a Radicale feature: one item per UID, named
        '<UID>.ics'. Thousands of single PUTs take minutes (each ~70 ms and growing); this takes
        seconds. Returns the calendar's URL."""
        body = ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//kith//tests//EN\r\n"]
        for ics in events:
            start, end = ics.index("BEGIN:VEVENT"), ics.rindex("END:VCALENDAR")
            body.append(ics[start:end])
        body.append("END:VCALENDAR\r\n")
        url = self.calendar_url(name)
        with self.session() as s:
            s.request("PROPFIND", self.home_url, headers={"Depth": "0"})   # makes the home
            r = s.put(url, data="".join(body).encode("utf-8"),
                      headers={"Content-Type": "text/calendar; charset=utf-8"})
            if r.status_code not in (200, 201, 204):
                raise RuntimeError(f"PUT {url}: {r.status_code} {r.text[:300]}")
            r = s.request("PROPPATCH", url, headers={"Content-Type": "application/xml"},
                          data=('<?xml version="1.0" encoding="utf-8"?><D:propertyupdate '
                                'xmlns:D="DAV:"><D:set><D:prop><D:displayname>'
                                f'{display_name or name}</D:displayname></D:prop></D:set>'
                                '</D:propertyupdate>').encode("utf-8"))
            if r.status_code != 207:
                raise RuntimeError(f"PROPPATCH {url}: {r.status_code} {r.text[:300]}")
        return url

    def delete_event(self, calendar: str, name: str) -> None:
        url = self.event_url(calendar, name)
        with self.session() as s:
            r = s.delete(url)
        if r.status_code not in (200, 204):
            raise RuntimeError(f"DELETE {url}: {r.status_code} {r.text[:300]}")


    # -- address books and cards ----------------------------------------------------------------

    def addressbook_url(self, name: str) -> str:
        return f"{self.home_url}{name}/"

    def card_url(self, book: str, name: str) -> str:
        return f"{self.addressbook_url(book)}{name}"

    def create_addressbook(self, name: str, display_name: str | None = None) -> str:
        """Extended MKCOL `name` under the user's home with resourcetype CR:addressbook;
        returns its URL."""
        body = ('<?xml version="1.0" encoding="utf-8"?>'
                '<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">'
                '<D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>'
                f'<D:displayname>{display_name or name}</D:displayname>'
                '</D:prop></D:set></D:mkcol>')
        url = self.addressbook_url(name)
        with self.session() as s:
            r = s.request("MKCOL", url, data=body.encode("utf-8"),
                          headers={"Content-Type": "application/xml; charset=utf-8"})
        if r.status_code != 201:
            raise RuntimeError(f"MKCOL {url}: {r.status_code} {r.text[:300]}")
        return url

    def put_card(self, book: str, name: str, vcf: str,
                 session: requests.Session | None = None) -> str:
        """PUT one vCard resource (`name` ends in .vcf); returns its URL."""
        url = self.card_url(book, name)
        s = session or self.session()
        try:
            r = s.put(url, data=vcf.encode("utf-8"),
                      headers={"Content-Type": "text/vcard; charset=utf-8"})
        finally:
            if session is None:
                s.close()
        if r.status_code not in (200, 201, 204):
            raise RuntimeError(f"PUT {url}: {r.status_code} {r.text[:300]}")
        return url

    def delete_card(self, book: str, name: str) -> None:
        url = self.card_url(book, name)
        with self.session() as s:
            r = s.delete(url)
        if r.status_code not in (200, 204):
            raise RuntimeError(f"DELETE {url}: {r.status_code} {r.text[:300]}")


def make_event(uid: str, start: str, *, end: str | None = None, summary: str = "Meeting",
               tzid: str | None = None, rrule: str | None = None,
               attendees: tuple[str, ...] = (), organizer: str | None = None,
               overrides: tuple[str, ...] = (), sequence: int = 0) -> str:
    """One VCALENDAR with one VEVENT. `start`/`end` are iCalendar date-times
    ('20261120T170000Z', or local with `tzid`). `overrides` are further VEVENT blocks (without
    BEGIN/END) put after the master, e.g. a moved occurrence with RECURRENCE-ID."""
    def dt(name: str, value: str) -> str:
        return f"{name};TZID={tzid}:{value}" if tzid and not value.endswith("Z") else \
            f"{name}:{value}"

    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//kith//tests//EN", "BEGIN:VEVENT",
             f"UID:{uid}", "DTSTAMP:20260101T000000Z", dt("DTSTART", start)]
    if end:
        lines.append(dt("DTEND", end))
    if rrule:
        lines.append(f"RRULE:{rrule}")
    lines += [f"SUMMARY:{summary}", f"SEQUENCE:{sequence}"]
    if organizer:
        lines.append(f"ORGANIZER:mailto:{organizer}")
    lines += [f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{a}" for a in attendees]
    lines.append("END:VEVENT")
    for block in overrides:
        lines += ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
                  *block.strip().splitlines(), "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def make_card(uid: str, full_name: str, *, family: str = "", given: str = "",
              emails: tuple[str, ...] = (), phones: tuple[str, ...] = (),
              org: str | None = None, rev: str | None = None) -> str:
    """One vCard 3.0 with UID, FN, N and the given emails / phones."""
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", f"FN:{full_name}",
             f"N:{family};{given};;;"]
    lines += [f"EMAIL;TYPE=INTERNET:{e}" for e in emails]
    lines += [f"TEL;TYPE=CELL:{p}" for p in phones]
    if org:
        lines.append(f"ORG:{org}")
    if rev:
        lines.append(f"REV:{rev}")
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"
