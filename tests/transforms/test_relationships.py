"""Interactions, relationships and tiers, from real files imported into a real warehouse.

The files (an mbox, a calendar, a LinkedIn export, business cards) are written in a temporary
folder with dates relative to now, so that "10 days ago" stays 10 days ago whenever the suite
runs. Each person in them is one case: `ann` a recent two-way exchange, `bob` one long ago...
"""

from __future__ import annotations

import math
import shutil
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from typer.testing import CliRunner

from kith.flows.cli import app
from kith.flows.importing import run_import
from kith.transforms.relationships import DEFAULTS, apply_settings, read_settings, snapshot_tiers
from kith.transforms.runner import build
from kith.warehouse.connection import connect

ME = "me@home.example"
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def ago(days: float, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


# --- writing the files ----------------------------------------------------------------------

def message(mid: str, sender: str, to: list[str], when: datetime, cc: tuple = (),
            in_reply_to: str | None = None, headers: tuple = ()) -> str:
    lines = [f"From {sender} {when:%a %b %d %H:%M:%S %Y}",
             f"Message-ID: <{mid}>",
             f"Date: {format_datetime(when)}",
             f"From: {sender}",
             f"To: {', '.join(to)}"]
    if cc:
        lines.append(f"Cc: {', '.join(cc)}")
    if in_reply_to:
        lines += [f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"]
    lines += ["Subject: hello", *headers, "MIME-Version: 1.0", "", "Body.", ""]
    return "\n".join(lines)


def weekly_exchange(name: str, weeks: int) -> list[str]:
    """A week-by-week two-way exchange with `name`, for the last `weeks` weeks."""
    mails = []
    for week in range(weeks):
        mine = f"{name}-w{week}@home.example"
        mails.append(message(mine, ME, [f"{name}@close.example"], ago(7 * week + 2)))
        mails.append(message(f"{name}-r{week}@close.example", f"{name}@close.example", [ME],
                             ago(7 * week + 1), in_reply_to=mine))
    return mails


MAILS = [
    # ann: a 1:1 exchange 10 days ago, she answered
    message("ann-1@home.example", ME, ["ann@acme.example"], ago(10)),
    message("ann-2@acme.example", "ann@acme.example", [ME], ago(9), in_reply_to="ann-1@home.example"),
    # bob: two-way, but 500 days ago
    message("bob-1@home.example", ME, ["bob@old.example"], ago(500)),
    message("bob-2@old.example", "bob@old.example", [ME], ago(499), in_reply_to="bob-1@home.example"),
    # carl: two-way 200 days ago, nothing since
    message("carl-1@home.example", ME, ["carl@cool.example"], ago(201)),
    message("carl-2@cool.example", "carl@cool.example", [ME], ago(200), in_reply_to="carl-1@home.example"),
    # dana: the owner wrote twice, no answer
    message("dana-1@home.example", ME, ["dana@nowhere.example"], ago(40)),
    message("dana-2@home.example", ME, ["dana@nowhere.example"], ago(20)),
    # rita: a recruiter, never answered
    message("rita-1@recruit.example", "rita@recruit.example", [ME], ago(30)),
    message("rita-2@recruit.example", "rita@recruit.example", [ME], ago(15)),
    # a newsletter
    message("news-1@shop.example", "offers@shop.example", [ME], ago(3),
            headers=("List-Id: Shop offers <offers.shop.example>",
                     "List-Unsubscribe: <mailto:unsubscribe@shop.example>",
                     "Precedence: bulk")),
    # kim writes to 39 people and copies the owner
    message("kim-1@big.example", "kim@big.example",
            [f"staff{i}@big.example" for i in range(39)], ago(6), cc=(ME,)),
    # pat: clocks gone wrong
    message("pat-1@skew.example", "pat@skew.example", [ME], datetime(1970, 1, 1, tzinfo=timezone.utc)),
    message("pat-2@home.example", ME, ["pat@skew.example"], datetime(2100, 1, 1, tzinfo=timezone.utc)),
    # the owner writes to a mailing list, whose posts carry a List-Id
    message("dev-1@home.example", ME, ["dev@lists.example"], ago(12)),
    message("dev-2@lists.example", "quinn@else.example", ["dev@lists.example"], ago(11),
            headers=("List-Id: <dev.lists.example>", "Precedence: list")),
    # ivy, met at the mixer: the owner wrote afterwards
    message("ivy-1@home.example", ME, ["ivy@mixer.example"], ago(25)),
    # olga: a weekly exchange for a year
    *weekly_exchange("olga", 52),
]


def event(uid: str, start: datetime, organizer: str, attendees: list[tuple[str, str]],
          status: str | None = None) -> str:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
             f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}",
             f"ORGANIZER:mailto:{organizer}"]
    if status:
        lines.append(f"STATUS:{status}")
    for email, partstat in attendees:
        lines.append(f"ATTENDEE;PARTSTAT={partstat}:mailto:{email}")
    return "\r\n".join(lines + ["END:VEVENT"])


