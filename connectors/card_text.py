"""Fields from the text of a business card: the lines OCR read, turned into a contact card's
fields, each with a confidence.

Nothing here knows about images. A field's confidence is OCR's own confidence in the words it
came from times how strongly the evidence says what the line is: an e-mail address is an e-mail
address wherever it sits, but a name is told apart from a title or an organisation by evidence
(the e-mail's local part, a list of given names, font size, position), and is only as sure as
that evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers
from rapidfuzz import fuzz

from kith.emails import normalize_email
from kith.names import fold, is_cjk, split_full_name
from kith.organisations import domain_label, is_free_mail, org_key
from kith.profiles import normalize_profile_url, profile_service
from kith.records import Address, Email, Link, Phone


@dataclass
class Line:
    """One line of text as OCR read it."""
    text: str
    confidence: float = 1.0           # 0..1, mean of OCR's word confidences
    height: float = 0.0               # pixel height of the line's letters: evidence of font size
    top: float = 0.0                  # pixel offset from the card's top edge
    left: float = 0.0                 # pixel offset from the card's left edge


@dataclass
class CardFields:
    """What a card says, with a confidence (0..1) per field in `confidence`; for fields with
    several values (e-mails, phones, links, addresses) it is the lowest of them."""
    full_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    title: str | None = None
    org: str | None = None
    org_units: list[str] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    phones: list[Phone] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    confidence: dict[str, float] = field(default_factory=dict)

    @property
    def has_handle(self) -> bool:
        return bool(self.emails or self.phones
                    or any(link.kind == "social" for link in self.links))


# --- e-mail and web ----------------------------------------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# OCR often puts spaces around '@' and '.' in an address.
_EMAIL_GAPS = re.compile(r"\s*@\s*|(?<=[A-Za-z0-9])\s?\.\s(?=[A-Za-z]{2,}\b)")
_URL = re.compile(r"(?i)\b(?:https?://)?(?:www\.)?[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9\-]+)*"
                  r"\.([a-z]{2,12})\b(?:/[^\s,;]*)?")
# A bare "word.word" is a web address only with a TLD people put on cards; "Co.Ltd" is not one.
_TLDS = frozenset("""com net org info biz io co ai app dev me tv us uk de fr es it nl be ch at se no
    dk fi pl cz pt ie jp kr cn tw hk sg in au nz ca br mx ar ru ua tr il za eu asia global
    design studio agency tech site online store shop cloud""".split())

# --- phones --------------------------------------------------------------------------------------

# Labels before a number, in the languages Tesseract reads here. Order: fax before phone, since
# "Tel/Fax" labels a fax line too.
_FAX = re.compile(r"(?i)\b(fax|fx|facsimile|telefax|télécopie)\b|\bF\s*[:.]|ファ[ッツ]クス|FAX|팩스|传真|傳真")
_MOBILE = re.compile(r"(?i)\b(mobile|mob|cell|cellular|handy|portable|móvil|movil|celular|"
                     r"cellulare|mobil|gsm)\b|\b[MC]\s*[:.]|携帯|휴대|手机|핸드폰")
_PHONE_LABEL = re.compile(r"(?i)\b(tel|tél|phone|telephone|téléphone|telefon|telefono|teléfono|"
                          r"office|direct|main|ph|t|p|o|d|work)\b|電話|전화|TEL")
_PHONE_LIKE = re.compile(r"[+(]?\d[\dOoIl()\s.\-/]{5,}\d")
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1"})

# --- addresses -----------------------------------------------------------------------------------

_STREET = re.compile(
    r"(?i)\B(straße|strasse|str\.|weg|gasse|allee|platz|ring|damm|ufer|gracht|laan|vej|gatan|"
    r"väg|gata)\b|\b(street|st\.|str\.|straße|strasse|avenue|ave\.?|road|rd\.?|boulevard|blvd\.?|lane|"
    r"drive|way|suite|ste\.?|floor|building|bldg|rue|avenida|calle|via|viale|piazza|platz|weg|"
    r"allee|gasse|ring|plaza|square|court|place|parkway|highway|p\.?\s?o\.?\s?box|postfach|"
    r"level|unit|city|district|county)\b|丁目|番地|〒|区|市|県|都|府|로\b|길\b|\d+동|\d+호")
_POSTCODES = [
    re.compile(r"\b(?P<region>[A-Z]{2})\s+(?P<code>\d{5}(?:-\d{4})?)\b"),          # US: RI 02111
    re.compile(r"(?i)\b(?P<code>[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})\b"),              # UK: W2 6BD
    re.compile(r"\b(?P<code>[A-Z]\d[A-Z]\s?\d[A-Z]\d)\b"),                         # CA: K1A 0B1
    re.compile(r"〒\s?(?P<code>\d{3}-\d{4})\b|^\s*(?P<jp>\d{3}-\d{4})\s+\D"),          # JP: 〒100-0001
    re.compile(r"\b(?P<code>\d{4,5})\s+(?P<locality>[A-ZÀ-Ý][\w\-]+)"),           # DE/FR/NL...
]
_COUNTRIES = re.compile(r"(?i)\b(usa|united states|united kingdom|uk|england|germany|deutschland|"
                        r"france|italy|italia|spain|españa|netherlands|australia|canada|japan|"
                        r"korea|china|india|singapore|switzerland|schweiz|austria|österreich|"
                        r"sweden|norway|denmark|belgium|ireland|new zealand)\b|日本|대한민국|한국")

# --- titles and organisations --------------------------------------------------------------------

_TITLE_WORDS = re.compile(
    r"(?i)\b(ceo|cto|cfo|coo|cio|cmo|vp|svp|evp|founder|co-founder|cofounder|president|chair|"
    r"chairman|chairwoman|director|manager|head|lead|leader|chief|officer|engineer|developer|"
    r"designer|architect|analyst|consultant|advisor|adviser|specialist|coordinator|assistant|"
    r"associate|partner|principal|owner|agent|broker|realtor|researcher|scientist|professor|"
    r"lecturer|editor|writer|producer|attorney|lawyer|counsel|accountant|executive|"
    r"representative|sales|marketing|secretary|administrator|technician|nurse|physician|"
    r"doctor|dentist|photographer|artist|student|intern|fellow|supervisor|superintendent|"
    r"geschäftsführer|geschäftsführerin|leiter|leiterin|inhaber|inhaberin|berater|beraterin|"
    r"ingenieur|ingenieurin|vertrieb|directeur|directrice|gérant|gérante|responsable|"
    r"ingénieur|chargé|chargée|conseiller|conseillère|director|directora|gerente|jefe|"
    r"responsabile|direttore|amministratore|managing|senior|junior|staff)\b"
    r"|\B(leiter|leiterin|führer|führerin|berater|beraterin|manager|managerin|ingenieur|"
    r"ingenieurin|entwickler|entwicklerin|direktor|direktorin|referent|referentin)\b"
    r"|代表|社長|部長|課長|係長|取締役|主任|担当|マネージャー|エンジニア|デザイナー|"
    r"대표|이사|부장|과장|팀장|실장|사원|대리|디자이너|엔지니어|总经理|经理|主管")
def _without_accents(text: str) -> str:
    import unicodedata
    return "".join(ch for ch in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(ch))


# OCR often drops accents (Geschaftsfuhrer): titles are matched on text without them too.
_TITLE_WORDS_BARE = re.compile(_without_accents(_TITLE_WORDS.pattern))


def _has_title_word(text: str) -> bool:
    return bool(_TITLE_WORDS.search(text) or _TITLE_WORDS_BARE.search(_without_accents(text)))


_UNIT_WORDS = re.compile(r"(?i)\b(department|dept\.?|division|team|group|unit|abteilung|"
                         r"département|service|departamento)\b|部$|事業部|본부|팀$")
_LEGAL_FORMS = re.compile(
    r"(?i)\b(inc|incorporated|corp|corporation|co|company|llc|llp|lp|ltd|limited|plc|gmbh|mbh|"
    r"ag|kg|se|sa|sas|sarl|srl|spa|bv|nv|ab|oy|pty|pte|kk|group|holdings|partners|associates|"
    r"& co|consulting|solutions|technologies|labs|studio|agency|bank|university|institute|"
    r"foundation|hospital|clinic|realty|real estate)\b\.?"
    r"|\b(s\.\s?a|s\.\s?l|s\.\s?a\.\s?s|b\.\s?v|n\.\s?v|s\.\s?r\.\s?l|s\.\s?p\.\s?a)\.(?!\w)"
    r"|株式会社|有限会社|合同会社|\(株\)|㈱|주식회사|\(주\)|㈜|有限公司|公司")
_HONORIFICS = re.compile(r"(?i)^(dr|prof|mr|mrs|ms|mx|sir|dame|herr|frau|mme|m)\.?\s+")


@lru_cache(maxsize=1)
def _given_names() -> frozenset[str]:
    """English given names and their nicknames, from the `nicknames` package's list."""
    import csv
    from importlib.resources import files
    names = set()
    with (files("nicknames") / "names.csv").open(encoding="utf-8") as f:
        for row in csv.reader(f):
            if len(row) == 3 and row[0] != "name1":
                names.update((row[0].strip().lower(), row[2].strip().lower()))
    return frozenset(n for n in names if len(n) >= 2)


