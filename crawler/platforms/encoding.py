"""Decode a page the way a browser would, and repair the cases where Scrapy's choice is wrong.

Precedence (w3lib): BOM, then the HTTP header charset, then ``<meta charset>``, then detection.
Real portals break it in two ways: a header that says UTF-8 over a GBK body (Scrapy then yields
replacement characters), and no charset anywhere. We take Scrapy's decoding when it is clean and
otherwise try the page's own ``<meta>`` charset, then GB18030 (a superset of gb2312 and GBK, as
w3lib does for the declared names), then UTF-8.
"""

from __future__ import annotations

import re

from scrapy.http import Response, TextResponse

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_GB_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030",
               "cp936": "gb18030", "euc-cn": "gb18030"}
REPLACEMENT = "\ufffd"


def normalize_charset(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    return _GB_ALIASES.get(name, name)


def meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:4096])
    return normalize_charset(match.group(1).decode("ascii", "ignore")) if match else None


def _clean(text: str) -> bool:
    return text.count(REPLACEMENT) <= max(2, len(text) // 2000)


def decode_body(body: bytes, scrapy_text: str | None = None) -> str:
    """The page text with the most plausible encoding (see module docstring)."""
    if scrapy_text is not None and _clean(scrapy_text):
        return scrapy_text
    for charset in (meta_charset(body), "utf-8", "gb18030"):
        if not charset:
            continue
        try:
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("gb18030", errors="replace")


def page_text(response: Response) -> str:
    """Decoded text of any response (binary responses decode as best they can)."""
    scrapy_text = response.text if isinstance(response, TextResponse) else None
    return decode_body(response.body, scrapy_text)
