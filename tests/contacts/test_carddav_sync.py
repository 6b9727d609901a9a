"""CardDAV sync against a real Radicale on 127.0.0.1 (see conftest.py for the seeded book)."""

import dataclasses
import json
import xml.etree.ElementTree as ET

import duckdb
import pytest
import requests

from kith.connectors.carddav import (AddressBook, CardDavAccount, CardDavAuthError,
                                CardDavConnectionError, addressbook_uri, discover, open_session,
                                read_addressbook, read_vcard_text)
from kith.records import ContactCard, FolderState
from kith.flows.contacts_sync import sync_carddav
from tests.servers.radicale import make_card
from kith.transforms.runner import build
from kith.warehouse.connection import connect as connect_warehouse

ALL = [("Alice Archer", ["alice@example.com"]),
       ("Bob Baker", ["bob@example.com", "bob.baker@work.example.org"]),
       ("Carol Cooper", ["carol@example.com"])]


@pytest.fixture
def fetched(monkeypatch) -> list[str]:
    """The hrefs asked for by every addressbook-multiget, in order."""
    hrefs: list[str] = []
    original = requests.Session.request

    def recording(self, method, url, *args, **kwargs):
        data = kwargs.get("data")
        if method == "REPORT" and data and b"addressbook-multiget" in data:
            root = ET.fromstring(data)
            hrefs.extend(h.text for h in root.iter("{DAV:}href"))
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", recording)
    return hrefs


def sync(db_path, account, **kwargs):
    return sync_carddav(db_path, account, backoff=(0,), **kwargs)


def query(db_path, sql, params=()):
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def raw_cards(db_path):
    """(full_name, normalized emails) of every row of raw_contacts, in name order."""
    return [(name, list(emails)) for name, emails in query(
        db_path, "select full_name, [e.normalized for e in emails] from raw_contacts "
                 "order by full_name, load_id")]


def current(db_path, columns="display_name, [e.normalized for e in emails]"):
    """Rows of stg_contacts__cards (each card's current version), in name order."""
    con = connect_warehouse(db_path)
    try:
        build(con)
        return [tuple(list(v) if isinstance(v, list) else v for v in row)
                for row in con.execute(f"select {columns} from stg_contacts__cards "
                                       "order by display_name").fetchall()]
    finally:
        con.close()


def cursor(db_path, url):
    rows = query(db_path, "select cursor from sync_state where source_uri = ?", [url])
    return json.loads(rows[0][0]) if rows else None


def change_and_delete(radicale):
    """Bob gets a new email (and REV); Carol is deleted."""
    radicale.put_card("friends", "bob.vcf", make_card(
        "bob", "Bob Baker", family="Baker", given="Bob",
        emails=("bob@new.example.net",), rev="20260301T120000Z"))
    radicale.delete_card("friends", "carol.vcf")


# -- discovery ----------------------------------------------------------------------------------

def test_discover_finds_only_the_address_book(account, radicale):
    with open_session(account) as session:
        books = discover(session, account)
    assert [(b.name, b.url) for b in books] == [("Friends", radicale.addressbook_url("friends"))]


def test_discover_from_the_home_url_with_include_and_exclude(account, radicale):
    radicale.create_addressbook("work-contacts", "Colleagues")
    home = dataclasses.replace(account, url=radicale.home_url)
    only = dataclasses.replace(home, include_addressbooks=("colleag*",))
    not_friends = dataclasses.replace(home, exclude_addressbooks=("friends",))
    with open_session(home) as session:
        assert ([b.name for b in discover(session, home)],
                [b.name for b in discover(session, only)],
                [b.name for b in discover(session, not_friends)]) == (
            ["Colleagues", "Friends"], ["Colleagues"], ["Colleagues"])


# -- reading ------------------------------------------------------------------------------------

def test_read_addressbook_yields_cards_with_their_href_then_the_cursor(account, radicale):
    with open_session(account) as session:
        [book] = discover(session, account)
        records = list(read_addressbook(session, account, book, None))
    cards = [r for r in records if isinstance(r, ContactCard)]
    assert ([(c.uid, c.item) for c in sorted(cards, key=lambda c: c.uid)],
            type(records[-1]), records[-1].source_uri, sorted(records[-1].cursor["etags"])) == (
        [("alice", "/kith/friends/alice.vcf"), ("bob", "/kith/friends/bob.vcf"),
         ("carol", "/kith/friends/carol.vcf")],
        FolderState, radicale.addressbook_url("friends"),
        ["/kith/friends/alice.vcf", "/kith/friends/bob.vcf", "/kith/friends/carol.vcf"])


def test_second_read_yields_the_changed_card_and_deleted_href(account, radicale):
    with open_session(account) as session:
        [book] = discover(session, account)
        state = list(read_addressbook(session, account, book, None))[-1].cursor
        change_and_delete(radicale)
        records = list(read_addressbook(session, account, book, state))
    assert [(type(r).__name__, getattr(r, "key", None) or getattr(r, "item", None))
            for r in records[:-1]] == [("Deleted", "/kith/friends/carol.vcf"),
                                       ("ContactCard", "/kith/friends/bob.vcf")]


def test_vcard_text_is_read_like_a_file():
    [card] = read_vcard_text(make_card("x", "Xavier Xu", emails=("X@Example.com",),
                                       phones=("(202) 555-0199",)), default_region="US")
    assert (card.full_name, card.emails[0].normalized, card.phones[0].e164,
            card.source_format) == ("Xavier Xu", "x@example.com", "+12025550199", "vcard-3.0")


