"""Identity resolution: which source records are the same human.

A *record* is anything that stands for a person in one source: a contact card (vCard, CSV,
LinkedIn connection, CardDAV), an e-mail address seen in mail or calendar headers, a social
profile seen in platform messages. A *handle* is an identifier on a record: an e-mail address,
a phone number in E.164, a social profile URL.

The resolver links records in three passes, strongest first, with union-find:
1. the user's own decisions (`kith merge`),
2. deterministic: records sharing a handle, except handles that do not identify one human
   (the owner's addresses, role addresses such as info@, a handle seen on clearly different
   people, a handle too long to be real),
3. fuzzy: records with similar names, and only when other evidence agrees (same organisation,
   organisation and mail domain, an address that fits the name, birthday, postal address).
   Pairs with some evidence but not enough become merge candidates for the user.

Every union is checked first: the user's `kith split` decisions (cannot-link pairs) are never
crossed, and no person grows past `max_cluster` records (such merges are refused and reported).
The result is pure data; warehouse/identity tables are written elsewhere (transforms.identity.store).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from kith.profiles import normalize_profile_url
from kith.transforms.identity.names import (Name, compatible, family_level, fold, given_initials,
                                       given_level, parse_name, swapped)
from kith.organisations import is_free_mail, org_level, org_matches_domain

MAX_CLUSTER = 60                 # records per person; a bigger cluster is almost surely wrong
MAX_BLOCK = 120                  # records compared pairwise within one name block
MAX_HANDLE_LENGTH = 254          # RFC 5321's longest address; longer is not an identifier
LINK_SCORE = 8.5                 # fuzzy pairs at or above are linked
CANDIDATE_SCORE = 5.5            # fuzzy pairs at or above (and below LINK_SCORE) are candidates

# Local parts that name a function or a team, not one human.
ROLE_LOCAL_PARTS = frozenset("""
    info information sales team support hello hi contact contacts admin administrator office
    billing accounts accounting invoice invoices payments finance jobs careers career hr
    recruiting recruitment talent marketing press media pr help helpdesk service services
    enquiries enquiry inquiries inquiry reception mail email webmaster postmaster hostmaster abuse
    noreply no-reply donotreply do-not-reply notifications notification newsletter news feedback
    orders order bookings booking reservations events partners partnerships community privacy
    legal security it dev devs engineering all everyone staff ops operations general studio
    hq management board founders shop store membership members customerservice customercare
""".split())

# Family names so common that a matching name alone says little (top surnames of the largest
# naming traditions); they need more evidence before records are linked by name.
COMMON_FAMILY_NAMES = frozenset("""
    smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez
    gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris
    sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill
    flores green adams nelson baker hall rivera campbell mitchell carter roberts mueller muller
    schmidt schneider fischer weber meyer wagner becker kim park choi li wang zhang liu chen yang
    huang zhao wu zhou xu sun ma singh kumar patel sharma khan ali ahmed tran le pham silva
    santos oliveira souza rossi russo dubois bernard petit durand moreau jansen devries
""".split())


# Given names so common that, with a common family name, they make a name many people carry.
COMMON_GIVEN_NAMES = frozenset("""
    james john robert michael william david richard joseph thomas charles christopher daniel
    matthew anthony mark paul steven andrew joshua kevin brian george edward mary patricia
    jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty sandra ashley
    emily michelle amanda melissa maria jose juan carlos luis ana carmen mohammed muhammad
    mohamed ahmed ali fatima wei jing li min hui yan ying jun priya rahul amit anna peter hans
    stefan andreas laura julia sophie marie pierre jean
""".split())


@dataclass(frozen=True)
class IdentityRecord:
    """One source record that stands for a person. Handles are given normalised by the
    connectors (e-mail lower-cased, phone E.164, profile URL canonical)."""
    key: str
    source: str                          # e.g. 'linkedin', 'vcard:/path/cards.vcf', 'email'
    full_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    org: str | None = None
    title: str | None = None
    birthday: str | None = None          # 'YYYY-MM-DD' or '--MM-DD'
    street: str | None = None
    locality: str | None = None
    postcode: str | None = None
    region: str | None = None
    names_seen: tuple[str, ...] = ()     # other names the source used (mail display names)
    names_reliable: bool = True          # False where the name is what a mail client said
    platform: str | None = None          # the social platform a connection or profile is on


@dataclass(frozen=True)
class Rules:
    """The user's decisions: pairs of record keys that are (merges) or are not (splits) one person."""
    merges: tuple[tuple[str, str], ...] = ()
    splits: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Link:
    a: str
    b: str
    rule: str          # user_merge, owner, same_email, same_phone, same_profile, similar_name
    evidence: str
    score: float | None = None


