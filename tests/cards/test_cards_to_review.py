"""The `cards_to_review` view: cards read from photos with an unsure field, or no name."""

from kith.records import ContactCard, Email
from kith.transforms.runner import build
from kith.warehouse.connection import connect
from kith.warehouse.loader import load_records


def photo_card(number, name, confidence, **fields):
    return ContactCard(position=number, raw_text="", source_format="ocr-tesseract",
                       full_name=name, photo_sha256="ab" * 32, field_confidence=confidence,
                       **fields)


def test_only_unsure_cards_are_listed_with_their_unsure_fields(db_path):
    con = connect(db_path)
    load_records(con, "card_photo", "file:///stack/one.jpg", [
        photo_card(1, "Jane Roe", {"full_name": 0.95, "emails": 0.9},
                   emails=[Email("jane@roe.example", "jane@roe.example")]),
        photo_card(2, "Xandor Quill", {"full_name": 0.41, "phones": 0.55, "title": 0.9}),
        photo_card(3, None, {"emails": 0.92},
                   emails=[Email("info@acme.example", "info@acme.example")]),
    ])
    load_records(con, "vcard", "file:///typed.vcf", [
        ContactCard(position=1, raw_text="", source_format="vcard-3.0", full_name=None,
                    org="Typed Ltd")])
    build(con)
    rows = con.execute("""select position, display_name, is_name_missing, unsure_fields
                          from cards_to_review order by position""").fetchall()
    con.close()
    assert rows == [(2, "Xandor Quill", False, ["full_name", "phones"]),
                    (3, None, True, [])]
