"""Decide from a listing title whether a link is an annual disclosure report, and read its year and
agency.

Report columns (年报栏目) mix reports with news, 解读 pages, letters and notices, and often carry
reports of *other* agencies (a county column re-posting the city's and the province's report). The
title is the only cheap evidence before downloading, so this filter is deliberately strict on the
negative side (解读/图解/函/通知/会议 are never reports) and generous on title variants
(政府信息公开工作年度报告, 信息公开年度报告, 信息公开年报, 政务公开…年度报告).

The year comes from the title, never from the publish date: the 2023 report is published in 2024.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Optional

from parsers import metadata as parsers_metadata

# A title names an annual disclosure report when it speaks of disclosure AND of an annual report.
_DISCLOSURE = re.compile(r"(政府)?(信息|政务)公开")
_ANNUAL = re.compile(r"年度?报告|年报|年度工作报告")

# Things that live in report columns but are not reports.
_REJECT = re.compile(
    r"解读|图解|一图读懂|图读|答记者问|问答|的函$|之函|函〕|通知|公告|通报|会议|座谈|培训|部署|"
    r"要点|意见|方案|办法|规定|制度|指南|目录|征求|发布会|新闻|动态|简报|考核|表彰|讲话|"
    r"报表|报送|催报|督查|检查|评估|测评|第三方|统计表$|申请表|模板|样式|格式"
)
# 关于…的函 / 关于…的通知 / 关于印发…: official correspondence about reports, not reports.
_CORRESPONDENCE = re.compile(r"^关于.*(的函|的通知|的报告|的批复|的请示|情况)|^关于印发|^转发")

_CN_YEAR = re.compile(r"([〇零○Ｏ一二三四五六七八九]{4})\s*年")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_BARE_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_SITE_SUFFIX = re.compile(r"\s*[_|｜\-—]\s*[^_|｜\-—]{2,40}$")
_BRACKETS = re.compile(r"^[\s【\[（(《「『“\"]+|[\s】\]）)》」』”\"]+$")
_VERSION_TAG = re.compile(r"[（(](图片版|文字版|超链版|全文|正文|PDF版|pdf版|附件)[）)]")
_AGENCY_TAIL = re.compile(r"(关于)?$")


@dataclass(frozen=True)
class TitleVerdict:
    """What a listing title says: is it a report, of which year, by which agency (when named)."""

    is_report: bool
    year: Optional[int]
    agency: Optional[str]
    reason: str


def normalize_title(title: str) -> str:
    """NFKC, collapse whitespace, drop a trailing `_站点名` suffix and the version tag."""
    text = unicodedata.normalize("NFKC", title or "")
    text = " ".join(text.split())
    if "_" in text or "|" in text:
        head = _SITE_SUFFIX.sub("", text)
        if _ANNUAL.search(head):
            text = head
    return text.strip()


def year_from_title(title: str) -> Optional[int]:
    """The report year printed in a title: 2023年, 2023年度, 二〇二三年 (the parsers' rule), else a
    bare 2023 (listing titles are often cut short); None when absent."""
    year = parsers_metadata.year_from_title(title)
    if year is not None:
        return year
    match = _BARE_YEAR.search(unicodedata.normalize("NFKC", title or ""))
    return int(match.group(1)) if match else None


def agency_from_title(title: str) -> Optional[str]:
    """The agency named at the head of a report title (平潭综合实验区2024年度… → 平潭综合实验区).

    Also handles the year-first form (2023年XX区政府信息公开工作年度报告 → XX区). Returns None
    when the title names no agency (e.g. 2023年政府信息公开工作年度报告).
    """
    text = _VERSION_TAG.sub("", normalize_title(title))
    year = _YEAR.search(text) or _CN_YEAR.search(text)
    disclosure = _DISCLOSURE.search(text)
    candidate = ""
    if year and (not disclosure or year.start() < disclosure.start()):
        candidate = text[: year.start()]
        if not _clean_agency(candidate) and disclosure:
            candidate = text[year.end(): disclosure.start()]
    elif disclosure:
        candidate = text[: disclosure.start()]
    agency = _clean_agency(candidate)
    return agency or None


def _clean_agency(text: str) -> str:
    text = _BRACKETS.sub("", text.strip())
    text = re.sub(r"^(关于|印发)", "", text)
    text = re.sub(r"(的|关于|度|年)$", "", text).strip(" ，,、:：")
    # "政府" on its own is the start of 政府信息公开, not an agency
    if len(text) < 2 or text in {"政府", "本级", "全市", "全县", "全区", "全省"}:
        return ""
    return text


def classify_title(title: str) -> TitleVerdict:
    """Is this listing title an annual disclosure report? With year and agency when it is."""
    text = normalize_title(title)
    if not text:
        return TitleVerdict(False, None, None, "empty title")
    year = year_from_title(text)
    if not (_DISCLOSURE.search(text) and _ANNUAL.search(text)):
        if "年报" in text and year is not None and not _REJECT.search(text):
            # e.g. "XX局2023年年报" in a report column; accept only with a year
            return TitleVerdict(True, year, agency_from_title(text), "年报 with year")
        return TitleVerdict(False, year, None, "not an annual disclosure report title")
    stripped = _VERSION_TAG.sub("", text)
    if _CORRESPONDENCE.search(stripped):
        return TitleVerdict(False, year, None, "correspondence (关于…的函/通知)")
    rejected = _REJECT.search(stripped)
    if rejected:
        return TitleVerdict(False, year, None, f"not a report ({rejected.group(0)})")
    return TitleVerdict(True, year, agency_from_title(text), "annual report title")


def is_report_title(title: str) -> bool:
    return classify_title(title).is_report
