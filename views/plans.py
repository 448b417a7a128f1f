"""A plan choice as every chat flow asks it (several plans in force and none named): the plans
as lines, a button each, and the mark that names a plan before a task's code."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from telegram import InlineKeyboardButton

from models.registry import PlanOption
from views.callbacks import CallbackData
from views.html import clip, esc

MAX_PLAN_BUTTONS = 20


def plan_lines(plans: Sequence[PlanOption]) -> list[str]:
    """ "• <b>25/KH-UBND</b> — KẾ HOẠCH …", one line a plan (HTML)."""
    return [f"• <b>{esc(clip(p.number, 64))}</b> — {esc(clip(p.title, 200))}" for p in plans]


def plan_buttons(plans: Sequence[PlanOption],
                 make: Callable[[int], CallbackData]) -> list[list[InlineKeyboardButton]]:
    """A button a plan (its number), each carrying ``make(plan_id)``."""
    return [[InlineKeyboardButton(clip(p.number, 40).strip() or "…", callback_data=make(p.id).pack())]
            for p in plans[:MAX_PLAN_BUTTONS]]


def plan_mark(number: str) -> str:
    """ "[25/KH-UBND] " before a task's code when several plans are in force ("" with one; HTML)."""
    return f"[{esc(clip(number, 24))}] " if number else ""
