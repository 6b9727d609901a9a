"""A rebuild after an import recomputes only what the import changed, and answers as a full
`kith rebuild` does: the demo world imported in two steps, compared with a forced full build of
the same warehouse."""

import dataclasses
import re
import shutil
from datetime import date, datetime, timedelta, timezone

import pyarrow as pa
import pytest

from kith.flows.config import load_config
from kith.flows.importing import run_import
from kith.flows.sync import prepare
from kith.transforms import runner
from kith.transforms.identity import resolve as resolving, store
from kith.transforms.identity.model import BLOCKING_KEYS
from kith.transforms.identity.resolve import IdentityRecord
from kith.transforms.identity.resolve import resolve as store_resolve
from kith.transforms.runner import build
from kith.warehouse.connection import connect
from tests.example_world import load_world

TODAY = date(2026, 6, 1)
# The clocks the builds read (runner.build_clock): mail is counted up to a day ahead of the
# clock, so a message dated between the two, plus a day, is counted from the second step on, as
# is the world's meeting of 2026-06-02 14:30.
STEP_1_CLOCK = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
STEP_2_CLOCK = datetime(2026, 6, 2, 15, 0, tzinfo=timezone.utc)
MEETING_AT = datetime(2026, 6, 2, 14, 30, tzinfo=timezone.utc)



@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return load_world().generate(tmp_path_factory.mktemp("world"), seed=11, today=TODAY,
                                  n_connections=300)


# The source imported second, into the warehouse built from all the others.
LAST = ("mixer-cards", "linkedin", "chats")


@pytest.fixture(scope="module", params=LAST)
def two_steps(request, world, tmp_path_factory):
    """(warehouse imported in two steps, the same warehouse after a forced full build, the
    names of the table models the second step's rebuild computed)."""
    with pytest.MonkeyPatch.context() as patch:
        # one instant throughout: a score that fades with time (acquaintances) would otherwise
        # differ between a model the second step left as it was and the full build
        patch.setattr(runner, "build_clock", lambda: STEP_1_CLOCK)
        return _two_steps(request.param, world, tmp_path_factory)


def _warehouse(world, tmp_path_factory, name: str):
    """(a new warehouse in a folder of its own, the world's config pointing at it)."""
    db = tmp_path_factory.mktemp(name) / "world.duckdb"
    config = dataclasses.replace(load_config(world.config), db_path=db)
    prepare(config)
    return db, config


def _two_steps(last_source: str, world, tmp_path_factory):
    db, config = _warehouse(world, tmp_path_factory, "two-steps")
    last = next(s for s in config.sources if s.name == last_source)
    for source in config.sources:
        if source is not last:
            run_import(source.settings["paths"], db=db, tag=source.settings.get("tag"))
    steps: list[str] = []
    run_import(last.settings["paths"], db=db, tag=last.settings.get("tag"),
               progress=lambda path, n, phase: steps.append(phase))
    full = db.with_name("full.duckdb")
    shutil.copyfile(db, full)
    con = connect(full)
    build(con, force=True)
    con.close()
    computed = {p.removeprefix("rebuilding: ") for p in steps if p.startswith("rebuilding: ")}
    return db, full, computed


