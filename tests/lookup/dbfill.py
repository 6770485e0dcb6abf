"""Fill a database the way the crawler does: archive the bytes, record the capture, parse, store.

Used by the lookup tests (a small, fixed set of corpus and generated documents) until the
end-to-end crawl of the portal simulator is available to them (see ``crawled_db`` in conftest).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import parsers
from crawler.agencies import resolve_agency
from crawler.archive import Archive
from crawler.db.session import open_database, transaction
from crawler.store import (capture_response, finish_document, get_or_create_source, record_capture,
                           store_report)
from parsers.sniff import sniff

CORPUS_FILES = ("hongzequ_2023.pdf", "hongzequ_2024.pdf", "huaianshi_2024.pdf", "shuyang-fgj_2023.html",
                "shanghai-szfbgt_2019.html", *(f"pingtan_{year}.html" for year in range(2019, 2026)))
QIANJIN = "攀枝花市仁和区前进镇人民政府"
RENHE = "攀枝花市仁和区人民政府"


@dataclass
class Stored:
    name: str
    report_id: Optional[int]
    kind: str


def store_document(factory, archive: Archive, data: bytes, *, name: str, url: str,  # type: ignore[no-untyped-def]
                   listing_url: Optional[str] = None, source_name: Optional[str] = None) -> Stored:
    """One document through capture → parse → agency resolution → store, in one transaction."""
    media_type = sniff(data, name, None)
    with transaction(factory) as session:
        source = get_or_create_source(session, source_name, listing_url or url) if source_name else None
        captured = capture_response(session, archive, url=url, status=200,
                                    headers={"Content-Type": media_type or "application/octet-stream"},
                                    body=data, is_document=True, referrer_url=listing_url,
                                    source_id=source.id if source else None)
        document = captured.document
        assert document is not None
        report = parsers.parse(data, media_type=media_type, name=name).to_dict()
        agency = resolve_agency(session, report["agency"]) if report.get("agency") else None
        if source is not None and agency is not None and source.agency_id is None:
            source.agency_id = agency.id
        result = store_report(session, document, report, agency=agency, source=source, source_url=url)
        finish_document(session, document)
        return Stored(name, result.report.id, result.kind)


HOSTILE_TITLE = '攀枝花市仁和区前进镇人民政府<script>alert("xss")</script>2021年政府信息公开工作年度报告'


def generated_html(agency: str, year: int, seed: int, change: Optional[dict[str, int]] = None,
                   title: Optional[str] = None) -> bytes:
    from crawler.simulator.docgen import ReportSpec, random_values, render

    values = random_values("F2021", random.Random(seed))
    values.update(change or {})
    return render(ReportSpec(agency=agency, year=year, fmt="F2021", values=values, title=title), "html")


def fill(db_url: str, archive_dir: Path, corpus_dir: Path) -> dict[str, Stored]:
    """The lookup tests' database: corpus reports, a town's generated reports (one changed
    after publication) and a county whose portal blocked us."""
    factory = open_database(db_url)
    stored: dict[str, Stored] = {}
    with Archive(archive_dir, durable=False) as archive:
        for name in CORPUS_FILES:
            listing = "http://corpus.test/pingtan/list.html" if name.startswith("pingtan") else None
            stored[name] = store_document(factory, archive, (corpus_dir / name).read_bytes(), name=name,
                                          url=f"http://corpus.test/{name}", listing_url=listing,
                                          source_name="平潭综合实验区 年报栏目" if listing else None)
        listing = "http://qianjin.test/xxgk/ndbg/index.html"
        for year in (2022, 2023):
            name = f"qianjin_{year}.html"
            stored[name] = store_document(factory, archive, generated_html(QIANJIN, year, seed=year), name=name,
                                          url=f"http://qianjin.test/xxgk/ndbg/{year}.html", listing_url=listing,
                                          source_name="前进镇 年报栏目")
        stored["qianjin_2021.html"] = store_document(
            factory, archive, generated_html(QIANJIN, 2021, seed=2021, title=HOSTILE_TITLE), name="qianjin_2021.html",
            url="http://qianjin.test/xxgk/ndbg/2021.html", listing_url=listing, source_name="前进镇 年报栏目")
        changed = generated_html(QIANJIN, 2023, seed=2023, change={"applications.new.natural_person": 999,
                                                                   "applications.new.total": 999})
        stored["qianjin_2023_v2.html"] = store_document(
            factory, archive, changed, name="qianjin_2023_v2.html",
            url="http://qianjin.test/xxgk/ndbg/2023.html", listing_url=listing, source_name="前进镇 年报栏目")
        with transaction(factory) as session:
            renhe = resolve_agency(session, RENHE)
            source = get_or_create_source(session, "仁和区 年报栏目", "http://renhe.test/xxgk/ndbg/", agency=renhe)
            record_capture(session, url="http://renhe.test/xxgk/ndbg/", status=412, source_id=source.id,
                           error="blocked: 412 challenge")
    return stored


if __name__ == "__main__":  # python -m tests.lookup.dbfill [FOLDER]: the sample database of docs/lookup.md
    import sys

    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "xxgk-data").resolve()
    corpus = Path(__file__).resolve().parent.parent / "fixtures" / "corpus" / "documents"
    if (folder / "xxgk.sqlite").exists():
        sys.exit(f"{folder / 'xxgk.sqlite'} exists already; give another folder")
    result = fill(f"sqlite:///{folder / 'xxgk.sqlite'}", folder / "archive", corpus)
    print(f"{len(result)} documents stored in {folder / 'xxgk.sqlite'} (archive {folder / 'archive'})")
