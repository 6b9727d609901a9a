"""Chats in the warehouse: who the owner is, chat days as interactions, identity, tiers.
Each test writes real export files, imports them with `kith import`'s code and reads the views."""

import math
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kith.flows.importing import run_import
from kith.transforms.runner import build
from kith.warehouse.connection import connect

NOW = datetime.now(timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)


def whatsapp(folder: Path, chat: str, lines: list[tuple[datetime, str]]) -> Path:
    """A WhatsApp iOS export (year-first dates, so no day/month doubt) of (time, sender)."""
    path = folder / f"WhatsApp Chat - {chat}.txt"
    text = "".join(f"[{t:%Y/%m/%d}, {t:%H:%M:%S}] {who}: hello\n" for t, who in lines)
    path.write_text(text, encoding="utf-8")
    return path


def ago(days: float, minutes: int = 0) -> datetime:
    return NOW - timedelta(days=days) + timedelta(minutes=minutes)


def rows(db: Path, sql: str, params=()) -> list[tuple]:
    con = connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


@pytest.fixture
def two_chats(tmp_path) -> Path:
    """Ann in a one-to-one chat named after her, 30 messages from her in one day; a lunch group
    of three that Ann is in too."""
    lines = [(ago(3, i), "Ann Example") for i in range(30)] + [(ago(3, 40), "Sam Owner")]
    whatsapp(tmp_path, "Ann Example", lines)
    whatsapp(tmp_path, "Lunch Club", [(ago(2), "Bea Fischer"), (ago(2, 5), "Sam Owner"),
                                      (ago(2, 6), "Ann Example")])
    return tmp_path


def test_the_owner_is_told_from_a_chat_named_after_the_other_person(two_chats, db_path):
    run_import([two_chats], db=db_path)
    assert rows(db_path, """select chat_id, direction, count(*) from stg_chat__messages
                            group by all order by all""") == [
        ("Ann Example", "received", 30), ("Ann Example", "sent", 1),
        ("Lunch Club", "received", 2), ("Lunch Club", "sent", 1)]


def test_chat_size_counts_the_owner_once(two_chats, db_path):
    run_import([two_chats], db=db_path)
    assert rows(db_path, "select distinct chat_id, n_people, other_people from stg_chat__messages "
                         "order by 1") == [
        ("Ann Example", 2, ["Ann Example"]), ("Lunch Club", 3, ["Ann Example", "Bea Fischer"])]


def test_a_chatty_day_is_one_interaction_that_weighs_more_slowly(two_chats, db_path):
    run_import([two_chats], db=db_path)
    got = rows(db_path, """
        select i.channel, i.direction, i.n_messages, i.weight, i.is_reply, i.n_participants
        from interactions as i join people as p using (person_id)
        where p.display_name = 'Ann Example' order by i.interaction_at, i.direction""")
    assert got == [
        ("whatsapp", "received", 30, round(1 + 0.5 * math.log(30), 4), True, 2),
        ("whatsapp", "sent", 1, 1.0, True, 2),
        ("whatsapp", "sent", 1, round(1 / math.sqrt(2), 4), True, 3),
        ("whatsapp", "received", 1, round(1 / math.sqrt(2), 4), True, 3)]


def test_the_owners_chat_record_is_the_owner(two_chats, db_path):
    run_import([two_chats], db=db_path)
    assert rows(db_path, "select is_owner from people where display_name = 'Sam Owner'") == [
        (True,)]


def test_reimporting_adds_nothing(two_chats, db_path):
    run_import([two_chats], db=db_path)
    summary = run_import([two_chats], db=db_path)
    assert (summary.total("n_new"), summary.total("n_already_present")) == (0, 34)
    assert rows(db_path, "select count(*) from raw_chat_messages") == [(34,)]


def test_chat_volume_weight_is_a_setting(two_chats, db_path):
    run_import([two_chats], db=db_path)
    con = connect(db_path)
    con.execute("update relationship_settings set chat_volume_weight = 1")
    build(con)
    got = con.execute("select max(weight) from interactions").fetchone()
    con.close()
    assert got == (round(1 + math.log(30), 4),)


def test_a_big_group_proves_no_relationship(tmp_path, db_path):
    members = [f"Person {chr(65 + i)} Number{i}" for i in range(10)]
    whatsapp(tmp_path, "Street party", [(ago(1, i), m) for i, m in enumerate(members)]
             + [(ago(1, 30), "Sam Owner")])
    run_import([tmp_path], db=db_path)
    con = connect(db_path)
    con.execute("insert into owner_chat_names values ('Sam Owner', now())")
    build(con)
    con.close()
    assert rows(db_path, """select distinct n_participants, is_small_group, tier
                            from interactions join relationships using (person_id)""") == [
        (11, False, "seen_only")]


