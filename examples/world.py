#!/usr/bin/env python3
"""A seeded demo world: the export files one person would have, and the truth behind them.

    python examples/world.py OUT_DIR [--seed 7] [--today YYYY-MM-DD] [--connections 2300]

writes, under OUT_DIR:

- `linkedin/Connections.csv`, `linkedin/messages.csv`, `linkedin/Invitations.csv`: a LinkedIn
  export (2024 layout, `Notes:` preamble, most connections without an e-mail);
- `cards/<event>.vcf`: business cards from a chamber mixer and from a conference two months
  earlier (vCard 3.0);
- `phone/contacts.vcf`: a phone address book (Apple-style vCard 3.0);
- `mail/mail.mbox`: two years of mail headers (a one-line body each);
- `calendar/calendar.ics`: meetings with attendees, recurring 1:1s, team meetings, all-hands;
- `whatsapp/WhatsApp Chat - <name>.txt`: iOS WhatsApp exports (US layout) of one-to-one chats
  and a group with friends who are close only through chat (`circle` `chat friend`: in the
  phone book, never in mail, LinkedIn or the calendar), named as the phone book names them;
- `telegram/result.json`: a Telegram Desktop account export with two more of them, under the
  names they gave themselves;
- `kith.toml`: a kith configuration that syncs all of the above into `OUT_DIR/world.duckdb`;
- `truth.json`: what kith never sees: one entry per person (and per role address, shared phone
  line, room and automated sender), with every identifier the files hold for them.

The same seed and `today` give the same bytes. Standard library only.

**Tiers** (`truth.json`, `tier`) describe the owner's real one-to-one or small-group contact:
mail both ways, LinkedIn messages both ways, chat messages both ways, meetings of at most eight
people that took place.
Newsletters, notifications, auto-replies, pending invitations and 200-person all-hands do not
count. Relative to `today`:

- `inner_circle`: two-way for most of the two years, every week or two, and still now;
- `active`: two-way within the last 90 days;
- `cooling`: two-way for a while, nothing for the last 4 to 12 months;
- `dormant`: two-way only more than 13 months ago;
- `unanswered`: the owner wrote, they never answered (an out-of-office reply is no answer);
- `inbound_only`: they wrote (recruiters, vendors), the owner never answered;
- `list_only`: a LinkedIn connection, a card or a phone-book entry, nothing more;
- `owner`; `automated` (newsletters, notifications, bounces); `role` (a role address such as
  info@, a shared landline or switchboard number, a meeting room: `used_by` names the people whose
  cards show it).

Every e-mail address, phone number, LinkedIn profile URL and vCard UID that appears in any file
belongs to exactly one truth entry. Each entry: `truth_id`, `name`, `tier`, `kind` (person,
owner, business, role, automated), `circle` (colleague, external, friend, family, card, linkedin,
recruiter, vendor, prospect...), `emails` (lower-cased, every spelling written), `phones`
(E.164), `linkedin_url` (as written), `card_uids`, `sources` (files, relative to OUT_DIR),
`names_seen` (every spelling of their name in the files), `org` and `org_domain` (their
employer and its mail domain), `used_by` (for a shared identifier: who shows it), `knows`
(who they know: people on a group thread or in a small meeting together, and people at
companies the owner reaches only through someone who works with them, circle `introduced`),
`n_sent` / `n_received` (mail, LinkedIn and chat messages from / to the owner), `n_meetings` (small
meetings held), `first_interaction_at`, `last_interaction_at`, `last_sent_at`,
`last_received_at` (UTC), `notes` on what makes them hard to match, and `quirks`: each of
those that a matcher must see through, with the identifiers it concerns (see `Writer.quirks`).

**Quirks**, at rates like real address books', each recorded in `quirks`:
- an address with no name anywhere (their client sets none, the owner's address book has none,
  the calendar shows the address): only the local part spells the name (maria.lopez@,
  mlopez@, lopez.m@, maria@), for about 7% of the people known only by mail;
- a job change: mail from the old employer's domain, LinkedIn (and later cards or mail) at
  the new one; some moved after the last mail, so every mail is from the old domain;
- a nickname in mail and the given name with a middle initial on LinkedIn and cards ("Bob
  Miller" / "Robert J. Miller"), besides nicknames and middle names anywhere;
- diacritics dropped in one source (José / Jose in mail or on the phone, Müller / Mueller /
  Muller in names and addresses), kept on LinkedIn;
- Gmail dots and +tags: one mailbox written several ways;
- organisations whose mail domain does not spell their name (initials, a former brand, the
  words reordered), for about 12% of companies;
- two different people of one common name at one employer, both on LinkedIn (`with`);
- a family landline on two people's phone-book cards, one card showing nothing else (`with`);
- plus three John Smiths and two Maria Garcias at different places, a maiden name on LinkedIn,
  typos on phone-book cards, shared role addresses (info@, sales@) and a switchboard number.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import sys
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path
from zoneinfo import ZoneInfo

OWNER_TZ = "America/New_York"
UTC = timezone.utc

# ---------------------------------------------------------------------------------------------
# Names, companies and words

# Formal given names and what their owners are called by friends.
NICKNAMES = {
    "Robert": ["Bob", "Rob", "Bobby"], "Elizabeth": ["Liz", "Beth", "Lizzie"],
    "William": ["Bill", "Will"], "Katherine": ["Kate", "Katie", "Kathy"],
    "James": ["Jim", "Jamie"], "Michael": ["Mike"], "Jennifer": ["Jen", "Jenny"],
    "Margaret": ["Maggie", "Peggy"], "Richard": ["Rick", "Rich"], "Thomas": ["Tom", "Tommy"],
    "Christopher": ["Chris"], "Daniel": ["Dan", "Danny"], "Joseph": ["Joe"],
    "Patricia": ["Pat", "Trish"], "Alexander": ["Alex", "Sasha"], "Samuel": ["Sam"],
    "Benjamin": ["Ben"], "Jonathan": ["Jon"], "Nicholas": ["Nick"], "Anthony": ["Tony"],
    "Edward": ["Ed", "Ted"], "Victoria": ["Vicky", "Tori"], "Rebecca": ["Becky", "Becca"],
    "Susan": ["Sue"], "Deborah": ["Deb", "Debbie"], "Matthew": ["Matt"], "Andrew": ["Andy", "Drew"],
    "Catherine": ["Cathy", "Cat"], "Gregory": ["Greg"], "Timothy": ["Tim"], "Kimberly": ["Kim"],
    "Abigail": ["Abby"], "Jessica": ["Jess"], "Stephen": ["Steve"], "Peter": ["Pete"],
    "Charles": ["Charlie", "Chuck"], "David": ["Dave"], "Zachary": ["Zach"], "Joshua": ["Josh"],
    "Nathaniel": ["Nate", "Nat"], "Frederick": ["Fred"], "Lawrence": ["Larry"],
    "Raymond": ["Ray"], "Douglas": ["Doug"], "Kenneth": ["Ken", "Kenny"], "Donald": ["Don"],
    "Philip": ["Phil"], "Vincent": ["Vince"], "Eleanor": ["Ellie", "Nora"],
    "Dorothy": ["Dot", "Dottie"], "Theresa": ["Terry", "Tess"], "Cynthia": ["Cindy"],
    "Pamela": ["Pam"], "Christine": ["Chris", "Tina"], "Alexandra": ["Alex", "Lexi"],
    "Gabrielle": ["Gabby"], "Josephine": ["Jo", "Josie"], "Samantha": ["Sam"],
    "Allison": ["Ally"], "Amanda": ["Mandy"], "Jeffrey": ["Jeff"], "Kathleen": ["Kathy"],
    "Barbara": ["Barb"], "Francisco": ["Paco"], "Guillermo": ["Memo"], "Alejandro": ["Alex"],
    "Theodore": ["Theo", "Ted"], "Stephanie": ["Steph"], "Gerald": ["Jerry"],
    "Ronald": ["Ron"], "Susannah": ["Suzy"], "Mohammed": ["Mo"], "Giuseppe": ["Beppe"],
}

GIVEN = """Aaliyah Aarav Abdullah Ada Adaeze Adebayo Adriana Ahmed Aiko Aisha Akira Alice Amara
Amir Ana Andrea Andrés Anika Anjali Anna Antoine Arjun Astrid Aurora Ayesha Beatriz Benedikt
Bianca Björn Camila Carlos Carmen Chen Chiara Chidi Chloé Dalia Daniela Darius Deepak Diego
Dmitri Elena Elif Emeka Emil Emma Esther Fatima Felipe Fernanda Fiona Florian François Gabriel
Giulia Hana Hannah Hiroshi Ibrahim Inês Ingrid Isabel Ivan Jamal Javier Jin Joon José Juan Julia
Kai Kenji Kiran Lars Leila Lena Liam Lucía Luis Maëlle Malik Marco Mariam Marta Mateo Mei Mia
Nadia Naomi Nikhil Nina Noah Nomvula Olga Omar Oskar Pablo Priya Rafael Rahul Ravi Renée Rosa
Sakura Samir Sanjay Sara Sebastian Sofia Søren Tariq Thandiwe Tomás Uma Valentina Victor Wei
Xavier Yara Yasmin Yuki Yusuf Zainab Zoë Ahmad Akosua Alina Anders Aylin Bao Chinedu Dario Elsa
Farah Hamza Helga Hyun Imani Jana Kofi Laila Leon Magnus Malia Nour Obinna Petra Quentin Reza
Rina Selin Tatiana Tobias Vikram Wanjiru Ximena Yosef Zara Amelia Grace Olivia Lucas Ethan Chloe
Ava Isaac Leah Ruth Simon Paul Mark Laura Claire Sophie Helen Julian Adrian Maya Ellen
Owen""".split()

FAMILY = """Müller García Núñez Ødegaard Kowalski Nowak Wiśniewski O'Brien Nguyen Tran Le Pham Kim
Park Lee Choi Wang Li Zhang Liu Chen Yang Huang Singh Patel Sharma Gupta Iyer Reddy Okafor
Adeyemi Mensah Osei Abubakar Haddad Khalil Nasser Cohen Levi Friedman Schmidt Schneider Fischer
Weber Becker Hoffmann Schäfer Krüger Jäger Rossi Russo Ferrari Esposito Bianchi Romano Dubois
Laurent Lefèvre Moreau Fournier Girard Bonnet Martínez Rodríguez González Hernández López Pérez
Sánchez Ramírez Torres Flores Gómez Díaz Reyes Morales Ortiz Gutiérrez Castillo Jiménez Silva
Santos Oliveira Souza Costa Pereira Almeida Carvalho Sato Suzuki Takahashi Tanaka Watanabe Ito
Yamamoto Nakamura Kobayashi Andersson Johansson Karlsson Nilsson Eriksson Larsen Jensen Nielsen
Hansen Virtanen Korhonen Novák Dvořák Horváth Nagy Yılmaz Kaya Demir Çelik Şahin Johnson
Williams Brown Jones Miller Davis Wilson Anderson Taylor Moore Jackson Martin Thompson White
Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Green Baker Adams Nelson Hill
Campbell Mitchell Roberts Carter Phillips Evans Turner Parker Collins Edwards Stewart Murphy Cook
Rogers Cooper Peterson Reed Bailey Bell Kelly Howard Ward Cox Richardson Wood Watson Brooks
Bennett Gray Hughes Price Sanders Myers Long Ross Foster Powell Jenkins Perry Russell Sullivan
Fisher Henderson Coleman Simmons Patterson Reynolds Hamilton Graham Wallace Woods Cole West Owens
Marshall Ellis Stevens Gibson McDonald MacLeod O'Connor Kennedy Wells Hunt Black Daniels Palmer
Mills Nichols Grant Knight Ferguson Stone Hawkins Dunn Perkins Hudson Spencer Gardner Payne
Pierce Berry Matthews Arnold Wagner Willis Watkins Olson Carroll Duncan Snyder Hart Cunningham
Bradley Lane Andrews Ruiz Harper Fox Riley Armstrong Carpenter Weaver Greene Elliott Chavez Sims
Austin Peters Franklin Lawson Fields Ryan Achebe Bose Mukherjee Desai Chatterjee Qureshi Rahman
Hosseini Karimi Sokolov Ivanova Petrov Kuznetsov Popescu Ionescu Papadopoulos Georgiou Murray
Quinn Byrne Walsh Doyle Lynch Fitzgerald Okonkwo Eze Boateng Owusu Kamau Wanjiku Mwangi Dlamini
Ndlovu Ferreira Rocha Mendes Lima Vargas Castro Herrera Medina Aguilar Vega Romero Suárez""".split()

# Family names kept whole in compound spellings (van der Berg) are added here.
FAMILY += ["van der Berg", "De la Cruz", "St. John"]

COMPANY_WORDS = """Blue Fir,Copperleaf,Northwind,Bayview,Redwood,Silver Lake,Ironbridge,Lumen,
Granite,Cedar Point,Oakhurst,Pinnacle,Summit,Meridian,Beacon,Keystone,Evergreen,Riverside,
Sterling,Falcon,Orchid,Quarry,Lantern,Aster,Birch,Cobalt,Delta,Ember,Fjord,Glacier,Helix,Indigo,
Juniper,Kestrel,Larch,Maple,Nimbus,Onyx,Prairie,Quill,Rook,Sable,Tidewater,Umber,Vantage,Willow,
Yarrow,Zephyr,Alder,Brookfield,Crescent,Driftwood,Foxglove,Greystone,Hollow Oak,Ivory,Jetty,
Kinfolk,Lighthouse,Mosaic,Nettle,Orbit,Pebble,Quartz,Ridgeline,Saltmarsh,Thistle,Upland,Verdant,
Wavecrest,Boxwood,Clearwater,Dovetail,Eastgate,Firebrick,Goldfinch,Heron,Isleworth""".replace(
    "\n", "").split(",")
COMPANY_KINDS = ["Logistics", "Health", "Capital", "Software", "Labs", "Partners", "Systems",
                 "Studio", "Group", "Analytics", "Consulting", "Robotics", "Foods", "Energy",
                 "Bank", "Insurance", "Media", "Design", "Ventures", "Pharma", "Learning",
                 "Security", "Data", "Cloud", "Retail", "Mobility", "Bio", "Legal"]
LEGAL_SUFFIXES = ["", "", "", "", " Inc.", " LLC", ", Inc.", " Ltd", " GmbH", " Co."]
EMAIL_PATTERNS = ["{f}.{l}", "{f}.{l}", "{f}{l}", "{fi}{l}", "{f}", "{f}_{l}", "{fi}.{l}",
                  "{l}.{fi}", "{l}{fi}"]
# Common names that two people at one employer can both have.
COMMON_NAMES = [("David", "Kim"), ("Wei", "Chen"), ("Michael", "Brown"), ("Jennifer", "Lee"),
                ("Priya", "Patel"), ("Carlos", "Rodríguez"), ("Anna", "Nowak"),
                ("James", "Smith"), ("Mohammed", "Khan"), ("Sarah", "Johnson")]

TITLES = """Software Engineer,Senior Software Engineer,Staff Engineer,Engineering Manager,
Product Manager,Senior Product Manager,Director of Product,VP Engineering,CTO,CEO,COO,CFO,
Data Scientist,Data Engineer,Analytics Lead,Head of Data,Account Executive,Account Manager,
Customer Success Manager,Solutions Architect,Sales Director,Head of Partnerships,
Marketing Manager,Growth Lead,UX Designer,Product Designer,Operations Manager,Founder,
Co-Founder,Managing Partner,Principal,Consultant,Senior Consultant,Business Analyst,
Project Manager,Program Manager,HR Business Partner,General Counsel,Research Scientist,
Professor,PhD Candidate,Investor,Board Member,Office Manager,Financial Analyst""".replace(
    "\n", "").split(",")
RECRUITER_TITLES = ["Technical Recruiter", "Senior Technical Recruiter", "Talent Partner",
                    "Talent Acquisition Specialist", "Executive Recruiter", "Head of Talent",
                    "Recruiting Lead", "Sourcer"]
VENDOR_TITLES = ["Account Executive", "Sales Development Representative", "Business Development",
                 "Enterprise Account Executive", "Partnerships Manager"]

WORK_THINGS = ["dashboard", "contract", "pilot", "data pipeline", "renewal", "budget", "roadmap",
               "onboarding", "SOW", "board deck", "pricing", "migration", "launch", "hiring plan",
               "Q3 numbers", "vendor review", "API access", "security review", "offsite",
               "forecast", "case study", "workshop"]
WORK_SUBJECTS = ["Quick question about the {t}", "Notes from today's call", "Draft {t}",
                 "{t}: next steps", "Re-scheduling our sync", "Following up on the {t}",
                 "Feedback on the {t}", "{t} timeline", "Can you take a look?", "FYI: {t}",
                 "Lunch next week?", "Thanks for today", "Updated {t} attached"]
PERSONAL_SUBJECTS = ["Dinner Saturday?", "Photos from the weekend", "Happy birthday!",
                     "Trip planning", "Book recommendation", "Are you around next week?",
                     "Carpool this week", "Holiday plans", "Hike on Sunday?", "Moving help",
                     "Recipe you asked for", "Game night", "Long time no see", "Wedding RSVP",
                     "Café on Elm Street?"]
GROUP_SUBJECTS = ["{t} kickoff", "Team update: {t}", "Planning the {t}", "{t} review",
                  "Offsite logistics", "Who's in for Friday?", "Reunion planning",
                  "Book club: next pick"]
BODIES = ["Sounds good, talk soon.", "Thanks! See you then.", "Attached is the latest version.",
          "Let me check and get back to you.", "Works for me.",
          "Great, thanks for the quick reply.",
          "Can we push this to next week?", "Looping back on this one.", "Love it!",
          "Here are my notes.", "Happy to help.", "Let's discuss on Thursday.",
          "Any update on this?", "Perfect.", "I'll send the details tomorrow."]
# (name, domain, every how many days)
NEWSLETTERS = [("The Weekly Ledger", "weeklyledger.example", 7),
               ("Data Engineering Digest", "dedigest.example", 7),
               ("Product Hunt Daily", "producthunt.example", 6),
               ("Chamber of Commerce News", "chamber.example", 30),
               ("Harbor Yoga", "harboryoga.example", 14),
               ("Morning Brew-ish", "morningbrewish.example", 4),
               ("Cloudco Product Updates", "cloudco.example", 30),
               ("City Library Events", "citylibrary.example", 30),
               ("Analytics Weekly", "analyticsweekly.test", 7),
               ("Alumni Association", "alumni.example", 30)]
NOTIFIERS = [("Jira", "jira@harborlight.example", 5), ("GitHub", "notifications@github.example", 4),
             ("Google Calendar", "calendar-notification@calendar.example", 9),
             ("First Harbor Bank", "noreply@firstharborbank.example", 30),
             ("Cloudco Billing", "billing-noreply@cloudco.example", 30),
             ("Shopwise", "no-reply@shopwise.example", 21),
             ("LinkedIn", "messages-noreply@linkedin.example", 5),
             ("Slack", "notification@slack.example", 7)]

US_AREAS = ["212", "646", "917", "718", "415", "650", "510", "312", "773", "617", "857", "202",
            "303", "512", "206", "213", "310", "404", "305", "503", "602", "612", "614", "713",
            "215", "412", "919", "704", "801", "702"]
PERSONAL_DOMAINS = ["mailbox.example", "posteo.example", "icloud.example", "proton.example",
                    "outlook.example", "yahoo.example", "fastpost.test"]


def fold_ascii(text: str, german: bool = False) -> str:
    """'José Müller' -> 'Jose Muller' ('Jose Mueller' with german=True)."""
    if german:
        for a, b in (("ü", "ue"), ("ö", "oe"), ("ä", "ae"), ("Ü", "Ue"), ("Ö", "Oe"),
                     ("Ä", "Ae")):
            text = text.replace(a, b)
    for a, b in (("ß", "ss"), ("ø", "o"), ("Ø", "O"), ("ł", "l"), ("Ł", "L"), ("æ", "ae"),
                 ("ı", "i"), ("đ", "d")):
        text = text.replace(a, b)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def local_word(text: str, german: bool = False) -> str:
    return re.sub(r"[^a-z0-9]", "", fold_ascii(text, german).lower())


def folded_email(address: str) -> str:
    """The most aggressive folding any matcher might do: lower case, no +tag, and for Gmail no
    dots. Two truth entries never share a folded form."""
    local, _, domain = address.lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


# ---------------------------------------------------------------------------------------------
# The people

@dataclass
class Company:
    name: str                 # as LinkedIn and cards show it
    domain: str
    pattern: str
    spells_domain: bool = True    # False: the domain is an acronym, an old brand, reordered


@dataclass(eq=False)
class Person:
    truth_id: str
    tier: str
    kind: str = "person"      # person | owner | business | automated | role
    circle: str = ""          # colleague | external | friend | family | recruiter | vendor ...
    given: str = ""           # formal given name
    family: str = ""
    middle: str = ""
    nickname: str = ""        # what they go by, when it differs from `given`
    family_title: str = ""    # Mom, Dad: the NICKNAME on the owner's card for them
    maiden: str = ""          # family name their LinkedIn profile still shows
    label: str = ""           # role / automated / business: the name shown
    company: Company | None = None
    title: str = ""
    old_company: Company | None = None    # before a job change
    old_title: str = ""
    changed_job_at: datetime | None = None
    tz: str = OWNER_TZ
    work_email: str = ""
    old_work_email: str = ""
    personal_email: str = ""
    gmail_variant: str = ""   # their Gmail address with dots: the same mailbox, also sent from
    gmail_tagged: str = ""    # with a +tag: the same mailbox, given out to sign up for things
    mobile: str = ""          # E.164
    mail_style: str = "plain"  # plain | last_first | bare | formal | nick
    ascii_mail: bool = False  # their mail client writes their name without diacritics
    nameless: bool = False    # every mail and invitation shows their address with no name
    nick_initial: bool = False  # the nickname in mail; given name + middle initial on LinkedIn
    namesake: str = ""        # truth id of another person of the same name at the same employer
    home_line: Person | None = None   # a family landline their card shares with others
    typo_in_phone: bool = False
    slug: str = ""            # LinkedIn profile
    li_first: str = ""        # the name their LinkedIn profile shows
    li_last: str = ""
    li_email: str = ""        # the address their LinkedIn connection shows
    connected_on: date | None = None
    in_phone_book: bool = False
    notes: list[str] = field(default_factory=list)
    # collected while writing
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    card_uids: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    names_seen: list[str] = field(default_factory=list)
    used_by: list[str] = field(default_factory=list)
    mail_emails: list[str] = field(default_factory=list)   # addresses in mail or the calendar
    # card UIDs by what the card shows: "old employer", "no diacritics", "initial"
    marked_uids: dict[str, list[str]] = field(default_factory=dict)
    knows: list[str] = field(default_factory=list)   # truth ids of people they know (truth.json)
    n_sent: int = 0
    n_received: int = 0
    n_meetings: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    last_sent_at: datetime | None = None
    last_received_at: datetime | None = None

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return " ".join(p for p in (self.nickname or self.given, self.family) if p)

    @property
    def formal_name(self) -> str:
        return " ".join(p for p in (self.given, self.middle, self.family) if p)

    def org_at(self, when: datetime | None) -> Company | None:
        if self.old_company and self.changed_job_at and when and when < self.changed_job_at:
            return self.old_company
        return self.company

    def work_email_at(self, when: datetime | None) -> str:
        if self.old_work_email and self.changed_job_at and when and when < self.changed_job_at:
            return self.old_work_email
        return self.work_email


@dataclass
class Addr:
    person: Person
    email: str
    name: str = ""


@dataclass
class Mail:
    when: datetime
    sender: Addr
    to: list[Addr]
    cc: list[Addr] = field(default_factory=list)
    subject: str = ""
    msgid: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    extra: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""


@dataclass
class LinkedInMessage:
    conversation: str
    title: str
    when: datetime
    sender: Person
    recipients: list[Person]
    subject: str = ""
    content: str = ""


@dataclass
class Attendee:
    person: Person
    email: str
    partstat: str = "ACCEPTED"
    role: str = "REQ-PARTICIPANT"
    cutype: str = "INDIVIDUAL"


@dataclass
class Event:
    uid: str
    start: datetime           # aware, owner's zone (or UTC when `utc`)
    minutes: int
    organizer: Attendee
    attendees: list[Attendee]
    summary: str
    rrule: str = ""
    status: str = "CONFIRMED"
    utc: bool = False


@dataclass(frozen=True)
class WorldSummary:
    """What `generate` wrote: where, how much, and the tier counts of the truth."""
    out_dir: Path
    seed: int
    today: date
    config: Path
    truth: Path
    files: dict[str, int]             # path relative to out_dir -> bytes
    tiers: dict[str, int]
    n_truth: int
    n_connections: int
    n_phone_cards: int
    n_event_cards: dict[str, int]     # card file -> cards
    n_mail: int
    n_linkedin_messages: int
    n_invitations: int
    n_events: int
    seconds: float


# ---------------------------------------------------------------------------------------------
# The world: people, identifiers and what happened between them

CONNECTIONS = "linkedin/Connections.csv"
MESSAGES = "linkedin/messages.csv"
INVITATIONS = "linkedin/Invitations.csv"
PHONE_BOOK = "phone/contacts.vcf"
MBOX = "mail/mail.mbox"
CALENDAR = "calendar/calendar.ics"
TELEGRAM = "telegram/result.json"


class IdentifierClash(AssertionError):
    """Two truth entries would share an identifier: a bug in the generator."""


class World:
    """The people of a generated world, the identifiers each was given, and the mail, LinkedIn
    messages and events between them and the owner, recorded as they are made."""

    def __init__(self, seed: int, today: date, n_connections: int):
        self.rng = random.Random(seed)
        self.seed = seed
        self.today = today
        self.n_connections = n_connections
        self.tz = ZoneInfo(OWNER_TZ)
        self.now = datetime.combine(today, clock(17, 0), self.tz)
        self.people: list[Person] = []
        self.full_names: set[str] = set()
        self.reserved: dict[str, Person] = {}         # folded e-mail -> owner
        self.phone_owner: dict[str, Person] = {}
        self.profile_owner: dict[str, Person] = {}
        self.uid_owner: dict[str, Person] = {}
        self.used_phones: set[str] = set()
        self.mails: list[Mail] = []
        self.li_messages: list[LinkedInMessage] = []
        self.invitations: list[tuple[Person, Person, datetime, str]] = []
        self.events: list[Event] = []
        self.companies: list[Company] = []
        self.company_names: set[str] = set()
        self.company_domains: set[str] = set()
        self.mixer_day = today - timedelta(days=self.rng.randint(12, 24))
        self.conference_day = self.mixer_day - timedelta(days=self.rng.randint(55, 65))
        self.mixer_tag = f"Chamber mixer {self.mixer_day.isoformat()}"
        self.conference_tag = f"Northeast Data Summit {self.conference_day.isoformat()}"
        self.mixer_file = f"cards/chamber-mixer-{self.mixer_day.isoformat()}.vcf"
        self.conference_file = f"cards/data-summit-{self.conference_day.isoformat()}.vcf"
        self.cards: dict[str, list[Person]] = {self.mixer_file: [], self.conference_file: []}
        self.card_extra: dict[tuple[str, str], dict] = {}   # (file, truth_id) -> card options
        self.window: dict[str, tuple[datetime, datetime]] = {}   # planned two-way period
        self.connections: list[Person] = []
        self.phone_book: list[Person] = []
        self.owner: Person | None = None

    # -- random helpers --------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hexid(self, n: int = 16) -> str:
        return f"{self.rng.getrandbits(n * 4):0{n}x}"

    def at(self, days_ago: float, work: bool = True) -> datetime:
        """A time `days_ago` days before today, at an hour people write at (owner's zone)."""
        day = self.today - timedelta(days=int(days_ago))
        if work:
            while day.weekday() >= 5:
                day -= timedelta(days=1)
            hour = self.rng.randint(8, 17)
        else:
            hour = self.rng.choice([8, 9, 12, 18, 19, 20, 21])
        when = datetime.combine(day, clock(hour, self.rng.randint(0, 59), self.rng.randint(0, 59)),
                                self.tz)
        return min(when, self.now - timedelta(minutes=self.rng.randint(30, 600)))

    def days_ago(self, when: datetime) -> float:
        return (self.now - when).total_seconds() / 86400

    # -- companies and names ---------------------------------------------------------------

    def company(self, name: str | None = None, domain: str | None = None,
                pattern: str | None = None) -> Company:
        spells = True
        if name is None:
            while True:
                word, kind = self.rng.choice(COMPANY_WORDS), self.rng.choice(COMPANY_KINDS)
                base = f"{word} {kind}"
                if base not in self.company_names:
                    break
            name = base + self.rng.choice(LEGAL_SUFFIXES)
            tld = ".test" if self.chance(0.15) else ".example"
            domain = local_word(word) + (local_word(kind) if self.chance(0.6) else "") + tld
            if self.chance(0.12):
                spells = False
                domain = self.unlike_domain(word, kind) + tld
            if domain in self.company_domains and spells:
                domain = local_word(word) + local_word(kind) + tld
            if domain in self.company_domains:
                domain = domain.replace(".", f"{len(self.companies)}.", 1)
        self.company_names.add(name.split(",")[0].removesuffix(" Inc.").removesuffix(" LLC"))
        co = Company(name, domain or local_word(name) + ".example",
                     pattern or self.rng.choice(EMAIL_PATTERNS), spells)
        self.company_domains.add(co.domain)
        self.companies.append(co)
        return co

    def unlike_domain(self, word: str, kind: str) -> str:
        """A mail domain that does not spell the organisation's name, as many do not: initials
        (Silver Lake Capital at slc.), the brand it had before a rename, or the words
        reordered (School of Fine Art at fineartschool.)."""
        r = self.rng.random()
        if r < 0.45:
            return "".join(w[0] for w in f"{word} {kind}".lower().split()) + \
                self.rng.choice(["", "", "hq", "group"])
        if r < 0.8:
            old = self.rng.choice([w for w in COMPANY_WORDS if w != word])
            return local_word(old) + local_word(kind)
        return local_word(kind) + local_word(word)

    def pick_company(self) -> Company:
        if len(self.companies) < 140 or self.chance(0.3):
            return self.company()
        return self.rng.choice(self.companies[3:])

    def new_name(self, formal: float = 0.3) -> tuple[str, str]:
        for _ in range(1000):
            given = (self.rng.choice(sorted(NICKNAMES)) if self.chance(formal)
                     else self.rng.choice(GIVEN))
            family = self.rng.choice(FAMILY)
            if f"{given} {family}" not in self.full_names:
                return given, family
        raise RuntimeError("ran out of names")

    def common_name(self) -> tuple[str, str]:
        """A common name nobody in the world has yet."""
        return self.rng.choice([n for n in COMMON_NAMES if " ".join(n) not in self.full_names])

    def person(self, tier: str, circle: str = "", *, given: str | None = None,
               family: str | None = None, kind: str = "person", formal: float = 0.3,
               **attrs) -> Person:
        if kind in ("person", "owner") and given is None:
            given, family = self.new_name(formal)
        p = Person(truth_id=f"T{len(self.people) + 1:05d}", tier=tier, kind=kind, circle=circle,
                   given=given or "", family=family or "", **attrs)
        if p.given:
            self.full_names.add(f"{p.given} {p.family}")
            if p.given in NICKNAMES and "nickname" not in attrs and self.chance(0.55):
                p.nickname = self.rng.choice(NICKNAMES[p.given])
            if "middle" not in attrs and self.chance(0.2):
                p.middle = self.rng.choice(GIVEN) if self.chance(0.5) else \
                    self.rng.choice("ABCDEFGHJKLMNPRSTW") + "."
            if p.nickname and "middle" not in attrs and self.chance(0.3):
                # "Bob Miller" in mail, "Robert J. Miller" on LinkedIn and cards.
                p.nick_initial = True
                p.middle = p.middle or self.rng.choice("ABCDEFGHJKLMNPRSTW") + "."
        self.people.append(p)
        return p

    # -- identifiers -----------------------------------------------------------------------

    def reserve(self, p: Person, address: str) -> str:
        key = folded_email(address)
        holder = self.reserved.get(key)
        if holder is not None and holder is not p:
            raise IdentifierClash(f"{address}: {holder.truth_id} and {p.truth_id}")
        self.reserved[key] = p
        return address

    def free(self, address: str) -> bool:
        return folded_email(address) not in self.reserved

    def umlauts_spelt_out(self, p: Person) -> bool:
        """Whether an address spells Müller as mueller (else muller)."""
        return fold_ascii(p.family, german=True) != fold_ascii(p.family) and self.chance(0.5)

    def alloc_work_email(self, p: Person, co: Company) -> str:
        f, l = local_word(p.nickname if p.nickname and self.chance(0.3) else p.given), \
            local_word(p.family, self.umlauts_spelt_out(p))
        local = co.pattern.format(f=f, l=l, fi=f[:1])
        for n in range(2, 100):
            address = f"{local}@{co.domain}"
            if self.free(address):
                return self.reserve(p, address)
            local = co.pattern.format(f=f, l=l, fi=f[:1]) + str(n)
        raise RuntimeError(address)

    def alloc_personal_email(self, p: Person, gmail: float = 0.6) -> str:
        f, l = local_word(p.given), local_word(p.family, self.umlauts_spelt_out(p))
        n = local_word(p.nickname) if p.nickname else f
        choices = [f"{f}{l}", f"{n}{l}", f"{f[:1]}{l}", f"{l}{f[:1]}", f"{n}.{l}", f"{f}{l[:1]}"]
        domain = "gmail.com" if self.chance(gmail) else self.rng.choice(PERSONAL_DOMAINS)
        local = self.rng.choice(choices)
        if domain == "gmail.com":
            local = local.replace(".", "")
        for extra in [""] + [str(self.rng.randint(1, 99)) for _ in range(60)]:
            address = f"{local}{extra}@{domain}"
            if self.free(address):
                self.reserve(p, address)
                if domain == "gmail.com" and len(local) > 3:
                    # The same mailbox, spelt other ways: dots and +tags that Gmail ignores.
                    cut = len(f) if local.startswith(f) and len(f) < len(local) else 1
                    if self.chance(0.4):
                        p.gmail_variant = f"{local[:cut]}.{local[cut:]}{extra}@gmail.com"
                    if self.chance(0.3):
                        tag = self.rng.choice(["news", "lists", "shop", "linkedin"])
                        dots = p.gmail_variant.partition("@")[0] if p.gmail_variant and \
                            self.chance(0.5) else f"{local}{extra}"
                        p.gmail_tagged = f"{dots}+{tag}@gmail.com"
                return address
        raise RuntimeError(local)

    def alloc_phone(self, p: Person, country: str = "US") -> str:
        for _ in range(10000):
            if country == "US":
                number = f"+1{self.rng.choice(US_AREAS)}55501{self.rng.randint(0, 99):02d}"
            elif country == "GB":
                number = f"+447700900{self.rng.randint(0, 999):03d}"
            elif country == "FR":
                number = f"+3363998{self.rng.randint(0, 9999):04d}"
            else:                                   # AU
                number = f"+61491570{self.rng.randint(0, 999):03d}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                self.phone_owner[number] = p
                return number
        raise RuntimeError("ran out of phone numbers")

    def alloc_slug(self, p: Person, first: str, last: str) -> str:
        f, l = local_word(first) or "member", local_word(last)
        words = [re.sub(r"[^a-z0-9]+", "-", fold_ascii(n).lower()).strip("-")
                 for n in (first, last)]
        base = "-".join(w for w in words if w)
        style = self.rng.random()
        for _ in range(100):
            if style < 0.65:
                slug = f"{base}-{self.hexid(self.rng.choice([7, 8, 9]))}"
            elif style < 0.8:
                slug = f"{base}-{self.rng.randint(10000000, 999999999)}"
            elif style < 0.9:
                slug = f"{f}{l}"
            else:
                slug = f"{f[:1]}{l}{self.rng.randint(1, 99) if self.chance(0.5) else ''}"
            if slug not in self.profile_owner:
                self.profile_owner[slug] = p
                p.slug = slug
                return slug
            style = 0.0
        raise RuntimeError(base)

    def profile_url(self, p: Person) -> str:
        return f"https://www.linkedin.com/in/{p.slug}"

    # Every identifier written goes through one of these, so truth.json holds exactly what
    # the files hold.

    def seen(self, p: Person, source: str, name: str = "") -> None:
        if source not in p.sources:
            p.sources.append(source)
        name = " ".join(name.split())
        if name and name not in p.names_seen:
            p.names_seen.append(name)

    def use_email(self, p: Person, address: str, source: str) -> str:
        holder = self.reserved.get(folded_email(address))
        if holder is not p:
            raise IdentifierClash(f"{address} written for {p.truth_id}, reserved for "
                                  f"{holder.truth_id if holder else 'nobody'}")
        if address.lower() not in p.emails:
            p.emails.append(address.lower())
        if source in (MBOX, CALENDAR) and address.lower() not in p.mail_emails:
            p.mail_emails.append(address.lower())
        self.seen(p, source)
        return address

    def use_phone(self, p: Person, e164: str, source: str) -> str:
        if self.phone_owner.get(e164) is not p:
            raise IdentifierClash(f"{e164} written for {p.truth_id}")
        if e164 not in p.phones:
            p.phones.append(e164)
        self.seen(p, source)
        return e164

    def use_profile(self, p: Person, source: str) -> str:
        if self.profile_owner.get(p.slug) is not p:
            raise IdentifierClash(f"{p.slug} written for {p.truth_id}")
        url = self.profile_url(p)
        if url not in p.profiles:
            p.profiles.append(url)
        self.seen(p, source)
        return url

    def use_uid(self, p: Person, uid: str, source: str) -> str:
        if uid in self.uid_owner:
            raise IdentifierClash(f"UID {uid} used twice")
        self.uid_owner[uid] = p
        p.card_uids.append(uid)
        self.seen(p, source)
        return uid

    # -- interactions ----------------------------------------------------------------------

    def _touch(self, p: Person, when: datetime) -> None:
        if p.first_at is None or when < p.first_at:
            p.first_at = when
        if p.last_at is None or when > p.last_at:
            p.last_at = when

    def sent_to(self, p: Person, when: datetime) -> None:
        p.n_sent += 1
        p.last_sent_at = max(p.last_sent_at or when, when)
        self._touch(p, when)

    def received_from(self, p: Person, when: datetime) -> None:
        p.n_received += 1
        p.last_received_at = max(p.last_received_at or when, when)
        self._touch(p, when)

    def met(self, p: Person, when: datetime) -> None:
        p.n_meetings += 1
        self._touch(p, when)

    # -- mail ------------------------------------------------------------------------------

    def snap(self, when: datetime, work: bool = True) -> datetime:
        """The same day at an hour people write at."""
        local = when.astimezone(self.tz)
        hour = self.rng.randint(8, 18) if work else self.rng.choice([8, 12, 18, 19, 20, 21])
        return local.replace(hour=hour, minute=self.rng.randint(0, 59))

    def msgid(self, sender: str) -> str:
        domain = sender.rpartition("@")[2]
        if domain == "gmail.com":
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
            return "CA" + "".join(self.rng.choice(alphabet) for _ in range(40)) + "@mail.gmail.com"
        return f"{self.hexid(12)}.{self.hexid(6)}@{domain}"

    def own_name(self, p: Person) -> str:
        """How a person's own mail client writes their name."""
        if p.kind != "person":
            return p.label
        given, family = p.nickname or p.given, p.family
        if p.ascii_mail:
            given, family = fold_ascii(given, german=True), fold_ascii(family, german=True)
        if p.mail_style == "bare" or p.nameless:
            return ""
        if p.nick_initial:
            return f"{given} {family}"
        if p.mail_style == "last_first":
            return f"{family}, {p.given if not p.ascii_mail else fold_ascii(p.given)}"
        if p.mail_style == "formal":
            return fold_ascii(p.formal_name, german=True) if p.ascii_mail else p.formal_name
        return f"{given} {family}"

    def owner_calls(self, p: Person) -> str:
        """How the owner's address book names a person in the mail the owner writes."""
        if p.kind != "person":
            return p.label if self.chance(0.5) else ""
        if self.chance(0.15) or p.nameless:
            return ""
        if p.family_title and self.chance(0.5):
            return p.family_title
        if p.nick_initial:
            return p.name
        if p.ascii_mail:             # the owner's client took the name from their mail
            return self.own_name(p) or fold_ascii(p.name, german=True)
        if p.in_phone_book:
            return p.name
        return f"{p.given} {p.family}" if self.chance(0.5) else p.name

    def owner_addr(self, channel: str, named: bool = True) -> Addr:
        owner = self.owner
        email = owner.work_email if channel == "work" else owner.personal_email
        return Addr(owner, email, owner.name if named else "")

    def their_addr(self, p: Person, channel: str, when: datetime, by_owner: bool) -> Addr:
        if (channel == "work" or not p.personal_email) and p.work_email_at(when):
            email = p.work_email_at(when)
        else:
            email = p.personal_email
            if p.gmail_variant and self.chance(0.3):
                email = p.gmail_variant
        return Addr(p, email, self.owner_calls(p) if by_owner else self.own_name(p))

    def _times(self, start: datetime, n: int, bound: datetime) -> list[datetime]:
        times = [start]
        for _ in range(n - 1):
            gap = self.rng.choice([12, 35, 90, 240, 600, 1300, 2900]) * (0.6 + self.rng.random())
            times.append(times[-1] + timedelta(minutes=gap))
        limit = min(bound, self.now - timedelta(minutes=20))
        if times[-1] > limit:
            shift = times[-1] - limit + timedelta(minutes=self.rng.randint(5, 240))
            times = [t - shift for t in times]
        return times

    def add_mail(self, m: Mail, parent: Mail | None = None) -> Mail:
        m.msgid = self.msgid(m.sender.email)
        if parent is not None:
            m.in_reply_to = parent.msgid
            m.references = (parent.references + [parent.msgid])[-12:]
        m.body = m.body or self.rng.choice(BODIES)
        for a in [m.sender, *m.to, *m.cc]:
            self.use_email(a.person, a.email, MBOX)
            self.seen(a.person, MBOX, a.name)
        self.mails.append(m)
        return m

    def thread(self, p: Person, start: datetime, n: int, owner_first: bool, channel: str,
               bound: datetime, subject: str | None = None, *, replies: bool = True) -> None:
        """A 1:1 exchange; with `replies` False only the first side writes."""
        subject = subject or self.subject(channel)
        parent = None
        for i, when in enumerate(self._times(start, n, bound)):
            from_owner = (i % 2 == 0) == owner_first if replies else owner_first
            mine = self.owner_addr(channel, named=self.chance(0.9))
            if from_owner:
                m = Mail(when, mine, [self.their_addr(p, channel, when, by_owner=True)])
                self.sent_to(p, when)
            else:
                m = Mail(when, self.their_addr(p, channel, when, by_owner=False), [mine])
                self.received_from(p, when)
            m.subject = subject if parent is None else "Re: " + subject
            parent = self.add_mail(m, parent)

    def subject(self, channel: str) -> str:
        pool = WORK_SUBJECTS if channel == "work" else PERSONAL_SUBJECTS
        text = self.rng.choice(pool).format(t=self.rng.choice(WORK_THINGS))
        return text[0].upper() + text[1:]

    def history(self, p: Person, channel: str, first_days: float, last_days: float, gap: float,
                work: bool = True) -> None:
        """Two-way mail between `first_days` and `last_days` ago, a thread every `gap` days or
        so, the last exchange (both ways) ending `last_days` ago."""
        first, last = self.at(first_days, work), self.at(last_days, work)
        known = self.window.get(p.truth_id)
        self.window[p.truth_id] = (min(first, known[0]), max(last, known[1])) if known else \
            (first, last)
        span = max(1.0, (last - first).total_seconds() / 86400)
        starts = [first] + [self.snap(first + timedelta(days=self.rng.uniform(0, span)), work)
                            for _ in range(max(0, int(span / gap) - 1))]
        for start in starts:
            n = self.rng.choice([1, 2, 2, 2, 3, 3, 4, 5])
            self.thread(p, start, n, self.chance(0.5), channel, bound=last)
        self.thread(p, last - timedelta(hours=20), self.rng.choice([2, 2, 3]), self.chance(0.5),
                    channel, bound=last)

    def group_thread(self, members: list[Person], start: datetime, channel: str,
                     bound: datetime, subject: str) -> None:
        owner = self.owner
        everyone = [owner] + members
        for p in members:                  # a team or a project: they know each other
            p.knows.extend(q.truth_id for q in members if q is not p and q.truth_id not in p.knows)
        n_to = self.rng.randint(1, min(3, len(members)))
        first_sender = owner if self.chance(0.5) else self.rng.choice(members)
        order = [p for p in everyone if p is not first_sender]
        to_people, cc_people = order[:n_to], order[n_to:]
        parent, sender = None, first_sender
        for i, when in enumerate(self._times(start, self.rng.randint(2, 6), bound)):
            if i:
                sender = self.rng.choice([q for q in everyone if q is not sender])
            tos = [q for q in ([first_sender] + to_people if i else to_people) if q is not sender]
            ccs = [q for q in cc_people if q is not sender and q not in tos]

            def addr(q: Person, as_sender: bool = False) -> Addr:
                if q is owner:
                    return self.owner_addr(channel)
                return self.their_addr(q, channel, when, by_owner=not as_sender and sender is owner)
            m = Mail(when, addr(sender, True), [addr(q) for q in tos], [addr(q) for q in ccs])
            m.subject = subject if parent is None else "Re: " + subject
            if sender is owner:
                for q in members:
                    self.sent_to(q, when)
            else:
                self.received_from(sender, when)
            parent = self.add_mail(m, parent)

    def automated(self, sender: Person, when: datetime, to_channel: str, subject: str,
                  headers: list[tuple[str, str]]) -> None:
        m = Mail(when, Addr(sender, sender.work_email, sender.label),
                 [self.owner_addr(to_channel, named=False)], subject=subject, extra=headers,
                 body="You are receiving this because you signed up.")
        self.add_mail(m)

    # -- LinkedIn messages -----------------------------------------------------------------

    def conversation_id(self) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "2-" + "".join(self.rng.choice(alphabet) for _ in range(38)) + "=="

    def li_chat(self, others: list[Person], start: datetime, n: int, owner_first: bool,
                bound: datetime, *, replies: bool = True, subject: str = "",
                title: str = "") -> None:
        conversation = self.conversation_id()
        owner = self.owner
        sender = owner if owner_first else others[0]
        for i, when in enumerate(self._times(start, n, bound)):
            if i and replies:
                everyone = [owner] + others
                if len(others) == 1:
                    sender = others[0] if sender is owner else owner
                else:
                    sender = self.rng.choice([q for q in everyone if q is not sender])
            recipients = [q for q in [owner] + others if q is not sender]
            self.li_messages.append(LinkedInMessage(
                conversation, title, when, sender, recipients, subject if i == 0 else "",
                self.rng.choice(BODIES)))
            if sender is owner:
                for q in others:
                    self.sent_to(q, when)
            else:
                self.received_from(sender, when)

    # -- calendar --------------------------------------------------------------------------

    def attendee(self, p: Person, when: datetime, partstat: str = "ACCEPTED") -> Attendee:
        if p is self.owner:
            return Attendee(p, p.work_email, partstat)
        email = p.work_email_at(when) or p.personal_email
        return Attendee(p, email, partstat)

    def meeting(self, start: datetime, minutes: int, people: list[Person], summary: str, *,
                organizer: Person | None = None, owner_partstat: str = "ACCEPTED",
                status: str = "CONFIRMED", room: Person | None = None, rrule: str = "",
                until: datetime | None = None, interval: int = 1, utc: bool = False,
                partstats: dict | None = None) -> Event:
        """An event the owner is invited to. Occurrences that took place (not cancelled, not
        declined, started before now, at most 8 people) count as meetings with everyone who
        did not decline."""
        owner = self.owner
        organizer = organizer or owner
        attendees = [self.attendee(owner, start, owner_partstat)]
        for p in people:
            partstat = (partstats or {}).get(p.truth_id, "ACCEPTED")
            attendees.append(self.attendee(p, start, partstat))
        if organizer is not owner and organizer not in people:
            attendees.append(self.attendee(organizer, start))
        if room is not None:
            attendees.append(Attendee(room, room.work_email, "ACCEPTED", "NON-PARTICIPANT", "ROOM"))
        org = Attendee(organizer, self.attendee(organizer, start).email)
        event = Event(f"{self.hexid(26)}@calendar.example", start, minutes, org, attendees,
                      summary, rrule, status, utc)
        self.events.append(event)
        n_people = len([a for a in attendees if a.cutype == "INDIVIDUAL"])
        if status == "CANCELLED" or owner_partstat == "DECLINED" or n_people > 8:
            return event
        occurrences = [start]
        if rrule:
            occurrences = []
            day, step = start, timedelta(days=7 * interval)
            while day < self.now and (until is None or day <= until):
                occurrences.append(day)
                day = datetime.combine(day.date() + step, day.timetz().replace(tzinfo=None),
                                       self.tz)
        present = [a.person for a in attendees if a.person is not owner
                   and a.cutype == "INDIVIDUAL" and a.partstat != "DECLINED"]
        if any(when < self.now for when in occurrences):
            for p in present:              # a small meeting that took place: they know each other
                p.knows.extend(q.truth_id for q in present
                               if q is not p and q.truth_id not in p.knows)
        for when in occurrences:
            if when >= self.now:
                continue
            for a in attendees:
                if a.person is not owner and a.cutype == "INDIVIDUAL" and a.partstat != "DECLINED":
                    self.met(a.person, when)
        return event

    def weekday_at(self, days_ago: float, hour: int, weekday: int | None = None) -> datetime:
        day = self.today - timedelta(days=int(days_ago))
        if weekday is not None:
            day -= timedelta(days=(day.weekday() - weekday) % 7)
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        return datetime.combine(day, clock(hour, self.rng.choice([0, 0, 30])), self.tz)


# ---------------------------------------------------------------------------------------------
# Who is who, and what happened: the plan of the world

US_ZONES = ["America/New_York"] * 6 + ["America/Chicago", "America/Denver",
                                       "America/Los_Angeles", "America/Los_Angeles"]
# Whose address can appear with no name at all: people the owner knows only by mail.
NAMELESS_CIRCLES = {"external", "card", "vendor", "recruiter", "prospect", "introduced",
                    "linkedin"}
WORLD_ZONES = US_ZONES + ["Europe/London", "Europe/Berlin", "Europe/Paris", "Asia/Kolkata",
                          "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo"]


class Plan:
    """Builds the people of a World and what happened between them and the owner."""

    def __init__(self, w: World):
        self.w = w
        self.rng = w.rng

    def run(self) -> None:
        self.owner_and_roles()
        self.colleagues()
        self.externals()
        self.family_and_friends()
        self.event_people()
        self.linkedin_people()
        self.unanswered()
        self.inbound()
        self.group_threads()
        self.calendar()
        self.automated_mail()
        self.introductions()
        self.phone_book_fill()
        self.linkedin_fill()
        self.chat_friends()

    # -- helpers ---------------------------------------------------------------------------

    def connect(self, p: Person, days_lo: int, days_hi: int, email: float = 0.06,
                on: date | None = None) -> Person:
        """Make `p` a LinkedIn connection, connected `days_lo`..`days_hi` days ago (or `on`)."""
        w, rng = self.w, self.rng
        p.connected_on = on or w.today - timedelta(days=rng.randint(days_lo, max(days_lo, days_hi)))
        first = p.nickname if p.nickname and w.chance(0.25) else p.given
        if p.middle and w.chance(0.4):
            first = f"{first} {p.middle[0]}."
        if p.nick_initial:
            first = f"{p.given} {p.middle[0]}."
        p.li_first, p.li_last = first, p.maiden or p.family
        w.alloc_slug(p, p.given, p.li_last)
        if p.gmail_tagged and w.chance(0.5):
            p.li_email = p.gmail_tagged
        elif w.chance(email):
            choices = [e for e in (p.personal_email, p.gmail_variant, p.work_email) if e]
            if choices:
                p.li_email = w.rng.choice(choices)
        w.connections.append(p)
        return p

    def personal(self, p: Person, gmail: float = 0.65) -> Person:
        p.personal_email = self.w.alloc_personal_email(p, gmail)
        return p

    def at_work(self, p: Person, co: Company, title: str | None = None) -> Person:
        p.company, p.title = co, title or self.rng.choice(TITLES)
        p.work_email = self.w.alloc_work_email(p, co)
        return p

    def change_job(self, p: Person, when: datetime) -> None:
        """`p` moved to another company at `when`; mail before it used the old address."""
        p.old_company, p.old_title, p.old_work_email = p.company, p.title, p.work_email
        p.changed_job_at = when
        self.at_work(p, self.w.pick_company())
        p.notes.append(f"changed job {when.date().isoformat()}: {p.old_company.name} -> "
                       f"{p.company.name}")

    def moved_after_mail(self, p: Person, last: float) -> None:
        """`p` changed jobs after the last mail (`last` days ago): their LinkedIn shows the new
        employer, every mail the old one."""
        self.change_job(p, self.w.at(self.rng.uniform(3, max(4.0, last - 10))))
        p.notes.append("LinkedIn shows the new employer; all mail came from the old one")

    def namesakes(self, a: Person, b: Person) -> None:
        """Two people of one name at one employer: never one person."""
        a.namesake, b.namesake = b.truth_id, a.truth_id
        for p in (a, b):
            p.notes.append(f"same name and employer as {p.namesake}")

    def mail_style(self, p: Person, corporate: bool = False) -> None:
        styles = ["plain"] * 6 + ["formal", "bare"] + (["last_first"] * 3 if corporate else [])
        p.mail_style = self.rng.choice(styles)
        if fold_ascii(p.name) != p.name and self.w.chance(0.5):
            p.ascii_mail = True
        if p.circle in NAMELESS_CIRCLES and self.w.chance(0.07):
            # No name in their own client, none in the owner's address book: only the
            # address's local part spells who they are.
            p.nameless = True

    def in_window(self, p: Person, days_lo: float, days_hi: float) -> datetime | None:
        """A time inside p's planned two-way period (None when it is too short)."""
        first, last = self.w.window[p.truth_id]
        lo = max(self.w.days_ago(last) + 1, days_lo)
        hi = min(self.w.days_ago(first) - 1, days_hi)
        if hi <= lo:
            return None
        return self.w.at(self.rng.uniform(lo, hi))

    def phone(self, p: Person, country: str = "US") -> None:
        p.mobile = self.w.alloc_phone(p, country)
        p.in_phone_book = True
        self.w.phone_book.append(p)

    # -- cohorts ---------------------------------------------------------------------------

    def owner_and_roles(self) -> None:
        w = self.w
        self.harbor = w.company("Harborlight Analytics", "harborlight.example", "{f}.{l}")
        self.acme = w.company("Acme Supply Co.", "acme-supply.example", "{fi}{l}")
        self.brightline = w.company("Brightline Software", "brightline.test", "{f}")
        self.cloudco = w.company("Cloudco", "cloudco.example", "{f}.{l}")
        self.previous = w.company("Tessellate Media", "tessellate.example", "{f}.{l}")
        owner = w.owner = w.person("owner", kind="owner", given="Samantha", family="Rivera",
                                   nickname="Sam", middle="")
        owner.company, owner.title = self.harbor, "Director of Analytics"
        owner.work_email = w.reserve(owner, "sam.rivera@harborlight.example")
        owner.personal_email = w.reserve(owner, "samriveranyc@gmail.com")
        self.phone(owner)
        self.connect(owner, 3000, 3000, email=0)
        w.connections.remove(owner)             # your own profile is not one of your connections

        def role(label: str, email: str = "", phone: bool = False, circle: str = "role"):
            r = w.person("role", circle, kind="role", label=label)
            if email:
                r.work_email = w.reserve(r, email)
            if phone:
                r.mobile = w.alloc_phone(r)
            return r
        self.room = role("Room 4B", "room-4b@harborlight.example", circle="room")
        self.acme_info = role("Acme Supply Co. (info@)", "info@acme-supply.example")
        self.acme_line = role("Acme Supply Co. main line", phone=True, circle="switchboard")
        self.bright_sales = role("Brightline Software (sales@)", "sales@brightline.test")
        self.cloud_support = role("Cloudco support", "support@cloudco.example")
        self.landline = role("Rivera family landline", phone=True, circle="landline")

    def colleagues(self) -> None:
        w, rng = self.w, self.rng

        def colleague(tier: str, title: str | None = None, **kw) -> Person:
            p = w.person(tier, "colleague", **kw)
            self.at_work(p, self.harbor, title)
            p.tz = rng.choice(US_ZONES)
            self.mail_style(p, corporate=True)
            return p

        self.inner_colleagues = [colleague("inner_circle") for _ in range(6)]
        self.inner_colleagues[0].title = "VP Analytics"          # the owner's manager
        for i, p in enumerate(self.inner_colleagues):
            w.history(p, "work", rng.randint(560, 720), rng.uniform(0.2, 4), rng.uniform(9, 14))
            self.connect(p, 700, 1500)
            if i < 4:
                self.phone(p)
        for p in self.inner_colleagues[4:]:
            self.personal(p)
            w.history(p, "personal", rng.randint(300, 500), rng.uniform(3, 30), 60, work=False)
            p.notes.append("writes from work and from a personal address")

        # Two colleagues of one common name: one the owner works with, one only in the
        # all-hands; both on LinkedIn at Harborlight (addresses first.last@, first.last2@).
        given, family = w.common_name()
        namesake = colleague("active", given=given, family=family, nickname="", middle="")
        self.active_colleagues = [namesake] + [colleague("active") for _ in range(11)]
        for i, p in enumerate(self.active_colleagues):
            w.history(p, "work", rng.randint(150, 700), rng.uniform(2, 70), rng.uniform(18, 40))
            if i < 9:
                self.connect(p, 100, 1200)
            if i < 4:
                self.phone(p)

        self.ex_colleagues = [colleague("cooling") for _ in range(6)]
        for i, p in enumerate(self.ex_colleagues):
            last = rng.uniform(150, 320)
            w.history(p, "work", rng.randint(520, 720), last, rng.uniform(10, 22))
            self.change_job(p, w.at(last - rng.randint(20, 60)))
            p.notes.append("left the owner's company after going quiet")
            self.connect(p, 30, 1200)
            if i < 3:
                self.phone(p)

        self.other_colleagues = [colleague("list_only") for _ in range(180)]
        twin = colleague("list_only", given=given, family=family, nickname="",
                         middle=rng.choice("ABCDEFGHJKLMNPRSTW") + ".")
        self.namesakes(namesake, twin)
        self.other_colleagues.insert(1, twin)
        self.ceo = self.other_colleagues[0]
        self.ceo.title = "CEO"
        for i, p in enumerate(self.other_colleagues):
            if i < 45:
                self.connect(p, 30, 1500, email=0.02)
            if 40 <= i < 48:
                self.phone(p)

    def externals(self) -> None:
        w, rng = self.w, self.rng

        def external(tier: str, **kw) -> Person:
            p = w.person(tier, "external", **kw)
            self.at_work(p, w.pick_company())
            p.tz = rng.choice(WORLD_ZONES)
            self.mail_style(p, corporate=w.chance(0.4))
            return p

        self.inner_externals = [external("inner_circle") for _ in range(2)]
        for p in self.inner_externals:
            w.history(p, "work", rng.randint(620, 720), rng.uniform(0.5, 5), rng.uniform(8, 12))
            self.connect(p, 700, 2500)
        self.personal(self.inner_externals[1])
        w.history(self.inner_externals[1], "personal", 400, 20, 45, work=False)

        self.active_externals = [external("active") for _ in range(14)]
        js = external("active", given="John", family="Smith", middle="")
        js.notes.append("one of several John Smiths")
        self.john_smith = js
        self.active_externals.append(js)
        # Another common name the owner mails at work, shared by a LinkedIn connection at the
        # same employer whom the owner never wrote to.
        given, family = w.common_name()
        known = external("active", given=given, family=family, nickname="", middle="")
        self.active_externals.insert(8, known)
        twin = w.person("list_only", "linkedin", given=given, family=family, nickname="",
                        middle="")
        self.at_work(twin, known.company)
        self.namesakes(known, twin)
        for i, p in enumerate(self.active_externals):
            w.history(p, "work", rng.randint(100, 650), rng.uniform(2, 80), rng.uniform(14, 35))
            if i < 13:
                self.connect(p, 90, 2500)
            if i < 4:
                self.personal(p, gmail=0.9)
                w.history(p, "personal", rng.randint(90, 300), rng.uniform(3, 85), 60, work=False)
                p.notes.append("writes from work and from a personal address")
            if 4 <= i < 7:
                self.phone(p)
        self.connect(twin, 200, 3000)

        self.cooling_externals = [external("cooling") for _ in range(10)]
        for i, p in enumerate(self.cooling_externals):
            last = rng.uniform(140, 330)
            first = rng.randint(450, 720)
            if i < 2:
                # Changed job half-way: the early mail came from the old address.
                w.history(p, "work", first, (first + last) / 2 + 10, rng.uniform(15, 30))
                self.change_job(p, w.at((first + last) / 2))
                w.history(p, "work", (first + last) / 2 - 5, last, rng.uniform(15, 30))
            else:
                w.history(p, "work", first, last, rng.uniform(15, 30))
            if i in (2, 3):
                self.moved_after_mail(p, last)
            if i < 8:
                self.connect(p, 450, 2500)
            if i == 8:
                self.phone(p)

        self.dormant_externals = [external("dormant") for _ in range(5)]
        for i, p in enumerate(self.dormant_externals):
            last = rng.uniform(400, 560)
            w.history(p, "work", rng.randint(620, 720), last, rng.uniform(25, 45))
            if i < 2:
                self.moved_after_mail(p, last)
            if i < 4:
                self.connect(p, 600, 3000)

    def family_and_friends(self) -> None:
        w, rng = self.w, self.rng

        def friend(tier: str, circle: str = "friend", country: str = "US", **kw) -> Person:
            p = w.person(tier, circle, **kw)
            self.personal(p)
            p.tz = {"US": OWNER_TZ, "GB": "Europe/London", "FR": "Europe/Paris",
                    "AU": "Australia/Sydney"}[country]
            self.mail_style(p)
            self.phone(p, country)
            if w.chance(0.4):
                p.company, p.title = w.pick_company(), rng.choice(TITLES)
            return p

        mother = friend("inner_circle", "family", family="Rivera", given=rng.choice(GIVEN),
                        family_title="Mom")
        mother.notes.append("phone-book card says Mom; shares the family landline")
        mother.home_line = self.landline
        sister_family = rng.choice(FAMILY)
        sister = friend("inner_circle", "family", family=sister_family, given=rng.choice(GIVEN),
                        maiden="Rivera")
        sister.notes.append("LinkedIn still shows the maiden name Rivera")
        brother = friend("inner_circle", "family", family="Rivera",
                         given=rng.choice(sorted(NICKNAMES)))
        partner = friend("inner_circle", "family")
        self.family = [mother, sister, brother, partner]
        self.inner_friends = [friend("inner_circle") for _ in range(3)]
        for p in self.family + self.inner_friends:
            w.history(p, "personal", rng.randint(660, 725), rng.uniform(0.3, 5), rng.uniform(9, 16),
                      work=False)
        for p in (sister, brother, self.inner_friends[0]):
            self.connect(p, 1000, 3500)

        dad = w.person("list_only", "family", given=rng.choice(GIVEN), family="Rivera",
                       family_title="Dad", middle="")
        self.phone(dad)
        dad.home_line = self.landline
        dad.notes.append("phone-book card only (mobile and the family landline); never mails")
        self.mother, self.dad = mother, dad

        self.active_friends = []
        for i in range(10):
            country = ["US"] * 8 + ["GB", "FR"]
            if i == 0:
                p = friend("active", given="Maria", family="Garcia", middle="")
                p.notes.append("one of two Maria Garcias")
                self.maria = p
            else:
                p = friend("active", country=country[i])
            w.history(p, "personal", rng.randint(300, 720), rng.uniform(2, 80), rng.uniform(20, 45),
                      work=False)
            if i in (1, 2, 3, 4):
                self.connect(p, 300, 3500)
            if i == 5:
                p.typo_in_phone = True
                p.notes.append("name misspelt on the phone-book card")
            self.active_friends.append(p)

        self.cooling_friends = []
        for i in range(6):
            p = friend("cooling", country="AU" if i == 5 else "US")
            w.history(p, "personal", rng.randint(450, 720), rng.uniform(150, 330),
                      rng.uniform(20, 40), work=False)
            if i < 2:
                self.connect(p, 500, 3500)
            self.cooling_friends.append(p)

        # Colleagues from the owner's previous job, still mailed privately until a year ago.
        self.former_colleagues = []
        for i in range(6):
            p = w.person("dormant", "former colleague")
            self.personal(p, gmail=0.8)
            self.at_work(p, w.pick_company())
            self.mail_style(p)
            w.history(p, "personal", rng.randint(640, 725), rng.uniform(400, 560),
                      rng.uniform(30, 60), work=False)
            if i < 5:
                self.connect(p, 1200, 3000)
            if i < 4:
                self.phone(p)
            self.former_colleagues.append(p)

    def chat_friends(self) -> None:
        """Friends who are close only through chat apps: in the phone book, never in mail,
        LinkedIn or the calendar. A random stream of their own, so adding them leaves the rest
        of the world as it was."""
        w = self.w
        saved = w.rng, self.rng
        w.rng = self.rng = rng = random.Random(f"chats-{w.seed}")
        try:
            self.whatsapp_chats: list[tuple[str, list[Person], list[tuple[datetime, Person]]]] = []
            self.telegram_chats: list[tuple[Person, list[tuple[datetime, Person]]]] = []
            owner = w.owner

            def friend(tier: str) -> Person:
                p = w.person(tier, "chat friend", nickname="", middle="")
                self.phone(p)
                p.notes.append("close only through chat: never mails, meets or messages on "
                               "LinkedIn")
                return p

            def talk(p: Person, first_days: float, last_days: float, gap: tuple[int, int],
                     also: list[Person] = ()) -> list[tuple[datetime, Person]]:
                """Evenings of back-and-forth, every `gap` days, from first_days ago to
                last_days ago."""
                lines, days = [], first_days
                while days >= last_days:
                    t = w.at(days, work=False).replace(hour=rng.randint(18, 22),
                                                       minute=rng.randint(0, 50))
                    for i in range(rng.randint(2, 9)):
                        who = owner if i % 2 else rng.choice([p, *also])
                        t += timedelta(minutes=rng.randint(0, 6), seconds=rng.randint(0, 59))
                        lines.append((t, who))
                        for q in [p, *also]:
                            if who is owner:
                                w.sent_to(q, t)
                            elif who is q:
                                w.received_from(q, t)
                    days -= rng.uniform(*gap)
                return lines

            closest = [friend("inner_circle"), friend("inner_circle")]
            for p in closest:
                self.whatsapp_chats.append((None, [p], talk(p, rng.uniform(650, 720),
                                                            rng.uniform(0.5, 3), (2, 7))))
            recent = friend("active")
            self.whatsapp_chats.append((None, [recent], talk(recent, rng.uniform(100, 200),
                                                             rng.uniform(2, 40), (10, 25))))
            faded = friend("cooling")
            faded.notes.append("the chat went quiet months ago")
            self.whatsapp_chats.append((None, [faded], talk(faded, rng.uniform(500, 700),
                                                            rng.uniform(150, 300), (8, 20))))
            crew = closest + [recent]
            self.whatsapp_chats.append(("Climbing crew", crew,
                                        talk(crew[0], 300, 5, (6, 14), also=crew[1:])))
            for _ in range(2):
                p = friend("active")
                self.telegram_chats.append((p, talk(p, rng.uniform(60, 200),
                                                    rng.uniform(1, 60), (5, 15))))
            self.telegram_ids = {p.truth_id: rng.randint(10**8, 10**10)
                                 for p in [owner] + [c[0] for c in self.telegram_chats]}
        finally:
            w.rng, self.rng = saved

    def card(self, p: Person, file: str, **extra) -> Person:
        self.w.cards[file].append(p)
        if extra:
            self.w.card_extra[(file, p.truth_id)] = extra
        return p

    def event_people(self) -> None:
        w, rng = self.w, self.rng
        mixer, conf = w.mixer_file, w.conference_file
        mixer_days = (w.today - w.mixer_day).days
        conf_days = (w.today - w.conference_day).days

        def met_at(tier: str, file: str, circle: str = "card", **kw) -> Person:
            p = w.person(tier, circle, **kw)
            self.at_work(p, w.pick_company())
            p.tz = rng.choice(US_ZONES)
            self.mail_style(p, corporate=w.chance(0.3))
            return p

        self.card_followups = []
        for i in range(3):                                         # mixer, followed up, active
            p = self.card(met_at("active", mixer), mixer, phone=True)
            w.history(p, "work", mixer_days - 1, rng.uniform(1, 6), rng.uniform(4, 8))
            if i < 2:
                self.connect(p, 0, 0, on=w.mixer_day + timedelta(days=rng.randint(0, 2)))
            self.card_followups.append(p)
        for i in range(3):                                         # conference, active
            p = self.card(met_at("active", conf), conf, phone=w.chance(0.5))
            start = conf_days - rng.randint(1, 3)
            if i == 0:
                w.history(p, "work", start, start - 2, 1)
                self.change_job(p, w.at(start - 20))
                w.history(p, "work", start - 25, rng.uniform(2, 30), rng.uniform(8, 14))
                p.notes.append("card shows the old company; LinkedIn and later mail the new one")
            else:
                w.history(p, "work", start, rng.uniform(2, 60), rng.uniform(8, 15))
            self.connect(p, 0, 0, on=w.conference_day + timedelta(days=rng.randint(0, 5)))
            self.card_followups.append(p)

        # Known people met again: their cards carry their current details.
        self.card(self.active_externals[0], conf)
        self.card(self.active_externals[1], conf, phone=True)
        self.card(self.active_externals[2], mixer)

        self.card_unanswered = []
        for i in range(6):
            file = mixer if i < 4 else conf
            p = self.card(met_at("unanswered", file), file, phone=w.chance(0.5))
            days = (mixer_days if file == mixer else conf_days) - rng.randint(1, 3)
            w.thread(p, w.at(days), 1, True, "work", w.now, replies=False)
            if w.chance(0.5) and days > 14:
                w.thread(p, w.at(days - rng.randint(8, 13)), 1, True, "work", w.now,
                         subject="Following up", replies=False)
            if i in (0, 4):
                w.invitations.append((w.owner, p, w.at(days), "outgoing"))
                w.alloc_slug(p, p.given, p.family)
                p.li_first, p.li_last = p.given, p.family
            if i == 1:
                self.out_of_office(p, w.mails[-1])
            self.card_unanswered.append(p)

        vendor = self.card(met_at("inbound_only", conf, "vendor"), conf, phone=True)
        vendor.title = rng.choice(VENDOR_TITLES)
        for k, days in enumerate((conf_days - 3, conf_days - 12, conf_days - 30)):
            w.thread(vendor, w.at(days), 1, False, "work", w.now,
                     subject="Great meeting you at the summit" if k == 0 else "Following up",
                     replies=False)
        self.card_vendor = vendor

        # Two people from one small company, on cards that share its info@ and main line.
        for i in range(2):
            p = met_at("list_only", mixer)
            self.at_work(p, self.acme, "Owner" if i == 0 else "Sales Manager")
            self.card(p, mixer, role_email=self.acme_info, role_phone=self.acme_line,
                      only_role_email=(i == 0))
            self.acme_line.used_by.append(p.truth_id)
            self.acme_info.used_by.append(p.truth_id)
        w.thread(self.acme_info, w.at(mixer_days - 3), 1, True, "work", w.now,
                 subject="Bulk order question", replies=False)
        for i in range(2):
            p = met_at("list_only", conf)
            self.at_work(p, self.brightline, rng.choice(VENDOR_TITLES))
            self.card(p, conf, role_email=self.bright_sales, phone=i == 0)
            self.bright_sales.used_by.append(p.truth_id)
        w.thread(self.bright_sales, w.at(conf_days - 5), 2, True, "work", w.now,
                 subject="Pricing for the analytics add-on")

        js2 = met_at("list_only", mixer, given="John", family="Smith")
        js2.notes.append("one of several John Smiths")
        self.card(js2, mixer, phone=True)
        self.connect(js2, 0, 0, on=w.mixer_day)

        for file, total in ((mixer, 40), (conf, 25)):
            n = total - len(w.cards[file])
            event_day = w.mixer_day if file == mixer else w.conference_day
            for i in range(n):
                p = self.card(met_at("list_only", file), file, phone=w.chance(0.55))
                if w.chance(0.3):
                    self.connect(p, 0, 0, on=event_day + timedelta(days=rng.randint(0, 3)))
                elif i < 2:
                    w.invitations.append((w.owner, p, w.at((w.today - event_day).days - 1),
                                          "outgoing"))
                    w.alloc_slug(p, p.given, p.family)
                    p.li_first, p.li_last = p.given, p.family
                elif i == 2 and file == mixer:
                    w.alloc_slug(p, p.given, p.family)
                    p.li_first, p.li_last = p.given, p.family
                    w.invitations.append((p, w.owner, w.at((w.today - event_day).days - 1),
                                          "incoming"))

    def out_of_office(self, p: Person, original: Mail) -> None:
        """An automatic reply from p's address: not an answer."""
        w = self.w
        when = original.when + timedelta(minutes=self.rng.randint(1, 3))
        m = Mail(when, Addr(p, original.to[0].email, w.own_name(p)), [original.sender],
                 subject="Automatic reply: " + original.subject,
                 extra=[("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")],
                 body="I am out of the office with limited access to e-mail.")
        w.add_mail(m, original)
        p.notes.append("sent an out-of-office auto-reply, never a real answer")

    def linkedin_people(self) -> None:
        w, rng = self.w, self.rng

        def li_person(tier: str) -> Person:
            p = w.person(tier, "linkedin")
            self.at_work(p, w.pick_company())
            p.tz = rng.choice(WORLD_ZONES)
            self.mail_style(p)
            self.connect(p, 200, 3000)
            return p

        def chats(p: Person, first: float, last: float, n: int) -> None:
            f, l = w.at(first), w.at(last)
            w.window[p.truth_id] = (f, l)
            starts = sorted(w.at(rng.uniform(last + 1, first)) for _ in range(n - 1))
            for s in [f] + starts:
                w.li_chat([p], s, rng.randint(1, 4), w.chance(0.5), l)
            w.li_chat([p], l - timedelta(hours=30), 2, w.chance(0.5), l)

        self.li_active = []
        for _ in range(7):
            p = li_person("active")
            first, last = rng.randint(200, 600), rng.uniform(3, 60)
            chats(p, first, last, rng.randint(2, 4))
            if w.chance(0.7):
                w.thread(p, w.at(rng.uniform(last + 2, first - 2)), rng.randint(2, 3), True,
                         "work", w.at(last))
                if sum(q.old_company is not None for q in self.li_active) < 2:
                    self.moved_after_mail(p, last)
            self.li_active.append(p)
        a, b = self.li_active[:2]
        start = w.at(rng.uniform(max(w.days_ago(w.window[a.truth_id][1]),
                                     w.days_ago(w.window[b.truth_id][1])) + 2, 150))
        bound = min(w.window[a.truth_id][1], w.window[b.truth_id][1])
        if start < bound:
            w.li_chat([a, b], start, 4, True, bound, title="Meetup speakers")
        for _ in range(3):
            p = li_person("cooling")
            chats(p, rng.randint(450, 700), rng.uniform(150, 330), rng.randint(2, 4))
        for _ in range(4):
            p = li_person("dormant")
            last = rng.uniform(420, 700)
            chats(p, last + rng.randint(60, 400), last, rng.randint(1, 3))

    def unanswered(self) -> None:
        w, rng = self.w, self.rng
        for _ in range(6):                          # LinkedIn connections the owner wrote to
            p = w.person("unanswered", "linkedin")
            self.at_work(p, w.pick_company())
            self.connect(p, 100, 2500)
            days = rng.uniform(5, 500)
            w.li_chat([p], w.at(days), 1, True, w.now, replies=False)
            if w.chance(0.5):
                w.li_chat([p], w.at(days - rng.uniform(3, min(days - 1, 20))), 1, True, w.now,
                          replies=False)
        for i in range(8):                          # cold outreach by mail
            p = w.person("unanswered", "prospect")
            self.at_work(p, w.pick_company())
            self.mail_style(p)
            if i < 3:
                self.connect(p, 100, 2500, email=1.0 if i == 0 else 0.0)
            days = rng.uniform(3, 600)
            w.thread(p, w.at(days), 1, True, "work", w.now, subject="Introduction",
                     replies=False)
            if i == 3:
                self.bounce(p, w.mails[-1])
            elif i == 4:
                self.out_of_office(p, w.mails[-1])
            elif w.chance(0.4) and days > 10:
                w.thread(p, w.at(days - rng.uniform(4, 9)), 1, True, "work", w.now,
                         subject="Re: Introduction", replies=False)

    def bounce(self, p: Person, original: Mail) -> None:
        w = self.w
        daemon = w.person("automated", "bounce", kind="automated",
                          label="Mail Delivery Subsystem")
        daemon.work_email = w.reserve(daemon, "MAILER-DAEMON@mx.harborlight.example")
        w.automated(daemon, original.when + timedelta(minutes=2), "work",
                    "Undelivered Mail Returned to Sender",
                    [("Auto-Submitted", "auto-replied"), ("Return-Path", "<>")])
        p.notes.append("the owner's mail to them bounced")

    def inbound(self) -> None:
        w, rng = self.w, self.rng
        agencies = [w.company() for _ in range(6)]
        for i in range(12):                         # recruiters on LinkedIn
            p = w.person("inbound_only", "recruiter")
            self.at_work(p, rng.choice(agencies), rng.choice(RECRUITER_TITLES))
            if i < 5:
                self.connect(p, 30, 900)
            else:
                w.alloc_slug(p, p.given, p.family)
                p.li_first, p.li_last = p.given, p.family
            days = rng.uniform(2, 700)
            for k in range(rng.randint(1, 3)):
                w.li_chat([p], w.at(max(0.5, days - k * rng.uniform(5, 15))), 1, False, w.now,
                          replies=False, subject="Opportunity at a fast-growing startup"
                          if k == 0 else "")
            if 5 <= i < 9:
                w.invitations.append((p, w.owner, w.at(rng.uniform(1, 120)), "incoming"))
        self.vendors = []
        for i in range(10):                         # vendors by mail
            p = w.person("inbound_only", "vendor")
            self.at_work(p, w.pick_company(), rng.choice(VENDOR_TITLES))
            self.mail_style(p)
            days = rng.uniform(5, 650)
            n = rng.randint(1, 4)
            for k in range(n):
                d = max(0.5, days - k * rng.uniform(4, 12))
                w.thread(p, w.at(d), 1, False, "work", w.now, subject="Quick question" if k == 0
                         else "Re: Quick question", replies=False)
            if i == 0:
                self.connect(p, 20, 400)
            self.vendors.append(p)
        self.mail_recruiters = []
        for i in range(8):                          # agency recruiters by mail
            p = w.person("inbound_only", "recruiter")
            self.at_work(p, rng.choice(agencies), rng.choice(RECRUITER_TITLES))
            self.mail_style(p)
            channel = "personal" if i % 2 else "work"
            days = rng.uniform(3, 700)
            for k in range(rng.randint(1, 3)):
                w.thread(p, w.at(max(0.5, days - k * rng.uniform(5, 20))), 1, False, channel,
                         w.now, subject="Confidential search: Head of Data", replies=False)
            if i < 2:
                self.connect(p, 30, 900)
            self.mail_recruiters.append(p)

    def group_threads(self) -> None:
        w, rng = self.w, self.rng
        work_pool = (self.inner_colleagues + self.active_colleagues + self.ex_colleagues
                     + self.inner_externals + self.active_externals + self.cooling_externals)
        personal_pool = (self.family + self.inner_friends + self.active_friends
                         + self.cooling_friends + self.former_colleagues)
        for pool, channel, wanted in ((work_pool, "work", 45), (personal_pool, "personal", 20)):
            made = 0
            for _ in range(wanted * 20):
                if made == wanted:
                    break
                start = w.at(rng.uniform(2, 700), work=channel == "work")
                fits = [p for p in pool if w.window[p.truth_id][0] <= start
                        and start + timedelta(days=3) <= w.window[p.truth_id][1]]
                if len(fits) < 3:
                    continue
                members = rng.sample(fits, min(len(fits), rng.randint(3, 8)))
                bound = min(w.window[p.truth_id][1] for p in members)
                subject = rng.choice(GROUP_SUBJECTS).format(t=rng.choice(WORK_THINGS))
                w.group_thread(members, start, channel, bound, subject[0].upper() + subject[1:])
                made += 1

    def calendar(self) -> None:
        w, rng = self.w, self.rng
        owner = w.owner
        days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]

        def weekly(p: Person, organizer: Person, interval: int = 1,
                   until: datetime | None = None, minutes: int = 30) -> None:
            first = w.window[p.truth_id][0]
            start = w.weekday_at(w.days_ago(first) - 3, rng.choice([9, 10, 11, 14, 15, 16]),
                                 weekday=rng.randint(0, 4))
            rule = "FREQ=WEEKLY" + (f";INTERVAL={interval}" if interval > 1 else "")
            if until is not None:
                until = until.replace(hour=23, minute=59, second=59)
                rule += ";UNTIL=" + until.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            rule += f";BYDAY={days[start.weekday()]}"
            w.meeting(start, minutes, [p], f"1:1 {owner.nickname} / {p.nickname or p.given}",
                      organizer=organizer, rrule=rule, interval=interval, until=until)

        for i, p in enumerate(self.inner_colleagues):
            weekly(p, p if i == 0 else owner, interval=2 if i >= 4 else 1)
        for p in self.inner_externals:
            weekly(p, p, interval=2, minutes=45)
        for p in self.ex_colleagues[:3]:
            last = w.window[p.truth_id][1]
            weekly(p, owner, until=last - timedelta(days=2))

        by_first = sorted(self.active_colleagues, key=lambda p: w.window[p.truth_id][0])
        team = self.inner_colleagues[1:4] + by_first[:2]
        w.meeting(w.weekday_at(500, 10, weekday=1), 60, team, "Analytics team weekly",
                  rrule="FREQ=WEEKLY;BYDAY=TU", room=self.room)
        guild = self.ex_colleagues[3:6] + by_first[2:3]
        until = (min(w.window[p.truth_id][1] for p in guild) - timedelta(days=5)).replace(
            hour=23, minute=59, second=59)
        w.meeting(w.weekday_at(700, 15, weekday=3), 45, guild, "Data guild",
                  rrule="FREQ=WEEKLY;UNTIL=" + until.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
                  + ";BYDAY=TH", until=until, room=self.room)

        def statuses(people: list[Person]) -> dict:
            return {p.truth_id: rng.choice(["ACCEPTED"] * 14 + ["NEEDS-ACTION"] * 4
                                           + ["TENTATIVE", "DECLINED"]) for p in people}
        staff = self.inner_colleagues + self.active_colleagues + self.other_colleagues[1:]
        def first_thursday(day: date, hour: int, minute: int = 0) -> datetime:
            while day.weekday() != 3 or day.day > 7:
                day += timedelta(days=1)
            return datetime.combine(day, clock(hour, minute), w.tz)
        old_start = first_thursday(w.today - timedelta(days=730), 16)
        cut = datetime.combine(w.today - timedelta(days=365), clock(0, 0), w.tz)
        w.meeting(old_start, 60, staff + self.ex_colleagues, "Harborlight all-hands",
                  organizer=self.ceo, rrule="FREQ=MONTHLY;BYDAY=1TH;UNTIL="
                  + cut.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"),
                  partstats=statuses(staff + self.ex_colleagues))
        new_start = first_thursday(cut.date() + timedelta(days=1), 16, 30)
        w.meeting(new_start, 60, staff,
                  "Harborlight all-hands (new time)", organizer=self.ceo,
                  rrule="FREQ=MONTHLY;BYDAY=1TH", partstats=statuses(staff))

        # One-off meetings inside each relationship's two-way period, some still to come.
        singles = ([(p, 1, 2) for p in self.active_externals + self.card_followups + self.li_active]
                   + [(p, 1, 1) for p in self.cooling_externals + self.dormant_externals])
        for p, lo, hi in singles:
            for _ in range(rng.randint(lo, hi)):
                when = self.in_window(p, 0, 800)
                if when is not None:
                    w.meeting(when.replace(minute=rng.choice([0, 30])), rng.choice([30, 45, 60]),
                              [p], rng.choice(["Coffee", "Intro call", "Catch-up",
                                               "Working session"]),
                              organizer=p if w.chance(0.4) else owner,
                              room=self.room if w.chance(0.2) else None)
        for p in self.card_followups[:2] + self.active_externals[3:6]:
            w.meeting(w.weekday_at(-rng.randint(2, 25), rng.randint(9, 16)), 30, [p],
                      "Coffee" if p in self.card_followups else "Quarterly check-in")
        friends = self.family + self.inner_friends + self.active_friends
        for _ in range(8):
            people = rng.sample(friends, rng.randint(1, 3))
            last = min(w.window[p.truth_id][1] for p in people)
            first = max(w.window[p.truth_id][0] for p in people)
            if first < last - timedelta(days=2):
                when = first + (last - first) * rng.random()
                w.meeting(when.replace(hour=19, minute=0, second=0), 120, people, "Dinner")

        # Declined, cancelled and unanswered invitations: none of these is a meeting.
        lunch = self.active_externals[7]
        when = self.in_window(lunch, 0, 800)
        if when is not None:
            w.meeting(when.replace(hour=12, minute=30, second=0), 60, [lunch], "Lunch",
                      status="CANCELLED")
        for p in self.vendors[:2] + self.mail_recruiters[:1]:
            when = p.last_at + timedelta(days=rng.randint(1, 6))
            if when < w.now:
                w.meeting(when.astimezone(UTC).replace(minute=0, second=0), 30, [], "Product demo"
                          if p.circle == "vendor" else "Intro: Head of Data role", organizer=p,
                          owner_partstat="DECLINED", utc=True)
        w.meeting(w.weekday_at(-rng.randint(3, 12), 11).astimezone(UTC), 30, [],
                  "Exclusive webinar invite", organizer=self.vendors[2],
                  owner_partstat="NEEDS-ACTION", utc=True)
        p = self.active_colleagues[5]
        when = self.in_window(p, 0, 300)
        if when is not None:
            w.meeting(when.replace(minute=0, second=0), 60, [], "Budget review (optional)",
                      organizer=p, owner_partstat="DECLINED", room=self.room)

    def automated_mail(self) -> None:
        w, rng = self.w, self.rng
        for name, domain, every in NEWSLETTERS:
            p = w.person("automated", "newsletter", kind="automated", label=name)
            local = rng.choice(["newsletter", "news", "hello", "digest"])
            p.work_email = w.reserve(p, f"{local}@{domain}")
            unsubscribe = w.reserve(p, f"unsubscribe@{domain}")
            w.use_email(p, unsubscribe, MBOX)
            list_id = f"{name} <{local_word(name)[:12]}.{domain}>"
            channel = "personal" if w.chance(0.6) else "work"
            d = rng.uniform(200, 730)
            issue = rng.randint(10, 300)
            while d > 0.2:
                headers = [("List-Id", list_id),
                           ("List-Unsubscribe", f"<mailto:{unsubscribe}?subject=unsubscribe>, "
                                                f"<https://{domain}/u/{w.hexid(12)}>"),
                           ("Precedence", "bulk")]
                w.automated(p, w.at(d), channel, f"{name} #{issue}", headers)
                issue += 1
                d -= every * rng.uniform(0.8, 1.25)
        subjects = {"Jira": "[JIRA] (HA-{n}) Dashboard refresh fails", "GitHub":
                    "[harborlight/etl] Pull request #{n} merged", "Google Calendar":
                    "Updated invitation: Analytics team weekly", "First Harbor Bank":
                    "Your statement is ready", "Cloudco Billing": "Your Cloudco invoice #{n}",
                    "Shopwise": "Your order #{n} has shipped", "LinkedIn":
                    "You appeared in {n} searches this week", "Slack":
                    "New messages in #analytics"}
        for name, address, every in NOTIFIERS:
            p = w.person("automated", "notification", kind="automated", label=name)
            p.work_email = w.reserve(p, address)
            personal = name in ("First Harbor Bank", "Shopwise")
            d = rng.uniform(300, 730)
            while d > 0.2:
                headers = [] if name == "Shopwise" else [("Auto-Submitted", "auto-generated")]
                w.automated(p, w.at(d), "personal" if personal else "work",
                            subjects[name].format(n=rng.randint(100, 9999)), headers)
                d -= every * rng.uniform(0.7, 1.3)
        # A support desk answers: a role address that writes back.
        w.thread(self.cloud_support, w.at(rng.uniform(30, 200)), 3, True, "work", w.now,
                 subject="Ticket #48213: export stuck")

    def phone_book_fill(self) -> None:
        w, rng = self.w, self.rng
        services = ["Plumbing", "Dental", "Auto Repair", "Pediatrics", "Hair Studio",
                    "Veterinary Clinic", "Dry Cleaning", "Pizza", "Electric", "Locksmith",
                    "Landscaping", "Physical Therapy"]
        for service in services:
            word = rng.choice(COMPANY_WORDS)
            p = w.person("list_only", "service", kind="business", label=f"{word} {service}")
            self.phone(p)
        js3 = w.person("list_only", "service", given="John", family="Smith", middle="",
                       nickname="")
        js3.label, js3.title = "", "Plumber"
        js3.company = Company("Smith & Sons Plumbing", "smithsons.example", "{f}")
        js3.notes.append("one of several John Smiths; phone-book card with only a phone")
        self.phone(js3)
        # A couple whose cards both show their home landline; one card shows nothing else.
        family = rng.choice(FAMILY)
        line = w.person("role", "landline", kind="role", label=f"{family} family landline")
        line.mobile = w.alloc_phone(line)
        couple = [w.person("list_only", "acquaintance", given=given, family=family)
                  for given in rng.sample(GIVEN, 2)]
        self.phone(couple[0])
        if w.chance(0.5):
            self.personal(couple[0])
        couple[1].in_phone_book = True
        w.phone_book.append(couple[1])
        for p in couple:
            p.home_line = line
            p.notes.append("phone-book card shares the family landline with their partner")
        target = 250 - len(w.phone_book)
        for i in range(target):
            country = "US" if w.chance(0.94) else rng.choice(["GB", "FR", "AU"])
            p = w.person("list_only", "acquaintance")
            p.notes.append("phone-book entry only")
            r = rng.random()
            if r < 0.08:                        # an address and no number
                self.personal(p)
                p.in_phone_book = True
                w.phone_book.append(p)
            else:
                self.phone(p, country)
                if r > 0.55:
                    self.personal(p)
            if i < 3:
                p.typo_in_phone = True
                p.notes.append("name misspelt on the phone-book card")
            if w.chance(0.08):
                self.connect(p, 100, 4000)
            if w.chance(0.15):
                p.company, p.title = w.pick_company(), rng.choice(TITLES)

    def introductions(self) -> None:
        """Companies with several employees the owner knows only through someone: a colleague
        or an external who works with them (small threads they copy the owner on), or a friend
        who knows them (personal threads). truth.json says who knows whom (`knows`). Some
        threads also copy a second contact of the owner for information only, and some
        employees are on a large thread with the owner's other contacts: neither is knowing."""
        w, rng = self.w, self.rng
        work = self.inner_colleagues + self.active_colleagues + self.inner_externals + \
            self.active_externals
        friends = self.inner_friends + self.active_friends
        bystanders = self.active_colleagues + self.active_externals
        for i in range(12):
            co = w.company()
            channel = "personal" if i % 3 == 2 else "work"
            introducers = rng.sample(friends if channel == "personal" else work,
                                     1 if w.chance(0.7) else 2)
            employees = []
            for _ in range(rng.randint(2, 4)):
                e = self.at_work(w.person("inbound_only", "introduced"), co)
                self.mail_style(e, corporate=w.chance(0.5))
                if w.chance(0.5):
                    self.connect(e, 100, 2000)
                employees.append(e)
            for e in employees:
                introducer = rng.choice(introducers)
                introducer.knows.append(e.truth_id)
                e.knows.append(introducer.truth_id)
                copied = [rng.choice([b for b in bystanders if b is not introducer])] \
                    if w.chance(0.3) else []
                for _ in range(rng.randint(1, 3)):
                    self.copied_thread(introducer, e, copied, channel,
                                       w.at(rng.uniform(5, 200), work=channel == "work"))
            if i % 4 == 0:
                crowd = rng.sample(bystanders, 10) + [rng.choice(employees)]
                self.copied_thread(crowd[0], crowd[-1], crowd[1:-1], "work",
                                   w.at(rng.uniform(5, 200)))

    def copied_thread(self, a: Person, b: Person, copied: list[Person], channel: str,
                      start: datetime) -> None:
        """A thread between `a` and `b` that copies the owner (and `copied`); the owner does
        not write."""
        w = self.w
        subject = w.subject(channel)
        parent, sender, other = None, a, b
        for when in w._times(start, self.rng.randint(2, 4), w.now):
            cc = [w.owner_addr(channel)] + [w.their_addr(q, channel, when, by_owner=False)
                                             for q in copied]
            m = Mail(when, w.their_addr(sender, channel, when, by_owner=False),
                     [w.their_addr(other, channel, when, by_owner=False)], cc)
            m.subject = subject if parent is None else "Re: " + subject
            w.received_from(sender, when)
            parent = w.add_mail(m, parent)
            sender, other = other, sender

    def linkedin_fill(self) -> None:
        w, rng = self.w, self.rng
        maria = w.person("list_only", "linkedin", given="María", family="García", middle="")
        maria.notes.append("one of two Maria Garcias")
        self.at_work(maria, w.pick_company())
        self.connect(maria, 200, 3000)
        while len(w.connections) < w.n_connections:
            p = w.person("list_only", "linkedin", formal=0.25)
            p.company, p.title = w.pick_company(), (rng.choice(RECRUITER_TITLES)
                                                   if w.chance(0.08) else rng.choice(TITLES))
            if w.chance(0.05):
                if w.chance(0.6):
                    self.personal(p, gmail=0.7)
                else:
                    p.work_email = w.alloc_work_email(p, p.company)
            days = 1 + int(rng.random() ** 1.8 * 4300)
            self.connect(p, days, days, email=1.0 if (p.personal_email or p.work_email) else 0)