def read_fields(lines: list[Line], region: str | None = None) -> CardFields:
    """The fields a card's lines say. `region` is the import's phone region, for numbers
    written without a country code; a card whose web or mail domain is a country's (.jp,
    .co.uk) has its numbers read for that country when they are not valid for `region`."""
    card = CardFields()
    used: set[int] = set()            # lines that are wholly one field
    found_in: dict[int, set[str]] = {}
    for i, line in enumerate(lines):
        found_in[i] = _read_emails(line.text, line, card) | _read_links(line.text, line, card)
    regions = [region] + [r for r in _domain_regions(card) + _script_regions(lines)
                          if r != region]
    for i, line in enumerate(lines):
        text = line.text
        found = found_in[i] | _read_phones(text, line, card, regions)
        if found and _only_field_text(text, found):
            used.add(i)
    _read_addresses(lines, used, card)
    _read_name_title_org(lines, used, card)
    return card


def _read_emails(text: str, line: Line, card: CardFields) -> set[str]:
    found = set()
    for match in _EMAIL.finditer(_EMAIL_GAPS.sub(lambda m: "@" if "@" in m.group() else ".",
                                                 text)):
        address = match.group().rstrip(".")
        normalized = normalize_email(address)
        if normalized and normalized not in {e.normalized for e in card.emails}:
            card.emails.append(Email(address, normalized, ["internet"]))
            _lowest(card, "emails", line.confidence)
        found.add(match.group())
    return found


