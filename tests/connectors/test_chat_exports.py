"""Telegram, Messenger / Instagram, iMessage and X exports: fixtures per edge case, a chat.db
written here with SQLite, and the real exports of the shared corpus."""

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kith.connectors.detect import IMESSAGE, MESSENGER, TELEGRAM, X_DMS, detect
from kith.connectors.imessage import NotChatDb, apple_time, read_chat_db
from kith.connectors.messenger import read_meta_messages, repair_mojibake
from kith.connectors.telegram import NotTelegram, read_telegram
from kith.connectors.x_archive import read_x_dms
from kith.records import ChatMessage, Rejected

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chats"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def messages(records: list) -> list[ChatMessage]:
    return [r for r in records if isinstance(r, ChatMessage)]


# Telegram

def test_telegram_account_export_knows_the_owner():
    records = list(read_telegram(FIXTURES / "telegram" / "account-export.json"))
    assert [(r.chat_id, r.message_id, r.kind, r.sender_id, r.is_from_owner, r.sent_at)
            for r in messages(records)] == [
        ("2000002", "11", "message", "user2000002", False, utc(2025, 3, 1, 9, 0)),
        ("2000002", "12", "message", "user1000001", True, utc(2025, 3, 1, 9, 5)),
        ("2000002", "13", "system", "user1000001", True, utc(2025, 3, 1, 9, 6)),
        ("2000002", "14", "media", "user2000002", False, utc(2025, 3, 2, 10, 0)),
        ("3000003", "1", "system", "user4000004", False, utc(2025, 2, 1, 8, 0)),
        ("3000003", "2", "message", "user4000004", False, utc(2025, 2, 1, 8, 1)),
    ]


def test_telegram_message_without_a_date_is_rejected():
    records = list(read_telegram(FIXTURES / "telegram" / "account-export.json"))
    rejected = [r for r in records if isinstance(r, Rejected)]
    assert [(r.position, r.reason) for r in rejected] == [
        (3, "Telegram message in chat 'Climbing' without a readable date")]
    assert "text" not in rejected[0].raw_text


def test_a_result_json_that_is_not_telegram_is_refused():
    path = FIXTURES / "telegram" / "not-telegram" / "result.json"
    assert detect(path) is TELEGRAM
    with pytest.raises(NotTelegram, match="result.json is JSON but not a Telegram Desktop "
                                          "export: it has no chats or messages"):
        list(read_telegram(path))


def test_telegram_cut_short_is_refused(tmp_path):
    path = tmp_path / "result.json"
    path.write_text((FIXTURES / "telegram" / "account-export.json").read_text()[:700])
    with pytest.raises(NotTelegram, match="is not complete JSON"):
        list(read_telegram(path))


def test_corpus_telegram_single_chat(corpus):
    path = corpus / "messaging" / "telegram" / "langchain-community__telegram_chat_json__result.json"
    assert detect(path) is TELEGRAM
    records = list(read_telegram(path))
    assert [(r.sender_id, r.sender_name, r.sent_at) for r in records] == [
        ("user123450513", "Jimmeny Marvelton", utc(2023, 8, 23, 20, 11, 23)),
        ("user6565661032", "Batman & Robin", utc(2023, 8, 23, 20, 13, 20)),
        ("user123450513", "Jimmeny Marvelton", utc(2023, 8, 23, 20, 15, 35)),
        ("user123450513", "Jimmeny Marvelton", utc(2023, 8, 23, 20, 15, 53)),
    ]
    assert {(r.chat_id, r.chat_type, r.is_from_owner) for r in records} == {
        ("5965280513", "personal_chat", None)}


def test_corpus_telegram_saved_messages_are_the_owners(corpus):
    records = list(read_telegram(corpus / "messaging" / "telegram" / "telegram-chat-parser__saved.json"))
    assert len(records) == 21
    assert {(r.sender_id, r.is_from_owner) for r in records} == {
        ("user9999999999", True), ("user10036995664", False)}
    assert [r.kind for r in records].count("system") == 1


def test_corpus_telegram_account_style_without_ids(corpus):
    path = corpus / "messaging" / "telegram" / "chat-miner__test_batch_export.json"
    assert detect(path) is TELEGRAM
    records = list(read_telegram(path))
    assert [(r.chat_id, r.sender_name, r.sender_id, r.sent_at) for r in records] == [
        ("Chatname", "Author 1", None, utc(2018, 12, 5, 10, 39, 10)),
        ("Chatname", "Author 2", None, utc(2018, 12, 5, 10, 49, 24))]


# Messenger and Instagram

def test_mojibake_is_repaired_and_other_text_kept():
    assert repair_mojibake("Zo\u00c3\u00ab") == "Zoë"
    assert repair_mojibake("\u00e2\u009d\u00a4\u00ef\u00b8\u008f") == "❤️"
    assert repair_mojibake("Zoë") == "Zoë"        # already right: not UTF-8 bytes
    assert repair_mojibake("日本") == "日本"


