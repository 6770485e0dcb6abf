"""xxgk parsers: bytes + media type → a normalized annual-report record.

Pure: no network, no database, no Scrapy. The crawler, the CLI (``xxgk parse``) and the tests all
call :func:`parse`.

    >>> from parsers import parse
    >>> report = parse(open("report.pdf", "rb").read(), name="report.pdf")
    >>> report.format, report.year, report.values["applications.new.total"]
"""

from __future__ import annotations

from parsers.errors import ParseError
from parsers.limits import DEFAULT_LIMITS, Limits
from parsers.model import Cell, Check, Extraction, Report, Table, TextRow

PARSER_VERSION = "0.1.0"

__all__ = ["parse", "ParseError", "Limits", "Report", "Cell", "Check", "Extraction", "Table",
           "TextRow", "PARSER_VERSION"]


def parse(data: bytes, media_type: str | None = None, name: str = "",
          limits: Limits = DEFAULT_LIMITS, meta: dict[str, str] | None = None) -> Report:
    """Parse one document.

    ``media_type`` is the declared type (e.g. the HTTP Content-Type) and may be wrong: the bytes
    decide when they are conclusive. ``meta`` is optional context from the crawler (e.g. the
    listing title) used only as a fallback for metadata. Raises :class:`ParseError` with a
    one-line reason for unreadable input.
    """
    from parsers.pipeline import parse_document

    return parse_document(data, media_type=media_type, name=name, limits=limits, meta=meta)
