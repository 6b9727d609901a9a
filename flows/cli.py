"""The `kith` command line.

Start-up matters: `kith sql` must answer in well under a second, so this module imports neither
Prefect nor the connectors at the top; each command imports what it needs.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer._click.exceptions import ClickException   # typer vendors click since 0.20
from typer.core import TyperGroup

# Exit statuses, the same for every command (README: "Exit statuses").
EXIT_OK = 0            # everything was read / done
EXIT_FAILED = 1        # something was refused or failed; the message says what
EXIT_USAGE = 2         # a wrong command line or configuration
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)

DEBUG_ENV = "KITH_DEBUG"
_debug = False


def _debugging() -> bool:
    return _debug or os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")


class _KithGroup(TyperGroup):
    """Every command runs inside one error handler: anything a user can cause (a bad file, a
    wrong --db, a locked, read-only or full warehouse, Ctrl-C) ends in one sentence and a
    documented exit status, never a traceback; `--debug` or KITH_DEBUG=1 shows the traceback."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, ClickException):
            raise
        except KeyboardInterrupt:
            if _debugging():
                raise
            err.print(f"[red]{_command_name(ctx)}:[/] interrupted (Ctrl-C).", highlight=False)
            raise typer.Exit(EXIT_INTERRUPTED)
        except Exception as exc:
            if _debugging():
                raise
            err.print(f"[red]{_command_name(ctx)}:[/] {escape(explain_error(exc))}",
                      highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_FAILED)


def _command_name(ctx: typer.Context) -> str:
    sub = getattr(ctx, "invoked_subcommand", None) or (
        getattr(ctx, "_protected_args", None) or [""])[0]
    return f"kith {sub}".strip()


def explain_error(exc: BaseException) -> str:
    """One sentence for an error that reached the command line, saying what to do."""
    import errno

    import duckdb

    from kith.warehouse.connection import (BadSetting, NotAWarehouse, WarehouseBusy,
                                           WarehouseOutOfMemory)

    if isinstance(exc, (WarehouseBusy, NotAWarehouse, WarehouseOutOfMemory, BadSetting)):
        return str(exc)
    text = " ".join(str(exc).split())
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        if exc.errno == errno.ENOSPC:
            return (f"the disk is full{where}: free some space and run the command again "
                    "(what was finished before is kept)")
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return f"permission denied{where}: kith cannot read or write it; check its permissions"
        return f"{exc.strerror or text}{where}"
    if isinstance(exc, duckdb.Error):
        lowered = text.lower()
        if "no space left" in lowered or "disk is full" in lowered:
            return ("the disk holding the warehouse is full: free some space and run the "
                    "command again (what was finished before is kept)")
        if "permission denied" in lowered or "read-only file system" in lowered:
            return ("the warehouse cannot be written (permission denied): check the file's "
                    "permissions, or pass another --db; kith sql, person, people and status "
                    "only read it")
        if "read-only" in lowered or "read only" in lowered:
            return ("the warehouse is opened read-only and this command writes to it: check "
                    "the file's permissions, or pass another --db")
        return f"the warehouse could not be used: {text[:300]}"
    return (f"unexpected error: {type(exc).__name__}: {text[:300]}. This is probably a bug in "
            "kith; run the command again with --debug to see where, and report it")


app = typer.Typer(
    cls=_KithGroup,
    help="kith: which of your contacts are a real network, and which are only a list.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
# Piped output gets room for the summary table instead of rich's 80-column default.
# emoji=False: data such as "chat:x:42" must print as written, not as an emoji code.
out = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160, emoji=False)
err = Console(stderr=True)

DbOption = typer.Option(None, "--db", help="Warehouse file (default: $KITH_DB, else ./kith.duckdb).")


def _print_version(value: bool) -> None:
    if not value:
        return
    from importlib.metadata import version

    import duckdb

    from kith import __version__
    out.print(f"kith {__version__} (DuckDB {duckdb.__version__}, Prefect {version('prefect')})")
    raise typer.Exit()


@app.callback()
def _options(
    show_version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                      help="Print kith's version and the DuckDB and Prefect versions."),
    debug: bool = typer.Option(False, "--debug", help="Show the Python traceback of an error "
                                                      "(also: KITH_DEBUG=1)."),
) -> None:
    """kith: which of your contacts are a real network, and which are only a list.

    Exit status: 0 everything was read, 1 something was refused or failed, 2 a usage error,
    130 interrupted (Ctrl-C).
    """
    global _debug
    _debug = debug


@app.command("import")
def import_command(
    paths: List[Path] = typer.Argument(
        ..., help="vCard, contacts CSV, mbox or .eml files, Maildir folders, calendars, "
                  "LinkedIn or chat app exports (WhatsApp, Telegram, Messenger, Instagram, "
                  "iMessage chat.db, X), photos or PDF scans of business cards, or folders of "
                  "them."),
    tag: Optional[str] = typer.Option(
        None, "--tag", help='Stored with every card of this import, e.g. "Chamber mixer 2026-11-20".'),
    region: Optional[str] = typer.Option(
        None, "--region", help="Region for phone numbers without a country code, e.g. US, DE "
                               "(default: $KITH_PHONE_REGION, else your locale's country)."),
    subjects: bool = typer.Option(
        False, "--subjects", help="Also store e-mail subjects (off by default: only addresses, "
                                  "dates, ids and thread links are kept)."),
    keep_photos: Optional[Path] = typer.Option(
        None, "--keep-photos", help="Copy each card photo into this folder, named by its SHA-256 "
                                    "(raw_contacts.photo_sha256). By default photos are not kept."),
    db: Optional[Path] = DbOption,
) -> None:
    """Import business cards, address books, mail archives, calendars and chat exports into
    the warehouse."""
    from kith.flows.importing import expand_paths
    from kith.warehouse.connection import WarehouseBusy, resolve_db_path

    db_path = resolve_db_path(db)
    try:
        files = expand_paths(paths)
    except FileNotFoundError as exc:
        err.print(f"[red]kith import:[/] {exc}")
        raise typer.Exit(2)
    from kith.flows.importing import ImportInterrupted

    try:
        if os.environ.get("PREFECT_API_URL"):
            from kith.flows.import_flow import import_flow
            summary = import_flow([str(p) for p in paths], str(db_path), tag,
                                  region.upper() if region else None, subjects)
        else:
            summary = _import_with_progress(files, db_path, tag, region, subjects)
    except WarehouseBusy as exc:
        err.print(f"[red]kith import:[/] {exc}")
        raise typer.Exit(EXIT_FAILED)
    except ImportInterrupted as stop:
        if stop.summary.files:
            _print_import_summary(stop.summary, db_path, tag)
        done = sum(1 for f in stop.summary.files if f.ok)
        err.print(f"[red]kith import:[/] interrupted (Ctrl-C) while reading "
                  f"{escape(str(stop.current))}: that file was rolled back, nothing of it is "
                  f"kept. The {done:,} file(s) finished before it are kept; "
                  f"{stop.n_files - len(stop.summary.files) - 1:,} were not read. Run the same "
                  f"import again to finish (what is stored already adds nothing), or `kith "
                  f"rebuild` to bring the views up to date now.", highlight=False,
                  soft_wrap=True)
        raise typer.Exit(EXIT_INTERRUPTED)
    _print_import_summary(summary, db_path, tag)
    if keep_photos is not None:
        _keep_photos(summary, keep_photos)
    if summary.failed:
        raise typer.Exit(EXIT_FAILED)


