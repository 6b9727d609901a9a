"""Contacts CSV files: address books and card-scanner exports as one ContactCard per row.

Reads Google Contacts (legacy "Google CSV" and the newer header), Outlook, Thunderbird (with or
without a header row) and generic CSVs whose headers say what they hold (Name, E-mail, Phone,
Company...). The file is streamed: only the first 64 KB are looked at as a whole, to tell the
encoding, the delimiter and the layout; rows are then read one at a time.

Every non-empty cell of a row is kept in the record's `raw_text` (a JSON object header -> value),
so a column this module does not map is still landed.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

from kith.emails import normalize_email
from kith.names import is_cjk, split_full_name
from kith.phones import normalize_phone
from kith.records import Address, ContactCard, Email, Link, Phone, RefusedFile, Rejected

HEAD_SIZE = 64 * 1024
_MAX_REJECTED_TEXT = 20_000    # of a row kept in rejects.raw_text
_DELIMITERS = (",", ";", "\t", "|")
_MULTI = " ::: "      # Google's separator between several values in one cell
_SUGGESTED = "Name, First Name, Last Name, E-mail, Email, Phone, Mobile, Company, Job Title"

# Thunderbird's export order; files written without a header row use it too.
THUNDERBIRD_COLUMNS = (
    "First Name", "Last Name", "Display Name", "Nickname", "Primary Email", "Secondary Email",
    "Screen Name", "Work Phone", "Home Phone", "Fax Number", "Pager Number", "Mobile Number",
    "Home Address", "Home Address 2", "Home City", "Home State", "Home ZipCode", "Home Country",
    "Work Address", "Work Address 2", "Work City", "Work State", "Work ZipCode", "Work Country",
    "Job Title", "Department", "Organization", "Web Page 1", "Web Page 2", "Birth Year",
    "Birth Month", "Birth Day", "Custom 1", "Custom 2", "Custom 3", "Custom 4", "Notes",
)


class UnmappableCsv(RefusedFile):
    """The file is not a contacts CSV this module can read: not text, or no usable columns."""


# ---------------------------------------------------------------------------------------------
# Column mapping

@dataclass(frozen=True, slots=True)
class _Column:
    field: str                       # full, given, email, phone, address, url, ...
    label: str                       # the header as written
    group: str = ""                  # ties Google "X n - Type" to "X n - Value"; address block
    part: str = ""                   # address component
    types: tuple[str, ...] = ()
    service: str | None = None


_NAME_FIELDS = {
    "full": {"name", "full name", "fullname", "display name", "displayname", "contact name",
             "contact", "formatted name", "fn"},
    "given": {"first name", "firstname", "first", "given name", "givenname", "given", "forename",
              "vorname"},
    "additional": {"middle name", "middlename", "middle", "additional name", "additional names",
                   "second name"},
    "family": {"last name", "lastname", "last", "family name", "familyname", "surname", "family",
               "nachname"},
    "prefix": {"name prefix", "prefix", "salutation", "honorific prefix"},
    "suffix": {"name suffix", "suffix", "honorific suffix"},
    "nickname": {"nickname", "nick", "nick name"},
    "org": {"company", "company name", "organization", "organisation", "org", "organization name",
            "organisation name", "employer", "companies", "account name", "firma"},
    "dept": {"department", "organization department", "dept"},
    "title": {"job title", "jobtitle", "position", "organization title", "designation",
              "job", "occupation"},
    "note": {"notes", "note", "comments", "comment", "description", "memo", "notizen"},
    "categories": {"categories", "category", "tags", "tag", "labels", "groups", "group",
                   "group membership", "lists"},
    "birthday": {"birthday", "birthdate", "birth date", "date of birth", "dob", "bday",
                 "geburtstag"},
    "birth_year": {"birth year"},
    "birth_month": {"birth month"},
    "birth_day": {"birth day"},
    "url": {"website", "web site", "web", "url", "homepage", "home page", "web page", "webpage",
            "web page 1", "web page 2", "personal website", "company website", "blog", "sites",
            "websites", "website url", "www"},
    "impp": {"screen name", "instantmessagehandles", "im", "im address", "instant messenger"},
}
_FIELD_OF = {name: f for f, names in _NAME_FIELDS.items() for name in names}

_SOCIAL_COLUMNS = {"linkedin", "twitter", "github", "facebook", "instagram", "xing", "mastodon",
                   "youtube", "tiktok", "gitlab"}
_SOCIAL_HOSTS = {
    "linkedin.com": "linkedin", "twitter.com": "twitter", "x.com": "twitter",
    "github.com": "github", "gitlab.com": "gitlab", "facebook.com": "facebook", "fb.com": "facebook",
    "instagram.com": "instagram", "xing.com": "xing", "youtube.com": "youtube",
    "tiktok.com": "tiktok",
}
_IM_SERVICES = {"jabber": "xmpp", "xmpp": "xmpp", "skype": "skype", "aim": "aim", "icq": "icq",
                "msn": "msn", "yahoo": "yahoo", "gtalk": "gtalk", "qq": "qq", "telegram": "telegram"}

_ADDRESS_PARTS = {
    "street": "street", "street 1": "street", "address": "street", "address 1": "street",
    "address line 1": "street", "street address": "street", "addresses": "street",
    "street 2": "extended", "street 3": "extended", "address 2": "extended",
    "address line 2": "extended", "address line 3": "extended", "extended address": "extended",
    "city": "locality", "town": "locality", "locality": "locality",
    "state": "region", "region": "region", "province": "region",
    "zip": "postal_code", "zipcode": "postal_code", "zip code": "postal_code",
    "postal code": "postal_code", "postcode": "postal_code", "post code": "postal_code",
    "country": "country", "country region": "country",
    "po box": "po_box", "pobox": "po_box", "post office box": "po_box",
    "formatted": "formatted",
}
_ADDRESS_BLOCKS = {"home": "home", "business": "work", "work": "work", "office": "work",
                   "other": "other", "mailing": "", "postal": ""}

_TYPE_WORDS = {
    "business": "work", "work": "work", "office": "work", "company": "work",
    "home": "home", "personal": "home", "private": "home",
    "other": "other", "mobile": "cell", "cell": "cell", "cellphone": "cell", "handy": "cell",
    "mobil": "cell", "fax": "fax", "pager": "pager", "car": "car", "primary": "pref",
    "main": "pref", "isdn": "isdn",
}
_PHONE_WORDS = {"phone", "telephone", "tel", "mobile", "cell", "cellphone", "fax", "pager",
                "handy", "mobil", "phonenumbers", "telefon", "mobiltelefon"}


def _normalize_header(text: str) -> str:
    words = " ".join(re.findall(r"[a-z0-9]+", text.casefold()))
    return re.sub(r"\be mail\b", "email", words)


def _types_from(words: list[str]) -> tuple[str, ...]:
    types: list[str] = []
    for word in words:
        kind = _TYPE_WORDS.get(word)
        if kind and kind not in types:
            types.append(kind)
    return tuple(types)


def _column_for(label: str, dialect: str, names: set[str]) -> _Column | None:
    n = _normalize_header(label)
    if not n:
        return None
    words = n.split()
    numbered = re.fullmatch(r"(email|phone|website|address|organization|im) (\d+) (.+)", n)
    if numbered:
        kind, index, part = numbered.groups()
        group = kind + index
        if kind in ("email", "phone", "website"):
            field_ = {"email": "email", "phone": "phone", "website": "url"}[kind]
            if part in ("value", "address"):   # Google "E-mail 1 - Value", Outlook "E-mail 2 Address"
                return _Column(field_, label, group=group)
            if part in ("type", "label") and dialect == "google":
                return _Column(field_ + "_type", label, group=group)
            return None
        if kind == "address":
            part = "label" if part in ("type", "label") else _ADDRESS_PARTS.get(part)
            return _Column("address", label, group=group, part=part) if part else None
        if kind == "organization" and index == "1":
            return {"name": _Column("org", label), "title": _Column("title", label),
                    "department": _Column("dept", label)}.get(part)
        return None
    if n == "title":
        # Outlook's "Title" is the name prefix (Mr., Dr.); elsewhere it is the job title.
        if dialect == "outlook" or "job title" in names:
            return _Column("prefix", label)
        return _Column("title", label)
    if n in _FIELD_OF:
        return _Column(_FIELD_OF[n], label)
    if "email" in words or n in ("mail", "emails", "email address"):
        if {"display", "type", "label"} & set(words):
            return None
        types = _types_from(words)
        return _Column("email", label, types=types)
    if _PHONE_WORDS & set(words) and "phonetic" not in n:
        if {"type", "label"} & set(words):
            return None
        return _Column("phone", label, types=_types_from(words))
    if words[0] in _ADDRESS_BLOCKS and " ".join(words[1:]) in _ADDRESS_PARTS:
        block = _ADDRESS_BLOCKS[words[0]]
        return _Column("address", label, group="addr-" + block, part=_ADDRESS_PARTS[" ".join(words[1:])],
                       types=(block,) if block else ())
    if n in _ADDRESS_PARTS and n != "formatted":
        return _Column("address", label, group="addr-", part=_ADDRESS_PARTS[n])
    if words[0] == "website" or (words[0] == "web" and "page" in words):
        return _Column("url", label)
    if words[0] in _SOCIAL_COLUMNS:
        return _Column("social", label, service=words[0])
    if words[0] == "im" and len(words) > 1:
        return _Column("impp", label, service=_IM_SERVICES.get(words[1], words[1]))
    if n in _IM_SERVICES:
        return _Column("impp", label, service=_IM_SERVICES[n])
    return None


def _dialect_of(header: list[str], names: set[str]) -> str:
    if "group membership" in names or any(
            re.match(r"(?i)\s*(e-mail|phone|address|website|organization|relation) \d+ - ", h)
            for h in header) or {"given name", "family name"} <= names:
        return "google"
    if {"primary email", "secondary email", "web page 1", "birth year"} & names:
        return "thunderbird"
    if {"email address", "email 2 address", "business phone", "business street", "home street",
            "mobile phone", "email display name"} & names:
        return "outlook"
    return "generic"


def _map_header(header: list[str]) -> tuple[str, list[_Column | None]]:
    names = {_normalize_header(h) for h in header}
    dialect = _dialect_of(header, names)
    return dialect, [_column_for(h, dialect, names) for h in header]


_IDENTITY = {"full", "given", "family", "email", "phone", "org"}


def _score(columns: list[_Column | None]) -> tuple[int, int]:
    mapped = [c for c in columns if c]
    return sum(c.field in _IDENTITY for c in mapped), len(mapped)


# ---------------------------------------------------------------------------------------------
# Encoding, delimiter and layout

def _decode_head(head: bytes, encoding: str) -> str:
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)


def _is_japanese(text: str) -> bool:
    """True when the non-ASCII characters read as Japanese words rather than stray kanji.

    A windows-1252 "Rémi" also decodes as Shift_JIS, as one kanji between Latin letters; real
    Japanese comes in runs of several kana or kanji.
    """
    wide = 0
    in_runs = 0
    for run in re.findall(r"[^\x00-\x7f]+", text):
        wide += len(run)
        if len(run) >= 2 and is_cjk(run):
            in_runs += len(run)
    return wide > 0 and in_runs * 2 >= wide


def _detect_encoding(head: bytes) -> str:
    """The codec for a file whose first bytes are `head`; UnmappableCsv if it is not text."""
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            return encoding
    if b"\x00" in head:
        sample = head[:4096]
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        # UTF-16 without BOM: ASCII text puts a NUL beside nearly every character.
        if odd > len(sample) * 0.4 and even == 0:
            return "utf-16-le"
        if even > len(sample) * 0.4 and odd == 0:
            return "utf-16-be"
        raise UnmappableCsv("is not a text file (it holds NUL bytes): not a contacts CSV")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = codecs.getincrementaldecoder("cp932")().decode(head, final=False)
        if _is_japanese(text):
            return "cp932"
    except UnicodeDecodeError:
        pass
    return "cp1252"


def _check_text(text: str) -> None:
    controls = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\r\n") or ch == "\x7f")
    if text and controls > max(2, len(text) // 100):
        raise UnmappableCsv("is not a text file (it holds control bytes): not a contacts CSV")


@dataclass(slots=True)
class _Layout:
    encoding: str
    delimiter: str
    header: list[str] | None            # None: no header row in the file
    dialect: str
    columns: list[_Column | None] = field(default_factory=list)
    newline: str = "\n"

    @property
    def source_format(self) -> str:
        return "csv-" + self.dialect


_EMAILISH = re.compile(r"^[^@\s]+@[^@\s]+$")


def _first_records(text: str, delimiter: str, count: int) -> list[list[str]]:
    records = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                records.append(row)
            if len(records) >= count:
                break
    except csv.Error:
        pass
    return records


def _sniff(head: bytes) -> _Layout:
    """Encoding, delimiter and column mapping from the file's first bytes."""
    if not head.strip():
        raise UnmappableCsv("is empty: no header row and no contacts")
    encoding = _detect_encoding(head)
    text = _decode_head(head, encoding).lstrip("\ufeff")
    _check_text(text)
    newline = "\n" if "\n" in text or "\r" not in text else ""   # "" reads old Mac CR-only files
    sep = re.match(r"sep=(.)\r?\n", text)                          # Excel's delimiter hint line
    body = text[sep.end():] if sep else text
    firsts = {d: _first_records(body, d, 6) for d in _DELIMITERS}
    for records in firsts.values():
        for row in records:
            names = {_normalize_header(c) for c in row}
            if {"first name", "connected on"} <= names:
                raise UnmappableCsv("is a LinkedIn Connections export, not an address book: "
                                    "kith does not read LinkedIn exports yet")
            if "conversation id" in names:
                raise UnmappableCsv("is a LinkedIn messages export, not an address book: "
                                    "kith does not read LinkedIn exports yet")
    candidates = [sep.group(1)] if sep else list(_DELIMITERS)
    best: _Layout | None = None
    best_key = None
    for delimiter in candidates:
        records = firsts.get(delimiter) or _first_records(body, delimiter, 1)
        if not records:
            continue
        header = records[0]
        dialect, columns = _map_header(header)
        key = (_score(columns), len(header))
        if best_key is None or key > best_key:
            best_key = key
            best = _Layout(encoding, delimiter, header, dialect, columns, newline)
    if best is None:
        raise UnmappableCsv("is empty: no header row and no contacts")
    if _score(best.columns)[0] == 0:
        first = best.header or []
        emails = [i for i, cell in enumerate(first) if _EMAILISH.match(cell.strip())]
        if emails and emails[0] == 4:
            # Thunderbird writes files without a header in its own column order.
            names = {_normalize_header(h) for h in THUNDERBIRD_COLUMNS}
            columns = [_column_for(h, "thunderbird", names) for h in THUNDERBIRD_COLUMNS]
            return _Layout(encoding, best.delimiter, None, "thunderbird", columns, newline)
        seen = ", ".join(repr(h) for h in first if h.strip()) or "(none)"
        if emails:
            raise UnmappableCsv(
                f"has no header row (its first row is data: {first[emails[0]].strip()!r} in "
                f"column {emails[0] + 1}), and its columns are not in Thunderbird's order. "
                f"Add a header row naming each column, e.g. {_SUGGESTED}")
        raise UnmappableCsv(
            f"has no column that holds a name, e-mail, phone or company. Columns seen: {seen}. "
            f"Rename a column to one of: {_SUGGESTED}, or export as Google CSV, Outlook CSV or "
            f"Thunderbird CSV")
    return best


