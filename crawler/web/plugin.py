"""The Datasette plugin of ``xxgk serve``: report pages, links, and archived originals served read-only.

Routes:

* ``/-/report/<id>``: one report as printed (tables, failed checks, provenance), HTML escaped by
  Jinja's autoescape, data read with parameterized SQL on Datasette's read-only connection;
* ``/-/archive/<sha256>``: the archived original, only for a sha256 the database knows, always as
  a download (``Content-Disposition: attachment``) with ``X-Content-Type-Options: nosniff`` and a
  sandboxing Content-Security-Policy, so a hostile HTML or SVG payload never runs in our origin.
  The path comes from :meth:`crawler.archive.Archive.blob_path`, which accepts only a hex digest:
  no path traversal is possible.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Optional
from urllib.parse import quote, urlencode

from datasette import hookimpl
from datasette.utils.asgi import AsgiFileDownload, Response
from markupsafe import Markup, escape

from crawler.archive import Archive, ArchiveError

CONFIG: dict[str, Any] = {"archive_dir": None, "database": None}
_MEDIA_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")
EXTENSIONS = {
    "application/pdf": "pdf", "text/html": "html", "application/xhtml+xml": "html", "text/plain": "txt",
    "text/markdown": "md", "application/msword": "doc", "application/vnd.ms-works": "wps",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/tiff": "tif",
    "application/json": "json", "application/xml": "xml", "text/xml": "xml",
}
SAFE_HEADERS = {
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
    "cache-control": "public, max-age=31536000, immutable",
    "referrer-policy": "no-referrer",
}


def configure(archive_dir: Optional[Path], database: str) -> None:
    """Called by ``xxgk serve`` before Datasette starts (archive folder, database name)."""
    CONFIG["archive_dir"] = Path(archive_dir) if archive_dir else None
    CONFIG["database"] = database


def _database(datasette: Any) -> Any:
    return datasette.get_database(CONFIG["database"]) if CONFIG["database"] else datasette.get_database()


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    return [
        (r"^/-/archive/(?P<sha256>[0-9a-f]{64})$", archive_view),
        (r"^/-/report/(?P<report_id>[0-9]{1,18})$", report_view),
    ]


def safe_media_type(value: Optional[str]) -> str:
    value = (value or "").split(";", 1)[0].strip().lower()
    return value if _MEDIA_TYPE_RE.match(value) else "application/octet-stream"


async def archive_view(request: Any, datasette: Any) -> Any:
    sha256 = request.url_vars["sha256"]
    db = _database(datasette)
    row = (await db.execute(
        "select media_type from documents where sha256 = :sha union all "
        "select media_type from captures where sha256 = :sha limit 1", {"sha": sha256})).first()
    archive_dir = CONFIG["archive_dir"]
    if row is None or archive_dir is None:
        return Response.text("not in the archive", status=404)
    try:
        path = Archive(archive_dir).blob_path(sha256)
    except ArchiveError:
        return Response.text("not a sha256", status=400)
    if not path.is_file():
        return Response.text("archived original missing (run xxgk verify)", status=404)
    media_type = safe_media_type(row[0])
    extension = EXTENSIONS.get(media_type, "bin")
    return AsgiFileDownload(path, filename=f"{sha256}.{extension}", content_type=media_type,
                            headers=dict(SAFE_HEADERS))


async def report_view(request: Any, datasette: Any) -> Any:
    from crawler.lookup import tables_as_printed

    report_id = int(request.url_vars["report_id"])
    db = _database(datasette)
    report = (await db.execute(
        """select r.*, a.name as agency_name, a.level as agency_level, a.division_code,
                  d.sha256, d.media_type, d.size
           from reports r join documents d on d.id = r.document_id
           left join agencies a on a.id = r.agency_id where r.id = :id""", {"id": report_id})).first()
    if report is None:
        return Response.html("<h1>No such report</h1>", status=404)
    values = (await db.execute(
        "select key, value_text, raw, page, table_index, row_label, col_label from report_values "
        "where report_id = :id order by id", {"id": report_id})).rows
    checks = (await db.execute(
        "select check_id, scope, status, expected, actual, note from check_results where report_id = :id "
        "order by status in ('fail','warn') desc, id", {"id": report_id})).rows
    captures = (await db.execute(
        "select url, final_url, status, fetched_at, referrer_url, warc_file from captures where sha256 = :sha "
        "order by fetched_at", {"sha": report["sha256"]})).rows
    changes = (await db.execute(
        "select key, old_value, new_value from report_changes where new_report_id = :id order by key",
        {"id": report_id})).rows
    tables = tables_as_printed([SimpleNamespace(**dict(v)) for v in values])
    context = {
        "report": dict(report), "tables": tables, "checks": [dict(c) for c in checks],
        "failed": [dict(c) for c in checks if c["status"] in ("fail", "warn")],
        "captures": [dict(c) for c in captures], "changes": [dict(c) for c in changes],
        "archive_url": f"/-/archive/{report['sha256']}",
        "history_url": _history_url(datasette, report["agency_name"]) if report["agency_name"] else None,
        "database": db.name,
    }
    return Response.html(await datasette.render_template("xxgk_report.html", context, request=request))


def _history_url(datasette: Any, agency: str) -> str:
    database = CONFIG["database"] or datasette.get_database().name
    return f"/{quote(database)}/agency_history?" + urlencode({"agency": agency})


def _link(href: str, text: Any) -> Markup:
    return Markup('<a href="{}">{}</a>').format(href, text)


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: Optional[str], database: str, datasette: Any) -> Any:
    """Links: agency → its history, report id → report page, sha256 → archived original."""
    if value is None or value == "":
        return None
    text = str(value)
    if column == "agency_history" or (table == "agencies" and column == "name"):
        return _link(_history_url(datasette, text), escape(text))
    if column == "report_page" and text.isdigit():
        return _link(f"/-/report/{text}", f"报告 #{text}")
    if (column == "archived_original" or (table == "documents" and column == "sha256")) \
            and re.fullmatch(r"[0-9a-f]{64}", text):
        return _link(f"/-/archive/{text}", escape(text[:12] + "…"))
    if table == "reports" and column == "title":
        try:
            report_id = int(row["id"])
        except (KeyError, IndexError, TypeError, ValueError):
            return None
        return _link(f"/-/report/{report_id}", escape(text))
    return None