# -- sync into the warehouse --------------------------------------------------------------------

def test_first_sync_loads_every_card(db_path, account, radicale):
    results = sync(db_path, account)
    assert ([(r.source_kind, r.source_uri, r.status, r.n_inserted) for r in results],
            raw_cards(db_path)) == (
        [("carddav", radicale.addressbook_url("friends"), "completed", 3)], ALL)


def test_first_sync_fetches_every_card_once_and_stores_the_cursor(db_path, account, radicale,
                                                                   fetched):
    sync(db_path, account)
    state = cursor(db_path, radicale.addressbook_url("friends"))
    hrefs = ["/kith/friends/alice.vcf", "/kith/friends/bob.vcf", "/kith/friends/carol.vcf"]
    assert (sorted(fetched), sorted(state["etags"]),
            state["sync_token"].startswith("http://radicale.org/ns/sync/")) == (
        hrefs, hrefs, True)


def test_second_sync_without_changes_fetches_nothing(db_path, account, fetched):
    sync(db_path, account)
    fetched.clear()
    results = sync(db_path, account)
    assert (fetched, [r.n_read for r in results]) == ([], [0])


def test_second_sync_fetches_only_the_changed_card(db_path, account, radicale, fetched):
    sync(db_path, account)
    change_and_delete(radicale)
    fetched.clear()
    sync(db_path, account)
    state = cursor(db_path, radicale.addressbook_url("friends"))
    assert (fetched, sorted(state["etags"])) == (
        ["/kith/friends/bob.vcf"], ["/kith/friends/alice.vcf", "/kith/friends/bob.vcf"])


def test_changed_card_is_current_after_the_second_sync(db_path, account, radicale):
    sync(db_path, account)
    change_and_delete(radicale)
    sync(db_path, account)
    rows = current(db_path)
    assert [r for r in rows if r[0] == "Bob Baker"] == [("Bob Baker", ["bob@new.example.net"])]


def test_deleted_card_is_no_longer_current(db_path, account, radicale):
    sync(db_path, account)
    change_and_delete(radicale)
    sync(db_path, account)
    assert current(db_path) == [("Alice Archer", ["alice@example.com"]),
                                ("Bob Baker", ["bob@new.example.net"])]


def test_refused_sync_token_falls_back_to_etags(db_path, account, radicale, fetched):
    sync(db_path, account)
    url = radicale.addressbook_url("friends")
    with duckdb.connect(str(db_path)) as con:
        state = json.loads(con.execute("select cursor from sync_state where source_uri = ?",
                                       [url]).fetchone()[0])
        state["sync_token"] = "http://radicale.org/ns/sync/" + "0" * 64
        con.execute("update sync_state set cursor = ? where source_uri = ?",
                    [json.dumps(state), url])
    change_and_delete(radicale)
    fetched.clear()
    sync(db_path, account)
    assert (fetched, sorted(cursor(db_path, url)["etags"])) == (
        ["/kith/friends/bob.vcf"], ["/kith/friends/alice.vcf", "/kith/friends/bob.vcf"])


# A server without sync-collection: tests/dav (a real proxy that refuses the report).


# -- errors -------------------------------------------------------------------------------------

def test_wrong_password_raises_auth_error_and_writes_no_warehouse(db_path, account, radicale,
                                                                   monkeypatch):
    monkeypatch.setenv("KITH_TEST_CARDDAV_PASSWORD", "hunter2-not-the-password")
    with pytest.raises(CardDavAuthError) as info:
        sync(db_path, account)
    assert (str(info.value), db_path.exists(), "hunter2" in repr(info.value) + repr(account)) == (
        f"CardDAV login refused for kith@127.0.0.1:{radicale.port} (HTTP 401)", False, False)


def test_missing_password_names_the_variable(db_path, account, monkeypatch):
    monkeypatch.delenv("KITH_TEST_CARDDAV_PASSWORD")
    with pytest.raises(CardDavAuthError, match="KITH_TEST_CARDDAV_PASSWORD is not set"):
        sync(db_path, account)
    assert not db_path.exists()


def test_unreachable_server_raises_connection_error_after_retries(db_path, account, monkeypatch):
    from tests.servers.radicale import free_port
    gone = dataclasses.replace(account, url=f"http://127.0.0.1:{free_port()}", timeout_s=2)
    calls = []
    monkeypatch.setattr("kith.flows.dav_sync._wait", lambda backoff, attempt: calls.append(attempt))
    with pytest.raises(CardDavConnectionError, match="cannot reach CardDAV server for kith@"):
        sync(db_path, gone, retries=2)
    assert (calls, db_path.exists()) == ([0, 1], False)


def test_plain_http_to_another_host_is_refused():
    with pytest.raises(ValueError, match="only allowed to 127.0.0.1"):
        CardDavAccount(url="http://dav.example.com", user="me", password_env="X")


def test_addressbook_uri_has_no_credentials():
    assert addressbook_uri(AddressBook("https://me@dav.example.com/me/book/", "Book")) == \
        "https://dav.example.com/me/book/"


def test_a_configured_carddav_source_syncs_through_kith_sync(tmp_path, account, radicale):
    from kith.flows.config import load_config
    from kith.flows.sync import sync_source

    path = tmp_path / "kith.toml"
    path.write_text(f'[[sources]]\nname = "phone"\nkind = "carddav"\nurl = "{radicale.url}"\n'
                    f'user = "{radicale.user}"\npassword_env = "{account.password_env}"\n')
    result = sync_source(load_config(path), "phone")
    assert [load.n_new for load in result.loads] == [3]
