"""The scheduling commands as an operator uses them: schedule preview, calendar, events, milestones."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from sqlmodel import select

from bot.cli import main
from bot.settings import load_settings, schedule_rules
from models.agencies import find_agency
from models.calendar_days import working_calendar
from models.db import existing_session
from models.registry import require_plan
from models.tables import Item, ItemState, Task
from scheduler.deadlines import sync_items
from scheduler.preview import PreviewEntry, preview

DISTRICTS = str(Path(__file__).parents[1] / "models" / "data" / "quang_ninh_districts_2016.csv")


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DONDOC_DATABASE_URL", db_url)
    for argv in (["init", "--start", "2026-10-01"], ["agencies", "import", DISTRICTS]):
        assert main(argv) == 0
    capsys.readouterr()
    return db_url


def _today() -> str:
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def schedule(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, object]]:
    code, out, err = run(capsys, "schedule", "--from", "2026-12-01", "--to", "2027-01-31", "--format",
                         "json", *extra)
    assert code == 0, err
    return json.loads(out)


def _tasks(entry: dict[str, object]) -> list[str]:
    """The task codes of an entry: its items come as sets sharing a period and a due day."""
    return [t for s in entry["items"] for t in s["tasks"]]  # type: ignore[attr-defined]


def test_schedule_is_only_on_working_days_at_civil_hours(cli: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    entries = schedule(capsys)
    vn = holidays.country_holidays("VN", years=[2026, 2027])
    assert len(entries) > 100
    for entry in entries:
        at = datetime.fromisoformat(str(entry["at"]))
        assert str(entry["at"]).endswith("+07:00")
        assert at.weekday() < 5 and at.date() not in vn, entry["at"]
        assert time(7) <= at.time() < time(21), entry["at"]
        assert date(2026, 12, 1) <= at.date() <= date(2027, 1, 31)
        assert _tasks(entry) and entry["agency"] and entry["agency_code"]
        sets = [(s["due_on"], s["period"]) for s in entry["items"]]  # type: ignore[attr-defined]
        assert sets == sorted(set(sets))  # each period and due day once, in order
        assert entry["kind"] in ("before", "due", "overdue") and isinstance(entry["offset_days"], int)
    kinds = {(e["kind"], e["offset_days"]) for e in entries}
    assert {("before", 14), ("before", 7), ("before", 3), ("before", 1), ("due", 0), ("overdue", 1),
            ("overdue", 3), ("overdue", 7)} <= kinds
    # 31 Dec 2026 is a Thursday; 1 Jan 2027 (New Year) is closed, so "1 working day overdue" is 4 Jan
    syt = [e for e in entries if e["agency_code"] == "SYT"]
    assert [(e["at"][:16], e["kind"], e["offset_days"]) for e in syt] == [  # type: ignore[index]
        ("2026-12-17T08:30", "before", 14), ("2026-12-24T08:30", "before", 7),
        ("2026-12-28T08:30", "before", 3), ("2026-12-30T08:30", "before", 1),
        ("2026-12-31T08:30", "due", 0), ("2027-01-04T08:30", "overdue", 1),
        ("2027-01-06T08:30", "overdue", 3), ("2027-01-12T08:30", "overdue", 7)]
    assert "6.1b" in _tasks(syt[0]) and "4.2a" in _tasks(syt[0])
    assert [(s["due_on"], s["period"]) for s in syt[0]["items"]] == [  # type: ignore[attr-defined]
        ("2026-12-31", "2026"), ("2026-12-31", "2026-H2"), ("2026-12-31", "2026-Q4")]
    assert syt[0]["items"][2] == {"due_on": "2026-12-31", "period": "2026-Q4", "tasks": ["6.1b"]}  # type: ignore[index]
    assert syt[-1]["audience"] == ["focal_point", "leader", "coordinator"]
    assert syt[0]["focal_points"] == 0  # nobody registered yet: the preview still shows the plan


def test_schedule_with_late_send_time_is_refused(cli: str, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A send time inside quiet hours would move every reminder to the next morning (a due-day
    reminder after its deadline): refused in one line naming both settings."""
    monkeypatch.setenv("DONDOC_REMIND_AT", "22:30")
    code, out, err = run(capsys, "schedule", "--from", "2026-12-01", "--to", "2027-01-31")
    assert code == 1 and not out and err.count("\n") == 1
    assert "DONDOC_REMIND_AT=22:30 is inside the quiet hours" in err and "DONDOC_QUIET_START=21:00" in err
    monkeypatch.setenv("DONDOC_QUIET_START", "23:00")  # move the quiet hours instead: accepted
    entries = schedule(capsys)
    assert entries and {e["at"][11:16] for e in entries} == {"22:30"}  # type: ignore[index]
    vn = holidays.country_holidays("VN", years=[2026, 2027])
    assert all(datetime.fromisoformat(str(e["at"])).date() not in vn for e in entries)


