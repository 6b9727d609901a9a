import base64
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CARDS = PROJECT_ROOT / "examples" / "cards"


def query(db_path, sql):
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def vcard(uid, fn, title, rev):
    return (f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{fn}\r\nN:{fn.split()[1]};"
            f"{fn.split()[0]};;;\r\nTITLE:{title}\r\nEMAIL:{fn.split()[0].lower()}@acme.example"
            f"\r\nREV:{rev}\r\nEND:VCARD\r\n")


def test_import_prints_a_summary_per_file_and_in_total(kith, db_path):
    out = kith("import", CARDS, "--tag", "Chamber mixer", "--db", db_path).stdout
    assert "mixer-2026-11-20.vcf" in out and "camcard-scan.csv" in out
    assert "total" in out and "Top reasons for rejects" in out


def test_summary_counts_match_the_ledger(kith, db_path):
    kith("import", CARDS, "--db", db_path)
    read, inserted, rejected = query(
        db_path, "select sum(n_read), sum(n_inserted), sum(n_rejected) from loads")[0]
    assert read == inserted + rejected
    assert query(db_path, "select count(*) from raw_contacts")[0][0] == inserted


def test_second_import_of_the_same_files_inserts_nothing_and_says_so(kith, db_path):
    kith("import", CARDS, "--db", db_path)
    before = query(db_path, "select count(*) from raw_contacts")
    out = kith("import", CARDS, "--db", db_path).stdout
    assert "Nothing new" in out
    assert query(db_path, "select count(*) from raw_contacts") == before
    assert query(db_path, "select count(*), count(distinct reject_hash) from rejects")[0] == (
        query(db_path, "select count(*) from rejects")[0][0],) * 2


def test_tag_is_stored_with_every_card_of_the_import(kith, db_path):
    kith("import", CARDS, "--tag", "Chamber mixer 2026-11-20", "--db", db_path)
    tagged, cards = query(db_path, """
        select count(*) filter (where list_contains(tags, 'Chamber mixer 2026-11-20')), count(*)
        from contacts""")[0]
    assert tagged == cards == 10


def test_edited_card_is_a_new_version_of_the_same_card(kith, db_path, tmp_path):
    path = tmp_path / "jane.vcf"
    path.write_text(vcard("jane-1", "Jane Doe", "Engineer", "2026-01-01T00:00:00Z"))
    kith("import", path, "--db", db_path)
    path.write_text(vcard("jane-1", "Jane Doe", "CTO", "2026-06-01T00:00:00Z"))
    out = kith("import", path, "--db", db_path).stdout
    assert query(db_path, "select title, n_versions from contacts") == [("CTO", 2)]
    assert query(db_path, "select n_updated from loads order by load_id desc limit 1") == [(1,)]


def test_empty_file_gets_a_clear_message(kith, db_path, tmp_path):
    path = tmp_path / "empty.vcf"
    path.write_bytes(b"")
    out = kith("import", path, "--db", db_path, check=False).stdout
    assert "empty file" in out


def test_binary_garbage_is_skipped_with_a_message(kith, db_path, tmp_path):
    # Named .bin: a garbage .jpg is read as a card photo and becomes a reject (tests/cards).
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * 64)
    proc = kith("import", path, "--db", db_path, check=False)
    assert ("not a vCard, contacts CSV, calendar, mail file, chat export, LinkedIn export or "
            "card photo") \
        in proc.stdout
    assert proc.returncode == 1


def test_a_vcf_that_is_not_a_vcard_lands_in_rejects(kith, db_path, tmp_path):
    path = tmp_path / "cards.vcf"
    path.write_bytes(b"\x00\x01PK\x03\x04 this is a zip pretending" * 10)
    kith("import", path, "--db", db_path, check=False)
    reasons = query(db_path, "select reason from rejects")
    assert len(reasons) == 1 and reasons[0][0]


