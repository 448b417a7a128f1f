"""``dondoc report-doc``: the official report of a period as a Word document in the format of
Decree 30/2020/NĐ-CP (``views.report_doc``), or as PDF converted by LibreOffice when it is
installed. ``bot.cli`` adds it with :func:`add_parsers`; a refusal raises ``ValueError``
(printed as one line by ``bot.cli.main``); no LibreOffice for ``--format pdf`` is exit code 2."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.cli import CliError, add_plan_option, write_file
from bot.settings import Settings, report_issuer, schedule_rules
from models.db import existing_session
from models.report_doc import load_all
from models.rollup import parse_period
from models.types import utcnow
from views.i18n import SUPPORTED, use_locale
from views.report_doc import write_docx

NO_CONVERTER = 2  # exit status: --format pdf without LibreOffice
CONVERT_TIMEOUT = 180  # seconds; a first start of LibreOffice builds its profile


def converter() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(docx: bytes, program: str) -> bytes:
    """The document converted by LibreOffice (headless, its own profile in a temporary folder,
    so a desktop LibreOffice that is open does not take the job)."""
    with tempfile.TemporaryDirectory(prefix="dondoc-pdf-") as folder:
        source = Path(folder) / "report.docx"
        source.write_bytes(docx)
        profile = (Path(folder) / "profile").as_uri()
        command = [program, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                   "--outdir", folder, str(source)]
        try:
            subprocess.run(command, capture_output=True, check=True, timeout=CONVERT_TIMEOUT)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise ValueError(f"LibreOffice could not convert the report ({exc.__class__.__name__})") from None
        pdf = source.with_suffix(".pdf")
        if not pdf.exists():
            raise ValueError("LibreOffice wrote no PDF")
        return pdf.read_bytes()


def cmd_report_doc(settings: Settings, args: argparse.Namespace) -> None:
    """Write the official report of ``--period`` (the whole province) to ``--output``."""
    period = parse_period(args.period, schedule_rules(settings).due)
    fmt = args.format or ("pdf" if str(args.output).lower().endswith(".pdf") else "docx")
    program = converter() if fmt == "pdf" else None
    if fmt == "pdf" and program is None:
        raise CliError("--format pdf needs LibreOffice (soffice or libreoffice on PATH); install "
                       "it, or write --format docx", status=NO_CONVERTER)
    with existing_session(settings.database_url) as session:
        today = utcnow().astimezone(settings.tz).date()
        report = load_all(session, period, today, report_issuer(settings), settings.tz,
                          plan=args.plan)
    with use_locale(args.lang or settings.default_language):
        data = write_docx(report)
    if program is not None:
        data = to_pdf(data, program)
    output = Path(args.output)
    write_file(output, data)
    sys.stdout.write(f"Wrote {output} ({fmt}, period {period.key}, {len(report.task_codes)} tasks, "
                     f"{report.totals.owed} items owed).\n")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report-doc", help="write a period's official report (Word, Decree 30/2020 format)")
    p.add_argument("--period", required=True, help="2026-Q4, 2026-H2 or 2026")
    p.add_argument("--output", required=True, help="file to write")
    p.add_argument("--format", choices=("docx", "pdf"),
                   help="default: from the output's extension, else docx; pdf needs LibreOffice")
    p.add_argument("--language", "--lang", dest="lang", choices=SUPPORTED,
                   help="language of the report (default: DONDOC_DEFAULT_LANGUAGE)")
    add_plan_option(p)
    p.set_defaults(handler=cmd_report_doc)
