"""The attacks of issue 11, run against the real `dondoc` process and command line; prints counts.

    python bench/adversary.py            # everything, SQLite (+ PostgreSQL exports when reachable)
    python bench/adversary.py --quick    # fewer import variants and latency rounds

1. Damaged plan documents (the generated variants of tests/test_plan_damage.py): how many the
   parser refuses out of those that are damaged, and a sample through `dondoc import-plan
   --apply --retire` with the whole database dumped before and after (goal: all refused, the
   registry unchanged); a 65 MB file (goal: refused in seconds).
2. Exports of rows holding every C0 and C1 control character (as older versions stored them),
   through `dondoc export` as XLSX and CSV and through /export in chat (goal: every one written
   and readable again).
3. Hostile data on every screen: 5,000-character notes full of `&`, `<`, emoji, RTL and
   zero-width marks, markup in names and group titles, broadcasts with crafted entities; every
   button of every answer pressed (two levels deep). Goal: 0 messages the Bot API refuses.
4. One stranger sends 600 messages in about a second while 5 registered users send /help:
   their p95 reply latency against the same without the flood (goal ≤ 1.5x).
5. 20 presses of a forged button carrying 2^63: error alerts to admins (goal ≤ 1).

The bot runs in its own process (`python -m sandbox.run_at … run`); this process plays Telegram
(the Bot API stand-in of sandbox/stub_botapi) and the users.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import ROOT, pg_available, scratch_database
from sqlalchemy import text

from domain.plan_parser import PlanFormatError, parse_plan
from models.db import make_engine, upgrade
from sandbox import status_data as data
from sandbox.db_dump import dump
from sandbox.plan_damage import SEED, VARIANTS
from sandbox.stub_botapi import SentMessage, StubBotApi

AT = "2026-11-16T14:00:00+07:00"  # a Monday afternoon: no reminder slot falls due meanwhile
STRANGER = 999_999
HOSTILE = ("&amp <b>đậm</b> <i>nghiêng & \u202eđảo\u202c \u200b🎉 &lt; a<b & \"q\" 'x' ") * 90
CONTROLS = [chr(c) for c in range(0x20) if c not in (0x09, 0x0A)] + ["\x7f"] + \
    [chr(c) for c in range(0x80, 0xA0)]
BIG = str(2**63)


@dataclass
class Figures:
    lines: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def add(self, name: str, value: str, ok: bool) -> None:
        self.lines.append(f"{name:<58} {value:<34} {'ok' if ok else 'MISSED'}")
        print(self.lines[-1], flush=True)
        if not ok:
            self.missed.append(name)


# --------------------------------------------------------------------------- 1. damaged imports


def imports(figures: Figures, workdir: Path, per_kind: int) -> None:
    damaged = [v for v in VARIANTS if v.expect == "refused"]
    refused = 0
    for variant in damaged:
        try:
            parse_plan(variant.data, source="copy.txt")
        except PlanFormatError:
            refused += 1
    figures.add("damaged plan copies refused by the parser", f"{refused} / {len(damaged)}",
                refused == len(damaged))

    url = f"sqlite:///{workdir / 'import.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    data.load_plan916(engine)
    before = dump(engine)
    sample = []
    for kind in dict.fromkeys(v.kind for v in damaged):
        of_kind = [v for v in damaged if v.kind == kind]
        sample += of_kind[:: max(len(of_kind) // per_kind, 1)][:per_kind]
    path = workdir / "copy.txt"
    refused_cli = unchanged = 0
    for variant in sample:
        path.write_bytes(variant.data)
        done = _dondoc(url, workdir, "import-plan", str(path), "--apply", "--retire")
        refused_cli += done.returncode == 1 and done.stdout == "" and done.stderr.count("\n") == 1
        unchanged += dump(engine) == before
    figures.add("  through `dondoc import-plan --apply --retire`", f"{refused_cli} / {len(sample)} refused",
                refused_cli == len(sample))
    figures.add("  registry byte-for-byte unchanged after each", f"{unchanged} / {len(sample)}",
                unchanged == len(sample))
    path.write_bytes(SEED * 4200)
    t0 = time.monotonic()
    done = _dondoc(url, workdir, "import-plan", str(path), "--apply")
    seconds = time.monotonic() - t0
    figures.add("  65 MB document refused", f"exit {done.returncode} in {seconds:.1f} s",
                done.returncode == 1 and seconds < 10 and dump(engine) == before)
    engine.dispose()


def _dondoc(url: str, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(DONDOC_DATABASE_URL=url, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=workdir, env=env,
                          capture_output=True, text=True, check=False, timeout=120)


# --------------------------------------------------------------------------- the hostile registry


def seed_hostile(url: str, *, nul: bool) -> int:
    """The roll-up fixture's registry, then texts as older versions or a hostile user left them:
    every control character in report notes, markup and long strings in names and notes.
    Returns how many report notes hold a control character."""
    upgrade(url)
    engine = make_engine(url)
    data.seed_status(engine)
    controls = [c for c in CONTROLS if nul or c != "\x00"]
    with engine.begin() as conn:
        ids = [row[0] for row in conn.execute(text("SELECT id FROM report ORDER BY id"))]
        for n, report_id in enumerate(ids):
            note = (f"ghi{controls[n % len(controls)]}chú {HOSTILE[: 40 + n % 200]}" if n % 3 else
                    HOSTILE[:5000])
            conn.execute(text("UPDATE report SET note = :note, document_number = :number WHERE id = :id"),
                         {"note": note, "number": f"1{controls[n % len(controls)]}2/BC-<b>&",
                          "id": report_id})
        conn.execute(text("UPDATE agency SET name = :name WHERE code = 'XA-HONG-GAI'"),
                     {"name": ("UBND phường <Hồng> & Gai \u202e" + HOSTILE)[:250]})
        conn.execute(text("UPDATE member SET full_name = :name WHERE telegram_user_id = :uid"),
                     {"name": ("<script>Đầu mối</script> & \u200b" + HOSTILE)[:250], "uid": data.FOCAL_POINT})
    engine.dispose()
    return min(len(ids) * 2 // 3, len(ids))


# --------------------------------------------------------------------------- 2. exports


def exports(figures: Figures, workdir: Path, backends: list[str]) -> None:
    for backend in backends:
        with scratch_database(backend, workdir) as url:
            seed_hostile(url, nul=backend == "sqlite")
            ok = tried = 0
            for fmt in ("xlsx", "csv"):
                for language in ("vi", "en"):
                    out = workdir / f"export-{backend}-{language}.{fmt}"
                    tried += 1
                    done = _dondoc(url, workdir, "export", "--period", "2026-Q3", "--format", fmt,
                                   "--output", str(out), "--language", language)
                    ok += done.returncode == 0 and _readable(out, fmt)
            figures.add(f"exports of stored control characters ({backend})", f"{ok} / {tried} written",
                        ok == tried)


def _readable(path: Path, fmt: str) -> bool:
    if not path.exists():
        return False
    if fmt == "csv":
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
        return len(rows) > 1
    import openpyxl  # only here: the XLSX reader

    return openpyxl.load_workbook(path, read_only=True).active is not None


# --------------------------------------------------------------------------- the real process


class Bot:
    """`dondoc run` in its own process against the stand-in, on a hostile registry."""

    def __init__(self, stub: StubBotApi, url: str, workdir: Path, **settings: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
        env.update(DONDOC_BOT_TOKEN=stub.token, DONDOC_BOT_API_URL=stub.url, DONDOC_DATABASE_URL=url,
                   DONDOC_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT), **settings)
        self.stub = stub
        self.log = open(workdir / "bot.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "sandbox.run_at", AT, "run"], env=env,
                                     cwd=workdir, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, user: int) -> None:
        sent = time.monotonic()
        self.stub.send_text(user, "/help")
        if reply_after(self.stub, user, sent, timeout=90) is None:
            self.log.flush()
            tail = Path(self.log.name).read_text(encoding="utf-8", errors="replace")[-3000:]
            raise SystemExit(f"the bot did not answer /help within 90 s; its log ends:\n{tail}")

    def stop(self) -> float:
        """SIGTERM, and the seconds until the process is gone (killed after 30)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        return time.monotonic() - t0


