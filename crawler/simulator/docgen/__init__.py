"""Document generator: realistic annual reports with KNOWN values, in every format portals serve.

Tests, the portal simulator and the benchmarks use it to know the truth of each document:

    rng = random.Random(1)
    spec = ReportSpec(agency="洪泽区人民政府", year=2023, fmt="F2021", values=random_values("F2021", rng))
    data = render(spec, "pdf")            # bytes of a WPS-looking PDF with a text layer
    truth = expected_record(spec)          # what a parser should return for it

Kinds: html, html-gbk, docx, doc, wps, xlsx, pdf, pdf-scanned, png, txt, md.
"doc" and "wps" are the DOCX converted by LibreOffice headless to Word 97-2003 (OLE2) bytes;
real .wps files from WPS Office are OLE2 compound files that Word-compatible readers open the
same way, so the two kinds share those bytes (only the file name differs).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from .corpus import generate_corpus, random_spec
from .spec import ReportSpec, document_blocks
from .values import check_identities, random_values

KINDS = ("html", "html-gbk", "docx", "doc", "wps", "xlsx", "pdf", "pdf-scanned", "png", "txt", "md")

__all__ = ["KINDS", "ReportSpec", "check_identities", "document_blocks", "expected_record",
           "generate_corpus", "random_spec", "random_values", "render"]


def _renderers() -> dict[str, Callable[[ReportSpec], bytes]]:
    """Kind -> renderer; imported lazily so `import docgen` stays cheap for the simulator."""
    from . import docx_render, html_render, office, pdf_render, raster, text_render, xlsx_render
    return {
        "html": html_render.render_html_bytes,
        "html-gbk": html_render.render_html_gbk_bytes,
        "docx": docx_render.render_docx,
        "doc": office.render_doc,
        "wps": office.render_doc,
        "xlsx": xlsx_render.render_xlsx,
        "pdf": pdf_render.render_pdf,
        "pdf-scanned": raster.render_scanned_pdf,
        "png": raster.render_png,
        "txt": text_render.render_txt,
        "md": text_render.render_md,
    }


def render(spec: ReportSpec, kind: str) -> bytes:
    """The bytes of ``spec`` as a file of ``kind`` (see KINDS); deterministic per spec and kind."""
    renderers = _renderers()
    if kind not in renderers:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return renderers[kind](spec)


def expected_record(spec: ReportSpec) -> dict[str, Any]:
    """What a parser should return for any rendering of ``spec`` (labels' JSON shape).

    Values keep their Python types (int, Decimal, None); generate_corpus writes Decimals as JSON
    numbers, like the hand-made labels of the real corpus.
    """
    values: dict[str, Any] = dict(spec.values)
    return {
        "format": spec.fmt,
        "year": spec.year,
        "agency": spec.agency,
        "title": spec.title,
        "signature_date": spec.signature_date.isoformat() if spec.signature_date and spec.include_signature else None,
        "values": values,
    }


def json_default(obj: Any) -> Any:
    """json.dumps default: Decimal as a JSON number (exact for 2-decimal amounts)."""
    if isinstance(obj, Decimal):
        return float(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")
