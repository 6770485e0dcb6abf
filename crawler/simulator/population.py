"""Deterministic population of the simulated world from a seed: agencies, reports and negatives.

Each site asks the ``World`` for agencies of the levels it hosts and for the items of a column.
Everything is a function of the seed, so two simulators with the same seed and profile serve the
same bytes at the same URLs (tests rely on it).
"""

from __future__ import annotations

import random
from datetime import date
from typing import Iterable, Optional

from .model import Agency, Item

DEPARTMENTS = ["发展和改革局", "财政局", "教育局", "公安局", "民政局", "司法局", "人力资源和社会保障局",
               "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局", "水利局", "农业农村局",
               "商务局", "文化和旅游局", "卫生健康委员会", "退役军人事务局", "应急管理局", "审计局",
               "市场监督管理局", "统计局", "医疗保障局", "林业局", "信访局", "数据资源管理局",
               "城市管理局", "科学技术局", "工业和信息化局", "体育局", "人民政府办公室"]
NATIONAL_DEPARTMENTS = ["国家统计局", "国家林业和草原局", "国家医疗保障局", "国家能源局", "国家知识产权局",
                        "国家药品监督管理局", "国家体育总局", "国家文物局", "国家邮政局", "国家粮食和物资储备局"]
_SYLLABLES = "东西南北中安平和兴宁康泰丰华新青松柏桥河湖山林溪泉石阳江城清花田龙凤金玉白云明光长永乐福"
GENERATED_FORMATS = ("F2021", "F2019", "PRE2019")


