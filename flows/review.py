"""`kith review`: the merge candidates, one pair of people at a time, decided with one key.

The pairs come from the `candidates_to_review` view (ranked: someone you have interactions with
first, then LinkedIn connections, then the rest). Each decision is written to `identity_rules` at
once, in its own short transaction, by the code `kith merge` and `kith split` use
(`transforms.identity.decisions`); the views are rebuilt once, when the session ends. The
warehouse is not held open between key presses, so a sync or `kith sql` elsewhere is not kept
waiting. A decision is stored for the records each person had when the session read them, so a
rebuild elsewhere during the session cannot point it at someone else.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlparse

import duckdb
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

MERGE, APART, SKIP = "merge", "apart", "skip"

KEYS = {
    "y": MERGE, "m": MERGE,
    "n": APART, "x": APART,
    "s": SKIP, " ": SKIP,
    "u": "undo", "z": "undo",
    "q": "quit",
    "?": "help", "h": "help",
}
LEGEND = ("[b]y[/] merge · [b]n[/] keep apart · [b]s[/] skip · [b]u[/] undo · [b]q[/] quit · "
          "[b]?[/] help")
HELP = """\
  y (or m)      merge: they are one person (as `kith merge` would)
  n (or x)      keep apart: they are two people; the pair is never proposed again
  s (or space)  skip: decide later; the pair stays waiting
  u (or z)      undo the last step and show that pair again
  q (or Ctrl-D) quit: rebuild the views with the decisions made so far
