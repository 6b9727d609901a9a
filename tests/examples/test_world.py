"""examples/world.py: the demo world is the same for the same seed, its truth.json accounts for
every identifier its files hold, and `kith sync` imports it whole."""

import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from kith.connectors.ics import read_ics
from kith.connectors.linkedin import read_linkedin
from kith.connectors.mail import read_mail
from kith.phones import normalize_phone
from kith.profiles import normalize_profile_url
from kith.records import (ContactCard, EventOccurrence, MailMessage, SocialInvitation,
                                SocialMessage)
from kith.connectors.vcard import read_vcards
from tests.example_world import load_world

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 6, 1)
SMALL = 300                       # LinkedIn connections in the test world



world = load_world()


@pytest.fixture(scope="module")
def small_world(tmp_path_factory):
    return world.generate(tmp_path_factory.mktemp("world"), seed=7, today=TODAY,
                          n_connections=SMALL)


@pytest.fixture(scope="module")
def truth(small_world):
    return json.loads(small_world.truth.read_text(encoding="utf-8"))


def folded(address: str) -> str:
    local, _, domain = address.lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


# --- the generator ----------------------------------------------------------------------------

def test_same_seed_and_day_give_the_same_bytes(small_world, tmp_path):
    again = world.generate(tmp_path, seed=7, today=TODAY, n_connections=SMALL)
    assert list(again.files) == list(small_world.files)
    different = [rel for rel in small_world.files
                 if (tmp_path / rel).read_bytes() != (small_world.out_dir / rel).read_bytes()]
    assert different == []


def test_another_seed_gives_another_world(small_world, tmp_path):
    other = world.generate(tmp_path, seed=8, today=TODAY, n_connections=SMALL)
    assert (other.out_dir / world.MBOX).read_bytes() != \
        (small_world.out_dir / world.MBOX).read_bytes()


def test_writes_the_export_files_and_a_config(small_world):
    cards = sorted(k for k in small_world.files if k.startswith("cards/"))
    assert set(small_world.files) - set(cards) == {
        "calendar/calendar.ics", "kith.toml", "linkedin/Connections.csv",
        "linkedin/Invitations.csv", "linkedin/messages.csv", "mail/mail.mbox",
        "phone/contacts.vcf", "telegram/result.json", "truth.json",
        *(k for k in small_world.files if k.startswith("whatsapp/WhatsApp Chat - "))}
    assert len([k for k in small_world.files if k.startswith("whatsapp/")]) == 5
    assert cards == sorted(small_world.n_event_cards)
    assert [c.split("-20")[0] for c in cards] == ["cards/chamber-mixer", "cards/data-summit"]


def test_tier_counts_are_in_range(truth):
    tiers = Counter(p["tier"] for p in truth)
    assert tiers["owner"] == 1
    assert 12 <= tiers["inner_circle"] <= 18
    assert 40 <= tiers["active"] <= 60
    assert 20 <= tiers["cooling"] <= 30
    assert 12 <= tiers["dormant"] <= 18
    assert 15 <= tiers["unanswered"] <= 25
    introduced = sum(p["circle"] == "introduced" for p in truth)
    assert 25 <= tiers["inbound_only"] - introduced <= 35
    assert 24 <= introduced <= 48          # 12 companies, 2-4 people each
    assert tiers["list_only"] >= SMALL
    assert tiers["automated"] >= 10 and tiers["role"] >= 4


def test_tiers_agree_with_the_interaction_counts(truth):
    wrong = []
    for p in truth:
        sent, received = p["n_sent"], p["n_received"]
        if p["tier"] in ("inner_circle", "active", "cooling", "dormant"):
            ok = sent > 0 and received > 0
        elif p["tier"] == "unanswered":
            ok = sent > 0 and received == 0
        elif p["tier"] == "inbound_only":
            ok = sent == 0 and received > 0
        elif p["tier"] == "list_only":
            ok = sent == received == p["n_meetings"] == 0
        else:
            ok = True
        if not ok:
            wrong.append(p["truth_id"])
    assert wrong == []


# --- truth.json covers every identifier -------------------------------------------------------

