"""The archive: every response as WARC records, every payload once, content-addressed by sha256.

Layout under the archive root (only names we make ourselves; nothing from a URL or a
Content-Disposition header ever reaches a path)::

    blobs/ab/<sha256>                       payload bytes, written once, named by their hash
    warc/xxgk-<utc time>-<pid>-<n>.warc.gz  request/response/revisit records, rotated by size
    tmp/                                    payloads being written (never under a final name)

One level of 256 folders, as git's objects/: a folder is made once, by the first payload of
its prefix. Archives written before 2026-11 used two levels (``blobs/ab/cd/<sha256>``), which
made a new folder for nearly every payload of the first hundred thousand — and making an inode
is the dearest thing the store does (measured on this project's machines: about 0.4 ms of kernel
CPU per ``mkdir`` or file creation, ten times the cost of writing 130 kB). Those archives are
read as they are: every lookup also tries the old path, and ``verify`` walks both levels.

Crash safety: a payload is written to ``tmp/``, fsynced, then renamed into place with
``os.replace`` — so a ``kill -9`` (or a power cut) never leaves a blob with wrong content under its
final name. Each WARC record is one gzip member; records reach the file only as whole members, in
one ``write`` per group, and are fsynced before their locations are handed out (archive first, row
second: a record cut short by a crash is never referenced by the database).

Batches: ``with archive.batch():`` groups the durability work of many responses — the payloads'
fsyncs run in parallel, the renames and directory fsyncs follow, and the WARC file is written and
fsynced once, all when the block ends. The crawler's writer commits the rows of a batch only after
that (see :class:`crawler.pipelines.StoreExtension`). Outside a block every call is its own batch.

Memory: a bytes payload is hashed and written from the caller's buffer (no copy); a stream is
written to disk in chunks while it is hashed, and its WARC record streams the file back.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import re
import shutil
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator, Mapping, Optional, Union

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

CHUNK = 1 << 20
DEFAULT_MAX_WARC_BYTES = 512 * 1024 * 1024
# zlib level of the WARC files. Measured on the bench portal's 130 kB Word-HTML reports: level 9
# costs 0.77 ms per page for 4.2 % of the size, level 6 0.48 ms for 4.4 %, level 1 0.16 ms for 5.5 %
# (PDFs barely compress at any level). Level 1: every payload is also kept uncompressed in blobs/,
# so the archive as a whole grows by about 1 % (5.5 % instead of 4.4 % of a page, next to its 100 %
# blob), while the store spends a third of the CPU on it. Every level reads back the same.
DEFAULT_WARC_GZIP_LEVEL = 1
# records of a batch are written to the WARC file in groups of whole gzip members of about this size
WARC_WRITE_BYTES = 8 * 1024 * 1024
FSYNC_THREADS = 8  # fsyncs of a batch run in parallel: the file system commits them together
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
WARC_NAME_RE = re.compile(r"^xxgk-\d{14}-\d+-\d+\.warc\.gz$")
# Scrapy hands us decoded bodies: these headers would describe bytes we do not store.
_TRANSPORT_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}

Body = Union[bytes, bytearray, memoryview, BinaryIO, Path]
Headers = Union[dict[str, str], Iterable[tuple[str, str]], None]
RefersTo = Callable[[str], Optional[tuple[str, datetime]]]


class ArchiveError(Exception):
    """The archive cannot do what was asked (bad path, unreadable blob...)."""


@dataclass(frozen=True)
class WarcLocation:
    """Where one WARC record sits: file name (relative to ``warc/``), byte offset and length."""

    file: str
    offset: int
    length: int
    record_id: str


@dataclass(frozen=True)
class ArchivedResponse:
    """What :meth:`Archive.archive_response` did with one response."""

    url: str
    sha256: str
    size: int
    fetched_at: datetime
    is_revisit: bool  # the payload was already in the archive: a revisit record was written
    response: WarcLocation  # the response (or revisit) record
    request: Optional[WarcLocation]
    blob_path: Path


@dataclass
class VerifyReport:
    """The result of :meth:`Archive.verify`: what was checked and what is wrong."""

    blobs_checked: int = 0
    warcs_checked: int = 0
    missing: list[str] = field(default_factory=list)  # referenced but absent (sha256 or warc name)
    damaged: list[str] = field(default_factory=list)  # present but wrong content
    details: dict[str, str] = field(default_factory=dict)  # item -> one-line reason
    # WARC files whose end, after every referenced record, was cut by a crash mid-write: no row
    # points there, so nothing is lost (reported, not an error)
    incomplete_tails: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.damaged


class Archive:
    """A content-addressed payload store plus rotating gzip WARC files under ``root``."""

    def __init__(self, root: Union[str, Path], *, max_warc_bytes: int = DEFAULT_MAX_WARC_BYTES,
                 durable: bool = True, gzip_level: int = DEFAULT_WARC_GZIP_LEVEL) -> None:
        self.root = Path(root).expanduser().resolve()
        self.max_warc_bytes = max_warc_bytes
        self.durable = durable  # fsync blobs and WARC records (off only for throwaway benchmarks)
        self.gzip_level = gzip_level
        self._lock = threading.RLock()  # a batch holds it from start to end (one writer at a time)
        self._warc_fh: Optional[BinaryIO] = None
        self._warc_name: Optional[str] = None
        self._warc_pid: Optional[int] = None
        self._warc_seq = 0
        self._warc_size = 0  # bytes already in the current WARC file
        self._warc_is_new = False  # its directory entry is not fsynced yet
        self._records = io.BytesIO()  # whole gzip members not yet written to the file
        self._batch_depth = 0
        self._pending: dict[str, Path] = {}  # sha256 -> tmp file, renamed into place at batch end
        self._tmp_ready = False  # tmp_dir made (once per Archive object)

    # ------------------------------------------------------------------ paths
    @property
    def blob_dir(self) -> Path:
        return self.root / "blobs"

    @property
    def warc_dir(self) -> Path:
        return self.root / "warc"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    def blob_path(self, sha256: str) -> Path:
        """The path of a payload (where it is, or where it goes); refuses anything that is not a
        lowercase hex sha256. A payload of an archive from before 2026-11 stays at its old path."""
        new, old = self._blob_paths(sha256)
        return old if not new.exists() and old.exists() else new

    def _blob_paths(self, sha256: str) -> tuple[Path, Path]:
        """Where a payload goes (one level), and where an archive from before 2026-11 put it."""
        if not SHA256_RE.match(sha256 or ""):
            raise ArchiveError(f"not a sha256: {sha256!r}")
        folder = self.blob_dir / sha256[:2]
        return folder / sha256, folder / sha256[2:4] / sha256

    def warc_path(self, name: str) -> Path:
        """The path of one of our WARC files; refuses names we did not make."""
        if not WARC_NAME_RE.match(name or ""):
            raise ArchiveError(f"not an archive WARC file name: {name!r}")
        return self.warc_dir / name

    def has_blob(self, sha256: str) -> bool:
        return self.blob_path(sha256).is_file()

    def open_blob(self, sha256: str) -> BinaryIO:
        path = self.blob_path(sha256)
        try:
            return open(path, "rb")
        except FileNotFoundError:
            raise ArchiveError(f"blob {sha256} is missing from the archive") from None

    def read_blob(self, sha256: str) -> bytes:
        with self.open_blob(sha256) as fh:
            return fh.read()

    # ------------------------------------------------------------------ payloads
    def put_blob(self, body: Body) -> tuple[str, int, bytes, bool]:
        """Store a payload; return (sha256 hex, size, raw sha256 digest, was already there).

        A bytes payload is hashed first and written only when new; a stream is written to a temp
        file while hashed. The temp file is fsynced and renamed into place — at once, or at the end
        of the enclosing :meth:`batch` (a payload seen twice in one batch is written once).
        """
        with self._lock, self.batch():
            if isinstance(body, (bytes, bytearray, memoryview)):
                return self._put_buffer(body)
            return self._put_stream(body)

    def _put_buffer(self, body: Union[bytes, bytearray, memoryview]) -> tuple[str, int, bytes, bool]:
        digest = hashlib.sha256(body)  # one C call over the caller's buffer, GIL released
        sha, size = digest.hexdigest(), memoryview(body).nbytes
        if self._known(sha, size):
            return sha, size, digest.digest(), True
        tmp_path = self._tmp_name()
        try:
            with open(tmp_path, "wb") as out:
                out.write(body)
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise
        self._pending[sha] = tmp_path
        return sha, size, digest.digest(), False

    def _put_stream(self, body: Body) -> tuple[str, int, bytes, bool]:
        digest = hashlib.sha256()
        size = 0
        tmp_path = self._tmp_name()
        try:
            with open(tmp_path, "wb") as out:
                for chunk in _iter_body(body):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise
        sha = digest.hexdigest()
        if self._known(sha, size):
            tmp_path.unlink()
            return sha, size, digest.digest(), True
        self._pending[sha] = tmp_path
        return sha, size, digest.digest(), False

    def _known(self, sha: str, size: int) -> bool:
        """Already archived (or written earlier in this batch)."""
        if sha in self._pending:
            return True
        for path in self._blob_paths(sha):  # one stat each: this runs for every payload
            try:
                return path.stat().st_size == size
            except FileNotFoundError:
                continue
        return False

    def _tmp_name(self) -> Path:
        if not self._tmp_ready:  # once: a mkdir per payload was a measurable share of writing it
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            self._tmp_ready = True
        return self.tmp_dir / f"blob-{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}"

    def _payload_file(self, sha: str) -> Path:
        """Where a payload's bytes are right now (its temp file until the batch ends)."""
        return self._pending.get(sha) or self.blob_path(sha)

    # ------------------------------------------------------------------ batches
    @contextmanager
    def batch(self) -> Iterator["Archive"]:
        """Group the durability work of many writes; everything is on disk when the block ends.

        Payload temp files are fsynced (in parallel), renamed into place, their directories
        fsynced, then the WARC records are written and fsynced. Nested blocks join the outer one.
        """
        with self._lock:
            self._batch_depth += 1
            try:
                yield self
            finally:
                self._batch_depth -= 1
                if self._batch_depth == 0:
                    self._settle()

    def _settle(self) -> None:
        pending, self._pending = self._pending, {}
        try:
            if pending:
                self._settle_blobs(pending)
        finally:
            self._write_records()
            if self._warc_fh is not None and self._warc_pid == os.getpid():
                self._warc_fh.flush()
                if self.durable:
                    os.fsync(self._warc_fh.fileno())
                    if self._warc_is_new:
                        _fsync_dir(self.warc_dir)
                self._warc_is_new = False
            self._rotate_if_full()

    def _settle_blobs(self, pending: dict[str, Path]) -> None:
        if self.durable:
            _parallel(_fsync_file, list(pending.values()))
        parents = set()
        for sha, tmp_path in pending.items():
            final = self._blob_paths(sha)[0]
            try:
                os.replace(tmp_path, final)
            except FileNotFoundError:  # first blob of its folder
                final.parent.mkdir(parents=True, exist_ok=True)
                parents.update((final.parent.parent, final.parent.parent.parent))  # new entries
                os.replace(tmp_path, final)
            parents.add(final.parent)
        if self.durable:
            _parallel(_fsync_dir, sorted(parents))

    # ------------------------------------------------------------------ WARC
    def archive_response(
        self,
        url: str,
        status: int,
        headers: Headers,
        body: Body,
        *,
        method: str = "GET",
        request_headers: Headers = None,
        request_body: bytes = b"",
        fetched_at: Optional[datetime] = None,
        reason: str = "",
        refers_to: Optional[RefersTo] = None,
    ) -> ArchivedResponse:
        """Archive one HTTP exchange: payload blob + WARC request and response (or revisit) records.

        When the payload is already in the archive, a ``revisit`` record (identical-payload-digest)
        replaces the response record, so unchanged content is not stored twice. ``refers_to``,
        given a sha256, may return the URL and time of the earlier capture for the revisit record.
        """
        fetched_at = (fetched_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
        with self._lock, self.batch():
            sha, size, raw_digest, is_revisit = self.put_blob(body)
            http_headers = _http_headers(status, reason, headers, size)
            warc_date = _warc_date(fetched_at)
            payload_digest = "sha256:" + base64.b32encode(raw_digest).decode("ascii")
            writer, name = self._writer()
            if is_revisit:
                earlier = refers_to(sha) if refers_to else None
                record = writer.create_revisit_record(
                    url, payload_digest,
                    earlier[0] if earlier else url,
                    _warc_date(earlier[1]) if earlier else warc_date,
                    http_headers=http_headers,
                    warc_headers_dict={"WARC-Date": warc_date})
                response_loc = self._append(writer, name, record)
            elif isinstance(body, (bytes, bytearray, memoryview)):
                # the block digest from the caller's buffer: warcio would otherwise read it twice
                http_headers.compute_headers_buffer(writer.header_filter)
                block = hashlib.sha256(http_headers.headers_buff)
                block.update(body)
                record = writer.create_warc_record(
                    url, "response", payload=_BufferReader(body), length=size, http_headers=http_headers,
                    warc_headers_dict={"WARC-Date": warc_date, "WARC-Payload-Digest": payload_digest,
                                       "WARC-Block-Digest": "sha256:" + base64.b32encode(block.digest()).decode("ascii")})
                response_loc = self._append(writer, name, record)
            else:
                with open(self._payload_file(sha), "rb") as payload:
                    record = writer.create_warc_record(
                        url, "response", payload=payload, length=size, http_headers=http_headers,
                        warc_headers_dict={"WARC-Date": warc_date, "WARC-Payload-Digest": payload_digest})
                    response_loc = self._append(writer, name, record)
            request_loc = self._write_request(writer, name, url, method, request_headers,
                                              request_body, warc_date, response_loc.record_id)
        return ArchivedResponse(url=url, sha256=sha, size=size, fetched_at=fetched_at,
                                is_revisit=is_revisit, response=response_loc, request=request_loc,
                                blob_path=self._blob_paths(sha)[0] if sha in self._pending else self.blob_path(sha))

    def _write_request(self, writer: WARCWriter, name: str, url: str, method: str,
                       request_headers: Headers, request_body: bytes, warc_date: str,
                       concurrent_to: str) -> WarcLocation:
        target = _request_target(url)
        req_headers = StatusAndHeaders(f"{method.upper()} {target} HTTP/1.1",
                                       _header_list(request_headers), is_http_request=True)
        record = writer.create_warc_record(
            url, "request", payload=io.BytesIO(request_body or b""), length=len(request_body or b""),
            http_headers=req_headers,
            warc_headers_dict={"WARC-Date": warc_date, "WARC-Concurrent-To": concurrent_to})
        return self._append(writer, name, record)

    def _append(self, writer: WARCWriter, name: str, record) -> WarcLocation:
        """Add one record (one gzip member) to the records of this batch; its final location."""
        start = self._records.tell()
        writer.write_record(record)  # our _GzipMembers ends the member on warcio's closing flush
        end = self._records.tell()
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        location = WarcLocation(file=name, offset=self._warc_size + start, length=end - start,
                                record_id=record_id)
        if end >= WARC_WRITE_BYTES:
            self._write_records()
        return location

    def _write_records(self) -> None:
        """Whole gzip members to the file in one write: a crash never cuts a member in a batch."""
        size = self._records.tell()
        if not size or self._warc_fh is None:
            return
        self._warc_fh.write(self._records.getbuffer()[:size])
        self._warc_size += size
        self._records = io.BytesIO()

    def _writer(self) -> tuple[WARCWriter, str]:
        if self._warc_fh is None or self._warc_pid != os.getpid():  # a forked child opens its own
            self._open_new_warc()
        assert self._warc_fh is not None and self._warc_name is not None
        members = _GzipMembers(self._records, self.gzip_level)
        return WARCWriter(members, gzip=False, warc_version="1.1"), self._warc_name

    def _open_new_warc(self) -> None:
        self.warc_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        while True:
            self._warc_seq += 1
            name = f"xxgk-{stamp}-{os.getpid()}-{self._warc_seq}.warc.gz"
            try:  # "x": never append to a file another process (or an earlier run) owns
                self._warc_fh = open(self.warc_dir / name, "xb")
                break
            except FileExistsError:
                continue
        self._warc_name = name
        self._warc_pid = os.getpid()
        self._warc_size = 0
        self._warc_is_new = True
        self._records = io.BytesIO()

    def _rotate_if_full(self) -> None:
        if self._warc_fh is not None and self._warc_size >= self.max_warc_bytes:
            self.close()

    def close(self) -> None:
        """Close the current WARC file (the next record starts a new one)."""
        with self._lock:
            if self._batch_depth == 0 and self._pending:
                self._settle()
            if self._warc_pid == os.getpid():
                self._write_records()
            with_fh, self._warc_fh = self._warc_fh, None
            if with_fh is not None and self._warc_pid == os.getpid():
                with_fh.flush()
                if self.durable:
                    os.fsync(with_fh.fileno())
                    if self._warc_is_new:
                        _fsync_dir(self.warc_dir)
                with_fh.close()
            self._warc_name = None
            self._warc_size = 0
            self._warc_is_new = False
            self._records = io.BytesIO()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_record(self, location: WarcLocation | tuple[str, int]) -> tuple[dict[str, str], bytes]:
        """Read one record back: (WARC headers, payload bytes). For provenance and tests."""
        name, offset = (location.file, location.offset) if isinstance(location, WarcLocation) else location
        with open(self.warc_path(name), "rb") as fh:
            fh.seek(offset)
            for record in ArchiveIterator(fh):
                return dict(record.rec_headers.headers), record.content_stream().read()
        raise ArchiveError(f"no WARC record at {name}:{offset}")

    # ------------------------------------------------------------------ verification
    def iter_blobs(self) -> Iterator[tuple[str, Path]]:
        if not self.blob_dir.is_dir():
            return
        paths = [path for path in self.blob_dir.glob("??/*") if not path.is_dir()]
        paths += self.blob_dir.glob("??/??/*")  # the two-level layout of older archives
        for path in sorted(paths, key=lambda path: path.name):
            yield path.name, path

    def iter_warcs(self) -> Iterator[str]:
        if self.warc_dir.is_dir():
            for path in sorted(self.warc_dir.glob("*.warc.gz")):
                yield path.name

    def verify(self, referenced_blobs: Iterable[str] = (),
               referenced_warcs: Union[Iterable[str], Mapping[str, int]] = (),
               progress: Optional[Callable[[str], None]] = None) -> VerifyReport:
        """Re-hash every blob, re-read every WARC record, and report missing or damaged files.

        ``referenced_*`` are what the database points at: any of them absent is ``missing``.
        ``referenced_warcs`` may map each file to the end (offset + length) of its last referenced
        record: damage only after that end is the unfinished last write of a killed process,
        reported in ``incomplete_tails`` instead of ``damaged``.
        """
        extents = dict(referenced_warcs) if isinstance(referenced_warcs, Mapping) else {}
        report = VerifyReport()
        present_blobs = set()
        for name, path in self.iter_blobs():
            present_blobs.add(name)
            report.blobs_checked += 1
            if progress:
                progress(name)
            if not SHA256_RE.match(name):
                report.damaged.append(name)
                report.details[name] = "unexpected file in blobs/"
            elif _hash_file(path) != name:
                report.damaged.append(name)
                report.details[name] = "content does not hash to its name"
        for sha in sorted(set(referenced_blobs) - present_blobs):
            report.missing.append(sha)
            report.details[sha] = "referenced blob is missing"
        present_warcs = set(self.iter_warcs())
        for name in sorted(present_warcs):
            report.warcs_checked += 1
            if progress:
                progress(name)
            problem = _check_warc(self.warc_dir / name)
            if problem and extents.get(name) is not None and _check_warc(self.warc_dir / name, extents[name]) is None:
                report.incomplete_tails.append(name)
                report.details[name] = f"unreferenced end after byte {extents[name]} cut by an interrupted write: {problem}"
            elif problem:
                report.damaged.append(name)
                report.details[name] = problem
        for name in sorted(set(referenced_warcs) - present_warcs):
            report.missing.append(name)
            report.details[name] = "referenced WARC file is missing"
        return report

    def clean_tmp(self) -> int:
        """Remove leftovers of interrupted writes in ``tmp/`` (never referenced). Returns count."""
        if not self.tmp_dir.is_dir():
            return 0
        removed = 0
        for path in self.tmp_dir.iterdir():
            if path.is_file():
                path.unlink(missing_ok=True)
                removed += 1
            else:
                shutil.rmtree(path, ignore_errors=True)
        return removed


# ---------------------------------------------------------------------- helpers
def _iter_body(body: Body) -> Iterator[bytes]:
    if isinstance(body, (bytes, bytearray)):
        view = memoryview(body)
        for start in range(0, len(view), CHUNK):
            yield view[start:start + CHUNK]
        return
    if isinstance(body, memoryview):
        for start in range(0, len(body), CHUNK):
            yield body[start:start + CHUNK]
        return
    if isinstance(body, Path):
        with open(body, "rb") as fh:
            yield from iter(lambda: fh.read(CHUNK), b"")
        return
    yield from iter(lambda: body.read(CHUNK), b"")


class _GzipMembers:
    """A file-like target for warcio: each ``flush()`` (warcio's last call for a record) ends one
    gzip member, compressed at our level (warcio's own wrapper always uses level 9)."""

    def __init__(self, out: BinaryIO, level: int) -> None:
        self.out = out
        self.level = level
        self._compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS + 16)

    def write(self, data: bytes) -> None:
        self.out.write(self._compressor.compress(data))

    def flush(self) -> None:
        self.out.write(self._compressor.flush())
        self._compressor = zlib.compressobj(self.level, zlib.DEFLATED, zlib.MAX_WBITS + 16)


