"""Facebook friends, Instagram followers / following and X follower lists: one fixture each,
and what they become in the warehouse."""

from datetime import date
from pathlib import Path

import pytest

from kith.connectors.detect import SOCIAL_LISTS, detect
from kith.connectors.social_lists import NotSocialList, read_social_list
from kith.flows.importing import run_import
from kith.records import ContactCard, Rejected
from kith.warehouse.connection import connect

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "social-lists"
CHATS = Path(__file__).resolve().parents[1] / "fixtures" / "chats"


def cards(name: str) -> list[tuple]:
    return [(c.source_format, c.full_name, c.nicknames, [l.value for l in c.links],
             c.connected_on) for c in read_social_list(FIXTURES / name)
            if isinstance(c, ContactCard)]


def rejected(name: str) -> list[tuple]:
    return [(r.position, r.reason) for r in read_social_list(FIXTURES / name)
            if isinstance(r, Rejected)]


@pytest.mark.parametrize("name", ["your_friends.json", "followers_1.json", "following.json",
                                  "follower.js"])
def test_detected_by_content(name):
    assert detect(FIXTURES / name) is SOCIAL_LISTS


def test_facebook_friends_with_names_repaired():
    assert cards("your_friends.json") == [
        ("facebook-friend", "Zoë Ångström", [], [], date(2020, 9, 13)),
        ("facebook-friend", "Bea Fischer", [], [], date(2017, 7, 14))]
    assert rejected("your_friends.json") == [(3, "Facebook friend without a name")]


def test_instagram_followers_and_following():
    assert cards("followers_1.json") == [
        ("instagram-follower", None, ["zoe.a"], ["https://instagram.com/zoe.a"],
         date(2022, 4, 15))]
    assert rejected("followers_1.json") == [(2, "Instagram entry without an account name")]
    assert cards("following.json") == [
        ("instagram-following", None, ["bea_f"], ["https://instagram.com/bea_f"],
         date(2022, 8, 8))]


def test_x_followers_are_known_by_account_id():
    assert cards("follower.js") == [("x-follower", None, [], ["x:222"], None)]
    assert rejected("follower.js") == [(2, "X follower entry without an accountId")]


def test_other_json_is_refused(tmp_path):
    path = tmp_path / "friends.json"
    path.write_text('{"friends_v2": [')
    with pytest.raises(NotSocialList, match="is not complete JSON"):
        list(read_social_list(path))


def test_lists_sit_beside_linkedin_and_link_to_chats(tmp_path, db_path):
    # An X follower is the person of the same id in X direct messages.
    run_import([FIXTURES / "follower.js", FIXTURES / "your_friends.json",
                CHATS / "x" / "direct-message-headers.js"], db=db_path)
    con = connect(db_path)
    try:
        people = con.execute("""select display_name, lists, record_kinds from people
                                where list_contains(profiles, 'x:222')""").fetchall()
        summary = con.execute("""select list_name, n_people, summary from network_summary
                                 where kind = 'list' order by position, list_name""").fetchall()
        book = con.execute("select count(*) from people where in_address_book").fetchone()
    finally:
        con.close()
    assert people == [("x:222", ["X"], ["card", "chat"])]
    assert [s[:2] for s in summary] == [("Facebook", 2), ("X", 1)]
    assert summary[1][2].startswith("X: 1 friends or followers, 1 with two-way contact")
    assert book == (0,)