def _read_links(text: str, line: Line, card: CardFields) -> set[str]:
    found = set()
    for match in _URL.finditer(text):
        value = match.group().rstrip(".,")
        start = match.start()
        # The domain part of an e-mail address is not a web site.
        if "@" in text[max(0, start - 1):start + 1] or "@" in value:
            continue
        if text[:start].rstrip().endswith("@"):
            continue
        lowered = value.lower()
        if not (lowered.startswith(("http", "www.")) or match.group(1).lower() in _TLDS
                or profile_service(lowered)):
            continue
        service = profile_service(lowered) or profile_service("https://" + lowered)
        if service:
            url = normalize_profile_url(value if "://" in value else "https://" + value)
            link = Link(url or value, "social", service)
        else:
            link = Link(value, "url")
        if link.value not in {k.value for k in card.links}:
            card.links.append(link)
            _lowest(card, "links", line.confidence)
        found.add(match.group())
    return found


_LETTER_LABELS = {"f": ["fax"], "m": ["cell"], "c": ["cell"], "t": ["work", "voice"],
                  "p": ["work", "voice"], "o": ["work", "voice"], "d": ["work", "voice"]}


def _phone_label(before: str) -> list[str]:
    # A lone letter is a label only right before its number: "F 030 901829".
    letter = re.search(r"(?i)(?:^|[\s|/,;])([fmctpod])\W*$", before)
    if letter:
        return _LETTER_LABELS[letter.group(1).lower()]
    if _FAX.search(before):
        return ["fax"]
    if _MOBILE.search(before):
        return ["cell"]
    if _PHONE_LABEL.search(before):
        return ["work", "voice"]
    return []


def _domain_regions(card: CardFields) -> list[str]:
    """Regions named by the country-code domains on a card: contoso.co.jp -> JP."""
    regions = []
    for domain in _domains(card):
        tld = domain.rsplit(".", 1)[-1].upper()
        tld = {"UK": "GB"}.get(tld, tld)
        if len(tld) == 2 and tld in phonenumbers.SUPPORTED_REGIONS and tld not in regions:
            regions.append(tld)
    return regions