EVENTS = [
    # the owner declined a meeting with erin
    event("declined", ago(5), "erin@decline.example",
          [(ME, "DECLINED"), ("erin@decline.example", "ACCEPTED")]),
    # a cancelled one with hal
    event("cancelled", ago(5), ME, [("hal@cancel.example", "ACCEPTED")], status="CANCELLED"),
    # a 3-person meeting: owner, fay, gus
    event("small", ago(4), ME, [(ME, "ACCEPTED"), ("fay@small.example", "ACCEPTED"),
                                ("gus@small.example", "ACCEPTED")]),
    # a 200-person all-hands
    event("all-hands", ago(3), "ceo@big.example",
          [(ME, "ACCEPTED")] + [(f"colleague{i}@big.example", "NEEDS-ACTION")
                                for i in range(198)]),
]

LINKEDIN_CONNECTIONS = (
    "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
    "Hana,Ito,https://www.linkedin.com/in/hana-ito,,Ito Design,Founder,01 Jun 2024\n"
    "Lia,Moreau,https://www.linkedin.com/in/lia-moreau,,Moreau Labs,CTO,02 Jun 2024\n")


def linkedin_messages() -> str:
    def row(mid, sender, sender_url, to, to_url, when):
        return (f"conv-lia,,{sender},{sender_url},{to},{to_url},"
                f"{when:%Y-%m-%d %H:%M:%S} UTC,,text {mid},INBOX,\n")
    me_url, lia_url = "https://www.linkedin.com/in/me-owner", "https://www.linkedin.com/in/lia-moreau"
    return ("CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,"
            "DATE,SUBJECT,CONTENT,FOLDER,ATTACHMENTS\n"
            + row(0, "Me Owner", me_url, "Zed Quiet", "https://www.linkedin.com/in/zed-quiet",
                  ago(60)).replace("conv-lia", "conv-zed")
            + row(1, "Me Owner", me_url, "Lia Moreau", lia_url, ago(8))
            + row(2, "Lia Moreau", lia_url, "Me Owner", me_url, ago(7)))


def vcard(name: str, email: str) -> str:
    return f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{name}\r\nEMAIL:{email}\r\nEND:VCARD\r\n"


MIXER_TAG = f"Chamber mixer {ago(30):%Y-%m-%d}"


def write_files(folder):
    mail = folder / "mail" / "archive.mbox"
    mail.parent.mkdir(parents=True)
    mail.write_text("\n".join(MAILS), encoding="utf-8")
    ics = folder / "calendar" / "work.ics"
    ics.parent.mkdir()
    ics.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + "\r\n".join(EVENTS)
                   + "\r\nEND:VCALENDAR\r\n", encoding="utf-8")
    linkedin = folder / "linkedin"
    linkedin.mkdir()
    (linkedin / "Connections.csv").write_text(LINKEDIN_CONNECTIONS, encoding="utf-8")
    (linkedin / "messages.csv").write_text(linkedin_messages(), encoding="utf-8")
    cards = folder / "cards" / "mixer.vcf"
    cards.parent.mkdir()
    cards.write_text(vcard("Ivy Chen", "ivy@mixer.example")
                     + vcard("Jack Stone", "jack@mixer.example"), encoding="utf-8")
    return mail, ics, linkedin, cards


def make_warehouse(folder, *, owner: bool = True):
    db = folder / "kith.duckdb"
    if owner:
        con = connect(db)
        con.execute("insert into owner_addresses values (?, now())", [ME])
        con.close()
    mail, ics, linkedin, cards = write_files(folder)
    run_import([mail, ics, linkedin], db=db)
    run_import([cards], db=db, tag=MIXER_TAG)
    return db


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return make_warehouse(tmp_path_factory.mktemp("relationships"))


