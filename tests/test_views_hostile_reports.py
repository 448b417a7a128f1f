"""The reporting views (views/reports.py, views/members.py, views/onboarding.py, the reminder)
rendered with hostile data, in both languages, give what Telegram accepts: HTML it parses with
only its own tags, at most 4,096 UTF-16 units, a non-empty text, at most 64 bytes of callback
data per button (the checks of tests/test_views_hostile.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from models import reports as svc
from models.admin import (
    AgencyOption,
    Confirm,
    Invited,
    InviteStep,
    MemberCard,
    MembersPage,
    Picker,
    RoleChoice,
)
from models.invitations import RedeemStatus
from models.items import ItemPage, ItemRow
from models.members import ROLES, MemberView
from models.reporting import (
    Card,
    Decided,
    DraftView,
    Form,
    Menu,
    Returned,
    ReviewScreen,
    Sent,
    TaskCard,
    TasksList,
)
from models.tables import Evidence, Report
from tests.test_views_hostile import (
    DAYS,
    HYPOTHESIS,
    IDS,
    LANGUAGES,
    SMALL,
    STATES,
    TEXT,
    TODAY,
    few,
    in_language,
)
from views import members as member_views
from views import onboarding as onboarding_views
from views import reports as views
from views.reminders import ReminderLine, render_reminder

REPORT_STATES = st.sampled_from(["done", "in_progress", "blocked"])
STEPS = st.sampled_from(list(svc.STEPS))
PERCENT = st.one_of(st.none(), st.integers(0, 99))
ROWS = st.builds(ItemRow, IDS, TEXT, TEXT, TEXT, DAYS, STATES, PERCENT, SMALL)
FILES = few(st.builds(svc.EvidenceFile, st.sampled_from(["document", "photo"]), TEXT, TEXT, TEXT, TEXT), 20)
DRAFTS = st.builds(DraftView, IDS, IDS, STEPS, st.one_of(st.none(), REPORT_STATES), PERCENT, TEXT, TEXT,
                   FILES.map(tuple), SMALL, st.one_of(st.none(), DAYS))


def _report(report_id: int, state: str, note: str, number: str, reason: str, dated: date | None) -> Report:
    return Report(id=report_id, item_id=1, version=3, member_id=1, state=state, percent=40, note=note,
                  document_number=number, document_date=dated, review_reason=reason,
                  created_at=datetime(2026, 12, 1, tzinfo=UTC))


REPORTS = st.builds(_report, IDS, REPORT_STATES, TEXT, TEXT, TEXT, st.one_of(st.none(), DAYS))
EVIDENCE = few(st.builds(lambda name, kind: Evidence(report_id=1, kind=kind, file_id="f", file_name=name),
                         TEXT, st.sampled_from(["document", "photo"])), 20)
CARDS = st.builds(Card, REPORTS, ROWS, TEXT, TEXT, EVIDENCE)
MEMBERS = st.builds(MemberView, IDS, IDS, TEXT, st.one_of(st.none(), TEXT), st.one_of(st.none(), IDS),
                    st.one_of(st.none(), TEXT), st.one_of(st.none(), TEXT), st.sampled_from(ROLES),
                    st.sampled_from(["vi", "en", None]), st.booleans())
AGENCIES = st.builds(AgencyOption, IDS, TEXT)


@HYPOTHESIS
@given(draft=DRAFTS, row=ROWS, choices=few(ROWS, 30), language=LANGUAGES)
def test_the_draft_at_every_step(draft: DraftView, row: ItemRow, choices: list[ItemRow],
                                 language: str) -> None:
    in_language(language, lambda: views.outcome_screen(Form(draft, row, "use_buttons", tuple(choices)),
                                                       TODAY, 120))


@HYPOTHESIS
@given(rows=few(ROWS, 40), page=SMALL, code=TEXT, language=LANGUAGES)
def test_the_lists(rows: list[ItemRow], page: int, code: str, language: str) -> None:
    in_language(language, lambda: [views.menu_screen(Menu(rows, True, page, code=code), TODAY, 120),
                                   views.menu_screen(Menu(rows, False, page, unknown=code), TODAY, 120),
                                   views.tasks_screen(TasksList(code, ItemPage(rows, 0, 3, len(rows)), 6),
                                                      TODAY)])


@HYPOTHESIS
@given(card=CARDS, cards=few(CARDS, 5), total=SMALL, page=SMALL, row=ROWS, reason=TEXT, language=LANGUAGES)
def test_cards_and_review(card: Card, cards: list[Card], total: int, page: int, row: ItemRow, reason: str,
                          language: str) -> None:
    in_language(language, lambda: [
        views.task_card_screen(TaskCard(row, reason, card, True, page), TODAY),
        views.review_screen(ReviewScreen(total + 1, True, [card]), TODAY),
        views.review_screen(ReviewScreen(total + 1, False, cards, page, page + 2), TODAY),
        views.returned_screen(Returned(row, reason, total, total % 3)),
        views.decided_screen(Decided("approved", row, 2, left=total)),
        views.sent_screen(Sent(2, "in_progress", 40, "done", True, row, True))])


@HYPOTHESIS
@given(member=MEMBERS, members=few(MEMBERS, 8), agencies=few(AGENCIES, 8), agency=AGENCIES, name=TEXT,
       role=st.sampled_from(ROLES), status=st.sampled_from(list(RedeemStatus)), language=LANGUAGES)
def test_admin_screens(member: MemberView, members: list[MemberView], agencies: list[AgencyOption],
                       agency: AgencyOption, name: str, role: str, status: RedeemStatus,
                       language: str) -> None:
    in_language(language, lambda: [
        member_views.members_page(MembersPage(members, 0, 2, len(members) + 1)),
        member_views.member_card(MemberCard(member, "moved")),
        member_views.move_picker(Picker(agencies, 0, 3, member)),
        member_views.role_choice(RoleChoice(member)),
        member_views.confirm(Confirm("move", member, agency)),
        member_views.confirm(Confirm("role", member, role=role)),
        member_views.invite_agencies(Picker(agencies, 1, 3)), member_views.invite_roles(InviteStep(agency)),
        member_views.invite_uses(InviteStep(agency, role)),
        member_views.invited(Invited(name, role, 5, "t" * 32, datetime(2026, 12, 9, tzinfo=UTC)),
                             "dondoc_bot", UTC),
        onboarding_views.redeemed(onboarding_views.Redeemed(status, name, role), name)])


@HYPOTHESIS
@given(lines=few(st.builds(ReminderLine, IDS, TEXT, TEXT, TEXT, DAYS, STATES, PERCENT, TEXT), 40),
       language=LANGUAGES)
def test_the_reminder(lines: list[ReminderLine], language: str) -> None:
    if not lines:
        return
    rendered = render_reminder(lines, audience="focal_point", language=language, today=TODAY)
    in_language(language, lambda: rendered.text)
    from tests.test_views_hostile import check_markup
    check_markup(rendered.markup)
    assert rendered.markup is not None and sum(len(r) for r in rendered.markup.inline_keyboard) <= 10