# ---------------------------------------------------------------------------------------------
# Writing the files

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
WEEKDAYS = "Mon Tue Wed Thu Fri Sat Sun".split()


def vtext(value: str) -> str:
    """A vCard 3.0 / iCalendar text value, escaped."""
    return (value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
            .replace("\n", "\\n"))


def fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 sequence (RFC 6350, 5545)."""
    if len(line.encode()) <= 75:
        return line
    parts, current, size = [], "", 0
    for ch in line:
        n = len(ch.encode())
        if size + n > 75:
            parts.append(current)
            current, size = " ", 1
        current += ch
        size += n
    parts.append(current)
    return "\r\n".join(parts)


def param(value: str) -> str:
    value = value.replace('"', "'")
    return f'"{value}"' if any(c in value for c in ",;:") else value


def utc_stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class Writer:
    def __init__(self, w: World, plan: Plan, out: Path):
        self.w, self.plan, self.out, self.rng = w, plan, out, w.rng
        self.sizes: dict[str, int] = {}
        self.phone_names: dict[str, str] = {}     # truth_id -> the name the owner's phone shows

    def save(self, rel: str, text: str) -> None:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        path.write_bytes(data)
        self.sizes[rel] = len(data)

    def phone_text(self, e164: str) -> str:
        rng = self.rng
        if e164.startswith("+1"):
            a, n, x = e164[2:5], e164[5:8], e164[8:]
            return rng.choice([f"({a}) {n}-{x}", f"({a}) {n}-{x}", f"{a}-{n}-{x}",
                               f"+1 {a} {n} {x}", f"{a}.{n}.{x}", f"+1 ({a}) {n}-{x}", e164,
                               f"1-{a}-{n}-{x}"])
        d = e164[3:]
        if e164.startswith("+44"):
            return f"+44 {d[:4]} {d[4:]}"
        if e164.startswith("+33"):
            return f"+33 {d[0]} {d[1:3]} {d[3:5]} {d[5:7]} {d[7:]}"
        return f"+61 {d[:3]} {d[3:6]} {d[6:]}"

    def typo(self, text: str) -> str:
        if len(text) < 4:
            return text + text[-1]
        i = self.rng.randint(1, len(text) - 3)
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]

    # -- vCards ----------------------------------------------------------------------------

    def phone_book(self) -> str:
        w, rng = self.w, self.rng
        cards = sorted(w.phone_book, key=lambda p: (fold_ascii(p.family or p.label).lower(),
                                                   fold_ascii(p.given).lower(), p.truth_id))
        rev = datetime.combine(w.today - timedelta(days=3), clock(8, 0), UTC)
        out = []
        for p in cards:
            lines = ["BEGIN:VCARD", "VERSION:3.0", "PRODID:-//Apple Inc.//iPhone OS 17.5.1//EN"]
            folded = False
            if p.kind == "business":
                lines += ["N:;;;;", f"FN:{vtext(p.label)}", f"ORG:{vtext(p.label)};",
                          "X-ABShowAs:COMPANY"]
                w.seen(p, PHONE_BOOK, p.label)
            else:
                formal = p.nickname and w.chance(0.3)
                given = p.given if formal or not p.nickname else p.nickname
                family = p.family
                if fold_ascii(given + family) != given + family and w.chance(0.5):
                    given, family = fold_ascii(given), fold_ascii(family)
                    folded = True
                if p.typo_in_phone:
                    if w.chance(0.5):
                        given = self.typo(given)
                    else:
                        family = self.typo(family)
                middle = p.middle if p.middle and w.chance(0.3) else ""
                shown = " ".join(x for x in (given, middle, family) if x)
                self.phone_names[p.truth_id] = shown
                lines += [f"N:{vtext(family)};{vtext(given)};{vtext(middle)};;",
                          f"FN:{vtext(shown)}"]
                w.seen(p, PHONE_BOOK, f"{given} {family}")
                if p.family_title:
                    lines.append(f"NICKNAME:{p.family_title}")
                elif formal:
                    lines.append(f"NICKNAME:{p.nickname}")
                if p.company and p.kind != "owner" and w.chance(0.7) or p.title == "Plumber":
                    lines.append(f"ORG:{vtext(p.company.name)};")
                    if p.title:
                        lines.append(f"TITLE:{vtext(p.title)}")
            item = 0
            if p.personal_email:
                address = p.gmail_variant if p.gmail_variant and w.chance(0.2) else p.personal_email
                w.use_email(p, address, PHONE_BOOK)
                if w.chance(0.5):
                    lines.append(f"EMAIL;type=INTERNET;type=HOME;type=pref:{address}")
                else:
                    item += 1
                    lines += [f"item{item}.EMAIL;type=INTERNET;type=pref:{address}",
                              f"item{item}.X-ABLabel:_$!<Other>!$_"]
            if p.gmail_tagged and w.chance(0.3):
                w.use_email(p, p.gmail_tagged, PHONE_BOOK)
                item += 1
                lines += [f"item{item}.EMAIL;type=INTERNET:{p.gmail_tagged}",
                          f"item{item}.X-ABLabel:newsletters"]
            if p.work_email and (p.kind == "owner" or p.circle in ("colleague", "external")
                                 and w.chance(0.8)):
                w.use_email(p, p.work_email, PHONE_BOOK)
                lines.append(f"EMAIL;type=INTERNET;type=WORK:{p.work_email}")
            if p.mobile:
                w.use_phone(p, p.mobile, PHONE_BOOK)
                kind = "WORK" if p.kind == "business" else rng.choice(["CELL", "CELL", "IPHONE"])
                lines.append(f"TEL;type={kind};type=VOICE;type=pref:{self.phone_text(p.mobile)}")
            if p.home_line is not None:
                landline = p.home_line
                w.use_phone(landline, landline.mobile, PHONE_BOOK)
                if p.truth_id not in landline.used_by:
                    landline.used_by.append(p.truth_id)
                item += 1
                lines += [f"item{item}.TEL:{self.phone_text(landline.mobile)}",
                          f"item{item}.X-ABLabel:_$!<Home>!$_"]
            if p.kind == "person" and w.chance(0.2):
                born = date(rng.randint(1950, 2002), rng.randint(1, 12), rng.randint(1, 28))
                lines.append(f"BDAY;X-APPLE-OMIT-YEAR=1604:1604-{born:%m-%d}" if w.chance(0.2)
                             else f"BDAY;VALUE=date:{born.isoformat()}")
            if p.slug and p.kind != "owner" and w.chance(0.25):
                url = w.use_profile(p, PHONE_BOOK)
                lines.append(f"X-SOCIALPROFILE;type=linkedin;x-user={p.slug}:{url}")
            uid = w.use_uid(p, str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper(),
                            PHONE_BOOK)
            if folded:
                p.marked_uids.setdefault("no diacritics", []).append(uid)
            lines += [f"UID:{uid}", f"REV:{rev.strftime('%Y-%m-%dT%H:%M:%SZ')}", "END:VCARD"]
            out.extend(fold(line) for line in lines)
        return "\r\n".join(out) + "\r\n"

    def event_cards(self, file: str, tag: str, day: date) -> str:
        w, rng = self.w, self.rng
        scanned = file == w.mixer_file
        when = datetime.combine(day, clock(21, 0), w.tz)
        out = []
        for p in w.cards[file]:
            extra = w.card_extra.get((file, p.truth_id), {})
            co = p.org_at(when)
            title = p.old_title if co is p.old_company and p.old_company else p.title
            given = p.nickname if p.nickname and w.chance(0.3) else p.given
            middle = ""
            if p.nick_initial:
                given, middle = p.given, p.middle[0] + "."
            prodid = ("-//INTSIG//CamCard 7.4//EN" if scanned
                      else "-//Apple Inc.//iPhone OS 17.5.1//EN")
            shown = " ".join(x for x in (given, middle, p.family) if x)
            lines = ["BEGIN:VCARD", "VERSION:3.0", f"PRODID:{prodid}",
                     f"N:{vtext(p.family)};{vtext(given)};{vtext(middle)};;",
                     f"FN:{vtext(shown)}",
                     f"ORG:{vtext(co.name)};", f"TITLE:{vtext(title)}"]
            w.seen(p, file, f"{given} {p.family}")
            if not extra.get("only_role_email"):
                address = p.work_email_at(when)
                w.use_email(p, address, file)
                if w.chance(0.1):
                    local, _, domain = address.partition("@")
                    address = ".".join(x.capitalize() for x in local.split(".")) + "@" + \
                        domain.capitalize()
                lines.append(f"EMAIL;TYPE=INTERNET,WORK:{address}")
            if extra.get("role_email"):
                role = extra["role_email"]
                lines.append(f"EMAIL;TYPE=INTERNET,WORK:{w.use_email(role, role.work_email, file)}")
            if extra.get("phone"):
                if not p.mobile:
                    p.mobile = w.alloc_phone(p)
                w.use_phone(p, p.mobile, file)
                lines.append(f"TEL;TYPE={rng.choice(['CELL', 'WORK,VOICE'])}:"
                             f"{self.phone_text(p.mobile)}")
            if extra.get("role_phone"):
                role = extra["role_phone"]
                w.use_phone(role, role.mobile, file)
                lines.append(f"TEL;TYPE=WORK,VOICE:{self.phone_text(role.mobile)}")
            uid = w.use_uid(p, w.uuid(), file)
            if co is p.old_company:
                p.marked_uids.setdefault("old employer", []).append(uid)
            if middle:
                p.marked_uids.setdefault("initial", []).append(uid)
            lines += [f"URL;TYPE=WORK:https://www.{co.domain}",
                      f"NOTE:{vtext('Met at ' + tag)}", f"UID:{uid}",
                      f"REV:{when.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}", "END:VCARD"]
            out.extend(fold(line) for line in lines)
        return "\r\n".join(out) + "\r\n"

    # -- LinkedIn --------------------------------------------------------------------------

    def li_name(self, p: Person) -> str:
        if p.kind == "owner":
            return f"{p.given} {p.family}"
        return " ".join(x for x in (p.li_first or p.given, p.li_last or p.family) if x)

    def connections(self) -> str:
        w = self.w
        buf = io.StringIO()
        buf.write("Notes:\n\"When exporting your connection data, you may notice that some of the "
                  "email addresses are missing. You will only see email addresses for connections "
                  "who have allowed their connections to see or download their email address "
                  "using this setting https://www.linkedin.com/psettings/privacy/email. You can "
                  "learn more here https://www.linkedin.com/help/linkedin/answer/261\"\n\n")
        rows = csv.writer(buf, lineterminator="\n")
        rows.writerow(["First Name", "Last Name", "URL", "Email Address", "Company", "Position",
                       "Connected On"])
        for p in sorted(w.connections, key=lambda p: (-p.connected_on.toordinal(), p.truth_id)):
            if p.li_email:
                w.use_email(p, p.li_email, CONNECTIONS)
            d = p.connected_on
            rows.writerow([p.li_first, p.li_last, w.use_profile(p, CONNECTIONS), p.li_email,
                           p.company.name if p.company else "", p.title,
                           f"{d.day:02d} {MONTHS[d.month - 1]} {d.year}"])
            w.seen(p, CONNECTIONS, f"{p.li_first} {p.li_last}")
        return buf.getvalue()

    def messages(self) -> str:
        w = self.w
        buf = io.StringIO()
        rows = csv.writer(buf, lineterminator="\n")
        rows.writerow(["CONVERSATION ID", "CONVERSATION TITLE", "FROM", "SENDER PROFILE URL", "TO",
                       "RECIPIENT PROFILE URLS", "DATE", "SUBJECT", "CONTENT", "FOLDER",
                       "ATTACHMENTS"])
        for m in sorted(w.li_messages, key=lambda m: (m.when, m.conversation), reverse=True):
            for p in [m.sender, *m.recipients]:
                w.seen(p, MESSAGES, self.li_name(p))
            rows.writerow([m.conversation, m.title, self.li_name(m.sender),
                           w.use_profile(m.sender, MESSAGES),
                           ", ".join(self.li_name(p) for p in m.recipients),
                           ",".join(w.use_profile(p, MESSAGES) for p in m.recipients),
                           m.when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
                           m.subject, m.content, "INBOX", ""])
        return buf.getvalue()

    def invitations(self) -> str:
        w = self.w
        buf = io.StringIO()
        rows = csv.writer(buf, lineterminator="\n")
        rows.writerow(["From", "To", "Sent At", "Message", "Direction", "inviterProfileUrl",
                       "inviteeProfileUrl"])
        notes = ["", "", "Great meeting you!", "I'd love to connect.",
                 "Hi, I came across your profile and would like to connect."]
        for sender, receiver, when, direction in sorted(
                w.invitations, key=lambda i: (i[2], i[0].truth_id), reverse=True):
            t = when.astimezone(UTC)
            hour = t.hour % 12 or 12
            sent = f"{t.month}/{t.day}/{t.year % 100:02d}, {hour}:{t.minute:02d} " \
                   f"{'AM' if t.hour < 12 else 'PM'}"
            for p in (sender, receiver):
                w.seen(p, INVITATIONS, self.li_name(p))
            rows.writerow([self.li_name(sender), self.li_name(receiver), sent,
                           self.rng.choice(notes), direction.upper(),
                           w.use_profile(sender, INVITATIONS),
                           w.use_profile(receiver, INVITATIONS)])
        return buf.getvalue()

    # -- mail ------------------------------------------------------------------------------

    def address(self, a: Addr) -> str:
        return formataddr((a.name, a.email)) if a.name else a.email

    def mbox(self) -> str:
        w = self.w
        out = []
        for m in sorted(w.mails, key=lambda m: (m.when, m.msgid)):
            zone = ZoneInfo(m.sender.person.tz) if m.sender.person.kind in ("person", "owner") \
                else UTC
            local = m.when.astimezone(zone)
            t = m.when.astimezone(UTC)
            envelope = f"{WEEKDAYS[t.weekday()]} {MONTHS[t.month - 1]} {t.day:2d} " \
                       f"{t:%H:%M:%S} {t.year}"
            subject = m.subject if m.subject.isascii() else Header(m.subject, "utf-8").encode()
            lines = [f"From {m.sender.email} {envelope}"]
            lines += [f"{k}: {v}" for k, v in m.extra if k == "Return-Path"]
            lines += [f"Message-ID: <{m.msgid}>", f"Date: {format_datetime(local)}",
                      f"From: {self.address(m.sender)}",
                      f"To: {', '.join(self.address(a) for a in m.to)}"]
            if m.cc:
                lines.append(f"Cc: {', '.join(self.address(a) for a in m.cc)}")
            lines.append(f"Subject: {subject}")
            if m.in_reply_to:
                lines.append(f"In-Reply-To: <{m.in_reply_to}>")
                lines.append("References: " + "\n ".join(f"<{r}>" for r in m.references))
            lines += [f"{k}: {v}" for k, v in m.extra if k != "Return-Path"]
            lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8", "",
                      m.body, ""]
            out.append("\n".join(lines))
        return "\n".join(out)

    # -- calendar --------------------------------------------------------------------------

    VTIMEZONE = """BEGIN:VTIMEZONE