@pytest.fixture
def con(warehouse):
    con = connect(warehouse, read_only=True)
    yield con
    con.close()


@pytest.fixture
def writable(warehouse, tmp_path):
    """A copy of the warehouse that a test may change."""
    copy = tmp_path / "copy.duckdb"
    shutil.copy(warehouse, copy)
    con = connect(copy)
    yield con
    con.close()


def person(con, handle: str) -> int:
    """The person with this e-mail address, or this profile (seen in messages, or on a
    LinkedIn connection's card)."""
    keys = ([f"social:{handle}", f"card:uid:{handle}"] if handle.startswith("https://")
            else [f"email:{handle}"])
    return con.execute("select min(person_id) from person_ids where record_key in (?, ?)",
                       (keys + keys)[:2]).fetchone()[0]


def relationship(con, handle: str, columns: str):
    return con.execute(f"select {columns} from relationships where person_id = ?",
                       [person(con, handle)]).fetchone()


def interactions(con, handle: str, columns: str = "channel, direction"):
    return con.execute(f"select {columns} from interactions where person_id = ? "
                       "order by interaction_at", [person(con, handle)]).fetchall()


# --- tiers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("handle, tier", [
    ("ann@acme.example", "active"),
    ("olga@close.example", "inner_circle"),
    ("carl@cool.example", "cooling"),
    ("bob@old.example", "dormant"),
    ("dana@nowhere.example", "unanswered"),
    ("rita@recruit.example", "inbound_only"),
    ("https://linkedin.com/in/hana-ito", "list_only"),
    ("offers@shop.example", "seen_only"),
    ("fay@small.example", "active"),
    ("colleague7@big.example", "seen_only"),
    ("https://linkedin.com/in/lia-moreau", "active"),
    ("https://linkedin.com/in/zed-quiet", "unanswered"),
    ("ivy@mixer.example", "unanswered"),
])
def test_tier(con, handle, tier):
    assert relationship(con, handle, "tier") == (tier,)


def test_recent_one_to_one_exchange_counts_both_ways_and_the_reply(con):
    assert relationship(con, "ann@acme.example",
                        "n_interactions, n_sent, n_received, n_replies_sent, n_replies_received, "
                        "n_interactions_30d, n_interactions_365d, is_two_way") == (
        2, 1, 1, 0, 1, 2, 2, True)


def test_reply_is_told_by_in_reply_to(con):
    assert interactions(con, "ann@acme.example", "direction, is_reply") == [
        ("sent", False), ("received", True)]


def test_unanswered_counts_only_what_the_owner_sent(con):
    assert relationship(con, "dana@nowhere.example", "n_sent, n_received, is_two_way") == (
        2, 0, False)


def test_strength_is_the_documented_formula(con):
    ages = [10, 9]                                   # ann: two 1:1 e-mails, weight 1 each
    decayed = sum(0.5 ** (age / DEFAULTS["half_life_days"]) for age in ages)
    duration = 1                                     # days from the first to the last
    expected = 100 * (1 - math.exp(-decayed / DEFAULTS["intensity_scale"])) * (
        0.6 + 0.3 * 1.0 + 0.1 * duration / 730)
    strength, reciprocity = relationship(con, "ann@acme.example", "strength, reciprocity")
    assert (strength, reciprocity) == (pytest.approx(expected, abs=0.11), 1.0)


def test_strength_decays_so_an_old_friendship_is_weaker_now_than_when_it_went_quiet(con):
    now, then = relationship(con, "bob@old.example", "strength, strength_at_last_contact")
    assert now < 0.05 * then


def test_reconnect_lists_the_cooling(con):
    assert con.execute("select person_id, reconnect_rank from reconnect").fetchall() == [
        (person(con, "carl@cool.example"), 1)]


# --- what is, and is not, an interaction --------------------------------------------------------

def test_newsletter_is_no_interaction(con):
    assert interactions(con, "offers@shop.example") == []


def test_declined_meeting_is_no_interaction(con):
    assert interactions(con, "erin@decline.example") == []


def test_cancelled_meeting_is_no_interaction(con):
    assert interactions(con, "hal@cancel.example") == []


def test_mail_to_a_mailing_list_is_no_interaction(con):
    assert interactions(con, "dev@lists.example") == []


def test_clock_skewed_dates_are_no_interaction(con):
    assert interactions(con, "pat@skew.example") == []


