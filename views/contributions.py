"""What coordinating agencies see: the notice that a period of tasks they coordinate began (the
tasks with their leads), the notice that a lead reported done, the "➕ contribute" steps (pick the
lead's item, type the note, send a document or not, Send), and the contribution lines the review
card, /tasks and the /status drill-down show."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from models.contributions import MAX_NOTE, Cancelled, ContributionLine, DraftView, Pick, Stored
from models.coordination import LeadItem, OpenedTask
from views.callbacks import CallbackData, ContributeItem, ContributePick, ContributeStep
from views.html import clip, clip_html, esc
from views.i18n import format_date, format_number, ngettext, use_locale
from views.i18n import gettext as _
from views.labels import state_label
from views.screen import Screen

MAX_TASKS = 20  # tasks listed in an opening notice (then "and n more")


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


def contribute_label() -> str:
    return _("➕ Coordinating contribution")


def _leads(task: OpenedTask) -> str:
    names = ", ".join(esc(clip(n, 80)) for n in task.leads)
    if task.more:
        names += " " + ngettext("and {n} more", "and {n} more", task.more).format(n=format_number(task.more))
    return names


def opening_notice(*, agency: str, period: str, tasks: Sequence[OpenedTask],
                   language: str) -> tuple[str, InlineKeyboardMarkup] | None:
    """A period began for tasks the agency coordinates: which, and who leads them."""
    if not tasks:
        return None
    with use_locale(language):
        head = ngettext(
            "🤝 <b>Period {period} has begun</b> for {n} task that {agency} coordinates. The lead "
            "agencies report; you may add a coordinating contribution (a note, a document).",
            "🤝 <b>Period {period} has begun</b> for {n} tasks that {agency} coordinates. The lead "
            "agencies report; you may add a coordinating contribution (a note, a document).",
            len(tasks)).format(period=esc(clip(period, 32)), n=len(tasks), agency=esc(clip(agency, 200)))
        lines = [head, ""]
        for task in tasks[:MAX_TASKS]:
            lines.append(_("• <b>{code}</b> {task}\n   Lead: {leads}").format(
                code=esc(clip(task.code, 20)), task=esc(clip(task.task, 120)), leads=_leads(task)))
        if len(tasks) > MAX_TASKS:
            lines.append(ngettext("… and {n} more task", "… and {n} more tasks",
                                  len(tasks) - MAX_TASKS).format(n=len(tasks) - MAX_TASKS))
        markup = InlineKeyboardMarkup([[_button(contribute_label(), ContributePick(period))]])
        return clip_html("\n".join(lines)), markup


def report_notice(*, code: str, task: str, lead: str, period: str, version: int, note: str, item_id: int,
                  language: str) -> tuple[str, InlineKeyboardMarkup]:
    """A lead reported done on a task the agency coordinates."""
    with use_locale(language):
        text = _("🤝 {lead} reported <b>{code}</b> ({period}) done (version {version}); it waits for "
                 "the Department of Home Affairs to verify it.\n<i>{task}</i>").format(
            lead=esc(clip(lead, 200)), code=esc(clip(code, 20)), period=esc(clip(period, 32)),
            version=version, task=esc(clip(task, 300)))
        if note:
            text += "\n" + _("Note: <i>{note}</i>").format(note=esc(clip(note, 500)))
        text += "\n\n" + _("Your agency coordinates this task: you may add a contribution.")
        return clip_html(text), InlineKeyboardMarkup([[_button(contribute_label(), ContributeItem(item_id))]])


def _item_heading(row: LeadItem) -> str:
    return _("<b>{code}</b> ({period}) — lead: {lead}").format(
        code=esc(clip(row.code, 20)), period=esc(clip(row.period_key, 32)), lead=esc(clip(row.lead, 200)))


def pick_screen(found: Pick) -> Screen:
    head = _("Which lead's work is your contribution for? ({agency})").format(
        agency=esc(clip(found.agency, 200)))
    lines = [head, ""]
    buttons = []
    for row in found.rows:
        lines.append(f"• {_item_heading(row)} · {esc(state_label(row.state))} · "
                     + _("due {date}").format(date=format_date(row.due_on, "short")))
        buttons.append([_button(clip(f"{row.code} · {row.lead}", 60), ContributeItem(row.item_id))])
    if found.pages > 1:
        nav = []
        if found.page > 0:
            nav.append(_button("‹", ContributePick(found.period, found.page - 1)))
        nav.append(_button(f"{found.page + 1}/{found.pages}", ContributePick(found.period, found.page)))
        if found.page + 1 < found.pages:
            nav.append(_button("›", ContributePick(found.period, found.page + 1)))
        buttons.append(nav)
    return Screen(clip_html("\n".join(lines)), InlineKeyboardMarkup(buttons), new_message=True)


def draft_screen(draft: DraftView) -> Screen:
    heading = _("🤝 Contribution to {item}").format(item=_item_heading(draft.item))
    cancel = _button(_("✖ Cancel"), ContributeStep(draft.draft_id, "cancel"))
    if draft.step == "note":
        text = heading + "\n\n" + _("Type your agency's contribution (up to {limit} characters), or "
                                    "/cancel.").format(limit=format_number(MAX_NOTE))
        return Screen(clip_html(text), InlineKeyboardMarkup([[cancel]]), new_message=True)
    lines = [heading, "", _("Contribution: <i>{note}</i>").format(note=esc(clip(draft.note, 1000)))]
    if draft.has_file:
        lines.append(_("Document: {name}").format(name=esc(clip(draft.file_name or _("photo"), 80))))
    else:
        lines.append(_("You may send a document with it now, or send the contribution as it is."))
    send = _button(_("✅ Send contribution"), ContributeStep(draft.draft_id, "send"))
    return Screen(clip_html("\n".join(lines)), InlineKeyboardMarkup([[send], [cancel]]))


def stored_screen(stored: Stored) -> Screen:
    text = _("✅ Contribution of {agency} recorded for {item}. The Department of Home Affairs sees it "
             "beside the lead's report.").format(agency=esc(clip(stored.agency, 200)),
                                                 item=_item_heading(stored.item))
    return Screen(clip_html(text), toast=_("Recorded"), edit=True)


def outcome_screen(outcome: object) -> Screen:
    if isinstance(outcome, DraftView):
        return draft_screen(outcome)
    if isinstance(outcome, Pick):
        return pick_screen(outcome)
    if isinstance(outcome, Stored):
        return stored_screen(outcome)
    if isinstance(outcome, Cancelled):
        text = (_("Cancelled: no contribution was recorded.") if outcome.done
                else _("There is nothing to cancel."))
        return Screen(text, toast=_("Cancelled"), edit=True)
    raise TypeError(outcome)


def contribution_lines(found: Sequence[ContributionLine]) -> list[str]:
    """A card's coordinating contributions: agency, note, document."""
    if not found:
        return []
    lines = [ngettext("🤝 {n} coordinating contribution:", "🤝 {n} coordinating contributions:",
                      len(found)).format(n=len(found))]
    for c in found:
        line = _("• {agency} ({name}): <i>{note}</i>").format(
            agency=esc(clip(c.agency, 120)), name=esc(clip(c.author, 60)), note=esc(clip(c.note, 300)))
        if c.file_id:
            line += " 📎 " + esc(clip(c.file_name or _("photo"), 40))
        lines.append(line)
    return lines


def count_line(n: int) -> str:
    """The /status drill-down's "2 coordinating contributions"."""
    return ngettext("🤝 {n} coordinating contribution", "🤝 {n} coordinating contributions", n).format(n=n)
