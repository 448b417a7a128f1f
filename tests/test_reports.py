"""The reporting service (models/reports.py, models/items.py) on both backends: the draft's steps,
versions, item states, review, permissions, double submits and two reporters at once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.periods import DueRules
from models import items as items_service
from models import reports as svc
from models.db import session_scope
from models.tables import Evidence, Item, ItemState, Member, MemberRole, Plan, Report, ReportDraft
from scheduler.deadlines import sync_items

TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
HA_LONG, MONG_CAI, SO_NOI_VU = 21, 22, 2
PDF = svc.EvidenceFile("document", "file-1", "u-1", "bao-cao.pdf", "application/pdf", 12_000)
PHOTO = svc.EvidenceFile("photo", "photo-1", "u-2", "", "image/jpeg", 50_000)


def add_member(session: Session, telegram_id: int, agency_id: int | None, role: MemberRole,
               *, active: bool = True, name: str = "") -> Member:
    member = Member(telegram_user_id=telegram_id, agency_id=agency_id, role=role.value,
                    full_name=name or f"user {telegram_id}", active=active)
    session.add(member)
    session.flush()
    return member


@pytest.fixture
def world(plan_engine: Engine) -> dict[str, int]:
    """Items of Plan 916 as of TODAY and a cast of members; returns their ids."""
    with session_scope(plan_engine) as s:
        plan = s.exec(select(Plan)).one()
        sync_items(s, plan, TODAY, DueRules())
        ids = {
            "fp1": add_member(s, 101, HA_LONG, MemberRole.FOCAL_POINT).id,
            "fp2": add_member(s, 102, HA_LONG, MemberRole.FOCAL_POINT).id,
            "other": add_member(s, 201, MONG_CAI, MemberRole.FOCAL_POINT).id,
            "coord": add_member(s, 301, SO_NOI_VU, MemberRole.COORDINATOR).id,
            "leader": add_member(s, 401, HA_LONG, MemberRole.LEADER).id,
            "gone": add_member(s, 501, HA_LONG, MemberRole.FOCAL_POINT, active=False).id,
            "admin": add_member(s, 601, HA_LONG, MemberRole.ADMIN).id,
        }
        rows = items_service.reportable_items(s, HA_LONG, TODAY)
        ids["item"] = rows[0].item_id
        ids["item2"] = rows[1].item_id
    return ids  # type: ignore[return-value]


def m(session: Session, ids: dict[str, int], who: str) -> Member:
    member = session.get(Member, ids[who])
    assert member is not None
    return member


def write_draft(engine: Engine, ids: dict[str, int], who: str, item: str = "item", *,
                state: str = "done", note: str = "Đã tổ chức 3 hội nghị <tuyên truyền> & 🎉",
                files: tuple[svc.EvidenceFile, ...] = (PDF,), number: str = "123/BC-UBND") -> int:
    """A draft at the review step; returns its id."""
    with session_scope(engine) as s:
        member = m(s, ids, who)
        draft = svc.start_draft(s, member, ids[item], now=NOW)
        assert draft.id is not None
        svc.set_state(s, member, draft.id, state, now=NOW)
        if state == "in_progress":
            svc.set_percent(s, member, draft.id, 40, now=NOW)
        svc.set_note(s, member, draft.id, note, now=NOW)
        for f in files:
            svc.add_evidence(s, member, draft.id, f, now=NOW)
        if number:
            svc.set_document_number(s, member, draft.id, number, now=NOW)
        svc.finish_evidence(s, member, draft.id, now=NOW)
        return draft.id


def item_state(engine: Engine, item_id: int) -> str:
    with session_scope(engine) as s:
        item = s.get(Item, item_id)
        assert item is not None
        return item.state


# --------------------------------------------------------------------------- listing


def test_items_for_agency_open_first_most_urgent_and_paged(plan_engine: Engine,
                                                           world: dict[str, int]) -> None:
    with session_scope(plan_engine) as s:
        everything = items_service.all_items_for_agency(s, HA_LONG, TODAY)
        assert everything and all(r.is_open for r in everything)
        dues = [r.due_on for r in everything]
        assert dues == sorted(dues)
        first = items_service.items_for_agency(s, HA_LONG, TODAY, page=0, page_size=5)
        assert first.total == len(everything) and first.pages == -(-len(everything) // 5)
        assert [r.item_id for r in first.rows] == [r.item_id for r in everything[:5]]
        beyond = items_service.items_for_agency(s, HA_LONG, TODAY, page=99, page_size=5)
        assert beyond.page == beyond.pages - 1
        assert items_service.items_for_agency(s, 999, TODAY).total == 0


def test_reported_items_stay_listed_while_current_and_verified_are_not_reportable(
        plan_engine: Engine, world: dict[str, int]) -> None:
    draft_id = write_draft(plan_engine, world, "fp1")
    svc.submit_report(plan_engine, world["fp1"], draft_id, now=NOW)
    with session_scope(plan_engine) as s:
        row = next(r for r in items_service.all_items_for_agency(s, HA_LONG, TODAY)
                   if r.item_id == world["item"])
        assert row.state == ItemState.REPORTED.value and not row.is_open and row.versions == 1
        report = svc.current_report(s, world["item"])
        assert report is not None and report.id is not None
        svc.approve(s, m(s, world, "coord"), report.id, 1, now=NOW)
    with session_scope(plan_engine) as s:
        assert world["item"] not in [r.item_id for r in items_service.reportable_items(s, HA_LONG, TODAY)]


# --------------------------------------------------------------------------- the flow


def test_full_flow_stores_version_evidence_and_state(plan_engine: Engine, world: dict[str, int]) -> None:
    draft_id = write_draft(plan_engine, world, "fp1", files=(PDF, PHOTO))
    result = svc.submit_report(plan_engine, world["fp1"], draft_id, now=NOW)
    assert result.report.version == 1 and not result.overtook
    with session_scope(plan_engine) as s:
        report = svc.current_report(s, world["item"])
        assert report is not None and report.id is not None
        assert report.state == "done" and report.review_state == "pending"
        assert report.note == "Đã tổ chức 3 hội nghị <tuyên truyền> & 🎉"
        assert report.document_number == "123/BC-UBND"
        assert [e.kind for e in svc.evidence_of(s, report.id)] == ["document", "photo"]
        item = s.get(Item, world["item"])
        assert item is not None and item.state == "reported" and item.state_changed_at is not None


def test_in_progress_and_blocked_move_the_item(plan_engine: Engine, world: dict[str, int]) -> None:
    draft_id = write_draft(plan_engine, world, "fp1", state="in_progress", files=(), number="")
    svc.submit_report(plan_engine, world["fp1"], draft_id, now=NOW)
    assert item_state(plan_engine, world["item"]) == "in_progress"
    with session_scope(plan_engine) as s:
        row = items_service.item_row(s, world["item"])
        assert row is not None and row.percent == 40
    draft_id = write_draft(plan_engine, world, "fp2", state="blocked", note="Thiếu kinh phí",
                           files=(), number="")
    svc.submit_report(plan_engine, world["fp2"], draft_id, now=NOW)
    assert item_state(plan_engine, world["item"]) == "blocked"
    with session_scope(plan_engine) as s:
        versions = svc.history(s, world["item"])
        assert [(r.version, r.state, r.review_state) for r in versions] == [
            (1, "in_progress", None), (2, "blocked", None)]


def test_steps_refuse_out_of_order_and_bad_input(plan_engine: Engine, world: dict[str, int]) -> None:
    with session_scope(plan_engine) as s:
        fp1 = m(s, world, "fp1")
        draft = svc.start_draft(s, fp1, world["item"], now=NOW)
        assert draft.id is not None
        with pytest.raises(svc.Changed):
            svc.set_note(s, fp1, draft.id, "too early", now=NOW)
        with pytest.raises(svc.Invalid):
            svc.set_state(s, fp1, draft.id, "finished", now=NOW)
        svc.set_state(s, fp1, draft.id, "blocked", now=NOW)
        with pytest.raises(svc.Invalid, match="note_empty"):
            svc.set_note(s, fp1, draft.id, "   ", now=NOW)
        with pytest.raises(svc.Invalid, match="note_too_long"):
            svc.set_note(s, fp1, draft.id, "x" * 1001, now=NOW)
        svc.set_note(s, fp1, draft.id, "x" * 1000, now=NOW)
        with pytest.raises(svc.Invalid, match="file_type"):
            svc.add_evidence(s, fp1, draft.id, svc.EvidenceFile("document", "f", "u", "virus.exe"), now=NOW)
        with pytest.raises(svc.Invalid, match="file_size"):
            svc.add_evidence(s, fp1, draft.id, svc.EvidenceFile("document", "f", "u", "a.pdf",
                                                                file_size=21 * 1024 * 1024), now=NOW)
        with pytest.raises(svc.Invalid, match="file_type"):
            svc.add_evidence(s, fp1, draft.id, svc.EvidenceFile("sticker", "f"), now=NOW)
        with pytest.raises(svc.Invalid, match="document_number"):
            svc.set_document_number(s, fp1, draft.id, "hello <b>", now=NOW)
        svc.set_document_number(s, fp1, draft.id, "Số 45/2026/QĐ-UBND", now=NOW)
        assert s.get(ReportDraft, draft.id).document_number == "45/2026/QĐ-UBND"  # type: ignore[union-attr]
        with pytest.raises(svc.Invalid):
            svc.parse_percent("120")
        assert svc.parse_percent(" 35% ") == 35


def test_done_needs_evidence_or_document_number(plan_engine: Engine, world: dict[str, int]) -> None:
    with session_scope(plan_engine) as s:
        fp1 = m(s, world, "fp1")
        draft = svc.start_draft(s, fp1, world["item"], now=NOW)
        assert draft.id is not None
        svc.set_state(s, fp1, draft.id, "done", now=NOW)
        svc.keep_note(s, fp1, draft.id, now=NOW)
        with pytest.raises(svc.Invalid, match="no_evidence"):
            svc.finish_evidence(s, fp1, draft.id, now=NOW)


def test_draft_times_out(plan_engine: Engine, world: dict[str, int]) -> None:
    with session_scope(plan_engine) as s:
        fp1 = m(s, world, "fp1")
        draft = svc.start_draft(s, fp1, world["item"], now=NOW)
        draft_id = draft.id
    later = NOW + timedelta(minutes=121)
    with session_scope(plan_engine) as s:
        fp1 = m(s, world, "fp1")
        assert draft_id is not None
        with pytest.raises(svc.Changed, match="expired"):
            svc.set_state(s, fp1, draft_id, "done", now=later)
    with session_scope(plan_engine) as s:
        found, expired = svc.active_draft(s, m(s, world, "fp1"), now=later)
        assert found is None and expired
    with session_scope(plan_engine) as s:
        assert s.exec(select(ReportDraft)).first() is None


def test_cancel_and_restart_replace_the_draft(plan_engine: Engine, world: dict[str, int]) -> None:
    with session_scope(plan_engine) as s:
        fp1 = m(s, world, "fp1")
        first = svc.start_draft(s, fp1, world["item"], now=NOW)
        second = svc.start_draft(s, fp1, world["item2"], now=NOW)
        assert len(list(s.exec(select(ReportDraft)))) == 1
        assert second.item_id == world["item2"]
        assert first.id is not None
        assert svc.cancel_draft(s, fp1) is True
        assert svc.cancel_draft(s, fp1) is False


# --------------------------------------------------------------------------- permissions


@pytest.mark.parametrize("who", ["other", "coord", "leader", "gone"])
def test_only_focal_points_of_the_owing_agency_report(plan_engine: Engine, world: dict[str, int],
                                                      who: str) -> None:
    with session_scope(plan_engine) as s, pytest.raises(svc.NotAllowed):
        svc.start_draft(s, m(s, world, who), world["item"], now=NOW)


def test_admin_of_the_agency_may_report(plan_engine: Engine, world: dict[str, int]) -> None:
    draft_id = write_draft(plan_engine, world, "admin")
    assert svc.submit_report(plan_engine, world["admin"], draft_id, now=NOW).report.version == 1


def test_someone_elses_draft_is_not_allowed(plan_engine: Engine, world: dict[str, int]) -> None:
    draft_id = write_draft(plan_engine, world, "fp1")
    with session_scope(plan_engine) as s:
        with pytest.raises(svc.NotAllowed):
            svc.submit(s, m(s, world, "fp2"), draft_id, now=NOW)
        with pytest.raises(svc.Changed):
            svc.submit(s, m(s, world, "fp2"), 987654, now=NOW)
    with session_scope(plan_engine) as s:
        assert s.exec(select(Report)).first() is None


def test_only_reviewers_review_and_leaders_only_look(plan_engine: Engine, world: dict[str, int]) -> None:
    draft_id = write_draft(plan_engine, world, "fp1")
    report = svc.submit_report(plan_engine, world["fp1"], draft_id, now=NOW).report
    assert report.id is not None
    with session_scope(plan_engine) as s:
        assert [r.id for r in svc.review_queue(s, m(s, world, "leader"))] == [report.id]
        with pytest.raises(svc.NotAllowed):
            svc.review_queue(s, m(s, world, "fp1"))
        for who in ("leader", "fp1", "other"):
            with pytest.raises(svc.NotAllowed):
                svc.approve(s, m(s, world, who), report.id, 1, now=NOW)
    assert item_state(plan_engine, world["item"]) == "reported"


# --------------------------------------------------------------------------- review


def test_return_then_resubmit_prefilled_then_approve(plan_engine: Engine, world: dict[str, int]) -> None:
    draft_id = write_draft(plan_engine, world, "fp1")
    svc.submit_report(plan_engine, world["fp1"], draft_id, now=NOW)
    with session_scope(plan_engine) as s:
        coord = m(s, world, "coord")
        queue = svc.review_queue(s, coord)
        assert len(queue) == 1 and queue[0].id is not None
        svc.start_return(s, coord, queue[0].id, 1, now=NOW)
    with session_scope(plan_engine) as s:
        returned = svc.return_from_draft(s, m(s, world, "coord"), "Thiếu biên bản <ký>", now=NOW)
        assert returned.review_state == "returned" and returned.review_reason == "Thiếu biên bản <ký>"
        assert [f.id for f in svc.focal_points(s, HA_LONG)] == [world["fp1"], world["fp2"]]
        assert svc.review_queue(s, m(s, world, "coord")) == []
    assert item_state(plan_engine, world["item"]) == "returned"
    with session_scope(plan_engine) as s:
        fp2 = m(s, world, "fp2")
        draft = svc.start_draft(s, fp2, world["item"], now=NOW)
        assert (draft.state, draft.document_number, draft.base_version) == ("done", "123/BC-UBND", 1)
        assert [f.file_id for f in svc.draft_files(draft)] == ["file-1"]
        assert draft.id is not None
        svc.set_state(s, fp2, draft.id, "done", now=NOW)
        svc.set_note(s, fp2, draft.id, "Bổ sung biên bản", now=NOW)
        svc.add_evidence(s, fp2, draft.id, PHOTO, now=NOW)
        svc.finish_evidence(s, fp2, draft.id, now=NOW)
        new_id = draft.id
    second = svc.submit_report(plan_engine, world["fp2"], new_id, now=NOW).report
    assert second.version == 2 and second.id is not None
    with session_scope(plan_engine) as s:
        coord = m(s, world, "coord")
        with pytest.raises(svc.Changed):  # a stale Approve for version 1
            svc.approve(s, coord, second.id, 1, now=NOW)
        svc.approve(s, coord, second.id, 2, now=NOW)
    with session_scope(plan_engine) as s:
        versions = svc.history(s, world["item"])
        assert [(r.version, r.review_state) for r in versions] == [(1, "returned"), (2, "approved")]
        assert versions[1].reviewed_by == world["coord"] and versions[1].reviewed_at is not None
        assert len(list(s.exec(select(Evidence).where(Evidence.report_id == second.id)))) == 2
        with pytest.raises(svc.Changed):
            svc.approve(s, m(s, world, "coord"), second.id, 2, now=NOW)
        with pytest.raises(svc.AlreadyVerified):
            svc.start_draft(s, m(s, world, "fp1"), world["item"], now=NOW)
    assert item_state(plan_engine, world["item"]) == "verified"


def test_a_newer_version_replaces_the_pending_one_in_the_queue(plan_engine: Engine,
                                                              world: dict[str, int]) -> None:
    first = svc.submit_report(plan_engine, world["fp1"], write_draft(plan_engine, world, "fp1"),
                              now=NOW).report
    second = svc.submit_report(plan_engine, world["fp2"], write_draft(plan_engine, world, "fp2"),
                               now=NOW + timedelta(minutes=1)).report
    with session_scope(plan_engine) as s:
        assert [r.id for r in svc.review_queue(s, m(s, world, "coord"))] == [second.id]
        assert first.id is not None
        with pytest.raises(svc.Changed):
            svc.approve(s, m(s, world, "coord"), first.id, 1, now=NOW)


# --------------------------------------------------------------------------- races


def test_double_submit_stores_one_version(plan_engine: Engine, world: dict[str, int]) -> None:
    draft_id = write_draft(plan_engine, world, "fp1")
    svc.submit_report(plan_engine, world["fp1"], draft_id, now=NOW)
    with pytest.raises(svc.AlreadySent):
        svc.submit_report(plan_engine, world["fp1"], draft_id, now=NOW)
    with session_scope(plan_engine) as s:
        assert len(svc.history(s, world["item"])) == 1


def _race(engine: Engine, targets: list[tuple[int, int]]) -> list[object]:
    barrier = threading.Barrier(len(targets))
    results: list[object] = [None] * len(targets)

    def run(index: int, member_id: int, draft_id: int) -> None:
        barrier.wait()
        try:
            results[index] = svc.submit_report(engine, member_id, draft_id, now=NOW)
        except Exception as exc:  # collected and asserted on below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, mid, did)) for i, (mid, did) in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_double_tap_in_parallel_stores_one_version(plan_engine: Engine, world: dict[str, int]) -> None:
    draft_id = write_draft(plan_engine, world, "fp1")
    results = _race(plan_engine, [(world["fp1"], draft_id)] * 3)
    assert sum(isinstance(r, svc.SubmitResult) for r in results) == 1
    assert all(isinstance(r, (svc.SubmitResult, svc.AlreadySent)) for r in results), results
    with session_scope(plan_engine) as s:
        assert len(svc.history(s, world["item"])) == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_reporters_at_once_keep_both_versions(plan_engine: Engine, world: dict[str, int],
                                                  attempt: int) -> None:
    one = write_draft(plan_engine, world, "fp1", state="done")
    two = write_draft(plan_engine, world, "fp2", state="in_progress", files=(), number="")
    results = _race(plan_engine, [(world["fp1"], one), (world["fp2"], two)])
    assert all(isinstance(r, svc.SubmitResult) for r in results), results
    with session_scope(plan_engine) as s:
        versions = svc.history(s, world["item"])
        assert [r.version for r in versions] == [1, 2]
        assert {r.member_id for r in versions} == {world["fp1"], world["fp2"]}
        current = svc.current_report(s, world["item"])
        assert current is not None and current.version == 2
        item = s.get(Item, world["item"])
        assert item is not None
        assert item.state == svc.ITEM_STATE_BY_REPORT[current.state]
        assert sum(r.overtook for r in results if isinstance(r, svc.SubmitResult)) == 1
        pending = list(s.exec(select(Report).where(col(Report.review_state) == "pending")))
        queue = svc.review_queue(s, m(s, world, "coord"))
        assert queue == ([current] if current.state == "done" else [])
        assert len(pending) <= 1


def test_a_done_report_tells_the_coordinators_once(plan_engine: Engine, world: dict[str, int]) -> None:
    from models.tables import Delivery
    from scheduler.dispatch import claim
    from tests.reminder_helpers import local, rules

    draft_id = write_draft(plan_engine, world, "fp1")
    report = svc.submit_report(plan_engine, world["fp1"], draft_id, now=NOW).report
    in_progress = write_draft(plan_engine, world, "fp1", "item2", state="in_progress")
    svc.submit_report(plan_engine, world["fp1"], in_progress, now=NOW)  # nothing to verify
    with session_scope(plan_engine) as s:
        rows = list(s.exec(select(Delivery)))
    assert [(r.key, r.chat_id) for r in rows] == [(f"review:{report.id}:{world['coord']}", 301)]
    outgoing = claim(plan_engine, local(2026, 11, 30, 10), rules(), "test", "vi")
    (notice,) = outgoing
    code = notice.text.split("<b>")[1].split("</b>")[0]
    assert notice.chat_id == 301 and "/review" in notice.text and code
    assert "Báo cáo mới cần xác nhận" in notice.text and "UBND thành phố Hạ Long" in notice.text
