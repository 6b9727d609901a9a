"""The match model in a real warehouse: estimated from the user's own records, stored, reused,
and the starting weights for a warehouse too small to estimate from; bad input."""

import copy
import math
import random

import duckdb
import pytest
from splink import DuckDBAPI
from typer.testing import CliRunner

from kith.flows.cli import app
from kith.flows.importing import run_import
from kith.transforms.identity.model import (MIN_TRAINING_RECORDS, Model, ScoredPair,
                                            _name_u_within_one_source, _unseen_u, settings)
from kith.transforms.identity.resolve import IdentityRecord as R
from kith.transforms.identity.resolve import (NameStats, SourcePriors, _Clusters, _features,
                                              _full_names, _Prepared, _weigh_commonness,
                                              resolve)
from kith.transforms.identity.store import RETRAIN_GROWTH, stored_model
from kith.warehouse.connection import connect

GIVEN = """Amara Bjorn Chiara Dmitri Elif Farah Goran Hana Ines Jonas Kofi Leila Magnus Nadia
Obinna Petra Quentin Rosa Selin Tobias Uma Vikram Wanjiru Ximena Yusuf Zara Aiko Bruno Camila
Darius Esther Felix Greta Hamza Ivo Julia Kenji Lina Mateo Noor""".split()
FAMILY = """Okonkwo Lindqvist Marchetti Sokolov Yilmaz Haddad Petrovic Sato Duarte Brandt
Mensah Karimi Holm Nasser Eze Novak Lefevre Ortega Aydin Keller Iyer Mehta Kamau Vargas Aziz
Rahimi Mori Costa Reyes Farahani Weiss Ferro Lund Hakimi Varga Abara Tanaka Morales Demir Adler
""".split()


def card(uid: str, name: str, org: str | None = None, email: str | None = None,
         phone: str | None = None) -> str:
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", f"FN:{name}"]
    if org:
        lines.append(f"ORG:{org}")
    if email:
        lines.append(f"EMAIL:{email}")
    if phone:
        lines.append(f"TEL:{phone}")
    return "\n".join(lines + ["END:VCARD", ""])


@pytest.fixture
def address_books(tmp_path):
    """A work address book of 1,200 people, and a phone book holding 240 of them again: 120
    share an address or phone with their work card (pairs the model learns m from), 120 share
    only their name and employer's mail domain (pairs the model must find). Family names have
    a long tail, as real ones do: the listed ones repeat, most others are rare."""
    rng = random.Random(3)
    syllables = "ka ri to an el mo su ve da lin or na be go tha ren vi as ko ul".split()
    rare = {"".join(rng.sample(syllables, 3)).capitalize() for _ in range(2_000)}
    families = FAMILY + sorted(rare)
    names = rng.sample([(g, f) for g in GIVEN for f in families], 1_200)
    orgs = [f"{w} {k}" for w in ("Harbor", "Lumen", "Quarry", "Tidal", "Alder", "Fjord")
            for k in ("Labs", "Health", "Foods", "Systems")]
    work, phone_book, truth = [], [], {}
    for i, (given, family) in enumerate(names):
        org = orgs[i % len(orgs)]
        domain = org.lower().replace(" ", "") + ".example"
        work.append(card(f"w{i}", f"{given} {family}", org,
                         f"{given.lower()}.{family.lower()}@{domain}", f"+1415555{i:04d}"))
        truth[f"card:uid:w{i}"] = i
        if i < 120:
            phone_book.append(card(f"p{i}", f"{given} {family}", None, None, f"+1415555{i:04d}"))
            truth[f"card:uid:p{i}"] = i
        elif i < 240:
            phone_book.append(card(f"p{i}", f"{given} {family}", None,
                                   f"{given[0].lower()}{family.lower()}@{domain}"))
            truth[f"card:uid:p{i}"] = i
    (tmp_path / "work.vcf").write_text("".join(work), encoding="utf-8")
    (tmp_path / "phone.vcf").write_text("".join(phone_book), encoding="utf-8")
    return tmp_path, truth


