"""Reply latency of the real `dondoc run` process under load, against the same without it,
measured side by side: idle and loaded windows alternate in one run.

    .venv/bin/python -m bench.latency             # every scenario, 6 pairs of 10 s windows (~8 min)
    .venv/bin/python -m bench.latency --quick     # 3 pairs each (about 4 minutes)
    .venv/bin/python -m bench.latency --only render|flood|wave [--pairs N] [--window S]

1. **render**: p95 of /help for 5 registered people while a provincial leader runs /export,
   /chart and /report_doc in a loop, against no load (goal ≤ 1.5x).
2. **flood**: p95 of /help for 5 registered people while a stranger sends 600 messages in a
   second (a new stranger in each loaded window), against no flood (goal ≤ 1.5x); what the
   strangers got back, and the slowest /help asked while a flood was being read.
3. **wave**: p95 of /tasks during a broadcast (one per loaded window, big enough to outlast it
   at 30 a second), against idle (goal ≤ 1.5x); the peak number of sends in any one-second
   window stays ≤ 30 throughout.

Three processes: the bot (``python -m bot.cli run``: concurrency, the flood limit, the pacing
limiter, the clock and dispatcher, all as in production, and its render worker), the Bot API
stand-in (``python -m sandbox.stub_botapi --control``), and this one, which only plays the
people through the stand-in's control endpoints. A reply's latency is from the moment the
stand-in makes the update available to getUpdates to the moment it receives the bot's answer,
both read on the stand-in's clock. Windows alternate idle, loaded, loaded, idle, idle, ... (each
pair in the other order than the one before), so a change in the machine's other load falls on
both sides alike; each loaded window ends when its load has finished (the leader's last render
answered, the broadcast sent), so no load spills into an idle window.
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
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlmodel import select

from bench._common import ROOT, StubProcess, stub_process
from domain.plan_parser import parse_plan
from models import agencies, broadcasts, registry
from models.db import make_engine, session_scope, upgrade
from models.divisions import district_era_divisions, load_divisions, plan_divisions
from models.tables import Agency, Member
from sandbox.stub_botapi.records import Call, compute_rate_stats

PEOPLE = [1001, 1002, 1003, 1004, 1005]  # focal points of Hạ Long
LEADER = 4001  # a leader of the provincial People's Committee: the whole province
STRANGER = 9001  # the first window's; the next ones are 9002, 9003, ...
RECIPIENTS_FROM = 100_000
WAVE_TEXT = "Thông báo thử: họp giao ban thứ Hai, 8 giờ."
WAVE_AGENCY = "THU-NGHIEM-{}"
GOAL = 1.5
RATE = 30  # sends a second, the limit the pacing keeps
RENDERS = ("/export", "/chart", "/report_doc")  # the leader's loop in the render scenario


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def wave_size(seconds: float) -> int:
    """Recipients of one loaded window's broadcast: it outlasts the window at 30 a second."""
    return int(RATE * (seconds + 4))


def build(url: str, waves: int, per_wave: int) -> None:
    """Plan 916, the bundled agencies, Quảng Ninh's districts and communes; the people above;
    ``waves`` test agencies of ``per_wave`` focal points each (one broadcast's audience each)."""
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
        for k in range(waves):
            test_agency = Agency(name=f"Cơ quan thử nghiệm {k + 1}", code=WAVE_AGENCY.format(k + 1),
                                 level="department")
            s.add(test_agency)
            s.flush()
            for i in range(per_wave):
                uid = RECIPIENTS_FROM + k * per_wave + i
                s.add(Member(telegram_user_id=uid, agency_id=test_agency.id, role="focal_point",
                             full_name=f"Người nhận {uid}", language="vi"))
    engine.dispose()


def queue_wave(url: str, number: int) -> int:
    """A broadcast to test agency ``number``, confirmed as Send does it; returns its recipients."""
    engine = make_engine(url)
    with session_scope(engine) as s:
        agency = s.exec(select(Agency).where(Agency.code == WAVE_AGENCY.format(number))).one()
        draft = broadcasts.start_draft(s, 1)
        assert draft.id is not None
        broadcasts.set_content(draft, WAVE_TEXT)
        draft.audience = f'{{"kind": "agency", "id": {agency.id}}}'
        s.flush()
        done = broadcasts.confirm(s, draft.id, 1, progress_chat_id=1, progress_message_id=1)
    engine.dispose()
    return done.recipients


