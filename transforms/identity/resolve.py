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
3. the match model (transforms.identity.model): a Fellegi-Sunter model, estimated from these
   records by Splink, scores every pair that shares a name, birthday, street or postcode block,
   under a prior estimated for each pair of sources (SourcePriors) and with an exact full name,
   and an employer both records agree on, weighed by its own commonness among the user's people
   (NameStats.name_share, org_share, domain_share); pairs above LINK_PROBABILITY (the same
   full name in two sources: EXACT_NAME_LINK_PROBABILITY) are linked, best first, under hard
   guards (`decide`); pairs above CANDIDATE_PROBABILITY, or stopped by a guard, become merge
   candidates for the user.

Every union is checked first: the user's `kith split` decisions (cannot-link pairs) are never
crossed, and no person grows past `max_cluster` records (such merges are refused and reported).
The result is pure data; warehouse/identity tables are written elsewhere (transforms.identity.store).
"""

from __future__ import annotations

import functools
import gc
import math
import re
import tempfile

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations, permutations, takewhile

import duckdb
import pyarrow as pa

from kith.organisations import domain_label, is_free_mail, org_key
from kith.profiles import normalize_profile_url, profile_service
from kith.transforms.identity.model import (BLOCKING_KEYS, DIFFERENT_MAILBOXES, MAX_BLOCK,
                                            MIN_TRAINING_RECORDS, PREDICT_FLOOR, SUB_KEYS, Model,
                                            ScoredPair, explain, log_odds, predict, prior_for,
                                            scored, train)
from kith.transforms.identity.names import (Name, _nickname_forms, compatible, family_level, fold,
                                            given_level, other_forms, parse_name, swapped)
from kith.warehouse.connection import BUILD_MEMORY_LIMIT

MAX_CLUSTER = 60                 # records per person; a bigger cluster is almost surely wrong
MAX_HANDLE_LENGTH = 254          # RFC 5321's longest address; longer is not an identifier
# A link needs the model's match probability at or above this; a candidate, above the other.
# 0.9 is nine to one for being one person: the hard guards in `decide` stop the known cases where
# the model is confidently wrong, so the threshold itself need not be extreme.
LINK_PROBABILITY = 0.9
CANDIDATE_PROBABILITY = 0.3
# Two records of different sources with the same full name link when the model finds that more
# likely than not, unless a birthday or an address differs (below). The one way such a pair is
# two people is a namesake, and the model has priced that from the user's own data: the name's
# commonness among their people (NameStats.name_share) and the two sources' overlap
# (SourcePriors). The guards in `decide` still apply (a record that fits two people of one list,
# a common name with nothing else agreeing). Names that only look alike (Ellen / Elena, Victor /
# Victoria, Mwangi / Wang) are where a model is confidently wrong: they keep the higher bar.
EXACT_NAME_LINK_PROBABILITY = 0.5
# A record that fits several people of one list (or the holders of several mailboxes at one
# employer) links to the one the model finds most likely only where that one is LINK_PROBABILITY
# likely among them: its match weight ahead of every other's by the log-odds of that (nine to
# one: 3.2 bits); Bayes' rule over the people in contention, not a fitted margin.
RIVAL_MARGIN = math.log2(LINK_PROBABILITY / (1.0 - LINK_PROBABILITY))
# A date of birth or an address that differs is direct evidence of a namesake: there the usual bar
# applies. (An employer that differs is not: people change jobs between sources.)
_PERSONAL_COMPARISONS = frozenset({"birthday", "street", "postcode", "town"})

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
    n_skipped_blocks: int = 0                       # blocking keys too common to compare pairwise
    model: Model | None = None                      # the match model used
    priors: "SourcePriors | None" = None            # its prior per pair of sources
    focus: frozenset[str] | None = None             # the records grouped (None: all of them)
    prepared: dict = field(default_factory=dict, repr=False)    # record key -> _Prepared
    # the pairs the model scored now, as it scored them (KeptPairs.rows), with the evidence
    # they reach (KeptPairs.floor); None when the pairs kept can no longer serve
    scored: list[tuple[str, str, float, dict]] | None = field(default=None, repr=False)
    scored_floor: float | None = None


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
    __slots__ = ("record", "names", "handles", "domains", "locals", "org", "work_domains",
                 "work_labels", "mailboxes", "mailbox_domains")

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
        self.org = org_key(record.org).replace(" ", "") if record.org else ""
        self.work_domains = sorted(d for d in self.domains if not is_free_mail(d) and "@" not in d)
        self.work_labels = sorted({domain_label(d).replace("-", "") for d in self.work_domains}
                                  - {""})
        # A person's own addresses at an employer (not role addresses such as info@)
        self.mailboxes = sorted({v for kind, v in self.handles if kind == "email"
                                 and v.rpartition("@")[2] in self.work_domains
                                 and not is_role_address(v)})
        self.mailbox_domains = sorted({m.rpartition("@")[2] for m in self.mailboxes})
        self.locals = {fold(e.rpartition("@")[0].split("+", 1)[0]).replace(" ", ".")
                       for e in record.emails}
        # An address that spells the holder's name with another first name (Sasha Turner
        # writing from alexander.turner@) is that name too: the long form a nickname stands for;
        # not the name's other form (Daniel Okonkwo writing from daniela.okonkwo@ writes from
        # someone else's address). So is a LinkedIn profile's address (Ellie Russo at
        # linkedin.com/in/eleanor-russo-1bcdc5b): LinkedIn makes it of the name the profile
        # was opened with, and the name shown may be changed later.
        spelled = [_name_from_address(self, frozenset(), frozenset()), _name_from_profile(self)]
        for name in spelled if unique else ():
            if (name is not None and unique[0].is_full and name.family == unique[0].family
                    and len(name.given) > 1 and name not in unique
                    and name.given not in other_forms(unique[0].given)):
                unique.append(name)

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


def _gc_paused(resolver: Callable) -> Callable:
    """`resolver` run with Python's cyclic garbage collector paused: it builds millions of
    small objects that live to its end (prepared records, feature rows, scored pairs), and each
    full collection walks all of them again (15% of resolving 100,000 records). Collection
    resumes, and finds any cycles left, when it returns."""
    @functools.wraps(resolver)
    def paused(*args, **kwargs):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return resolver(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()
    return paused


@_gc_paused
def resolve(records: list[IdentityRecord], *, rules: Rules = Rules(),
            owner_emails: frozenset[str] = frozenset(), owner_records: frozenset[str] = frozenset(),
            max_cluster: int = MAX_CLUSTER, model: Model | None = None,
            population: Population | None = None) -> Resolution:
    """Group records into persons; see the module docstring for how. The owner is the person
    of every record holding one of `owner_emails`, plus `owner_records` (e.g. their own social
    profile). `model` is a match model to use as is; without one it is estimated from `records`
    (see `Resolution.model`). With `population`, `records` are some of the records only (a
    focus: transforms.identity.store picks the records an import touched), grouped as among
    all of them: `population` says how common a name is, how big a block or a source is among
    all. The focus must hold every record of each handle it holds."""
    prepared = {r.key: _Prepared(r) for r in records}
    everyone = prepared
    clusters = _Clusters(list(prepared), rules.splits, max_cluster)
    result = Resolution(clusters=[], focus=None if population is None else frozenset(prepared),
                        prepared=prepared)

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

    for (kind, value), keys in sorted(_by_handle(everyone).items()):
        reason = _exclusion(kind, value, keys, everyone, owner_handles)
        if reason:
            if len(keys) > 1 or reason != "too long to be an identifier":
                result.excluded.append(ExcludedHandle(kind, value, reason, len(keys)))
            continue
        keys = [k for k in keys if k in prepared]
        for other in keys[1:]:
            join(Link(keys[0], other, f"same_{kind}", value))

    stats = population.stats if population is not None else NameStats.of(everyone)
    pairs, result.n_skipped_blocks, result.model, result.priors, kept = _model_pairs(
        prepared, clusters, result.owner_keys, model, stats, population)
    if kept is not None:
        result.scored, result.scored_floor = kept
    linked_pairs = {(p.a, p.b) for p in pairs if p.probability >= LINK_PROBABILITY
                    and not _mailboxes_apart(p, prepared[p.a], prepared[p.b])}
    contention = _Contention(pairs, prepared, clusters, linked_pairs,
                             result.priors.duplicated if result.priors else frozenset())
    misnamed: set[str] = set()      # records the model linked although their names disagree
    for pair in pairs:
        if pair.probability < CANDIDATE_PROBABILITY:
            break       # best first: `decide` makes neither a link nor a candidate of the rest
        a, b = pair.a, pair.b
        if clusters.find(a) == clusters.find(b):
            continue
        verdict, evidence = decide(pair, prepared[a], prepared[b], stats, result.model,
                                   contention.count)
        if verdict == "none":
            continue
        link = Link(a, b, "match_model", evidence, round(pair.probability, 4))
        if verdict == "link" and _clusters_agree(a, b, prepared, clusters, linked_pairs,
                                                 misnamed):
            if clusters.find(a) != clusters.find(b) and not _names_agree(prepared[a],
                                                                        prepared[b]):
                misnamed.update((a, b))
            join(link)
        else:
            result.candidates.append(link)

    result.candidates = _best_per_pair_of_people(result.candidates, clusters)
    result.clusters = clusters.groups()
    return result


def _by_handle(prepared: dict[str, _Prepared]) -> dict[tuple[str, str], list[str]]:
    by_handle: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key, p in prepared.items():
        for handle in dict.fromkeys(p.handles):
            by_handle[handle].append(key)
    return by_handle


def _best_per_pair_of_people(candidates: list[Link], clusters: _Clusters) -> list[Link]:
    """The strongest candidate link between each two people that stayed apart."""
    best: dict[tuple[str, str], Link] = {}
    for c in candidates:
        ra, rb = sorted((clusters.find(c.a), clusters.find(c.b)))
        if ra != rb and ((ra, rb) not in best or (c.score or 0) > (best[(ra, rb)].score or 0)):
            best[(ra, rb)] = c
    return sorted(best.values(), key=lambda c: (-(c.score or 0), c.a, c.b))


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


@dataclass
class NameStats:
    """How often names and employers occur among the people of the records.

    `per_source[(given, family)]` is the most records any one source holds of a full name: two
    LinkedIn connections called John Smith mean a name alone cannot tell them apart. Names are
    counted on the records with real names (cards, platform profiles).
    `is_common(name)`: the data's given and family name counts say more than half a person
    besides this one carries the name by chance (below a thousand records the data says little),
    or it is a well-known common name (John Smith, Maria Garcia) anywhere.
    `orgs` and `domains` count people the same way per organisation (its key without legal
    form) and per work mail domain (its registrable name), over every record that has one."""
    per_source: Counter
    given: Counter
    family: Counter
    n: int
    orgs: Counter = field(default_factory=Counter)
    domains: Counter = field(default_factory=Counter)
    n_orgs: int = 0
    n_domains: int = 0

    @classmethod
    def of(cls, prepared: dict[str, _Prepared]) -> "NameStats":
        names, orgs, domains = Counter(), Counter(), Counter()
        for p in prepared.values():
            source = p.record.source
            if p.org:
                orgs[(source, p.org)] += 1
            for label in p.work_labels:
                domains[(source, label)] += 1
            name = p.name
            # one person often writes from several addresses: mail names are left out
            if name is None or not name.is_full or not p.record.names_reliable:
                continue
            names[(source, (name.given, name.family))] += 1
        return cls.of_counts(names, orgs, domains)

    @classmethod
    def of_counts(cls, names: Counter, orgs: Counter, domains: Counter) -> "NameStats":
        """From the records counted per (source, (given, family)) of their full names (cards
        and profiles only), per (source, organisation key) and per (source, work mail domain
        label), as `of` counts them."""
        worst = _people_per_value(names)
        # Name parts are counted per person, not per record: a name on a card, a LinkedIn
        # connection and a phone-book entry is one person's (as many as one source holds).
        given, family = Counter(), Counter()
        for (g, f), people in worst.items():
            given[g] += people
            family[f] += people
        orgs, domains = _people_per_value(orgs), _people_per_value(domains)
        return cls(worst, given, family, sum(worst.values()), orgs, domains,
                   orgs.total(), domains.total())

    def name_share(self, key: tuple[str, str]) -> float:
        """The chance that one other person carries the full name `key`: the share of people
        with its given name times the share with its family name. The person it is being asked
        for is left out of the counts and one person added to each (Laplace), so a name seen
        once counts once: 1/n of the people for each part."""
        n = max(self.n, 1)
        given, family = key
        return max(self.given[given], 1) * max(self.family[family], 1) / (n * n)

    def org_share(self, org: str) -> float | None:
        """The chance that one other person works at the organisation `org` (its key), counted
        like `name_share`; None when fewer than MIN_TRAINING_RECORDS / 2 people have one."""
        return _share(self.orgs[org], self.n_orgs)

    def domain_share(self, label: str) -> float | None:
        """The same for a work mail domain's registrable name (acme for mail.acme.com)."""
        return _share(self.domains[label], self.n_domains)

    def is_common(self, name: Name | None) -> bool:
        if name is None or not name.is_full:
            return False
        if name.given in COMMON_GIVEN_NAMES and name.family in COMMON_FAMILY_NAMES:
            return True
        return self.given[name.given] * self.family[name.family] / max(self.n, 1000) >= 0.5


