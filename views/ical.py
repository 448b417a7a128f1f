"""A calendar feed as iCalendar (RFC 5545), with the ``icalendar`` package: one all-day VEVENT per
deadline (its UID stable across re-planning, the task code in the summary, the task in the
description) and, while something is still owed, a VALARM at each reminder the policy plans
before and on the due day (``domain.slots.plan_slots``: the same days and time as the chat's
reminders). Words in the member's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

from domain.slots import BEFORE, DUE, ReminderPolicy, plan_slots
from models.calendar_feeds import Feed, FeedEvent
from views.html import clip
from views.i18n import format_date, ngettext
from views.i18n import gettext as _
from views.labels import state_name

UID_DOMAIN = "dondoc"


def _summary(event: FeedEvent, summed: bool) -> str:
    if summed:
        return ngettext("{code}: {owing}/{total} agency still owes",
                        "{code}: {owing}/{total} agencies still owe", event.total).format(
                            code=event.task_code, owing=event.owing, total=event.total)
    if event.owing:
        return _("{code}: report due").format(code=event.task_code)
    return _("{code}: {state}").format(code=event.task_code, state=state_name(event.state or ""))


def _description(event: FeedEvent, summed: bool) -> str:
    lines = [clip(event.task_text, 1000), "",
             _("Reporting period: {period}").format(period=event.period_key),
             _("Due: {date}").format(date=format_date(event.due_on))]
    if summed:
        if event.agency_name:
            lines.append(_("Scope: {scope}").format(scope=event.agency_name))
    else:
        lines.append(_("Agency: {agency}").format(agency=event.agency_name))
        lines.append(_("State: {state}").format(state=state_name(event.state or "")))
    lines.append(_("Report in the bot with /report."))
    return "\n".join(lines)


def _alarms(event: FeedEvent, feed: Feed, policy: ReminderPolicy, tz: ZoneInfo, now: datetime) -> list[Alarm]:
    if not event.owing:
        return []
    alarms = []
    for slot in plan_slots(event.due_on, calendar=feed.calendar, policy=policy, tz=tz):
        if slot.kind not in (BEFORE, DUE) or slot.at < now:
            continue
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        text = (_("{code} is due today").format(code=event.task_code) if slot.kind == DUE else
                ngettext("{code} is due in {n} day", "{code} is due in {n} days", slot.offset_days).format(
                    code=event.task_code, n=slot.offset_days))
        alarm.add("description", text)
        alarm.add("trigger", slot.at.astimezone(UTC))
        alarms.append(alarm)
    return alarms


def feed_ics(feed: Feed, policy: ReminderPolicy, tz: ZoneInfo, now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//dondoc//deadlines//VI")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = _("Deadlines — {name}").format(name=feed.scope_name or feed.member_name or "dondoc")
    calendar.add("x-wr-calname", clip(name, 200))
    calendar.add("x-wr-timezone", str(tz))
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    stamp = now.astimezone(UTC)
    for item in feed.events:
        event = Event()
        event.add("uid", f"{item.uid}@{UID_DOMAIN}")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.due_on)
        event.add("dtend", item.due_on + timedelta(days=1))
        event.add("summary", _summary(item, feed.summed))
        event.add("description", _description(item, feed.summed))
        event.add("transp", "TRANSPARENT")
        for alarm in _alarms(item, feed, policy, tz, now):
            event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()
