"""The text-layer PDFs of the corpus: tables come out as grids with one label per cell."""

from __future__ import annotations

import re
from functools import lru_cache

import pytest

from parsers.extract.pdf import clean_cell, clean_page_text, collapse_cjk_spaces, extract_pdf
from parsers.limits import DEFAULT_LIMITS
from parsers.model import Extraction
from tests.conftest import DOCUMENTS

PDFS = ("hongzequ_2023.pdf", "hongzequ_2024.pdf", "huaianshi_2024.pdf")


@lru_cache(maxsize=None)
def extraction(name: str) -> Extraction:
    return extract_pdf((DOCUMENTS / name).read_bytes(), DEFAULT_LIMITS)


def find_row(result: Extraction, label: str) -> list:
    """The first table row having a cell equal to ``label``, with the cells after it."""
    for table in result.tables:
        for row in table.rows:
            if label in row:
                return row[row.index(label) + 1:]
    raise AssertionError(f"no row labelled {label!r}")


@pytest.mark.parametrize("name", PDFS)
def test_pages_meta_and_confidence(name: str) -> None:
    result = extraction(name)
    assert result.pages in (5, 6)
    assert result.confidence == 1.0
    assert result.meta["Creator"].startswith("WPS")
    assert not result.warnings
    assert [t.index for t in result.tables] == list(range(len(result.tables)))


def test_metadata_utf16le_title_is_decoded() -> None:
    assert extraction("hongzequ_2023.pdf").meta["Title"] == "洪泽区人民政府2023年政府信息公开工作年度报告"
    assert extraction("hongzequ_2023.pdf").meta["Author"] == "王守强"


@pytest.mark.parametrize("name", PDFS)
def test_text_has_title_and_no_page_numbers(name: str) -> None:
    text = extraction(name).text
    assert "政府信息公开工作年度报告" in text.splitlines()[1]
    for line in text.splitlines():
        assert not re.fullmatch(r"[-—\s]*\d+[-—\s]*", line), line


def test_text_spacing_is_collapsed_inside_cjk() -> None:
    text = extraction("hongzequ_2023.pdf").text
    assert "2023年政府信息公开工作年度报告" in text
    assert "自2023年1月1日" in text
    assert "号，邮编：223100，电话：0517-87222589" in text
    assert "21 0 0 0 0 0 21" in text  # numbers of a table row stay apart


def test_hongzequ_2023_table_c_row() -> None:
    result = extraction("hongzequ_2023.pdf")
    table_c = [t for t in result.tables if any("行政复议" == c for c in t.rows[0])][0]
    assert table_c.page == 4
    assert table_c.rows[-1] == ["10", "1", "0", "0", "0", "0", "0", "0", "0", "0", "5", "0", "0", "0", "0"]
    assert table_c.rows[1][:5] == ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]


def test_hongzequ_2023_table_b_labels_one_per_cell() -> None:
    result = extraction("hongzequ_2023.pdf")
    assert find_row(result, "一、本年新收政府信息公开申请数量") == [None, None, "21", "0", "0", "0", "0", "0", "21"]
    assert find_row(result, "三、本年度办理结果")[0] == "（一）予以公开"  # vertical one-char-per-line label
    assert find_row(result, "2.其他法律行政止公开") == ["0"] * 7
    assert find_row(result, "1.本机关不掌握相关政府信息") == ["10", "0", "0", "0", "0", "0", "10"]
    assert find_row(result, "5.要求行政机关确认或重新出具已获取信息") == ["0"] * 7
    assert find_row(result, "4.无正当理由大量反复申请") == ["0"] * 7
    assert find_row(result, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）")[1:] == ["4", "0", "0", "0", "0", "0", "4"]
    header = [t for t in result.tables if "申请人情况" in t.rows[0]][0]
    assert header.rows[2][4:9] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]


def test_hongzequ_2023_table_a_split_across_pages() -> None:
    result = extraction("hongzequ_2023.pdf")
    assert find_row(result, "行政规范性文件") == ["0", "5", "5"]
    assert find_row(result, "行政许可")[0] == "550"
    page3 = [t for t in result.tables if t.page == 3][0]
    assert page3.rows[0] == ["信息内容", "本年处理决定数量"]  # pdfplumber alone gives None here
    assert find_row(result, "行政处罚") == ["4119"]
    assert find_row(result, "行政事业性收费") == ["7730.28"]


def test_tables_keep_document_order_across_the_page_break() -> None:
    result = extraction("hongzequ_2024.pdf")
    labels = [label for t in result.tables for row in t.rows for label in row if label]
    assert labels.index("1.本机关不掌握相关政府信息") < labels.index("2.没有现成信息需要另行制作")
    assert find_row(result, "2.没有现成信息需要另行制作") == ["1", "0", "0", "0", "0", "0", "1"]
    assert find_row(result, "行政事业性收费") == ["7545"]


def test_boxed_narrative_is_not_a_table_but_stays_in_text() -> None:
    result = extraction("hongzequ_2023.pdf")
    assert not [t for t in result.tables if t.page in (1, 5)]
    cells = [c for t in result.tables for row in t.rows for c in row if c]
    assert not [c for c in cells if "落实“三审三校”制度" in c]
    assert "落实“三审三校”制度" in result.text


def test_huaianshi_large_numbers_and_split_label() -> None:
    result = extraction("huaianshi_2024.pdf")
    assert find_row(result, "行政处罚") == ["3985758"]
    assert find_row(result, "行政事业性收费") == ["96171.6"]
    assert find_row(result, "3、其他") == ["108", "2", "0", "0", "0", "0", "110"]
    assert find_row(result, "一、本年新收政府信息公开申请数量")[2:] == ["3001", "53", "0", "0", "61", "4", "3119"]


def test_clean_cell() -> None:
    assert clean_cell("商业\n企业") == "商业企业"
    assert clean_cell("三\n、\n本\n年\n度") == "三、本年度"
    assert clean_cell("5.要求行政机关确认或重 新出具\n已获取信息") == "5.要求行政机关确认或重新出具已获取信息"
    assert clean_cell("总 计") == "总计"
    assert clean_cell("3985\n758") == "3985758"
    assert clean_cell("1 234") == "1 234"  # digits are not touched
    assert clean_cell("Total\ncount") == "Total count"
    assert clean_cell(None) is None


def test_page_number_lines_are_removed() -> None:
    for line in ("- 3 -", "— 3 —", "-3-", "第3页", "第 3 页 共 5 页", "3/5", "－３－"):
        assert clean_page_text(f"正文\n{line}", 3) == "正文", line
    assert clean_page_text("正文\n3", 3) == "正文"
    assert clean_page_text("正文\n21", 3) == "正文\n21"  # a lone number that is not this page's


def test_collapse_cjk_spaces() -> None:
    assert collapse_cjk_spaces("2023 年 1 月 11 日") == "2023年1月11日"
    assert collapse_cjk_spaces("国令第 711 号") == "国令第711号"
    assert collapse_cjk_spaces("结果 维持") == "结果维持"
    assert collapse_cjk_spaces("21 0 0 0") == "21 0 0 0"
