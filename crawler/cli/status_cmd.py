"""``xxgk status``: the last crawl runs and the sources that need attention.

    xxgk status                  # rich tables
    xxgk status --runs 20 --json # for scripts and alerting (exit 1 when a source needs attention)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from crawler.config import db_options

_OUTCOME_STYLE = {"finished": "green", "running": "cyan", "interrupted": "yellow", "killed": "red",
                  "failed": "red"}


def collect_status(db_url: str, runs: int, refresh: bool = True) -> dict[str, Any]:
    """What ``xxgk status`` shows, as plain data (parse outcomes recounted first: long-running
    ``xxgk work --forever`` workers may have parsed documents of recent runs since)."""
    from crawler.db.session import open_database, transaction
    from crawler.monitoring import last_runs, refresh_parse_health, sources_needing_attention

    factory = open_database(db_url)
    if refresh:
        with transaction(factory) as session:
            refresh_parse_health(session)
    with factory() as session:
        return {"runs": last_runs(session, runs),
                "attention": [a.to_dict() for a in sources_needing_attention(session)]}


@click.command("status")
@click.option("--runs", default=10, show_default=True, help="How many of the last crawl runs to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.option("--no-refresh", is_flag=True, help="Show the stored parse counts without recounting them.")
@db_options
def status(runs: int, as_json: bool, no_refresh: bool, db_url: str, archive_dir: Path) -> None:
    """Show the last crawl runs and the sources that need attention.

    A source needs attention when its last run found it blocked, failed to read its column, found
    zero reports where an earlier run found some, had more parse failures than the run before,
    or had fetch errors. Exit status 1 when any source needs attention (for alerting), else 0.
    """
    data = collect_status(db_url, runs, refresh=not no_refresh)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        _print_tables(data)
    sys.exit(1 if data["attention"] else 0)


def _print_tables(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    runs = Table(title="last crawl runs")
    for column in ("run", "started (UTC)", "outcome", "mode", "sources", "found", "new", "errors",
                   "parse fail", "monitors failed"):
        runs.add_column(column)
    for run in data["runs"]:
        style = _OUTCOME_STYLE.get(run["outcome"] or "", "")
        outcome = f"[{style}]{run['outcome']}[/{style}]" if style else str(run["outcome"])
        sources = ", ".join(f"{k} {v}" for k, v in sorted(run["sources"].items()))
        runs.add_row(str(run["id"]), _time(run["started_at"]), outcome, run["mode"], sources,
                     str(run["reports_found"]), str(run["new_documents"]), str(run["errors"]),
                     str(run["parse_failures"]), ", ".join(run["monitors_failed"]))
    console.print(runs)
    if not data["attention"]:
        console.print("[green]No source needs attention.[/green]")
        return
    attention = Table(title="sources that need attention")
    for column in ("source", "last run", "why", "column URL"):
        attention.add_column(column)
    for item in data["attention"]:
        attention.add_row(item["source"], str(item["run_id"]), "\n".join(item["reasons"]), item["url"])
    console.print(attention)


def _time(value: Any) -> str:
    return str(value)[:19].replace("T", " ") if value else ""