def test_messenger_thread_kinds_and_members():
    path = FIXTURES / "messenger" / "inbox" / "zoeangstrom_10150" / "message_1.json"
    assert detect(path) is MESSENGER
    records = list(read_meta_messages(path))
    assert [(r.sender_name, r.kind, r.sent_at) for r in messages(records)] == [
        ("Sam Owner", "message", utc(2025, 1, 1, 12, 0)),
        ("Zoë Ångström", "message", utc(2025, 1, 1, 11, 0)),
        ("Zoë Ångström", "call", utc(2025, 1, 1, 10, 58, 20)),
        ("Sam Owner", "deleted", utc(2025, 1, 1, 10, 56, 40)),
    ]
    assert {(r.platform, r.chat_id, tuple(r.members)) for r in messages(records)} == {
        ("messenger", "inbox/zoeangstrom_10150", ("Zoë Ångström", "Sam Owner"))}
    assert [(r.position, r.reason) for r in records if isinstance(r, Rejected)] == [
        (5, "Meta message without a readable timestamp_ms")]


def test_corpus_instagram_group_with_mojibake(corpus):
    records = list(read_meta_messages(corpus / "messaging" / "facebook" / "chat-miner__instagram__testlog.json"))
    assert len(records) == 13
    assert {r.platform for r in records} == {"instagram"}
    assert records[0].members == ["John Doe", "J❤️hn Doe", "Jane Doe", "Lionel Messi"]
    assert [r.sender_name for r in records][9:11] == ["❤️", "J❤️hn Doe"]


def test_corpus_facebook_messenger(corpus):
    records = list(read_meta_messages(corpus / "messaging" / "facebook" / "langchain-community__facebook_chat.json"))
    assert (len(records), records[0].platform, records[0].sender_name, records[0].sent_at) == (
        11, "messenger", "User 2", datetime(2023, 2, 5, 11, 46, 11, 851000, tzinfo=timezone.utc))
    assert [r.kind for r in records].count("media") == 1


# iMessage

def make_chat_db(path: Path, *, nanoseconds: bool = True, extra_column: bool = False) -> Path:
    """A chat.db with the tables and columns macOS Messages writes (the ones kith reads, plus
    a few it does not), filled with three chats."""
    con = sqlite3.connect(path)
    extra = ", is_spam INTEGER DEFAULT 0, thread_originator_guid TEXT" if extra_column else ""
    con.executescript(f"""
        CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT, country TEXT, service TEXT);
        CREATE TABLE message (ROWID INTEGER PRIMARY KEY, guid TEXT, text TEXT, handle_id INTEGER,
            service TEXT, date INTEGER, is_from_me INTEGER, associated_message_type INTEGER,
            item_type INTEGER, attributedBody BLOB{extra});
        CREATE TABLE chat (ROWID INTEGER PRIMARY KEY, guid TEXT, chat_identifier TEXT,
            display_name TEXT, style INTEGER);
        CREATE TABLE chat_message_join (chat_id INTEGER, message_id INTEGER);
        CREATE TABLE chat_handle_join (chat_id INTEGER, handle_id INTEGER);
        INSERT INTO handle VALUES (1, '+14155550100', 'us', 'iMessage'),
                                  (2, 'zoe@example.org', 'us', 'iMessage'),
                                  (3, '+447700900123', 'gb', 'SMS');
        INSERT INTO chat VALUES (1, 'iMessage;-;+14155550100', '+14155550100', '', 45),
                                (2, 'iMessage;+;chat42', 'chat42', 'Book club', 43);
        INSERT INTO chat_handle_join VALUES (1, 1), (2, 1), (2, 2), (2, 3);
    """)
    scale = 1_000_000_000 if nanoseconds else 1
    base = 757_382_400            # 2025-01-01T00:00:00Z in Apple epoch seconds
    rows = [  # rowid, guid, handle, date offset, from me, associated type, item type, chat
        (1, "G1", 1, 0, 0, 0, 0, 1), (2, "G2", 1, 60, 1, 0, 0, 1),
        (3, "G3", 1, 120, 1, 2000, 0, 1), (4, "G4", 2, 3600, 0, 0, 0, 2),
        (5, "G5", 0, 3700, 1, 0, 0, 2), (6, "G6", 3, 3800, 0, 0, 1, 2), (7, "G7", 1, 0, 0, 0, 0, 1)]
    for rowid, guid, handle, offset, mine, assoc, item, chat in rows:
        date = (base + offset) * scale if rowid != 7 else 0
        con.execute("INSERT INTO message (ROWID, guid, text, handle_id, service, date, "
                    "is_from_me, associated_message_type, item_type) VALUES (?,?,?,?,?,?,?,?,?)",
                    (rowid, guid, "secret text", handle, "iMessage", date, mine, assoc, item))
        con.execute("INSERT INTO chat_message_join VALUES (?, ?)", (chat, rowid))
    con.commit()
    con.close()
    return path


