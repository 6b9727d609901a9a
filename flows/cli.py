"""The `kith` command line.

Start-up matters: `kith sql` must answer in well under a second, so this module imports neither
Prefect nor the connectors at the top; each command imports what it needs.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(
    help="kith: which of your contacts are a real network, and which are only a list.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
# Piped output gets room for the summary table instead of rich's 80-column default.
out = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160)
err = Console(stderr=True)

DbOption = typer.Option(None, "--db", help="Warehouse file (default: $KITH_DB, else ./kith.duckdb).")


@app.command("import")
def import_command(
    paths: List[Path] = typer.Argument(
        ..., help="vCard, contacts CSV, mbox or .eml files, Maildir folders, or folders of them."),
    tag: Optional[str] = typer.Option(
        None, "--tag", help='Stored with every card of this import, e.g. "Chamber mixer 2026-11-20".'),
    region: Optional[str] = typer.Option(
        None, "--region", help="Region for phone numbers without a country code, e.g. US, DE "
                               "(default: $KITH_PHONE_REGION, else your locale's country)."),
    subjects: bool = typer.Option(
        False, "--subjects", help="Also store e-mail subjects (off by default: only addresses, "
                                  "dates, ids and thread links are kept)."),
    db: Optional[Path] = DbOption,
) -> None:
    """Import business cards, address books and mail archives into the warehouse."""
    from flows.importing import expand_paths
    from warehouse.connection import WarehouseBusy, resolve_db_path

    db_path = resolve_db_path(db)
    try:
        files = expand_paths(paths)
    except FileNotFoundError as exc:
        err.print(f"[red]kith import:[/] {exc}")
        raise typer.Exit(2)
    try:
        if os.environ.get("PREFECT_API_URL"):
            from flows.import_flow import import_flow
            summary = import_flow([str(p) for p in paths], str(db_path), tag,
                                  region.upper() if region else None, subjects)
        else:
            summary = _import_with_progress(files, db_path, tag, region, subjects)
    except WarehouseBusy as exc:
        err.print(f"[red]kith import:[/] {exc}")
        raise typer.Exit(1)
    _print_import_summary(summary, db_path, tag)
    if summary.failed and not any(f.ok for f in summary.files):
        raise typer.Exit(1)


def _import_with_progress(files, db_path, tag, region, subjects):
    """Run the import in this process, with a progress bar when it takes more than a moment."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from flows.importing import run_import

    total_bytes = sum(f.stat().st_size for f in files if f.is_file())
    show = err.is_terminal and (total_bytes > 2_000_000 or len(files) > 20)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[records]:,} records"), TimeElapsedColumn(),
                        console=err, transient=True, disable=not show)
    with progress:
        bar = progress.add_task("importing", total=len(files), records=0)
        seen: dict[Path, int] = {}

        def on_progress(path: Path, n: int) -> None:
            seen[path] = n
            progress.update(bar, completed=len(seen) - 1, records=sum(seen.values()),
                            description=path.name[:40])

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
    for f in summary.failed:
        out.print(f"[yellow]{escape(str(f.path))}[/]: {escape(f.problem)}")
    n_read = summary.total("n_read")
    if loaded and summary.total("n_inserted") == 0:
        n_present = summary.total("n_already_present")
        out.print(f"Nothing new: {n_present:,} of {n_read:,} records were already present"
                  + (f", {summary.total('n_rejected'):,} rejected." if summary.total("n_rejected")
                     else "."))
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
    from connectors.imap import DEFAULT_EXCLUDE, ImapAccount, ImapError
    from flows.mail_sync import sync_imap
    from transforms.runner import build
    from warehouse.connection import connect, resolve_db_path

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
    db: Optional[Path] = DbOption,
) -> None:
    """Say which e-mail addresses are yours: mail from them is sent, mail to them received."""
    from connectors.emails import normalize_email
    from transforms.runner import build
    from warehouse.connection import connect

    normalized = []
    for address in addresses or []:
        value = normalize_email(address)
        if value is None:
            err.print(f"[red]kith owner:[/] {escape(address)!r} is not an e-mail address")
            raise typer.Exit(2)
        normalized.append(value)
    con = connect(db)
    try:
        if normalized:
            con.execute("begin transaction")
            for value in normalized:
                if remove:
                    con.execute("delete from owner_addresses where address = ?", [value])
                else:
                    con.execute("insert or ignore into owner_addresses values (?, now())",
                                [value])
            con.execute("commit")
            build(con)
        rows = con.execute("select address from owner_addresses order by address").fetchall()
    finally:
        con.close()
    for (address,) in rows:
        out.print(address)
    if not rows:
        out.print("No owner addresses yet: kith owner you@example.com")


@app.command("sql")
def sql_command(
    query: Optional[str] = typer.Argument(
        None, help="A SQL query. Without one, lists the tables and views you can query."),
    fmt: str = typer.Option("table", "--format", "-f", help="Output: table, csv or json."),
    db: Optional[Path] = DbOption,
) -> None:
    """Query the warehouse (read-only) and print the result as a table, CSV or JSON."""
    import duckdb

    from warehouse.connection import WarehouseBusy, connect

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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