def test_schedule_for_one_agency_and_as_text(cli: str, capsys: pytest.CaptureFixture[str]) -> None:
    entries = schedule(capsys, "--agency", "Sở Y tế")
    assert {e["agency_code"] for e in entries} == {"SYT"}
    code, out, _ = run(capsys, "schedule", "--from", "2026-12-17", "--to", "2026-12-17", "--agency", "SYT")
    assert code == 0 and "2026-12-17 Thu 08:30  before   -14d  SYT" in out and "1 reminders." in out
    code, _, err = run(capsys, "schedule", "--from", "2026-12-17", "--to", "2026-12-17", "--agency", "XYZ")
    assert code == 1 and "no such agency" in err
    code, _, err = run(capsys, "schedule", "--from", "2027-01-31", "--to", "2026-12-01")
    assert code == 1 and "before --from" in err


def test_calendar_days_move_reminders(cli: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "calendar", "off", "2026-12-17", "--note", "provincial holiday")
    assert code == 0 and "2026-12-17 (Thursday) is now a day off" in out
    assert run(capsys, "calendar", "work", "2027-01-02")[0] == 0  # a make-up Saturday
    code, out, _ = run(capsys, "calendar", "list", "--format", "json")
    assert json.loads(out) == [
        {"date": "2026-12-17", "kind": "day_off", "note": "provincial holiday"},
        {"date": "2027-01-02", "kind": "working_day", "note": ""}]
    syt = [e["at"][:10] for e in schedule(capsys, "--agency", "SYT")]  # type: ignore[index]
    assert "2026-12-17" not in syt and syt[0] == "2026-12-16"
    assert "2027-01-02" in syt  # 1 working day overdue is now the make-up Saturday
    code, out, _ = run(capsys, "calendar", "remove", "2026-12-17")
    assert code == 0 and "removed" in out
    code, _, err = run(capsys, "calendar", "remove", "2026-12-17")
    assert code == 1 and "no day off or working day was added" in err
    with pytest.raises(SystemExit):
        run(capsys, "calendar", "off", "2026-02-30")
    assert "is not a date" in capsys.readouterr().err


def test_events_and_milestones_on_the_command_line(cli: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "event", "2.3c", "--date", _today(), "--days", "30", "--note", "QĐ 5")
    assert code == 0, err
    assert "16 agencies owe it" in out
    code, out, _ = run(capsys, "events", "--format", "json")
    assert [(e["task"], e["days"], e["note"]) for e in json.loads(out)] == [("2.3c", 30, "QĐ 5")]
    code, out, _ = run(capsys, "milestone", "add", "5.2d", "--date", "2027-06-15", "--target", "over 90%")
    assert code == 0 and "2027-06-15" in out
    code, out, _ = run(capsys, "milestone", "list")
    assert "5.2d" in out and "over 90%" in out and "1 milestones." in out


