"""The delivery ledger: every statement on the ``delivery`` table, working on row ids.

A row is one message owed to one chat, unique by its key, so "never twice" is a database
constraint. Its life:

- **planned** (``pending``): inserted with ON CONFLICT DO NOTHING (:func:`plan`), so planning
  again, after a restart or on another instance, never adds a second row;
- **claimed** (``sending``, with who and when): :func:`claim` takes what is due in one committed
  transaction (on PostgreSQL whole chats, under an advisory lock on the chat id);
- **renewed** right before each send (:func:`advance`, which also records the previous message
  as sent, in the same transaction): a claim that lapsed meanwhile (another claim took the rows
  over) neither sends nor gives back;
- **settled**: ``sent``, ``failed``, ``blocked``, or ``skipped`` (no longer needed: its item was
  reported, it was missed by more than the grace window, or a notice went stale before it was
  sent, with the reason in ``last_error``); or **given back** to ``pending`` (a 429, a 5xx, the
  bot stopping) for a later attempt.

The one window in which a message can go out twice: the process dies after Telegram accepted it
and before :func:`advance` (or :func:`settle_sent`) committed, and the lease runs out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, case, exists, func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models.db import insert_ignore, session_scope
from models.tables import (
    OPEN_STATES,
    Delivery,
    DeliveryState,
    ExplanationRequest,
    ExplanationState,
    ExtensionRequest,
    ExtensionState,
    Item,
    Member,
    MemberRole,
    Report,
    ReviewState,
)

# Kinds of rows.
REMINDER = "reminder"
NOTICE = "notice"
DIGEST = "digest"
BROADCAST = "broadcast"
# Held back during quiet hours (broadcasts go out, silently: the sender is watching).
QUIET_KINDS = (REMINDER, NOTICE, DIGEST)

# What a notice is about (its ``slot_kind``); ``ref_id`` names the subject.
UNREACHABLE_NOTICE = ""  # a member blocked the bot (ref: the member); "" in rows of older versions
REVIEW_NOTICE = "review"  # a done report waits for a coordinator (ref: the report)
RETURNED_NOTICE = "returned"  # a report was sent back to its agency (ref: the report)
BLOCKED_NOTICE = "blocked"  # a report says the work is blocked, with the reason (ref: the report)
VERIFIED_NOTICE = "verified"  # a report was verified (ref: the report)
# A lead reported done on a task an agency coordinates (ref: the lead's report).
COORDINATED_REPORT_NOTICE = "coord_report"
# Notices about one report version: checked against the current version right before sending.
REPORT_NOTICES = (REVIEW_NOTICE, RETURNED_NOTICE, BLOCKED_NOTICE, VERIFIED_NOTICE, COORDINATED_REPORT_NOTICE)
# A period opened for tasks an agency coordinates: ``co:<period key>`` (ref: that agency), one
# message per focal point of the agency and period, listing the tasks with their leads.
OPENING_NOTICE = "co:"
# Explanation requests (ref: the request): asked, reminded before/on its due day, late
# (escalated), and answered (to the requester).
EXPLAIN_NOTICE = "explain"
EXPLAIN_DUE_NOTICE = "explain_due"
EXPLAIN_LATE_NOTICE = "explain_late"
EXPLAIN_ESCALATED_NOTICE = "explain_esc"  # to the requester: not answered by the due day
EXPLAINED_NOTICE = "explained"
# Notices that only stand while their request is open: checked right before sending.
OPEN_EXPLANATION_NOTICES = (EXPLAIN_NOTICE, EXPLAIN_DUE_NOTICE, EXPLAIN_LATE_NOTICE, EXPLAIN_ESCALATED_NOTICE)
EXPLANATION_NOTICES = (*OPEN_EXPLANATION_NOTICES, EXPLAINED_NOTICE)
EXTENSION_NOTICE = "ext_ask"  # an agency asks for a later due date (ref: the extension request)
EXTENSION_DECIDED_NOTICE = "ext_done"  # the coordinator's decision, to the agency (ref: the request)
# Notices checked right before sending (a request already decided is not offered again).
CHECKED_NOTICES = (*REPORT_NOTICES, *OPEN_EXPLANATION_NOTICES, EXTENSION_NOTICE)

STALE = "stale: "  # prefix of ``last_error`` of notices dropped because they went stale

CLAIM_LIMIT = 200  # rows per claim (SQLite)
CLAIM_CHATS = 50  # chats per claim (PostgreSQL claims whole chats)
# Network errors and 5xx are retried with backoff (5 s doubling to 10 min): about 2.5 hours
# of attempts before a message is given up as failed. 429s never count as attempts.
MAX_ATTEMPTS = 20
ERROR_LIMIT = 500  # characters of last_error kept


# --- planning -------------------------------------------------------------------------------

def new_row(*, key: str, kind: str, chat_id: int, at: datetime, now: datetime,
            member_id: int | None = None, item_id: int | None = None, ref_id: int | None = None,
            detail: str = "", audience: str = "", offset_days: int = 0) -> dict[str, Any]:
    """A pending row due at ``at``, as :func:`plan` takes it."""
    return {"key": key, "kind": kind, "chat_id": chat_id, "member_id": member_id,
            "item_id": item_id, "ref_id": ref_id, "slot_at": at, "slot_kind": detail[:16],
            "offset_days": offset_days, "audience": audience[:16],
            "state": DeliveryState.PENDING.value, "attempts": 0, "next_attempt_at": at,
            "last_error": "", "created_at": now}


def plan(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert pending rows (dicts of column values, e.g. from :func:`new_row`); a key already
    in the ledger is left alone. Returns how many were new."""
    if not rows:
        return 0
    return insert_ignore(session, Delivery, rows, ("key",))


