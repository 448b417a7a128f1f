"""End to end: /report_doc sends a leader the period's official report as a Word document (in
the member's language); a focal point is told it is not for them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from docx import Document
from sqlalchemy import Engine

from bot.settings import Settings
from sandbox.status_data import COMMUNE_FOCAL, PROVINCE_LEADER, Seeded, seed_status
from tests.bot_harness import bot_settings, running_bot, stub  # noqa: F401
from tests.stub_botapi import StubBotApi, UploadedFile

pytestmark = pytest.mark.e2e


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    return seed_status(engine)


def _upload(call_params: dict[str, Any], field: str) -> UploadedFile:
    value = call_params[field]
    assert isinstance(value, UploadedFile), value
    return value


async def test_a_leader_gets_the_report_a_focal_point_does_not(
        stub: StubBotApi, bot_settings: Settings, engine: Engine, seeded: Seeded) -> None:  # noqa: F811
    leader = stub.user(PROVINCE_LEADER, "Leader", language_code="vi")
    focal = stub.user(COMMUNE_FOCAL, "Focal", language_code="en")
    async with running_bot(bot_settings, engine):
        stub.send_text(focal, "/report_doc 2026-H2")
        await stub.await_message(COMMUNE_FOCAL, contains="The official report is for leaders")
        stub.send_text(leader, "/report_doc 2026-H2")
        call = await stub.await_call("sendDocument", timeout=60)  # the render worker starts
        stub.send_text(leader, "/report_doc 2026-H7")
        await stub.await_message(PROVINCE_LEADER, contains="2026-Q4")
    upload = _upload(call.params, "document")
    assert upload.filename == "bao-cao-2026-H2.docx"
    assert "Báo cáo chính thức — 6 tháng cuối năm 2026" in str(call.params.get("caption"))
    document = Document(io.BytesIO(upload.content))
    texts = [p.text for p in document.paragraphs]
    assert "BÁO CÁO" in texts and any("trong 6 tháng cuối năm 2026" in t for t in texts)
    assert document.tables[0].cell(0, 1).paragraphs[0].text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert sum(t.startswith("Nhiệm vụ ") for t in texts) == 40
