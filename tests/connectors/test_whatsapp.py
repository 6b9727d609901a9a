"""WhatsApp chat exports: one fixture per layout or edge case, the real exports of the corpus."""

import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kith.connectors.detect import WHATSAPP, detect
from kith.connectors.whatsapp import UnknownChatLayout, chat_name, read_whatsapp
from kith.records import ChatMessage, Rejected

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chats" / "whatsapp"
ANN = FIXTURES / "WhatsApp Chat with Ann Example.txt"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def read(path: Path, **kw) -> list:
    return list(read_whatsapp(path, **kw))


def summary(records: list) -> list[tuple]:
    return [(r.position, r.sent_at, r.kind, r.sender_name, r.sender_phone) for r in records
            if isinstance(r, ChatMessage)]


def test_android_us_12_hour_with_narrow_no_break_space():
    assert summary(read(ANN, region="GB")) == [
        (1, utc(2025, 1, 9, 8, 1), "system", None, None),
        (2, utc(2025, 1, 9, 8, 1), "message", "Ann Example", None),
        (3, utc(2025, 1, 9, 8, 15), "message", "Sam Owner", None),
        (7, utc(2025, 1, 9, 8, 15), "media", "Sam Owner", None),
        (8, utc(2025, 1, 13, 21, 30), "deleted", "Ann Example", None),
        (9, utc(2025, 1, 13, 0, 5), "message", "Ann Example", None),
        (10, utc(2025, 1, 13, 12, 45), "message", None, "+447700900123"),
    ]


def test_the_text_is_never_kept():
    records = read(ANN)
    assert [r.raw_text for r in records][:3] == [
        "1/9/25, 8:01\u202fAM - ", "1/9/25, 8:01\u202fAM - Ann Example:",
        "1/9/25, 8:15\u202fAM - Sam Owner:"]
    assert not any("Saturday" in str(r) or "map" in str(r) for r in records)


def test_the_chat_is_named_after_the_file():
    records = read(ANN)
    assert {(r.chat_id, r.chat_name, r.platform) for r in records} == {
        ("Ann Example", "Ann Example", "whatsapp")}


def test_two_messages_in_one_minute_from_one_sender_have_their_own_ids():
    ids = [r.message_id for r in read(ANN) if r.sender_name == "Sam Owner"]
    assert ids == ["2025-01-09T08:15:00+00:00|Sam Owner|1",
                   "2025-01-09T08:15:00+00:00|Sam Owner|2"]


def test_ios_dotted_24_hour_with_marks_and_unsaved_contacts():
    assert summary(read(FIXTURES / "ios-dotted-24h.txt")) == [
        (1, utc(2024, 2, 3, 21, 4, 11), "system", "Lunch Club", None),
        (2, utc(2024, 2, 3, 21, 4, 11), "system", "Lunch Club", None),
        (3, utc(2024, 2, 3, 21, 5, 40), "message", "Bea", None),
        (4, utc(2024, 2, 4, 7, 10, 2), "message", "Sam Owner", None),
        (5, utc(2024, 2, 4, 7, 11), "media", "Carl", None),
        (6, utc(2024, 2, 17, 13, 0, 59), "message", "Carl", None),
        (7, utc(2024, 2, 17, 13, 1, 30), "system", "Lunch Club", None),
    ]


def test_times_are_read_in_the_owners_zone():
    first = read(FIXTURES / "ios-dotted-24h.txt", owner_tz="Europe/Berlin")[2]
    assert first.sent_at == utc(2024, 2, 3, 20, 5, 40)


def test_ambiguous_dates_are_read_in_the_order_that_keeps_the_chat_in_time():
    records = read(FIXTURES / "ambiguous-order-by-time.txt", region="US")
    assert [r.sent_at.date().isoformat() for r in records] == [
        "2023-02-01", "2023-02-05", "2023-02-11", "2023-03-02"]
    assert records[0].warnings == [
        "day and month order ambiguous (every day is 12 or less): read as day/month/year, "
        "which keeps the chat in time order"]


def test_undecidable_dates_follow_the_phone_region_and_say_so():
    us = read(FIXTURES / "ambiguous-undecidable.txt", region="US")[0]
    de = read(FIXTURES / "ambiguous-undecidable.txt", region="DE")[0]
    assert (us.sent_at, de.sent_at) == (utc(2023, 4, 5, 18, 30), utc(2023, 5, 4, 18, 30))
    assert de.warnings == [
        "day and month order ambiguous (every day is 12 or less): read as day/month/year, "
        "which is the custom of phone region DE"]


def test_a_file_cut_mid_header_rejects_the_cut_line():
    records = read(FIXTURES / "truncated-mid-header.txt")
    assert [type(r).__name__ for r in records] == ["ChatMessage", "Rejected"]
    assert records[1] == Rejected(3, "unreadable WhatsApp message header (date or time in a "
                                     "form kith does not know)", "[12/30/21, 22:0")


