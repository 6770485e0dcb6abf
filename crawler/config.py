"""Where the database and the archive live: one resolution rule for every command and script.

Order of precedence: the ``--db`` / ``--archive`` option, then the environment (``XXGK_DB``, an
SQLAlchemy URL; ``XXGK_ARCHIVE``, a folder), then the defaults ``./xxgk-data/xxgk.sqlite`` and
``./xxgk-data/archive``. Scheduled jobs and scripts configure everything through the environment;
a user at the terminal overrides it with an option.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Callable, Optional

import click
from sqlalchemy.engine import make_url

DB_ENV = "XXGK_DB"
ARCHIVE_ENV = "XXGK_ARCHIVE"
DEFAULT_DATA_DIR = Path("xxgk-data")
DEFAULT_DB_FILE = "xxgk.sqlite"
DEFAULT_ARCHIVE_DIR = "archive"


def resolve_db_url(option: Optional[str] = None) -> str:
    """The SQLAlchemy URL to use. A value without ``://`` is a path to an SQLite file."""
    value = option or os.environ.get(DB_ENV) or ""
    value = value.strip()
    if not value:
        return _sqlite_url(Path.cwd() / DEFAULT_DATA_DIR / DEFAULT_DB_FILE)
    if "://" in value:
        make_url(value)  # raises ArgumentError with a one-line reason for a malformed URL
        return value
    return _sqlite_url(Path(value).expanduser())


def resolve_archive_dir(option: Optional[str | Path] = None, db_url: Optional[str] = None) -> Path:
    """The archive folder: option, else ``XXGK_ARCHIVE``, else ``archive/`` beside the database.

    "Beside the database" means the folder of the SQLite file when the database is an SQLite file,
    and ``./xxgk-data/archive`` otherwise (a server database has no folder of its own).
    """
    value = option or os.environ.get(ARCHIVE_ENV)
    if value:
        return Path(value).expanduser().resolve()
    sqlite_file = sqlite_path(db_url) if db_url else None
    if sqlite_file is not None:
        return sqlite_file.parent / DEFAULT_ARCHIVE_DIR
    return (Path.cwd() / DEFAULT_DATA_DIR / DEFAULT_ARCHIVE_DIR).resolve()


def sqlite_path(db_url: str) -> Optional[Path]:
    """The file of an SQLite URL, or None for other databases and in-memory SQLite."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve()


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def db_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--db`` and ``--archive`` to a click command.

    The command receives two resolved keyword arguments: ``db_url: str`` and ``archive_dir: Path``.
    """

    @click.option("--archive", "archive_option", metavar="DIR", default=None,
                  help=f"Archive folder (default: ${ARCHIVE_ENV}, else archive/ beside the database).")
    @click.option("--db", "db_option", metavar="URL|PATH", default=None,
                  help=f"SQLAlchemy URL or SQLite file (default: ${DB_ENV}, else ./xxgk-data/xxgk.sqlite).")
    @functools.wraps(command)
    def wrapper(*args: Any, db_option: Optional[str], archive_option: Optional[str], **kwargs: Any) -> Any:
        try:
            db_url = resolve_db_url(db_option)
        except Exception as exc:  # sqlalchemy.exc.ArgumentError for a malformed URL
            raise click.BadParameter(str(exc), param_hint="--db") from None
        kwargs["db_url"] = db_url
        kwargs["archive_dir"] = resolve_archive_dir(archive_option, db_url)
        return command(*args, **kwargs)

    return wrapper
