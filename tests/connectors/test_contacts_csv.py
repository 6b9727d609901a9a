"""Contacts CSV connector: one fixture per edge case, the shared corpus as a sweep."""

import json
import tracemalloc
from pathlib import Path

import pytest

from kith.connectors.contacts_csv import UnmappableCsv, looks_like_contacts_csv, read_contacts_csv
from kith.records import ContactCard, Email, Link, Phone, Rejected

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "csv"
CORPUS_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "csv"


def read(name: str, region: str | None = "US") -> list:
    return list(read_contacts_csv(FIXTURES / name, region))


def corpus_file(name: str) -> Path:
    path = CORPUS_CSV / name
    if not path.is_file():
        pytest.skip(f"shared corpus not found: {path}")
    return path


# --- Google -------------------------------------------------------------------------------------

def test_google_legacy_source_format():
    assert {r.source_format for r in read("google-legacy.csv")} == {"csv-google"}


def test_google_legacy_splits_values_on_triple_colon():
    ada = read("google-legacy.csv")[0]
    assert [e.address for e in ada.emails] == [
        "ada@engines.example", "ada.lovelace@example.org", "ada@home.example"]


def test_google_legacy_type_starred_is_pref_and_label():
    ada = read("google-legacy.csv")[0]
    assert ada.emails[0] == Email(address="ada@engines.example", normalized="ada@engines.example",
                                  types=["work", "pref"], label="Work")


def test_google_legacy_group_membership_to_categories_without_my_contacts():
    assert read("google-legacy.csv")[0].categories == ["Friends", "Engines"]


def test_google_legacy_phone_in_region_of_its_own():
    ada = read("google-legacy.csv", region="GB")[0]
    assert [(p.number, p.e164, p.types) for p in ada.phones] == [
        ("+44 20 7946 0958", "+442079460958", ["cell"]),
        ("020 7946 0000", "+442079460000", ["work"]),
    ]


def test_google_legacy_address_parts_not_formatted_text():
    address = read("google-legacy.csv")[0].addresses[0]
    assert (address.street, address.locality, address.postal_code, address.country,
            address.types, address.label) == (
        "12 St James's Square", "London", "SW1Y 4JH", "United Kingdom", ["home"], "Home")


def test_google_legacy_organization_and_website():
    ada = read("google-legacy.csv")[0]
    assert (ada.org, ada.title, ada.org_units, ada.links) == (
        "Analytical Engines Ltd", "Programmer", ["Research"],
        [Link(value="https://www.linkedin.com/in/ada-lovelace", kind="social", service="linkedin",
              label="Profile")])


def test_google_legacy_birthday_without_year():
    assert read("google-legacy.csv")[0].birthday == "--12-10"


def test_google_legacy_given_names_are_not_derived():
    ada = read("google-legacy.csv")[0]
    assert (ada.given_name, ada.family_name, ada.is_name_derived) == ("Ada", "Lovelace", False)


def test_google_legacy_row_after_multiline_cell_has_its_line_number():
    assert [r.position for r in read("google-legacy.csv")] == [2, 5]


def test_google_legacy_full_name_only_is_split_and_marked_derived():
    charles = read("google-legacy.csv")[1]
    assert (charles.given_name, charles.family_name, charles.is_name_derived) == (
        "Charles", "Babbage", True)


def test_google_2024_header():
    grace = read("google-2024.csv")[0]
    assert (grace.source_format, grace.full_name, grace.additional_names, grace.name_prefix,
            grace.nicknames, grace.org, grace.title, grace.org_units, grace.birthday,
            grace.categories) == (
        "csv-google", "Grace Brewster Hopper", "Brewster", "Rear Admiral", ["Amazing Grace"],
        "US Navy", "Computer Scientist", ["Naval Reserve"], "1906-12-09", ["Navy"])


def test_google_2024_labels_on_emails():
    grace = read("google-2024.csv")[0]
    assert [(e.normalized, e.types, e.label) for e in grace.emails] == [
        ("grace.hopper@navy.example", ["work", "pref"], "Work"),
        ("grace@example.net", ["home"], "Home"),
    ]


def test_google_2024_phone_label():
    assert read("google-2024.csv")[0].phones == [
        Phone(number="(202) 555-0143", e164="+12025550143", types=["cell"], label="Mobile")]


# --- Outlook ------------------------------------------------------------------------------------

def test_outlook_source_format():
    assert {r.source_format for r in read("outlook.csv")} == {"csv-outlook"}


