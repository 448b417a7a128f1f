"""Two real `dondoc run --webhook` processes on one PostgreSQL database, behind a round-robin
balancer: every update is answered once, and every reminder is sent once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from models.db import make_engine
from tests.conftest import load_plan916
from tests.reminder_helpers import add_member, set_active_from
from tests.round_robin import RoundRobin
from tests.stub_botapi import StubBotApi

ROOT = Path(__file__).parents[1]
SECRET = "s3cret_token-for-tests"
# Thursday 24 December 2026, 08:29:50 local: 7 days before the end of Q4.
START = "2026-12-24T08:29:50+07:00"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(stub: StubBotApi, db_url: str, port: int, public_url: str, tmp: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(DONDOC_BOT_TOKEN=stub.token, DONDOC_BOT_API_URL=stub.url, DONDOC_DATABASE_URL=db_url,
               DONDOC_WEBHOOK_LISTEN="127.0.0.1", DONDOC_WEBHOOK_PORT=str(port),
               DONDOC_WEBHOOK_SECRET=SECRET, DONDOC_DISPATCH_INTERVAL="2", PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "sandbox.run_at", START, "run", "--webhook", public_url],
                            env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _healthy(port: int, timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                body: dict[str, object] = json.loads(answer.read())
                return body
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture
def two_bots(pg_engine: Engine, pg_url: str, stub_botapi: StubBotApi,
             tmp_path: Path) -> Iterator[tuple[RoundRobin, list[int]]]:
    ports = [_free_port(), _free_port()]
    with RoundRobin([f"http://127.0.0.1:{p}" for p in ports]) as balancer:
        procs = [_start(stub_botapi, pg_url, port, f"{balancer.url}/telegram", tmp_path) for port in ports]
        try:
            for port in ports:
                _healthy(port)
            yield balancer, ports
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            codes = [proc.wait(timeout=30) for proc in procs]
            output = "\n".join(proc.stdout.read() for proc in procs if proc.stdout)
            assert codes == [0, 0], output
            assert "Traceback" not in output, output


def test_updates_and_reminders_are_handled_once_by_two_instances(
        pg_engine: Engine, stub_botapi: StubBotApi, two_bots: tuple[RoundRobin, list[int]]) -> None:
    balancer, ports = two_bots
    # Updates: 20 users say /start; the balancer alternates between the two processes.
    users = [stub_botapi.user(7000 + i, f"User {i}") for i in range(20)]
    for user in users:
        stub_botapi.send_text(user, "/start")
    for user in users:
        stub_botapi.wait_for_message(user["id"], timeout=30)
    assert balancer.hits[0] >= 5 and balancer.hits[1] >= 5
    replies = Counter(m.chat_id for m in stub_botapi.sent_messages() if m.chat_id >= 7000)
    assert set(replies.values()) == {1}
    # Health reports the database and the ledger on both.
    for port in ports:
        body = _healthy(port)
        assert body["database"] == "ok" and "backlog" in body


@pytest.fixture
def focal_points(pg_engine: Engine) -> list[int]:
    """A plan active since 1 Oct 2026, and focal points of all 14 districts."""
    load_plan916(pg_engine)
    from datetime import date

    set_active_from(pg_engine, date(2026, 10, 1))
    districts = ["HA-LONG", "MONG-CAI", "CAM-PHA", "UONG-BI", "QUANG-YEN", "DONG-TRIEU", "VAN-DON",
                 "TIEN-YEN", "HAI-HA", "DAM-HA", "BINH-LIEU", "BA-CHE", "CO-TO", "HOANH-BO"]
    ids = []
    for index, code in enumerate(districts):
        add_member(pg_engine, 9000 + index, code, language="vi")
        ids.append(9000 + index)
    return ids


def test_two_instances_send_each_reminder_once(pg_engine: Engine, focal_points: list[int],
                                               stub_botapi: StubBotApi,
                                               two_bots: tuple[RoundRobin, list[int]]) -> None:
    # Besides its reminder, each district's focal point is told once that the period of the
    # tasks it coordinates began (the 🤝 notice): both are ledger rows, each must go out once.
    for chat_id in focal_points:
        stub_botapi.wait_for(lambda chat_id=chat_id: _reminder(stub_botapi, chat_id), timeout=60)
    time.sleep(6)  # both dispatchers tick a few more times
    sent = [c for c in stub_botapi.calls("sendMessage") if c.ok and c.chat_id in set(focal_points)]
    per_chat = Counter(c.chat_id for c in sent)
    assert per_chat == dict.fromkeys(focal_points, 2)
    texts = Counter((m.chat_id, m.text) for m in stub_botapi.sent_messages()
                    if m.chat_id in set(focal_points))
    assert set(texts.values()) == {1}  # the two are different messages: nothing went out twice
    text = _reminder(stub_botapi, focal_points[0]).text
    assert "Nhắc việc" in text or "nhắc" in text.lower()


def _reminder(stub: StubBotApi, chat_id: int) -> object | None:
    """The chat's reminder: the message with a report button."""
    return next((m for m in stub.sent_messages(chat_id)
                 if any(d.startswith("rp:") for d in m.button_datas())), None)


