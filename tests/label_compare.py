"""Compare a parsed report with a hand-verified label (tests/fixtures/corpus/labels)."""

from __future__ import annotations

import json
from pathlib import Path

from parsers.model import json_number


def load_label(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def differences(report: dict, label: dict) -> list[str]:
    """Every mismatch between a report dict and its label, as readable lines."""
    diffs = []
    for field in ("format", "year", "agency", "signature_date"):
        if report.get(field) != label.get(field):
            diffs.append(f"{field}: got {report.get(field)!r}, label {label.get(field)!r}")
    skip = tuple(label.get("unrecoverable") or [])
    expected = {k: v for k, v in label.get("values", {}).items() if not k.startswith(skip) or not skip}
    got = {k: json_number(v) for k, v in report.get("values", {}).items()}
    for key, value in expected.items():
        if key not in got:
            diffs.append(f"{key}: missing, label {value!r}")
        elif got[key] != value:
            diffs.append(f"{key}: got {got[key]!r}, label {value!r}")
    for key in got:
        if key not in label.get("values", {}) and not (skip and key.startswith(skip)):
            diffs.append(f"{key}: not in label (got {got[key]!r})")
    return diffs
