"""Reading a big mbox in a child process while this one loads what it has read.

Parsing header blocks is single-threaded Python and loading is DuckDB: run one after the other,
the second core idles. Here a child process reads the mbox and builds Arrow message batches,
and hands them over a bounded queue (so a fast reader cannot pile batches up in memory); this
process only loads them.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
from pathlib import Path
from typing import Iterator

import pyarrow as pa

from kith.records import FolderState, MailMessage, Rejected

BATCH_MESSAGES = 5_000
_QUEUED = 6            # lists of batches waiting in the queue at most


class _Failed:
    """What the child sends instead of its traceback when reading fails."""

    def __init__(self, text: str):
        self.text = text


def read_mbox_batches(path: Path, *, include_subject: bool, resume_points: int,
                      resume: dict | None) -> Iterator[pa.RecordBatch | Rejected | FolderState]:
    """What `read_mail(path, ...)` yields, in order, with runs of messages as Arrow batches
    (`warehouse.loader.MESSAGE_SCHEMA`), read in a child process. Raises OSError when the file
    cannot be read or the child dies."""
    context = multiprocessing.get_context("spawn")   # fork would copy DuckDB's threads mid-lock
    handover = context.Queue(maxsize=_QUEUED)
    child = context.Process(target=_read_in_child, daemon=True,
                            args=(str(path), include_subject, resume_points, resume, handover,
                                  os.getpid()))
    child.start()
    try:
        while True:
            try:
                items = handover.get(timeout=1)
            except queue.Empty:
                if not child.is_alive():
                    raise OSError(f"{path}: the mail reader process stopped "
                                  f"(exit code {child.exitcode})") from None
                continue
            if items is None:
                break
            if isinstance(items, _Failed):
                raise OSError(items.text)
            yield from items
    finally:
        child.terminate()
        child.join()
        handover.close()


def _read_in_child(path: str, include_subject: bool, resume_points: int, resume: dict | None,
                   handover, parent: int) -> None:
    from kith.connectors.mail import read_mail
    from kith.warehouse.loader import message_batch

    # Records hold no reference cycles, so reference counting frees them; the cycle collector
    # only rescans the batches in hand, which cost a third of the time of building them.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)

    def send(items) -> None:
        while True:
            if os.getppid() != parent:
                # The importer was killed. Exit at once: a normal exit would wait for the queue's
                # feeder thread, blocked for ever on a pipe nobody reads.
                handover.cancel_join_thread()
                os._exit(1)
            try:
                handover.put(items, timeout=1)
                return
            except queue.Full:
                continue

    try:
        items: list = []
        messages: list[MailMessage] = []
        for record in read_mail(Path(path), include_subject=include_subject,
                                resume_points=resume_points, resume=resume):
            if isinstance(record, MailMessage):
                messages.append(record)
                if len(messages) >= BATCH_MESSAGES:
                    send(items + [message_batch(messages)])
                    items, messages = [], []
                continue
            if messages:
                items.append(message_batch(messages))
                messages = []
            items.append(record)
            if isinstance(record, FolderState) or len(items) >= BATCH_MESSAGES:
                send(items)
                items = []
        if messages:
            items.append(message_batch(messages))
        if items:
            send(items)
        send(None)
    except OSError as exc:
        send(_Failed(f"cannot read {path}: {exc.strerror or exc}"))
