"""Alembic environment, configured from code (see crawler.db.session.alembic_config).

The engine comes from ``config.attributes["engine"]``; no alembic.ini, so ``xxgk db upgrade``
works from any directory. On PostgreSQL an advisory lock serialises concurrent upgrades (several
crawler processes starting at once).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from crawler.db.models import Base

UPGRADE_LOCK_KEY = 0x7878676B  # "xxgk"

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from crawler.config import resolve_db_url
        from crawler.db.session import cached_engine

        engine = cached_engine(resolve_db_url(None))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations re-create SQLite tables (copy, drop, rename): with foreign keys on,
            # dropping the old table would cascade-delete the rows that reference it. The pragma
            # only takes effect outside a transaction, hence on the raw DBAPI connection.
            _raw_sqlite(connection, "PRAGMA foreign_keys=OFF")
        try:
            context.configure(connection=connection, target_metadata=target_metadata,
                              render_as_batch=True, compare_type=True)
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
                context.run_migrations()
                if sqlite:
                    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if problems:
                        raise RuntimeError(f"migration broke foreign keys: {problems[:3]}")
        finally:
            if sqlite:
                _raw_sqlite(connection, "PRAGMA foreign_keys=ON")


def _raw_sqlite(connection, statement: str) -> None:
    dbapi_connection = connection.connection.dbapi_connection
    dbapi_connection.execute(statement)


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `xxgk db upgrade`")
run_migrations_online()