def wait_for(predicate: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := predicate()):
            return value
        time.sleep(0.01)
    return None


def reply_after(stub: StubBotApi, chat: int, after: float, timeout: float = 30) -> float | None:
    """Arrival time of the first message the bot sent to ``chat`` after ``after``."""
    def first() -> float | None:
        times = [c.time for c in stub.calls() if c.method in ("sendMessage", "sendDocument", "sendPhoto")
                 and c.chat_id == chat and c.time > after]
        return min(times) if times else None
    return wait_for(first, timeout)


def messages_to(stub: StubBotApi, chat: int, after: int = 0) -> list[SentMessage]:
    return [m for m in stub.sent_messages() if m.chat_id == chat and m.message_id > after]


def press(stub: StubBotApi, user: int, message: SentMessage, datas: str, forged: bool = False) -> None:
    update = stub.press_button(user, message, datas, forged=forged)
    query_id = update["callback_query"]["id"]
    wait_for(lambda: stub.callback_answer(query_id), timeout=30)


def crawl(stub: StubBotApi, user: int, command: str, budget: int = 30) -> int:
    """Send ``command``, then keep pressing buttons not pressed yet on the answers (and on the
    messages those presses send or edit) until none is left or ``budget`` is spent."""
    last = max((m.message_id for m in messages_to(stub, user)), default=0)
    sent = time.monotonic()
    stub.send_text(user, command)
    reply_after(stub, user, sent)
    time.sleep(0.3)
    pressed: set[str] = set()
    while len(pressed) < budget:
        todo = [(m, d) for m in messages_to(stub, user, last) for d in m.button_datas() if d not in pressed]
        if not todo:
            break
        message, datas = todo[0]
        pressed.add(datas)
        press(stub, user, message, datas)
        time.sleep(0.05)  # an edit or a new message follows the answer
    return len(pressed)