def test_unmappable_csv_is_refused_listing_its_headers(kith, db_path, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Kundennummer,Umsatz,Region\n4711,1200,Nord\n")
    proc = kith("import", path, "--db", db_path, check=False)
    assert "Kundennummer" in proc.stdout and "Umsatz" in proc.stdout
    assert query(db_path, "select status from loads") == [("refused",)]


def test_missing_path_is_a_clear_error(kith, db_path, tmp_path):
    proc = kith("import", tmp_path / "nope.vcf", "--db", db_path, check=False)
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_one_bad_file_does_not_stop_the_others(kith, db_path, tmp_path):
    shutil.copy(CARDS / "camcard-scan.csv", tmp_path / "good.csv")
    (tmp_path / "bad.csv").write_text("Kundennummer,Umsatz\n1,2\n")
    proc = kith("import", tmp_path, "--db", db_path, check=False)
    assert proc.returncode == 1                      # something was refused
    assert query(db_path, "select count(*) from contacts")[0][0] == 3
    assert query(db_path, "select source_uri like '%/bad.csv', status from loads "
                          "order by source_uri") == [(True, "refused"), (False, "completed")]


# Peak memory is VmHWM, this process image's own high-water mark: ru_maxrss keeps the parent's
# across fork + exec, so it would count pytest's memory, which grows over the suite.
FIFTY_MB_IMPORT = """
import re, sys
from kith.flows.importing import run_import
summary = run_import([sys.argv[1]], db=sys.argv[2], region="US")
with open("/proc/self/status") as f:
    peak_kb = int(re.search(r"VmHWM:\\s+(\\d+) kB", f.read()).group(1))
print(summary.total("n_read"), summary.total("n_inserted"), peak_kb // 1024)
"""


def test_a_50_mb_file_imports_with_bounded_memory_and_its_oversized_card_rejected(db_path,
                                                                                  tmp_path):
    path = tmp_path / "big.vcf"
    photo = base64.b64encode(os.urandom(38_000_000)).decode()
    folded = "\r\n ".join(photo[i:i + 74] for i in range(0, len(photo), 74))
    with open(path, "w", newline="") as f:
        f.write(vcard("before", "Ann Lee", "CEO", "2026-01-01T00:00:00Z"))
        f.write(f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Big Photo\r\nEMAIL:big@photo.example\r\n"
                f"PHOTO;ENCODING=b;TYPE=JPEG:{folded}\r\nEND:VCARD\r\n")
        f.write(vcard("after", "Bo Chen", "CTO", "2026-01-01T00:00:00Z"))
    assert path.stat().st_size > 50_000_000
    out = subprocess.run([sys.executable, "-c", FIFTY_MB_IMPORT, str(path), str(db_path)],
                         capture_output=True, text=True, cwd=PROJECT_ROOT, check=True,
                         env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}).stdout
    n_read, n_inserted, peak_mb = map(int, out.split())
    assert (n_read, n_inserted) == (3, 2)
    assert peak_mb < 600
    assert query(db_path, "select full_name from raw_contacts order by position") == [
        ("Ann Lee",), ("Bo Chen",)]
    assert query(db_path, "select reason, length(raw_text) < 10000 from rejects") == [
        ("card is larger than 16 MB", True)]


def test_a_linkedin_export_zip_imports_and_names_the_files_it_did_not_read(kith, db_path,
                                                                           tmp_path):
    import zipfile
    fixtures = PROJECT_ROOT / "tests" / "fixtures" / "linkedin"
    export = tmp_path / "Basic_LinkedInDataExport_11-25-2026.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.write(fixtures / "connections-2018-us-dates.csv", "Connections.csv")
        archive.write(fixtures / "messages-2023.csv", "messages.csv")
        archive.writestr("Profile.csv", "First Name,Last Name\nAlex,Morgan\n")
    out = kith("import", export, "--db", db_path).stdout
    assert "not read (kith has no reader for them): Profile.csv" in out
    assert query(db_path, "select count(*) > 0 from raw_contacts "
                          "where source_format = 'linkedin-connection'") == [(True,)]
    assert query(db_path, "select count(*) > 0 from raw_social_messages") == [(True,)]


def test_a_card_import_says_which_cards_are_people_already_known_and_which_are_new(
        kith, db_path, tmp_path):
    """Jane is in the warehouse by her address before the stack: her card merges into her;
    Ravi is new. A new version of Ravi's card is someone already known, not a new person."""
    first = tmp_path / "address-book.vcf"
    first.write_text(vcard("jane-1", "Jane Doe", "Engineer", "2026-01-01T00:00:00Z"))
    kith("import", first, "--db", db_path)
    stack = tmp_path / "stack.vcf"
    stack.write_text(vcard("jane-card", "Jane Doe", "Engineer", "2026-02-01T00:00:00Z")
                     + vcard("ravi-card", "Ravi Raman", "Buyer", "2026-02-01T00:00:00Z"))
    out = kith("import", stack, "--tag", "mixer", "--db", db_path).stdout
    assert ("The new and changed cards are 2 people: 1 you already had (merged), 1 new."
            in out)
    stack.write_text(vcard("ravi-card", "Ravi Raman", "Head buyer", "2026-03-01T00:00:00Z"))
    out = kith("import", stack, "--tag", "mixer", "--db", db_path).stdout
    assert ("The new and changed cards are 1 person: 1 you already had (merged), 0 new."
            in out)
