"""Label and value quirks of real reports, on small hand-written pages."""

from __future__ import annotations

from parsers import parse

B_ROWS_F2021 = [
    ("一、本年新收政府信息公开申请数量", "１２|0|0|0|0|0|１２"),
    ("二、上年结转政府信息公开申请数量", "1|0|0|0|0|0|1"),
    ("（一）予以公开", "1,000|0|0|0|0|0|1,000"),
    ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "—|—|—|—|—|—|—"),
]


def page(body: str, title: str = "测试县人民政府2023年政府信息公开工作年度报告") -> bytes:
    return f"""<html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{title}"></head>
<body><div class="nav">首页 政务公开</div><div class="TRS_Editor">{body}</div></body></html>""".encode()


def table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><td>{label}</td>" + "".join(f"<td>{c}</td>" for c in values.split("|")) + "</tr>"
                    for label, values in rows)
    return f"<table>{cells}</table>"


def test_full_width_digits_thousands_separators_and_placeholders():
    header = [("申请人情况", "自然人|商业企业|科研机构|社会公益组织|法律服务机构|其他|总计")]
    a = table([("第二十条第（一）项", ""), ("信息内容", "本年制发件数|本年废止件数|现行有效件数"),
               ("规范性文件", "1|0|12")])
    report = parse(page(a + table(header + B_ROWS_F2021)), name="q.html")
    assert report.format == "F2021"
    assert report.values["active_disclosure.normative_documents.in_force"] == 12  # old label 规范性文件
    assert report.values["applications.new.natural_person"] == 12  # full-width digits
    assert report.values["applications.results.granted.total"] == 1000  # thousands separator
    assert report.values["applications.results.partially_granted.total"] is None  # placeholder
    assert report.cells["applications.results.granted.total"].raw == "1,000"


def test_single_other_row_inside_an_f2021_table_goes_to_other_total():
    rows = [("申请人情况", "自然人|商业企业|科研机构|社会公益组织|法律服务机构|其他|总计"),
            ("（六）其他处理", "2|0|0|0|0|0|2")]
    a = table([("信息内容", "本年制发件数|本年废止件数|现行有效件数"), ("规章", "0|0|0")])
    report = parse(page(a + table(rows)), name="q.html")
    assert report.values["applications.results.other.total.total"] == 2
    assert not any(k.startswith("applications.results.other.other") for k in report.values)


def test_extra_rows_are_kept_not_mapped():
    a = table([("第二十条第（一）项", ""), ("信息内容", "本年新制作数量|本年新公开数量|对外公开总数量"),
               ("规章", "0|0|0"), ("其他主动公开文件", "5|5|5")])
    report = parse(page(a, title="测试县人民政府2020年政府信息公开工作年度报告"), name="q.html")
    assert report.format == "F2019"
    assert any(e["label"] == "其他主动公开文件" and e["cells"] == ["5", "5", "5"] for e in report.extras)


def test_signed_deltas_and_decimals_in_f2019():
    a = table([("信息内容", "上一年项目数量|本年增/减|处理决定数量"), ("行政许可", "120|-18|3,456"),
               ("行政处罚", "30|+4|7"), ("信息内容", "采购项目数量|采购总金额"),
               ("政府集中采购", "135|75394432.52元")])
    report = parse(page(a, title="测试县人民政府2020年政府信息公开工作年度报告"), name="q.html")
    assert report.values["active_disclosure.administrative_permit.items_change"] == -18
    assert report.values["active_disclosure.administrative_penalty.items_change"] == 4
    assert report.values["active_disclosure.administrative_permit.decisions"] == 3456
    assert str(report.values["active_disclosure.centralized_procurement.total_amount"]) == "75394432.52"


def test_gbk_page_with_wrong_declared_charset():
    html = page(table([("信息内容", "本年制发件数|本年废止件数|现行有效件数"), ("规章", "1|2|3")]))
    data = html.decode().encode("gb18030")  # declares utf-8, is GBK
    report = parse(data, name="q.html", media_type="text/html; charset=utf-8")
    assert report.title == "测试县人民政府2023年政府信息公开工作年度报告"
    assert report.values["active_disclosure.regulations.in_force"] == 3


def test_a_letter_in_the_report_column_is_not_a_report():
    body = "<p>省政府办公厅：</p><p>现将我区2023年政府信息公开工作要点落实情况函告如下。</p><p>测试区管委会办公室</p><p>2023年12月10日</p>"
    report = parse(page(body, title="关于2023年政府信息公开工作要点落实情况的函"), name="q.html")
    assert report.format == "NOT_A_REPORT"
    assert report.signature_date == "2023-12-10"


def test_an_extra_subtotal_column_is_mapped_by_its_headers_and_kept_as_extra():
    header = "<tr><td rowspan=2>（本列数据的勾稽关系为…）</td><td rowspan=2>自然人</td><td colspan=6>法人或其他组织</td><td rowspan=2>总计</td></tr>" \
             "<tr><td>商业企业</td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td><td>小计</td></tr>"
    rows = "".join(f"<tr><td>{label}</td>" + "".join(f"<td>{c}</td>" for c in cells.split("|")) + "</tr>"
                   for label, cells in [("一、本年新收政府信息公开申请数量", "5|1|0|0|0|1|2|7"),
                                        ("二、上年结转政府信息公开申请数量", "0|0|0|0|0|0|0|0")])
    a = table([("信息内容", "本年制发件数|本年废止件数|现行有效件数"), ("规章", "0|0|0")])
    report = parse(page(a + f"<table>{header}{rows}</table>"), name="q.html")
    assert report.values["applications.new.natural_person"] == 5
    assert report.values["applications.new.org_other"] == 1
    assert report.values["applications.new.total"] == 7
    assert any(e.get("note") == "cells under non-standard columns" and e["cells"][0]["column"] == "小计"
               for e in report.extras)
