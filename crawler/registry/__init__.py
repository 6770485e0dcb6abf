"""The source registry: which agencies publish reports in which columns, on which platform.

A registry is a YAML file (``sources.yaml`` here is the starter registry of real columns) or a list
of dicts (what the portal simulator's ``registry_entries()`` returns); both load the same way and
are validated the same way. A bad entry is a :class:`RegistryError` naming the entry and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Union
from urllib.parse import urlsplit

import yaml

from crawler.platforms import canonical_platform

DEFAULT_REGISTRY = Path(__file__).with_name("sources.yaml")
LEVELS = ("national", "province", "city", "county", "town", "department")
_NAME = re.compile(r"^[\w.\-]+$")
_DIVISION = re.compile(r"^\d{6}(\d{6})?$")

RegistryInput = Union[str, Path, Iterable[dict[str, Any]], None]


class RegistryError(ValueError):
    """A registry that cannot be used; the message names the entry and what is wrong."""


@dataclass(frozen=True)
class Source:
    """One report column of one agency."""

    name: str
    agency: str
    url: str
    level: str = ""
    division_code: Optional[str] = None
    parent: Optional[str] = None
    platform: str = ""  # adapter name; "" = auto-detect
    established: str = ""
    allowed_hosts: tuple[str, ...] = ()  # extra hosts in scope (attachment storage, API hosts)
    enabled: bool = True
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc.lower()

    @property
    def hosts(self) -> frozenset[str]:
        """Every netloc this source may fetch from: its column host and declared extra hosts."""
        return frozenset({self.host, *(h.lower() for h in self.allowed_hosts)})

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "agency": self.agency, "url": self.url, "level": self.level,
                "division_code": self.division_code, "parent": self.parent,
                "platform": self.platform, "established": self.established,
                "allowed_hosts": list(self.allowed_hosts), "enabled": self.enabled, **self.extra}


def _field(entry: dict[str, Any], *names: str) -> Any:
    for name in names:
        if entry.get(name) not in (None, ""):
            return entry[name]
    return None


def source_from_dict(entry: dict[str, Any], position: int = 0) -> Source:
    """Validate and convert one registry entry (accepts a few common spellings of each field)."""
    if not isinstance(entry, dict):
        raise RegistryError(f"entry #{position + 1}: expected a mapping, got {type(entry).__name__}")
    label = f"entry #{position + 1} ({entry.get('name') or entry.get('url') or '?'})"
    agency = _field(entry, "agency", "agency_name")
    level = _field(entry, "level")
    division = _field(entry, "division_code", "division")
    parent = _field(entry, "parent")
    if isinstance(agency, dict):  # nested form: agency: {name, level, division_code, parent}
        level = level or agency.get("level")
        division = division or agency.get("division_code")
        parent = parent or agency.get("parent")
        agency = agency.get("name")
    url = _field(entry, "url", "column_url", "start_url")
    name = _field(entry, "name", "source", "key") or (agency and url and f"{agency}:{url}")
    if not name or not isinstance(name, str):
        raise RegistryError(f"{label}: missing name")
    if not agency:
        raise RegistryError(f"{label}: missing agency")
    if not url or not isinstance(url, str):
        raise RegistryError(f"{label}: missing url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RegistryError(f"{label}: url must be an http(s) URL, got {url!r}")
    level = str(level or "").strip()
    if level and level not in LEVELS:
        raise RegistryError(f"{label}: level {level!r} is not one of {', '.join(LEVELS)}")
    division = str(division).strip() if division not in (None, "") else None
    if division and not _DIVISION.match(division):
        raise RegistryError(f"{label}: division_code {division!r} is not a 6- or 12-digit code")
    try:
        platform = canonical_platform(_field(entry, "platform", "archetype"))
    except ValueError as exc:
        raise RegistryError(f"{label}: {exc}") from None
    hosts = _field(entry, "allowed_hosts", "scope_hosts", "storage_hosts", "hosts") or ()
    if isinstance(hosts, str):
        hosts = (hosts,)
    known = {"name", "source", "key", "agency", "agency_name", "level", "division_code", "division",
             "parent", "url", "column_url", "start_url", "platform", "archetype", "established",
             "allowed_hosts", "scope_hosts", "storage_hosts", "hosts", "enabled"}
    return Source(name=str(name), agency=str(agency).strip(), url=url.strip(), level=level,
                  division_code=division, parent=parent, platform=platform,
                  established=str(entry.get("established") or ""),
                  allowed_hosts=tuple(_netloc(h) for h in hosts),
                  enabled=bool(entry.get("enabled", True)),
                  extra={k: v for k, v in entry.items() if k not in known})


def _netloc(host: str) -> str:
    host = str(host).strip().lower()
    return urlsplit(host).netloc if "://" in host else host


def load_registry(registry: RegistryInput = None, *, include_disabled: bool = False) -> list[Source]:
    """Load a registry from a YAML file path, a list of dicts, or the starter registry (None)."""
    if registry is None:
        registry = DEFAULT_REGISTRY
    if isinstance(registry, (str, Path)):
        path = Path(registry)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise RegistryError(f"cannot read registry {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise RegistryError(f"registry {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
        entries = data.get("sources") if isinstance(data, dict) else data
        if not isinstance(entries, list):
            raise RegistryError(f"registry {path}: expected a list of sources (or a 'sources:' key)")
    else:
        entries = list(registry)
    sources = [source_from_dict(entry, i) for i, entry in enumerate(entries)]
    seen: dict[str, int] = {}
    for i, source in enumerate(sources):
        if source.name in seen:
            raise RegistryError(f"entry #{i + 1}: duplicate source name {source.name!r} "
                                f"(first at entry #{seen[source.name] + 1})")
        seen[source.name] = i
    return [s for s in sources if s.enabled or include_disabled]


def find_source(sources: Iterable[Source], name: str) -> Source:
    for source in sources:
        if source.name == name:
            return source
    raise RegistryError(f"no source named {name!r} in the registry")


def adhoc_source(url: str, platform: str = "", agency: str = "") -> Source:
    """A one-off source for ``xxgk crawl --start-url URL`` (platform auto-detected by default)."""
    return source_from_dict({"name": f"adhoc:{urlsplit(url).netloc}{urlsplit(url).path}", "url": url,
                             "agency": agency or urlsplit(url).netloc, "platform": platform,
                             "established": "given on the command line"})
