"""Telegram interaction. ``register`` adds every handler, in order; nothing registers itself
at import time."""

from __future__ import annotations

from handlers import broadcast, errors, event, groups, identity, onboarding, order, start
from handlers import export as export_handlers
from handlers import members as members_handlers
from handlers import reports as report_handlers
from handlers import review as review_handlers
from handlers import status as status_handlers
from handlers import tasks as task_handlers
from scheduler.context import BotApplication

# Group -100 runs first for every update: it sets the language the other handlers answer in.



def register(app: BotApplication) -> None:
    app.add_handler(identity.handler(), group=order.IDENTITY)
    # /start <token> (invitations) before the plain /start; /invite and /members for admins
    for onboarding_handler in [*onboarding.handlers(), *members_handlers.handlers()]:
        app.add_handler(onboarding_handler)
    for handler in start.handlers():
        app.add_handler(handler)
    for event_handler in event.handlers():  # /event: coordinators record approvals and elections
        app.add_handler(event_handler)
    # /status, /chart, /export: where the plan stands
    for status_handler in [*status_handlers.handlers(), *export_handlers.handlers()]:
        app.add_handler(status_handler)
    # Groups (/group, /groups, joins, removals, migrations) and /broadcast; the broadcast draft
    # takes private messages before other flows, only when a draft waits for one.
    app.add_handler(broadcast.compose_handler(), group=order.BROADCAST_DRAFT)
    # An /event draft waiting for a typed date or number of days takes that text (and /cancel)
    # next; only then, so the report drafts below get everything else.
    for typed_handler in event.typed_handlers():
        app.add_handler(typed_handler, group=order.EVENT_DRAFT)
    for group_handler in [*groups.handlers(), *broadcast.handlers()]:
        app.add_handler(group_handler)
    # /tasks, /report, /review, /cancel and their buttons; then the private messages that fill a
    # report draft (they answer strangers through onboarding's fallback text).
    for report_handler in [*task_handlers.handlers(), *report_handlers.handlers(),
                           *review_handlers.handlers(), *report_handlers.message_handlers()]:
        app.add_handler(report_handler)
    # Keep last in group 0: text from people not registered, when no other handler took it.
    for fallback in onboarding.fallback_handlers():
        app.add_handler(fallback)
    app.add_error_handler(errors.on_error)
