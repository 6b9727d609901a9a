"""People across real files of every kind: a LinkedIn export, business cards, a phone book and a
mail archive, resolved in a real warehouse; stable ids; merge and split decisions."""

from textwrap import dedent

import pytest
from typer.testing import CliRunner

from kith.flows.cli import app
from kith.flows.importing import run_import
from kith.transforms.runner import build
from kith.warehouse.connection import connect

CONNECTIONS = dedent("""\
    Notes:
    "When exporting your connection data, you may notice that some of the email addresses are missing."

    First Name,Last Name,URL,Email Address,Company,Position,Connected On
    Jane,Doe,https://www.linkedin.com/in/janedoe,,Acme Corp,CTO,30 May 2024
    Robert,Okafor,https://www.linkedin.com/in/bokafor/,,Northwind Inc.,Partner,1 Feb 2023
    John,Smith,https://www.linkedin.com/in/jsmith1,,Globex,Engineer,2 Feb 2023
    John,Smith,https://www.linkedin.com/in/jsmith2,,Initech,Manager,3 Feb 2023
    Grace,Hopper,https://www.linkedin.com/in/grace-hopper,,US Navy,Rear Admiral,02 Jun 2022
    """)

CARDS = dedent("""\
    BEGIN:VCARD
    VERSION:3.0
    UID:card-jane
    FN:Jane Doe
    N:Doe;Jane;;;
    ORG:ACME Inc.
    EMAIL;TYPE=WORK:jane.doe@acme.example
    END:VCARD
    BEGIN:VCARD
    VERSION:3.0
    UID:card-bob
    FN:Bob Okafor
    N:Okafor;Bob;;;
    ORG:Northwind
    EMAIL;TYPE=WORK:bob@northwind.example
    END:VCARD
    BEGIN:VCARD
    VERSION:3.0
    UID:card-info
    FN:Ann Lee
    ORG:Acme
    EMAIL:info@acme.example
    END:VCARD
    """)

PHONE_BOOK = dedent("""\
    BEGIN:VCARD
    VERSION:3.0
    UID:phone-jane
    FN:Jane D.
    N:D.;Jane;;;
    TEL;TYPE=CELL:+1 415 555 0101
    EMAIL:j.doe+friends@gmail.com
    END:VCARD
    BEGIN:VCARD
    VERSION:3.0
    UID:phone-tom
    FN:Tom Lee
    EMAIL:info@acme.example
    END:VCARD
    BEGIN:VCARD
    VERSION:3.0
    UID:phone-home-a
    FN:Mary Brown
    TEL:+1 415 555 0199
    END:VCARD
    BEGIN:VCARD
    VERSION:3.0
    UID:phone-home-b
    FN:Peter Brown
    TEL:+1 415 555 0199
    END:VCARD
    """)

MBOX = dedent("""\
    From jdoe@gmail.com Mon Nov  2 10:00:00 2026
    From: Jane Doe <jdoe@gmail.com>
    To: Alex Morgan <alex@morgan.example>
    Date: Mon, 02 Nov 2026 10:00:00 +0000
    Message-ID: <m1@gmail.com>

    hi

    From alex@morgan.example Mon Nov  2 11:00:00 2026
    From: Alex Morgan <alex@morgan.example>
    To: Jane Doe <jdoe@gmail.com>, "Okafor, Bob" <bob@northwind.example>
    Date: Mon, 02 Nov 2026 11:00:00 +0000
    Message-ID: <m2@morgan.example>
    In-Reply-To: <m1@gmail.com>

    hello

    """)


@pytest.fixture
def world(tmp_path, db_path):
    (tmp_path / "linkedin").mkdir()
    (tmp_path / "linkedin" / "Connections.csv").write_text(CONNECTIONS, encoding="utf-8")
    (tmp_path / "mixer.vcf").write_text(CARDS, encoding="utf-8")
    (tmp_path / "phone.vcf").write_text(PHONE_BOOK, encoding="utf-8")
    (tmp_path / "mail.mbox").write_text(MBOX, encoding="utf-8")
    con = connect(db_path)
    con.execute("insert into owner_addresses values ('alex@morgan.example', now())")
    con.close()
    run_import([tmp_path / "linkedin", tmp_path / "phone.vcf", tmp_path / "mail.mbox"],
               db=db_path)
    run_import([tmp_path / "mixer.vcf"], db=db_path, tag="Mixer 2026-11-20")
    return tmp_path


def person_of(con, record_key):
    return con.execute("select person_id from person_ids where record_key = ?",
                       [record_key]).fetchone()[0]


@pytest.fixture
def con(world, db_path):
    con = connect(db_path)
    yield con
    con.close()


def test_one_person_across_linkedin_card_phone_book_and_mail(con):
    jane = person_of(con, "card:uid:card-jane")
    assert {person_of(con, "email:jdoe@gmail.com"), person_of(con, "card:uid:phone-jane")} \
        == {jane}
    row = con.execute("""select display_name, organisation, lists, phones from people
                         where person_id = ?""", [jane]).fetchone()
    assert row == ("Jane Doe", "Acme Corp", ["LinkedIn", "cards: Mixer 2026-11-20",
                                               "address book"], ["+14155550101"])


def test_linkedin_connection_joins_its_card_by_nickname_and_organisation(con):
    bob = person_of(con, "card:uid:card-bob")
    assert person_of(con, "email:bob@northwind.example") == bob
    linkedin = con.execute("""select person_id from people
                              where list_contains(profiles, 'https://linkedin.com/in/bokafor')
                           """).fetchone()[0]
    assert linkedin == bob
    assert con.execute("select display_name from people where person_id = ?",
                       [bob]).fetchone() == ("Bob Okafor",)


