from datetime import datetime, timezone

import pytest

from kith.records import SocialMessage
from kith.transforms.runner import build
from kith.warehouse.connection import connect
from kith.warehouse.loader import load_records

ME = "https://linkedin.com/in/me"
ANN = "https://linkedin.com/in/ann"
BO = "https://linkedin.com/in/bo"


def message(mid, sender, recipients):
    return SocialMessage(position=1, raw_text="", platform="linkedin", conversation_id="c",
                         sender_name=None, sender_profile=sender, recipient_profiles=recipients,
                         sent_at=datetime(2026, 11, 1, tzinfo=timezone.utc), message_id=mid)


@pytest.fixture
def con(db_path):
    con = connect(db_path)
    load_records(con, "linkedin", "file:///messages.csv", [
        message("1", ME, [ANN]), message("2", ANN, [ME]), message("3", BO, [ME]),
        message("4", ME, [ANN, BO])])
    build(con)
    yield con
    con.close()


@pytest.mark.parametrize("mid, direction, others", [
    ("1", "sent", [ANN]), ("2", "received", [ANN]), ("3", "received", [BO]),
    ("4", "sent", [ANN, BO])])
def test_messages_know_their_direction_and_the_other_people(con, mid, direction, others):
    assert con.execute("select direction, other_profiles from stg_social__messages "
                       "where social_message_key = ?", [f"linkedin-msg:{mid}"]).fetchone() == (
        direction, others)