def _script_regions(lines: list[Line]) -> list[str]:
    """Regions a card's script points to: kana is Japanese, hangul Korean."""
    text = "".join(line.text for line in lines)
    regions = []
    if re.search(r"[\u3040-\u30ff]", text):
        regions.append("JP")
    if re.search(r"[\uac00-\ud7af]", text):
        regions.append("KR")
    if re.search(r"[\u4e00-\u9fff]", text):
        regions += [r for r in ("JP", "CN", "TW") if r not in regions]
    return regions


def _read_phones(text: str, line: Line, card: CardFields,
                 regions: list[str | None]) -> set[str]:
    found = set()
    if "@" in text and not re.search(r"\d{3}", text.split("@")[0]):
        return found
    label_start = 0
    for candidate in _PHONE_LIKE.finditer(text):
        raw = candidate.group()
        digits = raw.translate(_DIGIT_LOOKALIKES)
        if sum(ch.isdigit() for ch in digits) < 7:
            continue
        # "+44 (0) 20 ..." writes the national prefix inside an international number.
        cleaned = re.sub(r"^(\+\d{1,3})\s*\(0\)", r"\1", digits.strip())
        before = text[label_start:candidate.start()]
        label_start = candidate.end()
        types = _phone_label(before)
        # A valid number for the import's region or the card's is best; a labelled one that is
        # only possible will do (cards carry made-up and new numbers), but an unlabelled one
        # must be valid, or street numbers and dates would pass for phones.
        e164 = next((number for region in regions
                     if (number := _parse_phone(cleaned, region, strict=True))), None)
        if e164 is None and types:
            e164 = _parse_phone(cleaned, regions[0], strict=False)
        if e164 is None:
            continue
        if not types and _is_mobile(e164):
            types = ["cell"]
        if e164 not in {p.e164 for p in card.phones}:
            card.phones.append(Phone(raw.strip(), e164, types or ["voice"],
                                     label=before.strip(" :.|-") or None))
            _lowest(card, "phones", line.confidence)
        found.add(raw)
    return found


def _parse_phone(text: str, region: str | None, strict: bool) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not (phonenumbers.is_valid_number(number) if strict
            else phonenumbers.is_possible_number(number)):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _is_mobile(e164: str) -> bool:
    number = phonenumbers.parse(e164)
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE


def _only_field_text(text: str, found: set[str]) -> bool:
    """True when a line holds nothing but the fields found in it and their labels."""
    rest = text
    for value in found:
        rest = rest.replace(value, " ")
    rest = _FAX.sub(" ", _MOBILE.sub(" ", _PHONE_LABEL.sub(" ", rest)))
    rest = re.sub(r"(?i)\b(e-?mail|mail|web|website|url|www|linkedin|twitter)\b", " ", rest)
    return sum(ch.isalpha() for ch in rest) <= 3


def _read_addresses(lines: list[Line], used: set[int], card: CardFields) -> None:
    block: list[int] = []
    blocks: list[list[int]] = []
    for i, line in enumerate(lines):
        if block and i not in used and len(_clean(line.text)) <= 3:
            continue                  # a stray mark between two lines of one address
        if i in used or not _is_address_line(line.text):
            if block:
                blocks.append(block)
                block = []
            continue
        block.append(i)
    if block:
        blocks.append(block)
    for block in blocks:
        parts = [lines[i].text.strip(" ,|") for i in block]
        label = ", ".join(p for p in parts if p)
        address = Address(label=label, types=["work"])
        for pattern in _POSTCODES:
            match = pattern.search(label)
            if match:
                address.postal_code = match.group("code") or match.groupdict().get("jp")
                groups = match.groupdict()
                if groups.get("region"):
                    address.region = groups["region"]
                    before = label[:match.start()].rstrip(" ,")
                    address.locality = before.rsplit(",", 1)[-1].strip() or None
                    address.street = before.rsplit(",", 1)[0].strip() if "," in before else None
                elif groups.get("locality"):
                    address.locality = groups["locality"]
                break
        if address.street is None:
            address.street = parts[0]
        country = _COUNTRIES.search(label)
        if country:
            address.country = country.group()
        card.addresses.append(address)
        used.update(block)
        _lowest(card, "addresses", min(lines[i].confidence for i in block))


