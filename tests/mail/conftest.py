"""A real Dovecot IMAP server on 127.0.0.1, started once for the tests in this folder."""

import pytest

from kith.connectors.imap import ImapAccount
from tests.skips import server_unavailable
from tests.servers.dovecot import DovecotServer, DovecotUnavailable, make_message

PASSWORD_ENV = "KITH_TEST_IMAP_PASSWORD"

# What every test starts from: message numbers per folder. msg-5 is in INBOX and Sent (mail the
# owner sent to themself); Trash is left out by default; msg-3 has been read (\Seen).
SEEDED = {"INBOX": [1, 2, 3, 4, 5], "Sent": [101, 102, 5], "Trash": [901, 902]}
SEEN = {3}


@pytest.fixture(scope="session")
def dovecot_server():
    try:
        server = DovecotServer.create()
    except DovecotUnavailable as exc:
        server_unavailable("Dovecot IMAP server", exc)
    try:
        server.start()
    except DovecotUnavailable as exc:
        server.cleanup()
        server_unavailable("Dovecot IMAP server", exc)
    yield server
    server.cleanup()


@pytest.fixture
def dovecot(dovecot_server) -> DovecotServer:
    """The server, running, with a fresh mailbox holding SEEDED."""
    dovecot_server.start()          # a test before may have killed it
    dovecot_server.clear()
    for folder, numbers in SEEDED.items():
        for n in numbers:
            dovecot_server.add_message(folder, make_message(n), seen=n in SEEN)
    return dovecot_server


@pytest.fixture
def account(dovecot, monkeypatch) -> ImapAccount:
    monkeypatch.setenv(PASSWORD_ENV, dovecot.password)
    return ImapAccount(host=dovecot.host, port=dovecot.port, user=dovecot.user,
                       security="plain", password_env=PASSWORD_ENV, batch_size=2)
