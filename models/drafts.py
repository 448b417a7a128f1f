"""Which open draft a person's typed message belongs to: a broadcast waiting for its text (or the
agency's name), an /event waiting for a date or a number of days, an explanation request's
question or its answer (text or a document), an extension request waiting for its date or
reason (or a coordinator's shorter date or reason for refusing), or a report (or a coordinator's reason for
returning one). All drafts are rows; one query reads them all.

The order is the one people meet: a broadcast being written takes its text first; an /event draft
waiting for typed text takes it unless a report draft was touched after it; so do an extension
draft and an explanation draft (within the drafts' timeout); a report draft takes everything
else. None: no draft (the message is a report in the officer's words, or help). A contribution
draft of a coordinating agency (``models.contributions``) is found inside the report flow's own
transaction (``models.reporting.take_text``/``take_file``: the newer of the two drafts takes the
text), at no extra thread hop.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, case, func, literal, union_all
from sqlalchemy import select as core_select
from sqlmodel import col

from domain.access import Action, Actor, allows
from models.db import session_scope
from models.tables import (
    Broadcast,
    BroadcastStatus,
    EventDraft,
    ExplanationDraft,
    ExtensionDraft,
    ReportDraft,
)

# Extension draft steps that wait for typed text (models/extensions.py; "confirm" waits for a button).
_EXTENSION_TYPING = ("date", "reason", "shorten", "refuse")


class Draft(StrEnum):
    BROADCAST = "broadcast"
    EVENT = "event"
    EXTENSION = "extension"
    REPORT = "report"
    EXPLAIN_ASK = "explain_ask"  # a request for an explanation, waiting for its question
    EXPLAIN_ANSWER = "explain_answer"  # an answer to one, waiting for its text or document


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def waiting(engine: Engine, actor: Actor, *, now: datetime, timeout: timedelta,
            cancelling: bool = False) -> Draft | None:
    """The draft the actor's next typed message goes to (None: none waits for text).
    ``cancelling`` (/cancel): any open /event draft comes first, whatever step it is at."""
    parts: list[Any] = []
    user = actor.telegram_user_id
    if allows(actor, Action.BROADCAST):
        latest = (core_select(func.max(col(Broadcast.id)))
                  .where(col(Broadcast.sender_user_id) == user,
                         col(Broadcast.status) == BroadcastStatus.DRAFT.value)
                  .scalar_subquery())
        parts.append(core_select(literal(Draft.BROADCAST.value).label("kind"),
                                 col(Broadcast.step).label("step"), col(Broadcast.created_at).label("at"))
                     .where(col(Broadcast.id) == latest))
    if allows(actor, Action.RECORD_EVENT):
        parts.append(core_select(literal(Draft.EVENT.value).label("kind"),
                                 literal("").label("step"), col(EventDraft.updated_at).label("at"))
                     .where(col(EventDraft.telegram_user_id) == user,
                            col(EventDraft.days).is_(None) | literal(cancelling)))
    if actor.member_id is not None:
        parts.append(core_select(literal(Draft.EXTENSION.value).label("kind"),
                                 col(ExtensionDraft.step).label("step"),
                                 col(ExtensionDraft.updated_at).label("at"))
                     .where(col(ExtensionDraft.member_id) == actor.member_id,
                            col(ExtensionDraft.step).in_(_EXTENSION_TYPING) | literal(cancelling)))
        parts.append(core_select(literal(Draft.REPORT.value).label("kind"),
                                 col(ReportDraft.step).label("step"), col(ReportDraft.updated_at).label("at"))
                     .where(col(ReportDraft.member_id) == actor.member_id))
        explaining = case((col(ExplanationDraft.request_id).is_(None), Draft.EXPLAIN_ASK.value),
                          else_=Draft.EXPLAIN_ANSWER.value)
        parts.append(core_select(explaining.label("kind"), literal("").label("step"),
                                 col(ExplanationDraft.updated_at).label("at"))
                     .where(col(ExplanationDraft.member_id) == actor.member_id))
    if not parts:
        return None
    query: Any = parts[0] if len(parts) == 1 else union_all(*parts)
    with session_scope(engine) as session:
        rows = {kind: (step, at) for kind, step, at in session.execute(query)}
    report = rows.get(Draft.REPORT.value)
    if report is not None and report[0] == "sent":
        report = None
    broadcast = rows.get(Draft.BROADCAST.value)
    if broadcast is not None and (broadcast[0] in ("text", "agency") or (
            # /cancel also reaches a draft waiting for a button, unless a report was touched since.
            cancelling and (report is None or _utc(report[1]) <= _utc(broadcast[1])))):
        return Draft.BROADCAST
    event = rows.get(Draft.EVENT.value)
    extension = rows.get(Draft.EXTENSION.value)
    if extension is not None and _utc(extension[1]) >= now - timeout and all(
            other is None or _utc(other[1]) <= _utc(extension[1]) for other in (report, event)):
        return Draft.EXTENSION
    typing = _explaining(rows, report, now - timeout)
    if typing is not None and (event is None or (not cancelling
                               and _utc(event[1]) <= _utc(rows[typing.value][1]))):
        return typing
    fresh = event is not None and _utc(event[1]) >= now - timeout
    if event is not None and fresh and (cancelling or report is None or _utc(report[1]) <= _utc(event[1])):
        return Draft.EVENT
    return Draft.REPORT if report is not None else None


def _explaining(rows: dict[str, tuple[str, datetime]], report: tuple[str, datetime] | None,
                since: datetime) -> Draft | None:
    """An explanation draft touched within the timeout and after the report draft takes the
    text (the person pressed ❗ or "answer" last)."""
    for kind in (Draft.EXPLAIN_ANSWER, Draft.EXPLAIN_ASK):
        found = rows.get(kind.value)
        if found is None or _utc(found[1]) < since:
            continue
        if report is None or _utc(report[1]) <= _utc(found[1]):
            return kind
    return None