def test_no_two_truth_entries_share_an_identifier(truth):
    owners = {}
    clashes = []
    for p in truth:
        keys = ([("email", folded(e)) for e in p["emails"]]
                + [("phone", n) for n in p["phones"]]
                + [("uid", u) for u in p["card_uids"]]
                + ([("profile", normalize_profile_url(p["linkedin_url"]))]
                   if p["linkedin_url"] else []))
        for key in set(keys):
            if owners.setdefault(key, p["truth_id"]) != p["truth_id"]:
                clashes.append(key)
    assert clashes == []


QUIRKS = {"address with no name", "job change (mail from the old employer)",
          "nickname vs given name + middle initial", "diacritics dropped in one source",
          "Gmail dots or +tag variant", "organisation name does not spell its domain",
          "same name, same employer", "shared family phone"}


def test_the_world_holds_every_quirk_of_issue_11(truth):
    assert {q["quirk"] for p in truth for q in p["quirks"]} == QUIRKS


def test_a_quirk_names_only_its_persons_own_identifiers(truth):
    wrong = []
    for p in truth:
        own = ({f"email:{e}" for e in p["emails"]} | {f"phone:{n}" for n in p["phones"]}
               | {f"uid:{u}" for u in p["card_uids"]}
               | ({f"profile:{p['linkedin_url']}"} if p["linkedin_url"] else set()))
        for q in p["quirks"]:
            named = set(q.get("handles", [])) | set(q.get("versus", []))
            if not named <= own or set(q.get("handles", [])) & set(q.get("versus", [])):
                wrong.append((p["truth_id"], q["quirk"]))
    assert wrong == []


def test_people_to_keep_apart_share_a_name_and_employer_or_a_phone(truth):
    people = {p["truth_id"]: p for p in truth}
    pairs = {(p["truth_id"], other, q["quirk"]) for p in truth for q in p["quirks"]
             for other in q.get("with", [])}
    wrong = []
    for a, b, quirk in pairs:
        pa, pb = people[a], people[b]
        if quirk == "same name, same employer":
            ok = (pa["name"], pa["org"]) == (pb["name"], pb["org"])
        else:                       # the line is a truth entry of its own that both use
            ok = any({a, b} <= set(r["used_by"]) and r["phones"] for r in truth
                     if r["circle"] == "landline")
        if not ok or (b, a, quirk) not in pairs:
            wrong.append((a, b, quirk))
    assert wrong == []


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ID_LINE = re.compile(r"^(Message-ID|In-Reply-To|References|UID):", re.I)


def test_every_address_written_anywhere_is_a_truth_address(small_world, truth):
    seen = set()
    for rel in small_world.files:
        if rel == "truth.json":
            continue
        text = (small_world.out_dir / rel).read_text(encoding="utf-8")
        # Unfold: vCard and iCalendar lines continue without the space, mail headers with it.
        text = text.replace("\n ", "" if rel.endswith((".vcf", ".ics")) else " ")
        for line in text.splitlines():
            if not _ID_LINE.match(line):
                seen.update(a.lower() for a in _EMAIL.findall(line))
    assert seen == {e for p in truth for e in p["emails"]}


@pytest.fixture(scope="module")
def records(small_world):
    out = small_world.out_dir
    found = []
    for path in sorted((out / "cards").iterdir()) + [out / world.PHONE_BOOK]:
        found.extend(read_vcards(path, default_region="US"))
    found.extend(read_linkedin(out / "linkedin"))
    found.extend(read_mail(out / world.MBOX))
    found.extend(read_ics(out / world.CALENDAR, owner_tz=world.OWNER_TZ))
    return found


def test_every_address_kith_reads_belongs_to_one_truth_person(records, truth):
    known = {folded(e): p["truth_id"] for p in truth for e in p["emails"]}
    addresses = set()
    for r in records:
        if isinstance(r, ContactCard):
            addresses.update(e.normalized for e in r.emails)
        elif isinstance(r, MailMessage):
            addresses.update(m.normalized for m in r.from_ + r.to + r.cc)
        elif isinstance(r, EventOccurrence):
            addresses.update(a.normalized for a in r.attendees + [r.organizer])
    assert None not in addresses
    assert {a for a in addresses if folded(a) not in known} == set()


