"""``run_with_limits``: a hang, a memory blow-up or a crash in a parser becomes a ParseError and
leaves the caller (and no stray process) behind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from parsers import ParseError
from parsers.extract.docx import extract_docx
from parsers.limits import DEFAULT_LIMITS
from parsers.safety import run_with_limits

from . import workloads
from .builders import TEMPLATE


def test_result_is_returned():
    assert run_with_limits(workloads.add, 2, 3, timeout_s=60) == 5


def test_an_extraction_crosses_the_process_boundary():
    extraction = run_with_limits(extract_docx, TEMPLATE.read_bytes(), DEFAULT_LIMITS, timeout_s=60)
    assert [len(t.rows) for t in extraction.tables] == [14, 28, 4]


def test_hang_times_out():
    with pytest.raises(ParseError, match=r"^timed out after 1s$"):
        run_with_limits(workloads.sleep_forever, timeout_s=1)


def test_allocation_beyond_the_limit_is_out_of_memory():
    with pytest.raises(ParseError, match=r"^out of memory$"):
        run_with_limits(workloads.allocate_gigabytes, 4, timeout_s=60, memory_mb=512)


def test_abort_is_a_crash_with_its_signal():
    with pytest.raises(ParseError, match=r"^parser crashed: signal 6$"):
        run_with_limits(workloads.abort, timeout_s=60)


def test_parse_error_comes_back_unchanged():
    with pytest.raises(ParseError, match=r"^bad input: this is why$"):
        run_with_limits(workloads.raise_parse_error, timeout_s=60)


def test_other_exceptions_become_one_line_parse_errors():
    with pytest.raises(ParseError, match=r"^parser error: ValueError: a bug over two lines$"):
        run_with_limits(workloads.raise_value_error, timeout_s=60)


def test_processes_started_by_a_hung_parser_are_killed(tmp_path):
    """A LibreOffice started by the parser lives in its own process group: still killed."""
    pid_file = tmp_path / "grandchild.pid"
    with pytest.raises(ParseError, match="timed out"):
        run_with_limits(workloads.start_grandchild_and_hang, str(pid_file), timeout_s=2)
    grandchild = int(pid_file.read_text())
    for _ in range(50):  # the kill is synchronous; allow /proc a moment to catch up
        if not _alive(grandchild):
            break
        time.sleep(0.1)
    assert not _alive(grandchild)


def test_the_caller_survives_many_failures():
    for _ in range(3):
        with pytest.raises(ParseError):
            run_with_limits(workloads.abort, timeout_s=60)
    assert run_with_limits(workloads.add, 1, 1, timeout_s=60) == 2


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/stat")
    try:
        state = status.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
