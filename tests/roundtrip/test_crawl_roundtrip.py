"""Issue 4 end to end: crawl the simulator into SQLite and PostgreSQL, recrawl, change a report.

- the round trip stores captures, documents and parsed reports, and the provenance chain of a value
  leads to archived bytes that hash to the document's sha256;
- a second crawl of an unchanged portal adds only revisits (no new document, no new report);
- a report changed on the portal comes back as version 2, the old version kept, and the change
  flagged with the values that differ;
- the WARC files pass warcio's own checker.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from crawler.archive import Archive
from crawler.crawl import LOCAL_SIMULATOR_SETTINGS, run_crawl
from crawler.db.models import Capture, Document, Report, ReportChange
from crawler.db.session import open_database
from crawler.provenance import value_chain
from crawler.simulator.simulator import Simulator
from crawler.work import run_workers

WORLD = [{"name": "trs-a", "docs": 6, "per_page": 4}]


def crawl(sim: Simulator, db_url: str, archive: Path) -> None:
    result = run_crawl(registry=sim.registry_entries(), db_url=db_url, archive_dir=archive,
                       settings=dict(LOCAL_SIMULATOR_SETTINGS), timeout=600)
    assert result.ok, result.log[-2000:]
    run_workers(1, db_url, archive, timeout=120)


def counts(factory) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return {
            "documents": session.scalar(select(func.count()).select_from(Document)),
            "reports": session.scalar(select(func.count()).select_from(Report)),
            "current": session.scalar(select(func.count()).select_from(Report).where(Report.is_current.is_(True))),
            "captures": session.scalar(select(func.count()).select_from(Capture)),
            "revisits": session.scalar(select(func.count()).select_from(Capture).where(Capture.is_revisit.is_(True))),
        }


def test_crawl_recrawl_and_change(db_url: str, tmp_path: Path) -> None:
    archive_dir = tmp_path / "archive"
    with Simulator(seed=3, sites=WORLD) as sim:
        expected = sim.expected_reports()
        crawl(sim, db_url, archive_dir)
        factory = open_database(db_url)
        first = counts(factory)
        assert first["current"] == len(expected) and first["documents"] >= len(expected)

        # the chain of a value ends at archived bytes that hash to the document
        with factory() as session, Archive(archive_dir) as archive:
            report = session.scalars(select(Report).where(Report.is_current.is_(True), Report.status == "ok")).first()
            chain = value_chain(session, archive, "applications.new.total", report_id=report.id)
            data = Path(chain.archive_path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == chain.document_sha256 and chain.bytes_verified
            assert chain.captures and chain.captures[0].warc_record_ok
            assert chain.captures[0].referrer_url  # the listing page that linked to it

        # unchanged portal: only revisits, nothing stored twice
        crawl(sim, db_url, archive_dir)
        second = counts(factory)
        assert second["documents"] == first["documents"] and second["reports"] == first["reports"]
        assert second["revisits"] > first["revisits"]

        # one report changes on the portal: a second version, the first kept, the change flagged
        target = next(e for e in expected if e["values"] and e["values"].get("applications.new.total") is not None)
        item = sim.update_report(target["detail_url"], values={"applications.new.natural_person": 9999})
        assert item.version == 2
        crawl(sim, db_url, archive_dir)
        third = counts(factory)
        assert third["current"] == first["current"] and third["reports"] > second["reports"]
        with factory() as session:
            new = session.scalars(select(Report).where(Report.version == 2)).one()
            old = session.scalars(select(Report).where(Report.agency_id == new.agency_id, Report.year == new.year,
                                                       Report.version == 1)).one()
            assert new.year == target["year"]
            assert new.changed_after_publication and new.is_current and not old.is_current
            changes = session.scalars(select(ReportChange).where(ReportChange.new_report_id == new.id)).all()
            assert any(c.key == "applications.new.natural_person" and c.new_value == "9999" for c in changes)

    # warcio's own tools read every WARC file
    for warc in sorted((archive_dir / "warc").glob("*.warc.gz")):
        check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(warc)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        index = subprocess.run([sys.executable, "-m", "warcio.cli", "index", str(warc)], capture_output=True, text=True)
        assert index.returncode == 0 and index.stdout.strip()
