"""Which connector reads a file or folder: decided by content, the extension only as a last resort."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from kith.records import (ChatMessage, ContactCard, EventOccurrence, MailMessage, Rejected,
                          SocialInvitation, SocialMessage)

SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class ReadOptions:
    """What the user chose for an import, passed on to whichever connector reads the file."""
    region: str | None = None         # default phone region
    include_subject: bool = False     # store e-mail subjects and event summaries (off by default)
    owner_tz: str | None = None       # zone for calendar times written without one (None: UTC)


@dataclass(frozen=True)
class FileKind:
    name: str                         # source_kind in the warehouse
    description: str
    extensions: tuple[str, ...]

    def sniff(self, head: bytes) -> bool:
        if self.name in CHAT_KINDS:
            return _chat_sniffer(self.name)(head)
        if self.name == "social_lists":
            from kith.connectors.social_lists import looks_like_social_list
            return looks_like_social_list(head)
        if self.name == "vcard":
            from kith.connectors.vcard import looks_like_vcard
            return looks_like_vcard(head)
        if self.name == "contacts_csv":
            from kith.connectors.contacts_csv import looks_like_contacts_csv
            return looks_like_contacts_csv(head)
        if self.name == "ics":
            from kith.connectors.ics import looks_like_ics
            return looks_like_ics(head)
        if self.name == "linkedin":
            from kith.connectors.linkedin import looks_like_linkedin
            return looks_like_linkedin(head)
        if self.name == "card_photo":
            from kith.connectors.card_photos import looks_like_card_photo
            return looks_like_card_photo(head)
        from kith.connectors.mail import looks_like_eml, looks_like_mbox
        return looks_like_mbox(head) if self.name == "mbox" else looks_like_eml(head)

    def read(self, path: Path, options: ReadOptions
             ) -> Iterator[ContactCard | MailMessage | EventOccurrence | SocialMessage
                           | SocialInvitation | ChatMessage | Rejected]:
        if self.name in CHAT_KINDS:
            return _read_chats(self.name, path, options)
        if self.name == "social_lists":
            from kith.connectors.social_lists import read_social_list
            return read_social_list(path)
        if self.name == "vcard":
            from kith.connectors.vcard import read_vcards
            return read_vcards(path, default_region=options.region)
        if self.name == "contacts_csv":
            from kith.connectors.contacts_csv import read_contacts_csv
            return read_contacts_csv(path, default_region=options.region)
        if self.name == "linkedin":
            from kith.connectors.linkedin import read_linkedin
            return read_linkedin(path)
        if self.name == "ics":
            from kith.connectors.ics import read_ics
            return read_ics(path, owner_tz=options.owner_tz,
                            include_summary=options.include_subject)
        if self.name == "card_photo":
            from kith.connectors.card_photos import read_card_photos
            return read_card_photos(path, region=options.region)
        from kith.connectors.mail import read_mail
        return read_mail(path, include_subject=options.include_subject)


VCARD = FileKind("vcard", "vCard address book or business cards", (".vcf", ".vcard"))
CONTACTS_CSV = FileKind("contacts_csv", "contacts CSV (Google, Outlook, Thunderbird, card scanners)",
                        (".csv", ".tsv"))
MBOX = FileKind("mbox", "mbox mail archive (Gmail Takeout, Thunderbird, list archives)",
                (".mbox", ".mbx"))
EML = FileKind("eml", "a single e-mail message", (".eml",))
ICS = FileKind("ics", "iCalendar file (Google, Outlook / Exchange, Apple, Thunderbird...)",
               (".ics", ".ical", ".ifb"))
LINKEDIN = FileKind("linkedin", "LinkedIn data export (zip, folder, or its Connections / messages "
                    "/ Invitations CSV)", ())
CARD_PHOTO = FileKind("card_photo", "photos or scans of business cards (JPEG, PNG, WebP, HEIC, "
                      "TIFF, PDF), read by OCR", (".jpg", ".jpeg", ".png", ".webp", ".heic",
                                                  ".heif", ".tif", ".tiff", ".pdf"))
MAILDIR = FileKind("maildir", "Maildir folder (cur/, new/ and Maildir++ sub-folders)", ())
WHATSAPP = FileKind("whatsapp", "WhatsApp chat export (.txt per chat, or its zip)", ())
TELEGRAM = FileKind("telegram", "Telegram Desktop export (result.json)", ())
MESSENGER = FileKind("messenger", "Facebook Messenger or Instagram conversation "
                     "(message_1.json from Download your information)", ())
IMESSAGE = FileKind("imessage", "a copy of macOS Messages' chat.db (iMessage and SMS)", ())
X_DMS = FileKind("x", "X / Twitter archive direct messages (direct-messages.js)", ())
CHAT_KINDS = {kind.name: kind for kind in (WHATSAPP, TELEGRAM, MESSENGER, IMESSAGE, X_DMS)}
SOCIAL_LISTS = FileKind("social_lists", "Facebook friends, Instagram followers / following, X "
                        "follower / following lists", ())

# Order matters: a vCard or a calendar is recognised by its BEGIN line wherever it is, an mbox by
# its From_ line; a single message by its headers; a CSV only by its shape.
# Chat exports come before mail: an Android WhatsApp line ("Name: text") looks like a header.
# An image or a PDF is told by its first bytes, which no text format starts with.
FILE_KINDS = (VCARD, ICS, *CHAT_KINDS.values(), SOCIAL_LISTS, MBOX, EML, LINKEDIN, CONTACTS_CSV,
              CARD_PHOTO)


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def detect(path: Path) -> FileKind | None:
    """The kind of file or folder at `path`, or None when no connector recognises it."""
    if path.is_dir():
        return MAILDIR if is_maildir(path) else None
    from kith.connectors.linkedin import is_linkedin_export
    if is_linkedin_export(path):     # a zip's file list is at its end: not in the head
        return LINKEDIN
    if (chat := _chat_kind_by_name(path)) is not None:
        return chat
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    for kind in FILE_KINDS:
        if kind.sniff(head):
            return kind
    # Content did not say. A file named .vcf is still read as one, so that what is wrong with
    # it ends up as a reject with a reason instead of a silent skip.
    suffix = path.suffix.lower()
    for kind in FILE_KINDS:
        if suffix in kind.extensions:
            return kind
    return None


def _chat_sniffer(name: str):
    if name == "whatsapp":
        from kith.connectors.whatsapp import looks_like_whatsapp
        return looks_like_whatsapp
    if name == "telegram":
        from kith.connectors.telegram import looks_like_telegram
        return looks_like_telegram
    if name == "messenger":
        from kith.connectors.messenger import looks_like_meta_messages
        return looks_like_meta_messages
    if name == "imessage":
        from kith.connectors.imessage import looks_like_chat_db
        return looks_like_chat_db
    from kith.connectors.x_archive import looks_like_x_dms
    return looks_like_x_dms


def _read_chats(name: str, path: Path, options: ReadOptions) -> Iterator:
    if name == "whatsapp":
        from kith.connectors.whatsapp import read_whatsapp
        return read_whatsapp(path, region=options.region, owner_tz=options.owner_tz)
    if name == "telegram":
        from kith.connectors.telegram import read_telegram
        return read_telegram(path, owner_tz=options.owner_tz)
    if name == "messenger":
        from kith.connectors.messenger import read_meta_messages
        return read_meta_messages(path)
    if name == "imessage":
        from kith.connectors.imessage import read_chat_db
        return read_chat_db(path, region=options.region)
    from kith.connectors.x_archive import read_x_dms
    return read_x_dms(path)


def _chat_kind_by_name(path: Path) -> FileKind | None:
    """Chat exports whose content alone does not say it, or says it too late: a WhatsApp zip
    (its file list is at the end), and files the apps name so (WhatsApp's chat text, Telegram's
    result.json, chat.db), read so that one kith cannot read is refused with a reason rather
    than skipped as unknown."""
    from kith.connectors.whatsapp import is_whatsapp_name, is_whatsapp_zip
    name = path.name.lower()
    if path.suffix.lower() == ".zip":
        return WHATSAPP if is_whatsapp_zip(path) else None
    if is_whatsapp_name(path):
        return WHATSAPP
    if name == "result.json":
        return TELEGRAM
    if name == "chat.db":
        return IMESSAGE
    return None
