"""Plan 916 in Word, in Excel and as a PDF (written by tests/plan_copies.py from the seed) reads as
the seed does; a damaged workbook, document or PDF is refused in one line and changes nothing."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.cli import main
from domain.plan_parser import (
    ParsedPlan,
    PlanFormatError,
    PlanSource,
    SourceRow,
    parse_plan,
    parse_source,
)
from domain.plan_readers import document_format, parse_document
from models.db import make_engine
from sandbox.db_dump import dump
from tests.conftest import load_plan916
from tests.plan_copies import SEED, excel_copy, pdf_copy, word_copy

SEED_PLAN = parse_plan(SEED)
WORD, EXCEL, PDF = word_copy(), excel_copy(), pdf_copy()
COPIES = {"docx": WORD, "xlsx": EXCEL, "pdf": PDF}
UNIT = {"docx": "table row", "xlsx": "row", "pdf": "table row"}


def _meaning(plan: ParsedPlan) -> tuple[object, ...]:
    return (plan.number, plan.issued_on, plan.title, plan.axes,
            tuple((t.code, t.axis, t.row, t.position, t.content, t.task, t.lead, t.coordinating,
                   t.coordination_note, t.timeframe, t.cadence, t.note) for t in plan.tasks))


def _unplaced(warnings: tuple[str, ...]) -> list[str]:
    return [re.sub(r"^(line|row|table row) \d+: ", "", w) for w in warnings]


# --------------------------------------------------------------------------- the copies


def test_the_word_copy_has_what_a_province_s_document_has() -> None:
    with zipfile.ZipFile(io.BytesIO(WORD)) as archive:
        xml = archive.read("word/document.xml").decode()
    assert xml.count("<w:vMerge/>") > 40  # cells merged down (continued)
    assert xml.count('<w:gridSpan w:val="7"/>') == 6  # one axis row per axis, across the table
    assert xml.count(">STT<") == 7  # the header repeated where the seed's pages break
    assert re.search(r"<w:tc>(?:(?!</w:tc>).)*<w:p>(?:(?!</w:tc>).)*<w:p>", xml, re.S)


def test_the_excel_copy_has_what_a_province_s_sheet_has() -> None:
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(EXCEL)).worksheets[0]
    ranges = [str(r) for r in sheet.merged_cells.ranges]
    assert str(sheet.cell(1, 1).value).startswith("NHIỆM VỤ CỤ THỂ") and "A1:G1" in ranges
    assert sheet.cell(4, 1).value == "STT" and "D4:E4" in ranges and "A4:A5" in ranges
    down = [r for r in sheet.merged_cells.ranges if r.min_col == r.max_col and r.min_row > 5]
    assert len(down) > 20
    assert any("\n" in str(c.value) for row in sheet.iter_rows() for c in row if c.value)


def test_the_pdf_copy_has_what_a_printed_plan_has() -> None:
    """Seven pages, each with the header pair; text a reader can select (Vietnamese letters
    whole), the merged cells drawn as one box."""
    import pdfplumber

    with pdfplumber.open(io.BytesIO(PDF)) as pdf:
        assert len(pdf.pages) == 7
        texts = [page.extract_text() for page in pdf.pages]
        tables = [page.find_tables() for page in pdf.pages]
    assert all(t.startswith("STT") or "STT Nội dung" in t for t in texts)
    assert "Ban hành kèm theo Kế hoạch số 916 /KH-UBND ngày 25 tháng 02 năm 2016" in texts[0]
    assert all(len(found) == 1 for found in tables)
    first = tables[0][0].extract()
    assert first[1][:3] == [None, None, None]  # STT, content, task: one box over the header pair
    assert first[2][0].startswith("Trực nội dung: Tham gia") and first[2][1:] == [None] * 6


@pytest.mark.parametrize("fmt", ["docx", "xlsx", "pdf"])
def test_a_copy_parses_to_the_seed_s_plan(fmt: str) -> None:
    parsed = parse_document(COPIES[fmt], source=f"plan916.{fmt}")
    assert _meaning(parsed) == _meaning(SEED_PLAN)
    assert len(parsed.tasks) == 40
    assert _unplaced(parsed.warnings) == _unplaced(SEED_PLAN.warnings)
    assert all(w.startswith(f"{UNIT[fmt]} ") for w in parsed.warnings if w[0].isalpha())


def test_a_sheet_whose_table_starts_further_right_reads_the_same() -> None:
    import openpyxl

    shifted = excel_copy(column=3)
    assert openpyxl.load_workbook(io.BytesIO(shifted)).worksheets[0].cell(4, 3).value == "STT"
    assert _meaning(parse_document(shifted, source="plan.xlsx")) == _meaning(SEED_PLAN)


def test_the_reader_is_chosen_by_the_file_itself_then_its_name() -> None:
    assert document_format("plan.docx", WORD) == "docx"
    assert document_format("plan.txt", WORD) == "docx"  # a Word file misnamed
    assert document_format("plan", EXCEL) == "xlsx"
    assert document_format("plan.txt", SEED) == "text"
    assert document_format("plan.txt", PDF) == "pdf"
    assert _meaning(parse_document(WORD, source="plan.bin")) == _meaning(SEED_PLAN)
    for name, data in (("plan.doc", b"\xd0\xcf\x11\xe0"), ("plan.xls", b"\xd0\xcf\x11\xe0")):
        with pytest.raises(PlanFormatError, match=r"files are not read; save the document as "
                                                  r"\.docx, \.xlsx or \.pdf"):
            parse_document(data, source=name)
    with pytest.raises(PlanFormatError, match=r"^plan.pdf: not a PDF: it does not start"):
        parse_document(b"<html>", source="plan.pdf")


# --------------------------------------------------------------------------- the rules, once


def _rows(*rows: tuple[str | None, ...]) -> PlanSource:
    header = ("STT", "Nội dung", "Nhiệm vụ cụ thể", "Trách nhiệm cụ thể", "",
              "Thời gian thực hiện", "Ghi chú")
    sub = (None, None, None, "Đơn vị chủ trì", "Đơn vị phối hợp", None, None)
    axis = ("Trục nội dung: Một", "", "", "", "", "", "")
    table = [header, sub, axis, *rows]
    return PlanSource(((1, "# Kế hoạch"),), tuple(SourceRow(n, c) for n, c in enumerate(table, 1)))


def test_cells_merged_down_continue_the_row_above_as_the_text_s_empty_cells_do() -> None:
    plan = parse_source(_rows(
        ("1", "Nội dung A", "Việc một", "Sở Nội vụ\nSở Tư pháp", "Sở Tài chính", "Hàng năm",
         "Ghi chú một"),
        (None, None, "Việc hai", None, None, None, None),
        ("2", "Nội dung B", "Việc ba", None, "", "Thường xuyên", ""),
    ))
    one, two, three = plan.tasks
    assert (one.code, two.code, three.code) == ("1.1a", "1.1b", "1.2")
    assert one.lead == two.lead == three.lead == ("Sở Nội vụ", "Sở Tư pháp")  # paragraphs split
    assert two.content == "Nội dung A" and two.cadence == "annual"
    assert two.coordinating == ("Sở Tài chính",) and two.note == "Ghi chú một"  # merged: repeated
    assert three.coordinating == () and three.cadence == "ongoing"


def test_a_damaged_row_is_refused_with_its_place_in_the_document() -> None:
    with pytest.raises(PlanFormatError) as caught:
        parse_source(_rows(("1", "A", "Việc một", "Sở Nội vụ", "", "Hàng năm", ""),
                           ("3", "B", "Việc hai", "Sở Nội vụ", "", "Hàng năm", "")),
                     source="copy.docx")
    assert str(caught.value) == ("copy.docx: row 5: task 1.3: the numbering of axis 1 jumps from "
                                 "row 1 to row 3 (row 2 missing?)")


def test_messages_count_rows_as_the_document_does() -> None:
    with pytest.raises(PlanFormatError) as caught:
        parse_source(_rows(("1", "A", "Việc một", "Sở Nội vụ", "", "Hàng năm", ""),
                           ("2", "B", "Việc  một", "Sở Nội vụ", "", "Hàng năm", "")))
    assert str(caught.value) == ("row 5: task 1.2: the row repeats row 4 (task 1.1): the same "
                                 "task text twice")


def _edit_part(data: bytes, part: str, edit: Callable[[str], str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w") as new:
        for info in old.infolist():
            body = old.read(info)
            new.writestr(info, edit(body.decode()).encode() if info.filename == part else body)
    return out.getvalue()


def test_a_word_row_spanning_a_billion_columns_is_refused_before_it_costs_them() -> None:
    data = _edit_part(WORD, "word/document.xml",
                      lambda xml: xml.replace('<w:gridSpan w:val="7"/>',
                                              '<w:gridSpan w:val="1000000000"/>', 1))
    with pytest.raises(PlanFormatError, match=r"^copy\.docx: table row 3: the row spans more "
                                              r"than 64 columns; the appendix table has 7$"):
        parse_document(data, source="copy.docx")


def test_an_invisible_character_before_the_table_is_placed_by_its_paragraph() -> None:
    data = _edit_part(WORD, "word/document.xml",
                      lambda xml: xml.replace("Ban hành kèm theo", "Ban hành\u200b kèm theo", 1))
    with pytest.raises(PlanFormatError) as caught:
        parse_document(data, source="copy.docx")
    assert str(caught.value).startswith("copy.docx: paragraph 2: the invisible formatting "
                                        "character U+200B")


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_every_flipped_bit_is_refused_or_changes_nothing_the_plan_says(fmt: str) -> None:
    """A bit flipped anywhere in the file (a sample of 400 places): the archive's checks or the
    table's rules refuse it, or it fell where nothing is read (a timestamp) and means the seed."""
    import random

    data, rng = COPIES[fmt], random.Random(14)
    outcomes: dict[str, int] = {}
    for at in rng.sample(range(len(data)), 400):
        flipped = data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1:]
        try:
            same = _meaning(parse_document(flipped, source=f"copy.{fmt}")) == _meaning(SEED_PLAN)
            outcome = "same" if same else f"other plan (byte {at})"
        except PlanFormatError as exc:
            assert str(exc).startswith(f"copy.{fmt}: ") and "\n" not in str(exc)
            outcome = "refused"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert set(outcomes) <= {"same", "refused"}, outcomes
    assert outcomes["refused"] > 300