def _answers(path) -> dict:
    """What the key views say, with each person named by their records (ids may differ)."""
    con = connect(path, read_only=True)
    con.execute("""
        create temp table who as
        select person_id, string_agg(record_key, ' ' order by record_key) as records
        from person_ids group by person_id""")
    answers = {
        "people": con.execute("""
            select w.records, p.display_name, p.primary_email, p.emails, p.organisation,
                   p.lists, p.is_owner
            from people as p join who as w using (person_id) order by 1""").fetchall(),
        "interactions": con.execute("""
            select w.records, i.source_key, i.channel, i.direction, i.is_reply, i.weight
            from interactions as i join who as w using (person_id) order by all""").fetchall(),
        "relationships": con.execute("""
            select w.records, r.tier, r.strength, r.n_emails, r.n_meetings
            from relationships as r join who as w using (person_id) order by 1""").fetchall(),
        # what the build read of `relationships`: kept from the last build but for the people
        # whose rows changed (sums of weights, summed in parallel, may differ in the last digit)
        "relationships as built": con.execute("""
            select w.records, r.tier, r.strength, r.n_interactions, r.n_emails, r.n_meetings,
                   r.last_interaction_at, r.last_two_way_at
            from relationships_as_built as r join who as w using (person_id)
            order by 1""").fetchall(),
        "acquaintances": con.execute("""
            select a.records, b.records, q.strength
            from acquaintances as q join who as a on a.person_id = q.person_a_id
            join who as b on b.person_id = q.person_b_id order by all""").fetchall(),
        # two people on one small thread or meeting, the lower one's records first (ids may
        # differ, and with them which of the two is person_a_id)
        "people together": con.execute("""
            select least(a.records, b.records), greatest(a.records, b.records),
                   t.channel, t.occasion_key, t.source_key, t.together_at, t.n_people,
                   if(a.records < b.records, t.is_from_a, t.is_from_b),
                   if(a.records < b.records, t.is_from_b, t.is_from_a)
            from int_people_together as t join who as a on a.person_id = t.person_a_id
            join who as b on b.person_id = t.person_b_id order by all""").fetchall(),
        "employers": con.execute("""
            select w.records, e.kind, e.handle
            from int_person_employers as e join who as w using (person_id)
            order by all""").fetchall(),
        "organisations": con.execute("""
            select o.* exclude (strongest_person_id), s.records
            from organisations as o left join who as s on s.person_id = o.strongest_person_id
            order by all""").fetchall(),
        "introductions": con.execute("""
            select t.records, i.records,
                   q.* exclude (target_person_id, introducer_person_id)
            from introductions as q join who as t on t.person_id = q.target_person_id
            left join who as i on i.person_id = q.introducer_person_id
            order by all""").fetchall(),
        "merge candidates": con.execute("""
            select record_a, record_b from merge_candidates order by all""").fetchall(),
        "excluded handles": con.execute("""
            select kind, handle, reason, n_records from excluded_handles
            order by all""").fetchall(),
        # what identity resolution keeps of each record, kept up to date by the small one
        "record facts": con.execute("""
            select * exclude (record_hash) from identity_record_facts
            order by record_key""").fetchall(),
        "skipped blocks": con.execute("""
            select n_skipped_blocks from identity_builds
            order by build_id desc limit 1""").fetchall(),
    }
    con.close()
    return answers


VIEWS = ["people", "interactions", "relationships", "relationships as built", "acquaintances",
         "people together", "employers", "organisations", "introductions", "merge candidates",
         "excluded handles", "record facts", "skipped blocks"]


@pytest.mark.parametrize("view", VIEWS)
def test_two_steps_answer_as_a_full_rebuild(two_steps, view):
    db, full, _ = two_steps
    assert _answers(db)[view] == _answers(full)[view]


@pytest.fixture(scope="module")
def merging_card(world, tmp_path_factory):
    """(warehouse of the whole world plus one card that holds the addresses of two people
    kith had apart, the same after a forced full build, the model_builds rows of that step,
    and of identity resolution: the records grouped again, the records read and prepared, all
    the records, the pairs kept that it was given (None: none) and the pairs it scored)."""
    grouped = []

    def observed(records, **kwargs):
        resolution = store_resolve(records, **kwargs)
        population = kwargs.get("population")
        kept = population.pairs if population else None
        grouped.append((resolution.focus, len(records),
                        population.n_records if population else len(records),
                        kept, resolution.scored))
        return resolution
    with pytest.MonkeyPatch.context() as patch:
        # one instant throughout: models that read the clock may be computed again as it moves
        patch.setattr(runner, "build_clock", lambda: STEP_1_CLOCK)
        patch.setattr(store, "resolve", observed)
        return _merging_card(world, tmp_path_factory, grouped)


