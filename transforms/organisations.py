"""Organisations: the names on people's cards and the domains of their work mail, resolved together.

"Acme Corp." on a card, "ACME Inc" on LinkedIn and @acme.com mail are one organisation.
`resolve_organisations`, run by every build after people are resolved, writes the lookup table
`organisation_handles` (one row per name as written, or mail domain, and the organisation it
belongs to) from `int_person_employers`; the models `int_organisation_members` and
`organisations` read it.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict

import duckdb
import pyarrow as pa

from kith.organisations import domain_label, is_free_mail, org_key, org_matches_domain, same_org


class _Groups:
    """Union-find over hashable nodes."""

    def __init__(self):
        self.parent: dict = {}

    def find(self, node):
        self.parent.setdefault(node, node)
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def union(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def group_organisations(people: list[tuple[str | None, list[str]]]) -> list[dict]:
    """Organisations from (organisation name, mail domains) of each person: one dict per
    organisation with its `key`, display `name`, the `names` as written and the mail `domains`.

    A name joins a domain when the name is the domain (kith.organisations.org_matches_domain)
    and no other organisation's name is (else only when one person has both); two names join when they are the same organisation (same_org: legal forms, typos). Free-mail
    domains are no organisation, nor is a domain whose people name two or more other employers
    on their cards and none this one (a mail provider kith does not know)."""
    names: Counter = Counter()
    domains: Counter = Counter()
    employers_by_domain: dict[str, set[str]] = defaultdict(set)
    worn: set[tuple[str, str]] = set()     # (name, domain) that one person has both of
    for org, person_domains in people:
        key = org_key(org) if org else ""
        if key:
            names[org.strip()] += 1
        for domain in person_domains or []:
            domain = domain.lower()
            if not domain or is_free_mail(domain):
                continue
            domains[domain] += 1
            if key:
                matches = org_matches_domain(org, domain)
                employers_by_domain[domain].add("=" if matches else key.replace(" ", ""))
                if matches:
                    worn.add((org.strip(), domain))
    providers = {d for d, employers in employers_by_domain.items()
                 if "=" not in employers and len(employers) >= 2}

    groups = _Groups()
    compact_of = {name: org_key(name).replace(" ", "") for name in names}
    by_compact: dict[str, list[str]] = defaultdict(list)
    by_first: dict[str, list[str]] = defaultdict(list)
    for name, compact in compact_of.items():
        by_compact[compact].append(name)
        by_first[org_key(name).split()[0]].append(name)
        groups.union(("name", compact), ("name", compact))
    # names that differ by a typo: compared within blocks of the same first three letters
    blocks: dict[str, list[str]] = defaultdict(list)
    for compact in by_compact:
        blocks[compact[:3]].append(compact)
    for block in blocks.values():
        for i, a in enumerate(block):
            for b in block[i + 1:]:
                if same_org(a, b):
                    groups.union(("name", a), ("name", b))
    sorted_compacts = sorted(by_compact)
    for domain in domains:
        if domain in providers:
            continue
        label = domain_label(domain).replace("-", "")
        groups.union(("domain", label), ("domain", label))
        candidates = set(by_compact.get(label, ())) | set(by_first.get(label, ()))
        start = bisect.bisect_left(sorted_compacts, label)
        for compact in sorted_compacts[start:]:
            if not compact.startswith(label):
                break
            candidates.update(by_compact[compact])
        matching = [name for name in candidates if org_matches_domain(name, domain)]
        # acme.example fits Acme Energy and Acme Design alike: then only the people who have
        # both the name and the domain join them
        ambiguous = len({groups.find(("name", compact_of[n])) for n in matching}) > 1
        for name in matching:
            if not ambiguous or (name, domain) in worn:
                groups.union(("domain", label), ("name", compact_of[name]))

    members: dict = defaultdict(lambda: {"names": Counter(), "domains": Counter()})
    for name, n in names.items():
        members[groups.find(("name", compact_of[name]))]["names"][name] += n
    for domain, n in domains.items():
        if domain not in providers:
            label = domain_label(domain).replace("-", "")
            members[groups.find(("domain", label))]["domains"][domain] += n
    result = []
    taken = Counter(root[1] for root in members)
    for root, found in members.items():
        ranked_names = sorted(found["names"].items(), key=lambda kv: (-kv[1], kv[0]))
        ranked_domains = sorted(found["domains"].items(), key=lambda kv: (-kv[1], kv[0]))
        result.append({
            # a name and a domain that were not joined may still share a key (a 2-letter label)
            "key": root[1] if taken[root[1]] == 1 else f"{root[1]} ({root[0]})",
            "name": ranked_names[0][0] if ranked_names else ranked_domains[0][0],
            "names": [n for n, _ in ranked_names],
            "domains": [d for d, _ in ranked_domains],
        })
    return result


def resolve_organisations(con: duckdb.DuckDBPyConnection) -> int:
    """Rewrite `organisation_handles` from the people as resolved now (`int_person_employers`);
    return how many
    organisations there are. Runs in the caller's transaction, after people are resolved."""
    people: dict[int, tuple[str | None, list[str]]] = defaultdict(lambda: (None, []))
    for person_id, kind, handle in con.execute(
            "select person_id, kind, handle from int_person_employers order by all").fetchall():
        org, domains = people[person_id]
        people[person_id] = (handle, domains) if kind == "name" else (org, domains + [handle])
    organisations = group_organisations(list(people.values()))
    rows = []
    for org in organisations:
        rows += [("name", n, org["key"], org["name"]) for n in org["names"]]
        rows += [("domain", d, org["key"], org["name"]) for d in org["domains"]]
    con.execute("delete from organisation_handles")
    if rows:
        handles = pa.table(list(zip(*rows)), names=["kind", "handle", "organisation_key",
                                                    "organisation"])
        con.register("_organisation_handles", handles)
        con.execute("insert into organisation_handles select * from _organisation_handles")
        con.unregister("_organisation_handles")
    return len(organisations)
