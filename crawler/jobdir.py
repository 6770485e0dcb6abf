"""Scrapy JOBDIR made safe for scheduled runs: one crawl at a time, resume, crash recovery.

Scrapy's JOBDIR saves the scheduler queue and the seen-requests set when a crawl stops
*gracefully* (SIGINT/SIGTERM); the next crawl with the same JOBDIR resumes there. Three gaps
matter for a cron job, and this module closes them:

* **Overlap**: two runs sharing one JOBDIR would corrupt it. :func:`locked` takes an exclusive
  ``flock`` on ``JOBDIR/xxgk.lock``; a second run exits at once (:class:`JobDirBusy`).
* **Crash** (SIGKILL, power loss): the queue's index is only written at a clean close and the
  seen-set file is buffered, so the saved state is incomplete — resuming from it would silently
  skip pages. A marker ``xxgk-running.json`` exists while a crawl runs; finding it at start means
  the last run died: its Scrapy state is discarded and the crawl starts over. Nothing is lost
  and nothing is duplicated because the archive and the database are idempotent (same bytes →
  same blob and document; same document → same report).
* **Completion**: after a crawl that *finished*, the state is cleared, so the next scheduled run
  crawls again instead of finding every request "already seen".
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional, Union

RUNNING_MARKER = "xxgk-running.json"
LOCK_FILE = "xxgk.lock"
SCRAPY_STATE = ("requests.queue", "requests.seen", "spider.state")

PathArg = Union[str, Path]


class JobDirBusy(RuntimeError):
    """Another crawl holds this JOBDIR."""


@contextmanager
def locked(path: PathArg) -> Iterator[Path]:
    """Hold the JOBDIR's exclusive lock for the duration of a crawl (released if we die)."""
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    handle = open(root / LOCK_FILE, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobDirBusy(f"another crawl is using the job directory {root}") from None
        yield root
    finally:
        handle.close()


def prepare(path: PathArg) -> dict[str, Any]:
    """Decide how this crawl starts (call while holding the lock): ``fresh``, ``resume`` or
    ``recovered`` (the previous crawl died; its state was discarded). Returns what was found."""
    root = Path(path)
    marker = root / RUNNING_MARKER
    if marker.exists():
        previous = _read(marker)
        clear_state(root)
        marker.unlink(missing_ok=True)
        return {"start": "recovered", "previous_run_id": previous.get("run_id")}
    if (root / "requests.seen").exists() or (root / "requests.queue").exists():
        return {"start": "resume"}
    return {"start": "fresh"}


def mark_running(path: PathArg, **info: Any) -> None:
    """Write the marker that says a crawl is running in this JOBDIR (fsynced)."""
    _write(Path(path) / RUNNING_MARKER, {"pid": os.getpid(), "started": time.time(), **info})


def note_run(path: PathArg, run_id: Optional[int]) -> None:
    """Remember the crawl run id in the marker (so a crash can be recorded against that run)."""
    marker = Path(path) / RUNNING_MARKER
    if marker.exists():
        _write(marker, {**_read(marker), "run_id": run_id})


def finish(path: PathArg, finish_reason: str) -> None:
    """After Scrapy closed: a finished crawl leaves no state (the next run starts fresh); a
    stopped one keeps its queue for resuming. Either way the crawl ended cleanly."""
    root = Path(path)
    if finish_reason == "finished":
        clear_state(root)
    (root / RUNNING_MARKER).unlink(missing_ok=True)


def clear_state(root: Path) -> None:
    for name in SCRAPY_STATE:
        target = root / name
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        elif target.exists():
            target.unlink()


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