@contextmanager
def bot_process(stub: StubProcess, url: str, workdir: Path) -> Iterator[subprocess.Popen[bytes]]:
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


class Stand:
    """The stand-in in its own process, driven through its control endpoints; every time it
    returns is the stand-in's clock."""

    def __init__(self, stub: StubProcess, http: aiohttp.ClientSession) -> None:
        self.root = stub.control_url
        self.http = http

    async def _post(self, name: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        async with self.http.post(f"{self.root}/{name}", json=body,
                                  timeout=aiohttp.ClientTimeout(total=timeout + 30)) as response:
            if response.status == 504:
                raise TimeoutError(await response.text())
            response.raise_for_status()
            result: dict[str, Any] = await response.json()
            return result

    async def ask(self, uid: int, text: str, *, timeout: float = 60, skip: str = "") -> tuple[float, float]:
        """``uid`` sends ``text``: (when the update was queued, seconds to the bot's first answer)."""
        found = await self._post("ask", {"user_id": uid, "text": text, "timeout": timeout,
                                         "skip": skip}, timeout)
        return found["queued_at"], found["seconds"]

    async def send_texts(self, uid: int, texts: list[str], spread: float) -> tuple[float, float]:
        found = await self._post("send_texts", {"user_id": uid, "first_name": "Người lạ",
                                                "texts": texts, "spread": spread}, spread)
        return found["first_queued"], found["last_queued"]

    async def calls(self, **query: str | int | float) -> list[Call]:
        params = {k: str(v) for k, v in query.items()}
        async with self.http.get(f"{self.root}/calls", params=params) as response:
            response.raise_for_status()
            found = await response.json()
        return [Call(c["method"], {"chat_id": c["chat_id"]}, c["time"], c["status"]) for c in found["calls"]]

    async def now(self) -> float:
        async with self.http.get(f"{self.root}/clock") as response:
            response.raise_for_status()
            return float((await response.json())["now"])


class People:
    """Simulated people sending commands. Each sends one every 2-3 s: brisk for a person, and
    under the flood limit (30 a minute), which would stop them too."""

    def __init__(self, stand: Stand) -> None:
        self.stand = stand
        self.rngs = {uid: random.Random(uid) for uid in PEOPLE}

    async def timed(self, uid: int, text: str, until: float, *, skip: str = "") -> list[tuple[float, float]]:
        """(when queued, seconds to the answer) for each ask until ``until`` (this clock)."""
        found: list[tuple[float, float]] = []
        while time.monotonic() < until:
            found.append(await self.stand.ask(uid, text, skip=skip))
            await asyncio.sleep(self.rngs[uid].uniform(2.0, 3.0))
        return found

    async def window(self, text: str, seconds: float, *, skip: str = "") -> list[tuple[float, float]]:
        until = time.monotonic() + seconds
        runs = await asyncio.gather(*(self.timed(uid, text, until, skip=skip) for uid in PEOPLE))
        return [x for run in runs for x in run]


# A load: set ``started`` once it is on, run until ``stop`` is set, then finish what it began.
Load = Callable[[asyncio.Event, asyncio.Event], Awaitable[None]]


@dataclass
class Windows:
    idle: list[list[tuple[float, float]]] = field(default_factory=list)
    loaded: list[list[tuple[float, float]]] = field(default_factory=list)

    @staticmethod
    def latencies(windows: list[list[tuple[float, float]]]) -> list[float]:
        return [seconds for window in windows for _, seconds in window]


async def side_by_side(people: People, text: str, load: Load, *, pairs: int, seconds: float,
                       skip: str = "") -> Windows:
    """``pairs`` idle windows and ``pairs`` loaded ones of ``seconds`` each, alternating
    (idle-loaded, loaded-idle, idle-loaded, ...)."""
    found = Windows()
    for pair in range(pairs):
        line = []
        for loaded in ((False, True) if pair % 2 == 0 else (True, False)):
            if not loaded:
                samples = await people.window(text, seconds, skip=skip)
                found.idle.append(samples)
            else:
                started, stop = asyncio.Event(), asyncio.Event()
                task = asyncio.create_task(load(started, stop))
                waiting = asyncio.create_task(started.wait())
                await asyncio.wait([task, waiting], return_when=asyncio.FIRST_COMPLETED)
                if task.done():
                    waiting.cancel()
                    await task  # raises what stopped it
                samples = await people.window(text, seconds, skip=skip)
                stop.set()
                await task
                found.loaded.append(samples)
            values = [s for _, s in samples]
            line.append(f"{'loaded' if loaded else 'idle'} p95 {p95(values) * 1000:.0f} ms (n {len(values)})")
        _out(f"   pair {pair + 1}: {', '.join(line)}; load average {load_average()}")
    return found


def compare(what: str, windows: Windows, load: str) -> bool:
    base, loaded = Windows.latencies(windows.idle), Windows.latencies(windows.loaded)
    b, lo = p95(base), p95(loaded)
    ratio = lo / b if b else float("inf")
    ok = ratio <= GOAL
    _out(f"   {what} p95: {lo * 1000:.0f} ms {load} vs {b * 1000:.0f} ms idle "
         f"({ratio:.2f}x, goal ≤ {GOAL}x) {'met' if ok else 'MISSED'}")
    _out(f"      p50 {statistics.median(loaded) * 1000:.0f} vs {statistics.median(base) * 1000:.0f} ms; "
         f"slowest {max(loaded) * 1000:.0f} vs {max(base) * 1000:.0f} ms; samples {len(loaded)} vs "
         f"{len(base)}; load average now {load_average()}")
    return ok


async def render(people: People, pairs: int, seconds: float) -> bool:
    _out("\n1. /help for 5 people while a leader runs /export, /chart and /report_doc in a loop")
    _out(f"   load average {load_average()}")
    stand = people.stand
    took: dict[str, list[float]] = {command: [] for command in RENDERS}

    async def leader(started: asyncio.Event, stop: asyncio.Event) -> None:
        started.set()
        while not stop.is_set():
            for command in RENDERS:
                if stop.is_set():
                    break
                took[command].append((await stand.ask(LEADER, command, timeout=120))[1])

    windows = await side_by_side(people, "/help", leader, pairs=pairs, seconds=seconds)
    _out("   the leader's " + "; ".join(
        f"{command}: {len(times)}, median {statistics.median(times) if times else 0:.2f} s"
        for command, times in took.items()))
    return compare("/help", windows, "under /export + /chart + /report_doc")


async def flood(people: People, pairs: int, seconds: float) -> bool:
    _out("\n2. /help for 5 people while a stranger sends 600 messages in one second")
    _out(f"   load average {load_average()}")
    stand = people.stand
    floods: list[tuple[float, float]] = []

    async def spam(started: asyncio.Event, stop: asyncio.Event) -> None:
        started.set()
        await asyncio.sleep(seconds / 3)
        stranger = STRANGER + len(floods)
        floods.append(await stand.send_texts(stranger, [f"tin rác {i}" for i in range(600)], 1.0))
        await stop.wait()

    windows = await side_by_side(people, "/help", spam, pairs=pairs, seconds=seconds)
    await asyncio.sleep(2)  # the last flood's answers
    got = [len(await stand.calls(method="sendMessage", chat_id=STRANGER + k)) for k in range(len(floods))]
    _out(f"   the strangers got {', '.join(map(str, got))} answers (the first DONDOC_FLOOD_PER_MINUTE, "
         f"then one 'slow down')")
    during = [s for window in windows.loaded for at, s in window
              if any(first <= at <= last + 1 for first, last in floods)]
    if during:
        _out(f"   /help asked while the 600 were being read (flood second + 1 s): {len(during)}, "
             f"slowest {max(during) * 1000:.0f} ms (Telegram hands updates over in order: these "
             f"wait for the flood's updates ahead of them to be read)")
    return compare("/help", windows, "with the flood")


async def wave(people: People, url: str, pairs: int, seconds: float) -> bool:
    per_wave = wave_size(seconds)
    _out(f"\n3. /tasks for 5 people during a broadcast ({per_wave:,} messages in each loaded window)")
    _out(f"   load average {load_average()}")
    stand = people.stand
    first_queued = await stand.now()
    picked_up: list[float] = []
    sent_in_window: list[float] = []
    pressed: list[tuple[float, float]] = []  # per wave: Send pressed, its first send (stand-in's clock)

    async def wave_sends(since: float) -> int:
        return len(await stand.calls(method="sendMessage", since=since, contains=WAVE_TEXT))

    async def broadcast(started: asyncio.Event, stop: asyncio.Event) -> None:
        queued_at = await stand.now()
        assert await asyncio.to_thread(queue_wave, url, len(picked_up) + 1) == per_wave
        while await wave_sends(queued_at) < RATE:  # the dispatcher has taken it up
            await asyncio.sleep(0.1)
        begun = await stand.now()
        picked_up.append(begun - queued_at)
        first = min(c.time for c in await stand.calls(method="sendMessage", since=queued_at,
                                                      contains=WAVE_TEXT))
        pressed.append((queued_at, first))
        started.set()
        await stop.wait()
        ended = await stand.now()
        sent_in_window.append(await wave_sends(begun) / (ended - begun))
        deadline = time.monotonic() + 120
        while await wave_sends(queued_at) < per_wave and time.monotonic() < deadline:
            await asyncio.sleep(0.2)

    windows = await side_by_side(people, "/tasks", broadcast, pairs=pairs, seconds=seconds, skip=WAVE_TEXT)
    _out(f"   each wave picked up {min(picked_up):.1f}-{max(picked_up):.1f} s after Send; sent "
         f"{min(sent_in_window):.1f}-{max(sent_in_window):.1f}/s during its window")
    where(windows, pressed)
    rates = compute_rate_stats(await stand.calls(since=first_queued))
    _out(f"   peak sends in any 1 s window, replies and waves together: {rates.peak_per_second} "
         f"(limit {RATE})")
    return compare("/tasks", windows, "during the wave") and rates.peak_per_second <= RATE


def where(windows: Windows, pressed: list[tuple[float, float]]) -> None:
    """When the loaded windows' slow /tasks were asked: seconds after Send was pressed and after
    the wave's first send (do they cluster at the wave's start, or spread over it?)."""
    bar = p95(Windows.latencies(windows.idle))
    slow = [(at - send, at - first, s) for window, (send, first) in zip(windows.loaded, pressed, strict=True)
            for at, s in window if s > bar]
    early = sum(1 for _, since_first, _ in slow if since_first < 2)
    _out(f"   loaded /tasks slower than the idle p95 ({bar * 1000:.0f} ms): {len(slow)}, {early} of them "
         f"asked within 2 s of the wave's first send")
    for since_send, since_first, s in sorted(slow, key=lambda x: x[1]):
        _out(f"      {s * 1000:.0f} ms, asked {since_send:+.1f} s from Send, "
             f"{since_first:+.1f} s from its first send")


async def main(*, pairs: int, seconds: float, only: str) -> int:
    _out(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {pairs} pairs of {seconds:.0f} s windows; "
         f"load average {load_average()} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'latency.sqlite3'}"
        build(url, pairs if only in ("", "wave") else 0, wave_size(seconds))
        with (stub_process(workdir, "latency", control=True) as stub,
              bot_process(stub, url, workdir) as process):
            async with aiohttp.ClientSession() as http:
                people = People(Stand(stub, http))
                try:
                    await people.stand.ask(PEOPLE[0], "/help", timeout=180)  # started, items synced
                except TimeoutError:
                    _out((workdir / "bot.log").read_text(errors="replace")[-3000:])
                    raise
                for uid in [*PEOPLE, LEADER]:  # warm up each person's first answer
                    await people.stand.ask(uid, "/help")
                ok = True
                if only in ("", "render"):
                    ok = await render(people, pairs, seconds) and ok
                if only in ("", "flood"):
                    ok = await flood(people, pairs, seconds) and ok
                if only in ("", "wave"):
                    ok = await wave(people, url, pairs, seconds) and ok
            if process.poll() is not None:
                _out("the bot process died")
                ok = False
    _out("\nall targets met" if ok else "\nsome target missed")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 pairs of windows instead of 6")
    parser.add_argument("--pairs", type=int, default=0, help="pairs of idle and loaded windows")
    parser.add_argument("--window", type=float, default=10.0, help="seconds per window (10)")
    parser.add_argument("--only", choices=("render", "flood", "wave"), default="")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(pairs=args.pairs or (3 if args.quick else 6), seconds=args.window,
                                      only=args.only)))