def _is_address_line(text: str) -> bool:
    if "@" in text or _URL.search(text) and not _STREET.search(text):
        return False
    if _STREET.search(text) and (re.search(r"\d", text) or is_cjk(text)):
        return True
    if any(p.search(text) for p in _POSTCODES[:4]):
        return True
    # "10115 Berlin" or "Berlin 10115" alone on a line.
    return bool(re.fullmatch(r"\s*(\d{4,5}\s+[^\d\s,][^\d]*|[^\d]+,?\s+\d{4,5})\s*,?\s*", text)
                and len(text) < 40) or bool(_COUNTRIES.fullmatch(text.strip(" ,.")))


# --- name, title, organisation -----------------------------------------------------------------

def _clean(text: str) -> str:
    """A line without the stray marks OCR makes of icons and rules at its ends."""
    text = re.sub(r"^[^\w(]+|[^\w).&]+$", "", text.strip())
    return " ".join(text.split())


def _looks_like_name(text: str) -> float:
    """How much a line's shape looks like a person's name (0..1)."""
    bare = _HONORIFICS.sub("", text)
    if not bare or re.search(r"[\d@/:|]", bare) or len(bare) > 40:
        return 0.0
    if is_cjk(bare):
        compact = bare.replace(" ", "")
        return 0.7 if 2 <= len(compact) <= 5 else 0.0
    words = bare.split()
    if not 1 <= len(words) <= 4:
        return 0.0
    if not all(re.fullmatch(r"[^\W\d_][\w'’\-.]*", w) for w in words):
        return 0.0
    capitalised = all(w[0].isupper() for w in words)
    if len(words) == 1:
        return 0.2 if capitalised else 0.0
    return 0.6 if capitalised else 0.2


def _email_evidence(text: str, card: CardFields) -> float:
    """How well a candidate name agrees with an e-mail's local part: amorin@ and Andrew Morin."""
    tokens = [t for t in fold(_HONORIFICS.sub("", text)).split() if t]
    if len(tokens) < 1:
        return 0.0
    best = 0.0
    for email in card.emails:
        local = re.sub(r"[^a-z]", "", fold(email.normalized.split("@")[0]))
        if len(local) < 3:
            continue
        if "".join(tokens) == local or "".join(reversed(tokens)) == local:
            return 1.0
        family, given = tokens[-1], tokens[0]
        if len(family) >= 3 and family in local and (given in local or local[0] == given[0]):
            best = max(best, 1.0)
        elif any(len(t) >= 3 and t in local for t in tokens):
            best = max(best, 0.7)
    return best


def _name_list_evidence(text: str) -> float:
    tokens = fold(_HONORIFICS.sub("", text)).split()
    return 1.0 if tokens and tokens[0] in _given_names() else 0.0


def _domains(card: CardFields) -> list[str]:
    hosts = [e.normalized.split("@")[1] for e in card.emails if e.normalized]
    for link in card.links:
        if link.kind == "url":
            host = re.sub(r"(?i)^(https?://)?(www\.)?", "", link.value).split("/")[0].lower()
            hosts.append(host)
    return [h for h in hosts if not is_free_mail(h)]


def _domain_evidence(text: str, domains: list[str]) -> float:
    key = org_key(text).replace(" ", "")
    if len(key) < 3:
        return 0.0
    best = 0.0
    for domain in domains:
        label = domain_label(domain).replace("-", "")
        if key == label or (len(key) >= 4 and (label.startswith(key) or key.startswith(label))):
            return 1.0
        if fuzz.ratio(key, label) >= 80:
            best = max(best, 0.8)
        # northwind-group.com and "Northwind Energy": the name's first word is the domain's.
        first = org_key(text).split()[0]
        if len(first) >= 4 and first in domain_label(domain).split("-"):
            best = max(best, 0.9)
        initials = "".join(w[0] for w in org_key(text).split())
        if len(initials) >= 2 and initials == label:
            best = max(best, 0.8)
    return best