# --------------------------------------------------------------------------- 3. hostile screens


def screens(figures: Figures, stub: StubBotApi) -> None:
    presses = 0
    for user, commands in (
            (data.PROVINCE_LEADER, ["/status", "/status 2026-Q3", "/export 2026-Q3", "/chart"]),
            (data.DISTRICT_LEADER, ["/status 2026-Q3"]),
            (data.COORDINATOR, ["/review", "/status 2026-Q3"]),
            (data.ADMIN, ["/members", "/review"]),
            (data.FOCAL_POINT, ["/tasks", "/start", "/help"]),
            (data.COMMUNE_FOCAL, ["/tasks"])):
        for command in commands:
            presses += crawl(stub, user, command)
    # A report typed by the focal point: a hostile note, then a hostile document number.
    presses += crawl(stub, data.FOCAL_POINT, "/tasks", budget=6)
    for typed in (HOSTILE[:5000], "<b>12/BC-UBND</b> & " + HOSTILE[:300]):
        sent = time.monotonic()
        stub.send_text(data.FOCAL_POINT, typed)
        reply_after(stub, data.FOCAL_POINT, sent, timeout=10)
    # A broadcast with the entities a client may send: a pre language and a link holding quotes.
    crafted = 'Thông báo <họp> & "khẩn" ' + HOSTILE[:400]
    entities = [{"type": "pre", "offset": 0, "length": 9, "language": 'py" onclick="x'},
                {"type": "text_link", "offset": 10, "length": 6, "url": 'https://x.vn/?a="b"&c=<d>'}]
    sent = time.monotonic()
    stub.send_text(data.ADMIN, "/broadcast")
    reply_after(stub, data.ADMIN, sent)
    presses += crawl(stub, data.ADMIN, "/broadcast", budget=3)
    sent = time.monotonic()
    stub.send_text(data.ADMIN, crafted, entities=entities)
    reply_after(stub, data.ADMIN, sent)
    # Groups with markup in their titles.
    group = stub.group(-100_777, "Nhóm <b>điều hành</b> & \u202e" + HOSTILE[:100], type="supergroup")
    stub.add_bot_to_group(data.ADMIN, group)
    time.sleep(1.0)
    exported = sum(1 for m in messages_to(stub, data.PROVINCE_LEADER) if m.document)
    figures.add("/export in chat of stored control characters", f"{exported} workbook(s) sent",
                exported >= 1)
    time.sleep(1.0)
    refused = [c for c in stub.calls() if c.response_status == 400
               and "message is not modified" not in (c.description or "")]
    kinds = Counter((c.description or "")[:60] for c in refused)
    for call in refused[:5]:
        shown = str(call.params.get("text") or call.params.get("caption") or "")
        print(f"  refused: {call.method} to {call.chat_id}: {call.description} "
              f"({len(shown)} chars) {shown[:100]!r}", flush=True)
    figures.add(f"messages the Bot API refused ({presses} buttons pressed, "
                f"{len(stub.sent_messages())} sent)",
                f"{len(refused)}" + (f" {dict(kinds)}" if kinds else ""), not refused)


