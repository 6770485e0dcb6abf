"""OCR of page images and scanned PDFs: tables rebuilt from ruling lines, numbers recovered.

Each OCR run costs seconds, so every picture is OCR'd once per session (module fixtures) and
kept small: one page of hongzequ_2023 (Tables B and C), and a crop of another page as a scan.
"""

from __future__ import annotations

import io
import os

import pytest

from parsers.errors import ParseError
from parsers.extract import ocr
from parsers.extract.pdf import extract_pdf
from parsers.limits import DEFAULT_LIMITS, Limits
from parsers.model import Extraction
from tests.conftest import DOCUMENTS

HONGZEQU_2023 = DOCUMENTS / "hongzequ_2023.pdf"


def require_engine() -> None:
    if not ocr.engine_available():
        if os.environ.get("CI") or os.environ.get("XXGK_REQUIRE_SERVICES") == "1":
            pytest.fail("OCR engine missing: pip install rapidocr-onnxruntime")
        pytest.skip("OCR engine missing: pip install rapidocr-onnxruntime")


def page_image(number: int):
    (_, image), = ocr.render_pdf_pages(HONGZEQU_2023.read_bytes(), [number], DEFAULT_LIMITS)
    return image


def png_bytes(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def find_row(result: Extraction, label: str) -> list:
    for table in result.tables:
        for row in table.rows:
            if label in row:
                return row[row.index(label) + 1:]
    raise AssertionError(f"no row labelled {label!r} in {[t.rows for t in result.tables]}")


@pytest.fixture(scope="module")
def page4() -> Extraction:
    require_engine()
    return ocr.extract_image(png_bytes(page_image(4)), DEFAULT_LIMITS)


@pytest.fixture(scope="module")
def scanned_crop() -> Extraction:
    """An image-only PDF of the top of page 3 (Table A's tail), as a scanner would make it:
    slightly tilted (1.5°), so the rules must be straightened before the grid is found."""
    from PIL import Image

    require_engine()
    image = page_image(3)
    crop = image.crop((0, 0, image.width, int(image.height * 0.38))).convert("L")
    crop = crop.rotate(1.5, resample=Image.BICUBIC, fillcolor=255)
    buffer = io.BytesIO()
    crop.save(buffer, "PDF", resolution=float(ocr.RENDER_DPI))
    return extract_pdf(buffer.getvalue(), DEFAULT_LIMITS)


def test_page_image_table_c_numbers(page4: Extraction) -> None:
    table_c = [t for t in page4.tables if t.rows and t.rows[0][0] == "行政复议"][0]
    assert table_c.rows[-1] == ["10", "1", "0", "0", "0", "0", "0", "0", "0", "0", "5", "0", "0", "0", "0"]
    assert table_c.rows[1][:4] == ["结果维持", "结果纠正", "其他结果", "尚未审结"]


def test_page_image_table_b_rows(page4: Extraction) -> None:
    assert find_row(page4, "1.信访举报投诉类申请") == ["1", "0", "0", "0", "0", "0", "1"]
    assert find_row(page4, "5.要求行政机关确认或重新出具已获取信息") == ["0"] * 7
    assert find_row(page4, "（七）总计")[-7:] == ["21", "0", "0", "0", "0", "0", "21"]
    assert find_row(page4, "四、结转下年度继续办理")[-7:] == ["0"] * 7


def test_ocr_confidence_is_below_one(page4: Extraction) -> None:
    assert 0 < page4.confidence < 1
    assert all(0 < t.confidence < 1 for t in page4.tables)
    assert page4.media_type == "image/png"


def test_ocr_text_has_section_heading(page4: Extraction) -> None:
    assert "四、政府信息公开行政复议、行政诉讼情况" in page4.text
    assert "- 4 -" not in page4.text and "-4-" not in page4.text


def test_scanned_pdf_goes_through_ocr(scanned_crop: Extraction) -> None:
    assert scanned_crop.confidence < 1
    assert any("OCR" in w for w in scanned_crop.warnings)
    assert find_row(scanned_crop, "行政处罚") == ["4119"]
    assert find_row(scanned_crop, "行政强制") == ["195"]
    assert find_row(scanned_crop, "行政事业性收费") == ["7730.28"]


def test_image_pixel_limit_checked_from_header() -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, "PNG")  # 144 Mpx, a few KB compressed
    with pytest.raises(ParseError, match="pixels, more than the limit"):
        ocr.extract_image(buffer.getvalue(), DEFAULT_LIMITS)


def test_decompression_bomb_refused_before_decoding() -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, "PNG")  # 400 Mpx in 48 KB
    with pytest.raises(ParseError, match="pixels"):
        ocr.extract_image(buffer.getvalue(), DEFAULT_LIMITS)


@pytest.mark.parametrize("data,message", [
    (b"", "empty file"),
    (os.urandom(2048), "not an image"),
])
def test_bad_images(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        ocr.extract_image(data, DEFAULT_LIMITS)


def test_truncated_image() -> None:
    data = png_bytes(page_image(5).crop((0, 0, 400, 300)))
    with pytest.raises(ParseError, match="truncated|corrupt"):
        ocr.extract_image(data[: len(data) // 2], Limits())


@pytest.fixture(scope="module")
def table_as_picture() -> Extraction:
    """A text PDF whose Table C is pasted as a picture (as WPS exports screenshots of tables)."""
    require_engine()
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    image = page_image(4)
    top = int(image.height * 0.37)
    crop = image.crop((0, top, image.width, top + int(image.height * 0.21)))
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.setFont("STSong-Light", 14)
    page.drawString(72, 800, "本机关全年被申请行政复议11件，被提起行政诉讼5件。")
    page.drawString(72, 780, "四、政府信息公开行政复议、行政诉讼情况")
    page.drawImage(ImageReader(crop), 0, 780 - 30 - 595 * crop.height / crop.width, width=595,
                   height=595 * crop.height / crop.width)
    page.showPage()
    page.save()
    return extract_pdf(buffer.getvalue(), DEFAULT_LIMITS)


def test_table_pasted_as_picture_is_ocrd(table_as_picture: Extraction) -> None:
    assert table_as_picture.text == ("本机关全年被申请行政复议11件，被提起行政诉讼5件。\n"
                                     "四、政府信息公开行政复议、行政诉讼情况")  # the text layer, kept
    table_c = [t for t in table_as_picture.tables if t.rows and t.rows[0][0] == "行政复议"][0]
    assert table_c.rows[-1] == ["10", "1", "0", "0", "0", "0", "0", "0", "0", "0", "5", "0", "0", "0", "0"]
    assert table_c.confidence < 1 and table_as_picture.confidence < 1