def short_name(name: str) -> str:
    """The jurisdiction part of a government name: 洪泽区人民政府 → 洪泽区."""
    for suffix in ("人民政府办公室", "人民政府办公厅", "人民政府", "管委会", "街道办事处"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


class World:
    """Seeded factories shared by all sites: item ids, agencies, report and negative items."""

    def __init__(self, seed: int, formats: Iterable[str] = GENERATED_FORMATS) -> None:
        self.seed = seed
        self.formats = tuple(formats)
        self.items: dict[int, Item] = {}
        self._next_id = 100000
        self._used_names: set[str] = set()
        # (agency, year) of every report created: one agency publishes one report a year, so a
        # generated report never collides with a corpus report (or another site's) of the same pair
        self.report_pairs: set[tuple[str, int]] = set()

    def rng(self, *scope: object) -> random.Random:
        """An independent generator per scope, so adding one site never reshuffles another."""
        return random.Random(":".join(map(str, (self.seed, *scope))))

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # ---- agencies ---------------------------------------------------------------------------
    def agency(self, name: str, level: str, code: str, parent: Optional[str] = None) -> Agency:
        self._used_names.add(name)
        return Agency(name=name, level=level, division_code=code, parent=parent)

    def departments(self, parent: Agency, count: int, rng: random.Random) -> list[Agency]:
        """Departments of a government; more than the pool holds get 第N-numbered offices."""
        if parent.level == "national":
            pool = list(NATIONAL_DEPARTMENTS)
            names = [pool[i % len(pool)] + ("" if i < len(pool) else f"第{i // len(pool) + 1}办事处")
                     for i in range(count)]
        else:
            base = short_name(parent.name)
            pool = list(DEPARTMENTS)
            rng.shuffle(pool)
            names = [base + pool[i % len(pool)] + ("" if i < len(pool) else f"第{i // len(pool) + 1}分局")
                     for i in range(count)]
        return [self.agency(n, "department", parent.division_code, parent.name) for n in names]

    def towns(self, county: Agency, count: int, rng: random.Random) -> list[Agency]:
        base = short_name(county.name)
        result: list[Agency] = []
        while len(result) < count:
            stem = "".join(rng.sample(_SYLLABLES, 2))
            kind = rng.choice(["镇人民政府", "乡人民政府", "街道办事处"])
            name = f"{base}{stem}{kind}"
            if name in self._used_names:
                continue
            result.append(self.agency(name, "town", county.division_code, county.name))
        return result

    # ---- items ------------------------------------------------------------------------------
    def fmt_for(self, year: int) -> str:
        if year >= 2021:
            return "F2021"
        if year >= 2019 or "PRE2019" not in self.formats:
            return "F2019"
        return "PRE2019"

    def report(self, site: str, column: str, agency: Agency, year: int, rng: random.Random, *,
               form: str = "body", file_kind: Optional[str] = "html", title: Optional[str] = None,
               published: Optional[date] = None) -> Item:
        """A generated annual report of ``agency`` for ``year``, published early in year + 1."""
        if title is None:
            title = rng.choice([f"{agency.name}{year}年政府信息公开工作年度报告",
                                f"{agency.name}{year}年度政府信息公开工作年度报告",
                                f"{year}年{agency.name}政府信息公开工作年度报告"])
            if form == "image":
                title += "（图片版）"
        if published is None:
            published = date(year + 1, rng.randint(1, 3), rng.randint(1, 28))
        item = Item(item_id=self.next_id(), site=site, column=column, title=title, agency=agency,
                    kind="report", year=year, published=published, fmt=self.fmt_for(year), form=form,
                    file_kind=file_kind)
        self.items[item.item_id] = item
        self.report_pairs.add((agency.name, year))
        return item

    def negative(self, site: str, column: str, agency: Agency, year: int, rng: random.Random,
                 kind: Optional[str] = None) -> Item:
        """A non-report item of a report column: news, 解读, 图解 or a letter/notice."""
        kind = kind or rng.choice(["news", "news", "jiedu", "tujie", "letter"])
        titles = {
            "news": [f"{agency.name}召开{year + 1}年政务公开工作推进会",
                     f"{agency.name}开展政府信息公开业务培训", f"{short_name(agency.name)}扎实推进基层政务公开标准化建设"],
            "jiedu": [f"《{agency.name}{year}年政府信息公开工作年度报告》解读"],
            "tujie": [f"一图读懂{agency.name}{year}年政府信息公开工作年度报告"],
            "letter": [f"关于{year}年政府信息公开工作要点落实情况的函",
                       f"关于做好{year}年政府信息公开工作年度报告编制发布工作的通知"],
        }
        published = date(year + 1, rng.randint(1, 12), rng.randint(1, 28))
        item = Item(item_id=self.next_id(), site=site, column=column, title=rng.choice(titles[kind]),
                    agency=agency, kind=kind, year=None, published=published, form="body", file_kind="html")
        self.items[item.item_id] = item
        return item

    def corpus(self, site: str, column: str, agency: Agency, file_name: str, year: Optional[int], *,
               title: str, kind: str = "report", form: str = "body", file_kind: str = "html",
               published: Optional[date] = None) -> Item:
        """A real document from tests/fixtures/corpus/documents, served byte for byte."""
        published = published or date((year or 2023) + 1, 1, 25)
        item = Item(item_id=self.next_id(), site=site, column=column, title=title, agency=agency,
                    kind=kind, year=year, published=published, form=form, file_kind=file_kind,
                    corpus_file=file_name)
        self.items[item.item_id] = item
        if kind == "report" and year is not None:
            self.report_pairs.add((agency.name, year))
        return item

    def column_items(self, site: str, column: str, agencies: list[Agency], count: int,
                     rng: random.Random, *, years: Iterable[int] = range(2019, 2025),
                     kinds: list[tuple[str, Optional[str], float]] | None = None,
                     negative_share: float = 0.15) -> list[Item]:
        """About ``count`` items: reports of each agency for each year, plus negatives.

        ``kinds`` is a weighted list of (form, file_kind, weight) choices for the reports.
        """
        kinds = kinds or [("body", "html", 1.0)]
        years = list(years)
        items: list[Item] = []
        reports_wanted = max(1, round(count * (1 - negative_share)))
        pairs = [(agency, year) for agency in agencies for year in years
                 if (agency.name, year) not in self.report_pairs]
        for agency, year in pairs[:reports_wanted]:
            form, file_kind = _weighted(rng, kinds)
            items.append(self.report(site, column, agency, year, rng, form=form, file_kind=file_kind))
        while len(items) < count:
            agency = rng.choice(agencies)
            items.append(self.negative(site, column, agency, rng.choice(years), rng))
        items.sort(key=lambda it: (it.published, it.item_id), reverse=True)
        return items


def _weighted(rng: random.Random, kinds: list[tuple[str, Optional[str], float]]) -> tuple[str, Optional[str]]:
    total = sum(weight for _, _, weight in kinds)
    pick = rng.random() * total
    for form, file_kind, weight in kinds:
        pick -= weight
        if pick <= 0:
            return form, file_kind
    return kinds[-1][0], kinds[-1][1]


def agencies_needed(count: int, years: int = 6) -> int:
    """How many agencies a column needs to hold ``count`` items at ``years`` reports each."""
    return max(1, -(-count // years))
