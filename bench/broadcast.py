"""Broadcast throughput against the Bot API stand-in, running in a process of its own.

    .venv/bin/python -m bench.broadcast            # 5,000 recipients (about 4 minutes)
    .venv/bin/python -m bench.broadcast --quick    # 600 recipients (about 40 seconds)

1. With the rate limiter on (as in production): the time to deliver one broadcast against the
   floor that 30 messages a second sets (target: within 5%), the peak number of sends in any
   one-second window (never over 30) and, per group, in any minute (never over 20).
2. With the limiter off: the bot's own cost per message (claim, render, renew and record, send
   through PTB) against a bare PTB ``send_message`` loop to the same stand-in (target: at most
   2x), and, for reference, a bare loop of HTTP posts.

The broadcast is queued the way /broadcast's Send button does it (models.broadcasts.confirm)
and sent by the real dispatcher through the real Application's bot. Every measurement gets a
fresh stand-in process (``python -m sandbox.stub_botapi``), so the stand-in's work never competes
with the bot's for this process's interpreter.
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
from telegram import Bot
from telegram.constants import ParseMode

from bench._common import TOKEN, stub_process
from bot.app import build_application
from bot.settings import load_settings, schedule_rules
from models import broadcasts
from models.db import make_engine, session_scope, upgrade
from models.tables import Agency, Chat, Member
from sandbox.stub_botapi.records import RateStats, compute_rate_stats
from scheduler.dispatch import dispatch_due

ROOT = Path(__file__).resolve().parents[1]
SENDER = 1
GROUP_SHARE = 50  # one recipient in this many is a registered group
TEXT = "Thông báo: họp giao ban <b>thứ Hai</b>, 8 giờ."


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def prepare(url: str, recipients: int) -> Engine:
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
        broadcasts.set_content(draft, TEXT)
        draft.audience = '{"kind": "everyone"}'
        s.flush()
        done = broadcasts.confirm(s, draft.id, SENDER, progress_chat_id=SENDER, progress_message_id=1)
        assert done.outcome == "queued" and done.recipients == recipients, done
    return engine


async def deliver(stub_url: str, db_url: str, recipients: int, *, limiter: bool) -> tuple[float, int]:
    """Send the broadcast with the real bot; returns (seconds, messages sent)."""
    engine = prepare(db_url, recipients)
    settings = load_settings(bot_token=TOKEN, bot_api_url=stub_url, database_url=db_url,
                             quiet_start="00:00", quiet_end="00:00")
    overrides: dict[str, Any] = {} if limiter else {"rate_limiter": None}
    app = build_application(settings, engine=engine, start_jobs=False, **overrides)
    rules = schedule_rules(settings)
    async with app:
        started = time.monotonic()
        stats = await dispatch_due(app.bot, engine, rules, default_language="vi", max_rounds=1000)
        elapsed = time.monotonic() - started
    engine.dispose()
    return elapsed, stats.sent


async def bare_ptb_loop(stub_url: str, count: int) -> float:
    """The same number of messages through a plain PTB Bot, one after the other."""
    async with Bot(TOKEN, base_url=f"{stub_url}/bot") as bot:
        started = time.monotonic()
        for i in range(count):
            await bot.send_message(10_000 + i, TEXT, parse_mode=ParseMode.HTML)
        return time.monotonic() - started


async def bare_http_loop(stub_url: str, count: int) -> float:
    """The same number of sendMessage posts, with nothing around them."""
    url = f"{stub_url}/bot{TOKEN}/sendMessage"
    async with httpx.AsyncClient() as client:
        started = time.monotonic()
        for i in range(count):
            response = await client.post(url, json={"chat_id": 10_000 + i, "text": TEXT,
                                                    "parse_mode": "HTML"})
            response.raise_for_status()
        return time.monotonic() - started


def _rate_lines(rates: RateStats) -> list[str]:
    return [f"   peak in any 1 s window: {rates.peak_per_second} (limit 30)",
            f"   peak per group in any 60 s window: {rates.max_per_chat_per_minute} (limit 20)"]


async def paced(workdir: Path, recipients: int) -> bool:
    _out("\n1. Rate limiter on")
    with stub_process(workdir, "paced") as stub:
        elapsed, sent = await deliver(stub.url, f"sqlite:///{workdir / 'on.sqlite3'}", recipients,
                                      limiter=True)
        rates = compute_rate_stats(stub.stop())
    floor = recipients / 30
    _out(f"   sent {sent:,} in {elapsed:.1f} s; floor at 30/s {floor:.1f} s "
         f"({(elapsed / floor - 1) * 100:+.1f}%, target within 5%)")
    for line in _rate_lines(rates):
        _out(line)
    return (sent == recipients and rates.total == recipients and elapsed <= floor * 1.05
            and rates.peak_per_second <= 30 and rates.max_per_chat_per_minute <= 20)


async def cost(workdir: Path, recipients: int) -> bool:
    _out("\n2. Rate limiter off: the bot's own cost per message (each run against a fresh stand-in)")
    with stub_process(workdir, "bot") as stub:
        elapsed_bot, sent_bot = await deliver(stub.url, f"sqlite:///{workdir / 'off.sqlite3'}",
                                              recipients, limiter=False)
    with stub_process(workdir, "ptb") as stub:
        elapsed_ptb = await bare_ptb_loop(stub.url, recipients)
    with stub_process(workdir, "http") as stub:
        elapsed_http = await bare_http_loop(stub.url, recipients)
    per_bot = elapsed_bot / max(1, sent_bot) * 1000
    per_ptb, per_http = elapsed_ptb / recipients * 1000, elapsed_http / recipients * 1000
    _out(f"   bot: {per_bot:.2f} ms/message ({sent_bot:,} in {elapsed_bot:.1f} s)")
    _out(f"   bare PTB send_message loop: {per_ptb:.2f} ms/message")
    _out(f"   ratio {per_bot / per_ptb:.2f}x (target at most 2x)")
    _out(f"   (bare HTTP loop: {per_http:.2f} ms/message; the bot is {per_bot / per_http:.2f}x that)")
    return sent_bot == recipients and per_bot <= 2 * per_ptb


async def main(recipients: int, *, only: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        _out(f"Broadcast to {recipients:,} recipients ({recipients // GROUP_SHARE:,} of them groups)")
        ok = True
        if only in ("", "paced"):
            ok = await paced(workdir, recipients) and ok
        if only in ("", "cost"):
            ok = await cost(workdir, recipients) and ok
        _out("\nall targets met" if ok else "\nsome target missed")
        return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="600 recipients")
    parser.add_argument("--recipients", type=int, default=None)
    parser.add_argument("--only", choices=("paced", "cost"), default="",
                        help="only the paced run, or only the cost per message")
    args = parser.parse_args()
    count = args.recipients or (600 if args.quick else 5000)
    raise SystemExit(asyncio.run(main(count, only=args.only)))
