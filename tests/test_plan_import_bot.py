"""A plan document sent to the bot, through the real Application polling the Bot API stand-in: an
administrator (a member) is asked whether it is a plan or evidence, sees the preview (tasks per
axis, names, changes, warnings), applies it after a restart; retiring a task needs the second
confirmation; a registry that moved since the preview is previewed again; a damaged document is
refused with its row and changes nothing; a focal point's stray document gets the report flow's
answer. Vietnamese and English."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.settings import Settings
from domain.plan_parser import parse_plan
from models import registry
from models.db import session_scope
from models.tables import AuditLog, Member, MemberRole, PlanImport, Task
from sandbox.db_dump import dump
from tests.bot_harness import (  # noqa: F401
    Driver,
    bot_settings_fixture,
    data_with,
    driven,
    make_settings,
    stub_fixture,
)
from tests.plan_copies import SEED, pdf_copy, word_copy
from tests.stub_botapi import SentMessage, StubBotApi

SO_NOI_VU, HA_LONG = 2, 21
ADMIN, OPERATOR, FOCAL = 4001, 4002, 1001  # an admin member; a configured admin; a focal point
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LINES = SEED.decode().split("\n")

bot = driven


def _edited(**replace: str) -> bytes:
    text = SEED.decode()
    for old, new in replace.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text.encode()


# Task 1.3 (Đóng góp tự nguyện) reported yearly instead of quarterly.
YEARLY = _edited(**{"tại địa phương\tUBND cấp xã\t\tĐịnh kỳ hàng quý":
                    "tại địa phương\tUBND cấp xã\t\tHàng năm"})
WITHOUT_1_4 = "\n".join(line for line in LINES if not line.startswith("4\t\tHướng dẫn, kiểm tra")
                        ).encode()
ROW_LOST = "\n".join(line for line in LINES if not line.startswith("3\tĐóng góp")).encode()


@pytest.fixture
def settings(stub: StubBotApi, bot_settings: Settings) -> Settings:
    return make_settings(stub, bot_settings.database_url, admin_ids=str(OPERATOR))


@pytest.fixture
def people(plan_engine: Engine) -> Engine:
    with session_scope(plan_engine) as s:
        s.add(Member(telegram_user_id=ADMIN, agency_id=SO_NOI_VU, role=MemberRole.ADMIN.value,
                     full_name="Anh Minh"))
        s.add(Member(telegram_user_id=FOCAL, agency_id=HA_LONG, role=MemberRole.FOCAL_POINT.value,
                     full_name="Lan"))
    return plan_engine


def timeframe(engine: Engine, code: str) -> tuple[str, bool]:
    with session_scope(engine) as s:
        task = s.exec(select(Task).where(Task.code == code)).one()
        return task.timeframe, task.retired_at is not None


def registry_dump(engine: Engine) -> str:
    """Every table but the imports' own rows."""
    return "\n".join(line for line in dump(engine).split("\n") if not line.startswith("plan_import:"))


def imports(engine: Engine) -> list[str]:
    with session_scope(engine) as s:
        return list(s.exec(select(PlanImport.state).order_by(col(PlanImport.id))))


def audits(engine: Engine) -> list[str]:
    with session_scope(engine) as s:
        return list(s.exec(select(AuditLog.actor).where(AuditLog.action == "plan.import")))


async def send(driver: Driver, stub: StubBotApi, user: int, name: str, data: bytes,
               mime: str = DOCX) -> SentMessage:
    await driver.do(stub.send_document(user, name, data, mime))
    found = stub.last_message(user)
    assert found is not None
    return found


