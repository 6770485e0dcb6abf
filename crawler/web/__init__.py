"""``xxgk serve``: Datasette over the SQLite database, read-only, with the xxgk plugin.

Datasette opens the file with ``mode=ro`` (or ``immutable=1`` with ``immutable=True``, for a
published snapshot that nothing writes any more), allows no writes, and escapes all text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

TEMPLATES = Path(__file__).resolve().parent / "templates"
SETTINGS = {
    "sql_time_limit_ms": 3000,
    "max_returned_rows": 5000,
    "default_page_size": 50,
    "facet_time_limit_ms": 500,
    "allow_download": False,
    "allow_signed_tokens": False,
}


def build_datasette(db_file: Path, archive_dir: Optional[Path], *, immutable: bool = False) -> Any:
    """A configured Datasette instance (not yet serving)."""
    from datasette.app import Datasette
    from datasette.plugins import pm

    from crawler.web import plugin
    from crawler.web.metadata import build_metadata

    database = db_file.stem
    plugin.configure(archive_dir, database)
    if not pm.is_registered(plugin):
        pm.register(plugin, name="xxgk")
    files = {"files": [], "immutables": [str(db_file)]} if immutable else {"files": [str(db_file)]}
    settings = dict(SETTINGS, allow_download=immutable)
    return Datasette(metadata=build_metadata(database), template_dir=str(TEMPLATES), settings=settings,
                     cors=False, **files)


def serve(db_file: Path, archive_dir: Optional[Path], *, host: str = "127.0.0.1", port: int = 8001,
          immutable: bool = False) -> None:
    """Serve until interrupted (uvicorn, as ``datasette serve`` does)."""
    import uvicorn

    datasette = build_datasette(db_file, archive_dir, immutable=immutable)
    # Datasette runs its startup hooks on the first request (AsgiRunOnFirstRequest).
    uvicorn.run(datasette.app(), host=host, port=port, log_level="warning")
