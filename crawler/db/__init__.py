"""The database: typed models, engine/session helpers and Alembic migrations."""

from crawler.db.models import (Agency, Base, Capture, CheckResult, CrawlRun, Document, Report,
                               ReportChange, ReportValue, Source)
from crawler.db.session import (current_revision, head_revision, make_engine, make_session_factory,
                                open_database, transaction, upgrade)

__all__ = ["Agency", "Base", "Capture", "CheckResult", "CrawlRun", "Document", "Report",
           "ReportChange", "ReportValue", "Source", "current_revision", "head_revision",
           "make_engine", "make_session_factory", "open_database", "transaction", "upgrade"]
