"""What one generated document says: the ReportSpec, its narrative, and its ordered blocks.

Why blocks: every renderer walks the same list (title, headings, paragraphs, tables, signature),
so an HTML page, a DOCX and a PDF of one spec print the same words and the same numbers.
"""

from __future__ import annotations

import datetime as dt
import random
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional, Union

from .layout import Grid, report_grids

AGENCIES = [
    "洪泽区人民政府", "平潭综合实验区管委会", "沭阳县发展和改革局", "仁和区前进镇人民政府",
    "宿迁市自然资源和规划局", "来凤县人民政府", "杨凌示范区管委会", "岳阳市南湖新区管委会",
    "孝感市审计局", "雄县朱各庄镇人民政府", "兴化市大营镇人民政府", "龙岗区人民政府",
    "淮安市人民政府办公室", "平武县教育局", "大同市云州区信访局", "仪陇县住房和城乡建设局",
    "遂溪县建新镇人民政府", "舒兰市人民政府", "丽水市莲都区财政局", "嘉祥县卫生健康局",
    "西咸新区太平镇人民政府", "万潮镇人民政府", "资阳市雁江区民政局", "攀枝花市东区炳草岗街道办事处",
]

TITLE_VARIANTS = ("{agency}{year}年政府信息公开工作年度报告", "{agency}{year}年度政府信息公开工作年度报告",
                  "{agency}{year}年政府信息公开年度报告")

SECTION_HEADINGS = {
    "F2021": ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
              "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"],
    "PRE2019": ["一、概述", "二、主动公开政府信息情况", "三、依申请公开政府信息情况",
                "四、政府信息公开的收费及减免情况", "五、因政府信息公开申请行政复议、提起行政诉讼的情况",
                "六、政府信息公开工作存在的主要问题及改进情况"],
}
SECTION_HEADINGS["F2019"] = SECTION_HEADINGS["F2021"]

OVERVIEW_TOPICS = ["主动公开", "依申请公开", "政府信息管理", "政府信息公开平台建设", "监督保障"]
FILLER = ["坚持以习近平新时代中国特色社会主义思想为指导", "认真贯彻落实《中华人民共和国政府信息公开条例》",
          "全面推进政务公开标准化规范化建设", "进一步健全信息发布审核机制", "持续优化政府网站和政务新媒体管理",
          "严格落实保密审查制度", "加强政策解读和回应关切", "及时更新政府信息公开目录",
          "定期开展政务公开业务培训", "将政务公开工作纳入年度绩效考核", "畅通依申请公开受理渠道",
          "规范答复文书格式", "落实“三审三校”制度", "推进基层政务公开标准化规范化"]
PROBLEMS = ["政策解读形式较为单一", "部分栏目信息更新不够及时", "依申请公开答复规范化水平有待提升",
            "工作人员业务能力有待加强", "重点领域信息公开深度不够"]

Number = Union[int, Decimal, None]


@dataclass
class Block:
    """One element of a document in reading order."""

    kind: str  # title | heading | subheading | paragraph | table | signature | caption
    text: str = ""
    grid: Optional[Grid] = None
    lines: list[str] = field(default_factory=list)  # signature lines


def _stable_rng(*parts: Any) -> random.Random:
    """A generator seeded from the spec's identity, so narratives are deterministic per spec."""
    return random.Random(zlib.crc32("|".join(map(str, parts)).encode("utf-8")))


@dataclass
class ReportSpec:
    """One generated document and the truth it carries.

    ``values`` use the canonical keys (empty for PRE2019 and NOT_A_REPORT). ``narrative`` maps a
    section ("preamble", "overview", "problems", "other", or "body" for letters) to paragraphs;
    it is generated when not given, quoting 收到政府信息公开申请N件 with N = new.total (check X5).
    """

    agency: str
    year: int
    fmt: str
    values: dict[str, Number] = field(default_factory=dict)
    title: Optional[str] = None
    signature_date: Optional[dt.date] = None
    narrative: Optional[dict[str, list[str]]] = None
    include_signature: bool = True
    single_other_row: Optional[bool] = None  # default: inferred from the values' keys
    include_stats_annex: bool = False  # PRE2019: append a 政府信息公开情况统计表

    def __post_init__(self) -> None:
        if self.title is None:
            self.title = (f"关于{self.agency}{self.year}年政务公开工作有关事项的函" if self.fmt == "NOT_A_REPORT"
                          else f"{self.agency}{self.year}年政府信息公开工作年度报告")
        if self.signature_date is None:
            rng = _stable_rng(self.agency, self.year, "date")
            self.signature_date = dt.date(self.year + 1, 1, 1) + dt.timedelta(days=rng.randint(5, 80))
        if self.single_other_row is None:
            self.single_other_row = self.fmt == "F2019" or "applications.results.other.total.total" in self.values
        if self.narrative is None:
            self.narrative = generate_narrative(self)

    def value(self, key: str) -> Number:
        return self.values.get(key)


