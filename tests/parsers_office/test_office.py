"""DOC/WPS through LibreOffice, XLSX through openpyxl and XLS through xlrd: the same grids and
text as the DOCX the fixtures were generated from."""

from __future__ import annotations

import datetime as dt
import io
import threading

import openpyxl

from parsers import sniff
from parsers.extract import extract
from parsers.extract.office import extract_legacy_word, extract_xls, extract_xlsx
from parsers.limits import DEFAULT_LIMITS

from .builders import SIGNATURE, TITLE, libreoffice, requires_soffice


def _grids(extraction):
    return [table.rows for table in extraction.tables]


@requires_soffice
def test_doc_reads_like_the_docx_it_was_saved_from(filled_doc, filled_extraction):
    assert sniff.sniff(filled_doc, "report.doc") == sniff.DOC
    extraction = extract(filled_doc, sniff.DOC, DEFAULT_LIMITS)
    assert extraction.media_type == sniff.DOC
    assert _grids(extraction) == _grids(filled_extraction)
    assert extraction.text == filled_extraction.text
    assert extraction.meta["title"] == TITLE
    assert extraction.warnings == []


@requires_soffice
def test_doc_and_wps_convert_concurrently_without_colliding(filled_doc, filled_extraction):
    """Kingsoft WPS 文字 files are Word 97 OLE2 documents under a .wps name. Each conversion has
    its own LibreOffice profile, so two at once (the crawler's parse workers) both succeed."""
    assert sniff.sniff(filled_doc, "报告.wps") == sniff.WPS
    results: dict[str, object] = {}

    def convert(media_type: str) -> None:
        try:
            results[media_type] = extract(filled_doc, media_type, DEFAULT_LIMITS)
        except Exception as exc:  # reported by the assertion below
            results[media_type] = exc

    threads = [threading.Thread(target=convert, args=(kind,)) for kind in (sniff.DOC, sniff.WPS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for extraction in results.values():
        assert _grids(extraction) == _grids(filled_extraction)
        assert extraction.text.split("\n")[-2:] == SIGNATURE


@requires_soffice
def test_rtf_saved_as_doc_is_converted():
    rtf = (r"{\rtf1\ansi\ansicpg936\deff0{\fonttbl{\f0 SimSun;}}\f0 "
           r"\u26576?\u26576?\u21439?\par 2024\u24180?\par}").encode()
    extraction = extract_legacy_word(rtf, DEFAULT_LIMITS)
    assert extraction.text.split("\n") == ["某某县", "2024年"]


def test_xlsx_grids_equal_the_docx_grids(filled_xlsx, filled_extraction):
    assert sniff.sniff(filled_xlsx, "report.xlsx") == sniff.XLSX
    extraction = extract(filled_xlsx, sniff.XLSX, DEFAULT_LIMITS)
    assert _grids(extraction) == _grids(filled_extraction)
    assert [table.page for table in extraction.tables] == [1, 1, 1]
    assert extraction.text.split("\n") == [TITLE, "第二十条第（一）项", *SIGNATURE]
    assert extraction.meta["title"] == TITLE


@requires_soffice
def test_xls_grids_equal_the_docx_grids(filled_xls, filled_extraction):
    assert sniff.sniff(filled_xls, "report.xls") == sniff.XLS
    extraction = extract(filled_xls, sniff.XLS, DEFAULT_LIMITS)
    assert extraction.media_type == sniff.XLS
    assert _grids(extraction) == _grids(filled_extraction)
    assert extraction.text.split("\n")[0] == TITLE


def _workbook_bytes(workbook: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_cell_values_are_shown_as_printed():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["信息内容", "数量", "比例", "日期", "金额"])
    sheet.append(["法人或其他\n组织", 12.0, 0.255, dt.date(2024, 1, 15), 1.5])
    sheet["C2"].number_format = "0.0%"
    second = workbook.create_sheet("表二")
    second.append(["行政复议", "结果维持"])
    second.append(["", 3])
    extraction = extract_xlsx(_workbook_bytes(workbook), DEFAULT_LIMITS)
    assert extraction.tables[0].rows[1] == ["法人或其他组织", "12", "25.5%", "2024年1月15日", "1.5"]
    assert extraction.tables[1].rows == [["行政复议", "结果维持"], ["", "3"]]
    assert [t.page for t in extraction.tables] == [1, 2]
    assert [t.index for t in extraction.tables] == [0, 1]


def test_xlsx_blocks_split_on_empty_rows_and_trim_empty_columns():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["B2"], sheet["C2"] = "规章", 3
    sheet["B3"], sheet["C3"] = "行政规范性文件", 4
    sheet["B6"] = "二、主动公开政府信息情况"
    sheet["B7"], sheet["C7"], sheet["D7"] = "行政许可", 5, None
    sheet.merge_cells("C7:D8")
    sheet["B8"] = "小计"
    extraction = extract_xlsx(_workbook_bytes(workbook), DEFAULT_LIMITS)
    assert [t.rows for t in extraction.tables] == [
        [["规章", "3"], ["行政规范性文件", "4"]],
        [["二、主动公开政府信息情况", "", ""], ["行政许可", "5", None], ["小计", None, None]],
    ]
    assert extraction.text == "二、主动公开政府信息情况"


def test_xlsx_with_lying_dimension_is_read_from_its_cells(filled_xlsx, filled_extraction):
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(filled_xlsx))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            content = source.read(name)
            if name.startswith("xl/worksheets/sheet"):
                start = content.index(b"<dimension")
                end = content.index(b"/>", start) + 2
                content = content[:start] + b'<dimension ref="A1:XFD1048576"/>' + content[end:]
            target.writestr(name, content)
    extraction = extract_xlsx(buffer.getvalue(), DEFAULT_LIMITS)
    assert _grids(extraction) == _grids(filled_extraction)


def test_xlsx_named_xls_and_docx_named_doc_are_rerouted(filled_xlsx, filled_docx, filled_extraction):
    assert _grids(extract_xls(filled_xlsx, DEFAULT_LIMITS)) == _grids(filled_extraction)
    assert _grids(extract_legacy_word(filled_docx, DEFAULT_LIMITS)) == _grids(filled_extraction)


@requires_soffice
def test_xls_round_trip_keeps_numbers_and_merges():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "申请人情况"
    sheet.merge_cells("A1:C1")
    sheet.append(["自然人", "商业企业", "总计"])
    sheet.append([7, 0, 7])
    sheet.append([0.5, None, 1234567])
    xls = libreoffice(_workbook_bytes(workbook), ".xlsx", "xls")
    extraction = extract_xls(xls, DEFAULT_LIMITS)
    assert extraction.tables[0].rows == [["申请人情况", None, None], ["自然人", "商业企业", "总计"],
                                         ["7", "0", "7"], ["0.5", "", "1234567"]]
