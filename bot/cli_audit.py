"""``dondoc audit``: the audit log, newest first, with filters (since, until, member, action).
``bot.cli`` adds it with :func:`add_parsers`; a bad value raises ``ValueError`` (one line)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, time, timedelta

from bot.settings import Settings
from models.db import existing_session
from models.history import AuditFilter, audit_entries, details_text
from models.members import find_member


def _day(text: str, settings: Settings) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r}: expected a date like 2027-01-12") from None
    return datetime.combine(day, time(0), tzinfo=settings.tz)


def cmd_audit(settings: Settings, args: argparse.Namespace) -> None:
    since = _day(args.since, settings) if args.since else None
    until = _day(args.until, settings) + timedelta(days=1) if args.until else None
    if args.limit < 1:
        raise ValueError("--limit must be at least 1")
    with existing_session(settings.database_url) as session:
        member_id = None
        if args.member:
            member = find_member(session, args.member)
            if member is None:
                raise ValueError(f"{args.member!r}: no such member")
            member_id = member.id
        what = AuditFilter(since=since, until=until, member_id=member_id, action=args.action or "")
        entries, total = audit_entries(session, what, limit=args.limit)
    if args.format == "json":
        json.dump([{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "actor_name": e.actor_name,
                    "action": e.action, "entity": e.entity, "entity_id": e.entity_id,
                    "details": json.loads(e.details) if e.details.startswith("{") else e.details}
                   for e in entries], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    for e in entries:
        who = f"{e.actor} ({e.actor_name})" if e.actor_name else e.actor
        local = e.at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        sys.stdout.write(f"{local}  {e.action:<22} {who:<28} {e.entity} {e.entity_id}  "
                         f"{details_text(e.details)}".rstrip() + "\n")
    shown = len(entries)
    sys.stdout.write(f"{shown} of {total} entries" + (" (use --limit for more)" if shown < total else "")
                     + ".\n")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="the audit log, newest first (filters: since, until, member, action)")
    p.add_argument("--since", help="from this day on (YYYY-MM-DD, in DONDOC_TIMEZONE)")
    p.add_argument("--until", help="up to and including this day")
    p.add_argument("--member", help="entries by or about this member (Telegram user id or @username)")
    p.add_argument("--action", help="actions starting with this, e.g. member. or report.approve")
    p.add_argument("--limit", type=int, default=50, help="at most this many entries (default 50)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(handler=cmd_audit)
