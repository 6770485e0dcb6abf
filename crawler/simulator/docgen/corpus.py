"""A generated corpus on disk: files plus one ground-truth JSON per report, deterministic per seed.

Used by the simulator's populate step, the parser tests and bench/parse.py. Each report gets one
file per requested kind; the truth file (``<stem>.json``) holds expected_record plus the file
names, so a consumer pairs every rendering with the same values.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any, Iterable, Optional

from .spec import AGENCIES, TITLE_VARIANTS, ReportSpec
from .values import check_identities, random_values

DEFAULT_KINDS = ("html", "html-gbk", "docx", "xlsx", "pdf", "txt", "md")
EXTENSIONS = {"html": "html", "html-gbk": "html", "pdf": "pdf", "pdf-scanned": "pdf", "docx": "docx",
              "doc": "doc", "wps": "wps", "xlsx": "xlsx", "png": "png", "txt": "txt", "md": "md"}
FILE_SUFFIXES = {"html-gbk": "-gbk", "pdf-scanned": "-scanned"}  # kinds sharing an extension


def random_spec(rng: random.Random, *, fmt: Optional[str] = None, year: Optional[int] = None,
                agency: Optional[str] = None) -> ReportSpec:
    """A random, self-consistent spec: format mix like real columns (mostly F2021)."""
    fmt = fmt or rng.choices(["F2021", "F2019", "PRE2019", "NOT_A_REPORT"], weights=[60, 20, 12, 8])[0]
    if year is None:
        year = {"F2021": rng.randint(2021, 2024), "F2019": rng.randint(2019, 2020),
                "PRE2019": rng.randint(2009, 2018)}.get(fmt, rng.randint(2019, 2024))
    agency = agency or rng.choice(AGENCIES)
    if fmt == "NOT_A_REPORT":
        if rng.random() < 0.5:
            return ReportSpec(agency=agency, year=year, fmt=fmt)
        title = f"一图读懂《{agency}{year}年政府信息公开工作年度报告》"
        body = [f"{year}年，{agency}深入贯彻落实《中华人民共和国政府信息公开条例》，现将年度报告要点解读如下。",
                "一是主动公开力度不断加大。二是依申请公开办理更加规范。三是平台建设持续加强。",
                "详细情况请查阅年度报告全文。"]
        return ReportSpec(agency=agency, year=year, fmt=fmt, title=title, narrative={"body": body},
                          include_signature=False)
    single = fmt == "F2021" and rng.random() < 0.2
    values = random_values(fmt, rng, zeros_ratio=rng.uniform(0.4, 0.8), big=rng.random() < 0.15,
                           single_other_row=single)
    title = rng.choice(TITLE_VARIANTS).format(agency=agency, year=year)
    signed = dt.date(year + 1, 1, 1) + dt.timedelta(days=rng.randint(3, 85))
    return ReportSpec(agency=agency, year=year, fmt=fmt, values=values, title=title, signature_date=signed,
                      single_other_row=single if fmt == "F2021" else None,
                      include_stats_annex=fmt == "PRE2019" and rng.random() < 0.5)


def generate_corpus(out_dir: str | Path, n: int, seed: int,
                    kinds: Iterable[str] = DEFAULT_KINDS) -> list[dict[str, Any]]:
    """Write ``n`` reports in each of ``kinds`` plus ``<stem>.json`` truths; return the truths.

    Deterministic for a seed: the same files (byte-identical except kinds whose converters stamp
    times, i.e. doc/wps) and the same truth records. ``manifest.json`` lists every truth.
    """
    from . import expected_record, json_default, render

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    kinds = tuple(kinds)
    truths: list[dict[str, Any]] = []
    for i in range(n):
        spec = random_spec(rng)
        failures = check_identities(spec.values)
        if failures:  # a generator bug, never a document quirk: stop loudly
            raise AssertionError(f"generated values break identities: {failures}")
        stem = f"gen_{seed}_{i:04d}_{spec.fmt.lower()}_{spec.year}"
        files: dict[str, str] = {}
        for kind in kinds:
            name = f"{stem}{FILE_SUFFIXES.get(kind, '')}.{EXTENSIONS[kind]}"
            (out / name).write_bytes(render(spec, kind))
            files[kind] = name
        truth = {"id": stem, **expected_record(spec), "files": files}
        (out / f"{stem}.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1, default=json_default),
                                          encoding="utf-8")
        truths.append(truth)
    (out / "manifest.json").write_text(json.dumps(truths, ensure_ascii=False, indent=1, default=json_default),
                                       encoding="utf-8")
    return truths
