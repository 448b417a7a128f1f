"""The registry in the database: Plan 916 imported faithfully, idempotently, updatable."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from domain.plan_parser import PlanFormatError, parse_plan
from models import agencies, registry
from models.db import session_scope
from models.tables import Agency, Assignment, AuditLog, Task

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


def test_dropped_task_is_retired_not_deleted(plan_engine: Engine) -> None:
    lines = [ln for ln in RAW.decode().splitlines()
             if not ln.startswith("3\tĐóng góp tự nguyện")]
    raw = "\n".join(lines).encode()
    with session_scope(plan_engine) as s:
        report = registry.import_plan(s, parse_plan(raw), raw=raw, source_name="v3.txt")
    assert report.retired == ["1.3"]
    assert "1.3" not in _views(plan_engine)
    assert _count(plan_engine, Task) == 40


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
