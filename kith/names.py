"""Names as sources write them: splitting a display name into given and family name when a source
gives only the whole, and the folded form every comparison starts from."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from nameparser import HumanName
from nameparser.config import CONSTANTS

# Words nameparser reads as something other than a plain given or family name (Dr, Jr, van, y):
# a two-word name holding none of them is split without it (it is slow: half a millisecond a name).
_NAMEPARSER_WORDS = frozenset().union(*(
    {w.lower() for w in getattr(CONSTANTS, kind)}
    for kind in ("titles", "first_name_titles", "suffix_acronyms", "suffix_not_acronyms",
                 "prefixes", "conjunctions")))

_LIGATURES = str.maketrans({"ß": "ss", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe",
                            "Œ": "oe", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ı": "i"})
_NOT_LETTER = re.compile(r"[^a-z0-9\u00c0-\uffff]+")


def is_cjk(text: str) -> bool:
    return any(unicodedata.name(ch, "").startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL"))
               for ch in text)


def split_full_name(full_name: str | None) -> tuple[str | None, str | None]:
    """(given, family) from a display name; (None, None) when it cannot be told.

    Western names go through nameparser (titles, suffixes, "Family, Given"). Names written in
    Chinese, Japanese or Korean scripts put the family name first.
    """
    if not full_name or not full_name.strip():
        return None, None
    text = " ".join(full_name.split())
    if is_cjk(text):
        parts = text.split(" ")
        if len(parts) < 2:
            return None, None
        return " ".join(parts[1:]), parts[0]
    parts = text.split(" ")
    if (len(parts) == 2 and all(p.isalpha() and len(p) > 1 for p in parts)
            and not any(p.lower() in _NAMEPARSER_WORDS for p in parts)):
        return parts[0], parts[1]
    name = HumanName(text)
    given = " ".join(p for p in (name.first, name.middle) if p) or None
    family = name.last or None
    if given and not family and " " not in text:
        return given, None
    return given, family


@lru_cache(maxsize=200_000)
def fold(text: str | None) -> str:
    """Lower-case ASCII-ish form: diacritics dropped, punctuation to single spaces."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return _NOT_LETTER.sub(" ", text).strip()
