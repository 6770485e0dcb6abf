"""Storage commands: ``xxgk db upgrade|current``, ``xxgk verify``, ``xxgk chain``, ``xxgk reparse``.

Every command takes ``--db`` / ``--archive`` and honours ``XXGK_DB`` / ``XXGK_ARCHIVE``
(see :mod:`crawler.config`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy import func, select

from crawler.archive import Archive
from crawler.cli.errors import one_line_errors
from crawler.config import db_options

console = Console()


def _one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Database, archive and provenance failures become one line on stderr and exit status 1."""
    from crawler.archive import ArchiveError
    from crawler.provenance import ChainError

    return one_line_errors(ChainError, ArchiveError)(command)


@click.group("db")
def db() -> None:
    """Database schema: create or upgrade (Alembic), show the revision."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target Alembic revision.")
@db_options
@_one_line_errors
def db_upgrade(revision: str, db_url: str, archive_dir: Path) -> None:
    """Create the database or bring it to the current schema (keeps all data)."""
    from crawler.db.session import current_revision, upgrade

    before = current_revision(db_url)
    upgrade(db_url, revision)
    after = current_revision(db_url)
    click.echo(f"{_safe_url(db_url)}: {before or 'empty'} -> {after}")


@db.command("current")
@db_options
@_one_line_errors
def db_current(db_url: str, archive_dir: Path) -> None:
    """Print the database's schema revision and the code's head revision."""
    from crawler.db.session import current_revision, head_revision

    current, head = current_revision(db_url), head_revision()
    state = "up to date" if current == head else ("empty: run `xxgk db upgrade`" if current is None
                                                  else "behind: run `xxgk db upgrade`")
    click.echo(f"{_safe_url(db_url)}: revision {current or '-'} (head {head}; {state})")
    click.echo(f"archive: {archive_dir}")


@click.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@db_options
@_one_line_errors
def verify(as_json: bool, db_url: str, archive_dir: Path) -> None:
    """Re-hash every archived payload and re-read every WARC file; exit 1 if any is missing or damaged."""
    from crawler.db.models import Capture, Document
    from crawler.db.session import open_database, transaction

    factory = open_database(db_url)
    with transaction(factory) as session:
        blobs = set(session.scalars(select(Document.sha256).distinct()))
        blobs |= set(session.scalars(select(Capture.sha256).distinct().where(Capture.sha256.is_not(None))))
        # each WARC file with the end of its last referenced record: damage past that end is the
        # unfinished last write of a killed crawl, not damage to anything the database points at
        warcs = {name: int(end or 0) for name, end in session.execute(
            select(Capture.warc_file, func.max(Capture.warc_offset + Capture.warc_length))
            .where(Capture.warc_file.is_not(None)).group_by(Capture.warc_file))}
    archive = Archive(archive_dir)
    with _progress(disable=as_json) as progress:
        task = progress.add_task("verifying", total=None)
        result = archive.verify(blobs, warcs, progress=lambda _name: progress.advance(task))
    if as_json:
        click.echo(json.dumps({"ok": result.ok, "blobs_checked": result.blobs_checked,
                               "warcs_checked": result.warcs_checked, "missing": result.missing,
                               "damaged": result.damaged, "incomplete_tails": result.incomplete_tails,
                               "details": result.details}, ensure_ascii=False))
    else:
        console.print(f"archive {archive_dir}: {result.blobs_checked} blobs, {result.warcs_checked} WARC files checked")
        for item in result.incomplete_tails:
            console.print(f"[dim]note: {item} ends with an unfinished write of a killed crawl "
                          "(after every record the database references)[/dim]")
        if result.ok:
            console.print("[green]OK[/green]: nothing missing or damaged")
        else:
            table = Table("problem", "item", "detail")
            for item in result.missing:
                table.add_row("[red]missing[/red]", item, result.details.get(item, ""))
            for item in result.damaged:
                table.add_row("[red]damaged[/red]", item, result.details.get(item, ""))
            console.print(table)
    sys.exit(0 if result.ok else 1)


@click.command("chain")
@click.argument("agency")
@click.argument("year", type=int)
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print the chain as JSON.")
@db_options
@_one_line_errors
def chain(agency: str, year: int, key: str, as_json: bool, db_url: str, archive_dir: Path) -> None:
    """Print where one value comes from: cell, archived document, captures, listing page."""
    from crawler.db.session import open_database, transaction
    from crawler.provenance import value_chain

    factory = open_database(db_url)
    with transaction(factory) as session:
        result = value_chain(session, Archive(archive_dir), key, agency=agency, year=year)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    _print_chain(result)


def _print_chain(result: Any) -> None:
    table = Table(show_header=False, box=None)
    table.add_row("value", f"[bold]{result.key}[/bold] = {result.value if result.value is not None else 'blank'}")
    table.add_row("report", f"{result.agency} {result.year} (report {result.report_id}, version "
                            f"{result.report_version}, parser {result.parser_version or '-'})")
    table.add_row("title", result.title or "-")
    cell = result.cell
    table.add_row("cell", f"raw {cell['raw']!r}, page {cell['page']}, table {cell['table']}, "
                          f"row {cell['row_label']!r}, column {cell['col_label']!r}")
    verified = "[green]bytes verified[/green]" if result.bytes_verified else "[red]bytes missing or damaged[/red]"
    table.add_row("document", f"sha256 {result.document_sha256} ({result.document_size} bytes, "
                              f"{result.media_type}) {verified}")
    table.add_row("archived at", result.archive_path)
    for capture in result.captures:
        kind = "revisit" if capture.is_revisit else "capture"
        record = {True: "[green]record ok[/green]", False: "[red]record missing[/red]", None: ""}[capture.warc_record_ok]
        table.add_row(kind, f"{capture.url} status {capture.status} at {capture.fetched_at}\n"
                            f"WARC {capture.warc_file} offset {capture.warc_offset} length {capture.warc_length} {record}")
        if capture.referrer_url:
            seen = capture.referrer_capture
            table.add_row("listed on", capture.referrer_url + (f" (archived {seen['fetched_at']}, WARC "
                                                               f"{seen['warc_file']} offset {seen['warc_offset']})"
                                                               if seen else " (listing page not archived)"))
    console.print(table)


@click.command("reparse")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--document", "document_ids", type=int, multiple=True, help="Only this document id (repeatable).")
@db_options
@_one_line_errors
def reparse(as_json: bool, document_ids: tuple[int, ...], db_url: str, archive_dir: Path) -> None:
    """Run the current parser over the archived documents (no network) and print what changed."""
    from crawler.db.session import open_database
    from crawler.reparse import reparse as run_reparse

    factory = open_database(db_url)
    with _progress(disable=as_json) as progress:
        task = progress.add_task("re-parsing", total=None)
        summary = run_reparse(factory, Archive(archive_dir), document_ids=document_ids or None,
                              progress=lambda done, total: progress.update(task, completed=done, total=total))
    if as_json:
        click.echo(json.dumps(summary.to_dict(), ensure_ascii=False))
    else:
        _print_reparse(summary)
    sys.exit(1 if summary.failed else 0)


def _print_reparse(summary: Any) -> None:
    console.print(f"{summary.documents} documents: {summary.changed} changed, {summary.unchanged} unchanged, "
                  f"{summary.new} new, {summary.failed} failed, {summary.stale_version} differ without a "
                  f"new parser version")
    table = Table("report", "status", "added", "removed", "changed")
    for diff in summary.diffs:
        if diff.status in ("unchanged",):
            continue
        label = f"{diff.agency or '?'} {diff.year or '?'} (doc {diff.document_id})"
        changed = "\n".join(f"{k}: {old} → {new}" for k, (old, new) in list(diff.changed.items())[:20])
        table.add_row(label, diff.status if not diff.error else f"failed: {diff.error}",
                      str(len(diff.added)), str(len(diff.removed)), changed)
    if table.row_count:
        console.print(table)


def _progress(disable: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    console=Console(stderr=True), disable=disable, transient=True)


def _safe_url(db_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(db_url).render_as_string(hide_password=True)