def _keep_photos(summary, folder: Path) -> None:
    """Copy the card photos that were read into `folder` as <sha256><suffix>: the name the
    warehouse knows them by, so a card can be checked against its photo."""
    import hashlib
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    kept = 0
    for f in summary.files:
        if f.ok and f.kind == "card_photo":
            digest = hashlib.sha256(f.path.read_bytes()).hexdigest()
            target = folder / f"{digest}{f.path.suffix.lower()}"
            if not target.exists():
                shutil.copyfile(f.path, target)
            kept += 1
    out.print(escape(f"{kept} card photo(s) kept in {folder}"), highlight=False)


def _import_with_progress(files, db_path, tag, region, subjects):
    """Run the import in this process, with a progress bar when it takes more than a moment."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from kith.connectors.detect import CARD_PHOTO
    from kith.flows.importing import run_import

    total_bytes = sum(f.stat().st_size for f in files if f.is_file())
    # Card photos take a second or more each: a bar for any stack of them.
    photos = [f for f in files if f.suffix.lower() in CARD_PHOTO.extensions]
    show = err.is_terminal and (total_bytes > 2_000_000 or len(files) > 20 or len(photos) > 1)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[records]:,} records {task.fields[rate]}"),
                        TimeElapsedColumn(), console=err, transient=True, disable=not show)
    with progress:
        bar = progress.add_task("importing", total=len(files), records=0, rate="")
        seen: dict[Path, int] = {}
        started = time.monotonic()

        def on_progress(path: Path, n: int, phase: str) -> None:
            if phase.startswith("rebuilding"):
                step = phase.partition(": ")[2]
                progress.update(bar, completed=len(files),
                                description=f"rebuilding {step or 'views'}")
                return
            seen[path] = n
            records = sum(seen.values())
            rate = records / max(time.monotonic() - started, 1e-3)
            progress.update(bar, completed=len(seen) - 1, records=records,
                            rate=f"({rate:,.0f}/s)", description=f"reading {path.name[:40]}")

        summary = run_import(files, db=db_path, tag=tag,
                             region=region.upper() if region else None,
                             include_subject=subjects, progress=on_progress)
        progress.update(bar, completed=len(files))
    return summary


def _print_import_summary(summary, db_path: Path, tag: str | None) -> None:
    loaded = [f for f in summary.files if f.ok]
    folder = Path(os.path.commonpath([f.path.parent.resolve() for f in summary.files] or ["."]))
    title = f"Imported into {db_path}" + (f' with tag "{tag}"' if tag else "")
    table = Table(title=escape(f"{title}\nfiles in {folder}"), title_justify="left",
                  show_edge=False)
    table.add_column("file", overflow="fold")
    table.add_column("kind")
    for name in ("read", "new", "updated", "already present", "rejected"):
        table.add_column(name, justify="right")
    for f in loaded:
        r = f.result
        table.add_row(escape(str(f.path.resolve().relative_to(folder))), f.kind,
                      f"{r.n_read:,}", f"{r.n_new:,}", f"{r.n_updated:,}",
                      f"{r.n_already_present:,}", f"{r.n_rejected:,}")
    if len(loaded) > 1:
        table.add_row("[b]total[/]", "", *(f"[b]{summary.total(n):,}[/]" for n in (
            "n_read", "n_new", "n_updated", "n_already_present", "n_rejected")))
    if loaded:
        out.print(table)
    if summary.failed:
        out.print(f"[yellow]{len(summary.failed):,} file(s) not imported:[/]")
    for f in summary.failed:
        out.print(f"  [yellow]{escape(str(f.path))}[/]: {escape(f.problem or 'not read')}",
                  soft_wrap=True)
    for f in loaded:
        for note in f.notes:
            out.print(f"{escape(f.path.name)}: {escape(note)}", highlight=False, soft_wrap=True)
        if f.skipped_inside:
            out.print(f"{escape(f.path.name)}: not read (kith has no reader for them): "
                      + escape(", ".join(f.skipped_inside)), highlight=False)
    n_read = summary.total("n_read")
    if loaded and summary.total("n_inserted") == 0:
        n_present = summary.total("n_already_present")
        out.print(f"Nothing new: {n_present:,} of {n_read:,} records were already present"
                  + (f", {summary.total('n_rejected'):,} rejected." if summary.total("n_rejected")
                     else "."))
    _print_card_people(loaded, db_path)
    _print_cards_to_review(loaded, db_path)
    reasons = summary.reject_reasons
    if reasons:
        out.print("Top reasons for rejects:")
        for reason, n in reasons.most_common(5):
            out.print(f"  {n:>6,}  {escape(reason)}")
        ids = [f.result.load_id for f in loaded]
        out.print(escape(
            f'See them all: kith sql "select source_uri, position, reason, raw_text from rejects '
            f'where source_uri in (select source_uri from loads where load_id between {min(ids)} '
            f'and {max(ids)})"'))


def _print_card_people(loaded, db_path: Path) -> None:
    """Whom the cards this import stored (new cards and new versions) turned out to be: people
    the warehouse already held (by another record, or by an earlier version of the card), new
    people, and of those how many may be someone already known (merge candidates waiting for
    `kith review`)."""
    import duckdb

    ids = [f.result.load_id for f in loaded if f.result.n_inserted]
    if not ids:
        return
    con = _read_only(db_path, "import")
    try:
        row = con.execute("""
            with cards as (
                select distinct 'card:' || record_key as record_key from raw_contacts
                where load_id in (select unnest($ids))
            ),
            earlier as (         -- of those cards, the ones stored before (now a new version)
                select distinct 'card:' || record_key as record_key from raw_contacts
                where load_id not in (select unnest($ids))
                    and 'card:' || record_key in (select record_key from cards)
            ),
            people as (
                select distinct person_id from person_ids join cards using (record_key)
            ),
            known as (
                select distinct p.person_id from person_ids as p join people using (person_id)
                where p.record_key not in (select record_key from cards)
                    or p.record_key in (select record_key from earlier)
            )
            select (select count(*) from people),
                   (select count(*) from known),
                   -- (a new person holds only cards new now: no decision names them yet,
                   -- so the resolver's candidates are those waiting for `kith review`; the
                   -- view that leaves out decided pairs costs seconds on a big warehouse)
                   (select count(*) from people
                    where person_id not in (select person_id from known)
                        and person_id in (select person_a from merge_candidates
                                          where person_a <> person_b
                                          union select person_b from merge_candidates
                                          where person_a <> person_b))
            """, {"ids": ids}).fetchone()
    except duckdb.Error:        # a warehouse whose views were not built: nothing to say
        return
    finally:
        con.close()
    n_people, n_known, n_maybe = row
    if not n_people:
        return
    who = "person" if n_people == 1 else "people"
    line = (f"The new and changed cards are {n_people:,} {who}: {n_known:,} you already had "
            f"(merged), {n_people - n_known:,} new")
    if n_maybe:
        line += f" ({n_maybe:,} of them may be someone you have: kith review)"
    out.print(line + ".", highlight=False)


def _print_cards_to_review(loaded, db_path: Path) -> None:
    """The cards of this import read from photos with an unsure field, to check by hand."""
    uris = [f.result.source_uri for f in loaded if f.kind == "card_photo"]
    if not uris:
        return
    con = _read_only(db_path, "import")
    try:
        rows = con.execute("""
            select source_uri, position, display_name, unsure_fields from cards_to_review
            where source_uri in (select unnest($uris)) order by source_uri, position""",
                           {"uris": uris}).fetchall()
    finally:
        con.close()
    if not rows:
        return
    out.print(f"{len(rows)} card(s) read from photos to check (a field read with low "
              "confidence):")
    for uri, position, name, unsure in rows:
        where = Path(uri.removeprefix("file://")).name
        out.print(escape(f"  {where} card {position}: {name or '(no name)'}; check "
                         + ", ".join(unsure or ["name"])), highlight=False)
    out.print('See them all: kith sql "select * from cards_to_review"')


@app.command("imap")
def imap_command(
    host: str = typer.Argument(..., help="IMAP server, e.g. imap.gmail.com."),
    user: str = typer.Option(..., "--user", help="Login name."),
    password_env: Optional[str] = typer.Option(
        None, "--password-env", help="Environment variable holding the password."),
    password_block: Optional[str] = typer.Option(
        None, "--password-block", help="Prefect Secret block holding the password."),
    port: Optional[int] = typer.Option(None, "--port", help="Default 993 (tls) or 143."),
    security: str = typer.Option("tls", "--security", help="tls, starttls, or plain "
                                                           "(plain only to 127.0.0.1)."),
    include: Optional[List[str]] = typer.Option(
        None, "--folder", help="Only folders matching this glob (repeatable)."),
    exclude: Optional[List[str]] = typer.Option(
        None, "--exclude", help="Leave out folders matching this glob (repeatable; default: "
                                "Trash, Spam / Junk, Drafts)."),
    subjects: bool = typer.Option(False, "--subjects", help="Also store subjects."),
    db: Optional[Path] = DbOption,
) -> None:
    """Fetch mail headers from an IMAP account, incrementally (only new mail after the first run)."""
    from kith.connectors.imap import DEFAULT_EXCLUDE, ImapAccount, ImapError
    from kith.flows.mail_sync import sync_imap
    from kith.transforms.runner import build
    from kith.warehouse.connection import connect, resolve_db_path

    if not (password_env or password_block):
        err.print("[red]kith imap:[/] give --password-env VAR or --password-block NAME "
                  "(the password itself is never taken on the command line)")
        raise typer.Exit(2)
    try:
        account = ImapAccount(host=host, user=user, port=port, security=security,
                              password_env=password_env, password_block=password_block,
                              include_folders=tuple(include or ()),
                              exclude_folders=tuple(exclude) if exclude else DEFAULT_EXCLUDE)
    except ValueError as exc:
        err.print(f"[red]kith imap:[/] {escape(str(exc))}")
        raise typer.Exit(2)
    db_path = resolve_db_path(db)
    try:
        results = sync_imap(db_path, account, include_subject=subjects)
    except ImapError as exc:
        err.print(f"[red]kith imap:[/] {escape(str(exc))}")
        raise typer.Exit(1)
    con = connect(db_path)
    try:
        build(con)
    finally:
        con.close()
    table = Table(title=f"IMAP {account.label} into {db_path}", title_justify="left",
                  show_edge=False)
    for name in ("folder", "read", "new", "already present", "rejected"):
        table.add_column(name, justify="left" if name == "folder" else "right")
    for r in results:
        table.add_row(escape(r.source_uri), f"{r.n_read:,}", f"{r.n_new:,}",
                      f"{r.n_already_present:,}", f"{r.n_rejected:,}")
    out.print(table)


@app.command("owner")
def owner_command(
    addresses: Optional[List[str]] = typer.Argument(
        None, help="Your own e-mail addresses, to add. Without any, lists those stored."),
    remove: bool = typer.Option(False, "--remove", help="Remove the given addresses instead."),
    suggest: bool = typer.Option(False, "--suggest",
                                 help="List the addresses your mail says are yours, and the "
                                      "names your chats say are yours."),
    names: Optional[List[str]] = typer.Option(
        None, "--name", help="A name you write under in chats (as your chat exports show "
                             "it); repeat for more."),
    phones: Optional[List[str]] = typer.Option(
        None, "--phone", help="Your own phone number, for chats that show numbers; repeat "
                              "for more."),
    db: Optional[Path] = DbOption,
) -> None:
    """Say which e-mail addresses (and chat names, phone numbers) are yours: mail from them is
    sent, mail to them received; chat messages under them are yours."""
    if suggest:
        _suggest_owner(db)
        return
    from kith.emails import normalize_email
    from kith.phones import default_region, normalize_phone
    from kith.transforms.runner import build
    from kith.warehouse.connection import connect

    normalized = []
    for address in addresses or []:
        value = normalize_email(address)
        if value is None:
            err.print(f"[red]kith owner:[/] {escape(address)!r} is not an e-mail address")
            raise typer.Exit(2)
        normalized.append(value)
    handles = [name.strip() for name in names or [] if name.strip()]
    for phone in phones or []:
        value = normalize_phone(phone, default_region())
        if value is None:
            err.print(f"[red]kith owner:[/] {escape(phone)!r} is not a phone number (write it "
                      "with its country code, +44...)")
            raise typer.Exit(2)
        handles.append(value)
    con = connect(db)
    try:
        if normalized or handles:
            con.execute("begin transaction")
            for table, column, values in (("owner_addresses", "address", normalized),
                                          ("owner_chat_names", "handle", handles)):
                for value in values:
                    if remove:
                        con.execute(f"delete from {table} where {column} = ?", [value])
                    else:
                        con.execute(f"insert or ignore into {table} values (?, now())", [value])
            con.execute("commit")
            build(con)
        rows = con.execute("select address from owner_addresses order by address").fetchall()
        chat_rows = con.execute("select handle from owner_chat_names order by handle").fetchall()
    finally:
        con.close()
    for (address,) in rows:
        out.print(address)
    for (handle,) in chat_rows:
        out.print(f"{escape(handle)}  (in chats)")
    if not rows:
        out.print("No owner addresses yet: kith owner you@example.com")


def _suggest_owner(db: Path | None) -> None:
    from kith.transforms.identity.owner import (suggest_owner_addresses,
                                                suggest_owner_chat_names)

    con = _read_only(db, "owner")
    try:
        rows = suggest_owner_addresses(con)
        chat_rows = suggest_owner_chat_names(con)
    finally:
        con.close()
    if not rows and not chat_rows:
        out.print("No mail or chats to suggest from yet: import a mailbox or a chat export "
                  "first.")
        return
    for address, n, evidence in rows:
        out.print(f"{escape(address)}  ({n:,} messages; {escape(evidence)})")
    if rows:
        out.print("Add the ones that are yours: kith owner ADDRESS...")
    for platform, name, n_chats, n_all in chat_rows:
        out.print(f"{escape(name)}  ({platform}: in {n_chats:,} of {n_all:,} chats)")
    if chat_rows:
        out.print('Add the names that are yours: kith owner --name "NAME"')


@app.command("sql")
def sql_command(
    query: Optional[str] = typer.Argument(
        None, help="A SQL query. Without one, lists the tables and views you can query."),
    fmt: str = typer.Option("table", "--format", "-f", help="Output: table, csv or json."),
    db: Optional[Path] = DbOption,
) -> None:
    """Query the warehouse (read-only) and print the result as a table, CSV or JSON."""
    import duckdb

    from kith.warehouse.connection import WarehouseBusy, connect

    if fmt not in ("table", "csv", "json"):
        err.print(f"[red]kith sql:[/] unknown --format {fmt!r}: use table, csv or json")
        raise typer.Exit(2)
    try:
        con = connect(db, read_only=True)
    except (FileNotFoundError, WarehouseBusy) as exc:
        err.print(f"[red]kith sql:[/] {escape(str(exc))}")
        raise typer.Exit(1)
    try:
        if query is None:
            query = _CATALOG_QUERY
        try:
            cursor = con.execute(query)
        except duckdb.Error as exc:
            err.print(f"[red]kith sql:[/] {escape(str(exc))}")
            raise typer.Exit(1)
        if cursor.description is None:
            return
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        con.close()
    _print_rows(columns, rows, fmt)


_CATALOG_QUERY = """
    select table_name as name, 'table' as kind, comment as description
    from duckdb_tables() where database_name = current_database() and schema_name = 'main'
        and table_name <> 'schema_migrations'
    union all
    select view_name, 'view', comment
    from duckdb_views() where not internal and database_name = current_database()
        and schema_name = 'main'
    order by kind desc, name