class _BufferReader:
    """A read-only stream over the caller's buffer, handing out slices without copying it whole."""

    def __init__(self, body: Union[bytes, bytearray, memoryview]) -> None:
        self._view = memoryview(body).cast("B")
        self._pos = 0

    def read(self, size: int = -1) -> Union[bytes, memoryview]:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        chunk = self._view[self._pos:end]
        self._pos = end
        return chunk

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> int:
        self._pos = pos if whence == 0 else (self._pos + pos if whence == 1 else len(self._view) + pos)
        return self._pos

    def close(self) -> None:
        pass


_FSYNC_POOL: Optional[tuple[int, ThreadPoolExecutor]] = None  # (pid, pool): one per process


def _fsync_pool() -> ThreadPoolExecutor:
    global _FSYNC_POOL
    if _FSYNC_POOL is None or _FSYNC_POOL[0] != os.getpid():  # a forked child makes its own
        _FSYNC_POOL = (os.getpid(), ThreadPoolExecutor(FSYNC_THREADS - 1, thread_name_prefix="xxgk-fsync"))
    return _FSYNC_POOL[1]


def _parallel(fn: Callable[[Path], None], paths: list[Path]) -> None:
    """Run fsync-like calls concurrently (they release the GIL; the kernel joins their commits).

    On a pool kept for the process (starting threads for every batch cost more than the fsyncs'
    Python side); at interpreter exit, when the pool refuses work, the calls run here in turn.
    """
    groups = [paths[i::FSYNC_THREADS] for i in range(min(FSYNC_THREADS, len(paths)))]

    def run(group: list[Path]) -> None:
        for path in group:
            fn(path)

    futures = []
    for group in groups[1:]:
        try:
            futures.append(_fsync_pool().submit(run, group))
        except RuntimeError:  # no new work at interpreter shutdown: do it here
            run(group)
    errors: list[BaseException] = []
    try:
        if groups:
            run(groups[0])
    except BaseException as exc:  # noqa: BLE001 - re-raised once the others are done
        errors.append(exc)
    for future in futures:
        error = future.exception()
        if error is not None:
            errors.append(error)
    if errors:
        raise errors[0]


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _header_list(headers: Headers) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, dict) else headers
    pairs = []
    for key, value in items:  # Scrapy's Headers.items() gives (bytes, [bytes, ...])
        for one in (value if isinstance(value, (list, tuple)) else [value]):
            pairs.append((_header_text(key), _header_text(one)))
    return pairs


