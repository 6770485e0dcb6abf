"""Round trip over the repository's document generator: render a report with known values as
DOCX, DOC, WPS and XLSX, extract it, and compare every table position with the generator's grid
(text at the top-left of each printed cell, None over the rest of a merged region)."""

from __future__ import annotations

import random
from decimal import Decimal, InvalidOperation

import pytest

from parsers import sniff
from parsers.extract import extract
from parsers.limits import DEFAULT_LIMITS

from .builders import requires_soffice

docgen = pytest.importorskip("crawler.simulator.docgen", reason="document generator not available")
spec_module = pytest.importorskip("crawler.simulator.docgen.spec")

CASES = [("F2021", 1, False), ("F2021", 2, True), ("F2019", 3, False)]


def _spec(fmt: str, seed: int, single_other_row: bool):
    rng = random.Random(seed)
    values = docgen.random_values(fmt, rng, single_other_row=single_other_row)
    agency = spec_module.AGENCIES[seed % len(spec_module.AGENCIES)]
    return docgen.ReportSpec(agency=agency, year=2020 + seed, fmt=fmt, values=values)


def _squeeze(text):
    """Whitespace-free text; numbers as Decimals (an XLSX stores 7 where the DOCX prints +7)."""
    if text is None:
        return None
    text = "".join(text.split())
    try:
        return Decimal(text)
    except InvalidOperation:
        return text


def expected_grids(spec) -> list[list[list[str | None]]]:
    grids = []
    for block in docgen.document_blocks(spec):
        if block.kind != "table" or block.grid is None:
            continue
        grid = block.grid
        rows: list[list[str | None]] = [[None] * grid.n_cols for _ in range(grid.n_rows)]
        for cell in grid.cells:
            rows[cell.row][cell.col] = _squeeze(spec_module.cell_text(spec, cell))
        grids.append(rows)
    return grids


def extracted_grids(extraction) -> list[list[list[str | None]]]:
    return [[[_squeeze(cell) for cell in row] for row in table.rows] for table in extraction.tables]


def _check(spec, data: bytes, media_type: str) -> None:
    extraction = extract(data, media_type, DEFAULT_LIMITS)
    assert extracted_grids(extraction) == expected_grids(spec)
    lines = extraction.text.split("\n")
    assert spec.title in lines[:3] or extraction.meta.get("title") == spec.title
    if media_type != sniff.XLSX and spec.signature_date and spec.include_signature:
        date = spec.signature_date
        assert f"{date.year}年{date.month}月{date.day}日" in "".join(lines[-3:]).replace(" ", "")


@pytest.mark.parametrize("fmt,seed,single_other_row", CASES)
def test_docx_round_trip(fmt, seed, single_other_row):
    spec = _spec(fmt, seed, single_other_row)
    _check(spec, docgen.render(spec, "docx"), sniff.DOCX)


@pytest.mark.parametrize("fmt,seed,single_other_row", CASES)
def test_xlsx_round_trip(fmt, seed, single_other_row):
    spec = _spec(fmt, seed, single_other_row)
    _check(spec, docgen.render(spec, "xlsx"), sniff.XLSX)


@requires_soffice
@pytest.mark.parametrize("kind,media_type", [("doc", sniff.DOC), ("wps", sniff.WPS)])
def test_legacy_word_round_trip(kind, media_type):
    spec = _spec("F2021", 4, False)
    data = docgen.render(spec, kind)
    assert sniff.sniff(data, f"report.{kind}") == media_type
    _check(spec, data, media_type)
