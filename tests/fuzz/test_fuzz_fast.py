"""A fast subset of the fuzzing campaign (bench/fuzz.py runs >= 10,000 cases).

Mutated real documents must end in a report or a clean ParseError — never another exception —
and within a bounded time. Hypothesis drives the choice of seed document and mutations.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import ParseError, parse
from parsers.fuzzing import FUZZ_LIMITS, load_seeds, make_case, quiet_third_party_loggers, run_case
from xxgk_testing import DOCUMENTS

quiet_third_party_loggers()
FAST_SEEDS = {k: v for k, v in load_seeds(DOCUMENTS).items() if k.endswith((".html", ".txt", ".md", ".docx"))}
PDF_SEEDS = {k: v for k, v in load_seeds(DOCUMENTS).items() if k.endswith(".pdf")}


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.integers(min_value=0, max_value=2**32))
def test_mutated_text_html_docx_never_crash(case_seed):
    outcome, detail = run_case(make_case(FAST_SEEDS, random.Random(case_seed)), timeout_s=30)
    assert outcome in ("ok", "error"), detail


@pytest.mark.parametrize("case_seed", range(12))
def test_mutated_pdfs_never_crash(case_seed):
    outcome, detail = run_case(make_case(PDF_SEEDS, random.Random(case_seed)), timeout_s=60)
    assert outcome in ("ok", "error"), detail


@pytest.mark.parametrize("data", [b"", b"   \n", b"\x00" * 100, b"%PDF-1.4\n%%EOF", b"PK\x03\x04" + b"\x00" * 30,
                                  b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, b"<html>" * 10000])
def test_degenerate_inputs_are_clean_errors_or_reports(data):
    try:
        parse(data, name="x.bin", limits=FUZZ_LIMITS)
    except ParseError as exc:
        assert "\n" not in str(exc)
