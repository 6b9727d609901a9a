"""Typed records that connectors yield and the loader stores.

A *contact card* is one entry of an address book or one scanned business card, whatever format it
came in (vCard, a contacts CSV, later CardDAV). Its identity in the warehouse is `record_key`: the
source's own id where it has one (vCard UID), else a hash of its content. `record_hash` changes only
when something a person would call content changes, so a re-import is recognised as already present
and an edited card as a new version of the same record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(slots=True)
class Email:
    address: str                      # as the source wrote it
    normalized: str | None            # trimmed and lower-cased; None when it is not an address
    types: list[str] = field(default_factory=list)   # lower-case: work, home, internet, pref...
    label: str | None = None          # a free-text label (Apple X-ABLabel, a CSV column's name)


@dataclass(slots=True)
class Phone:
    number: str                       # as the source wrote it
    e164: str | None                  # +14155550100; None when it does not parse
    types: list[str] = field(default_factory=list)   # cell, work, home, fax, voice, pref...
    label: str | None = None


@dataclass(slots=True)
class Address:
    po_box: str | None = None
    extended: str | None = None
    street: str | None = None
    locality: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    types: list[str] = field(default_factory=list)
    label: str | None = None


@dataclass(slots=True)
class Link:
    """A URL, a social profile or an instant-messaging handle."""
    value: str                        # as the source wrote it
    kind: str                         # 'url' | 'social' | 'impp'
    service: str | None = None        # lower-case: linkedin, twitter, github, xmpp, skype...
    types: list[str] = field(default_factory=list)
    label: str | None = None


class _Record:
    """What every stored record has: a key (its identity across imports) and a hash of its
    content, leaving out provenance and fields that change without meaning (`_NOT_CONTENT`)."""
    __slots__ = ()
    _NOT_CONTENT: frozenset[str] = frozenset()

    def content(self) -> dict:
        # Empty fields are left out, so adding an optional field later does not change the hash
        # of every record already stored (a re-import would see them all as edited).
        return {name: _plain(value) for name in self.__slots__
                if name not in self._NOT_CONTENT
                and (value := getattr(self, name)) is not None and value != []}

    @property
    def record_hash(self) -> str:
        blob = json.dumps(self.content(), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(slots=True)
class ContactCard(_Record):
    position: int                     # 1-based line where the card / row starts in its file
    raw_text: str                     # the card or row as the source said it (PHOTO data elided)
    source_format: str                # 'vcard-2.1' | 'vcard-3.0' | 'vcard-4.0' | 'csv-google' | ...
    full_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    additional_names: str | None = None
    name_prefix: str | None = None
    name_suffix: str | None = None
    is_name_derived: bool = False     # given/family split from full_name, not said by the source
    nicknames: list[str] = field(default_factory=list)
    org: str | None = None
    org_units: list[str] = field(default_factory=list)
    title: str | None = None
    role: str | None = None
    note: str | None = None
    categories: list[str] = field(default_factory=list)
    birthday: str | None = None       # 'YYYY-MM-DD', or '--MM-DD' when the year is unknown
    uid: str | None = None
    revision: str | None = None       # REV as written
    revised_at: datetime | None = None  # REV parsed, UTC
    photo_sha256: str | None = None   # hash of the decoded photo; the photo itself is not kept
    emails: list[Email] = field(default_factory=list)
    phones: list[Phone] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    connected_on: date | None = None  # LinkedIn: the day the connection was made
    item: str | None = None           # CardDAV: the resource href the card came from
    # A card read by OCR: how sure the reading is of each field, 0..1 (for e-mails, phones,
    # links and addresses the lowest of their values). Empty for cards a source typed.
    field_confidence: dict[str, float] = field(default_factory=dict)

    _NOT_CONTENT = frozenset({"position", "raw_text", "source_format", "revision", "revised_at",
                              "item", "field_confidence"})

    @property
    def record_key(self) -> str:
        """The card's identity across imports: its UID, else for a scanned card the photo it
        came from and its number there (so a better reading of the same photo is a new version
        of the card, not a second card), else its content."""
        if self.uid:
            return "uid:" + self.uid
        if self.source_format.startswith("ocr") and self.photo_sha256:
            return f"photo:{self.photo_sha256}:{self.position}"
        return "hash:" + self.record_hash


@dataclass(slots=True)
class Rejected:
    """A record that could not be read, with why, where and what it said."""
    position: int
    reason: str
    raw_text: str
    item: str | None = None           # CalDAV / CardDAV: the resource href it came from


@dataclass(slots=True)
class UnservedResource(Rejected):
    """A CalDAV / CardDAV resource the server could not serve (it failed on that resource alone,
    even fetched by itself). Kept as a reject with its href, the server's status and answer; the
    rest of the collection still loads, and the load is `partial`."""
    status: int | None = None         # the server's HTTP status, None when it sent no answer


class RefusedFile(ValueError):
    """A whole file a connector will not read (not text, no usable columns...). The message is
    one sentence for the user; the file is recorded in `loads` as refused, and nothing of it is
    kept. A record that cannot be read is a `Rejected`, never this."""


def _plain(value):
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "__slots__"):
        return {name: _plain(getattr(value, name)) for name in value.__slots__}
    return value


@dataclass(slots=True)
class Mailbox:
    """One address in a mail header."""
    name: str | None                  # display name, decoded (RFC 2047 and raw 8-bit alike)
    address: str                      # the address as written
    normalized: str | None            # normalize_email(address); None when it is not an address


@dataclass(slots=True)
class MailMessage(_Record):
    """The header facts of one e-mail message. Bodies are never read into a record.

    Identity is the Message-ID; a message without a usable one gets a stable id hashed from its
    headers, so the same message read twice is still one message.
    """
    position: int                     # mbox: 1-based line of the From_ line; IMAP: the UID; else 1
    raw_text: str                     # the header fields kith reads, as the message wrote them
    folder: str | None                # IMAP folder or Maildir sub-folder; None for a single file
    message_id: str                   # without angle brackets
    has_message_id: bool              # False when message_id was made from a hash of the headers
    date_raw: str | None = None
    sent_at: datetime | None = None   # Date header in UTC; None when it does not parse
    from_: list[Mailbox] = field(default_factory=list)
    sender: list[Mailbox] = field(default_factory=list)
    reply_to: list[Mailbox] = field(default_factory=list)
    to: list[Mailbox] = field(default_factory=list)
    cc: list[Mailbox] = field(default_factory=list)
    bcc: list[Mailbox] = field(default_factory=list)
    in_reply_to: str | None = None    # the Message-ID it answers, without angle brackets
    references: list[str] = field(default_factory=list)
    list_id: str | None = None
    list_unsubscribe: str | None = None
    precedence: str | None = None
    auto_submitted: str | None = None
    return_path: str | None = None
    gmail_labels: list[str] = field(default_factory=list)
    gmail_thread_id: str | None = None
    subject: str | None = None        # only when the user opted in
    warnings: list[str] = field(default_factory=list)   # e.g. "unparseable Date: ..."

    @property
    def record_hash(self) -> str:
        # A message is stored once and never versioned, so its hash only has to tell header
        # blocks apart, and hashing the text is 10x cheaper than hashing the parsed fields.
        return hashlib.sha256(self.raw_text.encode("utf-8", "surrogatepass")).hexdigest()

    @property
    def record_key(self) -> str:
        return "mid:" + self.message_id


@dataclass(slots=True)
class FolderState:
    """Where an incremental source stopped: yielded last by a connector after its records, and
    stored by the loader in the same transaction, so the records and the cursor move together."""
    source_uri: str                   # e.g. imaps://user@host:993/INBOX
    cursor: dict                      # e.g. {"uidvalidity": 1700000000, "last_uid": 4211}
    is_reset: bool = False            # the source renumbered (new UIDVALIDITY): positions seen
                                      # before this load are stale


@dataclass(slots=True)
class Attendee:
    """The organiser or one attendee of a calendar event."""
    email: str | None                 # the address as written (mailto: removed)
    normalized: str | None            # normalize_email(email)
    name: str | None = None           # CN
    partstat: str | None = None       # ACCEPTED, DECLINED, TENTATIVE, NEEDS-ACTION, DELEGATED
    role: str | None = None           # REQ-PARTICIPANT, OPT-PARTICIPANT, CHAIR, NON-PARTICIPANT
    cutype: str | None = None         # INDIVIDUAL, GROUP, RESOURCE, ROOM, UNKNOWN


@dataclass(slots=True)
class EventOccurrence(_Record):
    """One occurrence of a calendar event: a single event, or one instance of a recurring one.

    Identity is UID + the occurrence's original start (its RECURRENCE-ID), so a moved occurrence
    keeps its identity and an edited event becomes a new version of the same occurrences.
    """
    position: int                     # 1-based line of the BEGIN:VEVENT it came from
    raw_text: str                     # the VEVENT as written, without DESCRIPTION / SUMMARY / LOCATION
    calendar: str | None              # X-WR-CALNAME, or the CalDAV collection's name
    item: str | None                  # CalDAV: the resource href the event came from; files: None
    uid: str
    occurrence_id: str                # original start in UTC, ISO 8601 ('2026-11-20T17:00:00Z');
                                      # for all-day events the date ('2026-11-20')
    start_at: datetime                # UTC
    end_at: datetime | None           # UTC
    start_tz: str | None = None       # the zone the event was written in (Olson name when known)
    is_all_day: bool = False
    is_recurring: bool = False
    sequence: int | None = None
    status: str | None = None         # CONFIRMED, TENTATIVE, CANCELLED
    organizer: Attendee | None = None
    attendees: list[Attendee] = field(default_factory=list)
    summary: str | None = None        # only when the user opted in
    warnings: list[str] = field(default_factory=list)   # e.g. "unknown TZID 'Foo'; read as UTC"

    _NOT_CONTENT = frozenset({"position", "raw_text", "calendar", "warnings"})

    @property
    def record_key(self) -> str:
        return f"ev:{self.uid}:{self.occurrence_id}"


@dataclass(slots=True)
class Deleted:
    """A record an incremental source says is gone (a CalDAV event or a CardDAV card deleted on
    the server). `key` is the source's own id for it, e.g. the resource href."""
    key: str