def _header_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value).replace("\r", " ").replace("\n", " ")


def _http_headers(status: int, reason: str, headers: Headers, size: int) -> StatusAndHeaders:
    kept = []
    for key, value in _header_list(headers):
        if key.lower() in _TRANSPORT_HEADERS:
            kept.append((f"X-Archive-Orig-{key}", value))
        else:
            kept.append((key, value))
    kept.append(("Content-Length", str(size)))
    return StatusAndHeaders(f"{int(status)} {reason or _reason(status)}".strip(), kept,
                            protocol="HTTP/1.1")


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _request_target(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = parts.path or "/"
    return target + (f"?{parts.query}" if parts.query else "")


def _warc_date(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc) if moment.tzinfo else moment
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Prefix(io.RawIOBase):
    """The first ``limit`` bytes of a file, as a stream."""

    def __init__(self, fh: BinaryIO, limit: int) -> None:
        self.fh, self.left = fh, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        view = memoryview(buffer)[:max(0, self.left)]
        n = self.fh.readinto(view) if len(view) else 0
        self.left -= n or 0
        return n or 0


def _open_warc(path: Path, limit: Optional[int]) -> BinaryIO:
    fh = open(path, "rb")
    return fh if limit is None else io.BufferedReader(_Prefix(fh, limit))  # type: ignore[return-value]


def _check_warc(path: Path, limit: Optional[int] = None) -> Optional[str]:
    """Check the gzip members end to end (CRC, truncation), then every record's digests; only the
    first ``limit`` bytes when given.

    None when the file is sound, else a one-line reason.
    """
    try:
        with _open_warc(path, limit) as raw, gzip.open(raw, "rb") as stream:
            for _ in iter(lambda: stream.read(CHUNK), b""):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        return f"damaged gzip data: {exc}".splitlines()[0]
    try:
        with _open_warc(path, limit) as fh:
            iterator = ArchiveIterator(fh, check_digests=True)
            for record in iterator:
                stream = record.content_stream()
                for _ in iter(lambda: stream.read(CHUNK), b""):
                    pass
                if record.digest_checker.passed is False:
                    problems = list(record.digest_checker.problems) or ["digest mismatch"]
                    return f"record at offset {iterator.get_record_offset()}: {problems[0]}"
    except Exception as exc:  # warcio raises a variety of errors on damaged gzip/WARC data
        return f"unreadable WARC: {type(exc).__name__}: {exc}".splitlines()[0]
    return None
