"""Tell the media type of a document from its bytes (first) and its name or declared type (last).

Portals lie about Content-Type and file names (a ``.pdf`` that is an HTML error page, ``.doc``
files that are really DOCX or WPS), so the magic bytes win whenever they are conclusive.
"""

from __future__ import annotations

import io
import zipfile

HTML = "text/html"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOC = "application/msword"
WPS = "application/vnd.ms-works"  # Kingsoft WPS 文字 (.wps) is an OLE2 file like .doc
XLS = "application/vnd.ms-excel"
TEXT = "text/plain"
MARKDOWN = "text/markdown"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
GIF = "image/gif"
BMP = "image/bmp"
WEBP = "image/webp"

IMAGE_TYPES = {PNG, JPEG, TIFF, GIF, BMP, WEBP}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_BY_SUFFIX = {
    ".html": HTML, ".htm": HTML, ".shtml": HTML, ".xhtml": HTML, ".jhtml": HTML, ".jsp": HTML,
    ".pdf": PDF, ".docx": DOCX, ".xlsx": XLSX, ".doc": DOC, ".wps": WPS, ".xls": XLS, ".et": XLS,
    ".txt": TEXT, ".md": MARKDOWN, ".markdown": MARKDOWN,
    ".png": PNG, ".jpg": JPEG, ".jpeg": JPEG, ".tif": TIFF, ".tiff": TIFF, ".gif": GIF,
    ".bmp": BMP, ".webp": WEBP,
}


def suffix_type(name: str) -> str | None:
    name = (name or "").lower().split("?")[0]
    for suffix, media_type in _BY_SUFFIX.items():
        if name.endswith(suffix):
            return media_type
    return None


def sniff(data: bytes, name: str = "", declared: str | None = None) -> str:
    """Best media type for ``data``; falls back to the name, then the declared type, then text."""
    head = data[:4096]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    by_name = suffix_type(name)
    declared = (declared or "").split(";")[0].strip().lower() or None
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data, by_name or declared)
    if head.startswith(OLE_MAGIC):
        if by_name in (DOC, WPS, XLS):
            return by_name
        if declared in (DOC, WPS, XLS):
            return declared
        return DOC
    if head.startswith(b"\x89PNG"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head.startswith(b"BM") and by_name == BMP:
        return BMP
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    lowered = stripped[:1024].lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<meta", b"<body", b"<div",
                           b"<table", b"<p", b"<!--")) or b"<html" in lowered:
        return HTML
    if by_name in (TEXT, MARKDOWN):
        return by_name
    if declared in (TEXT, MARKDOWN, HTML):
        return declared
    if by_name == HTML:
        return HTML
    return by_name or declared or TEXT


def _zip_kind(data: bytes, hint: str | None) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return hint if hint in (DOCX, XLSX) else DOCX
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return hint or DOCX