def test_outlook_second_email():
    assert read("outlook.csv")[0].emails[1] == Email(
        address="alan@bletchley.example", normalized="alan@bletchley.example", types=[],
        label="E-mail 2 Address")


def test_outlook_display_name_and_type_columns_are_not_emails():
    assert len(read("outlook.csv")[0].emails) == 2


def test_outlook_title_is_name_prefix_and_job_title_is_title():
    alan = read("outlook.csv")[0]
    assert (alan.name_prefix, alan.name_suffix, alan.title) == (
        "Dr.", "OBE", "Principal Scientific Officer")


def test_outlook_phone_types_from_column_names():
    alan = read("outlook.csv", region="GB")[0]
    assert [(p.e164, p.types, p.label) for p in alan.phones] == [
        ("+442089773222", ["work"], "Business Phone"),
        ("+447700900123", ["cell"], "Mobile Phone"),
    ]


def test_outlook_business_address():
    address = read("outlook.csv")[0].addresses[0]
    assert (address.street, address.locality, address.region, address.postal_code,
            address.country, address.types) == (
        "Teddington Road", "Teddington", "Middlesex", "TW11 0LW", "United Kingdom", ["work"])


def test_outlook_categories_split_on_semicolon():
    assert read("outlook.csv")[0].categories == ["Business", "Friends"]


def test_outlook_web_page_on_linkedin_is_social():
    assert read("outlook.csv")[0].links == [Link(
        value="https://uk.linkedin.com/in/alanturing", kind="social", service="linkedin",
        label="Web Page")]


@pytest.mark.parametrize("row, birthday", [
    (0, None),               # 1/5/1912: January 5 or May 1, cannot tell
    (1, "1917-06-24"),       # 24/6/1917: only day-first makes sense
    (2, None),               # 0/0/00: Outlook's "no birthday"
])
def test_outlook_birthday_only_when_unambiguous(row, birthday):
    assert read("outlook.csv")[row].birthday == birthday


# --- Thunderbird --------------------------------------------------------------------------------

def test_thunderbird_header_birth_month_and_day_without_year():
    assert read("thunderbird.csv")[0].birthday == "--08-17"


def test_thunderbird_work_address_with_second_line():
    address = read("thunderbird.csv")[0].addresses[0]
    assert (address.street, address.extended, address.locality, address.postal_code,
            address.types) == ("77 Massachusetts Ave", "Building 33", "Cambridge", "02139", ["work"])


def test_thunderbird_primary_email_is_pref():
    assert [(e.address, e.types) for e in read("thunderbird.csv")[0].emails] == [
        ("margaret@mit.example", ["pref"]), ("mh@example.org", [])]


def test_thunderbird_github_web_page_is_social():
    assert read("thunderbird.csv")[0].links == [Link(
        value="https://github.com/mhamilton", kind="social", service="github", label="Web Page 1")]


def test_thunderbird_no_header_is_read_by_position():
    konrad = read("thunderbird-no-header.csv", region="DE")[0]
    assert (konrad.source_format, konrad.position, konrad.full_name, konrad.emails[0].normalized,
            konrad.org, konrad.birthday, [p.e164 for p in konrad.phones]) == (
        "csv-thunderbird", 1, "Konrad Zuse", "konrad.zuse@z3.example", "Zuse KG", "1910-06-22",
        ["+49301234567", "+491701234567"])


def test_thunderbird_no_header_raw_text_uses_thunderbird_column_names():
    hedy = read("thunderbird-no-header.csv")[1]
    assert json.loads(hedy.raw_text) == {
        "First Name": "Hedy", "Last Name": "Lamarr", "Display Name": "Hedy Lamarr",
        "Primary Email": "hedy@example.com", "Birth Month": "11", "Birth Day": "9"}


def test_headerless_file_not_in_thunderbird_order_is_refused():
    with pytest.raises(UnmappableCsv, match=r"no header row .*'john@doe.example' in column 4"):
        read("headerless-not-thunderbird.csv")


# --- Generic / card scanners --------------------------------------------------------------------

def test_card_scanner_full_name_is_split_with_title_dropped():
    tim = read("card-scanner.csv")[0]
    assert (tim.full_name, tim.given_name, tim.family_name, tim.is_name_derived) == (
        "Dr. Tim Berners-Lee", "Tim", "Berners-Lee", True)


def test_card_scanner_links():
    assert read("card-scanner.csv")[0].links == [
        Link(value="https://www.w3.org", kind="url", label="Website"),
        Link(value="https://www.linkedin.com/in/timbl", kind="social", service="linkedin",
             label="LinkedIn"),
        Link(value="@timberners_lee", kind="social", service="twitter", label="Twitter"),
    ]


