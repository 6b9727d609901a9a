"""`kith review`, driven as a user drives it: the real program on a pseudo-terminal
(tests/cli/terminal.py), keys pressed one at a time, on a warehouse built from real files: a
LinkedIn export, two vCard files and a mailbox holding three known near-duplicates.

- Ines Okonkwo, a LinkedIn connection, and "Ines Okonkwo-Bello" <ines.ok@gmail.com>, who wrote
  and got an answer: a family name grown longer, an address that does not spell it (priority:
  interactions);
- Robert Okafor on LinkedIn and the card "Bob Okafor" at another employer (priority: LinkedIn);
- Katherine Wu in the phone book and the card "Kate Wu" from a mixer (priority: the rest).
The interactions pair has the lowest match probability of the three: the order is the
priority's, not the score's.
"""

import json
import os
import shutil
import subprocess
import sys
from textwrap import dedent

import duckdb
import pytest

from kith.flows.importing import run_import
from kith.warehouse.connection import connect
from tests.cli.conftest import PROJECT_ROOT, run_kith
from tests.cli.terminal import Terminal

CONNECTIONS = dedent("""\
    Notes:
    "When exporting your connection data, you may notice that some of the email addresses are missing."

    First Name,Last Name,URL,Email Address,Company,Position,Connected On
    Ines,Okonkwo,https://www.linkedin.com/in/ines-okonkwo,,Northwind Traders,Head of Sales,12 Mar 2021
    Robert,Okafor,https://www.linkedin.com/in/bokafor,,Northwind Inc.,Partner,1 Feb 2023
    Grace,Hopper,https://www.linkedin.com/in/grace-hopper,,US Navy,Rear Admiral,02 Jun 2022
    """)

PHONE_BOOK = dedent("""\
    BEGIN:VCARD
    VERSION:3.0
    UID:phone-bob
    FN:Bob Okafor
    N:Okafor;Bob;;;
    ORG:Initech
    TEL;TYPE=CELL:+1 415 555 0142
    END:VCARD
    BEGIN:VCARD
    VERSION:3.0
    UID:phone-katherine
    FN:Katherine Wu
    N:Wu;Katherine;;;
    TITLE:Engineer
    TEL;TYPE=CELL:+1 415 555 0177
    END:VCARD
    """)

MIXER = dedent("""\
    BEGIN:VCARD
    VERSION:3.0
    UID:mixer-kate
    FN:Kate Wu
    N:Wu;Kate;;;
    ORG:Globex
    EMAIL;TYPE=WORK:kate.wu@globex.example
    END:VCARD
    """)

MBOX = dedent("""\
    From ines.ok@gmail.com Mon Nov  2 10:00:00 2026
    From: Ines Okonkwo-Bello <ines.ok@gmail.com>
    To: Alex Morgan <alex@morgan.example>
    Date: Mon, 02 Nov 2026 10:00:00 +0000
    Message-ID: <m1@gmail.com>

    hi

    From alex@morgan.example Mon Nov  2 11:00:00 2026
    From: Alex Morgan <alex@morgan.example>
    To: Ines Okonkwo-Bello <ines.ok@gmail.com>
    Date: Mon, 02 Nov 2026 11:00:00 +0000
    Message-ID: <m2@morgan.example>
    In-Reply-To: <m1@gmail.com>

    hello

    """)

INES = ("card:uid:https://linkedin.com/in/ines-okonkwo", "email:ines.ok@gmail.com")
OKAFOR = ("card:uid:https://linkedin.com/in/bokafor", "card:uid:phone-bob")
WU = ("card:uid:phone-katherine", "card:uid:mixer-kate")
LEGEND = r"u undo · q quit · \? help\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The warehouse, built once from the files; each test gets a copy."""
    folder = tmp_path_factory.mktemp("review-world")
    (folder / "linkedin").mkdir()
    (folder / "linkedin" / "Connections.csv").write_text(CONNECTIONS, encoding="utf-8")
    (folder / "phone.vcf").write_text(PHONE_BOOK, encoding="utf-8")
    (folder / "mixer.vcf").write_text(MIXER, encoding="utf-8")
    (folder / "mail.mbox").write_text(MBOX, encoding="utf-8")
    db = folder / "kith.duckdb"
    con = connect(db)
    con.execute("insert into owner_addresses values ('alex@morgan.example', now())")
    con.close()
    run_import([folder / "linkedin", folder / "phone.vcf", folder / "mail.mbox"], db=db)
    run_import([folder / "mixer.vcf"], db=db, tag="Mixer 2026-11-20")
    return db


