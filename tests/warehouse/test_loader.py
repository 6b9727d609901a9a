import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from kith.records import (ContactCard, Deleted, Email, FolderState, Mailbox, MailMessage,
                                Phone, Rejected, SocialInvitation, SocialMessage)
from kith.transforms.runner import build
from kith.warehouse.connection import connect
from kith.warehouse.loader import load_records
from kith.warehouse.state import get_cursor

URI = "file:///cards.vcf"


def card(position, name, uid=None, email=None, **extra):
    return ContactCard(position=position, raw_text=f"FN:{name}", source_format="vcard-3.0",
                       full_name=name, uid=uid,
                       emails=[Email(email, email.lower())] if email else [], **extra)


def stack():
    return [card(1, "Jane Doe", uid="u-jane", email="Jane@Acme.com"),
            card(8, "Bob Stone", email="bob@stone.example"),
            Rejected(15, "card has no name, e-mail, phone or organisation", "BEGIN:VCARD\nEND:VCARD")]


@pytest.fixture
def con(db_path):
    con = connect(db_path)
    yield con
    con.close()


def test_first_load_counts_new_cards_and_rejects(con):
    result = load_records(con, "vcard", URI, stack())
    assert (result.n_read, result.n_new, result.n_updated, result.n_already_present,
            result.n_rejected) == (3, 2, 0, 0, 1)


def test_reloading_the_same_records_inserts_nothing(con):
    load_records(con, "vcard", URI, stack())
    again = load_records(con, "vcard", URI, stack())
    assert (again.n_new, again.n_updated, again.n_already_present, again.n_rejected) == (0, 0, 2, 1)
    assert con.execute("select count(*) from raw_contacts").fetchone() == (2,)
    assert con.execute("select count(*) from rejects").fetchone() == (1,)


def test_edited_card_with_same_uid_is_a_new_version_of_the_same_record(con):
    load_records(con, "vcard", URI, stack())
    edited = stack()
    edited[0].title = "CTO"
    result = load_records(con, "vcard", URI, edited)
    assert (result.n_new, result.n_updated, result.n_already_present) == (0, 1, 1)
    assert con.execute("select count(distinct record_key), count(*) from raw_contacts "
                       "where uid = 'u-jane'").fetchone() == (1, 2)


def test_revision_alone_does_not_make_a_new_version(con):
    load_records(con, "vcard", URI, stack())
    touched = stack()
    touched[0].revision = "2026-11-21T10:00:00Z"
    result = load_records(con, "vcard", URI, touched)
    assert result.n_inserted == 0


def test_same_card_twice_in_one_load_is_stored_once(con):
    result = load_records(con, "vcard", URI, [card(1, "Ann Lee"), card(5, "Ann Lee")])
    assert (result.n_new, result.n_already_present) == (1, 1)
    assert con.execute("select position from raw_contacts").fetchall() == [(1,)]


def test_same_uid_twice_in_one_load_with_different_content_keeps_both_versions(con):
    result = load_records(con, "vcard", URI, [card(1, "Ann Lee", uid="x"),
                                              card(5, "Ann Lee-Smith", uid="x")])
    assert (result.n_new, result.n_updated) == (1, 1)


def test_lineage_is_stored_with_each_card(con):
    result = load_records(con, "vcard", URI, stack())
    row = con.execute("select source_kind, source_uri, position, load_id, length(record_hash) "
                      "from raw_contacts where uid = 'u-jane'").fetchone()
    assert row == ("vcard", URI, 1, result.load_id, 64)


def test_nested_emails_round_trip(con):
    load_records(con, "vcard", URI, [ContactCard(
        position=1, raw_text="", source_format="vcard-3.0", full_name="Ann",
        emails=[Email(" Ann@X.org ", "ann@x.org", ["work", "pref"], "Work")],
        phones=[Phone("(415) 555-0100", "+14155550100", ["cell"])])])
    emails, phones = con.execute("select emails, phones from raw_contacts").fetchone()
    assert emails == [{"address": " Ann@X.org ", "normalized": "ann@x.org",
                       "types": ["work", "pref"], "label": "Work"}]
    assert phones[0]["e164"] == "+14155550100"


def test_ledger_row_records_counts_and_tag(con):
    result = load_records(con, "vcard", URI, stack(), tag="Chamber mixer")
    row = con.execute("select status, tag, n_read, n_inserted, n_already_present, n_rejected, "
                      "finished_at >= started_at from loads where load_id = ?",
                      [result.load_id]).fetchone()
    assert row == ("completed", "Chamber mixer", 3, 2, 0, 1, True)


