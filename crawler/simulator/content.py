"""Document bytes, made lazily: generated reports (docgen), real corpus files, and non-report texts.

Why lazy: a 10,000-document portal must start at once and stay small. Every document is a pure
function of (seed, item id, version, kind), rendered the first time it is requested and kept in a
bounded LRU cache. The real corpus files are read from disk on request, never preloaded.
"""

from __future__ import annotations

import hashlib
import html
import random
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Optional

from .model import Item

try:  # the real generator (written alongside); the fallback keeps the simulator usable meanwhile
    from . import docgen as _docgen
    DOCGEN_IS_FALLBACK = False
except ImportError:  # pragma: no cover - depends on what has landed
    from . import fallback_docgen as _docgen  # type: ignore[no-redef]
    DOCGEN_IS_FALLBACK = True

CORPUS_DOCUMENTS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "corpus" / "documents"
CORPUS_LABELS = CORPUS_DOCUMENTS.parent / "labels"

MEDIA_TYPES = {
    "html": "text/html", "html-gbk": "text/html", "pdf": "application/pdf",
    "pdf-scanned": "application/pdf", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword", "wps": "application/vnd.ms-works", "xlsx":
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "png": "image/png",
    "txt": "text/plain", "md": "text/markdown",
}
EXTENSIONS = {"html": "html", "html-gbk": "html", "pdf": "pdf", "pdf-scanned": "pdf", "docx": "docx",
              "doc": "doc", "wps": "wps", "xlsx": "xlsx", "png": "png", "txt": "txt", "md": "md"}


class LRUBytes:
    """A thread-safe LRU of rendered documents bounded by total bytes (not by count)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._data: OrderedDict[Any, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> Optional[bytes]:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Any, value: bytes) -> None:
        with self._lock:
            if key in self._data:
                return
            self._data[key] = value
            self._size += len(value)
            while self._size > self.max_bytes and len(self._data) > 1:
                _, old = self._data.popitem(last=False)
                self._size -= len(old)

    def __len__(self) -> int:
        return len(self._data)


class ContentStore:
    """Renders report specs, document bytes and non-report bodies for items, deterministically."""

    def __init__(self, seed: int, cache_bytes: int = 64 * 1024 * 1024) -> None:
        self.seed = seed
        self.cache = LRUBytes(cache_bytes)
        self._value_overrides: dict[tuple[int, int], dict[str, Any]] = {}

    # ---- report specs and truth -------------------------------------------------------------
    def values(self, item: Item) -> dict[str, Any]:
        """The table values of a generated report (version-aware)."""
        override = self._value_overrides.get((item.item_id, item.version))
        if override is not None:
            return dict(override)
        rng = random.Random(f"{self.seed}:{item.item_id}:{item.version}")
        return _docgen.random_values(item.fmt, rng)

    def set_values(self, item: Item, values: dict[str, Any]) -> None:
        self._value_overrides[(item.item_id, item.version)] = dict(values)

    def spec(self, item: Item) -> Any:
        year = item.year if item.year is not None else item.published.year - 1
        title = item.title.replace("（图片版）", "")
        return _docgen.ReportSpec(agency=item.agency.name, year=year, fmt=item.fmt, values=self.values(item),
                                  title=title)

    def expected_record(self, item: Item) -> dict[str, Any]:
        if item.corpus_file:
            return corpus_label(item.corpus_file)
        return _docgen.expected_record(self.spec(item))

    # ---- bytes -------------------------------------------------------------------------------
    def document(self, item: Item, kind: Optional[str] = None) -> bytes:
        """The document file of a report (or the corpus file), rendered once and cached."""
        kind = kind or item.file_kind or "html"
        key = (item.item_id, item.version, kind)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        if item.corpus_file:
            data = (CORPUS_DOCUMENTS / item.corpus_file).read_bytes()
        else:
            data = _docgen.render(self.spec(item), kind)
        self.cache.put(key, data)
        return data

    def report_body_html(self, item: Item) -> str:
        """The inner HTML of a generated report's body, to be wrapped in a site's page chrome."""
        page = self.document(item, "html").decode("utf-8", errors="replace")
        start = page.find('<div class="WordSection1"')
        end = page.rfind("</div></div>", 0, page.find('<div class="article_print"'))
        if start >= 0 and end > start:  # docgen's Word-exported article, without its page chrome
            return page[start:end + len("</div>")]
        match = re.search(r"<body[^>]*>(.*)</body>", page, re.S | re.I)
        return match.group(1) if match else page

    def filler_html(self, item: Item, sentences: int = 6) -> str:
        """The body of a non-report item (news, 解读, letter): plausible text without report tables."""
        rng = random.Random(f"{self.seed}:filler:{item.item_id}")
        phrases = ["深入贯彻落实党中央、国务院决策部署", "持续推进政务公开标准化规范化建设",
                   "围绕中心工作做好政策解读", "加强政务新媒体管理", "优化营商环境",
                   "召开专题会议研究部署", "回应社会关切", "推动基层政务公开", "强化监督保障"]
        paragraphs = ["<p class=\"MsoNormal\">" + "，".join(rng.sample(phrases, 3)) + "。</p>"
                      for _ in range(sentences)]
        return f"<p>{html.escape(item.title)}</p>" + "".join(paragraphs)


def media_type(kind: str) -> str:
    return MEDIA_TYPES.get(kind, "application/octet-stream")


def extension(kind: str) -> str:
    return EXTENSIONS.get(kind, "bin")


def hex_name(*parts: Any, length: int = 32) -> str:
    """A stable opaque file name like the 32-hex names of Hanweb attachments."""
    return hashlib.md5(":".join(map(str, parts)).encode()).hexdigest()[:length]


_LABEL_CACHE: dict[str, dict[str, Any]] = {}


def corpus_label(file_name: str) -> dict[str, Any]:
    """The hand-verified label of a corpus document ({} values when the file has no label)."""
    if file_name not in _LABEL_CACHE:
        import json
        path = CORPUS_LABELS / f"{file_name}.json"
        _LABEL_CACHE[file_name] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    return dict(_LABEL_CACHE[file_name])
