"""IMAP sync against a real Dovecot on 127.0.0.1 (see conftest.py for the seeded mailbox)."""

import dataclasses
import imaplib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import kith.connectors.imap
import kith.flows.mail_sync
from kith.connectors.imap import (ImapAccount, ImapAuthError, ImapConnectionError, ImapDropped,
                             ImapError, connect, folder_uri, list_folders, read_folder)
from kith.records import FolderState
from kith.flows.mail_sync import sync_imap
from tests.mail.conftest import SEEDED
from tests.servers.dovecot import make_message

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ALL_READ = {f"msg-{n}@kith.test" for n in SEEDED["INBOX"] + SEEDED["Sent"]}


def sync(db_path, account, **kwargs):
    return sync_imap(db_path, account, backoff=(0,), **kwargs)


def query(db_path, sql, params=()):
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def loads(db_path):
    """(folder URI tail, status, n_read, n_inserted) per load, in order."""
    return [(uri.rsplit("/", 1)[1], status, n_read, n_inserted) for uri, status, n_read, n_inserted
            in query(db_path, "select source_uri, status, n_read, n_inserted from loads "
                              "order by started_at, load_id")]


def cursor(db_path, account, folder):
    rows = query(db_path, "select cursor from sync_state where source_uri = ?",
                 [folder_uri(account, folder)])
    return json.loads(rows[0][0]) if rows else None


def uidvalidity(dovecot, folder):
    imap = imaplib.IMAP4(dovecot.host, dovecot.port)
    imap.login(dovecot.user, dovecot.password)
    imap.select(folder, readonly=True)
    value = int(imap.response("UIDVALIDITY")[1][0])
    imap.logout()
    return value


# -- first sync ----------------------------------------------------------------------------------

def test_first_sync_loads_every_message_of_inbox_and_sent_once(db_path, account):
    sync(db_path, account)
    assert {m for (m,) in query(db_path, "select message_id from raw_messages")} == ALL_READ
    assert query(db_path, "select count(*), count(distinct message_id) from raw_messages") == [
        (7, 7)]


def test_first_sync_makes_one_completed_load_per_folder_and_skips_trash(db_path, account):
    sync(db_path, account)
    assert loads(db_path) == [("INBOX", "completed", 5, 5), ("Sent", "completed", 3, 2)]


def test_message_in_two_folders_is_sighted_in_both(db_path, account):
    sync(db_path, account)
    rows = query(db_path, "select folder, position from message_sightings "
                          "where record_key = 'mid:msg-5@kith.test' order by folder")
    assert rows == [("INBOX", 5), ("Sent", 3)]


def test_first_sync_stores_uidvalidity_and_last_uid(db_path, account, dovecot):
    sync(db_path, account)
    assert cursor(db_path, account, "INBOX") == {"uidvalidity": uidvalidity(dovecot, "INBOX"),
                                                 "last_uid": 5}


def test_folder_uri_names_user_host_port_and_folder_without_password(account, dovecot):
    assert folder_uri(account, "[Gmail]/All Mail") == (
        f"imap://kith@127.0.0.1:{dovecot.port}/%5BGmail%5D/All%20Mail")


# -- incremental ---------------------------------------------------------------------------------

def test_second_sync_fetches_only_new_mail(db_path, account, dovecot):
    sync(db_path, account)
    dovecot.add_messages("INBOX", [make_message(6), make_message(7)], arrived=True)
    sync(db_path, account)
    assert loads(db_path)[2:] == [("INBOX", "completed", 2, 2), ("Sent", "completed", 0, 0)]
    assert cursor(db_path, account, "INBOX")["last_uid"] == 7


def test_read_folder_with_current_cursor_yields_only_the_cursor(account, dovecot):
    # UID SEARCH UID 6:* answers with UID 5 when 5 is the highest: it must not be read again.
    imap = connect(account)
    first = list(read_folder(imap, account, "INBOX", None))
    again = list(read_folder(imap, account, "INBOX", first[-1].cursor))
    imap.logout()
    assert again == [FolderState(folder_uri(account, "INBOX"), first[-1].cursor)]


def test_read_folder_yields_messages_by_uid_then_the_folder_state(account, dovecot):
    imap = connect(account)
    records = list(read_folder(imap, account, "Sent", None))
    imap.logout()
    assert [(type(r).__name__, getattr(r, "position", None), getattr(r, "folder", None))
            for r in records] == [("MailMessage", 1, "Sent"), ("MailMessage", 2, "Sent"),
                                  ("MailMessage", 3, "Sent"), ("FolderState", None, None)]


