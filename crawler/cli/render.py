"""Human-readable rendering of a parsed report (``xxgk parse`` without ``--json``)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table as RichTable

from parsers import schema
from parsers.model import Report, json_number


def render_report(report: Report, console: Console | None = None) -> None:
    console = console or Console()
    console.rule(f"[bold]{report.file}")
    console.print(f"[bold]{report.title or '(no title)'}[/bold]")
    console.print(f"format {report.format} · year {report.year} · agency {report.agency} · "
                  f"signed {report.signature_date or '-'} · {report.media_type} · sha256 {report.sha256[:12]}…")
    if report.values:
        console.print(active_table(report))
        console.print(applications_table(report))
        console.print(review_table(report))
    failed = report.failed_checks()
    passed = sum(1 for c in report.checks if c.status == "pass")
    console.print(f"checks: {passed} passed, [red]{len(failed)} failed[/red], "
                  f"{sum(1 for c in report.checks if c.status == 'skip')} skipped")
    for check in failed:
        console.print(f"  [red]✗ {check.id} {check.scope}: expected {json_number(check.expected)}, "
                      f"printed {json_number(check.actual)}[/red] {check.note}")
    for item in report.ambiguous:
        console.print(f"  [yellow]? ambiguous {item.get('key', '')}: {item.get('blob', '')}[/yellow]")
    for warning in report.warnings:
        console.print(f"  [yellow]! {warning}[/yellow]")


def _fmt(report: Report, key: str) -> str:
    if key not in report.values:
        return ""
    value = report.values[key]
    return "—" if value is None else str(json_number(value))


def active_table(report: Report) -> RichTable:
    table = RichTable(title="二、主动公开政府信息情况", show_lines=False)
    table.add_column("key")
    table.add_column("value", justify="right")
    for spec in schema.table_a_specs(report.format):
        for key in spec.value_keys():
            if key in report.values:
                table.add_row(key.removeprefix("active_disclosure."), _fmt(report, key))
    return table


def applications_table(report: Report) -> RichTable:
    table = RichTable(title="三、收到和处理政府信息公开申请情况")
    table.add_column("row", no_wrap=True, max_width=18)
    for _, label in schema.APPLICANT_COLUMNS:
        table.add_column(label, justify="right")
    for spec in schema.TABLE_B_ALL:
        if any(k in report.values for k in spec.value_keys()):
            failed = _failed_keys(report)
            cells = [f"[red]{_fmt(report, k)}[/red]" if k in failed else _fmt(report, k) for k in spec.value_keys()]
            table.add_row(spec.labels[0], *cells)
    return table


def review_table(report: Report) -> RichTable:
    table = RichTable(title="四、行政复议、行政诉讼情况")
    table.add_column("group")
    for _, label in schema.REVIEW_LEAVES:
        table.add_column(label, justify="right")
    for group, label in schema.REVIEW_GROUPS:
        keys = [f"review_litigation.{group}.{leaf}" for leaf, _ in schema.REVIEW_LEAVES]
        if any(k in report.values for k in keys):
            failed = _failed_keys(report)
            table.add_row(label, *[f"[red]{_fmt(report, k)}[/red]" if k in failed else _fmt(report, k) for k in keys])
    return table


def _failed_keys(report: Report) -> set[str]:
    """The printed totals that a failed identity points at (shown in red)."""
    keys = set()
    for check in report.failed_checks():
        if check.id == "B2":
            keys.add(f"{check.scope}.total")
        elif check.id in ("B1", "B3"):
            keys.add(f"applications.results.total.{check.scope}")
        elif check.id.startswith("C"):
            keys.add(f"review_litigation.{check.scope}.total")
    return keys