def _read_name_title_org(lines: list[Line], used: set[int], card: CardFields) -> None:
    free = [i for i in range(len(lines)) if i not in used and _clean(lines[i].text)]
    if not free:
        return
    tallest = max(lines[i].height for i in free) or 1.0
    domains = _domains(card)

    # Organisation first: the domain is the strongest evidence on a card, and a line it claims
    # is not a name.
    org_scores = {}
    for i in free:
        text = _clean(lines[i].text)
        if "@" in text or _URL.search(text) and "." in text:
            continue
        score = max(_domain_evidence(text, domains),
                    0.8 if _LEGAL_FORMS.search(text) else 0.0)
        if score:
            org_scores[i] = score

    name_scores = {}
    for i in free:
        text = _clean(lines[i].text)
        shape = _looks_like_name(text)
        if not shape or _has_title_word(text) or _UNIT_WORDS.search(text):
            continue
        if org_scores.get(i, 0) >= 0.8 and _email_evidence(text, card) < 1.0:
            continue
        evidence = max(_email_evidence(text, card), 0.6 * _name_list_evidence(text))
        size = lines[i].height / tallest
        # Shape alone is weak (a slogan is capitalised too): evidence decides, size and being
        # near the top break ties.
        score = 0.45 * evidence + 0.3 * shape + 0.2 * size + 0.05 * (i == free[0])
        name_scores[i] = score

    name_i = max(name_scores, key=name_scores.get) if name_scores else None
    if name_i is not None:
        text = _HONORIFICS.sub("", _clean(lines[name_i].text))
        card.full_name = text.title() if text.isupper() and not is_cjk(text) else text
        card.given_name, card.family_name = split_full_name(card.full_name)
        card.confidence["full_name"] = round(min(1.0, name_scores[name_i] / 0.75)
                                             * lines[name_i].confidence, 3)

    # Title: a line with a title word, nearest to the name.
    title_lines = [i for i in free if i != name_i and _has_title_word(_clean(lines[i].text))
                   and not re.search(r"\d", lines[i].text) and org_scores.get(i, 0) < 1.0]
    if title_lines:
        anchor = name_i if name_i is not None else 0
        title_i = min(title_lines, key=lambda i: abs(i - anchor))
        card.title = _clean(lines[title_i].text)
        near = 1.0 if name_i is not None and abs(title_i - name_i) <= 2 else 0.7
        card.confidence["title"] = round(near * lines[title_i].confidence, 3)
    else:
        title_i = None

    for i in free:
        if i not in (name_i, title_i) and _UNIT_WORDS.search(_clean(lines[i].text)) \
                and not org_scores.get(i):
            card.org_units.append(_clean(lines[i].text))

    org_candidates = {i: s for i, s in org_scores.items() if i not in (name_i, title_i)}
    if org_candidates:
        org_i = max(org_candidates, key=lambda i: (org_candidates[i], lines[i].height))
        card.org = _clean(lines[org_i].text)
        below = _continuation(lines, org_i, set(free) - {name_i, title_i})
        if below is not None:
            card.org = f"{card.org} {_clean(lines[below].text)}"
        card.confidence["org"] = round(org_candidates[org_i] * lines[org_i].confidence, 3)


def _continuation(lines: list[Line], i: int, free: set[int]) -> int | None:
    """The line that carries on line i's name when it was wrapped ("Northwind" over
    "Logistics GmbH"): just below it, starting where it starts, short, in the same size."""
    line = lines[i]
    for j in free:
        other = lines[j]
        text = _clean(other.text)
        if j == i or not text or len(text.split()) > 3 or re.search(r"[\d@]", text):
            continue
        if _has_title_word(text) or _UNIT_WORDS.search(text):
            continue
        if (0 < other.top - line.top < 2.2 * line.height
                and abs(other.left - line.left) < 2 * line.height
                and 0.7 < other.height / max(line.height, 1) < 1.4
                # A legal form carries a name on; otherwise only a word or two (a tagline
                # under a logo is longer).
                and (_LEGAL_FORMS.search(text)
                     or len(text.split()) <= 2 and text[:1].isupper()
                     and not _LEGAL_FORMS.search(_clean(line.text)))):
            return j
    return None


def _lowest(card: CardFields, name: str, confidence: float) -> None:
    card.confidence[name] = round(min(card.confidence.get(name, 1.0), confidence), 3)