def test_uidvalidity_change_rereads_the_folder_without_duplicates(db_path, account, dovecot):
    sync(db_path, account)
    before = cursor(db_path, account, "INBOX")["uidvalidity"]
    dovecot.reset_uidvalidity("INBOX")
    sync(db_path, account)
    assert cursor(db_path, account, "INBOX")["uidvalidity"] != before
    assert loads(db_path)[2] == ("INBOX", "completed", 5, 0)
    assert query(db_path, "select count(*), count(distinct message_id) from raw_messages") == [
        (7, 7)]


# -- failures ------------------------------------------------------------------------------------

def test_wrong_password_raises_auth_error_naming_the_account(account, dovecot, monkeypatch):
    monkeypatch.setenv(account.password_env, "not-the-password")
    with pytest.raises(ImapAuthError) as info:
        connect(account)
    assert str(info.value).startswith(f"IMAP login refused for kith@127.0.0.1:{dovecot.port}")
    assert "not-the-password" not in str(info.value)


def test_wrong_password_sync_writes_nothing(db_path, account, monkeypatch):
    # The login comes before the warehouse is opened: not even the file is created.
    monkeypatch.setenv(account.password_env, "not-the-password")
    with pytest.raises(ImapAuthError):
        sync(db_path, account)
    assert not db_path.exists()


def test_missing_password_variable_is_named(account, monkeypatch):
    monkeypatch.delenv(account.password_env)
    with pytest.raises(ImapAuthError, match="environment variable KITH_TEST_IMAP_PASSWORD is "
                                            "not set"):
        connect(account)


def test_account_repr_never_holds_the_password(account, dovecot):
    assert dovecot.password not in repr(account)


def test_plain_imap_to_a_remote_host_is_refused():
    with pytest.raises(ValueError, match="unencrypted"):
        ImapAccount(host="imap.example.com", user="me", security="plain", password_env="X")


def _kill_after_first_record(monkeypatch, dovecot, *, restart: bool):
    """Make the first read of INBOX lose its server after the first message (batch size 2, so
    the next UID FETCH finds the connection gone)."""
    real = kith.flows.mail_sync.read_folder
    calls = []

    def reading(imap, account, folder, cursor, **kwargs):
        calls.append(folder)
        for i, record in enumerate(real(imap, account, folder, cursor, **kwargs)):
            yield record
            if folder == "INBOX" and calls.count("INBOX") == 1 and i == 0:
                dovecot.kill()
                if restart:
                    dovecot.start()

    monkeypatch.setattr(kith.flows.mail_sync, "read_folder", reading)
    return calls


def test_dropped_connection_is_retried_and_the_folder_read_whole(db_path, account, dovecot,
                                                                 monkeypatch):
    calls = _kill_after_first_record(monkeypatch, dovecot, restart=True)
    sync(db_path, account, retries=2)
    assert calls == ["INBOX", "INBOX", "Sent"]
    assert loads(db_path) == [("INBOX", "failed", 0, 0), ("INBOX", "completed", 5, 5),
                              ("Sent", "completed", 3, 2)]
    assert query(db_path, "select count(*), count(distinct message_id) from raw_messages") == [
        (7, 7)]


def test_failed_load_records_the_drop(db_path, account, dovecot, monkeypatch):
    _kill_after_first_record(monkeypatch, dovecot, restart=True)
    sync(db_path, account, retries=2)
    [(error,)] = query(db_path, "select error from loads where status = 'failed'")
    assert error.startswith("ImapDropped: connection to kith@127.0.0.1:")


def test_drop_without_retries_keeps_nothing_of_the_folder(db_path, account, dovecot,
                                                          monkeypatch):
    _kill_after_first_record(monkeypatch, dovecot, restart=False)
    with pytest.raises(ImapDropped):
        sync(db_path, account, retries=0)
    assert query(db_path, "select count(*) from raw_messages") == [(0,)]
    assert query(db_path, "select count(*) from message_sightings") == [(0,)]
    assert query(db_path, "select count(*) from sync_state") == [(0,)]


def test_next_sync_after_a_drop_completes(db_path, account, dovecot, monkeypatch):
    _kill_after_first_record(monkeypatch, dovecot, restart=False)
    with pytest.raises(ImapDropped):
        sync(db_path, account, retries=0)
    monkeypatch.undo()
    monkeypatch.setenv(account.password_env, dovecot.password)
    dovecot.start()
    sync(db_path, account, retries=0)
    assert loads(db_path) == [("INBOX", "failed", 0, 0), ("INBOX", "completed", 5, 5),
                              ("Sent", "completed", 3, 2)]


