"""The report's charts as inline SVG strings.

Vega-Lite specs written with altair, drawn to SVG by vl-convert (Vega's own renderer in an
embedded JavaScript engine): the page then holds plain SVG that needs no script to show, prints
as it looks and fetches nothing. Each chart's numbers are also in a table beside it.
"""

from __future__ import annotations

import re

import altair as alt
from markupsafe import escape

# One colour per tier, strongest warmest; the same on every chart.
TIER_COLOURS = {
    "inner_circle": "#1b7837", "active": "#5aae61", "cooling": "#d9a441", "dormant": "#b35806",
    "unanswered": "#8073ac", "inbound_only": "#b2abd2", "list_only": "#bababa",
    "seen_only": "#e0e0e0",
}
FUNNEL = {"active": "#1b7837", "two-way, not active": "#a6dba0",
          "some contact, never two-way": "#d9a441", "no contact": "#d0d0d0"}
# Vega sizes labels with the fonts of the machine that writes the page; a wide face that most
# systems have (Verdana's metrics) keeps the browser's text within what Vega measured.
FONT = "DejaVu Sans, Verdana, sans-serif"
WIDTH = 520


def to_svg(chart: alt.TopLevelMixin, description: str) -> str:
    """The chart as an SVG element, with `description` as its accessible name."""
    import vl_convert as vlc         # starts a JavaScript engine: only when a chart is drawn

    spec = chart.properties(description=description).configure(
        font=FONT, view=alt.ViewConfig(stroke=None),
        axis=alt.AxisConfig(labelFontSize=12, titleFontSize=12, labelLimit=230),
        legend=alt.LegendConfig(labelFontSize=12, titleFontSize=12, orient="bottom",
                                direction="horizontal", columns=2, labelLimit=240,
                                columnPadding=24),
    ).to_dict()
    svg = vlc.vegalite_to_svg(spec, allowed_base_urls=[])    # inline data only: fetch nothing
    # Scale with the page (375 px phones): the viewBox keeps the drawing, CSS sets the width.
    return re.sub(r'^<svg ([^>]*?)width="[\d.]+" height="[\d.]+"',
                  lambda m: f'<svg role="img" aria-label="{escape(description)}" {m[1]}',
                  svg, count=1)


def _values(rows: list[dict]) -> alt.Data:
    return alt.Data(values=rows)


def funnel(lists: list[dict]) -> str:
    """Per list: the share of its people who are active, two-way but not active, in some
    contact but never two-way, and in no contact at all; one bar each, labelled with the list's
    size, so that a list of 40 cards reads as well as one of 2,300 connections."""
    values, order = [], []
    for r in lists:
        label = f"{r['list_name']} ({r['n_people']:,})"
        order.append(label)
        active = r["n_inner_circle"] + r["n_active"]
        for stage, n in (("active", active), ("two-way, not active", r["n_two_way"] - active),
                         ("some contact, never two-way", r["n_with_interaction"] - r["n_two_way"]),
                         ("no contact", r["n_people"] - r["n_with_interaction"])):
            values.append({"list": label, "stage": stage, "n": n,
                           "rank": list(FUNNEL).index(stage)})
    chart = alt.Chart(_values(values)).mark_bar().encode(
        y=alt.Y("list:N", sort=order, title=None, axis=alt.Axis(labelLimit=330)),
        x=alt.X("n:Q", title="share of the list's people", stack="normalize",
                axis=alt.Axis(format="%")),
        color=alt.Color("stage:N", title=None, sort=list(FUNNEL),
                        scale=alt.Scale(domain=list(FUNNEL), range=list(FUNNEL.values()))),
        order=alt.Order("rank:Q"),
        tooltip=["list:N", "stage:N", "n:Q"],
    ).properties(width=WIDTH - 140, height=alt.Step(28))
    return to_svg(chart, "Each list: the share of its people who are active, two-way but not "
                         "active, in some contact but never two-way, and in no contact")