def looks_like_contacts_csv(head: bytes) -> bool:
    """True when the first bytes of a file look like a contacts CSV this module reads.

    LinkedIn Connections and messages exports are not contacts CSVs (the LinkedIn connector owns
    them); LinkedIn's Contacts.csv (an imported address book) is.
    """
    try:
        layout = _sniff(head[:HEAD_SIZE])
    except UnmappableCsv:
        return False
    if layout.header is None:
        return True
    fields = {c.field for c in layout.columns if c}
    if fields & {"email", "phone"}:
        return True
    return bool(fields & {"full", "given", "family"}) and bool(
        fields & {"org", "title", "address", "url", "social", "birthday"})


# ---------------------------------------------------------------------------------------------
# Values

def _split_multi(value: str) -> list[str]:
    return [v.strip() for v in value.split(_MULTI) if v.strip()]


def _split_emails(value: str) -> list[str]:
    parts = _split_multi(value)
    out = []
    for part in parts:
        # LinkedIn and some scanner apps put several addresses in one cell, comma-separated.
        pieces = [p.strip() for p in re.split(r"[,;]", part) if p.strip()]
        if len(pieces) > 1 and all("@" in p for p in pieces):
            out.extend(pieces)
        else:
            out.append(part)
    return out


def _google_type(text: str) -> tuple[list[str], str | None]:
    """(types, label) from a Google type cell like '* Work' (the star marks the primary one)."""
    text = text.strip()
    pref = text.startswith("*")
    label = text.lstrip("* ").strip() or None
    types = list(_types_from(_normalize_header(label or "").split()))
    if pref and "pref" not in types:
        types.append("pref")
    return types, label


