"""The splitter on small cases: unique splits, ambiguous splits, spaces, ordinals, identities."""

from __future__ import annotations

from decimal import Decimal

from parsers import schema
from parsers.flat import (B2_SUMS, C_SUMS, column_validators, leading_run, split_blob, tokens_of,
                          values_from_flat_text)

B_ROW = schema.TABLE_B_F2021[0]  # applications.new
A_NORMATIVE = schema.TABLE_A_F2021[1]
A_FEES = schema.TABLE_A_F2021[5]
A_PROCUREMENT = schema.TABLE_A_F2019[7]
A_PENALTY_2019 = schema.TABLE_A_F2019[4]


def splits(blob: str, spec, sums=None):
    return split_blob(tokens_of(blob), column_validators(spec), sums)[0]


def test_row_sum_gives_a_unique_split() -> None:
    assert splits("15130000154", B_ROW, B2_SUMS) == [("151", "3", "0", "0", "0", "0", "154")]
    assert splits("0200002", B_ROW, B2_SUMS) == [("0", "2", "0", "0", "0", "0", "2")]


def test_row_sum_leaves_two_splits() -> None:
    assert set(splits("330000033", B_ROW, B2_SUMS)) == {
        ("33", "0", "0", "0", "0", "0", "33"), ("3", "30", "0", "0", "0", "0", "33")}


def test_no_identity_three_cells_are_ambiguous() -> None:
    candidates = splits("5845546", A_NORMATIVE)
    assert ("58", "45", "546") in candidates and len(candidates) == 15


def test_leading_zero_cells_are_invalid() -> None:
    assert splits("000", A_NORMATIVE) == [("0", "0", "0")]
    assert all(not (len(c) > 1 and c[0] == "0") for cand in splits("1005", A_NORMATIVE) for c in cand)


def test_spaces_are_boundaries() -> None:
    assert splits("0 1 1 0 2 1 0 0 0 1 0 0 0 0 0", schema.TABLE_C, C_SUMS) == [
        ("0", "1", "1", "0", "2", "1", "0", "0", "0", "1", "0", "0", "0", "0", "0")]
    # stray spaces: still boundaries, the rest split by the row sum
    assert splits("230 000023", B_ROW, B2_SUMS) == [("23", "0", "0", "0", "0", "0", "23")]
    assert splits("23 0 00 0 023", B_ROW, B2_SUMS) == [("23", "0", "0", "0", "0", "0", "23")]


def test_table_c_group_identities() -> None:
    assert splits("25380363300630003", schema.TABLE_C, C_SUMS) == [
        ("25", "3", "8", "0", "36", "3", "3", "0", "0", "6", "3", "0", "0", "0", "3")]


def test_money_and_signed_cells() -> None:
    assert splits("4166.241619", A_FEES) == [("4166.241619",)]
    assert len(splits("13575394432.52", A_PROCUREMENT)) > 1  # projects | amount: ambiguous
    assert ("2648", "-18", "538") in splits("2648-18538", A_PENALTY_2019)
    assert all("-" not in c for cand in splits("2648-18538", A_PENALTY_2019) for c in (cand[0], cand[2]))


def test_leading_run_drops_next_ordinal_and_units() -> None:
    assert leading_run("00000002.") == "0000000"
    assert leading_run("0000000 2、") == "0000000"
    assert leading_run("（区分处理的，只计这一情形，不计其他情形） 8100009（三）不予公开1.") == "8100009"
    assert leading_run("9116.36 三、收到") == "9116.36"
    assert leading_run("75394432.52元三、") == "75394432.52"
    # digits glued to header words ("数据1") are not values
    assert leading_run("\n  类别   数据1   数据2 \n  x   705   3  ", 7) == "705   3"
    # a line break ends a run that already holds the row's width
    assert leading_run(" 9 0 0 0 0 0 9 \n 0 0 0 0 0 0 0", 7) == "9 0 0 0 0 0 9"


def _flat(table_b: str, fmt: str = schema.F2021) -> object:
    text = ("二、主动公开政府信息情况第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数规章000"
            "行政规范性文件5845546第二十条第（五）项信息内容本年处理决定数量行政许可2418"
            "三、收到和处理政府信息公开申请情况申请人情况自然人法人或其他组织总计" + table_b)
    return values_from_flat_text(text, fmt)


def test_unique_rows_are_emitted_with_provenance() -> None:
    result = _flat("一、本年新收政府信息公开申请数量15130000154二、上年结转政府信息公开申请数量0000000")
    assert result.values["applications.new.total"] == 154
    assert result.values["applications.new.natural_person"] == 151
    cell = result.cells["applications.new.org_commercial"]
    assert (cell.raw, cell.source, cell.col_label) == ("3", "text", "商业企业")
    assert "本年新收" in cell.row_label
    assert result.values["active_disclosure.regulations.in_force"] == 0
    assert result.values["active_disclosure.administrative_permit.decisions"] == 2418


def test_ambiguous_rows_stay_out_of_values() -> None:
    result = _flat("一、本年新收政府信息公开申请数量330000033")
    assert not any(k.startswith("active_disclosure.normative_documents.") for k in result.values)
    assert not any(k.startswith("applications.new.") for k in result.values)
    entries = {a["key"]: a for a in result.ambiguous}
    assert entries["active_disclosure.normative_documents"]["candidate_count"] == 15
    assert entries["applications.new"]["blob"] == "330000033"
    assert ["33", "0", "0", "0", "0", "0", "33"] in entries["applications.new"]["candidates"]


def test_single_other_row_inside_f2021() -> None:
    rows = ("（五）不予处理1.信访举报投诉类申请00000002.重复申请00000003.要求提供公开出版物0000000"
            "4.无正当理由大量反复申请00000005.要求行政机关确认或重新出具已获取信息0000000"
            "（六）其他处理4000004（七）总计4000004四、结转下年度继续办理0000000")
    result = _flat(rows)
    assert result.values["applications.results.other.total.total"] == 4
    assert "applications.results.other.other.total" not in result.values
    assert result.values["applications.results.not_processed.duplicate.total"] == 0


def test_non_report_formats_give_nothing() -> None:
    assert not values_from_flat_text("规章000", schema.PRE2019).values


def test_decimal_values_are_decimal() -> None:
    text = "第二十条第（八）项信息内容本年收费金额（单位：万元）行政事业性收费4166.241619三、收到"
    result = values_from_flat_text(text, schema.F2021)
    assert result.values["active_disclosure.administrative_fees.amount_10k_yuan"] == Decimal("4166.241619")


def test_narrative_hint_is_recorded_not_applied() -> None:
    text = ("集中公开现行有效行政规范性文件698件，动态更新本年度制发的规范性文件88件。"
            "二、主动公开政府信息情况第二十条第（一）项信息内容本年制发件数本年废止件数现行有效件数规章000"
            "行政规范性文件8855698第二十条第（五）项")
    result = values_from_flat_text(text, schema.F2021)
    (entry,) = [a for a in result.ambiguous if a["key"] == "active_disclosure.normative_documents"]
    assert entry["narrative_supports"] == [["88", "55", "698"]]
    assert "active_disclosure.normative_documents.in_force" not in result.values
    assert any("left ambiguous" in w for w in result.warnings)