def known_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """The ``keys`` already in the ledger (in any state)."""
    wanted = list(set(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        found.update(session.exec(select(Delivery.key).where(col(Delivery.key).in_(chunk))))
    return found


def queue_notices(session: Session, *, key: str, detail: str, subject_id: int,
                  recipients: Iterable[Member], now: datetime) -> int:
    """One ``notice`` row per recipient, keyed ``{key}:{recipient}``: queued once, however often
    this runs. ``detail`` says what the notice is about (the dispatcher renders by it, in each
    recipient's language, when it sends) and ``subject_id`` which member or report it concerns.
    Returns how many recipients there are (whether queued now or before)."""
    people = [m for m in recipients if m.id is not None]
    plan(session, [new_row(key=f"{key}:{m.id}", kind=NOTICE, chat_id=m.telegram_user_id, at=now,
                           now=now, member_id=m.id, ref_id=subject_id, detail=detail,
                           audience=m.role) for m in people])
    return len(people)


def reachable_coordinators(session: Session, *, besides: int | None = None) -> list[Member]:
    query = select(Member).where(col(Member.role) == MemberRole.COORDINATOR.value, col(Member.active),
                                 col(Member.unreachable_at).is_(None))
    return [m for m in session.exec(query) if m.id != besides]


def queue_review_notices(session: Session, *, report_id: int, now: datetime) -> int:
    """Tell the coordinators that a done report waits for them (once per report version)."""
    return queue_notices(session, key=f"review:{report_id}", detail=REVIEW_NOTICE,
                         subject_id=report_id, recipients=reachable_coordinators(session), now=now)


def queue_returned_notices(session: Session, *, report_id: int, recipients: Iterable[Member],
                           now: datetime) -> int:
    """Tell the agency's focal points that its report was returned (once per report version);
    returns how many will be told."""
    return queue_notices(session, key=f"returned:{report_id}", detail=RETURNED_NOTICE,
                         subject_id=report_id, recipients=recipients, now=now)


def queue_blocked_notices(session: Session, *, report_id: int, agency_id: int, now: datetime) -> int:
    """Tell the coordinators and the agency's leaders that its work on an item is blocked, and
    why (once per report version); returns how many will be told."""
    leaders = select(Member).where(col(Member.agency_id) == agency_id, col(Member.active),
                                   col(Member.role) == MemberRole.LEADER.value,
                                   col(Member.unreachable_at).is_(None))
    people = {m.id: m for m in [*reachable_coordinators(session), *session.exec(leaders)]}
    return queue_notices(session, key=f"blocked:{report_id}", detail=BLOCKED_NOTICE,
                         subject_id=report_id, recipients=people.values(), now=now)


def queue_verified_notices(session: Session, *, report_id: int, recipients: Iterable[Member],
                           now: datetime) -> int:
    """Tell the agency's focal points that its report was verified (once per report version)."""
    return queue_notices(session, key=f"verified:{report_id}", detail=VERIFIED_NOTICE,
                         subject_id=report_id, recipients=recipients, now=now)


def queue_explanation_notices(session: Session, *, request_id: int, recipients: Iterable[Member],
                              now: datetime) -> int:
    """Tell the asked agency's focal points and leaders that an explanation is requested (once
    per request); returns how many will be told."""
    return queue_notices(session, key=f"explain:{request_id}", detail=EXPLAIN_NOTICE,
                         subject_id=request_id, recipients=recipients, now=now)


def queue_explanation_answered(session: Session, *, request_id: int, recipient: Member,
                               now: datetime) -> int:
    """Tell the requester that the agency answered (once per request)."""
    return queue_notices(session, key=f"explained:{request_id}", detail=EXPLAINED_NOTICE,
                         subject_id=request_id, recipients=[recipient], now=now)


def skip_explanation_notices(session: Session, request_id: int, reason: str) -> int:
    """The request closed: its asks and reminders not yet sent are dropped. Returns how many."""
    result = session.execute(update(Delivery).where(
        col(Delivery.kind) == NOTICE, col(Delivery.ref_id) == request_id,
        col(Delivery.slot_kind).in_(OPEN_EXPLANATION_NOTICES),
        col(Delivery.state) == DeliveryState.PENDING.value)
        .values(state=DeliveryState.SKIPPED.value, last_error=reason[:ERROR_LIMIT]))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def skip_unplanned_explanation_notices(session: Session, *, wanted: set[str], since: datetime,
                                       until: datetime) -> int:
    """Pending explanation reminders due in [since, until] the planner no longer plans (their
    due day or the calendar moved) are skipped. Returns how many."""
    query = select(Delivery.id, Delivery.key).where(
        col(Delivery.kind) == NOTICE, col(Delivery.state) == DeliveryState.PENDING.value,
        col(Delivery.slot_kind).in_((EXPLAIN_DUE_NOTICE, EXPLAIN_LATE_NOTICE, EXPLAIN_ESCALATED_NOTICE)),
        col(Delivery.slot_at) >= since, col(Delivery.slot_at) <= until)
    stale = [row_id for row_id, key in session.exec(query) if key not in wanted]
    if stale:
        session.execute(update(Delivery).where(col(Delivery.id).in_(stale)).values(
            state=DeliveryState.SKIPPED.value, last_error="no longer planned"))
    return len(stale)
def queue_extension_notices(session: Session, *, request_id: int, recipients: Iterable[Member],
                            now: datetime) -> int:
    """Tell the coordinators in scope that an agency asks for a later date (once per request)."""
    return queue_notices(session, key=f"ext:{request_id}", detail=EXTENSION_NOTICE,
                         subject_id=request_id, recipients=recipients, now=now)


def queue_extension_decided_notices(session: Session, *, request_id: int, recipients: Iterable[Member],
                                    now: datetime) -> int:
    """Tell the agency's focal points what was decided on their request (once per request)."""
    return queue_notices(session, key=f"extd:{request_id}", detail=EXTENSION_DECIDED_NOTICE,
                         subject_id=request_id, recipients=recipients, now=now)
def queue_opening_notices(session: Session, *, period_key: str, agency_id: int,
                          recipients: Iterable[Member], now: datetime) -> int:
    """Tell a coordinating agency's focal points that a period of tasks it coordinates began
    (once per period, agency and person, however often the item sync sees it)."""
    detail = f"{OPENING_NOTICE}{period_key}"
    if len(detail) > 16:  # the period is named in slot_kind; keys are never this long
        return 0
    return queue_notices(session, key=f"coord-open:{period_key}:{agency_id}", detail=detail,
                         subject_id=agency_id, recipients=recipients, now=now)


def queue_coordinated_report_notices(session: Session, *, report_id: int, recipients: Iterable[Member],
                                     now: datetime) -> int:
    """Tell the focal points of the agencies coordinating a task that its lead reported done
    (once per report version)."""
    return queue_notices(session, key=f"coord-report:{report_id}", detail=COORDINATED_REPORT_NOTICE,
                         subject_id=report_id, recipients=recipients, now=now)


def skip_unplanned_reminders(session: Session, *, item_ids: list[int] | None, wanted: set[str],
                             since: datetime, until: datetime, reason: str = "no longer planned") -> int:
    """Pending reminders (of ``item_ids``; None: of any item) due in [since, until] whose key
    is not in ``wanted`` are skipped (the policy no longer plans them). Returns how many."""
    if item_ids is not None and not item_ids:
        return 0
    query = select(Delivery.id, Delivery.key).where(
        col(Delivery.kind) == REMINDER, col(Delivery.state) == DeliveryState.PENDING.value,
        col(Delivery.slot_at) >= since, col(Delivery.slot_at) <= until)
    if item_ids is not None:
        query = query.where(col(Delivery.item_id).in_(item_ids))
    stale = [row_id for row_id, key in session.exec(query) if key not in wanted]
    if stale:
        session.execute(update(Delivery).where(col(Delivery.id).in_(stale)).values(
            state=DeliveryState.SKIPPED.value, last_error=reason))
    return len(stale)


def pending_reminders_by_task(session: Session, task_ids: list[int]) -> dict[int, int]:
    """task id -> its reminders planned and not yet sent (what retiring the task stops)."""
    if not task_ids:
        return {}
    query = (select(Item.task_id, func.count()).select_from(Delivery)
             .join(Item, col(Item.id) == Delivery.item_id)
             .where(col(Delivery.kind) == REMINDER,
                    col(Delivery.state) == DeliveryState.PENDING.value,
                    col(Item.task_id).in_(task_ids))
             .group_by(col(Item.task_id)))
    return {task_id: int(count) for task_id, count in session.exec(query)}


def skip_reminders_of_tasks(session: Session, task_ids: list[int], reason: str) -> int:
    """Skip the pending reminders of these tasks' items (retired tasks: the dispatcher would
    otherwise still send the rows planned before). Returns how many rows were skipped."""
    if not task_ids:
        return 0
    items = select(Item.id).where(col(Item.task_id).in_(task_ids))
    statement = (update(Delivery)
                 .where(col(Delivery.kind) == REMINDER,
                        col(Delivery.state) == DeliveryState.PENDING.value,
                        col(Delivery.item_id).in_(items))
                 .values(state=DeliveryState.SKIPPED.value, last_error=reason))
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


# --- claiming -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    """One claimed row, as plain values (rendering reads nothing else from the ledger)."""

    id: int
    key: str
    kind: str
    chat_id: int
    member_id: int | None
    item_id: int | None
    ref_id: int | None
    detail: str  # slot_kind: before | due | overdue, a digest slot, what a notice is about
    audience: str
    attempts: int  # including this one


@dataclass(frozen=True)
class Held:
    """Rows held under one claim: who claimed them and when (renewals move ``at``)."""

    ids: tuple[int, ...]
    by: str
    at: datetime


@dataclass(frozen=True)
class Claim:
    rows: list[Claimed]
    by: str
    at: datetime

    def held(self, ids: Iterable[int]) -> Held:
        return Held(tuple(ids), self.by, self.at)


def tidy(engine: Engine, now: datetime, *, grace: timedelta, lease: timedelta) -> None:
    """Collapse reminders missed beyond the grace window, recover expired claims, and drop
    reminders whose item was reported meanwhile. Its own short transaction, so that the row
    locks it takes are not held through a claim."""
    pending = col(Delivery.state) == DeliveryState.PENDING.value
    with session_scope(engine) as session:
        session.execute(update(Delivery).where(
            pending, col(Delivery.kind) == REMINDER, col(Delivery.slot_at) < now - grace)
            .values(state=DeliveryState.SKIPPED.value, last_error="missed by more than the grace window"))
        session.execute(update(Delivery).where(
            col(Delivery.state) == DeliveryState.SENDING.value, col(Delivery.claimed_at) < now - lease)
            .values(state=DeliveryState.PENDING.value, claimed_by=None))
        # Per pending reminder one look-up of its item (not a list of every closed item: at a
        # country's scale that is most of a million rows, for a few pending reminders).
        closed = exists().where(col(Item.id) == col(Delivery.item_id), col(Item.state).not_in(OPEN_STATES))
        session.execute(update(Delivery).where(pending, col(Delivery.kind) == REMINDER, closed)
                        .values(state=DeliveryState.SKIPPED.value, last_error="item no longer open"))


def _due_query(now: datetime, quiet: bool) -> Any:
    query = select(Delivery).where(col(Delivery.state) == DeliveryState.PENDING.value,
                                   col(Delivery.next_attempt_at) <= now)
    if quiet:
        query = query.where(col(Delivery.kind).not_in(QUIET_KINDS))
    return query


def _due_one_instance(session: Session, now: datetime, quiet: bool, limit: int) -> list[Delivery]:
    """SQLite: one instance per file, so a plain read is a claim."""
    query = _due_query(now, quiet).order_by(col(Delivery.chat_id), col(Delivery.next_attempt_at))
    rows = list(session.exec(query.limit(limit)))
    if len(rows) < limit:
        return rows
    last = rows[-1].chat_id
    if rows[0].chat_id != last:
        # The limit may have cut the last person's rows in two: leave theirs for the next round,
        # so that they get one message, not two.
        return [r for r in rows if r.chat_id != last]
    # One person's rows fill the whole claim (a coordinator's escalation of hundreds of items):
    # all of them, so that they make one message, never chunks that each claim a total.
    return list(session.exec(_due_query(now, quiet).where(col(Delivery.chat_id) == last)
                             .order_by(col(Delivery.next_attempt_at))))


def _due_shared(session: Session, now: datetime, quiet: bool, chats: int) -> list[Delivery]:
    """PostgreSQL, where several instances may claim at once: a chat is claimed whole, under a
    transaction-scoped advisory lock on its id, so one person's rows never end up in two
    instances' messages; the rows are also locked (FOR UPDATE) against other writers."""
    due = _due_query(now, quiet).subquery()
    # Chats another instance is claiming right now still look pending: try past them.
    candidates = list(session.exec(select(due.c.chat_id).distinct().order_by(due.c.chat_id)
                                   .limit(chats * 4)))
    won: list[int] = []
    for chat in candidates:
        if session.execute(select(func.pg_try_advisory_xact_lock(chat))).scalar():
            won.append(chat)
            if len(won) == chats:
                break
    if not won:
        return []
    query = (_due_query(now, quiet).where(col(Delivery.chat_id).in_(won))
             .order_by(col(Delivery.chat_id), col(Delivery.next_attempt_at)).with_for_update())
    return list(session.exec(query))


def claim(engine: Engine, now: datetime, instance: str, *, quiet: bool,
          limit: int = CLAIM_LIMIT, chats: int = CLAIM_CHATS) -> Claim:
    """Claim what is due now (without the quiet kinds when ``quiet``), in one committed
    transaction: the rows become ``sending`` by ``instance`` at ``now``, one attempt more."""
    with session_scope(engine) as session:
        if session.get_bind().dialect.name == "postgresql":
            rows = _due_shared(session, now, quiet, chats)
        else:
            rows = _due_one_instance(session, now, quiet, limit)
        ids = [r.id for r in rows if r.id is not None]
        if ids:
            session.execute(update(Delivery).where(col(Delivery.id).in_(ids)).values(
                state=DeliveryState.SENDING.value, claimed_by=instance, claimed_at=now,
                attempts=col(Delivery.attempts) + 1).execution_options(synchronize_session=False))
        claimed = [Claimed(r.id, r.key, r.kind, r.chat_id, r.member_id, r.item_id, r.ref_id,
                           r.slot_kind, r.audience, r.attempts + 1) for r in rows if r.id is not None]
    return Claim(claimed, instance, now)


# --- sending: renew, settle -----------------------------------------------------------------

class Renewal(StrEnum):
    MINE = "mine"  # renewed: send it now
    LAPSED = "lapsed"  # another claim took the rows over: leave them to it
    STALE = "stale"  # a notice that no longer applies: settled as skipped, not to be sent


@dataclass(frozen=True)
class Sent:
    """A message Telegram accepted, not yet recorded."""

    ids: tuple[int, ...]
    message_id: int
    at: datetime


@dataclass(frozen=True)
class Check:
    """What to check right before sending a notice: is it still true?"""

    detail: str
    ref_id: int | None


def _in(ids: Sequence[int]) -> Any:
    return col(Delivery.id).in_(list(ids))


def _mine(held: Held) -> tuple[Any, ...]:
    return (_in(held.ids), col(Delivery.state) == DeliveryState.SENDING.value,
            col(Delivery.claimed_by) == held.by, col(Delivery.claimed_at) == held.at)


def _one_less() -> Any:
    """The attempt the claim counted, taken back (never below zero)."""
    attempts = col(Delivery.attempts)
    return case((attempts > 0, attempts - 1), else_=0)


# The statements of the path every message takes (renew, record), built once: constructing
# and keying a statement costs more than SQLite takes to run it.
_T = Delivery.__table__  # type: ignore[attr-defined]
_HELD = (_T.c.id.in_(bindparam("ids", expanding=True)), _T.c.state == DeliveryState.SENDING.value,
         _T.c.claimed_by == bindparam("by"), _T.c.claimed_at == bindparam("at"))
_RENEW = update(_T).where(*_HELD).values(claimed_at=bindparam("renewed"))
_RECORD_SENT = update(_T).where(_T.c.id.in_(bindparam("ids", expanding=True))).values(
    state=DeliveryState.SENT.value, message_id=bindparam("message_id"), sent_at=bindparam("sent_at"),
    last_error="")
_DROP_STALE = update(_T).where(_T.c.id.in_(bindparam("ids", expanding=True))).values(
    state=DeliveryState.SKIPPED.value, last_error=bindparam("reason"))


def _record_sent(conn: Connection, sent: Sent) -> None:
    conn.execute(_RECORD_SENT, {"ids": list(sent.ids), "message_id": sent.message_id, "sent_at": sent.at})


def _explanation_stale(conn: Connection, check: Check) -> str | None:
    state = conn.execute(select(ExplanationRequest.state)
                         .where(col(ExplanationRequest.id) == check.ref_id)).scalar()
    if state is None:
        return "request gone"
    if state != ExplanationState.OPEN.value:
        return f"the request was {state} meanwhile"
    return None


def stale_reason(conn: Connection, check: Check) -> str | None:
    """Why a notice no longer applies (checked against the current report version, whether
    its explanation request is still open, or whether its extension request still waits), or None."""
    if check.detail in OPEN_EXPLANATION_NOTICES:
        return _explanation_stale(conn, check)
    if check.detail == EXTENSION_NOTICE:
        state = conn.execute(select(ExtensionRequest.state)
                             .where(col(ExtensionRequest.id) == check.ref_id)).scalar()
        return None if state == ExtensionState.PENDING.value else f"the request is {state or 'gone'}"
    if check.detail not in REPORT_NOTICES:
        return None
    version = aliased(Report)
    newest = (select(func.max(version.version)).where(col(version.item_id) == col(Report.item_id))
              .scalar_subquery())
    found = conn.execute(select(Report.review_state, Report.version, newest)
                         .where(col(Report.id) == check.ref_id)).first()
    if found is None:
        return "report gone"
    review_state, number, current = found
    if current is not None and number < current:
        return "a newer version was sent"
    if check.detail == REVIEW_NOTICE and review_state != ReviewState.PENDING.value:
        return f"the report was {review_state or 'withdrawn'} meanwhile"
    if check.detail == RETURNED_NOTICE and review_state != ReviewState.RETURNED.value:
        return "the report is no longer returned"
    if check.detail == VERIFIED_NOTICE and review_state != ReviewState.APPROVED.value:
        return "the report is no longer verified"
    return None


def advance(engine: Engine, sent: Sent | None, held: Held | None, now: datetime,
            check: Check | None = None) -> Renewal:
    """One transaction before each send: record the previous message as sent (``sent``) and
    renew the claim on the next one's rows (``held``); a stale notice is settled as skipped.

    A claim lapses when its rows wait longer than the lease (a slow batch, long 429 pauses)
    and another claim, of this instance or another, took them back: then that claim sends
    them, and this one must not. Renewing right before the send means the lease only has to
    cover one send; recording the previous outcome in the same commit keeps the crash window
    at one message."""
    with engine.begin() as conn:
        if sent is not None:
            _record_sent(conn, sent)
        if held is None:
            return Renewal.MINE
        ids = list(held.ids)
        renewed = conn.execute(_RENEW, {"ids": ids, "by": held.by, "at": held.at, "renewed": now}).rowcount
        if renewed != len(ids):
            if renewed:  # partly taken over: put back what was renewed, as if untouched
                conn.execute(_RENEW, {"ids": ids, "by": held.by, "at": now, "renewed": held.at})
            return Renewal.LAPSED
        reason = stale_reason(conn, check) if check is not None else None
        if reason is not None:
            conn.execute(_DROP_STALE, {"ids": ids, "reason": (STALE + reason)[:ERROR_LIMIT]})
            return Renewal.STALE
    return Renewal.MINE


def settle_sent(engine: Engine, sent: Sent) -> None:
    with engine.begin() as conn:
        _record_sent(conn, sent)


def retry(engine: Engine, held: Held, at: datetime, error: str, *, counts: bool = True) -> None:
    """Back to pending for another attempt at ``at``; after MAX_ATTEMPTS it is failed instead.

    ``counts=False`` (Telegram asked us to slow down, a group moved) does not use up an attempt."""
    pending, failed = DeliveryState.PENDING.value, DeliveryState.FAILED.value
    with engine.begin() as conn:
        if counts:
            conn.execute(update(Delivery).where(_in(held.ids), col(Delivery.attempts) >= MAX_ATTEMPTS)
                         .values(state=failed, last_error=error[:ERROR_LIMIT], claimed_by=None))
            conn.execute(update(Delivery).where(_in(held.ids), col(Delivery.state) != failed).values(
                state=pending, next_attempt_at=at, last_error=error[:ERROR_LIMIT], claimed_by=None))
        else:
            conn.execute(update(Delivery).where(_in(held.ids)).values(
                state=pending, next_attempt_at=at, last_error=error[:ERROR_LIMIT], claimed_by=None,
                attempts=_one_less()))


def fail(engine: Engine, ids: Sequence[int], error: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(Delivery).where(_in(ids)).values(
            state=DeliveryState.FAILED.value, last_error=error[:ERROR_LIMIT]))


def skip(engine: Engine, held: Held, reason: str) -> None:
    """Claimed rows with nothing to say (their subject vanished): settled as skipped, if the
    claim still stands."""
    with engine.begin() as conn:
        conn.execute(update(Delivery).where(*_mine(held)).values(
            state=DeliveryState.SKIPPED.value, last_error=reason[:ERROR_LIMIT]))


def block(engine: Engine, ids: Sequence[int], member_id: int | None, error: str, now: datetime) -> None:
    """The recipient blocked the bot: these rows and everything else queued for them are
    blocked, the member is marked unreachable, and the coordinators are told once."""
    with session_scope(engine) as session:
        session.execute(update(Delivery).where(_in(ids)).values(
            state=DeliveryState.BLOCKED.value, last_error=error[:ERROR_LIMIT]))
        member = session.get(Member, member_id) if member_id else None
        if member is None or member.id is None:
            return
        if member.unreachable_at is None:
            member.unreachable_at = now
        # Everything else queued for them would fail the same way.
        session.execute(update(Delivery).where(
            col(Delivery.member_id) == member.id, col(Delivery.state) == DeliveryState.PENDING.value)
            .values(state=DeliveryState.BLOCKED.value, last_error="recipient unreachable"))
        queue_notices(session, key=f"unreachable:{member.id}", detail=UNREACHABLE_NOTICE,
                      subject_id=member.id, recipients=reachable_coordinators(session, besides=member.id),
                      now=now)


def give_back(engine: Engine, held: Sequence[Held], at: datetime) -> None:
    """Claimed but not sent (the bot is stopping, or a 429 pause): back to pending for ``at``,
    the attempt not counted. Only rows whose claim still stands are touched: a lapsed claim's
    rows belong to whoever took them over."""
    if not held:
        return
    with engine.begin() as conn:
        for h in held:
            conn.execute(update(Delivery).where(*_mine(h)).values(
                state=DeliveryState.PENDING.value, claimed_by=None, next_attempt_at=at,
                attempts=_one_less()))


def next_due(engine: Engine, *, quiet_until: datetime | None = None) -> datetime | None:
    """When the earliest pending row becomes sendable (to wake the dispatcher then).

    ``quiet_until``: it is quiet now until then, so the quiet kinds become sendable then at
    the earliest (not at the slot they missed)."""
    pending = col(Delivery.state) == DeliveryState.PENDING.value
    earliest = func.min(Delivery.next_attempt_at)
    with session_scope(engine) as session:
        if quiet_until is None:
            found: datetime | None = session.exec(select(earliest).where(pending)).one()
            return found
        loud = session.exec(select(earliest).where(pending, col(Delivery.kind).not_in(QUIET_KINDS))).one()
        quiet = session.exec(select(earliest).where(pending, col(Delivery.kind).in_(QUIET_KINDS))).one()
    if quiet is not None:
        quiet = max(quiet, quiet_until)
    times = [d for d in (loud, quiet) if d is not None]
    return min(times) if times else None


# --- chats and broadcasts -------------------------------------------------------------------

def fail_pending_for_chat(session: Session, chat_id: int, reason: str) -> None:
    """Queued messages to a chat we cannot post in would fail the same way: settle them."""
    session.execute(update(Delivery).where(
        col(Delivery.chat_id) == chat_id, col(Delivery.state) == DeliveryState.PENDING.value)
        .values(state=DeliveryState.FAILED.value, last_error=reason[:ERROR_LIMIT]))


def move_chat(session: Session, old_id: int, new_id: int) -> None:
    """A group became a supergroup: what is still queued for it follows the new id."""
    session.execute(update(Delivery).where(
        col(Delivery.chat_id) == old_id,
        col(Delivery.state).in_((DeliveryState.PENDING.value, DeliveryState.SENDING.value)))
        .values(chat_id=new_id))


def states_of(session: Session, kind: str, ref_id: int) -> Counter[str]:
    """How many rows of (kind, ref) are in each state."""
    mine = (col(Delivery.kind) == kind, col(Delivery.ref_id) == ref_id)
    return Counter(dict(session.exec(
        select(Delivery.state, func.count()).where(*mine).group_by(col(Delivery.state))).all()))


def failure_reasons(session: Session, kind: str, ref_id: int) -> list[tuple[str, int]]:
    """Reasons of the failed and blocked rows of (kind, ref), most frequent first."""
    found = session.exec(
        select(Delivery.last_error, func.count()).where(
            col(Delivery.kind) == kind, col(Delivery.ref_id) == ref_id,
            col(Delivery.state).in_((DeliveryState.FAILED.value, DeliveryState.BLOCKED.value)))
        .group_by(col(Delivery.last_error)).order_by(func.count().desc())).all()
    return [(reason or "?", int(n)) for reason, n in found]


def requeue_failed(session: Session, kind: str, ref_id: int, now: datetime) -> int:
    """Failed rows of (kind, ref) get another go now; returns how many."""
    result = session.execute(update(Delivery).where(
        col(Delivery.kind) == kind, col(Delivery.ref_id) == ref_id,
        col(Delivery.state) == DeliveryState.FAILED.value)
        .values(state=DeliveryState.PENDING.value, attempts=0, next_attempt_at=now, last_error="",
                claimed_by=None))
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- for operators (doctor, health endpoint) ------------------------------------------------

@dataclass(frozen=True)
class Backlog:
    pending: int  # planned, not yet sent
    due: int  # pending and due now (a growing number means the dispatcher is behind)
    sending: int  # claimed, outcome not yet recorded
    stuck: int  # claimed longer than the lease ago (an instance died mid-send)
    failed_recent: int  # failed in the last 7 days
    blocked_recent: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def backlog(session: Session, now: datetime, lease: timedelta = timedelta(minutes=5)) -> Backlog:
    state = col(Delivery.state)

    def count(*conditions: object) -> int:
        query = select(func.count()).select_from(Delivery).where(*conditions)  # type: ignore[arg-type]
        return int(session.exec(query).one())

    week_ago = now - timedelta(days=7)
    return Backlog(
        pending=count(state == DeliveryState.PENDING.value),
        due=count(state == DeliveryState.PENDING.value, col(Delivery.next_attempt_at) <= now),
        sending=count(state == DeliveryState.SENDING.value),
        stuck=count(state == DeliveryState.SENDING.value, col(Delivery.claimed_at) < now - lease),
        failed_recent=count(state == DeliveryState.FAILED.value, col(Delivery.created_at) >= week_ago),
        blocked_recent=count(state == DeliveryState.BLOCKED.value, col(Delivery.created_at) >= week_ago),
    )


def oldest_due(session: Session, now: datetime, *, only: Sequence[str] | None = None,
               besides: Sequence[str] = ()) -> datetime | None:
    """When the longest-waiting pending row became due (its ``next_attempt_at``), among the kinds
    ``only`` (or all but ``besides``); None if nothing pending is due by ``now``. For health."""
    query = select(func.min(Delivery.next_attempt_at)).where(
        col(Delivery.state) == DeliveryState.PENDING.value, col(Delivery.next_attempt_at) <= now)
    if only is not None:
        query = query.where(col(Delivery.kind).in_(only))
    if besides:
        query = query.where(col(Delivery.kind).not_in(besides))
    found: datetime | None = session.exec(query).one()
    return found
