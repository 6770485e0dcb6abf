"""The object-storage host of Hanweb sites (an Aliyun-OSS look-alike).

URL shape: ``/jcms_files/jcms1/web<webid>/site/attach/-1/<32hex>.<ext>``. ``downfile.jsp`` on a
Hanweb site answers 302 to this host; a crawler must have it in the source's scope
(``scope_hosts`` of the Hanweb registry entries lists it). Served as plain static files with
ETag/Last-Modified, like OSS.
"""

from __future__ import annotations

from typing import Optional

from ..http import Reply, SimRequest
from .base import Site


class StorageSite(Site):
    archetype = "storage"
    platform = "storage"

    def populate(self) -> None:
        self.site_name = "jcms-public-oss"
        self.objects: dict[str, tuple[str, int]] = {}  # path -> (site name, item id)

    def publish(self, path: str, site: str, item_id: int) -> str:
        """Register an object; returns its absolute URL (valid once the server is bound)."""
        self.objects[path] = (site, item_id)
        return path

    def handle(self, request: SimRequest) -> Optional[Reply]:
        target = self.objects.get(request.path)
        if target is None:
            return Reply(status=404, body=b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code></Error>",
                         content_type="application/xml")
        site = self.sim.site(target[0])
        item = site.item(target[1])
        return site.file_reply(item) if item else None
