"""Issue 5 on a crawled database: every look-up command over what a crawl of the simulator stored.

The database is filled the production way (simulator → Scrapy crawl → archive → parse workers →
store), then each command's JSON output is checked against the simulator's ground truth, and the
exports are re-imported (pandas, pyarrow, openpyxl) and compared with the database.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main
from crawler.crawl import LOCAL_SIMULATOR_SETTINGS, run_crawl
from crawler.simulator.simulator import Simulator
from crawler.work import run_workers
from parsers.model import json_number

WORLD = [{"name": "trs-a", "docs": 6, "per_page": 3}, {"name": "gkmlpt-a", "docs": 6, "per_page": 4}]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("crawled")
    db_url, archive = f"sqlite:///{folder / 'xxgk.sqlite'}", folder / "archive"
    with Simulator(seed=5, sites=WORLD) as sim:
        result = run_crawl(registry=sim.registry_entries(), db_url=db_url, archive_dir=archive,
                           settings=dict(LOCAL_SIMULATOR_SETTINGS), timeout=600)
        assert result.ok, result.log[-2000:]
        run_workers(2, db_url, archive, timeout=120)
        truth = sim.expected_reports()
    return {"db": db_url, "archive": str(archive), "truth": truth, "folder": folder}


def xxgk(crawled: dict, *args: str) -> dict:
    result = CliRunner().invoke(main, [*args, "--db", crawled["db"], "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def a_report_with_values(crawled: dict) -> dict:
    return next(t for t in crawled["truth"] if t["values"] and t["report_format"] in ("F2021", "F2019"))


def test_agency_report_and_history_match_the_portal(crawled: dict) -> None:
    truth = a_report_with_values(crawled)
    found = xxgk(crawled, "agency", truth["agency"])
    assert found["matches"], truth["agency"]
    name = found["matches"][0]["name"]
    report = xxgk(crawled, "report", name, str(truth["year"]), "--archive", crawled["archive"])
    want = {k: json_number(v) for k, v in truth["values"].items()}
    assert {k: report["values"][k] for k in want} == want
    assert report["provenance"]  # archived original and source page
    history = xxgk(crawled, "history", name)
    assert str(truth["year"]) in json.dumps(history)


def test_flags_and_coverage_run_on_the_crawl(crawled: dict) -> None:
    flags = xxgk(crawled, "flags")
    assert isinstance(flags, (list, dict))
    coverage = xxgk(crawled, "coverage")
    states = [state for agency in coverage["agencies"] for state in agency["years"].values()]
    reports = {(t["agency"], t["year"]) for t in crawled["truth"] if t["report_format"] in ("F2021", "F2019")}
    assert states.count("parsed") + states.count("flagged") >= len(reports)


def test_exports_reimport_equal_to_the_database(crawled: dict, tmp_path: Path) -> None:
    import openpyxl
    import pandas as pd
    import pyarrow.parquet as pq

    runner = CliRunner()
    outputs = {}
    for fmt in ("csv", "jsonl", "parquet", "xlsx"):
        out = tmp_path / f"export.{fmt}"
        result = runner.invoke(main, ["export", "--db", crawled["db"], "--format", fmt, "--output", str(out)])
        assert result.exit_code == 0, result.output
        outputs[fmt] = out
    records = [json.loads(line) for line in outputs["jsonl"].read_text(encoding="utf-8").splitlines()]
    truth = a_report_with_values(crawled)
    record = next(r for r in records if r["year"] == truth["year"] and
                  r["values"].get("applications.new.total") == json_number(truth["values"]["applications.new.total"]))
    for field in ("agency", "year", "format", "title", "source_url", "document_sha256", "checks", "values"):
        assert field in record
    long_csv = pd.read_csv(outputs["csv"])
    long_parquet = pq.read_table(outputs["parquet"]).to_pandas()
    assert len(long_csv) == len(long_parquet) == sum(len(r["values"]) for r in records)
    sheet = openpyxl.load_workbook(outputs["xlsx"]).worksheets[0]
    assert sheet.max_row - 1 == len(records)  # wide form: a header row and one row per report
