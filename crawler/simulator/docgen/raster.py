"""Image renderings: scanned PDFs with no text layer, and PNG pictures of the report tables.

Why from the real PDF: a scan of the WPS-looking PDF has the same ruled tables and fonts a
scanner would see, so OCR tests exercise the layout parsers meet, with known values. Noise is
seeded from the spec, so bytes are deterministic.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path

from PIL import Image

from .pdf_render import render_pdf_with_table_pages
from .spec import ReportSpec

SCAN_DPI = 170
PNG_DPI = 110


class RasterizerMissing(RuntimeError):
    """pdftoppm (poppler-utils) is not installed."""


def pdf_to_images(pdf: bytes, dpi: int, pages: list[int] | None = None, gray: bool = True) -> list[Image.Image]:
    """Rasterize PDF pages with poppler's pdftoppm (the renderer real viewers use)."""
    binary = shutil.which("pdftoppm")
    if binary is None:
        raise RasterizerMissing("pdftoppm not found: apt-get install poppler-utils")
    with tempfile.TemporaryDirectory(prefix="docgen-raster-") as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(pdf)
        args = [binary, "-r", str(dpi), "-png"] + (["-gray"] if gray else [])
        if pages:
            args += ["-f", str(min(pages)), "-l", str(max(pages))]
        subprocess.run(args + [str(source), str(Path(tmp) / "page")], check=True, capture_output=True, timeout=300)
        files = sorted(Path(tmp).glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        images = []
        for file in files:
            number = int(file.stem.rsplit("-", 1)[1])
            if pages is None or number in pages:
                with Image.open(file) as image:
                    images.append(image.copy())
        return images


def _scan_look(image: Image.Image, rng: random.Random) -> Image.Image:
    """Greyish paper, faint speckle noise: what a flatbed scan of a printout looks like."""
    gray = image.convert("L")
    noise = Image.frombytes("L", gray.size, rng.randbytes(gray.size[0] * gray.size[1]))
    paper = Image.blend(gray, noise, 0.07)
    return paper.point(lambda v: min(255, int(v * 0.94 + 8)))


def render_scanned_pdf(spec: ReportSpec) -> bytes:
    """An image-only PDF (JPEG pages, no text layer) of the report as printed and scanned."""
    pdf, _ = render_pdf_with_table_pages(spec)
    rng = random.Random(zlib.crc32(f"{spec.agency}|{spec.year}|scan".encode("utf-8")))
    pages = [_scan_look(image, rng) for image in pdf_to_images(pdf, SCAN_DPI)]
    stamp = dt.datetime(spec.year + 1, 2, 1, 9, 0, 0)
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=float(SCAN_DPI),
                  title="", creationDate=stamp.timetuple(), modDate=stamp.timetuple())
    return buffer.getvalue()


def render_png(spec: ReportSpec) -> bytes:
    """One tall PNG of the pages holding the tables (or the first page when there are none)."""
    pdf, table_pages = render_pdf_with_table_pages(spec)
    images = pdf_to_images(pdf, PNG_DPI, table_pages or [1], gray=False)
    width = max(image.width for image in images)
    tall = Image.new("RGB", (width, sum(image.height for image in images)), "white")
    y = 0
    for image in images:
        tall.paste(image.convert("RGB"), (0, y))
        y += image.height
    buffer = io.BytesIO()
    tall.save(buffer, "PNG", optimize=False)
    return buffer.getvalue()