def tiers(rows: list[dict]) -> str:
    chart = alt.Chart(_values(rows)).mark_bar().encode(
        y=alt.Y("tier:N", sort=list(TIER_COLOURS), title=None),
        x=alt.X("n:Q", title="people"),
        color=alt.Color("tier:N", legend=None, scale=alt.Scale(
            domain=list(TIER_COLOURS), range=list(TIER_COLOURS.values()))),
        tooltip=["tier:N", "n:Q"],
    ).properties(width=WIDTH, height=alt.Step(22))
    return to_svg(chart, "People per tier")


def strength(bands: list[dict]) -> str:
    chart = alt.Chart(_values(bands)).mark_bar(color="#5aae61").encode(
        x=alt.X("band:N", sort=[b["band"] for b in bands], title="strength",
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("n:Q", title="people"),
        tooltip=["band:N", "n:Q"],
    ).properties(width=WIDTH, height=180)
    return to_svg(chart, "People with any interaction, by relationship strength")


def months(rows: list[dict]) -> str:
    names = {"n_sent": "sent", "n_received": "received", "n_meetings": "meetings"}
    values = [{"month": r["month"].isoformat(), "what": label, "n": r[key]}
              for r in rows for key, label in names.items()]
    chart = alt.Chart(_values(values)).mark_line(point=True).encode(
        x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=-40,
                                                     tickCount="month", labelOverlap=True)),
        y=alt.Y("n:Q", title="per month"),
        color=alt.Color("what:N", title=None, sort=list(names.values()), scale=alt.Scale(
            domain=list(names.values()), range=["#2166ac", "#b2182b", "#1b7837"])),
        tooltip=[alt.Tooltip("month:T", format="%B %Y"), "what:N", "n:Q"],
    ).properties(width=WIDTH, height=200)
    return to_svg(chart, "E-mails and messages sent and received, and meetings, per month")


def follow_ups(rows: list[dict]) -> str:
    values = []
    for r in rows:
        tag = r["list_name"].removeprefix("cards: ")
        values += [{"tag": tag, "what": "followed up", "n": r["n_followed_up"], "rank": 0},
                   {"tag": tag, "what": "not yet", "n": r["n_people"] - r["n_followed_up"],
                    "rank": 1}]
    chart = alt.Chart(_values(values)).mark_bar().encode(
        y=alt.Y("tag:N", title=None, sort=None),
        x=alt.X("n:Q", title="people met", stack="zero"),
        color=alt.Color("what:N", title=None, sort=["followed up", "not yet"], scale=alt.Scale(
            domain=["followed up", "not yet"], range=["#1b7837", "#d0d0d0"])),
        order=alt.Order("rank:Q"),
        tooltip=["tag:N", "what:N", "n:Q"],
    ).properties(width=WIDTH - 100, height=alt.Step(28))
    return to_svg(chart, "People met at each event, followed up or not yet")


def timeline(rows: list[dict]) -> str:
    """One person's interactions per month, by channel."""
    values = [{"month": r["month"].isoformat(), "channel": r["channel"], "n": r["n"]}
              for r in rows]
    chart = alt.Chart(_values(values)).mark_bar().encode(
        x=alt.X("yearmonth(month):T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=-40)),
        y=alt.Y("n:Q", title="interactions", stack="zero"),
        color=alt.Color("channel:N", title=None, scale=alt.Scale(
            domain=["email", "meeting", "linkedin"], range=["#2166ac", "#1b7837", "#8073ac"])),
        tooltip=[alt.Tooltip("yearmonth(month):T", format="%B %Y"), "channel:N", "n:Q"],
    ).properties(width=WIDTH, height=180)
    return to_svg(chart, "Interactions per month, by channel")


def sparkline(counts: list[int], label: str, width: int = 96, height: int = 20) -> str:
    """A line of monthly counts, small enough for a table cell.

    Drawn here rather than by vl-convert: one Vega render per table row costs about 60 ms, and a
    sparkline is one polyline without axes, legend or text."""
    if len(counts) < 2:
        return ""
    peak = max(counts) or 1
    step = width / (len(counts) - 1)
    points = " ".join(f"{i * step:.1f},{height - 1 - n / peak * (height - 2):.1f}"
                      for i, n in enumerate(counts))
    return (f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{escape(label)}">'
            f'<polyline points="{points}" fill="none" stroke="currentColor" '
            f'stroke-width="1.5"/></svg>')
