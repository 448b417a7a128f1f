"""The escalation, overdue, history, audit, notice, help and language views rendered with hostile
data (the strategies and checks of tests/test_views_hostile.py: names of 4,096+ characters,
markup, emoji, right-to-left and zero-width characters, controls; hundreds of agencies), in both
languages: HTML Telegram parses, at most 4,096 UTF-16 units, buttons of at most 64 bytes. An
escalation of any size stays one message, listing every agency or saying how many more."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from telegram.constants import MessageLimit

from models.history import AuditEntry, AuditPage, ItemHistory, Version
from models.overdue import OverdueAgency
from models.rollup import ItemLine
from models.status import OverdueAgencyPage, OverduePage, Viewer
from tests.test_views_hostile import (
    DAYS,
    HYPOTHESIS,
    IDS,
    LANGUAGES,
    PERIODS,
    SCOPES,
    SMALL,
    STATES,
    TEXT,
    check_html,
    check_markup,
    few,
    in_language,
)
from views import help as help_views
from views import history as history_views
from views import status as status_views
from views.escalations import EscalatedAgency, render_escalation
from views.notices import blocked_notice, verified_notice

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MOMENTS = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1),  # noqa: DTZ001
                       timezones=st.just(UTC))
ESCALATED = st.lists(st.builds(EscalatedAgency, TEXT, TEXT, st.integers(1, 10**5), st.booleans()),
                     max_size=400)


@HYPOTHESIS
@given(agencies=ESCALATED, language=LANGUAGES, period=PERIODS)
def test_an_escalation_of_any_size_is_one_valid_message(agencies: list[EscalatedAgency], language: str,
                                                        period: object) -> None:
    message = render_escalation(agencies, language=language, period_key=period.key)  # type: ignore[attr-defined]
    check_html(message.text, MessageLimit.MAX_TEXT_LENGTH)
    check_markup(message.markup)
    if agencies and language == "en":
        listed = len(re.findall(r"^• ", message.text, re.M))
        more = sum(int(n) for n in re.findall(r"^\+(\d+) agenc", message.text, re.M))
        assert listed + more == len(agencies) or message.text.endswith("…")


ITEMS = few(st.builds(ItemLine, IDS, IDS, TEXT, TEXT, IDS, TEXT, TEXT, DAYS, STATES, st.booleans(), TEXT), 30)
OVERDUE = few(st.builds(OverdueAgency, IDS, TEXT, TEXT, st.integers(1, 10**6), st.booleans()), 60)


@HYPOTHESIS
@given(scope=SCOPES, name=TEXT, period=PERIODS, agencies=OVERDUE, items=ITEMS, page=SMALL,
       language=LANGUAGES, today=DAYS, agency=IDS)
def test_overdue_pages(scope: object, name: str, period: object, agencies: list[OverdueAgency],
                       items: list[ItemLine], page: int, language: str, today: object, agency: int) -> None:
    viewer = Viewer(scope, name)  # type: ignore[arg-type]
    in_language(language, lambda: status_views.overdue_screen(
        OverduePage(viewer, period, today, agencies), page))  # type: ignore[arg-type]
    in_language(language, lambda: status_views.overdue_agency_screen(
        OverdueAgencyPage(viewer, period, agency, name, items), page))  # type: ignore[arg-type]


REPORTED = st.sampled_from(["done", "in_progress", "blocked", "x"])
VERSIONS = few(st.builds(Version, st.integers(1, 10**4), REPORTED,
                         st.one_of(st.none(), st.integers(0, 99)), TEXT, TEXT, few(TEXT, 20), TEXT, MOMENTS,
                         st.sampled_from([None, "pending", "approved", "returned"]), TEXT,
                         st.one_of(st.none(), MOMENTS), TEXT), 12)


@HYPOTHESIS
@given(item=IDS, code=TEXT, task=TEXT, agency=TEXT, period=TEXT, due=DAYS, state=STATES,
       versions=VERSIONS, page=SMALL, language=LANGUAGES)
def test_history(item: int, code: str, task: str, agency: str, period: str, due: object, state: str,
                 versions: list[Version], page: int, language: str) -> None:
    history = ItemHistory(item, code, task, agency, period, due, state, versions)  # type: ignore[arg-type]
    in_language(language, lambda: history_views.history_screen(history, page, TZ))


ENTRIES = few(st.builds(AuditEntry, IDS, MOMENTS, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT), 10)


@HYPOTHESIS
@given(entries=ENTRIES, total=SMALL, page=SMALL, language=LANGUAGES)
def test_audit(entries: list[AuditEntry], total: int, page: int, language: str) -> None:
    pages = max(1, page + 1)
    in_language(language, lambda: history_views.audit_screen(AuditPage(entries, total, page, pages), TZ))


@HYPOTHESIS
@given(code=TEXT, agency=TEXT, reason=TEXT, sender=TEXT, item=IDS, language=LANGUAGES, version=SMALL)
def test_notices(code: str, agency: str, reason: str, sender: str, item: int, language: str,
                 version: int) -> None:
    for text, markup in (blocked_notice(code=code, agency=agency, reason=reason, sender=sender, item_id=item,
                                        language=language),
                         verified_notice(code=code, period=agency, reviewer=sender, version=version,
                                         item_id=item, language=language)):
        check_html(text, MessageLimit.MAX_TEXT_LENGTH)
        check_markup(markup)


@HYPOTHESIS
@given(role=st.sampled_from([None, "focal_point", "coordinator", "leader", "admin", "nonsense"]),
       name=TEXT, agency=TEXT, command=TEXT, username=st.one_of(st.none(), TEXT), language=LANGUAGES)
def test_help_language_and_welcome(role: str | None, name: str, agency: str, command: str,
                                   username: str | None, language: str) -> None:
    in_language(language, lambda: help_views.help_screen(role))
    in_language(language, lambda: help_views.welcome_text(role or "focal_point", name, agency))
    in_language(language, lambda: help_views.greeting_text(role or "leader", name, agency))
    in_language(language, lambda: help_views.language_screen(language))
    in_language(language, lambda: help_views.language_set_screen(language))
    in_language(language, help_views.deactivated_text)