def test_an_unknown_locale_is_refused_naming_its_first_line():
    path = FIXTURES / "unknown-locale" / "WhatsApp Chat with Kim.txt"
    assert detect(path) is WHATSAPP
    with pytest.raises(UnknownChatLayout) as caught:
        read(path)
    assert str(caught.value) == (
        "no line reads as a WhatsApp message in a layout kith knows (first line: "
        "'2023. 5. 4. 오후 4:13, Kim : 안녕하세요'); tell the project which phone language "
        "wrote it")


def test_the_zip_with_media_is_read_and_named_after_the_zip(tmp_path):
    path = tmp_path / "WhatsApp Chat - Lunch Club.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.write(FIXTURES / "ios-dotted-24h.txt", "_chat.txt")
        z.writestr("00000012-PHOTO-2024-02-04-07-11-00.jpg", b"\xff\xd8\xff")
    assert detect(path) is WHATSAPP
    records = read(path)
    assert (len(records), records[2].chat_id, records[2].sender_name) == (7, "Lunch Club", "Bea")


def test_chat_names_from_file_names():
    assert [chat_name(Path(p)) for p in (
        "WhatsApp Chat with Ann Example.txt", "WhatsApp Chat mit Jane Doe.txt",
        "WhatsApp Chat - Lunch Club.zip", "Chat de WhatsApp con Lucía.txt",
        "backup/WhatsApp Chat - Bea/_chat.txt")] == [
        "Ann Example", "Jane Doe", "Lunch Club", "Lucía", "Bea"]


def test_detected_by_content_whatever_the_name(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes((FIXTURES / "ios-dotted-24h.txt").read_bytes())
    assert detect(path) is WHATSAPP


# The shared corpus: real exports, one per layout.

def corpus_file(corpus: Path, name: str) -> Path:
    return corpus / "messaging" / "whatsapp" / name


def test_corpus_german_android_dotted(corpus):
    records = read(corpus_file(corpus, "whatsapp-to-sqlite__WhatsApp_Chat_mit_Jane_Doe.txt"))
    assert summary(records) == [
        (1, utc(2021, 2, 16, 22, 10), "system", None, None),
        (2, utc(2021, 2, 16, 22, 10), "message", "Jane Doe", None),
        (3, utc(2021, 2, 16, 22, 33), "message", "John Doe", None),
        (4, utc(2021, 2, 16, 22, 34), "media", "Jane Doe", None),
        (6, utc(2021, 2, 16, 22, 38), "message", "John Doe", None),
        (7, utc(2021, 2, 16, 22, 42), "message", "Jane Doe", None),
        (11, utc(2021, 2, 16, 23, 18), "media", "John Doe", None),
        (12, utc(2021, 2, 18, 5, 41), "message", "Jane Doe", None),
    ]


def test_corpus_ios_us_12_hour_with_seconds(corpus):
    records = read(corpus_file(corpus, "langchain-community__chat_loaders__whatsapp_chat.txt"))
    assert len(records) == 12
    assert (records[0].kind, records[0].sender_name) == ("system", "Dr. Feather")
    assert (records[-1].sent_at, records[-1].sender_name) == (utc(2023, 8, 15, 21, 25, 16),
                                                              "Jungle Jane")
    assert [r.kind for r in records].count("media") == 3


def test_corpus_month_first_brackets_without_comma(corpus):
    records = read(corpus_file(corpus, "chat-miner__test_mmddyy_brackets_24hrs.txt"))
    assert [r.sent_at.date().isoformat() for r in records][:3] == [
        "2019-01-01", "2019-01-20", "2019-01-30"]
    assert [r.kind for r in records].count("system") == 2


def test_corpus_spanish_p_m_with_no_break_space(corpus):
    records = read(corpus_file(corpus, "chat-miner__test_unicode.txt"), region="ES")
    assert [(r.sent_at, r.sender_name) for r in records] == [
        (utc(2022, 10, 9, 22, 37), "John Doe"), (utc(2022, 10, 9, 22, 37), "John Doe 🤓"),
        (utc(2022, 10, 9, 22, 37), "🤓")]


def test_corpus_android_phone_number_sender(corpus):
    records = read(corpus_file(corpus, "whatsapp-chat-parser__short-chat.txt"))
    assert [(r.kind, r.sender_name, r.sender_phone) for r in records] == [
        ("system", None, None), ("system", None, None), ("message", "Sample User", None),
        ("message", "TestBot", None), ("message", None, "+41123456789")]


def test_corpus_mixed_layouts_reject_only_the_malformed_time(corpus):
    records = read(corpus_file(corpus, "langchain-community__examples__whatsapp_chat.txt"))
    assert [(r.position, r.reason) for r in records if isinstance(r, Rejected)] == [
        (4, "unreadable WhatsApp message header (date or time in a form kith does not know)")]
    assert [(r.sent_at, r.kind) for r in records if isinstance(r, ChatMessage)][-4:] == [
        (utc(2022, 7, 19, 23, 32), "message"), (utc(2022, 7, 20, 11, 32), "message"),
        (utc(2023, 4, 20, 9, 42), "media"), (utc(2023, 6, 29, 0, 16), "deleted")]
