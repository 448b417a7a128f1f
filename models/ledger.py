"""Read-only views of the delivery ledger, for operators (doctor, health endpoint)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from models.db import insert_ignore
from models.tables import Delivery, DeliveryState, Item, Member, MemberRole

REVIEW_NOTICE = "review"  # a done report waits for a coordinator
REMINDER_KIND = "reminder"  # the kind scheduler/planner.py writes


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


def queue_notices(session: Session, *, key: str, detail: str, subject_id: int,
                  recipients: Iterable[Member], now: datetime) -> None:
    """One ``notice`` row per recipient, keyed ``{key}:{recipient}``: queued once, however often
    this runs. ``detail`` says what the notice is about (the dispatcher renders by it) and
    ``subject_id`` which member or report it concerns."""
    rows = [{"key": f"{key}:{member.id}", "kind": "notice", "chat_id": member.telegram_user_id,
             "member_id": member.id, "ref_id": subject_id, "slot_at": now, "next_attempt_at": now,
             "state": DeliveryState.PENDING.value, "attempts": 0, "offset_days": 0,
             "slot_kind": detail, "audience": member.role, "last_error": "", "created_at": now}
            for member in recipients]
    if rows:
        insert_ignore(session, Delivery, rows, ("key",))


def queue_review_notices(session: Session, *, report_id: int, now: datetime) -> None:
    """Tell the coordinators that a done report waits for them (once per report version)."""
    queue_notices(session, key=f"review:{report_id}", detail=REVIEW_NOTICE, subject_id=report_id,
                  recipients=reachable_coordinators(session), now=now)


def reachable_coordinators(session: Session, *, besides: int | None = None) -> list[Member]:
    query = select(Member).where(col(Member.role) == MemberRole.COORDINATOR.value, col(Member.active),
                                 col(Member.unreachable_at).is_(None))
    return [m for m in session.exec(query) if m.id != besides]


def pending_reminders_by_task(session: Session, task_ids: list[int]) -> dict[int, int]:
    """task id -> its reminders planned and not yet sent (what retiring the task stops)."""
    if not task_ids:
        return {}
    query = (select(Item.task_id, func.count()).select_from(Delivery)
             .join(Item, col(Item.id) == Delivery.item_id)
             .where(col(Delivery.kind) == REMINDER_KIND,
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
                 .where(col(Delivery.kind) == REMINDER_KIND,
                        col(Delivery.state) == DeliveryState.PENDING.value,
                        col(Delivery.item_id).in_(items))
                 .values(state=DeliveryState.SKIPPED.value, last_error=reason))
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