def test_tag_attaches_to_cards_already_present(con):
    load_records(con, "vcard", URI, stack())
    load_records(con, "vcard", URI, stack(), tag="mixer")
    assert con.execute("select count(*) from record_tags where tag = 'mixer'").fetchone() == (2,)


def test_reject_row_keeps_reason_position_and_raw_text(con):
    load_records(con, "vcard", URI, stack())
    assert con.execute("select position, reason, raw_text from rejects").fetchone() == (
        15, "card has no name, e-mail, phone or organisation", "BEGIN:VCARD\nEND:VCARD")


def test_a_connector_failing_midway_leaves_the_warehouse_as_it_was(con):
    load_records(con, "vcard", URI, stack())

    def breaks():
        yield card(1, "Carl New")
        raise OSError("disk went away")

    with pytest.raises(OSError):
        load_records(con, "vcard", "file:///other.vcf", breaks())
    assert con.execute("select count(*) from raw_contacts").fetchone() == (2,)
    assert con.execute("select status, error from loads order by load_id desc limit 1"
                       ).fetchone() == ("failed", "OSError: disk went away")


CRASHING_LOAD = textwrap.dedent("""
    import sys, time
    from kith.records import ContactCard
    from kith.warehouse.connection import connect
    from kith.warehouse.loader import load_records

    def cards():
        for i in range(20_000):
            yield ContactCard(position=i + 1, raw_text="", source_format="vcard-3.0",
                              full_name=f"Person {i}")
        print("all read", flush=True)
        time.sleep(60)

    con = connect(sys.argv[1])
    load_records(con, "vcard", "file:///big.vcf", cards(), batch_size=1000)
""")


