"""Storing captures, documents and reports on SQLite and PostgreSQL: idempotence, versions,
cross-year checks, provenance chain, parse-worker claims and re-parse."""

from __future__ import annotations

import hashlib
import threading
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from crawler.archive import Archive
from crawler.db.models import (Capture, CheckResult, Document, Report, ReportChange,
                               ReportValue, Base)
from crawler.db.session import transaction
from crawler.provenance import value_chain
from crawler.reparse import reparse
from crawler.store import (capture_response, claim_pending_documents, conditional_headers,
                           ensure_document, parse_and_store, report_values, store_report)
from tests.conftest import DOCUMENTS
from tests.storage.conftest import BASE_VALUES, make_report

AGENCY = "平潭综合实验区管理委员会"
LISTING = "http://www.pingtan.gov.cn/zfxxgk/ndbg/index.html"


def row_counts(factory) -> dict[str, int]:
    with transaction(factory) as session:
        return {table.name: session.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables}


def add_document(session, archive: Archive, body: bytes, url: str, **kwargs: Any) -> Document:
    result = capture_response(session, archive, url=url, status=200,
                              headers={"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"'},
                              body=body, is_document=True, referrer_url=LISTING, **kwargs)
    assert result.document is not None
    return result.document


def test_capture_and_document_are_idempotent_and_revisits_are_not_stored_twice(factory, archive) -> None:
    body = (DOCUMENTS / "pingtan_2024.html").read_bytes()
    with transaction(factory) as session:
        capture_response(session, archive, url=LISTING, status=200, headers={"Content-Type": "text/html"},
                         body=b"<html>listing</html>")
        document = add_document(session, archive, body, "http://www.pingtan.gov.cn/a/2024.html")
        assert document.parse_status == "pending" and document.sha256 == hashlib.sha256(body).hexdigest()
        assert ensure_document(session, document.sha256, size=len(body)).id == document.id
        assert conditional_headers(session, "http://www.pingtan.gov.cn/a/2024.html") == {"If-None-Match": '"v1"'}
    before = row_counts(factory)
    with transaction(factory) as session:  # second crawl, unchanged portal
        again = add_document(session, archive, body, "http://www.pingtan.gov.cn/a/2024.html")
        not_modified = capture_response(session, archive, url="http://www.pingtan.gov.cn/a/2024.html",
                                        status=304, headers={}, body=b"")
    after = row_counts(factory)
    assert again.id == document.id
    assert after["documents"] == before["documents"] and after["captures"] == before["captures"] + 2
    with transaction(factory) as session:
        revisits = session.scalars(select(Capture).where(Capture.is_revisit.is_(True))).all()
        assert len(revisits) == 2 and {c.sha256 for c in revisits} == {document.sha256}
    empty = hashlib.sha256(b"").hexdigest()  # the 304's (empty) payload
    assert len([sha for sha, _ in archive.iter_blobs() if sha != empty]) == 2  # listing + report, once each
    assert not_modified.capture.status == 304


def test_store_same_report_twice_adds_no_rows(factory, archive) -> None:
    report = make_report(AGENCY, 2024, BASE_VALUES)
    with transaction(factory) as session:
        document = add_document(session, archive, b"<html>2024</html>", "http://x.gov.cn/2024.html")
        first = store_report(session, document, report)
    counts = row_counts(factory)
    with transaction(factory) as session:
        second = store_report(session, session.get(Document, document.id), report)
    assert first.created and not second.created and second.report.id == first.report.id
    assert row_counts(factory) == counts
    with transaction(factory) as session:
        values = report_values(session, first.report.id)
        assert values["active_disclosure.administrative_fees.amount_10k_yuan"] == Decimal("12.50")
        assert values["applications.new.total"] == 12 and values["review_litigation.review.total"] is None
        cell = session.scalar(select(ReportValue).where(ReportValue.key == "applications.new.total"))
        assert cell.raw == "12" and cell.table_index == 2 and cell.col_label == "total"
        assert session.scalar(select(CheckResult.status).where(CheckResult.check_id == "B1")) == "pass"


def test_changed_document_is_a_new_flagged_version(factory, archive) -> None:
    changed_values = {**BASE_VALUES, "applications.new.total": 13, "applications.new.natural_person": 11}
    changed_values.pop("review_litigation.review.total")
    with transaction(factory) as session:
        old_doc = add_document(session, archive, b"<html>v1</html>", "http://x.gov.cn/2024.html")
        old = store_report(session, old_doc, make_report(AGENCY, 2024, BASE_VALUES)).report
        same_doc = add_document(session, archive, b"<html>v1 as pdf</html>", "http://x.gov.cn/2024.pdf")
        duplicate = store_report(session, same_doc, make_report(AGENCY, 2024, BASE_VALUES))
        new_doc = add_document(session, archive, b"<html>v2</html>", "http://x.gov.cn/2024.html")
        result = store_report(session, new_doc, make_report(AGENCY, 2024, changed_values))
    assert duplicate.kind == "duplicate" and duplicate.report.status == "duplicate"
    assert result.kind == "version" and result.flagged
    with transaction(factory) as session:
        reports = session.scalars(select(Report).order_by(Report.id)).all()
        assert [(r.version, r.is_current, r.status) for r in reports] == [
            (1, False, "ok"), (1, False, "duplicate"), (2, True, "ok")]
        new = reports[-1]
        assert new.changed_after_publication and new.supersedes_id == old.id
        changes = {c.key: (c.old_value, c.new_value, c.new_present)
                   for c in session.scalars(select(ReportChange).where(ReportChange.new_report_id == new.id))}
        assert changes == {"applications.new.total": ("12", "13", True),
                           "applications.new.natural_person": ("10", "11", True),
                           "review_litigation.review.total": (None, None, False)}


def test_cross_year_checks_x1_x2(factory, archive) -> None:
    values_2024 = {**BASE_VALUES, "applications.carried_over.natural_person": 3,
                   "applications.carried_over.total": 5,  # last year carried forward 4: warn
                   "active_disclosure.normative_documents.in_force": 22}  # 20 + 3 - 1: pass
    with transaction(factory) as session:  # later year first: storing 2023 must update 2024's checks
        store_report(session, add_document(session, archive, b"2024", "http://x.gov.cn/2024"),
                     make_report(AGENCY, 2024, values_2024))
        store_report(session, add_document(session, archive, b"2023", "http://x.gov.cn/2023"),
                     make_report(AGENCY, 2023, BASE_VALUES))
    with transaction(factory) as session:
        report_2024 = session.scalar(select(Report).where(Report.year == 2024))
        checks = {(c.check_id, c.scope): (c.status, c.expected, c.actual) for c in session.scalars(
            select(CheckResult).where(CheckResult.report_id == report_2024.id, CheckResult.check_id.in_(["X1", "X2"])))}
        assert checks[("X1", "2023→2024 natural_person")] == ("pass", "3", "3")
        assert checks[("X1", "2023→2024 total")] == ("warn", "4", "5")
        assert checks[("X2", "2023→2024 normative_documents")] == ("pass", "22", "22")
        assert checks[("X2", "2023→2024 regulations")] == ("pass", "5", "5")
        assert not session.scalars(select(CheckResult).join(Report).where(
            Report.year == 2023, CheckResult.check_id == "X1")).all()
    counts = row_counts(factory)
    with transaction(factory) as session:
        from crawler.store import update_cross_year_checks
        update_cross_year_checks(session, report_2024.agency_id, 2023)
    assert row_counts(factory) == counts


def test_chain_matches_the_archived_bytes(factory, archive) -> None:
    body = (DOCUMENTS / "pingtan_2024.html").read_bytes()
    with transaction(factory) as session:
        capture_response(session, archive, url=LISTING, status=200, headers={"Content-Type": "text/html"},
                         body=b"<a href='/a/2024.html'>2024</a>")
        document = add_document(session, archive, body, "http://www.pingtan.gov.cn/a/2024.html")
        store_report(session, document, make_report(AGENCY, 2024, BASE_VALUES))
    with transaction(factory) as session:
        chain = value_chain(session, archive, "applications.new.total", agency="平潭", year=2024)
    assert chain.value == 12 and chain.cell["raw"] == "12" and chain.bytes_verified
    assert chain.document_sha256 == hashlib.sha256(body).hexdigest()
    with open(chain.archive_path, "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == chain.document_sha256
    [capture] = chain.captures
    assert capture.url.endswith("/a/2024.html") and capture.warc_record_ok
    assert archive.read_record((capture.warc_file, capture.warc_offset))[1] == body
    assert capture.referrer_url == LISTING and capture.referrer_capture["url"] == LISTING
    assert chain.to_dict()["captures"][0]["referrer_capture"]["warc_file"] == capture.referrer_capture["warc_file"]


def test_concurrent_claims_never_share_a_document(factory, archive) -> None:
    with transaction(factory) as session:
        for i in range(30):
            ensure_document(session, hashlib.sha256(str(i).encode()).hexdigest(), size=1)
    claimed: dict[str, list[int]] = {"a": [], "b": []}

    def worker(name: str) -> None:
        session = factory()
        try:
            while documents := claim_pending_documents(session, name, limit=3):
                claimed[name].extend(d.id for d in documents)
        finally:
            session.close()

    threads = [threading.Thread(target=worker, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(claimed["a"]) & set(claimed["b"])
    assert len(claimed["a"]) + len(claimed["b"]) == 30
    with transaction(factory) as session:
        assert session.scalar(select(func.count()).where(Document.parse_status == "parsing")) == 30
        assert set(session.scalars(select(Document.claimed_by))) <= {"a", "b"}


def test_stale_claims_are_taken_again(factory, archive) -> None:
    from datetime import timedelta

    with transaction(factory) as session:
        ensure_document(session, "a" * 64, size=1)
    with factory() as session:
        assert len(claim_pending_documents(session, "dead-worker")) == 1
        assert claim_pending_documents(session, "other") == []
        [again] = claim_pending_documents(session, "other", stale_after=timedelta(seconds=-1))
        assert again.claimed_by == "other" and again.attempts == 2


def fake_parser(version: str, new_total: int) -> Any:
    def parse(data: bytes, media_type: str | None = None, name: str = "", **_: Any) -> dict[str, Any]:
        values = {**BASE_VALUES, "applications.new.total": new_total}
        if version == "v2":
            values["applications.results.total"] = 7
        report = make_report(AGENCY, 2024, values, parser_version=version)
        report["values"] = {k: (float(v) if isinstance(v, Decimal) else v) for k, v in values.items()}  # JSON form
        return report
    return parse


def test_parse_worker_and_reparse_report_the_diff(factory, archive) -> None:
    with transaction(factory) as session:
        document = add_document(session, archive, (DOCUMENTS / "pingtan_2024.html").read_bytes(),
                                "http://www.pingtan.gov.cn/a/2024.html")
        broken = add_document(session, archive, b"%PDF-broken", "http://www.pingtan.gov.cn/a/x.pdf")
    with factory() as session:
        claimed = claim_pending_documents(session, "w1", limit=10)
    assert [d.id for d in claimed] == [document.id, broken.id]

    def first_parser(data: bytes, **kwargs: Any) -> dict[str, Any]:
        if data.startswith(b"%PDF"):
            raise ValueError("not a readable PDF")
        return fake_parser("v1", 12)(data, **kwargs)

    with transaction(factory) as session:
        for claimed_document in claimed:
            parse_and_store(session, archive, session.get(Document, claimed_document.id), first_parser)
    with transaction(factory) as session:
        assert session.get(Document, broken.id).parse_status == "failed"
        assert "not a readable PDF" in session.get(Document, broken.id).parse_error
        assert session.get(Document, document.id).parse_status == "done"

    summary = reparse(factory, archive, fake_parser("v2", 15), document_ids=[document.id])
    [diff] = summary.diffs
    assert summary.changed == 1 and diff.status == "changed"
    assert diff.changed == {"applications.new.total": ["12", "15"]}
    assert diff.added == {"applications.results.total": "7"} and diff.removed == {}
    counts = row_counts(factory)
    assert reparse(factory, archive, fake_parser("v2", 15), document_ids=[document.id]).unchanged == 1
    assert row_counts(factory) == counts
    stale = reparse(factory, archive, fake_parser("v2", 16), document_ids=[document.id])
    assert stale.stale_version == 1 and row_counts(factory) == counts
    with transaction(factory) as session:
        current = session.scalars(select(Report).where(Report.is_current.is_(True))).all()
        assert [(r.parser_version, r.version, r.changed_after_publication) for r in current] == [("v2", 1, False)]
        kinds = set(session.scalars(select(ReportChange.kind)))
        assert kinds == {"reparse"}


def test_scrapy_style_headers_reach_the_warc_and_the_row(factory, archive) -> None:
    """Scrapy hands headers as a one-shot iterator of (bytes, [bytes, ...])."""
    from scrapy.http import Headers

    headers = Headers({"Content-Type": "text/html; charset=gbk", "Set-Cookie": ["a=1", "b=2"]})
    with transaction(factory) as session:
        result = capture_response(session, archive, url="http://x.gov.cn/gbk.html", status=200,
                                  headers=headers.items(), body=b"<html></html>", is_document=True,
                                  request_headers=Headers({"User-Agent": "xxgk"}).items())
        assert result.capture.media_type == "text/html"
        assert result.capture.response_headers["Set-Cookie"] == "a=1\nb=2"
        assert result.capture.request_headers == {"User-Agent": "xxgk"}
    warc_headers, _ = archive.read_record(result.archived.response)
    from warcio.archiveiterator import ArchiveIterator
    with open(archive.warc_path(result.archived.response.file), "rb") as fh:
        fh.seek(result.archived.response.offset)
        record = next(iter(ArchiveIterator(fh)))
        assert record.http_headers.get_header("Content-Type") == "text/html; charset=gbk"
        assert [v for k, v in record.http_headers.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
