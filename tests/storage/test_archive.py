"""The archive on its own: blobs, WARC records readable by warcio's tools, verify, crash safety."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crawler.archive import Archive, ArchiveError
from tests.conftest import DOCUMENTS, ROOT

REPORT = DOCUMENTS / "pingtan_2024.html"


def warcio_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "warcio.cli", *args], cwd=cwd, capture_output=True,
                          text=True, check=False)


def test_round_trip_and_warcio_tools(archive: Archive) -> None:
    body = REPORT.read_bytes()
    first = archive.archive_response("http://www.pingtan.gov.cn/zfxxgk/2024.html", 200,
                                     {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
                                     body, request_headers={"User-Agent": "xxgk-test"})
    again = archive.archive_response("http://www.pingtan.gov.cn/copy.html", 200, {"Content-Type": "text/html"},
                                     io.BytesIO(body))
    archive.close()

    assert first.sha256 == hashlib.sha256(body).hexdigest() and not first.is_revisit
    assert again.is_revisit and again.sha256 == first.sha256
    assert archive.read_blob(first.sha256) == body
    headers, payload = archive.read_record(first.response)
    assert payload == body and headers["WARC-Target-URI"].endswith("2024.html")
    assert archive.read_record(again.response)[0]["WARC-Type"] == "revisit"
    assert first.request is not None and archive.read_record(first.request)[0]["WARC-Type"] == "request"

    warc_files = sorted(p.name for p in archive.warc_dir.iterdir())
    check = warcio_cli("check", "-v", *warc_files, cwd=archive.warc_dir)
    assert check.returncode == 0, check.stdout + check.stderr
    index = warcio_cli("index", "-f", "warc-type,offset", *warc_files, cwd=archive.warc_dir)
    assert index.returncode == 0
    kinds = [line for line in index.stdout.splitlines() if line.strip()]
    assert len(kinds) == 4 and '"response"' in kinds[0] and '"revisit"' in kinds[2]
    assert f'"offset": "{first.response.offset}"' in kinds[0]


def test_warc_files_rotate_by_size(tmp_path: Path) -> None:
    with Archive(tmp_path / "a", max_warc_bytes=2000, durable=False) as archive:
        results = [archive.archive_response(f"http://x.gov.cn/{i}", 200, {}, os.urandom(3000)) for i in range(3)]
    assert len({r.response.file for r in results}) == 3
    for result in results:
        assert archive.read_record(result.response)[1] == result.blob_path.read_bytes()


def test_verify_detects_deleted_and_corrupted_blobs_and_warcs(archive: Archive) -> None:
    kept = archive.archive_response("http://x.gov.cn/1", 200, {}, b"one")
    deleted = archive.archive_response("http://x.gov.cn/2", 200, {}, b"two")
    corrupted = archive.archive_response("http://x.gov.cn/3", 200, {}, b"three")
    archive.close()
    assert archive.verify([kept.sha256, deleted.sha256, corrupted.sha256], [kept.response.file]).ok

    deleted.blob_path.unlink()
    corrupted.blob_path.write_bytes(b"tampered")
    warc = archive.warc_path(kept.response.file)
    warc.write_bytes(warc.read_bytes()[:-30])
    report = archive.verify([kept.sha256, deleted.sha256, corrupted.sha256], [kept.response.file, "gone.warc.gz"])
    assert report.missing == sorted([deleted.sha256, "gone.warc.gz"])
    assert set(report.damaged) == {corrupted.sha256, kept.response.file}


def test_paths_never_come_from_outside(archive: Archive) -> None:
    for bad in ("../../etc/passwd", "A" * 64, "", "0" * 63):
        with pytest.raises(ArchiveError):
            archive.blob_path(bad)
    with pytest.raises(ArchiveError):
        archive.warc_path("../x.warc.gz")
    result = archive.archive_response("http://x.gov.cn/../../etc/passwd?f=../../a.pdf", 200,
                                      {"Content-Disposition": 'attachment; filename="../../evil.pdf"'}, b"x")
    assert result.blob_path.parent.parent == archive.blob_dir
    assert not list(archive.root.rglob("*evil*")) and not list(archive.root.rglob("*passwd*"))


def test_kill_during_write_never_leaves_a_wrong_blob(tmp_path: Path) -> None:
    """kill -9 a writer in the middle of a large payload: no blob exists under a wrong name."""
    root = tmp_path / "arch"
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from crawler.archive import Archive
        def slow_body():
            for i in range(10_000):
                if i == 5:
                    print("writing", flush=True)
                time.sleep(0.001)
                yield b"x" * 65536
        class Stream:
            def __init__(self): self.parts = slow_body()
            def read(self, n=-1): return next(self.parts, b"")
        Archive({str(root)!r}).archive_response("http://x.gov.cn/big.pdf", 200, {{}}, Stream())
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    archive = Archive(root)
    assert list(archive.iter_blobs()) == []
    assert archive.verify().ok
    assert archive.clean_tmp() == 1


def test_blobs_fan_out_one_level_and_old_two_level_archives_still_read(archive: Archive) -> None:
    """New payloads go to blobs/ab/<sha256>; a payload at the older blobs/ab/cd/<sha256> is found,
    not written again, re-hashed by verify and read back by every lookup."""
    new = archive.archive_response("http://x.gov.cn/new.html", 200, {}, b"new layout")
    assert new.blob_path == archive.blob_dir / new.sha256[:2] / new.sha256
    old = archive.archive_response("http://x.gov.cn/old.html", 200, {}, b"old layout")
    legacy = archive.blob_dir / old.sha256[:2] / old.sha256[2:4] / old.sha256
    legacy.parent.mkdir(parents=True, exist_ok=True)
    os.replace(old.blob_path, legacy)  # as an archive written before the change holds it
    assert archive.blob_path(old.sha256) == legacy and archive.has_blob(old.sha256)
    assert archive.read_blob(old.sha256) == b"old layout"
    again = archive.archive_response("http://x.gov.cn/old.html", 200, {}, b"old layout")
    assert again.is_revisit and again.blob_path == legacy
    assert not (archive.blob_dir / old.sha256[:2] / old.sha256).exists()  # not copied to the new place
    assert sorted(name for name, _ in archive.iter_blobs()) == sorted([new.sha256, old.sha256])
    report = archive.verify([new.sha256, old.sha256])
    assert report.ok and report.blobs_checked == 2
    legacy.write_bytes(b"tampered")
    assert archive.verify([old.sha256]).damaged == [old.sha256]
