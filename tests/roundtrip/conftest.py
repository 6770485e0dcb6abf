"""Fixtures for crawl round trips: a fresh database on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterator

import pytest

from xxgk_testing import skip_or_fail

PG = {"host": "127.0.0.1", "dbname": "test"}


def _pg_user() -> str | None:
    try:
        import psycopg
    except ImportError:
        return None
    for user in ("postgres", "root"):
        try:
            with psycopg.connect(user=user, connect_timeout=3, **PG):
                return user
        except psycopg.Error:
            continue
    return None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'xxgk.sqlite'}"
        return
    user = _pg_user()
    if user is None:
        skip_or_fail("PostgreSQL is not reachable on 127.0.0.1:5432 database test")
    import psycopg

    schema = f"xxgk_rt_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(user=user, autocommit=True, **PG) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"postgresql+psycopg://{user}@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        from crawler.db.session import dispose_engine

        dispose_engine(f"postgresql+psycopg://{user}@127.0.0.1:5432/test?options=-csearch_path%3D{schema}")
        with psycopg.connect(user=user, autocommit=True, **PG) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
