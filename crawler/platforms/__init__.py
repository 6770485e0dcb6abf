"""Platform adapters: one pure module per CMS family, and :func:`detect` to choose one.

Each module has ``NAME``, ``detect(response) -> bool`` and ``parse_listing(response) -> Listing``.
Detection runs from the most specific fingerprint to the least (portals.md §8): gkmlpt, Hanweb,
POST-API families, TRS, and the generic HTML list as the fallback.
"""

from __future__ import annotations

from types import ModuleType

from scrapy.http import Response

from crawler.platforms import generic, gkmlpt, hanweb, postapi, trs
from crawler.platforms.base import Listing, ReportLink
from crawler.platforms.detail import Attachment, Detail, parse_detail

ADAPTERS: dict[str, ModuleType] = {m.NAME: m for m in (gkmlpt, hanweb, postapi, trs, generic)}
PLATFORMS = tuple(ADAPTERS)
# registry spellings that mean the same family
ALIASES = {"trs-static": "trs", "trs_wcm": "trs", "hanweb-jcms": "hanweb", "jcms": "hanweb",
           "gkmlpt-json": "gkmlpt", "post-json-api": "postapi", "intertid": "postapi",
           "ewb": "postapi", "athena": "postapi", "county-aggregator": "generic", "static": "generic",
           "auto": "", "": ""}

__all__ = ["ADAPTERS", "PLATFORMS", "Listing", "ReportLink", "Detail", "Attachment", "adapter_for",
           "detect", "parse_detail", "canonical_platform"]


def canonical_platform(name: str | None) -> str:
    """The adapter name for a registry's platform value ('' = auto-detect)."""
    key = (name or "").strip().lower()
    key = ALIASES.get(key, key)
    if key and key not in ADAPTERS:
        raise ValueError(f"unknown platform {name!r} (known: {', '.join(PLATFORMS)})")
    return key


def detect(response: Response) -> str:
    """The name of the first adapter whose fingerprint matches the response."""
    for name, module in ADAPTERS.items():
        if module.detect(response):
            return name
    return generic.NAME


def adapter_for(response: Response, platform: str | None = None) -> ModuleType:
    return ADAPTERS[canonical_platform(platform) or detect(response)]
