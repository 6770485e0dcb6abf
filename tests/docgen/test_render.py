"""Every kind renders real files: right magic, readable by the libraries parsers use, values inside."""

from __future__ import annotations

import io
import zipfile

import docx
import openpyxl
import pdfplumber
import pytest
from bs4 import BeautifulSoup

from crawler.simulator.docgen import KINDS, expected_record, render
from crawler.simulator.docgen.office import OLE2_MAGIC

MAGIC = {
    "html": b"<!DOCTYPE", "html-gbk": b"<!DOCTYPE", "docx": b"PK\x03\x04", "xlsx": b"PK\x03\x04",
    "pdf": b"%PDF-", "pdf-scanned": b"%PDF-", "png": b"\x89PNG\r\n\x1a\n", "doc": OLE2_MAGIC, "wps": OLE2_MAGIC,
}
FAST_KINDS = [k for k in KINDS if k not in ("doc", "wps")]


@pytest.mark.parametrize("kind", FAST_KINDS)
def test_every_kind_renders_with_its_magic(rendered, kind: str) -> None:
    data = rendered("f2021", kind)
    assert len(data) > 500
    if kind in MAGIC:
        assert data.startswith(MAGIC[kind])
    else:
        assert "收到和处理政府信息公开申请情况" in data.decode("utf-8")


@pytest.mark.parametrize("kind", ["doc", "wps"])
def test_doc_and_wps_are_ole2_word_files(rendered, soffice_available, kind: str) -> None:
    assert rendered("f2021", kind).startswith(OLE2_MAGIC)


def test_pdf_has_a_text_layer_with_labels_and_values(rendered, specs) -> None:
    spec = specs["f2021"]
    with pdfplumber.open(io.BytesIO(rendered("f2021", "pdf"))) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages).replace("\n", "")
        tables = [t for page in pdf.pages for t in page.extract_tables()]
        assert len(pdf.pages) >= 3
    for label in ("本年制发件数", "行政规范性文件", "申请人情况", "一、本年新收政府信息公开申请数量",
                  "（七）总计", "四、结转下年度继续办理", "未经复议直接起诉", "— 2 —"):
        assert label in text
    assert f"收到政府信息公开申请{spec.values['applications.new.total']}件" in text
    new_row = next(row for t in tables for row in t if row and row[0] == "一、本年新收政府信息公开申请数量")
    assert new_row[-1] == str(spec.values["applications.new.total"])
    review_row = next(t[-1] for t in tables if len(t[-1]) == 15)
    assert review_row[4] == str(spec.values["review_litigation.review.total"])


def test_pdf_splits_table_b_across_pages_with_vertical_results_label(rendered) -> None:
    with pdfplumber.open(io.BytesIO(rendered("f2021", "pdf"))) as pdf:
        pages_with_b = [p.page_number for p in pdf.pages
                        if any("办理结果" in (p.extract_text() or "").replace("\n", "") or
                               any(row and row[0] == "四、结转下年度继续办理" for row in t)
                               for t in p.extract_tables())]
        words = [w for p in pdf.pages for w in p.extract_words() if w["text"] in "三本年度办理结果"]
    assert len(pages_with_b) >= 1
    assert any(w["text"] == "办" for w in words)  # printed one character per line


def test_f2019_pdf_prints_f2019_headers(rendered) -> None:
    with pdfplumber.open(io.BytesIO(rendered("f2019", "pdf"))) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages).replace("\n", "")
    for label in ("本年新制作数量", "上一年项目数量", "采购总金额", "其他对外管理服务事项"):
        assert label in text


def test_scanned_pdf_has_no_text_layer(rendered) -> None:
    with pdfplumber.open(io.BytesIO(rendered("f2021", "pdf-scanned"))) as pdf:
        assert len(pdf.pages) >= 3
        assert all(not (page.extract_text() or "").strip() for page in pdf.pages)
        assert all(page.images for page in pdf.pages)


def test_docx_fills_the_real_template_with_merged_cells(rendered, specs) -> None:
    spec = specs["f2021"]
    document = docx.Document(io.BytesIO(rendered("f2021", "docx")))
    assert document.paragraphs[1].text == spec.title
    table_a, table_b, table_c = document.tables[:3]
    assert len(table_b.rows) == 28 and len(table_c.columns) == 15
    assert table_b.cell(5, 0)._tc is table_b.cell(26, 0)._tc  # 三、本年度办理结果: 22-row vertical merge
    assert table_b.cell(7, 1)._tc is table_b.cell(14, 1)._tc  # （三）不予公开: rowspan 8
    assert table_a.cell(6, 1)._tc is table_a.cell(6, 3)._tc  # a value spanning three columns
    assert table_b.cell(3, 9).text == str(spec.values["applications.new.total"])
    assert table_c.cell(3, 4).text == str(spec.values["review_litigation.review.total"])
    assert table_a.cell(13, 1).text == str(spec.values["active_disclosure.administrative_fees.amount_10k_yuan"])
    xml = document.tables[1]._tbl.xml
    assert "w:vMerge" in xml and "w:gridSpan" in xml