def _birthday(text: str) -> str | None:
    """'YYYY-MM-DD' or '--MM-DD'; None when the date is not given or ambiguous (1/5/1980)."""
    text = text.strip()
    m = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})(?:[T ].*)?", text)
    if m:
        return _date_text(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"--(\d{2})-?(\d{2})", text)
    if m:
        return _date_text(None, int(m[1]), int(m[2]))
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)      # 20.01.1991: day first
    if m:
        return _date_text(int(m[3]), int(m[2]), int(m[1]))
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if m:
        a, b, year = int(m[1]), int(m[2]), int(m[3])
        if a == b:
            return _date_text(year, a, b)
        if a > 12 >= b:
            return _date_text(year, b, a)
        if b > 12 >= a:
            return _date_text(year, a, b)
    return None


def _date_text(year: int | None, month: int, day: int) -> str | None:
    try:
        date(year or 2000, month, day)
    except ValueError:
        return None
    if year is None or year < 1000:
        return f"--{month:02d}-{day:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def _link(value: str, kind: str, service: str | None, label: str | None) -> Link:
    if kind == "url":
        target = value if "://" in value else "http://" + value
        try:
            host = (urlsplit(target).hostname or "").removeprefix("www.")
        except ValueError:
            host = ""
        for domain, name in _SOCIAL_HOSTS.items():
            if host == domain or host.endswith("." + domain):
                return Link(value=value, kind="social", service=name, label=label)
    return Link(value=value, kind=kind, service=service, label=label)