def test_every_phone_kith_reads_is_a_truth_phone(records, truth):
    phones = [p.e164 for r in records if isinstance(r, ContactCard) for p in r.phones]
    assert None not in phones
    assert set(phones) == {n for p in truth for n in p["phones"]}


def test_every_profile_kith_reads_is_a_truth_profile(records, truth):
    profiles = set()
    for r in records:
        if isinstance(r, ContactCard):
            profiles.update(normalize_profile_url(link.value) for link in r.links
                            if link.service == "linkedin")
        elif isinstance(r, SocialMessage):
            profiles.update([r.sender_profile, *r.recipient_profiles])
        elif isinstance(r, SocialInvitation):
            profiles.add(r.other_profile)
    expected = {normalize_profile_url(p["linkedin_url"]) for p in truth if p["linkedin_url"]}
    assert None not in profiles
    assert profiles == expected


def test_every_vcard_uid_is_a_truth_uid(records, truth):
    uids = [r.uid for r in records
            if isinstance(r, ContactCard) and r.source_format.startswith("vcard")]
    assert len(uids) == len(set(uids))
    assert set(uids) == {u for p in truth for u in p["card_uids"]}


def test_phone_numbers_are_written_in_many_ways(small_world):
    text = (small_world.out_dir / world.PHONE_BOOK).read_text(encoding="utf-8")
    numbers = re.findall(r"^(?:item\d+\.)?TEL[^:]*:(.*)$", text, re.M)
    shapes = {re.sub(r"\d", "9", n.strip()) for n in numbers}
    assert len(shapes) >= 6
    assert all(normalize_phone(n, "US") for n in numbers)


# --- kith syncs it ----------------------------------------------------------------------------

def kith(*args):
    exe = Path(sys.executable).with_name("kith")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "kith.flows.cli"]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "COLUMNS": "200"}
    env.pop("PREFECT_API_URL", None)
    env.pop("KITH_DB", None)
    return subprocess.run(command + [str(a) for a in args], capture_output=True, text=True,
                          env=env, cwd=PROJECT_ROOT, timeout=300)


@pytest.fixture(scope="module")
def synced(small_world):
    proc = kith("sync", "--config", small_world.config)
    return proc, small_world.out_dir / "world.duckdb"


def sql(db: Path, query: str) -> list[dict]:
    proc = kith("sql", "--db", db, "--format", "json", query)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def counts(synced):
    # Three queries, to keep each failure message short.
    _, db = synced
    return {
        **sql(db, """select (select count(*) from rejects) as rejects,
                            (select count(*) from loads where status <> 'completed')
                                as failed_loads,
                            (select count(*) from contacts) as contacts,
                            (select count(*) from stg_social__messages) as social_messages,
                            (select count(*) from stg_social__invitations) as invitations""")[0],
        **sql(db, """select count(*) as messages,
                            count(*) filter (where direction = 'neither') as neither,
                            count(*) filter (where direction = 'sent') as sent
                     from stg_mail__messages""")[0],
        **sql(db, """select count(*) filter (where owner_partstat = 'DECLINED') as declined,
                            count(*) filter (where status = 'CANCELLED') as cancelled,
                            max(n_people) as max_people,
                            (select count(*) from stg_calendar__attendees
                             where cutype = 'ROOM') as rooms
                     from stg_calendar__events""")[0],
    }


def test_sync_exits_cleanly(synced):
    proc, _ = synced
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_sync_rejects_nothing(counts):
    assert (counts["rejects"], counts["failed_loads"]) == (0, 0)


def test_sync_reads_every_card_and_connection(counts, small_world):
    assert counts["contacts"] == (small_world.n_phone_cards + SMALL
                                  + sum(small_world.n_event_cards.values()))


def test_sync_reads_every_message(counts, small_world):
    assert (counts["messages"], counts["social_messages"], counts["invitations"]) == \
        (small_world.n_mail, small_world.n_linkedin_messages, small_world.n_invitations)


def test_every_message_is_to_or_from_the_owner(counts):
    assert counts["neither"] == 0 and counts["sent"] > 1000


def test_calendar_holds_declined_cancelled_and_all_hands(counts):
    assert counts["declined"] >= 3 and counts["cancelled"] >= 1
    assert counts["max_people"] >= 150 and counts["rooms"] > 0


