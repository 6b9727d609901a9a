from datetime import datetime, timezone

import pytest

from kith.records import Mailbox, MailMessage
from kith.transforms.runner import build
from kith.warehouse.connection import connect
from kith.warehouse.loader import load_records

ME = "me@home.example"


def box(address, name=None):
    return Mailbox(name, address, address.lower())


def msg(mid, sender, to=(), cc=(), in_reply_to=None, references=(), sender_name=None,
        **headers):
    return MailMessage(position=1, raw_text="", folder=None, message_id=mid, has_message_id=True,
                       sent_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
                       from_=[box(sender, sender_name)],
                       to=[box(a) for a in to], cc=[box(a) for a in cc], in_reply_to=in_reply_to,
                       references=list(references), **headers)


@pytest.fixture
def con(db_path):
    con = connect(db_path)
    con.execute("insert into owner_addresses values (?, now())", [ME])
    load_records(con, "mbox", "file:///mail.mbox", [
        msg("1@x", ME, to=["ann@acme.example"]),
        msg("2@x", "ann@acme.example", to=[ME], in_reply_to="1@x", sender_name="Ann Lee"),
        msg("3@x", ME, to=["ann@acme.example"], in_reply_to="2@x", references=["2@x"]),
        msg("4@x", "bob@acme.example", to=["team@acme.example"], cc=[ME]),
        msg("5@x", "news@shop.example", to=[ME], list_id="<offers.shop.example>"),
        msg("6@x", "noreply@bank.example", to=[ME]),
        msg("7@x", "MAILER-DAEMON@mx.example", to=[ME]),
        msg("8@x", "eve@else.example", to=["zed@else.example"]),
        msg("9@x", "ann@acme.example", to=[ME], references=["root@x", "1@x"],
            gmail_thread_id="1784"),
        msg("10@x", "sam@acme.example", to=[ME], precedence="bulk"),
        msg("11@x", "sam@acme.example", to=[ME], auto_submitted="auto-replied"),
        msg("12@x", "sam@acme.example", to=[ME], auto_submitted="no"),
    ])
    build(con)
    yield con
    con.close()


def fact(con, mid, column):
    return con.execute(f"select {column} from stg_mail__messages where message_id = ?",
                       [mid]).fetchone()[0]


@pytest.mark.parametrize("mid, direction", [("1@x", "sent"), ("2@x", "received"),
                                            ("4@x", "received"), ("8@x", "neither")])
def test_direction_is_relative_to_the_owner(con, mid, direction):
    assert fact(con, mid, "direction") == direction


def test_owner_only_in_cc_is_told_apart_from_owner_in_to(con):
    assert (fact(con, "4@x", "is_owner_in_to"), fact(con, "4@x", "is_owner_only_cc")) == (
        False, True)
    assert (fact(con, "2@x", "is_owner_in_to"), fact(con, "2@x", "is_owner_only_cc")) == (
        True, False)


def test_recipients_are_counted_with_and_without_the_owner(con):
    assert (fact(con, "4@x", "n_recipients"), fact(con, "4@x", "n_other_recipients")) == (2, 1)


def test_chain_of_replies_gives_one_thread_even_when_references_lists_only_the_parent(con):
    threads = {fact(con, mid, "thread_id") for mid in ("1@x", "2@x", "3@x")}
    assert threads == {"mid:1@x"}


def test_gmail_thread_id_wins_over_references(con):
    assert fact(con, "9@x", "thread_id") == "gm:1784"


def test_reply_points_at_the_message_it_answers(con):
    assert fact(con, "3@x", "reply_to_message_key") == "mid:2@x"


@pytest.mark.parametrize("mid, reason", [
    ("5@x", "List-Id header"),
    ("6@x", "automated sender: noreply@bank.example"),
    ("7@x", "automated sender: mailer-daemon@mx.example"),
    ("10@x", "Precedence: bulk"),
    ("11@x", "Auto-Submitted: auto-replied"),
])
def test_automated_mail_says_why(con, mid, reason):
    assert (fact(con, mid, "is_automated"), fact(con, mid, "automated_reason")) == (True, reason)


@pytest.mark.parametrize("mid", ["1@x", "2@x", "4@x", "12@x"])
def test_mail_between_people_is_not_automated(con, mid):
    assert fact(con, mid, "is_automated") is False


def test_addresses_become_handles_with_the_names_they_were_seen_with(con):
    row = con.execute("select display_names, n_messages, n_sent_by, is_owner "
                      "from stg_mail__addresses where email = 'ann@acme.example'").fetchone()
    assert row == (["Ann Lee"], 4, 2, False)


def test_an_address_written_as_the_display_name_is_no_name(con):
    load_records(con, "mbox", "file:///more.mbox", [
        msg("13@x", "kim@acme.example", to=[ME], sender_name="'kim@acme.example'"),
        msg("14@x", "kim@acme.example", to=[ME], sender_name="Kim Berg")])
    build(con)
    assert con.execute("select display_names from stg_mail__addresses "
                       "where email = 'kim@acme.example'").fetchone() == (["Kim Berg"],)
