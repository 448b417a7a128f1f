"""The registry in the database: Plan 916 imported faithfully, idempotently, updatable."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from domain.plan_parser import PlanFormatError, parse_plan
from models import agencies, registry
from models.db import session_scope
from models.tables import Agency, Assignment, AuditLog, Delivery, Item, Member, Task
from sandbox.db_dump import dump

RAW = agencies.bundled("plan916.txt")


def _views(engine: Engine) -> dict[str, registry.TaskView]:
    with session_scope(engine) as s:
        plan = registry.current_plan(s)
        assert plan is not None
        return {v.code: v for v in registry.list_tasks(s, plan)}


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def test_plan916_has_40_tasks_per_axis(plan_engine: Engine) -> None:
    views = _views(plan_engine)
    assert len(views) == 40
    per_axis = Counter(v.axis for v in views.values())
    assert [per_axis[a] for a in range(1, 7)] == [4, 7, 3, 11, 7, 8]


def test_rows_keep_lead_coordinating_timeframe_and_note(plan_engine: Engine) -> None:
    v = _views(plan_engine)
    assert v["1.1"].lead == ("UBND cấp huyện", "UBND cấp xã")
    assert v["1.1"].coordinating == ("Các cơ quan truyền thông",)
    assert v["1.1"].cadence == "quarterly"
    # inherited lead and timeframe (merged cells)
    assert v["2.3b"].lead == ("UBND cấp xã",)
    assert v["2.3b"].timeframe == "Ngay sau khi cấp có thẩm quyền phê duyệt"
    assert v["4.1c"].lead == ("Các Sở, ban, ngành", "UBND cấp huyện", "UBND cấp xã")
    assert v["4.1c"].timeframe == "Thường xuyên"
    assert v["4.4c"].lead == v["4.4b"].lead and v["4.4c"].cadence == "december"
    # an instruction in the coordinating column is not an agency
    assert v["2.3c"].coordinating == ()
    assert "cổng thông tin điện tử" in v["2.3c"].coordination_note
    assert v["6.5"].lead == ("Công an tỉnh", "Công an cấp huyện", "Công an cấp xã")
    assert v["5.2d"].note.startswith("Năm 2016, các dịch vụ công")
    assert v["5.2c"].cadence == "roadmap" and v["6.4b"].cadence == "master_plan"


def test_classes_stay_classes_and_agencies_resolve(plan_engine: Engine) -> None:
    with Session(plan_engine) as s:
        task = s.exec(select(Task).where(Task.code == "4.1b")).one()
        rows = s.exec(select(Assignment).where(Assignment.task_id == task.id)).all()
        assert [r.label for r in rows] == ["Các Sở, ban, ngành", "UBND cấp huyện", "UBND cấp xã"]
        assert all(r.class_id is not None and r.agency_id is None for r in rows)
        sct = s.exec(select(Task).where(Task.code == "6.4b")).one()
        lead = s.exec(select(Assignment).where(Assignment.task_id == sct.id,
                                               Assignment.role == "lead")).one()
        agency = s.get(Agency, lead.agency_id)
        assert agency is not None and agency.code == "SCT"


def test_class_members_owe_the_task(plan_engine: Engine) -> None:
    with Session(plan_engine) as s:
        klass = agencies.find_class(s, "UBND cấp huyện")
        assert klass is not None and klass.id is not None
        assert len(agencies.class_member_ids(s, klass.id)) == 14


def test_reimport_same_document_changes_nothing(plan_engine: Engine) -> None:
    audits = _count(plan_engine, AuditLog)
    assignments = _count(plan_engine, Assignment)
    with session_scope(plan_engine) as s:
        report = registry.import_plan(s, parse_plan(RAW), raw=RAW, source_name="plan916.txt")
    assert not report.changed
    assert _count(plan_engine, AuditLog) == audits
    assert _count(plan_engine, Assignment) == assignments


def test_changed_document_updates_in_place_and_reports(plan_engine: Engine) -> None:
    text = RAW.decode()
    changed = text.replace("Công khai các khoản đóng góp tự nguyện tại địa phương\tUBND cấp xã\t\t"
                           "Định kỳ hàng quý",
                           "Công khai các khoản đóng góp tự nguyện tại địa phương\tUBND cấp xã\t"
                           "Sở Tài chính\tHàng năm")
    assert changed != text
    raw = changed.encode()
    with session_scope(plan_engine) as s:
        report = registry.import_plan(s, parse_plan(raw), raw=raw, source_name="v2.txt")
    fields = {(c.code, c.field): (c.old, c.new) for c in report.changes}
    assert fields[("1.3", "timeframe")] == ("Định kỳ hàng quý", "Hàng năm")
    assert fields[("1.3", "cadence")] == ("quarterly", "annual")
    assert fields[("1.3", "coordinating")] == ("", "Sở Tài chính")
    assert not report.added and not report.retired
    v = _views(plan_engine)
    assert v["1.3"].cadence == "annual" and v["1.3"].coordinating == ("Sở Tài chính",)
    assert len(v) == 40


def _without_line(prefix: str) -> bytes:
    lines = RAW.decode().split("\n")
    kept = [ln for ln in lines if not ln.startswith(prefix)]
    assert len(kept) == len(lines) - 1
    return "\n".join(kept).encode()


WITHOUT_1_4 = _without_line("4\t\tHướng dẫn, kiểm tra")  # the last row of axis 1


def test_dropped_task_is_retired_not_deleted(plan_engine: Engine) -> None:
    with session_scope(plan_engine) as s:
        report = registry.import_plan(s, parse_plan(WITHOUT_1_4), raw=WITHOUT_1_4,
                                      source_name="v3.txt", retire=True)
    assert report.retired == ["1.4"] and report.applied
    assert "1.4" not in _views(plan_engine)
    assert _count(plan_engine, Task) == 40


def _owed_item_with_reminders(engine: Engine, code: str) -> None:
    """An open item of task ``code`` for Sở Nội vụ, one reminder sent and one pending."""
    with session_scope(engine) as s:
        task = s.exec(select(Task).where(Task.code == code)).one()
        agency = agencies.find_agency(s, "Sở Nội vụ")
        assert agency is not None and agency.id is not None and task.id is not None
        member = Member(telegram_user_id=501, agency_id=agency.id, full_name="A")
        item = Item(task_id=task.id, agency_id=agency.id, period_key="2026-H2", period_kind="half",
                    period_start=date(2026, 7, 1), due_on=date(2026, 12, 31))
        s.add_all([member, item])
        s.flush()
        at = datetime(2026, 12, 17, 1, 30, tzinfo=UTC)
        for n, state in enumerate(("sent", "pending")):
            s.add(Delivery(key=f"rem:{n}", kind="reminder", chat_id=501, member_id=member.id,
                           item_id=item.id, slot_at=at, next_attempt_at=at, state=state))


def test_retiring_needs_confirmation_and_stops_the_tasks_reminders(plan_engine: Engine) -> None:
    _owed_item_with_reminders(plan_engine, "1.4")
    parsed = parse_plan(WITHOUT_1_4)
    before = dump(plan_engine)
    with session_scope(plan_engine) as s:
        preview = registry.preview_import(s, parsed)
    assert preview.retired == ["1.4"] and preview.needs_retire and not preview.applied
    assert preview.stopping == [registry.Stopping("1.4", reminders=1, open_items=1)]
    with pytest.raises(registry.RetireRefused), session_scope(plan_engine) as s:
        registry.import_plan(s, parsed, raw=WITHOUT_1_4, source_name="v3.txt")
    assert dump(plan_engine) == before
    with session_scope(plan_engine) as s:
        applied = registry.import_plan(s, parsed, raw=WITHOUT_1_4, source_name="v3.txt",
                                       retire=True)
    assert applied.to_dict() == {**preview.to_dict(), "applied": True}
    with Session(plan_engine) as s:
        states = dict(s.exec(select(Delivery.key, Delivery.state)).all())
        assert states == {"rem:0": "sent", "rem:1": "skipped"}


def test_preview_says_what_the_import_does_and_changes_nothing(plan_engine: Engine) -> None:
    raw = (RAW.decode().replace("Sở Y tế\t\tThường xuyên", "Sở Y tế; Bệnh viện Bãi Cháy\t\t"
                                "Thường xuyên", 1)
           .replace("\tĐịnh kỳ hàng quý\t", "\tHàng năm\t", 1)).encode()
    parsed = parse_plan(raw)
    before = dump(plan_engine)
    with session_scope(plan_engine) as s:
        preview = registry.preview_import(s, parsed)
    assert dump(plan_engine) == before
    assert preview.new_agencies == ["Bệnh viện Bãi Cháy"] and not preview.needs_retire
    assert [(c.code, c.field, c.new) for c in preview.changes] == [
        ("1.1", "timeframe", "Hàng năm"), ("1.1", "cadence", "annual"),
        ("4.2a", "lead", "Sở Y tế; Bệnh viện Bãi Cháy"),
        ("4.2b", "lead", "Sở Y tế; Bệnh viện Bãi Cháy")]  # 4.2b's lead cell is merged with 4.2a's
    with session_scope(plan_engine) as s:
        applied = registry.import_plan(s, parsed, raw=raw, source_name="v5.txt")
    assert applied.to_dict() == {**preview.to_dict(), "applied": True}
    after = dump(plan_engine)
    with session_scope(plan_engine) as s:  # the same document again: not one write
        again = registry.import_plan(s, parsed, raw=raw, source_name="renamed.txt")
    assert not again.changed and not again.applied and dump(plan_engine) == after


def test_rows_moved_to_other_codes_need_confirmation(plan_engine: Engine) -> None:
    """Rows 2.3b and 2.3c swapped: each code would carry the other's text, and the reports
    filed under it would stay with the code, so that is confirmed like a retirement."""
    lines = RAW.decode().split("\n")
    b = next(i for i, ln in enumerate(lines) if ln.startswith("\t\tLấy ý kiến đóng góp"))
    lines[b], lines[b + 1] = lines[b + 1], lines[b]
    raw = "\n".join(lines).encode()
    with session_scope(plan_engine) as s:
        preview = registry.preview_import(s, parse_plan(raw))
    assert preview.moved == [registry.Move("2.3b", "2.3c"), registry.Move("2.3c", "2.3b")]
    assert preview.needs_retire and not preview.retired
    with pytest.raises(registry.RetireRefused), session_scope(plan_engine) as s:
        registry.import_plan(s, parse_plan(raw), raw=raw, source_name="moved.txt")


def test_unknown_names_become_new_agencies(plan_engine: Engine) -> None:
    raw = RAW.decode().replace("Sở Y tế\t\tThường xuyên", "Sở Y tế; Bệnh viện Bãi Cháy\t\t"
                                                           "Thường xuyên", 1).encode()
    with session_scope(plan_engine) as s:
        report = registry.import_plan(s, parse_plan(raw), raw=raw, source_name="v4.txt")
    assert report.new_agencies == ["Bệnh viện Bãi Cháy"]
    with Session(plan_engine) as s:
        assert agencies.find_agency(s, "Bệnh viện Bãi Cháy") is not None


@pytest.mark.parametrize("bad", [b"", b"\xff\xfe garbage", b"no table here\n"])
def test_malformed_document_leaves_database_as_it_was(plan_engine: Engine, bad: bytes) -> None:
    before = (_count(plan_engine, Task), _count(plan_engine, Assignment))
    with pytest.raises(PlanFormatError):
        parse_plan(bad)
    assert (_count(plan_engine, Task), _count(plan_engine, Assignment)) == before


def test_agency_csv_errors_name_the_line(session: Session) -> None:
    bad = b"name,code,level,parent,classes,aliases\nX,X1,planet,,,\n"
    with pytest.raises(agencies.AgencyFileError, match=r"line 2: level 'planet'"):
        agencies.parse_agency_csv(bad)
    with pytest.raises(agencies.AgencyFileError, match="missing column"):
        agencies.parse_agency_csv(b"name,code\nA,B\n")


def test_agency_import_is_idempotent(engine: Engine) -> None:
    rows = agencies.parse_agency_csv(agencies.bundled("quang_ninh_districts_2016.csv"))
    with session_scope(engine) as s:
        agencies.load_bundled_agencies(s)
        first = agencies.import_agencies(s, rows)
        second = agencies.import_agencies(s, rows)
    assert len(first.added) == 14 and second.added == [] and second.updated == []
    assert second.unchanged == 14
