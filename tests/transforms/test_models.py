from datetime import datetime, timezone

import pytest

from kith.records import ContactCard, Email, Phone
from kith.transforms.runner import build, discover
from kith.warehouse.connection import connect
from kith.warehouse.loader import load_records

# The key of every model: unique and never null. A new model must add its key here.
MODEL_KEYS = {
    "stg_contacts__cards": ["card_id"],
    "stg_contacts__emails": ["card_id", "email"],
    "stg_contacts__phones": ["card_id", "phone_position"],
    "contacts": ["card_id"],
    "cards_to_review": ["card_id"],
    "candidates_to_review": ["person_a", "person_b"],
    "stg_mail__participants": ["message_key", "role", "email"],
    "stg_mail__messages": ["message_key"],
    "stg_mail__addresses": ["email"],
    "int_mailing_list_addresses": ["email"],
    "stg_calendar__occurrences": ["record_key"],
    "stg_calendar__attendees": ["occurrence_key", "email"],
    "stg_calendar__events": ["occurrence_key"],
    "stg_social__messages": ["social_message_key"],
    "stg_chat__messages": ["chat_message_key"],
    "stg_social__invitations": ["invitation_key"],
    "int_identity_records": ["record_key"],
    "int_address_records": ["record_key"],
    "people": ["person_id"],
    "interactions": ["person_id", "source_key"],
    "relationships": ["person_id"],
    "network": ["person_id"],
    "reconnect": ["person_id"],
    "follow_ups": ["tag", "person_id"],
    "network_summary": ["list_name"],
    "tier_changes": ["person_id"],
    "acquaintances": ["person_a_id", "person_b_id"],
    "int_occasion_people": ["channel", "source_key", "email"],
    "int_people_together": ["person_a_id", "person_b_id", "channel", "source_key"],
    "int_organisation_members": ["organisation_key", "person_id"],
    "int_person_employers": ["person_id", "kind", "handle"],
    "organisations": ["organisation_key"],
    "introductions": ["target_person_id", "introducer_person_id"],
}


def card(position, name, uid=None, rev=None, **fields):
    return ContactCard(position=position, raw_text="", source_format="vcard-3.0", full_name=name,
                       uid=uid, revised_at=rev, **fields)


def _load_sample(con) -> None:
    newer = datetime(2026, 6, 1, tzinfo=timezone.utc)
    older = datetime(2026, 1, 1, tzinfo=timezone.utc)
    load_records(con, "vcard", "file:///a.vcf", [
        card(1, "Jane Doe", uid="jane", rev=newer, title="CTO",
             emails=[Email("Jane@Acme.com", "jane@acme.com"), Email("JANE@acme.com",
                                                                    "jane@acme.com")],
             phones=[Phone("415 555 0100", "+14155550100"), Phone("ext. 12", None)]),
        card(9, "Bob Stone", emails=[Email("not an address", None)]),
    ], tag="mixer")
    # An older version of Jane's card, imported later: REV decides which is current.
    load_records(con, "vcard", "file:///b.vcf", [card(1, "Jane Doe", uid="jane", rev=older,
                                                      title="Engineer")], tag="old phone")
    load_records(con, "contacts_csv", "file:///c.csv", [
        ContactCard(position=2, raw_text="{}", source_format="csv-generic", org="Acme Corp")])
    build(con)


@pytest.fixture
def con(db_path):
    con = connect(db_path)
    _load_sample(con)
    yield con
    con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The sample warehouse built once for the tests that only read it."""
    con = connect(tmp_path_factory.mktemp("models") / "kith.duckdb")
    _load_sample(con)
    yield con
    con.close()


def test_every_model_has_a_key_test():
    assert sorted(m.name for m in discover()) == sorted(MODEL_KEYS)


@pytest.mark.parametrize("model", sorted(MODEL_KEYS))
def test_model_key_is_unique_and_not_null(built, model):
    key = ", ".join(MODEL_KEYS[model])
    dupes, nulls = built.execute(f"""
        select (select count(*) from (select {key} from {model} group by all having count(*) > 1)),
               (select count(*) from {model} where {' or '.join(k + ' is null' for k in
                                                                 MODEL_KEYS[model])})""").fetchone()
    assert (dupes, nulls) == (0, 0)


@pytest.mark.parametrize("model", sorted(MODEL_KEYS))
def test_model_states_its_grain(model):
    grain = {m.name: m.grain for m in discover()}[model]
    assert grain.startswith("one row per")


def test_current_version_is_the_latest_revision_not_the_latest_load(con):
    assert con.execute("select title, n_versions from contacts where card_id = 'uid:jane'"
                       ).fetchone() == ("CTO", 2)


def test_tags_of_every_version_belong_to_the_card(con):
    assert con.execute("select tags from contacts where card_id = 'uid:jane'").fetchone() == (
        ["mixer", "old phone"],)


def test_emails_are_one_row_per_distinct_normalised_address(con):
    assert con.execute("select email from stg_contacts__emails where card_id = 'uid:jane'"
                       ).fetchall() == [("jane@acme.com",)]


def test_unparseable_phone_is_kept_as_written(con):
    assert con.execute("select phones from contacts where card_id = 'uid:jane'").fetchone() == (
        ["+14155550100", "ext. 12"],)


def test_organisation_card_is_named_by_its_organisation(con):
    assert con.execute("select display_name from contacts where source_kind = 'contacts_csv'"
                       ).fetchone() == ("Acme Corp",)


def test_models_are_built_after_the_models_they_read():
    order = [m.name for m in discover()]
    assert order.index("stg_contacts__cards") < order.index("stg_contacts__emails")
    assert order.index("stg_contacts__cards") < order.index("contacts")