def _share(count: int, n: int) -> float | None:
    return max(count, 1) / n if n >= MIN_TRAINING_RECORDS // 2 else None


def _people_per_value(per_source: Counter) -> Counter:
    """value -> the most records any one source holds of it, from (source, value) -> records:
    about as many people as carry it (one person is in several sources, once in each)."""
    worst = Counter()
    for (_, value), count in per_source.items():
        worst[value] = max(worst[value], count)
    return worst


# Levels of the model's comparisons that say something beyond a name about the person.
_STRONG_LEVELS = frozenset({"same date of birth", "same street address",
                            "street address nearly the same"})


_EXACT = "full name exact"
# Levels where the family name agrees and the given name only loosely: a nickname, a slip, an
# initial (Donald / Ronald, Ellen / Helen, D. Wagner). Relatives share a family name and often
# like given names, and the model's u for these levels comes mostly from lists (LinkedIn) where
# relatives are rare; with nothing else agreeing such a pair waits for the user.
_FAMILY_NAME_ONLY = "same family name, "


def _weigh_commonness(pair: ScoredPair, a: _Prepared, b: _Prepared, stats: NameStats,
                      model: Model) -> None:
    """Give an exact full name, and an employer two records agree on, the weight of its own
    commonness among the user's people.

    A level's u is the chance that two different people agree on *some* value; for one value
    it is the chance that another person carries this one: Elber Cohen is rare even where Cohen
    is common, John Smith is not (NameStats.name_share); an employer where 10,000 of the user's
    contacts work is shared by many namesakes, one where 5 work by almost none
    (NameStats.org_share, domain_share: for a mail domain or an organisation that spells one,
    the more common of the two). The level's weight becomes log2(m / that chance); for an
    employer only when that is less than the level's own weight. Counted over distinct people,
    not Splink's term-frequency adjustment, whose counts over all records include the very
    duplicates being sought."""
    for comparison, share in (("name", _name_share(pair, a, b, stats)),
                              ("organisation", _employer_share(pair, a, b, stats))):
        if share is None:
            continue
        label, weight = pair.levels[comparison]
        m, u = model.level(comparison, label)
        if not (m and u):
            continue
        new_weight = math.log2(m / share)
        if comparison == "organisation":
            # Only ever less: colleagues at a small firm share a family name (relatives), a
            # mail-address pattern and similar first names more often than chance says, so a
            # rare employer keeps the level's average weight rather than more.
            new_weight = min(new_weight, weight)
        if abs(new_weight - weight) >= 1.0:       # half or twice as likely: worth saying
            words = "rare" if new_weight > weight else "common"
            label = f"{label}, {words} among your contacts"
        pair.levels[comparison] = (label, new_weight)
        pair.weight += new_weight - weight


