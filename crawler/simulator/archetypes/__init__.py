"""The six portal archetypes of portals.md §7, one module each (URL shapes in each docstring).

  trs.py       A  trs-static       TRS WCM static columns, createPageHTML pager, GBK variant
  hanweb.py    B  hanweb-jcms      column page with <datastore>, dataproxy.jsp XML API, downfile.jsp
  gkmlpt.py    C  gkmlpt-json      Guangdong SPA shell + JSON GET API
  postjson.py  D  post-json-api    intertid form POST, EWB JSON POST, Athena-lite token + POST
  county.py    E  county-aggregator the messy long tail (shells, iframes, soft-404s, duplicates)
  waf.py       F  waf-guarded      412/521 challenges, 302 cookie, 429 + Retry-After, robots.txt
  storage.py      the "OSS" host Hanweb attachments redirect to
"""

from __future__ import annotations

from .base import Site
from .county import CountySite
from .gkmlpt import GkmlptSite
from .hanweb import HanwebSite
from .postjson import AthenaSite, EwbSite, IntertidSite
from .storage import StorageSite
from .trs import TrsSite
from .waf import WafSite

SITE_CLASSES: dict[str, type[Site]] = {
    "trs": TrsSite, "hanweb": HanwebSite, "storage": StorageSite, "gkmlpt": GkmlptSite,
    "intertid": IntertidSite, "ewb": EwbSite, "athena": AthenaSite, "county": CountySite, "waf": WafSite,
}
