"""The database schema as SQLAlchemy 2 typed models (SQLite and PostgreSQL).

Changing a model means adding an Alembic revision in ``crawler/db/migrations/versions/``; the
test ``tests/storage/test_migrations.py`` fails when the models and the migrations disagree.

Numbers: a report value is kept exactly as text (``value_text``, the printed decimal without
rounding) and as a numeric column (``value_num``) for sums and sorting in SQL.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer,
                        MetaData, Numeric, String, Text, TypeDecorator, UniqueConstraint)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PARSE_STATUSES = ("pending", "parsing", "done", "failed")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both backends (SQLite returns naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


JSONType = JSON().with_variant(JSONB(), "postgresql")
ValueNumber = Numeric(30, 10, asdecimal=False).with_variant(Float(), "sqlite")  # exact copy: value_text


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Agency(Base):
    """A government body that publishes reports (county government, bureau, town...)."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    aliases: Mapped[list[str]] = mapped_column(JSONType, default=list)
    level: Mapped[Optional[str]] = mapped_column(String(32))  # national|province|city|county|town|department
    division_code: Mapped[Optional[str]] = mapped_column(String(12), index=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agencies.id"))

    parent: Mapped[Optional["Agency"]] = relationship(remote_side=[id])


class Source(Base):
    """A registry entry: one report column (listing URL) of one agency on one platform."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    agency_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agencies.id"), index=True)
    platform: Mapped[Optional[str]] = mapped_column(String(32))
    start_url: Mapped[str] = mapped_column(Text)
    how_established: Mapped[Optional[str]] = mapped_column(Text)

    agency: Mapped[Optional[Agency]] = relationship()


class CrawlRun(Base):
    """One run of the crawler: when, with which settings, what it saw and how it ended."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    stats: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    outcome: Mapped[Optional[str]] = mapped_column(String(32))  # running|finished|failed|interrupted


class Capture(Base):
    """One HTTP exchange as archived: where the bytes are (blob + WARC record) and how we got them."""

    __tablename__ = "captures"
    __table_args__ = (
        Index("ix_captures_url_fetched_at", "url", "fetched_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[Optional[str]] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(10), default="GET")
    status: Mapped[Optional[int]] = mapped_column(Integer)
    request_headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    response_headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sha256: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    size: Mapped[Optional[int]] = mapped_column(BigInteger)
    media_type: Mapped[Optional[str]] = mapped_column(String(255))
    referrer_url: Mapped[Optional[str]] = mapped_column(Text)  # the listing page that linked here
    warc_file: Mapped[Optional[str]] = mapped_column(String(255))
    warc_offset: Mapped[Optional[int]] = mapped_column(BigInteger)
    warc_length: Mapped[Optional[int]] = mapped_column(BigInteger)
    warc_record_id: Mapped[Optional[str]] = mapped_column(String(100), unique=True)
    is_revisit: Mapped[bool] = mapped_column(Boolean, default=False)
    etag: Mapped[Optional[str]] = mapped_column(String(512))
    last_modified: Mapped[Optional[str]] = mapped_column(String(64))
    run_id: Mapped[Optional[int]] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    source_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sources.id"), index=True)
    error: Mapped[Optional[str]] = mapped_column(Text)

    run: Mapped[Optional[CrawlRun]] = relationship()
    source: Mapped[Optional[Source]] = relationship()


class Document(Base):
    """A distinct payload (by sha256) that may be a report; the unit of parsing work."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_parse_status_id", "parse_status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[Optional[str]] = mapped_column(String(255))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    parse_status: Mapped[str] = mapped_column(String(16), default="pending")
    parse_error: Mapped[Optional[str]] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[Optional[str]] = mapped_column(String(128))
    claimed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class Report(Base):
    """One parse of one document: a report of an agency for a year, in one version.

    ``version`` counts the distinct documents published for (agency, year): a changed document
    gives version 2 (``changed_after_publication``). A re-parse of the same document under a new
    parser keeps the version and gets its own row (``parser_version``). Exactly one row per
    (agency, year) is ``is_current``. ``status``: ok | duplicate (another document with the same
    values) | not_a_report | incomplete (agency or year unknown).
    """

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("document_id", "parser_version"),
        Index("ix_reports_agency_id_year", "agency_id", "year"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agencies.id"))
    year: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    title: Mapped[Optional[str]] = mapped_column(Text)
    publish_date: Mapped[Optional[str]] = mapped_column(String(10))
    signature_date: Mapped[Optional[str]] = mapped_column(String(10))
    format: Mapped[str] = mapped_column(String(16), default="UNKNOWN")
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    parser_version: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="ok")
    error: Mapped[Optional[str]] = mapped_column(Text)
    source_url: Mapped[Optional[str]] = mapped_column(Text)
    source_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sources.id"))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    supersedes_id: Mapped[Optional[int]] = mapped_column(ForeignKey("reports.id"))
    changed_after_publication: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # sections, extras, warnings...
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Optional[Agency]] = relationship()
    document: Mapped[Document] = relationship()
    values: Mapped[list["ReportValue"]] = relationship(back_populates="report", cascade="all, delete-orphan")
    checks: Mapped[list["CheckResult"]] = relationship(back_populates="report", cascade="all, delete-orphan")


class ReportValue(Base):
    """One printed number under a canonical key, with the cell it was read from."""

    __tablename__ = "report_values"
    __table_args__ = (UniqueConstraint("report_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(128), index=True)
    value_text: Mapped[Optional[str]] = mapped_column(String(64))  # exact; NULL = printed blank
    value_num: Mapped[Optional[float]] = mapped_column(ValueNumber)
    raw: Mapped[Optional[str]] = mapped_column(Text)
    page: Mapped[Optional[int]] = mapped_column(Integer)
    table_index: Mapped[Optional[int]] = mapped_column(Integer)
    row_label: Mapped[Optional[str]] = mapped_column(Text)
    col_label: Mapped[Optional[str]] = mapped_column(Text)
    confidence: Mapped[Optional[float]] = mapped_column(Float)
    cell_source: Mapped[Optional[str]] = mapped_column(String(16))  # table|text|ocr

    report: Mapped[Report] = relationship(back_populates="values")

    @property
    def value(self) -> Optional[int | Decimal]:
        """The exact printed value: int for counts, Decimal otherwise, None for a blank cell."""
        return parse_number(self.value_text)


class CheckResult(Base):
    """One identity check of a report (B1–B3, C1–C3, X5 from the parser; X1, X2 across years)."""

    __tablename__ = "check_results"
    __table_args__ = (Index("ix_check_results_report_id_check_id", "report_id", "check_id"),
                      Index("ix_check_results_status", "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    check_id: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(8))  # pass|fail|skip|warn
    expected: Mapped[Optional[str]] = mapped_column(String(64))
    actual: Mapped[Optional[str]] = mapped_column(String(64))
    note: Mapped[Optional[str]] = mapped_column(Text)

    report: Mapped[Report] = relationship(back_populates="checks")


class ReportChange(Base):
    """A value that differs between two versions of a report (kind: document | reparse)."""

    __tablename__ = "report_changes"
    __table_args__ = (UniqueConstraint("new_report_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    old_report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    new_report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="document")
    key: Mapped[str] = mapped_column(String(128))
    old_value: Mapped[Optional[str]] = mapped_column(String(64))  # NULL with old_present False = absent
    new_value: Mapped[Optional[str]] = mapped_column(String(64))
    old_present: Mapped[bool] = mapped_column(Boolean, default=True)
    new_present: Mapped[bool] = mapped_column(Boolean, default=True)


def parse_number(text: Optional[str]) -> Optional[int | Decimal]:
    """Stored value text back to the parser's number type."""
    if text is None:
        return None
    number = Decimal(text)
    if number == number.to_integral_value() and "." not in text and "E" not in text.upper():
        return int(number)
    return number


def format_number(value: Any) -> Optional[str]:
    """A parser number (int, Decimal, float from JSON, numeric string) as exact text."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return format(number, "f")


class SourceHealth(Base):
    """How one source fared in one crawl run: what the monitoring (``xxgk status``) reads.

    Crawl-side counters are written when the run closes; ``changed_reports`` and
    ``parse_failures`` depend on the parse workers and are refreshed after they ran. ``outcome``:
    ok | empty | failed | blocked | not_seen (a distributed run where other processes fetched
    this source) | killed.
    """

    __tablename__ = "source_health"
    __table_args__ = (UniqueConstraint("run_id", "source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    listing_pages: Mapped[int] = mapped_column(Integer, default=0)
    reports_found: Mapped[int] = mapped_column(Integer, default=0)  # report links that passed the title filter
    documents: Mapped[int] = mapped_column(Integer, default=0)  # report documents queued for parsing
    new_documents: Mapped[int] = mapped_column(Integer, default=0)  # first seen in this run
    changed_reports: Mapped[int] = mapped_column(Integer, default=0)  # changed after publication
    errors: Mapped[int] = mapped_column(Integer, default=0)
    blocked: Mapped[int] = mapped_column(Integer, default=0)
    parse_failures: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # every counter, blocked hosts
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    run: Mapped[CrawlRun] = relationship()
    source: Mapped[Source] = relationship()
