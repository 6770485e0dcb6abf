"""Plain data objects of the simulated world: agencies, listed items, columns, request records.

Everything here is small and cheap: a 10,000-document portal holds 10,000 ``Item`` objects of a few
hundred bytes each. Document *bytes* are never stored here; ``content.py`` renders them on request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Optional

LEVELS = ("national", "province", "city", "county", "town", "department")

# what a listed item is: only "report" is an annual report; the others are the negatives that real
# report columns mix in (news, 解读, 图解, letters/notices, blank templates)
ITEM_KINDS = ("report", "news", "jiedu", "tujie", "letter", "template")

# how a report reaches the reader on its detail page
#   body       the report is the HTML body of the detail page (docgen kind "html" / corpus html)
#   attachment the detail page links a file (pdf, docx, doc, wps, xlsx, pdf-scanned)
#   image      「（图片版）」: the body is <img> scans (png)
#   pdfjs      the body is a pdf.js iframe viewer.html?file=<url-encoded path>
#   direct     the list links the file itself (no detail page)
FORMS = ("body", "attachment", "image", "pdfjs", "direct")


@dataclass(frozen=True)
class Agency:
    """A publishing agency. ``division_code`` is the 6-digit GB/T 2260 code of its jurisdiction."""

    name: str
    level: str
    division_code: str
    parent: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "level": self.level, "division_code": self.division_code,
                "parent": self.parent}


@dataclass
class Item:
    """One entry of a column listing (a report or a negative example)."""

    item_id: int  # unique in the whole simulator, stable for a seed
    site: str
    column: str  # column key inside the site
    title: str
    agency: Agency  # the agency the item belongs to (for reports: the report's agency)
    kind: str = "report"
    year: Optional[int] = None  # report year (title year), None for most non-reports
    published: date = date(2024, 1, 20)
    fmt: str = "F2021"  # report format of generated reports: F2021 / F2019 / PRE2019
    form: str = "body"
    file_kind: Optional[str] = None  # docgen kind of the attachment / body ("pdf", "docx", "html-gbk"...)
    corpus_file: Optional[str] = None  # a real document from tests/fixtures/corpus/documents
    duplicate_of: Optional[int] = None  # item_id of the primary listing of the same report
    version: int = 1  # bumped by Simulator.update_report
    flags: set[str] = field(default_factory=set)  # archetype quirks attached to this item

    @property
    def is_report(self) -> bool:
        return self.kind == "report"


@dataclass
class Column:
    """A listing column of a site (the thing a registry entry points at)."""

    key: str
    name: str  # e.g. 政府信息公开年报
    agency: Agency  # the column owner
    items: list[Item] = field(default_factory=list)
    start_path: str = "/"  # path of the column's entry page on its site
    in_registry: bool = True  # False for columns reached only through links (sub-columns)


@dataclass
class RequestRecord:
    """One request the simulator received, as tests see it."""

    seq: int
    time: float
    site: str
    port: int
    method: str
    path: str  # path with query string, as sent
    headers: dict[str, str]
    body: bytes
    status: int = 0  # 0 when the connection was reset or timed out before a status was sent
    fault: Optional[str] = None

    @property
    def path_only(self) -> str:
        return self.path.split("?", 1)[0]