def _name_share(pair: ScoredPair, a: _Prepared, b: _Prepared, stats: NameStats
                ) -> float | None:
    """How common the full name of a pair with an exact full name is (None: another level)."""
    label = pair.levels.get("name", ("", 0.0))[0]
    name = a.name if a.record.names_reliable or b.name is None else b.name
    if label != _EXACT or name is None or not name.is_full \
            or stats.n < MIN_TRAINING_RECORDS // 2:
        return None
    return stats.name_share(name.key)


def _employer_share(pair: ScoredPair, a: _Prepared, b: _Prepared, stats: NameStats
                    ) -> float | None:
    """How common the employer is that a pair agrees on exactly: the same organisation, an
    organisation and a mail domain that spells it, or the same work mail domain (None: another
    level, or too few people to count)."""
    label = pair.levels.get("organisation", ("", 0.0))[0]
    shares: list[float | None] = []
    if label == "same organisation":
        shares = [stats.org_share(a.org)]
    elif label == "organisation agrees with mail domain":
        for x, y in ((a, b), (b, a)):
            forms = _label_forms(y.work_labels)
            for spelled in set(_org_domain_forms(x.record.org)) & forms.keys():
                shares += [stats.org_share(x.org), stats.domain_share(forms[spelled])]
    elif label in ("same work mail domain", DIFFERENT_MAILBOXES):
        shared = set(a.work_domains) & set(b.work_domains)
        shares = [stats.domain_share(domain_label(d).replace("-", "")) for d in shared]
    known = [s for s in shares if s is not None]
    return max(known) if known else None


def _rivals(pairs: list[ScoredPair], prepared: dict[str, _Prepared],
            duplicated: frozenset[str] = frozenset()
            ) -> dict[tuple[str, str], dict[str, float]]:
    """(record, source) -> the records of that source the model would link the record to, each
    with the pair's match weight, for sources whose names are the person's own (a LinkedIn
    export, an address book: one row per person); and (record, "@" + work mail domain) -> the
    records holding an address there it would link the record to (an employer gives each of its
    people one mailbox). Held by more than one person whose weights are close (RIVAL_MARGIN),
    they mean it cannot tell which of them it is.
    Sources the data shows to hold one person several times (`duplicated`, see SourcePriors)
    are left out: there two such records are as likely one person keyed in twice."""
    rivals: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for pair in pairs:
        if pair.probability < EXACT_NAME_LINK_PROBABILITY:
            break
        exact = pair.levels.get("name", ("", 0.0))[0].startswith("full name exact")
        if pair.probability < LINK_PROBABILITY and not exact:
            continue
        for x, y in ((pair.a, pair.b), (pair.b, pair.a)):
            if prepared[y].record.names_reliable and prepared[y].record.source not in duplicated:
                rivals[(x, prepared[y].record.source)][y] = pair.weight
            for domain in prepared[y].mailbox_domains:
                rivals[(x, "@" + domain)][y] = pair.weight
    return rivals


class _Contention:
    """Who a record may be among the people of one list (a source with one row per person, or
    the holders of mailboxes at one employer; see `_rivals`), for the rivals guard in `decide`.

    `count((record, list), other)` is the number of people of the list still in contention:
    those the model finds about as likely as the best fitting one (RIVAL_MARGIN), records that
    are one person (already joined, or scored as one by the model: a card keyed in twice, an
    alias beside a mailbox; not two rows of a source with one row per person) counting once,
    and one more when `other` is not among them. A person in contention beside
    `other`'s is ruled out by elimination, as a person reasons about two namesakes:
    - when they already hold another record of a list the record is in (another row of its
      source, another mailbox at its employer): one person is in such a list once;
    - when they fit another record of the record's list as well as this one, while `other`'s
      person fits this record far better than that one (by RIVAL_MARGIN, their records' match
      weights with the two compared): of the two ways to pair the two records with the two
      people, the one pairing this record with `other` is that much likelier (two LinkedIn
      connections of one name at one employer, two mailboxes there, and a card that holds one
      mailbox and the job title of one connection). `ruled_out` says which rule did it."""

    def __init__(self, pairs: list[ScoredPair], prepared: dict[str, _Prepared],
                 clusters: _Clusters, linked_pairs: set[tuple[str, str]],
                 duplicated: frozenset[str]):
        self.pairs, self.prepared, self.clusters = pairs, prepared, clusters
        self.linked_pairs, self.duplicated = linked_pairs, duplicated
        self.records = _rivals(pairs, prepared, duplicated)
        self._weights: dict[tuple[str, str], float] = {}      # filled when first needed
        self._fitted_by: dict[tuple[str, str], set[str]] = {}

    def count(self, key: tuple[str, str], other: str) -> tuple[int, list[str]]:
        """(people in contention, why others were ruled out) for `key` = (record, list)."""
        weights = self.records.get(key, {})
        ys = sorted(weights)
        root = {y: self.clusters.find(y) for y in ys}
        for y, z in combinations(ys, 2):
            if root[y] != root[z] and self._linked(y, z) and not self._one_list(y, z):
                old, new = root[z], root[y]
                root = {k: new if r == old else r for k, r in root.items()}
        best: dict[str, float] = {}
        for y, r in root.items():
            best[r] = max(best.get(r, -math.inf), weights[y])
        top = max(best.values(), default=0.0)
        close = {r for r, w in best.items() if w >= top - RIVAL_MARGIN}
        mine = root.get(other, self.clusters.find(other))
        if mine not in close or len(close) == 1:
            return len(close) + (mine not in close), []
        people = {r: {m for y in ys if root[y] == r
                      for m in self.clusters.members[self.clusters.find(y)]} for r in close}
        ruled_out = [why for r in close - {mine}
                     if (why := self._ruled_out(key, people[r], people[mine]))]
        return len(close) - len(ruled_out), ruled_out

    def _linked(self, y: str, z: str) -> bool:
        return (y, z) in self.linked_pairs or (z, y) in self.linked_pairs

    def _one_list(self, x: str, y: str) -> bool:
        """Whether two records are two people by the lists they are in: rows of one source
        with one row per person, or different mailboxes at one employer."""
        px, py = self.prepared[x], self.prepared[y]
        rx, ry = px.record, py.record
        return x != y and ((rx.source == ry.source and rx.names_reliable and ry.names_reliable
                            and rx.source not in self.duplicated)
                           or (_other_mailboxes(px, py) and not self._linked(x, y)))

    def _ruled_out(self, key: tuple[str, str], theirs: set[str], mine: set[str]) -> str | None:
        record, group = key
        own = set(self.clusters.members[self.clusters.find(record)])
        if own & theirs:
            return None            # the record's own person: linking `other` would join them
        if any(self._one_list(m, z) for m in own for z in theirs):
            return "another person it could be already holds a record of the same list"
        if not self._fitted_by:
            for (x, g), ys in self.records.items():
                for y in ys:
                    self._fitted_by.setdefault((y, g), set()).add(x)
            # the pairs the model finds at least as likely one person as not (best first)
            self._weights = {(p.a, p.b): p.weight for p in takewhile(
                lambda p: p.probability >= EXACT_NAME_LINK_PROBABILITY, self.pairs)}
        # the other record of the list: neither this person's nor the contender's already
        others = {x for z in theirs for x in self._fitted_by.get((z, group), ())
                  if x not in own and x not in mine and x not in theirs
                  and self._one_list(record, x)}
        for x in sorted(others):
            if self._preference(mine, record, x)[0] - self._preference(theirs, record, x)[1] \
                    >= RIVAL_MARGIN:
                return ("another person it could be fits another record of the same list as "
                        "well, which this person fits far less")
        return None

    def _weight(self, a: str, b: str) -> float | None:
        return self._weights.get((a, b), self._weights.get((b, a)))

    def _preference(self, person: set[str], x: str, y: str) -> tuple[float, float]:
        """How much likelier `person` (its records) is x's than y's, in bits: (at least, at
        most). Each record's own preference is the difference of its match weights with the
        two; a pair the model finds less likely one person than not is at most that likely
        (known pairs are those `_weights` keeps). The records' strongest preference counts,
        less the strongest against."""
        floor = log_odds(EXACT_NAME_LINK_PROBABILITY)
        low, high = [], []
        for z in person - {x, y}:
            wx, wy = self._weight(z, x), self._weight(z, y)
            if wx is None and wy is None:
                continue
            low.append((-math.inf if wx is None else wx) - (floor if wy is None else wy))
            high.append((floor if wx is None else wx) - (math.inf if wy is None else wy))
        if not low:
            return 0.0, 0.0
        return (max(low) + min(0.0, min(low)), max(high) + min(0.0, min(high)))


