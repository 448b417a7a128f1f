"""The tables of the registry: plans, axes, tasks, agencies and who owes what, members, chats,
and the audit log. One class per entity; queries live in their own modules."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


def _created() -> datetime:
    return utcnow()


class AgencyLevel(StrEnum):
    PROVINCE = "province"
    DEPARTMENT = "department"
    DISTRICT = "district"
    COMMUNE = "commune"
    OTHER = "other"


class AssignmentRole(StrEnum):
    LEAD = "lead"
    COORDINATING = "coordinating"


class MemberRole(StrEnum):
    FOCAL_POINT = "focal_point"
    COORDINATOR = "coordinator"
    LEADER = "leader"
    ADMIN = "admin"


class ChatPurpose(StrEnum):
    FOCAL_POINTS = "focal_points"
    AGENCY_CLASS = "agency_class"
    AGENCY = "agency"
    LEADERS = "leaders"


class Plan(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(index=True, unique=True, max_length=64)
    title: str = Field(sa_column=Column(Text, nullable=False))
    issued_on: date | None = None
    source_name: str = Field(default="", max_length=255)
    source_sha256: str = Field(default="", max_length=64)
    active_from: date
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class Axis(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("plan_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    number: int
    name: str = Field(max_length=255)


class Task(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("plan_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    axis_id: int = Field(foreign_key="axis.id", index=True)
    code: str = Field(max_length=16)
    position: int
    row: str = Field(default="", max_length=16)
    content: str = Field(default="", sa_column=Column(Text, nullable=False))
    task: str = Field(sa_column=Column(Text, nullable=False))
    timeframe: str = Field(default="", max_length=255)
    cadence: str = Field(max_length=32)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    coordination_note: str = Field(default="", sa_column=Column(Text, nullable=False))
    # A one-off task's own date (cadence "once": "Trước 30/6/2027", "Quý II/2027"): its one item
    # is due then (domain.periods.one_off). None for every other cadence.
    due_on: date | None = None
    # What the task delivers, from the plan's "Sản phẩm" / "Kết quả đầu ra" column.
    expected_output: str = Field(default="", sa_column=Column(Text, nullable=False,
                                                              server_default=""))
    # Set when a re-imported document no longer has the task; history stays attached.
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class Agency(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=255)
    code: str = Field(index=True, unique=True, max_length=32)
    level: str = Field(default=AgencyLevel.OTHER.value, max_length=16)
    # Indexed: every scope is a recursive walk down parent_id (without the index SQLite
    # builds a temporary one on each walk, about 3 ms for 10,000 agencies).
    parent_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    # Other spellings seen in documents, ';'-separated, matched case-insensitively.
    aliases: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    active: bool = True
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class AgencyClass(SQLModel, table=True):
    """A named set of agencies such as ``UBND cấp xã``; open sets (``Các cơ quan liên quan``)
    have no fixed members and never owe anything themselves."""

    __tablename__ = "agency_class"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=255)
    code: str = Field(index=True, unique=True, max_length=32)
    open_set: bool = False
    aliases: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class AgencyClassMember(SQLModel, table=True):
    __tablename__ = "agency_class_member"
    class_id: int = Field(foreign_key="agency_class.id", primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", primary_key=True, index=True)


class Assignment(SQLModel, table=True):
    """Who answers for a task: an agency or a whole class, as lead or coordinating."""

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    role: str = Field(max_length=16)
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    class_id: int | None = Field(default=None, foreign_key="agency_class.id", index=True)
    # The name exactly as the document wrote it (it may be an alias of the agency or class).
    label: str = Field(max_length=255)
    position: int = 0


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    role: str = Field(default=MemberRole.FOCAL_POINT.value, max_length=16)
    full_name: str = Field(default="", max_length=255)
    username: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=8)
    active: bool = True
    # Set when Telegram says the user blocked the bot or is deactivated: no more sends.
    unreachable_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class Chat(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    telegram_chat_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    title: str = Field(default="", max_length=255)
    type: str = Field(default="group", max_length=16)
    purpose: str | None = Field(default=None, max_length=16)
    language: str | None = Field(default=None, max_length=8)
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    class_id: int | None = Field(default=None, foreign_key="agency_class.id")
    active: bool = True
    can_post: bool = True
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_created, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=64)  # "cli", "member:<id>", "system"
    action: str = Field(max_length=64)
    entity: str = Field(max_length=32)
    entity_id: str = Field(default="", max_length=64)
    details: str = Field(default="", sa_column=Column(Text, nullable=False))


# --- deadlines ----------------------------------------------------------------------------

class ItemState(StrEnum):
    """Where an agency stands on one task for one period (the current report's state)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    REPORTED = "reported"  # done, waiting for a coordinator
    RETURNED = "returned"  # sent back by a coordinator
    VERIFIED = "verified"


# States in which an item still needs the agency's work, so reminders go on.
OPEN_STATES = (ItemState.NOT_STARTED.value, ItemState.IN_PROGRESS.value,
               ItemState.BLOCKED.value, ItemState.RETURNED.value)
# The rest (done, or waiting for a coordinator), listed: ``state IN (…)`` can use the state
# index, ``state NOT IN (OPEN_STATES)`` reads every item of a task.
CLOSED_STATES = tuple(s.value for s in ItemState if s.value not in OPEN_STATES)


class CalendarDay(SQLModel, table=True):
    """An admin's change to the working calendar: an extra day off or a make-up working day."""

    __tablename__ = "calendar_day"
    day: date = Field(primary_key=True)
    kind: str = Field(max_length=16)  # "day_off" | "working_day"
    note: str = Field(default="", max_length=255)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class Event(SQLModel, table=True):
    """A recorded event (an approval, an election) that opens a deadline for an event-driven task."""

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    occurred_on: date
    days_allowed: int
    due_on: date
    note: str = Field(default="", max_length=500)
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class EventDraft(SQLModel, table=True):
    """An event a coordinator is recording with /event: the task and what they answered so far.
    It only lets typed answers (the date, the days) find their question after a restart or on
    another instance; nothing is recorded until they confirm. Keyed by the Telegram user, so
    configured administrators who are not members can use it too."""

    __tablename__ = "event_draft"
    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    task_id: int = Field(foreign_key="task.id")
    occurred_on: date | None = None  # None: waiting for the date
    days: int | None = None  # None (with a date): waiting for the days allowed
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class PlanImportState(StrEnum):
    ASKED = "asked"  # a member's document: "a plan or evidence?" waits for the answer
    PREVIEWED = "previewed"  # read and compared; Apply waits for the confirmation
    APPLIED = "applied"
    CANCELLED = "cancelled"


class PlanImport(SQLModel, table=True):
    """A plan document an administrator sent in the private chat: the file by its Telegram id,
    the plan it was read into and the preview shown (both JSON), so that Apply, pressed after a
    restart or on another instance, applies what was previewed, and only that."""

    __tablename__ = "plan_import"
    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    file_id: str = Field(max_length=255)
    file_unique_id: str = Field(default="", max_length=128)
    file_name: str = Field(default="", max_length=255)
    mime_type: str = Field(default="", max_length=128)
    file_size: int | None = None
    state: str = Field(default=PlanImportState.ASKED.value, max_length=16, index=True)
    sha256: str = Field(default="", max_length=64)
    parsed: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    preview: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class Milestone(SQLModel, table=True):
    """A dated milestone of a roadmap / master-plan task, with its target if the plan gives one."""

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    due_on: date
    target: str = Field(default="", max_length=500)
    source: str = Field(default="admin", max_length=16)  # "note" | "admin"


class Item(SQLModel, table=True):
    """What one agency owes for one task in one period: the unit of reminders and reports."""

    __table_args__ = (
        UniqueConstraint("task_id", "agency_id", "period_key"),
        # Covers the roll-ups' period scans (due_on range, state, who, which task, when done) so that
        # /status reads the index alone, also for a whole country.
        Index("ix_item_period_rollup", "due_on", "state", "agency_id", "task_id", "completed_on"),
    )
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    period_key: str = Field(max_length=32)  # "2026-Q4", "2026", "2026-H2", "E12", "M3"
    period_kind: str = Field(max_length=16)  # quarter | half | year | event | milestone
    period_start: date
    due_on: date = Field(index=True)
    event_id: int | None = Field(default=None, foreign_key="event.id")
    milestone_id: int | None = Field(default=None, foreign_key="milestone.id")
    state: str = Field(default=ItemState.NOT_STARTED.value, max_length=16, index=True)
    state_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The local day (Asia/Ho_Chi_Minh) the report that marked the item done was sent: kept by
    # verification, cleared by a return or a later not-done report. Against due_on it makes
    # the official class (domain.official): completed on time or late. In the roll-up index.
    completed_on: date | None = None
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    # ``due_on`` is the date in force; the first one is kept here once an extension moves it
    # (models/extensions.py). The item sync never touches existing items, so it stays moved.
    original_due_on: date | None = None


class ExtensionState(StrEnum):
    """Where a request for a later due date stands ("đề nghị gia hạn")."""

    PENDING = "pending"  # waiting for a coordinator ("chờ duyệt gia hạn")
    APPROVED = "approved"  # the requested date is in force
    SHORTENED = "shortened"  # an earlier date than asked is in force
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"  # the item was finished before anyone decided


class ExtensionRequest(SQLModel, table=True):
    """A focal point's request to move an item's due date, and the coordinator's decision.
    Every request stays: together with ``item.original_due_on`` they are the item's date history."""

    __tablename__ = "extension_request"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    requested_by: int = Field(foreign_key="member.id")
    due_on_before: date  # the date in force when it was asked
    requested_due_on: date
    reason: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(default=ExtensionState.PENDING.value, max_length=16, index=True)
    decided_by: int | None = Field(default=None, foreign_key="member.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_due_on: date | None = None
    decision_reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class ExtensionDraft(SQLModel, table=True):
    """What a member is typing for an extension: a focal point's new date and reason, or a
    coordinator's shorter date or reason for refusing (``request_id``). A row, so that typed
    text finds its question after a restart or on another instance."""

    __tablename__ = "extension_draft"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", unique=True)
    item_id: int = Field(foreign_key="item.id")
    request_id: int | None = Field(default=None, foreign_key="extension_request.id")
    step: str = Field(max_length=16)  # date | reason | confirm | shorten | refuse
    requested_due_on: date | None = None
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


# --- delivery ledger ----------------------------------------------------------------------

class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    SKIPPED = "skipped"  # no longer needed (item done) or collapsed into a later reminder


class Delivery(SQLModel, table=True):
    """One message owed to one recipient. Its key makes "never twice" a database constraint:
    reminders use (item, recipient, slot); broadcasts and digests their own keys."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128, unique=True)
    kind: str = Field(max_length=16, index=True)  # reminder | broadcast | digest | notice
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    item_id: int | None = Field(default=None, foreign_key="item.id", index=True)
    ref_id: int | None = None  # broadcast / digest id
    slot_at: datetime = Field(sa_type=UTCDateTime, index=True)
    slot_kind: str = Field(default="", max_length=16)  # before | due | overdue
    offset_days: int = 0
    audience: str = Field(default="", max_length=16)  # focal_point | leader | coordinator
    state: str = Field(default=DeliveryState.PENDING.value, max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, index=True)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


# --- onboarding and reports ---------------------------------------------------------------

class Invitation(SQLModel, table=True):
    """A link an admin hands out: whoever opens it joins ``agency`` with ``role``."""

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    role: str = Field(max_length=16)
    max_uses: int = 1
    uses: int = 0
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class ReportState(StrEnum):
    DONE = "done"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"


class ReviewState(StrEnum):
    PENDING = "pending"  # a done report waiting for a coordinator
    APPROVED = "approved"
    RETURNED = "returned"


class Report(SQLModel, table=True):
    """One version of an agency's report on an item; every version is kept."""

    __table_args__ = (UniqueConstraint("item_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    version: int
    member_id: int = Field(foreign_key="member.id", index=True)
    state: str = Field(max_length=16)
    percent: int | None = None
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    document_number: str = Field(default="", max_length=64)
    document_date: date | None = None  # the date cited after the number ("ngày 20/12/2026")
    review_state: str | None = Field(default=None, max_length=16, index=True)
    reviewed_by: int | None = Field(default=None, foreign_key="member.id")
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    review_reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime, index=True)


class Evidence(SQLModel, table=True):
    """A document or photo attached to a report (kept on Telegram, referenced by file id)."""

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    kind: str = Field(max_length=16)  # document | photo
    file_id: str = Field(max_length=255)
    file_unique_id: str = Field(default="", max_length=128)
    file_name: str = Field(default="", max_length=255)
    mime_type: str = Field(default="", max_length=128)
    file_size: int | None = None


class ReportDraft(SQLModel, table=True):
    """A report being written: the conversation's state lives here, not in memory, so a restart
    (or another instance) continues where the user was."""

    __tablename__ = "report_draft"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", unique=True)
    item_id: int = Field(foreign_key="item.id")
    # pick_item | pick_state | state | percent | reason | note | evidence | review | sent | return
    step: str = Field(max_length=16)
    state: str | None = Field(default=None, max_length=16)
    percent: int | None = None
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    document_number: str = Field(default="", max_length=64)
    document_date: date | None = None
    # A report in the officer's words asks what it could not tell: the item ids it offers (JSON).
    choices: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # JSON list of {"kind", "file_id", "file_unique_id", "file_name", "mime_type", "file_size"}
    evidence: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    base_version: int = 0  # the report version the user started from (to notice a race)
    # The value reported against the task's numeric target for the item's year (models/targets.py).
    target_value: float | None = None
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


# --- numeric targets ----------------------------------------------------------------------

class Target(SQLModel, table=True):
    """A value to reach in a year: a task's (``task_id``, ``subject`` its code) or a plan-level
    indicator's (``task_id`` None, ``subject`` the indicator's code, ``name`` what it measures).
    ``source``: "plan" (the plan's text, seeded) or "admin"."""

    __table_args__ = (UniqueConstraint("plan_id", "subject", "year"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    subject: str = Field(max_length=16)
    name: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    year: int
    value: float
    unit: str = Field(default="%", max_length=16)
    direction: str = Field(default="at_least", max_length=8)  # at_least | at_most
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    source: str = Field(default="admin", max_length=8)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class TargetValue(SQLModel, table=True):
    """A value reported against a target: by a focal point with a report (``report_id``: its
    files are the evidence) for an item, or recorded by an admin (an indicator's province-wide
    value: ``agency_id`` None). Every value is kept; an agency's latest per period counts."""

    __tablename__ = "target_value"
    id: int | None = Field(default=None, primary_key=True)
    target_id: int = Field(foreign_key="target.id", index=True)
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    item_id: int | None = Field(default=None, foreign_key="item.id", index=True)
    period_key: str = Field(max_length=32)
    value: float
    member_id: int | None = Field(default=None, foreign_key="member.id")
    report_id: int | None = Field(default=None, foreign_key="report.id")
    evidence: str = Field(default="", max_length=255)  # a file's name or a document number
    actor: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime, index=True)


class TargetDraft(SQLModel, table=True):
    """A target an admin typed in /targets, shown for confirmation: nothing is stored as a
    target until they confirm (a row, so the confirmation survives a restart)."""

    __tablename__ = "target_draft"
    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    subject: str = Field(max_length=16)
    year: int
    value: float
    unit: str = Field(default="%", max_length=16)
    direction: str = Field(default="at_least", max_length=8)
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    # The plan it is for; None while the admin is asked which (several plans in force), or on
    # one plan in force (then the only one).
    plan_id: int | None = Field(default=None, foreign_key="plan.id")


# --- application state --------------------------------------------------------------------

class AppState(SQLModel, table=True):
    """Small facts the running bot learns and the command line needs (e.g. the bot's username)."""

    __tablename__ = "app_state"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class ChangeCounter(SQLModel, table=True):
    """How often the inputs of the schedule changed, one counter per kind ("registry", "events",
    "people", "items", "calendar"). Database triggers (migration 0011) move them in the
    writer's own transaction, whoever writes; the running bot re-plans only when one moved
    (models/changes.py)."""

    __tablename__ = "change_counter"
    name: str = Field(primary_key=True, max_length=32)
    value: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class ErrorAlert(SQLModel, table=True):
    """One row per kind of unhandled error: when the admins were last told and how many of that
    kind were not told since. In the database, so that one alert per kind per interval holds
    across restarts and between instances (models/alerts.py)."""

    __tablename__ = "error_alert"
    kind: str = Field(primary_key=True, max_length=128)
    last_alert_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    suppressed: int = 0  # errors of this kind since the last alert, not told separately
    reported: int = 0  # the count the last alert carried (set in the same UPDATE that claims it)
    last_seen_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


# --- broadcasts ---------------------------------------------------------------------------

class BroadcastStatus(StrEnum):
    DRAFT = "draft"  # being composed (``step`` says which question is open)
    CONFIRMED = "confirmed"  # ledger rows inserted; the progress message is not shown yet
    SENDING = "sending"  # the progress message is live
    DONE = "done"  # every row settled; the final report was shown
    CANCELLED = "cancelled"


class Broadcast(SQLModel, table=True):
    """An announcement to many chats. The draft lives here (not in memory), so composing it
    survives a restart; once confirmed, its recipients are ledger rows ``bc:{id}:{chat_id}``."""

    id: int | None = Field(default=None, primary_key=True)
    sender_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    sender_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    step: str = Field(default="text", max_length=16)  # text | audience | agency | preview
    text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    document_file_id: str | None = Field(default=None, max_length=255)
    document_name: str = Field(default="", max_length=255)
    document_size: int | None = None
    # JSON, e.g. {"kind": "groups", "purpose": null} or {"kind": "role", "role": "leader"}
    audience: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    ack_enabled: bool = False
    status: str = Field(default=BroadcastStatus.DRAFT.value, max_length=16, index=True)
    recipients: int = 0
    progress_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    progress_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    progress_shown: str = Field(default="", max_length=64)  # counts last shown (skip no-op edits)
    progress_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BroadcastAck(SQLModel, table=True):
    """Someone pressed "received" under a broadcast (once per person and broadcast)."""

    __tablename__ = "broadcast_ack"
    __table_args__ = (UniqueConstraint("broadcast_id", "telegram_user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    member_id: int | None = Field(default=None, foreign_key="member.id")
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))  # where it was pressed
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    name: str = Field(default="", max_length=255)
    at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


# --- digests ------------------------------------------------------------------------------

class Digest(SQLModel, table=True):
    """One digest of the roll-up for one scope at one slot (a week, or a period's end). Its
    snapshot (the roll-up's numbers as JSON) is what the next digest compares with."""

    __table_args__ = (UniqueConstraint("slot", "scope"),)
    id: int | None = Field(default=None, primary_key=True)
    slot: str = Field(max_length=64)  # "2026-Q4:w2026-47" | "2026-Q4:end"
    period: str = Field(max_length=16, index=True)
    scope: str = Field(max_length=32, index=True)  # "all" | "tree:<agency id>" | "agency:<id>"
    slot_at: datetime = Field(sa_type=UTCDateTime)
    snapshot: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


# --- calendar feeds -----------------------------------------------------------------------

class CalendarFeed(SQLModel, table=True):
    """A member's private calendar link (``/ical/<token>.ics``): only the token's SHA-256 is
    kept. A new link revokes the old one; a revoked link answers 404."""

    __tablename__ = "calendar_feed"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- explanation requests ("yêu cầu giải trình") -------------------------------------------

class ExplanationState(StrEnum):
    OPEN = "open"  # asked, not answered yet: reminded, then escalated
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"


class ExplanationRequest(SQLModel, table=True):
    """A coordinator or leader asks the agency owing an overdue item to explain the delay. At
    most one open request per item (a partial unique index): pressing twice asks once."""

    __tablename__ = "explanation_request"
    __table_args__ = (
        Index("ux_explanation_open_item", "item_id", unique=True,
              sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'")),
    )
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    requested_by: int = Field(foreign_key="member.id")
    question: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    due_on: date  # the answer is due: DONDOC_EXPLANATION_DAYS working days after the request
    state: str = Field(default=ExplanationState.OPEN.value, max_length=16, index=True)
    answer_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    answer_file_id: str = Field(default="", max_length=255)
    answer_file_unique_id: str = Field(default="", max_length=128)
    answer_file_name: str = Field(default="", max_length=255)
    answer_mime_type: str = Field(default="", max_length=128)
    answered_by: int | None = Field(default=None, foreign_key="member.id")
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class ExplanationDraft(SQLModel, table=True):
    """What a person is typing for an explanation: the requester's optional question (``item_id``
    set, ``request_id`` None) or an agency's answer (``request_id`` set), with its document. A
    row, so that a restart or another instance continues it; one per member."""

    __tablename__ = "explanation_draft"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", unique=True)
    item_id: int = Field(foreign_key="item.id")
    request_id: int | None = Field(default=None, foreign_key="explanation_request.id")
    text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    file_id: str = Field(default="", max_length=255)
    file_unique_id: str = Field(default="", max_length=128)
    file_name: str = Field(default="", max_length=255)
    mime_type: str = Field(default="", max_length=128)
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


# --- coordinating agencies ----------------------------------------------------------------

class Contribution(SQLModel, table=True):
    """A coordinating agency's contribution to a lead's period (QĐ 42/2014, Decree 39/2022: one
    lead per task, the coordinating agencies contribute): a note and perhaps a document, kept
    beside the lead's item. It never makes the coordinating agency owe anything."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)  # the lead's item
    agency_id: int = Field(foreign_key="agency.id", index=True)  # the coordinating agency
    member_id: int = Field(foreign_key="member.id")
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    file_id: str = Field(default="", max_length=255)
    file_unique_id: str = Field(default="", max_length=128)
    file_name: str = Field(default="", max_length=255)
    mime_type: str = Field(default="", max_length=128)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class ContributionDraft(SQLModel, table=True):
    """A contribution being written (one per member): the lead's item, the step (``note``: its
    text is asked; ``file``: a document may be sent, then Send), what was given so far."""

    __tablename__ = "contribution_draft"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", unique=True)
    item_id: int = Field(foreign_key="item.id")
    step: str = Field(default="note", max_length=16)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    file_id: str = Field(default="", max_length=255)
    file_unique_id: str = Field(default="", max_length=128)
    file_name: str = Field(default="", max_length=255)
    mime_type: str = Field(default="", max_length=128)
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
