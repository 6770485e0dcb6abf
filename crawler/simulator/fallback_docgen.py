"""A tiny stand-in for ``crawler.simulator.docgen`` used only when that module is not importable.

It implements the same four names (``random_values``, ``ReportSpec``, ``render``,
``expected_record``) so the simulator runs before the real generator lands. Reports are a plain
F2021-shaped HTML page (or the same text inside a minimal PDF/DOCX when reportlab/python-docx are
present); the values are consistent with the table-3 identity so parsers have something sane.
"""

from __future__ import annotations

import html
import io
import random
from dataclasses import dataclass
from typing import Any

_APPLICANT_COLS = ("natural_person", "org_commercial", "org_research", "org_public_welfare",
                   "org_legal_service", "org_other")


def random_values(fmt: str, rng: random.Random) -> dict[str, Any]:
    """A small consistent value set: new + carried_over = results.total + carried_forward."""
    values: dict[str, Any] = {
        "active_disclosure.regulations.issued": rng.randint(0, 5),
        "active_disclosure.normative_documents.issued": rng.randint(0, 50),
        "active_disclosure.administrative_permit.decisions": rng.randint(0, 5000),
    }
    for col in _APPLICANT_COLS:
        new, carried = rng.randint(0, 40), rng.randint(0, 5)
        forward = rng.randint(0, min(3, new + carried))
        values[f"applications.new.{col}"] = new
        values[f"applications.carried_over.{col}"] = carried
        values[f"applications.carried_forward.{col}"] = forward
        values[f"applications.results.total.{col}"] = new + carried - forward
    for row in ("new", "carried_over", "carried_forward", "results.total"):
        values[f"applications.{row}.total"] = sum(values[f"applications.{row}.{c}"] for c in _APPLICANT_COLS)
    return values


@dataclass
class ReportSpec:
    agency: str
    year: int
    fmt: str
    values: dict[str, Any]
    title: str = ""

    def __post_init__(self) -> None:
        self.title = self.title or f"{self.agency}{self.year}年政府信息公开工作年度报告"


def _html(spec: ReportSpec) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>" for k, v in spec.values.items())
    return (f"<html><head><meta charset=\"utf-8\"><title>{spec.title}</title></head><body>"
            f"<h1>{spec.title}</h1><p>一、总体情况</p><p>二、主动公开政府信息情况</p>"
            f"<p>三、收到和处理政府信息公开申请情况</p><table>{rows}</table>"
            f"<p>四、政府信息公开行政复议、行政诉讼情况</p><p>五、存在的主要问题及改进情况</p>"
            f"<p>六、其他需要报告的事项</p><p>{spec.agency}</p></body></html>")


def _pdf(text: str) -> bytes:
    try:
        from reportlab.pdfgen import canvas
    except ImportError:  # pragma: no cover
        return b"%PDF-1.4\n% fallback\n" + text.encode("utf-8") + b"\n%%EOF\n"
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    for i, line in enumerate(text.splitlines()[:50]):
        pdf.drawString(40, 800 - 14 * i, line.encode("ascii", "replace").decode())
    pdf.save()
    return buf.getvalue()


def render(spec: ReportSpec, kind: str) -> bytes:
    page = _html(spec)
    if kind == "html-gbk":
        return page.replace('charset="utf-8"', 'charset="gb2312"').encode("gb18030")
    if kind in ("pdf", "pdf-scanned"):
        return _pdf(spec.title + "\n" + "\n".join(f"{k} {v}" for k, v in spec.values.items()))
    if kind in ("txt", "md"):
        return (spec.title + "\n" + "\n".join(f"{k}\t{v}" for k, v in spec.values.items())).encode()
    if kind == "docx":
        try:
            import docx
            document = docx.Document()
            document.add_heading(spec.title)
            for key, value in spec.values.items():
                document.add_paragraph(f"{key} {value}")
            buf = io.BytesIO()
            document.save(buf)
            return buf.getvalue()
        except ImportError:  # pragma: no cover
            pass
    return page.encode("utf-8")


def expected_record(spec: ReportSpec) -> dict[str, Any]:
    return {"format": spec.fmt, "year": spec.year, "agency": spec.agency, "values": dict(spec.values)}
