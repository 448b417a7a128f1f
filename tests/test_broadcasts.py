"""Broadcast rules without Telegram: content limits, audiences, confirm once, retry the failed."""

from __future__ import annotations

import json

from sqlalchemy import Engine
from sqlmodel import select

from models import broadcasts
from models.db import session_scope
from models.tables import Agency, Chat, Delivery, Member


def test_content_limits() -> None:
    assert broadcasts.content_problem("  ", has_document=False, file_size=None) == "empty"
    # formatting around nothing is nothing to Telegram
    assert broadcasts.content_problem("<b> </b><i>\n</i>", has_document=False, file_size=None) == "empty"
    assert broadcasts.content_problem("<b>&amp;</b>", has_document=False, file_size=None) is None
    assert broadcasts.content_problem("a" * 4096, has_document=False, file_size=None) is None
    assert broadcasts.content_problem("a" * 4097, has_document=False, file_size=None) == "too_long"
    # escaping counts: 1,000 "&" are 5,000 characters of HTML
    assert broadcasts.content_problem("&amp;" * 1000, has_document=False, file_size=None) == "too_long"
    assert broadcasts.content_problem("a" * 1025, has_document=True, file_size=10) == "caption_too_long"
    assert broadcasts.content_problem("", has_document=True, file_size=50 * 1024 * 1024) is None
    assert broadcasts.content_problem("", has_document=True, file_size=50 * 1024 * 1024 + 1) == "too_big"


def _world(engine: Engine) -> int:
    with session_scope(engine) as s:
        agency = Agency(name="Sở Y tế", code="SYT")
        s.add(agency)
        s.flush()
        s.add_all([Member(telegram_user_id=1, role="admin"),
                   Member(telegram_user_id=2, role="focal_point", agency_id=agency.id),
                   Member(telegram_user_id=3, role="leader", agency_id=agency.id),
                   Member(telegram_user_id=4, role="focal_point", active=False),
                   Chat(telegram_chat_id=-10, purpose="agency", agency_id=agency.id),
                   Chat(telegram_chat_id=-11, purpose="leaders"),
                   Chat(telegram_chat_id=-12, purpose="leaders", active=False),
                   Chat(telegram_chat_id=-13, purpose=None)])
        assert agency.id is not None
        return agency.id


def test_audiences(engine: Engine) -> None:
    agency_id = _world(engine)
    with session_scope(engine) as s:
        def chats(spec: dict[str, object]) -> list[int]:
            return [r.chat_id for r in broadcasts.resolve(s, spec).recipients]

        assert chats({"kind": "groups"}) == [-11, -10]
        assert chats({"kind": "groups", "purpose": "leaders"}) == [-11]
        assert chats({"kind": "role", "role": "focal_point"}) == [2]
        assert chats({"kind": "agency", "id": agency_id}) == [-10, 2, 3]
        assert chats({"kind": "everyone"}) == [-11, -10, 1, 2, 3]


def test_confirm_inserts_once_and_retry_requeues_failed(engine: Engine) -> None:
    _world(engine)
    with session_scope(engine) as s:
        draft = broadcasts.start_draft(s, 1)
        broadcasts.set_content(draft, "Thông báo")
        draft.audience = json.dumps({"kind": "everyone"})
        bid = draft.id
        assert bid is not None
    for expected in ("queued", "already"):
        with session_scope(engine) as s:
            done = broadcasts.confirm(s, bid, 1, progress_chat_id=1, progress_message_id=5)
            assert (done.outcome, done.recipients) == (expected, 5)
    with session_scope(engine) as s:
        assert broadcasts.confirm(s, bid, 2, progress_chat_id=2, progress_message_id=5).outcome == "unknown"
        rows = list(s.exec(select(Delivery)))
        assert sorted(r.key for r in rows) == sorted(f"bc:{bid}:{c}" for c in (-11, -10, 1, 2, 3))
        rows[0].state, rows[0].last_error = "failed", "Bad Request: chat not found"
    with session_scope(engine) as s:
        p = broadcasts.progress(s, bid)
        assert (p.total, p.failed, p.pending) == (5, 1, 4)
        assert p.reasons == [("Bad Request: chat not found", 1)]
        assert broadcasts.requeue_failed(s, bid) == 1
    with session_scope(engine) as s:
        assert broadcasts.progress(s, bid).failed == 0


def test_acknowledge_once_per_person(engine: Engine) -> None:
    agency_id = _world(engine)
    with session_scope(engine) as s:
        draft = broadcasts.start_draft(s, 1)
        draft.ack_enabled = True
        bid = draft.id
        assert bid is not None
    with session_scope(engine) as s:
        assert broadcasts.acknowledge(s, bid, telegram_user_id=2, chat_id=-10, name="A") == "new"
        assert broadcasts.acknowledge(s, bid, telegram_user_id=2, chat_id=2, name="A") == "again"
        assert broadcasts.acknowledge(s, bid, telegram_user_id=99, chat_id=-10, name="Guest") == "new"
    with session_scope(engine) as s:
        assert broadcasts.acks_by_agency(s, bid) == [("Sở Y tế", ["A", "Guest"])]
        assert agency_id
