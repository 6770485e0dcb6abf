"""Fixtures of the lookup tests: one database filled the crawler's way, and a CLI runner."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import DOCUMENTS
from tests.lookup.dbfill import Stored, fill


@dataclass
class LookupDB:
    db_url: str
    db_file: Path
    archive_dir: Path
    stored: dict[str, Stored]


@pytest.fixture(scope="session")
def lookup_db(tmp_path_factory: pytest.TempPathFactory) -> LookupDB:
    folder = tmp_path_factory.mktemp("lookup")
    db_file = folder / "xxgk.sqlite"
    db_url = f"sqlite:///{db_file}"
    stored = fill(db_url, folder / "archive", DOCUMENTS)
    return LookupDB(db_url, db_file, folder / "archive", stored)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def xxgk(lookup_db: LookupDB, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run an ``xxgk`` command against the lookup database (through XXGK_DB, as scripts do)."""
    from crawler.cli import main

    monkeypatch.setenv("XXGK_DB", lookup_db.db_url)
    monkeypatch.setenv("XXGK_ARCHIVE", str(lookup_db.archive_dir))

    def run(*args: str) -> CliResult:
        runner = CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
        result = runner.invoke(main, list(args), catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run
