"""Comparing people's names the way a person would: nicknames, initials, diacritics, typos, order.

Each comparison returns a level ("exact", "nickname", "typo", "initial") or None when the names
are different. The resolver turns levels into evidence; nothing here decides a merge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from nicknames import NickNamer
from rapidfuzz.distance import JaroWinkler

from kith.names import fold, split_full_name

# The nicknames data (the `nicknames` package: hand-curated English names and their nicknames)
# knows no hypocorisms of other naming traditions, where a short form often spells another word
# (Sasha for Alexander, Pepe for José). These are the commonest of them, written folded (no
# diacritics), compiled for kith by hand from well-known Russian and Spanish hypocorisms and a few
# Portuguese, Italian and German ones; a form listed for two names (Sasha) belongs to both.
_MORE_NICKNAMES = {
    # Russian (and the English spellings of the full names)
    "alexander": "sasha shura", "aleksandr": "sasha shura", "alexandra": "sasha shura",
    "aleksandra": "sasha shura", "alexei": "alyosha lyosha", "aleksei": "alyosha lyosha",
    "alexey": "alyosha lyosha", "anastasia": "nastya", "dmitri": "dima", "dmitry": "dima",
    "ekaterina": "katya", "yekaterina": "katya", "elena": "lena", "yelena": "lena",
    "evgeny": "zhenya", "yevgeny": "zhenya", "evgenia": "zhenya", "ivan": "vanya",
    "konstantin": "kostya", "maria": "masha", "mikhail": "misha", "natalia": "natasha",
    "natalya": "natasha", "nikolai": "kolya", "olga": "olya", "pavel": "pasha",
    "sergei": "seryozha", "sergey": "seryozha", "svetlana": "sveta", "tatiana": "tanya",
    "tatyana": "tanya", "vladimir": "volodya vova", "yuri": "yura",
    # Spanish
    "alfonso": "poncho", "concepcion": "concha conchi", "dolores": "lola", "eduardo": "lalo",
    "enrique": "quique kike", "francisco": "paco pancho curro kiko quico", "guadalupe": "lupe",
    "guillermo": "memo guille", "ignacio": "nacho", "isabel": "chabela", "jesus": "chucho chuy",
    "jose": "pepe", "josefa": "pepa", "manuel": "manolo", "mercedes": "merche",
    "rafael": "rafa", "ramon": "moncho", "rosario": "charo chayo", "gregorio": "goyo",
    "vicente": "chente",
    # Portuguese, Italian, German
    "giuseppe": "beppe peppe pino", "luigi": "gigi", "giovanni": "gianni", "domenico": "mimmo",
    "vincenzo": "enzo", "josef": "sepp jupp",
}


def _nicknamer() -> NickNamer:
    lookup = NickNamer.default_lookup()
    for name, forms in _MORE_NICKNAMES.items():
        lookup.setdefault(name, set()).update(forms.split())
    return NickNamer(nickname_lookup=lookup)


_NICKNAMES = _nicknamer()
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "ae", "Ö": "oe", "Ü": "ue"})
TYPO_SIMILARITY = 0.9
SIMILAR_SIMILARITY = 0.8


# An umlaut written out (ue in Mueller) before a consonant: read as the bare vowel. Not where
# the vowel closes a diphthong (Bauer, Sauer, Breuer): no umlaut is written so, and Baur and
# Saur are other people's names.
_WRITTEN_OUT = re.compile(r"(?<![aeiou][aou])(?<=[aou])e(?=[b-df-hj-np-tv-z])")


@lru_cache(maxsize=200_000)
def fold_umlauts(text: str | None) -> str:
    """Like fold, but one spelling for a German umlaut however it was typed: Müller, Mueller
    and Muller are all muller (fold alone keeps Mueller apart: sources that drop diacritics
    write Muller, people who type them out write Mueller)."""
    return _WRITTEN_OUT.sub("", fold(text.translate(_UMLAUTS))) if text else ""


@dataclass(frozen=True)
class Name:
    """A person's name in folded parts: `given` is the first given name, `middles` the rest."""
    given: str
    middles: tuple[str, ...]
    family: str
    family_alt: str               # with umlauts however typed as the bare vowel

    @property
    def is_full(self) -> bool:
        return bool(self.given) and bool(self.family)

    @property
    def key(self) -> tuple[str, str]:
        return self.given, self.family


@lru_cache(maxsize=200_000)
def parse_name(given: str | None, family: str | None, full: str | None) -> Name | None:
    """A Name from a record's parts, or from its whole name when the parts are missing."""
    if not (given or family) and full:
        if "@" in full:
            return None
        given, family = split_full_name(full)
    given_tokens = fold(given).split()
    family_tokens = fold(family).split()
    if not given_tokens and not family_tokens:
        return None
    first = given_tokens[0] if given_tokens else ""
    return Name(first, tuple(given_tokens[1:]), " ".join(family_tokens),
                " ".join(fold_umlauts(family).split()))


def _is_initial(token: str) -> bool:
    return len(token) == 1


@lru_cache(maxsize=200_000)
def _nickname_forms(given: str) -> frozenset[str]:
    return frozenset({given} | _NICKNAMES.nicknames_of(given) | _NICKNAMES.canonicals_of(given))


def given_initials(given: str) -> frozenset[str]:
    """First letters a person's first name may start with in another source (Bob -> b, r)."""
    return frozenset(form[0] for form in _nickname_forms(given) if form)