def decide(pair: ScoredPair, a: _Prepared, b: _Prepared, stats: NameStats,
           model: Model,
           rivals: Callable[[tuple[str, str], str], tuple[int, list[str]]] | None = None
           ) -> tuple[str, str]:
    """("link" | "candidate" | "none", evidence in words) for a pair the model scored.

    The model's probability decides, under hard guards that protect precision: a record with no
    name links only with the same date of birth and address; names that do not agree, or a
    different first name, link only where the user's data shows names are often replaced in it
    and the birthday and address agree (spouses share a family name, an address and often an
    employer; twins a birthday too); a different family name links only with the same date of
    birth (a married or maiden name); two records of one source need a birthday, a street or a
    postcode that agrees beyond the name, and so do two addresses on one work mail domain that
    differ only by a number (an employer numbers the second person of a name); a name one
    source holds twice needs other evidence; a record the model would link to two people of one
    source (a list with one row per person) or to the holders of two mailboxes at one employer
    links to neither, unless the model finds one of them far likelier or the others are ruled
    out by elimination; and a common name, or one whose given names agree only loosely (a
    nickname, a slip, an initial: relatives share a family name), needs some other agreement.
    `rivals((record, source), other)` and `rivals((record, "@" + domain), other)` count those
    people still in contention, and one more when `other` is not among them, and say why others
    were ruled out (see `_Contention`)."""
    evidence = explain(pair)
    name_level = pair.levels.get("name", ("missing", 0.0))[0]
    labels = {label for label, _ in pair.levels.values()}
    strong = bool(labels & _STRONG_LEVELS)
    disagree_ok = _names_may_disagree(pair, labels, model)
    if (name_level in ("missing", "name differs") and not disagree_ok
            and not (name_level == "missing" and _born_and_living_alike(labels))):
        # Without names that agree only a date of birth and an address make one person.
        verdict = "candidate" if pair.probability >= CANDIDATE_PROBABILITY else "none"
        return verdict, evidence + "; the names do not agree"
    ra, rb = a.record, b.record
    na, nb = _closest_names(a, b)
    others = any(w > 0 for comparison, (_, w) in pair.levels.items()
                 if comparison not in ("name", "title"))
    if (not strong and na is not None and nb is not None
            and max(stats.per_source[na.key], stats.per_source[nb.key]) > 1):
        # Two people of this name in one source: the name says nothing, and an employer or a
        # mail domain only where it fits one of them alone.
        if not others:
            return "none", evidence + "; several records of one source carry this name"
    bar = LINK_PROBABILITY
    differs = any(label.endswith(" differs") for comparison, (label, _) in pair.levels.items()
                  if comparison in _PERSONAL_COMPARISONS)
    if name_level.startswith(_EXACT) and ra.source != rb.source and not differs:
        bar = EXACT_NAME_LINK_PROBABILITY
    verdict = ("link" if pair.probability >= bar
               else "candidate" if pair.probability >= CANDIDATE_PROBABILITY else "none")
    if verdict != "link":
        return verdict, evidence
    if (name_level == "same given name, different family name"
            or (na is not None and nb is not None and na.is_full and nb.is_full
                and name_level != "given and family name written the other way round"
                and family_level(na, nb) is None)):
        if "same date of birth" not in labels and not disagree_ok:
            return "candidate", evidence + "; different family names"
        evidence += "; family name changed"
    if (name_level == "same family name, different given name"
            or (na is not None and nb is not None and na.is_full and nb.is_full
                and name_level != "given and family name written the other way round"
                and given_level(na.given, nb.given) is None)):
        if not disagree_ok:
            return "candidate", evidence + "; different first names"
        evidence += "; first names differ, everything else agrees"
    ruled_out: set[str] = set()
    if rivals is not None:
        # A list with one row per person holds each person once: a record that fits two people
        # of one list is one of them at most, and the model cannot tell which. Likewise a
        # record that fits the holders of two mailboxes at one employer.
        of_source = [((x.record.key, y.record.source), y.record.key)
                     for x, y in ((a, b), (b, a)) if y.record.names_reliable]
        of_domain = [((x.record.key, "@" + d), y.record.key)
                     for x, y in ((a, b), (b, a)) for d in y.mailbox_domains]
        for keys, words in ((of_source, "fits several people of one source"),
                            (of_domain, "fits several people of one work mail domain")):
            counted = [rivals(key, other) for key, other in keys]
            if any(n > 1 for n, _ in counted):
                return "candidate", f"{evidence}; {words}"
            ruled_out.update(why for _, whys in counted for why in whys)
    if (ra.source == rb.source and ra.names_reliable and rb.names_reliable
            and not _personal_agreement(pair)):
        return "candidate", evidence + "; two records of one source"
    if apart := _mailboxes_apart(pair, a, b):
        return "candidate", evidence + "; " + apart
    if (stats.is_common(na) or stats.is_common(nb)) and not others:
        return "candidate", evidence + "; a common name and nothing else agrees"
    if name_level.startswith(_FAMILY_NAME_ONLY) and not others:
        return "candidate", evidence + "; the given names agree only loosely and nothing else"
    return "link", "; ".join([evidence, *sorted(ruled_out)])


def _personal_agreement(pair: ScoredPair) -> bool:
    """Whether a birthday, a street or a postcode agrees (counts for the pair)."""
    return any(w > 0 for comparison, (_, w) in pair.levels.items()
               if comparison in _PERSONAL_COMPARISONS)


_NUMBERING = re.compile(r"[0-9._-]+$")
_FIRST_LAST = re.compile(r"([a-z]{2,})[._-]([a-z]{2,})")


def _mailboxes_apart(pair: ScoredPair, a: _Prepared, b: _Prepared) -> str | None:
    """Why two records are two people by their addresses on one work mail domain, when
    nothing personal agrees (None: they are not): one local part numbered (carlos.rodriguez@ and carlos.rodriguez2@:
    an employer gives the second person of a name the name numbered), or first.last with one
    first name and two family names (aurora.ferrari@ and aurora.ferreira@: an address is spelled
    exactly, so a family name that differs in it is another person's, where a display name may
    hold a slip). One person's second address there (an alias) is spelled otherwise (carlos@,
    crodriguez@), and is left to the model, where different addresses on one work mail domain
    have a level."""
    if _personal_agreement(pair) or not _other_mailboxes(a, b):
        return None

    def own(p: _Prepared, q: _Prepared) -> list[tuple[str, str]]:
        return [(local, domain) for local, _, domain in (m.rpartition("@") for m in p.mailboxes
                                                          if m not in q.mailboxes)]
    mine, theirs = own(a, b), own(b, a)
    if {(_NUMBERING.sub("", x), d) for x, d in mine} & {(_NUMBERING.sub("", x), d)
                                                         for x, d in theirs}:
        return "two numbered mailboxes of one name at one employer"
    first_last = {(x, d): m.groups() for x, d in mine + theirs
                  if (m := _FIRST_LAST.fullmatch(x))}
    if any(d == e and (f := first_last.get((x, d))) and (g := first_last.get((y, e)))
           and f[0] == g[0] and f[1] != g[1] for x, d in mine for y, e in theirs):
        return "mailboxes of two family names at one employer"
    return None