@pytest.fixture
def db(built, tmp_path):
    path = tmp_path / "kith.duckdb"
    shutil.copyfile(built, path)
    return path


def query(db, sql, params=None):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def person_of(db, record_key):
    return query(db, "select person_id from person_ids where record_key = ?", [record_key])[0][0]


def pairs(db):
    """The waiting pairs in review order, as the record keys they were found by."""
    rows = json.loads(run_kith("review", "--list", "--format", "json", "--db", db).stdout)
    return [frozenset((r["record_a"], r["record_b"])) for r in rows]


def rules(db):
    return sorted((d, frozenset((a, b))) for d, a, b in query(
        db, "select decision, record_a, record_b from identity_rules"))


def n_builds(db):
    return query(db, "select count(*) from identity_builds")[0][0]


@pytest.fixture
def review(db):
    """Start `kith review` on the copy; the terminals are closed at the end of the test."""
    started = []

    def start(*args):
        terminal = Terminal("review", *args, "--db", db)
        started.append(terminal)
        return terminal
    yield start
    for terminal in started:
        terminal.close()


def test_the_warehouse_holds_the_three_known_pairs_in_priority_order(db):
    assert pairs(db) == [frozenset(INES), frozenset(OKAFOR), frozenset(WU)]
    rows = query(db, "select priority, score from candidates_to_review order by review_rank")
    assert [p for p, _ in rows] == ["interactions", "linkedin", "other"]
    # ranked by what the decision changes, not by the score
    assert rows[0][1] < rows[2][1]


def test_each_pair_of_people_waits_once_by_its_best_records(db):
    """merge_candidates may name a pair of people twice (by other records, either way round)."""
    con = connect(db)
    (a, b, record_a, record_b, score, evidence), = con.execute(
        "select * from merge_candidates where record_b = ?", [OKAFOR[1]]).fetchall()
    con.execute("insert into merge_candidates values (?, ?, 'x:other-b', 'x:other-a', ?, 'less')",
                [b, a, score - 1])
    con.execute("insert into merge_candidates values (?, ?, ?, ?, ?, 'itself')",
                [a, a, record_a, record_a, score + 1])
    con.close()
    assert pairs(db) == [frozenset(INES), frozenset(OKAFOR), frozenset(WU)]
    assert query(db, "select person_a < person_b, evidence from candidates_to_review "
                     "where record_b = ? or record_a = ?", [OKAFOR[1], OKAFOR[1]]) \
        == [(True, evidence)]


