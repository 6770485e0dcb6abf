"""Shared test configuration: repository root on sys.path, fixture paths, service requirements."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

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


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return DOCUMENTS


@pytest.fixture(scope="session")
def labels_dir() -> Path:
    return LABELS
