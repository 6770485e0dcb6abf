"""Storage test fixtures: a fresh database per test on SQLite and on the real PostgreSQL.

PostgreSQL: a new schema per test in database ``test`` on 127.0.0.1:5432 (user postgres or root),
selected through the URL's ``options=-csearch_path=...`` so that the URL alone (also in a
subprocess via XXGK_DB) reaches it. Skipped when the server is absent, unless
XXGK_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

from xxgk_testing import postgres_schema

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no schema yet) on each backend."""
    from crawler.db.session import dispose_engine

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'xxgk.sqlite'}"
        yield url
        dispose_engine(url)
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """An empty PostgreSQL schema (for tests that only make sense with concurrent servers)."""
    with postgres_schema() as url:
        yield url


@pytest.fixture
def factory(db_url: str):
    from crawler.db.session import open_database

    return open_database(db_url)


@pytest.fixture
def archive(tmp_path: Path):
    from crawler.archive import Archive

    with Archive(tmp_path / "archive") as arch:
        yield arch


def make_report(agency: str, year: int, values: dict[str, Any], *, parser_version: str = "test-1",
                fmt: str = "F2021", checks: Optional[list[dict[str, Any]]] = None) -> dict[str, Any]:
    """A report dict in the parse-output shape, with a cell for every value."""
    return {
        "file": "", "sha256": "", "media_type": "text/html", "format": fmt,
        "title": f"{agency}{year}年政府信息公开工作年度报告", "agency": agency, "year": year,
        "signature_agency": agency, "signature_date": f"{year + 1}-01-15", "publish_date": None,
        "values": dict(values),
        "cells": {key: {"raw": "" if value is None else str(value), "page": None, "table": 2,
                        "row_label": key.rsplit(".", 1)[0], "col_label": key.rsplit(".", 1)[1],
                        "confidence": 1.0, "source": "table"} for key, value in values.items()},
        "checks": checks if checks is not None else [
            {"id": "B1", "scope": "total", "status": "pass", "expected": 3, "actual": 3, "note": ""}],
        "extras": [], "ambiguous": [], "sections": {"overview": "概述"}, "warnings": [], "pages": 0,
        "parser_version": parser_version,
    }


BASE_VALUES: dict[str, Any] = {
    "applications.new.natural_person": 10,
    "applications.new.total": 12,
    "applications.carried_over.natural_person": 1,
    "applications.carried_over.total": 2,
    "applications.carried_forward.natural_person": 3,
    "applications.carried_forward.total": 4,
    "active_disclosure.regulations.issued": 0,
    "active_disclosure.regulations.repealed": 0,
    "active_disclosure.regulations.in_force": 5,
    "active_disclosure.normative_documents.issued": 3,
    "active_disclosure.normative_documents.repealed": 1,
    "active_disclosure.normative_documents.in_force": 20,
    "active_disclosure.administrative_fees.amount_10k_yuan": Decimal("12.50"),
    "review_litigation.review.total": None,
}