def test_card_scanner_generic_address_columns():
    address = read("card-scanner.csv")[0].addresses[0]
    assert (address.street, address.locality, address.postal_code, address.country) == (
        "32 Vassar Street", "Cambridge", "02139", "USA")


def test_card_scanner_tags_to_categories():
    assert read("card-scanner.csv")[0].categories == ["Conference 2024", "Web"]


def test_company_only_row_keeps_no_person_name():
    acme = read("card-scanner.csv")[1]
    assert (acme.org, acme.full_name, acme.given_name, acme.is_name_derived,
            acme.phones[0].e164, acme.phones[0].types) == (
        "Acme Widgets Inc.", None, None, False, "+14155550100", ["work"])


def test_row_without_name_email_phone_or_company_is_rejected():
    assert read("card-scanner.csv")[2] == Rejected(
        position=4, reason="row has no name, e-mail, phone or company",
        raw_text='{"Notes": "Card photo was blurry", "Tags": "Conference 2024"}')


def test_raw_text_keeps_every_non_empty_column():
    assert json.loads(read("card-scanner.csv")[1].raw_text) == {
        "Company": "Acme Widgets Inc.", "Work Phone": "(415) 555-0100",
        "Website": "https://acme.example"}


# --- Encodings ----------------------------------------------------------------------------------

def test_utf16_tab_file_reads():
    zoe = read("utf16-tab.csv", region="SE")[0]
    assert (zoe.full_name, zoe.org, zoe.emails[0].normalized, zoe.phones[0].e164) == (
        "Zoë Ångström", "Ångström AB", "zoe@angstrom.example", "+46812345678")


def test_semicolon_windows_1252_decodes():
    juergen = read("semicolon-windows-1252.csv")[0]
    assert (juergen.full_name, juergen.org, juergen.note) == (
        "Jürgen Müller", "Bäckerei Müller GmbH", "Brötchen – täglich frisch")


def test_semicolon_windows_1252_german_phone_column():
    assert read("semicolon-windows-1252.csv", region="DE")[0].phones == [
        Phone(number="+49 89 1234567", e164="+49891234567", types=[], label="Telefon")]


def test_shift_jis_name_decodes():
    taro = read("shift-jis.csv", region="JP")[0]
    assert (taro.full_name, taro.family_name, taro.given_name, taro.org) == (
        "山田 太郎", "山田", "太郎", "株式会社サンプル")


def test_shift_jis_phone_in_japan():
    assert read("shift-jis.csv", region="JP")[0].phones[0].e164 == "+81312345678"


def test_binary_file_is_refused():
    with pytest.raises(UnmappableCsv, match="not a text file"):
        read("binary.csv")


# --- CSV structure ------------------------------------------------------------------------------

def test_quoted_newlines_and_doubled_quotes_in_a_cell():
    assert read("quoted-newlines.csv")[0].note == (
        'Substitution principle\nCLU language\n"Turing Award" 2008')


def test_quoted_newlines_positions_count_physical_lines():
    assert [r.position for r in read("quoted-newlines.csv")] == [2, 5, 6]


def test_ragged_row_with_extra_values_is_rejected_with_raw_line():
    assert read("ragged-rows.csv")[2] == Rejected(
        position=4, reason="row has 6 fields, header has 4",
        raw_text="Thompson, Ken,ken@unix.example,+1 908 555 0100,Bell Labs,extra")


@pytest.mark.parametrize("index, name", [
    (0, "Ken Thompson"),       # one trailing empty cell too many
    (1, "Dennis Ritchie"),     # fewer cells than the header
    (3, "Brian Kernighan"),    # two trailing empty cells
])
def test_ragged_rows_that_still_map_are_read(index, name):
    assert read("ragged-rows.csv")[index].full_name == name


def test_comma_header_with_tab_rows_is_resplit():
    guido = read("comma-header-tab-rows.csv")[1]
    assert (guido.full_name, guido.emails[0].normalized) == ("Guido van Rossum",
                                                            "guido@python.example")


def test_comma_header_with_too_wide_tab_row_is_rejected():
    rejected = read("comma-header-tab-rows.csv")[2]
    assert (rejected.position, rejected.reason) == (4, "row has 7 fields, header has 5")


def test_excel_sep_line_sets_delimiter_and_is_skipped():
    annie = read("excel-sep-line.csv")[0]
    assert (annie.position, annie.full_name, annie.emails[0].normalized) == (
        3, "Annie Easley", "annie@nasa.example")


