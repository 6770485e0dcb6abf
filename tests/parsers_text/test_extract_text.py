"""extract_text: decoding, the page.txt header, page markers, pipe and tab tables, bad input."""

from __future__ import annotations

import pytest

from parsers.errors import ParseError
from parsers.extract.text import extract_text
from parsers.limits import DEFAULT_LIMITS, Limits
from tests.conftest import DOCUMENTS

PAGE_TXT = """标题: 某县2023年度政府信息公开工作年度报告
发布时间: 2024-01-20 15:07
文号: 
发布机构: 某县人民政府办公室
栏目: 政府信息公开年报
原文链接: https://example.gov.cn/a.htm
==================== 正文 ====================
某县2023年度政府信息公开工作年度报告 二、主动公开政府信息情况 规章000行政规范性文件1234行政许可5
"""


def read(text: str, encoding: str = "utf-8") -> object:
    return extract_text(text.encode(encoding), DEFAULT_LIMITS)


def test_page_txt_header_goes_to_meta() -> None:
    extraction = read(PAGE_TXT)
    assert extraction.meta == {
        "title": "某县2023年度政府信息公开工作年度报告",
        "publish_date": "2024-01-20",
        "publisher": "某县人民政府办公室",
        "column": "政府信息公开年报",
        "url": "https://example.gov.cn/a.htm",
    }
    assert extraction.text.startswith("某县2023年度")
    assert "原文链接" not in extraction.text and "====" not in extraction.text
    assert extraction.flat_text


def test_encodings() -> None:
    for encoding in ("utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"):
        extraction = read(PAGE_TXT, encoding)
        assert extraction.meta["title"] == "某县2023年度政府信息公开工作年度报告", encoding
    assert read("a\r\nb\rc").text == "a\nb\nc"


def test_bad_input_is_a_one_line_error() -> None:
    for data in (b"", b"   \n", bytes(range(256)) * 40):
        with pytest.raises(ParseError) as info:
            extract_text(data, DEFAULT_LIMITS)
        assert "\n" not in str(info.value)
    with pytest.raises(ParseError, match="too large"):
        extract_text(b"x" * 100, Limits(max_bytes=10))


def test_pipe_tables_are_faithful_grids() -> None:
    text = ("正文\n标题行\n"
            "| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |\n|---|---|---|---|\n"
            "| 规章 | 0 | 0 | 0 |\n| 0 | 1 | 0 | 0 | 0 | 0 | 1 |\n|---|---|---|---|---|---|---|\n"
            "| 四、结转 | 1 |  |\n\n— 1 —\n正文之后\n| a | b |\n")
    extraction = read(text)
    first, second = extraction.tables
    assert first.rows[:2] == [
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数", None, None, None],
        ["规章", "0", "0", "0", None, None, None],
    ]  # positions never printed are absent (None), not blank cells
    assert first.rows[2] == ["0", "1", "0", "0", "0", "0", "1"]  # unlabelled row, as printed
    assert first.rows[3][:3] == ["四、结转", "1", ""]  # empty pipe cell kept
    assert all(len(row) == len(first.rows[0]) for row in first.rows)  # a dense grid
    assert (first.page, second.page, second.index) == (1, 2, 1)
    assert "— 1 —" not in extraction.text
    assert not extraction.text.startswith("正文")


def test_tab_separated_lines_are_tables() -> None:
    text = "表\n项目\t自然人\t总计\n一、本年新收政府信息公开申请数量\t3\t3\n\t—\t1\n其后文字\n"
    (table,) = read(text).tables
    assert table.rows == [["项目", "自然人", "总计"], ["一、本年新收政府信息公开申请数量", "3", "3"],
                          ["", "—", "1"]]


def test_corpus_markdown_tables() -> None:
    kewei = extract_text((DOCUMENTS / "shanghai-kewei_2024.md").read_bytes(), DEFAULT_LIMITS)
    table_c = kewei.tables[-1]
    assert table_c.rows[-1] == ["1", "0", "0", "0", "1"] + ["0"] * 10  # unlabelled data row, as printed
    assert kewei.flat_text  # Table A (五)(六)(八) is printed as running text
    shuyang = extract_text((DOCUMENTS / "shuyangxian_2025.txt").read_bytes(), DEFAULT_LIMITS)
    assert not shuyang.flat_text
    assert any(row[0] == "行政规范性文件" and row[1:4] == ["6", "1", "32"] for t in shuyang.tables for row in t.rows)
    szfbgt = extract_text((DOCUMENTS / "shanghai-szfbgt_2025.md").read_bytes(), DEFAULT_LIMITS)
    assert {t.page for t in szfbgt.tables} == {5, 6}  # after markers — 4 — and — 5 —