def cli(db, *args):
    result = CliRunner().invoke(app, [*args, "--db", str(db)])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_small_warehouse_uses_the_starting_weights_and_says_so(tmp_path):
    (tmp_path / "few.vcf").write_text(card("a", "Ada Lovelace") + card("b", "Alan Turing"),
                                      encoding="utf-8")
    db = tmp_path / "few.duckdb"
    run_import([tmp_path / "few.vcf"], db=db)
    output = cli(db, "rebuild")
    assert "too few to estimate the match model from" in output
    con = connect(db)
    assert con.execute("select n_records, is_estimated from identity_models").fetchall() == [
        (2, False)]
    con.close()


def test_the_model_is_estimated_from_the_users_records_and_finds_their_links(address_books):
    folder, truth = address_books
    db = folder / "big.duckdb"
    run_import([folder / "work.vcf", folder / "phone.vcf"], db=db)
    con = connect(db)
    (estimated, note), = con.execute("select is_estimated, note from identity_models").fetchall()
    assert estimated
    assert "m from 120 pairs of records that share an address or phone" in note
    person = dict(con.execute("select record_key, person_id from person_ids").fetchall())
    found = sum(person[f"card:uid:w{i}"] == person[f"card:uid:p{i}"] for i in range(120, 240))
    wrong = {pid for pid in person.values()
             if len({truth[k] for k, p in person.items() if p == pid}) > 1}
    con.close()
    assert found == 120
    assert wrong == set()


def test_the_stored_model_is_reused_until_the_records_grow_by_a_quarter(address_books):
    folder, _ = address_books
    db = folder / "big.duckdb"
    run_import([folder / "work.vcf", folder / "phone.vcf"], db=db)
    output = cli(db, "rebuild")
    assert "re-estimated when the records grow by a quarter" in output
    con = connect(db)
    assert con.execute("select count(*) from identity_models").fetchone() == (1,)
    n = con.execute("select n_records from identity_models").fetchone()[0]
    assert stored_model(con, n + 10)[1] is not None
    assert stored_model(con, int(n * RETRAIN_GROWTH) + 1) == (None, None)
    con.close()


def test_bad_input_makes_no_giant_person():
    records = [R(f"smith{i}", f"book{i % 3}", full_name="John Smith",
                 emails=(f"js{i}@acme.example",)) for i in range(5_000)]
    records += [R("nameless1", "mail", emails=("x1@acme.example",)),
                R("nameless2", "mail", emails=("x2@acme.example",)),
                R("long", "book", full_name="A" * 10_000 + " B" * 2)]
    result = resolve(records)
    assert max(len(c) for c in result.clusters) == 1
    assert result.n_skipped_blocks >= 1
    assert len(records) >= MIN_TRAINING_RECORDS and result.model is not None


def _bad_cards(case: str) -> list[str]:
    """Address-book cards for one kind of bad input."""
    rng = random.Random(5)
    if case == "three records":
        return [card("a", "Ada Lovelace"), card("b", "Ada Lovelace", email="ada@x.example"),
                card("c", "Alan Turing")]
    if case == "no names":
        return [card(f"n{i}", "", email=f"user{i}@mail{i % 40}.example") for i in range(1_200)]
    if case == "one name shared by 5,000 records":
        return [card(f"s{i}", "John Smith", org=rng.choice(["Acme", "Globex", ""]) or None,
                     email=f"js{i}@acme.example") for i in range(5_000)]
    if case == "a 10,000-character name":
        return ([card("long", "A" * 10_000 + " " + "B" * 10_000, email="long@x.example")]
                + [card(f"p{i}", f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}")
                   for i in range(1_100)])
    assert case == "every record on one mail domain"
    return [card(f"d{i}", f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}", org="Acme",
                 email=f"person{i}@acme.example") for i in range(1_500)]


