"""`kith report` on a warehouse synced from the demo world, opened in a real headless Chromium:
the page fetches nothing, runs without errors, draws every chart, and shows the views' numbers."""

from datetime import datetime, timezone
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kith.transforms.runner import build
from kith.warehouse.connection import connect
from tests.example_world import load_world

PROJECT_ROOT = Path(__file__).resolve().parents[2]
N_CONNECTIONS = 300


def kith(*args, check=True):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "COLUMNS": "200"}
    env.pop("PREFECT_API_URL", None)
    env.pop("KITH_DB", None)
    proc = subprocess.run([sys.executable, "-m", "kith.flows.cli", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc



@pytest.fixture(scope="module")
def world_db(tmp_path_factory) -> Path:
    summary = load_world().generate(tmp_path_factory.mktemp("world"), seed=7,
                                     n_connections=N_CONNECTIONS)
    kith("sync", "--config", summary.config)
    return summary.out_dir / "world.duckdb"


@pytest.fixture(scope="module")
def written(world_db):
    """(the `kith report` run, the page's path)."""
    proc = kith("report", "--db", world_db)
    return proc, world_db.parent / "kith-report.html"


@pytest.fixture(scope="module")
def report(written) -> Path:
    return written[1]


def query(db: Path, sql: str, params=None) -> list[dict]:
    con = connect(db, read_only=True)
    try:
        cursor = con.execute(sql, params or [])
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]
    finally:
        con.close()


def cells(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def number(text: str) -> int:
    return int(text.replace(",", ""))


# --- the file ---------------------------------------------------------------------------------

def test_report_prints_the_path_and_the_headline(written, world_db):
    proc, path = written
    everyone = query(world_db, "select summary from network_summary where kind = 'everyone'")
    assert f"Wrote {path}" in proc.stdout
    assert everyone[0]["summary"] in proc.stdout


def test_the_page_is_readable_by_its_owner_only(report):
    assert stat.S_IMODE(report.stat().st_mode) == 0o600


def test_the_page_names_nothing_to_fetch(report):
    html = report.read_text(encoding="utf-8")
    addresses = set(re.findall(r"""(?:src|href|action)\s*=\s*["']?([^"'\s>]+)""", html))
    addresses |= set(re.findall(r"url\(([^)]*)\)", html))
    assert addresses == set()
    # The SVG namespaces are names, not addresses: nothing else says http.
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_the_demo_world_page_is_under_2_mb(report):
    assert report.stat().st_size < 2_000_000


# --- in the browser ---------------------------------------------------------------------------

def test_the_page_opens_offline_without_a_request_or_an_error(open_page, report):
    opened = open_page(report)
    assert (opened.requests, opened.errors) == ([], [])


def test_every_chart_has_drawn_marks(open_page, report):
    page = open_page(report).page
    charts = page.locator("figure svg[role=img]")
    assert charts.count() == 5
    marks = page.evaluate("""() => Array.from(document.querySelectorAll('figure svg[role=img]'),
        svg => [svg.getAttribute('aria-label'),
                svg.querySelectorAll('.role-mark path, .role-mark line').length,
                Math.round(svg.getBoundingClientRect().width)])""")
    assert [(label, n > 0, width > 300) for label, n, width in marks] == \
        [(label, True, True) for label, _, _ in marks]


def test_the_list_numbers_are_network_summary(open_page, report, world_db):
    page = open_page(report).page
    expected = query(world_db, """select * from network_summary where kind <> 'warning'
                                  order by position, list_name""")
    columns = ["n_people", "n_with_interaction", "n_two_way", "pct_two_way", "n_inner_circle",
               "n_active"]
    shown = [[r["list_name"], *(page.locator(
        f'#lists tr[data-list="{r["list_name"]}"] td[data-col="{c}"]').inner_text()
        for c in columns)] for r in expected]
    assert shown == [[r["list_name"], *(f"{r[c]:,}" if c != "pct_two_way" else str(r[c])
                                        for c in columns)] for r in expected]
    assert cells(page, "#headline .summary li") == [r["summary"] for r in expected]


def test_the_tier_counts_are_everyones_row(open_page, report, world_db):
    page = open_page(report).page
    everyone = query(world_db, "select * from network_summary where kind = 'everyone'")[0]
    rows = page.locator("#tier-counts tbody tr")
    shown = {rows.nth(i).get_attribute("data-tier"): number(rows.nth(i).locator("td").first
                                                            .inner_text())
             for i in range(rows.count())}
    assert shown == {t: everyone[f"n_{t}"] for t in shown}
    assert len(shown) == 8


def test_the_months_add_up_to_the_interactions_of_the_last_24_months(open_page, report,
                                                                      world_db):
    page = open_page(report).page
    # The table sits in a closed <details>: read its text, not what is drawn.
    rows = page.locator("#month-counts tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.textContent.trim()))")
    first, last = rows[0][0], rows[-1][0]
    expected = query(world_db, """
        select count(distinct source_key) filter (where direction = 'sent') as sent,
               count(distinct source_key) filter (where direction = 'received') as received,
               count(distinct source_key) filter (where channel = 'meeting') as meetings
        from interactions
        where interaction_at >= ?::timestamptz
            and interaction_at < ?::timestamptz + interval 1 month
    """, [first + "-01 00:00:00+00", last + "-01 00:00:00+00"])[0]
    this_month = datetime.now(timezone.utc).strftime("%Y-%m")
    assert last < this_month and first.startswith(str(int(this_month[:4]) - 2))
    assert len(rows) == 24
    assert [sum(number(r[i]) for r in rows) for i in (1, 2, 3)] == \
        [expected["sent"], expected["received"], expected["meetings"]]
    assert expected["sent"] > 0 and expected["meetings"] > 0


def test_reconnect_lists_the_reconnect_view_in_its_order(open_page, report, world_db):
    page = open_page(report).page
    shown = [int(x) for x in page.locator("#reconnect tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.person)")]
    expected = [r["person_id"] for r in query(
        world_db, "select person_id from reconnect order by reconnect_rank limit 200")]
    assert shown == expected and len(expected) > 5
    assert page.locator("#reconnect tbody tr svg.spark polyline").count() == len(expected)


def test_waiting_on_you_is_inbound_only_newest_first(open_page, report, world_db):
    page = open_page(report).page
    shown = [int(x) for x in page.locator("#waiting table.people").first.locator(
        "tbody tr").evaluate_all("rows => rows.map(r => r.dataset.person)")]
    expected = [r["person_id"] for r in query(world_db, """
        select person_id from network where tier = 'inbound_only'
        order by last_small_group_received_at desc nulls last, person_id limit 200""")]
    assert shown == expected and len(expected) > 5


def test_follow_ups_are_the_card_tag_rows_and_who_was_not_followed_up(open_page, report,
                                                                      world_db):
    page = open_page(report).page
    tags = query(world_db, """select list_name, n_people, n_followed_up from network_summary
                              where list_name like 'cards: %' order by list_name""")
    shown = sorted((r.get_attribute("data-list"),
                    number(r.locator('[data-col="n_people"]').inner_text()),
                    number(r.locator('[data-col="n_followed_up"]').inner_text()))
                   for r in page.locator("#follow-up-rates tbody tr").all())
    assert shown == [(t["list_name"], t["n_people"], t["n_followed_up"]) for t in tags]
    assert len(tags) == 2
    for t in tags:
        ids = sorted(int(x) for x in page.locator(
            f'table.not-followed-up[data-list="{t["list_name"]}"] tbody tr').evaluate_all(
            "rows => rows.map(r => r.dataset.person)"))
        expected = sorted(r["person_id"] for r in query(
            world_db, "select person_id from follow_ups where tag = ? and not is_followed_up",
            [t["list_name"].removeprefix("cards: ")]))
        assert (t["list_name"], ids) == (t["list_name"], expected)


def test_merge_candidates_waiting_are_counted(open_page, report, world_db):
    page = open_page(report).page
    n = query(world_db, "select count(*) as n from candidates_to_review")[0]["n"]
    text = page.locator("#merge-candidates").inner_text()
    assert text.startswith(f"{n:,} pair") if n else text.startswith("No merge candidates")


def test_the_search_box_filters_the_people_tables(open_page, report, world_db):
    page = open_page(report).page
    first = query(world_db, "select display_name from reconnect order by reconnect_rank")[0]
    rows = page.locator("table.people tbody tr")
    n_rows = rows.count()
    page.fill("#search", first["display_name"])
    visible = rows.evaluate_all("rows => rows.filter(r => r.getClientRects().length > 0)")
    hits = page.evaluate("""() => Array.from(document.querySelectorAll('table.people tbody tr'))
                                .filter(r => !r.hidden).map(r => r.textContent)""")
    assert hits and all(first["display_name"].lower() in h.lower() for h in hits)
    assert len(hits) < n_rows and len(visible) == len(hits)
    assert page.locator("#search-status").inner_text() == f"{len(hits)} of {n_rows} rows match"
    page.fill("#search", "")
    assert page.evaluate("""() => Array.from(document.querySelectorAll('table.people tbody tr'))
                                .filter(r => r.hidden).length""") == 0


def test_the_page_fits_a_375_px_phone(open_page, report):
    page = open_page(report, width=375).page
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_tier_changes_and_moves_are_the_tier_changes_view(tmp_path, open_page, world_db):
    from kith.transforms.relationships import apply_settings

    db = tmp_path / "changed.duckdb"
    db.write_bytes(world_db.read_bytes())
    con = connect(db)
    apply_settings(con, {"active_days": 30})          # a stricter "active": people move tier
    build(con)
    con.close()
    out = tmp_path / "page.html"
    kith("report", "--db", db, "--out", out)
    page = open_page(out).page
    changes = query(db, "select person_id, previous_tier, tier from tier_changes")
    shown = page.locator("#tier-changes tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.person)")
    assert sorted(map(int, shown)) == sorted(r["person_id"] for r in changes[:200])
    assert len(changes) > 5
    moves = query(db, """select previous_tier, tier, count(*) as n from tier_changes
                         group by all order by n desc, tier, previous_tier""")
    assert cells(page, "#changes li") == [
        f"{m['n']:,} {'person' if m['n'] == 1 else 'people'} moved from {m['previous_tier']} "
        f"to {m['tier']}" for m in moves]


# --- other warehouses -------------------------------------------------------------------------

def test_an_empty_warehouse_gives_a_page_that_says_what_to_import(tmp_path, open_page):
    db = tmp_path / "empty.duckdb"
    con = connect(db)
    build(con)
    con.close()
    out = tmp_path / "page.html"
    proc = kith("report", "--db", db, "--out", out)
    assert "nobody yet" in proc.stdout
    opened = open_page(out)
    assert (opened.requests, opened.errors) == ([], [])
    assert opened.page.locator("#empty h2").inner_text() == "Nobody here yet"
    assert "kith import" in opened.page.locator("#empty").inner_text()


def test_a_missing_warehouse_is_an_error_not_a_page(tmp_path):
    proc = kith("report", "--db", tmp_path / "none.duckdb", check=False)
    assert proc.returncode == 1
    assert "no warehouse at" in proc.stderr
    assert not (tmp_path / "kith-report.html").exists()


HOSTILE_CARD = """BEGIN:VCARD
VERSION:3.0
FN:<script>alert('fn')</script> Mallory
N:Mallory;<img src=x onerror=alert('n')>;;;
ORG:</table><h1>Evil & Co</h1>
EMAIL:mallory@example.org
END:VCARD
"""
HOSTILE_TAG = "<b onmouseover=alert('tag')>mixer</b> 2026-11-20"


def test_names_from_other_peoples_cards_show_as_text(tmp_path, open_page):
    cards = tmp_path / "hostile.vcf"
    cards.write_text(HOSTILE_CARD, encoding="utf-8")
    db = tmp_path / "w.duckdb"
    kith("import", cards, "--tag", HOSTILE_TAG, "--db", db)
    out = tmp_path / "page.html"
    kith("report", "--db", db, "--out", out)
    opened = open_page(out)
    page = opened.page
    assert (opened.requests, opened.errors) == ([], [])
    assert page.evaluate("""() => [document.querySelectorAll('script').length,
        document.querySelectorAll('img, h1').length, document.querySelectorAll('b').length]""") \
        == [1, 1, 0]
    row = page.locator("table.not-followed-up tbody tr").first.inner_text()
    assert "<script>alert('fn')</script> Mallory" in row
    assert "</table><h1>Evil & Co</h1>" in row
    assert f"cards: {HOSTILE_TAG}" in page.locator("#headline .summary").inner_text() or \
        HOSTILE_TAG in page.locator("#headline").inner_text()


def test_a_person_page_shows_records_links_and_the_timeline(tmp_path, open_page, world_db):
    person = query(world_db, "select person_id, display_name from reconnect "
                             "order by reconnect_rank limit 1")[0]
    out = tmp_path / "person.html"
    proc = kith("report", "--person", person["person_id"], "--db", world_db, "--out", out)
    assert person["display_name"] in proc.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    opened = open_page(out)
    page = opened.page
    assert (opened.requests, opened.errors) == ([], [])
    assert page.locator("h1").inner_text() == person["display_name"]
    n_records = query(world_db, "select count(*) as n from person_ids where person_id = ?",
                      [person["person_id"]])[0]["n"]
    assert page.locator("#person-records tbody tr").count() == n_records
    assert page.locator("#relationship figure svg .role-mark path").count() > 0
    months = page.locator("#timeline tbody td.n").evaluate_all(
        "cells => cells.map(c => c.textContent)")
    n_interactions = query(world_db, "select count(*) as n from interactions where person_id = ?",
                           [person["person_id"]])[0]["n"]
    assert sum(map(number, months)) == n_interactions > 0
