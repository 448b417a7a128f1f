"""Invitations at the model level, on every backend: create, redeem (and every way it can fail),
the race for the last use, list and revoke, with audit rows."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from models import invitations as inv
from models.agencies import find_agency
from models.db import session_scope
from models.invitations import InvitationError, RedeemStatus
from models.tables import AuditLog, Invitation, Member
from models.types import utcnow


def agency_id(engine: Engine, code: str = "SNV") -> int:
    with session_scope(engine) as s:
        agency = find_agency(s, code)
        assert agency is not None and agency.id is not None
        return agency.id


def invite(engine: Engine, **kwargs: object) -> Invitation:
    params: dict[str, object] = {"agency_id": agency_id(engine), "role": "focal_point",
                                 "created_by": "cli"}
    params.update(kwargs)
    with session_scope(engine) as s:
        return inv.create_invitation(s, **params)  # type: ignore[arg-type]


def redeem(engine: Engine, token: str, user_id: int, **kwargs: object) -> inv.RedeemResult:
    with session_scope(engine) as s:
        return inv.redeem(s, token=token, telegram_user_id=user_id, full_name=f"User {user_id}",
                          username=f"user{user_id}", language="vi", **kwargs)  # type: ignore[arg-type]


def count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_token_fits_telegram_start_parameter(plan_engine: Engine) -> None:
    tokens = {invite(plan_engine).token for _ in range(20)}
    assert len(tokens) == 20
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", t) for t in tokens)
    assert not any(inv.new_token().startswith("-") for _ in range(2000))


def test_create_validates_and_audits(plan_engine: Engine) -> None:
    invitation = invite(plan_engine, role="coordinator", max_uses=3, expires_days=2)
    assert invitation.uses == 0 and invitation.max_uses == 3 and invitation.role == "coordinator"
    assert invitation.expires_at is not None
    assert timedelta(days=1, hours=23) < invitation.expires_at - utcnow() <= timedelta(days=2)
    with Session(plan_engine) as s:
        audit = s.exec(select(AuditLog).where(AuditLog.action == "invitation.create")).one()
        assert audit.entity_id == str(invitation.id) and audit.actor == "cli"
    for bad in ({"role": "boss"}, {"max_uses": 0}, {"expires_days": 0}, {"agency_id": 999999}):
        with pytest.raises(InvitationError):
            invite(plan_engine, **bad)
    assert count(plan_engine, Invitation) == 1


def test_redeem_registers_member_once(plan_engine: Engine) -> None:
    invitation = invite(plan_engine, role="leader")
    result = redeem(plan_engine, invitation.token, 1001)
    assert result.status is RedeemStatus.OK
    assert result.agency is not None and result.agency.code == "SNV"
    with Session(plan_engine) as s:
        member = s.exec(select(Member)).one()
        assert (member.telegram_user_id, member.role, member.full_name) == (1001, "leader", "User 1001")
        assert member.agency_id == agency_id(plan_engine) and member.active
        assert s.get(Invitation, invitation.id).uses == 1  # type: ignore[union-attr]
        actions = set(s.exec(select(AuditLog.action)))
        assert {"member.register", "invitation.redeem"} <= actions


def test_reopening_own_link_uses_nothing(plan_engine: Engine) -> None:
    invitation = invite(plan_engine, max_uses=2)
    assert redeem(plan_engine, invitation.token, 1001).ok
    again = redeem(plan_engine, invitation.token, 1001)
    assert again.status is RedeemStatus.ALREADY_MEMBER and again.member is not None
    with Session(plan_engine) as s:
        assert s.get(Invitation, invitation.id).uses == 1  # type: ignore[union-attr]
    assert count(plan_engine, Member) == 1


@pytest.mark.parametrize("token", ["nope", "", "x" * 65, "a b", "<b>", "☃"])
def test_unknown_token_registers_nothing(plan_engine: Engine, token: str) -> None:
    invite(plan_engine)
    assert redeem(plan_engine, token, 1001).status is RedeemStatus.UNKNOWN
    assert count(plan_engine, Member) == 0


def test_expired_used_up_and_revoked(plan_engine: Engine) -> None:
    expired = invite(plan_engine, expires_days=1)
    later = utcnow() + timedelta(days=1, seconds=1)
    assert redeem(plan_engine, expired.token, 1, now=later).status is RedeemStatus.EXPIRED

    single = invite(plan_engine)
    assert redeem(plan_engine, single.token, 2).ok
    assert redeem(plan_engine, single.token, 3).status is RedeemStatus.USED_UP

    revoked = invite(plan_engine)
    with session_scope(plan_engine) as s:
        inv.revoke(s, token=revoked.token, actor="cli")
        with pytest.raises(InvitationError):
            inv.revoke(s, token=revoked.token, actor="cli")
    assert redeem(plan_engine, revoked.token, 4).status is RedeemStatus.REVOKED
    with Session(plan_engine) as s:
        assert list(s.exec(select(Member.telegram_user_id))) == [2]


def test_two_use_link_used_by_three(plan_engine: Engine) -> None:
    invitation = invite(plan_engine, max_uses=2)
    statuses = [redeem(plan_engine, invitation.token, uid).status for uid in (11, 12, 13)]
    assert statuses == [RedeemStatus.OK, RedeemStatus.OK, RedeemStatus.USED_UP]
    assert count(plan_engine, Member) == 2


def test_deactivated_member_cannot_rejoin_by_link(plan_engine: Engine) -> None:
    from models import members

    first = invite(plan_engine, max_uses=5)
    result = redeem(plan_engine, first.token, 21)
    assert result.member is not None and result.member.id is not None
    with session_scope(plan_engine) as s:
        members.deactivate(s, member_id=result.member.id, actor="cli")
    assert redeem(plan_engine, first.token, 21).status is RedeemStatus.DEACTIVATED
    with Session(plan_engine) as s:
        assert s.get(Invitation, first.id).uses == 1  # type: ignore[union-attr]


def test_race_for_the_last_use(plan_engine: Engine) -> None:
    """Several people open a 1-use link at the same moment: exactly one wins."""
    invitation = invite(plan_engine, max_uses=1)
    barrier = threading.Barrier(4)
    results: list[RedeemStatus] = []
    errors: list[BaseException] = []

    def attempt(uid: int) -> None:
        barrier.wait()
        try:
            results.append(redeem(plan_engine, invitation.token, uid).status)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(100 + i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == sorted([RedeemStatus.OK] + [RedeemStatus.USED_UP] * 3)
    assert count(plan_engine, Member) == 1
    with Session(plan_engine) as s:
        assert s.get(Invitation, invitation.id).uses == 1  # type: ignore[union-attr]


def test_list_invitations(plan_engine: Engine) -> None:
    usable = invite(plan_engine, max_uses=2)
    used = invite(plan_engine)
    redeem(plan_engine, used.token, 7)
    with Session(plan_engine) as s:
        active = inv.list_invitations(s)
        everything = inv.list_invitations(s, include_inactive=True)
    assert [v.token for v in active] == [usable.token]
    states = {v.token: v.state for v in everything}
    assert states == {usable.token: "ok", used.token: "used_up"}
    assert active[0].agency == "Sở Nội vụ" and active[0].to_json()["expires_at"]
