"""Members: listing and the admin changes (model level, every backend), and the onboarding
commands of the command line (invite, invitations, members)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.cli import main
from models import app_state, members
from models.agencies import find_agency
from models.db import session_scope
from models.members import MemberChangeError
from models.tables import AuditLog, Member


def add_member(engine: Engine, user_id: int, *, agency: str = "SNV", role: str = "focal_point",
               username: str | None = None, name: str = "Nguyễn Văn A") -> int:
    with session_scope(engine) as s:
        found = find_agency(s, agency)
        assert found is not None
        member = Member(telegram_user_id=user_id, agency_id=found.id, role=role, full_name=name,
                        username=username)
        s.add(member)
        s.flush()
        assert member.id is not None
        return member.id


def agency_id(engine: Engine, code: str) -> int:
    with Session(engine) as s:
        found = find_agency(s, code)
        assert found is not None and found.id is not None
        return found.id


def audit_actions(engine: Engine) -> list[str]:
    with Session(engine) as s:
        return list(s.exec(select(AuditLog.action).order_by(AuditLog.id)))  # type: ignore[arg-type]


# --- model --------------------------------------------------------------------------------

def test_list_members_filters(plan_engine: Engine) -> None:
    a = add_member(plan_engine, 1, role="coordinator", name="Bình")
    add_member(plan_engine, 2, agency="STTTT", name="An")
    c = add_member(plan_engine, 3, role="admin", name="Cường")
    with session_scope(plan_engine) as s:
        members.deactivate(s, member_id=c, actor="cli")
        assert [v.telegram_user_id for v in members.list_members(s)] == [1, 2]  # by agency name
        assert [v.id for v in members.list_members(s, role="coordinator")] == [a]
        snv = agency_id(plan_engine, "SNV")
        assert {v.telegram_user_id for v in members.list_members(s, agency_id=snv)} == {1}
        everyone = members.list_members(s, include_inactive=True)
        assert len(everyone) == 3 and not everyone[-1].active
        with pytest.raises(MemberChangeError):
            members.list_members(s, role="boss")


def test_move_role_deactivate_reactivate_audit(plan_engine: Engine) -> None:
    mid = add_member(plan_engine, 10)
    snv, sttt = agency_id(plan_engine, "SNV"), agency_id(plan_engine, "STTTT")
    with session_scope(plan_engine) as s:
        members.move_member(s, member_id=mid, agency_id=sttt, actor="member:1", expected_agency_id=snv)
        members.change_role(s, member_id=mid, role="leader", actor="member:1", expected_role="focal_point")
        members.deactivate(s, member_id=mid, actor="member:1")
        members.reactivate(s, member_id=mid, actor="member:1")
    with Session(plan_engine) as s:
        member = s.get(Member, mid)
        assert member is not None and (member.agency_id, member.role, member.active) == (sttt, "leader", True)
    assert audit_actions(plan_engine)[-4:] == ["member.move", "member.role", "member.deactivate",
                                              "member.reactivate"]


@pytest.mark.parametrize("change, reason", [
    ({"op": "move", "agency": "STTTT", "expected": "SYT"}, "stale"),
    ({"op": "move", "agency": "SNV"}, "invalid"),
    ({"op": "move", "agency_id": 999999}, "unknown"),
    ({"op": "role", "role": "leader", "expected": "admin"}, "stale"),
    ({"op": "role", "role": "emperor"}, "invalid"),
    ({"op": "role", "role": "focal_point"}, "invalid"),
    ({"op": "reactivate"}, "stale"),
    ({"op": "deactivate", "member_id": 999999}, "unknown"),
])
def test_refused_changes_change_nothing(plan_engine: Engine, change: dict[str, object],
                                        reason: str) -> None:
    mid = add_member(plan_engine, 10)
    before = audit_actions(plan_engine)
    target = int(change.get("member_id", mid))  # type: ignore[call-overload]
    with pytest.raises(MemberChangeError) as caught, session_scope(plan_engine) as s:
        op = change["op"]
        if op == "move":
            new = change.get("agency_id") or agency_id(plan_engine, str(change["agency"]))
            expected = agency_id(plan_engine, str(change["expected"])) if "expected" in change else None
            members.move_member(s, member_id=target, agency_id=int(new),  # type: ignore[call-overload]
                                actor="cli", expected_agency_id=expected)
        elif op == "role":
            members.change_role(s, member_id=target, role=str(change["role"]), actor="cli",
                                expected_role=change.get("expected"))  # type: ignore[arg-type]
        elif op == "reactivate":
            members.reactivate(s, member_id=target, actor="cli")
        else:
            members.deactivate(s, member_id=target, actor="cli")
    assert caught.value.reason == reason
    assert audit_actions(plan_engine) == before
    with Session(plan_engine) as s:
        member = s.get(Member, mid)
        assert member is not None and member.active and member.role == "focal_point"
        assert member.agency_id == agency_id(plan_engine, "SNV")


def test_deactivated_member_is_not_admin(plan_engine: Engine) -> None:
    mid = add_member(plan_engine, 77, role="admin")
    with session_scope(plan_engine) as s:
        assert members.load_actor(s, 77, frozenset()).is_admin
        members.deactivate(s, member_id=mid, actor="cli")
        assert not members.load_actor(s, 77, frozenset()).is_admin
        assert members.load_actor(s, 5, frozenset({5})).is_admin
        assert not members.load_actor(s, 6, frozenset({5})).is_admin


def test_find_member_by_id_or_username(plan_engine: Engine) -> None:
    mid = add_member(plan_engine, 42, username="Lan_QN")
    with Session(plan_engine) as s:
        assert getattr(members.find_member(s, "42"), "id", None) == mid
        assert getattr(members.find_member(s, "@lan_qn"), "id", None) == mid
        assert members.find_member(s, "@nobody") is None and members.find_member(s, "@") is None


# --- command line -------------------------------------------------------------------------

@pytest.fixture
def cli_env(plan_engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Engine:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("DONDOC_DATABASE_URL", db_url)
    monkeypatch.delenv("DONDOC_BOT_TOKEN", raising=False)
    monkeypatch.delenv("DONDOC_ADMIN_IDS", raising=False)
    return plan_engine


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_invite_without_and_with_bot_username(cli_env: Engine,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "invite", "--agency", "SNV", "--role", "coordinator", "--uses", "3",
                         "--expires", "10")
    assert code == 0, err
    assert "Sở Nội vụ as coordinator: 3 uses" in out and "Token: " in out
    assert "Start the bot once to learn its link" in out and "t.me" not in out
    with session_scope(cli_env) as s:
        app_state.remember_bot_username(s, "dondoc_qn_bot")
    code, out, _ = run(capsys, "invite", "--agency", "Sở Nội vụ", "--role", "focal_point")
    token = out.split("Token: ")[1].split()[0]
    assert code == 0 and f"Link: https://t.me/dondoc_qn_bot?start={token}" in out
    code, out, _ = run(capsys, "invitations", "list", "--format", "json")
    listed = json.loads(out)
    assert len(listed) == 2 and listed[0]["token"] == token
    assert run(capsys, "invitations", "revoke", token)[0] == 0
    code, out, _ = run(capsys, "invitations", "list")
    assert "1 invitations." in out and token not in out


@pytest.mark.parametrize("argv, message", [
    (["invite", "--agency", "NOPE", "--role", "leader"], "no agency with code or name 'NOPE'"),
    (["invite", "--agency", "SNV", "--role", "leader", "--uses", "5000"], "number of uses"),
    (["members", "move", "@ghost", "--agency", "SNV"], "no member '@ghost'"),
    (["members", "deactivate", "424242"], "no member '424242'"),
    (["invitations", "revoke", "doesnotexist"], "no invitation with that token"),
])
def test_cli_errors_are_one_line(cli_env: Engine, capsys: pytest.CaptureFixture[str],
                                 argv: list[str], message: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 1 and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_members_list_move_role_deactivate(cli_env: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    add_member(cli_env, 501, username="lan", name="Trần Thị Lan")
    add_member(cli_env, 502, role="coordinator", name="Lê Văn B")
    code, out, _ = run(capsys, "members", "list", "--format", "json")
    assert code == 0 and {m["telegram_user_id"] for m in json.loads(out)} == {501, 502}
    code, out, _ = run(capsys, "members", "list", "--role", "coordinator")
    assert "Lê Văn B" in out and "Trần Thị Lan" not in out and "1 members." in out

    assert run(capsys, "members", "move", "@lan", "--agency", "STTTT")[0] == 0
    assert run(capsys, "members", "role", "501", "leader")[0] == 0
    code, out, _ = run(capsys, "members", "deactivate", "@LAN")
    assert code == 0 and "(deactivated)" in out
    code, _, err = run(capsys, "members", "deactivate", "@lan")
    assert code == 1 and "deactivated now" in err
    code, out, _ = run(capsys, "members", "list", "--agency", "STTTT", "--all", "--format", "json")
    [lan] = json.loads(out)
    assert (lan["role"], lan["agency_code"], lan["active"]) == ("leader", "STTTT", False)
    assert run(capsys, "members", "reactivate", "@lan")[0] == 0
    assert audit_actions(cli_env)[-4:] == ["member.move", "member.role", "member.deactivate",
                                          "member.reactivate"]


def test_cli_needs_schema(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DONDOC_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    code, _, err = run(capsys, "members", "list")
    assert code == 1 and "dondoc init" in err