def test_unmappable_headers_message_lists_headers_and_fix():
    with pytest.raises(UnmappableCsv) as error:
        read("unmappable-headers.csv")
    assert str(error.value) == (
        "unmappable-headers.csv has no column that holds a name, e-mail, phone or company. "
        "Columns seen: 'Date', 'Amount', 'Currency', 'Reference'. Rename a column to one of: "
        "Name, First Name, Last Name, E-mail, Email, Phone, Mobile, Company, Job Title, or export "
        "as Google CSV, Outlook CSV or Thunderbird CSV")


def test_unmappable_is_raised_before_any_record():
    records = read_contacts_csv(FIXTURES / "unmappable-headers.csv")
    with pytest.raises(UnmappableCsv):
        next(records)


def test_empty_file_is_refused():
    with pytest.raises(UnmappableCsv, match="is empty"):
        read("empty.csv")


def test_header_only_file_yields_nothing():
    assert read("header-only.csv") == []


def test_linkedin_connections_is_refused_with_pointer_to_its_connector():
    with pytest.raises(UnmappableCsv, match="LinkedIn Connections export"):
        read("linkedin-connections.csv")


def test_large_file_is_streamed_in_flat_memory(tmp_path):
    # Rows without a name keep nameparser out of it, so the test stays fast under tracemalloc.
    path = tmp_path / "big.csv"
    row = "person{0}@example.com,Some Company Ltd,A note about them that is a little longer\n"
    with path.open("w", encoding="utf-8") as out:
        out.write("Email,Company,Notes\n")
        for i in range(20_000):
            out.write(row.format(i))
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_contacts_csv(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The 64 KB head, the text wrapper's buffers and one row: well under the 1.7 MB file.
    assert (count, peak < 600_000, path.stat().st_size > 1_500_000) == (20_000, True, True)


# --- Sniffing -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("google-legacy.csv", True),
    ("google-2024.csv", True),
    ("outlook.csv", True),
    ("thunderbird.csv", True),
    ("thunderbird-no-header.csv", True),
    ("utf16-tab.csv", True),
    ("semicolon-windows-1252.csv", True),
    ("shift-jis.csv", True),
    ("card-scanner.csv", True),
    ("unmappable-headers.csv", False),
    ("headerless-not-thunderbird.csv", False),
    ("linkedin-connections.csv", False),
    ("empty.csv", False),
    ("binary.csv", False),
])
def test_looks_like_contacts_csv(name, expected):
    assert looks_like_contacts_csv((FIXTURES / name).read_bytes()[:65536]) is expected


@pytest.mark.parametrize("head", [
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada Lovelace\r\nEND:VCARD\r\n",
    b"Name,Amount,Date\nAda,12.50,2024-01-05\n",
    b"CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,DATE,SUBJECT,CONTENT\n",
])
def test_looks_like_contacts_csv_refuses_other_files(head):
    assert looks_like_contacts_csv(head) is False


# --- Shared corpus: exact values ----------------------------------------------------------------

def test_corpus_shift_jis_thunderbird_name():
    card = next(read_contacts_csv(corpus_file("thunderbird__shiftjis_addressbook.csv")))
    assert (card.full_name, card.given_name, card.family_name, card.emails[0].address) == (
        "名無しの権兵衛", "権兵衛", "名無し", "名無しの権兵衛@host.invalid")


def test_corpus_utf16_thunderbird():
    card = next(read_contacts_csv(corpus_file("thunderbird__utf16_addressbook.csv")))
    assert (card.source_format, card.full_name, card.emails[0].address) == (
        "csv-thunderbird", "John Doe", "johndoe@host.invalid")


def test_corpus_every_field_quoted_company_only():
    card = next(read_contacts_csv(corpus_file("thunderbird__quote.csv"), "US"))
    assert (card.full_name, card.org, card.given_name, card.is_name_derived,
            card.phones[0].e164) == ("Acer America", "Acer America", None, False, "+18000000000")


def test_corpus_tab_comma_mixed_headerless():
    cards = list(read_contacts_csv(corpus_file("thunderbird__tab_comma_mixed.csv")))
    assert [(c.position, c.emails[0].address) for c in cards] == [
        (1, "1@host.invalid"), (2, "2@host.invalid"), (3, "3@host.invalid"),
        (4, "4@host.invalid")]


def test_corpus_semicolon():
    cards = list(read_contacts_csv(corpus_file("thunderbird__csv_semicolon.csv")))
    assert [(c.full_name, c.given_name, c.emails[0].address) for c in cards] == [
        ("John Doe", "John", "john@doe.invalid"), ("Jane Doe", "Jane", "jane@doe.invalid")]


