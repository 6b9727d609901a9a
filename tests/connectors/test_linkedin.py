"""LinkedIn export connector: one fixture per edge case, exact values from the shared corpus."""

import json
import time
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from kith.connectors.linkedin import (is_linkedin_export, linkedin_files, looks_like_linkedin,
                                 read_linkedin, skipped_files)
from kith.profiles import normalize_profile_url, profile_service
from kith.records import ContactCard, Email, Link, Rejected, SocialInvitation, SocialMessage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin"
CORPUS_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "csv"


def read(name: str) -> list:
    return list(read_linkedin(FIXTURES / name))


def at(records: list, position: int):
    return next(r for r in records if r.position == position)


def corpus_file(name: str) -> Path:
    path = CORPUS_CSV / name
    if not path.is_file():
        pytest.skip(f"shared corpus not found: {path}")
    return path


@pytest.fixture(scope="module")
def corpus_2024() -> list:
    return list(read_linkedin(corpus_file("linkedin_Connections_2024_pseudonymized.csv")))


@pytest.fixture(scope="module")
def corpus_2019() -> list:
    return list(read_linkedin(corpus_file("linkedin_Connections_2019_pseudonymized.csv")))


# --- profile URLs -------------------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("https://www.linkedin.com/in/grace-hopper/", "https://linkedin.com/in/grace-hopper"),
    ("http://de.linkedin.com/in/J%C3%BCrgen-M?trk=profile", "https://linkedin.com/in/jürgen-m"),
    ("https://mobile.linkedin.com/in/Ada/details/experience/#x", "https://linkedin.com/in/ada"),
    ("linkedin.com/in/ada-lovelace", "https://linkedin.com/in/ada-lovelace"),
    ("https://WWW.LinkedIn.com/company/Acme/", "https://linkedin.com/company/acme"),
    ("https://twitter.com/Ada_L?lang=en", "https://x.com/ada_l"),
    ("https://mobile.twitter.com/#!/Ada_L", "https://x.com/ada_l"),
    ("https://x.com/ada_l/status/123", "https://x.com/ada_l"),
    ("https://www.github.com/Octocat/", "https://github.com/octocat"),
    ("https://m.facebook.com/profile.php?id=100012345&ref=x", "https://facebook.com/profile.php?id=100012345"),
    ("https://www.instagram.com/ada.l/", "https://instagram.com/ada.l"),
    ("https://www.example.org/About/", "https://example.org/About"),
    ("urn:li:member:12345", None),
    ("Ada Lovelace", None),
    ("", None),
])
def test_normalize_profile_url(url, expected):
    assert normalize_profile_url(url) == expected


@pytest.mark.parametrize("url, service", [
    ("https://fr.linkedin.com/in/ada", "linkedin"),
    ("https://x.com/ada", "twitter"),
    ("https://twitter.com/ada", "twitter"),
    ("https://github.com/ada", "github"),
    ("https://fb.com/ada", "facebook"),
    ("https://instagram.com/ada", "instagram"),
    ("https://example.org/ada", None),
    ("not a url", None),
])
def test_profile_service(url, service):
    assert profile_service(url) == service


# --- Connections.csv: shared corpus --------------------------------------------------------------

def test_corpus_2024_row_exact(corpus_2024):
    # "Fde,Eefah,https://www.linkedin.com/in/cai-aihrf4,,"CivicMinds, Inc",..." after the preamble
    card = at(corpus_2024, 11)
    assert (card.full_name, card.links, card.org, card.title, card.connected_on, card.emails) == (
        "Fde Eefah", [Link("https://linkedin.com/in/cai-aihrf4", "social", "linkedin")],
        "CivicMinds, Inc", "Full-Desk Recruiter/Account Manager", date(2024, 5, 23), [])


def test_corpus_2024_profile_url_is_uid(corpus_2024):
    assert at(corpus_2024, 11).record_key == "uid:https://linkedin.com/in/cai-aihrf4"


def test_corpus_2024_doubled_quotes(corpus_2024):
    assert at(corpus_2024, 126).given_name == 'Xpuxg "Lbvfz"'


def test_corpus_2024_deleted_member_rejected(corpus_2024):
    assert at(corpus_2024, 53) == Rejected(
        53, "a deleted LinkedIn member: the row has only a connection date",
        '{"Connected On": "02 Jun 2022"}')


def test_corpus_2024_counts(corpus_2024):
    assert (sum(isinstance(r, ContactCard) for r in corpus_2024),
            sum(isinstance(r, Rejected) for r in corpus_2024)) == (1581, 47)


def test_corpus_2019_row_without_url(corpus_2019):
    card = at(corpus_2019, 2)
    assert (card.given_name, card.family_name, card.emails, card.links, card.org, card.title,
            card.connected_on) == ("3078a0ab1e55097b", "7efe64fafaa00172", [], [],
                                   "Tata Consultancy Services", "Big Data Architect",
                                   date(2019, 8, 14))


