"""Cell text → number, exactly as printed.

Handles full-width digits (NFKC), thousands separators (1,234 / 1，234), NBSP and stray
characters, signed deltas (+1036, -18, 增加3, 减少2), decimals (7730.28, 4166.241619), units
(元, 万元, 件, 条), and placeholders (—, -, /, 无, N/A → None). Never rounds, never "fixes".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from decimal import Decimal, InvalidOperation

PLACEHOLDERS = {"", "—", "——", "-", "--", "－", "/", "／", "无", "n/a", "na", "/ ", "空", "―", "─", "…", "\\", "×"}

_UNITS = re.compile(r"(万元|元|件|条|个|项|次|人次|份|宗|起|%)$")
_SEPARATOR = re.compile(r"(?<=\d)[,，](?=\d{3}(?:\D|$))")
_NUMBER = re.compile(r"^([+-]?)(\d+(?:\.\d+)?)$")
_WORD_SIGN = re.compile(r"^(增加|新增|增|减少|减|下降)(.*)$")


@dataclass(frozen=True)
class ParsedNumber:
    value: int | Decimal | None
    ok: bool  # False when the text is not a number nor a placeholder


@lru_cache(maxsize=8192)
def clean_cell_text(text: str | None) -> str:
    """NFKC, no whitespace (incl. NBSP, zero-width), no stray '?' from encoding damage."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", text)
    s = re.sub(r"[\s\u200b\u200c\u200d\ufeff]+", "", s)
    return s.strip("?？")


@lru_cache(maxsize=8192)
def parse_number(text: str | None, decimal: bool = False, signed: bool = False) -> ParsedNumber:
    """Parse one cell. ``decimal`` keeps money as Decimal; ``signed`` allows +/- and 增/减 words."""
    s = clean_cell_text(text)
    if s.lower() in PLACEHOLDERS:
        return ParsedNumber(None, True)
    s = _SEPARATOR.sub("", s)
    s = _UNITS.sub("", s)
    sign = ""
    word = _WORD_SIGN.match(s)
    if word and signed:
        sign = "-" if word.group(1) in ("减少", "减", "下降") else "+"
        s = word.group(2)
    if s.lower() in PLACEHOLDERS:
        return ParsedNumber(None, True)
    m = _NUMBER.match(s)
    if not m:
        return ParsedNumber(None, False)
    printed_sign, digits = m.groups()
    if printed_sign and not signed:
        if printed_sign == "-":
            return ParsedNumber(None, False)
    sign = sign or printed_sign
    if "." in digits or decimal:
        try:
            value: int | Decimal = Decimal(digits)
        except InvalidOperation:
            return ParsedNumber(None, False)
        if not decimal and value == value.to_integral_value() and "." not in digits:
            value = int(value)
    else:
        value = int(digits)
    if sign == "-":
        value = -value
    return ParsedNumber(value, True)


def looks_numeric(text: str | None) -> bool:
    """True for a cell that holds a number (not a placeholder, not a label)."""
    parsed = parse_number(text, decimal=True, signed=True)
    return parsed.ok and parsed.value is not None


def is_value_cell(text: str | None) -> bool:
    """True for a number or a placeholder/blank: something that can sit in a data column."""
    return parse_number(text, decimal=True, signed=True).ok
