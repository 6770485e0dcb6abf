"""DOCX extraction: the real F2021 template (merged cells) filled with known values, and markup
variants written by hand (legacy merges, content controls, text boxes, tracked changes, lists)."""

from __future__ import annotations

import io

import docx

from parsers import sniff
from parsers.extract import extract
from parsers.extract.docx import chinese_number, extract_docx
from parsers.limits import DEFAULT_LIMITS

from .builders import (SIGNATURE, TEMPLATE, TITLE, VALUE_CELLS, W, p, raw_docx, tbl, tc,
                       template_value, tr)


def test_blank_template_grids_follow_the_merge_convention():
    extraction = extract_docx(TEMPLATE.read_bytes(), DEFAULT_LIMITS)
    assert [len(t.rows) for t in extraction.tables] == [14, 28, 4]
    assert [len(t.rows[0]) for t in extraction.tables] == [4, 10, 15]
    table3 = extraction.tables[1].rows
    # a 3x3 region (label corner), gridSpan header, vMerge header
    assert table3[0][:4] == ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
                             None, None, "申请人情况"]
    assert table3[1][:3] == [None, None, None] and table3[2][:3] == [None, None, None]
    assert table3[1][3:] == ["自然人", "法人或其他组织", None, None, None, None, "总计"]
    assert table3[2][3] is None and table3[2][9] is None  # 自然人 and 总计 span rows 2-3
    assert table3[2][4:9] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
    # 三、本年度办理结果 spans rows 5-26 in column 0; （三）不予公开 spans 8 rows in column 1
    assert table3[5][0] == "三、本年度办理结果"
    assert all(table3[r][0] is None for r in range(6, 27))
    assert table3[7][1] == "（三）不予公开" and all(table3[r][1] is None for r in range(8, 15))
    assert table3[26][1:3] == ["（七）总计", None]
    # blank value cells are real empty cells, not merged positions
    assert table3[3][3:] == [""] * 7
    assert extraction.tables[0].rows[6] == ["行政许可", "", None, None]


def test_blank_template_text_and_metadata():
    extraction = extract_docx(TEMPLATE.read_bytes(), DEFAULT_LIMITS)
    lines = extraction.text.split("\n")
    assert lines[0] == "政府信息公开工作年度报告格式模板"
    assert "三、收到和处理政府信息公开申请情况" in lines
    assert lines[-1] == "（文字描述，收取信息处理费情况在此处报告。）"
    assert "申请人情况" not in extraction.text  # table text stays in the tables
    assert extraction.media_type == sniff.DOCX
    assert extraction.meta["author"] == "张幸瑾"
    assert extraction.meta["created"].startswith("2025-12-03")
    assert {t.index for t in extraction.tables} == {0, 1, 2}


def test_filled_template_values_land_in_their_grid_positions(filled_extraction):
    blank = extract_docx(TEMPLATE.read_bytes(), DEFAULT_LIMITS)
    for index, positions in VALUE_CELLS.items():
        expected = [list(row) for row in blank.tables[index].rows]
        for row, col in positions:
            expected[row][col] = template_value(index, row, col)
        assert filled_extraction.tables[index].rows == expected


def test_filled_template_title_signature_and_core_properties(filled_extraction):
    lines = filled_extraction.text.split("\n")
    assert lines[0] == TITLE
    assert lines[-2:] == SIGNATURE
    assert filled_extraction.meta["title"] == TITLE
    assert filled_extraction.meta["author"] == "测试"


def test_dispatch_through_the_extractor_table(filled_docx):
    assert extract(filled_docx, sniff.DOCX, DEFAULT_LIMITS).tables[1].rows[3][3] == "1033"


def test_python_docx_merges_and_multi_paragraph_cells():
    document = docx.Document()
    document.add_paragraph("标题")
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "申请人情况"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "自然人"
    cell = table.cell(1, 1)
    cell.text = "商业"
    cell.add_paragraph("企业")
    table.cell(1, 2).text = "7"
    table.cell(2, 1).text = "0"
    buffer = io.BytesIO()
    document.save(buffer)
    rows = extract_docx(buffer.getvalue(), DEFAULT_LIMITS).tables[0].rows
    assert rows == [["申请人情况", None, None],
                    ["自然人", "商业企业", "7"],
                    [None, "0", ""]]


def test_legacy_hmerge_grid_before_after_and_lying_continuations():
    body = tbl(4,
               tr(tc("甲", props='<w:hMerge w:val="restart"/>'), tc(props="<w:hMerge/>"),
                  tc("乙"), tc("丙")),
               tr(tc("1"), tc("2"), props='<w:gridBefore w:val="1"/><w:gridAfter w:val="1"/>'),
               # a continuation with nothing above it at that column is an ordinary cell
               tr(tc("x", props="<w:vMerge/>"), tc("y", props='<w:gridSpan w:val="3"/>')))
    rows = extract_docx(raw_docx(p("正文") + body), DEFAULT_LIMITS).tables[0].rows
    assert rows == [["甲", None, "乙", "丙"],
                    [None, "1", "2", None],
                    ["x", "y", None, None]]