def _closest_names(a: _Prepared, b: _Prepared) -> tuple[Name | None, Name | None]:
    """One name of each record, the two that agree best: an address seen as Vince Suzuki and as
    Vincent Suzuki is either (as the model compares them, names with another family name are
    not the record's own)."""
    def own(p: _Prepared) -> list[Name]:
        first = p.name
        return [n for n in p.names[:6] if first is None or n.family == first.family]

    def disagreement(x: Name, y: Name) -> int:
        return (given_level(x.given, y.given) is None) + (family_level(x, y) is None) \
            + (x.given != y.given)
    pairs = [(x, y) for x in own(a) for y in own(b)]
    if not pairs:
        return a.name, b.name
    return min(pairs, key=lambda xy: disagreement(*xy))


# Names that disagree (another first name, another family name, no agreement at all) link only
# where the user's own data shows that at least this share of one person's record pairs disagree
# that way (the level's m-probability as estimated: lists keyed in by hand, with names
# replaced or garbled), and the date of birth and the address agree as well. The starting value
# of these levels is half of it, and contact data (names copied from the person's own profile or
# signature, nicknames handled by their own level) has not been seen to reach it.
NAMES_UNRELIABLE_M = 0.02


def _names_may_disagree(pair: ScoredPair, labels: set[str], model: Model) -> bool:
    name_label = pair.levels.get("name", ("missing", 0.0))[0]
    if name_label == "missing" or model.m("name", name_label) < NAMES_UNRELIABLE_M:
        return False
    street = bool(labels & {"same street address", "street address nearly the same"})
    postcode = "same postcode" in labels
    if name_label == "same given name, different family name":
        return street and (postcode or "same date of birth" in labels)     # a married name
    # Where names are this unreliable, the other fields are keyed in by the same hand: an
    # address with a slip in it still agrees.
    near = bool(labels & {"street address similar", "postcode one slip apart"})
    return "same date of birth" in labels and (street or postcode or near)


def _born_and_living_alike(labels: set[str]) -> bool:
    return "same date of birth" in labels and bool(
        labels & {"same street address", "street address nearly the same", "same postcode"})


def _features(prepared: dict[str, _Prepared], clusters: _Clusters,
              skip: frozenset[str], population: "Population | None" = None
              ) -> tuple[pa.Table, int]:
    """One row per record for the match model, and how many blocking groups were left out for
    holding more than MAX_BLOCK records even when split by their SUB_KEYS (so common that
    comparing their records pairwise would cost too much and say little). `k_known_person` is
    the person a record already belongs to through shared handles or the user's merges (None
    when alone): the pairs the model's m-probabilities are estimated from. With `population`,
    the blocks are as sized and split over all records (`population.blocks`)."""
    if population is None:
        rows = _rows(prepared, clusters, skip, None)
        dropped = _split_big_blocks(rows)
    else:
        rows = _rows(prepared, clusters, skip, None, (population.givens, population.families))
        rescore = population.pairs.rescore if population.pairs else frozenset()
        for row in rows:
            row.update(population.blocks[row["record_key"]])
            row["k_rescore"] = row["record_key"] in rescore
        dropped = population.n_skipped_blocks
    return pa.Table.from_pylist(rows, schema=_FEATURE_SCHEMA), dropped


def _name_parts(prepared: dict[str, _Prepared]) -> tuple[set[str], set[str]]:
    """The given names (of two letters or more) and the family names of the full names cards
    and profiles carry: what an address without a name is read with (`_name_from_address`)."""
    full = [p.name for p in prepared.values()
            if p.name is not None and p.name.is_full and p.record.names_reliable]
    return {n.given for n in full if len(n.given) > 1}, {n.family for n in full}


def _rows(prepared: dict[str, _Prepared], clusters: _Clusters, skip: frozenset[str],
          keep: dict[str, _Prepared] | frozenset[str] | None,
          names: tuple[set[str], set[str]] | None = None) -> list[dict]:
    """The rows of `_features` before big blocks are split, every field only for the records
    in `keep` (all when None), the others with their names, blocking keys and the sub-keys
    that split big blocks alone. `names`: the given and family names of all records
    (`_name_parts`), when `prepared` are some of them."""
    givens, families = names or _name_parts(prepared)
    rows = []
    for key, p in prepared.items():
        if key in skip:
            continue
        r = p.record
        name = p.name or _name_from_address(p, givens, families)
        given = name.given if name else ""
        family = name.family if name else ""
        domains, labels, org = p.work_domains, p.work_labels, p.org
        birthday = r.birthday or ""
        row = {
            "record_key": key, "given": given[:100], "family": family[:100],
            "k_family": family or None,
            "k_family_initial": f"{family}|{given[:1]}" if family else None,
            "k_given_family_initial": f"{given}|{family[:1]}" if given and family else None,
            "k_birthday": birthday if len(birthday) == 10 else None,
            "k_street": fold(r.street) or None,
            "k_given": given if len(given) > 1 else None,
            "k_postcode": fold(r.postcode) or None,
            "k_postcode_initial": (f"{fold(r.postcode)}|{(family or given)[:1]}"
                                   if r.postcode and (family or given) else None),
            "work": (org or (labels[0] if labels else ""))[:5],
            "given_initial": given[:1], "family_initial": family[:1],
            "postcode": fold(r.postcode).replace(" ", "")[:20],
        }
        if keep is None or key in keep:
            row.update({
                "source": r.source, "reliable": r.names_reliable,
                "family_alt": (name.family_alt if name else "")[:100],
                "given_forms": sorted(_nickname_forms(given))[:50] if len(given) > 1 else [],
                "given_other": sorted(other_forms(given)),
                "given_seen": _other_given_names(p, name),
                "k_known_person": (clusters.find(key) if key in clusters.parent
                                   and len(clusters.members[clusters.find(key)]) > 1 else None),
                "org": org[:200], "org_domains": _org_domain_forms(r.org),
                "mail_domains": domains, "mail_labels": sorted(_label_forms(labels)),
                "mailboxes": p.mailboxes, "mailbox_domains": p.mailbox_domains,
                "birthday": birthday,
                "street": fold(r.street)[:200],
                "street_words": " ".join(sorted(fold(r.street).split()))[:200],
                "locality": fold(r.locality).replace(" ", "")[:100], "title": fold(r.title)[:200],
            })
        rows.append(row)
    # Only the other forms some record carries can matter (Daniela, not Danieletta): kept short,
    # they cost little memory at a million records.
    present = {row["given"] for row in rows}
    for row in rows:
        if row.get("given_other"):
            row["given_other"] = [g for g in row["given_other"] if g in present]
    return rows


# What resolving other records needs to know of a record beyond its row of `_rows` (see
# Population): stored per record by transforms.identity.store.
FACT_FIELDS = ("source", "reliable", "nameless", "full_given", "full_family", "org",
               "work_labels", "handles")


def record_facts(prepared: dict[str, _Prepared],
                 names: tuple[set[str], set[str]] | None = None) -> list[dict]:
    """Per record, its blocking keys before big blocks are split (`_rows`) and FACT_FIELDS:
    what a Population is counted from. `names` as for `_rows`."""
    rows = _rows(prepared, _Clusters([], [], MAX_CLUSTER), frozenset(), frozenset(), names)
    for row in rows:
        p = prepared[row["record_key"]]
        full = p.name is not None and p.name.is_full
        row.update(source=p.record.source, reliable=p.record.names_reliable,
                   nameless=p.name is None, full_given=p.name.given if full else None,
                   full_family=p.name.family if full else None, org=p.org or None,
                   work_labels=list(p.work_labels),
                   handles=[f"{kind}:{value}" for kind, value in dict.fromkeys(p.handles)])
    return rows


@dataclass
class Population:
    """All records as resolving some of them (a focus) needs to know them, so that the focus
    is grouped as it would be among all: how many there are, how common each name and
    employer is (`stats`; `named` and `by_name` as `_full_names` counts them, for the priors),
    the names an address without one is read with (`_name_parts`), and the blocking keys of
    the focus's records with big blocks split as among all records (`blocks`, record key ->
    key column -> value; `n_skipped_blocks` as `_split_big_blocks` counts them)."""
    n_records: int
    stats: NameStats
    named: Counter
    by_name: dict[tuple[str, str], Counter]
    givens: set[str]
    families: set[str]
    blocks: dict[str, dict[str, str | None]]
    n_skipped_blocks: int
    pairs: "KeptPairs | None" = None


