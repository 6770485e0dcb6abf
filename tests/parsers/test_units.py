"""Small units: numbers, labels, metadata, checks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from parsers.checks import review_checks
from parsers.metadata import agency_from_title, cn_number, find_signature, year_from_title
from parsers.numbers import parse_number
from parsers.schema import norm_label


@pytest.mark.parametrize("text,kwargs,value", [
    ("21", {}, 21), ("１２", {}, 12), ("1,234", {}, 1234), ("1，234", {}, 1234), (" 0 ", {}, 0),
    ("—", {}, None), ("无", {}, None), ("/", {}, None), ("", {}, None), ("\xa05", {}, 5),
    ("7730.28", {"decimal": True}, Decimal("7730.28")), ("4166.241619", {"decimal": True}, Decimal("4166.241619")),
    ("+1036", {"signed": True}, 1036), ("-18", {"signed": True}, -18), ("减少2", {"signed": True}, -2),
    ("75394432.52元", {"decimal": True}, Decimal("75394432.52")), ("? 0", {}, 0),
])
def test_parse_number(text, kwargs, value):
    parsed = parse_number(text, **kwargs)
    assert parsed.ok and parsed.value == value


def test_parse_number_rejects_words():
    assert not parse_number("见附件").ok


@pytest.mark.parametrize("raw,norm", [
    ("（三）不予公开", "不予公开"), ("2.其他法律行政止公开", "其他法律行政法规禁止公开"),
    ("3.危及“三安全一稳定”", "危及三安全一稳定"), ("5.属于三类内部事务信息", "属于三类内部事务信息"),
    ("商业\n企业", "商业企业"), ("1、本机关不掌握相关政府信息", "本机关不掌握相关政府信息"),
])
def test_norm_label(raw, norm):
    assert norm_label(raw) == norm


@pytest.mark.parametrize("title,year,agency", [
    ("洪泽区人民政府2023年政府信息公开工作年度报告", 2023, "洪泽区人民政府"),
    ("2024 年上海市科委政府信息公开工作年度报告", 2024, "上海市科委"),
    ("平潭综合实验区2024年度政府信息公开工作年度报告", 2024, "平潭综合实验区"),
    ("某某镇人民政府二〇二三年政府信息公开工作年度报告", 2023, "某某镇人民政府"),
])
def test_title_year_and_agency(title, year, agency):
    assert year_from_title(title) == year
    assert agency_from_title(title) == agency


def test_chinese_numerals():
    assert cn_number("二○一二") == 2012 and cn_number("二十") == 20 and cn_number("十二") == 12


def test_signature_with_spaces_inside_the_date():
    text = "六、其他需要报告的事项\n无。\n攀枝花市仁和区前进镇人民政府\n2024 年 1 月 11 日"
    assert find_signature(text) == ("攀枝花市仁和区前进镇人民政府", "2024-01-11")


def test_review_check_fails_without_fixing():
    values = {"review_litigation.review.upheld": 10, "review_litigation.review.corrected": 1,
              "review_litigation.review.other": 0, "review_litigation.review.pending": 0,
              "review_litigation.review.total": 0}
    (check,) = review_checks(values)
    assert (check.status, check.expected, check.actual) == ("fail", 11, 0)