def test_corpus_2019_company_with_comma(corpus_2019):
    assert at(corpus_2019, 5).org == "Swimelar CPA, PC"


def test_corpus_2019_email(corpus_2019):
    assert at(corpus_2019, 13).emails == [
        Email("d84a8fde0a937830@gmail.com", "d84a8fde0a937830@gmail.com")]


def test_corpus_2019_every_row_read_or_rejected(corpus_2019):
    assert (sum(isinstance(r, ContactCard) for r in corpus_2019),
            sum(isinstance(r, Rejected) for r in corpus_2019)) == (22934, 782)


# --- Connections.csv: fixtures -----------------------------------------------------------------

def test_us_date_with_time():
    assert read("connections-2018-us-dates.csv")[0].connected_on == date(2018, 1, 8)


def test_quoted_comma_and_doubled_quotes():
    ada = read("connections-2018-us-dates.csv")[0]
    assert (ada.org, ada.title) == ("Analytical Engines, Ltd", 'Writer of "Notes"')


def test_email_kept():
    assert read("connections-2018-us-dates.csv")[0].emails == [
        Email("ada@engines.example", "ada@engines.example")]


def test_member_urn_is_no_email():
    assert read("connections-2018-us-dates.csv")[1].emails == []


def test_raw_text_is_row_as_json():
    assert json.loads(read("connections-2018-us-dates.csv")[1].raw_text) == {
        "First Name": "Charles", "Last Name": "Babbage", "Email Address": "urn:li:member:12345",
        "Company": "Difference Co", "Position": "Inventor", "Connected On": "12/24/17, 9:05 AM"}


def test_source_format():
    assert {r.source_format for r in read("connections-2018-us-dates.csv")} == {
        "linkedin-connection"}


def test_preamble_skipped_and_positions_are_lines():
    assert [(type(r).__name__, r.position) for r in read("connections-deleted-members.csv")] == [
        ("ContactCard", 5), ("Rejected", 6)]


def test_deleted_member_reason():
    assert read("connections-deleted-members.csv")[1].reason == (
        "a deleted LinkedIn member: the row has only a connection date")


@pytest.mark.parametrize("position, expected", [
    (1, ("Grace", "Hopper", "https://linkedin.com/in/grace-hopper", "US Navy", date(2024, 5, 30))),
    (2, ("Alan", "Turing", None, "Bletchley Park, GCCS", date(2020, 1, 1))),
])
def test_spreadsheet_resaved_rows_read(position, expected):
    card = at(read("connections-spreadsheet-resaved.csv"), position)
    assert (card.given_name, card.family_name, card.links[0].value if card.links else None,
            card.org, card.connected_on) == expected


@pytest.mark.parametrize("position, reason", [
    (3, "headerless Connections row has 3 fields; kith reads 7 (with URL) or 6 (without URL)"),
    (4, "headerless Connections row: last field 'someday' is not a connection date"),
])
def test_spreadsheet_resaved_rows_rejected(position, reason):
    assert at(read("connections-spreadsheet-resaved.csv"), position).reason == reason


@pytest.fixture
def german_connections(tmp_path) -> Path:
    path = tmp_path / "Connections.csv"        # named as in the export: the registry reads it
    path.write_bytes((FIXTURES / "connections-german.csv").read_bytes())
    return path


def test_translated_header_rejected_with_headers_seen(german_connections):
    header = list(read_linkedin(german_connections))[0]
    assert header.reason.startswith(
        "Connections.csv: header not recognised (an export in another language?). Headers seen: "
        "'Vorname', 'Nachname', 'URL', 'E-Mail-Adresse', 'Unternehmen', 'Position', "
        "'Verbunden am'. Expected: First Name,")


def test_translated_header_rows_rejected_too(german_connections):
    assert [(type(r).__name__, r.position) for r in read_linkedin(german_connections)] == [
        ("Rejected", 1), ("Rejected", 2)]


def test_unrecognised_single_file_lists_headers_seen():
    assert read("connections-german.csv")[0].reason.endswith(
        "Headers seen: 'Vorname', 'Nachname', 'URL', 'E-Mail-Adresse', 'Unternehmen', "
        "'Position', 'Verbunden am'")


# --- messages.csv -------------------------------------------------------------------------------

def test_messages_2018_layout():
    first = read("messages-2018.csv")[0]
    assert (first.sender_name, first.recipient_names, first.sent_at, first.folder,
            first.sender_profile, first.position) == (
        "Ada Lovelace", ["Charles Babbage, FRS"], datetime(2018, 1, 8, 18, 14, tzinfo=timezone.utc),
        "SENT", None, 2)


