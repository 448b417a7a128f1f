"""Broadcast throughput against the local Bot API stand-in.

    .venv/bin/python -m bench.broadcast            # 5,000 recipients (about 3 minutes)
    .venv/bin/python -m bench.broadcast --quick    # 600 recipients (about 25 seconds)

1. With the rate limiter on (as in production): the time to deliver one broadcast against the
   floor that 30 messages a second sets, the peak number of sends in any one-second window
   (never over 30) and, per group, in any minute (never over 20).
2. With the limiter off: the bot's own cost per message (claim, render, send through PTB,
   record the outcome) against a bare loop of HTTP posts to the same stand-in.

The broadcast is queued the way /broadcast's Send button does it (models.broadcasts.confirm)
and sent by the real dispatcher through the real Application's bot.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from bot.app import build_application
from bot.settings import load_settings, schedule_rules
from models import broadcasts
from models.db import make_engine, session_scope, upgrade
from models.tables import Agency, Broadcast, Chat, Member
from scheduler.dispatch import dispatch_due
from tests.stub_botapi import StubBotApi

SENDER = 1
GROUP_SHARE = 50  # one recipient in this many is a registered group


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def prepare(url: str, recipients: int) -> tuple[Engine, int]:
    """A migrated database with ``recipients`` chats (members and some groups), and a broadcast
    to everyone already confirmed (its ledger rows inserted)."""
    upgrade(url)
    engine = make_engine(url)
    groups = recipients // GROUP_SHARE
    with session_scope(engine) as s:
        agency = Agency(name="Sở Nội vụ", code="SNV")
        s.add(agency)
        s.flush()
        s.add(Member(telegram_user_id=SENDER, role="admin", full_name="Sender"))
        for i in range(recipients - groups - 1):
            s.add(Member(telegram_user_id=10_000 + i, role="focal_point", agency_id=agency.id))
        for i in range(groups):
            s.add(Chat(telegram_chat_id=-(1_000_000 + i), title=f"Group {i}", type="group",
                       purpose="focal_points", language="vi"))
    with session_scope(engine) as s:
        draft = broadcasts.start_draft(s, SENDER)
        assert draft.id is not None
        broadcasts.set_content(draft, "Thông báo: họp giao ban <b>thứ Hai</b>, 8 giờ.")
        draft.audience = '{"kind": "everyone"}'
        s.flush()
        done = broadcasts.confirm(s, draft.id, SENDER, progress_chat_id=SENDER, progress_message_id=1)
        assert done.outcome == "queued" and done.recipients == recipients, done
        return engine, draft.id


async def deliver(stub: StubBotApi, url: str, recipients: int, *, limiter: bool) -> tuple[float, int]:
    """Send the broadcast with the real bot; returns (seconds, messages sent)."""
    engine, _ = prepare(url, recipients)
    settings = load_settings(bot_token=stub.token, bot_api_url=stub.url, database_url=url,
                             quiet_start="00:00", quiet_end="00:00")
    overrides: dict[str, Any] = {} if limiter else {"rate_limiter": None}
    app = build_application(settings, engine=engine, start_jobs=False, **overrides)
    rules = schedule_rules(settings)
    async with app:
        started = time.monotonic()
        stats = await dispatch_due(app.bot, engine, rules, default_language="vi", max_rounds=1000)
        elapsed = time.monotonic() - started
    with session_scope(engine) as s:
        assert s.get(Broadcast, 1) is not None
    engine.dispose()
    return elapsed, stats.sent


async def bare_loop(stub: StubBotApi, count: int) -> float:
    """The same number of sendMessage posts, one after the other, with nothing around them."""
    url = f"{stub.url}/bot{stub.token}/sendMessage"
    async with httpx.AsyncClient() as client:
        started = time.monotonic()
        for i in range(count):
            response = await client.post(url, json={
                "chat_id": 10_000 + i, "text": "Thông báo: họp giao ban <b>thứ Hai</b>, 8 giờ.",
                "parse_mode": "HTML"})
            response.raise_for_status()
        return time.monotonic() - started


async def main(recipients: int) -> int:
    with tempfile.TemporaryDirectory() as tmp, StubBotApi() as stub:
        _out(f"Broadcast to {recipients:,} recipients ({recipients // GROUP_SHARE:,} of them groups)")
        _out("\n1. Rate limiter on")
        elapsed, sent = await deliver(stub, f"sqlite:///{Path(tmp) / 'on.sqlite3'}", recipients,
                                      limiter=True)
        rates = stub.rate_stats()
        floor = recipients / 30
        _out(f"   sent {sent:,} in {elapsed:.1f} s; floor at 30/s {floor:.1f} s "
             f"({(elapsed / floor - 1) * 100:+.1f}%, target within 5%)")
        _out(f"   peak in any 1 s window: {rates.peak_per_second} (limit 30)")
        _out(f"   peak per group in any 60 s window: {rates.max_per_chat_per_minute} (limit 20)")
        ok = sent == recipients and elapsed <= floor * 1.05 and rates.peak_per_second <= 30 \
            and rates.max_per_chat_per_minute <= 20

        stub.reset()
        _out("\n2. Rate limiter off: the bot's own cost per message")
        elapsed_bot, sent_bot = await deliver(stub, f"sqlite:///{Path(tmp) / 'off.sqlite3'}",
                                              recipients, limiter=False)
        elapsed_bare = await bare_loop(stub, recipients)
        per_bot, per_bare = elapsed_bot / sent_bot * 1000, elapsed_bare / recipients * 1000
        _out(f"   bot: {per_bot:.2f} ms/message ({sent_bot:,} in {elapsed_bot:.1f} s)")
        _out(f"   bare HTTP loop: {per_bare:.2f} ms/message")
        _out(f"   ratio {per_bot / per_bare:.2f}x (target within 1.5x)")
        ok = ok and sent_bot == recipients
        return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="600 recipients (about 25 s)")
    parser.add_argument("--recipients", type=int, default=None)
    args = parser.parse_args()
    count = args.recipients or (600 if args.quick else 5000)
    raise SystemExit(asyncio.run(main(count)))
