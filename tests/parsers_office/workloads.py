"""Module-level functions for the sandbox tests: ``run_with_limits`` pickles its callable."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from parsers.errors import ParseError


def add(a: int, b: int) -> int:
    return a + b


def sleep_forever() -> None:
    time.sleep(3600)


def allocate_gigabytes(count: int) -> int:
    blocks = [bytearray(1024 * 1024 * 1024) for _ in range(count)]
    return len(blocks)


def abort() -> None:
    os.abort()


def raise_parse_error() -> None:
    raise ParseError("bad input: this is why")


def raise_value_error() -> None:
    raise ValueError("a bug\nover two lines")


def start_grandchild_and_hang(pid_file: str) -> None:
    """Like a LibreOffice conversion that hangs: a child in its own process group, then wait."""
    child = subprocess.Popen(["sleep", "3600"], process_group=0)
    Path(pid_file).write_text(str(child.pid))
    time.sleep(3600)
