"""The canonical keys of spec/report-keys.md, the labels reports print for them, and label matching.

Everything the parsers know about the national formats lives here, as data: row specs (key, the
labels that name the row, its columns), the column labels, and the header words that tell F2021
from F2019. ``tables.py`` (grids) and ``flat.py`` (flattened text) both map rows with these specs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

F2021 = "F2021"
F2019 = "F2019"
PRE2019 = "PRE2019"
NOT_A_REPORT = "NOT_A_REPORT"
UNKNOWN = "UNKNOWN"

APPLICANT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("natural_person", "自然人"),
    ("org_commercial", "商业企业"),
    ("org_research", "科研机构"),
    ("org_public_welfare", "社会公益组织"),
    ("org_legal_service", "法律服务机构"),
    ("org_other", "其他"),
    ("total", "总计"),
)
APPLICANT_KEYS = tuple(k for k, _ in APPLICANT_COLUMNS)

REVIEW_GROUPS: tuple[tuple[str, str], ...] = (
    ("review", "行政复议"),
    ("litigation_direct", "行政诉讼·未经复议直接起诉"),
    ("litigation_after_review", "行政诉讼·复议后起诉"),
)
REVIEW_LEAVES: tuple[tuple[str, str], ...] = (
    ("upheld", "结果维持"),
    ("corrected", "结果纠正"),
    ("other", "其他结果"),
    ("pending", "尚未审结"),
    ("total", "总计"),
)


@dataclass(frozen=True)
class RowSpec:
    """One printed row of a statistical table.

    ``key`` is the key prefix (``applications.results.granted``); the value keys are
    ``key + "." + column``. ``labels`` are normalized label fragments that identify the row
    (longest match wins). ``group`` names the merged parent label (（三）不予公开 ...) that gives
    context to short leaf labels such as ``3.其他``.
    """

    key: str
    table: str  # "A" | "B" | "C"
    labels: tuple[str, ...]
    columns: tuple[str, ...]
    column_labels: tuple[str, ...] = ()
    group: str | None = None
    decimal: bool = False  # money: keep as Decimal
    signed_columns: tuple[str, ...] = ()  # F2019 本年增/减

    def value_keys(self) -> list[str]:
        return [f"{self.key}.{c}" for c in self.columns]


_F2021_A_COLS = ("issued", "repealed", "in_force")
_F2021_A_LABELS = ("本年制发件数", "本年废止件数", "现行有效件数")
_F2019_DOC_COLS = ("newly_made", "newly_published", "total_published")
_F2019_DOC_LABELS = ("本年新制作数量", "本年新公开数量", "对外公开总数量")
_F2019_ITEM_COLS = ("prev_year_items", "items_change", "decisions")
_F2019_ITEM_LABELS = ("上一年项目数量", "本年增/减", "处理决定数量")
_DECISIONS = ("decisions",)
_DECISIONS_LABEL = ("本年处理决定数量",)

TABLE_A_F2021: tuple[RowSpec, ...] = (
    RowSpec("active_disclosure.regulations", "A", ("规章",), _F2021_A_COLS, _F2021_A_LABELS),
    RowSpec("active_disclosure.normative_documents", "A", ("行政规范性文件", "规范性文件"),
            _F2021_A_COLS, _F2021_A_LABELS),
    RowSpec("active_disclosure.administrative_permit", "A", ("行政许可",), _DECISIONS, _DECISIONS_LABEL),
    RowSpec("active_disclosure.administrative_penalty", "A", ("行政处罚",), _DECISIONS, _DECISIONS_LABEL),
    RowSpec("active_disclosure.administrative_coercion", "A", ("行政强制",), _DECISIONS, _DECISIONS_LABEL),
    RowSpec("active_disclosure.administrative_fees", "A", ("行政事业性收费",), ("amount_10k_yuan",),
            ("本年收费金额（单位：万元）",), decimal=True),
)

TABLE_A_F2019: tuple[RowSpec, ...] = (
    RowSpec("active_disclosure.regulations", "A", ("规章",), _F2019_DOC_COLS, _F2019_DOC_LABELS),
    RowSpec("active_disclosure.normative_documents", "A", ("行政规范性文件", "规范性文件"),
            _F2019_DOC_COLS, _F2019_DOC_LABELS),
    RowSpec("active_disclosure.administrative_permit", "A", ("行政许可",), _F2019_ITEM_COLS,
            _F2019_ITEM_LABELS, signed_columns=("items_change",)),
    RowSpec("active_disclosure.other_external_services", "A", ("其他对外管理服务事项", "对外管理服务事项"),
            _F2019_ITEM_COLS, _F2019_ITEM_LABELS, signed_columns=("items_change",)),
    RowSpec("active_disclosure.administrative_penalty", "A", ("行政处罚",), _F2019_ITEM_COLS,
            _F2019_ITEM_LABELS, signed_columns=("items_change",)),
    RowSpec("active_disclosure.administrative_coercion", "A", ("行政强制",), _F2019_ITEM_COLS,
            _F2019_ITEM_LABELS, signed_columns=("items_change",)),
    RowSpec("active_disclosure.administrative_fees", "A", ("行政事业性收费",), ("prev_year_items", "items_change"),
            ("上一年项目数量", "本年增/减"), signed_columns=("items_change",)),
    RowSpec("active_disclosure.centralized_procurement", "A", ("政府集中采购",), ("projects", "total_amount"),
            ("采购项目数量", "采购总金额"), decimal=True),
)


def _b(key: str, labels: tuple[str, ...], group: str | None = None) -> RowSpec:
    return RowSpec(f"applications.{key}", "B", labels, APPLICANT_KEYS,
                   tuple(label for _, label in APPLICANT_COLUMNS), group=group)


_B_HEAD: tuple[RowSpec, ...] = (
    _b("new", ("本年新收政府信息公开申请数量", "本年新收")),
    _b("carried_over", ("上年结转政府信息公开申请数量", "上年结转")),
    _b("results.granted", ("予以公开",)),
    _b("results.partially_granted", ("部分公开",)),
    _b("results.withheld.state_secret", ("属于国家秘密", "国家秘密"), "withheld"),
    _b("results.withheld.prohibited_by_law", ("其他法律行政法规禁止公开", "法律行政法规禁止公开",
                                              "其他法律行政止公开", "法律行政法规禁止", "禁止公开"), "withheld"),
    _b("results.withheld.security_stability", ("危及三安全一稳定", "三安全一稳定"), "withheld"),
    _b("results.withheld.third_party_rights", ("保护第三方合法权益", "第三方合法权益"), "withheld"),
    _b("results.withheld.internal_affairs", ("属于三类内部事务信息", "三类内部事务", "内部事务信息"), "withheld"),
    _b("results.withheld.process_info", ("属于四类过程性信息", "四类过程性信息", "过程性信息"), "withheld"),
    _b("results.withheld.enforcement_case_file", ("属于行政执法案卷", "行政执法案卷"), "withheld"),
    _b("results.withheld.administrative_query", ("属于行政查询事项", "行政查询事项"), "withheld"),
    _b("results.unable.not_held", ("本机关不掌握相关政府信息", "不掌握相关政府信息", "不掌握"), "unable"),
    _b("results.unable.needs_creation", ("没有现成信息需要另行制作", "需要另行制作", "另行制作"), "unable"),
    _b("results.unable.unclear_after_correction", ("补正后申请内容仍不明确", "申请内容仍不明确", "仍不明确"), "unable"),
    _b("results.not_processed.petition_complaint", ("信访举报投诉类申请", "信访举报投诉"), "not_processed"),
    _b("results.not_processed.duplicate", ("重复申请",), "not_processed"),
    _b("results.not_processed.publication", ("要求提供公开出版物", "公开出版物"), "not_processed"),
    _b("results.not_processed.excessive_repeat", ("无正当理由大量反复申请", "大量反复申请"), "not_processed"),
    _b("results.not_processed.confirm_or_reissue", ("要求行政机关确认或重新出具已获取信息", "确认或重新出具已获取信息",
                                                    "确认或重新出具"), "not_processed"),
)
_B_OTHER_SPLIT: tuple[RowSpec, ...] = (
    _b("results.other.no_correction_overdue", ("申请人无正当理由逾期不补正行政机关不再处理其政府信息公开申请",
                                               "逾期不补正"), "other"),
    _b("results.other.fee_unpaid_overdue", ("申请人逾期未按收费通知要求缴纳费用行政机关不再处理其政府信息公开申请",
                                            "逾期未按收费通知要求缴纳费用", "逾期未按收费通知", "缴纳费用"), "other"),
    _b("results.other.other", ("其他",), "other"),
)
OTHER_TOTAL = _b("results.other.total", ("其他处理",))
_B_TAIL: tuple[RowSpec, ...] = (
    _b("results.total", ("总计",)),
    _b("carried_forward", ("结转下年度继续办理", "结转下年度")),
)

TABLE_B_F2021: tuple[RowSpec, ...] = _B_HEAD + _B_OTHER_SPLIT + _B_TAIL
TABLE_B_F2019: tuple[RowSpec, ...] = _B_HEAD + (OTHER_TOTAL,) + _B_TAIL
TABLE_B_ALL: tuple[RowSpec, ...] = _B_HEAD + _B_OTHER_SPLIT + (OTHER_TOTAL,) + _B_TAIL

# Group header labels of Table B (merged cells spanning their sub-rows); they carry no numbers.
B_GROUPS: dict[str, tuple[str, ...]] = {
    "results": ("本年度办理结果",),
    "withheld": ("不予公开",),
    "unable": ("无法提供",),
    "not_processed": ("不予处理",),
    "other": ("其他处理",),
}

TABLE_C = RowSpec(
    "review_litigation", "C", ("行政复议",),
    tuple(f"{g}.{leaf}" for g, _ in REVIEW_GROUPS for leaf, _ in REVIEW_LEAVES),
    tuple(f"{gl}·{ll}" for _, gl in REVIEW_GROUPS for _, ll in REVIEW_LEAVES),
)

# Header words that identify a format (spec/report-keys.md "detect by").
FORMAT_SIGNALS: dict[str, tuple[str, ...]] = {
    F2021: ("本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额",
            "逾期未按收费通知"),
    F2019: ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增减",
            "采购项目数量", "其他对外管理服务事项"),
}

# Markers of the three tables (normalized).
TABLE_MARKERS: dict[str, tuple[str, ...]] = {
    "A": ("第二十条第", "信息内容", "主动公开政府信息情况"),
    "B": ("申请人情况", "本年新收政府信息公开申请数量", "收到和处理政府信息公开申请情况"),
    "C": ("结果维持", "结果纠正", "尚未审结", "复议后起诉", "未经复议直接起诉"),
}


def table_a_specs(fmt: str) -> tuple[RowSpec, ...]:
    return TABLE_A_F2019 if fmt == F2019 else TABLE_A_F2021


def all_value_keys(fmt: str, single_other_row: bool = False) -> list[str]:
    """Every key a complete report of ``fmt`` prints (F2021: 200, F2019: 198)."""
    b_rows = TABLE_B_F2019 if fmt == F2019 or single_other_row else TABLE_B_F2021
    keys = [k for spec in table_a_specs(fmt) for k in spec.value_keys()]
    keys += [k for spec in b_rows for k in spec.value_keys()]
    keys += TABLE_C.value_keys()
    return keys


# ---------------------------------------------------------------------------------------------
# Label normalization and matching

_PUNCT = re.compile(r"[\s\u200b\u200c\u200d\ufeff\u3000、，,。．.·:：;；“”\"'‘’「」『』《》（）()\[\]【】<>〈〉!！?？\-—–_/／\\|*#+~]+")
_NUMERAL = r"(?:[一二三四五六七八九十]+|\d{1,2})"
# an ordinal needs its punctuation: "（三）", "三、", "1.", "1、" (so 三类内部事务 keeps its 三)
_CH_ORDINAL_PREFIX = re.compile(rf"^\s*(?:[（(]\s*{_NUMERAL}\s*[）)]|{_NUMERAL}\s*[、.．])\s*[、.．]?\s*")

TYPO_FIXES: dict[str, str] = {
    # known typos seen in real reports, as printed → intended (normalized forms)
    "其他法律行政止公开": "其他法律行政法规禁止公开",
    "行政法复议": "行政复议",
}


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


@lru_cache(maxsize=8192)
def norm_label(text: str | None) -> str:
    """Normalize a printed label: NFKC, no whitespace or punctuation, no leading ordinals.

    ``（三）不予公开`` → ``不予公开``; ``2.其他法律行政法规禁止公开`` → ``其他法律行政法规禁止公开``;
    ``危及“三安全一稳定”`` → ``危及三安全一稳定``; ``商业\\n企业`` → ``商业企业``.
    """
    if not text:
        return ""
    s = nfkc(text)
    s = _CH_ORDINAL_PREFIX.sub("", s)
    s = _PUNCT.sub("", s)
    for typo, fixed in TYPO_FIXES.items():
        s = s.replace(typo, fixed)
    return s


def compact(text: str | None) -> str:
    """NFKC + no whitespace/punctuation, ordinals kept (for searching markers in text)."""
    if text is not None and len(text) <= 200:
        return _compact_short(text)
    return _PUNCT.sub("", nfkc(text or ""))


@lru_cache(maxsize=8192)
def _compact_short(text: str) -> str:
    return _PUNCT.sub("", nfkc(text))


def label_score(label_norm: str, spec: RowSpec) -> int:
    """Length of the longest of ``spec.labels`` contained in the label (0 = no match)."""
    best = 0
    for fragment in spec.labels:
        if fragment in label_norm and len(fragment) > best:
            best = len(fragment)
    return best


def fuzzy_score(label_norm: str, spec: RowSpec) -> float:
    """Similarity of the label to the spec's full label, for typos the synonym list lacks."""
    if not label_norm:
        return 0.0
    full = spec.labels[0]
    return SequenceMatcher(None, label_norm, full).ratio()


_COMPACT_SIGNALS = {fmt: tuple(compact(s) for s in signals) for fmt, signals in FORMAT_SIGNALS.items()}


def detect_format_signals(text_norm: str) -> dict[str, int]:
    """Count F2021 / F2019 header words in normalized text (tables' header cells included)."""
    return {fmt: sum(1 for s in signals if s in text_norm) for fmt, signals in _COMPACT_SIGNALS.items()}
