"""The CardDAV contract: every test runs on each real server fixture (see conftest.py)."""

import dataclasses
import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

import duckdb
import pytest

from kith.connectors.carddav import (CardDavAccount, CardDavAuthError, CardDavError, discover,
                                     open_session)
from kith.flows.contacts_sync import sync_carddav
from tests.dav.conftest import PASSWORD_ENV, query, spoil
from tests.servers.etag_only import EtagOnlyProxy
from tests.servers.radicale import make_card

SEEDED = {
    "alice.vcf": make_card("alice", "Alice Archer", family="Archer", given="Alice",
                           emails=("alice@example.com",)),
    "bob.vcf": make_card("bob", "Bob Baker", family="Baker", given="Bob",
                         emails=("bob@example.com",)),
    "carol.vcf": make_card("carol", "Carol Cooper", family="Cooper", given="Carol",
                           emails=("carol@example.com",)),
}
ALL = ["Alice Archer", "Bob Baker", "Carol Cooper"]


@pytest.fixture
def friends(server) -> str:
    """The address book "friends" (display name "Friends") holding SEEDED, and a calendar
    beside it that must not be read. Returns the address book's URL."""
    url = server.create_addressbook("friends", "Friends")
    server.create_calendar("work", "Work")
    with server.session() as s:
        for name, vcf in SEEDED.items():
            server.put_card("friends", name, vcf, session=s)
    return url


@pytest.fixture
def account(server, monkeypatch) -> CardDavAccount:
    monkeypatch.setenv(PASSWORD_ENV, server.password)
    return CardDavAccount(url=server.url, user=server.user, password_env=PASSWORD_ENV,
                          timeout_s=10, batch_size=2)


def sync(db_path, account, **kwargs):
    return sync_carddav(db_path, account, backoff=(0,), **kwargs)


def current(db_path) -> list[str]:
    """The full names of the cards each resource holds now (the latest contact_items)."""
    return [name for (name,) in query(db_path, """
        with latest as (
            select * from contact_items
            qualify row_number() over (partition by source_uri, item order by load_id desc) = 1)
        select c.full_name from latest, unnest(latest.cards) as u(v)
        join raw_contacts as c on c.record_key = v.record_key and c.record_hash = v.record_hash
        where not latest.is_deleted
        order by 1""")]


def href(book_url: str, name: str) -> str:
    return urlsplit(book_url).path + name


def fetched_hrefs(reports) -> list[str]:
    return sorted(h for batch in reports["multiget"] for h in batch)


# -- discovery ----------------------------------------------------------------------------------

def test_discovery_from_the_server_root_finds_only_the_address_book(account, friends):
    with open_session(account) as session:
        assert [(b.name, b.url) for b in discover(session, account)] == [("Friends", friends)]


def test_discovery_from_an_address_book_url_finds_it(account, friends):
    from_book = dataclasses.replace(account, url=friends)
    with open_session(from_book) as session:
        assert [b.url for b in discover(session, from_book)] == [friends]


# -- syncing ------------------------------------------------------------------------------------

def test_first_sync_loads_every_card(db_path, account, friends):
    results = sync(db_path, account)
    assert ([(r.source_uri, r.status, r.n_new) for r in results], current(db_path)) == (
        [(friends, "completed", 3)], ALL)


def test_sync_without_changes_reads_nothing(db_path, account, friends, reports):
    sync(db_path, account)
    reports["multiget"].clear()
    results = sync(db_path, account)
    assert (reports["multiget"], [r.n_read for r in results]) == ([], [0])


def change(server):
    """Dave is added, Bob renamed, Carol deleted."""
    server.put_card("friends", "dave.vcf", make_card("dave", "Dave Dunn", family="Dunn"))
    server.put_card("friends", "bob.vcf", make_card("bob", "Robert Baker", family="Baker"))
    server.delete_card("friends", "carol.vcf")


def test_added_changed_and_deleted_cards_are_seen(db_path, account, server, friends, reports):
    sync(db_path, account)
    change(server)
    reports["multiget"].clear()
    sync(db_path, account)
    assert (fetched_hrefs(reports), current(db_path)) == (
        [href(friends, "bob.vcf"), href(friends, "dave.vcf")],
        ["Alice Archer", "Dave Dunn", "Robert Baker"])


def test_expired_sync_token_falls_back_to_etags(db_path, account, server, friends, reports):
    sync(db_path, account)
    with duckdb.connect(str(db_path)) as con:
        state = json.loads(con.execute("select cursor from sync_state").fetchone()[0])
        state["sync_token"] = spoil(state["sync_token"])
        con.execute("update sync_state set cursor = ?", [json.dumps(state)])
    change(server)
    reports["multiget"].clear()
    sync(db_path, account)
    assert (fetched_hrefs(reports), current(db_path)) == (
        [href(friends, "bob.vcf"), href(friends, "dave.vcf")],
        ["Alice Archer", "Dave Dunn", "Robert Baker"])


def test_server_without_sync_collection_is_read_by_etags(db_path, account, server, friends,
                                                         reports):
    with EtagOnlyProxy(server.url) as proxy:
        etag_only = dataclasses.replace(account, url=proxy.url)
        sync(db_path, etag_only)
        change(server)
        reports["multiget"].clear()
        sync(db_path, etag_only)
    assert (proxy.refused, fetched_hrefs(reports), current(db_path)) == (
        2, [href(friends, "bob.vcf"), href(friends, "dave.vcf")],
        ["Alice Archer", "Dave Dunn", "Robert Baker"])