@dataclass(frozen=True)
class ExcludedHandle:
    kind: str
    value: str
    reason: str
    n_records: int


@dataclass
class Resolution:
    clusters: list[list[str]]                       # record keys per person, singletons included
    links: list[Link] = field(default_factory=list)          # the unions that were made
    candidates: list[Link] = field(default_factory=list)     # fuzzy pairs left to the user
    excluded: list[ExcludedHandle] = field(default_factory=list)
    refused: list[Link] = field(default_factory=list)        # unions refused (split rule, size)
    owner_keys: frozenset[str] = frozenset()
    n_skipped_blocks: int = 0                       # name blocks too big to compare pairwise


def fold_email(address: str) -> str:
    """The handle form of an address: Gmail ignores dots and +tags, so they are folded there
    (and only there)."""
    local, _, domain = address.strip().lower().rpartition("@")
    if domain in ("gmail.com", "googlemail.com"):
        return local.split("+", 1)[0].replace(".", "") + "@gmail.com"
    return f"{local}@{domain}"


def is_role_address(address: str) -> bool:
    local = address.rpartition("@")[0].split("+", 1)[0]
    return local in ROLE_LOCAL_PARTS or local.replace(".", "").replace("_", "-") in ROLE_LOCAL_PARTS


class _Prepared:
    """A record with its names parsed and handles folded, ready for comparison."""
    __slots__ = ("record", "names", "handles", "domains", "locals")

    def __init__(self, record: IdentityRecord):
        self.record = record
        names = [parse_name(record.given_name, record.family_name, record.full_name)]
        names += [parse_name(None, None, seen) for seen in record.names_seen[:4]]
        unique: list[Name] = []
        for name in names:
            if name is not None and name not in unique:
                unique.append(name)
        self.names = unique
        self.handles = ([("email", fold_email(e)) for e in record.emails]
                        + [("phone", p) for p in record.phones]
                        + [("profile", normalize_profile_url(u) or u) for u in record.profiles])
        self.domains = {e.rpartition("@")[2] for e in record.emails}
        self.locals = {fold(e.rpartition("@")[0].split("+", 1)[0]).replace(" ", ".")
                       for e in record.emails}

    @property
    def name(self) -> Name | None:
        return self.names[0] if self.names else None


