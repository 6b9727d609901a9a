"""CardDAV test fixtures on the shared Radicale server (`radicale_server` in tests/conftest.py)."""

import pytest

from kith.connectors.carddav import CardDavAccount
from tests.servers.radicale import RadicaleServer, make_card

PASSWORD_ENV = "KITH_TEST_CARDDAV_PASSWORD"

# What every test starts from, in the address book "friends" (display name "Friends").
# The calendar "work" is not an address book and must not be read.
SEEDED = {
    "alice.vcf": make_card("alice", "Alice Archer", family="Archer", given="Alice",
                           emails=("alice@example.com",), phones=("+1 202 555 0101",)),
    "bob.vcf": make_card("bob", "Bob Baker", family="Baker", given="Bob",
                         emails=("bob@example.com", "Bob.Baker@Work.example.org")),
    "carol.vcf": make_card("carol", "Carol Cooper", family="Cooper", given="Carol",
                           emails=("carol@example.com",), org="Cooper & Co"),
}


@pytest.fixture
def radicale(radicale_server) -> RadicaleServer:
    """The server with a fresh address book "friends" holding SEEDED and a calendar "work"."""
    radicale_server.start()
    radicale_server.clear()
    radicale_server.create_addressbook("friends", "Friends")
    radicale_server.create_calendar("work", "Work")
    with radicale_server.session() as s:
        for name, vcf in SEEDED.items():
            radicale_server.put_card("friends", name, vcf, session=s)
    return radicale_server


@pytest.fixture
def account(radicale, monkeypatch) -> CardDavAccount:
    monkeypatch.setenv(PASSWORD_ENV, radicale.password)
    return CardDavAccount(url=radicale.url, user=radicale.user, password_env=PASSWORD_ENV,
                          timeout_s=10, batch_size=2)
