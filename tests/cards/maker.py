"""Business cards with known truth, drawn with Pillow and then photographed badly.

`make_card(seed)` draws one card in one of several layouts (one column, two columns with a logo
block, centred, right-aligned, dark background, small print) with a random font, and returns the
image with the fields it shows. `photograph(card, seed)` puts it on a table and degrades it as a
phone does: rotation, perspective, blur, uneven light, JPEG. Names, organisations and numbers are
drawn from lists and patterns, never from the corpus cards, so that what reads these cards well
reads cards in general.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation")]
FONT_FILES = ["DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansCondensed.ttf",
              "LiberationSans-Regular.ttf", "LiberationSerif-Regular.ttf",
              "LiberationSansNarrow-Regular.ttf"]
BOLD = {"DejaVuSans.ttf": "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf": "DejaVuSerif-Bold.ttf",
        "DejaVuSansCondensed.ttf": "DejaVuSansCondensed-Bold.ttf",
        "LiberationSans-Regular.ttf": "LiberationSans-Bold.ttf",
        "LiberationSerif-Regular.ttf": "LiberationSerif-Bold.ttf",
        "LiberationSansNarrow-Regular.ttf": "LiberationSansNarrow-Bold.ttf"}

# (given names, family names, phone region, street pattern, locality line) per language.
PEOPLE = {
    "en-US": (["James", "Olivia", "Marcus", "Hannah", "Tyler", "Grace", "Devon", "Emily", "Nathan",
               "Rachel", "Brandon", "Megan", "Ethan", "Lauren"],
              ["Whitfield", "Okafor", "Brennan", "Castillo", "Nakamura", "Hughes", "Patel",
               "Donovan", "Fitzgerald", "Lindqvist", "Moreau", "Carver"],
              "US", "{n} {street} Street", "{city}, {state} {zip}"),
    "en-GB": (["Oliver", "Amelia", "Harry", "Isla", "George", "Poppy", "Alfie", "Freya", "Imogen",
               "Rhys"],
              ["Ashworth", "Pemberton", "Thornton", "Blackwood", "Hargreaves", "Sinclair",
               "Whitaker", "Llewellyn"],
              "GB", "{n} {street} Road", "{city} {postcode}"),
    "de": (["Jürgen", "Anke", "Matthias", "Sören", "Käthe", "Lukas", "Birgit", "Jörg", "Annegret",
            "Malte"],
           ["Müller", "Schröder", "Weißmann", "Köhler", "Brückner", "Hoffmann", "Groß", "Vogt",
            "Krämer"],
           "DE", "{street}straße {n}", "{zip5} {city}"),
    "fr": (["François", "Hélène", "Amélie", "Jérôme", "Léa", "Benoît", "Cécile", "Théo", "Zoé",
            "Gaëlle"],
           ["Lefèvre", "Dubois", "Girard", "Béranger", "Mercier", "Fontaine", "Chevalier",
            "Rousseau"],
           "FR", "{n} rue de la {street}", "{zip5} {city}"),
    "es": (["José", "María", "Iñigo", "Lucía", "Andrés", "Begoña", "Álvaro", "Inés", "Ramón"],
           ["García", "Muñoz", "Peña", "Ibáñez", "Hernández", "Ortiz", "Delgado", "Cañizares"],
           "ES", "Calle {street} {n}", "{zip5} {city}"),
}
STREETS = ["Maple", "Harbour", "Linden", "Station", "Mill", "Garden", "Castle", "Church", "Park"]
CITIES = ["Springfield", "Riverton", "Ashford", "Lindau", "Marburg", "Lyon", "Nantes", "Sevilla",
          "Bilbao", "Harlow", "Dunmore"]
ORG_WORDS = ["Northwind", "Bluefin", "Kestrel", "Ironbark", "Silverline", "Tidewater", "Larkspur",
             "Quarry", "Meridian", "Copperleaf", "Halcyon", "Foxglove", "Brightwater", "Granite"]
ORG_KINDS = ["Logistics", "Analytics", "Design", "Partners", "Robotics", "Capital", "Health",
             "Software", "Energy", "Media", "Architects", "Foods"]
LEGAL = {"US": ["Inc.", "LLC", "Corp."], "GB": ["Ltd", "LLP", "plc"], "DE": ["GmbH", "AG"],
         "FR": ["SAS", "SA"], "ES": ["S.L.", "S.A."]}
TITLES = {"en-US": ["Chief Executive Officer", "Senior Software Engineer", "Head of Marketing",
                    "Sales Director", "Product Manager", "Founder & CEO", "Account Executive"],
          "en-GB": ["Managing Director", "Senior Consultant", "Head of Operations",
                    "Business Development Manager", "Lead Designer"],
          "de": ["Geschäftsführer", "Leiterin Vertrieb", "Senior Berater", "Projektleiter"],
          "fr": ["Directrice Commerciale", "Ingénieur Logiciel", "Responsable Marketing",
                 "Chargée de clientèle"],
          "es": ["Director General", "Gerente de Ventas", "Jefe de Proyecto",
                 "Directora de Marketing"]}
LABELS = {"phone": ["Tel", "T", "Phone", "Office", "Tél."], "mobile": ["Mobile", "M", "Cell", "Mob."],
          "fax": ["Fax", "F"], "email": ["", "E", "Email", "E-mail"], "web": ["", "W", "Web"]}
LAYOUTS = ["left", "two_columns", "centred", "right", "dark", "small_print"]


@dataclass
class CardTruth:
    full_name: str
    org: str
    title: str
    email: str
    phones: dict[str, str]            # e164 -> 'voice' | 'cell' | 'fax'
    website: str | None
    region: str
    layout: str
    language: str


@dataclass
class Card:
    image: Image.Image
    truth: CardTruth
    lines: list[str] = field(default_factory=list)


def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return ImageFont.truetype(str(folder / name), size)
    raise FileNotFoundError(f"font {name} not found (Debian: fonts-dejavu-core, fonts-liberation)")


def _phone(region: str, kind: str, rng: random.Random) -> phonenumbers.PhoneNumber:
    """A valid number of the region, made from its example number with other last digits."""
    number_type = (phonenumbers.PhoneNumberType.MOBILE if kind == "cell"
                   else phonenumbers.PhoneNumberType.FIXED_LINE)
    example = phonenumbers.example_number_for_type(region, number_type)
    national = str(example.national_number)
    for _ in range(100):
        candidate = national[:-4] + f"{rng.randrange(10000):04d}"
        number = phonenumbers.parse("+" + str(example.country_code) + candidate)
        if phonenumbers.is_valid_number(number):
            return number
    return example


def make_truth(seed: int) -> CardTruth:
    rng = random.Random(seed)
    language = rng.choice(sorted(PEOPLE))
    given, family, region, _, _ = PEOPLE[language]
    first, last = rng.choice(given), rng.choice(family)
    word = rng.choice(ORG_WORDS)
    org = f"{word} {rng.choice(ORG_KINDS)}" + (f" {rng.choice(LEGAL[region])}"
                                              if rng.random() < 0.5 else "")
    tld = {"US": "com", "GB": "co.uk", "DE": "de", "FR": "fr", "ES": "es"}[region]
    domain = f"{word.lower()}.{tld}" if rng.random() < 0.8 else f"{word.lower()}-group.com"
    ascii_first = _ascii(first).lower()
    ascii_last = _ascii(last).lower()
    local = rng.choice([f"{ascii_first}.{ascii_last}", f"{ascii_first[0]}{ascii_last}",
                        f"{ascii_first}", f"{ascii_first}_{ascii_last}"])
    phones = {}
    kinds = rng.choice([["voice"], ["voice", "cell"], ["cell"], ["voice", "fax"],
                        ["voice", "cell", "fax"]])
    for kind in kinds:
        number = _phone(region, kind, rng)
        phones[phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)] = kind
    return CardTruth(full_name=f"{first} {last}", org=org,
                     title=rng.choice(TITLES[language]), email=f"{local}@{domain}",
                     phones=phones, website=f"www.{domain}" if rng.random() < 0.7 else None,
                     region=region, layout=rng.choice(LAYOUTS), language=language)


def _ascii(text: str) -> str:
    import unicodedata
    text = text.replace("ß", "ss")
    return "".join(ch for ch in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(ch))


def make_card(seed: int, truth: CardTruth | None = None) -> Card:
    """One card, 1050 x 600 pixels (3.5 x 2 inches at 300 dpi), with the fields of `truth`
    (made from `seed` when not given)."""
    rng = random.Random(seed * 7 + 1)
    truth = truth or make_truth(seed)
    font_name = rng.choice(FONT_FILES)
    small = truth.layout == "small_print"
    size = 24 if small else rng.choice([28, 30, 32])
    regular, bold = _font(font_name, size), _font(BOLD[font_name], int(size * 1.7))
    dark = truth.layout == "dark"
    background = rng.choice([(24, 38, 64), (30, 30, 30), (70, 20, 40)]) if dark \
        else rng.choice([(255, 255, 255), (250, 247, 240), (238, 242, 246)])
    ink = (245, 245, 245) if dark else rng.choice([(20, 20, 20), (30, 40, 80), (60, 30, 30)])
    image = Image.new("RGB", (1050, 600), background)
    draw = ImageDraw.Draw(image)

    _, _, region, street, locality = PEOPLE[truth.language]
    contact = []
    for e164, kind in truth.phones.items():
        number = phonenumbers.parse(e164)
        shown = phonenumbers.format_number(
            number, rng.choice([phonenumbers.PhoneNumberFormat.NATIONAL,
                                phonenumbers.PhoneNumberFormat.INTERNATIONAL]))
        label = rng.choice(LABELS[{"voice": "phone", "cell": "mobile", "fax": "fax"}[kind]])
        contact.append(f"{label}: {shown}" if len(label) > 1 or rng.random() < 0.5
                       else f"{label} {shown}")
    email_label = rng.choice(LABELS["email"])
    contact.append(f"{email_label}: {truth.email}" if email_label else truth.email)
    if truth.website:
        web_label = rng.choice(LABELS["web"])
        contact.append(f"{web_label}: {truth.website}" if web_label else truth.website)
    address = [street.format(n=rng.randrange(1, 300), street=rng.choice(STREETS)),
               locality.format(city=rng.choice(CITIES), state=rng.choice(["CA", "NY", "TX", "WA"]),
                               zip=f"{rng.randrange(10000, 99999)}",
                               zip5=f"{rng.randrange(10000, 99999)}",
                               postcode=rng.choice(["SW1A 2AA", "M1 4BT", "EH1 2NG", "B3 3HJ"]))]
    if rng.random() < 0.6:
        contact += address
    heading = [(truth.full_name, bold), (truth.title, regular)]
    org_font = _font(BOLD[font_name], int(size * 1.2))
    gap = int(size * 1.45)

    if truth.layout == "two_columns":
        # Logo block and organisation on the left, the person on the right.
        colour = rng.choice([(200, 60, 40), (40, 120, 90), (60, 80, 170)])
        draw.ellipse((70, 160, 230, 320), fill=colour)
        draw.text((150, 240), truth.org[0], font=_font(BOLD[font_name], 90), fill="white",
                  anchor="mm")
        _wrap_org(draw, truth.org, org_font, (60, 360), 300, ink)
        draw.line((390, 60, 390, 540), fill=colour, width=4)
        y = 70
        for text, font in heading:
            draw.text((430, y), text, font=font, fill=ink)
            y += int(font.size * 1.35)
        y += 20
        for text in contact:
            draw.text((430, y), text, font=regular, fill=ink)
            y += gap
    else:
        anchor_x, align = {"right": (990, "ra"), "centred": (525, "ma")}.get(truth.layout,
                                                                            (60, "la"))
        y = 50
        draw.text((anchor_x, y), truth.org, font=org_font, fill=ink, anchor=align)
        y += int(org_font.size * 1.9)
        for text, font in heading:
            draw.text((anchor_x, y), text, font=font, fill=ink, anchor=align)
            y += int(font.size * 1.3)
        y += 16
        for text in contact:
            draw.text((anchor_x, y), text, font=regular, fill=ink, anchor=align)
            y += gap
    return Card(image, truth, [truth.org, truth.full_name, truth.title] + contact)


def _wrap_org(draw, org: str, font, origin: tuple[int, int], width: int, ink) -> None:
    words, line, y = org.split(), "", origin[1]
    for word in words:
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) > width and line:
            draw.text((origin[0], y), line, font=font, fill=ink)
            y += int(font.size * 1.3)
            line = word
        else:
            line = trial
    draw.text((origin[0], y), line, font=font, fill=ink)


def photograph(cards: list[Card] | Card, seed: int, *, rotate: float | None = None,
               degrade: bool = True) -> Image.Image:
    """The cards photographed on a table: each turned and placed apart from the others, then the
    whole picture blurred, lit unevenly and saved as a JPEG of middling quality."""
    rng = random.Random(seed * 13 + 5)
    cards = cards if isinstance(cards, list) else [cards]
    canvas = Image.new("RGB", (1600, 1150 * len(cards) if len(cards) > 1 else 1200),
                       rng.choice([(120, 90, 60), (60, 60, 65), (150, 140, 120)]))
    noise = Image.effect_noise(canvas.size, 30).convert("RGB")
    canvas = Image.blend(canvas, noise, 0.15)
    for i, card in enumerate(cards):
        angle = rotate if rotate is not None else rng.uniform(-12, 12)
        turned = card.image.convert("RGBA").rotate(angle, expand=True, resample=Image.BICUBIC)
        if degrade:
            turned = _perspective(turned, rng)
        x = (canvas.width - turned.width) // 2 + rng.randint(-40, 40)
        y = (1150 * i if len(cards) > 1 else 0) + (1150 - turned.height) // 2 + rng.randint(-30, 30)
        canvas.paste(turned, (x, max(0, y)), turned)
    if degrade:
        canvas = canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
        canvas = _uneven_light(canvas, rng)
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=rng.randint(55, 85) if degrade else 92)
    buffer.seek(0)
    return Image.open(buffer)


def _perspective(image: Image.Image, rng: random.Random) -> Image.Image:
    w, h = image.size
    d = lambda: rng.uniform(0, 0.06)   # noqa: E731 - corner pulled in by up to 6%
    corners = [(d() * w, d() * h), (w - d() * w, d() * h), (w - d() * w, h - d() * h),
               (d() * w, h - d() * h)]
    coefficients = _perspective_coefficients(corners, [(0, 0), (w, 0), (w, h), (0, h)])
    return image.transform((w, h), Image.PERSPECTIVE, coefficients, Image.BICUBIC)


def _perspective_coefficients(source, target):
    import numpy as np
    rows = []
    for (x, y), (u, v) in zip(source, target):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=float)
    b = np.array(target, dtype=float).reshape(8)
    return np.linalg.solve(a, b).tolist()


def _uneven_light(image: Image.Image, rng: random.Random) -> Image.Image:
    gradient = Image.linear_gradient("L").resize(image.size).rotate(rng.uniform(0, 360))
    shade = Image.merge("RGB", [gradient] * 3).point(lambda v: 150 + v * 105 // 255)
    from PIL import ImageChops
    return ImageChops.multiply(image, shade)