TZID:America/New_York
X-LIC-LOCATION:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE"""

    def person_line(self, prop: str, a: Attendee, extra: str = "") -> str:
        w = self.w
        w.use_email(a.person, a.email, CALENDAR)
        cn = a.person.label if a.person.kind in ("role",) else (
            w.own_name(a.person) if a.person.kind == "person" else a.person.name)
        cn = cn or a.person.name
        if a.person.nameless:
            cn = a.email                  # as Google Calendar writes a guest it has no name for
        else:
            w.seen(a.person, CALENDAR, cn)
        return fold(f"{prop};CN={param(cn)}{extra}:mailto:{a.email}")

    def calendar(self) -> str:
        w = self.w
        stamp = datetime.combine(w.today, clock(6, 0), UTC).strftime("%Y%m%dT%H%M%SZ")
        lines = ["BEGIN:VCALENDAR", "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
                 "VERSION:2.0", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
                 f"X-WR-CALNAME:{w.owner.work_email}", f"X-WR-TIMEZONE:{OWNER_TZ}",
                 *self.VTIMEZONE.split("\n")]
        for e in sorted(w.events, key=lambda e: (e.start, e.uid)):
            end = e.start + timedelta(minutes=e.minutes)
            if e.utc:
                times = [f"DTSTART:{utc_stamp(e.start)}", f"DTEND:{utc_stamp(end)}"]
            else:
                times = [f"DTSTART;TZID={OWNER_TZ}:{e.start:%Y%m%dT%H%M%S}",
                         f"DTEND;TZID={OWNER_TZ}:{end:%Y%m%dT%H%M%S}"]
            lines += ["BEGIN:VEVENT", *times]
            if e.rrule:
                lines.append(f"RRULE:{e.rrule}")
            lines += [f"DTSTAMP:{stamp}", self.person_line("ORGANIZER", e.organizer),
                      f"UID:{e.uid}"]
            for a in e.attendees:
                rsvp = "TRUE" if a.partstat == "NEEDS-ACTION" else "FALSE"
                lines.append(self.person_line(
                    "ATTENDEE", a, f";CUTYPE={a.cutype};ROLE={a.role};PARTSTAT={a.partstat};"
                                   f"RSVP={rsvp};X-NUM-GUESTS=0"))
            created = e.start - timedelta(days=self.rng.randint(1, 20))
            lines += [f"CREATED:{utc_stamp(min(created, w.now))}",
                      f"LAST-MODIFIED:{utc_stamp(min(created + timedelta(hours=2), w.now))}",
                      "SEQUENCE:1" if e.status == "CANCELLED" else "SEQUENCE:0",
                      f"STATUS:{e.status}", f"SUMMARY:{vtext(e.summary)}", "TRANSP:OPAQUE",
                      "END:VEVENT"]
        lines.append("END:VCALENDAR")
        return "\r\n".join(lines) + "\r\n"

    # -- chats -----------------------------------------------------------------------------

    def whatsapp(self) -> dict[str, str]:
        """One iOS WhatsApp export per chat (US layout, the owner's local time): people are
        named as the owner's phone book names them, the owner by their own profile name."""
        w, files = self.w, {}
        for group, members, lines in self.plan.whatsapp_chats:
            title = group or self.phone_names[members[0].truth_id]
            rel = f"whatsapp/WhatsApp Chat - {title}.txt"
            out = [f"[{self.ios_time(lines[0][0])}] {title}: \u200eMessages and calls are "
                   "end-to-end encrypted. No one outside of this chat, not even WhatsApp, can "
                   "read or listen to them."]
            for when, who in lines:
                name = w.owner.name if who is w.owner else self.phone_names[who.truth_id]
                w.seen(who, rel, name)
                text = "\u200eimage omitted" if self.rng.random() < 0.05 else "see you then"
                out.append(f"[{self.ios_time(when)}] {name}: {text}")
            files[rel] = "\n".join(out) + "\n"
        return files

    def ios_time(self, when: datetime) -> str:
        t = when.astimezone(self.w.tz)
        return (f"{t.month}/{t.day}/{t:%y}, {t.hour % 12 or 12}:{t:%M:%S}\u202f"
                f"{'AM' if t.hour < 12 else 'PM'}")

    def telegram(self) -> str:
        """A Telegram Desktop account export: people under the names they gave themselves."""
        w, ids = self.w, self.plan.telegram_ids
        chats = []
        for p, lines in self.plan.telegram_chats:
            messages = []
            for n, (when, who) in enumerate(lines, 1):
                name = f"{who.given} {who.family}"
                w.seen(who, TELEGRAM, name)
                messages.append({
                    "id": n, "type": "message",
                    "date": when.astimezone(w.tz).strftime("%Y-%m-%dT%H:%M:%S"),
                    "date_unixtime": str(int(when.timestamp())),
                    "from": name, "from_id": f"user{ids[who.truth_id]}", "text": "ok"})
            chats.append({"name": f"{p.given} {p.family}", "type": "personal_chat",
                          "id": ids[p.truth_id], "messages": messages})
        owner = w.owner
        data = {"about": "Here is the data you requested.",
                "personal_information": {"user_id": ids[owner.truth_id],
                                         "first_name": owner.nickname or owner.given,
                                         "last_name": owner.family},
                "chats": {"about": "", "list": chats}}
        return json.dumps(data, ensure_ascii=False, indent=1)

    # -- config and truth ------------------------------------------------------------------

    def config(self) -> str:
        w = self.w
        owner = w.owner

        def source(name: str, path: str, tag: str = "") -> str:
            text = f'[[sources]]\nname = "{name}"\nkind = "files"\npaths = ["{path}"]\n'
            return text + (f'tag = "{tag}"\n' if tag else "") + "\n"
        return (f"# A generated demo world (examples/world.py, seed {w.seed}, today "
                f"{w.today.isoformat()}). truth.json says who is who; kith never reads it.\n"
                f"[owner]\nname = \"{owner.name}\"\n"
                f"emails = [\"{owner.work_email}\", \"{owner.personal_email}\"]\n"
                f"phone_region = \"US\"\ntimezone = \"{OWNER_TZ}\"\n\n"
                "[warehouse]\n# Relative to this file.\npath = \"world.duckdb\"\n\n"
                + source("mixer-cards", w.mixer_file, w.mixer_tag)
                + source("conference-cards", w.conference_file, w.conference_tag)
                + source("phone-book", "phone")
                + source("linkedin", "linkedin")
                + source("mail", "mail")
                + source("calendar", "calendar")
                + source("chats", "whatsapp")
                + source("telegram", "telegram")).rstrip("\n") + "\n"

    def truth(self) -> str:
        def stamp(when: datetime | None) -> str | None:
            return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None
        people = []
        for p in self.w.people:
            if not p.sources:
                continue                      # planned but never written anywhere
            people.append({
                "truth_id": p.truth_id, "name": p.name,
                "tier": p.tier, "kind": p.kind, "circle": p.circle,
                "emails": p.emails, "phones": p.phones,
                "linkedin_url": p.profiles[0] if p.profiles else None,
                "card_uids": p.card_uids, "sources": sorted(p.sources),
                "names_seen": p.names_seen,
                "org": p.company.name if p.company else None,
                "org_domain": p.company.domain if p.company else None,
                "used_by": p.used_by,
                "knows": sorted(p.knows),
                "n_sent": p.n_sent, "n_received": p.n_received, "n_meetings": p.n_meetings,
                "first_interaction_at": stamp(p.first_at),
                "last_interaction_at": stamp(p.last_at),
                "last_sent_at": stamp(p.last_sent_at),
                "last_received_at": stamp(p.last_received_at),
                "notes": p.notes + (["writes their name without diacritics in mail"]
                                    if p.ascii_mail and p.n_received else []),
                "quirks": self.quirks(p),
            })
        return json.dumps(people, ensure_ascii=False, indent=1) + "\n"

    def quirks(self, p: Person) -> list[dict]:
        """What makes p hard to resolve, as the identifiers it concerns: a record holding one of
        `handles` and another of p's records holding none of them (but one of `versus`, when
        that is not empty) are the pair the quirk makes hard; `with` names other people whose
        records must stay apart from p's."""
        out = []

        def add(quirk: str, handles: list[str], versus: list[str] | None = None) -> None:
            if not handles:
                return
            if versus is not None:
                versus = sorted(set(versus) - set(handles))
                if not versus:
                    return
            out.append({"quirk": quirk, "handles": sorted(set(handles)),
                        "versus": versus or []})

        def emails(*addresses: str) -> list[str]:
            return [f"email:{e.lower()}" for e in addresses if e and e.lower() in p.emails]

        def uids(kind: str | None = None) -> list[str]:
            chosen = p.card_uids if kind is None else p.marked_uids.get(kind, [])
            return [f"uid:{u}" for u in chosen]

        profile = [f"profile:{u}" for u in p.profiles]
        mail = [f"email:{e}" for e in p.mail_emails]
        if p.nameless:
            add("address with no name", mail)
        if p.old_work_email:
            old = emails(p.old_work_email) + uids("old employer")
            add("job change (mail from the old employer)", old,
                profile + emails(p.work_email) + [u for u in uids() if u not in old])
        if p.nick_initial:
            shows_initial = profile if p.li_first.endswith(".") else []
            add("nickname vs given name + middle initial", shows_initial + uids("initial"), mail)
        if fold_ascii(p.formal_name + p.nickname) != p.formal_name + p.nickname:
            dropped = (mail if p.ascii_mail else []) + uids("no diacritics")
            add("diacritics dropped in one source", dropped,
                profile + [u for u in uids() if u not in dropped]
                + ([] if p.ascii_mail else mail))
        add("Gmail dots or +tag variant", emails(p.gmail_variant, p.gmail_tagged),
            emails(p.personal_email))
        for co in (c for c in (p.company, p.old_company) if c is not None):
            if not co.spells_domain:
                add("organisation name does not spell its domain", profile + uids(),
                    [e for e in mail if e.endswith("@" + co.domain)])
        if p.namesake:
            out.append({"quirk": "same name, same employer", "with": [p.namesake]})
        if p.home_line is not None:
            out.append({"quirk": "shared family phone",
                        "with": [t for t in p.home_line.used_by if t != p.truth_id]})
        return out


# ---------------------------------------------------------------------------------------------
# Checking the truth against the plan, and the entry points

def tier_problems(w: World) -> list[str]:
    """Where what the files hold contradicts a person's tier (a generator bug); empty if none."""
    now = w.now
    problems = []
    for p in w.people:
        if not p.sources:
            continue
        both = p.n_sent > 0 and p.n_received > 0
        last = p.last_at
        days = (now - last).total_seconds() / 86400 if last else None
        recent = (min(p.last_sent_at, p.last_received_at) if both else None)
        if p.tier in ("inner_circle", "active"):
            ok = both and (now - recent) <= timedelta(days=90)
            if p.tier == "inner_circle":
                ok = ok and (now - p.first_at).days >= 540 and p.n_sent + p.n_received >= 40
        elif p.tier == "cooling":
            ok = both and 120 <= days <= 365
        elif p.tier == "dormant":
            ok = both and days >= 395
        elif p.tier == "unanswered":
            ok = p.n_sent > 0 and p.n_received == 0 and p.n_meetings == 0
        elif p.tier == "inbound_only":
            ok = p.n_received > 0 and p.n_sent == 0 and p.n_meetings == 0
        elif p.tier == "list_only":
            ok = p.n_sent == p.n_received == p.n_meetings == 0
        else:
            ok = True
        if not ok:
            problems.append(f"{p.truth_id} {p.name} ({p.tier}, {p.circle}): sent {p.n_sent}, "
                            f"received {p.n_received}, meetings {p.n_meetings}, last {last}")
    return problems


def generate(out_dir: Path, *, seed: int = 7, today: date | None = None,
             n_connections: int = 2300) -> WorldSummary:
    """Write a demo world under `out_dir` (created if needed; files of the same names are
    overwritten, nothing else is touched: delete an old `world.duckdb` before syncing a new
    world into it) and return what was written. Raises IdentifierClash or AssertionError only
    on a generator bug."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    today = today or date.today()
    w = World(seed, today, n_connections)
    plan = Plan(w)
    plan.run()
    writer = Writer(w, plan, out_dir)
    n_cards = {}
    for file, tag, day in ((w.conference_file, w.conference_tag, w.conference_day),
                           (w.mixer_file, w.mixer_tag, w.mixer_day)):
        writer.save(file, writer.event_cards(file, tag, day))
        n_cards[file] = len(w.cards[file])
    writer.save(PHONE_BOOK, writer.phone_book())
    writer.save(CONNECTIONS, writer.connections())
    writer.save(MESSAGES, writer.messages())
    writer.save(INVITATIONS, writer.invitations())
    writer.save(MBOX, writer.mbox())
    writer.save(CALENDAR, writer.calendar())
    for rel, text in writer.whatsapp().items():
        writer.save(rel, text)
    writer.save(TELEGRAM, writer.telegram())
    writer.save("kith.toml", writer.config())
    problems = tier_problems(w)
    if problems:
        raise AssertionError("tiers contradicted by the files:\n" + "\n".join(problems))
    writer.save("truth.json", writer.truth())
    tiers: dict[str, int] = {}
    for p in w.people:
        if p.sources:
            tiers[p.tier] = tiers.get(p.tier, 0) + 1
    return WorldSummary(
        out_dir=out_dir, seed=seed, today=today, config=out_dir / "kith.toml",
        truth=out_dir / "truth.json", files=dict(sorted(writer.sizes.items())),
        tiers=dict(sorted(tiers.items())), n_truth=sum(tiers.values()),
        n_connections=len(w.connections), n_phone_cards=len(w.phone_book),
        n_event_cards=n_cards, n_mail=len(w.mails), n_linkedin_messages=len(w.li_messages),
        n_invitations=len(w.invitations), n_events=len(w.events),
        seconds=time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write a seeded demo world (exports + truth.json) for kith.")
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="the world's today, YYYY-MM-DD (default: today)")
    parser.add_argument("--connections", type=int, default=2300, dest="n_connections",
                        help="LinkedIn connections (default 2300)")
    args = parser.parse_args(argv)
    s = generate(args.out_dir, seed=args.seed, today=args.today, n_connections=args.n_connections)
    print(f"demo world in {s.out_dir} (seed {s.seed}, today {s.today}) in {s.seconds:.1f} s")
    for rel, size in s.files.items():
        print(f"  {rel:<48} {size:>10,} bytes")
    print(f"  {s.n_connections} connections, {s.n_phone_cards} phone-book cards, "
          f"{sum(s.n_event_cards.values())} event cards, {s.n_mail} mail messages, "
          f"{s.n_linkedin_messages} LinkedIn messages, {s.n_invitations} invitations, "
          f"{s.n_events} calendar events")
    print("  truth: " + ", ".join(f"{k} {v}" for k, v in s.tiers.items()))
    print(f"sync it: kith sync --config {s.config}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
