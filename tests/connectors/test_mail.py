"""mbox, Maildir and .eml reading: one fixture per edge case, exact values, and a corpus sweep."""

from __future__ import annotations

import mailbox
from datetime import datetime, timezone
from email.utils import getaddresses
from pathlib import Path

import pytest

from kith.connectors.mail import (HEADER_FIELDS, _simple_addresses, decode_words, is_maildir,
                             looks_like_eml, looks_like_mbox, parse_date, parse_headers,
                             read_mail)
from kith.records import Mailbox, MailMessage, Rejected

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
CORPUS_MAIL = CORPUS / "mbox"
UTC = timezone.utc


def read(name: str, **kwargs) -> list[MailMessage | Rejected]:
    return list(read_mail(FIXTURES / name, **kwargs))


def one(name: str, **kwargs) -> MailMessage:
    records = read(name, **kwargs)
    assert len(records) == 1 and isinstance(records[0], MailMessage), records
    return records[0]


def addresses(boxes: list[Mailbox]) -> list[str]:
    return [m.address for m in boxes]


def names(boxes: list[Mailbox]) -> list[str | None]:
    return [m.name for m in boxes]


def corpus_file(name: str) -> Path:
    if not CORPUS_MAIL.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return CORPUS_MAIL / name


def corpus_messages(name: str) -> list[MailMessage]:
    records = list(read_mail(corpus_file(name)))
    assert all(isinstance(r, MailMessage) for r in records), records
    return records


# -- parse_headers, the function the IMAP connector calls


def test_parse_headers_reads_a_header_block():
    block = (b"From: Jane Doe <Jane@Example.org>\r\nTo: bob@example.org\r\n"
             b"Date: Tue, 7 Jan 2025 10:00:00 +0100\r\nMessage-ID: <abc@example.org>\r\n\r\n")
    msg = parse_headers(block, position=4211, folder="INBOX", gmail_thread_id="17900")
    assert (msg.position, msg.folder, msg.message_id, msg.has_message_id) == (
        4211, "INBOX", "abc@example.org", True)
    assert msg.from_ == [Mailbox("Jane Doe", "Jane@Example.org", "jane@example.org")]
    assert msg.sent_at == datetime(2025, 1, 7, 9, 0, tzinfo=UTC)
    assert msg.gmail_thread_id == "17900"


def test_parse_headers_rejects_a_block_with_no_header_field():
    got = parse_headers(b"just some words\nand more\n", position=7, folder=None)
    assert got == Rejected(7, "no header fields: not an e-mail message",
                           "just some words\nand more")


def test_parse_headers_rejects_an_empty_block():
    assert parse_headers(b"\r\n", position=3, folder="INBOX") == Rejected(
        3, "empty message: no header fields", "")


def test_parse_headers_never_raises_on_garbage():
    got = parse_headers(bytes(range(256)) * 40, position=1, folder=None)
    assert isinstance(got, (MailMessage, Rejected))


def test_header_fields_are_what_imap_fetches():
    assert HEADER_FIELDS == (
        "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Date", "Message-ID", "In-Reply-To",
        "References", "List-Id", "List-Unsubscribe", "Precedence", "Auto-Submitted",
        "Return-Path", "X-Gmail-Labels", "X-GM-THRID", "Subject")


def test_raw_text_keeps_only_kiths_fields_as_written():
    block = (b"Received: from mx.example.org\r\n  by mx.google.com\r\nFrom: a@example.org\r\n"
             b"To: b@example.org,\r\n c@example.org\r\nSubject: secret plans\r\n"
             b"X-Spam-Score: 3\r\n\r\n")
    msg = parse_headers(block, position=1, folder=None)
    assert msg.raw_text == "From: a@example.org\nTo: b@example.org,\n c@example.org"
    assert msg.subject is None


def test_subject_is_stored_only_when_asked():
    block = b"From: a@example.org\nSubject: =?UTF-8?Q?Caf=C3=A9_plans?=\n\n"
    msg = parse_headers(block, position=1, folder=None, include_subject=True)
    assert msg.subject == "Café plans"
    assert msg.raw_text == "From: a@example.org\nSubject: =?UTF-8?Q?Caf=C3=A9_plans?="


