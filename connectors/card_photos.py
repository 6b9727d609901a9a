"""Photos and scans of business cards (JPEG, PNG, WebP, HEIC, TIFF, PDF), read on this machine
with Tesseract OCR.

A *card photo* is an image file holding one card or several (a PDF: per page). Each page is
normalised before OCR: turned upright from its EXIF orientation, each card found and cut out of
the background with its perspective undone, and the lighting evened out. Tesseract then reads
each card, and `card_text.read_fields` turns its lines into fields. The photo is never stored:
its SHA-256 is the card's identity (with the card's number in it), so re-importing a photo adds
nothing.

Pillow reads the images (pillow-heif adds HEIC, the iPhone's format), OpenCV finds and straightens the cards (contours, perspective warp:
the field's standard tools for this, which Pillow does not have), pypdfium2 renders PDF pages,
and pytesseract runs Debian's `tesseract` binary, which downloads nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import warnings
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from kith.connectors.card_text import CardFields, Line, read_fields
from kith.records import ContactCard, Rejected

SOURCE_FORMAT = "ocr-tesseract"
MAX_PAGES = 20                    # a PDF longer than this is not a card scan; its pages beyond
                                  # are rejected with a sentence, not read
MAX_PIXELS = 120_000_000          # more than this is refused before it is decoded
WORK_SIDE = 1800                  # long side a page is reduced to (a PDF: rendered at)
FIND_SIDE = 900                   # long side of the copy cards are looked for on
CARD_WIDTH = 1400                 # a card is scaled to this width before OCR
UNSURE_BELOW = 0.6                # a field with less confidence puts its card on the review list
# Tesseract's script names -> its language data. Han (kanji without kana) is read as Japanese:
# that is the CJK data installed with kith's CI; a Chinese card needs chi_sim added here.
SCRIPTS_TO_LANGUAGES = {"Japanese": "jpn", "Han": "jpn", "Katakana": "jpn", "Hiragana": "jpn",
                        "Hangul": "kor", "Korean": "kor"}

_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"GIF8")


class OcrUnavailable(OSError):
    """Tesseract is not installed: no card photo can be read (an OSError, so an import says
    so for each photo and goes on with the other files)."""


# HEIC / HEIF (what iPhones take photos in): an ISO media file whose brand says so.
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1")


def looks_like_card_photo(head: bytes) -> bool:
    """True for the start of an image file or a PDF (which kith reads as card scans)."""
    return (head.startswith(_IMAGE_MAGIC) or head[:4] == b"RIFF" and head[8:12] == b"WEBP"
            or head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS
            or head.startswith(b"%PDF-"))


@lru_cache(maxsize=1)
def ocr_languages() -> frozenset[str]:
    """The Tesseract language data installed here. Raises OcrUnavailable without Tesseract."""
    import pytesseract
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        raise OcrUnavailable("Tesseract is not installed; install it to read card photos "
                             "(Debian: apt-get install tesseract-ocr)")
    return frozenset(pytesseract.get_languages(config=""))


@dataclass
class CardScan:
    """One card as OCR read it: its lines, and where it sat."""
    lines: list[Line]
    page: int                         # 1-based page of the file (1 for an image)
    angle: int = 0                    # rotation Tesseract found and undid (0, 90, 180, 270)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def read_card_photos(path: Path, region: str | None = None) -> Iterator[ContactCard | Rejected]:
    """Yield a contact card per business card in the image or PDF at `path`, or a Rejected
    (with the OCR text) for a card with neither a name nor a handle, a page with no card, or a
    file that is not a readable image. Raises OcrUnavailable when Tesseract is missing."""
    ahead = _AHEAD.pop((path.resolve(), region), None)
    if ahead is not None:
        yield from ahead.result()
        return
    ocr_languages()
    digest = _sha256(path)
    number = 0
    try:
        pages = list(_page_numbers(path))
    except _Unreadable as exc:
        yield Rejected(1, str(exc), "")
        return
    for page_number in pages:
        if page_number > MAX_PAGES:
            yield Rejected(page_number, f"page {page_number} not read: kith reads the first "
                                        f"{MAX_PAGES} pages of a PDF of card scans", "")
            continue
        try:
            page = _load_page(path, page_number)
            scans = [scan for card in find_cards(page)
                     if (scan := ocr_card(card, page_number)).lines]
        except _Unreadable as exc:
            yield Rejected(page_number, str(exc), "")
            continue
        except _ocr_errors() as exc:
            yield Rejected(page_number, f"page {page_number}: OCR failed: {exc}", "")
            continue
        if not scans:
            yield Rejected(page_number, f"page {page_number}: no text found (blank, or not a card)",
                           "")
            continue
        for scan in scans:
            number += 1
            yield card_from_scan(scan, number, digest, region)


def _ocr_errors() -> tuple[type[Exception], ...]:
    import cv2
    import pytesseract
    return (cv2.error, pytesseract.TesseractError, MemoryError)


# Photos being read ahead in worker processes, by (resolved path, region).
_AHEAD: dict[tuple[Path, str | None], Future] = {}


class ReadAhead:
    """Reads the card photos among `paths` in worker processes, one per core, while the
    import stores what is ready: `read_card_photos` takes a photo's cards from here when it
    was read ahead. Use as a context manager; leaving it cancels what was not needed."""

    def __init__(self, paths: list[Path], region: str | None):
        self._executor = None
        self._keys: list[tuple[Path, str | None]] = []
        photos = [p for p in paths if p.is_file() and _sniff(p)]
        workers = min(os.cpu_count() or 1, len(photos))
        if workers < 2:
            return
        import multiprocessing
        # Spawned, not forked: the importing process holds a DuckDB connection and threads.
        self._executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(
            "spawn"))
        for photo in photos:
            key = (photo.resolve(), region)
            _AHEAD[key] = self._executor.submit(_read_all, photo, region)
            self._keys.append(key)

    def __enter__(self) -> "ReadAhead":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for key in self._keys:
            future = _AHEAD.pop(key, None)
            if future is not None:
                future.cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _sniff(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return looks_like_card_photo(f.read(16))
    except OSError:
        return False


def _read_all(path: Path, region: str | None) -> list[ContactCard | Rejected]:
    return list(read_card_photos(path, region))


def card_from_scan(scan: CardScan, number: int, photo_sha256: str,
                   region: str | None) -> ContactCard | Rejected:
    """The contact card one scanned card says, or a Rejected when it has no name and no handle."""
    fields = read_fields(scan.lines, region)
    # Without a handle, only a name read with confidence makes a card: a flyer's "SUMMER SALE"
    # looks like a name too.
    if not fields.has_handle and fields.confidence.get("full_name", 0.0) < UNSURE_BELOW:
        return Rejected(number, "no name, e-mail, phone or profile found on the card", scan.text)
    return ContactCard(
        position=number, raw_text=scan.text, source_format=SOURCE_FORMAT,
        full_name=fields.full_name, given_name=fields.given_name,
        family_name=fields.family_name, is_name_derived=bool(fields.full_name),
        org=fields.org, org_units=fields.org_units, title=fields.title,
        photo_sha256=photo_sha256, emails=fields.emails, phones=fields.phones,
        addresses=fields.addresses, links=fields.links,
        field_confidence=dict(sorted(fields.confidence.items())))


def unsure_fields(fields: CardFields | dict[str, float]) -> list[str]:
    """The fields read with less than UNSURE_BELOW confidence."""
    confidence = fields.confidence if isinstance(fields, CardFields) else fields
    return sorted(name for name, value in confidence.items() if value < UNSURE_BELOW)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- pages ---------------------------------------------------------------------------------------

class _Unreadable(Exception):
    """A file or page that is not a readable image, with a sentence saying why."""


def _is_pdf(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(5) == b"%PDF-"


def _page_numbers(path: Path) -> range:
    if not _is_pdf(path):
        return range(1, 2)
    import pypdfium2
    try:
        pdf = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as exc:
        raise _Unreadable(f"not a readable PDF: {exc}") from None
    try:
        return range(1, len(pdf) + 1)
    finally:
        pdf.close()


def _load_page(path: Path, page_number: int):
    """One page as an upright RGB Pillow image whose long side is at most WORK_SIDE * 2."""
    if _is_pdf(path):
        import pypdfium2
        pdf = pypdfium2.PdfDocument(str(path))
        try:
            page = pdf[page_number - 1]
            width, height = page.get_size()            # points: 1/72 inch
            scale = min(300 / 72, (WORK_SIDE * 2) / max(width, height, 1))
            return page.render(scale=scale).to_pil().convert("RGB")
        finally:
            pdf.close()
    from PIL import Image, ImageOps, UnidentifiedImageError
    from pillow_heif import register_heif_opener
    register_heif_opener()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            # A JPEG decodes at 1/2, 1/4 or 1/8 size straight away: a 50-megapixel photo never
            # needs its full-size pixels in memory.
            image.draft("RGB", (WORK_SIDE * 2, WORK_SIDE * 2))
            image = ImageOps.exif_transpose(image)
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise _Unreadable(f"not a readable image: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:   # truncated or corrupt data
        raise _Unreadable(f"corrupt or truncated image: {exc}") from None
    if image.mode in ("RGBA", "LA", "P"):
        # Transparent parts become white, as on paper.
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(background, image)
    image = image.convert("RGB")
    image.thumbnail((WORK_SIDE * 2, WORK_SIDE * 2))
    return image


# --- finding the cards ---------------------------------------------------------------------------

def find_cards(page) -> list:
    """The cards on a page as upright RGB images (numpy arrays): each card found by its outline
    and cut out with its perspective undone, or the whole page when no card outline stands out
    (a flat scan, a screenshot)."""
    import cv2
    import numpy as np

    rgb = np.asarray(page)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    scale = FIND_SIDE / max(gray.shape)
    # Found on a copy of one size, so that edge thresholds mean the same for every photo.
    small = cv2.resize(gray, None, fx=scale, fy=scale,
                       interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    quads = _card_outlines(small)
    if not quads:
        return [rgb]
    return [_warp(rgb, quad / scale) for quad in quads]


def _card_outlines(gray) -> list:
    """Four-cornered outlines of card-sized regions, largest first, none inside another."""
    import cv2
    import numpy as np

    area = gray.shape[0] * gray.shape[1]
    edges = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 0), 40, 120)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8), iterations=1)
    # Every contour, not only the outermost: a card's outline merged with a shadow or a stack
    # behind it still has its own inner edge.
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    found = []
    for contour in sorted(contours, key=cv2.contourArea, reverse=True):
        contour_area = cv2.contourArea(contour)
        if contour_area < 0.06 * area:
            break
        if contour_area > 0.92 * area:
            continue
        hull = cv2.convexHull(contour)
        quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True).reshape(-1, 2)
        if len(quad) != 4:
            continue
        quad = quad.astype("float32")
        sides = [float(np.linalg.norm(quad[i] - quad[(i + 1) % 4])) for i in range(4)]
        long_side, short_side = (sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2
        aspect = max(long_side, short_side) / max(1.0, min(long_side, short_side))
        # Cards are 1.4 to 1.8 times as wide as high; a photo at an angle stretches that.
        if not 1.2 <= aspect <= 2.4 or contour_area / cv2.contourArea(quad) < 0.85:
            continue
        # Perspective shortens the far side of a card, but not to less than two thirds.
        if min(sides[0], sides[2]) < 0.66 * max(sides[0], sides[2]) \
                or min(sides[1], sides[3]) < 0.66 * max(sides[1], sides[3]):
            continue
        if any(cv2.pointPolygonTest(kept, tuple(map(float, quad.mean(axis=0))), False) >= 0
               for kept in found):
            continue                  # the inner edge of a card already found
        found.append(quad)
    return found


def _warp(image, quad):
    import cv2
    import numpy as np

    # Corners clockwise from the one nearest the top-left, the long side first: a card is
    # read landscape, and one standing on its side is turned by Tesseract's orientation check.
    center = quad.mean(axis=0)
    quad = quad[np.argsort(np.arctan2(quad[:, 1] - center[1], quad[:, 0] - center[0]))]
    ordered = np.roll(quad, -int(np.argmin(quad.sum(axis=1))), axis=0)
    if np.linalg.norm(ordered[0] - ordered[1]) < np.linalg.norm(ordered[1] - ordered[2]):
        ordered = np.roll(ordered, -1, axis=0)
    ordered = ordered.astype("float32")
    width = int(max(np.linalg.norm(ordered[0] - ordered[1]), np.linalg.norm(ordered[3] - ordered[2])))
    height = int(max(np.linalg.norm(ordered[0] - ordered[3]), np.linalg.norm(ordered[1] - ordered[2])))
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]],
                      dtype="float32")
    matrix = cv2.getPerspectiveTransform(ordered, target)
    return cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)


# --- OCR -----------------------------------------------------------------------------------------

def _dark_text(card):
    """A card at OCR size in grey, its lighting evened out: for dark text on a light card."""
    import cv2
    return _even_light(cv2.cvtColor(_ocr_size(card), cv2.COLOR_RGB2GRAY))


def _light_text(card):
    """A card's negative at OCR size, made from its darkest channel: for light text on a dark
    or coloured card (white against blue is 255 against ~130 in red, far more than in grey)."""
    return _even_light(255 - _ocr_size(card).min(axis=2))


def _ocr_size(card):
    import cv2
    scale = CARD_WIDTH / max(card.shape[:2])
    return cv2.resize(card, None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)


def _even_light(gray):
    """Dark text on a background made even: divided by the background itself, found by
    closing over the text at quarter size. A shadow or a gradient across the card otherwise
    makes Tesseract take part of it for a picture and skip its lines."""
    import cv2
    import numpy as np

    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    background = cv2.resize(cv2.GaussianBlur(background, (0, 0), 3),
                            (gray.shape[1], gray.shape[0]))
    return cv2.divide(gray, background, scale=255)


def _dark_share(card) -> float:
    """The share of a card that is dark: over half, its text is light."""
    import cv2
    small = cv2.resize(card, (200, int(200 * card.shape[0] / card.shape[1]) or 1))
    return float((cv2.cvtColor(small, cv2.COLOR_RGB2GRAY) < 110).mean())


def _merge(lines: list[Line], more: list[Line]) -> list[Line]:
    """Lines of a second reading that the first did not have, added in their place."""
    from rapidfuzz import fuzz
    def same(a: str, b: str) -> bool:
        short, long = sorted((a, b), key=len)
        return len(short) >= 0.5 * len(long) and fuzz.partial_ratio(short, long) >= 80

    merged = list(lines)
    for line in more:
        # Kept even when OCR is unsure of it: the fields it gives carry that confidence and put
        # the card on the review list, which is better than losing the line.
        if line.confidence >= 0.35 and not any(same(line.text, other.text) for other in lines):
            # After the last line above it: the first reading's order (columns) is kept.
            above = [k for k, other in enumerate(merged) if other.top <= line.top]
            merged.insert(max(above) + 1 if above else 0, line)
    return merged


def ocr_card(card, page: int) -> CardScan:
    """Read one card's lines, turning it upright first when Tesseract says it is on its side
    or upside down, and reading it again in Japanese or Korean when that is its script."""
    import cv2

    dark = _dark_share(card)
    prepared = _light_text(card) if dark > 0.5 else _dark_text(card)
    skew = _skew(prepared)
    prepared = _turn_by(prepared, skew)
    languages = "eng"
    lines, score = _ocr_lines(prepared, languages)
    angle = 0
    # Words read with little confidence: the card may be on its side, or in another script.
    unsure = sum(line.confidence < 0.7 for line in lines) / max(1, len(lines))
    if score < 0.75 or unsure >= 0.25:
        osd = _orientation(prepared)
        if osd:
            angle, script = osd
            if angle:
                rotated = cv2.rotate(prepared, _TURNS[angle])
                turned, turned_score = _ocr_lines(rotated, "eng")
                if turned_score > score:
                    prepared, lines, score = rotated, turned, turned_score
                else:
                    angle = 0
            language = SCRIPTS_TO_LANGUAGES.get(script)
            if language and language in ocr_languages():
                other, other_score = _ocr_lines(prepared, f"{language}+eng")
                if other_score >= score * 0.9 or len(other) > len(lines):
                    lines, score = other, other_score
                    languages = f"{language}+eng"
    if 0.15 < dark < 0.85:
        # Light and dark parts: text of the other colour may be there too. Read the other
        # polarity as sparse text (--psm 11), which finds lines that page layout analysis
        # drops, and keep what the first reading lacked.
        other = _turn_by(_dark_text(card) if dark > 0.5 else _light_text(card), skew)
        if angle:
            other = cv2.rotate(other, _TURNS[angle])
        lines = _merge(lines, _ocr_lines(other, languages, psm=11)[0])
    return CardScan(lines, page, angle)


def _skew(gray) -> float:
    """The tilt of the text lines, in degrees (positive: they run down to the right), for a
    card no outline was found for (a card on a table of its own colour). Each line is smeared
    into one blob, and the median slope of the long blobs is taken; 0 when under a degree."""
    import cv2
    import numpy as np

    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if cv2.countNonZero(ink) > 0.4 * ink.size:
        return 0.0
    blobs = cv2.dilate(ink, np.ones((3, 25), np.uint8))
    contours, _ = cv2.findContours(blobs, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    slopes = []
    for contour in contours:
        corners = cv2.boxPoints(cv2.minAreaRect(contour))
        edges = [corners[(i + 1) % 4] - corners[i] for i in range(2)]
        long_edge = max(edges, key=lambda e: float(np.hypot(*e)))
        length, short = float(np.hypot(*long_edge)), min(float(np.hypot(*e)) for e in edges)
        if length > 150 and length > 4 * max(short, 1.0):
            angle = float(np.degrees(np.arctan2(long_edge[1], long_edge[0])))
            slopes.append((angle + 90) % 180 - 90)
    if len(slopes) < 2:
        return 0.0
    angle = float(np.median(slopes))
    return angle if 1.0 <= abs(angle) <= 30 else 0.0


def _turn_by(gray, degrees: float):
    import cv2
    if not degrees:
        return gray
    h, w = gray.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REPLICATE)


_TURNS = {90: 0, 180: 1, 270: 2}    # cv2.ROTATE_90_CLOCKWISE, ROTATE_180, ROTATE_90_COUNTERCLOCKWISE


def _ocr_lines(image, language: str, psm: int = 3) -> tuple[list[Line], float]:
    """Tesseract's lines for an image, and a score: the mean word confidence (0..1), lowered
    when there are few words."""
    import pytesseract
    data = pytesseract.image_to_data(image, lang=language, config=f"--psm {psm}",
                                     output_type=pytesseract.Output.DICT)
    grouped: dict[tuple, list[int]] = {}
    for i, word in enumerate(data["text"]):
        if word.strip() and float(data["conf"][i]) >= 0:
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            grouped.setdefault(key, []).append(i)
    lines = []
    confidences = []
    for indices in grouped.values():
        for segment in _columns(indices, data):
            kept = [(data["text"][i], float(data["conf"][i]) / 100) for i in segment]
            # Words of one or two marks at low confidence are icons and rules, not text.
            kept = [(w, c) for w, c in kept if not (c < 0.5 and len(w) <= 2 and not w.isalnum())]
            # A line of one or two letters is a mark OCR made of an icon, not a field.
            if sum(ch.isalnum() for w, _ in kept for ch in w) < 3:
                continue
            heights = sorted(data["height"][i] for i in segment)
            lines.append(Line(_join_words(w for w, _ in kept),
                              round(sum(c for _, c in kept) / len(kept), 3),
                              float(heights[len(heights) // 2]),
                              float(min(data["top"][i] for i in segment)),
                              float(min(data["left"][i] for i in segment))))
            confidences.extend(c for _, c in kept)
    if not confidences:
        return [], 0.0
    mean = sum(confidences) / len(confidences)
    return lines, mean * min(1.0, len(confidences) / 6)


_CJK_GAP = re.compile(r"(?<=[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]) "
                      r"(?=[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef])")


def _join_words(words) -> str:
    # Tesseract puts a space between every Japanese or Chinese character; the scripts use none.
    return _CJK_GAP.sub("", " ".join(words))


def _columns(indices: list[int], data: dict) -> list[list[int]]:
    """A line's words split where a gap wider than three letter heights parts them: two
    columns of a card that Tesseract read as one line."""
    words = sorted(indices, key=lambda i: data["left"][i])
    height = sorted(data["height"][i] for i in words)[len(words) // 2]
    segments = [[words[0]]]
    for previous, word in zip(words, words[1:]):
        gap = data["left"][word] - (data["left"][previous] + data["width"][previous])
        if gap > 3 * height:
            segments.append([])
        segments[-1].append(word)
    return segments


def _orientation(image) -> tuple[int, str] | None:
    """(degrees to turn clockwise, script) from Tesseract's orientation and script detection,
    or None when it cannot tell."""
    import pytesseract
    if "osd" not in ocr_languages():
        return None
    import cv2
    # Half size is enough to tell orientation and script, in half the time.
    small = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    try:
        osd = pytesseract.image_to_osd(small, output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractError:
        return None
    return int(osd.get("rotate", 0)) % 360, str(osd.get("script", ""))


os.environ.setdefault("OMP_THREAD_LIMIT", "1")   # one core per card; a stack uses the others
