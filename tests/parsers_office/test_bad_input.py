"""Bad Word/Excel input → one-line ParseError, never a hang: empty, truncated, corrupt, encrypted,
zip bombs, huge sheets, LibreOffice missing or hanging. Every bad file is generated here."""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
from pathlib import Path

import msoffcrypto.format.ooxml
import olefile
import openpyxl
import pytest

from parsers import ParseError, sniff
from parsers.extract import extract
from parsers.extract.docx import extract_docx
from parsers.extract.office import extract_legacy_word, extract_xls, extract_xlsx
from parsers.limits import DEFAULT_LIMITS, Limits

from .builders import TEMPLATE, p, raw_docx, requires_soffice

EXTRACTORS = [extract_docx, extract_legacy_word, extract_xlsx, extract_xls]


def assert_one_line_error(func, data: bytes, expected: str, limits: Limits = DEFAULT_LIMITS):
    with pytest.raises(ParseError) as caught:
        func(data, limits)
    message = str(caught.value)
    assert "\n" not in message
    assert expected in message, message
    return message


@pytest.mark.parametrize("func", EXTRACTORS, ids=lambda f: f.__name__)
def test_empty_input(func):
    assert_one_line_error(func, b"", "empty document")


@pytest.mark.parametrize("func", EXTRACTORS, ids=lambda f: f.__name__)
def test_input_over_the_size_limit(func):
    assert_one_line_error(func, b"PK\x03\x04" + b"\0" * 2048, "too large", Limits(max_bytes=1024))


def test_truncated_docx():
    data = TEMPLATE.read_bytes()
    for length in (len(data) // 2, len(data) - 100, 30):
        assert_one_line_error(extract_docx, data[:length], "corrupt or truncated DOCX")


def test_garbage_named_docx_and_xlsx():
    garbage = os.urandom(4096)
    media_type = sniff.sniff(garbage, "report.docx")
    assert media_type == sniff.DOCX
    assert_one_line_error(lambda d, l: extract(d, media_type, l), garbage, "corrupt or truncated")
    assert_one_line_error(extract_xlsx, garbage, "corrupt or truncated XLSX")


def test_zip_that_is_not_a_word_document():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("hello.txt", "你好")
    assert_one_line_error(extract_docx, buffer.getvalue(), "no word/document.xml")
    assert_one_line_error(extract_xlsx, buffer.getvalue(), "corrupt XLSX workbook")


def test_malformed_document_xml():
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw_docx(p("x")))) as source, \
            zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            target.writestr(name, content[:-40] if name == "word/document.xml" else content)
    assert_one_line_error(extract_docx, buffer.getvalue(), "not well-formed XML")


def test_entity_expansion_is_not_performed():
    """A billion-laughs DOCX: entities are left unexpanded (and the text stays small)."""
    laughs = ('<!DOCTYPE w:document [<!ENTITY a "hahahahahahahahahaha">'
              + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'
                        for i in range(8)) + "]>")
    data = raw_docx(p("&i;"))
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = {name: source.read(name) for name in source.namelist()}
    document = members["word/document.xml"].decode()
    head, _, rest = document.partition("?>")
    members["word/document.xml"] = (head + "?>" + laughs + rest).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name, content in members.items():
            target.writestr(name, content)
    try:
        extraction = extract_docx(buffer.getvalue(), DEFAULT_LIMITS)
    except ParseError as exc:
        assert "\n" not in str(exc)
    else:
        assert len(extraction.text) < 1000


def _encrypted(data: bytes) -> bytes:
    out = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(data)).encrypt("secret", out)
    return out.getvalue()


def test_password_protected_docx_and_xlsx():
    encrypted_docx = _encrypted(TEMPLATE.read_bytes())
    for func in EXTRACTORS:
        assert_one_line_error(func, encrypted_docx, "encrypted document (password required)")
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "x"
    buffer = io.BytesIO()
    workbook.save(buffer)
    encrypted_xlsx = _encrypted(buffer.getvalue())
    media_type = sniff.sniff(encrypted_xlsx, "report.xlsx")
    assert_one_line_error(lambda d, l: extract(d, media_type, l), encrypted_xlsx,
                          "encrypted document (password required)")


@requires_soffice
def test_password_protected_doc(filled_doc, tmp_path):
    """A Word 97 file with fEncrypted set in its FIB is refused before LibreOffice sees it."""
    path = tmp_path / "encrypted.doc"
    path.write_bytes(filled_doc)
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        fib = bytearray(ole.openstream("WordDocument").read())
        flags = struct.unpack_from("<H", fib, 10)[0] | 0x0100
        struct.pack_into("<H", fib, 10, flags)
        ole.write_stream("WordDocument", bytes(fib))
    assert_one_line_error(extract_legacy_word, path.read_bytes(),
                          "encrypted document (password required)")


def test_corrupt_ole2_files():
    truncated_ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(2000)
    for func in EXTRACTORS:
        assert_one_line_error(func, truncated_ole, "corrupt")


def test_not_a_word_document_is_not_sent_to_libreoffice():
    assert_one_line_error(extract_legacy_word, os.urandom(3000).replace(b"PK", b"pk"),
                          "not a Word document")


