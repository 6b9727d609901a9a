"""`import_file` is the file boundary: whatever a connector raises refuses that file only."""

import shutil
from pathlib import Path

import pytest

import kith.connectors.vcard as vcard
from kith.flows.importing import import_file, run_import
from kith.warehouse.connection import connect

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def explodes(monkeypatch, tmp_path):
    """vCards named explodes*.vcf raise a ZeroDivisionError after their first card."""
    real = vcard.read_vcards

    def read_vcards(path, default_region=None):
        records = real(path, default_region)
        yield next(records)
        if path.name.startswith("explodes"):
            raise ZeroDivisionError("deep inside a parser")
        yield from records

    monkeypatch.setattr(vcard, "read_vcards", read_vcards)
    for name in ("a-fine.vcf", "explodes.vcf", "z-fine.vcf"):
        shutil.copy(FIXTURES / "vcard" / "google-3.0.vcf", tmp_path / name)
    return tmp_path


def test_an_unexpected_exception_refuses_the_file_and_the_import_goes_on(explodes, db_path,
                                                                          monkeypatch):
    monkeypatch.setenv("KITH_RAISE_ERRORS", "0")
    summary = run_import([explodes], db=db_path)
    assert [(f.path.name, f.ok) for f in summary.files] == [
        ("a-fine.vcf", True), ("explodes.vcf", False), ("z-fine.vcf", True)]
    assert summary.failed[0].problem == ("could not be read (ZeroDivisionError: deep inside a "
                                         "parser); nothing of it was kept")
    assert (summary.failed[0].result.status, summary.failed[0].result.error) == (
        "failed", "ZeroDivisionError: deep inside a parser")


def test_the_views_are_rebuilt_after_a_refused_file(explodes, db_path, monkeypatch):
    monkeypatch.setenv("KITH_RAISE_ERRORS", "0")
    run_import([explodes], db=db_path)
    con = connect(db_path, read_only=True)
    try:
        assert con.execute("select count(*) from identity_builds").fetchone() == (1,)
        assert con.execute("select count(*) from raw_contacts").fetchone() == (1,)
    finally:
        con.close()


def test_with_kith_raise_errors_the_exception_escapes(explodes, db_path):
    con = connect(db_path)            # the suite sets KITH_RAISE_ERRORS=1 (tests/conftest.py)
    try:
        with pytest.raises(ZeroDivisionError):
            import_file(con, explodes / "explodes.vcf")
        assert con.execute("select status from loads").fetchall() == [("failed",)]
    finally:
        con.close()


def test_an_empty_file_is_refused_and_recorded(tmp_path, db_path):
    (tmp_path / "empty.vcf").write_bytes(b"")
    con = connect(db_path)
    try:
        outcome = import_file(con, tmp_path / "empty.vcf")
        assert (outcome.ok, outcome.problem) == (False, "empty file; nothing to import")
        assert con.execute("select source_kind, status, error from loads").fetchall() == [
            ("unknown", "refused", "empty file; nothing to import")]
    finally:
        con.close()
