"""random_values: full key sets, identities B1-B3 and C1-C3, realistic types and shapes."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from crawler.simulator.docgen import check_identities, random_values
from crawler.simulator.docgen.layout import canonical_keys


@pytest.mark.parametrize("fmt,count", [("F2021", 200), ("F2019", 198)])
def test_identities_hold_across_seeds(fmt: str, count: int) -> None:
    for seed in range(150):
        values = random_values(fmt, random.Random(seed), zeros_ratio=random.Random(seed).uniform(0.2, 0.9),
                               big=seed % 5 == 0)
        assert len(values) == count
        assert list(values) == canonical_keys(fmt)
        assert check_identities(values) == [], seed


def test_key_counts_match_report_keys() -> None:
    f2021 = random_values("F2021", random.Random(1))
    assert sum(k.startswith("active_disclosure.") for k in f2021) == 10
    assert sum(k.startswith("applications.") for k in f2021) == 175
    assert sum(k.startswith("review_litigation.") for k in f2021) == 15
    f2019 = random_values("F2019", random.Random(1))
    assert sum(k.startswith("active_disclosure.") for k in f2019) == 22
    assert sum(k.startswith("applications.") for k in f2019) == 161
    assert "applications.results.other.total.total" in f2019
    assert "applications.results.other.no_correction_overdue.total" not in f2019


def test_single_other_row_replaces_the_three_sub_rows() -> None:
    values = random_values("F2021", random.Random(3), single_other_row=True)
    assert len(values) == 186
    assert "applications.results.other.total.natural_person" in values
    assert not any(".other.other." in k or "fee_unpaid_overdue" in k for k in values)
    assert check_identities(values) == []


def test_money_is_decimal_with_two_places_and_deltas_may_be_negative() -> None:
    negatives = 0
    for seed in range(60):
        f2021 = random_values("F2021", random.Random(seed))
        fee = f2021["active_disclosure.administrative_fees.amount_10k_yuan"]
        assert isinstance(fee, Decimal) and fee.as_tuple().exponent == -2
        f2019 = random_values("F2019", random.Random(seed))
        assert isinstance(f2019["active_disclosure.centralized_procurement.total_amount"], Decimal)
        negatives += sum(1 for k, v in f2019.items() if k.endswith("items_change") and v < 0)
        assert all(isinstance(v, int) and v >= 0 for k, v in f2021.items() if k.startswith("applications."))
    assert negatives > 0


def test_most_cells_are_zero_like_real_reports() -> None:
    values = random_values("F2021", random.Random(4))
    zeros = sum(1 for k, v in values.items() if k.startswith("applications.") and v == 0)
    assert zeros > 100


def test_blank_cells_are_none_and_identities_still_hold() -> None:
    values = random_values("F2021", random.Random(6), blank_ratio=0.5)
    assert any(v is None for v in values.values())
    assert check_identities(values) == []


def test_check_identities_detects_a_broken_total() -> None:
    values = random_values("F2021", random.Random(2))
    values["review_litigation.review.total"] = (values["review_litigation.review.total"] or 0) + 1
    values["applications.new.total"] = (values["applications.new.total"] or 0) + 1
    failures = check_identities(values)
    assert "C1 review" in failures and "B1 total" in failures and "B2 new" in failures


def test_formats_without_tables_and_unknown_formats() -> None:
    assert random_values("PRE2019", random.Random(1)) == {}
    assert random_values("NOT_A_REPORT", random.Random(1)) == {}
    with pytest.raises(ValueError, match="unknown format"):
        random_values("F2030", random.Random(1))


def test_same_seed_same_values() -> None:
    assert random_values("F2019", random.Random(9)) == random_values("F2019", random.Random(9))