@dataclass(slots=True)
class SocialMessage(_Record):
    """One message on a social platform (a LinkedIn message): who wrote to whom, when.
    The text is never kept."""
    position: int                     # 1-based line of the row
    raw_text: str                     # the row without its content / subject columns
    platform: str                     # 'linkedin'
    conversation_id: str | None
    sender_name: str | None
    sender_profile: str | None        # normalised profile URL (see connectors.profiles)
    recipient_names: list[str] = field(default_factory=list)
    recipient_profiles: list[str] = field(default_factory=list)
    sent_at: datetime | None = None   # UTC
    folder: str | None = None         # INBOX / SENT in the older export layout
    message_id: str | None = None     # the export's own id when it has one, else a content hash

    _NOT_CONTENT = frozenset({"position", "raw_text"})

    @property
    def record_key(self) -> str:
        return f"{self.platform}-msg:" + (self.message_id or self.record_hash)


@dataclass(slots=True)
class SocialInvitation(_Record):
    """One connection invitation on a social platform, sent or received. The note is not kept."""
    position: int
    raw_text: str
    platform: str                     # 'linkedin'
    direction: str                    # 'incoming' | 'outgoing'
    other_name: str | None
    other_profile: str | None         # normalised profile URL
    sent_at: datetime | None = None

    _NOT_CONTENT = frozenset({"position", "raw_text"})

    @property
    def record_key(self) -> str:
        return f"{self.platform}-inv:" + self.record_hash



