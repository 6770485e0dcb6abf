"""Look-up commands for researchers and journalists.

``xxgk agency QUERY``, ``xxgk report AGENCY YEAR``, ``xxgk history AGENCY``, ``xxgk flags``,
``xxgk coverage``, ``xxgk export``, ``xxgk serve`` and ``xxgk resolve-agencies``. Every command
takes ``--db``/``--archive`` (or ``XXGK_DB``/``XXGK_ARCHIVE``) and prints JSON with ``--json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Optional

import click

from crawler.cli.errors import one_line_errors
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from crawler.config import db_options

console = Console()
STATE_STYLE = {"parsed": "[green]✓[/green]", "flagged": "[yellow]![/yellow]", "found": "[cyan]?[/cyan]",
               "missing": "[red]✗[/red]", "blocked": "[magenta]B[/magenta]", "not_due": "[dim]·[/dim]"}


def _one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Lookup, export and database failures: one line on stderr, exit status 1."""
    from crawler.export import ExportError

    return one_line_errors(LookupError, ExportError, ValueError, OSError)(command)


def _session(db_url: str):  # type: ignore[no-untyped-def]
    from crawler.lookup import open_readonly

    return open_readonly(db_url)()


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


def _name_column(header: str) -> Column:
    """Agency names wrap rather than lose their end (the end is what tells agencies apart)."""
    return Column(header, overflow="fold", min_width=8)


def _fmt(value: Any) -> str:
    return "—" if value is None else str(value)


# ---------------------------------------------------------------------- agency
@click.command("agency")
@click.argument("query")
@click.option("--limit", default=20, show_default=True, help="Most matches to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the matches as JSON.")
@db_options
@_one_line_errors
def agency(query: str, limit: int, as_json: bool, db_url: str, archive_dir: Path) -> None:
    """Find agencies by (part of) their name, in simplified or traditional characters, or by division code."""
    from crawler.lookup import search_agencies

    with _session(db_url) as session:
        hits = search_agencies(session, query, limit=limit)
    if as_json:
        _dump({"query": query, "matches": hits})
        return
    if not hits:
        console.print(f"no agency matches {query!r}")
        sys.exit(1)
    table = Table(_name_column("agency"), "level", "division", _name_column("parent"), "reports", "years", "score",
                  title=f"agencies matching {query!r}")
    for hit in hits:
        years = hit["years"]
        span = f"{years[0]}–{years[-1]}" if len(years) > 1 else (str(years[0]) if years else "")
        table.add_row(hit["name"], _fmt(hit["level"]), _fmt(hit["division_code"]), _fmt(hit["parent"]),
                      str(hit["reports"]), span, str(hit["score"]))
    console.print(table)


@click.command("resolve-agencies")
@click.option("--json", "as_json", is_flag=True, help="Print the count as JSON.")
@db_options
@_one_line_errors
def resolve_agencies(as_json: bool, db_url: str, archive_dir: Path) -> None:
    """Fill level, division code, parent and aliases of every agency from the official division list."""
    from crawler.agencies import enrich_agencies
    from crawler.db.session import open_database, transaction

    with transaction(open_database(db_url)) as session:
        changed = enrich_agencies(session)
    if as_json:
        _dump({"agencies_updated": changed})
    else:
        console.print(f"{changed} agencies updated")


