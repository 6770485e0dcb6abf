"""OCR of images and scanned PDF pages → text and table grids (with confidence < 1).

Engine: RapidOCR (``rapidocr-onnxruntime`` on PyPI; PaddleOCR's Chinese models ship inside the
wheel and run offline on onnxruntime). It was chosen over Debian's tesseract + chi_sim after a
comparison on a 200 dpi rendering of hongzequ_2023.pdf: RapidOCR read every Chinese label and
almost every digit of Tables B/C; tesseract garbled the tables (``10ololololol``).

Tables are rebuilt from the picture, not from the OCR engine's layout:

1. ruling lines are found with a morphological opening (long thin horizontal / vertical kernels);
2. each connected group of lines is a table; its line positions give the elementary grid, and the
   presence or absence of a wall between two neighbouring grid cells gives the merged cells;
3. the page is OCR'd once (detection + recognition); every text box goes to the cell holding its
   centre. Cells that show ink but got no box, or whose box ran across a wall, are recognised
   again from their own crop (a single "0" in a cell is easy to miss on a full page).

The grid follows pdfplumber's convention (``None`` = covered by a merged cell) so the table
mapper treats OCR'd and text-layer tables alike.
"""

from __future__ import annotations

import io
import re
import statistics
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterator, Optional

from parsers.errors import ParseError
from parsers.limits import Limits
from parsers.model import Extraction, Table

RENDER_DPI = 200
OCR_CONFIDENCE_SCALE = 0.8  # an OCR'd value is never as sure as a text-layer one
DARK = 170  # grey level below which a pixel is ink


@dataclass
class PageOCR:
    """What OCR recovered from one page image."""

    text: str
    tables: list[Table] = field(default_factory=list)
    confidence: float = OCR_CONFIDENCE_SCALE


@dataclass
class TextBox:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    score: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


# ---------------------------------------------------------------------------------------------
# Entry points


def extract_image(data: bytes, limits: Limits) -> Extraction:
    """OCR an image file (PNG, JPEG, TIFF, GIF, BMP, WEBP); multi-frame TIFFs give one page per frame."""
    images = list(_open_image_frames(data, limits))
    extraction = Extraction(media_type=_media_type(images[0][1]), text="", pages=len(images))
    texts, confidences = [], []
    for number, image in images:
        result = ocr_image(image, page=number)
        for table in result.tables:
            table.index = len(extraction.tables)
            extraction.tables.append(table)
        texts.append(result.text)
        confidences.append(result.confidence)
    extraction.text = "\n".join(t for t in texts if t)
    extraction.confidence = min(confidences) if confidences else OCR_CONFIDENCE_SCALE
    extraction.warnings.append("text and tables read by OCR")
    return extraction