@dataclass(slots=True)
class ChatMessage(_Record):
    """One message in a chat app's export (WhatsApp, Telegram, Messenger, Instagram, iMessage,
    X): who wrote in which chat, when. The text is never read into a record.

    A sender is known by `sender_id` where the app has ids (Telegram, X, an iMessage handle),
    else by phone number or by the name the export shows (WhatsApp, Messenger, Instagram).
    `members` lists the chat's people in the same terms, where the export names them.
    """
    position: int                     # 1-based line (text exports), message number (JSON), ROWID
    raw_text: str                     # the message's header as the export wrote it, no text
    platform: str                     # whatsapp | telegram | messenger | instagram | imessage | x
    chat_id: str                      # the export's id for the chat, else its name
    message_id: str                   # the export's id, else time + sender + n-th at that time
    sent_at: datetime | None          # UTC
    kind: str = "message"             # message | media | call | reaction | deleted | system
    chat_name: str | None = None
    chat_type: str | None = None      # as the export says: personal_chat, RegularGroup...
    sender_name: str | None = None
    sender_id: str | None = None      # the app's id for the sender (Telegram user123, X id)
    sender_phone: str | None = None   # E.164 when the sender is a phone number
    sender_email: str | None = None   # iMessage handles that are e-mail addresses
    is_from_owner: bool | None = None  # when the export says (iMessage is_from_me); else None
    members: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)   # e.g. "day and month order ambiguous"

    _NOT_CONTENT = frozenset({"position", "raw_text", "warnings"})

    @property
    def record_hash(self) -> str:
        # Stored once and never versioned (like mail): the hash only tells headers apart, and
        # hashing the header text is several times cheaper than hashing the parsed fields.
        text = (f"{self.platform}\0{self.chat_id}\0{self.message_id}\0{self.raw_text}\0"
                f"{self.kind}\0{self.sender_name}")
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    @property
    def record_key(self) -> str:
        ident = f"{self.platform}\0{self.chat_id}\0{self.message_id}"
        return f"{self.platform}-msg:" + hashlib.sha256(
            ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]