def test_merge_keep_apart_skip_in_a_terminal_then_one_rebuild(db, review):
    builds = n_builds(db)
    ines, ines_mail = person_of(db, INES[0]), person_of(db, INES[1])
    term = review()
    first = term.expect(LEGEND)
    assert "3 pairs of people may be one person" in first
    assert "1 of 3" in first and "you have interactions with one of them" in first
    for shown in ("Ines Okonkwo", "ines.ok@gmail.com", "Northwind Traders", "Connections.csv",
                  "mail", "2, last 2026-11-02 (email)", "yes, connected 2021-03-12", INES[0],
                  "Evidence: match probability 0.333"):
        assert shown in first, shown
    term.press("y")
    second = term.expect(LEGEND)
    assert f"{min(ines, ines_mail)} and {max(ines, ines_mail)} merged" in second
    assert "2 of 3 · a LinkedIn connection" in second
    assert "Robert Okafor" in second and "Bob Okafor" in second and "Initech" in second
    term.press("n")
    third = term.expect(LEGEND)
    assert "kept apart: this pair is not proposed again" in third
    assert "3 of 3" in third and "Katherine Wu" in third and "Kate Wu" in third
    term.press("s")
    term.expect("any other key finishes")
    term.press("\n")
    assert term.expect(r"still waiting\.") .endswith(
        "1 merged, 1 kept apart, 1 skipped; 1 still waiting.")
    assert term.wait() == 0

    # identity_rules as kith merge and kith split write them: one pair for the merge, every
    # record of one person against every record of the other for keeping apart
    assert rules(db) == [("merge", frozenset(INES)), ("split", frozenset(OKAFOR))]
    assert n_builds(db) == builds + 1                       # rebuilt once, at the end
    assert person_of(db, INES[0]) == person_of(db, INES[1])
    assert person_of(db, OKAFOR[0]) != person_of(db, OKAFOR[1])
    assert query(db, "select lists from people where person_id = ?",
                 [person_of(db, INES[1])])[0][0] == ["LinkedIn"]
    assert pairs(db) == [frozenset(WU)]                     # the kept-apart pair is gone

    # the decisions survive a full rebuild, and the next session offers the skipped pair only
    before = rules(db)
    proc = run_kith("rebuild", "--db", db)
    assert "1 merge candidates waiting for review" in proc.stdout
    assert rules(db) == before
    assert person_of(db, INES[0]) == person_of(db, INES[1])
    assert person_of(db, OKAFOR[0]) != person_of(db, OKAFOR[1])
    assert pairs(db) == [frozenset(WU)]
    again = review()
    text = again.expect(LEGEND)
    assert "1 of 1" in text and "Kate Wu" in text and "Okafor" not in text
    again.press("q")
    assert again.expect(r"still waiting\.").endswith(
        "0 merged, 0 kept apart, 0 skipped; 1 still waiting.")
    assert again.wait() == 0
    assert n_builds(db) == builds + 2                       # the rebuild; nothing decided after


def test_each_decision_is_stored_at_once_and_the_views_wait_for_the_end(db, review):
    builds = n_builds(db)
    term = review()
    term.expect(LEGEND)
    term.press("n")
    term.expect(LEGEND)
    # the session holds no lock between keys: another reader sees the decision, stored, and
    # the people not yet rebuilt
    assert rules(db) == [("split", frozenset(INES))]
    assert n_builds(db) == builds
    term.press("q")
    assert term.expect(r"still waiting\.").endswith(
        "0 merged, 1 kept apart, 0 skipped; 2 still waiting.")
    assert term.wait() == 0
    assert n_builds(db) == builds + 1
    assert person_of(db, INES[0]) != person_of(db, INES[1])
    assert pairs(db) == [frozenset(OKAFOR), frozenset(WU)]


def test_undo_takes_back_the_last_step_also_after_the_last_pair(db, review):
    term = review()
    term.expect(LEGEND)
    term.press("y")
    term.expect(LEGEND)
    term.press("u")
    text = term.expect(LEGEND)
    assert "merge undone; back to 1 of 3" in text and "1 of 3" in text
    assert rules(db) == []
    term.press("n")                                         # Ines: kept apart after all
    term.expect(LEGEND)
    term.press("y")                                         # Okafor: merged
    term.expect(LEGEND)
    term.press("y")                                         # Wu: merged ...
    term.expect("any other key finishes")
    assert rules(db) == sorted([("split", frozenset(INES)), ("merge", frozenset(OKAFOR)),
                                ("merge", frozenset(WU))])
    term.press("u")                                         # ... no: back to Wu, and skip it
    text = term.expect(LEGEND)
    assert "merge undone; back to 3 of 3" in text and "Kate Wu" in text
    term.press("s")
    term.expect("any other key finishes")
    term.press("x")
    assert term.expect(r"still waiting\.").endswith(
        "1 merged, 1 kept apart, 1 skipped; 1 still waiting.")
    assert term.wait() == 0
    assert rules(db) == sorted([("split", frozenset(INES)), ("merge", frozenset(OKAFOR))])
    assert person_of(db, OKAFOR[0]) == person_of(db, OKAFOR[1])
    assert person_of(db, INES[0]) != person_of(db, INES[1])
    assert pairs(db) == [frozenset(WU)]