def test_messages_2018_us_date_and_next_line_position():
    second = read("messages-2018.csv")[1]
    assert (second.position, second.sent_at) == (4, datetime(2018, 1, 9, 7, 2, tzinfo=timezone.utc))


def test_messages_2023_layout_several_recipients():
    first = read("messages-2023.csv")[0]
    assert (first.conversation_id, first.sender_profile, first.recipient_names,
            first.recipient_profiles, first.sent_at, first.folder, first.platform) == (
        "2-abc==", "https://linkedin.com/in/ada-lovelace", ["Charles Babbage", "Grace Hopper"],
        ["https://linkedin.com/in/charles-babbage", "https://linkedin.com/in/grace-hopper"],
        datetime(2023, 5, 2, 14, 7, 33, tzinfo=timezone.utc), "INBOX", "linkedin")


@pytest.mark.parametrize("name, words", [
    ("messages-2018.csv", ("Secret", "plans", "Thanks")),
    ("messages-2023.csv", ("Top secret", "bring the cards", "Engine club")),
])
def test_messages_keep_no_text(name, words):
    stored = " ".join(repr(r) for r in read(name))
    assert [w for w in words if w in stored] == []


def test_messages_same_second_kept_apart():
    first, second = read("messages-2023.csv")
    assert first.record_key != second.record_key


# --- Invitations.csv ----------------------------------------------------------------------------

@pytest.mark.parametrize("index, expected", [
    (0, ("outgoing", "Grace Hopper", "https://linkedin.com/in/grace-hopper",
         datetime(2023, 5, 2, 14, 7, tzinfo=timezone.utc))),
    (1, ("incoming", "Alan Turing", "https://linkedin.com/in/alan-turing",
         datetime(2018, 1, 8, 18, 14, tzinfo=timezone.utc))),
])
def test_invitation_other_party(index, expected):
    invitation = read("invitations.csv")[index]
    assert (invitation.direction, invitation.other_name, invitation.other_profile,
            invitation.sent_at) == expected


def test_invitation_note_not_kept():
    assert "Private note" not in read("invitations.csv")[0].raw_text


def test_invitation_unknown_direction_rejected():
    assert read("invitations.csv")[2].reason == (
        "invitation direction 'SIDEWAYS' is neither INCOMING nor OUTGOING")


# --- the export as a zip or a folder ------------------------------------------------------------

IMPORTED_CONTACTS = (
    "Source,FirstName,LastName,Companies,Title,Emails,PhoneNumbers,CreatedAt\n"
    'USER_CREATE,Ada,Lovelace,,,"ada@home.example, ada@work.example",,"7/29/13, 9:53 AM"\n')


@pytest.fixture
def export_zip(tmp_path) -> Path:
    path = tmp_path / "Basic_LinkedInDataExport_05-30-2024.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(FIXTURES / "connections-deleted-members.csv", "Connections.csv")
        archive.write(FIXTURES / "messages-2023.csv", "messages.csv")
        archive.write(FIXTURES / "invitations.csv", "Invitations.csv")
        archive.writestr("Profile.csv", "First Name,Last Name\nAda,Lovelace\n")
        archive.writestr("Jobs/Job Applications.csv", "Application Date\n")
        archive.writestr("ImportedContacts.csv", IMPORTED_CONTACTS)
    return path


@pytest.fixture
def export_folder(tmp_path, export_zip) -> Path:
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(export_zip) as archive:
        archive.extractall(folder)
    return folder


def kinds(records) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        out[type(r).__name__] = out.get(type(r).__name__, 0) + 1
    return out


EXPECTED_KINDS = {"ContactCard": 2, "Rejected": 2, "SocialMessage": 2, "SocialInvitation": 2}


def test_zip_records(export_zip):
    assert kinds(read_linkedin(export_zip)) == EXPECTED_KINDS


def test_folder_records(export_folder):
    assert kinds(read_linkedin(export_folder)) == EXPECTED_KINDS


@pytest.mark.parametrize("which", ["export_zip", "export_folder"])
def test_skipped_files_listed(which, request):
    assert sorted(skipped_files(request.getfixturevalue(which))) == [
        "Jobs/Job Applications.csv", "Profile.csv"]


def test_imported_contacts_read_by_contacts_csv(export_zip):
    files = dict((name, list(records)) for name, records in linkedin_files(export_zip))
    assert [e.normalized for e in files["ImportedContacts.csv"][0].emails] == [
        "ada@home.example", "ada@work.example"]


def test_files_named_per_record_group(export_zip):
    assert sorted(name for name, _ in linkedin_files(export_zip)) == [
        "Connections.csv", "ImportedContacts.csv", "Invitations.csv", "messages.csv"]


