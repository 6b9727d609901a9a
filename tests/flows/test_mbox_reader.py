"""A big mbox is read in byte ranges by several processes; what comes back is what read_mail
yields reading the file from start to end: the same messages, positions, rejects and resume
points, in the same order."""

from pathlib import Path

import pyarrow as pa
import pytest

from kith.connectors.mail import read_mail
from kith.flows import mbox_reader
from kith.records import FolderState, MailMessage, Rejected
from kith.warehouse.loader import message_batch

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
DEMO = Path(__file__).resolve().parents[2] / "examples" / "mail" / "demo.mbox"
EVERY = 3


def as_rows(records) -> list:
    """Messages as MESSAGE_SCHEMA rows, rejects and resume points as tuples, in order."""
    rows, messages = [], []
    for record in records:
        if isinstance(record, MailMessage):
            messages.append(record)
            continue
        if messages:
            rows += message_batch(messages).to_pylist()
            messages = []
        if isinstance(record, pa.RecordBatch):
            rows += record.to_pylist()
        elif isinstance(record, FolderState):
            rows.append(("point", record.source_uri, record.cursor))
        else:
            assert isinstance(record, Rejected)
            rows.append(("reject", record.position, record.reason, record.raw_text))
    if messages:
        rows += message_batch(messages).to_pylist()
    return rows


def in_ranges(path: Path, resume: dict | None = None) -> list:
    return as_rows(mbox_reader.read_mbox_batches(path, include_subject=True,
                                                 resume_points=EVERY, resume=resume))


def in_one_read(path: Path, resume: dict | None = None) -> list:
    return as_rows(read_mail(path, include_subject=True, resume_points=EVERY, resume=resume))


@pytest.fixture
def mixed_mbox(tmp_path, monkeypatch) -> Path:
    """Mbox files of several styles one after the other (CRLF, mboxrd `>From`, NUL bytes, a
    From_ line with no blank line before it, a header block too long to be one, a message
    cut off at the end), read in ranges of 1000 bytes: ranges start inside headers and bodies,
    and thousands hold no message at all."""
    monkeypatch.setattr(mbox_reader, "RANGE_BYTES", 1000)
    parts = [DEMO.read_bytes(), (FIXTURES / "gmail-takeout-crlf.mbox").read_bytes(),
             (FIXTURES / "mboxrd-escaped-from.mbox").read_bytes(),
             b"From crashed@example.org Tue Mar  4 10:00:00 2025\nFrom: a@example.org\n"
             b"Message-ID: <crashed@example.org>\n\nbody with no blank line after it\n"
             b"From next@example.org Tue Mar  4 10:00:00 2025\nFrom: b@example.org\n"
             b"Message-ID: <after-crash@example.org>\n\nbody\n\n",
             b"From huge@example.org Tue Mar  4 10:00:00 2025\nFrom: c@example.org\n"
             + b"\n".join(
                 b"X-Filler: " + b"x" * 70 for _ in range(120_000)) + b"\n\nbody\n\n",
             (FIXTURES / "nul-bytes.mbox").read_bytes(),
             (FIXTURES / "mixed-line-endings.mbox").read_bytes(),
             (FIXTURES / "truncated.mbox").read_bytes()]
    path = tmp_path / "mixed.mbox"
    path.write_bytes(b"\n".join(part.rstrip(b"\r\n") + b"\n" for part in parts))
    return path


def test_ranges_read_in_several_processes_yield_what_one_read_yields(mixed_mbox):
    expected = in_one_read(mixed_mbox)
    assert any(row[0] == "reject" for row in expected if isinstance(row, tuple))
    assert in_ranges(mixed_mbox) == expected


def test_reading_in_ranges_carries_on_from_a_resume_point_like_one_read(mixed_mbox):
    points = [row[2] for row in in_one_read(mixed_mbox)
              if isinstance(row, tuple) and row[0] == "point"]
    resume = points[2]
    assert in_ranges(mixed_mbox, resume) == in_one_read(mixed_mbox, resume)


def test_a_file_that_is_not_an_mbox_is_read_as_read_mail_reads_it(tmp_path):
    path = tmp_path / "notes.mbox"
    path.write_bytes((FIXTURES / "not-mail.mbox").read_bytes())
    assert in_ranges(path) == in_one_read(path)