def test_corpus_thunderbird_export_embedded_tab_newline_and_quotes():
    card = list(read_contacts_csv(corpus_file("thunderbird__export.csv")))[1]
    assert (card.position, card.title, card.note, json.loads(card.raw_text)["Custom 4"]) == (
        3, '"worker"', "here's some unicode text…", "custom\n4")


def test_corpus_thunderbird_export_keeps_unparsable_address_unnormalized():
    card = next(read_contacts_csv(corpus_file("thunderbird__export.csv")))
    assert card.emails == [Email(address="contact1@invalid", normalized=None, types=["pref"],
                                 label="Primary Email")]


def test_corpus_google_legacy_multiline_address_and_quotes():
    card = next(read_contacts_csv(corpus_file("roundcubemail__gmail.csv")))
    assert (card.note, card.categories, card.birthday, card.addresses[0].po_box,
            card.addresses[1].locality, [l.value for l in card.links]) == (
        'note"note', ["Test"], "1975-12-12", "home_pobox", "work_city",
        ["test.com", "home.page.com"])


def test_corpus_google_legacy_email_without_type():
    card = next(read_contacts_csv(corpus_file("roundcubemail__gmail.csv")))
    assert card.emails[2] == Email(address="unknown@email.com", normalized="unknown@email.com")


def test_corpus_outlook_style_bom_file():
    card = next(read_contacts_csv(corpus_file("roundcubemail__all.csv")))
    assert (card.source_format, card.name_prefix, card.title, card.birthday,
            [(e.address, e.types) for e in card.emails]) == (
        "csv-outlook", "Prefix", "Job Title", "1991-01-20",
        [("home@example.com", ["home"]), ("work@example.com", ["work"]),
         ("other@example.com", ["other"])])


def test_corpus_outlook_three_emails():
    card = next(read_contacts_csv(corpus_file("roundcubemail__outlook.csv")))
    assert [e.address for e in card.emails] == [
        "test1@domain.tld", "test2@domain.tld", "test3@domain.tld"]


def test_corpus_email_only_file():
    cards = list(read_contacts_csv(corpus_file("roundcubemail__email.csv")))
    assert [c.emails[0].normalized for c in cards] == [
        "test1@domain.tld", "test2@domain.tld", "test3@domain.tld", "test4@domain.tld"]


def test_corpus_thunderbird_birth_year_month_day():
    card = next(read_contacts_csv(corpus_file("roundcubemail__tb_plain.csv")))
    assert (card.birthday, card.org, card.org_units, card.title) == (
        "1970-11-15", "Organization", ["department"], "title")


def test_corpus_headerless_not_thunderbird_order_is_refused():
    with pytest.raises(UnmappableCsv, match="no header row"):
        list(read_contacts_csv(corpus_file("thunderbird__csv_no_header.csv")))


def test_corpus_linkedin_contacts_several_emails_in_one_cell():
    cards = read_contacts_csv(corpus_file("linkedin_Contacts_2019_pseudonymized.csv"))
    card = next(cards)
    assert (card.source_format, card.given_name, [e.address for e in card.emails]) == (
        "csv-generic", "0d65de5e9753379f",
        ["35a8197725738947@gmail.com", "49a395f8ac58f1c6@yahoo.com"])


@pytest.mark.parametrize("name", ["linkedin_Connections_2019_pseudonymized.csv",
                                  "linkedin_Connections_2024_pseudonymized.csv"])
def test_corpus_linkedin_connections_are_not_contacts_csv(name):
    assert looks_like_contacts_csv(corpus_file(name).read_bytes()[:65536]) is False


# --- Shared corpus: sweep -----------------------------------------------------------------------

def _sweep_files() -> list[str]:
    if not CORPUS_CSV.is_dir():
        return ["(corpus absent)"]
    return sorted(p.name for p in CORPUS_CSV.iterdir()
                  if p.suffix == ".csv" and not p.name.startswith("linkedin"))


@pytest.mark.parametrize("name", _sweep_files())
def test_corpus_sweep_every_row_is_a_card_or_a_rejection_with_reason(name):
    path = corpus_file(name)
    try:
        records = list(read_contacts_csv(path, "US"))
    except UnmappableCsv as error:
        assert path.name in str(error) and len(str(error)) > 60
        return
    assert all(isinstance(r, ContactCard) or (isinstance(r, Rejected) and r.reason)
               for r in records)
    assert records, "a contacts CSV that is not refused has rows: a reader yielding none lost them"
