"""Every look-up command, through the real CLI, on a database filled the crawler's way."""

from __future__ import annotations

import hashlib

from tests.conftest import DOCUMENTS
from tests.lookup.dbfill import QIANJIN, RENHE

HONGZE = "淮安市洪泽区人民政府"


def test_agency_finds_a_town_by_its_short_name(xxgk) -> None:  # type: ignore[no-untyped-def]
    result = xxgk("agency", "前进镇", "--json")
    assert result.exit_code == 0, result.stderr
    top = result.json()["matches"][0]
    assert top["name"] == QIANJIN
    assert (top["level"], top["division_code"], top["parent"]) == ("town", "510411107", RENHE)
    assert top["years"] == [2022, 2023]


def test_agency_accepts_traditional_characters_and_division_codes(xxgk) -> None:  # type: ignore[no-untyped-def]
    assert xxgk("agency", "前進鎮", "--json").json()["matches"][0]["name"] == QIANJIN
    by_code = xxgk("agency", "320813", "--json").json()["matches"]
    assert [m["name"] for m in by_code] == [HONGZE]


def test_agency_without_a_match_says_so(xxgk) -> None:  # type: ignore[no-untyped-def]
    result = xxgk("agency", "不存在的机关名称", "--json")
    assert result.exit_code == 0 and result.json()["matches"] == []
    assert xxgk("agency", "不存在的机关名称").exit_code == 1


def test_report_prints_tables_failed_checks_and_provenance(xxgk, lookup_db) -> None:  # type: ignore[no-untyped-def]
    result = xxgk("report", "洪泽区", "2023", "--json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["agency"]["name"] == HONGZE and report["year"] == 2023 and report["format"] == "F2021"
    # the documented document-side failure of hongzequ_2023.pdf: 行政复议 total
    assert {c["id"] for c in report["failed_checks"]} >= {"C1"}
    assert report["values"]["applications.new.total"] == 21
    assert sum(len(t["rows"]) for t in report["tables"]) > 20
    provenance = report["provenance"]
    data = (DOCUMENTS / "hongzequ_2023.pdf").read_bytes()
    assert provenance["document_sha256"] == hashlib.sha256(data).hexdigest()
    assert provenance["archived_original"]["exists"] is True
    assert provenance["archived_original_url"].endswith("/-/archive/" + provenance["document_sha256"])
    assert provenance["source_url"] == "http://corpus.test/hongzequ_2023.pdf"
    assert provenance["captures"][0]["status"] == 200


def test_report_text_form_and_errors(xxgk) -> None:  # type: ignore[no-untyped-def]
    text = xxgk("report", HONGZE, "2023")
    assert text.exit_code == 0 and "C1" in text.stdout and "archived original" in text.stdout
    missing_year = xxgk("report", HONGZE, "1999")
    assert missing_year.exit_code == 1 and "years stored: [2023, 2024]" in missing_year.stderr
    assert missing_year.stderr.count("\n") == 1
    unknown = xxgk("report", "不存在的机关名称", "2023")
    assert unknown.exit_code == 1 and unknown.stderr.startswith("error: no agency matches")


def test_history_joins_two_spellings_and_reports_cross_year_checks(xxgk) -> None:  # type: ignore[no-untyped-def]
    result = xxgk("history", "洪泽区人民政府", "--json")
    assert result.exit_code == 0, result.stderr
    history = result.json()
    years = {y["year"]: y for y in history["years"]}
    assert sorted(years) == [2023, 2024]  # "洪泽区人民政府" (2023) and "淮安市洪泽区人民政府" (2024): one agency
    assert years[2024]["X1"] == "pass" and years[2023]["X1"] is None
    assert years[2024]["figures"]["applications.new.total"] == 95
    assert "C1" in years[2023]["failed_checks"]
    assert "X1" in xxgk("history", HONGZE).stdout


def test_history_shows_a_report_changed_after_publication(xxgk) -> None:  # type: ignore[no-untyped-def]
    years = {y["year"]: y for y in xxgk("history", "前进镇", "--json").json()["years"]}
    assert years[2023]["changed_after_publication"] is True and years[2023]["version"] == 2
    assert years[2023]["figures"]["applications.new.total"] == 999
    assert years[2022]["changed_after_publication"] is False


def test_flags_lists_failed_identities_and_changed_reports(xxgk) -> None:  # type: ignore[no-untyped-def]
    flagged = xxgk("flags", "--json").json()["flagged"]
    by_cell = {(f["agency"], f["year"]): f for f in flagged}
    assert "C1" in {c["id"] for c in by_cell[(HONGZE, 2023)]["failed_checks"]}
    changed = by_cell[(QIANJIN, 2023)]
    assert changed["changed_after_publication"] is True
    assert {c["key"] for c in changed["changes"]} == {"applications.new.natural_person", "applications.new.total"}
    only_changed = xxgk("flags", "--changed", "--json").json()["flagged"]
    assert [(f["agency"], f["year"]) for f in only_changed] == [(QIANJIN, 2023)]
    assert all(f["year"] == 2023 for f in xxgk("flags", "--year", "2023", "--json").json()["flagged"])
    assert xxgk("flags").exit_code == 0


def test_coverage_matrix(xxgk) -> None:  # type: ignore[no-untyped-def]
    result = xxgk("coverage", "--year", "2022", "--year", "2023", "--year", "2024", "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    rows = {r["agency"]: r["years"] for r in data["agencies"]}
    assert rows[QIANJIN] == {"2022": "parsed", "2023": "flagged", "2024": "missing"}
    assert rows[RENHE] == {"2022": "blocked", "2023": "blocked", "2024": "blocked"}
    assert rows[HONGZE]["2023"] == "flagged"
    totals = data["totals"]
    assert totals["expected"] == sum(totals[s] for s in ("parsed", "flagged", "found", "missing", "blocked"))
    town_only = xxgk("coverage", "--level", "town", "--json").json()
    assert [r["agency"] for r in town_only["agencies"]] == [QIANJIN]
    region = xxgk("coverage", "--region", "3208", "--json").json()
    assert {r["division_code"][:4] for r in region["agencies"]} == {"3208"}
    assert "blocked" in xxgk("coverage").stdout


def test_db_option_wins_over_the_environment(xxgk, lookup_db, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XXGK_DB", str(tmp_path / "elsewhere.sqlite"))
    assert xxgk("agency", "前进镇", "--json").exit_code == 1  # no database there: one-line error
    result = xxgk("agency", "前进镇", "--db", str(lookup_db.db_file), "--json")
    assert result.exit_code == 0 and result.json()["matches"][0]["name"] == QIANJIN
