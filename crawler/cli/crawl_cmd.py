"""``xxgk crawl`` and ``xxgk demo``.

    xxgk crawl                               # every enabled source of the starter registry
    xxgk crawl --source mva-zfxxgknb         # one source (repeatable)
    xxgk crawl --start-url https://…/zfxxgknb/   # one column, platform auto-detected
    xxgk crawl --registry my.yaml --jobdir .jobdir/run1   # another registry, resumable
    xxgk demo                                # a simulated portal, crawled and parsed locally
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import click

from crawler.config import db_options


def _print_summary(result: Any, work: Any, as_json: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    if as_json:
        click.echo(json.dumps({"run_id": result.run_id, "finish_reason": result.finish_reason,
                               "sources": result.sources, "blocked_hosts": result.blocked_hosts,
                               "failures": result.failures,
                               "parsed": getattr(work, "parsed", None), "stored": getattr(work, "stored", None),
                               "parse_failures": getattr(work, "failed", None)},
                              ensure_ascii=False, indent=2, default=str))
        return
    console = Console()
    table = Table(title=f"crawl run {result.run_id} — {result.finish_reason or 'did not finish'}")
    for column in ("source", "outcome", "listing pages", "report links", "documents", "errors", "note"):
        table.add_column(column)
    for name, info in result.sources.items():
        outcome = info.get("outcome", "?")
        style = {"ok": "green", "blocked": "yellow", "failed": "red", "empty": "yellow"}.get(outcome, "")
        note = "; ".join(f"{h}: {r}" for h, r in (info.get("blocked_hosts") or {}).items())
        table.add_row(name, f"[{style}]{outcome}[/{style}]" if style else outcome,
                      str(info.get("listing_pages", 0)), str(info.get("report_links", 0)),
                      str(info.get("documents", 0)), str(info.get("errors", 0)), note)
    console.print(table)
    if result.failures:
        failures = Table(title="fetch failures")
        failures.add_column("url")
        failures.add_column("error")
        for failure in result.failures[:30]:
            failures.add_row(failure["url"], failure["error"])
        console.print(failures)
    if work is not None:
        console.print(f"parsed {work.parsed}, stored {work.stored}, parse failures {work.failed}"
                      + (f" (timeouts {work.timeouts})" if work.timeouts else ""))
        for sha, error in work.errors[:15]:
            console.print(f"  [red]{sha[:12]}[/red] {error}")


@click.command("crawl")
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Crawl only this registry source (repeatable).")
@click.option("--start-url", metavar="URL", help="Crawl one report column given by its URL (platform auto-detected).")
@click.option("--platform", metavar="NAME", help="With --start-url: trs, hanweb, gkmlpt, postapi or generic.")
@click.option("--agency", metavar="NAME", help="With --start-url: the agency that owns the column.")
@click.option("--registry", type=click.Path(dir_okay=False), help="Registry YAML/JSON (default: the starter registry).")
@click.option("--jobdir", type=click.Path(file_okay=False), help="Scrapy JOBDIR: resume an interrupted crawl.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="Scrapy setting override.")
@click.option("--workers", default=2, show_default=True, help="Parse workers to run after the crawl.")
@click.option("--no-parse", is_flag=True, help="Only crawl and archive; leave documents pending.")
@click.option("--parse-timeout", default=180.0, show_default=True, help="Seconds per document.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@db_options
def crawl(sources: tuple[str, ...], start_url: Optional[str], platform: Optional[str], agency: Optional[str],
          registry: Optional[str], jobdir: Optional[str], overrides: tuple[str, ...], workers: int,
          no_parse: bool, parse_timeout: float, as_json: bool, db_url: str, archive_dir: Path) -> None:
    """Crawl report columns into the archive and database, then parse what was found.

    Exit status: 0 when everything went well, 1 when something needs attention (a blocked host,
    a failed source, fetch or parse failures), 2 for bad arguments.
    """
    from crawler.crawl import run_crawl
    from crawler.registry import RegistryError, find_source, load_registry

    try:
        if start_url is None:
            known = load_registry(registry, include_disabled=True)
            for name in sources:
                find_source(known, name)
    except RegistryError as exc:
        raise click.UsageError(str(exc)) from None
    settings = _parse_overrides(overrides)
    result = run_crawl(registry=registry, sources=sources, start_url=start_url, platform=platform,
                       agency=agency, db_url=db_url, archive_dir=archive_dir, jobdir=jobdir,
                       settings=settings, capture_log=False)
    work = None
    if not no_parse and result.finish_reason:
        from crawler.work import run_workers

        work = run_workers(workers, db_url, archive_dir, timeout=parse_timeout)
    _print_summary(result, work, as_json)
    attention = result.needs_attention or bool(work and work.failed)
    sys.exit(1 if attention else 0)


def _parse_overrides(overrides: tuple[str, ...]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for item in overrides:
        if "=" not in item:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="-s/--set")
        key, value = item.split("=", 1)
        settings[key.strip()] = value
    return settings


@click.command("demo")
@click.option("--seed", default=1, show_default=True, help="Simulator seed (same seed, same portals).")
@click.option("--profile", default="small", show_default=True, help="Simulator profile: small, all or bench.")
@click.option("--workers", default=2, show_default=True, help="Parse workers.")
@db_options
def demo(seed: int, profile: str, workers: int, db_url: str, archive_dir: Path) -> None:
    """Start the portal simulator, crawl it, parse what was found, and show where to look."""
    from rich.console import Console

    from crawler.crawl import LOCAL_SIMULATOR_SETTINGS, run_crawl
    from crawler.simulator.simulator import Simulator
    from crawler.work import run_workers

    console = Console()
    console.print(f"[bold]Simulated portals[/bold] (seed {seed}, profile {profile}) on 127.0.0.1 …")
    with Simulator(seed=seed, profile=profile) as sim:
        entries = sim.registry_entries()
        for entry in entries:
            console.print(f"  {entry['name']:<28} {entry.get('platform', ''):<10} {entry['start_url']}")
        console.print("[bold]Crawling[/bold] (archive first, then the database) …")
        result = run_crawl(registry=entries, db_url=db_url, archive_dir=archive_dir,
                           settings=dict(LOCAL_SIMULATOR_SETTINGS), capture_log=False)
        console.print("[bold]Parsing[/bold] the documents found …")
        work = run_workers(workers, db_url, archive_dir)
        expected = len(sim.expected_reports())
    _print_summary(result, work, False)
    console.print(f"The simulator published {expected} reachable reports; "
                  f"{result.stats.get('xxgk/documents', 0)} documents were queued.")
    sqlite = db_url.replace("sqlite:///", "", 1) if db_url.startswith("sqlite:///") else None
    console.print("\n[bold]Look at it:[/bold]")
    console.print("  xxgk report 湖州市人民政府 2023        # one agency's report, as stored")
    console.print("  xxgk serve                            # browse everything in Datasette")
    if sqlite:
        console.print(f"  sqlite3 {sqlite} 'select a.name, r.year, r.format, r.status from reports r "
                      "join agencies a on a.id = r.agency_id order by a.name, r.year'")
    console.print(f"  archive (WARC + blobs): {archive_dir}")