def _data(message: object, prefix: str, suffix: str) -> str:
    datas = message.button_datas()  # type: ignore[attr-defined]
    found = [d for d in datas if d.startswith(prefix) and d.endswith(suffix)]
    assert found, (prefix, suffix, datas)
    return found[0]


def _after_edit(stub: StubBotApi, chat: int, message_id: int, edits: int) -> object:
    stub.wait_for(lambda: any(m.message_id == message_id and m.edit_count > edits
                              for m in stub.sent_messages(chat)), timeout=30)
    return next(m for m in stub.sent_messages(chat) if m.message_id == message_id)


def test_a_report_draft_continues_across_instances(pg_engine: Engine, focal_points: list[int],
                                                   stub_botapi: StubBotApi,
                                                   two_bots: tuple[RoundRobin, list[int]]) -> None:
    """Each step of a report lands on the other instance (the balancer alternates): the draft
    lives in the database, so the flow goes on as if there were one bot."""
    balancer, _ports = two_bots
    fp = focal_points[0]
    reminder = stub_botapi.wait_for(lambda: _reminder(stub_botapi, fp), timeout=60)
    item_data = next(d for d in reminder.button_datas() if d.startswith("rp:"))
    hits = list(balancer.hits)
    stub_botapi.press_button(fp, reminder, item_data)
    prompt = stub_botapi.wait_for_message(fp, contains="Tình trạng", timeout=30)  # a new message
    stub_botapi.press_button(fp, prompt, _data(prompt, "d:", ":state:prog"))
    _after_edit(stub_botapi, fp, prompt.message_id, prompt.edit_count)
    stub_botapi.send_text(fp, "40")
    stub_botapi.wait_for_message(fp, contains="Nhập ghi chú ngắn", timeout=30)
    stub_botapi.send_text(fp, "Đang lấy ý kiến <nhân dân> & doanh nghiệp")
    evidence = stub_botapi.wait_for(
        lambda: next((m for m in stub_botapi.sent_messages(fp) if any(
            d.endswith(":evidence:next") for d in m.button_datas())), None), timeout=30)
    stub_botapi.press_button(fp, evidence, _data(evidence, "d:", ":evidence:next"))
    review = _after_edit(stub_botapi, fp, evidence.message_id, evidence.edit_count)
    stub_botapi.press_button(fp, review, _data(review, "d:", ":review:ok"))
    stub_botapi.wait_for(lambda: _reports(pg_engine) != [], timeout=30)
    assert _reports(pg_engine) == [("in_progress", 40, "Đang lấy ý kiến <nhân dân> & doanh nghiệp")]
    assert all(after - before >= 2 for before, after in zip(hits, balancer.hits, strict=True))


def _reports(engine: Engine) -> list[tuple[str, int | None, str]]:
    from sqlmodel import select

    from models.db import session_scope
    from models.tables import Report

    with session_scope(engine) as s:
        return [(r.state, r.percent, r.note) for r in s.exec(select(Report))]