def test_owner_names_given_by_the_user(tmp_path, db_path):
    whatsapp(tmp_path, "Trip planning", [(ago(5), "Cleo Park"), (ago(5, 3), "Me Myself"),
                                         (ago(5, 4), "Dan Oduya")])
    run_import([tmp_path], db=db_path)
    assert rows(db_path, "select distinct direction from stg_chat__messages") == [("unknown",)]
    from kith.flows.cli import app
    from typer.testing import CliRunner
    result = CliRunner().invoke(app, ["owner", "--name", "Me Myself", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "Me Myself  (in chats)" in result.output
    assert rows(db_path, "select sender, direction from stg_chat__messages order by sent_at") == [
        ("Cleo Park", "received"), ("Me Myself", "sent"), ("Dan Oduya", "received")]


def test_a_number_in_a_chat_links_to_the_card_with_that_number(tmp_path, db_path):
    whatsapp(tmp_path, "Ann Example", [(ago(4), "Ann Example"), (ago(4, 1), "Sam Owner"),
                                       (ago(4, 2), "+44 7700 900123")])
    (tmp_path / "brother.vcf").write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Olu Example\nTEL;TYPE=CELL:+44 7700 900123\nEND:VCARD\n")
    run_import([tmp_path], db=db_path)
    assert rows(db_path, """select display_name, record_kinds from people
                            where list_contains(phones, '+447700900123')""") == [
        ("Olu Example", ["card", "chat"])]


def test_a_whatsapp_name_links_to_the_phone_book_card_of_that_name(tmp_path, db_path):
    whatsapp(tmp_path, "Ingrid Oyelaran", [(ago(4), "Ingrid Oyelaran"), (ago(4, 1), "Sam Owner")])
    (tmp_path / "book.vcf").write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Ingrid Oyelaran\nEMAIL:ingrid@example.org\nEND:VCARD\n")
    run_import([tmp_path], db=db_path)
    assert rows(db_path, """select display_name, record_kinds, primary_email from people
                            where display_name = 'Ingrid Oyelaran'""") == [
        ("Ingrid Oyelaran", ["card", "chat"], "ingrid@example.org")]


def test_a_friend_met_only_in_chat_is_a_real_relationship(tmp_path, db_path):
    # two-way chat most weeks of the last year, never an e-mail
    lines = []
    for week in range(50):
        lines += [(ago(7 * week + 1), "Noor Haddad"), (ago(7 * week + 1, 5), "Sam Owner")]
    whatsapp(tmp_path, "Noor Haddad", sorted(lines))
    run_import([tmp_path], db=db_path)
    assert rows(db_path, """select tier, n_chat_days, n_chat_messages, is_two_way
                            from relationships join people using (person_id)
                            where display_name = 'Noor Haddad'""") == [
        ("inner_circle", 100, 100, True)]


def test_imessage_is_from_me_gives_the_direction(tmp_path, db_path):
    path = tmp_path / "chat.db"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT);
        CREATE TABLE message (ROWID INTEGER PRIMARY KEY, guid TEXT, handle_id INTEGER,
                              date INTEGER, is_from_me INTEGER);
        INSERT INTO handle VALUES (1, '+14155550100');
    """)
    apple = (NOW - datetime(2001, 1, 1, tzinfo=timezone.utc)).total_seconds()
    con.executemany("INSERT INTO message VALUES (?, ?, 1, ?, ?)",
                    [(1, "A", int((apple - 86400) * 1e9), 0),
                     (2, "B", int((apple - 86000) * 1e9), 1)])
    con.commit()
    con.close()
    run_import([path], db=db_path)
    assert rows(db_path, """select channel, direction, n_participants from interactions
                            order by direction""") == [
        ("imessage", "received", 2), ("imessage", "sent", 2)]


def test_an_old_warehouse_upgrades_and_takes_chats(db_path, tmp_path):
    from kith.warehouse.schema import migrate
    import duckdb
    con = duckdb.connect(str(db_path))
    migrate(con, target=7)
    con.close()
    whatsapp(tmp_path, "Ann Example", [(ago(1), "Ann Example"), (ago(1, 1), "Sam Owner")])
    summary = run_import([tmp_path], db=db_path)
    assert summary.total("n_new") == 2
    assert rows(db_path, "select chat_volume_weight from relationship_settings") == [(0.5,)]


def test_suggest_finds_the_name_in_every_chat(two_chats, db_path):
    from kith.transforms.identity.owner import suggest_owner_chat_names
    run_import([two_chats], db=db_path)
    con = connect(db_path)
    try:
        assert suggest_owner_chat_names(con) == [("whatsapp", "Ann Example", 2, 2),
                                                 ("whatsapp", "Sam Owner", 2, 2)]
    finally:
        con.close()


def test_a_chat_day_is_the_owners_day(tmp_path, db_path):
    # 23:30 and 00:30 UTC are one evening in New York
    evening = (NOW - timedelta(days=3)).replace(hour=23, minute=30)
    whatsapp(tmp_path, "Ann Example", [(evening, "Ann Example"),
                                       (evening + timedelta(hours=1), "Ann Example"),
                                       (evening + timedelta(hours=1, minutes=5), "Sam Owner")])
    run_import([tmp_path], db=db_path)
    assert rows(db_path, """select direction, n_messages from interactions
                            order by interaction_at""") == [
        ("received", 1), ("received", 1), ("sent", 1)]
    con = connect(db_path)
    con.execute("update relationship_settings set owner_timezone = 'America/New_York'")
    build(con)
    con.close()
    assert rows(db_path, """select direction, n_messages from interactions
                            order by interaction_at""") == [("received", 2), ("sent", 1)]


def test_a_sync_stores_the_owners_zone(tmp_path, db_path):
    from kith.flows.config import load_config
    from kith.flows.sync import prepare
    config_path = tmp_path / "kith.toml"
    config_path.write_text(f'[owner]\ntimezone = "Europe/Berlin"\n'
                           f'[warehouse]\npath = "{db_path}"\n')
    prepare(load_config(config_path))
    assert rows(db_path, "select owner_timezone from relationship_settings") == [
        ("Europe/Berlin",)]
