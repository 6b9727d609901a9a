"""`kith import` of card photos, end to end: the real CLI, real Tesseract, a real DuckDB file."""

import hashlib
import json
import os
import sys

import duckdb
import pytest
from PIL import Image, ImageDraw

from kith.connectors.card_photos import read_card_photos
from kith.warehouse.connection import connect
from kith.warehouse.schema import migrate
from tests.cards.maker import CardTruth, _font, make_card, photograph
from tests.cards.test_card_photos import ANNA, TOM
from tests.cli.conftest import run_kith

pytestmark = pytest.mark.usefixtures("tesseract")


def query(db_path, sql, params=None):
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def unsure_card() -> Image.Image:
    """A card whose name has no evidence but its shape: no e-mail, a name on no list."""
    image = Image.new("RGB", (1050, 600), "white")
    draw = ImageDraw.Draw(image)
    draw.text((70, 120), "Xandor Quillfeather", font=_font("DejaVuSans-Bold.ttf", 56),
              fill="black")
    draw.text((70, 260), "Tel: (202) 555-0163", font=_font("DejaVuSans.ttf", 34), fill="black")
    return image


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A folder of three photos: two good cards and one unsure, imported once with a tag."""
    folder = tmp_path_factory.mktemp("stack")
    photograph(make_card(11, ANNA), 11).save(folder / "anna.jpg")
    make_card(12, TOM).image.save(folder / "tom.png")
    unsure_card().save(folder / "unsure.png")
    db_path = folder.parent / "kith.duckdb"
    first = run_kith("import", folder, "--tag", "Expo 2026", "--region", "US", "--db", db_path)
    return folder, db_path, first


def test_photos_become_contact_cards_with_the_tag(stack):
    _, db_path, _ = stack
    rows = query(db_path, """select display_name, org, source_kind, source_format, tags
                             from contacts order by display_name""")
    assert rows == [
        ("Anna Lindqvist", "Ironbark Analytics GmbH", "card_photo", "ocr-tesseract",
         ["Expo 2026"]),
        ("Tom Whitaker", "Bluefin Robotics Inc.", "card_photo", "ocr-tesseract", ["Expo 2026"]),
        ("Xandor Quillfeather", None, "card_photo", "ocr-tesseract", ["Expo 2026"])]


def test_the_photo_hash_and_ocr_text_are_stored_not_the_photo(stack):
    folder, db_path, _ = stack
    digest = hashlib.sha256((folder / "tom.png").read_bytes()).hexdigest()
    [(key, photo_sha256, raw_text)] = query(
        db_path, "select record_key, photo_sha256, raw_text from raw_contacts "
                 "where full_name = 'Tom Whitaker'")
    assert (key, photo_sha256) == (f"photo:{digest}:1", digest)
    assert "tom.whitaker@bluefin.com" in raw_text
    blob_columns = query(db_path, "select column_name from duckdb_columns() "
                                  "where data_type = 'BLOB'")
    assert blob_columns == []


def test_field_confidences_are_stored(stack):
    _, db_path, _ = stack
    [(confidence,)] = query(db_path, "select field_confidence from raw_contacts "
                                     "where full_name = 'Anna Lindqvist'")
    assert {"full_name", "org", "title", "emails", "phones"} <= set(confidence)


def test_the_summary_lists_the_unsure_card_for_review(stack):
    _, _, first = stack
    assert "1 card(s) read from photos to check" in first.stdout
    assert "unsure.png card 1: Xandor Quillfeather; check full_name" in first.stdout


def test_the_unsure_card_is_in_cards_to_review(stack):
    _, db_path, _ = stack
    assert query(db_path, "select display_name, unsure_fields from cards_to_review") == [
        ("Xandor Quillfeather", ["full_name"])]


def test_reimporting_the_same_photos_adds_nothing(stack):
    folder, db_path, _ = stack
    again = run_kith("import", folder, "--tag", "Expo 2026", "--region", "US", "--db", db_path)
    assert "Nothing new: 3 of 3 records were already present" in again.stdout
    assert query(db_path, "select count(*) from raw_contacts") == [(3,)]


def test_a_photo_without_tesseract_gets_a_sentence_not_a_traceback(tmp_path):
    make_card(13, TOM).image.save(tmp_path / "tom.png")
    env = {"PATH": os.path.dirname(sys.executable)}
    proc = run_kith("import", tmp_path / "tom.png", "--db", tmp_path / "k.duckdb", check=False,
                    env=env)
    assert proc.returncode == 1
    assert "Tesseract is not installed" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_an_old_warehouse_upgrades_and_takes_card_photos(tmp_path):
    db_path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db_path))
    migrate(con, target=7)
    con.close()
    path = tmp_path / "anna.png"
    make_card(14, ANNA).image.save(path)
    from kith.warehouse.loader import load_records
    con = connect(db_path)
    try:
        load_records(con, "card_photo", path.as_uri(), read_card_photos(path, "DE"))
        [(name, confidence)] = con.execute(
            "select full_name, field_confidence['emails'] from raw_contacts").fetchall()
    finally:
        con.close()
    assert name == "Anna Lindqvist" and confidence > 0.6


# --- the real photos in ../shared/corpus/cards-images ---------------------------------------------

def corpus_photos(corpus):
    return sorted(p for p in (corpus / "cards-images").iterdir()
                  if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def test_every_corpus_photo_imports_without_a_crash(corpus, tmp_path):
    db_path = tmp_path / "corpus.duckdb"
    proc = run_kith("import", corpus / "cards-images", "--db", db_path, "--region", "US",
                    check=False)
    assert "Traceback" not in proc.stdout + proc.stderr
    # The folder also holds the expected fields as JSON: those files are refused (exit 1).
    refused = query(db_path, "select source_uri from loads where status <> 'completed'")
    assert proc.returncode == 1
    assert sorted(uri.rsplit("/", 1)[1] for (uri,) in refused) == sorted(
        p.name for p in (corpus / "cards-images").glob("*.expected.json"))
    loads = query(db_path, "select count(*), sum(n_read), sum(n_inserted) + sum(n_rejected) "
                           "from loads where source_kind = 'card_photo' and status = 'completed'")
    n_photos = len(corpus_photos(corpus))
    [(n_loads, n_read, n_accounted)] = loads
    assert n_loads == n_photos and n_read == n_accounted and n_read >= n_photos


@pytest.fixture(scope="module")
def card_corpus():
    """The corpus, once per module (the card photos are read once for several tests)."""
    from tests.conftest import CORPUS
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="module")
def azure_card(card_corpus):
    path = card_corpus / "cards-images" / "cognitive-services-REST-api-samples__business-card-english.jpg"
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text())
    fields = expected["analyzeResult"]["documentResults"][0]["fields"]
    [card] = read_card_photos(path, "US")
    return card, {name: value["valueArray"][0] for name, value in fields.items()}


def test_azure_card_name_title_and_organisation_as_expected(azure_card):
    card, expected = azure_card
    contact = expected["ContactNames"]["valueObject"]
    assert (card.given_name, card.family_name) == (contact["FirstName"]["valueString"],
                                                   contact["LastName"]["valueString"])
    assert card.title == expected["JobTitles"]["valueString"]
    assert card.org == expected["CompanyNames"]["valueString"]


def test_azure_card_email_website_and_phones_as_expected(azure_card):
    card, expected = azure_card
    assert [e.normalized for e in card.emails] == [expected["Emails"]["valueString"]]
    assert [k.value for k in card.links] == [expected["Websites"]["valueString"]]
    # The service gives phones as written ("+44 (0) 7911 123456"); E.164 of those.
    assert {p.e164: p.types for p in card.phones} == {
        "+447911123456": ["cell"], "+442098765432": ["work", "voice"], "+442067892345": ["fax"]}


def test_azure_card_address_as_expected(azure_card):
    from kith.names import fold
    card, expected = azure_card
    assert fold(card.addresses[0].label) == fold(expected["Addresses"]["valueString"])
    assert card.addresses[0].postal_code.upper() == "W2 6BD"


@pytest.fixture(scope="module")
def mindee_card(card_corpus):
    path = card_corpus / "cards-images" / "client-lib-test-data__default_sample.jpg"
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text())
    [card] = read_card_photos(path, "US")
    return card, {k: v["value"] for k, v in expected["document"]["inference"]["prediction"].items()
                  if isinstance(v, dict)}


def test_mindee_card_name_title_and_organisation_as_expected(mindee_card):
    card, expected = mindee_card
    assert (card.given_name, card.family_name, card.title, card.org) == (
        expected["firstname"], expected["lastname"], expected["job_title"], expected["company"])


def test_mindee_card_email_phone_and_website_as_expected(mindee_card):
    # The expected mobile, fax and social profiles are not on the photo: not compared.
    card, expected = mindee_card
    assert [e.normalized for e in card.emails] == [expected["email"]]
    assert [p.e164 for p in card.phones] == [expected["phone_number"]]
    assert [k.value for k in card.links] == [expected["website"]]


def test_mindee_card_address_as_expected(mindee_card):
    from kith.names import fold
    card, expected = mindee_card
    assert [fold(a.label) for a in card.addresses] == [fold(expected["address"])]


def test_a_card_from_a_photo_is_the_same_person_as_their_vcard(tmp_path):
    make_card(15, ANNA).image.save(tmp_path / "anna.png")
    (tmp_path / "phone.vcf").write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:anna-1\r\nFN:Anna Lindqvist\r\n"
        "N:Lindqvist;Anna;;;\r\nEMAIL:anna.lindqvist@ironbark.de\r\nEND:VCARD\r\n")
    db_path = tmp_path / "k.duckdb"
    run_kith("import", tmp_path / "anna.png", tmp_path / "phone.vcf", "--db", db_path)
    assert query(db_path, """
        select count(*), count(distinct p.person_id) from raw_contacts as c
        join person_ids as p on p.record_key = 'card:' || c.record_key""") == [(2, 1)]


def test_keep_photos_copies_each_photo_named_by_its_hash(stack, tmp_path):
    folder, db_path, _ = stack
    kept = tmp_path / "kept"
    run_kith("import", folder / "tom.png", "--db", db_path, "--keep-photos", kept)
    digest = hashlib.sha256((folder / "tom.png").read_bytes()).hexdigest()
    assert [p.name for p in kept.iterdir()] == [f"{digest}.png"]
    assert query(db_path, "select count(*) from raw_contacts where photo_sha256 = ?",
                 [digest]) == [(1,)]