def test_docx_single_other_row_collapses_the_template(rendered, specs) -> None:
    spec = specs["f2021_single"]
    table_b = docx.Document(io.BytesIO(rendered("f2021_single", "docx"))).tables[1]
    assert len(table_b.rows) == 26
    row = next(r for r in table_b.rows if r.cells[1].text == "（六）其他处理")
    assert row.cells[9].text == str(spec.values["applications.results.other.total.total"])


def test_f2019_docx_builds_merged_tables(rendered, specs) -> None:
    document = docx.Document(io.BytesIO(rendered("f2019", "docx")))
    assert [len(t.rows) for t in document.tables] == [18, 26, 4]
    table_b = document.tables[1]
    assert table_b.cell(5, 0)._tc is table_b.cell(24, 0)._tc  # rowspan 20 in F2019
    assert "本年新制作数量" in document.tables[0].cell(1, 1).text


def test_xlsx_has_merged_tables_and_numbers(rendered, specs) -> None:
    spec = specs["f2021"]
    workbook = openpyxl.load_workbook(io.BytesIO(rendered("f2021", "xlsx")))
    numbers = [c.value for ws in workbook.worksheets for row in ws.iter_rows() for c in row
               if isinstance(c.value, (int, float))]
    assert spec.values["applications.new.total"] in numbers
    assert sum(len(ws.merged_cells.ranges) for ws in workbook.worksheets) >= 25


def test_html_is_word_markup_with_spans_and_merges(rendered, specs) -> None:
    spec = specs["f2021"]
    page = rendered("f2021", "html").decode("utf-8")
    assert "MsoNormal" in page and "<o:p>" in page and 'name="ArticleTitle"' in page
    soup = BeautifulSoup(page, "lxml")
    tables = soup.find_all("table")
    assert len(tables) == 3
    assert tables[1].find("td", rowspan="22") is not None
    assert tables[1].find("td", rowspan="8") is not None
    new_row = tables[1].find_all("tr")[3]
    assert new_row.find_all("td")[-1].get_text(strip=True) == str(spec.values["applications.new.total"])


def test_gbk_html_declares_gb2312_and_is_gb18030(rendered) -> None:
    data = rendered("f2021", "html-gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    page = data.decode("gb18030")
    assert "charset=gb2312" in page and "三、收到和处理政府信息公开申请情况" in page


def test_txt_and_md_carry_the_values(rendered, specs) -> None:
    spec = specs["f2021"]
    txt = rendered("f2021", "txt").decode("utf-8")
    assert "\t" in txt and "— 1 —" in txt
    md = rendered("f2021", "md").decode("utf-8")
    assert "| 一、本年新收政府信息公开申请数量 |" in md
    assert f"| {spec.values['applications.new.total']} |" in md


def test_pre2019_and_letters_render_in_every_fast_kind(rendered) -> None:
    for name in ("pre2019", "letter"):
        for kind in ("html", "docx", "xlsx", "pdf", "txt", "md"):
            assert rendered(name, kind)
    text = rendered("pre2019", "txt").decode("utf-8")
    assert "四、政府信息公开的收费及减免情况" in text and "指标名称" in text
    assert "函" in rendered("letter", "txt").decode("utf-8").splitlines()[0]


def test_expected_record(specs) -> None:
    record = expected_record(specs["f2019"])
    assert record["format"] == "F2019" and record["year"] == 2020 and record["agency"] == "孝感市审计局"
    assert len(record["values"]) == 198
    assert record["signature_date"] == specs["f2019"].signature_date.isoformat()
    assert expected_record(specs["pre2019"])["values"] == {}
    assert expected_record(specs["letter"])["format"] == "NOT_A_REPORT"


@pytest.mark.parametrize("kind", ["html", "docx", "xlsx", "pdf", "png", "txt", "md"])
def test_rendering_is_deterministic(rendered, specs, kind: str) -> None:
    assert render(specs["f2021"], kind) == rendered("f2021", kind)


def test_unknown_kind_is_a_clear_error(specs) -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        render(specs["f2021"], "odt")


def test_docx_is_a_plain_zip_with_fixed_times(rendered) -> None:
    with zipfile.ZipFile(io.BytesIO(rendered("f2021", "docx"))) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
