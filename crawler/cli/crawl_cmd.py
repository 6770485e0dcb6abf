"""``xxgk crawl`` and ``xxgk demo``.

    xxgk crawl                               # every enabled source of the starter registry
    xxgk crawl --source mva-zfxxgknb         # one source (repeatable)
    xxgk crawl --start-url https://…/zfxxgknb/   # one column, platform auto-detected
    xxgk crawl --registry my.yaml --jobdir .jobdir/run1   # another registry, resumable
    xxgk demo                                # a simulated portal, crawled and parsed locally
    xxgk work --workers 4 --forever          # parse workers only (another machine, or beside crawlers)

Distributed mode (docs/operations.md): the same commands with ``XXGK_REDIS_URL`` (shared
frontier), ``XXGK_DB`` (PostgreSQL) and ``XXGK_ARCHIVE`` (a shared path) in the environment.
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
                               "jobdir_start": result.jobdir_start, "worker": result.worker,
                               "monitors": result.monitors, "sources": result.sources, "blocked_hosts": result.blocked_hosts,
                               "failures": result.failures,
                               "parsed": getattr(work, "parsed", None), "stored": getattr(work, "stored", None),
                               "parse_failures": getattr(work, "failed", None)},
                              ensure_ascii=False, indent=2, default=str))
        return
    console = Console()
    title = f"crawl run {result.run_id} — {result.finish_reason or 'did not finish'}"
    if result.jobdir_start in ("resume", "recovered"):
        title += f" ({'resumed' if result.jobdir_start == 'resume' else 'restarted after a crash'})"
    table = Table(title=title)
    for column in ("source", "outcome", "listing pages", "report links", "documents", "errors", "note"):
        table.add_column(column)
    for name, info in result.sources.items():
        outcome = info.get("outcome", "?")
        style = {"ok": "green", "blocked": "yellow", "failed": "red", "empty": "yellow",
                 "not_seen": "dim"}.get(outcome, "")
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
    for monitor in result.monitors:
        console.print(f"[red]monitor failed[/red] {monitor.get('monitor')}: {monitor.get('reason')}")
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
@click.option("--parse-while-crawling", is_flag=True,
              help="Run the parse workers during the crawl too (best with PostgreSQL).")
@click.option("--redis-url", envvar="XXGK_REDIS_URL", metavar="URL",
              help="Distributed mode: share the crawl frontier in this Redis (default: $XXGK_REDIS_URL).")
@click.option("--redis-prefix", envvar="XXGK_REDIS_PREFIX", default="xxgk", show_default=True,
              help="Name of the shared frontier (its Redis key prefix; default: $XXGK_REDIS_PREFIX).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@db_options
def crawl(sources: tuple[str, ...], start_url: Optional[str], platform: Optional[str], agency: Optional[str],
          registry: Optional[str], jobdir: Optional[str], overrides: tuple[str, ...], workers: int,
          no_parse: bool, parse_timeout: float, parse_while_crawling: bool, redis_url: Optional[str],
          redis_prefix: str, as_json: bool, db_url: str, archive_dir: Path) -> None:
    """Crawl report columns into the archive and database, then parse what was found.

    Idempotent and resumable: with --jobdir, a crawl stopped by SIGINT/SIGTERM resumes where it
    stopped, one killed (SIGKILL) starts over without duplicating anything, and one that finished
    leaves the next run to crawl afresh. Each run is recorded (settings, stats, per-source
    health: see `xxgk status`).

    Exit status: 0 when everything went well, 1 when something needs attention (a blocked host,
    a failed source, fetch or parse failures, a failed monitor), 2 for bad arguments, 75 when
    another crawl holds the --jobdir (nothing was done; try later).
    """
    from crawler.registry import RegistryError, find_source, load_registry

    try:
        if start_url is None:
            known = load_registry(registry, include_disabled=True)
            for name in sources:
                find_source(known, name)
    except RegistryError as exc:
        raise click.UsageError(str(exc)) from None
    settings = _parse_overrides(overrides)
    background = _background_workers(workers, db_url, archive_dir, parse_timeout) \
        if parse_while_crawling and not no_parse else None
    from crawler.crawl import start_crawl

    result = start_crawl(registry=registry, sources=sources, start_url=start_url, platform=platform,
                         agency=agency, db_url=db_url, archive_dir=archive_dir, jobdir=jobdir,
                         settings=settings, redis_url=redis_url or None, redis_prefix=redis_prefix,
                         capture_log=False).wait()
    if result.busy:
        click.echo(f"xxgk crawl: another crawl holds {jobdir}; nothing done", err=True)
        sys.exit(result.returncode)
    work = background.finish() if background is not None else None
    if not no_parse and result.finish_reason:
        from crawler.work import run_workers

        final = run_workers(workers, db_url, archive_dir, timeout=parse_timeout)
        work = final if work is None else _merged(work, final)
    _refresh_health(db_url, result.run_id)
    _print_summary(result, work, as_json)
    attention = result.needs_attention or bool(work and work.failed)
    sys.exit(1 if attention else 0)


class _BackgroundWorkers:
    """Parse workers in threads of this process while the crawl runs in its child."""

    def __init__(self, n: int, db_url: str, archive_dir: Path, timeout: float) -> None:
        import threading

        from crawler.work import WorkSummary, run_workers

        self.stop = threading.Event()
        self.summary = WorkSummary()

        def target() -> None:
            self.summary = run_workers(n, db_url, archive_dir, timeout=timeout, until_empty=False,
                                       stop=self.stop)

        self.thread = threading.Thread(target=target, name="xxgk-parse-background", daemon=True)
        self.thread.start()

    def finish(self) -> Any:
        self.stop.set()
        self.thread.join()
        return self.summary


def _background_workers(n: int, db_url: str, archive_dir: Path, timeout: float) -> _BackgroundWorkers:
    return _BackgroundWorkers(n, db_url, archive_dir, timeout)


def _merged(first: Any, second: Any) -> Any:
    first.add(second)
    return first


def _refresh_health(db_url: str, run_id: Optional[int], *, recent: bool = False) -> None:
    """After parsing: count parse failures and changed reports per source, for the crawl's run
    (or, with ``recent``, for the last runs: a standalone worker parses documents of any run)."""
    if run_id is None and not recent:
        return
    from crawler.db.session import open_database, transaction
    from crawler.monitoring import refresh_parse_health

    try:
        with transaction(open_database(db_url)) as session:
            refresh_parse_health(session, None if recent else [run_id])
    except Exception as exc:  # noqa: BLE001 - the health record only
        click.echo(f"xxgk: could not refresh the per-source health: {exc}", err=True)


@click.command("work")
@click.option("--workers", default=2, show_default=True, help="Parse worker threads (each with its own parser process).")
@click.option("--forever", is_flag=True, help="Keep polling for new documents instead of stopping when the queue is empty.")
@click.option("--poll", default=5.0, show_default=True, help="With --forever: seconds between polls of an empty queue.")
@click.option("--parse-timeout", default=180.0, show_default=True, help="Seconds per document.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@db_options
def work(workers: int, forever: bool, poll: float, parse_timeout: float, as_json: bool, db_url: str,
         archive_dir: Path) -> None:
    """Parse pending documents: claim them from the database, parse each in a child process.

    Runs beside crawlers (any number of `xxgk work` processes on any machines sharing XXGK_DB and
    XXGK_ARCHIVE): claims use SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, so no document is
    parsed twice and a slow PDF only occupies its own worker. Stops when the queue is empty, or
    with --forever on SIGINT/SIGTERM. Exit status 1 when some document failed to parse.
    """
    import signal
    import threading

    from crawler.work import run_workers

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        summary = run_workers(workers, db_url, archive_dir, timeout=parse_timeout, until_empty=not forever,
                              poll_seconds=poll, stop=stop)
    except KeyboardInterrupt:
        sys.exit(130)
    _refresh_health(db_url, None, recent=True)
    if as_json:
        click.echo(json.dumps({"parsed": summary.parsed, "stored": summary.stored, "failed": summary.failed,
                               "timeouts": summary.timeouts,
                               "errors": [{"sha256": sha, "error": error} for sha, error in summary.errors]},
                              ensure_ascii=False, indent=2))
    else:
        click.echo(f"parsed {summary.parsed}, stored {summary.stored}, parse failures {summary.failed}"
                   + (f" (timeouts {summary.timeouts})" if summary.timeouts else ""))
        for sha, error in summary.errors[:15]:
            click.echo(f"  {sha[:12]} {error}")
    sys.exit(1 if summary.failed else 0)



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
