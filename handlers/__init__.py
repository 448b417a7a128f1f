"""Telegram interaction. ``register`` adds every handler, in order; nothing registers itself
at import time."""

from __future__ import annotations

from handlers import (
    broadcast,
    calendar,
    contribute,
    errors,
    event,
    explanations,
    extensions,
    flood,
    gate,
    groups,
    identity,
    onboarding,
    order,
    plan_import,
    router,
    start,
)
from handlers import export as export_handlers
from handlers import help as help_handlers
from handlers import history as history_handlers
from handlers import members as members_handlers
from handlers import reports as report_handlers
from handlers import review as review_handlers
from handlers import status as status_handlers
from handlers import targets as target_handlers
from handlers import tasks as task_handlers
from scheduler.context import BotApplication


def register(app: BotApplication) -> None:
    # Group IDENTITY runs first for every update: who is asking, and the language to answer in.
    app.add_handler(identity.handler(), group=order.IDENTITY)
    quieted, limited = flood.handlers()  # a flooding person's updates stop here
    app.add_handler(quieted, group=order.QUIETED)
    app.add_handler(limited, group=order.FLOOD)
    # Then the gate: in groups only commands addressed to the bot, personal ones sent to the
    # private chat; deactivated members told so; each member's own command menu.
    app.add_handler(gate.handler(), group=order.GATE)
    # /start <token> (invitations) before the plain /start; /invite and /members for admins
    for onboarding_handler in [*onboarding.handlers(), *members_handlers.handlers()]:
        app.add_handler(onboarding_handler)
    # /help (three first steps and the role's commands) and /language, before start's
    for handler in [*help_handlers.handlers(), *start.handlers()]:
        app.add_handler(handler)
    for event_handler in event.handlers():  # /event: coordinators record approvals and elections
        app.add_handler(event_handler)
    for import_handler in plan_import.handlers():  # a plan document sent in chat: its buttons
        app.add_handler(import_handler)
    for calendar_handler in calendar.handlers():  # /calendar: the member's private calendar link
        app.add_handler(calendar_handler)
    for target_handler in target_handlers.handlers():  # /targets: admins' numeric targets
        app.add_handler(target_handler)
    # /status, /chart, /export, a task's history and /audit (admins); explanation requests
    for status_handler in [*status_handlers.handlers(), *export_handlers.handlers(),
                           *history_handlers.handlers(), *explanations.handlers()]:
        app.add_handler(status_handler)
    # Groups (/group, /groups, joins, removals, migrations) and /broadcast
    for group_handler in [*groups.handlers(), *broadcast.handlers()]:
        app.add_handler(group_handler)
    # /tasks, /report, /review, extension requests, coordinating agencies' contributions and
    # their buttons
    for report_handler in [*task_handlers.handlers(), *report_handlers.handlers(),
                           *review_handlers.handlers(), *extensions.handlers(), *contribute.handlers()]:
        app.add_handler(report_handler)
    # Then the one router for private text and files (and /cancel): it finds the open draft
    # (broadcast, /event, explanation, extension, report) or answers strangers; last, buttons nobody knows.
    for last in [*router.handlers(), *report_handlers.fallback_handlers()]:
        app.add_handler(last)
    app.add_error_handler(errors.on_error)
