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
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `xxgk db upgrade`")
run_migrations_online()
