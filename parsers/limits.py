"""Bounds on what one parse may consume, so that hostile input cannot hang or exhaust a worker.

The crawler runs parses in a worker process with a wall-clock timeout on top of these (see
``crawler/work.py``); these limits make the common bad cases fail fast and with a clear reason.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 100 * 1024 * 1024  # input file size
    max_pages: int = 300  # PDF pages read (a report has 3-30)
    max_unzipped_bytes: int = 200 * 1024 * 1024  # DOCX/XLSX: total uncompressed size
    max_zip_ratio: int = 200  # DOCX/XLSX: uncompressed / compressed per member
    max_text_chars: int = 5_000_000  # extracted text
    max_table_cells: int = 200_000  # cells over all tables
    max_image_pixels: int = 60_000_000  # images handed to OCR
    convert_timeout_s: int = 120  # LibreOffice conversion of DOC/WPS/XLS
    ocr_max_pages: int = 30


DEFAULT_LIMITS = Limits()
