"""Organisations as evidence: "Acme Corp." on a card, "ACME Inc" on LinkedIn and @acme.com mail
are one employer. Free-mail domains (gmail.com, ...) say nothing about an employer."""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz import fuzz

from kith.names import fold

# Legal forms and filler words that vary between sources for the same organisation.
_ORG_NOISE = frozenset("""
    inc incorporated corp corporation co company llc llp lp ltd limited plc gmbh mbh ag kg ohg
    se sa sas sarl srl spa bv nv ab as asa oy oyj aps pty pte kk kabushiki kaisha group holding
    holdings the and of und et
""".split())

FREE_MAIL_DOMAINS = frozenset("""
    gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.fr yahoo.de ymail.com rocketmail.com
    hotmail.com hotmail.co.uk hotmail.fr hotmail.de outlook.com outlook.de live.com live.co.uk
    msn.com icloud.com me.com mac.com aol.com gmx.de gmx.net gmx.com gmx.at gmx.ch web.de
    proton.me protonmail.com pm.me yandex.ru yandex.com mail.ru bk.ru inbox.ru qq.com 163.com
    126.com sina.com naver.com daum.net hanmail.net zoho.com fastmail.com fastmail.fm hey.com
    comcast.net verizon.net att.net sbcglobal.net cox.net charter.net t-online.de freenet.de
    orange.fr free.fr laposte.net wanadoo.fr sfr.fr libero.it virgilio.it tiscali.it
    btinternet.com sky.com ntlworld.com bigpond.com optusnet.com.au shaw.ca rogers.com
    sympatico.ca seznam.cz wp.pl o2.pl onet.pl interia.pl tutanota.com mailbox.org posteo.de
""".split())

# Second-level labels under which registrable names sit (acme.co.uk -> acme).
_SECOND_LEVEL = frozenset("co com net org ac gov edu ne or go".split())


@lru_cache(maxsize=100_000)
def org_key(org: str | None) -> str:
    """An organisation name without legal form or punctuation: 'Acme Corp.' -> 'acme'."""
    tokens = [t for t in fold(org).split() if t not in _ORG_NOISE]
    return " ".join(tokens)


@lru_cache(maxsize=200_000)
def org_level(a: str | None, b: str | None) -> str | None:
    """How two organisation names agree: 'same' (Acme Corp. / ACME Inc, or a typo), 'partial'
    (one name inside the other: Northwind / Northwind Logistics), else None."""
    ka, kb = org_key(a), org_key(b)
    if not ka or not kb:
        return None
    if ka.replace(" ", "") == kb.replace(" ", ""):
        return "same"
    if min(len(ka), len(kb)) >= 5 and fuzz.ratio(ka, kb) >= 92:
        return "same"
    ta, tb = ka.split(), kb.split()
    shorter, longer = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    if longer[:len(shorter)] == shorter and len("".join(shorter)) >= 4:
        return "partial"
    return None


def same_org(a: str | None, b: str | None) -> bool:
    return org_level(a, b) == "same"


# Mail providers that serve anyone under many country endings (outlook.fr, yahoo.co.jp,
# gmx.at): their name as a domain's registrable name is free mail whatever the ending.
FREE_MAIL_PROVIDERS = frozenset("""
    gmail googlemail yahoo ymail hotmail outlook live msn aol icloud gmx yandex proton
    protonmail tutanota posteo fastmail zoho
""".split())


@lru_cache(maxsize=100_000)
def is_free_mail(domain: str) -> bool:
    """A mail domain anyone can have an address on (gmail.com, outlook.fr): no employer."""
    return domain in FREE_MAIL_DOMAINS or domain_label(domain) in FREE_MAIL_PROVIDERS


@lru_cache(maxsize=100_000)
def domain_label(domain: str) -> str:
    """The registrable name of a domain: mail.acme.com -> acme, acme.co.uk -> acme."""
    labels = domain.lower().split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else labels[0]


@lru_cache(maxsize=200_000)
def org_matches_domain(org: str | None, domain: str) -> bool:
    """True when an organisation's name is its mail domain: 'Acme Corp' and acme.com,
    'Blue Bottle Coffee' and bluebottlecoffee.com or bluebottle.com."""
    key = org_key(org)
    if not key or is_free_mail(domain):
        return False
    label = domain_label(domain).replace("-", "")
    if len(label) < 3:
        return False
    compact = key.replace(" ", "")
    first = key.split()[0]
    return label == compact or label == first or (len(label) >= 6 and compact.startswith(label))