def test_server_down_at_start_is_an_imap_connection_error(db_path, account, dovecot):
    dovecot.kill()
    with pytest.raises(ImapConnectionError, match="cannot reach IMAP server"):
        sync(db_path, account, retries=1)


# -- read-only -----------------------------------------------------------------------------------

def test_sync_does_not_mark_messages_seen(db_path, account, dovecot):
    sync(db_path, account)
    imap = imaplib.IMAP4(dovecot.host, dovecot.port)
    imap.login(dovecot.user, dovecot.password)
    imap.select("INBOX", readonly=True)
    _, data = imap.uid("FETCH", "1:*", "(FLAGS)")
    imap.logout()
    seen = sorted(int(line.split()[2]) for line in data if b"\\Seen" in line)
    assert seen == [3]          # only the message seeded as read


# -- folders -------------------------------------------------------------------------------------

def test_list_folders_decodes_utf7_names_and_skips_trash(account, dovecot):
    dovecot.add_message("Entwürfe", make_message(300))
    dovecot.add_message("Archiv/2025", make_message(301))
    imap = connect(account)
    names = list_folders(imap, account)
    imap.logout()
    assert names == ["INBOX", "Archiv/2025", "Entwürfe", "Sent"]


def test_unicode_folder_is_read_by_its_decoded_name(db_path, account, dovecot):
    dovecot.add_message("Entwürfe", make_message(300))
    results = sync(db_path, account)
    assert [(r.source_uri.rsplit("/", 1)[1], r.n_read) for r in results] == [
        ("INBOX", 5), ("Entw%C3%BCrfe", 1), ("Sent", 3)]
    assert query(db_path, "select folder from message_sightings "
                          "where record_key = 'mid:msg-300@kith.test'") == [("Entwürfe",)]


# -- transport security --------------------------------------------------------------------------

def _inbox_count(imap):
    _, data = imap.select("INBOX", readonly=True)
    imap.logout()
    return data


def test_tls_connects_with_the_servers_certificate(account, dovecot):
    tls = dataclasses.replace(account, security="tls", port=dovecot.tls_port,
                              ca_file=str(dovecot.cert_path))
    assert _inbox_count(connect(tls)) == [b"5"]


def test_starttls_connects_with_the_servers_certificate(account, dovecot):
    starttls = dataclasses.replace(account, security="starttls", ca_file=str(dovecot.cert_path))
    imap = connect(starttls)
    assert (type(imap.sock).__name__, _inbox_count(imap)) == ("SSLSocket", [b"5"])


def test_unverifiable_certificate_is_refused_without_retrying(account, dovecot):
    tls = dataclasses.replace(account, security="tls", port=dovecot.tls_port)
    with pytest.raises(ImapError, match="could not be verified") as info:
        connect(tls)
    assert not isinstance(info.value, ImapConnectionError)


def test_a_drop_keeps_the_committed_chunks_and_the_next_sync_carries_on(db_path, account,
                                                                        dovecot, monkeypatch):
    monkeypatch.setattr(kith.connectors.imap, "RESUME_EVERY", 2)
    real = kith.flows.mail_sync.read_folder

    def reading(imap, account, folder, cursor, **kwargs):
        for record in real(imap, account, folder, cursor, **kwargs):
            yield record
            if folder == "INBOX" and getattr(record, "position", None) == 3:
                dovecot.kill()          # after a resume point (UID 2) and one more message

    monkeypatch.setattr(kith.flows.mail_sync, "read_folder", reading)
    with pytest.raises(ImapDropped):
        sync(db_path, account, retries=0)
    assert loads(db_path) == [("INBOX", "failed", 2, 2)]
    assert query(db_path, "select position from raw_messages order by 1") == [(1,), (2,)]
    assert cursor(db_path, account, "INBOX")["last_uid"] == 2

    monkeypatch.setattr(kith.flows.mail_sync, "read_folder", real)
    monkeypatch.setenv(account.password_env, dovecot.password)
    dovecot.start()
    sync(db_path, account, retries=0)
    assert loads(db_path) == [("INBOX", "failed", 2, 2), ("INBOX", "completed", 3, 3),
                              ("Sent", "completed", 3, 2)]
    assert {m for (m,) in query(db_path, "select message_id from raw_messages")} == ALL_READ


# -- a first sync killed part-way ----------------------------------------------------------------

N_BIG = 2_000           # messages added to INBOX, above the 5 seeded: INBOX holds UIDs 1-2005