# Pairs are scored and kept down to this many bits of evidence below what PREDICT_FLOOR asks
# under the prior of their resolution: kept pairs serve later resolutions while the prior
# stays within 2 ** PAIRS_MARGIN times (it moves a little as records come and go).
PAIRS_MARGIN = 2.0


@dataclass
class KeptPairs:
    """The pairs the match model scored at earlier resolutions, kept by
    transforms.identity.store: every blocked pair whose evidence (ScoredPair.evidence) reaches
    `floor`, as (a, b, evidence, levels). Scoring a pair again gives the same as long as
    neither record nor its blocks changed, so a focus needs only the pairs of the records in
    `rescore` (the changed ones) scored; `rows` are its other pairs."""
    floor: float
    rows: list[tuple[str, str, float, dict]]
    rescore: frozenset[str]


def _split_big_blocks(rows: list[dict]) -> int:
    """Split each blocking group of more than MAX_BLOCK records by the key's SUB_KEYS in turn;
    the number of groups some of whose records were left out (too big after the last sub-key,
    or without the sub-key), not compared on that key."""
    dropped = 0
    for column in BLOCKING_KEYS:
        sub_keys = list(SUB_KEYS[column])
        while True:
            sizes = Counter(row[column] for row in rows if row[column])
            big = {k for k, n in sizes.items() if n > MAX_BLOCK}
            if not big:
                break
            sub = sub_keys.pop(0) if sub_keys else None
            left = set()
            for row in rows:
                if row[column] in big:
                    if sub and row[sub]:
                        row[column] = f"{row[column]}|{row[sub]}"
                    else:
                        left.add(row[column])
                        row[column] = None
            dropped += len(left)
    return dropped


_FEATURE_SCHEMA = pa.schema(
    [("record_key", pa.string()), ("source", pa.string()), ("reliable", pa.bool_()),
     ("given", pa.string()), ("family", pa.string()), ("family_alt", pa.string()),
     ("given_forms", pa.list_(pa.string())), ("given_seen", pa.list_(pa.string())),
     ("given_other", pa.list_(pa.string())),
     ("k_known_person", pa.string()),
     ("org", pa.string()), ("org_domains", pa.list_(pa.string())),
     ("mail_domains", pa.list_(pa.string())), ("mail_labels", pa.list_(pa.string())),
     ("mailboxes", pa.list_(pa.string())), ("mailbox_domains", pa.list_(pa.string())),
     ("birthday", pa.string()), ("street", pa.string()), ("street_words", pa.string()),
     ("postcode", pa.string()),
     ("locality", pa.string()), ("title", pa.string()), ("k_rescore", pa.bool_())]
    + [(k, pa.string()) for k in BLOCKING_KEYS])


def _other_given_names(p: _Prepared, name: Name | None) -> list[str]:
    """The other first names a record was seen with beside its family name: an address that
    wrote as Vince Suzuki and as Vincent Suzuki carries both (other family names are another
    person's, on a shared address, and are left out)."""
    if name is None or not name.is_full:
        return []
    return sorted({n.given for n in p.names[1:]
                   if n.family == name.family and n.given and n.given != name.given})[:10]


def _org_domain_forms(org: str | None) -> list[str]:
    """The mail-domain labels an organisation's name would have (see org_matches_domain):
    'Blue Bottle Coffee' -> bluebottlecoffee, blue, bluebot, bluebott, ..., its initials bbc,
    and its words in another order (coffeebluebottle: 'School of Fine Art' writes from
    fineartschool). Initials are the only forms shorter than three letters (Prairie
    Ventures: pv). The whole name, its initials and its reorderings are also given marked
    with '=': only they may match a label read without the words around it (`_label_forms`),
    so that aldergroup spells Alder or Alder Group but not Alder Foods."""
    key = org_key(org) if org else ""
    if not key:
        return []
    words = key.split()
    compact = key.replace(" ", "")
    whole = {compact}
    if len(words) <= 3:
        whole |= {"".join(order) for order in permutations(words)}
    whole = {f for f in whole if len(f) >= 3}
    if len(words) >= 2:
        whole.add("".join(w[0] for w in words))
    parts = {words[0]} | {compact[:n] for n in range(6, len(compact))}
    forms = sorted(whole | {f for f in parts if len(f) >= 3})[:60]
    return forms + sorted("=" + f for f in whole)


# Words companies put around their name in a mail domain (acmehq.com, getacme.com): a label
# read without them may spell the organisation.
_DOMAIN_SUFFIXES = ("hq", "inc", "corp", "group", "global", "team", "app", "online")
_DOMAIN_PREFIXES = ("get", "try", "join", "the")


def _label_forms(labels: list[str]) -> dict[str, str]:
    """What the organisation forms of `_org_domain_forms` are matched against: each work-domain
    label, and marked with '=' the label without a word of _DOMAIN_SUFFIXES / _DOMAIN_PREFIXES
    around it (epgroup -> =ep, getacme -> =acme), each mapped to the label it was read from."""
    forms: dict[str, str] = {}
    for label in labels:
        if len(label) >= 2:
            forms.setdefault(label, label)
        for suffix in _DOMAIN_SUFFIXES:
            if label.endswith(suffix) and len(label) - len(suffix) >= 2:
                forms.setdefault("=" + label[:-len(suffix)], label)
        for prefix in _DOMAIN_PREFIXES:
            if label.startswith(prefix) and len(label) - len(prefix) >= 2:
                forms.setdefault("=" + label[len(prefix):], label)
    return forms


_LOCAL_SEPARATORS = re.compile(r"[._-]+")


def _name_from_address(p: _Prepared, givens: set[str], families: set[str]) -> Name | None:
    """Name tokens spelled by an address's local part, for a record with no name:
    maria.lopez@ -> Maria Lopez, lopez.m@ -> M. Lopez, and mlopez@ or lopezm@ -> M. Lopez or
    marialopez@ -> Maria Lopez when Maria is a given and Lopez a family name some card or
    profile in the data carries. Role addresses spell none."""
    for address in p.record.emails:
        if is_role_address(address):
            continue
        local = fold_email(address).rpartition("@")[0] if "@" in address else ""
        local = local.split("+", 1)[0].rstrip("0123456789")
        if "gmail.com" in address:     # Gmail's folding drops the dots: read the address as given
            local = address.lower().rpartition("@")[0].split("+", 1)[0].rstrip("0123456789")
        tokens = [t for t in _LOCAL_SEPARATORS.split(local) if t.isalpha()]
        if len(tokens) == 2:
            first, second = tokens
            if len(second) == 1 and len(first) > 1:
                first, second = second, first          # lopez.m: family first
            if len(second) > 1:
                return Name(first, (), second, second)
        elif len(tokens) == 1 and tokens[0][1:] in families and len(tokens[0]) >= 4:
            # mlopez: an initial and a family name is the commonest one-word form
            return Name(tokens[0][0], (), tokens[0][1:], tokens[0][1:])
        elif len(tokens) == 1 and tokens[0][:-1] in families and len(tokens[0]) >= 4:
            # lopezm: the family name and then the initial
            return Name(tokens[0][-1], (), tokens[0][:-1], tokens[0][:-1])
        elif len(tokens) == 1:
            word = tokens[0]
            for i in range(2, len(word) - 1):
                if word[:i] in givens and word[i:] in families:
                    return Name(word[:i], (), word[i:], word[i:])
    return None


def _name_from_profile(p: _Prepared) -> Name | None:
    """The name a LinkedIn profile's address spells in the form LinkedIn gives it, first-last
    and a suffix with digits that tells namesakes apart (linkedin.com/in/eleanor-russo-1bcdc5b:
    Eleanor Russo); None for any other form (a handle chosen by its holder: erusso, ellie-r)."""
    for kind, value in p.handles:
        host, _, slug = value.partition("/in/")
        if kind != "profile" or not host.endswith("linkedin.com") or not slug:
            continue
        tokens = [fold(t) for t in slug.split("-")]
        if len(tokens) == 3 and any(c.isdigit() for c in tokens[2]):
            tokens = tokens[:2]
        if len(tokens) == 2 and all(len(t) > 1 and t.isalpha() for t in tokens):
            return Name(tokens[0], (), tokens[1], tokens[1])
    return None


