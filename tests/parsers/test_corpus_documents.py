"""Every real document in the corpus parses without an exception, and non-reports are told apart."""

from __future__ import annotations

import pytest

from xxgk_testing import DOCUMENTS
from parsers import parse

DOCS = sorted(p for p in DOCUMENTS.iterdir() if p.is_file())


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_parses_without_exception(path):
    report = parse(path.read_bytes(), name=path.name)
    assert report.sha256 and report.format in {"F2021", "F2019", "PRE2019", "NOT_A_REPORT", "UNKNOWN"}


@pytest.mark.parametrize("name", ["pingtan_listpage.html", "ordos-engebei_listpage.html",
                                  "template_f2021_blank.docx"])
def test_list_pages_and_blank_template_are_not_reports(name):
    report = parse((DOCUMENTS / name).read_bytes(), name=name)
    assert report.format in ("NOT_A_REPORT", "UNKNOWN")
    assert not any(v for v in report.values.values())


def test_format_is_detected_from_headers_not_year():
    report = parse((DOCUMENTS / "pingtan_2020.html").read_bytes(), name="pingtan_2020.html")
    assert report.format == "F2019"
    assert "active_disclosure.administrative_permit.items_change" in report.values
