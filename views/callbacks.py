"""The one callback-data codec: a typed class per button kind, packed and unpacked here only.

Wire format: ``<prefix>:<field>:<field>…`` (the prefixes are those the bot has always sent, so
buttons already in people's chats keep working). Field types: ``int`` (an optional ``-`` and at
most 16 digits, |value| ≤ 2**31 - 1, the largest INTEGER id: a forged 2**63 would overflow
SQLite and anything past 2**31 is "out of range" on PostgreSQL, so neither reaches the
database) and ``str`` (ASCII letters, digits, ``_``, ``-`` and ``.``, at most 40 characters).

``pack`` raises :class:`CallbackTooLong` beyond Telegram's limit (a programming error, raised in
every build, never an ``assert``); ``unpack``/``decode`` raise :class:`BadCallbackData` for
anything malformed, forged or from an older format: handlers answer "this has changed".
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from typing import Any, ClassVar, Self, get_type_hints

from telegram.constants import InlineKeyboardButtonLimit

from models.types import MAX_ROW_ID

SEP = ":"
MAX_INT = MAX_ROW_ID  # every int field is a row id, a page, a count or a YYYYMMDD day
_INT = re.compile(r"-?[0-9]{1,16}")
_STR = re.compile(r"[A-Za-z0-9_.\-]{0,40}")


class BadCallbackData(ValueError):
    """Callback data that no button of this bot could have sent (forged, stale, or damaged)."""


class CallbackTooLong(ValueError):
    """A button whose packed data exceeds Telegram's 64 bytes: a bug in the caller."""


_KINDS: dict[str, type[CallbackData]] = {}


@dataclasses.dataclass(frozen=True)
class CallbackData:
    """Base of every button kind. Subclasses are frozen dataclasses with a ``PREFIX``."""

    PREFIX: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.PREFIX:
            raise TypeError(f"{cls.__name__} needs a PREFIX")
        if cls.PREFIX in _KINDS:
            raise TypeError(f"callback prefix {cls.PREFIX!r} is used twice")
        _KINDS[cls.PREFIX] = cls

    @classmethod
    def _fields(cls) -> list[tuple[str, type]]:
        hints = get_type_hints(cls)
        return [(f.name, hints[f.name]) for f in dataclasses.fields(cls)]

    # Trailing fields that older buttons do not carry: packed only when not their default,
    # and taken as their default when absent (buttons already in chats keep working).
    OPTIONAL: ClassVar[tuple[str, ...]] = ()

    def pack(self) -> str:
        parts = [self.PREFIX]
        fields = self._fields()
        while fields and fields[-1][0] in self.OPTIONAL and getattr(self, fields[-1][0]) == \
                self._default(fields[-1][0]):
            fields.pop()
        for name, kind in fields:
            value = getattr(self, name)
            text = str(int(value)) if kind is int else str(value)
            pattern = _INT if kind is int else _STR
            if not pattern.fullmatch(text) or (kind is int and abs(int(text)) > MAX_INT):
                raise CallbackTooLong(f"{type(self).__name__}.{name}={value!r} cannot be packed")
            parts.append(text)
        data = SEP.join(parts)
        if len(data.encode("utf-8")) > InlineKeyboardButtonLimit.MAX_CALLBACK_DATA:
            raise CallbackTooLong(f"{data!r} is over {InlineKeyboardButtonLimit.MAX_CALLBACK_DATA} bytes")
        return data

    @classmethod
    def unpack(cls, data: object) -> Self:
        if not isinstance(data, str) or not cls.owns(data):
            raise BadCallbackData(repr(data)[:80])
        rest = data[len(cls.PREFIX):]
        fields = cls._fields()
        parts = rest[1:].split(SEP) if rest else []
        given = len(fields)
        while given > len(parts) and fields[given - 1][0] in cls.OPTIONAL:
            given -= 1
        if len(parts) != given:
            raise BadCallbackData(data)
        fields = fields[:given]
        values: dict[str, Any] = {}
        for (name, kind), part in zip(fields, parts, strict=True):
            if kind is int:
                if not _INT.fullmatch(part) or abs(int(part)) > MAX_INT:
                    raise BadCallbackData(data)
                values[name] = int(part)
            else:
                if not _STR.fullmatch(part):
                    raise BadCallbackData(data)
                values[name] = part
        if any(values[name] == cls._default(name) for name, _ in fields if name in cls.OPTIONAL):
            # an optional field is written only when it is not its default: one spelling a button
            raise BadCallbackData(data)
        return cls(**values)

    @classmethod
    def _default(cls, name: str) -> Any:
        return next(f.default for f in dataclasses.fields(cls) if f.name == name)

    @classmethod
    def owns(cls, data: object) -> bool:
        """True when ``data`` is of this kind (a ``CallbackQueryHandler`` pattern)."""
        if not isinstance(data, str):
            return False
        return data == cls.PREFIX or (data.startswith(cls.PREFIX + SEP) and _longest_prefix(data) is cls)