class _Clusters:
    """Union-find that refuses unions across a cannot-link pair or past a size cap."""

    def __init__(self, keys: list[str], cannot: list[tuple[str, str]], max_cluster: int):
        self.parent = {k: k for k in keys}
        self.members = {k: [k] for k in keys}
        self.cannot: dict[str, set[str]] = defaultdict(set)
        for a, b in cannot:
            if a in self.parent and b in self.parent:
                self.cannot[a].add(b)
                self.cannot[b].add(a)
        self.max_cluster = max_cluster

    def find(self, key: str) -> str:
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:
            self.parent[key], key = root, self.parent[key]
        return root

    def why_not(self, a: str, b: str) -> str | None:
        """None when a and b may be joined, else the reason they may not."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        small, large = (ra, rb) if len(self.cannot[ra]) <= len(self.cannot[rb]) else (rb, ra)
        if any(self.find(k) == large for k in self.cannot[small]):
            return "kith split keeps these apart"
        if len(self.members[ra]) + len(self.members[rb]) > self.max_cluster:
            return f"would make one person of more than {self.max_cluster} records"
        return None

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra] += self.members.pop(rb)
        self.cannot[ra] |= self.cannot.pop(rb, set())
        return True

    def groups(self) -> list[list[str]]:
        return sorted((sorted(g) for g in self.members.values()), key=lambda g: g[0])


def resolve(records: list[IdentityRecord], *, rules: Rules = Rules(),
            owner_emails: frozenset[str] = frozenset(), owner_records: frozenset[str] = frozenset(),
            max_cluster: int = MAX_CLUSTER) -> Resolution:
    """Group records into persons; see the module docstring for how. The owner is the person
    of every record holding one of `owner_emails`, plus `owner_records` (e.g. their own social
    profile)."""
    prepared = {r.key: _Prepared(r) for r in records}
    clusters = _Clusters(list(prepared), rules.splits, max_cluster)
    result = Resolution(clusters=[])

    def join(link: Link) -> None:
        reason = clusters.why_not(link.a, link.b)
        if reason is not None:
            result.refused.append(Link(link.a, link.b, link.rule,
                                       f"{link.evidence}; refused: {reason}", link.score))
        elif clusters.union(link.a, link.b):
            result.links.append(link)

    for a, b in rules.merges:
        if a in prepared and b in prepared:
            join(Link(a, b, "user_merge", "kith merge"))

    owner_handles = {fold_email(e) for e in owner_emails}
    owner_keys = sorted(set(_owner_records(prepared, owner_handles))
                        | {k for k in owner_records if k in prepared})
    for a, b in zip(owner_keys, owner_keys[1:]):
        join(Link(a, b, "owner", "holds one of the owner's addresses"))
    result.owner_keys = frozenset(owner_keys)

    by_handle: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key, p in prepared.items():
        for handle in dict.fromkeys(p.handles):
            by_handle[handle].append(key)
    for (kind, value), keys in sorted(by_handle.items()):
        reason = _exclusion(kind, value, keys, prepared, owner_handles)
        if reason:
            if len(keys) > 1 or reason != "too long to be an identifier":
                result.excluded.append(ExcludedHandle(kind, value, reason, len(keys)))
            continue
        for other in keys[1:]:
            join(Link(keys[0], other, f"same_{kind}", value))

    pairs, result.n_skipped_blocks = _fuzzy_pairs(prepared, clusters, result.owner_keys)
    for score, a, b, evidence, strong in pairs:
        if clusters.find(a) == clusters.find(b):
            continue
        link = Link(a, b, "similar_name", evidence, round(score, 2))
        if score >= LINK_SCORE and (strong or _clusters_agree(a, b, prepared, clusters)):
            join(link)
        else:
            result.candidates.append(link)

    result.candidates = [c for c in result.candidates if clusters.find(c.a) != clusters.find(c.b)]
    result.clusters = clusters.groups()
    return result


def _owner_records(prepared: dict[str, _Prepared], owner_handles: set[str]) -> list[str]:
    """Records holding an owner address: the address records themselves, and cards whose name
    agrees with a name the owner's address was seen with (not someone's card that lists the
    owner's address by mistake)."""
    if not owner_handles:
        return []
    holders = [k for k, p in prepared.items()
               if any(kind == "email" and v in owner_handles for kind, v in p.handles)]
    owner_names = [n for k in holders if not prepared[k].record.names_reliable
                   for n in prepared[k].names if n.is_full]
    keys = []
    for key in holders:
        p = prepared[key]
        name = p.name
        if (not p.record.names_reliable or name is None or not owner_names
                or any(compatible(name, o) for o in owner_names)):
            keys.append(key)
    return sorted(keys)


def _exclusion(kind: str, value: str, keys: list[str], prepared: dict[str, _Prepared],
               owner_handles: set[str]) -> str | None:
    """Why a handle must not link its records, or None when it may."""
    if len(value) > MAX_HANDLE_LENGTH:
        return "too long to be an identifier"
    if kind == "email":
        if value in owner_handles:
            return "the owner's own address"
        if is_role_address(value):
            return "a role or shared address, not one person"
    if len(keys) < 2:
        return None
    names = [prepared[k].name for k in keys
             if prepared[k].record.names_reliable and prepared[k].name is not None
             and prepared[k].name.is_full]
    for a, b in combinations(dict.fromkeys(names), 2):
        if not compatible(a, b):
            return (f"seen with different people ({a.given} {a.family} and "
                    f"{b.given} {b.family})")
    return None


def _blocking_keys(p: _Prepared) -> set[tuple]:
    keys = set()
    for name in p.names:
        if not name.is_full:
            continue
        for family in {name.family, name.family_alt}:
            for initial in given_initials(name.given):
                keys.add(("family", family, initial))
        keys.add(("family", name.given, name.family[0]))          # written family-first
        keys.add(("given", name.given, name.family[0]))           # typos in the family name
    r = p.record
    if r.birthday and len(r.birthday) == 10:
        keys.add(("birthday", r.birthday))
    if r.street:
        keys.add(("street", fold(r.street)))
    if r.postcode and p.name is not None:
        keys.add(("postcode", fold(r.postcode), (p.name.family or p.name.given)[:1]))
    return keys


