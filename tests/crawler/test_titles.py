"""The annual-report title filter: what is kept, what is rejected, year and agency from titles."""

from __future__ import annotations

import pytest

from crawler.titles import agency_from_title, classify_title, year_from_title

REPORTS = [
    ("平潭综合实验区2024年度政府信息公开工作年度报告", 2024, "平潭综合实验区"),
    ("鄂尔多斯市人民政府办公室2019年政府信息公开工作年度报告", 2019, "鄂尔多斯市人民政府办公室"),
    ("内蒙古自治区2018年政府信息公开工作年度报告", 2018, "内蒙古自治区"),
    ("鄂尔多斯市2018年政府信息公开年度报告", 2018, "鄂尔多斯市"),
    ("平潭综合实验区地方税务局2013年信息公开年度报告", 2013, "平潭综合实验区地方税务局"),
    ("二〇二三年XX县政府信息公开工作年度报告", 2023, "XX县"),
    ("2023年XX区政府信息公开工作年度报告", 2023, "XX区"),
    ("XX区2023年政府信息公开工作年度报告（图片版）", 2023, "XX区"),
    ("XX市人民政府2023年政府信息公开工作年度报告_XX市人民政府", 2023, "XX市人民政府"),
    ("2023年度政府信息公开工作年度报告", 2023, None),
    ("XX局2022年政府信息公开年报", 2022, "XX局"),
]

NOT_REPORTS = [
    "恩格贝生态示范区召开2020年度工作会暨党风廉政建设会议",
    "关于2014年政府信息公开工作要点落实情况的函",
    "XX区2023年政府信息公开工作年度报告解读",
    "一图读懂XX区2023年政府信息公开工作年度报告",
    "图解：2023年政府信息公开工作年度报告",
    "关于做好2023年政府信息公开工作年度报告编制工作的通知",
    "【置顶】XX市人民政府政府信息公开指南",
    "2016，恩格贝，精彩继续！",
    "",
]


@pytest.mark.parametrize("title,year,agency", REPORTS)
def test_reports_are_kept_with_year_and_agency(title: str, year: int, agency: str | None) -> None:
    verdict = classify_title(title)
    assert verdict.is_report, verdict.reason
    assert verdict.year == year
    assert verdict.agency == agency


@pytest.mark.parametrize("title", NOT_REPORTS)
def test_news_letters_and_notices_are_rejected(title: str) -> None:
    assert not classify_title(title).is_report


def test_year_variants() -> None:
    assert year_from_title("某局二零二一年政府信息公开工作年度报告") == 2021
    assert year_from_title("某局2023年度政府信息公开工作年度报告") == 2023
    assert year_from_title("没有年份") is None


def test_agency_of_other_agency_posted_in_a_column() -> None:
    # the county column re-posts the province's report: attributed to the province
    assert agency_from_title("内蒙古自治区2018年政府信息公开工作年度报告") == "内蒙古自治区"