def test_a_pair_decided_with_kith_merge_and_split_is_not_offered(db, review):
    run_kith("merge", person_of(db, WU[0]), person_of(db, WU[1]), "--db", db)
    assert pairs(db) == [frozenset(INES), frozenset(OKAFOR)]     # one person now
    run_kith("split", person_of(db, WU[0]), WU[1], "--db", db)  # a split replaces the merge
    assert rules(db) == [("split", frozenset(WU))]
    assert person_of(db, WU[0]) != person_of(db, WU[1])     # applied, though it took the
    # place of the latest rule
    # the resolver proposes the pair again; the review knows it is decided
    assert query(db, "select count(*) from merge_candidates where ? in (record_a, record_b)",
                 [WU[1]]) == [(1,)]
    assert pairs(db) == [frozenset(INES), frozenset(OKAFOR)]
    term = review()
    assert "1 of 2" in term.expect(LEGEND)
    term.press("s")
    term.expect(LEGEND)
    term.press("q")
    assert term.expect(r"still waiting\.").endswith(
        "0 merged, 0 kept apart, 1 skipped; 2 still waiting.")
    assert term.wait() == 0
    assert rules(db) == [("split", frozenset(WU))]


def test_ctrl_c_keeps_the_decisions_made_and_leaves_the_rebuild_for_later(db, review):
    builds = n_builds(db)
    term = review()
    term.expect(LEGEND)
    term.press("y")
    term.expect(LEGEND)
    term.press("\x03")
    text = term.expect(r"kith rebuild \(or import, sync\)\.", timeout=240)
    assert ("interrupted (Ctrl-C) while reviewing: the 1 decision made so far is stored and "
            "takes effect at the next kith rebuild") in " ".join(text.split())
    assert term.wait() == 130
    assert rules(db) == [("merge", frozenset(INES))]
    assert n_builds(db) == builds
    run_kith("rebuild", "--db", db)
    assert person_of(db, INES[0]) == person_of(db, INES[1])


def test_ctrl_d_quits_like_q(db, review):
    term = review()
    term.expect(LEGEND)
    term.press("n")
    term.expect(LEGEND)
    term.press("\x04")
    assert term.expect(r"still waiting\.").endswith(
        "0 merged, 1 kept apart, 0 skipped; 2 still waiting.")
    assert term.wait() == 0


def test_other_keys_get_a_hint_and_change_nothing(db, review):
    term = review()
    term.expect(LEGEND)
    term.press("\x1b[B")                                    # an arrow key
    term.expect(r"Press y, n, s, u or q \(\? for help\)\.")
    term.press("?")
    assert "never proposed again" in term.expect(r"rebuilt once, at the end\.")
    term.press("u")
    term.expect("Nothing to undo.")
    term.press("q")
    assert term.expect(r"still waiting\.").endswith(
        "0 merged, 0 kept apart, 0 skipped; 3 still waiting.")
    assert term.wait() == 0
    assert rules(db) == []


def test_keys_typed_ahead_are_kept_not_echoed(db, review):
    term = review()
    term.expect(LEGEND)
    term.press("sny")                                       # three pairs in one go
    term.expect("any other key finishes")
    term.press("\n")
    assert term.expect(r"still waiting\.").endswith(
        "1 merged, 1 kept apart, 1 skipped; 1 still waiting.")
    assert term.wait() == 0
    assert rules(db) == sorted([("split", frozenset(OKAFOR)), ("merge", frozenset(WU))])