# A first sync in its own process that commits every 500 messages and, 250 messages after its
# second commit (UID 1000), says so and waits to be killed (SIGKILL: no rollback, no ledger row).
KILLED_SYNC = """
import sys
import time

import kith.connectors.imap
import kith.flows.mail_sync
from kith.connectors.imap import ImapAccount
from kith.records import FolderState

kith.connectors.imap.RESUME_EVERY = 500
real = kith.flows.mail_sync.read_folder


def reading(imap, account, folder, cursor, **kwargs):
    n_states, after = 0, None
    for record in real(imap, account, folder, cursor, **kwargs):
        yield record
        n_states += isinstance(record, FolderState)
        if n_states == 2 and after is None:
            after = 0       # the loader asks for more once the chunk up to it is committed
        elif after is not None:
            after += 1
            if after == 250:
                print("committed", flush=True)
                time.sleep(120)


kith.flows.mail_sync.read_folder = reading
db, port, user, password_env = sys.argv[1:]
account = ImapAccount(host="127.0.0.1", port=int(port), user=user, security="plain",
                      password_env=password_env, batch_size=100)
kith.flows.mail_sync.sync_imap(db, account, backoff=(0,))
"""


@pytest.fixture
def killed_first_sync(db_path, account, dovecot):
    """A first sync of a 2,007-message account killed -9 after committing 1,000 of INBOX."""
    dovecot.add_messages("INBOX", [make_message(n) for n in range(1000, 1000 + N_BIG)])
    proc = subprocess.Popen([sys.executable, "-c", KILLED_SYNC, str(db_path), str(dovecot.port),
                             dovecot.user, account.password_env], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
    try:
        line = proc.stdout.readline().strip()
        assert line == "committed", proc.stderr.read() if proc.poll() is not None else line
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
    return db_path


def test_a_killed_first_sync_keeps_its_committed_chunks(killed_first_sync, account):
    db_path = killed_first_sync
    assert loads(db_path) == [("INBOX", "running", 1000, 1000)]
    assert query(db_path, "select min(position), max(position), count(*) from raw_messages") == [
        (1, 1000, 1000)]
    assert cursor(db_path, account, "INBOX")["last_uid"] == 1000


def test_the_sync_after_a_kill_reads_only_the_rest_and_stores_each_message_once(
        killed_first_sync, account):
    db_path = killed_first_sync
    sync(db_path, dataclasses.replace(account, batch_size=100))
    assert loads(db_path) == [("INBOX", "interrupted", 1000, 1000),
                              ("INBOX", "completed", 1005, 1005), ("Sent", "completed", 3, 2)]
    every = ALL_READ | {f"msg-{n}@kith.test" for n in range(1000, 1000 + N_BIG)}
    assert {m for (m,) in query(db_path, "select message_id from raw_messages")} == every
    assert query(db_path, "select count(*), count(distinct record_key) from raw_messages") == [
        (len(every), len(every))]
    assert query(db_path, "select count(*) from message_sightings") == [(len(every) + 1,)]


# -- sparse UIDs ---------------------------------------------------------------------------------

@pytest.fixture
def high_uids(dovecot):
    """A folder whose 3 messages have UIDs 300,000,000-300,000,002."""
    dovecot.number_from("Archive", 300_000_000)
    dovecot.add_messages("Archive", [make_message(n) for n in (401, 402, 403)])
    return "Archive"


def test_a_folder_numbered_from_300_million_is_read_whole(account, high_uids):
    imap = connect(account)
    records = list(read_folder(imap, account, high_uids, None))
    imap.logout()
    assert [r.position for r in records[:-1]] == [300_000_000, 300_000_001, 300_000_002]
    assert records[-1].cursor["last_uid"] == 300_000_002


def test_a_folder_numbered_from_300_million_takes_one_uid_search(account, high_uids):
    imap = connect(account)
    sent = []
    command = imap.uid
    imap.uid = lambda name, *args: sent.append(name) or command(name, *args)
    list(read_folder(imap, account, high_uids, None))
    imap.logout()
    assert sent.count("SEARCH") == 1


def test_sparse_uids_cut_into_windows_are_each_read_once(account, dovecot, monkeypatch):
    monkeypatch.setattr(kith.connectors.imap, "_SEARCH_WINDOW", 2)
    dovecot.number_from("Archive", 1_000)       # 500 windows 2 UIDs wide below the first
    dovecot.add_messages("Archive", [make_message(n) for n in range(401, 406)])
    imap = connect(account)
    sent = []
    command = imap.uid
    imap.uid = lambda name, *args: sent.append(name) or command(name, *args)
    records = list(read_folder(imap, account, "Archive", None))
    imap.logout()
    assert [r.position for r in records[:-1]] == list(range(1_000, 1_005))
    assert sent.count("SEARCH") == 3        # messages 1-2, 3-4, 5
