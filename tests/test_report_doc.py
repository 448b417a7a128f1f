"""``dondoc report-doc``: the period's official report as a Word document in the format of
Decree 30/2020/NĐ-CP (A4, margins, Times New Roman 13-14 pt, national name and motto, number and
symbol, place and date, title naming the period, the summary's figures, a heading per axis,
every task by its code, the ranking, "Nơi nhận"), in Vietnamese and English; PDF through
LibreOffice when it is installed, exit code 2 when it is not."""

from __future__ import annotations

import os
import shutil
import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
from docx import Document
from docx.document import Document as DocumentType
from docx.shared import Mm, Pt
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.cli import main
from models.db import session_scope
from models.rollup import parse_period
from models.tables import Agency, ExplanationRequest, ExtensionRequest, Item, Member, Task
from sandbox.status_data import COMMUNE_FOCAL, COORDINATOR, Seeded, oracle, seed_status

# 5 January 2027, 10:00 in Hanoi: the report on the second half of 2026 is made.
MADE = datetime(2027, 1, 5, 3, 0, tzinfo=UTC)
H2 = "2026-H2"


@pytest.fixture
def seeded(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Seeded:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DONDOC_DATABASE_URL", db_url)
    for name in ("DONDOC_DEFAULT_LANGUAGE", "DONDOC_REPORT_SIGNER_NAME"):
        monkeypatch.delenv(name, raising=False)
    return seed_status(engine)


def ask_explanations(engine: Engine) -> tuple[str, str]:
    """Two explanations about Q3 items of Hồng Gai: one answered, one open. Returns the task
    codes (answered, open)."""
    with session_scope(engine) as s:
        coordinator = s.exec(select(Member).where(Member.telegram_user_id == COORDINATOR)).one()
        focal = s.exec(select(Member).where(Member.telegram_user_id == COMMUNE_FOCAL)).one()
        hong_gai = s.exec(select(Agency).where(Agency.code == "XA-HONG-GAI")).one()
        late = s.exec(select(Item, Task.code).join(Task, col(Task.id) == Item.task_id)
                      .where(Item.agency_id == hong_gai.id, Item.period_key == "2026-Q3")
                      .order_by(col(Task.position))).all()
        (first, first_code), (second, second_code) = late[0], late[1]
        assert first.id and second.id and coordinator.id and focal.id
        s.add(ExplanationRequest(item_id=first.id, requested_by=coordinator.id,
                                 question="Vì sao chậm?", due_on=date(2026, 10, 20), state="answered",
                                 answer_text="Thiếu kinh phí, sẽ xong trong tháng 12",
                                 answered_by=focal.id,
                                 answered_at=datetime(2026, 10, 18, 3, 0, tzinfo=UTC),
                                 created_at=datetime(2026, 10, 12, 3, 0, tzinfo=UTC)))
        s.add(ExplanationRequest(item_id=second.id, requested_by=coordinator.id,
                                 question="Đề nghị giải trình", due_on=date(2026, 12, 20),
                                 created_at=datetime(2026, 12, 10, 3, 0, tzinfo=UTC)))
    return first_code, second_code


def ask_extensions(engine: Engine) -> list[str]:
    """Three extension requests on Q3 items of Hồng Gai (due 30/09/2026): one approved (the item's
    date moved to 15/10/2026, the first date kept), one refused with a reason, one waiting.
    Returns their task codes in that order."""
    with session_scope(engine) as s:
        coordinator = s.exec(select(Member).where(Member.telegram_user_id == COORDINATOR)).one()
        focal = s.exec(select(Member).where(Member.telegram_user_id == COMMUNE_FOCAL)).one()
        hong_gai = s.exec(select(Agency).where(Agency.code == "XA-HONG-GAI")).one()
        items = s.exec(select(Item, Task.code).join(Task, col(Task.id) == Item.task_id)
                       .where(Item.agency_id == hong_gai.id, Item.period_key == "2026-Q3")
                       .order_by(col(Task.position))).all()
        assert len(items) == 3 and coordinator.id and focal.id
        codes = []
        for at, ((item, code), state) in enumerate(zip(items, ("approved", "refused", "pending"),
                                                       strict=True)):
            assert item.id
            due = item.due_on
            assert due == date(2026, 9, 30)
            decided = state != "pending"
            s.add(ExtensionRequest(
                item_id=item.id, requested_by=focal.id, due_on_before=due,
                requested_due_on=date(2026, 10, 15 + at), reason=f"Chờ kinh phí bổ sung {at}",
                state=state, decided_by=coordinator.id if decided else None,
                decided_at=datetime(2026, 9, 28, 3, 0, tzinfo=UTC) if decided else None,
                decided_due_on=date(2026, 10, 15) if state == "approved" else None,
                decision_reason="Không có căn cứ" if state == "refused" else "",
                created_at=datetime(2026, 9, 25 + at, 3, 0, tzinfo=UTC)))
            if state == "approved":
                item.original_due_on, item.due_on = due, date(2026, 10, 15)
                s.add(item)
            codes.append(code)
    return codes


def _write(tmp_path: Path, *args: str, period: str = H2) -> DocumentType:
    out = tmp_path / "report.docx"
    with time_machine.travel(MADE, tick=False):
        assert main(["report-doc", "--period", period, "--output", str(out), *args]) == 0
    return Document(str(out))


def _body_paragraphs(document: DocumentType) -> list[str]:
    return [p.text for p in document.paragraphs]


def _cells(table: object) -> list[str]:
    return [cell.text for row in table.rows for cell in row.cells]  # type: ignore[attr-defined]


def _all_text(document: DocumentType) -> str:
    tables = [text for table in document.tables for text in _cells(table)]
    return "\n".join([*_body_paragraphs(document), *tables])


def test_the_format_of_decree_30(engine: Engine, seeded: Seeded, tmp_path: Path) -> None:
    document = _write(tmp_path)
    section = document.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(1) and abs(section.page_height - Mm(297)) < Mm(1)
    # Within Decree 30's ranges; Word stores twentieths of a point (15 mm is 850 of them).
    for margin, low, high in ((section.top_margin, 20, 25), (section.bottom_margin, 20, 25),
                              (section.left_margin, 30, 35), (section.right_margin, 15, 20)):
        assert Mm(low - 0.05) <= margin <= Mm(high + 0.05)
    normal = document.styles["Normal"].font
    assert normal.name == "Times New Roman" and Pt(13) <= normal.size <= Pt(14)
    # Every run of the body in Times New Roman (inherited or set) at 13-14 pt.
    runs = [run for p in document.paragraphs for run in p.runs]
    assert runs and all(run.font.name in (None, "Times New Roman") for run in runs)
    for paragraph in document.paragraphs:
        size = paragraph.style.font.size or normal.size
        for run in paragraph.runs:
            assert Pt(13) <= (run.font.size or size) <= Pt(14), paragraph.text
    for style in ("Heading 1", "Heading 2"):
        assert document.styles[style].font.name == "Times New Roman"


def test_header_title_summary_axes_tasks_and_recipients(engine: Engine, seeded: Seeded,
                                                        tmp_path: Path) -> None:
    document = _write(tmp_path)
    header = document.tables[0]
    left, right = header.cell(0, 0), header.cell(0, 1)
    # Each block ends with Decree 30's short line (an empty paragraph with a bottom border).
    assert [p.text for p in left.paragraphs] == ["UBND TỈNH QUẢNG NINH", "SỞ NỘI VỤ", ""]
    assert left.paragraphs[1].runs[0].bold and "<w:bottom " in left.paragraphs[2]._p.xml
    assert [p.text for p in right.paragraphs] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                                                   "Độc lập - Tự do - Hạnh phúc", ""]
    assert all(p.runs[0].bold for p in right.paragraphs[:2])
    assert "<w:bottom " in right.paragraphs[2]._p.xml
    assert header.cell(1, 0).text == "Số: …/BC-SNV"
    date_line = header.cell(1, 1).paragraphs[0]
    assert date_line.text == "Quảng Ninh, ngày 05 tháng 01 năm 2027" and date_line.runs[0].italic
    # No borders around the header (Decree 30 lays it out in columns, not a grid).
    assert 'w:val="nil"' in header._tbl.xml

    paragraphs = _body_paragraphs(document)
    title = paragraphs.index("BÁO CÁO")
    assert paragraphs[title + 1] == ("Kết quả thực hiện Kế hoạch số 916/KH-UBND ngày 25/02/2016 "
                                     "trong 6 tháng cuối năm 2026")
    period = parse_period(H2)
    expected = oracle(engine, period.start, period.end, MADE.date())
    summary = next(p for p in paragraphs if p.startswith("Trong 6 tháng cuối năm 2026"))
    assert f"{expected['owed']} lượt nhiệm vụ phải thực hiện" in summary
    assert f"{expected['overdue']} quá hạn" in summary
    totals = document.tables[1].rows[-1].cells
    assert totals[0].text == "Tổng cộng" and totals[1].text == str(expected["owed"])

    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    axes = [h for h in headings if "Trục nội dung:" in h]
    assert [h.split(".")[0] for h in axes] == ["1", "2", "3", "4", "5", "6"]
    assert axes[0] == "1. Trục nội dung: Tham gia của người dân ở cấp cơ sở"
    by_axis = paragraphs[paragraphs.index("II. KẾT QUẢ THEO TRỤC NỘI DUNG"):
                         paragraphs.index("III. XẾP HẠNG CÁC CƠ QUAN, ĐƠN VỊ")]
    codes = [p.split(":")[0].removeprefix("Nhiệm vụ ") for p in by_axis if p.startswith("Nhiệm vụ ")]
    assert len(codes) == 40 and codes[0] == "1.1" and len(set(codes)) == 40
    assert any(p.startswith("Các đơn vị chậm: ") and "UBND" in p for p in paragraphs)
    assert "Trong kỳ không có yêu cầu giải trình." in paragraphs
    assert "Trong kỳ không có đề nghị gia hạn." in paragraphs
    closing = document.tables[-1]
    recipients = [p.text for p in closing.cell(0, 0).paragraphs]
    assert recipients[0] == "Nơi nhận:" and recipients[1] == "- UBND tỉnh (b/c);"
    assert recipients[-1] == "- Lưu: VT, SNV."
    assert closing.cell(0, 1).paragraphs[0].text == "GIÁM ĐỐC"