# --------------------------------------------------------------------------- 4. flood


USERS = (data.FOCAL_POINT, data.COMMUNE_FOCAL, data.COORDINATOR, data.DISTRICT_LEADER, data.PROVINCE_LEADER)


def help_latencies(stub: StubBotApi, rounds: int, during: Callable[[], None] | None = None) -> list[float]:
    """Each of the five users sends /help ``rounds`` times (one every 0.2 s, round robin); the
    seconds until the bot's answer arrives. ``during`` runs once, right after the first round."""
    latencies = []
    for n in range(rounds):
        for user in USERS:
            sent = time.monotonic()
            stub.send_text(user, "/help")
            answered = reply_after(stub, user, sent, timeout=120)
            latencies.append((answered or time.monotonic()) - sent)
            time.sleep(0.04)
        if n == 0 and during is not None:
            during()
    return latencies


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def flood(figures: Figures, stub: StubBotApi, rounds: int) -> None:
    calm = help_latencies(stub, rounds)

    def stranger() -> None:
        for n in range(600):
            stub.send_text(STRANGER, f"xin chào {n}")
            if n % 100 == 99:
                time.sleep(0.15)

    stormy = help_latencies(stub, rounds, during=stranger)
    ratio = p95(stormy) / p95(calm)
    figures.add("p95 /help of 5 users, no flood", f"{p95(calm) * 1000:.0f} ms", True)
    figures.add("p95 /help of 5 users, a stranger sends 600", f"{p95(stormy) * 1000:.0f} ms ({ratio:.2f}x)",
                ratio <= 1.5)
    answers = len(messages_to(stub, STRANGER))
    figures.add("  answers the stranger got for 600 messages", f"{answers}", answers <= 35)


# --------------------------------------------------------------------------- 5. forged buttons


def forged(figures: Figures, stub: StubBotApi) -> None:
    before = len(messages_to(stub, data.ADMIN))
    sent = time.monotonic()
    stub.send_text(data.PROVINCE_LEADER, "/status 2026-Q3")
    reply_after(stub, data.PROVINCE_LEADER, sent)
    time.sleep(0.3)
    message = next(m for m in reversed(messages_to(stub, data.PROVINCE_LEADER)) if m.button_datas())
    template = message.button_datas()[0]
    datas = ":".join(BIG if part.isdigit() else part for part in template.split(":"))
    if datas == template:
        datas = f"{template}:{BIG}"
    for _ in range(20):
        press(stub, data.PROVINCE_LEADER, message, datas, forged=True)
    time.sleep(2.0)
    alerts = len(messages_to(stub, data.ADMIN)) - before
    figures.add(f"admin alerts after 20 presses of {datas[:24]!r}", f"{alerts}", alerts <= 1)


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer import variants and latency rounds")
    parser.add_argument("--only", choices=("imports", "exports", "bot"))
    args = parser.parse_args()
    figures = Figures()
    backends = ["sqlite", "postgres"] if pg_available() else ["sqlite"]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.only in (None, "imports"):
            imports(figures, workdir, per_kind=2 if args.quick else 6)
        if args.only in (None, "exports"):
            exports(figures, workdir, backends)
        if args.only in (None, "bot"):
            with StubBotApi() as stub, scratch_database("sqlite", workdir) as url:
                seed_hostile(url, nul=True)
                bot = Bot(stub, url, workdir)  # the default settings, flood limit included
                try:
                    bot.wait_ready(data.ADMIN)
                    flood(figures, stub, rounds=6 if args.quick else 12)
                    forged(figures, stub)
                finally:
                    bot.stop()
                # The crawl presses buttons faster than a person: a bot without the per-user
                # limit, so that every screen is rendered rather than "slow down".
                bot = Bot(stub, url, workdir, DONDOC_FLOOD_PER_MINUTE="10000")
                try:
                    bot.wait_ready(data.ADMIN)
                    screens(figures, stub)
                finally:
                    bot.stop()
    print("targets met" if not figures.missed else f"targets missed: {figures.missed}")
    return 1 if figures.missed else 0


if __name__ == "__main__":
    sys.exit(main())