def _fuzzy_pairs(prepared: dict[str, _Prepared], clusters: _Clusters,
                 owner_keys: frozenset[str]) -> tuple[list[tuple], int]:
    """Scored pairs (best first) of records in different clusters that share a name block."""
    blocks: dict[tuple, list[str]] = defaultdict(list)
    for key, p in prepared.items():
        if key in owner_keys:
            continue
        for block in _blocking_keys(p):
            blocks[block].append(key)
    stats = NameStats.of(prepared)
    skipped = 0
    seen: set[tuple[str, str]] = set()
    best: dict[tuple[str, str], tuple] = {}
    for keys in blocks.values():
        if len(keys) < 2:
            continue
        if len(keys) > MAX_BLOCK:
            skipped += 1
            continue
        for a, b in combinations(keys, 2):
            pair = (a, b) if a < b else (b, a)
            if pair in seen:
                continue
            seen.add(pair)
            ra, rb = clusters.find(a), clusters.find(b)
            if ra == rb:
                continue
            scored = score_pair(prepared[pair[0]], prepared[pair[1]], stats)
            if scored is None or scored[0] < CANDIDATE_SCORE:
                continue
            roots = (ra, rb) if ra < rb else (rb, ra)
            if roots not in best or scored[0] > best[roots][0]:
                best[roots] = (scored[0], pair[0], pair[1], scored[1], scored[2])
    return sorted(best.values(), key=lambda t: (-t[0], t[1], t[2])), skipped


@dataclass
class NameStats:
    """How often names occur among the records with real names (cards, platform profiles).

    `per_source[(given, family)]` is the most records any one source holds of a full name:
    two LinkedIn connections called John Smith mean a name alone cannot tell them apart.
    `expected_namesakes(name)` estimates how many other people in the data carry the name by
    chance, from how often its given and family names occur: Elsa Nguyen is rare even where
    Nguyen is common, John Smith is not."""
    per_source: Counter
    given: Counter
    family: Counter
    n: int

    @classmethod
    def of(cls, prepared: dict[str, _Prepared]) -> "NameStats":
        per_source, given, family = Counter(), Counter(), Counter()
        n = 0
        for p in prepared.values():
            name = p.name
            # one person often writes from several addresses: mail names are left out
            if name is None or not name.is_full or not p.record.names_reliable:
                continue
            per_source[(p.record.source, name.given, name.family)] += 1
            given[name.given] += 1
            family[name.family] += 1
            n += 1
        worst = Counter()
        for (_, g, f), count in per_source.items():
            worst[(g, f)] = max(worst[(g, f)], count)
        return cls(worst, given, family, n)

    def expected_namesakes(self, name: Name) -> float:
        if name.given in COMMON_GIVEN_NAMES and name.family in COMMON_FAMILY_NAMES:
            return 1.0                               # John Smith, Maria Garcia: common anywhere
        # Below a thousand records the data says little about how common a name is.
        return self.given[name.given] * self.family[name.family] / max(self.n, 1000)


_GIVEN_POINTS = {"exact": 3.0, "nickname": 2.5, "typo": 2.0, "similar": 1.0, "initial": 1.0,
                 "missing": 0.0, "different": -2.0}
_FAMILY_POINTS = {"exact": 3.0, "partial": 2.0, "typo": 2.0, "similar": 1.0, "missing": 0.0,
                  "different": -3.0}


def score_pair(a: _Prepared, b: _Prepared, stats: NameStats) -> tuple[float, str, bool] | None:
    """Evidence that two records are one person, as (points, explanation, strong); None when
    there is nothing to compare. Names score -5 to 6; each other agreement adds points, a
    conflict takes. A name part that disagrees is only outweighed by a matching birthday.
    `strong` says the birthday agrees exactly (identity evidence beyond names)."""
    name_points, name_text, names, parts = _best_name_match(a, b)
    if name_points is None:
        return None
    ra, rb = a.record, b.record
    if "different" in parts and not (ra.birthday and rb.birthday):
        return None              # a different first or family name is never even a candidate
    evidence = [name_text]
    birthday = _birthday_points(ra.birthday, rb.birthday, evidence)
    address = _address_points(ra, rb, evidence)
    if parts[1] == "different" and parts[0] != "different" and birthday >= 5:
        # Same first name, same date of birth, another family name: a married or maiden name,
        # not another person (twins differ in their first names).
        name_points -= _FAMILY_POINTS["different"]
        parts = (parts[0], "changed")
        evidence.append("family name changed")
    score = name_points + birthday + address
    ambiguous = False
    na, nb = names
    # Two records of one source with one name are two people, unless a birthday or a postal
    # address says they are one person entered twice.
    if birthday <= 0 and address < 3 and na.is_full and nb.is_full:
        namesakes = max(stats.expected_namesakes(na), stats.expected_namesakes(nb))
        if max(stats.per_source[(na.given, na.family)], stats.per_source[(nb.given, nb.family)]) > 1:
            # Two people of this name: an employer or a mail domain cannot tell which is which.
            ambiguous = True
            score -= 3.0
            evidence.append("several records of one source carry this name")
        elif namesakes >= 0.5:
            score -= 1.5 if name_points >= 6 else 1.0
            evidence.append("common name")
        elif (name_points >= 6 and birthday == 0 and namesakes < 0.2
              and ra.names_reliable and rb.names_reliable):
            # An uncommon exact name, and no source holds two people of it.
            score += 2.5
            evidence.append("uncommon name no source holds twice")

    org = org_level(ra.org, rb.org) if ra.org and rb.org else None
    if org == "same":
        score += 4.0
        evidence.append(f"same organisation ({ra.org} / {rb.org})")
    elif org == "partial":
        score += 2.0
        evidence.append(f"organisations agree in part ({ra.org} / {rb.org})")
    else:
        domain_match = _org_domain(ra.org, b.domains) or _org_domain(rb.org, a.domains)
        shared = {d for d in a.domains & b.domains if not is_free_mail(d)}
        if domain_match:
            score += 4.0
            evidence.append(f"organisation and mail domain agree ({domain_match})")
        elif shared:
            score += 3.0
            evidence.append(f"same mail domain ({min(shared)})")
    if ra.platform and ra.platform == rb.platform and ra.source != rb.source:
        # a connection and a profile in messages (not two connections: those are two people)
        score += 3.0 if name_points >= 6 else 1.5
        evidence.append(f"both on {ra.platform}")
    # A mail display name is only what the sender's client said; an address spelled from the
    # name (jdoe@ for Jane Doe) shows it is the person's own.
    fits = ((not ra.names_reliable and _address_fits_name(a, nb))
            or (not rb.names_reliable and _address_fits_name(b, na)))
    if fits:
        score += 3.0 if name_points >= 6 else 1.5
        evidence.append(f"address {fits}@ fits the name")
    if ra.title and rb.title and fold(ra.title) == fold(rb.title):
        score += 1.0
        evidence.append("same title")
    if ((ambiguous or (ra.source == rb.source and ra.names_reliable))
            and birthday <= 0 and address < 3):
        # One source holds a person once (a LinkedIn export, a card stack), unless a birthday
        # or an address says a card was entered twice; so a name two records of one source
        # carry, or two records of one source, only make a candidate.
        score = min(score, LINK_SCORE - 0.5)
    if parts[0] == "different" or ("different" in parts and birthday <= 0):
        # Spouses share a family name, an address and often an employer, twins a birthday too:
        # a different first name never links, a different family name only with a birthday.
        score = min(score, LINK_SCORE - 0.5)
    strong = bool(ra.birthday) and ra.birthday == rb.birthday and len(ra.birthday) == 10
    return score, "; ".join(evidence), strong


def _part_level(level: str | None, a: str, b: str) -> str:
    if level is not None:
        return level
    return "missing" if not a or not b else "different"


def _best_name_match(a: _Prepared, b: _Prepared) -> tuple[float | None, str, tuple, tuple]:
    """The best-agreeing pair of names of two records, both ways round, with points per part."""
    best: tuple[float | None, str, tuple, tuple] = (None, "", (), ())
    for na in a.names:
        for nb in b.names:
            for other, order in ((nb, ""), (swapped(nb), ", other order")):
                if other is None:
                    continue
                g = _part_level(given_level(na.given, other.given), na.given, other.given)
                f = _part_level(family_level(na, other), na.family, other.family)
                if {g, f} <= {"missing", "different"}:
                    continue                         # nothing of the name agrees
                points = _GIVEN_POINTS[g] + _FAMILY_POINTS[f] - (0.5 if order else 0.0)
                if best[0] is None or points > best[0]:
                    text = (f"names {na.given} {na.family} / {nb.given} {nb.family} "
                            f"({g} given name, {f} family name{order})")
                    best = (points, text, (na, nb), (g, f))
    return best