@pytest.mark.parametrize("case", ["three records", "no names", "one name shared by 5,000 records",
                                  "a 10,000-character name", "every record on one mail domain"])
def test_a_bad_warehouse_rebuilds_without_a_giant_person_and_says_what_it_could_not_do(
        tmp_path, case):
    (tmp_path / "bad.vcf").write_text("".join(_bad_cards(case)), encoding="utf-8")
    db = tmp_path / "bad.duckdb"
    run_import([tmp_path / "bad.vcf"], db=db)
    output = cli(db, "rebuild")
    assert "Match model:" in output
    con = connect(db)
    biggest = con.execute("select max(n) from (select count(*) n from person_ids "
                          "group by person_id)").fetchone()[0]
    n_records = con.execute("select count(*) from person_ids").fetchone()[0]
    con.close()
    if case == "three records":
        assert "too few to estimate the match model from" in output
        assert n_records == 3 and biggest <= 2
    elif case == "one name shared by 5,000 records":
        assert "so many records" in output           # the name's block was not compared
        assert biggest <= 2
    else:
        # nothing here is one person twice, except where two cards share an address
        assert biggest <= 2, output


def _population(n: int = 1_200, seed: int = 3) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    syllables = "ka ri to an el mo su ve da lin or na be go tha ren vi as ko ul".split()
    families = FAMILY + sorted({"".join(rng.sample(syllables, 3)).capitalize()
                                for _ in range(2_000)})
    return rng.sample([(g, f) for g in GIVEN for f in families], n)


def test_the_prior_is_estimated_per_pair_of_sources_and_a_job_change_does_not_veto():
    """A LinkedIn export (one row per person) and mail from 300 of them: 150 at the employer
    LinkedIn shows, 150 from the one before (a job change). Two LinkedIn rows are almost never
    one person, a mail correspondent quite often has a LinkedIn row: the priors say so, and the
    same uncommon full name links across the two sources although the employer differs."""
    people = _population()
    orgs = ["Harbor Labs", "Lumen Health", "Quarry Foods", "Tidal Systems", "Alder Works"]
    records = []
    for i, (given, family) in enumerate(people):
        org = orgs[i % len(orgs)]
        records.append(R(f"li{i}", "linkedin", given_name=given, family_name=family, org=org,
                         profiles=(f"https://linkedin.com/in/p{i}",)))
        if i < 300:
            employer = org if i < 150 else orgs[(i + 1) % len(orgs)]
            address = f"{given}.{family}@{employer.lower().replace(' ', '')}.example".lower()
            records.append(R(f"email:{address}", "email", full_name=f"{given} {family}",
                             emails=(address,), names_seen=(f"{given} {family}",),
                             names_reliable=False))
    result = resolve(records)
    priors = result.priors
    assert priors.estimated
    assert priors.of("linkedin", "linkedin") < priors.of("email", "linkedin") / 100
    together = {tuple(sorted(c)) for c in result.clusters if len(c) == 2}
    moved = sum((f"li{i}",) == tuple(sorted(c for c in cluster if c.startswith("li")))
                for i in range(150, 300) for cluster in [next(
                    c for c in result.clusters if f"li{i}" in c)] if len(cluster) == 2)
    assert moved >= 140                      # job changes found
    assert all(len(c) <= 2 for c in result.clusters)
    assert len(together) >= 290
    link = next(l for l in result.links if l.rule == "match_model")
    assert "odds before comparing" in link.evidence and "full name exact" in link.evidence


