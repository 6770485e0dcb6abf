"""``xxgk parse FILE... [--json]``: the face of the pure parsers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

import parsers
from parsers import ParseError


@click.command("parse")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file (spec/parse-output.md).")
@click.option("--media-type", default=None, help="Declared media type (the bytes still decide).")
@click.option("--sandbox/--no-sandbox", default=True, show_default=True,
              help="Parse each file in a child process with a time and memory limit, so that a hang or a "
                   "crash in a third-party reader costs that file only.")
@click.option("--timeout", default=300, show_default=True, help="Seconds per file (with --sandbox).")
@click.option("--memory-mb", default=4096, show_default=True, help="Address-space limit per file (with --sandbox).")
def parse(files: tuple[Path, ...], as_json: bool, media_type: str | None, sandbox: bool, timeout: int,
          memory_mb: int) -> None:
    """Parse local report files (HTML, PDF, DOCX, DOC, WPS, XLS/XLSX, TXT/MD, images).

    \b
    xxgk parse report.pdf                 # tables as printed, failed checks in red
    xxgk parse --json *.html > out.jsonl  # one JSON object per file (spec/parse-output.md)
    """
    from crawler.cli.render import render_report
    from parsers.safety import run_with_limits

    failed = 0
    for path in files:
        try:
            data = path.read_bytes()
            if sandbox:
                report = run_with_limits(parsers.parse, data, media_type, path.name, timeout_s=timeout,
                                         memory_mb=memory_mb)
            else:
                report = parsers.parse(data, media_type=media_type, name=path.name)
        except (ParseError, OSError) as exc:
            failed += 1
            click.echo(f"{path}: error: {exc}", err=True)
            continue
        if as_json:
            click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        else:
            render_report(report)
    sys.exit(1 if failed else 0)
