"""The access policy: who may see and do what, and each role's scope. One module, one exception.

Plain values only: the models layer describes the person asking as an :class:`Actor` (their role,
their agency and what that agency is), handlers and services ask :func:`allows` / :func:`require`
and :func:`scope_of`. Every button is re-checked on the server with these same rules.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

FOCAL_POINT, COORDINATOR, LEADER, ADMIN = "focal_point", "coordinator", "leader", "admin"
ROLES = (FOCAL_POINT, COORDINATOR, LEADER, ADMIN)


class Standing(StrEnum):
    """What an agency is, as far as scope is concerned."""

    PROVINCE_COMMITTEE = "province_committee"  # Ủy ban nhân dân tỉnh
    COMMITTEE_OFFICE = "committee_office"  # Văn phòng UBND tỉnh: follows up for the committee
    FOCAL_AGENCY = "focal_agency"  # Sở Nội vụ: coordinates the plan
    OTHER = "other"


class Action(StrEnum):
    REPORT = "report"  # report on the own agency's items
    REVIEW = "review"  # verify or return reports
    DECIDE_EXTENSION = "decide_extension"  # approve, shorten or refuse a later due date
    VIEW_REVIEWS = "view_reviews"  # look at the reports waiting for verification
    STATUS = "status"  # /status, /chart and drill-down
    EXPORT = "export"
    RECORD_EVENT = "record_event"  # approvals, elections (/event)
    BROADCAST = "broadcast"
    INVITE = "invite"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_GROUPS = "manage_groups"
    HISTORY = "history"  # an item's report versions (within the person's scope)
    AUDIT = "audit"  # the audit log
    IMPORT_PLAN = "import_plan"  # send a plan document to the bot and apply it
    MANAGE_TARGETS = "manage_targets"  # the plan's numeric targets (/targets)
    REQUEST_EXPLANATION = "request_explanation"  # ask an overdue agency to explain (in scope)
    ANSWER_EXPLANATION = "answer_explanation"  # answer a request made to the own agency
    CONTRIBUTE = "contribute"  # a coordinating agency's note/document on a lead's period
    RANKING = "ranking"  # the league tables of agencies (on-time rate, overdue) in /status


# Roles that may do each thing; admins may do everything.
_RULES: dict[Action, frozenset[str]] = {
    Action.REPORT: frozenset({FOCAL_POINT}),
    Action.REVIEW: frozenset({COORDINATOR}),
    Action.DECIDE_EXTENSION: frozenset({COORDINATOR}),
    Action.VIEW_REVIEWS: frozenset({COORDINATOR, LEADER}),
    Action.STATUS: frozenset({FOCAL_POINT, COORDINATOR, LEADER}),
    Action.EXPORT: frozenset({COORDINATOR, LEADER}),
    Action.RECORD_EVENT: frozenset({COORDINATOR}),
    Action.BROADCAST: frozenset({COORDINATOR}),
    Action.INVITE: frozenset(),
    Action.MANAGE_MEMBERS: frozenset(),
    Action.MANAGE_GROUPS: frozenset(),
    Action.HISTORY: frozenset({FOCAL_POINT, COORDINATOR, LEADER}),
    Action.AUDIT: frozenset(),
    Action.MANAGE_TARGETS: frozenset(),
    Action.REQUEST_EXPLANATION: frozenset({COORDINATOR, LEADER}),
    Action.ANSWER_EXPLANATION: frozenset({FOCAL_POINT, LEADER}),
    Action.IMPORT_PLAN: frozenset(),  # administrators only
    Action.CONTRIBUTE: frozenset({FOCAL_POINT, LEADER}),
    Action.RANKING: frozenset({COORDINATOR, LEADER}),
}


class NotAllowed(Exception):
    """The person may not do this. ``reason``: ``not_member``, ``inactive``, ``role``, ``scope``,
    ``no_agency`` — the view picks the words."""

    def __init__(self, reason: str = "role") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Scope:
    """Whose items a person may see: everything (``root_id`` None), an agency with the agencies
    under it, or one agency alone (``subtree`` False)."""

    root_id: int | None = None
    subtree: bool = True

    @property
    def everything(self) -> bool:
        return self.root_id is None

    @property
    def key(self) -> str:
        """A short stable name (digests keep one snapshot per scope)."""
        if self.root_id is None:
            return "all"
        return f"{'tree' if self.subtree else 'agency'}:{self.root_id}"


EVERYTHING = Scope()


@dataclass(frozen=True)
class Actor:
    """Who is asking, once per update: a Telegram user, and the member they are (if any)."""

    telegram_user_id: int
    member_id: int | None = None
    role: str | None = None
    agency_id: int | None = None
    standing: Standing = Standing.OTHER
    active: bool = False
    configured_admin: bool = False  # listed in DONDOC_ADMIN_IDS
    language: str | None = None
    full_name: str = ""
    # The member has an explanation or extension draft open: their typed text may be for it,
    # so the router asks which draft (read with the member, in the same hop).
    drafting: bool = False

    @property
    def is_member(self) -> bool:
        return self.member_id is not None and self.active

    @property
    def is_admin(self) -> bool:
        return self.configured_admin or (self.is_member and self.role == ADMIN)

    @property
    def deactivated(self) -> bool:
        return self.member_id is not None and not self.active


def allows(actor: Actor, action: Action) -> bool:
    if actor.is_admin:
        return True
    if not actor.is_member or actor.role not in _RULES[action]:
        return False
    return action is not Action.REPORT or actor.agency_id is not None


def require(actor: Actor, action: Action) -> None:
    if allows(actor, action):
        return
    if actor.member_id is None and not actor.configured_admin:
        raise NotAllowed("not_member")
    if actor.deactivated:
        raise NotAllowed("inactive")
    raise NotAllowed("role")


def scope_of(actor: Actor) -> Scope | None:
    """What the person may see. The whole province only for admins, the coordinators of the focal
    agency, the People's Committee's leaders and its office; a leader sees their agency and the
    agencies under it; anyone else their own agency. None: nothing (not a member, or no agency)."""
    if actor.is_admin:
        return EVERYTHING
    if not actor.is_member or actor.agency_id is None:
        return None
    if actor.standing is Standing.COMMITTEE_OFFICE:
        return EVERYTHING
    if actor.standing is Standing.FOCAL_AGENCY and actor.role == COORDINATOR:
        return EVERYTHING
    if actor.standing is Standing.PROVINCE_COMMITTEE and actor.role == LEADER:
        return EVERYTHING
    if actor.role in (LEADER, COORDINATOR):
        return Scope(actor.agency_id, subtree=True)
    return Scope(actor.agency_id, subtree=False)


def may_see_agency(scope: Scope | None, agency_in_scope: bool) -> bool:
    """For one agency (an item's, a drill-down's): ``agency_in_scope`` is what the models layer
    found walking the scope's subtree."""
    return scope is not None and (scope.everything or agency_in_scope)


def may_contribute(actor: Actor, coordinating: Collection[int]) -> bool:
    """A contribution to a lead's item: focal points and leaders of an agency among the task's
    ``coordinating`` agencies (what the models layer resolved, classes expanded). Admins too,
    but only for an agency of theirs that coordinates: a contribution is always an agency's."""
    return (allows(actor, Action.CONTRIBUTE) and actor.is_member and actor.agency_id is not None
            and actor.agency_id in coordinating)
