"""Guards shared by the extractors: input size, ZIP bombs, OLE2 sniffing, LibreOffice, sandboxing.

Every guard turns hostile or broken input into a :class:`ParseError` with a one-line reason,
*before* a third-party library gets the chance to hang or exhaust memory on it:

* :func:`check_size` — empty or oversized input.
* :func:`open_zip` / :func:`read_member` — OOXML (DOCX/XLSX) packages: every member's declared
  uncompressed size and compression ratio are checked against :class:`Limits` before anything is
  decompressed, and reads are capped again while decompressing.
* :func:`inspect_ole` — OLE2 files: password-protected OOXML (an ``EncryptedPackage`` container)
  and encrypted Word 97 files are refused with "encrypted document (password required)".
* :func:`convert_with_libreoffice` — LibreOffice headless in a private temp dir with its own user
  profile (concurrent conversions never share one), a wall-clock timeout, and the whole process
  group killed on timeout.
* :func:`run_with_limits` — run any callable in a child process with a timeout and an
  address-space limit, so that a hang or a crash in a third-party parser cannot take the caller
  (a crawl, ``xxgk parse``) down.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any, Callable

from parsers.errors import ParseError
from parsers.limits import Limits

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_MESSAGE = "encrypted document (password required)"

# A member smaller than this may compress as well as it likes: tiny XML parts of repeated
# markup legitimately reach ratios of several hundred.
_RATIO_FLOOR_BYTES = 1024 * 1024
_MAX_ZIP_MEMBERS = 10_000
_READ_CHUNK = 1024 * 1024


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


# --------------------------------------------------------------------------- size


def check_size(data: bytes, limits: Limits, what: str = "document") -> None:
    """Refuse empty input and input larger than ``limits.max_bytes``."""
    if not data:
        raise ParseError(f"empty {what} (0 bytes)")
    if len(data) > limits.max_bytes:
        raise ParseError(f"{what} too large: {_mb(len(data))} (limit {_mb(limits.max_bytes)})")


# --------------------------------------------------------------------------- ZIP (OOXML)


def open_zip(data: bytes, limits: Limits, kind: str = "OOXML") -> zipfile.ZipFile:
    """Open an OOXML package after checking it cannot expand beyond ``limits``.

    The check uses the sizes declared in the central directory; :func:`read_member` and
    Python's ``zipfile`` (which never yields more than the declared size) hold readers to them.
    """
    check_size(data, limits)
    if data.startswith(OLE_MAGIC):
        inspect_ole(data)  # raises for encrypted OOXML
        raise ParseError(f"not a {kind} package: an OLE2 (binary Office) file")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        members = package.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise ParseError(f"corrupt or truncated {kind} package ({_short(exc)})") from None
    if len(members) > _MAX_ZIP_MEMBERS:
        raise ParseError(f"zip bomb suspected: {len(members)} members in the package")
    total = 0
    for member in members:
        if member.flag_bits & 0x1:
            raise ParseError(ENCRYPTED_MESSAGE)
        total += member.file_size
        if total > limits.max_unzipped_bytes:
            raise ParseError(f"zip bomb suspected: package expands to more than "
                             f"{_mb(limits.max_unzipped_bytes)} (limit)")
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR_BYTES and ratio > limits.max_zip_ratio:
            raise ParseError(f"zip bomb suspected: {member.filename} expands {ratio:.0f}x "
                             f"(limit {limits.max_zip_ratio}x)")
    return package


def read_member(package: zipfile.ZipFile, name: str, limits: Limits) -> bytes:
    """Read one member, stopping as soon as it exceeds what it declared or the global limit."""
    try:
        info = package.getinfo(name)
    except KeyError:
        raise ParseError(f"corrupt OOXML package: missing {name}") from None
    cap = min(info.file_size, limits.max_unzipped_bytes)
    buffer = bytearray()
    try:
        with package.open(info) as stream:
            while chunk := stream.read(_READ_CHUNK):
                buffer += chunk
                if len(buffer) > cap:
                    raise ParseError(f"zip bomb suspected: {name} expands beyond its declared size")
    except ParseError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError) as exc:
        raise ParseError(f"corrupt or truncated OOXML package: {name} ({_short(exc)})") from None
    except Exception as exc:  # zlib.error and friends
        raise ParseError(f"corrupt OOXML package: {name} ({_short(exc)})") from None
    return bytes(buffer)


# --------------------------------------------------------------------------- OLE2


def inspect_ole(data: bytes) -> set[str]:
    """Stream names (lower case, top level) of an OLE2 file; refuse encrypted documents.

    Password-protected DOCX/XLSX are not ZIPs but OLE2 containers holding ``EncryptionInfo``
    and ``EncryptedPackage``; encrypted Word 97 files set ``fEncrypted`` in the FIB. Both would
    make LibreOffice fail obscurely (or wait for a password), so they are refused here.
    """
    import olefile

    if not data.startswith(OLE_MAGIC):
        raise ParseError("not an OLE2 (binary Office) file")
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            names = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=False)}
            if "encryptedpackage" in names or "encryptioninfo" in names:
                raise ParseError(ENCRYPTED_MESSAGE)
            if "worddocument" in names:
                _check_word_fib(ole.openstream("WordDocument").read(64))
    except ParseError:
        raise
    except Exception as exc:  # olefile raises OSError, struct.error, IndexError... on garbage
        raise ParseError(f"corrupt or truncated OLE2 document ({_short(exc)})") from None
    return names


def _check_word_fib(fib: bytes) -> None:
    """Word 97-2003 FIB: 0xA5EC magic, flags at 0x0A with fEncrypted = 0x0100."""
    if len(fib) < 12:
        raise ParseError("corrupt Word document: truncated header")
    flags = int.from_bytes(fib[10:12], "little")
    if flags & 0x0100:
        raise ParseError(ENCRYPTED_MESSAGE)


# --------------------------------------------------------------------------- LibreOffice


def find_soffice() -> str | None:
    """The LibreOffice executable, or None. ``XXGK_SOFFICE`` overrides the search."""
    override = os.environ.get("XXGK_SOFFICE")
    if override is not None:
        return shutil.which(override) if override else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_with_libreoffice(data: bytes, input_suffix: str, target: str, timeout_s: float,
                             what: str) -> bytes:
    """Convert a document with LibreOffice headless and return the converted bytes.

    ``input_suffix`` (e.g. ``.doc``) helps LibreOffice's type detection; ``target`` is the
    ``--convert-to`` argument (``docx``, ``xlsx``); ``what`` names the formats in the error
    message ("cannot read .doc/.wps"). Each call has its own temp dir and its own user profile
    (``-env:UserInstallation``), so concurrent conversions never collide; LibreOffice runs in its
    own process group which is killed as a whole on timeout.
    """
    soffice = find_soffice()
    if not soffice:
        raise ParseError(f"LibreOffice (soffice) not installed: cannot read {what}")
    with tempfile.TemporaryDirectory(prefix="xxgk-lo-") as tmp:
        work = Path(tmp)
        source = work / f"input{input_suffix}"
        source.write_bytes(data)
        out_dir = work / "out"
        out_dir.mkdir()
        command = [soffice, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless",
                   "--invisible", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
                   "--convert-to", target, "--outdir", str(out_dir), str(source)]
        _run_converter(command, work, timeout_s)
        produced = sorted(out_dir.glob(f"*.{target.split(':')[0]}"))
        if not produced:
            raise ParseError(f"LibreOffice could not convert the document to {target} "
                             "(corrupt or unsupported file)")
        return produced[0].read_bytes()


def _run_converter(command: list[str], work: Path, timeout_s: float) -> None:
    env = dict(os.environ, HOME=str(work), TMPDIR=str(work), SAL_USE_VCLPLUGIN="svp")
    env.pop("DISPLAY", None)
    try:
        process = subprocess.Popen(command, cwd=work, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   process_group=0)
    except OSError as exc:
        raise ParseError(f"LibreOffice could not be started ({_short(exc)})") from None
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        process.wait()
        raise ParseError(f"LibreOffice conversion timed out after {timeout_s:g}s") from None
    finally:
        # oosplash exits before soffice.bin lets go in rare cases: leave nothing behind.
        _kill_group(process.pid)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --------------------------------------------------------------------------- sandbox


def run_with_limits(func: Callable[..., Any], *args: Any, timeout_s: float,
                    memory_mb: int | None = 1024, **kwargs: Any) -> Any:
    """Run ``func(*args, **kwargs)`` in a child process and return its result.

    The child gets ``RLIMIT_AS = memory_mb`` (soft limit) and the parent waits at most
    ``timeout_s`` seconds. Failures become :class:`ParseError`: "timed out after Ns",
    "out of memory", "parser crashed: signal N"; a ``ParseError`` raised by ``func`` comes back
    as is and any other exception as "parser error: Type: message". ``func`` and its arguments
    must be picklable (a module-level function). The child leads its own session, and every
    process left in that session (e.g. a LibreOffice it started) is killed when it ends.
    """
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(sender, func, args, kwargs, memory_mb),
                            daemon=True)
    child.start()
    sender.close()
    try:
        outcome = _await_outcome(receiver, child, timeout_s)
    finally:
        receiver.close()
        _end_child(child)
    return _unwrap(outcome, child.exitcode)


# Imported once by the fork server, so each sandboxed parse starts with the parsers loaded
# instead of importing them again (~0.3 s a call). Missing modules are skipped by multiprocessing.
SANDBOX_PRELOAD = ["parsers.pipeline", "parsers.extract.html", "parsers.extract.pdf",
                   "parsers.extract.docx", "parsers.extract.office", "parsers.extract.text"]
_preload_lock = threading.Lock()
_preload_done = False


def _context() -> multiprocessing.context.BaseContext:
    global _preload_done
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    with _preload_lock:
        if not _preload_done:
            context.set_forkserver_preload(SANDBOX_PRELOAD)
            _preload_done = True
    return context


def _await_outcome(receiver: Any, child: Any, timeout_s: float) -> tuple[str, Any] | None:
    if not receiver.poll(timeout_s):
        child.kill()
        raise ParseError(f"timed out after {timeout_s:g}s")
    try:
        return receiver.recv()
    except (EOFError, OSError):
        return None  # the child died without answering
    except Exception as exc:  # the result could not be unpickled
        return ("error", f"parser error: unreadable result ({_short(exc)})")


def _end_child(child: Any) -> None:
    """End the child and everything left in its session (e.g. a LibreOffice it started)."""
    pid = child.pid
    if pid is not None:
        for member in _session_members(pid):
            if member != pid:
                _kill_quietly(member)
    child.join(1)
    if child.is_alive():
        child.kill()
        child.join()


def _kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _session_members(session_id: int) -> list[int]:
    """PIDs whose session is ``session_id`` (Linux /proc), the session leader itself included."""
    members = [session_id]
    proc = Path("/proc")
    if not proc.is_dir():
        return members
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == session_id:
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()  # after "pid (comm) "
        if len(fields) > 3 and fields[3] == str(session_id):
            members.append(int(entry.name))
    return members


def _unwrap(outcome: tuple[str, Any] | None, exitcode: int | None) -> Any:
    if outcome is None:
        if exitcode is not None and exitcode < 0:
            raise ParseError(f"parser crashed: signal {-exitcode}")
        raise ParseError(f"parser crashed: exit status {exitcode}")
    status, payload = outcome
    if status == "ok":
        return payload
    raise ParseError(payload)


def _child_main(sender: Any, func: Callable[..., Any], args: tuple, kwargs: dict,
                memory_mb: int | None) -> None:
    os.setsid()
    if memory_mb:
        _limit_address_space(memory_mb)
    try:
        outcome: tuple[str, Any] = ("ok", func(*args, **kwargs))
    except MemoryError:
        outcome = ("error", "out of memory")
    except ParseError as exc:
        outcome = ("error", str(exc))
    except BaseException as exc:  # noqa: BLE001 - everything must reach the parent as one line
        outcome = ("error", f"parser error: {type(exc).__name__}: {_short(exc)}")
    try:
        sender.send(outcome)
    except MemoryError:
        sender.send(("error", "out of memory"))
    except Exception as exc:  # an unpicklable result
        sender.send(("error", f"parser error: result not transferable ({_short(exc)})"))
    finally:
        sender.close()


def _limit_address_space(memory_mb: int) -> None:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