def test_server_without_sync_collection_and_no_change_reads_nothing(db_path, account, server,
                                                                  friends, reports):
    with EtagOnlyProxy(server.url) as proxy:
        etag_only = dataclasses.replace(account, url=proxy.url)
        sync(db_path, etag_only)
        reports["multiget"].clear()
        results = sync(db_path, etag_only)
    assert (proxy.refused, reports["multiget"], [r.n_read for r in results]) == (2, [], [0])


def test_huge_address_book_is_fetched_in_batches(db_path, account, server, reports):
    server.create_addressbook("big", "Big")
    with server.session() as s:
        for i in range(40):
            server.put_card("big", f"c{i:02d}.vcf", make_card(f"c{i:02d}", f"Person {i:02d}"),
                            session=s)
    results = sync(db_path, dataclasses.replace(account, batch_size=7))
    assert ([len(batch) for batch in reports["multiget"]], [r.n_new for r in results]) == (
        [7, 7, 7, 7, 7, 5], [40])


# -- cards the server cannot serve ----------------------------------------------------------------

GHOST = make_card("ghost", "Ghost Gray", family="Gray", emails=("ghost@example.com",))


@pytest.mark.needs("unservable-resource")
def test_card_the_server_cannot_serve_is_a_reject_and_the_rest_loads(db_path, account, server,
                                                                     friends):
    server.store_unservable(friends, "ghost.vcf", GHOST)
    results = sync(db_path, account)
    assert ([(r.status, r.n_new, r.n_unserved) for r in results], current(db_path),
            query(db_path, "select item, reason from rejects")) == (
        [("partial", 3, 1)], ALL,
        [(href(friends, "ghost.vcf"), "the server could not serve this resource: HTTP 500")])


@pytest.mark.needs("unservable-resource")
def test_card_that_fails_its_batch_is_read_alone_by_get(db_path, account, server, friends,
                                                        reports):
    # Stored in Latin-1: Xandikos fails (HTTP 500) on every multiget holding it; GET serves it.
    server.store_latin1(friends, "zoe.vcf", make_card("zoe", "Zoë Müller", family="Müller"))
    results = sync(db_path, account)
    assert ([(r.status, r.n_new) for r in results], reports["get"], current(db_path)) == (
        [("completed", 4)], [href(friends, "zoe.vcf")], ALL + ["Zoë Müller"])


@pytest.mark.needs("unservable-resource")
def test_unserved_card_is_asked_for_again_and_loads_once_repaired(db_path, account, server,
                                                                  friends):
    ghost = server.store_unservable(friends, "ghost.vcf", GHOST)
    sync(db_path, account)
    server.repair(friends, "ghost.vcf", ghost)     # same etag: no listing names it as changed
    results = sync(db_path, account)
    assert ([(r.status, r.n_new) for r in results], current(db_path)) == (
        [("completed", 1)], ["Alice Archer", "Bob Baker", "Carol Cooper", "Ghost Gray"])


@pytest.mark.needs("unservable-resource")
def test_address_book_the_server_serves_nothing_of_fails_in_one_sentence(db_path, account,
                                                                         server):
    url = server.create_addressbook("lost", "Lost")
    server.store_unservable(url, "ghost.vcf", GHOST)
    with pytest.raises(CardDavError) as info:
        sync(db_path, account)
    assert str(info.value) == (f"the server could not serve any of the 1 resources of {url}; "
                               "see the rejects of this source for its answers")


@pytest.mark.needs("unservable-resource")
def test_kith_sync_reports_the_source_as_partial_not_failed(tmp_path, account, server,
                                                            friends):
    from kith.flows.config import load_config
    from kith.flows.sync_run import run_sync

    server.store_unservable(friends, "ghost.vcf", GHOST)
    path = tmp_path / "kith.toml"
    path.write_text(f'[[sources]]\nname = "phone"\nkind = "carddav"\nurl = "{server.url}"\n'
                    f'user = "{server.user}"\npassword_env = "{PASSWORD_ENV}"\n')
    report = run_sync(load_config(path), run_rebuild=lambda config: {})
    [row] = report.rows()
    assert (report.ok, row["status"], row["new"], row["rejected"], row["message"]) == (
        True, "partial", 3, 1, "the server could not serve 1 resource(s); they are listed in "
                               "rejects with their href")


@pytest.mark.needs("unservable-resource")
def test_kith_sync_command_says_what_the_server_could_not_serve_and_exits_0(tmp_path, server,
                                                                           friends):
    server.store_unservable(friends, "ghost.vcf", GHOST)
    path = tmp_path / "kith.toml"
    path.write_text(f'[warehouse]\npath = "kith.duckdb"\n[[sources]]\nname = "phone"\n'
                    f'kind = "carddav"\nurl = "{server.url}"\nuser = "{server.user}"\n'
                    f'password_env = "{PASSWORD_ENV}"\n')
    env = {**os.environ, PASSWORD_ENV: "x", "COLUMNS": "200"}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.run([sys.executable, "-m", "kith.flows.cli", "sync", "--config", str(path)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert (proc.returncode, "phone: the server could not serve 1 resource(s); they are listed "
            "in rejects with their href" in proc.stdout) == (0, True)


# -- errors -------------------------------------------------------------------------------------

@pytest.mark.needs("auth")
def test_wrong_password_is_refused_without_showing_it(db_path, account, server, friends,
                                                      monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "hunter2-not-the-password")
    with pytest.raises(CardDavAuthError) as info:
        sync(db_path, account)
    assert (str(info.value), db_path.exists(), "hunter2" in repr(info.value)) == (
        f"CardDAV login refused for {server.user}@127.0.0.1:{server.port} (HTTP 401)", False,
        False)
