"""Parts of flows/nightly.py that need no Prefect server: the schedule and the retry rule."""

import asyncio
import threading
from datetime import datetime, timezone

import pytest
from prefect.states import Failed

from kith.connectors.caldav import CalDavAuthError, CalDavConnectionError
from kith.connectors.imap import ImapAuthError, ImapConnectionError
from kith.flows.config import load_config
from kith.flows.config import next_runs
from kith.flows.nightly import _worth_retrying
from kith.flows.sync import SourceFailed


def test_next_runs_follow_the_zone_across_a_dst_change(tmp_path):
    path = tmp_path / "kith.toml"
    path.write_text('[owner]\ntimezone = "Europe/Berlin"\n')     # 03:00 in the owner's zone
    runs = next_runs(load_config(path), 2, after=datetime(2026, 3, 28, 12, tzinfo=timezone.utc))
    assert [r.isoformat() for r in runs] == ["2026-03-29T03:00:00+02:00",
                                             "2026-03-30T03:00:00+02:00"]


def failed_with(cause):
    exc = SourceFailed("mail", str(cause))
    exc.__cause__ = cause
    return Failed(data=exc)


@pytest.mark.parametrize("cause", [ImapAuthError("login refused"),
                                   CalDavAuthError("401 Unauthorized")])
def test_a_refused_login_is_not_retried(cause):
    assert _worth_retrying(None, None, failed_with(cause)) is False


def test_a_refused_login_is_not_retried_when_asked_from_async_code():
    # Prefect's State.result gives a coroutine, not the exception, inside a running event loop
    # (asked in a thread of its own: an earlier test may have left a loop running in this one)
    async def ask():
        return _worth_retrying(None, None, failed_with(ImapAuthError("login refused")))
    answers = []
    thread = threading.Thread(target=lambda: answers.append(asyncio.run(ask())))
    thread.start()
    thread.join()
    assert answers == [False]


@pytest.mark.parametrize("cause", [ImapConnectionError("connection refused"),
                                   CalDavConnectionError("503 Service Unavailable")])
def test_a_server_that_cannot_be_reached_is_retried(cause):
    assert _worth_retrying(None, None, failed_with(cause)) is True
