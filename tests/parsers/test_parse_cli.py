"""``xxgk parse``: JSON contract, readable summary, one-line errors, exit status."""

from __future__ import annotations

import json
import subprocess
import sys

from xxgk_testing import DOCUMENTS, ROOT


def run_xxgk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_parse_json_follows_the_contract():
    result = run_xxgk("parse", "--json", str(DOCUMENTS / "hongzequ_2023.pdf"))
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    for field in ("file", "sha256", "media_type", "format", "title", "agency", "year", "signature_date",
                  "values", "cells", "checks", "warnings", "parser_version"):
        assert field in record
    assert record["file"] == "hongzequ_2023.pdf" and record["media_type"] == "application/pdf"
    assert record["values"]["applications.new.natural_person"] == 21
    cell = record["cells"]["applications.new.natural_person"]
    assert cell["raw"] == "21" and cell["page"] == 3 and cell["col_label"] == "自然人"
    assert "本年新收" in cell["row_label"]
    assert {"id": "C1", "scope": "review", "status": "fail", "expected": 11, "actual": 0}.items() <= \
        next(c for c in record["checks"] if c["id"] == "C1").items()


def test_several_files_one_line_each_and_bad_ones_reported(tmp_path):
    bad = tmp_path / "garbage.pdf"
    bad.write_bytes(b"\x00\x01binary garbage, not a pdf" * 50)
    empty = tmp_path / "empty.docx"
    empty.write_bytes(b"")
    result = run_xxgk("parse", "--json", str(DOCUMENTS / "pingtan_2024.html"), str(bad), str(empty),
                      str(DOCUMENTS / "pingtan_2019.html"))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert [json.loads(line)["year"] for line in lines] == [2024, 2019]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"{bad}: error: ") and errors[1].startswith(f"{empty}: error: ")


def test_readable_summary_shows_tables_and_failed_checks():
    result = run_xxgk("parse", str(DOCUMENTS / "hongzequ_2023.pdf"))
    assert result.returncode == 0
    assert "三、收到和处理政府信息公开申请情况" in result.stdout
    assert "C1 review" in result.stdout and "expected 11" in result.stdout
