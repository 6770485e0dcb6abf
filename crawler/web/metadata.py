"""Datasette metadata: titles, bilingual column descriptions, facets and canned queries.

Built in code (not a static file) because Datasette keys metadata by database name, which is
the SQLite file's stem. Every canned query is parameterized (``:agency``, ``:year``); none writes.
"""

from __future__ import annotations

from typing import Any

from crawler.lookup import KEY_FIGURES

TITLE = "xxgk-archive 政府信息公开工作年度报告档案"
DESCRIPTION = ("Chinese government information-disclosure annual reports: every value with the cell and "
               "archived document it came from. 政府信息公开工作年度报告：每个数字都可追溯到原始文件。")

TABLES: dict[str, dict[str, Any]] = {
    "agencies": {
        "title": "机关 Agencies",
        "description": "发布年度报告的行政机关 / Government bodies that publish reports",
        "label_column": "name",
        "facets": ["level"],
        "columns": {
            "name": "机关名称 Agency name",
            "aliases": "其他写法 Other spellings seen in reports",
            "level": "层级 Level: national, province, city, county, town, department",
            "division_code": "行政区划代码 Administrative division code (6 digits; 9 for towns)",
            "parent_id": "上级机关 Parent agency",
        },
    },
    "sources": {
        "title": "来源 Sources",
        "description": "年报栏目登记 / Registry entries: one report column of one agency",
        "facets": ["platform"],
        "columns": {"name": "来源名称 Source name", "agency_id": "机关 Agency", "platform": "平台类型 CMS family",
                    "start_url": "栏目网址 Report column URL", "how_established": "如何确认 How the URL was established"},
    },
    "reports": {
        "title": "年度报告 Reports",
        "description": "每份报告的每次解析 / One parse of one document (versions kept; is_current marks the one in use)",
        "label_column": "title",
        "facets": ["year", "format", "status", "changed_after_publication"],
        "sortable_columns": ["year", "version", "stored_at"],
        "columns": {
            "agency_id": "机关 Agency", "year": "报告年度 Report year", "title": "标题 Title",
            "format": "格式 F2021 / F2019 / PRE2019 / NOT_A_REPORT / UNKNOWN",
            "document_id": "原始文件 Archived document", "version": "版本（发布后修改则递增）Version (grows when the document changes)",
            "parser_version": "解析器版本 Parser version", "status": "状态 ok / duplicate / not_a_report / incomplete",
            "source_url": "来源网址 Where the document was found",
            "is_current": "当前版本 Current version", "changed_after_publication": "发布后被修改 Changed after publication",
            "signature_date": "落款日期 Signature date", "publish_date": "发布日期 Publication date",
        },
    },
    "report_values": {
        "title": "数值 Values",
        "description": "报告中印出的每个数字 / Every printed number under its canonical key",
        "columns": {
            "report_id": "报告 Report", "key": "规范键 Canonical key (spec/report-keys.md)",
            "value_text": "数值（精确文本）Exact value as printed", "value_num": "数值 Numeric value",
            "raw": "原文 Raw cell text", "page": "页码 Page", "table_index": "表格序号 Table",
            "row_label": "行标签 Row label as printed", "col_label": "列标签 Column label as printed",
            "confidence": "置信度 Confidence (lower for OCR)", "cell_source": "来源 table / text / ocr",
        },
    },
    "check_results": {
        "title": "校验 Checks",
        "description": "勾稽关系校验 / Identity checks B1–B3, C1–C3, X5 and cross-year X1, X2",
        "facets": ["check_id", "status"],
        "columns": {"report_id": "报告 Report", "check_id": "校验 Check id", "scope": "范围 Scope",
                    "status": "结果 pass / fail / warn / skip", "expected": "应为 Expected", "actual": "实际 Actual"},
    },
    "report_changes": {
        "title": "修改 Changes",
        "description": "报告版本之间变化的数值 / Values that differ between two versions of a report",
        "facets": ["kind"],
        "columns": {"old_report_id": "旧版本 Old version", "new_report_id": "新版本 New version",
                    "key": "规范键 Key", "old_value": "原值 Old value", "new_value": "新值 New value"},
    },
    "documents": {
        "title": "文件 Documents",
        "description": "按 sha256 存档的原始文件 / Archived payloads, unique by sha256",
        "label_column": "sha256",
        "facets": ["media_type", "parse_status"],
        "columns": {"sha256": "SHA-256（链接到存档原件 links to the archived original）", "size": "字节数 Size",
                    "media_type": "媒体类型 Media type", "parse_status": "解析状态 Parse status"},
    },
    "captures": {
        "title": "抓取记录 Captures",
        "description": "每次 HTTP 抓取 / Every HTTP exchange as archived (WARC file and offset)",
        "facets": ["status", "media_type", "is_revisit"],
        "columns": {"url": "网址 URL", "final_url": "最终网址 Final URL", "status": "HTTP 状态 Status",
                    "fetched_at": "抓取时间 Fetched at (UTC)", "sha256": "内容哈希 Payload sha256",
                    "referrer_url": "列表页 Listing page that linked here", "warc_file": "WARC 文件 WARC file"},
    },
    "crawl_runs": {"title": "抓取运行 Crawl runs", "facets": ["outcome"]},
    "alembic_version": {"hidden": True},
}

_FIGURE_COLUMNS = {
    "new_requests": "applications.new.total",
    "carried_over": "applications.carried_over.total",
    "processed": "applications.results.total.total",
    "carried_forward": "applications.carried_forward.total",
    "reviews": "review_litigation.review.total",
    "lawsuits": "review_litigation.litigation_direct.total",
}
assert set(_FIGURE_COLUMNS.values()) <= set(KEY_FIGURES)


