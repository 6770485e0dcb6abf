"""The storage commands end to end: verify, chain, reparse, with --db/--archive and XXGK_* env."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

from crawler.cli import main
from crawler.config import resolve_archive_dir, resolve_db_url
from crawler.db.session import transaction
from crawler.store import capture_response, store_report
from tests.conftest import DOCUMENTS
from tests.storage.conftest import BASE_VALUES, make_report

AGENCY = "平潭综合实验区管理委员会"


def fill(factory, archive) -> dict[str, str]:
    body = (DOCUMENTS / "pingtan_2024.html").read_bytes()
    with transaction(factory) as session:
        capture_response(session, archive, url="http://www.pingtan.gov.cn/list.html", status=200,
                         headers={"Content-Type": "text/html"}, body=b"<html>list</html>")
        doc = capture_response(session, archive, url="http://www.pingtan.gov.cn/2024.html", status=200,
                               headers={"Content-Type": "text/html"}, body=body, is_document=True,
                               referrer_url="http://www.pingtan.gov.cn/list.html").document
        store_report(session, doc, make_report(AGENCY, 2024, BASE_VALUES))
    archive.close()
    return {"listing": hashlib.sha256(b"<html>list</html>").hexdigest(), "report": hashlib.sha256(body).hexdigest()}


def test_verify_command_detects_a_deleted_and_a_corrupted_file(db_url, factory, archive) -> None:
    shas = fill(factory, archive)
    args = ["verify", "--json", "--db", db_url, "--archive", str(archive.root)]
    clean = CliRunner().invoke(main, args)
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.output)["ok"] is True

    archive.blob_path(shas["listing"]).unlink()
    archive.blob_path(shas["report"]).write_bytes(b"corrupted")
    broken = CliRunner().invoke(main, args)
    assert broken.exit_code == 1
    result = json.loads(broken.output)
    assert result["missing"] == [shas["listing"]] and result["damaged"] == [shas["report"]]
    human = CliRunner().invoke(main, args[:1] + args[2:])
    assert human.exit_code == 1 and "missing" in human.output and "damaged" in human.output


def test_chain_command_prints_the_chain(db_url, factory, archive) -> None:
    shas = fill(factory, archive)
    result = CliRunner().invoke(main, ["chain", "平潭", "2024", "applications.new.total", "--json"],
                                env={"XXGK_DB": db_url, "XXGK_ARCHIVE": str(archive.root)})
    assert result.exit_code == 0, result.output
    chain = json.loads(result.output)
    assert chain["value"] == 12 and chain["document_sha256"] == shas["report"] and chain["bytes_verified"]
    assert chain["captures"][0]["referrer_capture"]["sha256"] == shas["listing"]
    text = CliRunner().invoke(main, ["chain", AGENCY, "2024", "applications.new.total", "--db", db_url,
                                     "--archive", str(archive.root)])
    assert text.exit_code == 0 and shas["report"] in text.output and "bytes verified" in text.output
    missing = CliRunner().invoke(main, ["chain", AGENCY, "2019", "applications.new.total", "--db", db_url])
    assert missing.exit_code == 1 and "no report" in missing.output


def test_reparse_command_on_an_empty_database(db_url, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["reparse", "--json", "--db", db_url, "--archive", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["documents"] == 0


def test_option_beats_environment_beats_default(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("XXGK_DB", raising=False)
    monkeypatch.delenv("XXGK_ARCHIVE", raising=False)
    default = resolve_db_url(None)
    assert default == f"sqlite:///{tmp_path / 'xxgk-data' / 'xxgk.sqlite'}"
    assert resolve_archive_dir(None, default) == tmp_path / "xxgk-data" / "archive"
    monkeypatch.setenv("XXGK_DB", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("XXGK_ARCHIVE", str(tmp_path / "env-archive"))
    assert resolve_db_url(None) == "postgresql+psycopg://u@h/db"
    assert resolve_db_url("other.sqlite") == f"sqlite:///{tmp_path / 'other.sqlite'}"
    assert resolve_archive_dir(None) == tmp_path / "env-archive"
    assert resolve_archive_dir("mine") == tmp_path / "mine"
    monkeypatch.delenv("XXGK_ARCHIVE")
    assert resolve_archive_dir(None, resolve_db_url("/srv/x/db.sqlite")) == Path("/srv/x/archive")
