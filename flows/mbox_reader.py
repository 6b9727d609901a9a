"""Reading a big mbox in child processes while this one loads what they have read.

Parsing header blocks is single-threaded Python and loading is DuckDB: run one after the other,
the other cores idle. Here the file is cut at message boundaries into ranges of about
RANGE_BYTES, which PARSERS child processes read in turn (with two, the first reads ranges 0, 2,
4..., the second 1, 3, 5...). Each builds Arrow message batches and hands them over its own
bounded queue (so a fast reader cannot pile batches up in memory); this process takes the
ranges back in file order, so that what it yields is what `read_mail` yields, resume points
included, and loads them.

A child does not know the line its range starts on (that would take reading every range before
it), so it numbers lines from its range's start and says how many lines the range held; this
process adds the lines of the ranges before it.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from kith.records import FolderState, MailMessage, Rejected

BATCH_MESSAGES = 5_000
_QUEUED = 6            # lists of batches waiting in each child's queue at most
# Ranges are small enough that each child's queue holds a whole one (so both children work
# while this process loads the range before theirs) and large enough that finding a boundary
# and starting a range cost nothing beside parsing it.
RANGE_BYTES = 32 << 20
PARSERS = max(2, min(4, os.cpu_count() or 2))


class _Failed:
    """What a child sends instead of its traceback when reading fails."""

    def __init__(self, text: str):
        self.text = text


@dataclass
class _Messages:
    """A batch of messages (MESSAGE_SCHEMA) and the file offset of each one's From_ line."""
    batch: pa.RecordBatch
    offsets: list[int]


@dataclass
class _RangeEnd:
    """The last item of a range: how many lines it held."""
    n_lines: int


