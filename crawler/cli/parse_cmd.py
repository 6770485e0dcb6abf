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
def parse(files: tuple[Path, ...], as_json: bool, media_type: str | None) -> None:
    """Parse local report files (HTML, PDF, DOCX, DOC, WPS, XLS/XLSX, TXT/MD, images)."""
    from crawler.cli.render import render_report

    failed = 0
    for path in files:
        try:
            data = path.read_bytes()
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
