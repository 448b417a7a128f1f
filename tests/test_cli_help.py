"""`dondoc --help` is fast: it imports no database, Telegram or spreadsheet library, and still
lists every command with the help its own module gives."""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

from bot.cli import LAZY, build_parser, main

ROOT = Path(__file__).parents[1]
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "openpyxl", "docx", "lxml", "matplotlib", "telegram",
         "pydantic", "holidays", "models", "views", "scheduler", "handlers")


def test_help_imports_nothing_heavy_and_lists_every_command() -> None:
    probe = ("import sys\nfrom bot.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n"
             "    pass\nprint('LOADED', sorted({m.split('.')[0] for m in sys.modules}))\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=60)
    loaded = done.stdout.rsplit("LOADED", 1)[1]
    assert [name for name in HEAVY if f"'{name}'" in loaded] == []
    for name in (*LAZY, "init", "run", "import-plan", "agencies", "tasks"):
        assert f"    {name}" in done.stdout, name
    assert "preview the reminders planned between two dates" in done.stdout


@pytest.mark.parametrize("module", sorted({m for m, _ in LAZY.values()}))
def test_each_module_defines_exactly_the_commands_listed_for_it(module: str) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    import_module(module).add_parsers(sub)
    defined = {action.dest: action.help for action in sub._choices_actions}
    assert defined == {name: text for name, (m, text) in LAZY.items() if m == module}


def test_a_command_s_own_help_comes_from_its_module(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["schedule", "--help"])
    assert "--from" in capsys.readouterr().out
    full = build_parser()  # every module, as before
    with pytest.raises(SystemExit):
        full.parse_args(["export", "--help"])
    assert "--period" in capsys.readouterr().out


def test_the_bot_loads_charts_spreadsheets_and_migrations_only_when_used() -> None:
    """Idle memory: a running bot that never drew a chart or wrote a workbook has neither
    matplotlib nor openpyxl loaded (nor Alembic, which only `dondoc init` and checks need)."""
    probe = ("import sys\nimport bot.app, handlers, views.charts, views.export\n"
             "print(sorted({m.split('.')[0] for m in sys.modules}\n"
             "             & {'matplotlib', 'openpyxl', 'alembic'}))\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "[]"
