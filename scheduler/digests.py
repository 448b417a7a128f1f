"""Leaders' digests: unasked, weekly (DONDOC_DIGEST_WEEKDAY at DONDOC_DIGEST_AT) and at each
quarter's end, to leaders and to the chats registered as leaders' groups.

Planning a digest stores its snapshot (a ``digest`` row per slot and scope, unique) and one
delivery-ledger row per recipient with the key ``digest:{period}:{slot}:{chat_id}``; both are
inserted with ON CONFLICT DO NOTHING, so planning again (each tick, after a restart, on another
instance) never adds a second one. Only slots at most the grace window old are planned, so a
long downtime does not flood leaders with stale digests. The dispatcher renders the text when it
sends: the roll-up of the period for the recipient's scope (the same numbers as /status) and
what changed since the previous digest of that scope.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.access import EVERYTHING, Scope
from domain.periods import QUARTER, period_containing
from domain.rules import WEEKDAYS, ScheduleRules, parse_hhmm
from models import ledger
from models.db import insert_ignore, session_scope
from models.overdue import backlog, overdue_by_agency
from models.registry import active_plans, current_plan
from models.rollup import Rollup, compute_rollup, parse_period, scope_for
from models.tables import Agency, Chat, ChatPurpose, Digest, Member, MemberRole, Plan
from models.types import utcnow
from scheduler.config import BotConfig
from views.html import clip, esc
from views.i18n import format_date, format_number, ngettext, use_locale
from views.i18n import gettext as _
from views.labels import axis_name
from views.rollup import bar, changes_lines, counts_lines, period_label
from views.status import backlog_line

DIGEST = ledger.DIGEST
LAGGING = 5  # agencies named in a digest, most overdue first


@dataclass(frozen=True)
class DigestSlot:
    """One digest occasion: the week's (``w2026-47``) or the period's end (``end``)."""

    name: str
    period: str
    at: datetime  # aware, UTC


@dataclass(frozen=True)
class Recipient:
    chat_id: int
    member_id: int | None
    scope: Scope


def weekly_slot(now: datetime, rules: ScheduleRules, weekday: str, at: str) -> DigestSlot:
    """The latest weekly slot at or before ``now``; its period is the quarter it falls in."""
    local = now.astimezone(rules.tz)
    when = parse_hhmm(at)
    day = local.date() - timedelta(days=(local.weekday() - WEEKDAYS.index(weekday)) % 7)
    slot = datetime.combine(day, when, tzinfo=rules.tz)
    if slot > local:
        day -= timedelta(days=7)
        slot = datetime.combine(day, when, tzinfo=rules.tz)
    year, week, _weekday = day.isocalendar()
    period = period_containing(QUARTER, day, rules.due)
    return DigestSlot(f"w{year}-{week:02d}", period.key, slot.astimezone(UTC))


def period_end_slot(now: datetime, rules: ScheduleRules, at: str) -> DigestSlot:
    """The latest quarter-end slot (the quarter's last day at ``at``) at or before ``now``."""
    local = now.astimezone(rules.tz)
    period = period_containing(QUARTER, local.date(), rules.due)
    slot = datetime.combine(period.end, parse_hhmm(at), tzinfo=rules.tz)
    if slot > local:
        period = period_containing(QUARTER, period.start - timedelta(days=1), rules.due)
        slot = datetime.combine(period.end, parse_hhmm(at), tzinfo=rules.tz)
    return DigestSlot("end", period.key, slot.astimezone(UTC))


def due_slots(now: datetime, rules: ScheduleRules, weekday: str, at: str) -> list[DigestSlot]:
    """The slots to plan now: those at most the grace window old."""
    slots = [weekly_slot(now, rules, weekday, at), period_end_slot(now, rules, at)]
    return [s for s in slots if now - rules.grace <= s.at <= now]


def recipients(session: Session) -> list[Recipient]:
    """Reachable leaders (with their scope) and active leaders' groups (province-wide)."""
    found = []
    leaders = select(Member).where(Member.role == MemberRole.LEADER.value, col(Member.active),
                                   col(Member.unreachable_at).is_(None))
    for member in session.exec(leaders):
        scope = scope_for(session, member)
        if scope is not None and member.id is not None:
            found.append(Recipient(member.telegram_user_id, member.id, scope))
    groups = select(Chat).where(Chat.purpose == ChatPurpose.LEADERS.value, col(Chat.active),
                                col(Chat.can_post))
    found += [Recipient(chat.telegram_chat_id, None, EVERYTHING) for chat in session.exec(groups)]
    return found


def delivery_key(slot: DigestSlot, chat_id: int, plan_id: int = 0) -> str:
    """The digest's ledger key (``plan_id``: the plan's, when several plans are in force: one
    digest each)."""
    key = f"digest:{slot.period}:{slot.name}:{chat_id}"
    return f"{key}:p{plan_id}" if plan_id else key


def _digest_scope(scope: Scope, plan_id: int) -> str:
    """A digest row's scope: the scope's key, and the plan's id when several are in force."""
    return f"{scope.key}|{plan_id}" if plan_id else scope.key


def plan_digests(session: Session, now: datetime, rules: ScheduleRules, weekday: str, at: str) -> int:
    """Snapshot and ledger rows for every digest due now, one per plan in force (a closed plan
    gets none); returns how many rows were added."""
    plans = active_plans(session)
    slots = due_slots(now, rules, weekday, at)
    if not plans or not slots:
        return 0
    people = recipients(session)
    added = 0
    for plan, slot in ((p, s) for p in plans for s in slots):
        which = int(plan.id or 0) if len(plans) > 1 else 0
        known = ledger.known_keys(session, (delivery_key(slot, r.chat_id, which) for r in people))
        todo = [r for r in people if delivery_key(slot, r.chat_id, which) not in known]
        if not todo:
            continue
        period = parse_period(slot.period, rules.due)
        today = slot.at.astimezone(rules.tz).date()
        digests: dict[str, int] = {}
        for scope in {r.scope for r in todo}:
            snapshot = compute_rollup(session, plan, period, today, scope).as_dict()
            digests[scope.key] = _digest_id(session, slot, _digest_scope(scope, which), snapshot)
        added += ledger.plan(session, [
            ledger.new_row(key=delivery_key(slot, r.chat_id, which), kind=DIGEST, chat_id=r.chat_id,
                           member_id=r.member_id, ref_id=digests[r.scope.key], at=slot.at, now=now,
                           detail=slot.name, audience="leader") for r in todo])
    return added


def _digest_id(session: Session, slot: DigestSlot, scope: str, snapshot: dict[str, object]) -> int:
    insert_ignore(session, Digest, [{
        "slot": f"{slot.period}:{slot.name}", "period": slot.period, "scope": scope,
        "slot_at": slot.at, "snapshot": json.dumps(snapshot), "created_at": utcnow()}],
        ("slot", "scope"))
    found = session.exec(select(Digest.id).where(Digest.slot == f"{slot.period}:{slot.name}",
                                                 Digest.scope == scope)).one()
    assert found is not None
    return found


def plan_digests_now(engine: Engine, config: BotConfig, now: datetime | None = None) -> int:
    """The tick's step (runs in a worker thread)."""
    with session_scope(engine) as session:
        return plan_digests(session, now or utcnow(), config.rules, config.digest_weekday, config.digest_at)


# --- rendering (by the dispatcher once the claim is committed, no locks held) ---------------

def _plan_of_key(session: Session, key: str) -> tuple[Plan | None, bool]:
    """The plan a digest row is about (its scope's ``|<plan id>``; none: the newest in force),
    and whether it names one."""
    _scope, sep, plan_id = key.partition("|")
    if sep and plan_id.isdigit():
        return session.get(Plan, int(plan_id)), True
    return current_plan(session), False


def _scope_from_key(key: str) -> Scope:
    key = key.partition("|")[0]
    if key == "all":
        return EVERYTHING
    kind, _sep, ident = key.partition(":")
    return Scope(int(ident), subtree=kind == "tree")


def render_digest(session: Session, digest_id: int | None, language: str, tz: tzinfo) -> str | None:
    """The text of digest ``digest_id`` in ``language``; None if its snapshot is gone."""
    digest = session.get(Digest, digest_id) if digest_id else None
    plan, named = _plan_of_key(session, digest.scope) if digest is not None else (None, False)
    if digest is None or plan is None or digest.id is None or (named and plan.archived_at is not None):
        return None
    previous = session.exec(select(Digest).where(Digest.scope == digest.scope, col(Digest.id) < digest.id)
                            .order_by(col(Digest.id).desc())).first()
    scope = _scope_from_key(digest.scope)
    period = parse_period(digest.period)
    today: date = digest.slot_at.astimezone(tz).date()
    with use_locale(language):
        rollup = compute_rollup(session, plan, period, today, scope)
        return "\n".join(digest_lines(session, rollup, digest, previous, plan if named else None))


def digest_lines(session: Session, rollup: Rollup, digest: Digest, previous: Digest | None,
                 named: Plan | None = None) -> list[str]:
    """Totals, axes, the most overdue agencies and the changes: about 30 short lines, well
    within one message."""
    scope = _scope_from_key(digest.scope)
    label = _("whole province")
    if not scope.everything:
        agency = session.get(Agency, scope.root_id)
        label = agency.name if agency else "?"
    heading = (_("🗓 <b>Period-end digest — {period}</b>") if digest.slot.endswith(":end")
               else _("🗓 <b>Weekly digest — {period}</b>"))
    lines = [heading.format(period=esc(period_label(rollup.period))),
             _("Scope: {scope} · as of {date}").format(
                 scope=esc(clip(label, 300) if named is None else _("{scope} · plan {number}").format(
                     scope=clip(label, 300), number=clip(named.number, 64))), date=format_date(rollup.today)),
             "", *counts_lines(rollup.totals), "", _("<b>Completion by axis</b>")]
    lines += [f"{a.number}. {esc(axis_name(a.number, a.name))}: <code>{bar(a.counts.ratio)}</code>"
              for a in rollup.axes]
    plan = named or current_plan(session)
    late = overdue_by_agency(session, plan, rollup.today, scope) if plan is not None else []
    earlier = backlog(session, plan, rollup.today, scope, rollup.period.start) if plan is not None else None
    if earlier is not None and earlier.items:
        lines += ["", backlog_line(earlier.items)]
    if late:
        # The lagging agencies by name: most overdue items first, whatever their period.
        lines += ["", _("<b>Lagging agencies</b> (overdue items, every period)")]
        lines += [ngettext("• {agency}: {n} overdue item", "• {agency}: {n} overdue items",
                           a.overdue).format(agency=esc(clip(a.name, 200)), n=format_number(a.overdue))
                  for a in late[:LAGGING]]
        if len(late) > LAGGING:
            lines.append(ngettext("…and {n} more agency", "…and {n} more agencies", len(late) - LAGGING)
                         .format(n=format_number(len(late) - LAGGING)))
    lines += ["", *changes_lines(json.loads(digest.snapshot),
                                 json.loads(previous.snapshot) if previous else None)]
    lines += ["", _("Details: /status")]
    return lines