def _people_of_six_traditions(n: int, rng: random.Random) -> list[tuple[str, str]]:
    """n (given, family) names as people carry them: given and family names go together by
    naming tradition (six, each with names of its own sounds), and within one the first names
    of its lists are far more common than the last, so that namesakes occur as they do."""
    traditions = []
    for sounds in ("ka ri to an el mo", "su ve da lin or na", "be go tha ren vi as",
                   "ko ul mi zan pe dor", "chi wen fa lo mei tan", "sia bru nek hol gar tim"):
        parts, spell = sounds.split(), random.Random(sounds)
        given = sorted({"".join(spell.choices(parts, k=2)).capitalize() for _ in range(60)})
        family = sorted({"".join(spell.choices(parts, k=3)).capitalize() for _ in range(400)})
        traditions.append((given, family))
    names = []
    for _ in range(n):
        given, family = rng.choice(traditions)
        names.append((rng.choices(given, [1 / (r + 5) for r in range(len(given))])[0],
                      rng.choices(family, [1 / (r + 5) for r in range(len(family))])[0]))
    return names


def _duplicated(records: list[R]) -> frozenset[str]:
    prepared = {r.key: _Prepared(r) for r in records}
    named, by_name = _full_names(prepared)
    model = Model(settings(), len(records), True, "")
    return SourcePriors.estimate(named, by_name, NameStats.of(prepared), model,
                                 len(records)).duplicated


def test_a_large_list_of_namesakes_whose_names_go_together_by_tradition_holds_no_duplicates():
    """A LinkedIn export of 8,000 people and a phone book of 1,500 others, each holding each
    person once. Their names go together by tradition, so they hold many more namesakes than
    the shares of given and family names among everyone predict (24 times as many pairs
    within one tradition's 1/6 of the people, each tradition's names concentrated in it): that
    is not a list keyed in twice, and the rivals guard stays on for both."""
    rng = random.Random(11)
    records = [R(f"li{i}", "linkedin", given_name=g, family_name=f)
               for i, (g, f) in enumerate(_people_of_six_traditions(8_000, rng))]
    records += [R(f"ph{i}", "phone", full_name=f"{g} {f}")
                for i, (g, f) in enumerate(_people_of_six_traditions(1_500, rng))]
    assert _duplicated(records) == frozenset()


def test_a_phone_book_with_people_keyed_in_twice_holds_duplicates():
    """The same kind of people: a phone book of 2,000 in which 150 are keyed in twice, beside a
    LinkedIn export of 8,000 holding each person once. Only the phone book holds duplicates."""
    rng = random.Random(12)
    records = [R(f"li{i}", "linkedin", given_name=g, family_name=f)
               for i, (g, f) in enumerate(_people_of_six_traditions(8_000, rng))]
    for i, (g, f) in enumerate(_people_of_six_traditions(2_000, rng)):
        records += [R(f"ph{i}{copy}", "phone", full_name=f"{g} {f}")
                    for copy in ("ab" if i < 150 else "a")]
    assert _duplicated(records) == frozenset({"phone"})


def test_merge_and_split_decisions_and_person_ids_survive_a_rebuild_with_an_estimated_model(
        address_books):
    from kith.transforms.runner import build

    folder, _ = address_books
    db = folder / "big.duckdb"
    run_import([folder / "work.vcf", folder / "phone.vcf"], db=db)
    con = connect(db)
    assert con.execute("select bool_and(is_estimated) from identity_models").fetchone()[0]
    person = dict(con.execute("select record_key, person_id from person_ids").fetchall())
    # a pair the model linked (name and employer's mail domain only), and two strangers
    linked = con.execute("select person_id, record_a, record_b from person_links "
                         "where rule = 'match_model' order by record_a limit 1").fetchone()
    stranger_a, stranger_b = "card:uid:w500", "card:uid:w501"
    con.close()
    assert linked is not None
    pid, record_a, record_b = linked
    cli(db, "split", str(pid), record_b)
    cli(db, "merge", str(person[stranger_a]), str(person[stranger_b]))
    con = connect(db)
    build(con, force=True)
    after = dict(con.execute("select record_key, person_id from person_ids").fetchall())
    assert after[record_a] != after[record_b]
    assert after[stranger_a] == after[stranger_b]
    moved = {record_b, stranger_a, stranger_b}
    assert {k: v for k, v in after.items() if k not in moved} == {
        k: v for k, v in person.items() if k not in moved}
    assert after[record_a] == pid
    build(con, force=True)
    assert dict(con.execute("select record_key, person_id from person_ids").fetchall()) == after
    con.close()


