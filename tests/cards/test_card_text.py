"""Fields from the lines of a card, as OCR gives them: exact values, no OCR needed."""

from kith.connectors.card_photos import CardScan, card_from_scan, unsure_fields
from kith.connectors.card_text import Line, read_fields
from kith.records import ContactCard, Rejected


def lines(*texts, heights=None):
    heights = heights or [30] * len(texts)
    return [Line(t, 0.93, h, top=40 * i) for i, (t, h) in enumerate(zip(texts, heights))]


def test_email_with_spaces_ocr_put_around_the_at_sign():
    card = read_fields(lines("E-mail: jane.roe @ northwind.example"))
    assert [e.normalized for e in card.emails] == ["jane.roe@northwind.example"]


def test_phone_labels_tell_fax_mobile_and_office_apart():
    card = read_fields(lines("Tel: (415) 555-0132", "Mobile: 415 555 0188", "Fax 415-555-0199"),
                       "US")
    assert [(p.e164, p.types) for p in card.phones] == [
        ("+14155550132", ["work", "voice"]), ("+14155550188", ["cell"]),
        ("+14155550199", ["fax"])]


def test_two_numbers_on_one_line_keep_their_own_labels():
    card = read_fields(lines("T: 020 7946 0321 | F: 020 7946 0999"), "GB")
    assert [(p.e164, p.types) for p in card.phones] == [("+442079460321", ["work", "voice"]),
                                                        ("+442079460999", ["fax"])]


def test_international_number_with_national_prefix_in_brackets():
    card = read_fields(lines("mob: +44 (0) 7911 123456"), "US")
    assert [(p.e164, p.types) for p in card.phones] == [("+447911123456", ["cell"])]


def test_street_number_is_not_a_phone():
    card = read_fields(lines("Suite 1102/108 Albert Street", "Brisbane QLD 4000"), "US")
    assert card.phones == []


def test_a_country_code_domain_gives_the_region_for_national_numbers():
    card = read_fields(lines("Tel. 030 901820", "info@lindenhof.de"), "US")
    assert [p.e164 for p in card.phones] == ["+4930901820"]


def test_japanese_labels_and_numbers():
    card = read_fields(lines("携帯 : 070-1234-5678 電話 : 03-8765-4321"), "US")
    assert [(p.e164, p.types) for p in card.phones] == [("+817012345678", ["cell"]),
                                                        ("+81387654321", ["work", "voice"])]


def test_web_site_and_social_profile_but_not_the_mail_domain():
    card = read_fields(lines("avery@contoso.example", "www.contoso.com",
                             "linkedin.com/in/Avery-Smith"))
    assert [(k.value, k.kind, k.service) for k in card.links] == [
        ("www.contoso.com", "url", None),
        ("https://linkedin.com/in/avery-smith", "social", "linkedin")]


def test_name_is_the_line_the_email_local_part_names_not_the_biggest():
    card = read_fields(lines("NORTHWIND TRADERS", "Priya Natarajan", "Head of Partnerships",
                             "pnatarajan@northwind.example", heights=[60, 34, 24, 22]))
    assert (card.full_name, card.given_name, card.family_name) == ("Priya Natarajan", "Priya",
                                                                   "Natarajan")
    assert card.title == "Head of Partnerships"
    assert card.org == "NORTHWIND TRADERS"


def test_organisation_from_the_mail_domain_and_an_honorific_dropped():
    card = read_fields(lines("Dr. Avery Smith", "Senior Researcher", "Cloud & AI Department",
                             "Contoso", "avery.smith@contoso.com"))
    assert (card.full_name, card.title, card.org, card.org_units) == (
        "Avery Smith", "Senior Researcher", "Contoso", ["Cloud & AI Department"])


def test_all_capitals_name_is_written_in_title_case():
    card = read_fields(lines("OLIVIA WILSON", "Communications Manager", "hello@liceria.example"))
    assert card.full_name == "Olivia Wilson"


def test_wrapped_organisation_name_is_joined():
    card = read_fields([Line("Halcyon", 0.95, 36, top=300, left=60),
                        Line("Logistics Corp.", 0.95, 36, top=350, left=60),
                        Line("Marcus Patel", 0.95, 50, top=70, left=430),
                        Line("marcus.patel@halcyon.example", 0.95, 28, top=200, left=430)])
    assert card.org == "Halcyon Logistics Corp."


def test_german_compound_title():
    card = read_fields(lines("Malte Krämer", "Projektleiter", "malte.kraemer@ironbark.de"))
    assert card.title == "Projektleiter"


def test_us_address_is_split_into_parts():
    card = read_fields(lines("Andrew Morin", "178 Main Avenue", "Providence, RI 02111"))
    [address] = card.addresses
    assert (address.street, address.locality, address.region, address.postal_code) == (
        "178 Main Avenue", "Providence", "RI", "02111")
    assert address.label == "178 Main Avenue, Providence, RI 02111"


def test_german_address_postcode_and_town():
    card = read_fields(lines("Anke Schröder", "Lindenstraße 12", "10115 Berlin"))
    [address] = card.addresses
    assert (address.street, address.postal_code, address.locality) == ("Lindenstraße 12",
                                                                       "10115", "Berlin")


def test_each_field_keeps_the_confidence_of_the_words_it_came_from():
    card = read_fields([Line("Jane Roe", 0.95, 40), Line("jane@roe.example", 0.42, 20, top=50)])
    assert card.confidence["emails"] == 0.42
    assert unsure_fields(card) == ["emails"]


def test_a_card_with_no_name_and_no_handle_is_a_reject_with_its_text():
    scan = CardScan(lines("SUMMER SALE", "50% off everything"), page=1)
    reject = card_from_scan(scan, 3, "ab" * 32, "US")
    assert isinstance(reject, Rejected)
    assert reject.position == 3
    assert reject.raw_text == "SUMMER SALE\n50% off everything"


def test_a_scanned_card_is_keyed_by_its_photo_and_number():
    scan = CardScan(lines("Jane Roe", "jane@roe.example"), page=1)
    card = card_from_scan(scan, 2, "ab" * 32, "US")
    assert isinstance(card, ContactCard)
    assert card.record_key == "photo:" + "ab" * 32 + ":2"
    assert card.source_format == "ocr-tesseract"
    assert card.field_confidence["emails"] == 0.93
    assert 0.9 < card.field_confidence["full_name"] <= 0.93
