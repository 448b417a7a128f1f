"""The ledger as the only way out: the returned-report notice is ledger rows (each recipient's
language, quiet hours, retried, unreachable marking); notices that went stale before their turn
are dropped, checked right before the send; one commit per message, and a broadcast rendered once.
Against the Bot API stand-in with a bot configured like the application's (HTML by default)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, event
from sqlmodel import Session, select
from telegram import Message
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot

from models import broadcasts, ledger
from models import reports as svc
from models.db import session_scope
from models.tables import Delivery, DeliveryState, Member, MemberRole, Report
from scheduler import outgoing
from scheduler.dispatch import DispatchStats, Sender, claim, dispatch_due, next_due
from tests.reminder_helpers import TZ, local, rules
from tests.stub_botapi import StubBotApi
from tests.test_reports import NOW, m, world, write_draft  # noqa: F401

FP1, FP2, COORD = 101, 102, 301  # Telegram ids of tests.test_reports' cast
AFTER = NOW + timedelta(minutes=1)  # 10:01 in Hạ Long: not quiet


@pytest.fixture
def stub() -> Iterator[StubBotApi]:
    with StubBotApi() as server:
        yield server


@pytest.fixture
async def bot(stub: StubBotApi) -> AsyncIterator[ExtBot[None]]:
    async with ExtBot(stub.token, base_url=stub.url + "/bot",
                      defaults=Defaults(parse_mode=ParseMode.HTML)) as b:
        yield b


async def dispatch(engine: Engine, bot: Any, at: datetime) -> DispatchStats:
    with time_machine.travel(at, tick=False):
        return await dispatch_due(bot, engine, rules(), default_language="vi", instance="test")


def rows(engine: Engine, prefix: str = "") -> list[Delivery]:
    with session_scope(engine) as s:
        return [r for r in s.exec(select(Delivery).order_by(Delivery.id))  # type: ignore[arg-type]
                if r.key.startswith(prefix)]


def to(stub: StubBotApi, chat: int) -> list[str]:
    return [msg.text or "" for msg in stub.sent_messages(chat)]


def set_language(engine: Engine, member_id: int, language: str | None) -> None:
    with session_scope(engine) as s:
        member = s.get(Member, member_id)
        assert member is not None
        member.language = language


def submit(engine: Engine, cast: dict[str, int], who: str = "fp1") -> Report:
    return svc.submit_report(engine, cast[who], write_draft(engine, cast, who), now=NOW).report


def send_back(engine: Engine, cast: dict[str, int], report: Report,
              reason: str = "Thiếu biên bản <ký>") -> None:
    assert report.id is not None
    with session_scope(engine) as s:
        svc.start_return(s, m(s, cast, "coord"), report.id, report.version, now=NOW)
    with session_scope(engine) as s:
        svc.return_from_draft(s, m(s, cast, "coord"), reason, now=NOW)


def approve(engine: Engine, cast: dict[str, int], report: Report) -> None:
    assert report.id is not None
    with session_scope(engine) as s:
        svc.approve(s, m(s, cast, "coord"), report.id, report.version, now=NOW)


# --- the returned-report notice -------------------------------------------------------------

async def test_a_returned_report_reaches_each_focal_point_through_the_ledger_in_their_language(
        plan_engine: Engine, world: dict[str, int], stub: StubBotApi,  # noqa: F811
        bot: ExtBot[None]) -> None:
    set_language(plan_engine, world["fp1"], "en")
    set_language(plan_engine, world["fp2"], None)  # the default: Vietnamese
    report = submit(plan_engine, world)
    await dispatch(plan_engine, bot, AFTER)
    assert ["Báo cáo mới cần xác nhận" in t for t in to(stub, COORD)] == [True]
    send_back(plan_engine, world, report)
    queued = rows(plan_engine, "returned:")
    assert [(r.chat_id, r.kind, r.slot_kind, r.ref_id, r.state) for r in queued] == [
        (FP1, "notice", "returned", report.id, "pending"), (FP2, "notice", "returned", report.id, "pending")]
    # Returned at 22:00: quiet hours hold the notice until 07:00.
    evening = local(2026, 11, 27, 22, 0)
    assert (await dispatch(plan_engine, bot, evening)).sent == 0
    assert to(stub, FP1) == [] and to(stub, FP2) == []
    assert next_due(plan_engine, evening, rules()) == local(2026, 11, 28, 7, 0)
    stats = await dispatch(plan_engine, bot, local(2026, 11, 28, 7, 0, 5))
    assert stats.sent == 2
    (english,) = to(stub, FP1)
    (vietnamese,) = to(stub, FP2)
    assert "was returned by the Department of Home Affairs" in english and "Thiếu biên bản <ký>" in english
    assert "bị Sở Nội vụ trả lại" in vietnamese and "Thiếu biên bản <ký>" in vietnamese
    (message,) = stub.sent_messages(FP2)
    assert message.parse_mode == "HTML" and f"rp:{world['item']}" in message.button_datas()
    assert {(r.state, r.message_id is not None) for r in rows(plan_engine, "returned:")} == {("sent", True)}


async def test_a_focal_point_who_blocked_the_bot_is_marked_unreachable_by_the_returned_notice(
        plan_engine: Engine, world: dict[str, int], stub: StubBotApi,  # noqa: F811
        bot: ExtBot[None]) -> None:
    send_back(plan_engine, world, submit(plan_engine, world))
    stub.block(FP2)
    stats = await dispatch(plan_engine, bot, AFTER)
    assert stats.blocked == 1
    with session_scope(plan_engine) as s:
        fp2 = m(s, world, "fp2")
        assert fp2.unreachable_at is not None
    assert [r.state for r in rows(plan_engine, "returned:") if r.chat_id == FP2] == ["blocked"]
    # The coordinators hear that the focal point can no longer be reached.
    assert any("Không thể liên lạc với user 102" in t for t in to(stub, COORD))


# --- stale notices --------------------------------------------------------------------------

async def test_a_notice_to_verify_is_dropped_when_the_version_was_returned_before_it_went_out(
        plan_engine: Engine, world: dict[str, int], stub: StubBotApi,  # noqa: F811
        bot: ExtBot[None]) -> None:
    report = submit(plan_engine, world)
    send_back(plan_engine, world, report)  # before the dispatcher's turn came
    stats = await dispatch(plan_engine, bot, AFTER)
    assert to(stub, COORD) == []
    (review,) = rows(plan_engine, "review:")
    assert review.state == DeliveryState.SKIPPED.value
    assert review.last_error == ledger.STALE + "the report was returned meanwhile"
    assert stats.dropped == 1 and stats.sent == 2  # the returned notices still go out
    assert len(to(stub, FP1)) == len(to(stub, FP2)) == 1


async def test_notices_about_a_superseded_version_and_a_verified_one_are_all_dropped(
        plan_engine: Engine, world: dict[str, int], stub: StubBotApi,  # noqa: F811
        bot: ExtBot[None]) -> None:
    first = submit(plan_engine, world)
    send_back(plan_engine, world, first)
    second = submit(plan_engine, world, "fp2")
    assert second.version == 2
    approve(plan_engine, world, second)
    stats = await dispatch(plan_engine, bot, AFTER)
    # Only the news that version 2 was verified goes out, to the agency's two focal points.
    assert stats.sent == 2 and stats.dropped == 4
    assert sorted(m.chat_id for m in stub.sent_messages()) == [FP1, FP2]
    reasons = {(r.key.split(":")[0], r.ref_id): r.last_error for r in rows(plan_engine)
               if not r.key.startswith("verified:")}
    assert reasons == {
        ("review", first.id): ledger.STALE + "a newer version was sent",
        ("returned", first.id): ledger.STALE + "a newer version was sent",
        ("review", second.id): ledger.STALE + "the report was approved meanwhile",
    }
    assert {r.state for r in rows(plan_engine) if not r.key.startswith("verified:")} == {
        DeliveryState.SKIPPED.value}
    assert {r.state for r in rows(plan_engine, "verified:")} == {DeliveryState.SENT.value}


async def test_staleness_is_checked_right_before_the_send_not_when_claimed(
        plan_engine: Engine, world: dict[str, int], stub: StubBotApi,  # noqa: F811
        bot: ExtBot[None]) -> None:
    report = submit(plan_engine, world)
    with time_machine.travel(AFTER, tick=False):
        claimed = claim(plan_engine, datetime.now(TZ), rules(), "test", "vi")
        (notice,) = claimed
        assert notice.chat_id == COORD and "cần xác nhận" in notice.text  # rendered: still current
        send_back(plan_engine, world, report)  # ... and then returned, while it waits its turn
        stats = DispatchStats()
        sender = Sender(bot, plan_engine, stats)
        await sender.send(notice)
        await sender.flush()
    assert stats.dropped == 1 and stats.sent == 0 and to(stub, COORD) == []
    (review,) = rows(plan_engine, "review:")
    assert review.state == DeliveryState.SKIPPED.value
    assert review.last_error == ledger.STALE + "the report was returned meanwhile"


# --- one commit per message, rendered once --------------------------------------------------

PEOPLE = 30


def queue_broadcast(engine: Engine) -> int:
    """An admin's broadcast with a "received" button to PEOPLE members, half of them English."""
    with session_scope(engine) as s:
        s.add(Member(telegram_user_id=1, role=MemberRole.ADMIN.value, full_name="Admin", language="en"))
        for n in range(PEOPLE):
            s.add(Member(telegram_user_id=5000 + n, role=MemberRole.FOCAL_POINT.value,
                         full_name=f"Officer {n}", language="en" if n % 2 else "vi"))
    with session_scope(engine) as s:
        draft = broadcasts.start_draft(s, 1)
        assert draft.id is not None
        broadcasts.set_content(draft, "Họp giao ban <b>thứ Hai</b>")
        draft.audience, draft.ack_enabled = '{"kind": "role", "role": "focal_point"}', True
        s.flush()
        assert broadcasts.confirm(s, draft.id, 1, progress_chat_id=1, progress_message_id=1,
                                  now=NOW).outcome == "queued"
        return draft.id


