"""Helpers for the scheduling tests: members, a fixed active date, rules, a recording bot."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from bot.settings import load_settings, schedule_rules
from domain.rules import ScheduleRules
from models.agencies import find_agency
from models.db import session_scope
from models.registry import current_plan
from models.tables import Agency, Delivery, Member, Plan

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local(y: int, m: int, d: int, hh: int = 8, mm: int = 0, ss: int = 0) -> datetime:
    return datetime.combine(date(y, m, d), time(hh, mm, ss), tzinfo=TZ)


def rules(**overrides: Any) -> ScheduleRules:
    return schedule_rules(load_settings(**overrides))


def set_active_from(engine: Engine, day: date) -> None:
    with session_scope(engine) as s:
        s.execute(update(Plan).values(active_from=day))


def plan_of(session: Session) -> Plan:
    plan = current_plan(session)
    assert plan is not None
    return plan


def agency(session: Session, code: str) -> Agency:
    found = find_agency(session, code)
    assert found is not None, code
    return found


def add_member(engine: Engine, user_id: int, agency_code: str | None, role: str = "focal_point",
               language: str = "en") -> int:
    with session_scope(engine) as s:
        agency_id = agency(s, agency_code).id if agency_code else None
        member = Member(telegram_user_id=user_id, agency_id=agency_id, role=role,
                        full_name=f"User {user_id}", language=language)
        s.add(member)
        s.flush()
        assert member.id is not None
        return member.id


def ledger(engine: Engine) -> list[Delivery]:
    with session_scope(engine) as s:
        return list(s.exec(select(Delivery).order_by(Delivery.id)))  # type: ignore[arg-type]


@dataclass
class Sent:
    chat_id: int
    text: str
    at: datetime


@dataclass
class RecordingBot:
    """Stands in for telegram.Bot in model-level tests: records what would be sent."""

    sent: list[Sent] = field(default_factory=list)

    async def send_message(self, chat_id: int, text: str, reply_markup: object = None, **_: Any) -> Any:
        self.sent.append(Sent(chat_id, text, datetime.now(UTC)))

        class _Message:
            message_id = len(self.sent)

        return _Message()

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]


SYT, HALONG, HALONG_LEADER, COORD, STP = 101, 102, 103, 104, 105


def populate_world(engine: Engine) -> Engine:
    """Plan 916 active since 1 Oct 2026; focal points of Sở Y tế, Hạ Long and Sở Tư pháp, Hạ Long's
    leader and a coordinator of Sở Nội vụ."""
    set_active_from(engine, date(2026, 10, 1))
    add_member(engine, SYT, "SYT")
    add_member(engine, HALONG, "HA-LONG")
    add_member(engine, HALONG_LEADER, "HA-LONG", role="leader")
    add_member(engine, COORD, "SNV", role="coordinator")
    add_member(engine, STP, "STP")
    return engine