def render_pdf_pages(data: bytes, page_numbers: list[int], limits: Limits) -> Iterator[tuple[int, Any]]:
    """Render the given 1-based pages to PIL images at ``RENDER_DPI`` (lower if the page is huge)."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except Exception as error:
        raise ParseError(f"PDF cannot be rendered for OCR ({type(error).__name__}: {error})") from None
    try:
        for number in page_numbers:
            page = document[number - 1]
            try:
                width, height = page.get_size()
                scale = RENDER_DPI / 72
                if width * height * scale * scale > limits.max_image_pixels:
                    scale = (limits.max_image_pixels / max(width * height, 1)) ** 0.5
                bitmap = page.render(scale=scale, grayscale=True)
                yield number, bitmap.to_pil()
            finally:
                page.close()
    finally:
        document.close()


def ocr_image(image: Any, page: Optional[int] = None) -> PageOCR:
    """Text (reading order) and tables of one page image."""
    import numpy as np

    from parsers.extract.pdf import clean_table_rows

    gray = _deskew(np.asarray(_at_ocr_resolution(image.convert("L"))))
    boxes = _recognize_page(gray)
    text_height = statistics.median([b.y1 - b.y0 for b in boxes]) if boxes else 30.0
    horizontal, vertical = _ruling_masks(gray, text_height)
    tables: list[Table] = []
    for region in _table_regions(horizontal, vertical):
        grid = _build_grid(region, horizontal, vertical)
        if grid is None:
            continue
        rows, scores = _fill_grid(grid, boxes, gray, horizontal | vertical)
        rows = clean_table_rows(rows)  # same rules as text-layer tables: no boxed prose
        if rows:
            confidence = round(OCR_CONFIDENCE_SCALE * (statistics.fmean(scores) if scores else 1.0), 3)
            tables.append(Table(rows=rows, page=page, index=len(tables), confidence=confidence))
    all_scores = [b.score for b in boxes]
    confidence = round(OCR_CONFIDENCE_SCALE * (statistics.fmean(all_scores) if all_scores else 0.0), 3)
    return PageOCR(text=_reading_order_text(boxes), tables=tables, confidence=confidence)


# ---------------------------------------------------------------------------------------------
# Images


def _open_image_frames(data: bytes, limits: Limits) -> Iterator[tuple[int, Any]]:
    """Decoded frames, after checking the declared size from the header (decompression bombs)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ParseError("empty file")
    if len(data) > limits.max_bytes:
        raise ParseError(f"file is {len(data)} bytes, more than the limit of {limits.max_bytes}")
    try:
        with warnings.catch_warnings():  # Pillow warns above 89 Mpx; our own limit decides below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
    except UnidentifiedImageError:
        raise ParseError("not an image (unrecognised image data)") from None
    except Image.DecompressionBombError:  # Pillow's own guard: > 2 × Image.MAX_IMAGE_PIXELS
        raise ParseError(f"image is larger than {2 * (Image.MAX_IMAGE_PIXELS or 0)} pixels (decompression bomb)") from None
    except Exception as error:
        raise ParseError(f"corrupt image ({type(error).__name__})") from None
    width, height = image.size
    if width * height > limits.max_image_pixels:
        raise ParseError(f"image is {width}x{height} pixels, more than the limit of {limits.max_image_pixels}")
    frames = min(getattr(image, "n_frames", 1), limits.ocr_max_pages)
    for index in range(frames):
        try:
            image.seek(index)
            if image.size[0] * image.size[1] > limits.max_image_pixels:
                raise ParseError(f"image frame {index + 1} is larger than {limits.max_image_pixels} pixels")
            image.load()
            frame = _on_white(ImageOps.exif_transpose(image) if index == 0 else image)
        except ParseError:
            raise
        except Exception as error:
            raise ParseError(f"corrupt or truncated image ({type(error).__name__}: {error})") from None
        frame.info["format"] = image.format
        yield index + 1, frame


def _on_white(image: Any) -> Any:
    """RGB on a white background: a transparent PNG converted naively turns black."""
    from PIL import Image

    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _media_type(image: Any) -> str:
    from parsers import sniff

    return {"PNG": sniff.PNG, "JPEG": sniff.JPEG, "TIFF": sniff.TIFF, "GIF": sniff.GIF, "BMP": sniff.BMP,
            "WEBP": sniff.WEBP}.get(image.info.get("format") or "", sniff.PNG)


# ---------------------------------------------------------------------------------------------
# The OCR engine


MIN_OCR_WIDTH = 1500  # an A4 page narrower than this (< ~180 dpi) is upscaled: small glyphs misread
DETECTION_MAX_SIDE = 3000  # RapidOCR shrinks larger images before detection (default 2000)


def _at_ocr_resolution(image: Any) -> Any:
    """Upscale low-resolution pictures (web PNGs at ~100 dpi) so digits and strokes are legible."""
    from PIL import Image

    if image.width >= MIN_OCR_WIDTH:
        return image
    factor = min(MIN_OCR_WIDTH / image.width, 3.0)
    return image.resize((round(image.width * factor), round(image.height * factor)), Image.LANCZOS)


MAX_SKEW_DEGREES = 3.0


def _deskew(gray: Any) -> Any:
    """Straighten a scan tilted by up to ±3° (ruling lines must be horizontal to be found).

    Projection-profile method: at the right angle, text lines and rules make the sharpest row
    profile (the largest variance of row sums). Measured on a reduced copy, so it costs little.
    """
    import cv2
    import numpy as np

    height, width = gray.shape
    scale = min(1.0, 800 / width)
    small = cv2.resize(gray, (max(1, int(width * scale)), max(1, int(height * scale))), interpolation=cv2.INTER_AREA)
    ink = (small < DARK).astype(np.float32)
    centre = (ink.shape[1] / 2, ink.shape[0] / 2)

    def sharpness(angle: float) -> float:
        matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(ink, matrix, (ink.shape[1], ink.shape[0]), flags=cv2.INTER_NEAREST)
        return float(rotated.sum(axis=1).var())

    coarse = max(np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 0.01, 0.5), key=sharpness)
    best = max(np.arange(coarse - 0.5, coarse + 0.51, 0.1), key=sharpness)
    if abs(best) < 0.15:
        return gray
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), float(best), 1.0)
    return cv2.warpAffine(gray, matrix, (width, height), flags=cv2.INTER_CUBIC, borderValue=255)