# -- edge cases, one fixture each


def test_gmail_takeout_messages():
    first, second = read("gmail-takeout-crlf.mbox")
    assert (first.position, second.position) == (1, 19)
    assert first.message_id == "CAB1234@mail.northwind.example"
    assert first.gmail_labels == ["Inbox", "Important", "Clients, 2025", "Café"]
    assert first.gmail_thread_id == second.gmail_thread_id == "1790000000000000001"
    assert first.return_path == "<daniel@northwind.example>"
    assert first.sent_at == datetime(2025, 3, 3, 9, 15, tzinfo=UTC)


def test_gmail_takeout_reply_threading():
    second = read("gmail-takeout-crlf.mbox")[1]
    assert second.in_reply_to == "CAB1234@mail.northwind.example"
    assert second.references == ["CAB1234@mail.northwind.example"]
    assert second.gmail_labels == ["Sent"]


def test_gmail_takeout_raw_text_has_no_carriage_returns_nor_received():
    first = read("gmail-takeout-crlf.mbox")[0]
    assert first.raw_text.splitlines() == [
        "X-GM-THRID: 1790000000000000001",
        'X-Gmail-Labels: Inbox,Important,"Clients, 2025",=?UTF-8?Q?Caf=C3=A9?=',
        "Return-Path: <daniel@northwind.example>",
        "From: Daniel Reyes <daniel@northwind.example>",
        "To: Maya Okafor <maya@gmail.example>",
        "Date: Mon, 03 Mar 2025 10:15:00 +0100",
        "Message-ID: <CAB1234@mail.northwind.example>"]


def test_mboxrd_escaped_and_unescaped_from_lines_do_not_split_messages():
    records = read("mboxrd-escaped-from.mbox")
    assert [(r.position, r.message_id) for r in records] == [
        (1, "one@example.org"), (13, "two@example.org")]


def test_display_name_with_encoded_comma_stays_one_address():
    msg = one("rfc2047-name-with-comma.eml")
    assert msg.from_ == [Mailbox("Doe, Jane", "jane.doe@example.org", "jane.doe@example.org")]


def test_quoted_and_base64_names_with_commas():
    msg = one("rfc2047-name-with-comma.eml")
    assert [(m.name, m.address) for m in msg.to] == [
        ("Roe, Richard", "richard@example.org"), ("Müller, Jürgen", "jm@example.de")]


def test_encoded_word_inside_quotes_and_without_space():
    msg = one("rfc2047-name-with-comma.eml")
    assert [(m.name, m.address) for m in msg.cc] == [
        ("García, Sofia", "sofia@example.es"), ("Zoë", "zoe@example.org")]


def test_unknown_charset_falls_back_to_utf8():
    assert names(one("rfc2047-name-with-comma.eml").bcc) == ["Café Owner"]


def test_broken_encoded_words():
    msg = one("rfc2047-broken-words.eml")
    assert names(msg.from_) == ["André Dupont"]
    assert [(m.name, m.address) for m in msg.to] == [
        ("Hörst, Kenny", "kenny@example.de"), ("José", "jose@example.es")]


def test_a_character_split_across_two_encoded_words():
    assert names(one("rfc2047-broken-words.eml").cc)[1] == "émile"


def test_raw_8bit_headers_utf8_and_latin1():
    msg = one("raw-8bit-headers.eml")
    assert (names(msg.from_), names(msg.to)) == (["Jürgen Müller"], ["Zoë Dupré"])


def test_three_to_headers_give_all_addresses():
    assert addresses(one("three-to-headers.eml").to) == [
        "first@example.org", "second@example.org", "more@example.org", "third@example.org"]


def test_missing_from_still_loads():
    msg = one("missing-from.eml")
    assert (msg.from_, addresses(msg.to), msg.message_id) == (
        [], ["someone@example.org"], "no-from@example.org")


def test_missing_message_id_gets_a_stable_hash_id():
    first, again = one("missing-message-id.eml"), one("missing-message-id.eml")
    assert first.has_message_id is False
    assert first.message_id.startswith("kith-") and len(first.message_id) == 5 + 64
    assert first.message_id == again.message_id


