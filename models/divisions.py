"""Administrative divisions: every district- and commune-level People's Committee of a province,
as agencies in the classes the plan assigns tasks to (``UBND cấp huyện``, ``UBND cấp xã``).

Two sources, one per era:

- ``current``: the two-level structure in force since 1 July 2025 (province, commune; no
  districts), from the installed ``vietnam-provinces`` package (its 2025.x series), any province.
  Commune codes are ``XA2025-`` and the GSO code.
- ``district``: the three-level structure Plan 916 (2016) was written for, shipped for Quảng Ninh
  as ``models/data/quang_ninh_divisions_2016.csv``, derived from the package's pre-2025 series
  by ``scripts/derive_quang_ninh_2016.py`` (the file's header names the release). Districts keep
  the codes of ``quang_ninh_districts_2016.csv``; communes are ``XA-`` and the GSO code.

Loading is :func:`plan_divisions` (what would change, nothing written) then
:func:`load_divisions`; loading again changes nothing. A unit whose name another agency already
holds under another code is refused (names are unique), so loading never half-happens.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlmodel import Session, col, select

from domain.collation import fold, vi_key
from domain.names import name_key
from models.agencies import (
    AgencyImportReport,
    AgencyRow,
    bundled,
    find_agency,
    import_agencies,
    parse_agency_csv,
)
from models.tables import Agency, AgencyClass, AgencyClassMember, AgencyLevel

CURRENT, DISTRICT_ERA = "current", "district"
ERAS = (CURRENT, DISTRICT_ERA)
DISTRICT_CLASS, COMMUNE_CLASS = "UBND cấp huyện", "UBND cấp xã"
STATE_AGENCIES_CLASS = "Các cơ quan hành chính nhà nước"
BUNDLED_DISTRICT_ERA = {"quang ninh": "quang_ninh_divisions_2016.csv"}
CURRENT_CODE_PREFIX = "XA2025-"
_UNIT_TYPES = ("Thành phố", "Thị xã", "Huyện", "Quận", "Phường", "Thị trấn", "Xã", "Đặc khu", "Tỉnh")


class DivisionsError(ValueError):
    """The divisions cannot be loaded; the message says why (nothing was changed)."""


@dataclass(frozen=True)
class Divisions:
    province: str
    era: str
    source: str  # where the rows come from, for people and the audit log
    rows: tuple[AgencyRow, ...]
    parent_name: str = ""  # the provincial committee the top units belong to, if loaded


@dataclass
class DivisionsPlan:
    divisions: Divisions
    rows: list[AgencyRow]  # with parents resolved to codes
    to_add: list[AgencyRow] = field(default_factory=list)
    to_update: list[AgencyRow] = field(default_factory=list)
    unchanged: int = 0
    clashes: list[tuple[AgencyRow, str]] = field(default_factory=list)  # row, code holding its name

    @property
    def changes(self) -> bool:
        return bool(self.to_add or self.to_update)


def committee(unit: str) -> str:
    """``"Phường Hà Khánh"`` -> ``"UBND phường Hà Khánh"``: the unit's People's Committee."""
    for kind in _UNIT_TYPES:
        if unit.startswith(kind + " "):
            return f"UBND {kind.lower()}{unit[len(kind):]}"
    return f"UBND {unit}"


def _aliases(unit: str) -> tuple[str, ...]:
    return committee(unit).replace("UBND ", "Ủy ban nhân dân ", 1), unit


def province_key(name: str) -> str:
    """``"Tỉnh Quảng Ninh"``, ``"quang_ninh"``, ``"QUẢNG NINH"`` -> ``"quang ninh"``."""
    key = " ".join(fold(name).replace("_", " ").replace(".", " ").split())
    return re.sub(r"^(?:tinh|thanh pho|tp)\s+", "", key)


# --------------------------------------------------------------------------- sources


def divisions_for(province: str, *, era: str) -> Divisions:
    if era == CURRENT:
        return current_divisions(province)
    if era == DISTRICT_ERA:
        return district_era_divisions(province)
    raise DivisionsError(f"era {era!r} is not one of {', '.join(ERAS)}")


def current_divisions(province: str) -> Divisions:
    """The communes of ``province`` (name, GSO code or codename) since 1 July 2025."""
    # Imported here: the package builds thousands of enum members, and only this command needs them.
    import vietnam_provinces
    from vietnam_provinces import Province, Ward

    wanted = province_key(province)
    found = next((p for p in Province.iter_all()
                  if wanted in (province_key(p.name), province_key(p.codename), str(int(p.code)))), None)
    if found is None:
        raise DivisionsError(f"no province {province!r} in vietnam-provinces "
                             f"{vietnam_provinces.__version__} (see its 34 provinces since July 2025)")
    wards = sorted(Ward.iter_by_province(found.code), key=lambda w: int(w.code))
    rows = tuple(
        AgencyRow(line=i, name=committee(w.name), code=f"{CURRENT_CODE_PREFIX}{int(w.code):05d}",
                  level=AgencyLevel.COMMUNE.value, parent="",
                  classes=(COMMUNE_CLASS, STATE_AGENCIES_CLASS), aliases=_aliases(w.name))
        for i, w in enumerate(wards, start=1))
    kind = "tỉnh" if found.division_type.value == "tỉnh" else ""
    parent = committee(f"{kind.capitalize()} {found.name}" if kind else found.name)
    source = (f"vietnam-provinces {vietnam_provinces.__version__} "
              f"(data of {vietnam_provinces.__data_version__})")
    return Divisions(found.name, CURRENT, source, rows,
                     parent_name=parent.replace("UBND ", "Ủy ban nhân dân ", 1))


def district_era_divisions(province: str) -> Divisions:
    """The districts and communes of the bundled three-level data (Quảng Ninh)."""
    file = BUNDLED_DISTRICT_ERA.get(province_key(province))
    if file is None:
        raise DivisionsError(f"district-era divisions ship for Quảng Ninh only, not {province!r}; "
                             "use --era current, or `dondoc agencies import FILE.csv`")
    raw = bundled(file).decode("utf-8")
    comments = [line[1:].strip() for line in raw.splitlines() if line.startswith("#")]
    table = "\n".join(line for line in raw.splitlines() if not line.startswith("#"))
    rows = tuple(parse_agency_csv(table.encode("utf-8"), source=file))
    release = next((m.group(1) for c in comments if (m := re.search(r"package (\S+ \S+)", c))), "")
    return Divisions("Quảng Ninh", DISTRICT_ERA, f"{file}, from {release}" if release else file, rows)


# --------------------------------------------------------------------------- plan and load


@dataclass(frozen=True)
class _Existing:
    code: str
    name: str
    level: str
    parent: str
    aliases: str
    active: bool
    classes: frozenset[str]


def _existing(session: Session) -> dict[str, _Existing]:
    classes: dict[int, set[str]] = defaultdict(set)
    query = select(AgencyClassMember.agency_id, AgencyClass.name).join(
        AgencyClass, col(AgencyClass.id) == AgencyClassMember.class_id)
    for agency_id, class_name in session.exec(query):
        classes[agency_id].add(name_key(class_name))
    agencies = list(session.exec(select(Agency)))
    codes = {a.id: a.code for a in agencies}
    return {a.code: _Existing(a.code, a.name, a.level, codes.get(a.parent_id, "") if a.parent_id else "",
                              a.aliases, a.active, frozenset(classes.get(a.id or 0, set())))
            for a in agencies}


def plan_divisions(session: Session, divisions: Divisions) -> DivisionsPlan:
    """What loading would add and update (nothing is written)."""
    parent = ""
    if divisions.parent_name:
        found = find_agency(session, divisions.parent_name)
        parent = found.code if found is not None else ""
    rows = [replace(r, parent=parent) if divisions.era == CURRENT else r for r in divisions.rows]
    existing = _existing(session)
    holders = {name_key(e.name): e.code for e in existing.values()}
    plan = DivisionsPlan(divisions, rows)
    for row in rows:
        holder = holders.get(name_key(row.name))
        if holder is not None and holder != row.code:
            plan.clashes.append((row, holder))
        current = existing.get(row.code)
        if current is None:
            plan.to_add.append(row)
        elif _differs(current, row):
            plan.to_update.append(row)
        else:
            plan.unchanged += 1
    return plan


def _differs(current: _Existing, row: AgencyRow) -> bool:
    return (current.name != row.name or current.level != row.level or current.parent != row.parent
            or current.aliases != ";".join(row.aliases) or not current.active
            or current.classes != frozenset(name_key(c) for c in row.classes))


def load_divisions(session: Session, plan: DivisionsPlan, *, actor: str = "cli") -> AgencyImportReport:
    """Add and update the planned units; refuse (changing nothing) if a name is taken."""
    if plan.clashes:
        shown = "; ".join(f"{row.name!r} ({holder})" for row, holder in plan.clashes[:3])
        more = f" and {len(plan.clashes) - 3} more" if len(plan.clashes) > 3 else ""
        raise DivisionsError(f"{len(plan.clashes)} names are held by agencies with other codes: "
                             f"{shown}{more}; rename or re-code those agencies first")
    return import_agencies(session, plan.rows, actor=actor, source=plan.divisions.source)


# --------------------------------------------------------------------------- empty classes


def empty_classes(session: Session) -> list[str]:
    """Closed classes with no active member, in Vietnamese order: a task owed by one of them
    is owed by nobody."""
    members = (select(AgencyClassMember.class_id)
               .join(Agency, col(Agency.id) == AgencyClassMember.agency_id)
               .where(col(Agency.active)))
    query = select(AgencyClass.name).where(col(AgencyClass.open_set).is_(False),
                                           col(AgencyClass.id).not_in(members))
    return sorted(session.exec(query), key=vi_key)


def warnings_for_empty_classes(names: Sequence[str]) -> list[str]:
    """One line per empty class, saying what fills it."""
    lines = []
    for name in names:
        if name_key(name) == name_key(DISTRICT_CLASS):  # only the district era has districts
            hint = "`dondoc agencies load-divisions --province NAME --era district --apply`"
        elif name_key(name) == name_key(COMMUNE_CLASS):
            hint = "`dondoc agencies load-divisions --province NAME --apply`"
        else:
            hint = "`dondoc agencies import FILE.csv` (the class in its classes column)"
        lines.append(f"agency class {name!r} has no members, so nobody owes its tasks: load them with {hint}")
    return lines