def _categories(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        for item in re.split(r" ::: |;|,", value):
            item = item.strip().removeprefix("* ").strip()
            # Google puts every contact in "My Contacts": it says nothing about the person.
            if item and item.casefold() not in ("mycontacts", "my contacts") and item not in out:
                out.append(item)
    return out


# ---------------------------------------------------------------------------------------------
# Rows

def _raw_json(header: list[str], row: list[str]) -> str:
    data: dict[str, str] = {}
    for index, value in enumerate(row):
        if not value.strip():
            continue
        key = header[index].strip() if index < len(header) and header[index].strip() else \
            f"column {index + 1}"
        if key in data:
            key = f"{key} (column {index + 1})"
        data[key] = value
    return json.dumps(data, ensure_ascii=False)


def _card(row: list[str], layout: _Layout, header: list[str], position: int,
          default_region: str | None) -> ContactCard | Rejected:
    raw = _raw_json(header, row)
    one: dict[str, str] = {}                  # first non-empty value per single-valued field
    many: dict[str, list[str]] = {}
    typed: dict[str, str] = {}                # Google "X n - Type" cells by group
    for column, value in zip(layout.columns, row):
        if column is None or not value.strip():
            continue
        if column.field.endswith("_type"):
            typed[column.group] = value
        elif column.field in ("note", "categories", "nickname"):
            many.setdefault(column.field, []).append(value.strip())
        else:
            one.setdefault(column.field, value.strip())

    card = ContactCard(position=position, raw_text=raw, source_format=layout.source_format)
    card.full_name = one.get("full")
    card.given_name = one.get("given")
    card.additional_names = one.get("additional")
    card.family_name = one.get("family")
    card.name_prefix = one.get("prefix")
    card.name_suffix = one.get("suffix")
    card.nicknames = [n for v in many.get("nickname", []) for n in _split_multi(v)]
    card.org = one.get("org")
    card.org_units = [one["dept"]] if "dept" in one else []
    card.title = one.get("title")
    card.note = "\n\n".join(many["note"]) if "note" in many else None
    card.categories = _categories(many.get("categories", []))

    if "birthday" in one:
        card.birthday = _birthday(one["birthday"])
    elif "birth_month" in one and "birth_day" in one:
        year = one.get("birth_year", "")
        try:
            card.birthday = _date_text(int(year) if year.isdigit() else None,
                                       int(one["birth_month"]), int(one["birth_day"]))
        except ValueError:
            card.birthday = None

    addresses: dict[str, Address] = {}
    formatted: dict[str, str] = {}            # Google's whole address, used when no part is given
    for column, value in zip(layout.columns, row):
        if column is None or not value.strip():
            continue
        value = value.strip()
        # A Google column's name ("E-mail 3 - Value") is no label; its Type cell is.
        label = None if layout.dialect == "google" and column.group else column.label.strip()
        if column.field == "email":
            types, type_label = (_google_type(typed[column.group]) if column.group in typed
                                 else (list(column.types), label))
            for address in _split_emails(value):
                card.emails.append(Email(address=address, normalized=normalize_email(address),
                                         types=types, label=type_label))
        elif column.field == "phone":
            types, type_label = (_google_type(typed[column.group]) if column.group in typed
                                 else (list(column.types), label))
            for number in _split_multi(value):
                card.phones.append(Phone(number=number, e164=normalize_phone(number, default_region),
                                         types=types, label=type_label))
        elif column.field in ("url", "social", "impp"):
            type_label = _google_type(typed[column.group])[1] if column.group in typed else label
            for item in _split_multi(value):
                card.links.append(_link(item, column.field, column.service, type_label))
        elif column.field == "address":
            address = addresses.setdefault(column.group, Address(types=list(column.types)))
            if column.part == "label":
                address.types, address.label = _google_type(value)
            elif column.part == "extended":
                address.extended = f"{address.extended}, {value}" if address.extended else value
            elif column.part == "formatted":
                formatted[column.group] = value
            elif not getattr(address, column.part):
                setattr(address, column.part, value)
    for group, address in addresses.items():
        if group in formatted and not any((address.po_box, address.extended, address.street,
                                           address.locality, address.postal_code)):
            address.street = formatted[group]
        if any((address.po_box, address.extended, address.street, address.locality,
                address.region, address.postal_code, address.country)):
            card.addresses.append(address)

    if card.full_name and not (card.given_name or card.family_name):
        company_only = card.org is not None and card.full_name.casefold() == card.org.casefold()
        if not company_only:
            card.given_name, card.family_name = split_full_name(card.full_name)
            card.is_name_derived = bool(card.given_name or card.family_name)
    elif not card.full_name and (card.given_name or card.family_name):
        parts = [card.given_name, card.additional_names, card.family_name]
        if is_cjk("".join(p for p in parts if p)):
            parts = [card.family_name, card.given_name]
        card.full_name = " ".join(p for p in parts if p)

    if not (card.full_name or card.given_name or card.family_name or card.emails or card.phones
            or card.org):
        return Rejected(position, "row has no name, e-mail, phone or company", raw)
    return card


class _Lines:
    """The file's lines, counted, with the ones read for the current row kept for its raw text."""

    def __init__(self, stream: io.TextIOBase):
        self.stream = stream
        self.count = 0
        self.current: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.stream.readline()
        if not line:
            raise StopIteration
        self.count += 1
        self.current.append(line)
        return line


def _fit(row: list[str], raw: str, delimiter: str, width: int) -> list[str] | str:
    """The row cut or padded to the header's width, or the reason it cannot be."""
    if len(row) == 1 and width > 2:
        # A file whose first row is comma-separated and the rest TAB-separated (seen from
        # Thunderbird users): a one-cell row that splits into several on another delimiter.
        for other in _DELIMITERS:
            if other != delimiter and other in raw:
                resplit = next(csv.reader(io.StringIO(raw, newline=""), delimiter=other), [])
                # Two cells are enough on a TAB, which is never part of a name.
                if len(resplit) >= (2 if other == "\t" else 3):
                    row = resplit
                    break
    if len(row) > width:
        if any(cell.strip() for cell in row[width:]):
            return f"row has {len(row)} fields, header has {width}"
        return row[:width]
    return row + [""] * (width - len(row))


_CSV_PROBLEMS = {
    "new-line character seen in unquoted field": "a line break inside an unquoted field",
    "field larger than field limit": "a field longer than 128 KB",
    "line contains nul": "a NUL byte",
    "unexpected end of data": "the file ends inside a quoted field",
}


def csv_problem(exc: csv.Error) -> str:
    """Python's csv error in a user's words."""
    text = str(exc)
    for known, words in _CSV_PROBLEMS.items():
        if text.lower().startswith(known):
            return words
    return text


def read_contacts_csv(path: Path, default_region: str | None = None
                      ) -> Iterator[ContactCard | Rejected]:
    """Yield one ContactCard per readable row of a contacts CSV, a Rejected per unusable row.

    Raises UnmappableCsv before yielding anything when the file is not text, is empty, or has no
    column that maps to a contact field. Phone numbers without a country code are read in
    `default_region`. Rows whose cells are all empty are skipped: they say nothing.
    """
    path = Path(path)
    with path.open("rb") as binary:
        head = binary.read(HEAD_SIZE)
        try:
            layout = _sniff(head)
        except UnmappableCsv as exc:
            raise UnmappableCsv(f"{path.name} {exc}") from None
        binary.seek(0)
        stream = io.TextIOWrapper(binary, encoding=layout.encoding, errors="replace",
                                  newline=layout.newline)
        lines = _Lines(stream)
        reader = csv.reader(lines, delimiter=layout.delimiter)
        header = layout.header
        if header is not None:
            try:
                for row in reader:              # the header row, after any blank or sep= lines
                    if lines.count == 1 and "".join(row).startswith("sep="):
                        continue
                    if any(cell.strip() for cell in row):
                        break
            except csv.Error as exc:
                raise UnmappableCsv(f"{path.name} has a header row that cannot be read: "
                                    f"{csv_problem(exc)}") from None
        header = [h.lstrip("\ufeff") for h in (header or THUNDERBIRD_COLUMNS)]
        width = len(header)
        while True:
            position = lines.count + 1
            lines.current.clear()
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Rejected(position, f"unreadable CSV row: {csv_problem(exc)}",
                               "".join(lines.current)[:_MAX_REJECTED_TEXT])
                continue
            if not any(cell.strip() for cell in row):
                continue
            raw_line = "".join(lines.current).rstrip("\r\n")
            try:
                fitted = _fit(row, raw_line, layout.delimiter, width)
                if isinstance(fitted, str):
                    yield Rejected(position, fitted, raw_line[:_MAX_REJECTED_TEXT])
                    continue
                card = _card(fitted, layout, header, position, default_region)
            except csv.Error as exc:
                yield Rejected(position, f"unreadable CSV row: {csv_problem(exc)}",
                               raw_line[:_MAX_REJECTED_TEXT])
                continue
            except (ValueError, LookupError, TypeError) as exc:
                yield Rejected(position, f"unreadable CSV row: {type(exc).__name__}: {exc}"[:300],
                               raw_line[:_MAX_REJECTED_TEXT])
                continue
            yield card
