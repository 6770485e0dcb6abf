"""generate_corpus and the module CLI: files plus truths, deterministic per seed."""

from __future__ import annotations

import json
import random
from pathlib import Path

from crawler.simulator.docgen import check_identities, generate_corpus, random_spec
from crawler.simulator.docgen.__main__ import main

KINDS = ("html", "txt", "md")


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_generate_corpus_is_deterministic_per_seed(tmp_path: Path) -> None:
    first = generate_corpus(tmp_path / "a", 12, seed=3, kinds=KINDS)
    second = generate_corpus(tmp_path / "b", 12, seed=3, kinds=KINDS)
    assert first == second
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")
    other = generate_corpus(tmp_path / "c", 12, seed=4, kinds=KINDS)
    assert other != first


def test_truth_files_pair_every_rendering(tmp_path: Path) -> None:
    truths = generate_corpus(tmp_path, 8, seed=1, kinds=KINDS)
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    assert [t["id"] for t in manifest] == [t["id"] for t in truths]
    for truth in manifest:
        assert set(truth["files"]) == set(KINDS)
        assert all((tmp_path / name).exists() for name in truth["files"].values())
        on_disk = json.loads((tmp_path / f"{truth['id']}.json").read_text("utf-8"))
        assert on_disk == truth
        if truth["format"] in ("F2021", "F2019"):
            assert check_identities(truth["values"]) == []


def test_random_specs_cover_every_format() -> None:
    rng = random.Random(0)
    formats = {random_spec(rng).fmt for _ in range(80)}
    assert formats == {"F2021", "F2019", "PRE2019", "NOT_A_REPORT"}


def test_module_main_writes_a_sample_set(tmp_path: Path, capsys) -> None:
    assert main([str(tmp_path), "--n", "2", "--seed", "1", "--kinds", "html,txt"]) == 0
    assert len(list(tmp_path.glob("*.html"))) == 2
    assert main([str(tmp_path), "--kinds", "odt"]) == 2
    assert "unknown kind" in capsys.readouterr().err


def test_every_kind_gets_its_own_file_name() -> None:
    from crawler.simulator.docgen import KINDS as ALL_KINDS
    from crawler.simulator.docgen.corpus import EXTENSIONS, FILE_SUFFIXES
    names = {f"x{FILE_SUFFIXES.get(kind, '')}.{EXTENSIONS[kind]}" for kind in ALL_KINDS}
    assert len(names) == len(ALL_KINDS)
