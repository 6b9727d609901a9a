"""Acquaintances, organisations and `kith intro`, from the small network in tests/fixtures/intro
(its README says who is who) imported into a real warehouse."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from typer.testing import CliRunner

from kith.flows.cli import app
from kith.flows.importing import run_import
from kith.organisations import is_free_mail
from kith.transforms.introductions import (TargetNotFound, TargetTooBroad, find_paths,
                                           find_target)
from kith.transforms.organisations import group_organisations
from kith.warehouse.connection import connect
from tests.conftest import FIXTURES

ME = "me@home.example"
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def render(text: str) -> str:
    """The fixture with each {ago:N} (and {ago:N:ics}) as the moment N days ago."""
    def moment(match):
        when = NOW - timedelta(days=int(match[1]))
        return when.strftime("%Y%m%dT%H%M%SZ") if match[2] else format_datetime(when)
    return re.sub(r"\{ago:(\d+)(:ics)?\}", moment, text)


def write_network(folder, names=("intro.mbox", "intro.ics", "intro.vcf")):
    paths = []
    for name in names:
        path = folder / name
        path.write_text(render((FIXTURES / "intro" / name).read_text(encoding="utf-8")),
                        encoding="utf-8", newline="")
        paths.append(path)
    return paths


def make_warehouse(folder, names=("intro.mbox", "intro.ics", "intro.vcf")):
    db = folder / "kith.duckdb"
    con = connect(db)
    con.execute("insert into owner_addresses values (?, now())", [ME])
    con.close()
    run_import(write_network(folder, names), db=db)
    return db


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return make_warehouse(tmp_path_factory.mktemp("intro"))


@pytest.fixture
def con(warehouse):
    con = connect(warehouse, read_only=True)
    yield con
    con.close()


def pair(con, a: str, b: str):
    return con.execute("""
        select x.n_threads, x.n_emails, x.n_meetings, x.reciprocity
        from acquaintances as x
        join people as pa on pa.person_id = x.person_a_id
        join people as pb on pb.person_id = x.person_b_id
        where [pa.display_name, pb.display_name] in ([?, ?], [?, ?])
    """, [a, b, b, a]).fetchone()


def invoke(*args):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


# --- acquaintances ------------------------------------------------------------------------------

def test_people_on_the_same_small_threads_and_meeting_are_acquainted(con):
    assert pair(con, "Carol White", "Dan Lee") == (3, 6, 1, 1.0)


def test_copied_assistant_is_acquainted_but_wrote_nothing(con):
    # reciprocity: Sam wrote none, Dan 3, the meeting counts both ways: 2 * 1 / (3 + 2)
    assert pair(con, "Sam Park", "Dan Lee") == (3, 6, 1, 0.4)


@pytest.mark.parametrize("other", ["gina@globex.com", "Hank Ruiz", "ivy@globex.com", "Globex"])
def test_large_meetings_lists_declined_meetings_and_automated_mail_never_count(con, other):
    assert pair(con, "Carol White", other) is None


def test_the_owner_is_in_no_pair(con):
    (n,) = con.execute("""
        select count(*) from acquaintances
        where person_a_id in (select person_id from people where is_owner)
           or person_b_id in (select person_id from people where is_owner)
    """).fetchone()
    assert n == 0


def test_group_share_is_the_share_of_the_owners_group_occasions(con):
    shares = dict(con.execute("""
        select p.display_name, any_value(x.person_a_group_share)
        from acquaintances as x join people as p on p.person_id = x.person_a_id
        group by all
        union all
        select p.display_name, any_value(x.person_b_group_share)
        from acquaintances as x join people as p on p.person_id = x.person_b_id
        group by all
    """).fetchall())
    # 8 group occasions (3 threads and a meeting with Dan, 4 threads with Lou), +1
    assert (shares["Sam Park"], shares["Carol White"], shares["Lou Grant"]) == (
        round(8 / 9, 3), round(4 / 9, 3), round(4 / 9, 3))


# --- organisations ------------------------------------------------------------------------------

def test_card_names_and_mail_domain_are_one_organisation(con):
    assert con.execute("""
        select names, domains from organisations where 'globex.com' in domains
    """).fetchall() == [(["GLOBEX Inc.", "Globex Corporation"], ["globex.com"])]


def test_people_at_an_organisation_by_card_or_mail_domain(con):
    rows = con.execute("""
        select p.display_name, m.is_on_card, m.is_by_mail_domain
        from int_organisation_members as m join people as p using (person_id)
        where m.organisation_key = (select organisation_key from organisations
                                    where 'globex.com' in domains)
    """).fetchall()
    # Gina and Ivy are named only in the calendar, which gives no names; the notifications
    # sender "Globex" only ever sent automated mail, so it is no member
    assert sorted(rows) == [("Dan Lee", True, True), ("Erin Ford", False, True),
                            ("Hank Ruiz", False, True),
                            ("Kate Wu", True, False), ("gina@globex.com", False, True),
                            ("ivy@globex.com", False, True)]


def test_organisation_counts_two_way_contact_and_the_strongest_tie(con):
    assert con.execute("""
        select n_people, n_two_way, strongest_name from organisations
        where 'globex.com' in domains
    """).fetchone() == (6, 2, "Erin Ford")


def test_free_mail_is_no_organisation():
    assert group_organisations([("Acme Corp", ["gmail.com", "acme.com"])]) == [
        {"key": "acme", "name": "Acme Corp", "names": ["Acme Corp"], "domains": ["acme.com"]}]


@pytest.mark.parametrize("domain", ["outlook.fr", "yahoo.co.jp", "gmx.at", "mail.outlook.com",
                                    "icloud.example"])
def test_a_mail_provider_under_any_country_ending_is_no_organisation(domain):
    assert group_organisations([("Acme Corp", [domain, "acme.com"])])[0]["domains"] == [
        "acme.com"]


def test_a_company_subdomain_named_like_a_provider_is_the_company():
    assert not is_free_mail("outlook.acme.com")
    assert not is_free_mail("liveworks.com")


def test_legal_forms_and_domains_join_across_people():
    orgs = group_organisations([("Acme Corp", []), ("ACME Inc.", []), (None, ["acme.com"])])
    assert [(o["names"], o["domains"]) for o in orgs] == [
        (["ACME Inc.", "Acme Corp"], ["acme.com"])]


def test_a_domain_whose_people_work_elsewhere_is_a_mail_provider():
    orgs = group_organisations([("Acme Corp", ["mailhost.example"]),
                                ("Globex", ["mailhost.example"])])
    assert sorted(d for o in orgs for d in o["domains"]) == []


def test_a_domain_that_fits_two_organisations_joins_the_one_its_people_work_at():
    orgs = group_organisations([("Kestrel Design", ["kestrel.example"]),
                                ("Kestrel Energy", []), (None, ["kestrel.example"])])
    assert sorted((o["names"], o["domains"]) for o in orgs) == [
        (["Kestrel Design"], ["kestrel.example"]), (["Kestrel Energy"], [])]


# --- ranking ------------------------------------------------------------------------------------

def test_organisation_paths_direct_ties_first_then_introducers_by_score(con):
    rows = find_paths(con, find_target(con, "Globex"))
    assert [(path, who, target) for _, path, who, _, _, target, *_ in rows] == [
        ("direct", "you", "Erin Ford"), ("direct", "you", "Dan Lee"),
        ("introducer", "Carol White", "Dan Lee"), ("introducer", "Sam Park", "Dan Lee")]


def test_assistant_on_every_thread_is_damped_below_the_colleague(con):
    carol, sam = con.execute("""
        select max(score) filter (where introducer_name = 'Carol White'),
               max(score) filter (where introducer_name = 'Sam Park')
        from introductions where target_name = 'Dan Lee'
    """).fetchone()
    assert sam < carol / 2


def test_a_mail_domain_finds_the_same_organisation(con):
    assert find_target(con, "globex.com").person_ids == find_target(con, "Globex Corp").person_ids


def test_person_target(con):
    rows = find_paths(con, find_target(con, "dan@globex.com"))
    assert [row[2] for row in rows] == ["you", "Carol White", "Sam Park"]


def test_evidence_says_who_how_often_and_when(con):
    (evidence,) = con.execute("""
        select evidence from introductions
        where introducer_name = 'Carol White' and target_name = 'Dan Lee'
    """).fetchone()
    first = NOW - timedelta(days=60)
    assert evidence.startswith("Carol White (active, ")
    assert evidence.endswith(f"3 threads and 1 meeting with Dan Lee (GLOBEX Inc.) since "
                             f"{first:%b %Y}, last {(NOW - timedelta(days=9)).day} "
                             f"{NOW - timedelta(days=9):%b %Y}")


# --- bad input ----------------------------------------------------------------------------------

def test_no_match_suggests_the_closest_organisations(con):
    with pytest.raises(TargetNotFound) as exc:
        find_target(con, "Globx")
    assert exc.value.suggestions[:1] == ["GLOBEX Inc."]


def test_too_broad_asks_for_a_narrower_target(con):
    with pytest.raises(TargetTooBroad) as exc:
        find_target(con, "Labs")
    assert (exc.value.n_matches, exc.value.choices) == (
        3, ["Alpha Labs", "Beta Labs", "Gamma Labs"])


def test_nobody_in_reach_is_explained(warehouse):
    result = invoke("intro", "gina@globex.com", "--db", str(warehouse))
    assert result.exit_code == 0
    assert "No path to gina@globex.com: you have no two-way contact" in " ".join(result.output.split())


def test_owner_without_mail_is_told_why(tmp_path):
    db = make_warehouse(tmp_path, names=("intro.vcf",))
    result = invoke("intro", "Globex", "--db", str(db))
    assert "kith has none of your mail or meetings" in " ".join(result.output.split())


# --- the commands -------------------------------------------------------------------------------

def test_intro_prints_ranked_evidence(warehouse):
    result = invoke("intro", "Globex", "--db", str(warehouse))
    lines = [line.strip() for line in result.output.splitlines()]
    assert lines[0] == "Paths to GLOBEX Inc."
    assert lines[1].startswith("1. you: active with Erin Ford at GLOBEX Inc., last ")
    assert lines[3].startswith("3. Carol White (active, ")


def test_intro_json_limit(warehouse):
    result = invoke("intro", "Globex", "--limit", "1", "--format", "json", "--db", str(warehouse))
    rows = json.loads(result.output)
    assert [(r["rank"], r["path"], r["target"]) for r in rows] == [(1, "direct", "Erin Ford")]


def test_intro_unknown_target_exits_with_suggestions(warehouse):
    result = CliRunner().invoke(app, ["intro", "Globx", "--db", str(warehouse)])
    assert result.exit_code == 1
    assert "the closest organisations: GLOBEX Inc." in " ".join(result.output.split())


def test_orgs_lists_strongest_first(warehouse):
    result = invoke("orgs", "--format", "csv", "--limit", "2", "--db", str(warehouse))
    lines = result.output.splitlines()
    assert lines[0].startswith("organisation,n_people,n_two_way")
    assert [line.split(",")[0] for line in lines[1:]] == ["initech.example", "office.example"]



def test_several_people_of_a_name_ask_for_an_id(con):
    with pytest.raises(TargetTooBroad) as exc:
        find_target(con, "an")          # a part of several names
    assert exc.value.n_matches > 1 and all(re.search(r"\(\d+\)$", c) for c in exc.value.choices)


def test_a_domain_spelling_the_whole_name_wins_over_one_spelling_its_first_word(tmp_path):
    # Clearwater Health and Clearwater Security, both known only by their mail domains:
    # "Clearwater Health" names the first, whose domain spells all of it.
    mbox = "".join(render(f"""From {who} Mon Jan  5 10:00:00 2026
Message-ID: <m{n}@home.example>
Date: {{ago:{n + 2}}}
From: {who}
To: Me Owner <{ME}>
Subject: hello

Body.

""") for n, who in enumerate(["ana@clearwaterhealth.example", "bo@clearwater.example"]))
    (tmp_path / "mail.mbox").write_text(mbox, encoding="utf-8")
    db = tmp_path / "kith.duckdb"
    con = connect(db)
    con.execute("insert into owner_addresses values (?, now())", [ME])
    con.close()
    run_import([tmp_path / "mail.mbox"], db=db)
    with connect(db, read_only=True) as con:
        target = find_target(con, "Clearwater Health")
        (address,) = con.execute("select emails[1] from people where person_id = ?",
                                 [target.person_ids[0]]).fetchone()
    assert (len(target.person_ids), address) == (1, "ana@clearwaterhealth.example")