@lru_cache(maxsize=1)
def _engine() -> Any:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        raise ParseError("OCR engine not installed (pip install rapidocr-onnxruntime)") from None
    engine = RapidOCR()
    engine.max_side_len = DETECTION_MAX_SIDE
    return engine


def engine_available() -> bool:
    try:
        _engine()
    except ParseError:
        return False
    return True


def _recognize_page(gray: Any) -> list[TextBox]:
    result, _ = _engine()(gray)
    boxes = []
    for quad, text, score in result or []:
        xs = [p[0] for p in quad]
        ys = [p[1] for p in quad]
        if text and text.strip():
            boxes.append(TextBox(min(xs), min(ys), max(xs), max(ys), _ascii_digits(text.strip()), float(score)))
    return boxes


def _recognize_crop(crop: Any, multiline: bool) -> list[TextBox]:
    """Recognise one cell's ink: detection too when it may hold several lines (vertical headers)."""
    import numpy as np

    padded = np.pad(crop, 12, constant_values=255)
    if multiline:
        result, _ = _engine()(padded)
        boxes = []
        for quad, text, score in result or []:
            xs = [p[0] for p in quad]
            ys = [p[1] for p in quad]
            if text.strip():
                boxes.append(TextBox(min(xs), min(ys), max(xs), max(ys), _ascii_digits(text.strip()), float(score)))
        if boxes:
            return boxes
    result, _ = _engine()(padded, use_det=False, use_cls=False, use_rec=True)
    if not result:
        return []
    text, score = result[0][0], float(result[0][1])
    return [TextBox(0, 0, crop.shape[1], crop.shape[0], _ascii_digits(text.strip()), score)] if text.strip() else []


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９．", "0123456789.")


def _ascii_digits(text: str) -> str:
    """The recogniser sometimes emits full-width digits ('４'); printed tables use ASCII ones."""
    return text.translate(_FULLWIDTH_DIGITS)


# ---------------------------------------------------------------------------------------------
# Ruling lines and grids


@dataclass
class Grid:
    ys: list[int]  # horizontal line positions, top to bottom
    xs: list[int]  # vertical line positions, left to right
    groups: list[tuple[int, int, int, int]]  # merged cells: (row0, col0, row1, col1) inclusive
    owner: dict[tuple[int, int], int]  # elementary cell → group index


def _ruling_masks(gray: Any, text_height: float) -> tuple[Any, Any]:
    """Boolean masks of horizontal and vertical ruling lines.

    A rule is a straight run of ink longer than any glyph stroke: the kernels are sized from the
    height of the recognised text lines (a row of a table is taller than its text).
    """
    import cv2
    import numpy as np

    ink = (gray < DARK).astype(np.uint8) * 255
    stroke = int(1.3 * text_height)
    h_length = max(25, stroke, ink.shape[1] // 40)
    v_length = max(25, stroke)
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (h_length, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, v_length)))
    grow = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))  # bridge 1-px breaks from scanning
    return cv2.dilate(horizontal, grow) > 0, cv2.dilate(vertical, grow) > 0