def test_hash_id_ignores_line_endings_and_fields_a_mailbox_adds():
    block = (b"From: a@example.org\nTo: b@example.org\nDate: Tue, 7 Jan 2025 10:00:00 +0000\n"
             b"Subject: hi\n\n")
    other = (b"Return-Path: <a@example.org>\r\nX-Gmail-Labels: Inbox\r\nFrom: a@example.org\r\n"
             b"To: b@example.org\r\nDate: Tue, 7 Jan 2025 10:00:00 +0000\r\nSubject: hi\r\n\r\n")
    assert (parse_headers(block, position=1, folder=None).message_id
            == parse_headers(other, position=9, folder="INBOX").message_id)


def test_unparseable_date_keeps_the_message_with_a_warning():
    msg = one("unparseable-date.eml")
    assert (msg.sent_at, msg.date_raw, msg.warnings) == (
        None, "sometime last week, probably",
        ["unparseable Date: sometime last week, probably"])


def test_a_date_with_a_zone_a_day_away_keeps_the_message_with_a_warning():
    msg = parse_headers(b"From: a@example.org\nDate: Tue, 7 Jan 2025 10:00:00 +9960\n"
                        b"Message-ID: <zone@example.org>\n\n", position=1, folder=None)
    assert (msg.message_id, msg.sent_at, msg.warnings) == (
        "zone@example.org", None, ["unparseable Date: Tue, 7 Jan 2025 10:00:00 +9960"])


def test_nul_bytes_are_dropped_and_do_not_stop_the_file():
    records = read("nul-bytes.mbox")
    assert [(r.position, r.message_id, names(r.from_)) for r in records] == [
        (1, "nul@example.org", ["Lena Fischer"]),
        (9, "after-nul@example.org", ["Sam Whitaker"])]


def test_mixed_line_endings():
    records = read("mixed-line-endings.mbox")
    assert [(r.position, r.message_id, addresses(r.to)) for r in records] == [
        (1, "mixed-1@example.org", ["mei@example.org"]),
        (9, "mixed-2@example.org", ["ahmed@example.org"]),
        (17, "mixed-3@example.org", [])]


def test_truncated_last_message_is_kept_with_a_warning():
    whole, cut = read("truncated.mbox")
    assert whole.message_id == "whole@example.org"
    assert (cut.position, cut.message_id, addresses(cut.from_), cut.warnings) == (
        9, "cut@example.org", ["olga@example.org"],
        ["truncated: the file ends inside this message's headers"])