def test_small_meeting_is_an_interaction_both_ways(con):
    assert interactions(con, "fay@small.example",
                        "channel, direction, n_participants, organizer, owner_partstat") == [
        ("meeting", "both", 3, "owner", "ACCEPTED")]


def test_linkedin_messages_are_interactions_with_their_reply(con):
    assert interactions(con, "https://linkedin.com/in/lia-moreau",
                        "channel, direction, is_reply") == [
        ("linkedin", "sent", False), ("linkedin", "received", True)]


# --- intimacy ---------------------------------------------------------------------------------

def weight(con, handle: str) -> float:
    (value,) = interactions(con, handle, "weight")[0]
    return value


def test_a_seat_in_an_all_hands_weighs_a_tenth_of_a_three_person_meeting(con):
    assert (weight(con, "fay@small.example"), weight(con, "colleague7@big.example")) == (
        pytest.approx(2 / math.sqrt(2), abs=1e-4), pytest.approx(2 / math.sqrt(199), abs=1e-4))


def test_one_cc_among_forty_weighs_under_a_tenth_of_a_one_to_one_mail(con):
    assert weight(con, "kim@big.example") == pytest.approx(0.5 / math.sqrt(40), abs=1e-4)
    assert weight(con, "rita@recruit.example") == 1.0


def test_large_group_contact_adds_strength_but_makes_no_relationship(con):
    assert relationship(con, "kim@big.example", "tier, n_received, n_small_group_received") == (
        "seen_only", 1, 0)


# --- follow-ups and the summary -----------------------------------------------------------------

def test_follow_ups_say_which_cards_were_followed_up_since_the_day_met(con):
    rows = con.execute("select display_name, met_on, is_followed_up from follow_ups "
                       "order by display_name").fetchall()
    assert rows == [("Ivy Chen", ago(30).date(), True), ("Jack Stone", ago(30).date(), False)]


def summary(con, list_name: str) -> str:
    return con.execute("select summary from network_summary where list_name = ?",
                       [list_name]).fetchone()[0]


def test_summary_of_linkedin(con):
    assert summary(con, "LinkedIn") == (
        "LinkedIn: 2 connections, 1 with two-way contact (50.0%), 1 active")


def test_summary_of_a_card_tag(con):
    assert summary(con, f"cards: {MIXER_TAG}") == (
        f"cards tagged '{MIXER_TAG}': 2 people, 1 followed up (50.0%)")


def test_no_warning_when_the_owner_is_configured(con):
    assert con.execute("select count(*) from network_summary where kind = 'warning'"
                       ).fetchone() == (0,)


def test_every_person_but_the_owner_has_a_relationship(con):
    assert con.execute("select count(*) from relationships").fetchone() == con.execute(
        "select count(*) from people where not is_owner").fetchone()


# --- the owner not configured -------------------------------------------------------------------

@pytest.fixture(scope="module")
def ownerless(tmp_path_factory):
    return make_warehouse(tmp_path_factory.mktemp("ownerless"), owner=False)


def test_without_owner_address_status_says_so(ownerless):
    result = CliRunner().invoke(app, ["status", "--db", str(ownerless)])
    text = " ".join(result.output.split())
    assert result.exit_code == 0
    assert text.startswith("No owner address configured: kith cannot tell which of 121 "
                           "e-mails you sent or received, nor which of 4 calendar events")
    assert "Run `kith owner you@example.com`" in text


def test_without_owner_address_nobody_is_inbound_only(ownerless):
    con = connect(ownerless, read_only=True)
    try:
        tiers = dict(con.execute("select tier, count(*) from relationships group by tier"
                                 ).fetchall())
    finally:
        con.close()
    assert "inbound_only" not in tiers


# --- the CLI ------------------------------------------------------------------------------------

def test_status_prints_lists_and_tiers(warehouse):
    result = CliRunner().invoke(app, ["status", "--db", str(warehouse)])
    assert result.exit_code == 0
    assert "LinkedIn: 2 connections, 1 with two-way contact (50.0%), 1 active" in result.output
    assert "inbound_only" in result.output


def test_people_lists_one_tier(warehouse):
    result = CliRunner().invoke(app, ["people", "--tier", "cooling", "--db", str(warehouse)])
    assert result.exit_code == 0
    assert "carl@cool.example" in result.output
    assert "1 cooling" in result.output


