"""The base of every simulated site: identity, columns, robots.txt, ground truth, registry entries.

A site is reached at ``http://127.0.0.1:<port>/`` (one port per site, the scheme a crawler can use
without DNS tricks) and also by its virtual host name ``<name>.sim.test`` in the Host header on any
simulator port. Subclasses implement ``handle`` (URL shapes listed in each module's docstring) and
``document_urls`` (where the report bytes live, for the ground truth).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import TYPE_CHECKING, Any, Optional

from ..content import ContentStore, extension, media_type
from ..http import Reply, SimRequest
from ..model import Agency, Column, Item

if TYPE_CHECKING:
    from ..population import World


@dataclass
class SiteOptions:
    """Per-site knobs; profiles set them, tests may override any via ``Simulator(sites=[...])``."""

    docs: int = 40  # about how many listed items the site's columns hold in total
    per_page: int = 20
    kinds: Optional[list[tuple[str, Optional[str], float]]] = None  # report forms and file kinds
    extra: dict[str, Any] = field(default_factory=dict)


class Site:
    archetype = "base"
    platform = "static"  # the registry's platform name for this site's columns

    def __init__(self, name: str, world: "World", content: ContentStore, options: SiteOptions) -> None:
        self.name = name
        self.world = world
        self.content = content
        self.options = options
        self.port = 0  # set by the server once bound
        self.site_name = name
        self.columns: list[Column] = []
        self.blocked: Optional[str] = None  # why a crawler must record this site as blocked
        self.robots_disallow_all = False
        self.related_sites: list[str] = []  # other sites in this site's scope (storage hosts)
        self.sim: Any = None  # the Simulator, for cross-site URLs (set by the simulator)
        self.populate()

    # ---- identity -----------------------------------------------------------------------------
    @property
    def hostname(self) -> str:
        return f"{self.name}.sim.test"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    def url(self, path: str) -> str:
        return self.base_url + path

    # ---- population ---------------------------------------------------------------------------
    def populate(self) -> None:
        """Create agencies, columns and items (subclasses)."""

    def add_column(self, column: Column) -> Column:
        self.columns.append(column)
        return column

    def corpus_items(self, column: Column, owner: Agency) -> list[Item]:
        """The real corpus documents configured for this site (``extra["corpus"]``).

        Each entry is (file name, (agency name, level) or None for the owner, year, listing title).
        """
        items = []
        for file_name, agency_spec, year, title in self.options.extra.get("corpus", []):
            agency = owner
            if agency_spec:
                agency = self.world.agency(agency_spec[0], agency_spec[1], owner.division_code, owner.name)
            file_kind = file_name.rsplit(".", 1)[-1]
            form = "body" if file_kind == "html" else "attachment"
            items.append(self.world.corpus(self.name, column.key, agency, file_name, year, title=title,
                                           form=form, file_kind=file_kind))
        return items

    def owner(self) -> Agency:
        """The agency that runs the site (``extra["agency"]`` = (name, level, code, parent))."""
        return self.world.agency(*self.options.extra["agency"])

    def primary(self, item: Item) -> Item:
        """The item whose bytes a duplicate listing serves (identical bytes under another URL)."""
        if item.duplicate_of is not None:
            return self.world.items[item.duplicate_of]
        return item

    def all_items(self) -> list[Item]:
        return [item for column in self.columns for item in column.items]

    def item(self, item_id: int) -> Optional[Item]:
        item = self.world.items.get(item_id)
        return item if item is not None and item.site == self.name else None

    # ---- HTTP ---------------------------------------------------------------------------------
    def robots(self, request: SimRequest) -> Reply:
        if self.robots_disallow_all:
            return Reply(body=b"User-agent: *\nDisallow: /\n", content_type="text/plain")
        return Reply.not_found()  # most government sites have no robots.txt

    def handle(self, request: SimRequest) -> Optional[Reply]:
        """Answer one request; None means 404."""
        return None

    def file_reply(self, item: Item, kind: Optional[str] = None, *, download_name: Optional[str] = None,
                   charset_header: bool = False) -> Reply:
        """The bytes of an item's document, cacheable (ETag/Last-Modified) like a static file."""
        kind = kind or item.file_kind or "html"
        data = self.content.document(self.primary(item), kind)
        ctype = media_type(kind)
        if ctype.startswith("text/") and charset_header:
            ctype += "; charset=utf-8"
        headers = {}
        if download_name:
            from urllib.parse import quote
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(download_name)}"
        return Reply(body=data, content_type=ctype, headers=headers, cacheable=True,
                     last_modified=self.modified_at(item))

    def modified_at(self, item: Item) -> datetime:
        stamp = datetime.combine(item.published, time(9, 30))
        return stamp.replace(minute=30 + min(item.version - 1, 29))

    def attachment_name(self, item: Item) -> str:
        return f"{item.title}.{extension(item.file_kind or 'pdf')}"

    # ---- ground truth -------------------------------------------------------------------------
    def detail_path(self, item: Item) -> Optional[str]:
        """The path of the item's detail page; None for a site without detail pages."""
        return None

    def attachment_path(self, item: Item) -> Optional[str]:
        """The path of the item's file when the report is an attachment or an image."""
        return None

    def detail_url(self, item: Item) -> Optional[str]:
        """The listing's link target for the item (absolute)."""
        path = self.detail_path(item)
        return self.url(path) if path else None

    def document_urls(self, item: Item) -> list[str]:
        """URL(s) whose bytes carry the report itself: the attachment or image file when the
        report is one, else the detail page."""
        attachment = self.attachment_path(item) if item.form in ("attachment", "image") else None
        if attachment:
            return [self.url(attachment)]
        url = self.detail_url(item)
        return [url] if url else []

    def unreachable_reason(self, item: Item) -> Optional[str]:
        """Why a crawler that behaves cannot get this report (blocked site, robots, dead link)."""
        if self.blocked:
            return f"blocked: {self.blocked}"
        if self.robots_disallow_all:
            return "robots.txt disallows the site"
        return None

    def scope_hosts(self) -> list[str]:
        hosts = [self.host]
        for other in self.related_sites:
            hosts.append(self.sim.site(other).host)
        return hosts

    def registry_entries(self) -> list[dict[str, Any]]:
        return [self.registry_entry(column) for column in self.columns if column.in_registry]

    def registry_entry(self, column: Column) -> dict[str, Any]:
        agency: Agency = column.agency
        return {
            "name": f"{self.name}/{column.key}",
            "agency": agency.name,
            "level": agency.level,
            "division_code": agency.division_code,
            "parent": agency.parent,
            "platform": self.platform,
            "archetype": self.archetype,
            "column": column.name,
            "start_url": self.url(column.start_path),
            "scope_hosts": self.scope_hosts(),
            "site": self.name,
            "hostname": self.hostname,
            "established": "simulator",
        }