def _merging_card(world, tmp_path_factory, grouped):
    db, config = _warehouse(world, tmp_path_factory, "merging")
    folder = db.parent
    for source in config.sources:
        run_import(source.settings["paths"], db=db, tag=source.settings.get("tag"))
    con = connect(db)
    # a match model estimated anew (as on a first build) is stored by the build before the card
    con.execute("delete from identity_models")
    build(con, force=True)
    (a, b), = con.execute("""
        with mailed as (
            -- people known by an address alone, so that no name on a card stands against
            -- the card's (a handle on cards of different names links no one)
            select person_id, min(primary_email) as email from people
            where not is_owner and primary_email is not null and record_kinds = ['email']
                and person_id in (select person_id from interactions where channel = 'email')
            group by person_id order by person_id limit 2)
        select list(email order by person_id) from mailed""").fetchone()
    con.close()
    run_import([_card_joining(folder, a, b)], db=db, tag="merging")
    focus = grouped[-1]
    how, full = _built_how_and_in_full(db)
    return db, full, how, focus


def _card_joining(folder, a: str, b: str):
    """A vCard file of one card holding addresses `a` and `b`."""
    card = folder / "one-card.vcf"
    card.write_text("BEGIN:VCARD\nVERSION:3.0\nFN:Sam Twofold\nN:Twofold;Sam;;;\n"
                    f"EMAIL:{a}\nEMAIL:{b}\nEND:VCARD\n", encoding="utf-8")
    return card


def _built_how_and_in_full(db):
    """(how the last build computed each table model, a copy of `db` after a forced full
    build)."""
    con = connect(db, read_only=True)
    how = dict(con.execute("select model, how from model_builds").fetchall())
    con.close()
    full = db.with_name("full.duckdb")
    shutil.copyfile(db, full)
    con = connect(full)
    build(con, force=True)
    con.close()
    return how, full


@pytest.mark.parametrize("view", VIEWS)
def test_a_card_joining_two_people_answers_as_a_full_rebuild(merging_card, view):
    db, full, _, _ = merging_card
    assert _answers(db)[view] == _answers(full)[view]


def test_a_card_joining_two_people_recomputes_their_interactions_only(merging_card):
    _, _, how, _ = merging_card
    assert how["interactions"] == "people"


def test_a_card_import_groups_again_only_the_people_it_touches(merging_card):
    _, _, _, (focus, _, n_records, _, _) = merging_card
    assert focus is not None and 3 <= len(focus) < n_records / 2


def test_a_card_import_reads_only_the_records_it_groups_again(merging_card):
    _, _, _, (focus, n_read, _, _, _) = merging_card
    assert n_read == len(focus)


def test_a_card_import_scores_only_the_pairs_of_the_records_it_touched(merging_card):
    """The pairs among the other records it groups again are read as kept, not scored again:
    each pair scored has a record to score again (the card, an address read otherwise)."""
    _, _, _, (focus, _, _, kept, scored) = merging_card
    assert kept is not None and len(kept.rescore) < len(focus) / 2
    assert scored is not None
    assert all(a in kept.rescore or b in kept.rescore for a, b, _, _ in scored)


PAIRS_FLOOR = "select pairs_floor from identity_builds order by build_id desc limit 1"


def _kept_pairs(db, floor: float) -> list[tuple]:
    con = connect(db, read_only=True)
    try:
        return con.execute("select * from identity_pairs where evidence >= ? order by all",
                           [floor]).fetchall()
    finally:
        con.close()


def _pairs_as_in_full(db, full) -> bool:
    """Whether what an import scored and what it kept of earlier resolutions are the pairs a
    full rebuild scores (above the higher of the two floors), to the last digit."""
    floor = max(_scalar(db, PAIRS_FLOOR), _scalar(full, PAIRS_FLOOR))
    return _kept_pairs(db, floor) == _kept_pairs(full, floor)


