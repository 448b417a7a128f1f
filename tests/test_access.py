"""domain/access.py: who may do what, and the scope of each role at each kind of agency."""

from __future__ import annotations

import pytest

from domain.access import (
    ADMIN,
    COORDINATOR,
    EVERYTHING,
    FOCAL_POINT,
    LEADER,
    Action,
    Actor,
    NotAllowed,
    Scope,
    Standing,
    allows,
    require,
    scope_of,
)

AGENCY = 7
WHOLE, TREE, OWN = "whole", "tree", "own"

# role × what the member's agency is → what they see. Province-level agencies that are not the
# People's Committee or its office (Công an tỉnh, Bảo hiểm xã hội tỉnh) are OTHER: their own.
EXPECTED = {
    (FOCAL_POINT, Standing.OTHER): OWN,
    (FOCAL_POINT, Standing.FOCAL_AGENCY): OWN,
    (FOCAL_POINT, Standing.PROVINCE_COMMITTEE): OWN,
    (FOCAL_POINT, Standing.COMMITTEE_OFFICE): WHOLE,
    (LEADER, Standing.OTHER): TREE,
    (LEADER, Standing.FOCAL_AGENCY): TREE,
    (LEADER, Standing.PROVINCE_COMMITTEE): WHOLE,
    (LEADER, Standing.COMMITTEE_OFFICE): WHOLE,
    (COORDINATOR, Standing.OTHER): TREE,
    (COORDINATOR, Standing.FOCAL_AGENCY): WHOLE,
    (COORDINATOR, Standing.PROVINCE_COMMITTEE): TREE,
    (COORDINATOR, Standing.COMMITTEE_OFFICE): WHOLE,
    (ADMIN, Standing.OTHER): WHOLE,
    (ADMIN, Standing.FOCAL_AGENCY): WHOLE,
    (ADMIN, Standing.PROVINCE_COMMITTEE): WHOLE,
    (ADMIN, Standing.COMMITTEE_OFFICE): WHOLE,
}


def member(role: str, standing: Standing = Standing.OTHER, **kw: object) -> Actor:
    values: dict[str, object] = {"member_id": 1, "role": role, "agency_id": AGENCY, "standing": standing,
                                 "active": True, **kw}
    return Actor(100, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("role", "standing"), list(EXPECTED))
def test_scope_follows_the_role_not_the_agency_level(role: str, standing: Standing) -> None:
    want = {WHOLE: EVERYTHING, TREE: Scope(AGENCY, subtree=True), OWN: Scope(AGENCY, subtree=False)}
    assert scope_of(member(role, standing)) == want[EXPECTED[(role, standing)]]


def test_every_role_and_standing_is_enumerated() -> None:
    assert {(r, s) for r in (FOCAL_POINT, LEADER, COORDINATOR, ADMIN) for s in Standing} == set(EXPECTED)


def test_strangers_inactive_members_and_members_without_agency_see_nothing() -> None:
    assert scope_of(Actor(5)) is None
    assert scope_of(member(LEADER, active=False)) is None
    assert scope_of(member(FOCAL_POINT, agency_id=None)) is None


def test_configured_admin_needs_no_membership() -> None:
    admin = Actor(5, configured_admin=True)
    assert scope_of(admin) == EVERYTHING
    assert all(allows(admin, action) for action in Action)


@pytest.mark.parametrize(("role", "action", "allowed"), [
    (FOCAL_POINT, Action.REPORT, True), (FOCAL_POINT, Action.REVIEW, False),
    (FOCAL_POINT, Action.EXPORT, False), (FOCAL_POINT, Action.BROADCAST, False),
    (COORDINATOR, Action.REVIEW, True), (COORDINATOR, Action.REPORT, False),
    (COORDINATOR, Action.BROADCAST, True), (COORDINATOR, Action.RECORD_EVENT, True),
    (COORDINATOR, Action.INVITE, False), (LEADER, Action.REVIEW, False),
    (LEADER, Action.VIEW_REVIEWS, True), (LEADER, Action.EXPORT, True),
    (LEADER, Action.MANAGE_MEMBERS, False), (ADMIN, Action.MANAGE_GROUPS, True),
])
def test_what_each_role_may_do(role: str, action: Action, allowed: bool) -> None:
    assert allows(member(role), action) is allowed


def test_refusals_say_why() -> None:
    with pytest.raises(NotAllowed) as stranger:
        require(Actor(5), Action.STATUS)
    assert stranger.value.reason == "not_member"
    with pytest.raises(NotAllowed) as gone:
        require(member(LEADER, active=False), Action.STATUS)
    assert gone.value.reason == "inactive"
    with pytest.raises(NotAllowed) as role:
        require(member(FOCAL_POINT), Action.REVIEW)
    assert role.value.reason == "role"
