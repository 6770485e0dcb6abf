"""The identities the format itself defines (B1–B3, C1–C3) and the text-vs-table check X5.

A failed identity is a finding about the document, never a reason to change a value. Blank cells
(null) count as 0 inside a sum, with a note; an identity whose printed total is blank is skipped.
Expected is what the parts add up to, actual is what the document prints.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Iterable, Optional

from parsers import schema
from parsers.model import Check, Value
from parsers.schema import APPLICANT_KEYS, nfkc

B_LEAF_ROWS = [s.key.removeprefix("applications.") for s in schema._B_HEAD[2:]]  # granted … confirm_or_reissue
OTHER_SPLIT = ["results.other.no_correction_overdue", "results.other.fee_unpaid_overdue", "results.other.other"]


def _sum(values: Iterable[Value]) -> int | Decimal:
    return sum((v for v in values if v is not None), 0)


def _compare(check_id: str, scope: str, parts: list[Optional[Value]], printed: Optional[Value],
             missing: bool) -> Check:
    if missing:
        return Check(check_id, scope, "skip", note="cells not printed")
    if printed is None:
        return Check(check_id, scope, "skip", note="total cell is blank")
    if all(p is None for p in parts) and printed is not None and printed != 0:
        return Check(check_id, scope, "skip", note="all parts blank")
    expected = _sum(parts)
    note = "blank cells taken as 0" if any(p is None for p in parts) else ""
    return Check(check_id, scope, "pass" if expected == printed else "fail", expected, printed, note)


def application_checks(values: dict[str, Value]) -> list[Check]:
    def get(row: str, col: str) -> tuple[Optional[Value], bool]:
        key = f"applications.{row}.{col}"
        return values.get(key), key not in values

    if not any(k.startswith("applications.") for k in values):
        return []
    checks: list[Check] = []
    other_rows = ["results.other.total"] if "applications.results.other.total.total" in values else OTHER_SPLIT
    leaf_rows = B_LEAF_ROWS + other_rows
    for col in APPLICANT_KEYS:  # B1
        cells = [get(r, col) for r in ("new", "carried_over", "results.total", "carried_forward")]
        if any(m for _, m in cells):
            checks.append(Check("B1", col, "skip", note="cells not printed"))
        elif any(v is None for v, _ in cells):
            checks.append(Check("B1", col, "skip", note="blank cell"))
        else:
            left = cells[0][0] + cells[1][0]
            right = cells[2][0] + cells[3][0]
            checks.append(Check("B1", col, "pass" if left == right else "fail", left, right))
    rows = ["new", "carried_over"] + leaf_rows + ["results.total", "carried_forward"]
    for row in rows:  # B2
        parts = [get(row, c) for c in APPLICANT_KEYS[:-1]]
        total, total_missing = get(row, "total")
        missing = total_missing or all(m for _, m in parts)
        checks.append(_compare("B2", f"applications.{row}", [v for v, _ in parts], total, missing))
    for col in APPLICANT_KEYS:  # B3
        parts = [get(r, col) for r in leaf_rows]
        total, total_missing = get("results.total", col)
        missing = total_missing or any(m for _, m in parts)
        checks.append(_compare("B3", col, [v for v, _ in parts], total, missing))
    return checks


def review_checks(values: dict[str, Value]) -> list[Check]:
    checks = []
    for number, (group, _) in enumerate(schema.REVIEW_GROUPS, start=1):
        keys = [f"review_litigation.{group}.{leaf}" for leaf in ("upheld", "corrected", "other", "pending")]
        total_key = f"review_litigation.{group}.total"
        if total_key not in values and not any(k in values for k in keys):
            continue
        missing = total_key not in values or any(k not in values for k in keys)
        checks.append(_compare(f"C{number}", group, [values.get(k) for k in keys], values.get(total_key), missing))
    return checks


_APPLICATIONS_SAID = re.compile(
    r"(?:收到|受理|办理|接收|共收到|新收)(?:[^，。；\d]{0,12}?)(?:政府信息公开|信息公开)?(?:申请|依申请公开)(?:共|总计|合计)?\s*(\d+)\s*(?:件|个|条)")
_REVIEW_SAID = re.compile(r"行政复议(?:案件|申请)?(?:共|总计)?\s*(\d+)\s*(?:件|起)")
_LITIGATION_SAID = re.compile(r"行政诉讼(?:案件)?(?:共|总计)?\s*(\d+)\s*(?:件|起)")


def text_checks(text: str, values: dict[str, Value]) -> list[Check]:
    """X5: counts quoted in the narrative agree with the tables (warn only)."""
    text = nfkc(text[:30000])  # the counts are quoted in 一、总体情况, near the top
    checks: list[Check] = []
    new = values.get("applications.new.total")
    carried = values.get("applications.carried_over.total") or 0
    if new is not None:
        for said in {int(m) for m in _APPLICATIONS_SAID.findall(text)}:
            ok = said in (new, new + carried)
            checks.append(Check("X5", "narrative:applications", "pass" if ok else "fail", said, new,
                                note=f"text says {said} applications; table new {new} (+ carried over {carried})"))
    review = values.get("review_litigation.review.total")
    if review is not None:
        for said in {int(m) for m in _REVIEW_SAID.findall(text)}:
            checks.append(Check("X5", "narrative:review", "pass" if said == review else "fail", said, review,
                                note=f"text says {said} reviews; table {review}"))
    direct = values.get("review_litigation.litigation_direct.total")
    after = values.get("review_litigation.litigation_after_review.total")
    if direct is not None and after is not None:
        for said in {int(m) for m in _LITIGATION_SAID.findall(text)}:
            ok = said in (direct + after, direct, after)
            checks.append(Check("X5", "narrative:litigation", "pass" if ok else "fail", said, direct + after,
                                note=f"text says {said} lawsuits; table {direct}+{after}"))
    return checks


def run_checks(values: dict[str, Value], narrative: str) -> list[Check]:
    return application_checks(values) + review_checks(values) + text_checks(narrative, values)
