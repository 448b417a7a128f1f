"""Agencies and agency classes: the CSV format, import, lookup by name, and who is in a class.

CSV columns for agencies: ``name,code,level,parent,classes,aliases`` (``parent`` is the parent's
code or name; ``classes`` and ``aliases`` are ``;``-separated). Classes: ``name,code,open_set,aliases``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from sqlmodel import Session, col, select

from domain.collation import vi_key
from domain.names import clean, name_key, split_list
from domain.text import NulCharacter, normalize
from models.tables import Agency, AgencyClass, AgencyClassMember, AgencyLevel, AuditLog

AGENCY_COLUMNS = ("name", "code", "level", "parent", "classes", "aliases")
CLASS_COLUMNS = ("name", "code", "open_set", "aliases")
LEVELS = tuple(level.value for level in AgencyLevel)
MAX_LENGTHS = {"name": 255, "code": 32}  # the columns' sizes (PostgreSQL enforces them)


class AgencyFileError(ValueError):
    """A CSV file of agencies is malformed; the message says what and on which line."""


@dataclass(frozen=True)
class AgencyRow:
    line: int
    name: str
    code: str
    level: str
    parent: str
    classes: tuple[str, ...]
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class ClassRow:
    line: int
    name: str
    code: str
    open_set: bool
    aliases: tuple[str, ...]


@dataclass
class AgencyImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    classes_added: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.classes_added)


def _read_csv(data: bytes, expected: Sequence[str], source: str) -> list[tuple[int, dict[str, str]]]:
    if not data.strip():
        raise AgencyFileError(f"{source}: the file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AgencyFileError(f"{source}: not UTF-8 text (invalid byte at offset {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [clean(h or "") for h in (reader.fieldnames or [])]
    missing = [c for c in expected if c not in header]
    if missing:
        raise AgencyFileError(
            f"{source}, line 1: missing column(s) {', '.join(missing)}; "
            f"expected {','.join(expected)}, found {','.join(header)}"
        )
    rows = []
    for row in reader:
        values = {clean(k or ""): _cell(v, f"{source}, line {reader.line_num}")
                  for k, v in row.items() if k is not None}
        if any(values.values()):
            rows.append((reader.line_num, values))
    return rows


def _cell(value: str | None, where: str) -> str:
    """One cell as stored: NUL refused (naming the line), control characters removed, NFC."""
    try:
        return clean(normalize(value or "", single_line=True, what="the cell"))
    except NulCharacter as exc:
        raise AgencyFileError(f"{where}: {exc}") from None


def _check_lengths(where: str, **values: str) -> None:
    for column, value in values.items():
        if len(value) > MAX_LENGTHS[column]:
            raise AgencyFileError(f"{where}: {column} has {len(value)} characters; "
                                  f"at most {MAX_LENGTHS[column]}")


def parse_agency_csv(data: bytes, *, source: str = "<csv>") -> list[AgencyRow]:
    rows: list[AgencyRow] = []
    codes: dict[str, int] = {}
    for line, values in _read_csv(data, AGENCY_COLUMNS, source):
        where = f"{source}, line {line}"
        if not values["name"] or not values["code"]:
            raise AgencyFileError(f"{where}: name and code are required")
        level = values["level"].lower() or AgencyLevel.OTHER.value
        if level not in LEVELS:
            raise AgencyFileError(f"{where}: level {values['level']!r} is not one of {', '.join(LEVELS)}")
        code = values["code"].upper()
        _check_lengths(where, name=values["name"], code=code)
        if code in codes:
            raise AgencyFileError(f"{where}: code {code} already used on line {codes[code]}")
        codes[code] = line
        rows.append(AgencyRow(line, values["name"], code, level, values["parent"],
                              tuple(split_list(values["classes"])),
                              tuple(split_list(values["aliases"]))))
    return rows


def parse_class_csv(data: bytes, *, source: str = "<csv>") -> list[ClassRow]:
    rows = []
    for line, values in _read_csv(data, CLASS_COLUMNS, source):
        if not values["name"] or not values["code"]:
            raise AgencyFileError(f"{source}, line {line}: name and code are required")
        _check_lengths(f"{source}, line {line}", name=values["name"], code=values["code"])
        open_set = values["open_set"].lower() in ("yes", "true", "1", "có")
        rows.append(ClassRow(line, values["name"], values["code"].upper(), open_set,
                             tuple(split_list(values["aliases"]))))
    return rows


# --- lookup -------------------------------------------------------------------------------

def _matches(name: str, row_name: str, aliases: str) -> bool:
    key = name_key(name)
    return key == name_key(row_name) or key in {name_key(a) for a in split_list(aliases)}


def find_class(session: Session, name: str) -> AgencyClass | None:
    """The class called ``name`` (or one of its aliases)."""
    return next((c for c in session.exec(select(AgencyClass)) if _matches(name, c.name, c.aliases)), None)


def find_agency(session: Session, name_or_code: str) -> Agency | None:
    """The agency with that code, name or alias."""
    by_code = session.exec(select(Agency).where(Agency.code == clean(name_or_code).upper())).first()
    if by_code is not None:
        return by_code
    return next((a for a in session.exec(select(Agency)) if _matches(name_or_code, a.name, a.aliases)), None)


def looks_like_class(name: str) -> bool:
    """'Các …' and '… cấp huyện/xã' name sets of agencies, not one agency."""
    key = name_key(name)
    return key.startswith("các ") or key.endswith((" cấp huyện", " cấp xã", " cấp tỉnh"))


def looks_open(name: str) -> bool:
    """Sets the document leaves open ('related agencies', 'the media') owe nothing themselves."""
    key = name_key(name)
    return any(word in key for word in ("liên quan", "truyền thông", "thông tin đại chúng"))


def class_member_ids(session: Session, class_id: int) -> list[int]:
    query = (select(AgencyClassMember.agency_id)
             .join(Agency, col(Agency.id) == AgencyClassMember.agency_id)
             .where(AgencyClassMember.class_id == class_id, col(Agency.active)))
    return list(session.exec(query))


def unique_code(session: Session, base: str, model: type[Agency] | type[AgencyClass]) -> str:
    """A code not yet used, derived from ``base`` (for agencies a document names first)."""
    stem = "".join(ch for ch in clean(base).upper() if ch.isascii() and ch.isalnum())[:24] or "X"
    candidate, n = stem, 1
    while session.exec(select(model).where(model.code == candidate)).first() is not None:
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


# --- import -------------------------------------------------------------------------------

def upsert_classes(session: Session, rows: Iterable[ClassRow]) -> list[str]:
    added = []
    for row in rows:
        existing = session.exec(select(AgencyClass).where(AgencyClass.code == row.code)).first()
        if existing is None:
            session.add(AgencyClass(name=row.name, code=row.code, open_set=row.open_set,
                                    aliases=";".join(row.aliases)))
            added.append(row.name)
        else:
            existing.name, existing.open_set = row.name, row.open_set
            existing.aliases = ";".join(row.aliases)
    session.flush()
    return added


def _ensure_class(session: Session, name: str, report: AgencyImportReport) -> AgencyClass:
    found = find_class(session, name)
    if found is not None:
        return found
    new = AgencyClass(name=name, code=unique_code(session, name, AgencyClass), open_set=looks_open(name))
    session.add(new)
    session.flush()
    report.classes_added.append(name)
    return new


def _apply_row(session: Session, row: AgencyRow) -> tuple[Agency, bool, bool]:
    """Create or update one agency; returns (agency, created, fields_changed)."""
    agency = session.exec(select(Agency).where(Agency.code == row.code)).first()
    parent = find_agency(session, row.parent) if row.parent else None
    if row.parent and parent is None:
        raise AgencyFileError(
            f"line {row.line}: parent {row.parent!r} is not a known agency code or name")
    wanted: dict[str, Any] = {"name": row.name, "level": row.level,
                              "parent_id": parent.id if parent else None,
                              "aliases": ";".join(row.aliases), "active": True}
    if agency is None:
        agency = Agency(code=row.code, **wanted)
        session.add(agency)
        session.flush()
        return agency, True, False
    changed = any(getattr(agency, k) != v for k, v in wanted.items())
    for key, value in wanted.items():
        setattr(agency, key, value)
    session.flush()
    return agency, False, changed


def _set_classes(session: Session, agency: Agency, names: Sequence[str],
                 report: AgencyImportReport) -> bool:
    """Make the agency's classes exactly ``names``; True if that changed anything."""
    assert agency.id is not None
    wanted = {_ensure_class(session, n, report).id for n in names}
    current = {m.class_id: m for m in session.exec(
        select(AgencyClassMember).where(AgencyClassMember.agency_id == agency.id))}
    for class_id in wanted - current.keys():
        assert class_id is not None
        session.add(AgencyClassMember(class_id=class_id, agency_id=agency.id))
    for class_id in current.keys() - wanted:
        session.delete(current[class_id])
    return wanted != set(current)


