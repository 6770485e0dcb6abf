"""Shared specs and a per-session render cache: each (spec, kind) is rendered once.

Why a cache: PDF, scanned PDF and LibreOffice DOC conversions take seconds; every test that needs
the bytes of one rendering reuses them.
"""

from __future__ import annotations

import random
import shutil
from typing import Callable

import pytest

from crawler.simulator.docgen import ReportSpec, random_values, render


def _specs() -> dict[str, ReportSpec]:
    return {
        "f2021": ReportSpec(agency="洪泽区人民政府", year=2023, fmt="F2021",
                            values=random_values("F2021", random.Random(5), zeros_ratio=0.5)),
        "f2021_single": ReportSpec(agency="沭阳县发展和改革局", year=2022, fmt="F2021",
                                   values=random_values("F2021", random.Random(8), single_other_row=True)),
        "f2019": ReportSpec(agency="孝感市审计局", year=2020, fmt="F2019",
                            values=random_values("F2019", random.Random(11), zeros_ratio=0.4)),
        "pre2019": ReportSpec(agency="遂溪县建新镇人民政府", year=2016, fmt="PRE2019", include_stats_annex=True),
        "letter": ReportSpec(agency="平潭综合实验区管委会", year=2023, fmt="NOT_A_REPORT"),
    }


@pytest.fixture(scope="session")
def specs() -> dict[str, ReportSpec]:
    return _specs()


@pytest.fixture(scope="session")
def rendered(specs: dict[str, ReportSpec]) -> Callable[[str, str], bytes]:
    cache: dict[tuple[str, str], bytes] = {}

    def get(name: str, kind: str) -> bytes:
        if (name, kind) not in cache:
            cache[(name, kind)] = render(specs[name], kind)
        return cache[(name, kind)]

    return get


@pytest.fixture(scope="session")
def soffice_available() -> None:
    if shutil.which("soffice") is None and shutil.which("libreoffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed: DOC/WPS renderings need it (CI installs it)")