def _longest_prefix(data: str) -> type[CallbackData] | None:
    tokens = data.split(SEP)
    for cut in range(len(tokens), 0, -1):
        kind = _KINDS.get(SEP.join(tokens[:cut]))
        if kind is not None:
            return kind
    return None


def decode(data: object) -> CallbackData:
    """The button behind ``data``, whatever its kind."""
    kind = _longest_prefix(data) if isinstance(data, str) else None
    if kind is None:
        raise BadCallbackData(repr(data)[:80])
    return kind.unpack(data)


def family(prefix: str) -> Any:
    """A ``CallbackQueryHandler`` pattern for every kind whose prefix starts with ``prefix:``."""
    def matches(data: object) -> bool:
        return isinstance(data, str) and (data == prefix or data.startswith(prefix + SEP))
    return matches


def any_of(*kinds: type[CallbackData]) -> Any:
    """A ``CallbackQueryHandler`` pattern for exactly these kinds (malformed data of theirs too:
    the handler answers it with "this has changed")."""
    def matches(data: object) -> bool:
        return any(kind.owns(data) for kind in kinds)
    return matches


# --- reporting: reminders, /tasks, /report, /review ----------------------------------------

@dataclasses.dataclass(frozen=True)
class ReportItem(CallbackData):
    """Start (or continue) a report on an item; also on reminders."""

    PREFIX: ClassVar[str] = "rp"
    item_id: int


@dataclasses.dataclass(frozen=True)
class ReportAnew(CallbackData):
    """Start a new version of a report on an item (after it was returned)."""

    PREFIX: ClassVar[str] = "rn"
    item_id: int


@dataclasses.dataclass(frozen=True)
class ReportList(CallbackData):
    """A page of the items to report on (a reminder's "all N tasks": ``fresh`` 1 opens it as a
    new message, so the reminder stays; its own ‹ › turn the page in place)."""

    PREFIX: ClassVar[str] = "rk"
    page: int
    fresh: int = 0


@dataclasses.dataclass(frozen=True)
class TasksPage(CallbackData):
    PREFIX: ClassVar[str] = "tk"
    page: int


@dataclasses.dataclass(frozen=True)
class TaskItem(CallbackData):
    PREFIX: ClassVar[str] = "ti"
    item_id: int
    page: int


@dataclasses.dataclass(frozen=True)
class DraftStep(CallbackData):
    """One of a report draft's buttons: the step it was shown at and the action."""

    PREFIX: ClassVar[str] = "d"
    draft_id: int
    step: str
    action: str


@dataclasses.dataclass(frozen=True)
class ReviewAction(CallbackData):
    """Approve (``a``) or return (``r``) one version of a report."""

    PREFIX: ClassVar[str] = "rv"
    report_id: int
    version: int
    action: str


@dataclasses.dataclass(frozen=True)
class ReviewNext(CallbackData):
    PREFIX: ClassVar[str] = "rq"


@dataclasses.dataclass(frozen=True)
class ReviewPage(CallbackData):
    """A page of the waiting reports (for those who look but do not verify)."""

    PREFIX: ClassVar[str] = "rl"
    page: int


@dataclasses.dataclass(frozen=True)
class HistoryPage(CallbackData):
    """An item's report versions, newest first, a page of them."""

    PREFIX: ClassVar[str] = "hi"
    item_id: int
    page: int = 0


# --- explanation requests ------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ExplainAsk(CallbackData):
    """❗ Ask the agency owing an overdue item to explain (the drill-down's button)."""

    PREFIX: ClassVar[str] = "ex:a"
    item_id: int