def test_limit_reviews_the_first_pairs_only(db, review):
    term = review("--limit", "1")
    text = term.expect(LEGEND)
    assert "3 pairs of people may be one person; reviewing the first 1." in text
    assert "1 of 1" in text
    term.press("y")
    term.expect("any other key finishes")
    term.press("\n")
    assert term.expect(r"still waiting\.").endswith(
        "1 merged, 0 kept apart, 0 skipped; 2 still waiting.")
    assert term.wait() == 0


def test_nothing_to_review_says_so_and_exits_0(tmp_path):
    (tmp_path / "linkedin").mkdir()
    (tmp_path / "linkedin" / "Connections.csv").write_text(CONNECTIONS, encoding="utf-8")
    db = tmp_path / "kith.duckdb"
    run_import([tmp_path / "linkedin"], db=db)
    term = Terminal("review", "--db", db)
    try:
        assert "Nothing to review: no pair of people waits for your decision." in term.expect(
            r"decision\.")
        assert term.wait() == 0
    finally:
        term.close()
    proc = run_kith("review", "--list", "--db", db)
    assert proc.stdout.strip() == "Nothing to review: no pair of people waits for your decision."
    assert json.loads(run_kith("review", "--list", "-f", "json", "--db", db).stdout) == []
    assert "wait for your review" not in run_kith("status", "--db", db).stdout


def test_without_a_terminal_it_says_so_in_one_sentence_and_exits_2(db):
    proc = subprocess.run([sys.executable, "-m", "kith.flows.cli", "review", "--db", str(db)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert proc.returncode == 2
    assert proc.stdout == ""
    message = proc.stderr.strip()
    assert "\n" not in message and message.count(". ") == 0 and message.endswith(".")
    assert message.startswith("kith review: needs a terminal") and "kith review --list" in message
    assert rules(db) == []


def test_list_prints_the_ranked_pairs_with_evidence_for_pipes(db):
    proc = run_kith("review", "--list", "--db", db)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("3 pairs of people may be one person")
    ranks = [line.split("│")[1].strip() for line in lines if line.split("│")[0].strip()
             in ("1", "2", "3")]
    assert ranks == ["interactions", "LinkedIn", "-"]
    assert "Ines Okonkwo" in proc.stdout and "nickname" in proc.stdout
    assert lines[-1] == "Decide them one pair at a time: kith review"

    limited = run_kith("review", "--list", "--limit", "2", "--format", "csv", "--db", db)
    rows = limited.stdout.splitlines()
    assert rows[0].startswith("review_rank,priority,person_a,name_a,organisation_a,"
                              "interactions_a,linkedin_a,person_b,name_b")
    assert [r.split(",")[:2] for r in rows[1:]] == [["1", "interactions"], ["2", "linkedin"]]
    full = json.loads(run_kith("review", "--list", "-f", "json", "--db", db).stdout)
    ines = full[0]
    assert {ines["name_a"], ines["name_b"]} == {"Ines Okonkwo", "Ines Okonkwo-Bello"}
    assert sorted([ines["interactions_a"], ines["interactions_b"]]) == [0, 2]
    assert sorted([ines["linkedin_a"], ines["linkedin_b"]]) == [False, True]
    assert ines["evidence"].startswith("match probability 0.333 (")


def test_usage_errors_exit_2(db):
    for args in (("--list", "--format", "xml"), ("--list", "--limit", "-1"),
                 ("--format", "csv")):
        proc = run_kith("review", *args, "--db", db, check=False)
        assert proc.returncode == 2, args


def test_status_and_person_show_what_waits(db):
    status = run_kith("status", "--db", db).stdout
    assert "3 pairs of people may be one person and wait for your review: kith review" in status
    bob = person_of(db, OKAFOR[1])
    assert "may also be person" in run_kith("person", bob, "--db", db).stdout
    con = connect(db)
    con.execute("insert into identity_rules values (1, 'split', ?, ?, now())", list(OKAFOR))
    con.close()
    # a pair kept apart waits no more, even before the rebuild
    assert "may also be person" not in run_kith("person", bob, "--db", db).stdout
    assert "2 pairs of people may be one person" in run_kith("status", "--db", db).stdout
