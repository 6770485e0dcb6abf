"""Real CJK fonts for generated PDFs, found on the machine (fonts-noto-cjk, fonts-wqy-zenhei).

Why a conversion: ReportLab embeds only TrueType (glyf) outlines, while Noto Serif CJK ships CFF
outlines. Real reports are set in 宋体/仿宋, a serif face, so we subset Noto Serif CJK SC to the
GB2312 repertoire and convert it to TrueType once (fontTools, ~10 s), caching the result on disk.
WenQuanYi Zen Hei (TrueType already) stands in for 黑体 headings, and for everything when the
serif face or fontTools is missing.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

CACHE_VERSION = "1"
_LOCK = threading.Lock()
_REGISTERED: Optional["FontSet"] = None


@dataclass(frozen=True)
class FontSet:
    """ReportLab font names registered for the body (宋体-like) and headings (黑体-like)."""

    song: str
    hei: str


class NoCJKFont(RuntimeError):
    """No CJK TrueType/OpenType font is installed (apt-get install fonts-noto-cjk fonts-wqy-zenhei)."""


def _fc_list() -> list[tuple[str, str]]:
    """(file, family) pairs of the installed Chinese fonts, via fontconfig."""
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file", "family"], capture_output=True, text=True,
                             timeout=20, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    pairs = []
    for line in out.splitlines():
        path, _, family = line.partition(":")
        pairs.append((path.strip(), family.strip()))
    return pairs


def _find(pairs: list[tuple[str, str]], family_word: str, fallback_paths: tuple[str, ...]) -> Optional[str]:
    for path, family in pairs:
        if family_word in family and Path(path).exists():
            return path
    return next((p for p in fallback_paths if Path(p).exists()), None)


def find_serif_ttc() -> Optional[str]:
    return _find(_fc_list(), "Noto Serif CJK SC", ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",))


def find_zenhei() -> Optional[str]:
    return _find(_fc_list(), "WenQuanYi Zen Hei", ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",))


def cache_dir() -> Path:
    base = os.environ.get("XXGK_DOCGEN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "xxgk-docgen")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _gb2312_text() -> str:
    chars = [chr(c) for c in range(0x20, 0x7F)]
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return "".join(chars) + "—“”‘’…·"


def _ttc_index(path: str, name_part: str) -> int:
    from fontTools.ttLib import TTCollection
    collection = TTCollection(path, lazy=True)
    for index, font in enumerate(collection.fonts):
        if name_part in font["name"].getDebugName(4):
            return index
    return 0


def convert_cff_to_truetype(source: str, target: Path, name_part: str = "Noto Serif CJK SC") -> None:
    """Subset a CFF CJK font to GB2312 and rewrite its outlines as TrueType quadratics."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(source, fontNumber=_ttc_index(source, name_part))
    options = subset.Options()
    options.layout_features, options.name_IDs = [], ["*"]
    options.notdef_outline, options.hinting, options.desubroutinize = True, False, True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=_gb2312_text())
    subsetter.subset(font)
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = font.getGlyphOrder(), {}
    for name in font.getGlyphOrder():
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["glyf"], font["loca"] = glyf, newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements", "maxComponentDepth",
                 "maxPoints", "maxContours", "maxCompositePoints", "maxCompositeContours"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType, post.extraNames, post.mapping = 2.0, [], {}
    font.sfntVersion = "\x00\x01\x00\x00"
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".tmp", delete=False) as handle:
        tmp = Path(handle.name)
    font.save(str(tmp))
    tmp.replace(target)  # atomic: concurrent workers never read a half-written font


def serif_truetype() -> Optional[Path]:
    """The cached TrueType serif (宋体-like) font, converting it on first use; None if impossible."""
    target = cache_dir() / f"noto-serif-sc-gb2312-v{CACHE_VERSION}.ttf"
    if target.exists():
        return target
    source = find_serif_ttc()
    if source is None:
        return None
    try:
        convert_cff_to_truetype(source, target)
    except ImportError:
        return None
    return target


def register_fonts() -> FontSet:
    """Register the CJK fonts with ReportLab once per process and return their names."""
    global _REGISTERED
    with _LOCK:
        if _REGISTERED is not None:
            return _REGISTERED
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        zenhei = find_zenhei()
        serif = serif_truetype()
        if zenhei is None and serif is None:
            raise NoCJKFont("no CJK font found: apt-get install fonts-noto-cjk fonts-wqy-zenhei")
        if zenhei is not None:
            pdfmetrics.registerFont(TTFont("DocgenHei", zenhei, subfontIndex=0))
        if serif is not None:
            pdfmetrics.registerFont(TTFont("DocgenSong", str(serif)))
        _REGISTERED = FontSet(song="DocgenSong" if serif else "DocgenHei",
                              hei="DocgenHei" if zenhei else "DocgenSong")
        return _REGISTERED