def _org_domain(org: str | None, domains: set[str]) -> str | None:
    for domain in sorted(domains):
        if org_matches_domain(org, domain):
            return f"{org} / {domain}"
    return None


def _address_fits_name(p: _Prepared, name: Name) -> str | None:
    """The local part of one of p's addresses spelled from `name`: jane.doe, jdoe, doe.j ..."""
    given, family = name.given, name.family.replace(" ", "")
    if len(family) < 2 or len(given) < 2:
        return None
    forms = {f"{given}.{family}", f"{given}{family}", f"{given[0]}{family}",
             f"{given[0]}.{family}", f"{family}.{given}", f"{family}{given}",
             f"{family}.{given[0]}", f"{family}{given[0]}"}
    for local in sorted(p.locals):
        bare = local.rstrip("0123456789.").replace("_", ".").replace("-", ".")
        if bare in forms or bare.replace(".", "") in {f.replace(".", "") for f in forms}:
            return local
    return None


def _birthday_points(a: str | None, b: str | None, evidence: list[str]) -> float:
    if not a or not b:
        return 0.0
    if a == b:
        evidence.append(f"same birthday ({a})")
        return 5.0 if len(a) == 10 else 2.0
    if a[-5:] == b[-5:]:
        evidence.append(f"same day and month of birth ({a[-5:]})")
        return 2.0
    if len(a) == 10 and len(b) == 10:
        if _one_slip(a.replace("-", ""), b.replace("-", "")) or (
                a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]):
            evidence.append(f"birthdays nearly agree ({a} / {b})")
            return 2.0
        evidence.append(f"different birthdays ({a} / {b})")
        return -4.0
    return 0.0


def _one_slip(a: str, b: str) -> bool:
    """One digit wrong, or two neighbouring digits swapped (19941127 / 19941217)."""
    diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                              and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])


def _address_points(a: IdentityRecord, b: IdentityRecord, evidence: list[str]) -> float:
    """Street (typos and split words forgiven), postcode (one slip forgiven), town: up to 5."""
    points = 0.0
    parts = []
    if a.street and b.street:
        sa, sb = fold(a.street), fold(b.street)
        if sa and sb and (sa == sb or fuzz.token_sort_ratio(sa, sb) >= 90
                          or fuzz.ratio(sa.replace(" ", ""), sb.replace(" ", "")) >= 88):
            points += 3.0
            parts.append("street")
    if a.postcode and b.postcode:
        pa, pb = fold(a.postcode).replace(" ", ""), fold(b.postcode).replace(" ", "")
        if pa == pb:
            points += 2.0
            parts.append("postcode")
        elif len(pa) >= 4 and _one_slip(pa, pb):
            points += 1.0
            parts.append("postcode (one slip)")
    if a.locality and b.locality:
        la, lb = fold(a.locality).replace(" ", ""), fold(b.locality).replace(" ", "")
        if la == lb or (min(len(la), len(lb)) >= 4
                        and JaroWinkler.normalized_similarity(la, lb) >= 0.92):
            points += 1.0
            parts.append("town")
    if parts:
        evidence.append("same " + ", ".join(parts))
    return min(points, 5.0)


def _clusters_agree(a: str, b: str, prepared: dict[str, _Prepared],
                    clusters: _Clusters) -> bool:
    """A fuzzy link joins two whole clusters: refuse it when any reliable full names of the two
    clusters clearly belong to different people (guards against chains A~B~C)."""
    ra, rb = clusters.find(a), clusters.find(b)
    names_a = _cluster_names(ra, prepared, clusters)
    names_b = _cluster_names(rb, prepared, clusters)
    return all(compatible(x, y) for x in names_a for y in names_b)


def _cluster_names(root: str, prepared: dict[str, _Prepared], clusters: _Clusters) -> set[Name]:
    return {prepared[k].name for k in clusters.members[root]
            if prepared[k].record.names_reliable and prepared[k].name is not None
            and prepared[k].name.is_full}