def _model_pairs(prepared: dict[str, _Prepared], clusters: _Clusters,
                 owner_keys: frozenset[str], model: Model | None, stats: "NameStats",
                 population: "Population | None" = None
                 ) -> tuple[list[ScoredPair], int, Model | None, "SourcePriors | None",
                            tuple[list, float] | None]:
    """Pairs the match model scored among `prepared` (sized and weighed among all records:
    `population`, when `prepared` are some of them), best first, each under the prior of its
    two sources and with an exact full name and an agreeing employer weighed by their own
    commonness (see `_weigh_commonness`); the number of dropped blocking keys; the model used
    (trained here when none was given); the priors."""
    table, dropped = _features(prepared, clusters, owner_keys, population)
    if table.num_rows < 2:
        return [], dropped, model, None, None
    n_records = (population.n_records if population else len(prepared)) - len(owner_keys)
    # Splink's working tables stay out of the user's warehouse, in a database of their own held
    # to the build's memory limit (DuckDB's default is 80% of RAM), spilling to a folder of its own
    with tempfile.TemporaryDirectory(prefix="kith-identity-") as spill:
        con = duckdb.connect(config={"memory_limit": BUILD_MEMORY_LIMIT, "temp_directory": spill})
        try:
            if model is None:
                model = train(con, table, table.num_rows)
            named, by_name = (population.named, population.by_name) if population \
                else _full_names(prepared)
            priors = SourcePriors.estimate(named, by_name, stats, model, n_records)
            pairs, kept = _scored_pairs(con, table, model, priors.highest,
                                        population.pairs if population else None,
                                        population is None)
        finally:
            con.close()
    highest = log_odds(priors.highest)
    for pair in pairs:
        a, b = prepared[pair.a], prepared[pair.b]
        prior = log_odds(priors.of(a.record.source, b.record.source))
        pair.weight += prior - highest
        # The weights in words add up to the probability: the prior is the first of them.
        pair.levels["prior"] = ("odds before comparing, for records of these two sources"
                                if a.record.source != b.record.source
                                else "odds before comparing, for two records of one source", prior)
        if model.trained:
            _weigh_commonness(pair, a, b, stats, model)
        pair.probability = 1.0 / (1.0 + 2.0 ** -pair.weight)
    pairs.sort(key=lambda s: (-s.probability, s.a, s.b))
    return pairs, dropped, model, priors, kept


def _scored_pairs(con: duckdb.DuckDBPyConnection, table: pa.Table, model: Model, prior: float,
                  kept: KeptPairs | None, everyone: bool
                  ) -> tuple[list[ScoredPair], tuple[list, float] | None]:
    """The pairs of `table` that PREDICT_FLOOR keeps under `prior`: those of the records to
    score again scored now and the others as kept (`kept`), or all scored now; and the pairs
    scored now to keep, with the evidence they reach (None: the kept pairs no longer serve)."""
    floor, prior_weight = log_odds(PREDICT_FLOOR), log_odds(prior)
    needed = floor - prior_weight           # the evidence a pair needs under this prior
    if kept is not None and needed >= kept.floor:
        fresh = predict(con, table, model, prior=prior, below=needed - kept.floor,
                        one_of="k_rescore")
        pairs = [p for p in fresh if p.weight >= floor]
        for a, b, evidence, levels in kept.rows:
            pair = scored(a, b, prior_weight, dict(levels), evidence)
            if pair.weight >= floor:
                pairs.append(pair)
        return pairs, (_as_kept(fresh), kept.floor)
    fresh = predict(con, table, model, prior=prior, below=PAIRS_MARGIN if everyone else 0.0)
    pairs = [p for p in fresh if p.weight >= floor]
    return pairs, (_as_kept(fresh), needed - PAIRS_MARGIN) if everyone else None


def _as_kept(pairs: list[ScoredPair]) -> list[tuple[str, str, float, dict]]:
    """KeptPairs.rows of pairs as scored (before the resolver weighs their levels)."""
    return [(p.a, p.b, p.evidence, dict(p.levels)) for p in pairs]


@dataclass
class SourcePriors:
    """The prior of the match model, the chance that two records are one person before any field
    is compared, for each pair of sources, estimated from the data rather than set by hand.

    Two records of one list with one row per person (a LinkedIn export) are almost never one
    person, while a phone-book entry is quite likely to have a LinkedIn connection of its own: one
    prior for all pairs of records would be far too high for the first and far too low for the
    second. So, per pair of sources s and t: of the pairs of their records that carry the same
    full name, some are one person and some are two people sharing a name by chance; the second
    are expected at (records of s) x (records of t) x (how common the name is among distinct
    people, see NameStats.name_share), the rest are one person, and divided by the share of one
    person's record pairs that carry the same full name (the model's m of that level) they
    estimate how many pairs of the two sources are one person. One such pair is added to every
    source pair (at the overall rate) so that none is certain to hold none and small sources stay
    near the overall rate. Below MIN_TRAINING_RECORDS records with
    full names there is too little to count, and every pair takes the model's starting prior.
    The records counted per name also tell which sources hold one person several times
    (`duplicated`: a list keyed in twice, not a LinkedIn export; see `_duplicated`), where the
    rivals guard in `decide` does not apply."""
    pairs: dict[tuple[str, str], float]
    default: float
    estimated: bool
    duplicated: frozenset[str] = frozenset()     # sources that hold one person several times

    @property
    def note(self) -> str:
        """What `kith rebuild` says about the priors."""
        if self.estimated:
            return (f"the chance that two records are one person estimated for each of "
                    f"{len(self.pairs):,} pairs of sources from the full names they share")
        return (f"too few records with full names (under {MIN_TRAINING_RECORDS:,}) to estimate the "
                "chance that two records are one person per pair of sources: "
                "kith's starting prior is used")

    @property
    def kind(self) -> str:
        """What decides who links beyond the numbers: estimated or kith's starting prior, and
        which sources hold duplicates (the rivals guard). An incremental resolution is only as
        good as a full one while this stays the same."""
        if not self.estimated:
            return "starting"
        return "estimated; duplicates in: " + ", ".join(sorted(self.duplicated))

    @property
    def highest(self) -> float:
        return max([self.default, *self.pairs.values()])

    def of(self, s: str, t: str) -> float:
        return self.pairs.get((s, t) if s <= t else (t, s), self.default)

    @classmethod
    def estimate(cls, named: Counter, by_name: dict[tuple[str, str], Counter],
                 stats: "NameStats", model: Model, n_records: int) -> "SourcePriors":
        """From the records with a full name counted per source (`named`) and per name and
        source (`by_name`, see `_full_names`)."""
        default = prior_for(n_records)
        m_exact = model.m("name", "full name exact")
        if sum(named.values()) < MIN_TRAINING_RECORDS or stats.n < MIN_TRAINING_RECORDS // 2 \
                or not m_exact:
            return cls({}, default, False)
        observed, shared = Counter(), Counter()
        for key, per_source in by_name.items():
            share = stats.name_share(key)
            for s, n_s in per_source.items():
                # the namesakes one record of s expects in another source: its name's share
                # of that source's records (summed over s's records first: the same for each t)
                shared[s] += n_s * share
                for t, n_t in per_source.items():
                    if s < t:
                        observed[(s, t)] += n_s * n_t
                    elif s == t:
                        observed[(s, s)] += n_s * (n_s - 1) // 2
        expected = Counter()
        for s, n_shared in shared.items():
            for t, total in named.items():
                if s < t or s == t:
                    expected[(s, t)] += n_shared * (total if s != t else (total - 1) / 2)
        priors, ones, all_pairs = {}, Counter(), Counter()
        sources = sorted(named)
        for i, s in enumerate(sources):
            for t in sources[i:]:
                n_pairs = named[s] * named[t] if s != t else named[s] * (named[s] - 1) / 2
                if n_pairs < 1:
                    continue
                ones[(s, t)] = max(observed[(s, t)] - expected[(s, t)], 0.0) / m_exact
                all_pairs[(s, t)] = n_pairs
        overall = min((sum(ones.values()) + 1.0) / (sum(all_pairs.values()) + 1.0), 0.5)
        for key, n_pairs in all_pairs.items():
            # Shrunk towards the overall rate by one pair's worth of it: a pair of small sources
            # (a dozen conference cards, thirty LinkedIn chats) says little on its own.
            priors[key] = min((ones[key] + 1.0) / (n_pairs + 1.0 / overall), 0.5)
        duplicated = _duplicated(by_name)
        return cls(priors, overall, True, duplicated)