def test_people_refuses_an_unknown_tier(warehouse):
    result = CliRunner().invoke(app, ["people", "--tier", "besties", "--db", str(warehouse)])
    assert result.exit_code == 2


# --- settings and snapshots -------------------------------------------------------------------

def test_defaults_are_those_of_the_migration(con):
    assert read_settings(con) == DEFAULTS


def test_settings_change_the_tiers(writable):
    apply_settings(writable, {"cooling_days": 600})
    assert relationship(writable, "bob@old.example", "tier") == ("cooling",)


def test_settings_left_out_go_back_to_their_defaults(writable):
    apply_settings(writable, {"active_days": 30})
    apply_settings(writable, {"half_life_days": 60})
    assert read_settings(writable)["active_days"] == DEFAULTS["active_days"]


@pytest.mark.parametrize("settings, problem", [
    ({"half_lif_days": 30}, "half_lif_days: not a relationship setting"),
    ({"active_days": 0}, "active_days: 0 should be more than 0"),
    ({"active_days": 1.5}, "active_days: 1.5 should be an integer"),
    ({"active_days": 400}, "cooling_days (365) should be at least active_days (400)"),
    ({"cc_weight": True}, "cc_weight: True should be a number"),
])
def test_settings_that_make_no_sense_are_refused(writable, settings, problem):
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        apply_settings(writable, settings)


def test_first_snapshot_holds_everyone(writable):
    writable.execute("delete from tier_snapshots")
    n_people = writable.execute("select count(*) from relationships").fetchone()[0]
    assert snapshot_tiers(writable) == n_people


def test_snapshot_records_nothing_when_no_tier_changed(writable):
    snapshot_tiers(writable)
    assert snapshot_tiers(writable) == 0


def test_tier_changes_shows_who_moved_since_the_previous_snapshot(writable):
    writable.execute("delete from tier_snapshots")
    snapshot_tiers(writable)
    apply_settings(writable, {"active_days": 5, "cooling_days": 600})
    build(writable)
    snapshot_tiers(writable)
    moved = writable.execute("select previous_tier, tier, count(*) from tier_changes "
                             "group by all order by all").fetchall()
    assert moved == [("active", "cooling", 2), ("dormant", "cooling", 1)]


def test_no_tier_changes_after_the_first_snapshot(writable):
    writable.execute("delete from tier_snapshots")
    snapshot_tiers(writable)
    assert writable.execute("select count(*) from tier_changes").fetchone() == (0,)


# --- keys ---------------------------------------------------------------------------------------

MODEL_KEYS = {
    "interactions": ["person_id", "source_key"],
    "relationships": ["person_id"],
    "network": ["person_id"],
    "reconnect": ["person_id"],
    "follow_ups": ["tag", "person_id"],
    "network_summary": ["list_name"],
    "tier_changes": ["person_id"],
}


@pytest.mark.parametrize("model", sorted(MODEL_KEYS))
def test_model_key_is_unique_and_not_null(con, model):
    key = ", ".join(MODEL_KEYS[model])
    dupes, nulls = con.execute(f"""
        select (select count(*) from (select {key} from {model} group by all having count(*) > 1)),
               (select count(*) from {model} where {' or '.join(k + ' is null' for k in
                                                                 MODEL_KEYS[model])})""").fetchone()
    assert (dupes, nulls) == (0, 0)


# --- a person with thousands of interactions ------------------------------------------------

def test_thousands_of_interactions_stay_within_the_scale(tmp_path):
    mails = []
    for i in range(1500):
        mine = f"busy-{i}@home.example"
        mails.append(message(mine, ME, ["max@busy.example"], ago(i % 700, hours=3)))
        mails.append(message(f"busy-r{i}@busy.example", "max@busy.example", [ME],
                             ago(i % 700, hours=1), in_reply_to=mine))
    (tmp_path / "busy.mbox").write_text("\n".join(mails) + "\n", encoding="utf-8")
    db = tmp_path / "busy.duckdb"
    con = connect(db)
    con.execute("insert into owner_addresses values (?, now())", [ME])
    con.close()
    run_import([tmp_path / "busy.mbox"], db=db)
    con = connect(db, read_only=True)
    row = con.execute("""select r.n_interactions, r.strength, r.tier from relationships as r
                         join people as p using (person_id)
                         where p.primary_email = 'max@busy.example'""").fetchone()
    con.close()
    assert row[0] == 3000
    assert 90 < row[1] <= 100
    assert row[2] == "inner_circle"