def _count_of(spec: ReportSpec, key: str) -> int:
    return int(spec.values.get(key) or 0)


def generate_narrative(spec: ReportSpec) -> dict[str, list[str]]:
    """Plausible paragraphs for each narrative section; numbers agree with the tables (X5)."""
    rng = _stable_rng(spec.agency, spec.year, spec.fmt)
    if spec.fmt == "NOT_A_REPORT":
        return {"body": _letter_body(spec, rng)}
    period = f"{spec.year}年1月1日至{spec.year}年12月31日"
    basis = ("《中华人民共和国政府信息公开条例》（国务院令第711号）" if spec.fmt != "PRE2019"
             else "《中华人民共和国政府信息公开条例》（国务院令第492号）")
    preamble = [f"本报告根据{basis}要求编制。全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、"
                f"政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项。"
                f"本报告中所列数据的统计期限自{period}止。如对本报告有疑问，请与{spec.agency}办公室联系。"]
    if spec.fmt == "PRE2019":
        return {"preamble": preamble, **_pre2019_sections(spec, rng)}
    new_total = _count_of(spec, "applications.new.total")
    review = _count_of(spec, "review_litigation.review.total")
    litigation = (_count_of(spec, "review_litigation.litigation_direct.total")
                  + _count_of(spec, "review_litigation.litigation_after_review.total"))
    overview = [f"{spec.year}年，{spec.agency}" + "，".join(rng.sample(FILLER, 3)) + "，政府信息公开工作取得新成效。"]
    for i, topic in enumerate(OVERVIEW_TOPICS):
        ordinal = "一二三四五"[i]
        if topic == "依申请公开":
            body = (f"{spec.year}年，共收到政府信息公开申请{new_total}件，上年结转"
                    f"{_count_of(spec, 'applications.carried_over.total')}件，均在法定期限内予以答复。"
                    f"全年被申请行政复议{review}件，被提起行政诉讼{litigation}件。")
        elif topic == "主动公开":
            body = (f"全年通过政府门户网站主动公开政府信息{rng.randint(40, 3000)}条，"
                    + "，".join(rng.sample(FILLER, 2)) + "。")
        else:
            body = "，".join(rng.sample(FILLER, 3)) + "。"
        overview.append(f"（{ordinal}）{topic}情况。{body}")
    problems = [f"{spec.year}年，我单位政府信息公开工作取得一定成效，但仍存在" + "、".join(rng.sample(PROBLEMS, 2))
                + "等问题。下一步，将" + "，".join(rng.sample(FILLER, 3)) + "。"]
    other = [f"{spec.year}年，本机关未收取信息处理费。", "无其他需要报告的事项。"]
    return {"preamble": preamble, "overview": overview, "problems": problems, "other": other}


def _pre2019_sections(spec: ReportSpec, rng: random.Random) -> dict[str, list[str]]:
    active = rng.randint(20, 2000)
    requests = rng.randint(0, 40)
    return {
        "overview": [f"{spec.year}年，{spec.agency}" + "，".join(rng.sample(FILLER, 3)) + "。"],
        "active": [f"全年共主动公开政府信息{active}条，其中规范性文件{rng.randint(0, 20)}件。"],
        "requests": [f"全年共受理政府信息公开申请{requests}件，已全部按期答复。"],
        "fees": ["本年度未收取任何费用，无减免情况。"],
        "review": ["本年度未发生因政府信息公开申请行政复议、提起行政诉讼的情况。"],
        "problems": ["存在" + "、".join(rng.sample(PROBLEMS, 2)) + "等问题，下一步将" + rng.choice(FILLER) + "。"],
        "stats": [str(active), str(requests)],
    }