def test_agreeing_on_an_employer_many_contacts_share_counts_for_little():
    """1,200 LinkedIn connections, half at Harbor Labs and the rest five to an employer: agreeing
    on Harbor Labs weighs far less than the model's average for "same organisation" and says
    why; agreeing on a small employer keeps that weight."""
    orgs = ["Harbor Labs"] * 600 + [f"Firm {k // 5}" for k in range(600)]
    records = [R(f"li{i}", "linkedin", given_name="Ann", family_name=f"F{i}", org=org)
               for i, org in enumerate(orgs)]
    prepared = {r.key: _Prepared(r) for r in records}
    stats, model = NameStats.of(prepared), Model(settings(), len(records), True, "")
    m, u = model.level("organisation", "same organisation")
    average = math.log2(m / u)

    def weighed(a, b):
        pair = ScoredPair(a, b, 0.5, average, {"organisation": ("same organisation", average)})
        _weigh_commonness(pair, prepared[a], prepared[b], stats, model)
        return pair.levels["organisation"]
    label, weight = weighed("li0", "li1")                 # both at Harbor Labs
    assert weight == pytest.approx(math.log2(m / 0.5)) and weight < average - 1
    assert label == "same organisation, common among your contacts"
    assert weighed("li600", "li601") == ("same organisation", average)   # both at Firm 0


def test_a_comparison_no_sampled_pair_had_keeps_its_starting_u():
    """Random sampling saw names but no pair with a street on both sides: the name levels it
    did not see become rarer than one in the pairs sampled, the street levels keep the starting
    u (a differing street must not turn into evidence for one person)."""
    base = settings()
    trained = copy.deepcopy(base)
    trained["comparisons"][0]["comparison_levels"][1]["u_probability"] = 1e-6   # full name seen
    out = _unseen_u(trained, base, 1_000_000)
    start = {c["output_column_name"]: c for c in base["comparisons"]}
    for c in out["comparisons"]:
        levels = [lv for lv in c["comparison_levels"] if not lv.get("is_null_level")]
        begun = [lv for lv in start[c["output_column_name"]]["comparison_levels"]
                 if not lv.get("is_null_level")]
        if c["output_column_name"] == "name":
            assert all(lv["u_probability"] <= 1e-6 for lv in levels[:-1])
            assert levels[-1]["u_probability"] == begun[-1]["u_probability"]    # name differs
        else:
            assert [lv["u_probability"] for lv in levels] == [
                lv["u_probability"] for lv in begun]


def test_the_names_u_is_estimated_over_every_pair_of_the_list():
    """1,500 LinkedIn connections, two of whom share a family name and a nickname (Bob / Robert
    Okafor): sampling 100 pairs a record would see that level at most once in 150,000 pairs;
    over all 1.1 million pairs of the list it is about two in that many."""
    records = [R(f"li{i}", "linkedin", given_name=g, family_name=f)
               for i, (g, f) in enumerate(_population(1_498, seed=5))]
    records += [R("bob", "linkedin", full_name="Bob Okafor"),
                R("robert", "linkedin", full_name="Robert Okafor")]
    prepared = {r.key: _Prepared(r) for r in records}
    table, _ = _features(prepared, _Clusters(list(prepared), [], 60), frozenset())
    n = len(records)
    u = _name_u_within_one_source(DuckDBAPI(connection=duckdb.connect()), table, settings(),
                                  100.0 * n)
    nickname = u["same family name, nickname or short form of the given name"]
    assert nickname < 1 / (100.0 * n) / 5
    assert nickname >= 1 / (n * (n - 1) / 2)
