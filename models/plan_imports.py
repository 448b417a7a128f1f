"""A plan document sent to the bot in the private chat: read, previewed, applied on confirmation.

The steps are rows (``plan_import``), so a restart or another instance loses nothing:

* ``receive``: an administrator's document becomes a row (``asked``: a member is asked whether it
  is a plan to import or evidence for a report; a configured administrator with no member row has
  no report to file, so the handler reads it at once);
* ``read``: the bytes (downloaded by the handler by file id) are parsed by the same readers as
  ``dondoc import-plan`` (``domain.plan_readers``), compared with the registry by the same
  ``models.registry.preview_import``; the plan read and the preview are kept as JSON
  (``previewed``); a damaged document is refused with the parser's place and reason and changes
  nothing;
* ``apply``: the plan kept is compared again; if the registry moved since the preview (another
  import, the CLI), the new preview is shown instead and nothing is applied; retiring or moving
  tasks needs the second confirmation (``retire``); ``registry.import_plan`` writes the changes
  and its audit row in the same transaction that marks the row ``applied``;
* ``cancel`` / ``evidence``: the row is closed (evidence: the file goes to the report flow).

Every step checks ``Action.IMPORT_PLAN`` and that the row is the presser's own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from domain.access import Action, Actor, require
from domain.plan_parser import ParsedAxis, ParsedPlan, ParsedTask, PlanFormatError
from domain.plan_readers import parse_document
from models import registry
from models.db import session_scope
from models.tables import PlanImport, PlanImportState

ASKED, PREVIEWED = PlanImportState.ASKED.value, PlanImportState.PREVIEWED.value
APPLIED, CANCELLED = PlanImportState.APPLIED.value, PlanImportState.CANCELLED.value


@dataclass(frozen=True)
class FileRef:
    """A document as Telegram describes it."""

    file_id: str
    file_unique_id: str = ""
    file_name: str = ""
    mime_type: str = ""
    file_size: int | None = None


@dataclass(frozen=True)
class AxisCount:
    number: int
    name: str
    tasks: int


@dataclass(frozen=True)
class Preview:
    """What the view shows: the document, its plan per axis, the names it uses, and the registry
    changes applying it would make (the CLI's report)."""

    import_id: int
    file_name: str
    title: str
    axes: tuple[AxisCount, ...]
    agencies: tuple[str, ...]
    classes: tuple[str, ...]
    report: registry.ImportReport


@dataclass(frozen=True)
class Refused:
    """The document was not read as a plan (``reason``: ``format`` with the parser's ``detail``,
    ``no_number``); nothing changed."""

    file_name: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Applied:
    preview: Preview


@dataclass(frozen=True)
class NeedsRetire:
    """Apply was pressed on a preview that retires or moves tasks: the second confirmation."""

    preview: Preview


@dataclass(frozen=True)
class Moved:
    """The registry changed since the preview: this is the new one, nothing was applied."""

    preview: Preview


@dataclass(frozen=True)
class Gone:
    """The row is not open any more (applied, cancelled, someone else's, or never was)."""


Read = Preview | Refused | Gone
Outcome = Applied | NeedsRetire | Moved | Gone


# --------------------------------------------------------------------------- steps


def receive(engine: Engine, actor: Actor, file: FileRef, *, now: datetime) -> int:
    """Keep the document sent (by file id); the row's id goes on the buttons."""
    require(actor, Action.IMPORT_PLAN)
    with session_scope(engine) as session:
        row = PlanImport(telegram_user_id=actor.telegram_user_id, file_id=file.file_id,
                         file_unique_id=file.file_unique_id, file_name=file.file_name[:255],
                         mime_type=file.mime_type[:128], file_size=file.file_size, state=ASKED,
                         created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def file_to_read(engine: Engine, actor: Actor, import_id: int) -> FileRef | Gone:
    """The document of an ``asked`` row, for the handler to download."""
    require(actor, Action.IMPORT_PLAN)
    with session_scope(engine) as session:
        row = _own(session, actor, import_id, ASKED)
        return Gone() if row is None else _file(row)


def read(engine: Engine, actor: Actor, import_id: int, data: bytes, *, now: datetime) -> Read:
    """Parse the downloaded bytes and compare them with the registry; keep both."""
    require(actor, Action.IMPORT_PLAN)
    with session_scope(engine) as session:
        row = _own(session, actor, import_id, ASKED)
        if row is None:
            return Gone()
        refused = _refusal(row, data)
        if isinstance(refused, Refused):
            _close(row, CANCELLED, now)
            return refused
        parsed = refused
        try:
            report = registry.preview_import(session, parsed)
        except ValueError:  # the document does not say the plan's number
            _close(row, CANCELLED, now)
            return Refused(row.file_name, "no_number")
        row.parsed, row.preview = plan_json(parsed), json.dumps(report.to_dict(), ensure_ascii=False)
        row.sha256 = hashlib.sha256(data).hexdigest()
        _close(row, PREVIEWED, now)
        return _preview(session, row, parsed, report)


def apply(engine: Engine, actor: Actor, import_id: int, *, retire: bool, now: datetime) -> Outcome:
    """Apply the previewed plan if the registry is still as previewed (else the new preview)."""
    require(actor, Action.IMPORT_PLAN)
    with session_scope(engine) as session:
        row = _own(session, actor, import_id, PREVIEWED, lock=True)
        if row is None:
            return Gone()
        parsed = plan_from_json(row.parsed)
        current = registry.preview_import(session, parsed)
        shown = json.dumps(current.to_dict(), ensure_ascii=False)
        if shown != row.preview:
            row.preview, row.updated_at = shown, now
            return Moved(_preview(session, row, parsed, current))
        if current.needs_retire and not retire:
            return NeedsRetire(_preview(session, row, parsed, current))
        who = f"member:{actor.member_id}" if actor.member_id else f"telegram:{actor.telegram_user_id}"
        report = registry.import_plan(session, parsed, source_name=row.file_name or "document",
                                      digest=row.sha256, actor=who, retire=retire)
        _close(row, APPLIED, now)
        return Applied(_preview(session, row, parsed, report))


def cancel(engine: Engine, actor: Actor, import_id: int, *, now: datetime) -> bool:
    """Close an open row; False when it was not open."""
    require(actor, Action.IMPORT_PLAN)
    with session_scope(engine) as session:
        row = _own(session, actor, import_id, ASKED, PREVIEWED)
        if row is None:
            return False
        _close(row, CANCELLED, now)
        return True


def evidence(engine: Engine, actor: Actor, import_id: int, *, now: datetime) -> FileRef | Gone:
    """The answer "evidence for a report": the row is closed, the file goes to the report flow."""
    require(actor, Action.IMPORT_PLAN)
    with session_scope(engine) as session:
        row = _own(session, actor, import_id, ASKED)
        if row is None:
            return Gone()
        _close(row, CANCELLED, now)
        return _file(row)


# --------------------------------------------------------------------------- helpers


def _own(session: Session, actor: Actor, import_id: int, *states: str,
         lock: bool = False) -> PlanImport | None:
    query = select(PlanImport).where(PlanImport.id == import_id,
                                     PlanImport.telegram_user_id == actor.telegram_user_id)
    row = session.exec(query.with_for_update() if lock else query).first()
    return row if row is not None and row.state in states else None


def _close(row: PlanImport, state: str, now: datetime) -> None:
    row.state, row.updated_at = state, now


def _file(row: PlanImport) -> FileRef:
    return FileRef(row.file_id, row.file_unique_id, row.file_name, row.mime_type, row.file_size)


def _refusal(row: PlanImport, data: bytes) -> ParsedPlan | Refused:
    try:
        return parse_document(data, source=row.file_name or "document", name=row.file_name or None)
    except PlanFormatError as exc:
        return Refused(row.file_name, "format", str(exc))


def _preview(session: Session, row: PlanImport, parsed: ParsedPlan,
             report: registry.ImportReport) -> Preview:
    counts = {axis.number: 0 for axis in parsed.axes}
    for task in parsed.tasks:
        counts[task.axis] = counts.get(task.axis, 0) + 1
    axes = tuple(AxisCount(a.number, a.name, counts[a.number]) for a in parsed.axes)
    agencies, classes = registry.named(session, parsed)
    assert row.id is not None
    return Preview(row.id, row.file_name, parsed.title, axes, tuple(agencies), tuple(classes),
                   report)


def plan_json(plan: ParsedPlan) -> str:
    """A parsed plan as JSON (kept with the preview, so Apply applies what was shown)."""
    data = dataclasses.asdict(plan)
    data["issued_on"] = plan.issued_on.isoformat() if plan.issued_on else None
    for task, parsed_task in zip(data["tasks"], plan.tasks, strict=True):
        task["due_on"] = parsed_task.due_on.isoformat() if parsed_task.due_on else None
    return json.dumps(data, ensure_ascii=False)


def plan_from_json(text: str) -> ParsedPlan:
    data = json.loads(text)
    return ParsedPlan(
        number=data["number"],
        issued_on=date.fromisoformat(data["issued_on"]) if data["issued_on"] else None,
        title=data["title"],
        axes=tuple(ParsedAxis(**axis) for axis in data["axes"]),
        tasks=tuple(ParsedTask(**{**task, "lead": tuple(task["lead"]),
                                  "coordinating": tuple(task["coordinating"]),
                                  "due_on": (date.fromisoformat(task["due_on"])
                                             if task.get("due_on") else None)})
                    for task in data["tasks"]),
        warnings=tuple(data["warnings"]),
    )
