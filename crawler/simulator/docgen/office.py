"""DOC (and WPS) bytes: the DOCX converted by LibreOffice headless to Word 97-2003.

Why one converter for both: .wps files saved by WPS Office are OLE2 compound documents in the
Word binary format, which Word-compatible readers (LibreOffice included) open like a .doc. So the
"wps" kind serves the same OLE2 bytes as "doc"; only the file name differs.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from .docx_render import render_docx
from .spec import ReportSpec

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CONVERT_TIMEOUT_S = 120
_RECENT_LOCK = threading.Lock()


class ConverterMissing(RuntimeError):
    """LibreOffice (soffice) is not installed: DOC/WPS cannot be produced."""


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_with_soffice(data: bytes, source_ext: str, target: str) -> bytes:
    """Convert bytes with `soffice --headless --convert-to TARGET` in a private profile dir."""
    binary = soffice_path()
    if binary is None:
        raise ConverterMissing("soffice not found: install LibreOffice (apt-get install libreoffice-writer)")
    with tempfile.TemporaryDirectory(prefix="docgen-soffice-") as tmp:
        work = Path(tmp)
        source = work / f"report.{source_ext}"
        source.write_bytes(data)
        profile = (work / "profile").as_uri()  # a private profile: parallel runs do not collide
        result = subprocess.run(
            [binary, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--convert-to", target,
             "--outdir", str(work / "out"), str(source)],
            capture_output=True, timeout=CONVERT_TIMEOUT_S, check=False)
        outputs = list((work / "out").glob("report.*")) if (work / "out").exists() else []
        if not outputs:
            raise RuntimeError(f"soffice conversion to {target} failed: {result.stderr.decode(errors='replace')[:200]}")
        return outputs[0].read_bytes()


_RECENT: "OrderedDict[str, bytes]" = OrderedDict()
_RECENT_MAX = 16


def render_doc(spec: ReportSpec) -> bytes:
    """DOC bytes of the spec; the last few conversions are kept so "doc" and "wps" convert once."""
    source = render_docx(spec)
    digest = hashlib.sha256(source).hexdigest()
    with _RECENT_LOCK:
        if digest in _RECENT:
            _RECENT.move_to_end(digest)
            return _RECENT[digest]
    data = convert_with_soffice(source, "docx", "doc")
    if not data.startswith(OLE2_MAGIC):
        raise RuntimeError("soffice produced a .doc that is not an OLE2 file")
    with _RECENT_LOCK:
        _RECENT[digest] = data
        while len(_RECENT) > _RECENT_MAX:
            _RECENT.popitem(last=False)
    return data
