"""Rendering claimed ledger rows into messages, in each recipient's language.

This runs after the claim is committed, in a read-only session of its own: no row or advisory
lock is held while a digest's roll-up is computed. What is the same for many recipients (a
broadcast, a digest of one scope, a notice about one report) is rendered once per language and
kept in a :class:`RenderCache` for the whole dispatcher run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select
from telegram import InlineKeyboardMarkup

from domain.periods import QUARTER
from domain.rules import ScheduleRules
from domain.slots import COORDINATOR, is_quiet
from models import extensions, ledger
from models.broadcasts import Copy
from models.coordination import opened_tasks
from models.explanations import notice_subject
from models.items import item_row
from models.ledger import Check, Claim, Claimed, Held
from models.overdue import named_agencies
from models.registry import several_in_force
from models.rollup import current_period
from models.tables import Agency, Broadcast, Chat, Item, Member, Plan, Report, Task
from scheduler.digests import render_digest
from views import explanations as explanation_views
from views import reports as report_views
from views.broadcasts import broadcast_messages
from views.contributions import opening_notice
from views.contributions import report_notice as coordinated_report_notice
from views.escalations import EscalatedAgency, render_escalation
from views.extensions import decided_notice, request_notice
from views.i18n import use_locale
from views.notices import blocked_notice, verified_notice
from views.reminders import (
    ReminderLine,
    render_reminder,
    render_review_notice,
    render_unreachable_notice,
)


@dataclass
class Outgoing:
    """One message to send: the rows it settles (held under their claim), and what it says."""

    chat_id: int
    held: Held
    member_id: int | None
    text: str
    markup: InlineKeyboardMarkup | None
    document: str | None = None  # a file_id: sent as a document with ``text`` as caption
    silent: bool = False  # sent without a notification sound
    keys: list[str] = field(default_factory=list)  # the ledger keys, for the logs
    attempts: int = 1  # of its rows, the most (sets the backoff after a 5xx)
    check: Check | None = None  # a notice is checked for staleness right before it is sent

    @property
    def row_ids(self) -> tuple[int, ...]:
        return self.held.ids


@dataclass(frozen=True)
class BroadcastContent:
    text: str
    document: str | None
    ack: bool


@dataclass
class RenderCache:
    """Texts rendered during one dispatcher run, by (what, subject, language)."""

    texts: dict[tuple[str, int | None, str], tuple[str, InlineKeyboardMarkup | None] | None] = \
        field(default_factory=dict)
    broadcasts: dict[int, BroadcastContent | None] = field(default_factory=dict)

    def get(self, what: str, subject: int | None, language: str,
            make: Callable[[], tuple[str, InlineKeyboardMarkup | None] | None]) \
            -> tuple[str, InlineKeyboardMarkup | None] | None:
        key = (what, subject, language)
        if key not in self.texts:
            self.texts[key] = make()
        return self.texts[key]


def _languages(session: Session, rows: list[Claimed], default: str) -> Callable[[Claimed], str]:
    """Each row's language: its member's, else its group's, else the default."""
    member_ids = {r.member_id for r in rows if r.member_id is not None}
    group_ids = {r.chat_id for r in rows if r.member_id is None}
    members: dict[int | None, str | None] = {}
    groups: dict[int, str | None] = {}
    if member_ids:
        members.update(session.exec(select(Member.id, Member.language)
                                    .where(col(Member.id).in_(member_ids))).all())
    if group_ids:
        groups.update(session.exec(select(Chat.telegram_chat_id, Chat.language)
                                   .where(col(Chat.telegram_chat_id).in_(group_ids))).all())

    def language(row: Claimed) -> str:
        found = members.get(row.member_id) if row.member_id is not None else groups.get(row.chat_id)
        return found or default
    return language