def _bomb(member: str, size: int, extra: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in (extra or {}).items():
            package.writestr(name, content)
        with package.open(member, "w", force_zip64=True) as stream:
            chunk = b" " * (1024 * 1024)
            for _ in range(size // len(chunk)):
                stream.write(chunk)
    return buffer.getvalue()


def test_zip_bomb_docx_by_ratio():
    """5 MB of spaces compress ~1000x: refused by ratio before any decompression."""
    bomb = _bomb("word/document.xml", 5 * 1024 * 1024)
    assert len(bomb) < 100_000
    assert_one_line_error(extract_docx, bomb, "zip bomb suspected: word/document.xml expands")


def test_zip_bomb_docx_by_total_size():
    limits = Limits(max_unzipped_bytes=3 * 1024 * 1024, max_zip_ratio=10**6)
    assert_one_line_error(extract_docx, _bomb("word/media/image1.png", 4 * 1024 * 1024),
                          "zip bomb suspected: package expands", limits)


def test_zip_bomb_xlsx():
    assert_one_line_error(extract_xlsx, _bomb("xl/worksheets/sheet1.xml", 5 * 1024 * 1024),
                          "zip bomb suspected")


def test_member_lying_about_its_size_is_stopped_while_reading():
    """The central directory declares 1 KB for a 2 MB document.xml: reading stops at 1 KB."""
    honest = raw_docx(p("x" * (2 * 1024 * 1024)))
    directory = honest.rindex(b"PK\x01\x02")
    data = bytearray(honest)
    entry = directory
    while True:  # find the central directory entry of word/document.xml
        name_length = struct.unpack_from("<H", data, entry + 28)[0]
        name = bytes(data[entry + 46:entry + 46 + name_length])
        if name == b"word/document.xml":
            break
        entry = data.rindex(b"PK\x01\x02", 0, entry)
    struct.pack_into("<I", data, entry + 24, 1024)
    assert_one_line_error(extract_docx, bytes(data), "corrupt")


def test_huge_xlsx_is_refused_by_the_cell_limit():
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("big")
    for r in range(500):
        sheet.append([r] * 10)
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert_one_line_error(extract_xlsx, buffer.getvalue(), "too many table cells",
                          Limits(max_table_cells=1000))


def test_docx_with_too_many_table_cells():
    from .builders import tbl, tc, tr

    rows = [tr(*[tc(str(c)) for c in range(20)]) for _ in range(60)]
    assert_one_line_error(extract_docx, raw_docx(tbl(20, *rows)), "too many table cells",
                          Limits(max_table_cells=1000))


def test_docx_with_absurd_grid_span():
    from .builders import tbl, tc, tr

    body = tbl(2, tr(tc("a", props='<w:gridSpan w:val="99999999"/>'), tc("b")))
    assert_one_line_error(extract_docx, raw_docx(body), "table too wide")


def test_docx_text_over_the_limit():
    assert_one_line_error(extract_docx, raw_docx(p("字" * 2000)), "document text too long",
                          Limits(max_text_chars=1000))


def test_libreoffice_missing(filled_docx, monkeypatch):
    monkeypatch.setenv("XXGK_SOFFICE", "")
    ole_doc = _fake_word97()
    assert_one_line_error(extract_legacy_word, ole_doc,
                          "LibreOffice (soffice) not installed: cannot read .doc/.wps")


def _fake_word97() -> bytes:
    """A minimal OLE2 file with WordDocument and 1Table streams and a clean FIB, made without
    LibreOffice (so the "missing"/"hanging" tests need none): the container of an encrypted
    DOCX with its streams renamed and rewritten in place."""
    data = bytearray(_encrypted(TEMPLATE.read_bytes()))
    for old, new in (("EncryptedPackage", "WordDocument\0\0\0\0"),
                     ("EncryptionInfo", "1Table\0\0\0\0\0\0\0\0")):
        data = data.replace(old.encode("utf-16-le"), new.encode("utf-16-le"))
    fixed = _fix_name_length(_fix_name_length(bytes(data), "WordDocument"), "1Table")
    with olefile.OleFileIO(io.BytesIO(fixed)) as ole:
        size = ole.get_size("WordDocument")
    buffer = io.BytesIO(fixed)
    with olefile.OleFileIO(buffer, write_mode=True) as ole:
        ole.write_stream("WordDocument", b"\xec\xa5" + b"\0" * (size - 2))
    return buffer.getvalue()


def _fix_name_length(data: bytes, name: str) -> bytes:
    encoded = name.encode("utf-16-le")
    position = data.index(encoded)
    buffer = bytearray(data)
    struct.pack_into("<H", buffer, position + 64, len(encoded) + 2)
    return bytes(buffer)


def test_libreoffice_hanging_is_killed_with_its_process_group(tmp_path, monkeypatch):
    """A converter that never finishes (and has a child of its own) is killed, group and all."""
    pid_file = tmp_path / "child.pid"
    script = tmp_path / "soffice"
    script.write_text(f"#!/bin/sh\nsleep 3600 &\necho $! > {pid_file}\nwait\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("XXGK_SOFFICE", str(script))
    assert_one_line_error(extract_legacy_word, _fake_word97(),
                          "LibreOffice conversion timed out after 1s", Limits(convert_timeout_s=1))
    child = int(pid_file.read_text())
    assert not _alive(child)


def test_libreoffice_failing_to_convert(tmp_path, monkeypatch):
    script = tmp_path / "soffice"
    script.write_text("#!/bin/sh\nexit 1\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("XXGK_SOFFICE", str(script))
    assert_one_line_error(extract_legacy_word, _fake_word97(), "LibreOffice could not convert")


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/stat")
    if not status.exists():
        return False
    return status.read_text().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead
