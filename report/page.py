"""Render the report pages and write them, readable by their owner only."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import duckdb
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from kith.report import charts
from kith.report.data import Network, Person, read_network, read_person

REPORT_NAME = "kith-report.html"

# Autoescaping: names, organisations and tags come from other people's cards and mail.
_env = Environment(loader=PackageLoader("kith.report", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def _number(value) -> str:
    return "" if value is None else f"{value:,}"


def _when(value, fmt: str = "%Y-%m-%d") -> str:
    return "" if value is None else value.strftime(fmt)


_env.filters.update(number=_number, when=_when)


def default_path(db_path: Path, person_id: int | None = None) -> Path:
    """Beside the warehouse: kith-report.html, or kith-person-<id>.html for one person."""
    name = REPORT_NAME if person_id is None else f"kith-person-{person_id}.html"
    return db_path.resolve().parent / name


def render_network(network: Network) -> str:
    drawn = {}
    if not network.is_empty:
        drawn = {
            "funnel": charts.funnel(network.lists),
            "tiers": charts.tiers(network.tiers),
            "strength": charts.strength(network.strength_bands),
            "months": charts.months(network.months),
        }
        if network.follow_ups:
            drawn["follow_ups"] = charts.follow_ups(network.follow_ups)
    sparks = {pid: Markup(charts.sparkline(counts, "interactions per month, the last 24 full months: "
                                                   + ", ".join(map(str, counts))))
              for pid, counts in network.sparklines.items()}
    return _render("network.html", n=network, generated_at=network.generated_at,
                   charts={k: Markup(v) for k, v in drawn.items()}, sparks=sparks)


def render_person(person: Person) -> str:
    timeline = Markup(charts.timeline(person.months)) if person.months else None
    return _render("person.html", p=person, generated_at=person.generated_at, timeline=timeline)


def _render(template: str, **context) -> str:
    script = _env.get_template("search.js").render()
    # The page's own policy: the browser refuses any request (fonts, images, fetch) and any
    # script but ours, even if a name slipped through as markup.
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = (f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; "
              "img-src data:; base-uri 'none'; form-action 'none'")
    return _env.get_template(template).render(script=Markup(script), policy=policy, **context)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable and writable by its owner only; a reader never sees a
    half-written page (the new file replaces the old one whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o600)      # also when a stale temporary file was wider
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_network_report(con: duckdb.DuckDBPyConnection, out: Path) -> Network:
    """Write the network page to `out`; return what it shows. Raises duckdb.CatalogException
    when the warehouse's views were never built."""
    network = read_network(con)
    write_private(out, render_network(network))
    return network


def write_person_report(con: duckdb.DuckDBPyConnection, person_id: int, out: Path) -> Person:
    person = read_person(con, person_id)
    write_private(out, render_person(person))
    return person