@dataclasses.dataclass(frozen=True)
class ExplainSend(CallbackData):
    """Send the request being written (with or without a typed question)."""

    PREFIX: ClassVar[str] = "ex:s"
    draft_id: int


@dataclasses.dataclass(frozen=True)
class ExplainCancel(CallbackData):
    """Drop the explanation draft (a request or an answer being written)."""

    PREFIX: ClassVar[str] = "ex:c"
    draft_id: int


@dataclasses.dataclass(frozen=True)
class ExplainReply(CallbackData):
    """Under a request: start answering it."""

    PREFIX: ClassVar[str] = "ex:r"
    request_id: int


@dataclasses.dataclass(frozen=True)
class ExplainSubmit(CallbackData):
    """Send the answer being written."""

    PREFIX: ClassVar[str] = "ex:d"
    draft_id: int


# --- coordinating agencies' contributions ---------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ContributePick(CallbackData):
    """The leads' items an agency may contribute to: of one period (an opening notice's), a page."""

    PREFIX: ClassVar[str] = "cp"
    period: str
    page: int = 0


@dataclasses.dataclass(frozen=True)
class ContributeItem(CallbackData):
    """Start a contribution to one lead's item."""

    PREFIX: ClassVar[str] = "ci"
    item_id: int


@dataclasses.dataclass(frozen=True)
class ContributeStep(CallbackData):
    """A contribution draft's buttons: ``send`` or ``cancel``."""

    PREFIX: ClassVar[str] = "cs"
    draft_id: int
    action: str


# --- calendar links (/calendar) -----------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class CalendarNew(CallbackData):
    """Make a new calendar link (the old one stops working)."""

    PREFIX: ClassVar[str] = "cal:n"


@dataclasses.dataclass(frozen=True)
class CalendarRevoke(CallbackData):
    """Revoke the calendar link."""

    PREFIX: ClassVar[str] = "cal:x"


# --- members and invitations (admins) ---------------------------------------------------------
# The shapes buttons in chats carry: ``iv:a:<agency>``, ``mb:mo:<member>:<agency seen>:<new>``…
# Each carries what the admin saw; models.admin checks it again.


@dataclasses.dataclass(frozen=True)
class InvitePage(CallbackData):
    PREFIX: ClassVar[str] = "iv:p"
    page: int


@dataclasses.dataclass(frozen=True)
class InviteAgency(CallbackData):
    PREFIX: ClassVar[str] = "iv:a"
    agency_id: int


@dataclasses.dataclass(frozen=True)
class InviteRole(CallbackData):
    PREFIX: ClassVar[str] = "iv:r"
    agency_id: int
    role: str


@dataclasses.dataclass(frozen=True)
class InviteUses(CallbackData):
    PREFIX: ClassVar[str] = "iv:u"
    agency_id: int
    role: str
    uses: int


@dataclasses.dataclass(frozen=True)
class MembersList(CallbackData):
    PREFIX: ClassVar[str] = "mb:p"
    page: int


@dataclasses.dataclass(frozen=True)
class MemberShow(CallbackData):
    PREFIX: ClassVar[str] = "mb:v"
    member_id: int


@dataclasses.dataclass(frozen=True)
class MemberMove(CallbackData):
    """The agency picker for a move (``page`` of it)."""

    PREFIX: ClassVar[str] = "mb:m"
    member_id: int
    current: int
    page: int


@dataclasses.dataclass(frozen=True)
class MemberMoveTo(CallbackData):
    PREFIX: ClassVar[str] = "mb:ma"
    member_id: int
    current: int
    target: int


@dataclasses.dataclass(frozen=True)
class MemberMoveConfirm(CallbackData):
    PREFIX: ClassVar[str] = "mb:mo"
    member_id: int
    current: int
    target: int


@dataclasses.dataclass(frozen=True)
class MemberRole(CallbackData):
    PREFIX: ClassVar[str] = "mb:r"
    member_id: int
    current: str


@dataclasses.dataclass(frozen=True)
class MemberRoleTo(CallbackData):
    PREFIX: ClassVar[str] = "mb:ra"
    member_id: int
    current: str
    new: str


@dataclasses.dataclass(frozen=True)
class MemberRoleConfirm(CallbackData):
    PREFIX: ClassVar[str] = "mb:ro"
    member_id: int
    current: str
    new: str


