"""People and reports for the history, notice, language and group tests: Plan 916 with its items
of today's periods; focal points, a coordinator, a leader and an admin (Vietnamese and English);
report versions written through models.reports, as the bot's flow does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.periods import DueRules
from models import reports as svc
from models.db import session_scope
from models.tables import Agency, Item, Member, MemberRole, Plan, Report, Task
from scheduler.deadlines import sync_items

FP_VI, FP_EN, OTHER_FP, COORD_EN, COORD_VI, LEADER_VI, ADMIN_EN = 5001, 5002, 5003, 5004, 5005, 5006, 5007


@dataclass(frozen=True)
class World:
    item: int  # a Q4 2026 item of Hạ Long (task 1.1)
    ha_long: int
    mong_cai: int


def member(session: Session, telegram_id: int) -> Member:
    return session.exec(select(Member).where(Member.telegram_user_id == telegram_id)).one()


def build(engine: Engine, today: date) -> World:
    with session_scope(engine) as s:
        sync_items(s, s.exec(select(Plan)).one(), today, DueRules())
        ha_long = s.exec(select(Agency).where(Agency.code == "HA-LONG")).one()
        mong_cai = s.exec(select(Agency).where(Agency.code == "MONG-CAI")).one()
        snv = s.exec(select(Agency).where(Agency.code == "SNV")).one()
        for tg, agency, role, name, language in [
            (FP_VI, ha_long, MemberRole.FOCAL_POINT, "Lan <Hạ Long>", "vi"),
            (FP_EN, ha_long, MemberRole.FOCAL_POINT, "Minh", "en"),
            (OTHER_FP, mong_cai, MemberRole.FOCAL_POINT, "Hùng", "vi"),
            (COORD_EN, snv, MemberRole.COORDINATOR, "Hoa (SNV)", "en"),
            (COORD_VI, snv, MemberRole.COORDINATOR, "Chị Mai", "vi"),
            (LEADER_VI, ha_long, MemberRole.LEADER, "Anh Tuấn", "vi"),
            (ADMIN_EN, snv, MemberRole.ADMIN, "Admin", "en"),
        ]:
            s.add(Member(telegram_user_id=tg, agency_id=agency.id, role=role.value, full_name=name,
                         language=language))
        item = s.exec(select(Item).join(Task, col(Task.id) == Item.task_id)
                      .where(Item.agency_id == ha_long.id, Task.code == "1.1")
                      .order_by(col(Item.due_on))).first()
        assert item is not None and item.id is not None and ha_long.id and mong_cai.id
        return World(item.id, ha_long.id, mong_cai.id)


def report(engine: Engine, telegram_id: int, item_id: int, state: str, note: str = "", *,
           number: str = "", files: tuple[str, ...] = (), percent: int | None = None,
           now: datetime | None = None) -> Report:
    """A version sent through the same steps as the bot's flow."""
    now = now or datetime.now().astimezone()
    with session_scope(engine) as s:
        who = member(s, telegram_id)
        draft = svc.start_draft(s, who, item_id, now=now)
        assert draft.id is not None
        svc.set_state(s, who, draft.id, state, now=now)
        if percent is not None:
            svc.set_percent(s, who, draft.id, percent, now=now)
        svc.set_note(s, who, draft.id, note, now=now) if note or state == "blocked" else \
            svc.keep_note(s, who, draft.id, now=now)
        svc.clear_evidence(s, who, draft.id, now=now)
        for n, name in enumerate(files):
            svc.add_evidence(s, who, draft.id, svc.EvidenceFile("document", f"file-{n}-{name}", f"u{n}{name}",
                                                                  name, "application/pdf", 100), now=now)
        if number:
            svc.set_document_number(s, who, draft.id, number, now=now)
        svc.finish_evidence(s, who, draft.id, now=now)
        return svc.submit(s, who, draft.id, now=now).report


def approve(engine: Engine, telegram_id: int, report_id: int, version: int) -> None:
    with session_scope(engine) as s:
        svc.approve(s, member(s, telegram_id), report_id, version, now=datetime.now().astimezone())


def send_back(engine: Engine, telegram_id: int, report_id: int, version: int, reason: str) -> None:
    with session_scope(engine) as s:
        svc.return_report(s, member(s, telegram_id), report_id, version, reason,
                          now=datetime.now().astimezone())
