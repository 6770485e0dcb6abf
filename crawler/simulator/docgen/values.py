"""Random but realistic table values that satisfy the identities B1-B3 and C1-C3.

Why realistic: real reports are mostly zeros with a few applicants (usually 自然人) and a few
result rows filled; parsers must be tested on that shape, on big aggregated numbers, on decimals
(fees) and on signed F2019 deltas.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Optional, Union

from .layout import APPLICANT_COLUMNS, REVIEW_GROUPS, applications_row_keys, canonical_keys

Value = Union[int, Decimal, None]
FORMATS_WITH_TABLES = ("F2021", "F2019")
ALL_FORMATS = ("F2021", "F2019", "PRE2019", "NOT_A_REPORT")
PERSON_COLUMNS = APPLICANT_COLUMNS[:-1]


def _count(rng: random.Random, zeros_ratio: float, scale: int) -> int:
    """A count that is 0 with probability zeros_ratio, else a skewed positive number."""
    if rng.random() < zeros_ratio:
        return 0
    return max(1, int(rng.paretovariate(1.3) * scale / 3))


def _money(rng: random.Random, zeros_ratio: float, scale: int) -> Decimal:
    if rng.random() < zeros_ratio:
        return Decimal("0.00")
    cents = rng.randint(1, scale * 100)
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def _active_f2021(rng: random.Random, zeros_ratio: float, big: bool) -> dict[str, Value]:
    scale = 1000 if big else 20
    out: dict[str, Value] = {}
    for row in ("regulations", "normative_documents"):
        issued = _count(rng, zeros_ratio if row == "normative_documents" else 0.9, scale // 10 + 3)
        repealed = _count(rng, 0.7, 3)
        out[f"active_disclosure.{row}.issued"] = issued
        out[f"active_disclosure.{row}.repealed"] = repealed
        out[f"active_disclosure.{row}.in_force"] = issued + _count(rng, 0.3, scale)
    for row in ("administrative_permit", "administrative_penalty", "administrative_coercion"):
        out[f"active_disclosure.{row}.decisions"] = _count(rng, zeros_ratio * 0.7, scale * (100 if big else 10))
    out["active_disclosure.administrative_fees.amount_10k_yuan"] = _money(rng, zeros_ratio, scale * 50)
    return out


def _active_f2019(rng: random.Random, zeros_ratio: float, big: bool) -> dict[str, Value]:
    scale = 1000 if big else 20
    out: dict[str, Value] = {}
    for row in ("regulations", "normative_documents"):
        made = _count(rng, zeros_ratio, scale // 10 + 3)
        published = made if rng.random() < 0.8 else _count(rng, 0.2, made + 2)
        out[f"active_disclosure.{row}.newly_made"] = made
        out[f"active_disclosure.{row}.newly_published"] = published
        out[f"active_disclosure.{row}.total_published"] = published + _count(rng, 0.3, scale)
    for row in ("administrative_permit", "other_external_services", "administrative_penalty",
                "administrative_coercion", "administrative_fees"):
        prev = _count(rng, zeros_ratio, scale)
        change = 0 if rng.random() < zeros_ratio else rng.randint(-min(prev, 9), 9)
        out[f"active_disclosure.{row}.prev_year_items"] = prev
        out[f"active_disclosure.{row}.items_change"] = change
        if row != "administrative_fees":
            out[f"active_disclosure.{row}.decisions"] = _count(rng, zeros_ratio * 0.7, scale * 10)
    projects = _count(rng, zeros_ratio, 10)
    out["active_disclosure.centralized_procurement.projects"] = projects
    out["active_disclosure.centralized_procurement.total_amount"] = (
        _money(rng, 0.0, scale * 20) if projects else Decimal("0.00"))
    return out


def _applications(rng: random.Random, zeros_ratio: float, big: bool,
                  single_other_row: bool) -> dict[str, Value]:
    """Table B: leaves per applicant column, then totals so that B1, B2 and B3 hold."""
    rows = applications_row_keys(single_other_row)
    leaf_rows = [r for r in rows if r.startswith("results.") and r != "results.total"]
    scale = 200 if big else 6
    out: dict[str, Value] = {}
    for col in PERSON_COLUMNS:
        active = rng.random() < (0.9 if col == "natural_person" else (1 - zeros_ratio) * 0.6)
        col_ratio = zeros_ratio if active else 1.0
        leaves = {r: _count(rng, max(col_ratio, 0.5) if r not in ("results.granted",) else col_ratio * 0.6,
                            scale) for r in leaf_rows}
        results_total = sum(leaves.values())
        carried_over = _count(rng, max(col_ratio, 0.75), scale // 2 + 1)
        carried_forward = _count(rng, max(col_ratio, 0.75), scale // 2 + 1)
        carried_over = min(carried_over, results_total + carried_forward)
        new = results_total + carried_forward - carried_over
        for r, v in leaves.items():
            out[f"applications.{r}.{col}"] = v
        out[f"applications.results.total.{col}"] = results_total
        out[f"applications.new.{col}"] = new
        out[f"applications.carried_over.{col}"] = carried_over
        out[f"applications.carried_forward.{col}"] = carried_forward
    for r in rows:
        out[f"applications.{r}.total"] = sum(out[f"applications.{r}.{c}"] for c in PERSON_COLUMNS)
    return out


def _review_litigation(rng: random.Random, zeros_ratio: float, big: bool) -> dict[str, Value]:
    scale = 30 if big else 2
    out: dict[str, Value] = {}
    for group in REVIEW_GROUPS:
        leaves = {leaf: _count(rng, max(zeros_ratio, 0.7), scale)
                  for leaf in ("upheld", "corrected", "other", "pending")}
        for leaf, v in leaves.items():
            out[f"review_litigation.{group}.{leaf}"] = v
        out[f"review_litigation.{group}.total"] = sum(leaves.values())
    return out


def random_values(fmt: str, rng: random.Random, *, zeros_ratio: float = 0.6, big: bool = False,
                  single_other_row: bool = False, blank_ratio: float = 0.0) -> dict[str, Value]:
    """A full value set of a format under the canonical keys, in printed order.

    F2021: 200 keys (186 with ``single_other_row``); F2019: 198 keys. PRE2019 and NOT_A_REPORT
    have no tables: {}. ``blank_ratio`` turns that share of zero leaf cells into None (printed
    blank, as in reports that leave zeros out); identities still hold with blank = 0.
    """
    if fmt not in ALL_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(ALL_FORMATS)}")
    if fmt not in FORMATS_WITH_TABLES:
        return {}
    single = fmt == "F2019" or single_other_row
    active = _active_f2021(rng, zeros_ratio, big) if fmt == "F2021" else _active_f2019(rng, zeros_ratio, big)
    values = {**active, **_applications(rng, zeros_ratio, big, single), **_review_litigation(rng, zeros_ratio, big)}
    ordered: dict[str, Value] = {key: values[key] for key in canonical_keys(fmt, single)}
    if blank_ratio > 0:
        for key, value in ordered.items():
            if value == 0 and not key.endswith(".total") and key.startswith("applications.") \
                    and rng.random() < blank_ratio:
                ordered[key] = None
    return ordered


def check_identities(values: dict[str, Value]) -> list[str]:
    """The identities B1-B3, C1-C3 that fail (blank counted as 0); [] when all hold.

    Used by the tests and by generate_corpus as a guard: generated truth must be consistent.
    """
    def v(key: str) -> Union[int, Decimal]:
        return values.get(key) or 0

    failures: list[str] = []
    single = "applications.results.other.total.total" in values
    rows = applications_row_keys(single)
    leaf_rows = [r for r in rows if r.startswith("results.") and r != "results.total"]
    for col in APPLICANT_COLUMNS:
        if v(f"applications.new.{col}") + v(f"applications.carried_over.{col}") != \
                v(f"applications.results.total.{col}") + v(f"applications.carried_forward.{col}"):
            failures.append(f"B1 {col}")
        if v(f"applications.results.total.{col}") != sum(v(f"applications.{r}.{col}") for r in leaf_rows):
            failures.append(f"B3 {col}")
    for r in rows:
        if v(f"applications.{r}.total") != sum(v(f"applications.{r}.{c}") for c in PERSON_COLUMNS):
            failures.append(f"B2 {r}")
    for i, group in enumerate(REVIEW_GROUPS, start=1):
        leaves = sum(v(f"review_litigation.{group}.{leaf}") for leaf in ("upheld", "corrected", "other", "pending"))
        if v(f"review_litigation.{group}.total") != leaves:
            failures.append(f"C{i} {group}")
    return failures


def format_value(value: Optional[Union[int, Decimal]], *, signed: bool = False) -> str:
    """The printed text of a value: blank for None, 2 decimals for money, optional '+' for deltas."""
    if value is None:
        return ""
    if signed and value > 0:
        return f"+{value}"
    return str(value)
