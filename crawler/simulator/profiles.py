"""The catalogue of simulated sites and the profiles that pick from it.

Profiles:
  small  one site per archetype (plus the Hanweb storage host): fast enough for every test
  all    every variant of every archetype (about 20 sites)
  bench  one HTML-only TRS portal holding ``docs`` documents (default 1,000) for throughput runs

``Simulator(sites=[...])`` takes names from the catalogue, or dicts {"name": catalogue name,
"as": new name, "docs": N, "per_page": N, "kinds": [...], "extra": {...}} to override knobs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Union

_TRS = "trs"

# (file, agency name or None for the site owner, year, listing title, kind, form, file kind)
_PINGTAN_TITLES = {
    2011: "平潭综合实验区2011年政府信息公开工作年度报告", 2012: "平潭综合实验区2012年政府信息公开工作年度报告",
    2013: "平潭综合实验区2013年政府信息公开工作年度报告", 2014: "平潭综合实验区管委会2014年度政府信息公开工作年度报告",
}
PINGTAN_CORPUS = [(f"pingtan_{y}.html", "平潭综合实验区管委会" if y == 2014 else None, y,
                   _PINGTAN_TITLES.get(y, f"平潭综合实验区{y}年度政府信息公开工作年度报告"))
                  for y in range(2011, 2026)]


@dataclass
class SiteDef:
    name: str
    cls: str  # key of archetypes.SITE_CLASSES
    weight: float = 1.0  # share of the profile's ``docs`` this site gets
    docs: int = 40
    per_page: int = 20
    kinds: Optional[list] = None
    extra: dict[str, Any] = field(default_factory=dict)


CATALOGUE: dict[str, SiteDef] = {d.name: d for d in [
    # A. TRS static
    SiteDef("trs-a", "trs", docs=60, per_page=15, extra={
        "agency": ("上海市人民政府", "province", "310000", None),
        "corpus": [("shanghai-szfbgt_2019.html", ("上海市人民政府办公厅", "department"), 2019,
                    "上海市人民政府办公厅2019年政府信息公开工作年度报告")]}),
    SiteDef("trs-gbk", "trs", docs=25, per_page=10, extra={
        "agency": ("北京市朝阳区人民政府", "county", "110105", "北京市人民政府"), "charset": "gbk",
        "ext": "htm", "column_path": "/zwgk/zfxxgknb/"}),
    SiteDef("trs-shtml", "trs", docs=30, per_page=10, extra={
        "agency": ("中华人民共和国退役军人事务部", "national", "100000", None), "ext": "shtml",
        "index1_404": True, "paged_detail": True, "column_path": "/gongkai/zfxxgkpt/zfxxgknb/"}),
    SiteDef("trs-pingtan", "trs", docs=18, per_page=10, extra={
        "agency": ("平潭综合实验区", "city", "350128", "福建省人民政府"), "ext": "htm",
        "column_path": "/zwgk/zfxxgk/zfxxgknb/",
        "corpus": [(f, (a, "city") if a else None, y, t) for f, a, y, t in PINGTAN_CORPUS]}),
    # B. Hanweb JCMS
    SiteDef("hanweb-a", "hanweb", docs=70, per_page=20, extra={
        "agency": ("湖州市人民政府", "city", "330500", "浙江省人民政府"), "colid": 1229001, "webid": 3095,
        "storage": "hanweb-oss"}),
    SiteDef("hanweb-b", "hanweb", docs=30, per_page=10, extra={
        "agency": ("沭阳县人民政府", "county", "321322", "宿迁市人民政府"), "colid": 1229505, "webid": 2071,
        "only_page": True, "old_path": True, "storage": "hanweb-oss",
        "corpus": [("shuyang-fgj_2023.html", ("沭阳县发展和改革局", "department"), 2023,
                    "沭阳县发展和改革局2023年政府信息公开年度报告")]}),
    SiteDef("hanweb-xxgk", "hanweb", docs=24, per_page=15, extra={
        "agency": ("泗洪县人民政府", "county", "321324", "宿迁市人民政府"), "colid": 1229712, "webid": 2083,
        "xxgk_module": True, "storage": "hanweb-oss"}),
    SiteDef("hanweb-oss", "storage", weight=0, docs=0),
    # C. gkmlpt
    SiteDef("gkmlpt-a", "gkmlpt", docs=60, per_page=25, extra={
        "agency": ("深圳市龙岗区人民政府", "county", "440307", "深圳市人民政府"), "sid": "755041", "cat": 721}),
    SiteDef("gkmlpt-b", "gkmlpt", docs=12, per_page=100, extra={
        "agency": ("广州市越秀区白云街道办事处", "town", "440104", "广州市越秀区人民政府"), "sid": "200014",
        "cat": 8766, "single_page": True, "percent_u": True}),
    # D. POST JSON list APIs
    SiteDef("intertid", "intertid", docs=30, per_page=10, extra={
        "agency": ("无锡市人民政府", "city", "320200", "江苏省人民政府"), "site_id": 181}),
    SiteDef("ewb", "ewb", docs=25, per_page=10, extra={
        "agency": ("南通市海门区人民政府", "county", "320614", "南通市人民政府")}),
    SiteDef("athena", "athena", docs=25, per_page=10, extra={
        "agency": ("国务院办公厅", "national", "100000", None), "token_uses": 3, "token_seconds": 300}),
    # E. county aggregator
    SiteDef("county", "county", docs=50, per_page=20, extra={
        "agency": ("淮安市洪泽区人民政府", "county", "320813", "淮安市人民政府")}),
    # F. WAF-guarded
    SiteDef("waf-412", "waf", docs=8, extra={"agency": ("国家药品监督管理局", "national", "100000", None),
                                              "waf": "ruishu"}),
    SiteDef("waf-521", "waf", docs=8, extra={"agency": ("湖北省人民政府", "province", "420000", None),
                                              "waf": "jiasule"}),
    SiteDef("waf-ct6t", "waf", docs=10, extra={"agency": ("中华人民共和国司法部", "national", "100000", None),
                                                "waf": "ct6t"}),
    SiteDef("waf-ratelimit", "waf", docs=15, per_page=5, extra={
        "agency": ("福建省人民政府", "province", "350000", None), "waf": "ratelimit",
        "rate_limit": 30, "rate_window": 10.0, "retry_after": 2, "slow_paths": 2, "slow_seconds": 1.5,
        "reset_first": 1}),
    SiteDef("waf-robots", "waf", docs=8, extra={"agency": ("中国人民银行", "national", "100000", None),
                                                 "waf": "robots"}),
    SiteDef("waf-robots403", "waf", docs=8, extra={
        "agency": ("北京市顺义区人民政府", "county", "110113", "北京市人民政府"), "waf": "robots403"}),
    SiteDef("waf-uploadfiles", "waf", docs=10, extra={
        "agency": ("扬州市人民政府", "city", "321000", "江苏省人民政府"), "waf": "uploadfiles",
        "column_path": "/zwgk/xxgknb/"}),
    SiteDef("waf-shell", "waf", docs=8, extra={
        "agency": ("中华人民共和国人力资源和社会保障部", "national", "100000", None), "waf": "shell"}),
    # bench: one large, HTML-only, fast TRS portal
    SiteDef("trs-bench", "trs", docs=1000, per_page=20, kinds=[("body", "html", 1.0)], extra={
        "agency": ("某省人民政府", "province", "990000", None)}),
]}

PROFILES: dict[str, list[str]] = {
    "small": ["trs-a", "hanweb-a", "hanweb-oss", "gkmlpt-a", "intertid", "county", "waf-412", "waf-robots"],
    "all": [name for name in CATALOGUE if name != "trs-bench"],
    "bench": ["trs-bench"],
}


def profile_sites(profile: str, sites: Optional[Iterable[Union[str, dict[str, Any]]]],
                  docs: Optional[int]) -> list[SiteDef]:
    """The site definitions to build: explicit ``sites`` win over ``profile``; ``docs`` rescales."""
    if sites is None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; profiles: {', '.join(PROFILES)}")
        sites = PROFILES[profile]
    defs = [_definition(spec) for spec in sites]
    names = {d.cls for d in defs}
    if "hanweb" in names and not any(d.cls == "storage" for d in defs):
        defs.append(copy.deepcopy(CATALOGUE["hanweb-oss"]))  # Hanweb attachments redirect there
    if docs is not None:
        _rescale(defs, docs)
    return defs


def _definition(spec: Union[str, dict[str, Any]]) -> SiteDef:
    if isinstance(spec, str):
        if spec not in CATALOGUE:
            raise ValueError(f"unknown simulated site {spec!r}; known: {', '.join(CATALOGUE)}")
        return copy.deepcopy(CATALOGUE[spec])
    base = _definition(spec["name"])
    if "as" in spec:
        base.name = spec["as"]
    for key in ("docs", "per_page", "kinds", "weight"):
        if key in spec:
            setattr(base, key, spec[key])
    base.extra.update(spec.get("extra", {}))
    return base


def _rescale(defs: list[SiteDef], docs: int) -> None:
    """Share ``docs`` among the sites in proportion to their default sizes (storage gets none)."""
    weighted = [d for d in defs if d.weight > 0]
    total = sum(d.docs * d.weight for d in weighted) or 1
    for d in weighted:
        d.docs = max(3, round(docs * d.docs * d.weight / total))