def read_mbox_batches(path: Path, *, include_subject: bool, resume_points: int,
                      resume: dict | None) -> Iterator[pa.RecordBatch | Rejected | FolderState]:
    """What `read_mail(path, ...)` yields, in order, with runs of messages as Arrow batches
    (`warehouse.loader.MESSAGE_SCHEMA`), read in child processes. Raises OSError when the file
    cannot be read or a child dies."""
    from kith.connectors.mail import finished_state, mbox_resume_point, read_mail

    start = mbox_resume_point(path, resume)
    if start is None:          # not read as an mbox after all: read_mail says what it is
        yield from read_mail(path, include_subject=include_subject,
                             resume_points=resume_points, resume=resume)
        return
    offset, line, digest = start
    n_ranges = max(1, -(-(path.stat().st_size - offset) // RANGE_BYTES))
    n_children = min(PARSERS, n_ranges)
    context = multiprocessing.get_context("spawn")   # fork would copy DuckDB's threads mid-lock
    queues = [context.Queue(maxsize=_QUEUED) for _ in range(n_children)]
    children = [context.Process(target=_read_in_child, daemon=True,
                                args=(str(path), include_subject, offset, RANGE_BYTES, n_ranges,
                                      i, n_children, queues[i], os.getpid()))
                for i in range(n_children)]
    for child in children:
        child.start()
    try:
        points = _ResumePoints(path, digest, resume_points)
        lines_before = line - 1         # lines of the file before the range being taken
        for k in range(n_ranges):
            while True:
                items = _receive(queues[k % n_children], children[k % n_children], path)
                for item in items:
                    if isinstance(item, _Messages):
                        yield from points.messages(item, lines_before)
                    elif isinstance(item, _RangeEnd):
                        lines_before += item.n_lines
                    else:
                        yield from points.reject(*item, lines_before)
                if isinstance(items[-1], _RangeEnd):
                    break
        if resume_points:
            yield finished_state(path, digest)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.join()
        for handover in queues:
            handover.close()


def _receive(handover, child, path: Path) -> list:
    while True:
        try:
            items = handover.get(timeout=1)
        except queue.Empty:
            if not child.is_alive():
                raise OSError(f"{path}: the mail reader process stopped "
                              f"(exit code {child.exitcode})") from None
            continue
        if isinstance(items, _Failed):
            raise OSError(items.text)
        return items


class _ResumePoints:
    """Puts a resume point before every `every`-th message or reject of the read, as
    `read_mail(..., resume_points=every)` does, and makes positions lines of the file."""

    def __init__(self, path: Path, digest: str, every: int):
        self.path, self.digest, self.every = path, digest, every
        self.n = 0            # messages and rejects yielded

    def messages(self, part: _Messages, lines_before: int
                 ) -> Iterator[pa.RecordBatch | FolderState]:
        batch = part.batch
        if lines_before:
            column = batch.schema.get_field_index("position")
            batch = batch.set_column(column, "position",
                                     pc.add(batch.column(column), lines_before))
        cut = 0
        if self.every:
            positions = batch.column("position")
            first = -self.n % self.every or (0 if self.n else self.every)
            for i in range(first, batch.num_rows, self.every):
                if i > cut:
                    yield batch.slice(cut, i - cut)
                yield self._point(part.offsets[i], positions[i].as_py())
                cut = i
        yield batch.slice(cut) if cut else batch
        self.n += batch.num_rows

    def reject(self, offset: int, reject: Rejected, lines_before: int
               ) -> Iterator[Rejected | FolderState]:
        reject.position += lines_before
        if self.every and self.n and self.n % self.every == 0:
            yield self._point(offset, reject.position)
        self.n += 1
        yield reject

    def _point(self, offset: int, line: int) -> FolderState:
        from kith.connectors.mail import resume_state
        return resume_state(self.path, self.digest, offset, line)


def _read_in_child(path: str, include_subject: bool, offset: int, range_bytes: int,
                   n_ranges: int, first: int, step: int, handover, parent: int) -> None:
    """Read ranges first, first + step, ... of the file and send their items."""
    from kith.connectors.mail import MboxRange, message_start_after
    from kith.warehouse.loader import message_batch

    # Records hold no reference cycles, so reference counting frees them; the cycle collector
    # only rescans the batches in hand, which cost a third of the time of building them.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)

    def exit_if_orphaned() -> None:
        if os.getppid() != parent:
            # The importer was killed. Exit at once: a normal exit would wait for the queue's
            # feeder thread, blocked for ever on a pipe nobody reads.
            handover.cancel_join_thread()
            os._exit(1)

    def send(items) -> None:
        while True:
            exit_if_orphaned()
            try:
                handover.put(items, timeout=1)
                return
            except queue.Full:
                continue

    file = Path(path)
    try:
        with open(file, "rb") as f:
            size = os.fstat(f.fileno()).st_size

            found = (-1, -1)    # (point, the first message start at or after it)

            def start(k: int) -> int:
                nonlocal found
                if k == 0:
                    return offset
                if k >= n_ranges:
                    return size
                point = offset + k * range_bytes
                # No message starts between a point and the start found from it: a message
                # longer than a range is scanned once, not once for each point inside it.
                if not found[0] <= point <= found[1]:
                    found = (point, message_start_after(f, point))
                return found[1]

            for k in range(first, n_ranges, step):
                messages = _read_range(MboxRange(file, start(k), start(k + 1), include_subject),
                                       send, message_batch)
                send(messages)
    except OSError as exc:
        send(_Failed(f"cannot read {path}: {exc.strerror or exc}"))
    # Wait for the importer to end this process once it has taken everything (or to die):
    # exiting now would wait for the queue's feeder thread, and that for ever if the importer
    # is killed before it reads the last items.
    while True:
        exit_if_orphaned()
        time.sleep(0.2)


def _read_range(records: "MboxRange", send, message_batch) -> list:
    """Send a range's items in lists; return the last list, ending with its _RangeEnd."""
    items: list = []
    messages: list[MailMessage] = []
    offsets: list[int] = []
    for at, record in records:
        if isinstance(record, MailMessage):
            messages.append(record)
            offsets.append(at)
            if len(messages) >= BATCH_MESSAGES:
                send(items + [_Messages(message_batch(messages), offsets)])
                items, messages, offsets = [], [], []
            continue
        if messages:
            items.append(_Messages(message_batch(messages), offsets))
            messages, offsets = [], []
        items.append((at, record))
        if len(items) >= BATCH_MESSAGES:
            send(items)
            items = []
    if messages:
        items.append(_Messages(message_batch(messages), offsets))
    items.append(_RangeEnd(records.n_lines))
    return items
