"""The source registry: the starter registry of real columns, validation, simulator entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.registry import (DEFAULT_REGISTRY, RegistryError, adhoc_source, load_registry,
                              source_from_dict)


def test_starter_registry_has_at_least_100_real_columns_each_with_provenance() -> None:
    sources = load_registry(include_disabled=True)
    assert len(sources) >= 100
    assert all(s.established for s in sources), "every entry says how it was established"
    assert all(s.url.startswith(("http://", "https://")) for s in sources)
    assert not any("sim.test" in s.url or "127.0.0.1" in s.url for s in sources)
    levels = {s.level for s in sources}
    assert {"national", "province", "city", "county", "town", "department"} <= levels


def test_disabled_entries_are_skipped_by_default() -> None:
    assert len(load_registry()) < len(load_registry(include_disabled=True))


def test_registry_from_a_list_of_dicts_and_aliases() -> None:
    sources = load_registry([{"name": "a", "agency": "某局", "start_url": "http://x.example/col/",
                              "platform": "hanweb-jcms", "scope_hosts": ["oss.example:80"]}])
    assert sources[0].platform == "hanweb"
    assert sources[0].hosts == {"x.example", "oss.example:80"}


@pytest.mark.parametrize("entry,message", [
    ({"url": "http://a/"}, "missing name"),
    ({"name": "a", "url": "http://a/"}, "missing agency"),
    ({"name": "a", "agency": "x", "url": "file:///etc/passwd"}, "must be an http"),
    ({"name": "a", "agency": "x", "url": "http://a/", "level": "planet"}, "level"),
    ({"name": "a", "agency": "x", "url": "http://a/", "division_code": "12"}, "division_code"),
    ({"name": "a", "agency": "x", "url": "http://a/", "platform": "wordpress"}, "unknown platform"),
])
def test_bad_entries_fail_with_a_clear_message(entry: dict, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        source_from_dict(entry)


def test_duplicate_names_and_bad_files(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="duplicate"):
        load_registry([{"name": "a", "agency": "x", "url": "http://a/"}] * 2)
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [unclosed", encoding="utf-8")
    with pytest.raises(RegistryError, match="not valid YAML"):
        load_registry(bad)
    with pytest.raises(RegistryError, match="cannot read"):
        load_registry(tmp_path / "absent.yaml")


def test_adhoc_source_for_start_url() -> None:
    source = adhoc_source("https://www.example.gov.cn/zfxxgk/zfxxgknb/")
    assert source.platform == "" and source.host == "www.example.gov.cn"
    assert DEFAULT_REGISTRY.exists()