Decisions are stored as you make them; the views are rebuilt once, at the end."""

PRIORITY_TEXT = {
    "interactions": "you have interactions with one of them",
    "linkedin": "a LinkedIn connection",
    "other": "",
}
PRIORITY_LABEL = {"interactions": "interactions", "linkedin": "LinkedIn", "other": "-"}
MAX_VALUES = 4          # handles, names, sources shown per cell before "and N more"


@dataclass
class Side:
    """One of the two people of a candidate pair, as the session read them."""
    person_id: int
    display_name: str
    records: list[str]                   # record keys, sorted: what a decision is stored for
    names: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    title: str | None = None
    sources: list[str] = field(default_factory=list)
    n_interactions: int = 0
    last_interaction_at: datetime | None = None
    last_channel: str | None = None
    is_linkedin: bool = False
    linkedin_connected_on: date | None = None


@dataclass
class Candidate:
    rank: int
    priority: str
    a: Side
    b: Side
    record_a: str
    record_b: str
    score: float | None
    evidence: str


def load_candidates(con: duckdb.DuckDBPyConnection,
                    limit: int | None = None) -> tuple[list[Candidate], int]:
    """The waiting candidates in review order (at most `limit`), and how many wait in all."""
    rows = con.execute("""
        select review_rank, priority, person_a, person_b, record_a, record_b, score, evidence,
               count(*) over () as n_waiting
        from candidates_to_review
        order by review_rank
        limit ?
    """, [limit or None]).fetchall()
    if not rows:
        return [], 0
    sides = _sides(con, sorted({r[2] for r in rows} | {r[3] for r in rows}))
    candidates = [Candidate(rank, priority, sides[a], sides[b], record_a, record_b, score,
                            evidence or "")
                  for rank, priority, a, b, record_a, record_b, score, evidence, _ in rows
                  if a in sides and b in sides]
    return candidates, rows[0][-1]


def count_waiting(con: duckdb.DuckDBPyConnection) -> int | None:
    """How many pairs wait for review; None on a warehouse built before the view existed."""
    try:
        return con.execute("select count(*) from candidates_to_review").fetchone()[0]
    except duckdb.CatalogException:
        return None


def _sides(con: duckdb.DuckDBPyConnection, person_ids: list[int]) -> dict[int, Side]:
    people = con.execute("""
        select p.person_id, p.display_name, p.emails, p.phones, p.profiles, p.organisation,
               p.title, p.is_linkedin_connection, p.linkedin_connected_on,
               coalesce(r.n_interactions, 0), r.last_interaction_at, r.last_channel
        from people as p
        left join relationships as r using (person_id)
        where p.person_id in (select unnest(?))
    """, [person_ids]).fetchall()
    records = con.execute("""
        select ids.person_id, r.record_key, r.source,
               nullif(trim(coalesce(r.full_name, concat_ws(' ', r.given_name, r.family_name))),
                      '') as name,
               nullif(trim(r.org), '') as org
        from person_ids as ids
        join int_identity_records as r using (record_key)
        where ids.person_id in (select unnest(?))
        order by ids.person_id, r.record_key
    """, [person_ids]).fetchall()
    by_person: dict[int, list[tuple]] = {}
    for person_id, *rest in records:
        by_person.setdefault(person_id, []).append(tuple(rest))
    sides = {}
    for (pid, name, emails, phones, profiles, org, title, linkedin, connected, n, last_at,
         channel) in people:
        own = by_person.get(pid, [])
        names = list(dict.fromkeys(r[2] for r in own if r[2] and r[2] != name and "@" not in r[2]))
        orgs = list(dict.fromkeys(([org] if org else []) + [r[3] for r in own if r[3]]))
        sources = Counter(source_label(r[1]) for r in own)
        sides[pid] = Side(
            person_id=pid, display_name=name, records=sorted(r[0] for r in own), names=names,
            emails=list(emails or []), phones=list(phones or []), profiles=list(profiles or []),
            organisations=orgs, title=title,
            sources=[label if k == 1 else f"{label} ({k} records)"
                     for label, k in sorted(sources.items())],
            n_interactions=n, last_interaction_at=last_at, last_channel=channel,
            is_linkedin=bool(linkedin), linkedin_connected_on=connected)
    return {pid: side for pid, side in sides.items() if side.records}


def source_label(source: str) -> str:
    """A record's source in words: a file's name, 'mail', 'whatsapp chats'..."""
    if source == "email":
        return "mail"
    if "://" in source:
        url = urlparse(source)
        name = unquote(url.path.rstrip("/").rpartition("/")[2])
        return name or url.netloc or source
    return source


# --- Showing a candidate -----------------------------------------------------------------------

def _values(values: list[str]) -> str:
    shown = [escape(str(v)) for v in values[:MAX_VALUES]]
    if len(values) > MAX_VALUES:
        shown.append(f"[dim]and {len(values) - MAX_VALUES} more[/]")
    return "\n".join(shown) if shown else "[dim]-[/]"


def _interactions(side: Side) -> str:
    if not side.n_interactions:
        return "[dim]none[/]"
    last = ""
    if side.last_interaction_at is not None:
        last = f", last {side.last_interaction_at:%Y-%m-%d}"
        if side.last_channel:
            last += f" ({escape(side.last_channel)})"
    return f"{side.n_interactions:,}{last}"


def _linkedin(side: Side) -> str:
    if not side.is_linkedin:
        return "no"
    if side.linkedin_connected_on:
        return f"yes, connected {side.linkedin_connected_on:%Y-%m-%d}"
    return "yes"


def render(candidate: Candidate, position: int, total: int,
           notes: dict[int, list[str]] | None = None) -> Group:
    """Both people side by side, the evidence, and the keys."""
    a, b = candidate.a, candidate.b
    why = PRIORITY_TEXT.get(candidate.priority, "")
    title = f"[b]{position} of {total}[/]" + (f" · {why}" if why else "")
    table = Table(title=title, title_justify="left", show_edge=False, expand=False,
                  pad_edge=False)
    table.add_column("", style="dim", no_wrap=True)
    table.add_column(f"person {a.person_id}", overflow="fold", ratio=1)
    table.add_column(f"person {b.person_id}", overflow="fold", ratio=1)
    table.add_row("name", f"[b]{escape(a.display_name)}[/]", f"[b]{escape(b.display_name)}[/]")
    if a.names or b.names:
        table.add_row("also named", _values(a.names), _values(b.names))
    for label, attr in (("e-mail", "emails"), ("phone", "phones"), ("profile", "profiles")):
        if getattr(a, attr) or getattr(b, attr):
            table.add_row(label, _values(getattr(a, attr)), _values(getattr(b, attr)))
    table.add_row("organisation", _values(a.organisations), _values(b.organisations))
    if a.title or b.title:
        table.add_row("title", escape(a.title or "-"), escape(b.title or "-"))
    table.add_row("sources", _values(a.sources), _values(b.sources))
    table.add_row("interactions", _interactions(a), _interactions(b))
    table.add_row("LinkedIn", _linkedin(a), _linkedin(b))
    table.add_row("compared", escape(candidate.record_a), escape(candidate.record_b))
    parts: list = [Text(""), table]
    score = f" [dim](score {candidate.score:g})[/]" if candidate.score is not None else ""
    parts.append(Text.from_markup(f"[b]Evidence:[/] {escape(candidate.evidence)}{score}"))
    for side in (a, b):
        for note in (notes or {}).get(side.person_id, []):
            parts.append(Text.from_markup(f"[yellow]Person {side.person_id}: {escape(note)}[/]"))
    parts.append(Text.from_markup(LEGEND))
    return Group(*parts)


# --- Storing a decision, and taking it back ----------------------------------------------------

@dataclass
class Stored:
    """What one decision changed in identity_rules, to undo it exactly."""
    added: list[int]                 # rule ids inserted
    removed: list[tuple]             # whole rows deleted (an earlier opposite decision)


def _connect(db_path: Path):
    from kith.warehouse.connection import connect
    return connect(db_path)


def store_decision(db_path: Path, action: str, candidate: Candidate) -> Stored:
    """Write one decision to identity_rules, as `kith merge` (merge) or `kith split` (keep
    apart: every record of one person against every record of the other) write theirs."""
    from kith.transforms.identity.decisions import keep_apart, merge_records

    con = _connect(db_path)
    try:
        con.execute("begin transaction")
        try:
            before = con.execute("select * from identity_rules").fetchall()
            if action == MERGE:
                merge_records(con, candidate.a.records, candidate.b.records)
            else:
                keep_apart(con, candidate.a.records, candidate.b.records)
            after = {r[0] for r in con.execute("select rule_id from identity_rules").fetchall()}
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        con.close()
    before_ids = {r[0] for r in before}
    return Stored(added=sorted(after - before_ids),
                  removed=[r for r in before if r[0] not in after])


def undo_decision(db_path: Path, stored: Stored) -> None:
    con = _connect(db_path)
    try:
        con.execute("begin transaction")
        try:
            con.execute("delete from identity_rules where rule_id in (select unnest(?))",
                        [stored.added])
            for row in stored.removed:
                con.execute("insert into identity_rules values (?, ?, ?, ?, ?)", list(row))
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        con.close()


# --- The session -------------------------------------------------------------------------------

class TerminalKeys:
    """Single key presses from a terminal. For the whole session the terminal neither echoes
    nor waits for Enter (`tty.setcbreak`), so keys typed ahead are kept for the next pairs
    instead of being printed or lost; Ctrl-C still interrupts. What one read returns is split
    into its characters (keys typed ahead) up to an ESC: from there on it is one special key
    (an arrow, a function key), returned whole so that none of its letters is taken for a key.
    Ctrl-D raises EOFError."""

    def __init__(self, fd: int):
        self.fd = fd
        self.pending: list[str] = []
        self.saved = None

    def __enter__(self) -> "TerminalKeys":
        import termios
        import tty

        self.saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd, termios.TCSADRAIN)
        return self

    def __exit__(self, *exc) -> None:
        import termios

        termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)

    def __call__(self) -> str:
        import os

        if not self.pending:
            data = os.read(self.fd, 32)
            if not data:
                raise EOFError
            text = data.decode("utf-8", "replace")
            keys, esc, special = text.partition("\x1b")
            self.pending = list(keys) + ([esc + special] if esc else [])
        key = self.pending.pop(0)
        if key == "\x04":
            raise EOFError
        return key


@dataclass
class Step:
    index: int                       # which candidate
    action: str                      # merge, apart or skip
    stored: Stored | None = None


@dataclass
class Outcome:
    steps: list[Step]

    def count(self, action: str) -> int:
        return sum(1 for s in self.steps if s.action == action)

    @property
    def n_decisions(self) -> int:
        return sum(1 for s in self.steps if s.stored is not None)


class Review:
    """The key loop. `read_key` returns one key press (TerminalKeys in a terminal); it raises
    KeyboardInterrupt on Ctrl-C and EOFError on Ctrl-D. Decisions are stored as they are made,
    and `steps` always says what is stored, also when the loop ends by an exception."""

    def __init__(self, db_path: Path, candidates: list[Candidate], console: Console,
                 read_key: Callable[[], str] | None = None):
        self.db_path = db_path
        self.candidates = candidates
        self.console = console
        self.read_key = read_key
        self.steps: list[Step] = []

    def run(self) -> Outcome:
        index = 0
        while True:
            if index >= len(self.candidates):
                if not self.steps or not self._undo_at_the_end():
                    return Outcome(self.steps)
                index = self._undo(index)
                continue
            candidate = self.candidates[index]
            self.console.print(render(candidate, index + 1, len(self.candidates),
                                      self._notes(index)), highlight=False)
            action = self._key()
            if action == "quit":
                return Outcome(self.steps)
            if action == "undo":
                index = self._undo(index)
                continue
            self._decide(index, action)
            index += 1

    def _undo_at_the_end(self) -> bool:
        """After the last pair, one more key: u takes the last step back, any other finishes."""
        self.console.print("That was the last pair: [b]u[/] undoes the last step, any other key "
                           "finishes.", highlight=False)
        self.console.file.flush()
        try:
            return self.read_key().lower() in ("u", "z")
        except EOFError:
            return False

    def _key(self) -> str:
        while True:
            self.console.file.flush()
            try:
                key = self.read_key()
            except EOFError:
                return "quit"
            action = KEYS.get(key.lower()) if len(key) == 1 else None
            if action == "help":
                self.console.print(HELP, highlight=False, markup=False)
            elif action is not None:
                return action
            else:
                self.console.print("Press y, n, s, u or q (? for help).", highlight=False)

    def _decide(self, index: int, action: str) -> None:
        candidate = self.candidates[index]
        stored = None if action == SKIP else store_decision(self.db_path, action, candidate)
        self.steps.append(Step(index, action, stored))
        a, b = candidate.a.person_id, candidate.b.person_id
        said = {MERGE: f"→ {a} and {b} merged (the views are rebuilt when the review ends)",
                APART: f"→ {a} and {b} kept apart: this pair is not proposed again",
                SKIP: "→ skipped: it stays waiting"}[action]
        self.console.print(said, highlight=False)

    def _undo(self, index: int) -> int:
        if not self.steps:
            self.console.print("Nothing to undo.", highlight=False)
            return index
        step = self.steps.pop()
        if step.stored is not None:
            undo_decision(self.db_path, step.stored)
        what = {MERGE: "merge", APART: "keeping apart", SKIP: "skip"}[step.action]
        self.console.print(f"↶ {what} undone; back to {step.index + 1} of "
                           f"{len(self.candidates)}.", highlight=False)
        return step.index

    def _notes(self, index: int) -> dict[int, list[str]]:
        """What this session already decided about either person of the pair at `index`."""
        shown = self.candidates[index]
        notes: dict[int, list[str]] = {}
        for step in self.steps:
            if step.action == SKIP:
                continue
            other = self.candidates[step.index]
            for side in (shown.a, shown.b):
                if side.person_id in (other.a.person_id, other.b.person_id):
                    partner = (other.b if other.a.person_id == side.person_id else other.a)
                    verb = "merged with" if step.action == MERGE else "kept apart from"
                    notes.setdefault(side.person_id, []).append(
                        f"you {verb} person {partner.person_id} ({partner.display_name}) above")
        return notes


def finish(db_path: Path, outcome: Outcome, candidates: list[Candidate],
           n_waiting: int) -> tuple[int, list[Candidate]]:
    """Rebuild the views once when anything was decided; return how many pairs still wait and
    the accepted pairs the rebuild did not make one person (a decision to keep one of them
    apart from the other's records, or a person past the size cap)."""
    if not outcome.n_decisions:
        return n_waiting, []
    from kith.transforms.runner import build

    con = _connect(db_path)
    try:
        build(con)
        merged = [candidates[s.index] for s in outcome.steps if s.action == MERGE]
        refused = []
        for candidate in merged:
            keys = [candidate.a.records[0], candidate.b.records[0]]
            n = con.execute("select count(distinct person_id) from person_ids "
                            "where record_key in (select unnest(?))", [keys]).fetchone()[0]
            if n > 1:
                refused.append(candidate)
        return count_waiting(con) or 0, refused
    finally:
        con.close()
