"""The history of an item, and the audit log, as services: the access policy first, then plain
data for the views.

An item's history is its first due date and every extension request with its decision (once an
extension moved the date), and every report version (state, percent, note, document number, files, who
sent it and when, who verified or returned it, when and why), newest first. Who may see it: the
agency's own members, and coordinators, leaders and admins for any agency in their scope
(:func:`domain.access.scope_of`). The audit log (``audit_log``) is for admins only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, Engine
from sqlmodel import Session, col, func, select

from domain.access import Action, Actor, NotAllowed, may_see_agency, require, scope_of
from models.db import session_scope
from models.explanations import ExplanationRow, for_item
from models.extensions import ExtensionRow
from models.extensions import for_item as extension_requests
from models.rollup import in_scope
from models.tables import Agency, AuditLog, Evidence, Item, Member, Report, Task


class Gone(LookupError):
    """The item is not there (any more)."""


@dataclass(frozen=True)
class Version:
    version: int
    state: str
    percent: int | None
    note: str
    document_number: str
    files: list[str]  # file names ("" for a photo)
    sent_by: str
    sent_at: datetime
    review_state: str | None  # pending | approved | returned | None (not a done report)
    reviewed_by: str
    reviewed_at: datetime | None
    reason: str


@dataclass(frozen=True)
class ItemHistory:
    item_id: int
    code: str
    task: str
    agency: str
    period_key: str
    due_on: date
    state: str
    versions: list[Version]  # newest first
    explanations: list[ExplanationRow] = field(default_factory=list)  # requests, oldest first
    original_due_on: date | None = None  # the first due date, once an extension moved it
    extensions: list[ExtensionRow] = field(default_factory=list)  # requests and decisions, oldest first


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {i: n for i, n in session.exec(select(Member.id, Member.full_name).where(col(Member.id).in_(ids)))
            if i is not None}


def load_history(session: Session, item: Item) -> ItemHistory:
    assert item.id is not None
    task = session.get(Task, item.task_id)
    agency = session.get(Agency, item.agency_id)
    reports = list(session.exec(select(Report).where(Report.item_id == item.id)
                                .order_by(col(Report.version).desc())))
    report_ids = [r.id for r in reports if r.id is not None]
    files: dict[int, list[str]] = {}
    if report_ids:
        for report_id, name in session.exec(select(Evidence.report_id, Evidence.file_name)
                                            .where(col(Evidence.report_id).in_(report_ids))
                                            .order_by(col(Evidence.id))):
            files.setdefault(report_id, []).append(name)
    people = {r.member_id for r in reports} | {r.reviewed_by for r in reports if r.reviewed_by}
    names = _names(session, people)
    versions = [Version(r.version, r.state, r.percent, r.note, r.document_number, files.get(r.id or 0, []),
                        names.get(r.member_id, "?"), r.created_at, r.review_state,
                        names.get(r.reviewed_by, "?") if r.reviewed_by else "", r.reviewed_at,
                        r.review_reason)
                for r in reports]
    return ItemHistory(item.id, task.code if task else "?", task.task if task else "",
                       agency.name if agency else "?", item.period_key, item.due_on, item.state, versions,
                       for_item(session, item.id), item.original_due_on,
                       extension_requests(session, item.id))


def item_history(engine: Engine, actor: Actor, item_id: int) -> ItemHistory:
    """Every version of the item's reports, for someone whose scope holds the item's agency."""
    with session_scope(engine) as session:
        require(actor, Action.HISTORY)
        item = session.get(Item, item_id)
        if item is None:
            raise Gone(f"item {item_id}")
        scope = scope_of(actor)
        if scope is None or not may_see_agency(scope, in_scope(session, scope, item.agency_id)):
            raise NotAllowed("scope")
        return load_history(session, item)


# --- the audit log ----------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str  # "cli", "system", "member:<id>"
    actor_name: str  # the member's name for "member:<id>", else ""
    action: str
    entity: str
    entity_id: str
    details: str


@dataclass(frozen=True)
class AuditFilter:
    since: datetime | None = None
    until: datetime | None = None
    member_id: int | None = None  # entries by this member or about them
    action: str = ""  # a prefix: "member." or "report.approve"


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]  # newest first
    total: int
    page: int
    pages: int


def _audit_where(what: AuditFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if what.since is not None:
        where.append(col(AuditLog.at) >= what.since)
    if what.until is not None:
        where.append(col(AuditLog.at) < what.until)
    if what.member_id is not None:
        about = (col(AuditLog.entity) == "member") & (col(AuditLog.entity_id) == str(what.member_id))
        where.append((col(AuditLog.actor) == f"member:{what.member_id}") | about)
    if what.action:
        where.append(col(AuditLog.action).startswith(what.action, autoescape=True))
    return where


def _member_of(actor: str) -> int | None:
    kind, _sep, ident = actor.partition(":")
    return int(ident) if kind == "member" and ident.isdigit() else None


def audit_entries(session: Session, what: AuditFilter, *, limit: int,
                  offset: int = 0) -> tuple[list[AuditEntry], int]:
    """Entries matching ``what``, newest first, and how many match in all."""
    where = _audit_where(what)
    total = int(session.exec(select(func.count()).select_from(AuditLog).where(*where)).one())
    rows = list(session.exec(select(AuditLog).where(*where)
                             .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
                             .offset(offset).limit(limit)))
    names = _names(session, {m for m in (_member_of(r.actor) for r in rows) if m is not None})
    entries = [AuditEntry(r.id or 0, r.at, r.actor, names.get(_member_of(r.actor) or 0, ""), r.action,
                          r.entity, r.entity_id, r.details) for r in rows]
    return entries, total


def audit_page(engine: Engine, actor: Actor, page: int, *, per_page: int = 10,
               what: AuditFilter | None = None) -> AuditPage:
    """One page of the audit log, for admins (/audit)."""
    with session_scope(engine) as session:
        require(actor, Action.AUDIT)
        what = what or AuditFilter()
        total = int(session.exec(select(func.count()).select_from(AuditLog)
                                 .where(*_audit_where(what))).one())
        pages = max(1, -(-total // per_page))
        page = max(0, min(page, pages - 1))
        entries, total = audit_entries(session, what, limit=per_page, offset=page * per_page)
        return AuditPage(entries, total, page, pages)


def details_text(details: str) -> str:
    """An entry's details (JSON as written by the models) as ``key=value`` pairs."""
    try:
        value = json.loads(details) if details else {}
    except ValueError:
        return details
    if not isinstance(value, dict):
        return details
    return ", ".join(f"{k}={v}" for k, v in value.items())
