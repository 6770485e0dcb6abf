"""Shared test helpers: fixture paths, the services rule, label comparison.

Test modules import from here (``from xxgk_testing import DOCUMENTS``), never from a conftest,
so that no conftest shadows another.
"""

from __future__ import annotations

import http.client
import json
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional
from urllib.parse import urlsplit

import pytest

from parsers.model import json_number

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = FIXTURES / "corpus"
DOCUMENTS = CORPUS / "documents"
LABELS = CORPUS / "labels"

REQUIRE_SERVICES = os.environ.get("XXGK_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip a test whose server is absent, except in CI where services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (XXGK_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


# -- the real PostgreSQL server of this machine: one fresh schema per test -----------------------

PG_HOST = "127.0.0.1"
PG_DB = "test"
PG_USERS = ("postgres", "root")


def postgres_user() -> Optional[str]:
    """The first user that can connect to the test database, or None when the server is absent."""
    try:
        import psycopg
    except ImportError:
        return None
    for user in PG_USERS:
        try:
            with psycopg.connect(host=PG_HOST, port=5432, dbname=PG_DB, user=user, connect_timeout=3):
                return user
        except Exception:  # noqa: BLE001 - try the next user, then skip
            continue
    return None


@contextmanager
def postgres_schema(prefix: str = "xxgk_test") -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards; skipped (failed in CI) when the server is absent.

    The URL selects the schema through ``options=-csearch_path=...``, so the URL alone reaches it,
    also in a subprocess given it as XXGK_DB.
    """
    import psycopg

    user = postgres_user()
    if user is None:
        skip_or_fail(f"PostgreSQL is not reachable on {PG_HOST}:5432 database {PG_DB}")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=PG_HOST, dbname=PG_DB, user=user, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"postgresql+psycopg://{user}@{PG_HOST}:5432/{PG_DB}?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        from crawler.db.session import dispose_engine

        dispose_engine(url)
        with psycopg.connect(host=PG_HOST, dbname=PG_DB, user=user, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def load_label(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def label_differences(report: dict, label: dict) -> list[str]:
    """Every mismatch between a report dict and its hand-verified label, as readable lines.

    Keys under the label's ``unrecoverable`` prefixes are not scored (the extraction cannot tell
    their cells apart); every other key must be present with the same value, and no key may be
    added.
    """
    diffs = []
    for field in ("format", "year", "agency", "signature_date"):
        if report.get(field) != label.get(field):
            diffs.append(f"{field}: got {report.get(field)!r}, label {label.get(field)!r}")
    skip = tuple(label.get("unrecoverable") or [])

    def scored(key: str) -> bool:
        return not (skip and key.startswith(skip))

    expected = {k: v for k, v in label.get("values", {}).items() if scored(k)}
    got = {k: json_number(v) for k, v in report.get("values", {}).items()}
    for key, value in expected.items():
        if key not in got:
            diffs.append(f"{key}: missing, label {value!r}")
        elif got[key] != value:
            diffs.append(f"{key}: got {got[key]!r}, label {value!r}")
    for key in got:
        if key not in label.get("values", {}) and scored(key):
            diffs.append(f"{key}: not in label (got {got[key]!r})")
    return diffs


# -- a raw HTTP client: no redirects followed, no cookies, no decoding (what a crawler receives) --

@dataclass
class Fetched:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> Optional[str]:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def fetch_url(url: str, method: str = "GET", body: Optional[bytes] = None,
              headers: Optional[dict[str, str]] = None, timeout: float = 60) -> Fetched:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request(method, path or "/", body=body, headers=headers or {})
        response = conn.getresponse()
        return Fetched(response.status, dict(response.getheaders()), response.read())
    finally:
        conn.close()
