"""Report metadata from text and page metadata: title, agency, report year, signature, sections.

Titles come as printed (``洪泽区人民政府2023年政府信息公开工作年度报告``, ``2024 年上海市科委政府信息公开
工作年度报告``, ``…2023年度…``, ``二〇二三年``), split over lines, or only in page metadata
(ArticleTitle, ``<title>`` with a ``_栏目_站点`` suffix, PDF Title). The signature is the agency
line and the date line at the end (``2024年1月17日``, ``二○一二年二月二十日``, ``2024 年 1 月 11 日``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from parsers.schema import compact, nfkc

CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "o": 0, "0": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
_YEAR = r"((?:19|20)\d{2}|[〇○零一二三四五六七八九OＯ]{4})"
_TITLE_YEAR = re.compile(_YEAR + r"\s*年")
_DATE_LINE = re.compile(r"^(.{0,40}?)\s*" + _YEAR + r"\s*年\s*([\d一二三四五六七八九十]{1,3})\s*月\s*([\d一二三四五六七八九十]{1,3})\s*日\s*$")
_AGENCY_END = re.compile(r"(人民政府|政府|办公室|办公厅|委员会|管委会|管理委员会|局|厅|委|办|街道办事处|办事处|中心|院|署|会|处|所|站|队|镇|乡|街道|公司|部)$")
REPORT_WORDS = ("年度报告", "年报", "工作报告", "年度工作报告")
NOT_REPORT_WORDS = ("的函", "通知", "解读", "图解", "一图读懂", "读懂", "意见", "方案", "要点", "批复", "公告", "通报", "总结")
_TITLE_PREFIX = re.compile(r"^(?:关于|一图读懂|图解|解读|[【\[][^】\]]{0,12}[】\]])+[《<]?")

_SECTION_KEYS = (
    ("overview", ("总体情况", "概述", "基本情况")),
    ("active_disclosure", ("主动公开",)),
    ("applications", ("收到和处理政府信息公开申请", "依申请公开", "申请情况")),
    ("review_litigation", ("行政复议", "行政诉讼")),
    ("problems_and_improvements", ("存在的主要问题", "问题及改进", "问题和改进", "改进措施", "存在问题")),
    ("other_matters", ("其他需要报告", "其他事项", "需要说明")),
)
_SECTION_HEADING = re.compile(r"^\s*([一二三四五六七八九十]{1,2})\s*[、.．]\s*(.{2,40})$")


@dataclass
class Metadata:
    title: Optional[str] = None
    agency: Optional[str] = None
    year: Optional[int] = None
    signature_agency: Optional[str] = None
    signature_date: Optional[str] = None
    publish_date: Optional[str] = None


def cn_number(text: str) -> Optional[int]:
    """'2023' → 2023; '二〇二三' → 2023; '十二' → 12; '二十' → 20; '二十三' → 23."""
    text = nfkc(text).strip()
    if text.isdigit():
        return int(text)
    if not text:
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        t = CN_DIGITS.get(tens, None) if tens else 1
        o = CN_DIGITS.get(ones, None) if ones else 0
        return None if t is None or o is None else t * 10 + o
    digits = [CN_DIGITS.get(ch) for ch in text]
    if any(d is None for d in digits):
        return None
    value = 0
    for d in digits:
        value = value * 10 + d
    return value


def clean_title(title: str) -> str:
    title = " ".join(nfkc(title).split())
    title = re.sub(r"<[^>]*>?", "", title)  # markup left in page metadata is never part of a name
    title = re.sub(r"^[#>*\s]+|[*]+", "", title)  # Markdown heading / emphasis marks
    title = re.split(r"[_|｜]|-{1,2}(?=[^\d])", title)[0].strip()
    return re.sub(r"(?<=[\u4e00-\u9fff\d])\s+(?=[\u4e00-\u9fff\d])", "", title)


def find_title(text: str, meta: dict[str, str]) -> Optional[str]:
    """The report's title: a candidate naming a year wins; page metadata before the text's first lines.

    PDF producers often set a generic Title ("政府信息公开工作年度报告"), and HTML titles carry
    site suffixes, so a complete title printed at the top of the text beats an incomplete one.
    """
    candidates = [clean_title(meta[k]) for k in ("ArticleTitle", "title", "标题", "heading", "Title", "html_title")
                  if meta.get(k)]
    candidates += text_title_candidates(text)
    titles = [c for c in candidates if _is_titleish(c)]
    with_year = [t for t in titles if year_from_title(t)]
    return (with_year or titles or [None])[0]


def text_title_candidates(text: str) -> list[str]:
    """Titles printed at the top of the text, joining a title broken over two or three lines."""
    lines = [line.strip() for line in text.splitlines()[:12] if line.strip()]
    found = []
    for i, line in enumerate(lines):
        joined = clean_title(line)
        for extra in lines[i + 1:i + 3]:
            if _is_titleish(joined) or re.search(r"[:：]$", extra):
                break
            if len(joined) < 40 and not re.search(r"[。；，]", joined):
                joined = clean_title(joined + extra)
        if _is_titleish(joined) and len(joined) <= 80 and not re.search(r"[。；]", joined):
            found.append(joined)
    return found


def _has_report_word(title: str) -> bool:
    return any(w in title for w in REPORT_WORDS)


def _is_titleish(title: str) -> bool:
    return bool(title) and len(title) <= 80 and ("公开" in title or "报告" in title or "年报" in title) and (
        _has_report_word(title) or "函" in title or "通知" in title or "解读" in title)


def is_report_title(title: Optional[str]) -> Optional[bool]:
    """True for an annual report title, False for a letter/notice/解读, None when unknown."""
    if not title:
        return None
    if _has_report_word(title) and not any(w in title for w in ("解读", "图解", "读懂")):
        return True
    return False if any(w in title for w in NOT_REPORT_WORDS) else None


def year_from_title(title: Optional[str]) -> Optional[int]:
    if not title:
        return None
    for match in _TITLE_YEAR.finditer(nfkc(title)):
        year = cn_number(match.group(1))
        if year and 1990 <= year <= 2100:
            return year
    return None


def year_from_text(text: str) -> Optional[int]:
    """The statistics period (统计期限为2024年1月1日至…) or the first '20xx年' of the preamble."""
    head = nfkc(text[:3000])
    m = re.search(r"(?:统计期限|统计时限|统计周期|统计时间|数据统计)\D{0,12}((?:19|20)\d{2})\s*年", head)
    if m:
        return int(m.group(1))
    m = re.search(r"((?:19|20)\d{2})\s*年(?:度)?", head)
    return int(m.group(1)) if m else None


def agency_from_title(title: Optional[str]) -> Optional[str]:
    """``X2023年(度)政府信息公开…`` → X; ``2024年X政府信息公开…`` → X."""
    if not title:
        return None
    t = _TITLE_PREFIX.sub("", nfkc(title))
    m = re.match(r"^(.+?)(?:关于)?" + _YEAR + r"\s*年", t)
    if m and len(m.group(1)) >= 2 and not re.search(r"关于$", m.group(1)):
        return m.group(1).strip(" ：:")
    m = re.match(r"^" + _YEAR + r"\s*年度?(.+?)(?:政府信息公开|信息公开|政务公开)", t)
    if m and len(m.group(2).strip()) >= 3 and _AGENCY_END.search(m.group(2).strip()):
        return m.group(2).strip()
    return None


def find_signature(text: str) -> tuple[Optional[str], Optional[str]]:
    """(agency, ISO date) from the last lines: an agency line above a bare date line."""
    lines = [line.strip() for line in nfkc(text[-4000:]).splitlines() if line.strip()]
    tail = lines[-25:]
    for i in range(len(tail) - 1, -1, -1):
        m = _DATE_LINE.match(tail[i])
        if not m:
            continue
        prefix, year_s, month_s, day_s = m.groups()
        year, month, day = cn_number(year_s), cn_number(month_s), cn_number(day_s)
        if not (year and month and day and 1 <= month <= 12 and 1 <= day <= 31):
            continue
        agency = prefix.strip() or None
        if not agency and i > 0 and len(tail[i - 1]) <= 40 and _AGENCY_END.search(tail[i - 1].replace(" ", "")):
            agency = tail[i - 1].replace(" ", "")
        if agency and not _AGENCY_END.search(agency):
            agency = None
        return agency, f"{year:04d}-{month:02d}-{day:02d}"
    return None, None


_INLINE_DATE = re.compile(r"(?:(?<=[。！；\s])|^)([\u4e00-\u9fff（）()]{2,30}?)?\s*" + _YEAR
                          + r"\s*年\s*([\d一二三四五六七八九十]{1,3})\s*月\s*([\d一二三四五六七八九十]{1,3})\s*日"
                          + r"\s*(?=$|附件|附表|\s*\d?\s*附)")


def find_inline_signature(text: str) -> tuple[Optional[str], Optional[str]]:
    """The signature of a whitespace-collapsed text dump: '…。 平潭…办公室 2014年12月10日 附件…'."""
    tail = nfkc(text[-800:])[-400:]
    for m in reversed(list(_INLINE_DATE.finditer(tail))):
        prefix, year_s, month_s, day_s = m.groups()
        year, month, day = cn_number(year_s), cn_number(month_s), cn_number(day_s)
        if not (year and month and day and 1 <= month <= 12 and 1 <= day <= 31):
            continue
        agency = (prefix or "").strip() or None
        if agency and not _AGENCY_END.search(agency):
            agency = None
        return agency, f"{year:04d}-{month:02d}-{day:02d}"
    return None, None


def publish_date(meta: dict[str, str]) -> Optional[str]:
    for key in ("PubDate", "publish_date", "发布时间", "发布日期", "公开日期", "firstpublishedtime"):
        value = meta.get(key)
        if value:
            m = re.search(r"((?:19|20)\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})", value)
            if m:
                return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    return None


def extract_metadata(text: str, meta: dict[str, str]) -> Metadata:
    title = find_title(text, meta)
    signature_agency, signature_date = find_signature(text)
    if signature_date is None:
        signature_agency, signature_date = find_inline_signature(text)
    agency = agency_from_title(title) or signature_agency
    for key in ("ContentSource", "publisher", "发布机构", "发文机关"):
        if agency:
            break
        value = meta.get(key)
        if value and re.search(r"[\u4e00-\u9fff]{2,}", value):
            agency = value.strip()
    year = year_from_title(title) or year_from_text(text)
    return Metadata(title=title, agency=agency, year=year, signature_agency=signature_agency,
                    signature_date=signature_date, publish_date=publish_date(meta))


def split_sections(text: str) -> dict[str, str]:
    """The six parts by their numbered headings (一、总体情况 … 六、其他需要报告的事项)."""
    sections: dict[str, list[str]] = {}
    current: Optional[str] = None
    for line in text.splitlines():
        m = _SECTION_HEADING.match(line.strip())
        if m:
            heading = compact(m.group(2))
            key = next((k for k, words in _SECTION_KEYS if any(w in heading for w in words)), None)
            if key and key not in sections:
                current = key
                sections[key] = []
                continue
        if current:
            sections[current].append(line)
    return {k: "\n".join(v).strip() for k, v in sections.items()}
