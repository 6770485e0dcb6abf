"""Mutation fuzzing of the parsers on real documents (used by bench/fuzz.py and the tests).

A case is a seed document (a real corpus file) mutated by one or more byte- or structure-level
operators. Running a case gives one of four outcomes:

* ``ok``      parse returned a report;
* ``error``   parse raised ParseError (a clean one-line refusal: the expected outcome for garbage);
* ``crash``   any other exception, or the process died: a bug;
* ``hang``    the case ran longer than its time budget: a bug.
"""

from __future__ import annotations

import io
import logging
import random
import signal
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from parsers import ParseError, parse
from parsers.limits import Limits

FUZZ_LIMITS = Limits(max_pages=40, convert_timeout_s=30, ocr_max_pages=1)


@dataclass
class Case:
    seed_name: str
    data: bytes
    operators: list[str]


# -- byte-level operators ------------------------------------------------------------------------

def flip_bits(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        if buf:
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
    return bytes(buf)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randint(0, max(len(data) - 1, 0))]


def delete_chunk(data: bytes, rng: random.Random) -> bytes:
    if len(data) < 2:
        return data
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randint(1, 4096):]


def duplicate_chunk(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    chunk = data[i:i + rng.randint(1, 4096)]
    j = rng.randrange(len(data))
    return data[:j] + chunk * rng.randint(1, 8) + data[j:]


def insert_magic(data: bytes, rng: random.Random) -> bytes:
    magic = rng.choice([b"%PDF-1.7", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"<table>", b"<td rowspan=99999>",
                        b"\x00" * 64, b"\xff" * 64, "一、本年新收政府信息公开申请数量".encode(), b"9" * 200,
                        b"<tr>" * 500, b"obj << /Length 99999999 >> stream", b"</table></td></tr>"])
    i = rng.randrange(len(data) + 1)
    return data[:i] + magic + data[i:]


def replace_digits(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 64)):
        if buf:
            i = rng.randrange(len(buf))
            if 48 <= buf[i] <= 57:
                buf[i] = rng.choice(b"0123456789,.-+")
    return bytes(buf)


# -- structure-aware operators ---------------------------------------------------------------------

def mutate_zip_member(data: bytes, rng: random.Random) -> bytes:
    """DOCX/XLSX: mutate the XML of one member and re-zip (exercises the XML readers, not zlib)."""
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
        names = source.namelist()
        target = rng.choice(names)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
            for name in names:
                content = source.read(name)
                if name == target:
                    content = rng.choice([flip_bits, delete_chunk, duplicate_chunk, insert_magic, truncate])(content, rng)
                dest.writestr(name, content)
        return out.getvalue()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, IndexError, KeyError, NotImplementedError):
        return flip_bits(data, rng)  # an already-broken archive: fall back to byte mutations


def splice(data: bytes, rng: random.Random, other: bytes) -> bytes:
    i = rng.randrange(len(data) + 1)
    j = rng.randrange(len(other) + 1)
    return data[:i] + other[j:j + rng.randint(1, 20000)]


OPERATORS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "flip_bits": flip_bits, "truncate": truncate, "delete_chunk": delete_chunk,
    "duplicate_chunk": duplicate_chunk, "insert_magic": insert_magic, "replace_digits": replace_digits,
    "mutate_zip_member": mutate_zip_member,
}


def make_case(seeds: dict[str, bytes], rng: random.Random) -> Case:
    name = rng.choice(sorted(seeds))
    data = seeds[name]
    ops: list[str] = []
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.1:
            other = seeds[rng.choice(sorted(seeds))]
            data = splice(data, rng, other)
            ops.append("splice")
            continue
        op = rng.choice(list(OPERATORS))
        if op == "mutate_zip_member" and not data.startswith(b"PK"):
            op = "flip_bits"
        data = OPERATORS[op](data, rng)
        ops.append(op)
    return Case(name, data, ops)


def quiet_third_party_loggers() -> None:
    """pdfminer and friends log every oddity of a broken file as a warning; keep stderr for our errors."""
    for name in ("pdfminer", "pdfplumber", "PIL", "openpyxl", "docx"):
        logging.getLogger(name).setLevel(logging.ERROR)


def load_seeds(folder: Path, max_bytes: int = 2_000_000) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.is_file() and p.stat().st_size <= max_bytes}


class CaseTimeout(Exception):
    pass


def _alarm(signum, frame):  # noqa: ARG001
    raise CaseTimeout()


def run_case(case: Case, timeout_s: int = 20) -> tuple[str, str]:
    """(outcome, detail) for one case, with a SIGALRM time budget (run it in a worker process)."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout_s)
    try:
        parse(case.data, name=case.seed_name, limits=FUZZ_LIMITS)
        return "ok", ""
    except ParseError as exc:
        return "error", str(exc)
    except CaseTimeout:
        return "hang", f"> {timeout_s}s"
    except Exception as exc:  # a crash is any exception that is not a clean ParseError
        return "crash", f"{type(exc).__name__}: {exc} | {traceback.format_exc(limit=-3)!r}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
