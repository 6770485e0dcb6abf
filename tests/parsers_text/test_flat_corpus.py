"""Flattened-text corpus documents: every recoverable label value exactly, unrecoverable ones ambiguous.

The labels of ``tests/fixtures/corpus/labels`` list under "unrecoverable" the key prefixes that the
text alone cannot decide (several splits satisfy every rule); those must be reported as ambiguous
and left out of the values, never guessed. Markdown with pipe tables is read the way the pipeline
reads it: the grids first (``parsers.tables``), then flattened text for the keys still missing.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from parsers import schema
from parsers.extract.text import extract_text
from parsers.flat import values_from_flat_text
from parsers.limits import DEFAULT_LIMITS
from tests.conftest import DOCUMENTS, LABELS

TEXT_SUFFIXES = (".txt", ".md")


def _text_labels() -> list[Path]:
    paths = []
    for path in sorted(LABELS.glob("*.json")):
        label = json.loads(path.read_text(encoding="utf-8"))
        if label["file"].endswith(TEXT_SUFFIXES) and label.get("format") in (schema.F2021, schema.F2019):
            paths.append(path)
    return paths


def _same(got, expected) -> bool:
    if got is None or expected is None:
        return got is None and expected is None
    if isinstance(got, Decimal) or isinstance(expected, float):
        return Decimal(str(got)) == Decimal(str(expected))
    return got == expected and type(got) is type(expected)


def _under(key: str, prefixes: list[str]) -> bool:
    return any(key == p or key.startswith(p + ".") for p in prefixes)


def _read(label: dict):
    data = (DOCUMENTS / label["file"]).read_bytes()
    return extract_text(data, DEFAULT_LIMITS)


def _values_like_pipeline(extraction, fmt: str) -> tuple[dict, list[dict]]:
    """Grids first (when there are any), then flattened text for the keys still missing."""
    values: dict = {}
    if extraction.tables:
        tables = pytest.importorskip("parsers.tables")
        values.update(tables.map_grids(extraction.tables, fmt).values)
    flat = values_from_flat_text(extraction.text, fmt)
    for key, value in flat.values.items():
        values.setdefault(key, value)
    ambiguous = [a for a in flat.ambiguous if not any(k.startswith(a["key"] + ".") for k in values)]
    return values, ambiguous


@pytest.mark.parametrize("label_path", _text_labels(), ids=lambda p: p.name)
def test_text_document_matches_label(label_path: Path) -> None:
    label = json.loads(label_path.read_text(encoding="utf-8"))
    extraction = _read(label)
    values, ambiguous = _values_like_pipeline(extraction, label["format"])
    unrecoverable = label.get("unrecoverable", [])
    wrong = []
    for key, expected in label["values"].items():
        if _under(key, unrecoverable):
            continue
        if key not in values:
            wrong.append(f"{key}: missing (expected {expected!r})")
        elif not _same(values[key], expected):
            wrong.append(f"{key}: {values[key]!r} != {expected!r}")
    assert not wrong, "\n".join(wrong)
    for key in values:
        assert key in label["values"], f"unexpected key {key}"
    for prefix in unrecoverable:
        assert not any(_under(k, [prefix]) for k in values), f"{prefix} guessed"
        assert any(a["key"] == prefix for a in ambiguous), f"{prefix} not reported as ambiguous"


def test_flattened_pingtan_is_flagged_flat() -> None:
    for name in ("pingtan_2019.txt", "pingtan_2022.txt", "pingtan_2025.txt"):
        assert _read({"file": name}).flat_text, name


@pytest.mark.parametrize("name,fmt", [("pingtan_2020.txt", schema.F2019), ("pingtan_2021.txt", schema.F2021),
                                      ("pingtan_2023.txt", schema.F2021)])
def test_unlabelled_flat_documents(name: str, fmt: str) -> None:
    """No label, but the same rules: nothing crashes, every emitted row is a full valid row."""
    result = values_from_flat_text(_read({"file": name}).text, fmt)
    assert len(result.values) > 150
    ambiguous = {a["key"] for a in result.ambiguous}
    for key in result.values:
        assert not any(key.startswith(prefix + ".") for prefix in ambiguous)
    assert all(a["candidate_count"] != 1 for a in result.ambiguous)
    for key, cell in result.cells.items():
        assert cell.source == "text" and cell.raw


def test_pingtan_2020_keeps_printed_figures_that_do_not_add_up() -> None:
    """2020's results column sums to 26 but 总计 says 20: reported as printed, with a warning."""
    result = values_from_flat_text(_read({"file": "pingtan_2020.txt"}).text, schema.F2019)
    assert result.values["applications.results.total.natural_person"] == 20
    assert result.values["applications.results.granted.natural_person"] == 6
    assert result.values["active_disclosure.regulations.total_published"] == 7
    assert result.values["active_disclosure.administrative_fees.items_change"] == -15
    new = [result.values[f"applications.new.{c}"] for c in schema.APPLICANT_KEYS]
    assert new == [20, 0, 0, 0, 0, 1, 21]  # printed "200 000121": the stray space is a boundary


@pytest.mark.parametrize("path", sorted(DOCUMENTS.glob("*.txt")) + sorted(DOCUMENTS.glob("*.md")),
                         ids=lambda p: p.name)
def test_every_text_document_reads(path: Path) -> None:
    extraction = extract_text(path.read_bytes(), DEFAULT_LIMITS)
    assert extraction.text
    for fmt in (schema.F2021, schema.F2019):
        values_from_flat_text(extraction.text, fmt)