def _reminder_lines(session: Session, item_ids: set[int]) -> dict[int, ReminderLine]:
    if not item_ids:
        return {}
    # A closed plan's items are left out: their rows, planned before it closed, say nothing.
    query = (select(Item, Task, Agency, Plan.number).join(Task, col(Task.id) == Item.task_id)
             .join(Plan, col(Plan.id) == Task.plan_id)
             .join(Agency, col(Agency.id) == Item.agency_id)
             .where(col(Item.id).in_(item_ids), col(Plan.archived_at).is_(None)))
    several = several_in_force(session)  # then each line names its plan
    return {item.id: ReminderLine(item.id, task.code, task.task, agency.name, item.due_on, item.state,
                                  period=item.period_key, plan=number if several else "")
            for item, task, agency, number in session.exec(query) if item.id is not None}


@dataclass
class _Renderer:
    session: Session
    claim: Claim
    now: datetime
    rules: ScheduleRules
    language: Callable[[Claimed], str]
    cache: RenderCache

    def message(self, rows: list[Claimed], text: str, markup: InlineKeyboardMarkup | None, *,
                document: str | None = None, silent: bool = False,
                check: Check | None = None) -> Outgoing:
        first = rows[0]
        return Outgoing(first.chat_id, self.claim.held(r.id for r in rows), first.member_id, text,
                        markup, document=document, silent=silent, keys=[r.key for r in rows],
                        attempts=max(r.attempts for r in rows), check=check)

    def reminders(self, rows: list[Claimed], lines: dict[int, ReminderLine]) -> Outgoing | None:
        found = [lines[r.item_id] for r in rows if r.item_id in lines]
        if not found:
            return None
        unique = list({ln.item_id: ln for ln in found}.values())
        first = rows[0]
        if first.audience == COORDINATOR:
            return self.escalation(rows, [ln.item_id for ln in unique])
        message = render_reminder(unique, audience=first.audience, language=self.language(first),
                                  today=self.now.astimezone(self.rules.tz).date())
        return self.message(rows, message.text, message.markup)

    def escalation(self, rows: list[Claimed], item_ids: list[int]) -> Outgoing:
        """A coordinator's overdue items as one message: per agency the count, worst first."""
        counts: dict[int, int] = defaultdict(int)
        for start in range(0, len(item_ids), 500):
            chunk = item_ids[start:start + 500]
            for agency_id, n in self.session.exec(select(Item.agency_id, func.count())
                                                  .where(col(Item.id).in_(chunk))
                                                  .group_by(col(Item.agency_id))):
                counts[int(agency_id)] += int(n)
        agencies = [EscalatedAgency(a.name, a.code, a.overdue, a.staffed)
                    for a in named_agencies(self.session, dict(counts))]
        today = self.now.astimezone(self.rules.tz).date()
        message = render_escalation(agencies, language=self.language(rows[0]),
                                    period_key=current_period(QUARTER, today, self.rules.due).key)
        return self.message(rows, message.text, message.markup)

    def notice(self, row: Claimed) -> Outgoing | None:
        language = self.language(row)
        if row.detail in ledger.EXPLANATION_NOTICES:
            return self.explanation(row, language)
        rendered = self.cache.get(f"notice:{row.detail}", row.ref_id, language,
                                  lambda: self._notice_text(row, language))
        if rendered is None:
            return None
        check = Check(row.detail, row.ref_id) if row.detail in ledger.CHECKED_NOTICES else None
        return self.message([row], *rendered, check=check)

    def explanation(self, row: Claimed, language: str) -> Outgoing | None:
        """A notice about an explanation request; the answer goes with its document, if any.
        Asks and reminders are checked right before sending: the request must still be open."""
        found = notice_subject(self.session, row.ref_id)
        if found is None:
            return None
        document = found.request.answer_file_id or None if row.detail == ledger.EXPLAINED_NOTICE else None
        if row.detail == ledger.EXPLAIN_NOTICE:
            text, markup = explanation_views.request_notice(found, language)
        elif row.detail == ledger.EXPLAIN_ESCALATED_NOTICE:
            text, markup = explanation_views.escalation_notice(found, language)
        elif row.detail == ledger.EXPLAINED_NOTICE:
            text, markup = explanation_views.answered_notice(found, language, caption=document is not None)
        else:
            today = self.now.astimezone(self.rules.tz).date()
            text, markup = explanation_views.reminder_notice(found, language, today)
        check = Check(row.detail, row.ref_id) if row.detail in ledger.OPEN_EXPLANATION_NOTICES else None
        return self.message([row], text, markup, document=document, check=check)

    def _notice_text(self, row: Claimed, language: str) -> tuple[str, InlineKeyboardMarkup | None] | None:
        session = self.session
        if row.detail == ledger.REVIEW_NOTICE:
            found = session.exec(select(Task.code, Agency.name).select_from(Report)
                                 .join(Item, col(Item.id) == Report.item_id)
                                 .join(Task, col(Task.id) == Item.task_id)
                                 .join(Agency, col(Agency.id) == Item.agency_id)
                                 .where(col(Report.id) == row.ref_id)).first()
            if found is None:
                return None
            return render_review_notice(code=found[0], agency=found[1], language=language), None
        if row.detail in (ledger.BLOCKED_NOTICE, ledger.VERIFIED_NOTICE):
            return self._report_notice(row, language)
        if row.detail in (ledger.EXTENSION_NOTICE, ledger.EXTENSION_DECIDED_NOTICE):
            request = extensions.request_row(session, row.ref_id) if row.ref_id else None
            if request is None:
                return None
            notice = request_notice if row.detail == ledger.EXTENSION_NOTICE else decided_notice
            return notice(request, language)
        if row.detail.startswith(ledger.OPENING_NOTICE):
            return self._opening_notice(row, language)
        if row.detail == ledger.COORDINATED_REPORT_NOTICE:
            return self._coordinated_report_notice(row, language)
        if row.detail == ledger.RETURNED_NOTICE:
            report = session.get(Report, row.ref_id) if row.ref_id else None
            item = item_row(session, report.item_id) if report is not None else None
            if report is None or item is None:
                return None
            with use_locale(language):
                return report_views.returned_notice(item, report.review_reason)
        subject = session.get(Member, row.ref_id) if row.ref_id else None
        agency = session.get(Agency, subject.agency_id) if subject and subject.agency_id else None
        return render_unreachable_notice(member_name=subject.full_name if subject else "?",
                                         agency=agency.name if agency else "-", language=language), None

    def _opening_notice(self, row: Claimed, language: str) -> tuple[str, InlineKeyboardMarkup] | None:
        """A period began for tasks an agency coordinates: the tasks as they stand when sent."""
        agency = self.session.get(Agency, row.ref_id) if row.ref_id else None
        if agency is None or agency.id is None:
            return None
        period = row.detail[len(ledger.OPENING_NOTICE):]
        return opening_notice(agency=agency.name, period=period, language=language,
                              tasks=opened_tasks(self.session, agency.id, period))

    def _coordinated_report_notice(self, row: Claimed,
                                   language: str) -> tuple[str, InlineKeyboardMarkup] | None:
        found = self.session.exec(select(Report, Task.code, Task.task, Agency.name,  # type: ignore[call-overload]
                                         Item.period_key).select_from(Report)
                                  .join(Item, col(Item.id) == Report.item_id)
                                  .join(Task, col(Task.id) == Item.task_id)
                                  .join(Agency, col(Agency.id) == Item.agency_id)
                                  .where(col(Report.id) == row.ref_id)).first()
        if found is None:
            return None
        report, code, task, lead, period = found
        return coordinated_report_notice(code=code, task=task, lead=lead, period=period,
                                         version=report.version, note=report.note,
                                         item_id=report.item_id, language=language)

    def _report_notice(self, row: Claimed, language: str) -> tuple[str, InlineKeyboardMarkup | None] | None:
        found = self.session.exec(select(Report, Task.code, Agency.name, Item.period_key).select_from(Report)
                                  .join(Item, col(Item.id) == Report.item_id)
                                  .join(Task, col(Task.id) == Item.task_id)
                                  .join(Agency, col(Agency.id) == Item.agency_id)
                                  .where(col(Report.id) == row.ref_id)).first()
        if found is None:
            return None
        report, code, agency, period = found
        if row.detail == ledger.BLOCKED_NOTICE:
            sender = self.session.get(Member, report.member_id)
            return blocked_notice(code=code, agency=agency, reason=report.note, item_id=report.item_id,
                                  sender=sender.full_name if sender else "?", language=language)
        reviewer = self.session.get(Member, report.reviewed_by) if report.reviewed_by else None
        return verified_notice(code=code, period=period, reviewer=reviewer.full_name if reviewer else "?",
                               version=report.version, item_id=report.item_id, language=language)

    def digest(self, row: Claimed) -> Outgoing | None:
        language = self.language(row)
        rendered = self.cache.get("digest", row.ref_id, language, lambda: self._digest_text(row, language))
        return self.message([row], *rendered) if rendered is not None else None

    def _digest_text(self, row: Claimed, language: str) -> tuple[str, None] | None:
        text = render_digest(self.session, row.ref_id, language, self.rules.tz)
        return (text, None) if text else None

    def broadcast(self, row: Claimed, quiet: bool) -> Outgoing | None:
        content = self.cache.broadcasts.get(row.ref_id) if row.ref_id is not None else None
        if content is None or row.ref_id is None:
            return None
        broadcast_id = row.ref_id
        language = self.language(row)

        def render_copy() -> tuple[str, InlineKeyboardMarkup | None]:
            # The "received" button speaks the recipient's language; the rest is the sender's.
            copy = Copy(row.chat_id, row.id, row.member_id, broadcast_id, content.text,
                        content.document, content.ack, language)
            (message,) = broadcast_messages([copy])
            return message.text, message.markup
        rendered = self.cache.get("broadcast", broadcast_id, language, render_copy)
        assert rendered is not None
        # Not held back by quiet hours (the sender is watching it go out), but silent then.
        return self.message([row], *rendered, document=content.document, silent=quiet)


