"""connectors.vcard: one fixture per quirk, exact values; the real-world corpus as a sweep."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kith.records import ContactCard, Link, Rejected
from kith.connectors.vcard import looks_like_vcard, read_vcards

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vcard"
CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "vcard"

# The 1x1 PNG that the photo fixtures carry.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5f6455400"
                    "00000049454e44ae426082")
PNG_SHA256 = hashlib.sha256(PNG).hexdigest()


def read(name: str, region: str | None = "DE", folder: Path = FIXTURES) -> list:
    return list(read_vcards(folder / name, default_region=region))


def card(name: str, index: int = 0, region: str | None = "DE", folder: Path = FIXTURES
         ) -> ContactCard:
    record = read(name, region, folder)[index]
    assert isinstance(record, ContactCard), record
    return record


# --- vCard 2.1: Outlook, Android, feature phones ------------------------------------------------

def test_outlook_qp_name_is_exact_unicode():
    c = card("outlook-2.1-quoted-printable.vcf")
    assert (c.full_name, c.given_name, c.family_name, c.name_prefix) == (
        "Dr. Jürgen Müller", "Jürgen", "Müller", "Dr.")


def test_outlook_windows_1252_charset_per_property():
    c = card("outlook-2.1-quoted-printable.vcf")
    assert (c.org, c.org_units, c.title) == (
        "Müller & Söhne GmbH", ["Vertrieb"], "Geschäftsführer")


def test_outlook_qp_soft_break_joins_note_lines():
    assert card("outlook-2.1-quoted-printable.vcf").note == (
        "Kennengelernt auf der CeBIT, sehr nett.\nZweite Zeile mit Umbruch.")


def test_outlook_qp_soft_break_inside_address_word():
    a = card("outlook-2.1-quoted-printable.vcf").addresses[0]
    assert (a.street, a.locality, a.postal_code, a.country, a.types) == (
        "Hauptstraße 5", "Berlin", "10115", "Deutschland", ["work", "pref"])


def test_outlook_phones_in_e164_with_region_de():
    c = card("outlook-2.1-quoted-printable.vcf", region="DE")
    assert [(p.number, p.e164) for p in c.phones] == [
        ("+49 (30) 1234567", "+49301234567"), ("0171 2345678", "+491712345678")]


def test_outlook_bare_type_params():
    c = card("outlook-2.1-quoted-printable.vcf")
    assert [p.types for p in c.phones] == [["work", "voice"], ["cell", "voice"]]
    assert c.emails[0].types == ["pref", "internet"]


def test_outlook_revision_parsed_to_utc():
    c = card("outlook-2.1-quoted-printable.vcf")
    assert (c.source_format, c.revision, c.revised_at) == (
        "vcard-2.1", "20240101T120000Z", datetime(2024, 1, 1, 12, 0, tzinfo=timezone.utc))


def test_qp_soft_break_splitting_a_utf8_sequence():
    c = card("android-2.1-qp-split-utf8.vcf")
    assert (c.full_name, c.family_name, c.given_name) == ("田中 太郎", "田中", "太郎")


def test_shift_jis_card_decodes():
    c = card("shift-jis-2.1.vcf")
    assert (c.full_name, c.family_name, c.given_name) == ("山田 太郎", "山田", "太郎")


def test_shift_jis_backslash_trail_byte_is_not_an_escape():
    # 能 is 0x94 0x5C in Shift_JIS: its second byte is a backslash.
    assert card("shift-jis-2.1.vcf").note == "能力"


def test_shift_jis_quoted_printable_address():
    a = card("shift-jis-2.1.vcf").addresses[0]
    assert (a.street, a.postal_code) == ("東京都渋谷区", "150-0002")


def test_v21_has_no_backslash_escapes():
    c = card("backslash-2.1.vcf")
    assert (c.full_name, c.note, c.family_name) == (
        "C:\\Users\\sean", "Path C:\\new\\table, not a newline", "O;Brien")


def test_sony_ericsson_backslash_newline_in_address():
    assert card("sony-ericsson-2.1-multiline-adr.vcf").addresses[0].street == (
        "c/o Meyer\nHinterhaus\nMusterweg 3")


def test_nested_agent_card_does_not_break_outer_card():
    records = read("nested-agent-2.1.vcf")
    assert [(r.full_name, [p.number for p in r.phones]) for r in records] == [
        ("Big Boss", ["555-0100"]), ("After Nested", [])]


def test_comment_and_blank_lines_are_skipped():
    records = read("comments-blank-lines-2.1.vcf")
    assert [(r.position, r.full_name) for r in records] == [(3, "Pat Photo"), (17, "Nick Nophoto")]


@pytest.mark.parametrize("index", [0, 1], ids=["blank-line-terminated", "unterminated"])
def test_v21_base64_photo_hashed_from_decoded_bytes(index):
    assert card("comments-blank-lines-2.1.vcf", index).photo_sha256 == PNG_SHA256


def test_v21_base64_photo_does_not_swallow_next_property():
    assert [e.address for e in card("comments-blank-lines-2.1.vcf", 1).emails] == [
        "nick@example.com"]


def test_n_without_fn_builds_full_name():
    c = card("n-without-fn-2.1.vcf")
    assert (c.full_name, c.given_name, c.family_name, c.additional_names, c.name_prefix,
            c.name_suffix, c.is_name_derived) == (
        "Ms. Jane Q. Doe PhD", "Jane", "Doe", "Q.", "Ms.", "PhD", False)


# --- vCard 3.0: Apple, Google, Thunderbird ------------------------------------------------------

def test_apple_item_labels_on_emails():
    c = card("apple-3.0-item-labels.vcf")
    assert [(e.address, e.types, e.label) for e in c.emails] == [
        ("johnny@example.com", ["internet", "pref"], "Other"),
        ("jappleseed@uni.example.edu", ["internet"], "Uni"),
        ("old@example.org", ["internet"], "Email"),
    ]


def test_apple_item_label_on_phone():
    c = card("apple-3.0-item-labels.vcf")
    assert [(p.e164, p.label) for p in c.phones] == [("+14085550101", None),
                                                   ("+14085550199", "Pager")]


def test_apple_links_social_and_impp():
    assert card("apple-3.0-item-labels.vcf").links == [
        Link("https://johnny.example.com", "url", None, ["pref"], "HomePage"),
        Link("http://www.linkedin.com/in/jappleseed", "social", "linkedin", [], None),
        Link("x-apple:jappleseed", "social", "twitter", [], None),
        Link("skype:johnny.appleseed", "impp", "skype", ["home", "pref"], None),
    ]


def test_apple_omit_year_birthday_is_yearless():
    assert card("apple-3.0-item-labels.vcf").birthday == "--12-29"


def test_photo_is_hashed_not_kept():
    c = card("apple-3.0-item-labels.vcf")
    assert c.photo_sha256 == PNG_SHA256
    assert f"PHOTO;ENCODING=b;TYPE=PNG:<sha256:{PNG_SHA256}>" in c.raw_text
    assert base64.b64encode(PNG).decode()[:40] not in c.raw_text


def test_apple_org_nickname_categories():
    c = card("apple-3.0-item-labels.vcf")
    assert (c.org, c.org_units, c.nicknames, c.categories) == (
        "Apple Inc.", ["Engineering"], ["Jo"], ["Friends", "Work"])


def test_apple_company_card_is_not_split_into_a_person_name():
    c = card("apple-3.0-company.vcf")
    assert (c.full_name, c.org, c.given_name, c.family_name, c.is_name_derived) == (
        "Blue Bottle Coffee", "Blue Bottle Coffee", None, None, False)


def test_google_escaped_commas_and_newlines_in_note():
    assert card("google-3.0.vcf").note == "Met at PyCon, 2019.\nLikes climbing."


def test_google_links_with_escaped_colons():
    assert card("google-3.0.vcf").links == [
        Link("https://www.linkedin.com/in/maria-gonzalez", "social", "linkedin", [], None),
        Link("http://maria.example.com", "url", None, [], "Blog"),
    ]


def test_google_emails_normalized():
    assert [(e.address, e.normalized, e.types) for e in card("google-3.0.vcf").emails] == [
        ("maria.gonzalez@gmail.com", "maria.gonzalez@gmail.com", ["internet", "home"]),
        ("M.Gonzalez@Acme.example", "m.gonzalez@acme.example", ["internet", "work"]),
    ]


def test_google_phones_e164_with_region_de():
    assert [p.e164 for p in card("google-3.0.vcf", region="DE").phones] == [
        "+34612345678", "+49301234567"]


def test_google_name_birthday_categories():
    c = card("google-3.0.vcf")
    assert (c.full_name, c.given_name, c.family_name, c.birthday, c.categories) == (
        "María González", "María", "González", "1985-03-14", ["myContacts", "Friends"])


def test_unescaped_commas_are_kept():
    # vobject's own reader would cut these values at the first comma.
    c = card("unescaped-comma-3.0.vcf")
    assert (c.note, c.title) == ("Met in Berlin, 2019, at a conference", "Head of Sales, EMEA")


def test_crcrlf_and_tab_folding():
    c = card("folded-crcrlf-3.0.vcf")
    assert (c.note, c.emails[0].address, c.emails[0].types) == (
        "This note is folded with a space and then with a tab:end of note.",
        "given.surname@example.com", ["internet", "home"])


@pytest.mark.parametrize("name", ["line-endings-lf.vcf", "line-endings-crlf.vcf",
                                  "line-endings-cr.vcf"])
def test_line_endings(name):
    assert [(r.position, r.full_name) for r in read(name)] == [
        (1, "Line Endings"), (6, "Second Card")]


@pytest.mark.parametrize("name", ["utf16-bom.vcf", "utf8-bom.vcf"])
def test_byte_order_marks(name):
    assert card(name).full_name == "Zoë Wide"


def test_broken_params_are_repaired():
    c = card("broken-params-3.0.vcf")
    assert [p.types for p in c.phones] == [["work"], ["voice", "msg", "work"]]
    assert (c.emails[0].address, c.note) == (
        "mess@example.com", "Meeting at noon, then lunch, then coffee.")


def test_wrong_charset_label_falls_back_to_windows_1252():
    assert card("wrong-charset.vcf").full_name == "José Müller"


def test_unknown_charset_label_falls_back_to_utf8():
    c = card("wrong-charset.vcf")
    assert (c.family_name, c.given_name) == ("Müller", "José")


def test_undeclared_windows_1252_bytes():
    assert card("wrong-charset.vcf").note == "Café – déjà vu"


@pytest.mark.parametrize("index, expected", [
    (0, "1978-12-29"),        # 19781229
    (1, "1978-12-29"),        # 1978-12-29
    (2, "1978-12-29"),        # 1978-12-29T00:00:00Z
    (3, "--12-29"),           # --1229
    (4, "--12-29"),           # --12-29
    (5, None),                # circa 1800
    (6, None),                # 1978-02-30
    (7, "--12-29"),           # Apple X-APPLE-OMIT-YEAR=1604
])
def test_birthday_formats(index, expected):
    assert card("bday-formats.vcf", index).birthday == expected


def test_social_profiles_and_im_handles():
    assert [(k.value, k.kind, k.service, k.types) for k in card("social-and-im-3.0.vcf").links] == [
        ("https://www.linkedin.com/in/solsocial", "social", "linkedin", []),
        ("https://x.com/solsocial", "social", "twitter", []),
        ("https://github.com/solsocial", "social", "github", []),
        ("https://sol.example.com", "url", None, ["work"]),
        ("@solsocial", "social", "twitter", []),
        ("sol.social", "impp", "skype", []),
        ("sol@jabber.example.org", "impp", "xmpp", ["home"]),
        ("solaim", "impp", "aim", []),
        ("aim:solaim", "impp", "aim", []),
    ]


# --- vCard 4.0 ----------------------------------------------------------------------------------

def test_v40_tel_uri_and_pref():
    c = card("rfc6350-4.0.vcf")
    assert [(p.number, p.e164, p.types) for p in c.phones] == [
        ("tel:+1-555-555-0100", "+15555550100", ["voice", "cell", "pref"]),
        ("tel:+1-555-555-0199;ext=42", "+15555550199", ["work"]),
    ]


def test_v40_pref_param_becomes_pref_type():
    assert card("rfc6350-4.0.vcf").emails[0].types == ["work", "pref"]


def test_v40_altid_takes_first_representation():
    c = card("rfc6350-4.0.vcf")
    assert (c.full_name, c.given_name, c.family_name) == ("Hiroshi Tanaka", "Hiroshi", "Tanaka")


def test_v40_data_uri_photo():
    c = card("rfc6350-4.0.vcf")
    assert c.photo_sha256 == PNG_SHA256
    assert f"PHOTO:<sha256:{PNG_SHA256}>" in c.raw_text


def test_v40_fields():
    c = card("rfc6350-4.0.vcf")
    assert (c.source_format, c.uid, c.birthday, c.links) == (
        "vcard-4.0", "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1", "--12-29",
        [Link("xmpp:hiroshi@jabber.example.org", "impp", "xmpp", ["pref"], None)])


@pytest.mark.parametrize("name", ["org-4.0-kind-org.vcf", "fn-equals-org-3.0.vcf"])
def test_organisation_cards_get_no_derived_person_name(name):
    c = card(name)
    assert (c.full_name == c.org, c.given_name, c.family_name, c.is_name_derived) == (
        True, None, None, False)


def test_fn_only_card_gets_derived_name():
    c = card("social-and-im-3.0.vcf")
    assert (c.given_name, c.family_name, c.is_name_derived) == ("Sol", "Social", True)


# --- what is not a contact, and files that are not vCards ---------------------------------------

@pytest.mark.parametrize("index, emails, phones, org", [
    (0, ["someone@example.net"], [], None),
    (1, [], ["+447700900123"], None),
    (2, [], [], "Nameless Ltd"),
])
def test_card_without_name_is_still_a_contact(index, emails, phones, org):
    c = card("no-fn-no-n.vcf", index)
    assert (c.full_name, [e.normalized for e in c.emails], [p.e164 for p in c.phones], c.org) == (
        None, emails, phones, org)


def test_card_with_nothing_identifying_is_rejected():
    [r] = read("nothing-identifying.vcf")
    assert isinstance(r, Rejected)
    assert (r.position, r.reason) == (1, "card has no name, e-mail, phone or organisation")
    assert "NOTE:Just a note" in r.raw_text


def test_truncated_card_is_rejected_and_the_next_card_read():
    records = read("truncated.vcf")
    assert [type(r).__name__ for r in records] == ["ContactCard", "Rejected", "ContactCard"]
    assert (records[1].position, records[2].position, records[2].full_name) == (
        6, 10, "Third Complete")


def test_truncated_card_reason_and_raw_text():
    r = read("truncated.vcf")[1]
    assert r.reason == "truncated card: no END:VCARD before the next BEGIN:VCARD"
    assert r.raw_text == "BEGIN:VCARD\nVERSION:3.0\nFN:Cut Short\nEMAIL:cut@example.com"


def test_truncated_at_end_of_file():
    [r] = read("truncated-at-eof.vcf")
    assert (r.position, r.reason) == (1, "truncated card: no END:VCARD before the end of the file")


def test_same_uid_twice_yields_both():
    first, second = read("same-uid-twice.vcf")
    assert (first.record_key == second.record_key, first.record_hash == second.record_hash) == (
        True, False)
    assert (first.uid, len(first.emails), len(second.emails)) == (
        "6a0c1f4e-1111-2222-3333-444455556666", 1, 2)


def test_junk_between_cards():
    records = read("junk-between-cards.vcf")
    assert [(type(r).__name__, r.position) for r in records] == [
        ("ContactCard", 1), ("Rejected", 5), ("ContactCard", 7)]
    assert records[1].raw_text == "This line is not part of any card\nnor is this one"


def test_empty_file_yields_nothing():
    assert read("empty.vcf") == []


@pytest.mark.parametrize("name", ["not-a-vcard.vcf", "binary-garbage.vcf"])
def test_file_that_is_not_a_vcard_yields_one_rejected(name):
    [r] = read(name)
    assert (type(r), r.position, r.reason) == (
        Rejected, 1, "no vCard found in file (no BEGIN:VCARD line)")


def test_missing_file_raises():
    with pytest.raises(FileNotFoundError):
        list(read_vcards(FIXTURES / "does-not-exist.vcf"))


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.vcf")), ids=lambda p: p.name)
def test_every_fixture_reads_to_cards_or_reasons(path):
    records = list(read_vcards(path))
    assert all(isinstance(r, ContactCard) or (r.reason and r.raw_text) for r in records)


# --- looks_like_vcard ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("google-3.0.vcf", True),
    ("outlook-2.1-quoted-printable.vcf", True),
    ("comments-blank-lines-2.1.vcf", True),
    ("utf16-bom.vcf", True),
    ("utf8-bom.vcf", True),
    ("line-endings-cr.vcf", True),
    ("not-a-vcard.vcf", False),
    ("binary-garbage.vcf", False),
    ("empty.vcf", False),
])
def test_looks_like_vcard_on_fixtures(name, expected):
    assert looks_like_vcard((FIXTURES / name).read_bytes()[:65536]) is expected


@pytest.mark.parametrize("head, expected", [
    (b"begin:vcard\nversion:3.0\n", True),
    (b"\n\n  BEGIN:VCARD\r\nFN:x\r\n", True),
    ("BEGIN:VCARD\r\nFN:x\r\n".encode("utf-16-le"), True),
    ("BEGIN:VCARD\r\nFN:x\r\n".encode("utf-16-be"), True),
    (b"VERSION:3.0\nFN:Lost Begin\nEND:VCARD\n", True),
    (b"BEGIN:VCALENDAR\nVERSION:2.0\n", False),
    (b"From someone@example.com Mon Jan  1 00:00:00 2024\n", False),
    (b"", False),
], ids=["lowercase", "leading-blank", "utf16le", "utf16be", "lost-begin", "ics", "mbox", "empty"])
def test_looks_like_vcard_on_bytes(head, expected):
    assert looks_like_vcard(head) is expected


# --- the real-world corpus ----------------------------------------------------------------------

corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not found: ../shared/corpus")


def _emails(c):
    return [(e.address, e.normalized, e.types, e.label) for e in c.emails]


def _links(c):
    return [(k.value, k.kind, k.service, k.label) for k in c.links]


def _name(c):
    return (c.full_name, c.given_name, c.family_name, c.additional_names, c.name_prefix,
            c.name_suffix)


@corpus
@pytest.mark.parametrize("name, index, region, get, expected", [
    ("evolution-data-server__vcard_12_nokia.vcf", 0, "DE", _name,
     ("Michael Brüning", "Michael", "Brüning", None, None, None)),
    ("evolution-data-server__vcard_12_nokia.vcf", 0, "DE",
     lambda c: [p.e164 for p in c.phones], ["+491622433834", "+4917623384942", "+4973117546691"]),
    ("evolution-data-server__vcard_12_nokia.vcf", 0, "DE",
     lambda c: (c.addresses[0].street, c.addresses[0].region, c.birthday),
     ("Münsterplatz 21", "Baden-Württemberg", "1978-12-29")),
    ("evolution-data-server__vcard_5.vcf", 0, None, lambda c: (c.full_name, c.org),
     ("十城目管理大型知座", "十城目管理大型知座")),
    ("android_vcard__v21_japanese_1.vcf", 0, None, lambda c: (c.full_name, c.family_name),
     ("安藤ロイド", "安藤ロイド")),
    ("android_vcard__v21_japanese_2.vcf", 0, None,
     lambda c: (c.full_name, c.note, c.addresses[0].extended, c.addresses[0].postal_code),
     ("安藤 ロイド 1", "メモ", "東京都渋谷区桜丘町26-1セルリアンタワー6階", "150-8512")),
    ("android_vcard__v30_japanese.vcf", 0, None, _name,
     ("伊能 圭一 伊予", "圭一", "伊能", "伊予", None, None)),
    ("android_vcard__v40_sort_as.vcf", 0, None, lambda c: (c.full_name, c.org, c.org_units),
     ("安藤 ロイド", "グーグル", ["検索部門"])),
    ("android_vcard__v30_ios_613_multiline.vcf", 0, "US", _links,
     [("www.smithauto.com", "url", None, "HomePage")]),
    ("android_vcard__v30_ios_613_multiline.vcf", 0, "US",
     lambda c: (c.org, c.phones[0].e164, c.photo_sha256 is not None, len(c.raw_text) < 1000),
     ("Smith Auto Repair", "+16505551212", True, True)),
    ("vcard-php__example.vcf", 0, None, _emails,
     [("site@example.com", "site@example.com", ["internet"], "Email")]),
    ("vcard-php__example.vcf", 0, None, _links,
     [("http://www.jeroendesloovere.be", "url", None, "Home")]),
    ("vcard-php__invalid_encoding.vcf", 0, None, lambda c: (c.family_name, c.given_name),
     ("Desloovere", "Jeroen")),
    ("android_vcard__v21_complicated.vcf", 0, None, lambda c: (c.org, c.org_units, c.note),
     ("Gump Shrimp Co.", ["Sales Dept.;Manager", "Fish keeper"],
      "The following note is the example from RFC 2045.\n"
      "Now's the time for all folk to come to the aid of their country.")),
    ("android_vcard__v21_invalid_comment_line.vcf", 0, None, lambda c: c.note,
     "This is an (sharp ->#<- sharp) example. This message must NOT be ignored."),
    ("android_vcard__v21_nest.vcf", 0, None, lambda c: (c.full_name, [p.number for p in c.phones]),
     ("parent", ["1"])),
    ("android_vcard__v21_backslash.vcf", 0, None, _name,
     ("A;B\\C\\;D:E\\\\", "A;B\\", None, "C\\;", "D", ":E")),
    ("android_vcard__v21_adr_multiple_line.vcf", 0, None, lambda c: c.addresses[1].street,
     "Hermann v. Brevern\n9999999\nPackstation 999"),
    ("android_vcard__v21_invalid_multiple_line.vcf", 0, None, lambda c: c.emails[0].normalized,
     "omega@example.com"),
    ("android_vcard__v21_sip.vcf", 0, None, _links,
     [("888", "impp", "sip", None), ("sip:90-180-360", "impp", "sip", None)]),
    ("android_vcard__v21_base64_no_2_crlf.vcf", 0, None,
     lambda c: (c.full_name, c.photo_sha256 is not None), ("fullname", True)),
    ("vobject__radicale-1587.vcf", 0, None, _name,
     ("Given Family", "Given", "Family", "Additional", "Prefix", "Suffix")),
    ("evolution-data-server__vcard_6.vcf", 0, "US",
     lambda c: [(p.e164, p.types) for p in c.phones],
     [("+19196769515", ["voice", "msg", "work"]), ("+19196769564", ["fax", "work"])]),
    ("evolution-data-server__vcard_13.vcf", 0, "US",
     lambda c: [(a.street, a.locality, a.region) for a in c.addresses],
     [("Evil semicolon city;", "Semicolon;way", "NC"),
      ("Evil backslash \\ way", "Ulm", "Newlines\nCountry\nevil")]),
    ("evolution-data-server__vcard_13.vcf", 0, "US", _emails,
     [("Frank_Dawson@Lotus.com", "frank_dawson@lotus.com", ["internet", "pref"], None),
      ("semicolon;@points.net", "semicolon;@points.net", ["internet"], None)]),
    ("evolution-data-server__vcard_11.vcf", 0, None, lambda c: c.full_name,
     "Invalid AttributeParam"),
    ("evolution-data-server__custom-3.vcf", 0, None,
     lambda c: (c.source_format, c.nicknames, c.revision, c.revised_at),
     ("vcard-3.0", ["Bobby Brown"], "0", None)),
    ("evolution-data-server__photo-1.vcf", 0, None, lambda c: (c.revision, c.revised_at),
     ("2017-05-10T14:34:50Z(0)", datetime(2017, 5, 10, 14, 34, 50, tzinfo=timezone.utc))),
    ("khard__text-bday.vcf", 0, None, lambda c: (c.full_name, c.birthday),
     ("text birthday", None)),
    ("khard__altid.vcf", 0, None, lambda c: (c.given_name, c.family_name),
     ("one", "representation")),
    ("khard__korean-c.vcf", 0, None, lambda c: c.full_name, "최유림"),
    ("ical.js__vcard.vcf", 0, None,
     lambda c: (c.birthday, c.name_suffix, c.org, c.org_units, c.role),
     ("--02-03", "Jr.,M.D.,A.C.P.", "ABC, Inc.", ["North American Division", "Marketing"],
      "Project Leader")),
    ("ical.js__vcard3.vcf", 0, None, lambda c: (c.nicknames, c.birthday, c.categories[:2]),
     (["Robbie", "Jim", "Jimmie"], "1996-04-15", ["TRAVEL AGENT", "INTERNET"])),
    ("ical.js__escape_semicolon.vcf", 0, "DE", lambda c: (c.birthday, c.phones[2].number),
     ("2019-02-10", "205246;;,;")),
    ("thunderbird__dos_vcard_addressbook.vcf", 0, None, _emails,
     [("example@gmail.com", "example@gmail.com", ["internet", "home"], None)]),
    ("thunderbird__export.vcf", 1, None, lambda c: (c.full_name, c.note, c.title),
     ("contact number two", "here's some unicode text…", '"worker"')),
    ("nuovo-vcard__Example2.1.vcf", 0, "US", lambda c: (c.full_name, c.org, c.emails[0].types),
     ("Forrest Gump", "Bubba Gump Shrimp Co.", ["pref", "internet", "home"])),
    ("nuovo-vcard__Example3.0.vcf", 0, None, lambda c: c.photo_sha256,
     hashlib.sha256(b"http://upload.wikimedia.org/wikipedia/commons/thumb/a/a5/Example_svg.svg/"
                    b"200px-Example_svg.svg.png").hexdigest()),
    ("vcard-php__contacts.vcf", 2, None, lambda c: (c.full_name, c.birthday, c.categories),
     ("Ludwig-Götz Graßl", "1943-02-07", ["Piratenpartei"])),
])
def test_corpus_values(name, index, region, get, expected):
    assert get(card(name, index, region, CORPUS)) == expected


@corpus
def test_corpus_same_photo_in_v3_and_v4_hashes_the_same():
    v3 = card("khard__photov3.vcf", folder=CORPUS).photo_sha256
    v4 = card("khard__photov4.vcf", folder=CORPUS).photo_sha256
    assert (v3 == v4, v3 is not None) == (True, True)


TRUNCATED_AT_EOF = "truncated card: no END:VCARD before the end of the file"


@corpus
@pytest.mark.parametrize("name, reason", [
    ("khard__unparsable.vcf", TRUNCATED_AT_EOF),
    ("evolution-data-server__vcard_8.vcf", TRUNCATED_AT_EOF),
    ("evolution-data-server__vcard_9.vcf", TRUNCATED_AT_EOF),
    ("evolution-data-server__vcard_7.vcf", "no vCard found in file (no BEGIN:VCARD line)"),
    ("android_vcard__v21_android_custom_prop.vcf",
     "card has no name, e-mail, phone or organisation"),
])
def test_corpus_rejections(name, reason):
    assert [(type(r), r.reason) for r in read(name, folder=CORPUS)] == [(Rejected, reason)]


def _top_level_begins(path: Path) -> int:
    count = depth = 0
    for line in path.read_bytes().splitlines():
        marker = line.strip().upper()
        if marker == b"BEGIN:VCARD":
            count += depth == 0
            depth += 1
        elif marker == b"END:VCARD" and depth:
            depth -= 1
    return count


@pytest.mark.parametrize(
    "path", sorted(CORPUS.glob("*.vcf")) if CORPUS.is_dir() else [], ids=lambda p: p.name)
def test_corpus_sweep(path):
    records = list(read_vcards(path, default_region="US"))
    assert all(isinstance(r, ContactCard) or (r.reason and r.raw_text) for r in records)
    from_cards = [r for r in records if re.match(r"(?i)\s*BEGIN:VCARD", r.raw_text)]
    assert len(from_cards) == _top_level_begins(path)
    assert all(len(r.raw_text) < 20_000 for r in records)


def test_a_file_that_starts_with_a_run_of_nuls_is_not_taken_for_utf16(tmp_path):
    # found by fuzzing: 2 MB of NULs before the cards made the whole file unreadable
    path = tmp_path / "cards.vcf"
    path.write_bytes(b"\0" * (2 << 20) + b"\r\n" + (FIXTURES / "google-3.0.vcf").read_bytes())
    records = read(path.name, folder=tmp_path)
    assert [type(r).__name__ for r in records] == ["Rejected", "ContactCard"]