def test_two_people_with_one_common_name_stay_two(con):
    assert con.execute("select count(*) from people where display_name = 'John Smith'"
                       ).fetchone() == (2,)


def test_role_address_and_family_phone_are_excluded_with_reasons(con):
    assert person_of(con, "card:uid:card-info") != person_of(con, "card:uid:phone-tom")
    assert person_of(con, "card:uid:phone-home-a") != person_of(con, "card:uid:phone-home-b")
    assert con.execute("select handle, reason from excluded_handles order by handle").fetchall() \
        == [("+14155550199", "seen with different people (mary brown and peter brown)"),
            ("alex@morgan.example", "the owner's own address"),
            ("info@acme.example", "a role or shared address, not one person")]


def test_the_owner_is_one_person_and_is_flagged(con):
    assert con.execute("select display_name, primary_email from people where is_owner"
                       ).fetchall() == [("Alex Morgan", "alex@morgan.example")]


def test_rebuild_and_new_import_keep_person_ids(con, world, db_path):
    before = dict(con.execute("select record_key, person_id from person_ids").fetchall())
    build(con, force=True)
    (world / "more.vcf").write_text(
        "BEGIN:VCARD\nVERSION:3.0\nUID:new\nFN:Zoe New\nEMAIL:zoe@new.example\nEND:VCARD\n",
        encoding="utf-8")
    con.close()
    run_import([world / "more.vcf"], db=db_path)
    con2 = connect(db_path)
    after = dict(con2.execute("select record_key, person_id from person_ids").fetchall())
    con2.close()
    assert {k: after[k] for k in before} == before
    assert after["card:uid:new"] > max(before.values())


def test_rebuild_with_nothing_new_skips_resolution(con):
    n = con.execute("select count(*) from identity_builds").fetchone()[0]
    build(con)
    assert con.execute("select count(*) from identity_builds").fetchone()[0] == n


def cli(db_path, *args):
    result = CliRunner().invoke(app, [*args, "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    return result.output


def test_split_and_merge_decisions_survive_a_full_rebuild(con, db_path):
    jane = person_of(con, "card:uid:card-jane")
    con.close()
    cli(db_path, "split", str(jane), "card:uid:phone-jane")
    con2 = connect(db_path)
    phone_jane = person_of(con2, "card:uid:phone-jane")
    assert phone_jane != jane and person_of(con2, "card:uid:card-jane") == jane
    change = con2.execute("select person_id, change, new_person_id from person_id_changes "
                          "where record_key = 'card:uid:phone-jane'").fetchall()
    assert change == [(jane, "split", phone_jane)]
    build(con2, force=True)
    assert person_of(con2, "card:uid:phone-jane") == phone_jane
    con2.close()

    cli(db_path, "merge", str(jane), str(phone_jane))
    con3 = connect(db_path)
    build(con3, force=True)
    assert person_of(con3, "card:uid:phone-jane") == jane
    assert con3.execute("select decision from identity_rules order by rule_id desc limit 1"
                        ).fetchone() == ("merge",)
    con3.close()


def test_kith_person_shows_handles_records_and_evidence(con, db_path):
    con.close()
    output = cli(db_path, "person", "jdoe@gmail.com")
    assert "Jane Doe" in output
    assert "+14155550101" in output
    assert "same_email" in output and "match_model" in output
    assert "match probability" in output and "same organisation: +" in output
    assert "Relationship: active" in output


def test_links_say_which_rule_and_evidence_joined_them(con):
    jane = person_of(con, "card:uid:card-jane")
    links = con.execute("select rule, evidence from person_links where person_id = ? "
                        "order by rule, evidence", [jane]).fetchall()
    assert ("same_email", "jdoe@gmail.com") in links
    assert any(rule == "match_model" and evidence.startswith("match probability")
               and "full name exact: +" in evidence
               and "same organisation: +" in evidence
               for rule, evidence in links)


def test_kith_person_lists_several_matches(con, db_path):
    con.close()
    output = cli(db_path, "person", "John Smith")
    assert "2 people match" in output


def test_kith_person_with_an_empty_query_asks_whom_rather_than_listing_everyone(con, db_path):
    con.close()
    for query in ("", "   "):
        result = CliRunner().invoke(app, ["person", query, "--db", str(db_path)])
        assert result.exit_code == 1
        assert "say whom" in result.output and "people match" not in result.output


def test_owner_addresses_are_suggested_from_sent_mail(tmp_path):
    mbox = tmp_path / "Sent.mbox"
    mbox.write_text(dedent("""\
        From me@home.example Mon Nov  2 10:00:00 2026
        From: Me <me@home.example>
        To: Ann <ann@acme.example>
        Date: Mon, 02 Nov 2026 10:00:00 +0000
        Message-ID: <s1@home.example>

        hi

        """), encoding="utf-8")
    db = tmp_path / "s.duckdb"
    run_import([mbox], db=db)
    output = cli(db, "owner", "--suggest")
    assert output.splitlines()[0].startswith("me@home.example  (1 messages")


def test_rebuild_reports_a_person_that_would_grow_too_large(tmp_path):
    cards = "".join(f"BEGIN:VCARD\nVERSION:3.0\nUID:dup-{i}\nFN:Jane Doe\n"
                    f"EMAIL:jane@doe.example\nNOTE:copy {i}\nEND:VCARD\n" for i in range(70))
    (tmp_path / "dupes.vcf").write_text(cards, encoding="utf-8")
    db = tmp_path / "d.duckdb"
    run_import([tmp_path / "dupes.vcf"], db=db)
    output = cli(db, "rebuild")
    assert "10 merges refused" in output
    con = connect(db)
    assert con.execute("select max(n_records) from people").fetchone() == (60,)
    con.close()