def _load_broadcasts(session: Session, rows: list[Claimed], cache: RenderCache) -> None:
    """Each broadcast's content, read once per dispatcher run."""
    wanted = {r.ref_id for r in rows if r.kind == ledger.BROADCAST and r.ref_id is not None}
    wanted -= set(cache.broadcasts)
    if not wanted:
        return
    found = {b.id: BroadcastContent(b.text, b.document_file_id, b.ack_enabled)
             for b in session.exec(select(Broadcast).where(col(Broadcast.id).in_(wanted)))}
    for broadcast_id in wanted:
        cache.broadcasts[broadcast_id] = found.get(broadcast_id)


def _group(rows: list[Claimed]) -> dict[tuple[int, str], list[Claimed]]:
    """One person's reminders of one audience make one message; every other row its own."""
    groups: dict[tuple[int, str], list[Claimed]] = defaultdict(list)
    for row in rows:
        groups[(row.chat_id, f"r:{row.audience}" if row.kind == ledger.REMINDER else f"{row.kind}:{row.id}")
               ].append(row)
    return groups


def render(engine: Engine, claim: Claim, now: datetime, rules: ScheduleRules, default_language: str,
           cache: RenderCache) -> tuple[list[Outgoing], list[Held]]:
    """The messages of the claimed rows, in claim order; and the rows with nothing to say (their
    subject vanished meanwhile), to be settled as skipped."""
    quiet = is_quiet(now.astimezone(rules.tz), rules.policy)
    out: list[Outgoing] = []
    empty: list[Held] = []
    with Session(engine) as session:  # read only: nothing to commit, no locks kept
        rows = claim.rows
        renderer = _Renderer(session, claim, now, rules, _languages(session, rows, default_language), cache)
        lines = _reminder_lines(session, {r.item_id for r in rows
                                          if r.kind == ledger.REMINDER and r.item_id is not None})
        _load_broadcasts(session, rows, cache)
        for group in _group(rows).values():
            first = group[0]
            made: Any
            if first.kind == ledger.REMINDER:
                made = renderer.reminders(group, lines)
            elif first.kind == ledger.NOTICE:
                made = renderer.notice(first)
            elif first.kind == ledger.DIGEST:
                made = renderer.digest(first)
            elif first.kind == ledger.BROADCAST:
                made = renderer.broadcast(first, quiet)
            else:
                made = None
            if made is None:
                empty.append(claim.held(r.id for r in group))
            else:
                out.append(made)
    return out, empty
