"""Generated reports (crawler/simulator/docgen) with known values: text-layer PDF, scanned PDF, PNG.

The scanned PDF and the PNG go through OCR end to end (``parsers.parse``), and every value must
match the generator's truth: the OCR'd grids are mapped exactly like text-layer ones.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import Any

import pytest

from tests.parsers_pdf.test_ocr import require_engine

docgen = pytest.importorskip("crawler.simulator.docgen", reason="document generator not available")


@lru_cache(maxsize=1)
def spec_and_truth() -> tuple[Any, dict]:
    spec = docgen.random_spec(random.Random(1), fmt="F2021")
    return spec, docgen.expected_record(spec)


def rendered(kind: str) -> bytes:
    spec, _ = spec_and_truth()
    try:
        return docgen.render(spec, kind)
    except Exception as error:  # e.g. pdftoppm missing for the raster kinds
        pytest.skip(f"cannot render {kind}: {type(error).__name__}: {error}")


def value_differences(report: Any) -> dict[str, tuple]:
    _, truth = spec_and_truth()
    missing = object()
    return {key: (expected, report.values.get(key, "MISSING"))
            for key, expected in truth["values"].items()
            if report.values.get(key, missing) != expected}


def parse_report(data: bytes, name: str) -> Any:
    from parsers import parse

    return parse(data, name=name)


def test_generated_text_pdf_values() -> None:
    from parsers.extract.pdf import extract_pdf
    from parsers.limits import DEFAULT_LIMITS

    data = rendered("pdf")
    extraction = extract_pdf(data, DEFAULT_LIMITS)
    assert extraction.confidence == 1.0 and extraction.tables
    report = parse_report(data, "generated.pdf")
    assert value_differences(report) == {}
    _, truth = spec_and_truth()
    assert report.year == truth["year"]


@pytest.mark.slow
def test_generated_scanned_pdf_values_via_ocr() -> None:
    require_engine()
    data = rendered("pdf-scanned")
    report = parse_report(data, "generated-scanned.pdf")
    assert value_differences(report) == {}
    cell = next(iter(report.cells.values()))
    assert cell.confidence < 1


@pytest.mark.slow
def test_generated_png_values_via_ocr() -> None:
    require_engine()
    report = parse_report(rendered("png"), "generated.png")
    assert value_differences(report) == {}