def _table_regions(horizontal: Any, vertical: Any) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (x0, y0, x1, y1) of connected line networks that look like tables."""
    import cv2
    import numpy as np

    lines = (horizontal | vertical).astype(np.uint8)
    lines = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(lines)
    height, width = lines.shape
    regions = []
    for label in range(1, count):
        x, y, w, h, _ = stats[label]
        if w < width * 0.15 or h < 40:
            continue
        regions.append((int(x), int(y), int(x + w), int(y + h)))
    return sorted(regions, key=lambda r: (r[1], r[0]))


def _line_positions(profile: Any, min_run: int) -> list[int]:
    """Centres of runs of indices where ``profile >= min_run`` (one per drawn line)."""
    positions, start = [], None
    for index, value in enumerate(list(profile) + [0]):
        if value >= min_run and start is None:
            start = index
        elif value < min_run and start is not None:
            positions.append((start + index - 1) // 2)
            start = None
    merged: list[int] = []
    for position in positions:  # double rules and thick lines count once
        if merged and position - merged[-1] < 8:
            merged[-1] = (merged[-1] + position) // 2
        else:
            merged.append(position)
    return merged


def _build_grid(region: tuple[int, int, int, int], horizontal: Any, vertical: Any) -> Optional[Grid]:
    x0, y0, x1, y1 = region
    h_band = horizontal[y0:y1, x0:x1]
    v_band = vertical[y0:y1, x0:x1]
    ys = [y0 + y for y in _line_positions(h_band.sum(axis=1), 25)]
    xs = [x0 + x for x in _line_positions(v_band.sum(axis=0), 25)]
    # a table cut by a page break has no closing rule: its side rules still bound the last row
    if ys and ys[0] - y0 > 15:
        ys.insert(0, y0 + 3)
    if ys and y1 - ys[-1] > 15:
        ys.append(y1 - 4)
    if len(ys) < 2 or len(xs) < 2:
        return None
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    parent = list(range(n_rows * n_cols))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(n_rows):
        for c in range(n_cols):
            if c + 1 < n_cols and not _wall(vertical, xs[c + 1], ys[r], ys[r + 1], vertical_wall=True):
                parent[find(r * n_cols + c + 1)] = find(r * n_cols + c)
            if r + 1 < n_rows and not _wall(horizontal, ys[r + 1], xs[c], xs[c + 1], vertical_wall=False):
                parent[find((r + 1) * n_cols + c)] = find(r * n_cols + c)
    spans: dict[int, list[int]] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            root = find(r * n_cols + c)
            box = spans.setdefault(root, [r, c, r, c])
            box[0], box[1] = min(box[0], r), min(box[1], c)
            box[2], box[3] = max(box[2], r), max(box[3], c)
    groups, owner = [], {}
    for root, (r0, c0, r1, c1) in sorted(spans.items(), key=lambda item: (item[1][0], item[1][1])):
        index = len(groups)
        groups.append((r0, c0, r1, c1))
        for r in range(n_rows):
            for c in range(n_cols):
                if find(r * n_cols + c) == root:
                    owner[(r, c)] = index
    return Grid(ys=ys, xs=xs, groups=groups, owner=owner)


def _wall(mask: Any, at: int, start: int, end: int, vertical_wall: bool) -> bool:
    """Is a rule drawn at ``at`` between ``start`` and ``end`` (its middle 60%)?"""
    margin = max(2, (end - start) // 5)
    lo, hi = start + margin, end - margin
    if hi <= lo:
        return True
    band = mask[lo:hi, max(at - 4, 0): at + 5] if vertical_wall else mask[max(at - 4, 0): at + 5, lo:hi]
    covered = band.any(axis=1 if vertical_wall else 0)
    return bool(covered.mean() >= 0.6)


# ---------------------------------------------------------------------------------------------
# Filling a grid with text


def _fill_grid(grid: Grid, boxes: list[TextBox], gray: Any, lines: Any
               ) -> tuple[list[list[Optional[str]]], list[float]]:
    """The grid's cells as text (pdfplumber's convention) and the engine scores of what was read."""
    from parsers.extract.pdf import clean_cell

    def group_rect(g: int) -> tuple[int, int, int, int]:
        r0, c0, r1, c1 = grid.groups[g]
        return grid.xs[c0], grid.ys[r0], grid.xs[c1 + 1], grid.ys[r1 + 1]

    def group_at(x: float, y: float) -> Optional[int]:
        if not (grid.xs[0] <= x < grid.xs[-1] and grid.ys[0] <= y < grid.ys[-1]):
            return None
        c = max(i for i in range(len(grid.xs) - 1) if grid.xs[i] <= x)
        r = max(i for i in range(len(grid.ys) - 1) if grid.ys[i] <= y)
        return grid.owner.get((r, c))

    contents: dict[int, list[TextBox]] = {g: [] for g in range(len(grid.groups))}
    redo: set[int] = set()
    for box in boxes:
        g = group_at(box.cx, box.cy)
        if g is None:
            continue
        x0, y0, x1, y1 = group_rect(g)
        overflow = max(0, x0 - box.x0) + max(0, box.x1 - x1)
        if overflow > 0.25 * (box.x1 - box.x0):  # the box ran across a wall: read each cell alone
            for other in {group_at(x, box.cy) for x in (box.x0 + 2, box.cx, box.x1 - 2)}:
                if other is not None:
                    redo.add(other)
            continue
        contents[g].append(box)
    # one line of this table's text (not the page's body text, which is usually larger)
    heights = [b.y1 - b.y0 for group_boxes in contents.values() for b in group_boxes]
    heights = heights or [b.y1 - b.y0 for b in boxes] or [30.0]
    line_height = statistics.median(heights)
    for g in range(len(grid.groups)):
        if g in redo or not contents[g]:
            crop_boxes = _read_cell(gray, lines, group_rect(g), line_height)
            if crop_boxes or g in redo:
                contents[g] = crop_boxes
    n_rows, n_cols = len(grid.ys) - 1, len(grid.xs) - 1
    rows: list[list[Optional[str]]] = [[None] * n_cols for _ in range(n_rows)]
    scores: list[float] = []
    for g, (r0, c0, _, _) in enumerate(grid.groups):
        cell_boxes = contents[g]
        rows[r0][c0] = _numeric_lookalikes(clean_cell(_join_lines(cell_boxes)) or "")
        scores.extend(b.score for b in cell_boxes)
    rows = [row for row in rows if any(cell is not None for cell in row)]  # slivers under merged cells
    return rows, scores


def _read_cell(gray: Any, lines: Any, rect: tuple[int, int, int, int], line_height: float) -> list[TextBox]:
    """OCR one cell from its crop when it shows ink (lines excluded)."""
    import numpy as np

    x0, y0, x1, y1 = rect
    inset = 4
    if x1 - x0 <= 2 * inset or y1 - y0 <= 2 * inset:
        return []
    ink = (gray[y0 + inset: y1 - inset, x0 + inset: x1 - inset] < DARK) & ~lines[y0 + inset: y1 - inset, x0 + inset: x1 - inset]
    if ink.sum() < 12:
        return []
    ys, xs = np.nonzero(ink)
    top, bottom = int(ys.min()), int(ys.max()) + 1
    left, right = int(xs.min()), int(xs.max()) + 1
    crop = gray[y0 + inset + top: y0 + inset + bottom, x0 + inset + left: x0 + inset + right].copy()
    crop[lines[y0 + inset + top: y0 + inset + bottom, x0 + inset + left: x0 + inset + right]] = 255
    boxes = _recognize_crop(crop, multiline=(bottom - top) > 1.4 * line_height)
    for box in boxes:  # back to page coordinates, for reading order only
        box.x0 += x0 + inset + left - 12
        box.x1 += x0 + inset + left - 12
        box.y0 += y0 + inset + top - 12
        box.y1 += y0 + inset + top - 12
    return boxes


_LOOKALIKES = str.maketrans("OoDlI|", "000111")


def _numeric_lookalikes(text: str) -> str:
    """'O' → '0', 'l' → '1' in a cell that is otherwise a number (the recogniser's usual slips)."""
    if text and re.fullmatch(r"[0-9OoDlI|.,]+", text) and re.search(r"[0-9]", text + ("0" if len(text) <= 2 else "")):
        return text.translate(_LOOKALIKES)
    return text


def _join_lines(boxes: list[TextBox]) -> str:
    """Boxes → lines top to bottom (boxes on one line left to right), joined by newlines."""
    lines: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda b: (b.cy, b.x0)):
        if lines and abs(box.cy - statistics.fmean(b.cy for b in lines[-1])) < 0.5 * (box.y1 - box.y0):
            lines[-1].append(box)
        else:
            lines.append([box])
    return "\n".join(" ".join(b.text for b in sorted(line, key=lambda b: b.x0)) for line in lines)


def _reading_order_text(boxes: list[TextBox]) -> str:
    """Lines in reading order, without page-number lines and CJK-inner spaces."""
    from parsers.extract.pdf import clean_page_text

    return clean_page_text(_join_lines(boxes))