async def test_an_admin_imports_a_word_plan_after_a_restart(
        stub: StubBotApi, settings: Settings, people: Engine) -> None:
    driver = Driver(stub)
    async with bot(settings, people, driver):
        asked = await send(driver, stub, ADMIN, "ke-hoach-916.docx", word_copy(YEARLY))
        assert asked.contains("<b>ke-hoach-916.docx</b> là kế hoạch cần nhập, hay minh chứng")
        assert asked.button_texts() == ["Kế hoạch cần nhập", "Minh chứng cho báo cáo"]
        await driver.press(ADMIN, asked, data_with(asked, "pi:a:", ":1"))
        preview = driver.message(ADMIN, asked.message_id)
    assert preview.contains("Xem trước ke-hoach-916.docx: kế hoạch 916/KH-UBND")
    assert preview.contains("Văn bản có 40 nhiệm vụ:")
    assert preview.contains("• Trục 1 (Tham gia của người dân ở cấp cơ sở): 4 nhiệm vụ")
    assert preview.contains("So với kế hoạch hiện hành: thêm 0, bỏ 0, 2 thay đổi nội dung.")
    assert preview.contains("~ 1.3 thời gian thực hiện: «Định kỳ hàng quý» → «Hàng năm»")
    assert preview.contains("~ 1.3 chu kỳ báo cáo: «quarterly» → «annual»")
    assert preview.contains("1 cảnh báo (theo dòng của văn bản):")
    assert preview.contains("⚠ table row 7: row 4 of axis 1 has no content")  # the parser's own
    assert preview.button_texts() == ["Áp dụng", "Hủy"]
    assert timeframe(people, "1.3") == ("Định kỳ hàng quý", False)  # nothing yet
    assert imports(people) == ["previewed"]

    driver = Driver(stub)
    async with bot(settings, people, driver):  # a new process: the preview is a row
        await driver.press(ADMIN, preview, data_with(preview, "pi:ok:", ":0"))
        done = driver.message(ADMIN, preview.message_id)
        assert done.contains("Đã cập nhật kế hoạch 916/KH-UBND từ ke-hoach-916.docx: thêm 0, bỏ 0, "
                             "2 thay đổi nội dung.")
        assert timeframe(people, "1.3") == ("Hàng năm", False)
        assert imports(people) == ["applied"]
        with session_scope(people) as s:
            member = s.exec(select(Member.id).where(Member.telegram_user_id == ADMIN)).one()
        assert audits(people)[-1] == f"member:{member}"
        before = dump(people)
        answer = await driver.press(ADMIN, done, data_with(preview, "pi:ok:"), forged=True)
        assert answer.startswith("Văn bản này không còn chờ xử lý")
        assert dump(people) == before


async def test_retiring_a_task_needs_the_second_confirmation_in_english(
        stub: StubBotApi, settings: Settings, people: Engine) -> None:
    stub.user(OPERATOR, "Operator", language_code="en")
    driver = Driver(stub)
    async with bot(settings, people, driver):
        # A configured administrator with no member row has no report to file: no question.
        preview = await send(driver, stub, OPERATOR, "plan.pdf", pdf_copy(WITHOUT_1_4),
                             "application/pdf")
        assert preview.contains("Preview of plan.pdf: plan 916/KH-UBND")
        assert preview.contains("• Axis 1 (Tham gia của người dân ở cấp cơ sở): 3 tasks")
        assert preview.contains("Against the current plan: 0 added, 1 retired, 0 field changes.")
        assert preview.contains("− 1.4 retired: 0 pending reminders would stop; 0 open items "
                                "without further reminders")
        assert preview.contains("Apply asks once more before tasks are retired.")
        before = dump(people)
        await driver.press(OPERATOR, preview, data_with(preview, "pi:ok:", ":0"))
        confirm = driver.message(OPERATOR, preview.message_id)
        assert confirm.contains("Applying it retires 1 task: 1.4.")
        assert confirm.button_texts() == ["Retire 1 task and apply", "Cancel"]
        assert dump(people) == before
        await driver.press(OPERATOR, confirm, data_with(confirm, "pi:ok:", ":1"))
        done = driver.message(OPERATOR, preview.message_id)
        assert done.contains("Plan 916/KH-UBND updated from plan.pdf: 0 added, 1 retired, "
                             "0 field changes.")
    assert timeframe(people, "1.4") == ("Thường xuyên", True)
    assert audits(people)[-1] == f"telegram:{OPERATOR}"


