"""The shared corpus's real chat exports, imported the way `kith import` does: every file is
read without a crash, every message loads or is rejected with a reason, and again adds nothing."""

from pathlib import Path

import pytest

from kith.flows.importing import run_import
from tests.conftest import CORPUS

# file -> (kind, read, new, rejected). Slack is not a chat kith reads (skipped with a reason);
# the Signal text shares WhatsApp iOS's layout and is read as one (noted in the report).
EXPECTED = {
    "facebook/chat-miner__instagram__testlog.json": ("messenger", 13, 13, 0),
    "facebook/langchain-community__facebook_chat.json": ("messenger", 11, 11, 0),
    "imessage/langchain-community__imessage_chat.db": ("imessage", 23, 23, 0),
    "signal/chat-miner__signal__test_export.txt": ("whatsapp", 2, 2, 0),
    "slack/langchain-community__slack_export.zip": (None, 0, 0, 0),    # refused: no reader
    "telegram/chat-miner__test_batch_export.json": ("telegram", 2, 2, 0),
    "telegram/langchain-community__telegram_chat_json__result.json": ("telegram", 4, 4, 0),
    "telegram/telegram-chat-parser__saved.json": ("telegram", 21, 21, 0),
    "twitter/Twitter-Archive-Browser__group_dms_test.js": ("x", 9, 9, 0),
    # one message id three times: stored once
    "twitter/Twitter-Archive-Browser__individual_dms_test.js": ("x", 6, 4, 0),
    "whatsapp/chat-miner__test_ddmmyy_24hrs.txt": ("whatsapp", 9, 9, 0),
    "whatsapp/chat-miner__test_mmddyy_brackets_24hrs.txt": ("whatsapp", 9, 9, 0),
    "whatsapp/chat-miner__test_unicode.txt": ("whatsapp", 3, 3, 0),
    "whatsapp/langchain-community__chat_loaders__whatsapp_chat.txt": ("whatsapp", 12, 12, 0),
    "whatsapp/langchain-community__examples__whatsapp_chat.txt": ("whatsapp", 10, 9, 1),
    "whatsapp/whatsapp-chat-parser__short-chat.txt": ("whatsapp", 5, 5, 0),
    "whatsapp/whatsapp-to-sqlite__WhatsApp_Chat_mit_Jane_Doe.txt": ("whatsapp", 8, 8, 0),
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    # module scope: import once for all three tests (the `corpus` fixture is per test)
    root = CORPUS / "messaging"
    if not root.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    db = tmp_path_factory.mktemp("chats") / "kith.duckdb"
    first = run_import([root], db=db, region="US")
    again = run_import([root], db=db, region="US")
    return root, first, again


def outcome(root: Path, f) -> tuple:
    r = f.result
    return (f.kind, r.n_read if r else None, r.n_new if r else None,
            r.n_rejected if r else None)


def test_every_chat_export_imports(imported):
    root, first, _ = imported
    got = {f.path.relative_to(root).as_posix(): outcome(root, f) for f in first.files}
    assert {k: v for k, v in got.items() if k in EXPECTED} == EXPECTED


def test_nothing_fails_but_what_is_not_a_chat(imported):
    root, first, _ = imported
    assert [f.path.relative_to(root).as_posix() for f in first.failed] == [
        "slack/langchain-community__slack_export.zip"]


def test_importing_again_adds_nothing(imported):
    _, first, again = imported
    assert again.total("n_new") == 0
    assert again.total("n_already_present") == first.total("n_read") - first.total("n_rejected")