def test_a_from_line_with_no_line_end_after_it_is_one_reject(tmp_path):
    """Found by bench/fuzz.py (a cut file with old-Mac CR line ends): this reject lacked the
    From_ line's offset, and unpacking it raised, which refused the whole file."""
    path = tmp_path / "cut.mbox"
    path.write_bytes(b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\rFrom: Aut")
    (reject,) = read_mail(path)
    assert (reject.position, reject.reason) == (
        1, "the file ends on this line: a From_ line with no message after it")


def test_not_mail_is_one_reject_with_a_reason():
    (reject,) = read("not-mail.mbox")
    assert isinstance(reject, Rejected)
    assert reject.position == 1
    assert reject.reason == "not a mail file: no From_ line nor mail header fields at its start"
    assert reject.raw_text.startswith("Quarterly numbers")


def test_pipermail_obfuscated_address():
    msg = one("pipermail-obfuscated.mbox")
    assert msg.from_ == [Mailbox("Göran Lastname", "goran@example.com", "goran@example.com")]


@pytest.fixture
def long_header_mbox(tmp_path) -> Path:
    """An mbox whose first message has a 145 KB Subject line, then an ordinary message."""
    path = tmp_path / "long-header-145kb.mbox"
    subject = "Subject: " + "very long subject " * 8248        # 148,464 bytes
    path.write_bytes(
        ("From a@example.org Mon Jan 13 10:00:00 2025\nFrom: a@example.org\n" + subject
         + "\nMessage-ID: <long@example.org>\nDate: Mon, 13 Jan 2025 10:00:00 +0000\n\nbody\n\n"
         "From b@example.org Mon Jan 13 11:00:00 2025\nFrom: b@example.org\n"
         "Message-ID: <after-long@example.org>\n\nbody\n").encode())
    return path


def test_145kb_header_line(long_header_mbox):
    first, second = read_mail(long_header_mbox, include_subject=True)
    assert (first.message_id, len(first.subject), second.message_id, second.position) == (
        "long@example.org", 148_463, "after-long@example.org", 9)


def test_145kb_header_line_is_cut_in_raw_text(long_header_mbox):
    first = next(read_mail(long_header_mbox, include_subject=True))
    assert len(first.raw_text) < 20_000


# -- Maildir


def test_maildir_folders_and_order():
    records = read("maildir")
    assert [(r.folder, r.message_id) for r in records] == [
        ("INBOX", "inbox-cur@example.org"), ("INBOX", "inbox-new@example.org"),
        ("Sent", "sent-cur@example.org"), ("Sent", "sent-new@example.org")]


def test_is_maildir():
    assert (is_maildir(FIXTURES / "maildir"), is_maildir(FIXTURES / "maildir" / ".Sent"),
            is_maildir(FIXTURES)) == (True, True, False)


def test_maildir_file_that_is_not_mail_is_rejected(tmp_path):
    for sub in ("cur", "new"):
        (tmp_path / sub).mkdir()
    (tmp_path / "new" / "123.junk").write_bytes(b"not mail at all\n")
    (reject,) = read_mail(tmp_path)
    assert reject.reason == "no header fields: not an e-mail message (INBOX: new/123.junk)"


# -- sniffing


@pytest.mark.parametrize("name, mbox, eml", [
    ("gmail-takeout-crlf.mbox", True, False),
    ("mboxrd-escaped-from.mbox", True, False),
    ("three-to-headers.eml", False, True),
    ("missing-message-id.eml", False, True),
    ("not-mail.mbox", False, False),
])
def test_sniffing(name, mbox, eml):
    head = (FIXTURES / name).read_bytes()[:65536]
    assert (looks_like_mbox(head), looks_like_eml(head) and not looks_like_mbox(head)) == (
        mbox, eml)


@pytest.mark.parametrize("head", [
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jane\r\nEND:VCARD\r\n",
    b"Name,Email\nJane,jane@example.org\n",
    b"",
    b"\x00\x01\x02binary",
])
def test_other_files_are_not_mail(head):
    assert (looks_like_mbox(head), looks_like_eml(head)) == (False, False)


# -- pieces


@pytest.mark.parametrize("text, expected", [
    ("Tue, 7 Jan 2025 10:00:00 +0100", datetime(2025, 1, 7, 9, 0, tzinfo=UTC)),
    ("Tue, 7 Jan 2025 10:00:00 +0100 (CET)", datetime(2025, 1, 7, 9, 0, tzinfo=UTC)),
    ("Tue, 7 Jan 2025 10:00:00", datetime(2025, 1, 7, 10, 0, tzinfo=UTC)),
    ("Wed, 01 Dec 2010 14:26:40 CEST", datetime(2010, 12, 1, 12, 26, 40, tzinfo=UTC)),
    ("Wed, 01 Dec 2010 14:26:40 MET DST", datetime(2010, 12, 1, 12, 26, 40, tzinfo=UTC)),
    ("2016-04-01 10:00:00", datetime(2016, 4, 1, 10, 0, tzinfo=UTC)),
    ("2016-04-01T10:00:00+02:00", datetime(2016, 4, 1, 8, 0, tzinfo=UTC)),
    ("Mon, 1 Jan 2001 10.00.00 +0100", datetime(2001, 1, 1, 9, 0, tzinfo=UTC)),
    ("Thu Jan  2 03:04:05 2020", datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("RANDOM_Wed, 21 Sep 2016 22:42:07 +0300", datetime(2016, 9, 21, 19, 42, 7, tzinfo=UTC)),
    ("sometime last week", None),
    ("Mon, 32 Jan 2001 10:00:00 +0000", None),
    # the usual form is read by a shortcut; these are what the general path says
    ("Tue, 7 Jan 2025 10:00:00 +2359", datetime(2025, 1, 6, 10, 1, tzinfo=UTC)),
    ("Tue, 7 Jan 2025 10:00:00 -0000", datetime(2025, 1, 7, 10, 0, tzinfo=UTC)),
    ("Tue, 7 Jan 0099 10:00:00 +0000", datetime(1999, 1, 7, 10, 0, tzinfo=UTC)),
    ("Sat, 29 Feb 2025 10:00:00 +0000", None),
    ("Tue, 7 Jan 2025 24:00:00 +0000", None),
    ("Tue, 7 Jan 2025 10:00:00 +9960", None),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("=?UTF-8?Q?H=C3=B6rst=2C_Kenny?=", "Hörst, Kenny"),
    ("=?utf-8?b?SMO2cnN0?= =?utf-8?b?LCBLZW5ueQ==?=", "Hörst, Kenny"),
    ("=?iso-8859-1?q?caf=E9?=", "café"),
    ("=?no-such-charset?q?caf=C3=A9?=", "café"),
    ("=?utf-8*en?q?hi?=", "hi"),
    ("=?UTF-8?B?w6k?=", "é"),
    ("=?utf-8?b?not base64!?=", "=?utf-8?b?not base64!?="),
    ("plain text", "plain text"),
])
def test_decode_words(text, expected):
    assert decode_words(text) == expected


@pytest.mark.parametrize("text", [
    "a@b.example", "Jane Doe <jane@x.example>", '"Doe, Jane" <jane@x.example>, bob@y.example',
    "=?utf-8?Q?Doe=2C_Jane?=<jane@x.example>", "Jesus M. Gonzalez-Barahona <jgb@example.com>",
    "O'Brien Tom <t@o.example>", "Zoë Müller <z@m.example>,", "<a@b.example>",
])
def test_simple_address_shortcut_agrees_with_getaddresses(text):
    assert _simple_addresses(text) == getaddresses([text])


@pytest.mark.parametrize("text", [
    "Jane <jane@x.example> (comment)", "Team: a@b.example, c@d.example;", '"a\\"b" <x@y.example>',
    "a@b.example d@e.example", "jane@x.example <jane@x.example>",
])
def test_simple_address_shortcut_leaves_the_rest_to_getaddresses(text):
    assert _simple_addresses(text) is None


# -- the shared corpus: a sweep, then exact values


def _corpus_files() -> list[str]:
    return sorted(p.name for p in CORPUS_MAIL.iterdir()) if CORPUS_MAIL.is_dir() else ["absent"]


@pytest.mark.parametrize("name", _corpus_files())
def test_corpus_sweep(name):
    path = corpus_file(name)
    records = list(read_mail(path))
    assert all(isinstance(r, MailMessage) or (isinstance(r, Rejected) and r.reason)
               for r in records)
    # a file with content yields records (a single .eml exactly one); only an empty one nothing
    if path.suffix == ".eml":
        assert len(records) == 1
    assert bool(records) == bool(path.read_bytes().strip())


@pytest.mark.parametrize("name, n_messages", [
    ("cpython__mailbox_01.mbox", 1),        # 'From time to time' in a body is not a message
    ("thunderbird__mbox_unquoted.mbox", 2),
    ("thunderbird__mbox_modern.mbox", 2),
    ("thunderbird__mbox_mboxrd.mbox", 2),
    ("thunderbird__movemailspool.mbox", 3),
    ("sisimai__mbox-0.mbox", 37),
    ("sisimai__size-0.mbox", 0),
    ("grimoirelab-perceval__mbox_no_fields.mbox", 6),
    ("grimoirelab-perceval__pipermail_2015_november.mbox", 4),
    ("grimoirelab-perceval__hyperkitty_2016_april.mbox", 3),
    ("thunderbird__message_with_from_line.eml", 1),
])
def test_corpus_message_counts(name, n_messages):
    assert len(corpus_messages(name)) == n_messages


def test_corpus_unquoted_from_positions():
    records = corpus_messages("thunderbird__mbox_unquoted.mbox")
    assert [r.position for r in records] == [1, 12]


def test_corpus_encoded_comma_in_name():
    msg = corpus_messages("thunderbird__utf8MailboxStrings.eml")[0]
    assert [(m.name, m.address) for m in msg.to] == [
        ("Hörst, Kenny", "K.Hoerst@invalid"), ("Bug Reporter", "new@thunderbird.bug")]


def test_corpus_three_to_headers_with_trailing_comma():
    msg = corpus_messages("thunderbird__mailformed_recipients.eml")[0]
    assert addresses(msg.to) == [
        "second.to.field@invalid", "more@recipients.invalid", "third.to.field@invalid",
        "even.more@recipients.invalid", "LyukshinRA@krw.rzd", "biakus@krw.rzd"]


def test_corpus_encoded_word_in_comment_style_from():
    msg = corpus_messages("grimoirelab-perceval__mbox_complex.mbox")[1]
    assert msg.from_ == [Mailbox("Danilo Šegan", "danilo@gnome.org", "danilo@gnome.org")]


def test_corpus_pipermail_missing_fields():
    records = corpus_messages("grimoirelab-perceval__mbox_no_fields.mbox")
    assert [(r.has_message_id, r.sent_at is not None, r.warnings) for r in records] == [
        (True, True, []), (True, True, []), (True, False, []), (False, True, []),
        (True, False, []), (True, True, [])]


def test_corpus_pipermail_threading():
    records = corpus_messages("grimoirelab-perceval__pipermail_2015_november.mbox")
    assert records[2].in_reply_to == "1447627429.3593.319.camel@example.com"
    assert records[1].from_ == [Mailbox("Jesus M. Gonzalez-Barahona", "jgb@gsyc.es",
                                        "jgb@gsyc.es")]


def test_corpus_mail_without_from():
    msg = corpus_messages("thunderbird__mail-without-from.eml")[0]
    assert (msg.from_, addresses(msg.to), msg.has_message_id) == (
        [], ["from@foo.invalid"], False)


def test_corpus_145kb_subject():
    msg = corpus_messages("thunderbird__mailformed_subject.eml")[0]
    assert (msg.message_id, addresses(msg.from_)) == (
        "4EBAB50C.00000E.03032@MILKYWAY", ["pink_amaryllis@yahoo.de"])


def test_corpus_body_without_blank_line():
    msg = corpus_messages("cpython__msg_35.eml")[0]
    assert (addresses(msg.from_), addresses(msg.to)) == (["aperson@dom.ain"], ["bperson@dom.ain"])


def test_corpus_same_messages_as_mailbox_mbox_where_it_does_not_split_bodies():
    path = corpus_file("sisimai__mbox-0.mbox")
    theirs = [m["Message-ID"].strip().strip("<>") if m["Message-ID"] else None
              for m in mailbox.mbox(str(path), create=False)]
    ours = [r.message_id if r.has_message_id else None for r in read_mail(path)]
    assert ours == theirs


# -- the parallel path gives the same records in the same order


def test_two_processes_give_the_same_records(tmp_path, monkeypatch):
    monkeypatch.setattr("kith.connectors.mail._PARALLEL_MIN_BYTES", 0)
    path = tmp_path / "many.mbox"
    with open(path, "w") as f:
        for i in range(1500):
            f.write(f"From x Mon Jan 13 10:00:00 2025\nFrom: P{i} <p{i}@example.org>\n"
                    f"Message-ID: <{i}@example.org>\n\nbody {i}\n\n")
    assert list(read_mail(path, processes=2)) == list(read_mail(path, processes=1))


def test_a_bare_notification_keeps_its_auto_submitted_header():
    block = (b"Message-ID: <n1@ci.example>\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n"
             b"From: CI <ci@ci.example>\r\nTo: me@home.example\r\nSubject: build failed\r\n"
             b"Auto-Submitted: auto-generated\r\n")
    msg = parse_headers(block, position=1, folder=None)
    assert msg.auto_submitted == "auto-generated"
