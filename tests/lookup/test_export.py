"""Exports re-imported with pandas / pyarrow / openpyxl equal the database."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import pytest
from sqlalchemy import create_engine, text

import parsers
from tests.conftest import DOCUMENTS
from tests.lookup.dbfill import QIANJIN

pd = pytest.importorskip("pandas")
pq = pytest.importorskip("pyarrow.parquet")
openpyxl = pytest.importorskip("openpyxl")


def database_values(db_url: str, where: str = "1=1") -> dict[tuple[int, str], Optional[str]]:
    """(report id, key) → exact value text of the current reports, straight from SQL."""
    engine = create_engine(db_url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "select v.report_id, v.key, v.value_text from report_values v join reports r on r.id = v.report_id "
            "left join agencies a on a.id = r.agency_id "
            f"where r.is_current = 1 and r.status = 'ok' and {where}")).all()
    engine.dispose()
    return {(r[0], r[1]): r[2] for r in rows}


def same_number(exported: Any, stored: Optional[str]) -> bool:
    if stored is None:
        return exported is None or (isinstance(exported, float) and math.isnan(exported)) or exported == ""
    return Decimal(str(exported)) == Decimal(stored)


def _export(xxgk, tmp_path: Path, fmt: str, shape: str, *filters: str) -> Path:  # type: ignore[no-untyped-def]
    output = tmp_path / f"out.{fmt}"
    result = xxgk("export", "--format", fmt, "--shape", shape, "--output", str(output), "--json", *filters)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stderr.strip().splitlines()[-1])
    assert summary["rows"] > 0
    return output


def long_frame(path: Path, fmt: str):  # type: ignore[no-untyped-def]
    if fmt == "csv":
        return pd.read_csv(path, dtype={"value": str, "division_code": str}, keep_default_na=False, na_values=[""])
    if fmt == "parquet":
        return pq.read_table(path).to_pandas()
    if fmt == "jsonl":
        return pd.read_json(path, lines=True, dtype={"value": str, "division_code": str})
    sheet = openpyxl.load_workbook(path, read_only=True)["values"]
    rows = list(sheet.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl", "xlsx"])
def test_long_export_equals_the_database(xxgk, lookup_db, tmp_path, fmt) -> None:  # type: ignore[no-untyped-def]
    frame = long_frame(_export(xxgk, tmp_path, fmt, "long"), fmt)
    expected = database_values(lookup_db.db_url)
    exported = {(int(r.report_id), r.key): r.value for r in frame.itertuples()}
    assert exported.keys() == expected.keys()
    for cell, stored in expected.items():
        assert same_number(exported[cell], stored), (cell, exported[cell], stored)
    numbers = {(int(r.report_id), r.key): r.value_num for r in frame.itertuples()}
    assert all(same_number(numbers[c], s) or abs(float(numbers[c]) - float(s)) < 1e-9  # type: ignore[arg-type]
               for c, s in expected.items() if s is not None)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_wide_export_equals_the_database(xxgk, lookup_db, tmp_path, fmt) -> None:  # type: ignore[no-untyped-def]
    path = _export(xxgk, tmp_path, fmt, "wide")
    if fmt == "csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    elif fmt == "parquet":
        frame = pq.read_table(path).to_pandas()
    else:
        rows = list(openpyxl.load_workbook(path, read_only=True)["reports"].iter_rows(values_only=True))
        frame = pd.DataFrame(rows[1:], columns=rows[0])
    expected = database_values(lookup_db.db_url)
    assert len(frame) == len({report_id for report_id, _ in expected})
    records = frame.to_dict("records")
    for row in records:
        report_id = int(row["report_id"])
        for (rid, key), stored in expected.items():
            if rid == report_id:
                assert same_number(row[key], stored), (report_id, key, row[key], stored)


def test_wide_jsonl_reads_like_parse_json(xxgk, lookup_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One agency's record reads the same whether it came from a file or from a crawl."""
    result = xxgk("export", "--format", "jsonl", "--year", "2023", "--region", "320813")
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 1
    record = records[0]
    for field in ("agency", "year", "format", "title", "source_url", "document_sha256", "checks", "values", "cells"):
        assert field in record
    parsed = parsers.parse((DOCUMENTS / "hongzequ_2023.pdf").read_bytes(), name="hongzequ_2023.pdf").to_dict()
    assert record["values"] == json.loads(json.dumps(parsed["values"], default=str))
    assert record["document_sha256"] == parsed["sha256"] and record["year"] == parsed["year"]
    assert record["format"] == parsed["format"] and record["title"] == parsed["title"]
    parser_checks = {(c["id"], c["scope"], c["status"]) for c in parsed["checks"]}
    assert parser_checks <= {(c["id"], c["scope"], c["status"]) for c in record["checks"]}
    cell = record["cells"]["applications.new.total"]
    assert cell["raw"] == parsed["cells"]["applications.new.total"]["raw"]


def test_filters(xxgk) -> None:  # type: ignore[no-untyped-def]
    def rows(*filters: str) -> list[dict[str, Any]]:
        result = xxgk("export", "--format", "jsonl", *filters)
        assert result.exit_code == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]

    assert {r["year"] for r in rows("--year", "2023")} == {2023}
    assert {r["agency"] for r in rows("--level", "town")} == {QIANJIN}
    assert {r["division_code"][:4] for r in rows("--region", "3208")} == {"3208"}
    assert {r["format"] for r in rows("--report-format", "F2019")} == {"F2019"}
    assert {r["agency"] for r in rows("--agency", "前进镇")} == {QIANJIN}
    versions = rows("--agency", "前进镇", "--year", "2023", "--all-versions")
    assert sorted(r["version"] for r in versions) == [1, 2]


def test_binary_formats_need_an_output_file(xxgk) -> None:  # type: ignore[no-untyped-def]
    result = xxgk("export", "--format", "parquet")
    assert result.exit_code == 1 and "give --output FILE" in result.stderr
