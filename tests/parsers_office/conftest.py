"""Session fixtures for the office-format tests: generated documents, converted once."""

from __future__ import annotations

import pytest

from parsers.limits import DEFAULT_LIMITS
from parsers.extract.docx import extract_docx

from .builders import filled_template, libreoffice, xlsx_from_template
from parsers.safety import find_soffice


@pytest.fixture(scope="session")
def filled_docx() -> bytes:
    return filled_template()


@pytest.fixture(scope="session")
def filled_extraction(filled_docx):
    return extract_docx(filled_docx, DEFAULT_LIMITS)


@pytest.fixture(scope="session")
def filled_doc(filled_docx) -> bytes:
    if find_soffice() is None:
        pytest.skip("LibreOffice (soffice) not installed")
    return libreoffice(filled_docx, ".docx", "doc")


@pytest.fixture(scope="session")
def filled_xlsx(filled_docx) -> bytes:
    return xlsx_from_template(filled_docx)


@pytest.fixture(scope="session")
def filled_xls(filled_xlsx) -> bytes:
    if find_soffice() is None:
        pytest.skip("LibreOffice (soffice) not installed")
    return libreoffice(filled_xlsx, ".xlsx", "xls")