def test_kill_9_during_a_load_leaves_the_warehouse_as_it_was(db_path, tmp_path):
    con = connect(db_path)
    load_records(con, "vcard", URI, stack())
    con.close()
    script = tmp_path / "crash.py"
    script.write_text(CRASHING_LOAD)
    proc = subprocess.Popen([sys.executable, str(script), str(db_path)], stdout=subprocess.PIPE,
                            text=True, cwd=os.getcwd(),
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.stdout.readline().strip() == "all read"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    con = connect(db_path)
    assert con.execute("select count(*) from raw_contacts").fetchone() == (2,)
    assert con.execute("select count(*) from loads").fetchone() == (1,)
    con.close()


def message(position, message_id, sender="ann@example.org", folder=None):
    return MailMessage(position=position, raw_text=f"Message-ID: <{message_id}>", folder=folder,
                       message_id=message_id, has_message_id=True,
                       from_=[Mailbox("Ann", sender, sender)],
                       to=[Mailbox(None, "me@example.org", "me@example.org")])


def test_a_message_seen_in_two_places_is_one_message_with_two_sightings(con):
    load_records(con, "mbox", "file:///all.mbox", [message(1, "a@x"), message(40, "b@x")])
    result = load_records(con, "imap", "imap://me@host/INBOX", [message(7, "a@x", folder="INBOX")])
    assert (result.n_new, result.n_already_present) == (0, 1)
    assert con.execute("select count(*) from raw_messages").fetchone() == (2,)
    assert con.execute("select source_uri, position from message_sightings "
                       "where record_key = 'mid:a@x' order by 1").fetchall() == [
        ("file:///all.mbox", 1), ("imap://me@host/INBOX", 7)]


def test_reimporting_messages_adds_nothing(con):
    load_records(con, "mbox", "file:///all.mbox", [message(1, "a@x"), message(40, "b@x")])
    again = load_records(con, "mbox", "file:///all.mbox", [message(1, "a@x"), message(40, "b@x")])
    assert (again.n_new, again.n_already_present) == (0, 2)
    assert con.execute("select count(*) from message_sightings").fetchone() == (2,)


def test_message_addresses_round_trip(con):
    load_records(con, "mbox", "file:///all.mbox", [message(1, "a@x")])
    assert con.execute("select from_addrs, to_addrs[1].normalized from raw_messages").fetchone() == (
        [{"name": "Ann", "address": "ann@example.org", "normalized": "ann@example.org"}],
        "me@example.org")


def test_cursor_is_stored_with_the_records_it_covers(con):
    load_records(con, "imap", "imap://me@host/INBOX",
                 [message(7, "a@x"), FolderState("imap://me@host/INBOX",
                                                 {"uidvalidity": 5, "last_uid": 7})])
    assert get_cursor(con, "imap://me@host/INBOX") == {"uidvalidity": 5, "last_uid": 7}


def test_cursor_of_a_failed_load_is_not_kept(con):
    def drops():
        yield message(7, "a@x")
        raise ConnectionResetError("server went away")

    with pytest.raises(ConnectionResetError):
        load_records(con, "imap", "imap://me@host/INBOX", drops())
    assert get_cursor(con, "imap://me@host/INBOX") is None
    assert con.execute("select count(*) from raw_messages").fetchone() == (0,)


def test_a_failure_after_a_cursor_keeps_the_chunk_it_covers_and_nothing_after(con):
    def drops():
        yield message(7, "a@x")
        yield FolderState("imap://me@host/INBOX", {"uidvalidity": 5, "last_uid": 7})
        yield message(8, "b@x")
        raise ConnectionResetError("server went away")

    with pytest.raises(ConnectionResetError):
        load_records(con, "imap", "imap://me@host/INBOX", drops())
    assert get_cursor(con, "imap://me@host/INBOX") == {"uidvalidity": 5, "last_uid": 7}
    assert con.execute("select position from raw_messages").fetchall() == [(7,)]
    assert con.execute("select status, n_read, error from loads").fetchall() == [
        ("failed", 1, "ConnectionResetError: server went away")]


def test_a_reset_cursor_drops_the_sightings_of_earlier_loads_of_that_source(con):
    uri = "imap://me@host/INBOX"
    load_records(con, "imap", uri, [message(7, "a@x"), FolderState(uri, {"uidvalidity": 5})])
    load_records(con, "imap", uri, [message(1, "a@x"),
                                    FolderState(uri, {"uidvalidity": 6}, is_reset=True)])
    assert con.execute("select position from message_sightings").fetchall() == [(1,)]


def carddav_card(uid, name, href):
    return ContactCard(position=1, raw_text="", source_format="vcard-3.0", full_name=name,
                       uid=uid, item=href)


def test_a_card_deleted_on_the_carddav_server_is_no_longer_current(con):
    book = "http://dav.example/book/"
    load_records(con, "carddav", book, [carddav_card("a", "Ann", "/a.vcf"),
                                        carddav_card("b", "Bo", "/b.vcf")])
    load_records(con, "carddav", book, [Deleted("/a.vcf")])
    build(con)
    assert con.execute("select full_name from stg_contacts__cards").fetchall() == [("Bo",)]


def test_a_card_also_in_a_file_stays_when_deleted_on_the_server(con):
    book = "http://dav.example/book/"
    load_records(con, "carddav", book, [carddav_card("a", "Ann", "/a.vcf")])
    load_records(con, "vcard", URI, [card(1, "Ann", uid="a")])
    load_records(con, "carddav", book, [Deleted("/a.vcf")])
    build(con)
    assert con.execute("select count(*) from stg_contacts__cards").fetchone() == (1,)


def social_message(mid, sender):
    return SocialMessage(position=2, raw_text="", platform="linkedin", conversation_id="c1",
                         sender_name="Ann Lee", sender_profile=sender,
                         recipient_profiles=["https://linkedin.com/in/me"], message_id=mid)


def test_social_messages_are_stored_once(con):
    msgs = [social_message("m1", "https://linkedin.com/in/ann"),
            social_message("m2", "https://linkedin.com/in/ann")]
    load_records(con, "linkedin", "file:///export.zip", msgs)
    again = load_records(con, "linkedin", "file:///export.zip", msgs)
    assert (again.n_new, again.n_already_present) == (0, 2)
    assert con.execute("select count(*) from raw_social_messages").fetchone() == (2,)


def test_invitations_are_stored_with_their_direction(con):
    load_records(con, "linkedin", "file:///export.zip", [SocialInvitation(
        position=2, raw_text="", platform="linkedin", direction="outgoing", other_name="Bo",
        other_profile="https://linkedin.com/in/bo")])
    assert con.execute("select direction, other_profile from raw_social_invitations").fetchone() == (
        "outgoing", "https://linkedin.com/in/bo")


def test_a_card_missing_from_a_later_export_to_the_same_file_stays(con):
    load_records(con, "vcard", URI, [card(1, "Ann", uid="a"), card(9, "Bo", uid="b")])
    load_records(con, "vcard", URI, [card(1, "Cy", uid="c")])
    build(con)
    assert con.execute("select full_name from stg_contacts__cards order by 1").fetchall() == [
        ("Ann",), ("Bo",), ("Cy",)]


def test_linkedin_connection_date_and_carddav_href_are_stored(con):
    from datetime import date
    load_records(con, "linkedin", "file:///Connections.csv", [ContactCard(
        position=5, raw_text="", source_format="linkedin-connection", full_name="Ann",
        connected_on=date(2024, 5, 30))])
    load_records(con, "carddav", "http://dav.example/book/", [carddav_card("b", "Bo", "/b.vcf")])
    assert con.execute("select connected_on, item from raw_contacts order by full_name"
                       ).fetchall() == [(date(2024, 5, 30), None), (None, "/b.vcf")]