# ---------------------------------------------------------------------- report
@click.command("report")
@click.argument("agency_name", metavar="AGENCY")
@click.argument("year", type=int)
@click.option("--base-url", default=None, help="Where `xxgk serve` runs, for the archived original's URL "
              "(e.g. http://127.0.0.1:8001).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@db_options
@_one_line_errors
def report(agency_name: str, year: int, base_url: Optional[str], as_json: bool, db_url: str, archive_dir: Path) -> None:
    """One report: all tables as printed, failed checks, provenance, archived original and source page."""
    from crawler.lookup import report_detail

    with _session(db_url) as session:
        detail = report_detail(session, agency_name, year, archive_dir=archive_dir, base_url=base_url)
    if as_json:
        _dump(detail)
        return
    _print_report(detail)


def _print_report(detail: dict[str, Any]) -> None:
    agency_row = detail["agency"] or {}
    console.rule(f"[bold]{agency_row.get('name')} {detail['year']}")
    console.print(f"[bold]{detail['title'] or '(no title)'}[/bold]")
    console.print(f"format {detail['format']} · version {detail['version']} · signed {_fmt(detail['signature_date'])} · "
                  f"parser {detail['parser_version']} · report #{detail['report_id']}")
    if detail["changed_after_publication"]:
        console.print("[yellow]changed after publication[/yellow]: " + ", ".join(
            f"{c['key']} {c['old']} → {c['new']}" for c in detail["changes"]))
    for table_data in detail["tables"]:
        table = Table("", *table_data["columns"], title=f"table {table_data['table']}"
                      + (f" (page {table_data['page']})" if table_data["page"] else ""))
        for row in table_data["rows"]:
            cells = [row["cells"].get(c) for c in table_data["columns"]]
            table.add_row(row["label"], *["" if c is None else _fmt(c["value"]) for c in cells])
        console.print(table)
    failed = detail["failed_checks"]
    console.print(f"checks: {len(detail['checks']) - len(failed)} passed or skipped, [red]{len(failed)} failed[/red]")
    for check in failed:
        console.print(f"  [red]✗ {check['id']} {check['scope']}: expected {_fmt(check['expected'])}, "
                      f"printed {_fmt(check['actual'])}[/red] {check['note'] or ''}")
    provenance = detail["provenance"]
    console.print(f"document sha256 {provenance['document_sha256']} ({provenance['media_type']}, {provenance['size']} bytes)")
    original = provenance["archived_original"]
    if original:
        state = "" if original["exists"] else " [red](missing: run xxgk verify)[/red]"
        console.print(f"archived original: {original['path']}{state}")
    console.print(f"archived original (web): {provenance['archived_original_url']}")
    console.print(f"source page: {_fmt(provenance['source_url'])}")
    for capture in provenance["captures"]:
        console.print(f"  captured {capture['fetched_at']} HTTP {capture['status']} {capture['url']}"
                      + (f" (listed on {capture['listing_page']})" if capture["listing_page"] else ""))


# ---------------------------------------------------------------------- history
@click.command("history")
@click.argument("agency_name", metavar="AGENCY")
@click.option("--key", "keys", multiple=True, help="Canonical key to show (repeatable; default: key figures).")
@click.option("--json", "as_json", is_flag=True, help="Print the history as JSON.")
@db_options
@_one_line_errors
def history(agency_name: str, keys: tuple[str, ...], as_json: bool, db_url: str, archive_dir: Path) -> None:
    """Key figures of one agency across years, with the cross-year checks X1 and X2."""
    from crawler.lookup import agency_history

    with _session(db_url) as session:
        data = agency_history(session, agency_name, keys=list(keys) or None)
    if as_json:
        _dump(data)
        return
    years = data["years"]
    table = Table("figure", *[str(y["year"]) for y in years], title=f"{data['agency']['name']}: history")
    for key, label in data["keys"].items():
        table.add_row(label, *[_fmt(y["figures"].get(key)) for y in years])
    table.add_row("format", *[y["format"] for y in years])
    for check in ("X1", "X2"):
        table.add_row(f"{check} (cross-year)", *[_status(y[check]) for y in years])
    table.add_row("failed checks", *[("[red]" + ",".join(y["failed_checks"]) + "[/red]") if y["failed_checks"] else ""
                                     for y in years])
    table.add_row("changed after publication", *["[yellow]yes[/yellow]" if y["changed_after_publication"] else ""
                                                 for y in years])
    console.print(table)


def _status(status: Optional[str]) -> str:
    return {"pass": "[green]pass[/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]fail[/red]",
            "skip": "[dim]skip[/dim]"}.get(status or "", "")


# ---------------------------------------------------------------------- flags
@click.command("flags")
@click.option("--year", type=int, default=None, help="Only this report year.")
@click.option("--check", default=None, help="Only this check id (e.g. B1, C1, X1).")
@click.option("--changed", "changed_only", is_flag=True, help="Only reports changed after publication.")
@click.option("--limit", type=int, default=None, help="At most this many reports.")
@click.option("--json", "as_json", is_flag=True, help="Print the flagged reports as JSON.")
@db_options
@_one_line_errors
def flags(year: Optional[int], check: Optional[str], changed_only: bool, limit: Optional[int], as_json: bool,
          db_url: str, archive_dir: Path) -> None:
    """Reports whose identities fail, or that changed after publication."""
    from crawler.lookup import flagged_reports

    with _session(db_url) as session:
        rows = flagged_reports(session, year=year, check=check, changed_only=changed_only, limit=limit)
    if as_json:
        _dump({"flagged": rows})
        return
    table = Table(_name_column("agency"), "year", "report", "failed checks", "changed after publication",
                  title=f"{len(rows)} flagged reports")
    for row in rows:
        failed = ", ".join(f"{c['id']} {c['scope']} ({c['expected']}≠{c['actual']})" for c in row["failed_checks"])
        changed = ", ".join(f"{c['key']} {c['old']}→{c['new']}" for c in row["changes"][:5])
        if len(row["changes"]) > 5:
            changed += f" … (+{len(row['changes']) - 5})"
        table.add_row(_fmt(row["agency"]), _fmt(row["year"]), f"#{row['report_id']} v{row['version']}",
                      f"[red]{failed}[/red]" if failed else "", f"[yellow]{changed}[/yellow]" if changed else "")
    console.print(table)


# ---------------------------------------------------------------------- coverage
@click.command("coverage")
@click.option("--year", "years", type=int, multiple=True, help="Report year (repeatable; default: all years stored).")
@click.option("--level", default=None, help="Agency level: national, province, city, county, town, department.")
@click.option("--region", default=None, help="Division-code prefix, e.g. 3208 for 淮安市.")
@click.option("--json", "as_json", is_flag=True, help="Print the matrix as JSON.")
@db_options
@_one_line_errors
def coverage(years: tuple[int, ...], level: Optional[str], region: Optional[str], as_json: bool,
             db_url: str, archive_dir: Path) -> None:
    """Agency × year matrix: expected, found, parsed, flagged, missing, blocked."""
    from crawler.lookup import coverage as coverage_matrix

    with _session(db_url) as session:
        data = coverage_matrix(session, years=list(years), level=level, region=region)
    if as_json:
        _dump(data)
        return
    table = Table(_name_column("agency"), "level", "division", *[str(y) for y in data["years"]], title="coverage")
    for row in data["agencies"]:
        table.add_row(row["agency"], _fmt(row["level"]), _fmt(row["division_code"]),
                      *[STATE_STYLE[row["years"][str(y)]] for y in data["years"]])
    console.print(table)
    totals = data["totals"]
    console.print(" · ".join(f"{name} {totals[name]}" for name in ("expected", "parsed", "flagged", "found",
                                                                     "missing", "blocked")))
    console.print("legend: " + "  ".join(f"{mark} {state}" for state, mark in STATE_STYLE.items()))


# ---------------------------------------------------------------------- export
@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet", "xlsx"]), default="csv",
              show_default=True, help="File format.")