class WatchingBot:
    """The real bot, looking at the ledger before each send: every message sent before this one
    must already be recorded as sent (so a crash now could send at most this one twice)."""

    def __init__(self, bot: ExtBot[None], engine: Engine) -> None:
        self.bot, self.engine = bot, engine
        self.accepted: set[int] = set()
        self.unrecorded: list[int] = []

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Message:
        with Session(self.engine) as s:  # read only (no commit of its own to count)
            states = dict(s.exec(select(Delivery.chat_id, Delivery.state)).all())
        self.unrecorded.append(sum(1 for chat in self.accepted if states[chat] != DeliveryState.SENT.value))
        assert states[chat_id] == DeliveryState.SENDING.value
        message = await self.bot.send_message(chat_id, text, **kwargs)
        self.accepted.add(chat_id)
        return message


async def test_one_commit_per_message_and_the_previous_one_recorded_before_the_next_goes(
        engine: Engine, stub: StubBotApi, bot: ExtBot[None], monkeypatch: pytest.MonkeyPatch) -> None:
    broadcast_id = queue_broadcast(engine)
    commits = []
    event.listen(engine, "commit", lambda _conn: commits.append(1))
    rendered: list[int] = []
    real_view = outgoing.broadcast_messages
    monkeypatch.setattr(outgoing, "broadcast_messages",
                        lambda copies: rendered.extend(c.broadcast_id for c in copies) or real_view(copies))
    watching = WatchingBot(bot, engine)
    stats = await dispatch(engine, watching, AFTER)
    assert stats.sent == PEOPLE and len(stub.sent_messages()) == PEOPLE
    assert watching.unrecorded == [0] * PEOPLE
    # Per message one commit (the previous outcome and this claim's renewal); around them a
    # handful: tidy and claim per round, the last outcome, the look for more.
    assert PEOPLE <= len(commits) <= PEOPLE + 8, len(commits)
    # The broadcast's content and its button rendered once per language, not once per row.
    assert rendered == [broadcast_id, broadcast_id]
    english = [msg for msg in stub.sent_messages() if msg.chat_id % 2]
    assert {b for msg in english for b in msg.button_texts()} == {"✅ Received"}
    assert {r.state for r in rows(engine, "bc:")} == {DeliveryState.SENT.value}

