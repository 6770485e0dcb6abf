"""The printed layout of the three report tables, as grids of merged cells.

Why one model: every renderer (HTML, DOCX, XLSX, PDF, text) draws the same grid, so a cell's key,
label path and span are defined once, exactly as the official formats print them
(format-sources.md §1-§2, §6.1). Keys are the canonical keys of spec/report-keys.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

CellKind = Literal["caption", "header", "label", "value", "note", "blank"]

APPLICANT_COLUMNS = ("natural_person", "org_commercial", "org_research", "org_public_welfare",
                     "org_legal_service", "org_other", "total")
REVIEW_GROUPS = ("review", "litigation_direct", "litigation_after_review")
REVIEW_LEAVES = ("upheld", "corrected", "other", "pending", "total")
REVIEW_LEAF_LABELS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")

NOTE_TEXT = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
RESULTS_LABEL = "三、本年度办理结果"


@dataclass
class GridCell:
    """One printed cell: its top-left position, span, text and (for numbers) canonical key."""

    row: int
    col: int
    text: str = ""
    kind: CellKind = "value"
    rowspan: int = 1
    colspan: int = 1
    key: Optional[str] = None
    vertical: bool = False  # printed one character per line (三、本年度办理结果)


@dataclass
class Grid:
    """A table as printed: n_rows x n_cols with merged cells and relative column widths."""

    name: str
    n_rows: int
    n_cols: int
    col_widths: list[float]
    cells: list[GridCell] = field(default_factory=list)
    header_rows: int = 0  # rows of column headers at the top (kept together on a page)

    def add(self, row: int, col: int, text: str = "", kind: CellKind = "value", *, rowspan: int = 1,
            colspan: int = 1, key: Optional[str] = None, vertical: bool = False) -> GridCell:
        cell = GridCell(row, col, text, kind, rowspan, colspan, key, vertical)
        self.cells.append(cell)
        return cell

    def rows(self) -> list[list[GridCell]]:
        """Cells grouped by the row where they start, in column order."""
        grouped: list[list[GridCell]] = [[] for _ in range(self.n_rows)]
        for cell in self.cells:
            grouped[cell.row].append(cell)
        for row in grouped:
            row.sort(key=lambda c: c.col)
        return grouped

    def keys(self) -> list[str]:
        return [c.key for c in self.cells if c.key]


# --------------------------------------------------------------------------------------------
# Table A: 主动公开政府信息情况
# --------------------------------------------------------------------------------------------

F2021_ACTIVE = [
    ("第二十条第（一）项", ("本年制发件数", "本年废止件数", "现行有效件数"),
     [("规章", "regulations"), ("行政规范性文件", "normative_documents")], ("issued", "repealed", "in_force")),
    ("第二十条第（五）项", ("本年处理决定数量",), [("行政许可", "administrative_permit")], ("decisions",)),
    ("第二十条第（六）项", ("本年处理决定数量",),
     [("行政处罚", "administrative_penalty"), ("行政强制", "administrative_coercion")], ("decisions",)),
    ("第二十条第（八）项", ("本年收费金额（单位：万元）",), [("行政事业性收费", "administrative_fees")],
     ("amount_10k_yuan",)),
]

F2019_ACTIVE = [
    ("第二十条第（一）项", ("本年新制作数量", "本年新公开数量", "对外公开总数量"),
     [("规章", "regulations"), ("规范性文件", "normative_documents")],
     ("newly_made", "newly_published", "total_published")),
    ("第二十条第（五）项", ("上一年项目数量", "本年增/减", "处理决定数量"),
     [("行政许可", "administrative_permit"), ("其他对外管理服务事项", "other_external_services")],
     ("prev_year_items", "items_change", "decisions")),
    ("第二十条第（六）项", ("上一年项目数量", "本年增/减", "处理决定数量"),
     [("行政处罚", "administrative_penalty"), ("行政强制", "administrative_coercion")],
     ("prev_year_items", "items_change", "decisions")),
    ("第二十条第（八）项", ("上一年项目数量", "本年增/减"), [("行政事业性收费", "administrative_fees")],
     ("prev_year_items", "items_change")),
    ("第二十条第（九）项", ("采购项目数量", "采购总金额"), [("政府集中采购", "centralized_procurement")],
     ("projects", "total_amount")),
]


def active_disclosure_grid(fmt: str) -> Grid:
    """Table A: one 4-column table of caption / header / data rows per 第二十条 item."""
    sections = F2021_ACTIVE if fmt == "F2021" else F2019_ACTIVE
    n_rows = sum(2 + len(rows) for _, _, rows, _ in sections)
    grid = Grid("active_disclosure", n_rows, 4, [1.4, 1.0, 1.0, 1.0])
    r = 0
    for caption, headers, rows, cols in sections:
        grid.add(r, 0, caption, "caption", colspan=4)
        grid.add(r + 1, 0, "信息内容", "header")
        single = len(headers) == 1
        for i, header in enumerate(headers):
            grid.add(r + 1, 1 + i, header, "header", colspan=3 if single else 1)
        if len(headers) == 2:
            grid.add(r + 1, 3, "", "blank")
        r += 2
        for label, row_key in rows:
            grid.add(r, 0, label, "label")
            for i, col in enumerate(cols):
                grid.add(r, 1 + i, key=f"active_disclosure.{row_key}.{col}", colspan=3 if single else 1)
            if len(cols) == 2:
                grid.add(r, 3, "", "blank")
            r += 1
    return grid


# --------------------------------------------------------------------------------------------
# Table B: 收到和处理政府信息公开申请情况
# --------------------------------------------------------------------------------------------

WITHHELD = [("1.属于国家秘密", "state_secret"), ("2.其他法律行政法规禁止公开", "prohibited_by_law"),
            ("3.危及“三安全一稳定”", "security_stability"), ("4.保护第三方合法权益", "third_party_rights"),
            ("5.属于三类内部事务信息", "internal_affairs"), ("6.属于四类过程性信息", "process_info"),
            ("7.属于行政执法案卷", "enforcement_case_file"), ("8.属于行政查询事项", "administrative_query")]
UNABLE = [("1.本机关不掌握相关政府信息", "not_held"), ("2.没有现成信息需要另行制作", "needs_creation"),
          ("3.补正后申请内容仍不明确", "unclear_after_correction")]
NOT_PROCESSED = [("1.信访举报投诉类申请", "petition_complaint"), ("2.重复申请", "duplicate"),
                 ("3.要求提供公开出版物", "publication"), ("4.无正当理由大量反复申请", "excessive_repeat"),
                 ("5.要求行政机关确认或重新出具已获取信息", "confirm_or_reissue")]
OTHER_SPLIT = [("1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "no_correction_overdue"),
               ("2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "fee_unpaid_overdue"),
               ("3.其他", "other")]

# (group label or None, [(leaf label, key suffix)]) in printed order, between 三 and 四
RESULT_GROUPS_COMMON = [
    (None, [("（一）予以公开", "granted")]),
    (None, [("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "partially_granted")]),
    ("（三）不予公开", [(label, f"withheld.{k}") for label, k in WITHHELD]),
    ("（四）无法提供", [(label, f"unable.{k}") for label, k in UNABLE]),
    ("（五）不予处理", [(label, f"not_processed.{k}") for label, k in NOT_PROCESSED]),
]


def result_groups(single_other_row: bool) -> list[tuple[Optional[str], list[tuple[str, str]]]]:
    """The 办理结果 rows: F2019 (and some F2021 reports) print （六）其他处理 as one row."""
    other = ((None, [("（六）其他处理", "other.total")]) if single_other_row
             else ("（六）其他处理", [(label, f"other.{k}") for label, k in OTHER_SPLIT]))
    return RESULT_GROUPS_COMMON + [other, (None, [("（七）总计", "total")])]


def applications_row_keys(single_other_row: bool) -> list[str]:
    """Row keys of Table B in printed order (25 for F2021, 23 with a single （六） row)."""
    keys = ["new", "carried_over"]
    for _, leaves in result_groups(single_other_row):
        keys += [f"results.{suffix}" for _, suffix in leaves]
    return keys + ["carried_forward"]


def applications_grid(single_other_row: bool) -> Grid:
    """Table B: 3 label columns + 7 applicant columns, 3 header rows (format-sources §1.2)."""
    groups = result_groups(single_other_row)
    result_rows = sum(len(leaves) for _, leaves in groups)
    n_rows = 3 + 2 + result_rows + 1
    grid = Grid("applications", n_rows, 10, [0.5, 1.55, 2.05] + [0.62] * 7, header_rows=3)
    grid.add(0, 0, NOTE_TEXT, "note", rowspan=3, colspan=3)
    grid.add(0, 3, "申请人情况", "header", colspan=7)
    grid.add(1, 3, "自然人", "header", rowspan=2)
    grid.add(1, 4, "法人或其他组织", "header", colspan=5)
    grid.add(1, 9, "总计", "header", rowspan=2)
    for i, label in enumerate(("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")):
        grid.add(2, 4 + i, label, "header")

    def value_cells(r: int, row_key: str) -> None:
        for i, col in enumerate(APPLICANT_COLUMNS):
            grid.add(r, 3 + i, key=f"applications.{row_key}.{col}")

    grid.add(3, 0, "一、本年新收政府信息公开申请数量", "label", colspan=3)
    value_cells(3, "new")
    grid.add(4, 0, "二、上年结转政府信息公开申请数量", "label", colspan=3)
    value_cells(4, "carried_over")
    r = 5
    grid.add(r, 0, RESULTS_LABEL, "label", rowspan=result_rows, vertical=True)
    for group_label, leaves in groups:
        if group_label is None:
            label, suffix = leaves[0]
            grid.add(r, 1, label, "label", colspan=2)
            value_cells(r, f"results.{suffix}")
            r += 1
            continue
        grid.add(r, 1, group_label, "label", rowspan=len(leaves))
        for label, suffix in leaves:
            grid.add(r, 2, label, "label")
            value_cells(r, f"results.{suffix}")
            r += 1
    grid.add(r, 0, "四、结转下年度继续办理", "label", colspan=3)
    value_cells(r, "carried_forward")
    return grid


# --------------------------------------------------------------------------------------------
# Table C: 政府信息公开行政复议、行政诉讼情况
# --------------------------------------------------------------------------------------------

def review_litigation_grid() -> Grid:
    """Table C: 3 header rows and one row of 15 numbers (format-sources §1.3)."""
    grid = Grid("review_litigation", 4, 15, [1.0] * 15, header_rows=3)
    grid.add(0, 0, "行政复议", "header", colspan=5)
    grid.add(0, 5, "行政诉讼", "header", colspan=10)
    for i, label in enumerate(REVIEW_LEAF_LABELS):
        grid.add(1, i, label, "header", rowspan=2)
    grid.add(1, 5, "未经复议直接起诉", "header", colspan=5)
    grid.add(1, 10, "复议后起诉", "header", colspan=5)
    for block in (5, 10):
        for i, label in enumerate(REVIEW_LEAF_LABELS):
            grid.add(2, block + i, label, "header")
    for g, group in enumerate(REVIEW_GROUPS):
        for i, leaf in enumerate(REVIEW_LEAVES):
            grid.add(3, g * 5 + i, key=f"review_litigation.{group}.{leaf}")
    return grid


def report_grids(fmt: str, single_other_row: bool = False) -> list[Grid]:
    """The three grids of a F2021/F2019 report (F2019 always prints （六） as one row)."""
    single = True if fmt == "F2019" else single_other_row
    return [active_disclosure_grid(fmt), applications_grid(single), review_litigation_grid()]


def canonical_keys(fmt: str, single_other_row: bool = False) -> list[str]:
    """Every key of a format in printed order (200 for F2021, 198 for F2019)."""
    keys: list[str] = []
    for grid in report_grids(fmt, single_other_row):
        keys += grid.keys()
    return keys