def test_in_english_with_the_signer_from_settings(engine: Engine, seeded: Seeded, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DONDOC_REPORT_SIGNER_NAME", "Nguyễn Văn A")
    document = _write(tmp_path, "--lang", "en")
    text = _all_text(document)
    assert "SOCIALIST REPUBLIC OF VIET NAM" in text and "Independence - Freedom - Happiness" in text
    assert "No.: …/BC-SNV" in text and "Quảng Ninh, January 5, 2027" in text
    assert "Results of implementing Plan No. 916/KH-UBND of 02/25/2016 in second half of 2026" in text
    assert "1. Axis: Participation at local levels" in text and "Recipients:" in text
    assert document.tables[-1].cell(0, 1).paragraphs[-1].text == "Nguyễn Văn A"
    assert "Nhiệm vụ" not in text and "Trục nội dung" not in text


def test_explanations_asked_in_the_period(engine: Engine, seeded: Seeded, tmp_path: Path) -> None:
    answered, still_open = ask_explanations(engine)
    document = _write(tmp_path)
    paragraphs = _body_paragraphs(document)
    section = paragraphs[paragraphs.index("V. GIẢI TRÌNH ĐƯỢC YÊU CẦU"):]
    first = next(i for i, p in enumerate(section)
                 if p.startswith(f"Nhiệm vụ {answered}, UBND phường Hồng Gai: "))
    assert "Nguyễn Văn Điều Phối" in section[first] and "“Vì sao chậm?”" in section[first]
    assert section[first + 1].startswith("Đầu mối Hồng Gai đã giải trình ngày")
    assert section[first + 1].endswith("Thiếu kinh phí, sẽ xong trong tháng 12")
    second = next(i for i, p in enumerate(section) if p.startswith(f"Nhiệm vụ {still_open}, "))
    assert section[second + 1] == "Chưa giải trình."


def _extension_table(document: DocumentType, header: str) -> list[list[str]]:
    table = next(t for t in document.tables if t.rows[0].cells[0].text == header)
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_extension_requests_of_the_period(engine: Engine, seeded: Seeded, tmp_path: Path) -> None:
    approved, refused, pending = ask_extensions(engine)
    document = _write(tmp_path)
    paragraphs = _body_paragraphs(document)
    # Between the ranking and the explanations, the requests with their dates and decisions.
    at = paragraphs.index("IV. ĐỀ NGHỊ GIA HẠN")
    assert paragraphs.index("III. XẾP HẠNG CÁC CƠ QUAN, ĐƠN VỊ") < at < paragraphs.index(
        "V. GIẢI TRÌNH ĐƯỢC YÊU CẦU")
    assert paragraphs[at + 1] == ("Có 3 đề nghị gia hạn đối với nhiệm vụ của kỳ: 1 được chấp thuận, "
                                  "0 chấp thuận với thời hạn ngắn hơn, 1 không chấp thuận, 1 đang chờ duyệt.")
    rows = _extension_table(document, "Nhiệm vụ")
    assert rows[0] == ["Nhiệm vụ", "Đơn vị", "Hạn ban đầu", "Hạn đề nghị", "Kết quả xem xét",
                       "Hạn mới", "Lý do"]
    assert rows[1] == [approved, "UBND phường Hồng Gai", "30/09/2026", "15/10/2026", "Đã chấp thuận",
                       "15/10/2026", "Chờ kinh phí bổ sung 0"]
    assert rows[2] == [refused, "UBND phường Hồng Gai", "30/09/2026", "16/10/2026", "Không chấp thuận",
                       "–", "Chờ kinh phí bổ sung 1\nLý do không chấp thuận: Không có căn cứ"]
    assert rows[3] == [pending, "UBND phường Hồng Gai", "30/09/2026", "17/10/2026", "Chờ duyệt gia hạn",
                       "–", "Chờ kinh phí bổ sung 2"]
    assert len(rows) == 4

    english = _write(tmp_path, "--language", "en")
    paragraphs = _body_paragraphs(english)
    at = paragraphs.index("IV. EXTENSION REQUESTS")
    assert paragraphs[at + 1].startswith("3 extension requests on the period's items: 1 approved, ")
    rows = _extension_table(english, "Task")
    assert rows[0] == ["Task", "Agency", "First due date", "Date asked for", "Decision", "New due date",
                       "Reason"]
    assert rows[1][2:6] == ["09/30/2026", "10/15/2026", "Approved", "10/15/2026"]
    assert rows[2][4] == "Refused" and rows[2][6].endswith("Refused because: Không có căn cứ")
    assert "V. EXPLANATIONS REQUESTED" in paragraphs


@pytest.mark.parametrize(("period", "named"), [("2026-Q4", "Quý IV năm 2026"),
                                               ("2026-H1", "6 tháng đầu năm 2026"),
                                               ("2026", "trong năm 2026")])
def test_the_title_names_the_period(engine: Engine, seeded: Seeded, tmp_path: Path, period: str,
                                    named: str) -> None:
    document = _write(tmp_path, period=period)
    paragraphs = _body_paragraphs(document)
    assert paragraphs[paragraphs.index("BÁO CÁO") + 1].endswith(named)


def test_bad_period_and_pdf_without_libreoffice(seeded: Seeded, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report-doc", "--period", "2026-H3", "--output", str(tmp_path / "x.docx")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dondoc: error:") and "H1, H2" in err and err.count("\n") == 1
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    out = tmp_path / "x.pdf"
    assert main(["report-doc", "--period", H2, "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "LibreOffice" in err and err.count("\n") == 1 and not out.exists()


def test_pdf_is_converted_by_soffice(seeded: Seeded, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in soffice on PATH: the report reaches it as a .docx and its PDF is the output."""
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = tools / "soffice"
    fake.write_text('#!/bin/sh\n# args: -env:... --headless --convert-to pdf --outdir DIR FILE\n'
                    'for last; do :; done\nhead -c 2 "$last" > "$6/report.pdf"\n'
                    'printf "%%PDF-fake" >> "$6/report.pdf"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "report.pdf"
    assert main(["report-doc", "--period", H2, "--output", str(out)]) == 0
    assert out.read_bytes() == b"PK%PDF-fake"  # the docx (a zip: "PK") went in


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed (CI)")
def test_pdf_with_libreoffice(seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    assert main(["report-doc", "--period", H2, "--format", "pdf", "--output", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF-")


def test_the_bots_report_is_read_and_written_in_the_render_worker(
        engine: Engine, seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    """/report_doc's whole document (its data read, then written) comes from the render worker,
    on its own engine of the same database, and says what the one made here says: this
    process's report_doc.for_actor is never called for it."""
    import io
    from zoneinfo import ZoneInfo

    from domain.docnumber import Issuer
    from handlers.export import document
    from models import report_doc
    from models.db import EngineRef
    from models.members import load_actor
    from sandbox.status_data import PROVINCE_LEADER
    from views import render_pool
    from views.i18n import use_locale
    from views.report_doc import report_doc_screen

    ask_explanations(engine)
    ask_extensions(engine)
    with session_scope(engine) as s:
        actor = load_actor(s, PROVINCE_LEADER, [])
    period = parse_period(H2)
    args = (EngineRef(engine), actor, period, date(2027, 1, 5), Issuer(signer_name="Nguyễn Văn A"),
            ZoneInfo("Asia/Ho_Chi_Minh"), 0)
    with use_locale("vi"):
        here, viewer_here = document(*args)
        monkeypatch.setattr(report_doc, "for_actor", lambda *_a: pytest.fail("read in this process"))
        render_pool.start()
        try:
            there, viewer = render_pool.run(document, *args)
        finally:
            render_pool.stop()
        screen = report_doc_screen(period, viewer, there)
    assert viewer == viewer_here
    made = [Document(io.BytesIO(content)) for content in (here, there)]
    texts = [_all_text(d) for d in made]
    assert texts[0] == texts[1]
    assert [len(d.tables) for d in made] == [len(made[0].tables)] * 2 and len(made[0].tables) > 5
    assert "Vì sao chậm?" in texts[1] and "Nguyễn Văn A" in texts[1]
    tasks = [p for p in _body_paragraphs(made[1]) if p.startswith("Nhiệm vụ ")]
    assert len(tasks) == 42, tasks[-3:]  # the 40 tasks, then the 2 explanations' items
    assert [(f.filename, f.caption) for f in screen.files] == [
        ("bao-cao-2026-H2.docx", "Báo cáo chính thức — 6 tháng cuối năm 2026 (toàn tỉnh)")]
