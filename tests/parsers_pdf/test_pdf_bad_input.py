"""Bad PDFs fail with a one-line ParseError, fast and before any page is parsed when possible."""

from __future__ import annotations

import os

import pytest

from parsers.errors import ParseError
from parsers.extract.pdf import extract_pdf
from parsers.limits import DEFAULT_LIMITS, Limits
from tests.conftest import DOCUMENTS
from tests.parsers_pdf.pdf_factory import encrypted_pdf, minimal_pdf, text_pdf

GOOD = (DOCUMENTS / "hongzequ_2023.pdf").read_bytes()


def reason(data: bytes, limits: Limits = DEFAULT_LIMITS) -> str:
    with pytest.raises(ParseError) as caught:
        extract_pdf(data, limits)
    message = str(caught.value)
    assert "\n" not in message and message
    return message


def test_empty_file() -> None:
    assert reason(b"") == "empty file"


def test_binary_garbage_named_pdf() -> None:
    assert reason(os.urandom(4096)) == "not a PDF (no %PDF- header)"


def test_garbage_after_a_pdf_header() -> None:
    assert reason(b"%PDF-1.7\n" + os.urandom(4096)).startswith("corrupt PDF")


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.99])
def test_truncated(fraction: float) -> None:
    assert "PDF" in reason(GOOD[: int(len(GOOD) * fraction)])


def test_html_error_page_served_as_pdf() -> None:
    assert reason("<html><body>404 页面不存在</body></html>".encode()) == "not a PDF (no %PDF- header)"


def test_encrypted_with_user_password() -> None:
    assert reason(encrypted_pdf()) == "encrypted PDF (password required)"


def test_owner_password_only_is_readable() -> None:
    """Copy-protected PDFs (empty user password) are common on portals and open without one.

    (pdfminer cannot map this reportlab CID font once encrypted, so the page would go to OCR;
    OCR is switched off here to keep the test fast; the warning tells that it was needed.)
    """
    result = extract_pdf(encrypted_pdf(user_password=""), Limits(ocr_max_pages=0))
    assert result.pages == 1
    assert result.warnings == ["1 pages need OCR; only the first 0 were read"]


def test_5000_pages_refused_from_the_catalog() -> None:
    assert reason(minimal_pdf(5000)) == "PDF has 5000 pages, more than the limit of 300"


def test_lying_page_count_still_bounded() -> None:
    assert reason(minimal_pdf(400, declared_count=1)) == "PDF has more than 300 pages (the limit)"


def test_page_limit_is_configurable() -> None:
    assert reason(GOOD, Limits(max_pages=3)) == "PDF has 5 pages, more than the limit of 3"


def test_no_pages() -> None:
    assert reason(minimal_pdf(0)) == "PDF has no pages"


def test_too_many_bytes() -> None:
    assert reason(GOOD, Limits(max_bytes=1000)).startswith("file is")


def test_text_limit() -> None:
    assert "characters" in reason(GOOD, Limits(max_text_chars=100))


def test_blank_pages_are_not_an_error() -> None:
    result = extract_pdf(minimal_pdf(2), DEFAULT_LIMITS)
    assert result.pages == 2 and result.text == "" and result.tables == []


def test_generated_text_pdf_spacing_and_page_number() -> None:
    result = extract_pdf(text_pdf(["2023 年 1 月 11 日", "第 1 页"]), DEFAULT_LIMITS)
    assert result.text == "2023年1月11日"
    assert result.meta["Title"] == "测试报告"
