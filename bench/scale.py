"""Country scale: the real ``dondoc run`` and ``dondoc schedule`` on a country-sized registry.

    .venv/bin/python -m bench.scale                  # 63 provinces (11,403 agencies), SQLite
    .venv/bin/python -m bench.scale --provinces 5    # a quick look (905 agencies)
    .venv/bin/python -m bench.scale --postgres       # PostgreSQL (DONDOC_BENCH_POSTGRES_URL)

The tree: per province 1 provincial body, 20 departments, 10 districts of 15 communes each
(181 agencies), the departments, districts and communes in Plan 916's agency classes, so the
plan's class-led tasks are owed by every commune / district / department of the country. Plan
916 is active from 2025-01-01. A few hundred members are registered (focal points and leaders of
the first province's agencies, three coordinators).

Three processes: the bot (``python -m bot.cli run``), the Bot API stand-in (``python -m
sandbox.stub_botapi --control``) and this one, which sends the updates and reads the answers
through the stand-in's control endpoints (a reply's latency is read on the stand-in's clock,
from the update queued to the answer received). Figures, each against its goal:

- first load: launch on a database with no items until every item of the begun periods is stored
- replies during the first load: /tasks answered while the items load
- SIGTERM during the first load, and when idle: seconds until the process has exited
- first reply after a start on a loaded database
- idle tick: CPU the bot spends per dispatcher tick with nothing to do (ticks every second here)
- RSS: idle, and after 1k, 5k, 10k updates (/tasks from a registered focal point)
- ``dondoc schedule`` for a year (JSON, to a file): wall time and peak RSS
- ``dondoc --help``: wall time (median of 5)

To measure ``dondoc schedule`` alone, build the country once and keep it (the items are stored
in this process with the bot's own sync, no bot process)::

    .venv/bin/python -m bench.scale --only schedule --keep /tmp/dondoc-country   # builds, then times
    .venv/bin/python -m bench.scale --only schedule --keep /tmp/dondoc-country   # reuses, times
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from bench._common import PG_ADMIN, StubProcess, pg_available, scratch_database, stub_process
from domain.plan_parser import parse_plan
from models import agencies, changes, registry
from models.db import make_engine, session_scope, upgrade
from models.tables import Agency, AgencyClass, AgencyClassMember, Member

ROOT = Path(__file__).resolve().parents[1]
DEPARTMENTS, DISTRICTS, COMMUNES = 20, 10, 15
ACTIVE_FROM = date(2025, 1, 1)
ASKER = 900_001  # the registered focal point who sends /tasks
CLASSES = {"department": ("SO-BAN-NGANH", "CQHCNN"), "district": ("UBND-HUYEN", "CQHCNN"),
           "commune": ("UBND-XA", "CQHCNN")}


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _now() -> datetime:
    return datetime.now(UTC)


# --- the registry -------------------------------------------------------------------------

def build_tree(engine: Engine, provinces: int) -> dict[str, int]:
    """Bundled classes and agencies, Plan 916, the synthetic country tree and some members."""
    with session_scope(engine) as session:
        agencies.load_bundled_agencies(session)
        raw = agencies.bundled("plan916.txt")
        registry.import_plan(session, parse_plan(raw), raw=raw, source_name="plan916.txt",
                             active_from=ACTIVE_FROM)
        classes = {c.code: c.id for c in session.exec(select(AgencyClass))}
        next_id = int(session.exec(select(Agency.id).order_by(Agency.id.desc())).first() or 0) + 1  # type: ignore[union-attr]
    rows: list[dict[str, object]] = []
    members: list[dict[str, object]] = []
    levels: dict[int, str] = {}

    def add(level: str, name: str, parent: int | None) -> int:
        nonlocal next_id
        ident, next_id = next_id, next_id + 1
        rows.append({"id": ident, "name": name, "code": f"C{ident}", "level": level,
                     "parent_id": parent, "aliases": "", "active": True, "created_at": _now()})
        levels[ident] = level
        return ident

    first_province: list[int] = []
    for p in range(provinces):
        root = add("province", f"UBND tỉnh số {p + 1:02d}", None)
        mine = [root]
        mine += [add("department", f"Sở {d + 1:02d} tỉnh {p + 1:02d}", root) for d in range(DEPARTMENTS)]
        for h in range(DISTRICTS):
            district = add("district", f"UBND huyện {h + 1:02d} tỉnh {p + 1:02d}", root)
            mine.append(district)
            mine += [add("commune", f"UBND xã {x + 1:02d} huyện {h + 1:02d} tỉnh {p + 1:02d}",
                         district) for x in range(COMMUNES)]
        if p == 0:
            first_province = mine
    links = [{"class_id": classes[code], "agency_id": ident}
             for ident, level in levels.items() for code in CLASSES.get(level, ())]
    user = ASKER
    for agency_id in first_province:
        members.append({"telegram_user_id": user, "agency_id": agency_id, "role": "focal_point",
                        "full_name": f"Đầu mối {user}", "language": "vi", "active": True,
                        "created_at": _now()})
        user += 1
    for agency_id in first_province[:40]:
        members.append({"telegram_user_id": user, "agency_id": agency_id, "role": "leader",
                        "full_name": f"Lãnh đạo {user}", "language": "vi", "active": True,
                        "created_at": _now()})
        user += 1
    for _ in range(3):
        members.append({"telegram_user_id": user, "agency_id": None, "role": "coordinator",
                        "full_name": f"Điều phối {user}", "language": "vi", "active": True,
                        "created_at": _now()})
        user += 1
    with session_scope(engine) as session:
        for table, data in ((Agency, rows), (AgencyClassMember, links), (Member, members)):
            for start in range(0, len(data), 5000):
                session.execute(table.__table__.insert(), data[start:start + 5000])  # type: ignore[union-attr]
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    with Session(engine) as session:
        total = session.execute(text("SELECT count(*) FROM agency")).scalar_one()
    return {"agencies": int(total), "members": len(members)}


def item_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM item")).scalar_one())


# --- the bot process ----------------------------------------------------------------------

def _env(stub: StubProcess, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(DONDOC_BOT_TOKEN=stub.token, DONDOC_BOT_API_URL=stub.url, DONDOC_DATABASE_URL=url,
               DONDOC_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


@contextmanager
def bot_process(stub: StubProcess, url: str, workdir: Path,
                **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    log = open(workdir / "bot.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=_env(stub, url, **extra),
                            cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def stop(proc: subprocess.Popen[bytes], limit: float = 60) -> float:
    """SIGTERM; seconds until the process is gone (killed after ``limit``)."""
    start = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return time.perf_counter() - start


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found.get("VmRSS", 0.0), found.get("VmHWM", 0.0)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Stand:
    """The stand-in in its own process, driven through its control endpoints
    (sandbox/stub_botapi/control.py); every time it returns is the stand-in's clock."""

    def __init__(self, stub: StubProcess) -> None:
        self.root = stub.control_url

    def _call(self, name: str, body: dict[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = Request(f"{self.root}/{name}", data=data, headers={"Content-Type": "application/json"})
        try:
            with urlopen(request, timeout=timeout + 30) as response:
                found: dict[str, Any] = json.load(response)
                return found
        except HTTPError as error:
            if error.code == 504:
                raise TimeoutError(error.read().decode(errors="replace")) from None
            raise

    def now(self) -> float:
        return float(self._call("clock")["now"])

    def ask(self, timeout: float = 120) -> tuple[float, float]:
        """/tasks from the registered focal point: (when its answer arrived, seconds from the
        update queued to the answer)."""
        found = self._call("ask", {"user_id": ASKER, "text": "/tasks", "timeout": timeout}, timeout)
        return float(found["answered_at"]), float(found["seconds"])

    def ask_all(self, count: int, timeout: float = 300) -> None:
        """``count`` /tasks from the focal point at once; returns once each is answered."""
        self._call("ask_all", {"user_id": ASKER, "texts": ["/tasks"] * count, "timeout": timeout},
                   timeout)


def wait_until(check: Callable[[], bool], timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return False


class LoadWatch:
    """Polls the item count and the item sync's mark: 'loaded' once the mark is there (the
    sync writes it with its last chunk, once every item is stored)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.changed_at = time.perf_counter()
        self.done_at: float | None = None

    def poll(self) -> bool:
        with self.engine.connect() as conn:
            count = int(conn.execute(text("SELECT count(*) FROM item")).scalar_one())
            done = conn.execute(text("SELECT 1 FROM app_state WHERE key = :key"),
                                {"key": changes.ITEMS_SYNCED}).first() is not None
        now = time.perf_counter()
        if count != self.count:
            self.count, self.changed_at = count, now
        if done and self.done_at is None:
            self.done_at = now
        return done


# --- the figures --------------------------------------------------------------------------

Row = tuple[str, str, str, bool]


def row(name: str, value: float, unit: str, goal: float, *, above: bool = False) -> Row:
    ok = value >= goal if above else value <= goal
    return shown((name, f"{value:,.1f} {unit}", f"{'>=' if above else '<='} {goal:,g} {unit}", ok))


def shown(found: Row) -> Row:
    """Print a figure as soon as it is measured (a long run stopped early keeps what it had)."""
    name, value, goal, ok = found
    _out(f"    {name}: {value} (goal {goal}) {'ok' if ok else 'MISSED'}")
    return found


def help_time() -> float:
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot.cli", "--help"], check=True, capture_output=True,
                       cwd=ROOT)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def schedule_year(url: str, workdir: Path, first: date) -> tuple[float, float, int, float]:
    """Wall seconds, peak RSS (MB), output size (MB) and CPU seconds of a year's
    `dondoc schedule`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(DONDOC_DATABASE_URL=url, PYTHONPATH=str(ROOT))
    last = date(first.year + 1, first.month, first.day).toordinal() - 1
    out_path = workdir / "schedule.json"
    with open(out_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "schedule", "--from", first.isoformat(),
                                 "--to", date.fromordinal(last).isoformat(), "--format", "json"],
                                env=env, cwd=workdir, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"dondoc schedule failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    # The kernel's share (page cache for some 300 MB) varies tenfold on a shared machine.
    _out(f"    (CPU: {usage.ru_utime:.2f} s user + {usage.ru_stime:.2f} s system)")
    return (wall, usage.ru_maxrss / 1024, out_path.stat().st_size // (1024 * 1024),
            usage.ru_utime + usage.ru_stime)


def schedule_rows(url: str, workdir: Path, kind: str) -> list[Row]:
    wall, peak, size, cpu = schedule_year(url, workdir, date(2026, 1, 1))
    _out(f"[{kind}] schedule output: {size} MB")
    # On a shared machine the wall time is the CPU time stretched by the load.
    return [row("dondoc schedule, a year (JSON)", wall, "s", 2),
            row("dondoc schedule, a year: CPU time", cpu, "s", 2),
            row("dondoc schedule, peak RSS", peak, "MB", 200)]


def kept_country(kind: str, args: argparse.Namespace, keep: Path) -> str:
    """The database kept in ``keep`` (built and loaded the first time): for the schedule alone."""
    from bot.settings import load_settings, schedule_rules
    from scheduler.deadlines import sync_due

    keep.mkdir(parents=True, exist_ok=True)
    marker = keep / f"{kind}.url"
    if marker.exists():
        url = marker.read_text().strip()
        upgrade(url)  # a country kept under an older schema
        return url
    if kind == "sqlite":
        url = f"sqlite:///{keep / 'country.sqlite3'}"
    else:
        name = f"dondoc_bench_kept_{keep.name.replace('-', '_')}"
        server = make_url(PG_ADMIN).set(drivername="postgresql+psycopg")
        url = server.set(database=name).render_as_string(hide_password=False)
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    upgrade(url)
    engine = make_engine(url)
    shape = build_tree(engine, args.provinces)
    rules = schedule_rules(load_settings(database_url=url))
    start = time.process_time()
    result = sync_due(engine, rules.due, _now().astimezone(rules.tz).date())
    _out(f"[{kind}] kept in {keep}: {shape['agencies']:,} agencies, {result.added:,} items "
         f"({time.process_time() - start:.1f} s CPU in this process)")
    engine.dispose()
    marker.write_text(url)
    return url


def run_bench(kind: str, args: argparse.Namespace, workdir: Path) -> list[Row]:
    rows: list[Row] = []
    with scratch_database(kind, workdir) as url:
        upgrade(url)
        engine = make_engine(url)
        start = time.perf_counter()
        shape = build_tree(engine, args.provinces)
        _out(f"[{kind}] {shape['agencies']:,} agencies, {shape['members']} members, built in "
             f"{time.perf_counter() - start:.1f} s")
        with stub_process(workdir, "scale", control=True) as stub:
            rows += run_bot(stub, engine, url, workdir, args, kind)
            rows += schedule_rows(url, workdir, kind)
            rows += stop_during_load(stub, engine, url, workdir)
        engine.dispose()
    return rows


def run_bot(stub: StubProcess, engine: Engine, url: str, workdir: Path, args: argparse.Namespace,
            kind: str) -> list[Row]:
    rows: list[Row] = []
    stand = Stand(stub)
    # A tick every second; one person sends all the updates here, so the flood limit is lifted.
    fast = {"DONDOC_DISPATCH_INTERVAL": "1", "DONDOC_FLOOD_PER_MINUTE": "10000"}
    # 1. First load, with /tasks asked every second meanwhile.
    launched_at = stand.now()  # the stand-in's clock
    with bot_process(stub, url, workdir, **fast) as proc:
        launched = time.perf_counter()
        watch = LoadWatch(engine)
        latencies: list[float] = []
        first_reply: float | None = None
        while not watch.poll():
            if proc.poll() is not None:
                raise RuntimeError(f"the bot exited ({proc.returncode}); see {workdir / 'bot.log'}")
            answered_at, seconds = stand.ask(timeout=600)
            latencies.append(seconds)
            if first_reply is None:
                first_reply = answered_at - launched_at
            time.sleep(0.5)
            if time.perf_counter() - launched > args.load_limit:
                break
        load = (watch.done_at if watch.done_at is not None else watch.changed_at) - launched
        _out(f"[{kind}] {watch.count:,} items stored (the bot's CPU so far: {cpu_seconds(proc.pid):.1f} s)")
        rows.append(row("first load (launch to all items)", load, "s", 60))
        during = latencies[1:]  # the first one waited for the start itself (its own figure below)
        if during:
            rows.append(row("/tasks during the first load, p50", statistics.median(during) * 1000,
                            "ms", 500))
            rows.append(row("/tasks during the first load, max", max(during) * 1000, "ms", 2000))
        if first_reply is not None:
            rows.append(row("first reply after launch (first load running)", first_reply, "s", 10))
        # 2. Idle ticks (one a second): CPU per tick.
        time.sleep(3)
        cpu0, t0 = cpu_seconds(proc.pid), time.perf_counter()
        time.sleep(args.idle_seconds)
        cpu1, t1 = cpu_seconds(proc.pid), time.perf_counter()
        ticks = (t1 - t0) / float(fast["DONDOC_DISPATCH_INTERVAL"])
        rows.append(row("idle tick, CPU per tick", (cpu1 - cpu0) / ticks * 1000, "ms", 50))
        rss, _ = rss_mb(proc.pid)
        rows.append(row("idle RSS", rss, "MB", 150))
        # 3. RSS across updates.
        marks = [m for m in (1000, 5000, 10000) if m <= args.updates]
        sent = 0
        figures = [f"0: {rss:.0f}"]
        for mark in marks:
            while sent < mark:
                batch = min(50, mark - sent)
                stand.ask_all(batch, timeout=300)
                sent += batch
            now_rss, _ = rss_mb(proc.pid)
            figures.append(f"{mark // 1000}k: {now_rss:.0f}")
        if marks:
            last_rss, _ = rss_mb(proc.pid)
            rows.append(shown((f"RSS by updates (MB) {', '.join(figures)}", f"{last_rss - rss:+.0f} MB",
                               "flat (<= +20 MB)", last_rss - rss <= 20)))
        rows.append(row("SIGTERM when idle", stop(proc), "s", 5))
    # 4. A start on the loaded database: the first reply.
    launched_at = stand.now()
    with bot_process(stub, url, workdir, **fast) as proc:
        answered_at, _ = stand.ask(timeout=300)
        first = answered_at - launched_at
        rows.append(row("first reply after a start (loaded)", first, "s", 10))
        rows.append(row("SIGTERM right after the start", stop(proc), "s", 5))
    return rows


def stop_during_load(stub: StubProcess, engine: Engine, url: str, workdir: Path) -> list[Row]:
    """SIGTERM in the middle of a first load (the items are deleted first)."""
    rows: list[Row] = []
    fast = {"DONDOC_DISPATCH_INTERVAL": "1", "DONDOC_FLOOD_PER_MINUTE": "10000"}
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # DELETE checks ten referencing tables a row
            conn.execute(text("TRUNCATE item CASCADE"))
        else:
            conn.execute(text("DELETE FROM delivery"))
            conn.execute(text("DELETE FROM report"))
            conn.execute(text("DELETE FROM item"))
        # Without its mark the item sync loads everything again (a first load).
        conn.execute(text("DELETE FROM app_state WHERE key IN (:synced, :planned)"),
                     {"synced": changes.ITEMS_SYNCED, "planned": changes.REMINDERS_PLANNED})
    with bot_process(stub, url, workdir, **fast) as proc:
        wait_until(lambda: item_count(engine) > 0 or proc.poll() is not None, timeout=20, step=0.05)
        time.sleep(1)
        stored = item_count(engine)
        rows.append(row("SIGTERM during the first load", stop(proc), "s", 5))
        _out(f"    (sent with {stored:,} items stored; {item_count(engine):,} once stopped)")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provinces", type=int, default=63)
    parser.add_argument("--postgres", action="store_true",
                        help=f"PostgreSQL too (DONDOC_BENCH_POSTGRES_URL, default {PG_ADMIN})")
    parser.add_argument("--only-postgres", action="store_true")
    parser.add_argument("--updates", type=int, default=10_000, help="updates for the RSS figures")
    parser.add_argument("--idle-seconds", type=float, default=15)
    parser.add_argument("--load-limit", type=float, default=600, help="give up on the first load after")
    parser.add_argument("--only", choices=("schedule",),
                        help="only this figure (with --keep: on a country built once)")
    parser.add_argument("--keep", type=Path, help="keep the country here and reuse it (--only schedule)")
    args = parser.parse_args(argv)
    kinds = [] if args.only_postgres else ["sqlite"]
    if args.postgres or args.only_postgres:
        if pg_available():
            kinds.append("postgres")
        else:
            _out(f"PostgreSQL at {PG_ADMIN} is unreachable: left out")
    failed = False
    help_s = 0.0 if args.only else help_time()
    for kind in kinds:
        workdir = Path(tempfile.mkdtemp(prefix="dondoc-scale-"))
        try:
            if args.only:
                url = kept_country(kind, args, args.keep or workdir)
                rows = schedule_rows(url, workdir, kind)
            else:
                rows = run_bench(kind, args, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        if not args.only:
            rows.append(row("dondoc --help", help_s * 1000, "ms", 300))
        _out(f"\n{kind}, {args.provinces} provinces:")
        width = max(len(r[0]) for r in rows)
        for name, value, goal, ok in rows:
            _out(f"  {name:<{width}}  {value:>12}  goal {goal:<18} {'ok' if ok else 'MISSED'}")
            failed |= not ok
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
