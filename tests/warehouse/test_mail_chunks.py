"""An mbox loads in committed chunks, each with the point where the rest of the file starts."""

import json
from pathlib import Path

import pytest

from kith.connectors.mail import read_mail
from kith.flows import importing
from kith.records import FolderState, MailMessage
from kith.warehouse.connection import connect

DEMO = Path(__file__).resolve().parents[2] / "examples" / "mail" / "demo.mbox"   # 7 messages


@pytest.fixture
def con(db_path, monkeypatch):
    monkeypatch.setattr(importing, "MBOX_CHUNK", 3)
    con = connect(db_path)
    yield con
    con.close()


def failing_after(n_records: int):
    """importing._read, but reading fails after n_records records, as a full disk would."""
    real = importing._read

    def read(*args):
        for i, record in enumerate(real(*args)):
            if i == n_records:
                raise OSError(28, "No space left on device")
            yield record
    return read


def test_a_failure_keeps_the_committed_chunks_and_marks_the_load_failed(con, monkeypatch):
    monkeypatch.setattr(importing, "_read", failing_after(5))   # 3 messages, a point, 1 more
    outcome = importing.import_file(con, DEMO)
    assert outcome.problem == "cannot read: No space left on device"
    assert con.execute("select count(*) from raw_messages").fetchone() == (3,)
    assert con.execute("select status, n_read, n_inserted, error from loads").fetchall() == [
        ("failed", 3, 3, "OSError: [Errno 28] No space left on device")]
    cursor = json.loads(con.execute("select cursor from sync_state").fetchone()[0])
    assert (cursor["line"], cursor["finished"]) == (32, False)


def test_the_next_import_carries_on_from_the_resume_point(con, monkeypatch):
    monkeypatch.setattr(importing, "_read", failing_after(5))
    importing.import_file(con, DEMO)
    monkeypatch.undo()
    monkeypatch.setattr(importing, "MBOX_CHUNK", 3)
    outcome = importing.import_file(con, DEMO)
    assert (outcome.result.n_read, outcome.result.n_new) == (4, 4)
    keys = {m.record_key for m in read_mail(DEMO) if isinstance(m, MailMessage)}
    assert {k for (k,) in con.execute("select record_key from raw_messages").fetchall()} == keys
    assert con.execute("select count(*) from message_sightings").fetchone() == (7,)
    assert json.loads(con.execute("select cursor from sync_state").fetchone()[0])["finished"]


def test_a_resume_point_from_another_file_is_not_used(tmp_path):
    other = tmp_path / "other.mbox"
    other.write_bytes(DEMO.read_bytes().replace(b"Subject:", b"X-Note: changed\nSubject:", 1))
    point = next(r for r in read_mail(DEMO, resume_points=3) if isinstance(r, FolderState))
    again = [r for r in read_mail(other, resume=point.cursor) if isinstance(r, MailMessage)]
    assert len(again) == 7


def test_a_resume_point_yields_the_rest_of_the_file_exactly():
    records = list(read_mail(DEMO, resume_points=3))
    points = [r for r in records if isinstance(r, FolderState)]
    assert [p.cursor["finished"] for p in points] == [False, False, True]
    rest = list(read_mail(DEMO, resume=points[1].cursor))
    messages = [r for r in records if isinstance(r, MailMessage)]
    assert rest == messages[6:]
    assert rest[0].position == points[1].cursor["line"]