def test_two_steps_keep_the_pairs_a_full_rebuild_scores(two_steps):
    assert _pairs_as_in_full(*two_steps[:2])


def test_a_card_joining_two_people_keeps_the_pairs_a_full_rebuild_scores(merging_card):
    assert _pairs_as_in_full(*merging_card[:2])


def test_mail_in_two_steps_keeps_the_pairs_a_full_rebuild_scores(mail_in_two_steps):
    assert _pairs_as_in_full(*mail_in_two_steps[:2])


def test_a_card_joining_two_people_recomputes_the_occasions_they_were_on(merging_card):
    _, _, how, _ = merging_card
    assert how["int_people_together"] == "keys"


def test_a_card_joining_two_people_recomputes_their_people_rows_only(merging_card):
    _, _, how, _ = merging_card
    assert how["people"] == "people"


def test_a_card_joining_two_people_recomputes_their_employers_only(merging_card):
    _, _, how, _ = merging_card
    assert how["int_person_employers"] == "people"


@pytest.mark.parametrize("model", ["organisations", "introductions"])
def test_a_card_joining_two_people_recomputes_the_keys_they_belong_to(merging_card, model):
    _, _, how, _ = merging_card
    assert how[model] == "keys"


def test_a_card_joining_two_people_recomputes_relationships_for_the_people_changed(merging_card):
    _, _, how, _ = merging_card
    assert how["relationships_as_built"] == "people"


@pytest.fixture(scope="module")
def cards_moving_and_not(merging_card, tmp_path_factory):
    """(a copy of the merging warehouse plus two cards: one holding the addresses of two people
    kith knows by an address alone, which joins them, and one holding the address of a third,
    which joins that person and moves no address; the same after a forced full build; the
    people whose interactions the rebuild computed again; the three addresses)."""
    recomputed = []
    make_for_people = runner._Fingerprints._make_for_people

    def observed(self, model, people):
        if model.name == "interactions":
            recomputed.extend(row[0] for row in self.con.execute(
                f"select person_id from {people}").fetchall())
        return make_for_people(self, model, people)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "build_clock", lambda: STEP_1_CLOCK)
        patch.setattr(runner._Fingerprints, "_make_for_people", observed)
        db = tmp_path_factory.mktemp("moving-and-not") / "world.duckdb"
        shutil.copyfile(merging_card[0], db)
        con = connect(db, read_only=True)
        a, b, c = (row[0] for row in con.execute("""
            select primary_email from people
            where not is_owner and record_kinds = ['email'] and display_name not like '%@%'
                and person_id in (select person_a_id from int_people_together)
            order by person_id limit 3""").fetchall())
        con.close()
        card = db.parent / "two-cards.vcf"
        card.write_text("BEGIN:VCARD\nVERSION:3.0\nFN:Pat Twofold\nN:Twofold;Pat;;;\n"
                        f"EMAIL:{a}\nEMAIL:{b}\nEND:VCARD\n"
                        "BEGIN:VCARD\nVERSION:3.0\nFN:Known Address\n"
                        f"EMAIL:{c}\nEND:VCARD\n", encoding="utf-8")
        run_import([card], db=db, tag="moving and not")
        _, full = _built_how_and_in_full(db)
    return db, full, set(recomputed), (a, b, c)


def _person_of(db, email: str) -> int:
    return _scalar(db, "select person_id from person_ids where record_key = ?", [f"email:{email}"])


def test_cards_join_the_people_of_their_addresses(cards_moving_and_not):
    db, _, _, (a, b, c) = cards_moving_and_not
    assert _person_of(db, a) == _person_of(db, b)
    kinds = _scalar(db, "select list_sort(record_kinds) from people where person_id = ?",
                    [_person_of(db, c)])
    assert kinds == ["card", "email"]