async def test_a_registry_that_moved_since_the_preview_is_previewed_again(
        stub: StubBotApi, settings: Settings, people: Engine) -> None:
    stub.user(OPERATOR, "Operator", language_code="en")
    driver = Driver(stub)
    async with bot(settings, people, driver):
        preview = await send(driver, stub, OPERATOR, "plan.docx", word_copy(YEARLY))
        with session_scope(people) as s:  # meanwhile, the same change from the CLI
            registry.import_plan(s, parse_plan(YEARLY), raw=YEARLY, source_name="plan916.txt")
        before = registry_dump(people)
        await driver.press(OPERATOR, preview, data_with(preview, "pi:ok:", ":0"))
        again = driver.message(OPERATOR, preview.message_id)
        assert again.contains("The registry changed since this preview was shown, so nothing was "
                              "applied.")
        assert again.contains("No changes: the registry already matches this document.")
        assert again.button_texts() == ["Cancel"]
        assert registry_dump(people) == before
        await driver.press(OPERATOR, again, data_with(again, "pi:x:"))
        assert driver.message(OPERATOR, preview.message_id).contains("Import cancelled; nothing "
                                                                     "was changed.")
    assert imports(people) == ["cancelled"]


async def test_a_damaged_document_is_refused_with_its_row_and_changes_nothing(
        stub: StubBotApi, settings: Settings, people: Engine) -> None:
    driver = Driver(stub)
    async with bot(settings, people, driver):
        before = registry_dump(people)
        asked = await send(driver, stub, ADMIN, "hong.docx", word_copy(ROW_LOST))
        await driver.press(ADMIN, asked, data_with(asked, "pi:a:", ":1"))
        refused = driver.message(ADMIN, asked.message_id)
    assert refused.contains("Không đọc được <b>hong.docx</b> như một kế hoạch; chưa có gì thay đổi.")
    assert refused.contains("hong.docx: table row 6: task 1.4: the numbering of axis 1 jumps "
                            "from row 2 to row 4 (row 3 missing?)")
    assert refused.button_datas() == []
    assert imports(people) == ["cancelled"]
    assert registry_dump(people) == before


async def test_evidence_or_a_focal_point_s_document_goes_to_the_report_flow(
        stub: StubBotApi, settings: Settings, people: Engine) -> None:
    driver = Driver(stub)
    async with bot(settings, people, driver):
        stray = await send(driver, stub, FOCAL, "bien-ban.docx", word_copy(YEARLY))
        assert not [d for d in stray.button_datas() if d.startswith("pi:")]
        answer_to_focal = stray.text
        asked = await send(driver, stub, ADMIN, "bien-ban.docx", word_copy(YEARLY))
        await driver.press(ADMIN, asked, data_with(asked, "pi:a:", ":0"))
        evidence = stub.last_message(ADMIN)
        assert evidence is not None and evidence.text == answer_to_focal  # the report flow's answer
    assert imports(people) == ["cancelled"]
    assert timeframe(people, "1.3") == ("Định kỳ hàng quý", False)


def test_a_long_preview_is_clipped_to_one_message_and_comes_whole_as_a_file() -> None:
    from telegram.constants import MessageLimit

    from models.plan_imports import AxisCount, Preview
    from views.html import utf16_len
    from views.i18n import use_locale
    from views.plan_import import preview_screen

    report = registry.ImportReport(plan_number="916/KH-UBND", warnings=[
        f"table row {n}: unknown timeframe 'Quý {n}'; cadence set to 'other'" for n in range(300)])
    report.changes = [registry.Change(f"1.{n}", "task", "cũ " * 40, "<b>mới</b> " * 40)
                      for n in range(300)]
    preview = Preview(7, "<script>.docx", "Kế hoạch", (AxisCount(1, "Một", 300),), ("Sở Nội vụ",),
                      (), report)
    with use_locale("vi"):
        screen = preview_screen(preview)
    assert utf16_len(screen.text) <= MessageLimit.MAX_TEXT_LENGTH
    assert "&lt;script&gt;.docx" in screen.text and "<script>" not in screen.text
    assert "&lt;b&gt;mới" in screen.text
    assert "Toàn bộ bản xem trước ở tệp phía trên." in screen.text
    assert "… và 292 mục khác" in screen.text  # 8 of the 300 changes shown
    (attached,) = screen.files
    whole = (attached.content or b"").decode()
    assert whole.count("~ 1.") == 300 and whole.count("⚠ table row") == 300
    assert "<b>mới</b>" in whole  # plain text: the document's words as they are