def _letter_body(spec: ReportSpec, rng: random.Random) -> list[str]:
    return ["各乡镇人民政府、街道办事处，区直各部门：",
            f"为做好{spec.year}年度政府信息公开工作年度报告编制和发布工作，现将有关事项函告如下：",
            f"一、请各单位于{spec.year + 1}年1月31日前完成年度报告编制，并报{spec.agency}审核。",
            "二、" + "，".join(rng.sample(FILLER, 3)) + "。",
            "三、年度报告应当严格按照国务院办公厅规定的格式编制，确保数据准确。"]


def signature_date_text(date: dt.date) -> str:
    return f"{date.year}年{date.month}月{date.day}日"


def stats_annex_grid(spec: ReportSpec) -> Grid:
    """PRE2019 annex: 政府信息公开情况统计表 (指标名称 / 计量单位 / 本年度 / 历年累计)."""
    stats = (spec.narrative or {}).get("stats", ["0", "0"])
    rows = [("一、主动公开情况", "", "", ""), ("主动公开政府信息数", "条", stats[0], str(int(stats[0]) * 5)),
            ("二、依申请公开情况", "", "", ""), ("受理申请总数", "件", stats[1], str(int(stats[1]) * 4)),
            ("三、行政复议数量", "件", "0", "0"), ("四、行政诉讼数量", "件", "0", "0")]
    grid = Grid("stats_annex", len(rows) + 1, 4, [2.4, 0.8, 0.9, 0.9], header_rows=1)
    for c, text in enumerate(("指标名称", "计量单位", "本年度", "历年累计")):
        grid.add(0, c, text, "header")
    for r, row in enumerate(rows, start=1):
        grid.add(r, 0, row[0], "label")
        for c in range(1, 4):
            grid.add(r, c, row[c], "label")  # not canonical keys: PRE2019 has no mapped values
    return grid


def document_blocks(spec: ReportSpec) -> list[Block]:
    """The document in reading order: title, preamble, six sections with tables, signature."""
    narrative = spec.narrative or {}
    blocks = [Block("title", spec.title or "")]
    if spec.fmt == "NOT_A_REPORT":
        blocks += [Block("paragraph", p) for p in narrative.get("body", [])]
    elif spec.fmt == "PRE2019":
        blocks += [Block("paragraph", p) for p in narrative.get("preamble", [])]
        for heading, section in zip(SECTION_HEADINGS["PRE2019"],
                                    ("overview", "active", "requests", "fees", "review", "problems")):
            blocks.append(Block("heading", heading))
            blocks += [Block("paragraph", p) for p in narrative.get(section, [])]
        if spec.include_stats_annex:
            blocks.append(Block("heading", "附表：政府信息公开情况统计表"))
            blocks.append(Block("table", grid=stats_annex_grid(spec)))
    else:
        grids = report_grids(spec.fmt, bool(spec.single_other_row))
        headings = SECTION_HEADINGS[spec.fmt]
        blocks += [Block("paragraph", p) for p in narrative.get("preamble", [])]
        blocks.append(Block("heading", headings[0]))
        for p in narrative.get("overview", []):
            blocks.append(Block("subheading" if p.startswith("（") else "paragraph", p))
        for heading, grid in zip(headings[1:4], grids):
            blocks.append(Block("heading", heading))
            blocks.append(Block("table", grid=grid))
        blocks.append(Block("heading", headings[4]))
        blocks += [Block("paragraph", p) for p in narrative.get("problems", [])]
        blocks.append(Block("heading", headings[5]))
        blocks += [Block("paragraph", p) for p in narrative.get("other", [])]
    if spec.include_signature and spec.signature_date:
        blocks.append(Block("signature", lines=[spec.agency, signature_date_text(spec.signature_date)]))
    return blocks


def cell_text(spec: ReportSpec, cell: Any) -> str:
    """The printed text of a grid cell: its label, or its value formatted for print."""
    from .values import format_value
    if cell.key is None:
        return cell.text
    return format_value(spec.values.get(cell.key), signed=cell.key.endswith("items_change"))