def _check_summary(check_id: str) -> str:
    return (f"(select case when sum(c.status in ('fail','warn')) > 0 then 'warn' when sum(c.status = 'pass') > 0 "
            f"then 'pass' when count(*) > 0 then 'skip' end from check_results c "
            f"where c.report_id = r.id and c.check_id = '{check_id}') as {check_id}")


def _history_sql() -> str:
    figures = ",\n  ".join(f"max(case when v.key = '{key}' then v.value_num end) as {name}"
                           for name, key in _FIGURE_COLUMNS.items())
    keys = ", ".join(f"'{key}'" for key in _FIGURE_COLUMNS.values())
    return f"""select r.year, r.format, r.id as report_page, r.version,
  {figures},
  {_check_summary('X1')},
  {_check_summary('X2')},
  (select group_concat(distinct c.check_id) from check_results c
     where c.report_id = r.id and c.status in ('fail','warn')) as failed_checks
from reports r
join agencies a on a.id = r.agency_id
left join report_values v on v.report_id = r.id and v.key in ({keys})
where a.name = :agency and r.is_current = 1 and r.status = 'ok'
group by r.id
order by r.year"""


QUERIES: dict[str, dict[str, Any]] = {
    "agency_search": {
        "title": "查找机关 Find an agency",
        "description": "输入机关名称的一部分，例如 前进镇 / Type part of a name",
        "sql": """select a.name as agency_history, a.level, a.division_code, p.name as parent,
  (select count(*) from reports r where r.agency_id = a.id and r.is_current = 1 and r.status = 'ok') as reports
from agencies a left join agencies p on p.id = a.parent_id
where a.name like '%' || :q || '%' or a.aliases like '%' || :q || '%'
order by length(a.name), a.name
limit 200""",
    },
    "agency_history": {
        "title": "机关历年数据 Agency history",
        "description": "历年关键数字与跨年校验 X1/X2 / Key figures across years with cross-year checks",
        "sql": _history_sql(),
    },
    "failed_checks": {
        "title": "未通过的校验 Failed checks",
        "description": "勾稽关系不成立的报告 / Current reports whose identities do not hold",
        "sql": """select a.name as agency_history, r.year, r.id as report_page, c.check_id, c.scope, c.status,
  c.expected, c.actual, c.note
from check_results c
join reports r on r.id = c.report_id
left join agencies a on a.id = r.agency_id
where c.status in ('fail', 'warn') and r.is_current = 1
order by a.name, r.year, c.check_id""",
    },
    "modified_reports": {
        "title": "发布后被修改的报告 Reports changed after publication",
        "description": "同一机关同一年度出现不同文件 / A second, different document for the same agency and year",
        "sql": """select a.name as agency_history, r.year, r.id as report_page, r.version, d.sha256 as archived_original,
  (select count(*) from report_changes ch where ch.new_report_id = r.id) as changed_values,
  (select group_concat(ch.key || ': ' || coalesce(ch.old_value, '—') || ' → ' || coalesce(ch.new_value, '—'), '; ')
     from report_changes ch where ch.new_report_id = r.id) as changes
from reports r
join documents d on d.id = r.document_id
left join agencies a on a.id = r.agency_id
where r.changed_after_publication = 1 and r.is_current = 1
order by a.name, r.year""",
    },
    "coverage": {
        "title": "覆盖情况 Coverage",
        "description": "每个机关找到、解析、标记的年度 / Per agency: years found, parsed and flagged",
        "sql": """select a.name as agency_history, a.level, a.division_code,
  count(distinct r.year) as years_found,
  group_concat(distinct r.year) as years,
  count(distinct case when exists (select 1 from report_values v where v.report_id = r.id) then r.year end) as years_parsed,
  count(distinct case when r.changed_after_publication = 1 or exists (
      select 1 from check_results c where c.report_id = r.id and c.status in ('fail','warn')) then r.year end) as years_flagged,
  (select count(*) from sources s join captures cp on cp.source_id = s.id
     where s.agency_id = a.id and cp.status in (403, 412, 429, 521)) as blocked_responses
from agencies a
left join reports r on r.agency_id = a.id and r.is_current = 1 and r.status = 'ok'
where exists (select 1 from reports x where x.agency_id = a.id) or exists (select 1 from sources s where s.agency_id = a.id)
group by a.id
order by a.division_code, a.name""",
    },
    "top_agencies_by_requests": {
        "title": "申请最多的机关 Top agencies by information requests",
        "description": "按年度新收申请总数排序 / Ranked by new requests received in a year",
        "sql": """select a.name as agency_history, a.level, r.year, r.id as report_page, v.value_num as new_requests
from report_values v
join reports r on r.id = v.report_id
join agencies a on a.id = r.agency_id
where v.key = 'applications.new.total' and r.is_current = 1 and r.status = 'ok'
  and (:year = '' or r.year = cast(:year as integer))
order by v.value_num desc
limit 100""",
    },
}


def build_metadata(database: str) -> dict[str, Any]:
    """Metadata for a database named ``database`` (the SQLite file's stem)."""
    tables = {}
    for name, spec in TABLES.items():
        table = {k: v for k, v in spec.items()}
        tables[name] = table
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "license": "Data: public government information; code: MIT",
        "source": "xxgk-archive",
        "databases": {database: {"title": TITLE, "tables": tables, "queries": QUERIES}},
    }
