"""Reply latency of the real `dondoc run` process under load, against the same without it.

    .venv/bin/python -m bench.latency             # every scenario (about 6 minutes)
    .venv/bin/python -m bench.latency --quick     # shorter windows (about 3 minutes)
    .venv/bin/python -m bench.latency --only render|flood|wave

1. **render**: p95 of /help for 5 registered people while a provincial leader runs /export and
   /chart in a loop, against no load (goal ≤ 1.5x).
2. **flood**: p95 of /help for 5 registered people while one stranger sends 600 messages in a
   second, against no flood (goal ≤ 1.5x); what the stranger got back, and the slowest /help
   asked while the flood was being read.
3. **wave**: p95 of /tasks during a 5,000-message broadcast, against idle (goal ≤ 1.5x); the
   peak number of sends in any one-second window stays ≤ 30 throughout.

The bot is the real process (``python -m bot.cli run``: concurrency, the flood limit, the pacing
limiter, the clock and dispatcher, all as in production) in a process of its own; this process
runs only the Bot API stand-in and the simulated people. A reply's latency is from the moment
its update is queued at the stand-in to the moment the stand-in receives the bot's answer
(both on this process's monotonic clock).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import select

from bench._common import ROOT
from domain.plan_parser import parse_plan
from models import agencies, broadcasts, registry
from models.db import make_engine, session_scope, upgrade
from models.divisions import district_era_divisions, load_divisions, plan_divisions
from models.tables import Agency, Member
from sandbox.stub_botapi import StubBotApi
from sandbox.stub_botapi.records import compute_rate_stats

PEOPLE = [1001, 1002, 1003, 1004, 1005]  # focal points of Hạ Long
LEADER = 4001  # a leader of the provincial People's Committee: the whole province
STRANGER = 9001
RECIPIENTS_FROM = 100_000
WAVE_TEXT = "Thông báo thử: họp giao ban thứ Hai, 8 giờ."
GOAL = 1.5


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def build(url: str, recipients: int) -> None:
    """Plan 916, the bundled agencies, Quảng Ninh's districts and communes; the people above;
    ``recipients`` focal points of a test agency (the wave's audience)."""
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as s:
        agencies.load_bundled_agencies(s)  # and Quảng Ninh's districts and communes
        load_divisions(s, plan_divisions(s, district_era_divisions("Quảng Ninh")))
        raw = agencies.bundled("plan916.txt")
        registry.import_plan(s, parse_plan(raw), raw=raw, source_name="plan916.txt",
                             active_from=date(2025, 1, 1))
    with session_scope(engine) as s:
        by_code = {a.code: a.id for a in s.exec(select(Agency))}
        ha_long = by_code["HA-LONG"]
        for uid in PEOPLE:
            s.add(Member(telegram_user_id=uid, agency_id=ha_long, role="focal_point",
                         full_name=f"Cán bộ {uid}", language="vi"))
        s.add(Member(telegram_user_id=LEADER, agency_id=by_code["UBND-TINH"], role="leader",
                     full_name="Lãnh đạo tỉnh", language="vi"))
        s.add(Member(telegram_user_id=1, role="admin", full_name="Quản trị", language="vi"))
        test_agency = Agency(name="Cơ quan thử nghiệm", code="THU-NGHIEM", level="department")
        s.add(test_agency)
        s.flush()
        for i in range(recipients):
            s.add(Member(telegram_user_id=RECIPIENTS_FROM + i, agency_id=test_agency.id,
                         role="focal_point", full_name=f"Người nhận {i}", language="vi"))
    engine.dispose()


def queue_wave(url: str) -> int:
    """A broadcast to the test agency, confirmed as Send does it; returns its recipients."""
    engine = make_engine(url)
    with session_scope(engine) as s:

        agency = s.exec(select(Agency).where(Agency.code == "THU-NGHIEM")).one()
        draft = broadcasts.start_draft(s, 1)
        assert draft.id is not None
        broadcasts.set_content(draft, WAVE_TEXT)
        draft.audience = f'{{"kind": "agency", "id": {agency.id}}}'
        s.flush()
        done = broadcasts.confirm(s, draft.id, 1, progress_chat_id=1, progress_message_id=1)
    engine.dispose()
    return done.recipients


@contextmanager
def bot_process(stub: StubBotApi, url: str, workdir: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(DONDOC_BOT_TOKEN=stub.token, DONDOC_BOT_API_URL=stub.url, DONDOC_DATABASE_URL=url,
               DONDOC_DISPATCH_INTERVAL="1", DONDOC_LOG_LEVEL="WARNING", DONDOC_GRACE_HOURS="0",
               # No reminder falls due while the bench runs (it measures replies, not reminders).
               DONDOC_QUIET_START="23:00", DONDOC_QUIET_END="05:00", DONDOC_REMIND_AT="05:30",
               PYTHONPATH=str(ROOT), PTB_TIMEDELTA="1")
    log = (workdir / "bot.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=workdir,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class People:
    """Simulated people sending commands and timing the answers. Each sends one every 2-3 s:
    brisk for a person, and under the flood limit (30 a minute), which would stop them too."""

    def __init__(self, stub: StubBotApi) -> None:
        self.stub = stub

    def _answers(self, chat: int, after: float, keep: Callable[[str], bool]) -> list[float]:
        return [c.time for c in self.stub.calls() if c.chat_id == chat and c.time >= after and c.ok
                and c.method in ("sendMessage", "sendDocument", "sendPhoto")
                and keep(str(c.params.get("text") or c.params.get("caption") or ""))]

    async def ask(self, uid: int, text: str, *, timeout: float = 60,
                  keep: Callable[[str], bool] = lambda _t: True) -> float:
        """Send ``text`` as ``uid``; seconds until the bot's first answer arrived."""
        started = time.monotonic()
        self.stub.send_text(self.stub.user(uid, f"U{uid}"), text)
        deadline = started + timeout
        while time.monotonic() < deadline:
            found = self._answers(uid, started, keep)
            if found:
                return min(found) - started
            await asyncio.sleep(0.005)
        raise TimeoutError(f"{uid} got no answer to {text} within {timeout} s")

    async def timed(self, uid: int, text: str, until: float, *, pause: tuple[float, float] = (2.0, 3.0),
                    keep: Callable[[str], bool] = lambda _t: True) -> list[tuple[float, float]]:
        """(when asked, seconds to the answer) for each ask until ``until``."""
        rng = random.Random(uid)
        found: list[tuple[float, float]] = []
        while time.monotonic() < until:
            asked = time.monotonic()
            found.append((asked, await self.ask(uid, text, keep=keep)))
            await asyncio.sleep(rng.uniform(*pause))
        return found

    async def loop(self, uid: int, text: str, until: float, **kwargs: Any) -> list[float]:
        return [latency for _, latency in await self.timed(uid, text, until, **kwargs)]

    async def everyone(self, text: str, seconds: float, **kwargs: object) -> list[float]:
        until = time.monotonic() + seconds
        runs = await asyncio.gather(*(self.loop(uid, text, until, **kwargs) for uid in PEOPLE))  # type: ignore[arg-type]
        return [x for run in runs for x in run]


def _compare(what: str, base: list[float], loaded: list[float], load: str) -> bool:
    b, lo = p95(base), p95(loaded)
    ratio = lo / b if b else float("inf")
    ok = ratio <= GOAL
    _out(f"   {what} p95: {lo * 1000:.0f} ms {load} vs {b * 1000:.0f} ms without "
         f"({ratio:.2f}x, goal ≤ {GOAL}x) {'met' if ok else 'MISSED'}")
    _out(f"      medians {statistics.median(loaded) * 1000:.0f} vs {statistics.median(base) * 1000:.0f} ms; "
         f"samples {len(loaded)} vs {len(base)}")
    return ok


async def render(people: People, seconds: float) -> bool:
    _out("\n1. /help for 5 people while a leader runs /export and /chart in a loop")
    base = await people.everyone("/help", seconds)
    stop = time.monotonic() + seconds
    rounds = 0

    async def leader() -> None:
        nonlocal rounds
        while time.monotonic() < stop:
            await people.ask(LEADER, "/export", timeout=120)
            await people.ask(LEADER, "/chart", timeout=120)
            rounds += 1

    lead = asyncio.create_task(leader())
    loaded = await people.everyone("/help", seconds)
    export_time = await people.ask(LEADER, "/export", timeout=120)
    await lead
    _out(f"   the leader's rounds of /export + /chart meanwhile: {rounds} (one /export alone: "
         f"{export_time:.2f} s)")
    return _compare("/help", base, loaded, "under /export + /chart")


async def flood(people: People, stub: StubBotApi, seconds: float) -> bool:
    _out("\n2. /help for 5 people while a stranger sends 600 messages in one second")
    base = await people.everyone("/help", seconds)
    stranger = stub.user(STRANGER, "Người lạ")
    window: list[float] = []

    async def spam() -> None:
        await asyncio.sleep(seconds / 3)
        started = time.monotonic()
        for i in range(600):
            stub.send_text(stranger, f"tin rác {i}")
            await asyncio.sleep(max(0.0, started + (i + 1) / 600 - time.monotonic()))
        window.extend([started, time.monotonic()])

    spammer = asyncio.create_task(spam())
    until = time.monotonic() + seconds
    runs = await asyncio.gather(*(people.timed(uid, "/help", until) for uid in PEOPLE))
    await spammer
    loaded = [latency for run in runs for _, latency in run]
    during = [latency for run in runs for at, latency in run if window[0] <= at <= window[1] + 1]
    got = len(stub.sent_messages(STRANGER))
    _out(f"   the stranger got {got} answers (the first DONDOC_FLOOD_PER_MINUTE, then one 'slow down')")
    if during:
        _out(f"   /help asked while the 600 were being read (flood second + 1 s): {len(during)}, "
             f"slowest {max(during) * 1000:.0f} ms (Telegram hands updates over in order: these "
             f"wait for the flood's updates ahead of them to be read)")
    return _compare("/help", base, loaded, "with the flood")


async def wave(people: People, stub: StubBotApi, url: str, seconds: float, recipients: int) -> bool:
    _out(f"\n3. /tasks for 5 people during a {recipients:,}-message broadcast")
    not_wave: Callable[[str], bool] = lambda text: WAVE_TEXT not in text  # noqa: E731
    base = await people.everyone("/tasks", seconds, keep=not_wave)
    queued_at = time.monotonic()
    assert queue_wave(url) == recipients

    def wave_sends() -> int:
        return sum(1 for c in stub.calls("sendMessage") if c.ok and WAVE_TEXT in str(c.params.get("text")))

    while wave_sends() < 30:  # the dispatcher has taken it up
        await asyncio.sleep(0.1)
    started = time.monotonic()
    loaded = await people.everyone("/tasks", seconds, keep=not_wave)
    sent_during = wave_sends()
    _out(f"   wave picked up {started - queued_at:.1f} s after Send; {sent_during:,} of it sent by "
         f"the end of the window ({sent_during / (time.monotonic() - started):.1f}/s)")
    rates = compute_rate_stats([c for c in stub.calls() if c.time >= queued_at])
    _out(f"   peak sends in any 1 s window, replies and wave together: {rates.peak_per_second} (limit 30)")
    return _compare("/tasks", base, loaded, "during the wave") and rates.peak_per_second <= 30


async def main(*, quick: bool, only: str) -> int:
    seconds = 20.0 if quick else 45.0
    recipients = 5000
    with tempfile.TemporaryDirectory() as tmp, StubBotApi() as stub:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'latency.sqlite3'}"
        build(url, recipients)
        people = People(stub)
        with bot_process(stub, url, workdir) as process:
            try:
                await people.ask(PEOPLE[0], "/help", timeout=180)  # started, items synced
            except TimeoutError:
                _out((workdir / "bot.log").read_text(errors="replace")[-3000:])
                raise
            for uid in [*PEOPLE, LEADER]:  # warm up each person's first answer
                await people.ask(uid, "/help")
            ok = True
            if only in ("", "render"):
                ok = await render(people, seconds) and ok
            if only in ("", "flood"):
                ok = await flood(people, stub, seconds) and ok
            if only in ("", "wave"):
                ok = await wave(people, stub, url, seconds, recipients) and ok
            if process.poll() is not None:
                _out("the bot process died")
                ok = False
    _out("\nall targets met" if ok else "\nsome target missed")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 s windows instead of 45 s")
    parser.add_argument("--only", choices=("render", "flood", "wave"), default="")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(quick=args.quick, only=args.only)))
