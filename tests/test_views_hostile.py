"""The views of views/ (status, chart captions, export, groups, broadcasts and their entities,
/event, reminders and notices, refusals, menus; the reporting views are rewritten on another
branch and join this file when it lands), rendered with hostile data (names of 4,096+
characters, ``&``, ``<``, quotes, emoji, right-to-left and zero-width characters, controls), in
both languages, give what Telegram accepts: HTML it parses with only its own tags
(tests/stub_botapi/html_check.py), at most 4,096 UTF-16 units of text per message and 1,024 per
caption, a non-empty text, and at most 64 bytes of callback data per button."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import InlineKeyboardMarkup, MessageEntity
from telegram.constants import BotCommandLimit, InlineKeyboardButtonLimit, MessageLimit

from domain.access import EVERYTHING, Scope
from domain.periods import HALF, QUARTER, YEAR, period_containing
from domain.text import NulCharacter
from models import broadcasts as bc
from models import explanations as ex
from models.events import Choice, EventError, EventTasks, Recorded, Typed
from models.export import ExportData
from models.groups import Chosen, GroupLine, Started
from models.rollup import COUNT_FIELDS, AgencyLine, AxisLine, Counts, ItemLine, Rollup, TaskLine
from models.status import AgencyPage, AxisPage, Summary, TaskPage, Viewer
from models.tables import ExplanationRequest, ItemState
from tests.stub_botapi.html_check import parse_html, utf16_len
from views import broadcasts as broadcast_views
from views import events as event_views
from views import explanations as explanation_views
from views import export as export_views
from views import groups as group_views
from views import refusals
from views import status as status_views
from views.entities import entities_html
from views.i18n import use_locale
from views.menus import menus
from views.reminders import ReminderLine, render_reminder, render_review_notice, render_unreachable_notice
from views.screen import Screen

T = TypeVar("T")
TODAY = date(2026, 11, 16)
# Pieces that break naive HTML, counting or layout: markup and entities, quotes, emoji (outside
# the BMP: 2 UTF-16 units; with joiners), right-to-left text and marks, zero-width characters.
PIECES = ["&", "<", ">", "&amp;", "&lt", "<b>", "</i>", "<a href=\"x\">", '"', "'", "😀", "👨‍👩‍👧",
          "\u202e", "\u200f", "\u200b", "\u200d", "\ufeff", "مرحبا", "עברית", "Đầu mối", "\n", " ", "a",
          "\t", "\x0b", "\x1b"]
HEAVY = st.sampled_from(PIECES).map(lambda piece: piece * (4100 // len(piece) + 1))
TEXT = st.one_of(st.text(max_size=60), st.lists(st.sampled_from(PIECES), max_size=40).map("".join), HEAVY)
IDS = st.integers(min_value=1, max_value=2**31 - 1)  # any id an INTEGER column can hold
SMALL = st.integers(min_value=0, max_value=10**6)
STATES = st.sampled_from([s.value for s in ItemState])
LANGUAGES = st.sampled_from(["vi", "en"])
DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
PERIODS = st.builds(period_containing, st.sampled_from([QUARTER, HALF, YEAR]),
                    st.dates(min_value=date(1902, 1, 1), max_value=date(2998, 12, 31)))
SCOPES = st.one_of(st.just(EVERYTHING), st.builds(Scope, IDS, st.booleans()))
HYPOTHESIS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def few(strategy: st.SearchStrategy[T], most: int = 8) -> st.SearchStrategy[list[T]]:
    return st.lists(strategy, max_size=most)


# --- what Telegram accepts -----------------------------------------------------------------------

def check_html(html: str, limit: int, *, caption: bool = False) -> None:
    parsed = parse_html(html)  # raises for markup Telegram refuses
    assert utf16_len(parsed.text) <= limit, (utf16_len(parsed.text), html[:200])
    if not caption:
        assert parsed.text.strip(), html  # Telegram refuses an empty message


def check_markup(markup: InlineKeyboardMarkup | None) -> None:
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            data = button.callback_data
            assert isinstance(data, str)
            assert len(data.encode()) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA, data
            assert button.text.strip()


def check_screen(screen: Screen) -> None:
    if screen.text or not screen.files:
        check_html(screen.text, MessageLimit.MAX_TEXT_LENGTH)
    for attachment in screen.files:
        if attachment.caption:
            check_html(attachment.caption, MessageLimit.CAPTION_LENGTH, caption=True)
    check_markup(screen.markup)


def in_language(language: str, render: Callable[[], object]) -> None:
    with use_locale(language):
        out = render()
    for screen in out if isinstance(out, list) else [out]:
        if isinstance(screen, Screen):
            check_screen(screen)
        elif isinstance(screen, str):
            check_html(screen, MessageLimit.MAX_TEXT_LENGTH)


# --- the roll-up behind /status, /chart and /export -------------------------------------------

COUNTS = st.builds(lambda values: Counts(**dict(zip(COUNT_FIELDS, values, strict=True))),
                   st.lists(SMALL, min_size=len(COUNT_FIELDS), max_size=len(COUNT_FIELDS)))
LEVELS = st.sampled_from(["province", "department", "district", "commune", "other", "nonsense"])
AXES = few(st.builds(AxisLine, IDS, st.integers(1, 9), TEXT, COUNTS), 7)
TASKS = few(st.builds(TaskLine, IDS, TEXT, st.integers(1, 9), TEXT, COUNTS,
                      st.dictionaries(LEVELS, COUNTS, max_size=5), st.booleans()), 30)
AGENCIES = few(st.builds(AgencyLine, IDS, TEXT, LEVELS, COUNTS), 30)
ITEMS = few(st.builds(ItemLine, IDS, IDS, TEXT, TEXT, IDS, TEXT, TEXT, DAYS, STATES, st.booleans()), 30)
ROLLUPS = st.builds(Rollup, PERIODS, DAYS, SCOPES, COUNTS, AXES, st.dictionaries(LEVELS, COUNTS, max_size=5),
                    TASKS, few(st.builds(AgencyLine, IDS, TEXT, LEVELS, COUNTS), 5))
VIEWERS = st.builds(Viewer, SCOPES, TEXT)
PAGES = st.integers(min_value=-5, max_value=10**9)


@HYPOTHESIS
@given(ROLLUPS, VIEWERS, LANGUAGES)
def test_status_summary_and_captions(rollup: Rollup, viewer: Viewer, language: str) -> None:
    summary = Summary(viewer, rollup)
    in_language(language, lambda: status_views.summary_screen(summary, rollup.today))
    with use_locale(language):
        check_html(status_views.chart_caption(summary), MessageLimit.CAPTION_LENGTH, caption=True)
        data = ExportData(rollup.period, rollup, [], [])
        check_screen(export_views.export_screen(data.period, viewer, b"xlsx"))


@HYPOTHESIS
@given(ROLLUPS, VIEWERS, st.integers(1, 9), TEXT, PAGES, LANGUAGES)
def test_status_axis_pages(rollup: Rollup, viewer: Viewer, number: int, name: str, page: int,
                           language: str) -> None:
    in_language(language, lambda: status_views.axis_screen(AxisPage(viewer, rollup, number, name), page))


@HYPOTHESIS
@given(VIEWERS, PERIODS, IDS, TEXT, TEXT, st.integers(1, 9), AGENCIES, PAGES, LANGUAGES)
def test_status_task_pages(viewer: Viewer, period: Any, task_id: int, code: str, text: str, axis: int,
                           agencies: list[AgencyLine], page: int, language: str) -> None:
    in_language(language, lambda: status_views.task_screen(
        TaskPage(viewer, period, task_id, code, text, axis, agencies), page))


@HYPOTHESIS
@given(VIEWERS, PERIODS, IDS, TEXT, ITEMS, PAGES, LANGUAGES)
def test_status_agency_pages(viewer: Viewer, period: Any, agency_id: int, name: str, items: list[ItemLine],
                             page: int, language: str) -> None:
    page_of = AgencyPage(viewer, period, agency_id, name, items)
    in_language(language, lambda: status_views.agency_screen(page_of, page))


def test_status_refusals() -> None:
    for language in ("vi", "en"):
        for screen in (status_views.unknown_period, status_views.members_only, status_views.no_plan,
                       export_views.export_not_allowed, refusals.changed, refusals.not_allowed):
            in_language(language, screen)


# --- groups -------------------------------------------------------------------------------------

GROUP_LINES = few(st.builds(GroupLine, st.integers(-(2**52), -1), TEXT,
                            st.sampled_from([None, "focal_points", "agency_class", "agency", "leaders", "x"]),
                            TEXT, st.sampled_from([None, "vi", "en", "zz"]), st.booleans(), st.booleans()),
                    40)


@HYPOTHESIS
@given(GROUP_LINES, st.sampled_from(["ask", "named", "unknown"]), TEXT,
       st.sampled_from(["language", "classes", "agency_hint", "done", "invalid"]),
       few(st.tuples(IDS, TEXT), 30), LANGUAGES)
def test_group_screens(lines: list[GroupLine], start: str, name: str, outcome: str,
                       classes: list[tuple[int, str]], language: str) -> None:
    in_language(language, lambda: group_views.groups_list(lines))
    in_language(language, lambda: group_views.started(Started(start, name)))
    chosen = Chosen(outcome, classes, lines[0] if lines else None)
    in_language(language, lambda: group_views.chosen(chosen, "dondoc_test_bot"))
    for screen in (lambda: group_views.hello("dondoc_test_bot"), group_views.only_in_groups,
                   group_views.admins_only_register, group_views.admins_only_button,
                   group_views.admins_only_list):
        in_language(language, screen)


# --- broadcasts -----------------------------------------------------------------------------------

ENTITY_TYPES = ["bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre", "text_link",
                "text_mention", "custom_emoji", "blockquote", "expandable_blockquote", "url", "mention",
                "hashtag", "bot_command", "email", "date_time"]


@st.composite
def formatted(draw: st.DrawFn) -> tuple[str, list[MessageEntity]]:
    """A message as a (possibly modified) client sends it: text and entities anywhere in it."""
    text = draw(st.one_of(st.text(min_size=1, max_size=80), st.lists(st.sampled_from(PIECES), min_size=1,
                                                                     max_size=30).map("".join)))
    size = utf16_len(text)
    entities = []
    for _ in range(draw(st.integers(0, 8))):
        offset = draw(st.integers(0, max(size - 1, 0)))
        length = draw(st.integers(1, max(size - offset, 1)))
        kind = draw(st.sampled_from(ENTITY_TYPES))
        extra: dict[str, Any] = {}
        if kind == "text_link":
            extra["url"] = "https://example.org/" + draw(TEXT)[:200]
        elif kind == "pre":
            extra["language"] = draw(st.one_of(st.none(), TEXT.map(lambda t: t[:60])))
        elif kind == "custom_emoji":
            emoji = st.one_of(st.just("5368324170671202286"), TEXT.map(lambda t: t[:20]))
            extra["custom_emoji_id"] = draw(emoji)
        elif kind == "text_mention":
            from telegram import User

            extra["user"] = User(draw(IDS), "x", is_bot=False)
        entities.append(MessageEntity(kind, offset, length, **extra))
    return text, entities


@settings(max_examples=300, deadline=None)
@given(formatted())
def test_entities_come_back_as_valid_html_with_the_same_text(
        message: tuple[str, list[MessageEntity]]) -> None:
    text, entities = message
    html = entities_html(text, entities)
    parsed = parse_html(html)
    assert parsed.text == text  # every character comes back, in its place
    for entity in parsed.entities:
        assert entity["type"] in {"bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre",
                                  "text_link", "custom_emoji", "blockquote", "expandable_blockquote"}


PROGRESS = st.builds(bc.Progress, SMALL, SMALL, SMALL, SMALL, SMALL, SMALL, few(st.tuples(TEXT, SMALL), 10),
                     SMALL)


@HYPOTHESIS
@given(formatted(), IDS, TEXT, st.sampled_from(["groups", "role", "agency", "class", "everyone", "?"]), TEXT,
       st.integers(0, 5000), st.booleans(), st.booleans(), LANGUAGES)
def test_broadcast_compose_and_preview(message: tuple[str, list[MessageEntity]], broadcast_id: int, name: str,
                                       kind: str, detail: str, total: int, ack: bool, document: bool,
                                       language: str) -> None:
    html = entities_html(*message)
    if "\x00" in html:  # a NUL is refused before anything is stored or shown
        with pytest.raises(NulCharacter):
            bc.content_problem(html, has_document=document, file_size=10)
        return
    if bc.content_problem(html, has_document=document, file_size=10) is not None:
        return  # refused before it is stored: never previewed
    preview = bc.Preview(broadcast_id, html, "BQACAgIAAxkBAAIB" if document else None, kind, detail,
                         total, total // 3, total - total // 3, ack)
    for outcome in ("problem", "audience", "agency", "unknown", "preview", "cancelled", "gone"):
        for problem in ("empty", "too_long", "caption_too_long", "too_big"):
            step = bc.Step(outcome, broadcast_id, problem, name, preview)
            in_language(language, lambda s=step: broadcast_views.step_screens(s))
            in_language(language, lambda s=step: broadcast_views.audience_chosen(s))
            in_language(language, lambda s=step: broadcast_views.ack_toggled(s))
    for outcome in ("queued", "already", "unknown", "empty"):
        in_language(language, lambda o=outcome: broadcast_views.confirmed_screen(o, broadcast_id, total))
    for outcome in ("new", "again", "closed"):
        in_language(language, lambda o=outcome: broadcast_views.received_toast(o))
    for screen in (lambda: broadcast_views.ask_text(broadcast_id), broadcast_views.senders_only,
                   broadcast_views.sender_only, broadcast_views.closed,
                   lambda: broadcast_views.requeued_toast(total)):
        in_language(language, screen)


@HYPOTHESIS
@given(PROGRESS, few(st.tuples(TEXT, few(TEXT, 12)), 30), IDS, st.booleans(), LANGUAGES)
def test_broadcast_progress_and_report(progress: bc.Progress, acks: list[tuple[str, list[str]]],
                                       broadcast_id: int, ack: bool, language: str) -> None:
    from models.tables import Broadcast

    with use_locale(language):
        check_html(broadcast_views.progress_text(progress), MessageLimit.MAX_TEXT_LENGTH)
        check_html(broadcast_views.final_text(progress, acks), MessageLimit.MAX_TEXT_LENGTH)
        row = Broadcast(id=broadcast_id, sender_user_id=1, ack_enabled=ack)
        check_markup(broadcast_views.final_markup(row, progress))
        copy = bc.Copy(-1, broadcast_id, None, broadcast_id, "x", None, ack, language)
        for message in broadcast_views.broadcast_messages([copy]):
            check_markup(message.markup)


# --- /event -----------------------------------------------------------------------------------------

EVENT_DATES = st.dates(min_value=date(1000, 1, 1), max_value=date(9000, 12, 31))
CHOICES = st.builds(Choice, IDS, TEXT, TEXT, st.one_of(st.none(), EVENT_DATES),
                    st.one_of(st.none(), st.integers(1, 366)), SMALL)
ERRORS = st.builds(lambda reason, code: EventError("x", reason, code=code, n=366, max=366),
                   st.sampled_from(["no_task", "not_event", "too_old", "too_new", "days", "stale",
                                    "invalid"]),
                   TEXT)


@HYPOTHESIS
@given(few(st.tuples(IDS, TEXT, TEXT), 30), CHOICES, ERRORS, TEXT, EVENT_DATES, SMALL, LANGUAGES)
def test_event_screens(tasks: list[tuple[int, str, str]], choice: Choice, error: EventError, code: str,
                       due: date, owing: int, language: str) -> None:
    today = date(2026, 11, 16)
    in_language(language, lambda: event_views.tasks_screen(EventTasks(tasks, code)))
    in_language(language, lambda: event_views.choice_screen(choice, today))
    in_language(language, lambda: event_views.recorded_screen(Recorded(code, due, owing)))
    in_language(language, lambda: event_views.refused(error))
    for outcome in ("choice", "not_date", "not_days", "retry", "refused"):
        typed = Typed(outcome, choice, error)
        in_language(language, lambda t=typed: event_views.typed_screen(t, today))
    for screen in (event_views.recorders_only, event_views.cancelled):
        in_language(language, screen)


# --- reminders and notices (views/reminders.py) -----------------------------------------------------

REMINDER_LINES = few(st.builds(ReminderLine, IDS, TEXT, TEXT, TEXT, DAYS), 30)


@HYPOTHESIS
@given(REMINDER_LINES, st.sampled_from(["focal_point", "leader", "coordinator"]), TEXT, TEXT, LANGUAGES)
def test_reminders_and_notices(lines: list[ReminderLine], audience: str, name: str, agency: str,
                               language: str) -> None:
    if lines:
        rendered = render_reminder(lines, audience=audience, language=language, today=TODAY)
        check_html(rendered.text, MessageLimit.MAX_TEXT_LENGTH)
        check_markup(rendered.markup)
    check_html(render_unreachable_notice(member_name=name, agency=agency, language=language),
               MessageLimit.MAX_TEXT_LENGTH)
    check_html(render_review_notice(code=name, agency=agency, language=language),
               MessageLimit.MAX_TEXT_LENGTH)


def test_command_menus_fit() -> None:
    for commands in menus().values():
        for command in commands:
            size = len(command.description)
            assert BotCommandLimit.MIN_DESCRIPTION <= size <= BotCommandLimit.MAX_DESCRIPTION


def test_a_day_far_ahead_or_behind_still_packs() -> None:
    """Period arrows stop at the years a key may name instead of failing to pack."""
    for day in (date(1901, 1, 5), date(2999, 12, 30)):
        for kind in (QUARTER, HALF, YEAR):
            period = period_containing(kind, day)
            rollup = Rollup(period, day, EVERYTHING, Counts(), [], {}, [])
            summary = Summary(Viewer(EVERYTHING), rollup)
            check_screen(status_views.summary_screen(summary, day - timedelta(days=1)))


# --- explanation requests (views/explanations.py) ------------------------------------------------

SUBJECTS = st.builds(ex.Subject, IDS, TEXT, TEXT, IDS, TEXT, TEXT, DAYS)
EX_STATES = st.sampled_from(["open", "answered", "withdrawn"])


@HYPOTHESIS
@given(SUBJECTS, TEXT, TEXT, TEXT, TEXT, IDS, DAYS, EX_STATES, st.booleans(), LANGUAGES)
def test_explanation_screens_and_notices(subject: ex.Subject, question: str, answer: str, name: str,
                                         file_name: str, ident: int, day: date, state: str, has_file: bool,
                                         language: str) -> None:
    in_language(language, lambda: [
        explanation_views.ask_screen(ex.AskDraft(ident, subject, question)),
        explanation_views.already_screen(ex.AlreadyAsked(ident, subject, day, day)),
        explanation_views.asked_screen(ex.Asked(ident, subject, day, ident % 5, has_file)),
        explanation_views.answer_screen(ex.AnswerDraft(ident, ident, subject, question, name, day, answer,
                                                       file_name, has_file)),
        explanation_views.answered_screen(ex.Answered(ident, subject, name)),
        explanation_views.refused_screen(question),
        explanation_views.note_line(ex.ExplanationNote(ident, day, day, state, day, answer, file_name))])
    request = ExplanationRequest(id=ident, item_id=subject.item_id, requested_by=1, question=question,
                                 due_on=day, state=state, answer_text=answer, answer_file_name=file_name,
                                 answer_file_id="f" if has_file else "")
    found = ex.NoticeSubject(request, subject, name, name)
    for text, markup in (explanation_views.request_notice(found, language),
                         explanation_views.reminder_notice(found, language, day),
                         explanation_views.reminder_notice(found, language, day - timedelta(days=1)),
                         explanation_views.escalation_notice(found, language)):
        check_html(text, MessageLimit.MAX_TEXT_LENGTH)
        check_markup(markup)
    text, markup = explanation_views.answered_notice(found, language, caption=has_file)
    limit = MessageLimit.CAPTION_LENGTH if has_file else MessageLimit.MAX_TEXT_LENGTH
    check_html(text, limit, caption=has_file)
    check_markup(markup)