@pytest.mark.parametrize(("argv", "message"), [
    (["event", "9.9", "--date", "{today}", "--days", "10"], "no such task"),
    (["event", "1.1", "--date", "{today}", "--days", "10"], "not event-driven"),
    (["event", "2.3a", "--date", "2020-01-01", "--days", "10"], "too far in the past"),
    (["event", "2.3a", "--date", "2099-01-01", "--days", "10"], "too far in the future"),
    (["event", "2.3a", "--date", "{today}", "--days", "0"], "days allowed"),
    (["event", "2.3a", "--date", "{today}", "--days", "400"], "days allowed"),
    (["milestone", "add", "1.1", "--date", "2027-06-15"], "has no milestones"),
])
def test_bad_input_is_refused_and_changes_nothing(cli: str, capsys: pytest.CaptureFixture[str],
                                                  argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *[a.format(today=_today()) for a in argv])
    assert code == 1 and message in err and err.startswith("dondoc: error:") and out == ""
    assert "0 events." in run(capsys, "events")[1]
    assert "0 milestones." in run(capsys, "milestone", "list")[1]


def test_a_due_day_that_does_not_exist_stops_the_command(cli: str, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DONDOC_DUE_SEMIANNUAL", "31-06,31-12")
    code, _, err = run(capsys, "schedule", "--from", "2026-12-01", "--to", "2026-12-31")
    assert code == 1 and "DONDOC_DUE_SEMIANNUAL" in err and "June has only 30 days" in err


def _reference(entries: list[PreviewEntry], fmt: str) -> str:
    """The plain rendering the streamed writer must match byte for byte: one compact
    json.dumps of each entry's dict."""
    lines = [json.dumps(e.to_json(), ensure_ascii=False, separators=(",", ":")) for e in entries]
    if fmt == "jsonl":
        return "".join(f"{line}\n" for line in lines)
    return "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"


def test_schedule_output_is_the_plain_rendering_of_every_entry(cli: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The streamed JSON (shared groups rendered once, bytes joined per send time) is exactly
    what json.dumps of each entry would print, in time order, agency code then kind and offset
    within a send time; a finished item leaves its agency's reminders, and only its."""
    settings = load_settings(database_url=cli)
    rules = schedule_rules(settings)
    with existing_session(cli) as session:
        plan = require_plan(session)
        sync_items(session, plan, date(2026, 12, 2), rules.due)
        syt = find_agency(session, "SYT")
        assert syt is not None
        done = session.exec(select(Item).where(Item.agency_id == syt.id,
                                               Item.due_on == date(2026, 12, 31))).first()
        assert done is not None
        done.state = ItemState.REPORTED.value
        session.add(done)
    first, last = date(2026, 12, 1), date(2027, 1, 31)
    with existing_session(cli) as session:
        plan = require_plan(session)
        entries = preview(session, plan, first, last, rules=rules, calendar=working_calendar(session))
        done_task = session.get(Task, done.task_id)
        assert done_task is not None
    assert len(entries) > 100
    order = [(e.group.at, e.agency.code, e.group.kind, e.group.offset_days) for e in entries]
    assert order == sorted(order)
    finished = (done_task.code, done.period_key)
    mine = [(i.task, i.period) for e in entries if e.agency.code == "SYT" for i in e.group.items]
    others = [(i.task, i.period) for e in entries if e.agency.code != "SYT" for i in e.group.items]
    assert mine and finished not in mine and finished in others
    for fmt in ("json", "jsonl"):
        code, out, err = run(capsys, "schedule", "--from", first.isoformat(), "--to", last.isoformat(),
                             "--format", fmt)
        assert code == 0, err
        assert out == _reference(entries, fmt)
    # The compact items hold every item of the message, each once.
    read = [json.loads(line) for line in out.splitlines()]
    assert len(read) == len(entries)
    for entry, e in zip(read, entries, strict=True):
        assert sorted((t, s["period"], s["due_on"]) for s in entry["items"] for t in s["tasks"]) == \
            sorted((i.task, i.period, i.due_on.isoformat()) for i in e.group.items)
        assert (entry["agency_code"], entry["at"], entry["focal_points"]) == \
            (e.agency.code, e.group.at.isoformat(), e.agency.focal_points)
    code, out, _ = run(capsys, "schedule", "--from", "2026-12-05", "--to", "2026-12-06", "--format", "json")
    assert code == 0 and out == "[]\n"  # a weekend: nothing is sent
    code, out, _ = run(capsys, "schedule", "--from", "2026-12-05", "--to", "2026-12-06", "--format", "jsonl")
    assert code == 0 and out == ""