def test_cards_carry_their_event_tag(synced, small_world):
    _, db = synced
    tags = {r["tag"]: r["n"] for r in sql(db, "select tag, count(*) as n from record_tags "
                                              "group by tag")}
    assert sorted(tags.values()) == sorted(small_world.n_event_cards.values())
    assert all(t.startswith(("Chamber mixer ", "Northeast Data Summit ")) for t in tags)


def test_mail_from_automated_senders_is_flagged(synced, truth):
    _, db = synced
    automated = ", ".join(f"'{e}'" for p in truth if p["tier"] == "automated"
                          for e in p["emails"])
    missed = sql(db, f"select from_email, count(*) as n from stg_mail__messages "
                     f"where from_email in ({automated}) and not is_automated group by 1")
    assert missed == []


def test_every_chat_message_has_a_direction(synced):
    _, db = synced
    rows = sql(db, """select platform, direction, count(*) as n from stg_chat__messages
                      where is_counted group by all order by all""")
    assert [(r["platform"], r["direction"]) for r in rows] == [
        ("telegram", "received"), ("telegram", "sent"), ("whatsapp", "received"),
        ("whatsapp", "sent")]


def test_friends_close_only_through_chat_are_two_way_and_strong(synced, truth):
    # The world's `today` is fixed and tiers count from now, so this checks what does not
    # age: two-way contact, and how strong it was at the last message (bench/
    # relationships_world.py scores the tiers on a world of today). Matched by the name the
    # phone book gives them, their only identifier in the chats.
    _, db = synced
    chat_friends = {p["name"]: p["tier"] for p in truth if p["circle"] == "chat friend"}
    rows = sql(db, """select p.display_name, r.is_two_way, r.strength_at_last_contact
                      from people as p join relationships as r using (person_id)
                      where list_contains(p.record_kinds, 'chat')""")
    kith = {r["display_name"]: r for r in rows}
    assert sorted(chat_friends.values()) == ["active", "active", "active", "cooling",
                                             "inner_circle", "inner_circle"]
    assert {n: kith[n]["is_two_way"] for n in chat_friends} == {n: True for n in chat_friends}
    assert [n for n, t in chat_friends.items()
            if t == "inner_circle" and kith[n]["strength_at_last_contact"] < 80] == []


# --- who knows whom ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def person_of_email(synced):
    import duckdb

    _, db = synced
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("select unnest(emails), person_id from people").fetchall()
    pairs = set(con.execute("select person_a_id, person_b_id from acquaintances").fetchall())
    con.close()
    return {folded(e): pid for e, pid in rows}, pairs


def known_pairs(truth):
    people = {p["truth_id"]: p for p in truth}
    return [(p, people[t]) for p in truth if p["circle"] == "introduced" for t in p["knows"]]


def test_world_says_who_knows_whom(truth):
    assert len(known_pairs(truth)) >= 24


def test_everyone_who_knows_someone_there_is_an_acquaintance(truth, person_of_email):
    person_of, pairs = person_of_email
    missing = []
    for employee, introducer in known_pairs(truth):
        a = {person_of.get(folded(e)) for e in employee["emails"]} - {None}
        b = {person_of.get(folded(e)) for e in introducer["emails"]} - {None}
        if not any((min(x, y), max(x, y)) in pairs for x in a for y in b):
            missing.append((employee["name"], introducer["name"]))
    assert missing == []


def test_intro_lists_a_true_introducer_for_every_introduced_company(synced, truth,
                                                                   person_of_email):
    import duckdb

    from kith.transforms.introductions import PATH_COLUMNS, find_paths, find_target

    person_of, _ = person_of_email
    knowers = {}
    for employee, introducer in known_pairs(truth):
        if introducer["tier"] in ("inner_circle", "active"):
            knowers.setdefault(employee["org"], set()).update(
                person_of.get(folded(e)) for e in introducer["emails"])
    _, db = synced
    con = duckdb.connect(str(db), read_only=True)
    missed = []
    for company, people in sorted(knowers.items()):
        paths = [dict(zip(PATH_COLUMNS, row)) for row in find_paths(con, find_target(con, company))]
        if not {p["introducer_person_id"] for p in paths} & people:
            missed.append(company)
    con.close()
    assert missed == []
