"""Read-only views of the delivery ledger, for operators (doctor, health endpoint)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.tables import Delivery, DeliveryState


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