def test_content_controls_text_boxes_tracked_changes_and_fields():
    text_box = ('<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx>'
                f'<w:txbxContent>{p("某某县2023年政府信息公开工作年度报告")}</w:txbxContent>'
                '</wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent>'
                f'{p("某某县2023年政府信息公开工作年度报告")}</w:txbxContent></w:pict></mc:Fallback>'
                '</mc:AlternateContent></w:r>')
    body = (f"<w:p>{text_box}</w:p>"
            f'<w:sdt><w:sdtPr/><w:sdtContent>{p("一、总体情况")}</w:sdtContent></w:sdt>'
            '<w:p><w:r><w:t>共收到</w:t></w:r><w:del><w:r><w:delText>12</w:delText></w:r></w:del>'
            '<w:ins><w:r><w:t>15</w:t></w:r></w:ins>'
            '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>件</w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
            '<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="420"/></w:tabs></w:pPr>'
            '<w:r><w:t>某某县</w:t></w:r><w:r><w:br/></w:r><w:r><w:t>人民政府</w:t></w:r></w:p>')
    extraction = extract_docx(raw_docx(body), DEFAULT_LIMITS)
    assert extraction.text.split("\n") == ["某某县2023年政府信息公开工作年度报告", "一、总体情况",
                                           "共收到15件", "某某县", "人民政府"]
    assert extraction.meta == {"title": "标题", "author": "作者", "created": "2024-01-15T08:00:00Z",
                               "modified": "2024-01-16T09:30:00Z"}


def test_layout_tables_are_read_as_text_and_nested_tables_kept():
    inner = tbl(2, tr(tc("信息内容"), tc("本年制发件数")), tr(tc("规章"), tc("3")))
    frame = ("<w:tbl><w:tblPr/><w:tblGrid><w:gridCol w:w=\"9000\"/></w:tblGrid>"
             f"<w:tr><w:tc>{p('二、主动公开政府信息情况')}{inner}<w:p/></w:tc></w:tr></w:tbl>")
    signature = tbl(2, tr(tc("某某县人民政府办公室"), tc("2024年1月15日")))
    extraction = extract_docx(raw_docx(p("标题") + frame + signature), DEFAULT_LIMITS)
    assert extraction.text.split("\n") == ["标题", "二、主动公开政府信息情况", "某某县人民政府办公室",
                                           "2024年1月15日"]
    assert [t.rows for t in extraction.tables] == [[["信息内容", "本年制发件数"], ["规章", "3"]]]
    assert extraction.tables[0].index == 0


def test_automatic_chinese_list_numbers_are_rendered():
    numbering = ('<w:abstractNum w:abstractNumId="0">'
                 '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
                 '<w:lvlText w:val="%1、"/></w:lvl>'
                 '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
                 '<w:lvlText w:val="（%2）"/></w:lvl></w:abstractNum>'
                 '<w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/>'
                 '<w:lvlText w:val="•"/></w:lvl></w:abstractNum>'
                 '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>'
                 '<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>')

    def item(text: str, level: int, num: int = 1) -> str:
        return p(text, f'<w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num}"/>'
                       '</w:numPr></w:pPr>')

    body = (item("总体情况", 0) + item("主动公开", 1) + item("依申请公开", 1) + item("要点", 0, 2)
            + item("主动公开政府信息情况", 0) + item("规章", 1))
    text = extract_docx(raw_docx(body, numbering=numbering), DEFAULT_LIMITS).text
    assert text.split("\n") == ["一、总体情况", "（一）主动公开", "（二）依申请公开", "要点",
                                "二、主动公开政府信息情况", "（一）规章"]


def test_chinese_counting():
    assert [chinese_number(n) for n in (1, 10, 11, 20, 23, 100, 105, 110, 1001)] == [
        "一", "十", "十一", "二十", "二十三", "一百", "一百零五", "一百一十", "一千零一"]


def test_strict_ooxml_namespace_is_read():
    strict = "http://purl.oclc.org/ooxml/wordprocessingml/main"
    data = raw_docx(p("严格格式") + tbl(2, tr(tc("a"), tc("1")), tr(tc("b"), tc("2"))))
    import zipfile
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "word/document.xml":
                content = content.replace(W.encode(), strict.encode())
            target.writestr(name, content)
    extraction = extract_docx(buffer.getvalue(), DEFAULT_LIMITS)
    assert extraction.text == "严格格式"
    assert extraction.tables[0].rows == [["a", "1"], ["b", "2"]]