@lru_cache(maxsize=500_000)
def given_level(a: str, b: str) -> str | None:
    """How two first names agree: exact, nickname (Bob / Robert), initial (J / Jane), typo,
    similar; None when they are different names."""
    if not a or not b:
        return None
    if a == b:
        return "exact"
    if _is_initial(a) or _is_initial(b):
        return "initial" if a[0] == b[0] else None
    if b in _nickname_forms(a) or a in _nickname_forms(b):
        return "nickname"
    if b in other_forms(a):
        return None                                         # Daniel / Daniela
    if is_short_form(a, b):
        return "nickname"                                   # Alex / Alexander, Chris / Christine
    return _spelling_level(a, b)


# A short form cuts a name by a syllable or more (Dan / Daniel, Alex / Alexander); a name only a
# letter or two longer is mostly a name of its own, often the feminine form (Daniel / Daniela,
# Victor / Victoria, Paul / Paula). Short forms that are that close (Ann / Anna) are in the
# nicknames data.
SHORT_FORM_CUT = 3


# A given name and the same name with a feminine ending are two names, mostly of two people
# (Daniel / Daniela, Paul / Paula, Pauline or Paulette, Joseph / Josephine, Jean / Jeanne,
# Antonio / Antonia, Alexander / Alexandra): a name a few letters longer is then neither a slip
# nor a name cut short. These are the endings that make a feminine name of a masculine one
# across the European naming traditions (Romance, Germanic, Slavic), and the endings that swap
# in place (below). The nicknames data wins where it pairs such names (Ann / Anna, Louis /
# Louise are in it).
FEMININE_ENDINGS = ("a", "ia", "la", "le", "na", "ne", "ina", "ine", "ette", "etta")
_SWAPPED_ENDINGS = (("o", "a"), ("us", "a"), ("er", "ra"))    # Mario / Maria, Julius / Julia,
                                                              # Peter / Petra


_KNOWN_GIVEN_NAMES = frozenset(_NICKNAMES.nickname_lookup) | frozenset(_NICKNAMES.canonical_lookup)


@lru_cache(maxsize=200_000)
def other_forms(given: str) -> frozenset[str]:
    """The given names that are `given` with or without a feminine ending, and are not a
    nickname of it: the masculine and feminine forms of one name, two people's names. The
    masculine form must be a name the nicknames data knows, so that a slip (Jessic / Jessica)
    is still a slip."""
    if len(given) < 3:
        return frozenset()
    pairs = [(given, given + e) for e in FEMININE_ENDINGS]
    pairs += [(given[:-len(e)], given) for e in FEMININE_ENDINGS
              if given.endswith(e) and len(given) - len(e) >= 3]
    for masculine, feminine in _SWAPPED_ENDINGS:
        if given.endswith(masculine) and len(given) - len(masculine) >= 3:
            pairs.append((given, given[:-len(masculine)] + feminine))
        if given.endswith(feminine) and len(given) - len(feminine) >= 3:
            pairs.append((given[:-len(feminine)] + masculine, given))
    forms = {f for pair in pairs if pair[0] in _KNOWN_GIVEN_NAMES for f in pair} - {given}
    return frozenset(forms - _nickname_forms(given)
                     - {f for f in forms if given in _nickname_forms(f)})


def is_short_form(a: str, b: str) -> bool:
    """Whether one first name is the other cut short (Alex / Alexander)."""
    short, long = sorted((a, b), key=len)
    return len(short) >= 3 and len(long) - len(short) >= SHORT_FORM_CUT and long.startswith(short)


def _spelling_level(a: str, b: str) -> str | None:
    """typo (one slip: Jonh / John) or similar (two slips: Lary / Lara), else None."""
    if min(len(a), len(b)) < 3:
        return None
    similarity = JaroWinkler.normalized_similarity(a, b)
    if similarity >= TYPO_SIMILARITY:
        return "typo"
    return "similar" if similarity >= SIMILAR_SIMILARITY else None


def family_level(a: Name, b: Name) -> str | None:
    """How two family names agree: exact (also Müller / Mueller), partial (one of two family
    names: García / García Márquez), typo, similar; None when different."""
    return _family_level(a.family, a.family_alt, b.family, b.family_alt)


@lru_cache(maxsize=500_000)
def _family_level(a: str, a_alt: str, b: str, b_alt: str) -> str | None:
    if not a or not b:
        return None
    if a == b or a_alt == b_alt:
        return "exact"
    a_tokens, b_tokens = set(a.split()), set(b.split())
    if (a_tokens <= b_tokens or b_tokens <= a_tokens) and min(len(a), len(b)) >= 3:
        return "partial"
    return _spelling_level(a, b)


def swapped(name: Name) -> Name | None:
    """The same name read the other way round (family first), when it has both parts and one
    given name: Whitbe / Alexa-Rose reads Alexa-Rose Whitbe (a hyphenated name is two tokens,
    as when it stands in the given name)."""
    if not name.is_full or name.middles:
        return None
    first, *middles = name.family.split()
    return Name(first, tuple(middles), name.given, name.given)


def compatible(a: Name, b: Name) -> bool:
    """False only when two full names clearly belong to different people (John / Mary Smith)."""
    if not (a.is_full and b.is_full):
        return True
    if given_level(a.given, b.given) is not None:
        return True
    for x, y in ((a, b), (b, a)):
        flipped = swapped(y)
        if flipped is not None and given_level(x.given, flipped.given) is not None \
                and family_level(x, flipped) is not None:
            return True
    return False
