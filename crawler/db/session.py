"""Engines, sessions and schema upgrades, configured in code (no alembic.ini, any cwd).

``open_database(url)`` is what commands and workers call: it brings the schema to the current
Alembic head (a no-op when it is there already) and returns a session factory.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from crawler.config import sqlite_path

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_ENGINES: dict[str, Engine] = {}


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout (several writers)."""
    sqlite_file = sqlite_path(url)
    if sqlite_file is not None:
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let BEGIN take the write lock at once (IMMEDIATE) so that claims and version numbering
        # are serialised instead of failing on a lock upgrade.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def cached_engine(url: str) -> Engine:
    """One engine per URL per process (engines own connection pools)."""
    if url not in _ENGINES:
        _ENGINES[url] = make_engine(url)
    return _ENGINES[url]


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed at the end of the block, or rolled back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(engine: Optional[Engine] = None) -> Config:
    """Alembic configured programmatically: script location inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (a fresh database is created at the head)."""
    engine = _engine(url_or_engine)
    command.upgrade(alembic_config(engine), revision)


def downgrade(url_or_engine: str | Engine, revision: str) -> None:
    engine = _engine(url_or_engine)
    command.downgrade(alembic_config(engine), revision)


def current_revision(url_or_engine: str | Engine) -> Optional[str]:
    """The revision the database is at (None for an empty database)."""
    engine = _engine(url_or_engine)
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def open_database(url: str, migrate: bool = True) -> sessionmaker[Session]:
    """A session factory for ``url``, with the schema brought to the head first when needed."""
    engine = cached_engine(url)
    if migrate and current_revision(engine) != head_revision():
        upgrade(engine)
    return make_session_factory(engine)


def _engine(url_or_engine: str | Engine) -> Engine:
    return cached_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine


def dispose_engine(url: str) -> None:
    """Close the pooled connections of ``url`` (before dropping a test schema, or at exit)."""
    engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()
