"""Fixtures for crawl round trips: a fresh database on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from xxgk_testing import postgres_schema


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'xxgk.sqlite'}"
        return
    with postgres_schema("xxgk_rt") as url:
        yield url
