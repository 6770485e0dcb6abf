"""Generated reports (known values) in the formats the corpus lacks parse back to their truth.

The generator (crawler/simulator/docgen) renders one value set as HTML, GBK HTML, DOCX, DOC, WPS,
XLSX, a WPS-looking PDF, a text copy and Markdown; every rendering must give back every value.
"""

from __future__ import annotations

import random
import shutil

import pytest

from crawler.simulator.docgen import ReportSpec, expected_record, random_values, render
from parsers import parse
from parsers.model import json_number

CASES = [("F2021", kind) for kind in ("html", "html-gbk", "docx", "doc", "xlsx", "pdf", "txt", "md")]
CASES += [("F2019", kind) for kind in ("html", "html-gbk", "docx", "wps", "xlsx", "pdf", "txt", "md")]
NEEDS_SOFFICE = {"doc", "wps"}
NO_NARRATIVE = {"xlsx"}  # spreadsheets carry the tables only: no signature block


def make_spec(fmt: str, seed: int) -> ReportSpec:
    year = 2023 if fmt == "F2021" else 2020
    return ReportSpec(agency="攀枝花市仁和区前进镇人民政府", year=year, fmt=fmt,
                      values=random_values(fmt, random.Random(seed)))


@pytest.mark.parametrize("fmt,kind", CASES, ids=[f"{f}-{k}" for f, k in CASES])
def test_generated_document_parses_to_its_truth(fmt, kind):
    if kind in NEEDS_SOFFICE and not shutil.which("soffice"):
        pytest.skip("LibreOffice (soffice) not installed; scripts/setup.sh installs it")
    spec = make_spec(fmt, seed=7)
    truth = expected_record(spec)
    report = parse(render(spec, kind), name=f"report.{kind.split('-')[0]}")
    assert (report.format, report.year, report.agency) == (truth["format"], truth["year"], truth["agency"])
    if kind not in NO_NARRATIVE:
        assert report.signature_date == truth["signature_date"]
    got = {k: json_number(v) for k, v in report.values.items()}
    want = {k: json_number(v) for k, v in truth["values"].items()}
    assert got == want
    assert not report.failed_checks(), [c.to_dict() for c in report.failed_checks()]


@pytest.mark.parametrize("seed", range(5))
def test_random_value_sets_roundtrip_through_pdf_and_html(seed):
    fmt = "F2021" if seed % 2 == 0 else "F2019"
    spec = make_spec(fmt, seed=100 + seed)
    want = {k: json_number(v) for k, v in expected_record(spec)["values"].items()}
    for kind in ("pdf", "html"):
        report = parse(render(spec, kind), name=f"r.{kind}")
        assert {k: json_number(v) for k, v in report.values.items()} == want, kind


def test_column_labels_are_the_headers_printed_above_each_cell():
    spec = make_spec("F2021", seed=3)
    report = parse(render(spec, "html"), name="r.html")
    assert report.cells["active_disclosure.regulations.issued"].col_label == "本年制发件数"
    assert report.cells["active_disclosure.administrative_fees.amount_10k_yuan"].col_label.startswith("本年收费金额")
    assert report.cells["applications.new.org_research"].col_label == "科研机构"
    assert report.cells["review_litigation.litigation_direct.pending"].col_label == "尚未审结"


@pytest.mark.parametrize("seed", range(8))
def test_blank_cells_and_single_other_rows_survive_every_format(seed):
    """Random value sets with blank cells (null) and （六） printed as one row, in six formats."""
    rng = random.Random(1000 + seed)
    fmt = rng.choice(["F2021", "F2019"])
    single = fmt == "F2021" and rng.random() < 0.4
    values = random_values(fmt, rng, big=rng.random() < 0.3, single_other_row=single,
                           blank_ratio=rng.choice([0.2, 0.5]))
    spec = ReportSpec(agency="攀枝花市仁和区前进镇人民政府", year=2023 if fmt == "F2021" else 2020, fmt=fmt,
                      values=values, single_other_row=single)
    want = {k: json_number(v) for k, v in expected_record(spec)["values"].items()}
    for kind in ("html", "pdf", "docx", "xlsx", "txt", "md"):
        report = parse(render(spec, kind), name=f"r.{kind}")
        assert {k: json_number(v) for k, v in report.values.items()} == want, kind