@pytest.mark.parametrize("nanoseconds", [True, False])
def test_imessage_directions_chats_and_members(tmp_path, nanoseconds):
    path = make_chat_db(tmp_path / "chat.db", nanoseconds=nanoseconds)
    assert detect(path) is IMESSAGE
    records = list(read_chat_db(path, region="US"))
    assert [(r.message_id, r.chat_id, r.kind, r.sender_phone, r.sender_email, r.is_from_owner,
             r.sent_at) for r in messages(records)] == [
        ("G1", "iMessage;-;+14155550100", "message", "+14155550100", None, False,
         utc(2025, 1, 1)),
        ("G2", "iMessage;-;+14155550100", "message", None, None, True, utc(2025, 1, 1, 0, 1)),
        ("G3", "iMessage;-;+14155550100", "reaction", None, None, True, utc(2025, 1, 1, 0, 2)),
        ("G4", "iMessage;+;chat42", "message", None, "zoe@example.org", False,
         utc(2025, 1, 1, 1, 0)),
        ("G5", "iMessage;+;chat42", "message", None, None, True, utc(2025, 1, 1, 1, 1, 40)),
        ("G6", "iMessage;+;chat42", "system", "+447700900123", None, False,
         utc(2025, 1, 1, 1, 3, 20)),
    ]
    assert messages(records)[3].members == ["+14155550100", "+447700900123", "zoe@example.org"]
    assert messages(records)[3].chat_name == "Book club"
    assert [(r.position, r.reason) for r in records if isinstance(r, Rejected)] == [
        (7, "chat.db message without a date")]


def test_imessage_text_is_never_read(tmp_path):
    records = list(read_chat_db(make_chat_db(tmp_path / "chat.db")))
    assert not any("secret" in r.raw_text for r in records)


def test_imessage_newer_macos_with_extra_columns_reads_the_same(tmp_path):
    plain = list(read_chat_db(make_chat_db(tmp_path / "a.db")))
    newer = list(read_chat_db(make_chat_db(tmp_path / "b.db", extra_column=True)))
    assert [r.record_key for r in messages(newer)] == [r.record_key for r in messages(plain)]
    assert len(messages(newer)) == 6


def test_imessage_other_sqlite_is_refused(tmp_path):
    path = tmp_path / "chat.db"
    con = sqlite3.connect(path)
    con.execute("create table message (ROWID integer primary key, body text)")
    con.close()
    with pytest.raises(NotChatDb, match="chat.db is not a Messages chat.db: table message "
                                        "lacks guid, handle_id, is_from_me, date"):
        list(read_chat_db(path))


def test_apple_epoch_seconds_and_nanoseconds():
    assert apple_time(757_382_400) == utc(2025, 1, 1)
    assert apple_time(757_382_400_000_000_000) == utc(2025, 1, 1)
    assert apple_time(0) is None


def test_corpus_imessage_excerpt_without_chat_tables(corpus):
    path = corpus / "messaging" / "imessage" / "langchain-community__imessage_chat.db"
    assert detect(path) is IMESSAGE
    records = list(read_chat_db(path))
    assert len(records) == 23
    assert [r.is_from_owner for r in records].count(True) == 13
    assert {(r.chat_id, tuple(r.members)) for r in records} == {
        ("chat1", ("testemail@gmail.com",))}
    assert (records[0].sent_at, records[0].sender_email) == (
        datetime(2023, 11, 5, 2, 50, 50, 393148, tzinfo=timezone.utc), "testemail@gmail.com")
    assert records[-1].kind == "reaction"


# X

def test_x_headers_file():
    path = FIXTURES / "x" / "direct-message-headers.js"
    assert detect(path) is X_DMS
    records = list(read_x_dms(path))
    assert [(r.chat_id, r.message_id, r.sender_id, r.members, r.sent_at)
            for r in messages(records)] == [
        ("111-222", "9001", "222", ["111", "222"], utc(2024, 6, 1, 12)),
        ("111-222", "9000", "111", ["111", "222"], utc(2024, 5, 31, 12)),
        ("111-333", "9100", "333", ["111", "333"], utc(2024, 6, 2, 8, 30)),
    ]
    assert [(r.position, r.reason) for r in records if isinstance(r, Rejected)] == [
        (4, "X messageCreate without a readable createdAt")]


def test_corpus_x_group_dms(corpus):
    path = corpus / "messaging" / "twitter" / "Twitter-Archive-Browser__group_dms_test.js"
    assert detect(path) is X_DMS
    records = list(read_x_dms(path))
    assert [(r.kind, r.sender_id) for r in records][:5] == [
        ("message", "31239408"), ("system", None), ("system", "16573941"),
        ("system", "16573941"), ("system", "3307595502")]
    # the join snapshot, the later join, the senders: members who left stay (they were there)
    assert records[0].members == ["101", "1588486417", "16573941", "18393773", "31239408",
                                  "3307595502", "4196983835", "5162861", "813286", "90420314"]


def test_corpus_x_one_to_one_dms(corpus):
    path = corpus / "messaging" / "twitter" / "Twitter-Archive-Browser__individual_dms_test.js"
    records = list(read_x_dms(path))
    assert [(r.chat_id, r.message_id, r.sender_id) for r in records][:2] == [
        ("846137120209190912-4196983835", "901565800758300677", "846137120209190912"),
        ("846137120209190912-4196983835", "881820364548038659", "4196983835")]
    assert records[0].chat_type == "one_to_one"