@click.option("--shape", type=click.Choice(["long", "wide"]), default=None,
              help="long: one row per value; wide: one row per report (default: wide for jsonl/xlsx, long otherwise).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file (default: stdout for csv/jsonl; required for parquet/xlsx).")
@click.option("--year", "years", type=int, multiple=True, help="Report year (repeatable).")
@click.option("--level", default=None, help="Agency level: national, province, city, county, town, department.")
@click.option("--region", default=None, help="Division-code prefix, e.g. 32 (江苏省) or 320813 (洪泽区).")
@click.option("--report-format", "report_formats", multiple=True, help="Report format: F2021, F2019, PRE2019 (repeatable).")
@click.option("--agency", "agency_query", default=None, help="Only this agency.")
@click.option("--all-versions", is_flag=True, help="Every stored version, not just the current one.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stderr (the data goes to --output/stdout).")
@db_options
@_one_line_errors
def export(fmt: str, shape: Optional[str], output: Optional[Path], years: tuple[int, ...], level: Optional[str],
           region: Optional[str], report_formats: tuple[str, ...], agency_query: Optional[str], all_versions: bool,
           as_json: bool, db_url: str, archive_dir: Path) -> None:
    """Export reports to CSV, JSON Lines, Parquet or XLSX (long or wide), filtered by year, level, region, format."""
    from crawler.export import ExportFilter, count_reports
    from crawler.export import export as run_export
    from crawler.lookup import find_one_agency

    with _session(db_url) as session:
        agency_ids = [find_one_agency(session, agency_query).id] if agency_query else []
        flt = ExportFilter(years=years, level=level, region=region, formats=report_formats,
                           agency_ids=agency_ids, all_versions=all_versions)
        total = count_reports(session, flt)
        target: Any = output if output is not None else sys.stdout
        show_progress = output is not None and not as_json and sys.stderr.isatty()
        with Progress(TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), disable=not show_progress) as progress:
            task = progress.add_task("export", total=total)
            result = run_export(session, fmt, shape, target, flt, progress=lambda n: progress.advance(task, n))
    summary = {"format": fmt, "shape": shape or {"jsonl": "wide", "xlsx": "wide"}.get(fmt, "long"),
               "reports": result.reports, "rows": result.rows, "output": str(output) if output else "-",
               "sheets": result.sheets}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False), err=True)
    elif output is not None:
        console.print(f"{result.reports} reports, {result.rows} rows → {output}")


# ---------------------------------------------------------------------- serve
@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port.")
@click.option("--immutable", is_flag=True, help="Treat the database as a published snapshot nothing writes to "
              "(faster; also allows downloading the database file).")
@click.option("--json", "as_json", is_flag=True, help="Print the URL as JSON before serving.")
@db_options
@_one_line_errors
def serve(host: str, port: int, immutable: bool, as_json: bool, db_url: str, archive_dir: Path) -> None:
    """Browse the database in Datasette (read-only): search, facets, canned queries, report pages, originals."""
    from crawler.config import sqlite_path
    from crawler.lookup import open_readonly
    from crawler.web import serve as run_server

    db_file = sqlite_path(db_url)
    if db_file is None:
        raise ValueError("xxgk serve needs an SQLite database (Datasette); export a snapshot from PostgreSQL first")
    open_readonly(db_url)  # exists, schema at head
    url = f"http://{host}:{port}/"
    if as_json:
        click.echo(json.dumps({"url": url, "database": str(db_file), "archive": str(archive_dir)}, ensure_ascii=False))
    else:
        console.print(f"serving {db_file} (read-only) at {url} — archive {archive_dir}; Ctrl-C to stop")
    sys.stdout.flush()
    run_server(db_file, archive_dir, host=host, port=port, immutable=immutable)
