"""A registry with known states for the roll-up tests (/status, charts, exports, digests) and the
benchmarks (bench/adversary.py).

Plan 916 with Quang Ninh's agencies and 14 districts, plus three communes under Hạ Long; items
synced up to TODAY (Monday 16 November 2026); each item's state set by a fixed pattern over its
task and agency codes, so every backend holds the same data; reports behind the done ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.official import OfficialClass, classify
from domain.periods import DueRules
from domain.plan_parser import parse_plan
from models import agencies, registry
from models.db import session_scope
from models.registry import current_plan
from models.tables import Agency, Item, ItemState, Member, MemberRole, Report, ReviewState, Task
from scheduler.deadlines import sync_items

TODAY = date(2026, 11, 16)
# Every report's time: after Q3's due day (its done items are late), before Q4's (on time).
REPORTED_AT = datetime(2026, 10, 15, 2, 0, tzinfo=UTC)
REPORTED_ON = date(2026, 10, 15)  # its local day (Asia/Ho_Chi_Minh)
COMMUNES = """name,code,level,parent,classes,aliases
UBND phường Hồng Gai,XA-HONG-GAI,commune,HA-LONG,UBND cấp xã,
UBND phường Bãi Cháy,XA-BAI-CHAY,commune,HA-LONG,UBND cấp xã,
UBND xã Quảng La,XA-QUANG-LA,commune,HA-LONG,UBND cấp xã,
"""
CYCLE = (ItemState.VERIFIED, ItemState.REPORTED, ItemState.IN_PROGRESS, ItemState.NOT_STARTED,
         ItemState.BLOCKED, ItemState.VERIFIED, ItemState.RETURNED, ItemState.NOT_STARTED)

# Telegram user ids of the members the fixture registers.
ADMIN, COORDINATOR, PROVINCE_LEADER, DISTRICT_LEADER, FOCAL_POINT, COMMUNE_FOCAL = (
    1001, 1002, 1003, 1004, 1005, 1006)


@dataclass(frozen=True)
class Seeded:
    plan_id: int
    ha_long_id: int
    commune_ids: tuple[int, ...]


def load_plan916(engine: Engine) -> None:
    """Bundled agencies, the 14 districts of the sample file, and Plan 916."""
    with session_scope(engine) as s:
        agencies.load_bundled_agencies(s)
        rows = agencies.parse_agency_csv(agencies.bundled("quang_ninh_districts_2016.csv"))
        agencies.import_agencies(s, rows)
        raw = agencies.bundled("plan916.txt")
        registry.import_plan(s, parse_plan(raw), raw=raw, source_name="plan916.txt")


def state_for(task_code: str, agency_code: str, period_key: str) -> ItemState:
    """The fixed pattern: deterministic and independent of row ids."""
    seed = sum(ord(c) for c in f"{task_code}|{agency_code}|{period_key}")
    return CYCLE[seed % len(CYCLE)]


def _member(session: Session, user_id: int, role: MemberRole, agency_code: str | None,
            name: str, language: str | None = None) -> Member:
    agency = session.exec(select(Agency).where(Agency.code == agency_code)).one() if agency_code else None
    member = Member(telegram_user_id=user_id, role=role.value, agency_id=agency.id if agency else None,
                    full_name=name, language=language)
    session.add(member)
    session.flush()
    return member


def seed_status(engine: Engine) -> Seeded:
    load_plan916(engine)
    with session_scope(engine) as session:
        agencies.import_agencies(session, agencies.parse_agency_csv(COMMUNES.encode()))
        plan = current_plan(session)
        assert plan is not None and plan.id is not None
        plan.active_from = date(2026, 1, 1)
        session.flush()
        sync_items(session, plan, TODAY, DueRules())
        _member(session, ADMIN, MemberRole.ADMIN, None, "Admin", "en")
        coordinator = _member(session, COORDINATOR, MemberRole.COORDINATOR, "SNV", "Nguyễn Văn Điều Phối")
        _member(session, PROVINCE_LEADER, MemberRole.LEADER, "UBND-TINH", "Lãnh đạo tỉnh")
        _member(session, DISTRICT_LEADER, MemberRole.LEADER, "HA-LONG", "Lãnh đạo Hạ Long", "en")
        focal = _member(session, FOCAL_POINT, MemberRole.FOCAL_POINT, "HA-LONG", "Đầu mối Hạ Long")
        _member(session, COMMUNE_FOCAL, MemberRole.FOCAL_POINT, "XA-HONG-GAI", "Đầu mối Hồng Gai")
        rows = session.exec(select(Item, Task.code, Agency.code)
                            .join(Task, col(Task.id) == Item.task_id)
                            .join(Agency, col(Agency.id) == Item.agency_id)).all()
        for item, task_code, agency_code in rows:
            state = state_for(task_code, agency_code, item.period_key)
            item.state = state.value
            if state in (ItemState.REPORTED, ItemState.VERIFIED):
                item.completed_on = REPORTED_ON
            if state in (ItemState.NOT_STARTED,):
                continue
            verified = state == ItemState.VERIFIED
            returned = state == ItemState.RETURNED
            report_state = {ItemState.IN_PROGRESS: "in_progress", ItemState.BLOCKED: "blocked"}.get(
                state, "done")
            assert item.id is not None and focal.id is not None
            session.add(Report(
                item_id=item.id, version=1, member_id=focal.id, state=report_state,
                percent=50 if report_state == "in_progress" else None,
                note=f"Đã triển khai {task_code} – {agency_code}",
                document_number=(f"{len(task_code)}{len(agency_code)}/BC-UBND"
                                 if report_state == "done" else ""),
                review_state=(ReviewState.APPROVED.value if verified else
                              ReviewState.RETURNED.value if returned else
                              ReviewState.PENDING.value if report_state == "done" else None),
                reviewed_by=coordinator.id if (verified or returned) else None,
                reviewed_at=datetime(2026, 10, 20, 3, 0, tzinfo=UTC) if (verified or returned) else None,
                created_at=REPORTED_AT))
        ha_long = session.exec(select(Agency).where(Agency.code == "HA-LONG")).one()
        communes = session.exec(select(Agency.id).where(col(Agency.code).like("XA-%"))
                                .order_by(col(Agency.code))).all()
        assert ha_long.id is not None
        return Seeded(plan.id, ha_long.id, tuple(c for c in communes if c is not None))


def oracle(engine: Engine, first: date, last: date, today: date,
           agency_ids: set[int] | None = None) -> dict[str, int]:
    """Counts by a plain Python loop over the items (the tests' independent reference)."""
    with session_scope(engine) as session:
        items = session.exec(select(Item).join(Task, col(Task.id) == Item.task_id)
                             .where(col(Task.retired_at).is_(None))).all()
    found = [i for i in items if first <= i.due_on <= last
             and (agency_ids is None or i.agency_id in agency_ids)]
    result = {"owed": len(found)}
    for state in ItemState:
        result[state.value] = sum(1 for i in found if i.state == state.value)
    result["overdue"] = sum(1 for i in found if i.due_on < today and i.state in (
        "not_started", "in_progress", "blocked", "returned"))
    classes = [classify(i.state, i.due_on, i.completed_on, today) for i in found]
    for which in (OfficialClass.ON_TIME, OfficialClass.LATE, OfficialClass.WITHIN):
        result[which.value] = classes.count(which)
    assert classes.count(OfficialClass.OVERDUE) == result["overdue"]
    return result
