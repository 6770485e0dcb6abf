"""Alembic migrations: an older database upgrades without losing data; models match the head."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from crawler.db.models import Base
from crawler.db.session import cached_engine, current_revision, head_revision, upgrade
from tests.conftest import ROOT


def test_upgrade_from_first_revision_keeps_data(db_url: str) -> None:
    engine = cached_engine(db_url)
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO agencies (id, name, aliases) VALUES (1, '平潭综合实验区管理委员会', '[\"平潭\"]')"))
        conn.execute(text("INSERT INTO documents (id, sha256, size, media_type, first_seen, parse_status) "
                          "VALUES (1, :sha, 10, 'text/html', CURRENT_TIMESTAMP, 'done')"), {"sha": "a" * 64})
        conn.execute(text("INSERT INTO reports (id, agency_id, year, format, document_id, version, parser_version, "
                          "status, is_current, details, stored_at) VALUES (1, 1, 2023, 'F2021', 1, 1, '0.1', 'ok', "
                          ":true, '{}', CURRENT_TIMESTAMP)"), {"true": True})
        conn.execute(text("INSERT INTO report_values (report_id, key, value_text, value_num, raw) "
                          "VALUES (1, 'applications.new.total', '12.5', 12.5, '12.5')"))
        conn.execute(text("INSERT INTO captures (url, method, request_headers, response_headers, fetched_at, "
                          "sha256, is_revisit) VALUES ('http://x.gov.cn/a', 'GET', '{}', '{}', CURRENT_TIMESTAMP, "
                          ":sha, :false)"), {"sha": "a" * 64, "false": False})
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM agencies")).scalar_one() == "平潭综合实验区管理委员会"
        assert conn.execute(text("SELECT attempts, claimed_by FROM documents")).one() == (0, None)
        row = conn.execute(text("SELECT year, changed_after_publication, supersedes_id FROM reports")).one()
        assert row[0] == 2023 and not row[1] and row[2] is None
        assert conn.execute(text("SELECT value_text FROM report_values")).scalar_one() == "12.5"
        assert conn.execute(text("SELECT url FROM captures")).scalar_one() == "http://x.gov.cn/a"
        assert conn.execute(text("SELECT count(*) FROM report_changes")).scalar_one() == 0


def test_models_match_the_migrations(db_url: str) -> None:
    engine = cached_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []


def test_db_upgrade_command_creates_a_fresh_database_from_any_directory(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XXGK_DB": str(tmp_path / "data" / "x.sqlite")}
    env.pop("XXGK_ARCHIVE", None)
    run = subprocess.run([sys.executable, "-m", "crawler.cli", "db", "upgrade"], cwd=elsewhere, env=env,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert f"empty -> {head_revision()}" in run.stdout
    current = subprocess.run([sys.executable, "-m", "crawler.cli", "db", "current"], cwd=elsewhere, env=env,
                             capture_output=True, text=True, check=False)
    assert "up to date" in current.stdout and f"archive: {tmp_path / 'data' / 'archive'}" in current.stdout