def _duplicated(by_name: dict[tuple[str, str], Counter]) -> frozenset[str]:
    """The sources that hold one person several times (a list keyed in twice in places), from
    the records counted per full name and source (`_full_names`).

    Two records of one source with one full name are one person twice, or namesakes. Given and
    family names go together by culture (Maria Garcia, Wei Zhang), so how often two people of one
    family name share the given name too is measured, not taken from the names' shares among
    everyone: on the pairs within each OTHER source, which duplicates inside this one cannot
    inflate (duplicates elsewhere raise it: the safe side, fewer sources flagged). A source holds
    duplicates when its same-name pairs exceed that share of its same-family pairs by three
    standard deviations (of the count, where n people of one name make n(n-1)/2 pairs at once,
    and of the share, which a small other source gives loosely), plus one pair. With nothing to
    measure on (one source alone, as FEBRL3; or no other holding two records of a family name)
    the share of the source's own pairs that share a given name stands in, as if given and family
    names were independent: its rows then meet mostly each other, and two rows of one source link
    only with a birthday or an address that agrees (`decide`), whatever the flag."""
    same_name, spread = Counter(), Counter()
    families: dict[str, Counter] = defaultdict(Counter)
    givens: dict[str, Counter] = defaultdict(Counter)
    for (given, family), per_source in by_name.items():
        for s, n in per_source.items():
            pairs = n * (n - 1) // 2
            same_name[s] += pairs
            # the count's variance, n people of a name (a Poisson number) making n(n-1)/2 pairs
            spread[s] += pairs * (2 * n - 3)
            families[s][family] += n
            givens[s][given] += n
    same_family = Counter({s: sum(n * (n - 1) // 2 for n in counts.values())
                           for s, counts in families.items()})
    all_name, all_spread, all_family = (sum(c.values()) for c in (same_name, spread, same_family))
    duplicated = set()
    for s in families:
        ref_name, ref_family = all_name - same_name[s], all_family - same_family[s]
        if ref_family:
            # one pair added to each count, so that the share is never certain to be zero
            expected = same_family[s] * (ref_name + 1) / (ref_family + 1)
            ref_spread = (all_spread - spread[s] + 1) / (ref_name + 1) ** 2
        else:
            n = sum(families[s].values())
            same_given = sum(k * (k - 1) // 2 for k in givens[s].values())
            expected = same_family[s] * same_given / max(n * (n - 1) // 2, 1)
            ref_spread = 0.0
        sd = math.sqrt(max(spread[s], expected) + expected * expected * ref_spread)
        if same_name[s] > expected + 3.0 * sd + 1.0:
            duplicated.add(s)
    return frozenset(duplicated)


def _full_names(prepared: dict[str, _Prepared]) -> tuple[Counter, dict[tuple[str, str], Counter]]:
    """source -> records with a full name; (given, family) -> source -> records of that name."""
    named = Counter()
    by_name: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for p in prepared.values():
        if p.name is not None and p.name.is_full:
            named[p.record.source] += 1
            by_name[p.name.key][p.record.source] += 1
    return named, by_name


def _clusters_agree(a: str, b: str, prepared: dict[str, _Prepared], clusters: _Clusters,
                    linked_pairs: set[tuple[str, str]], misnamed: set[str] = frozenset()) -> bool:
    """A model link joins two whole clusters: refuse it when a record of one and a record of
    the other carry full names that clearly belong to different people, or different addresses
    on one work mail domain (two colleagues' mailboxes, or an alias the model did not link on its
    own), unless the model itself scored those two records as one person (guards against chains
    A~B~C; the pair being linked was scored by `decide`). A record the model linked although the
    names disagree (`misnamed`: a name keyed in wrongly, a first or family name replaced, where
    everything else agreed) is excused when another record of its cluster carries a name that
    fits: its own name is not what its cluster is known by. So is each record of the pair being
    linked, when their own names disagree: the other record's name is then what it is known by
    (Anthony Goode born and living where Spyke Karlsen does joins Spyke's other records, also the
    one with a birthday keyed in wrongly that the model did not link him to)."""
    ra, rb = clusters.find(a), clusters.find(b)
    if _other_profiles(_cluster_profiles(ra, prepared, clusters),
                       _cluster_profiles(rb, prepared, clusters)):
        return False
    names_a = _cluster_names(ra, prepared, clusters)
    names_b = _cluster_names(rb, prepared, clusters)
    for x in clusters.members[ra]:
        for y in clusters.members[rb]:
            if (_other_mailboxes(prepared[x], prepared[y]) and {x, y} != {a, b}
                    and (x, y) not in linked_pairs and (y, x) not in linked_pairs):
                return False
    bridge = {} if _names_agree(prepared[a], prepared[b]) else {
        a: _cluster_names(rb, prepared, clusters, only=b),
        b: _cluster_names(ra, prepared, clusters, only=a)}

    def excused(x: str, y: str, own: list[tuple[str, Name]], name_y: Name) -> bool:
        # x's own name is not what its person is known by: another name there fits y
        return (x in misnamed or x in bridge) and any(
            compatible(n, name_y) for z, n in own + bridge.get(x, []) if z not in (x, y))
    for x, name_x in names_a:
        for y, name_y in names_b:
            if (not compatible(name_x, name_y) and {x, y} != {a, b}
                    and (x, y) not in linked_pairs and (y, x) not in linked_pairs
                    and not excused(x, y, names_a, name_y)
                    and not excused(y, x, names_b, name_x)):
                return False
    return True


def _cluster_profiles(root: str, prepared: dict[str, _Prepared], clusters: _Clusters
                      ) -> dict[str, set[str]]:
    """The profile URLs a cluster's records hold, by the service they are on (LinkedIn, X...;
    a personal website is on no service)."""
    out: dict[str, set[str]] = defaultdict(set)
    for key in clusters.members[root]:
        for kind, value in prepared[key].handles:
            service = profile_service(value) if kind == "profile" else None
            if service is not None:
                out[service].add(value)
    return out


def _other_profiles(x: dict[str, set[str]], y: dict[str, set[str]]) -> bool:
    """Whether two people hold profiles on one service and none in common there: two
    accounts (Helga Park and Helga Parker on LinkedIn), the model's link is only a candidate
    (one person's old and new handle is rarer than two people of one name)."""
    return any(service in y and not urls & y[service] for service, urls in x.items())


def _other_mailboxes(x: _Prepared, y: _Prepared) -> bool:
    """Whether two records hold addresses on one work mail domain but none in common (see
    model.DIFFERENT_MAILBOXES)."""
    return (bool(set(x.mailbox_domains) & set(y.mailbox_domains))
            and not set(x.mailboxes) & set(y.mailboxes))


def _names_agree(a: _Prepared, b: _Prepared) -> bool:
    """Whether two records' own full names are one person's, first and family name alike
    (also read the other way round): Kyra Everett and Kyra Wilde may be one person's records
    (names.compatible), but one of them was linked on other evidence than its name."""
    x, y = a.name, b.name
    if x is None or y is None or not (x.is_full and y.is_full):
        return True
    return any(given_level(x.given, z.given) is not None and family_level(x, z) is not None
               for z in (y, swapped(y)) if z is not None)


def _cluster_names(root: str, prepared: dict[str, _Prepared], clusters: _Clusters,
                   only: str | None = None) -> list[tuple[str, Name]]:
    """The full names its records carry (of record `only` alone, when given), where they are
    the person's own."""
    return [(k, prepared[k].name) for k in ([only] if only else clusters.members[root])
            if prepared[k].record.names_reliable and prepared[k].name is not None
            and prepared[k].name.is_full]