def test_empty_export_is_one_clear_reject(tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Profile.csv", "First Name\n")
    assert list(read_linkedin(path)) == [Rejected(
        0, "export.zip: no Connections.csv, messages.csv, Invitations.csv or Contacts.csv in "
           "this export (1 other files skipped)", "")]


def test_broken_zip_is_a_reject_not_an_error(tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    assert [type(r) for r in read_linkedin(path)] == [Rejected]


def test_empty_connections_file_yields_nothing(tmp_path):
    path = tmp_path / "Connections.csv"
    path.write_bytes(b"")
    assert list(read_linkedin(path)) == []


# --- sniffing -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("connections-2018-us-dates.csv", True),
    ("connections-deleted-members.csv", True),
    ("connections-spreadsheet-resaved.csv", True),
    ("messages-2018.csv", True),
    ("messages-2023.csv", True),
    ("invitations.csv", True),
    ("connections-german.csv", False),
])
def test_looks_like_linkedin(name, expected):
    assert looks_like_linkedin((FIXTURES / name).read_bytes()) is expected


def test_looks_like_linkedin_refuses_contacts_csv():
    assert looks_like_linkedin(IMPORTED_CONTACTS.encode()) is False


def test_looks_like_linkedin_zip_head(export_zip):
    assert looks_like_linkedin(export_zip.read_bytes()[:65536]) is True


@pytest.mark.parametrize("which", ["export_zip", "export_folder"])
def test_is_linkedin_export(which, request):
    assert is_linkedin_export(request.getfixturevalue(which)) is True


def test_translated_file_named_connections_is_an_export(tmp_path):
    path = tmp_path / "Connections.csv"
    path.write_bytes((FIXTURES / "connections-german.csv").read_bytes())
    assert is_linkedin_export(path) is True


def test_other_zip_is_not_an_export(tmp_path):
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.jpg", b"x")
    assert is_linkedin_export(path) is False


# --- speed --------------------------------------------------------------------------------------

def test_25k_connections_in_a_few_seconds(tmp_path):
    path = tmp_path / "Connections.csv"
    rows = [f'Given{i},Family{i},https://www.linkedin.com/in/person-{i},,"Company {i}, Inc",'
            f"Engineer,30 May 2024" for i in range(25_000)]
    path.write_text("First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
                    + "\n".join(rows) + "\n")
    started = time.perf_counter()
    count = sum(1 for r in read_linkedin(path) if isinstance(r, ContactCard))
    assert (count, time.perf_counter() - started < 5) == (25_000, True)


# --- Connections re-saved without their header, before LinkedIn added the URL column ----------

NO_HEADER_NO_URL = "connections-no-header-no-url.csv"


def test_headerless_connections_without_url_are_recognised_by_their_shape():
    head = (FIXTURES / NO_HEADER_NO_URL).read_bytes()
    assert (looks_like_linkedin(head), is_linkedin_export(FIXTURES / NO_HEADER_NO_URL)) == (
        True, True)


def test_headerless_connections_without_url_are_read_with_exact_values():
    records = read(NO_HEADER_NO_URL)
    assert [(r.full_name, r.org, r.title, r.connected_on, [e.address for e in r.emails])
            for r in records] == [
        ("Ada Lovelace", "Analytical Engines Ltd", "Countess", date(2021, 6, 11), []),
        ("Charles Babbage", "Difference Co", "Inventor", date(2019, 2, 3),
         ["charles@engines.example"]),
        ("Grace Hopper", "US Navy", "Rear Admiral", date(2024, 5, 30), [])]


def test_headerless_connections_come_with_a_note_that_the_header_was_missing():
    from kith.connectors.linkedin import reading_notes
    (note,) = reading_notes(FIXTURES / NO_HEADER_NO_URL)
    assert note.startswith(f"{NO_HEADER_NO_URL}: no header row; read as LinkedIn connections")


def test_connections_with_a_header_have_no_note():
    from kith.connectors.linkedin import reading_notes
    assert reading_notes(FIXTURES / "connections-german.csv") == []


def test_a_six_column_csv_of_other_dates_is_not_taken_for_connections():
    head = b"Ada,Lovelace,,Engines,Countess,2021-06-11\nBob,Brown,,Acme,Clerk,2020-01-02\n"
    assert looks_like_linkedin(head) is False


def test_rows_a_sort_moved_above_the_header_are_read_with_it():
    records = list(read_linkedin_bytes(
        b"Charles,Babbage,,Difference Co,Inventor,3 Feb 2019\n"
        b"First Name,Last Name,Email Address,Company,Position,Connected On\n"
        b"Ada,Lovelace,,Engines,Countess,11 Jun 2021\n"))
    assert [(r.position, r.full_name) for r in records] == [(1, "Charles Babbage"),
                                                            (3, "Ada Lovelace")]


def read_linkedin_bytes(data: bytes, name: str = "Connections.csv") -> list:
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        return list(read_linkedin(path))