@dataclasses.dataclass(frozen=True)
class MemberDeactivate(CallbackData):
    PREFIX: ClassVar[str] = "mb:d"
    member_id: int


@dataclasses.dataclass(frozen=True)
class MemberDeactivateConfirm(CallbackData):
    PREFIX: ClassVar[str] = "mb:do"
    member_id: int


@dataclasses.dataclass(frozen=True)
class MemberReactivate(CallbackData):
    PREFIX: ClassVar[str] = "mb:e"
    member_id: int


@dataclasses.dataclass(frozen=True)
class MemberReactivateConfirm(CallbackData):
    PREFIX: ClassVar[str] = "mb:eo"
    member_id: int


@dataclasses.dataclass(frozen=True)
class AuditLogPage(CallbackData):
    """/audit: a page of the audit log, newest first (admins)."""

    PREFIX: ClassVar[str] = "au"
    page: int


@dataclasses.dataclass(frozen=True)
class LanguageChoice(CallbackData):
    """/language: the language a member chose (``vi`` or ``en``)."""

    PREFIX: ClassVar[str] = "lg"
    language: str


# --- /status, /chart, /export ---------------------------------------------------------------
# Every /status button is ``st:<kind>:<period>:<id>:<page>[:<plan>]`` (the shape buttons in chats
# carry; ``plan``, the plan's id, only when several plans are in force: 0, the only one); the
# period is checked here, so a button for a period that cannot exist never gets further.


def _check_period(key: str) -> None:
    from models.rollup import parse_period  # models sit below views: the one parser of keys

    try:
        parse_period(key)
    except ValueError:
        raise BadCallbackData(key) from None


@dataclasses.dataclass(frozen=True)
class StatusSummary(CallbackData):
    """The summary of a period (also « Back, and the period arrows)."""

    PREFIX: ClassVar[str] = "st:p"
    period: str
    ident: int = 0  # unused; kept so the wire shape stays the same for every /status button
    page: int = 0
    plan: int = 0
    OPTIONAL: ClassVar[tuple[str, ...]] = ("plan",)

    def __post_init__(self) -> None:
        _check_period(self.period)


@dataclasses.dataclass(frozen=True)
class StatusAxis(CallbackData):
    """One axis: its tasks with their completion, a page of them."""

    PREFIX: ClassVar[str] = "st:a"
    period: str
    number: int
    page: int = 0
    plan: int = 0
    OPTIONAL: ClassVar[tuple[str, ...]] = ("plan",)

    def __post_init__(self) -> None:
        _check_period(self.period)


@dataclasses.dataclass(frozen=True)
class StatusTask(CallbackData):
    """One task: the owing agencies and their state, a page of them."""

    PREFIX: ClassVar[str] = "st:t"
    period: str
    task_id: int
    page: int = 0
    plan: int = 0
    OPTIONAL: ClassVar[tuple[str, ...]] = ("plan",)

    def __post_init__(self) -> None:
        _check_period(self.period)


@dataclasses.dataclass(frozen=True)
class StatusAgency(CallbackData):
    """One agency: its items of the period, a page of them."""

    PREFIX: ClassVar[str] = "st:g"
    period: str
    agency_id: int
    page: int = 0
    plan: int = 0
    OPTIONAL: ClassVar[tuple[str, ...]] = ("plan",)

    def __post_init__(self) -> None:
        _check_period(self.period)


@dataclasses.dataclass(frozen=True)
class StatusOverdue(CallbackData):
    """Every overdue item of the scope, whatever its period: agencies worst first, a page of
    them (``period``: where « Back goes)."""

    PREFIX: ClassVar[str] = "st:o"
    period: str
    ident: int = 0
    page: int = 0
    plan: int = 0
    OPTIONAL: ClassVar[tuple[str, ...]] = ("plan",)

    def __post_init__(self) -> None:
        _check_period(self.period)


@dataclasses.dataclass(frozen=True)
class StatusOverdueAgency(CallbackData):
    """One agency's overdue items, whatever their period."""

    PREFIX: ClassVar[str] = "st:og"
    period: str
    agency_id: int
    page: int = 0
    plan: int = 0
    OPTIONAL: ClassVar[tuple[str, ...]] = ("plan",)

    def __post_init__(self) -> None:
        _check_period(self.period)