def test_interactions_are_computed_again_for_the_people_whose_addresses_moved(
        cards_moving_and_not):
    """Interactions are looked up by address: a person who only gained a card keeps theirs."""
    db, _, recomputed, (a, _, c) = cards_moving_and_not
    assert _person_of(db, a) in recomputed
    assert _person_of(db, c) not in recomputed


@pytest.mark.parametrize("view", ["people", "interactions", "relationships", "people together",
                                  "acquaintances", "introductions"])
def test_cards_moving_an_address_and_not_answer_as_a_full_rebuild(cards_moving_and_not, view):
    db, full, _, _ = cards_moving_and_not
    assert _answers(db)[view] == _answers(full)[view]


@pytest.fixture(scope="module")
def retagged(world, tmp_path_factory):
    """(warehouse of the whole world whose business cards were then imported again under
    another tag, which changes no identity record but the cards' lists, the same after a
    forced full build, the model_builds rows of that step)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "build_clock", lambda: STEP_1_CLOCK)
        db, config = _warehouse(world, tmp_path_factory, "retagged")
        for source in config.sources:
            run_import(source.settings["paths"], db=db, tag=source.settings.get("tag"))
        cards = next(s for s in config.sources if s.name == "mixer-cards")
        run_import(cards.settings["paths"], db=db, tag="met again")
        how, full = _built_how_and_in_full(db)
    return db, full, how


@pytest.mark.parametrize("view", ["people", "relationships"])
def test_cards_tagged_again_answer_as_a_full_rebuild(retagged, view):
    db, full, _ = retagged
    assert _answers(db)[view] == _answers(full)[view]


def test_cards_tagged_again_recompute_their_people_rows_only(retagged):
    db, _, how = retagged
    assert how["people"] == "people"
    n_tagged = _scalar(db, "select count(*) from people "
                           "where list_contains(lists, 'cards: met again')")
    assert n_tagged > 0


def test_an_import_recomputes_only_models_reading_what_it_loaded(two_steps):
    _, _, computed = two_steps
    # none of the three loads mail or calendar: the mail and calendar staging tables stand
    assert not computed & {"stg_mail__messages", "stg_mail__participants",
                           "stg_calendar__attendees"}


@pytest.mark.parametrize("later", [timedelta(0), timedelta(hours=3)],
                         ids=["the steps' instant", "later that day"])
def test_a_rebuild_with_nothing_new_computes_no_model(two_steps, tmp_path, monkeypatch, later):
    # scores that fade with time are computed again at the first build of each day, not each
    # hour: nothing the clock decides lies between 12:00 and 15:00 of the steps' day
    monkeypatch.setattr(runner, "build_clock", lambda: STEP_1_CLOCK + later)
    db, _, _ = two_steps
    copy = tmp_path / "again.duckdb"
    shutil.copyfile(db, copy)
    con = connect(copy)
    steps: list[str] = []
    build(con, on_step=steps.append)
    con.close()
    assert steps == ["people", "organisations", "tier changes"]


def _crowded_records() -> list[IdentityRecord]:
    """Records whose blocks outgrow a cap of 3: one family name at two employers and none,
    one first name, one street, one postcode, with and without the keys that split them."""
    records = []
    for i, (given, org, street, postcode) in enumerate([
            ("anna", "Acme", "1 High St", "N1 1AA"), ("anna", "Acme", "1 High St", "N1 1AA"),
            ("anna", "Acme", "1 High St", None), ("anna", "Acme", "1 High St", "N1 1AB"),
            ("anna", "Borel", "1 High St", "N1 1AA"), ("bob", "Borel", None, "N1 1AA"),
            ("bob", None, None, "N1 1AA"), ("bob", None, "2 Low Rd", None),
            ("carl", "Acme", "2 Low Rd", None), ("anna", None, None, None),
            ("dora", "Acme", None, "N1 1AA"), ("anna", "Acme", None, None),
            ("bob", "Cyan", None, None)]):
        records.append(IdentityRecord(
            key=f"card:{i:02d}", source="cards.vcf", full_name=f"{given.title()} Smith",
            given_name=given.title(), family_name="Smith", org=org, street=street,
            postcode=postcode))
    records.append(IdentityRecord(key="email:smith@mail.example", source="email",
                                  emails=("smith@mail.example",), names_reliable=False))
    return records


def test_big_blocks_are_split_in_sql_as_in_python(tmp_path, monkeypatch):
    """The blocks of the records kept in identity_record_facts are split as the full
    resolution splits them (resolve._split_big_blocks), with as many groups left out."""
    monkeypatch.setattr(resolving, "MAX_BLOCK", 3)
    monkeypatch.setattr(store, "MAX_BLOCK", 3)
    prepared = {r.key: resolving._Prepared(r) for r in _crowded_records()}
    rows = resolving._rows(prepared, resolving._Clusters([], [], 60), frozenset(), frozenset())
    con = connect(tmp_path / "blocks.duckdb")
    facts = pa.Table.from_pylist(resolving.record_facts(prepared), schema=store._FACTS)
    con.register("_facts", facts)
    con.execute("insert into identity_record_facts by name "
                "select *, 'hash' as record_hash from _facts")
    con.execute("create temp table _kith_owner (record_key varchar)")
    n_skipped = store._split_blocks(con)
    split = {row[0]: row[1:] for row in con.execute(
        f"select record_key, {', '.join(BLOCKING_KEYS)} from _kith_blocks").fetchall()}
    expected_skipped = resolving._split_big_blocks(rows)
    assert (split, n_skipped) == ({row["record_key"]: tuple(row[k] for k in BLOCKING_KEYS)
                                   for row in rows}, expected_skipped)
    assert expected_skipped > 0 and any(v and v.count("|") > 1 for v in split["card:00"])


def _scalar(db, sql: str, params=None):
    """The first column of the first row `sql` gives on the warehouse at `db`, read-only."""
    con = connect(db, read_only=True)
    try:
        return con.execute(sql, params).fetchone()[0]
    finally:
        con.close()


def _mbox_messages(path) -> list[str]:
    """The messages of an mbox file, each from its From_ line."""
    text = path.read_text(encoding="utf-8")
    starts = [0] + [i + 1 for i in range(len(text)) if text.startswith("\nFrom ", i)]
    return [text[a:b].rstrip("\n") + "\n" for a, b in zip(starts, starts[1:] + [len(text)])]


def _header(message: str, name: str) -> str | None:
    for line in message.splitlines():
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
        if not line:
            return None
    return None


def _referencing(message: str, parent: str) -> str:
    """The message with a References header naming its parent alone."""
    head, _, body = message.partition("\n\n")
    head = re.sub(r"^References:.*(\n[ \t].*)*", f"References: {parent}", head,
                  flags=re.MULTILINE)
    return head + "\n\n" + body


@pytest.fixture(scope="module")
def mail_in_two_steps(world, tmp_path_factory):
    """(warehouse whose mail came in two imports, the same after a forced full build, the
    model_builds rows of the second step, what the second step was made to hold). The first
    step is built at STEP_1_CLOCK, the second and the full build at STEP_2_CLOCK."""
    clock = [STEP_1_CLOCK]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "build_clock", lambda: clock[0])
        return _mail_in_two_steps(world, tmp_path_factory, clock)


def _mail_in_two_steps(world, tmp_path_factory, clock):
    db, config = _warehouse(world, tmp_path_factory, "mail-two-steps")
    folder = db.parent
    mail = next(s for s in config.sources if s.name == "mail")
    (mbox,) = [p for p in (world.config.parent / mail.settings["paths"][0]).rglob("*.mbox")]
    messages = _mbox_messages(mbox)
    # the first import holds the older 85%, less one message answered within it (it comes
    # in the second, after its answer and the answer's answer, whose References name only
    # their parent, as some mailers write them); the second holds the rest, and again the
    # last five of the first (a message imported twice adds nothing)
    cut = len(messages) * 85 // 100
    first, second = messages[:cut], messages[cut:]
    ids = {_header(m, "Message-ID"): m for m in first}
    late, answer, answers_answer = next(
        (ids[p], ids[r], m)
        for m in reversed(first)
        if (r := _header(m, "In-Reply-To")) in ids
        and (p := _header(ids[r], "In-Reply-To")) in ids and _header(ids[p], "In-Reply-To"))
    first = [_referencing(m, _header(m, "In-Reply-To")) if m in (answer, answers_answer) else m
             for m in first if m is not late]
    second = first[-5:] + [late] + second
    # a copy of the oldest answer, in a thread of its own, dated so that only the second
    # step's clock counts it (a sender's clock a day ahead of the first step's, then not)
    oldest_answer = next(m for m in first if _header(m, "In-Reply-To"))
    head, _, body = oldest_answer.partition("\n\n")
    head = "\n".join(line for line in re.sub(r"\n[ \t]", " ", head).splitlines()
                     if not re.match(r"(?i)(message-id|date|in-reply-to|references):", line))
    first.append(head + "\nMessage-ID: <ahead-of-the-clock@kith.example>"
                 "\nDate: Tue, 2 Jun 2026 12:30:00 +0000\n\n" + body)
    step_1 = folder / "step-1.mbox"
    step_1.write_text("".join(first), encoding="utf-8")
    for source in config.sources:
        paths = [step_1] if source is mail else source.settings["paths"]
        run_import(paths, db=db, tag=source.settings.get("tag"))
    con = connect(db, read_only=True)
    # an address that only ever received mail becomes a mailing list's (it gets list mail),
    # and two people known by an address alone become one (a card holds both addresses)
    (listed,) = con.execute("""
        select p.email from stg_mail__participants as p
        join person_ids as ids on ids.record_key = 'email:' || p.email
        where p.role = 'to' and not p.is_owner
            and ids.person_id in (select person_id from interactions)
            and p.email not in (select from_email from stg_mail__messages
                                where from_email is not null)
        order by p.email limit 1""").fetchone()
    (a, b), = con.execute("""
        select list(email order by person_id) from (
            select person_id, min(primary_email) as email from people
            where not is_owner and primary_email is not null and record_kinds = ['email']
                and primary_email <> $1
                and person_id in (select person_id from interactions where channel = 'email')
            group by person_id order by person_id limit 2)""", [listed]).fetchone()
    owner = con.execute("select min(address) from owner_addresses").fetchone()[0]
    con.close()
    second.append(
        "From announce@lists.example.org Mon Jun  1 08:00:00 2026\n"
        "Message-ID: <list-news-1@lists.example.org>\nDate: Mon, 1 Jun 2026 08:00:00 +0000\n"
        f"From: Announcements <announce@lists.example.org>\nTo: {listed}\nCc: {owner}\n"
        "Subject: News\nList-Id: <announce.lists.example.org>\n\nNews.\n")
    # two answers whose References name each other besides a message of the first step (a
    # loop, as broken mailers write): walking up their threads must end all the same
    parent = _header(first[0], "Message-ID")
    sender = _header(first[0], "From")
    for minute, (me, other) in enumerate((("loop-a", "loop-b"), ("loop-b", "loop-a"))):
        second.append(
            f"From someone Mon Jun  1 09:0{minute}:00 2026\n"
            f"Message-ID: <{me}@kith.example>\nDate: Mon, 1 Jun 2026 09:0{minute}:00 +0000\n"
            f"From: {sender}\nTo: {owner}\nSubject: Re: loop\n"
            f"In-Reply-To: {parent}\nReferences: {parent} <{other}@kith.example>\n\nYes.\n")
    step_2 = folder / "step-2.mbox"
    step_2.write_text("".join(second), encoding="utf-8")
    clock[0] = STEP_2_CLOCK
    summary = run_import([step_2, _card_joining(folder, a, b)], db=db, tag="step two")
    how, full = _built_how_and_in_full(db)
    held = {"thread": ["mid:" + _header(m, "Message-ID").strip("<>")
                       for m in (late, answer, answers_answer)], "listed": listed, "joined": (a, b),
            "n_already_present": summary.files[0].result.n_already_present,
            "ahead": "mid:ahead-of-the-clock@kith.example"}
    return db, full, how, held


def _mail_tables(path) -> dict:
    con = connect(path, read_only=True)
    tables = {name: con.execute(f"select * exclude (load_id) from {name} order by all")
              .fetchall() if name == "stg_mail__messages" else
              con.execute(f"select * from {name} order by all").fetchall()
              for name in ("stg_mail__messages", "stg_mail__participants",
                           "int_mailing_list_addresses")}
    con.close()
    return tables


@pytest.mark.parametrize("view", VIEWS)
def test_mail_in_two_steps_answers_as_a_full_rebuild(mail_in_two_steps, view):
    db, full, _, _ = mail_in_two_steps
    assert _answers(db)[view] == _answers(full)[view]


@pytest.mark.parametrize("table", ["stg_mail__messages", "stg_mail__participants",
                                   "int_mailing_list_addresses"])
def test_mail_in_two_steps_stages_as_a_full_rebuild(mail_in_two_steps, table):
    db, full, _, _ = mail_in_two_steps
    assert _mail_tables(db)[table] == _mail_tables(full)[table]


def test_new_mail_recomputes_the_messages_and_people_it_touches(mail_in_two_steps):
    _, _, how, _ = mail_in_two_steps
    assert (how["stg_mail__participants"], how["stg_mail__messages"], how["interactions"]) \
        == ("messages", "messages", "messages+people")


def test_new_mail_recomputes_the_occasions_it_touches(mail_in_two_steps):
    _, _, how, _ = mail_in_two_steps
    assert (how["int_occasion_people"], how["int_people_together"]) == ("messages", "keys")


def test_a_message_the_clock_reached_since_the_last_build_counts(mail_in_two_steps):
    db, _, _, held = mail_in_two_steps
    found = _scalar(db, "select count(*) from interactions where source_key = ?",
                    [held["ahead"]])
    assert found >= 1


def test_a_meeting_begun_since_the_last_build_counts(mail_in_two_steps):
    db, _, _, _ = mail_in_two_steps
    found = _scalar(db, "select count(*) from interactions "
                        "where channel = 'meeting' and interaction_at = ?", [MEETING_AT])
    assert found >= 1


def test_a_message_imported_again_adds_nothing(mail_in_two_steps):
    _, _, _, held = mail_in_two_steps
    assert held["n_already_present"] == 5


def test_a_message_after_its_answers_heads_their_thread(mail_in_two_steps):
    db, _, _, held = mail_in_two_steps
    con = connect(db, read_only=True)
    threads = con.execute("select distinct thread_id from stg_mail__messages "
                          "where message_key in ?", [held["thread"]]).fetchall()
    con.close()
    assert len(threads) == 1


def test_answers_whose_references_loop_are_staged(mail_in_two_steps):
    db, _, _, _ = mail_in_two_steps
    found = _scalar(db, "select count(*) from stg_mail__messages where message_key in "
                        "('mid:loop-a@kith.example', 'mid:loop-b@kith.example')")
    assert found == 2


def test_an_address_given_list_mail_is_a_list(mail_in_two_steps):
    db, _, _, held = mail_in_two_steps
    found = _scalar(db, "select count(*) from int_mailing_list_addresses where email = ?",
                    [held["listed"]])
    assert found == 1


def test_two_addresses_a_card_joins_are_one_person(mail_in_two_steps):
    db, _, _, held = mail_in_two_steps
    people = _scalar(db, "select count(distinct person_id) from person_ids "
                         "where record_key in (?, ?)", [f"email:{e}" for e in held["joined"]])
    assert people == 1
