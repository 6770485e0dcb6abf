"""Input formats → ``Extraction`` (text + table grids + metadata). One module per format family.

Modules are imported lazily so that a missing optional engine (OCR) only affects the formats that
need it, and importing ``parsers`` stays cheap.
"""

from __future__ import annotations

import importlib

from parsers import sniff
from parsers.errors import ParseError
from parsers.limits import Limits
from parsers.model import Extraction

# media type → "module:function"; every function has the signature (data, limits) -> Extraction
EXTRACTORS: dict[str, str] = {
    sniff.HTML: "parsers.extract.html:extract_html",
    sniff.PDF: "parsers.extract.pdf:extract_pdf",
    sniff.DOCX: "parsers.extract.docx:extract_docx",
    sniff.DOC: "parsers.extract.office:extract_legacy_word",
    sniff.WPS: "parsers.extract.office:extract_legacy_word",
    sniff.XLSX: "parsers.extract.office:extract_xlsx",
    sniff.XLS: "parsers.extract.office:extract_xls",
    sniff.TEXT: "parsers.extract.text:extract_text",
    sniff.MARKDOWN: "parsers.extract.text:extract_text",
    **{t: "parsers.extract.ocr:extract_image" for t in sniff.IMAGE_TYPES},
}


def extract(data: bytes, media_type: str, limits: Limits) -> Extraction:
    target = EXTRACTORS.get(media_type)
    if target is None:
        raise ParseError(f"unsupported media type {media_type}")
    module_name, func_name = target.split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    return func(data, limits)