@dataclasses.dataclass(frozen=True)
class StatusChart(CallbackData):
    """The completion chart of a period (a PNG)."""

    PREFIX: ClassVar[str] = "st:c"
    period: str
    ident: int = 0
    page: int = 0
    plan: int = 0
    OPTIONAL: ClassVar[tuple[str, ...]] = ("plan",)

    def __post_init__(self) -> None:
        _check_period(self.period)


@dataclasses.dataclass(frozen=True)
class StatusRanking(CallbackData):
    """The ranking of a period: one agency level's league table (``level``: a
    models.rollup.RANK_LEVELS value; empty: the first level shown), a page of it."""

    PREFIX: ClassVar[str] = "st:r"
    period: str
    level: str = ""
    page: int = 0
    plan: int = 0
    OPTIONAL: ClassVar[tuple[str, ...]] = ("plan",)

    def __post_init__(self) -> None:
        _check_period(self.period)


@dataclasses.dataclass(frozen=True)
class PlanPick(CallbackData):
    """The plan chosen for /export or /report_doc when several are in force (``what``: "export"
    or "report_doc"; ``period``: the period key asked for)."""

    PREFIX: ClassVar[str] = "pp"
    what: str
    plan: int
    period: str

    def __post_init__(self) -> None:
        if self.what not in ("export", "report_doc"):
            raise BadCallbackData(self.what)
        _check_period(self.period)


# --- groups and broadcasts --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GroupPurpose(CallbackData):
    """/group: what the group is for (a ``ChatPurpose`` value)."""

    PREFIX: ClassVar[str] = "grp:p"
    purpose: str


@dataclasses.dataclass(frozen=True)
class GroupClass(CallbackData):
    """/group: the agency class a class group is for."""

    PREFIX: ClassVar[str] = "grp:c"
    class_id: int


@dataclasses.dataclass(frozen=True)
class GroupLanguage(CallbackData):
    PREFIX: ClassVar[str] = "grp:l"
    language: str


@dataclasses.dataclass(frozen=True)
class BroadcastAudience(CallbackData):
    """A draft's audience: a code of ``views.broadcasts.AUDIENCES``, or ``x`` (type a name)."""

    PREFIX: ClassVar[str] = "bc:a"
    broadcast_id: int
    code: str


@dataclasses.dataclass(frozen=True)
class BroadcastToggleAck(CallbackData):
    """Turn the "received" button of a draft on or off."""

    PREFIX: ClassVar[str] = "bc:k"
    broadcast_id: int


@dataclasses.dataclass(frozen=True)
class BroadcastSend(CallbackData):
    PREFIX: ClassVar[str] = "bc:ok"
    broadcast_id: int


@dataclasses.dataclass(frozen=True)
class BroadcastChange(CallbackData):
    """Choose the draft's audience again."""

    PREFIX: ClassVar[str] = "bc:ch"
    broadcast_id: int


@dataclasses.dataclass(frozen=True)
class BroadcastCancel(CallbackData):
    PREFIX: ClassVar[str] = "bc:no"
    broadcast_id: int


@dataclasses.dataclass(frozen=True)
class BroadcastReceived(CallbackData):
    """A recipient's "received" button."""

    PREFIX: ClassVar[str] = "bc:ack"
    broadcast_id: int


@dataclasses.dataclass(frozen=True)
class BroadcastRetry(CallbackData):
    """The final report: queue the failed messages again (the sender only)."""

    PREFIX: ClassVar[str] = "bc:rt"
    broadcast_id: int


@dataclasses.dataclass(frozen=True)
class BroadcastWho(CallbackData):
    """The final report: who confirmed receipt (the sender only)."""

    PREFIX: ClassVar[str] = "bc:who"
    broadcast_id: int


# --- /event -----------------------------------------------------------------------------------
# The choices so far travel in the buttons (``day`` is the event's date as yyyymmdd); each is
# checked again on the server by models.events.


def _check_day(day: int) -> None:
    try:
        _day(day)
    except ValueError:
        raise BadCallbackData(str(day)) from None


