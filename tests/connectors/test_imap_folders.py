"""Folder names and selection, and FETCH parsing, on canned server answers (no server needed)."""

import pytest

from kith.connectors.imap import (ImapAccount, _fetch, _uid_set, decode_folder_name,
                             encode_folder_name, list_folders)

DOVECOT_LIST = [
    b'(\\HasNoChildren) "/" INBOX',
    b'(\\HasNoChildren) "/" Entw&APw-rfe',
    b'(\\HasNoChildren) "/" "Sent"',
    b'(\\HasNoChildren) "/" Trash',
    b'(\\HasNoChildren) "/" "Spam"',
    b'(\\HasNoChildren) "/" Drafts',
    b'(\\HasNoChildren \\Trash) "/" Papierkorb',
    b'(\\HasChildren) "/" Archiv',
    b'(\\HasNoChildren) "/" "Archiv/2025 &- 2026"',
    b'(\\HasNoChildren) "/" "Trash/Old"',
    b'(\\Noselect \\HasChildren) "/" Kunden',
    (b'(\\HasNoChildren) "/" {13}', b'Kunden/"Acme"'),
]

GMAIL_LIST = [
    b'(\\HasNoChildren) "/" "INBOX"',
    b'(\\HasNoChildren) "/" "Work"',
    b'(\\HasChildren \\Noselect) "/" "[Gmail]"',
    b'(\\All \\HasNoChildren) "/" "[Gmail]/All Mail"',
    b'(\\Drafts \\HasNoChildren) "/" "[Gmail]/Drafts"',
    b'(\\HasNoChildren \\Important) "/" "[Gmail]/Important"',
    b'(\\HasNoChildren \\Sent) "/" "[Gmail]/Sent Mail"',
    b'(\\HasNoChildren \\Junk) "/" "[Gmail]/Spam"',
    b'(\\Flagged \\HasNoChildren) "/" "[Gmail]/Starred"',
    b'(\\HasNoChildren \\Trash) "/" "[Gmail]/Trash"',
]


class FakeImap:
    def __init__(self, listing=(), fetched=()):
        self.listing, self.fetched = list(listing), list(fetched)
        self.capabilities = ("IMAP4REV1",)

    def list(self):
        return "OK", self.listing

    def uid(self, command, *args):
        assert command == "FETCH"
        return "OK", self.fetched


def account(**kwargs):
    return ImapAccount(host="imap.example.com", user="me@example.com", password_env="X",
                       **kwargs)


@pytest.mark.parametrize("raw, name", [
    (b"Entw&APw-rfe", "Entwürfe"),
    (b"&ZeVnLIqe-", "日本語"),
    (b"Tom &- Jerry", "Tom & Jerry"),
    (b"&AMk-l&AOk-ments envoy&AOk-s", "Éléments envoyés"),
    ("Entwürfe".encode(), "Entwürfe"),          # raw UTF-8 from a UTF8=ACCEPT server
])
def test_folder_names_decode_from_modified_utf7(raw, name):
    assert decode_folder_name(raw) == name


@pytest.mark.parametrize("name", ["Entwürfe", "日本語", "Tom & Jerry", "Éléments envoyés",
                                  "a/b&c/ü"])
def test_folder_names_encode_back_to_what_they_were(name):
    assert decode_folder_name(encode_folder_name(name)) == name


def test_default_selection_skips_trash_spam_drafts_and_noselect():
    assert list_folders(FakeImap(DOVECOT_LIST), account()) == [
        "INBOX", "Archiv", "Archiv/2025 & 2026", "Entwürfe", 'Kunden/"Acme"', "Sent"]


def test_include_patterns_keep_only_matching_folders():
    assert list_folders(FakeImap(DOVECOT_LIST), account(include_folders=("Entw*", "inbox"))) == [
        "INBOX", "Entwürfe"]


def test_exclude_pattern_also_leaves_out_sub_folders():
    assert list_folders(FakeImap(DOVECOT_LIST),
                        account(exclude_folders=("Archiv", "Trash", "Spam", "Drafts"))) == [
        "INBOX", "Entwürfe", 'Kunden/"Acme"', "Sent"]


def test_special_use_trash_is_read_only_when_included_by_name():
    assert list_folders(FakeImap(DOVECOT_LIST), account(include_folders=("Papier*",))) == [
        "Papierkorb"]


def test_empty_exclude_list_reads_trash_by_name_but_not_by_special_use():
    names = list_folders(FakeImap(DOVECOT_LIST), account(exclude_folders=()))
    assert ("Trash" in names, "Papierkorb" in names) == (True, False)


def test_gmail_reads_all_mail_and_sent_mail_only():
    assert list_folders(FakeImap(GMAIL_LIST), account()) == [
        "[Gmail]/All Mail", "[Gmail]/Sent Mail"]


def test_gmail_labels_can_be_asked_for_by_name():
    assert list_folders(FakeImap(GMAIL_LIST), account(include_folders=("INBOX", "Work"))) == [
        "INBOX", "Work"]


def test_uid_sets_are_written_as_ranges():
    assert _uid_set([1, 2, 3, 7, 9, 10, 12]) == "1:3,7,9:10,12"


def test_fetch_reads_uid_and_gmail_thread_id_wherever_the_server_puts_them():
    fetched = [(b"1 (X-GM-THRID 1784 BODY[HEADER.FIELDS (FROM)] {10}", b"From: a\r\n\r\n"),
               b" UID 41)",
               (b"2 (UID 42 BODY[HEADER.FIELDS (FROM)] {10}", b"From: b\r\n\r\n"), b")",
               b"3 (FLAGS (\\Seen))"]
    got = list(_fetch(FakeImap(fetched=fetched), account(), "INBOX", [41, 42], "UID"))
    assert got == [(41, b"From: a\r\n\r\n", "1784"), (42, b"From: b\r\n\r\n", None)]


def test_fetch_ignores_uids_not_asked_for():
    fetched = [(b"1 (UID 7 BODY[HEADER.FIELDS (FROM)] {10}", b"From: a\r\n\r\n"), b")"]
    assert list(_fetch(FakeImap(fetched=fetched), account(), "INBOX", [8], "UID")) == []