def _page_streams(data: bytes) -> list[int]:
    """Where each page's content stream starts (reportlab writes them ASCII85 + Flate)."""
    return [m.end() for m in re.finditer(rb"/Filter \[ /ASCII85Decode /FlateDecode \] "
                                         rb"/Length \d+\s*>>\s*stream\r?\n", data)]


def test_a_byte_changed_in_any_page_of_the_pdf_is_refused() -> None:
    """A PDF has no checksum: a damaged page stream read as far as it goes would lose that
    page's rows and the rest could still read as a plan. Read strictly, it is refused."""
    starts = _page_streams(PDF)
    assert len(starts) == 7
    for at in (start + 50 for start in starts):
        flipped = PDF[:at] + bytes([PDF[at] ^ 0x10]) + PDF[at + 1:]
        with pytest.raises(PlanFormatError) as caught:
            parse_document(flipped, source="copy.pdf")
        assert str(caught.value).startswith("copy.pdf: ") and "\n" not in str(caught.value)


# --------------------------------------------------------------------------- through the CLI


@pytest.fixture
def cli_registry(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Engine:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DONDOC_DATABASE_URL", db_url)
    monkeypatch.delenv("DONDOC_BOT_TOKEN", raising=False)
    engine = make_engine(db_url)
    load_plan916(engine)
    return engine


def _import(capsys: pytest.CaptureFixture[str], path: Path, data: bytes,
            *flags: str) -> tuple[int, str, str]:
    path.write_bytes(data)
    code = main(["import-plan", str(path), *flags])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fmt", ["docx", "xlsx", "pdf"])
def test_importing_a_copy_over_the_bundled_plan_changes_nothing(
        fmt: str, cli_registry: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = dump(cli_registry)
    path = tmp_path / f"ke-hoach-916.{fmt}"
    code, out, err = _import(capsys, path, COPIES[fmt])
    assert (code, err) == (0, "")
    assert out.startswith("Plan 916/KH-UBND: no changes; the registry already matches "
                          f"ke-hoach-916.{fmt}.\n")
    assert dump(cli_registry) == before


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _no_table(_: bytes) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("Kế hoạch số 916/KH-UBND ngày 25 tháng 02 năm 2016")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _flipped(data: bytes) -> bytes:
    """A byte inside the compressed document changed: the archive's checksum fails."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = next(i for i in archive.infolist()
                    if i.filename in ("word/document.xml", "xl/worksheets/sheet1.xml"))
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


def _pdf_flipped(data: bytes) -> bytes:
    at = _page_streams(data)[3] + 50  # inside the fourth page's compressed content
    return data[:at] + bytes([data[at] ^ 0x10]) + data[at + 1:]


def _pdf_canvas(draw: Callable[[object], None]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    draw(canvas)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _scan(_: bytes) -> bytes:
    """A scanned page: pictures and lines, no text."""
    return _pdf_canvas(lambda c: c.rect(50, 50, 400, 600, fill=1))  # type: ignore[attr-defined]


def _pdf_without_table(_: bytes) -> bytes:
    return _pdf_canvas(lambda c: c.drawString(  # type: ignore[attr-defined]
        72, 720, "Ke hoach so 916/KH-UBND ngay 25 thang 02 nam 2016"))


DAMAGED: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("pdf", _cut, r"not readable as a PDF: it does not end with %%EOF \(cut short\?\)"),
    ("pdf", _pdf_flipped, r"not a readable PDF: \w+"),
    ("pdf", _scan, r"the PDF has no text layer \(a scan\?\)"),
    ("pdf", _pdf_without_table, r"no appendix table found: the PDF has no ruled table"),
    ("docx", _cut, r"not readable as a Word document \(\.docx\): BadZipFile"),
    ("xlsx", _cut, r"not readable as an Excel workbook \(\.xlsx\): BadZipFile"),
    ("docx", _flipped, r"not readable as a Word document \(\.docx\)"),
    ("xlsx", _flipped, r"not readable as an Excel workbook \(\.xlsx\)"),
    ("docx", lambda _: b"PK\x03\x04" + b"\x00" * 64, r"not readable as a Word document"),
    ("docx", _no_table, r"no appendix table found: the document has no table"),
    ("xlsx", lambda d: d.replace(b"xl/workbook.xml", b"xl/workbook.xmX"),
     r"not readable as an Excel workbook|not an Excel workbook"),
]


@pytest.mark.parametrize(("fmt", "damage", "message"), DAMAGED)
def test_a_damaged_copy_is_refused_in_one_line_and_changes_nothing(
        fmt: str, damage: Callable[[bytes], bytes], message: str, cli_registry: Engine,
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = dump(cli_registry)
    path = tmp_path / f"copy.{fmt}"
    code, out, err = _import(capsys, path, damage(COPIES[fmt]), "--apply", "--retire")
    assert (code, out) == (1, "")
    assert err.startswith(f"dondoc: error: {path}: ") and err.count("\n") == 1, err
    assert re.search(message, err), err
    assert dump(cli_registry) == before


def test_a_copy_with_a_damaged_table_is_refused_like_a_damaged_text(
        cli_registry: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = dump(cli_registry)
    lines = SEED.decode().split("\n")
    row = next(i for i, line in enumerate(lines) if line.startswith("3\tĐóng góp"))
    del lines[row]  # row 3 of axis 1 lost: the numbering jumps from 2 to 4
    damaged = "\n".join(lines).encode()
    for fmt, data, place in (("docx", word_copy(damaged), "table row 6"),
                             ("xlsx", excel_copy(damaged), "row 9"),
                             ("pdf", pdf_copy(damaged), "table row 6")):
        path = tmp_path / f"copy.{fmt}"
        code, out, err = _import(capsys, path, data, "--apply", "--retire")
        assert (code, out) == (1, "")
        assert err == (f"dondoc: error: {path}: {place}: task 1.4: the numbering of axis 1 jumps "
                       "from row 2 to row 4 (row 3 missing?)\n")
        assert dump(cli_registry) == before


def test_the_time_limit_stops_a_reader_and_is_not_taken_for_damage(
        cli_registry: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import openpyxl

    from bot import cli_plan

    real = openpyxl.load_workbook

    def slow(*args: object, **kwargs: object) -> object:
        time.sleep(5)  # the alarm interrupts it, inside the reader's "except Exception"
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(openpyxl, "load_workbook", slow)
    monkeypatch.setattr(cli_plan, "IMPORT_TIME_LIMIT_SECONDS", 0.3)
    before = dump(cli_registry)
    path = tmp_path / "copy.xlsx"
    code, out, err = _import(capsys, path, EXCEL, "--apply")
    assert (code, out) == (1, "")
    assert err == (f"dondoc: error: {path}: the import took longer than 0.3 s and was stopped; "
                   "nothing was changed\n")
    assert dump(cli_registry) == before


@pytest.mark.parametrize("fmt", ["docx", "xlsx", "pdf"])
def test_a_registry_imported_from_a_copy_is_the_text_s_registry(
        fmt: str, db_url: str, sqlite_template: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Into an empty registry: the copy first (applied), then the seed's text over it changes
    nothing, and the tasks listed are the ones the text alone gives."""
    from models import agencies
    from models.db import session_scope

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DONDOC_DATABASE_URL", db_url)
    monkeypatch.delenv("DONDOC_BOT_TOKEN", raising=False)
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        agencies.load_bundled_agencies(s)
        agencies.import_agencies(s, agencies.parse_agency_csv(
            agencies.bundled("quang_ninh_districts_2016.csv")))
    code, out, err = _import(capsys, tmp_path / f"plan.{fmt}", COPIES[fmt], "--apply")
    assert (code, err) == (0, "") and out.startswith("Plan 916/KH-UBND imported: 40 tasks."), out
    assert main(["tasks", "--format", "json"]) == 0
    from_copy = capsys.readouterr().out
    before = dump(engine)
    code, out, _ = _import(capsys, tmp_path / "plan916.txt", SEED)
    assert code == 0 and out.startswith("Plan 916/KH-UBND: no changes"), out
    assert dump(engine) == before

    text_db = tmp_path / "text.sqlite3"  # the bundled plan imported from the text, alone
    shutil.copy(sqlite_template, text_db)
    load_plan916(make_engine(f"sqlite:///{text_db}"))
    monkeypatch.setenv("DONDOC_DATABASE_URL", f"sqlite:///{text_db}")
    assert main(["tasks", "--format", "json"]) == 0
    from_text = capsys.readouterr().out
    assert from_copy == from_text and len(json.loads(from_copy)) == 40