def _day(day: int) -> date:
    if not 10_000_101 <= day <= 99_991_231:
        raise ValueError(day)
    return date(day // 10_000, day // 100 % 100, day % 100)


def ymd(day: date) -> int:
    """A date as a button carries it."""
    return day.year * 10_000 + day.month * 100 + day.day


@dataclasses.dataclass(frozen=True)
class EventPlan(CallbackData):
    """/event with several plans in force: the event-driven tasks of the plan chosen."""

    PREFIX: ClassVar[str] = "ev:p"
    plan: int


@dataclasses.dataclass(frozen=True)
class EventTask(CallbackData):
    PREFIX: ClassVar[str] = "ev:t"
    task_id: int


@dataclasses.dataclass(frozen=True)
class EventDate(CallbackData):
    PREFIX: ClassVar[str] = "ev:d"
    task_id: int
    day: int

    def __post_init__(self) -> None:
        _check_day(self.day)

    @property
    def occurred_on(self) -> date:
        return _day(self.day)


@dataclasses.dataclass(frozen=True)
class EventDays(CallbackData):
    PREFIX: ClassVar[str] = "ev:n"
    task_id: int
    day: int
    days: int

    def __post_init__(self) -> None:
        _check_day(self.day)

    @property
    def occurred_on(self) -> date:
        return _day(self.day)


@dataclasses.dataclass(frozen=True)
class EventConfirm(CallbackData):
    """Record the event: single use (models.events deletes the matching draft)."""

    PREFIX: ClassVar[str] = "ev:ok"
    task_id: int
    day: int
    days: int

    def __post_init__(self) -> None:
        _check_day(self.day)

    @property
    def occurred_on(self) -> date:
        return _day(self.day)


@dataclasses.dataclass(frozen=True)
class EventCancel(CallbackData):
    PREFIX: ClassVar[str] = "ev:x"


# --- numeric targets: /targets (admins) ----------------------------------------------------

@dataclasses.dataclass(frozen=True)
class TargetConfirm(CallbackData):
    """Store the target previewed from the admin's typed line (its draft row)."""

    PREFIX: ClassVar[str] = "tg:ok"
    draft_id: int


@dataclasses.dataclass(frozen=True)
class TargetDiscard(CallbackData):
    PREFIX: ClassVar[str] = "tg:x"
    draft_id: int


@dataclasses.dataclass(frozen=True)
class TargetsOfPlan(CallbackData):
    """/targets with several plans in force: the list of the plan chosen (``year`` 0: every
    year)."""

    PREFIX: ClassVar[str] = "tg:p"
    plan: int
    year: int


@dataclasses.dataclass(frozen=True)
class TargetDraftPlan(CallbackData):
    """The plan a typed target is for, when several are in force (the line waits in the
    admin's draft row)."""

    PREFIX: ClassVar[str] = "tg:dp"
    draft_id: int
    plan: int


# --------------------------------------------------------------------------- plan documents in chat


@dataclasses.dataclass(frozen=True)
class PlanImportAs(CallbackData):
    """The answer to "a plan to import, or evidence for a report?" (``plan``: 1 or 0)."""

    PREFIX: ClassVar[str] = "pi:a"
    import_id: int
    plan: int


@dataclasses.dataclass(frozen=True)
class PlanImportApply(CallbackData):
    """Apply the preview (``retire``: 1 once the retiring of tasks was confirmed)."""

    PREFIX: ClassVar[str] = "pi:ok"
    import_id: int
    retire: int


@dataclasses.dataclass(frozen=True)
class PlanImportCancel(CallbackData):
    PREFIX: ClassVar[str] = "pi:x"
    import_id: int


# --- extension requests -------------------------------------------------------------------------
# Checked again on the server by models.extensions (who presses, the item, the request's state).


@dataclasses.dataclass(frozen=True)
class ExtensionAsk(CallbackData):
    """A focal point asks for a later due date of an item (task card, overdue reminders)."""

    PREFIX: ClassVar[str] = "xa"
    item_id: int


@dataclasses.dataclass(frozen=True)
class ExtensionSend(CallbackData):
    """Send the request the draft holds (single use: the draft goes with it)."""

    PREFIX: ClassVar[str] = "xa:ok"
    draft_id: int


@dataclasses.dataclass(frozen=True)
class ExtensionCancel(CallbackData):
    PREFIX: ClassVar[str] = "xa:x"


@dataclasses.dataclass(frozen=True)
class ExtensionDecide(CallbackData):
    """A coordinator on a request: approve (``a``), shorten (``s``: type a date), refuse (``r``:
    type a reason)."""

    PREFIX: ClassVar[str] = "xd"
    request_id: int
    action: str
