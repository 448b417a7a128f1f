"""``dondoc export``: a period's roll-up as an XLSX workbook (appendix layout + summary) or the
detail rows as CSV. ``bot.cli`` adds it with :func:`add_parsers`; a refusal raises ``ValueError``
(printed as one line by ``bot.cli.main``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli import add_plan_option, write_file
from bot.settings import Settings, schedule_rules
from domain.access import EVERYTHING
from models.db import existing_session
from models.export import load
from models.registry import require_plan
from models.rollup import parse_period
from models.types import utcnow
from views.export import write_csv, write_xlsx
from views.i18n import SUPPORTED, use_locale


def cmd_export(settings: Settings, args: argparse.Namespace) -> None:
    """Write the export of ``--period`` for the whole registry to ``--output``."""
    period = parse_period(args.period, schedule_rules(settings).due)
    fmt = args.format or ("csv" if str(args.output).lower().endswith(".csv") else "xlsx")
    language = args.language or settings.default_language
    with existing_session(settings.database_url) as session:
        today = utcnow().astimezone(settings.tz).date()
        export = load(session, require_plan(session, args.plan), period, today, EVERYTHING, settings.tz)
    with use_locale(language):
        data = write_xlsx(export) if fmt == "xlsx" else write_csv(export)
    output = Path(args.output)
    write_file(output, data)
    sys.stdout.write(f"Wrote {output} ({fmt}, period {period.key}, {len(export.rows)} rows, "
                     f"{export.rollup.totals.owed} items owed).\n")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("export", help="export a period's status as XLSX (appendix layout + summary) or CSV")
    p.add_argument("--period", required=True, help="2026-Q4, 2026-H2 or 2026")
    p.add_argument("--format", choices=("xlsx", "csv"),
                   help="default: from the output's extension, else xlsx")
    p.add_argument("--output", required=True, help="file to write")
    p.add_argument("--language", choices=SUPPORTED,
                   help="language of the headers (default: DONDOC_DEFAULT_LANGUAGE)")
    add_plan_option(p)
    p.set_defaults(handler=cmd_export)