"""


def _print_rows(columns: list[str], rows: list[tuple], fmt: str) -> None:
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_csv_value(v) for v in row] for row in rows)
    elif fmt == "json":
        json.dump([dict(zip(columns, row)) for row in rows], sys.stdout, default=str,
                  ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        table = Table(show_edge=False)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*("" if v is None else escape(str(v)) for v in row))
        out.print(table)
        out.print(f"[dim]{len(rows):,} row{'s' if len(rows) != 1 else ''}[/]")


def _csv_value(value):
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return value


# --- People: `kith rebuild`, `kith person`, `kith merge`, `kith split` -------------------------

@app.command("rebuild")
def rebuild_command(db: Optional[Path] = DbOption) -> None:
    """Rebuild the views and resolve people again from everything in the warehouse."""
    from kith.flows.review import count_waiting
    from kith.transforms.identity.model import MAX_BLOCK
    from kith.transforms.identity.store import last_build
    from kith.transforms.runner import build

    con = _open_for_writing(db, "rebuild")
    try:
        build(con, force=True)
        row = last_build(con)
        waiting = count_waiting(con) or 0
    finally:
        con.close()
    out.print(f"{row['n_records']:,} records resolved into {row['n_people']:,} people "
              f"({row['n_links']:,} links, {waiting:,} merge candidates waiting for review) "
              f"in {row['seconds']:.1f} s")
    if waiting:
        out.print("Decide them one pair at a time: kith review (kith review --list prints them)",
                  highlight=False)
    if row["n_refused"]:
        out.print(f"[yellow]{row['n_refused']:,} merges refused: a kith split keeps the records "
                  "apart, or the person would grow past 60 records (see merge_candidates)[/]")
    if row.get("model_note"):
        out.print(f"Match model: {escape(row['model_note'])}")
    if row["n_skipped_blocks"]:
        out.print(f"[yellow]{row['n_skipped_blocks']:,} names, birthdays, streets or postcodes "
                  f"are shared by so many records (over {MAX_BLOCK}, even split by employer, "
                  "first name or initial) that their records were not compared on them[/]")


@app.command("person")
def person_command(
    query: str = typer.Argument(..., help="A person id, e-mail address, phone number or name."),
    db: Optional[Path] = DbOption,
) -> None:
    """Show one person: their handles, their records by source and why they were joined."""
    from kith.transforms.identity.decisions import find_people

    con = _read_only(db, "person")
    try:
        found = find_people(con, query)
        if not query.strip():
            err.print("[red]kith person:[/] say whom: a person id, e-mail address, phone "
                      "number or name")
            raise typer.Exit(1)
        if not found:
            err.print(f"[red]kith person:[/] nobody matches {escape(query)!r}")
            raise typer.Exit(1)
        if len(found) > 1:
            _print_people_list(con, found, f"{len(found)} people match {query!r}; "
                                           "ask again with an id")
            return
        _print_person(con, found[0])
    finally:
        con.close()


@app.command("merge")
def merge_command(
    person_a: str = typer.Argument(..., help="A person id (or an e-mail, phone or record key)."),
    person_b: str = typer.Argument(..., help="The person to merge into the first."),
    db: Optional[Path] = DbOption,
) -> None:
    """Say that two people are one. The decision is kept and applied on every rebuild."""
    from kith.transforms.identity.decisions import store_merge

    con = _open_for_writing(db, "merge")
    try:
        a, b = _one_person(con, person_a, "merge"), _one_person(con, person_b, "merge")
        _decide(con, "merge", lambda: store_merge(con, a, b))
        merged = _one_person(con, f"{a}", "merge", missing_ok=True) or \
            _one_person(con, f"{b}", "merge")
        out.print(f"Merged {a} and {b}: now person {merged}.")
    finally:
        con.close()


@app.command("split")
def split_command(
    person: str = typer.Argument(..., help="The person id."),
    record: str = typer.Argument(..., help="The record to take out (a key from kith person)."),
    db: Optional[Path] = DbOption,
) -> None:
    """Say that one record is not this person. The decision is kept and applied on every rebuild."""
    from kith.transforms.identity.decisions import store_split

    con = _open_for_writing(db, "split")
    try:
        person_id = _one_person(con, person, "split")
        _decide(con, "split", lambda: store_split(con, person_id, record))
        now = con.execute("select person_id from person_ids where record_key = ?",
                          [record]).fetchone()[0]
        out.print(f"{record} is now person {now}; person {person_id} keeps the rest.")
    finally:
        con.close()


@app.command("review")
def review_command(
    list_only: bool = typer.Option(
        False, "--list", help="Print the waiting pairs, ranked, with their evidence, instead of "
                              "asking (for pipes and scripts)."),
    limit: int = typer.Option(0, "--limit", "-n", help="At most this many pairs (0: all)."),
    fmt: str = typer.Option("table", "--format", "-f", help="With --list: table, csv or json."),
    db: Optional[Path] = DbOption,
) -> None:
    """Decide the merge candidates one pair of people at a time, side by side with the
    evidence: y merges, n keeps them apart for good, s skips, u undoes, q quits. Decisions are
    kept as kith merge and kith split keep theirs; the views are rebuilt once, at the end."""
    import duckdb

    from kith.flows.review import load_candidates

    _check_listing("review", fmt, limit)
    if fmt != "table" and not list_only:
        err.print("[red]kith review:[/] --format goes with --list")
        raise typer.Exit(EXIT_USAGE)
    if not list_only and not sys.stdin.isatty():
        err.print("[red]kith review:[/] needs a terminal to read your decisions one key at a "
                  "time, and its input is not one: run it in a terminal, or print the pairs "
                  "with kith review --list.", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE)
    con = _read_only(db, "review")
    try:
        try:
            candidates, n_waiting = load_candidates(con, limit or None)
        except duckdb.CatalogException:
            err.print("[red]kith review:[/] this warehouse was built before kith review "
                      "existed: run `kith rebuild` first")
            raise typer.Exit(EXIT_FAILED)
    finally:
        con.close()
    if list_only:
        _print_candidates(candidates, n_waiting, fmt)
    elif not candidates:
        out.print("Nothing to review: no pair of people waits for your decision.")
    else:
        _review_session(db, candidates, n_waiting)


def _review_session(db: Path | None, candidates, n_waiting: int) -> None:
    from kith.flows.review import APART, MERGE, SKIP, Review, TerminalKeys, finish
    from kith.warehouse.connection import WarehouseBusy, resolve_db_path

    db_path = resolve_db_path(db)
    some = f"; reviewing the first {len(candidates):,}" if len(candidates) < n_waiting else ""
    out.print(f"[b]{n_waiting:,} {'pair' if n_waiting == 1 else 'pairs'} of people may be one "
              f"person[/]{some}. Decide each with one key; the views are rebuilt once, at the "
              "end.", highlight=False)
    review = Review(db_path, candidates, out)
    stage = "reviewing"
    try:
        with TerminalKeys(sys.stdin.fileno()) as keys:
            review.read_key = keys
            outcome = review.run()
        stage = "rebuilding the views"
        if outcome.n_decisions:
            out.print("Rebuilding the views...", highlight=False)
        waiting, refused = finish(db_path, outcome, candidates, n_waiting)
    except (KeyboardInterrupt, WarehouseBusy) as exc:
        n = sum(1 for step in review.steps if step.stored is not None)
        kept = (f"the {n:,} {'decision' if n == 1 else 'decisions'} made so far "
                f"{'is' if n == 1 else 'are'} stored and take{'s' if n == 1 else ''} effect at "
                "the next kith rebuild (or import, sync)" if n else "nothing was decided")
        if isinstance(exc, KeyboardInterrupt):
            err.print(f"[red]kith review:[/] interrupted (Ctrl-C) while {stage}: {kept}.",
                      highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_INTERRUPTED)
        err.print(f"[red]kith review:[/] {escape(str(exc))} {kept[0].upper()}{kept[1:]}.",
                  highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_FAILED)
    out.print(f"[b]{outcome.count(MERGE):,} merged, {outcome.count(APART):,} kept apart, "
              f"{outcome.count(SKIP):,} skipped; {waiting:,} still waiting.[/]", highlight=False)
    for candidate in refused:
        out.print(f"[yellow]{candidate.a.person_id} and {candidate.b.person_id} were not merged: "
                  "a decision keeping some of their records apart, or the limit on records "
                  f"per person, stands in the way (kith person {candidate.a.person_id} shows "
                  "why).[/]", highlight=False)


def _print_candidates(candidates, n_waiting: int, fmt: str) -> None:
    """`kith review --list`: the waiting pairs in review order."""
    from kith.flows.review import PRIORITY_LABEL

    if fmt != "table":
        columns = ["review_rank", "priority", "person_a", "name_a", "organisation_a",
                   "interactions_a", "linkedin_a", "person_b", "name_b", "organisation_b",
                   "interactions_b", "linkedin_b", "record_a", "record_b", "score", "evidence"]
        rows = [(c.rank, c.priority,
                 *(v for side in (c.a, c.b) for v in (
                     side.person_id, side.display_name,
                     side.organisations[0] if side.organisations else None,
                     side.n_interactions, side.is_linkedin)),
                 c.record_a, c.record_b, c.score, c.evidence) for c in candidates]
        _print_rows(columns, rows, fmt)
        return
    if not candidates:
        out.print("Nothing to review: no pair of people waits for your decision.")
        return
    shown = (f"{n_waiting:,} {'pair' if n_waiting == 1 else 'pairs'} of people may be one "
             "person"
             + (f", the first {len(candidates):,}" if len(candidates) < n_waiting else ""))
    table = Table(title=escape(shown), title_justify="left", show_edge=False)
    for column, justify in (("#", "right"), ("first for", "left"), ("person", "left"),
                            ("person", "left"), ("score", "right"), ("evidence", "left")):
        table.add_column(column, justify=justify, overflow="fold")

    def who(side) -> str:
        facts = [f"{side.n_interactions:,} interactions" if side.n_interactions
                 else "no interactions"]
        if side.is_linkedin:
            facts.append("LinkedIn")
        org = f", {side.organisations[0]}" if side.organisations else ""
        return escape(f"{side.person_id} {side.display_name}{org} ({'; '.join(facts)})")

    for c in candidates:
        table.add_row(str(c.rank), PRIORITY_LABEL.get(c.priority, c.priority), who(c.a),
                      who(c.b), "" if c.score is None else f"{c.score:g}", escape(c.evidence))
    out.print(table)
    out.print("Decide them one pair at a time: kith review", highlight=False)


def _open_for_writing(db: Path | None, command: str):
    from kith.warehouse.connection import WarehouseBusy, connect

    try:
        return connect(db, create=False)
    except (FileNotFoundError, WarehouseBusy) as exc:
        err.print(f"[red]kith {command}:[/] {escape(str(exc))}")
        raise typer.Exit(1)


def _one_person(con, query: str, command: str, missing_ok: bool = False) -> int | None:
    from kith.transforms.identity.decisions import find_people

    found = find_people(con, query)
    if len(found) == 1:
        return found[0]
    if not found and missing_ok:
        return None
    what = "nobody matches" if not found else f"{len(found)} people match"
    err.print(f"[red]kith {command}:[/] {what} {escape(query)!r}; give a person id "
              "(kith person QUERY shows them)")
    raise typer.Exit(1)


def _decide(con, command: str, store) -> None:
    """Store a decision and rebuild, as one transaction."""
    from kith.transforms.identity.decisions import PersonNotFound
    from kith.transforms.runner import build

    con.execute("begin transaction")
    try:
        store()
    except (PersonNotFound, ValueError) as exc:
        con.execute("rollback")
        err.print(f"[red]kith {command}:[/] {escape(str(exc))}")
        raise typer.Exit(1)
    con.execute("commit")
    build(con)


def _print_people_list(con, person_ids: list[int], title: str) -> None:
    rows = con.execute("""
        select person_id, display_name, primary_email, organisation, lists
        from people where person_id in (select unnest(?)) order by person_id
    """, [person_ids]).fetchall()
    table = Table(title=title, title_justify="left", show_edge=False)
    for column in ("id", "name", "e-mail", "organisation", "lists"):
        table.add_column(column, overflow="fold")
    for pid, name, email, org, lists in rows:
        table.add_row(str(pid), escape(name), escape(email or ""), escape(org or ""),
                      escape(", ".join(lists)))
    out.print(table)


def _print_person(con, person_id: int) -> None:
    import duckdb

    person = con.execute("""
        select display_name, primary_email, emails, phones, profiles, organisation, title,
               lists, is_owner, linkedin_connected_on
        from people where person_id = ?
    """, [person_id]).fetchone()
    (name, email, emails, phones, profiles, org, title, lists, is_owner, connected) = person
    out.print(f"[bold]{escape(name)}[/]  (person {person_id}{', you' if is_owner else ''})")
    for label, value in (("organisation", ", ".join(x for x in (title, org) if x)),
                         ("e-mail", ", ".join(emails)), ("phone", ", ".join(phones)),
                         ("profiles", ", ".join(profiles)), ("lists", ", ".join(lists)),
                         ("LinkedIn since", connected)):
        if value:
            out.print(f"  {label:<15}{escape(str(value))}")

    records = con.execute("""
        select r.record_key, r.record_kind, r.source,
               coalesce(r.full_name, concat_ws(' ', r.given_name, r.family_name)) as name,
               list_concat(r.emails, r.phones, r.profiles) as handles
        from person_ids as ids join int_identity_records as r using (record_key)
        where ids.person_id = ? order by r.record_kind, r.source, r.record_key
    """, [person_id]).fetchall()
    table = Table(title="Records", title_justify="left", show_edge=False)
    for column in ("record", "kind", "source", "name", "handles"):
        table.add_column(column, overflow="fold")
    for key, kind, source, rname, handles in records:
        table.add_row(escape(key), kind, escape(source), escape(rname or ""),
                      escape(", ".join(handles)))
    out.print(table)

    links = con.execute("""
        select record_a, record_b, rule, evidence, score from person_links
        where person_id = ? order by rule, record_a, record_b
    """, [person_id]).fetchall()
    if links:
        table = Table(title="Why these records are one person", title_justify="left",
                      show_edge=False)
        for column in ("record", "record", "rule", "evidence"):
            table.add_column(column, overflow="fold")
        for a, b, rule, evidence, score in links:
            table.add_row(escape(a), escape(b), rule, escape(evidence))
        out.print(table)
    # the pairs still waiting: not those a kith review or kith split has kept apart
    try:
        candidates = con.execute("""
            select case when person_a = ? then person_b else person_a end, score, evidence
            from candidates_to_review where ? in (person_a, person_b) order by review_rank
        """, [person_id, person_id]).fetchall()
    except duckdb.CatalogException:                # built before the view existed
        candidates = []
    for other, score, evidence in candidates:
        out.print(f"  may also be person {other} ({escape(evidence)}); "
                  f"kith merge {person_id} {other} if so, or decide with kith review")
    if not is_owner:
        _print_timeline(con, person_id)


def _print_timeline(con, person_id: int, limit: int = 20) -> None:
    """The relationship: tier, strength and counts, then the latest interactions."""
    import duckdb

    try:
        row = con.execute("""
            select tier, strength, n_sent, n_received, n_replies_sent, n_replies_received,
                   n_small_meetings, n_months_with_contact, first_interaction_at,
                   last_interaction_at, n_interactions
            from relationships where person_id = ?
        """, [person_id]).fetchone()
        rows = con.execute("""
            select interaction_at, channel, direction, is_reply, is_cc, n_participants, weight
            from interactions where person_id = ?
            order by interaction_at desc limit ?
        """, [person_id, limit]).fetchall()
    except duckdb.CatalogException:
        return                                   # built before the relationship views existed
    if row is None:
        return
    (tier, strength, sent, received, replies_sent, replies_received, meetings, months, first,
     last, n) = row
    out.print(f"[bold]Relationship:[/] {tier}, strength {strength:g}")
    if n:
        out.print(f"  {sent:,} sent, {received:,} received ({replies_sent:,} and "
                  f"{replies_received:,} replies), {meetings:,} small meetings, in touch in "
                  f"{months} months; first {first:%Y-%m-%d}, last {last:%Y-%m-%d}")
    if not rows:
        return
    table = Table(title=f"Latest interactions ({min(n, limit)} of {n:,})", title_justify="left",
                  show_edge=False)
    for column in ("when", "channel", "direction", "people", "weight"):
        table.add_column(column, justify="right" if column in ("people", "weight") else "left")
    for when, channel, direction, is_reply, is_cc, people, weight in rows:
        what = direction + (", reply" if is_reply else "") + (", cc" if is_cc else "")
        table.add_row(f"{when:%Y-%m-%d %H:%M}", channel, what, str(people), f"{weight:.2f}")
    out.print(table)


# --- The nightly sync: `kith init`, `kith sync`, `kith serve`, `kith schedule` -------------------
# Prefect is imported only inside `sync` (when PREFECT_API_URL is set), `serve` and `schedule`.

ConfigOption = typer.Option(
    None, "--config", help="Configuration file (default: $KITH_CONFIG, else ./kith.toml).")


def _load_config(config: Path | None, command: str):
    from kith.flows.config import ConfigError, load_config

    try:
        return load_config(config)
    except ConfigError as exc:
        err.print(f"[red]kith {command}:[/] {escape(str(exc))}")
        raise typer.Exit(2)


@app.command("init")
def init_command(
    config: Optional[Path] = ConfigOption,
    force: bool = typer.Option(False, "--force", help="Replace an existing file."),
) -> None:
    """Write a commented configuration file to start from (readable by you only)."""
    from kith.flows.config import TEMPLATE, config_path

    path = config_path(config)
    if path.exists() and not force:
        err.print(f"[red]kith init:[/] {escape(str(path))} already exists: edit it, or pass "
                  "--force to replace it")
        raise typer.Exit(1)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchmod(f.fileno(), 0o600)     # also when --force replaced a file with wider access
        f.write(TEMPLATE)
    out.print(f"Wrote {escape(str(path))}: fill in [owner] and the [[sources]], then run "
              f"`kith sync --config {escape(str(path))}`.", highlight=False)


@app.command("sync")
def sync_command(config: Optional[Path] = ConfigOption) -> None:
    """Sync every configured source now, rebuild the views and print what changed."""
    from kith.flows.sync import SyncAlreadyRunning
    from kith.flows.sync_run import run_sync
    from kith.warehouse.connection import WarehouseBusy

    cfg = _load_config(config, "sync")
    try:
        if os.environ.get("PREFECT_API_URL"):
            report = _sync_as_flow_run(cfg)
        else:
            report = run_sync(
                cfg, on_start=lambda s: err.print(f"syncing {escape(s.name)} ({s.kind})...",
                                                  highlight=False, soft_wrap=True),
                on_done=lambda o: err.print(("[red]" if o.failed else "") + escape(o.describe())
                                            + ("[/]" if o.failed else ""), highlight=False,
                                            soft_wrap=True))
    except (SyncAlreadyRunning, WarehouseBusy) as exc:
        err.print(f"[red]kith sync:[/] {escape(str(exc))}")
        raise typer.Exit(1)
    _print_sync_summary(report)
    refused = any(s.result is not None and s.result.problems for s in report.sources)
    if not report.ok or refused:
        raise typer.Exit(EXIT_FAILED)


def _sync_as_flow_run(cfg):
    """Run the sync as a `kith-nightly-sync` flow run the Prefect server records; return its
    report, also when the run failed."""
    from kith.flows.nightly import nightly_sync
    from kith.flows.sync_run import SyncFailed

    state = nightly_sync(str(cfg.path.resolve()), return_state=True)
    outcome = state.result(raise_on_failure=False)
    if isinstance(outcome, SyncFailed):
        return outcome.report
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _print_sync_summary(report) -> None:
    from kith.flows.sync_run import COUNTS

    table = Table(title=escape(f"Synced into {report.db_path}"), title_justify="left",
                  show_edge=False)
    table.add_column("source")
    table.add_column("kind")
    for name in COUNTS:
        table.add_column(name.replace("_", " "), justify="right")
    for row in report.rows():
        if row["status"] == "failed":
            table.add_row(escape(row["source"]), row["kind"], "[red]failed[/]",
                          *[""] * (len(COUNTS) - 1))
        else:
            table.add_row(escape(row["source"]), row["kind"], *(f"{row[n]:,}" for n in COUNTS))
    if report.sources:
        out.print(table)
    else:
        out.print("No sources configured: add [[sources]] to the configuration file.")
    for outcome in report.sources:
        if outcome.failed:
            out.print(f"[red]{escape(outcome.error)}[/]", highlight=False)
        else:
            for problem in outcome.result.problems:
                out.print(f"[yellow]{escape(problem)}[/]", highlight=False)
            if outcome.status == "partial":
                out.print(f"[yellow]{escape(outcome.name)}: {outcome.unserved_message()}[/]",
                          highlight=False)
    if report.rebuild_error:
        out.print(f"[red]rebuilding the views failed: {escape(report.rebuild_error)}[/]")
    if report.views is not None:
        out.print("Views now hold " + ", ".join(f"{n:,} {name}" for name, n in
                                                report.views.items()) + ".", highlight=False)
    if report.changes:
        out.print("Your network: " + "; ".join(report.changes) + ".", highlight=False)
    if len(report.failed) < len(report.sources) and report.nothing_new:
        out.print(f"Nothing new: {report.total('already_present'):,} records already present, "
                  f"{report.total('skipped'):,} unchanged files skipped.", highlight=False)


@app.command("serve")
def serve_command(config: Optional[Path] = ConfigOption) -> None:
    """Run the sync on its schedule until stopped (Ctrl-C or SIGTERM); needs a Prefect server.

    Serves the Prefect deployment kith-nightly-sync/nightly with the configured cron and zone.
    """
    cfg = _load_config(config, "serve")
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        err.print("[red]kith serve:[/] needs a Prefect server that keeps the schedule and "
                  "records the runs. Start one (`prefect server start`) and set "
                  "PREFECT_API_URL=http://127.0.0.1:4200/api, then run `kith serve` again.")
        raise typer.Exit(2)
    from kith.flows.config import next_runs
    from kith.flows.nightly import serve_nightly

    first = next_runs(cfg, 1)[0]
    err.print(f"Serving kith-nightly-sync/nightly for {escape(str(cfg.path))}: cron "
              f"{cfg.schedule.cron} in {cfg.schedule.timezone}, next run {first:%Y-%m-%d %H:%M %Z}.",
              highlight=False)
    serve_nightly(cfg)


@app.command("schedule")
def schedule_command(
    config: Optional[Path] = ConfigOption,
    n: int = typer.Option(5, "--next", "-n", help="How many upcoming runs to list."),
) -> None:
    """Show when the scheduled sync runs: its cron, its time zone and the next runs."""
    cfg = _load_config(config, "schedule")
    from kith.flows.config import next_runs

    out.print(f"cron {cfg.schedule.cron} in {cfg.schedule.timezone}; next runs:", highlight=False)
    for when in next_runs(cfg, n):
        out.print(f"  {when.isoformat(timespec='minutes')}  {when:%a %Z}", highlight=False)


# --- The network: `kith status`, `kith people` ---------------------------------------------------


def _read_only(db: Path | None, command: str):
    from kith.warehouse.connection import WarehouseBusy, connect

    try:
        return connect(db, read_only=True)
    except (FileNotFoundError, WarehouseBusy) as exc:
        err.print(f"[red]kith {command}:[/] {escape(str(exc))}")
        raise typer.Exit(1)


def _network_query(con, command: str, query: str, params: list | None = None) -> list[tuple]:
    """Rows of a query over the relationship views; a warehouse built before they existed
    gets a hint instead of a traceback."""
    import duckdb

    try:
        return con.execute(query, params or []).fetchall()
    except duckdb.CatalogException:
        err.print(f"[red]kith {command}:[/] this warehouse has no relationship views yet: run "
                  "`kith rebuild` (or import something) first")
        raise typer.Exit(1)


@app.command("status")
def status_command(db: Optional[Path] = DbOption) -> None:
    """Show your network at a glance: each list and how much of it is real contact, the tiers,
    and who changed tier at the last build."""
    from kith.flows.review import count_waiting
    from kith.transforms.relationships import TIERS, read_settings

    con = _read_only(db, "status")
    try:
        rows = _network_query(con, "status",
                              "select * from network_summary order by position, list_name")
        columns = [d[0] for d in con.description]
        rows = [dict(zip(columns, row)) for row in rows]
        settings = read_settings(con)
        changes = con.execute("""
            with snapshots as (
                select max(snapshot_id) as latest_id, min(snapshot_id) as first_id
                from tier_snapshots
            )
            select t.previous_tier, t.tier, count(*) as n, max(t.taken_at) as taken_at
            from tier_snapshots as t
            join snapshots as s on t.snapshot_id = s.latest_id and s.latest_id > s.first_id
            group by all
            order by n desc, t.tier
        """).fetchall()
        n_waiting = count_waiting(con)
    finally:
        con.close()

    for row in rows:
        if row["kind"] == "warning":
            out.print(f"[bold red]{escape(row['summary'])}[/]")
    lists = [row for row in rows if row["kind"] != "warning"]
    if not lists:
        out.print("Nobody yet: import contacts and mail first (kith import PATH...).")
        return
    out.print("[bold]Your network[/]")
    for row in lists:
        out.print(f"  {escape(row['summary'])}", highlight=False)

    everyone = next(row for row in lists if row["kind"] == "everyone")
    table = Table(title="Tiers", title_justify="left", show_edge=False)
    table.add_column("tier")
    table.add_column("people", justify="right")
    table.add_column("what it means")
    for tier, meaning in TIERS.items():
        table.add_row(tier, f"{everyone['n_' + tier]:,}", escape(meaning.format(**settings)))
    out.print(table)

    if n_waiting:
        out.print(f"[bold]{n_waiting:,} {'pair' if n_waiting == 1 else 'pairs'} of people may "
                  "be one person[/] and wait for your review: kith review", highlight=False)

    if changes:
        from datetime import timezone

        when = changes[0][3].astimezone(timezone.utc)
        out.print(f"[bold]Tier changes[/] at the last build that changed any "
                  f"({when:%Y-%m-%d %H:%M} UTC):", highlight=False)
        for previous, tier, n, _ in changes:
            people = "person" if n == 1 else "people"
            moved = (f"new, {tier}" if previous is None else f"moved from {previous} to {tier}")
            out.print(f"  {n:,} {people} {moved}", highlight=False)
        out.print('  (kith sql "select * from tier_changes" lists them)', highlight=False)


@app.command("people")
def people_command(
    tier: Optional[str] = typer.Option(
        None, "--tier", help="Only this tier: inner_circle, active, cooling, dormant, unanswered, "
                             "inbound_only, list_only or seen_only."),
    limit: int = typer.Option(50, "--limit", "-n", help="At most this many people (0: all)."),
    db: Optional[Path] = DbOption,
) -> None:
    """List people, strongest relationship first: name, organisation, tier, strength and the
    last interaction."""
    from kith.transforms.relationships import TIERS

    if tier is not None:
        tier = tier.strip().lower().replace("-", "_").replace(" ", "_")
        if tier not in TIERS:
            err.print(f"[red]kith people:[/] unknown tier {escape(repr(tier))}: use one of "
                      + ", ".join(TIERS))
            raise typer.Exit(2)
    if limit < 0:
        err.print("[red]kith people:[/] --limit must be 0 (all) or more")
        raise typer.Exit(2)
    con = _read_only(db, "people")
    try:
        rows = _network_query(con, "people", """
            select person_id, display_name, organisation, tier, strength,
                   strength_at_last_contact, last_interaction_at, last_channel,
                   days_since_last_interaction, count(*) over () as n_matching
            from network
            where ?::varchar is null or tier = ?::varchar
            order by strength desc, strength_at_last_contact desc,
                     last_interaction_at desc nulls last, display_name, person_id
            limit ?
        """, [tier, tier, limit or None])
    finally:
        con.close()
    if not rows:
        out.print(f"Nobody is {tier}." if tier else "Nobody yet: import contacts and mail first "
                                                    "(kith import PATH...).")
        return
    n_matching = rows[0][-1]
    what = f"{n_matching:,} {tier}" if tier else f"{n_matching:,} people"
    shown = f"{what}, the {len(rows):,} strongest" if len(rows) < n_matching else what
    table = Table(title=escape(shown), title_justify="left", show_edge=False)
    for column, justify in (("id", "right"), ("name", "left"), ("organisation", "left"),
                            ("tier", "left"), ("strength", "right"), ("was", "right"),
                            ("last interaction", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for (pid, name, org, row_tier, strength, was, last_at, channel, days, _) in rows:
        last = (f"{last_at:%Y-%m-%d} {channel}, {days:,} days ago" if last_at is not None
                else "never")
        table.add_row(str(pid), escape(name), escape(org or ""), row_tier, f"{strength:.0f}",
                      f"{was:.0f}", last)
    out.print(table)


@app.command("report")
def report_command(
    out_path: Optional[Path] = typer.Option(
        None, "--out", help="Where to write the page (default: kith-report.html beside the "
                            "warehouse; kith-person-ID.html with --person)."),
    person: Optional[str] = typer.Option(
        None, "--person", help="One person's page instead: a person id, e-mail, phone or name."),
    open_page: bool = typer.Option(False, "--open", help="Open the page in your web browser."),
    db: Optional[Path] = DbOption,
) -> None:
    """Write your network as one HTML page with charts: lists, tiers, whom to reconnect with,
    who waits on you, follow-ups. It opens from disk, fetches nothing, and is readable by you
    only."""
    import duckdb

    from kith.report.page import default_path, write_network_report, write_person_report
    from kith.warehouse.connection import resolve_db_path

    con = _read_only(db, "report")
    try:
        if person is None:
            path = out_path or default_path(resolve_db_path(db))
            try:
                network = write_network_report(con, path)
            except duckdb.CatalogException:
                err.print("[red]kith report:[/] this warehouse has no relationship views yet: "
                          "run `kith rebuild` (or import something) first")
                raise typer.Exit(1)
            headline = (network.everyone["summary"] if network.everyone else
                        "nobody yet: the page says what to import first")
        else:
            person_id = _one_person(con, person, "report")
            path = out_path or default_path(resolve_db_path(db), person_id)
            page = write_person_report(con, person_id, path)
            headline = page.person["display_name"]
    finally:
        con.close()
    out.print(f"Wrote {escape(str(path))} ({escape(headline)})", highlight=False, soft_wrap=True)
    if open_page:
        import webbrowser
        webbrowser.open(path.resolve().as_uri())


# --- Introductions: `kith orgs`, `kith intro` ------------------------------------------------


@app.command("orgs")
def orgs_command(
    limit: int = typer.Option(50, "--limit", "-n", help="At most this many organisations (0: all)."),
    fmt: str = typer.Option("table", "--format", "-f", help="Output: table, csv or json."),
    db: Optional[Path] = DbOption,
) -> None:
    """List the organisations your people are at (names on cards and mail domains resolved
    together), strongest tie first: how many people, how many with two-way contact, who is
    closest and when you were last in touch."""
    _check_listing("orgs", fmt, limit)
    con = _read_only(db, "orgs")
    try:
        rows = _network_query(con, "orgs", """
            select organisation, n_people, n_two_way, n_active, strongest_name, strongest_tier,
                   strongest_strength, last_interaction_at, domains
            from organisations
            order by strongest_strength desc, n_two_way desc, n_people desc, organisation
            limit ?
        """, [limit or None])
        columns = [d[0] for d in con.description]
    finally:
        con.close()
    if not rows and fmt == "table":
        out.print("No organisations yet: kith finds them on contact cards and in work mail "
                  "domains (kith import PATH...).")
        return
    _print_rows(columns, rows, fmt)


@app.command("intro")
def intro_command(
    target: str = typer.Argument(..., help="A person (anything kith person finds), an "
                                           "organisation name or a mail domain."),
    limit: int = typer.Option(10, "--limit", "-n", help="At most this many paths (0: all)."),
    fmt: str = typer.Option("table", "--format", "-f", help="Output: table, csv or json."),
    db: Optional[Path] = DbOption,
) -> None:
    """Who can introduce you to a person or to someone at an organisation: your own ties
    first, then people you are in touch with who were on small threads or meetings with
    them, ranked by your tie to them times theirs to the target."""
    from kith.transforms.introductions import (PATH_COLUMNS, TargetNotFound, TargetTooBroad,
                                               find_paths, find_target, why_no_paths)

    _check_listing("intro", fmt, limit)
    con = _read_only(db, "intro")
    try:
        _network_query(con, "intro", "select 1 from introductions limit 0")
        try:
            found = find_target(con, target)
        except TargetNotFound as exc:
            closest = (f"; the closest organisations: {', '.join(exc.suggestions)}"
                       if exc.suggestions else "")
            err.print(f"[red]kith intro:[/] nobody and no organisation matches "
                      f"{escape(repr(target))}{escape(closest)}")
            raise typer.Exit(1)
        except TargetTooBroad as exc:
            more = f" (the first {len(exc.choices)})" if exc.n_matches > len(exc.choices) else ""
            err.print(f"[red]kith intro:[/] {exc.n_matches:,} match {escape(repr(target))}; "
                      f"ask for a narrower one{more}: {escape(', '.join(exc.choices))}")
            raise typer.Exit(1)
        rows = find_paths(con, found, limit or None)
        reason = why_no_paths(con, found) if not rows else ""
    finally:
        con.close()
    if fmt != "table":
        _print_rows(PATH_COLUMNS, rows, fmt)
        return
    if not rows:
        out.print(f"No path to {escape(found.label)}: {escape(reason)}")
        return
    out.print(f"[bold]Paths to {escape(found.label)}[/]")
    for row in rows:
        path = dict(zip(PATH_COLUMNS, row))
        out.print(f"  {path['rank']:>2}. {escape(path['evidence'])}", highlight=False)


def _check_listing(command: str, fmt: str, limit: int) -> None:
    if fmt not in ("table", "csv", "json"):
        err.print(f"[red]kith {command}:[/] unknown --format {fmt!r}: use table, csv or json")
        raise typer.Exit(2)
    if limit < 0:
        err.print(f"[red]kith {command}:[/] --limit must be 0 (all) or more")
        raise typer.Exit(2)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:           # before or after a command ran (while importing modules)
        if _debugging():
            raise
        err.print("[red]kith:[/] interrupted (Ctrl-C).")
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
