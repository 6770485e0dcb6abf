"""Root test configuration: repository root and tests/ on sys.path, shared fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from xxgk_testing import DOCUMENTS, FIXTURES, LABELS, ROOT, skip_or_fail  # noqa: E402,F401  (re-exported)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return DOCUMENTS


@pytest.fixture(scope="session")
def labels_dir() -> Path:
    return LABELS