def import_agencies(session: Session, rows: Sequence[AgencyRow], *, actor: str = "cli",
                    source: str = "") -> AgencyImportReport:
    """Add or update agencies by code; their class memberships become exactly those listed."""
    report = AgencyImportReport()
    for row in rows:
        agency, created, fields_changed = _apply_row(session, row)
        classes_changed = _set_classes(session, agency, row.classes, report)
        if created:
            report.added.append(row.code)
        elif fields_changed or classes_changed:
            report.updated.append(row.code)
        else:
            report.unchanged += 1
    if report.changed:
        session.add(AuditLog(actor=actor, action="agencies.import", entity="agency",
                             details=json.dumps({"source": source, "added": report.added,
                                                 "updated": report.updated,
                                                 "classes_added": report.classes_added},
                                                ensure_ascii=False)))
    session.flush()
    return report


def bundled(name: str) -> bytes:
    return resources.files("models").joinpath("data", name).read_bytes()


def load_bundled_agencies(session: Session) -> AgencyImportReport:
    """The classes and the agencies Plan 916 names (shipped with the package)."""
    report = AgencyImportReport()
    report.classes_added = upsert_classes(
        session, parse_class_csv(bundled("agency_classes.csv"), source="agency_classes.csv"))
    rows = parse_agency_csv(bundled("agencies.csv"), source="agencies.csv")
    sub = import_agencies(session, rows, actor="system", source="agencies.csv")
    report.added, report.updated, report.unchanged = sub.added, sub.updated, sub.unchanged
    return report


@dataclass(frozen=True)
class AgencyListing:
    code: str
    name: str
    level: str
    parent: str | None
    classes: tuple[str, ...]


def list_agencies(session: Session) -> list[AgencyListing]:
    """All active agencies, by level then name (Vietnamese order), with their classes."""
    classes: dict[int, list[str]] = {}
    query = select(AgencyClassMember.agency_id, AgencyClass.name).join(
        AgencyClass, col(AgencyClass.id) == AgencyClassMember.class_id)
    for agency_id, class_name in session.exec(query):
        classes.setdefault(agency_id, []).append(class_name)
    agencies = list(session.exec(select(Agency).where(col(Agency.active))))
    codes = {a.id: a.code for a in agencies}
    order = {level: i for i, level in enumerate(LEVELS)}
    agencies.sort(key=lambda a: (order.get(a.level, 99), vi_key(a.name)))
    return [AgencyListing(a.code, a.name, a.level, codes.get(a.parent_id) if a.parent_id else None,
                          tuple(sorted(classes.get(a.id or 0, []), key=vi_key))) for a in agencies]
