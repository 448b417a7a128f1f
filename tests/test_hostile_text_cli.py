"""Text from files and the command line, through real `dondoc` processes: a NUL in a CSV is
refused in one line naming the line and changes nothing; control characters are removed from
what is stored; an id no database can hold is answered, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from models.db import session_scope
from models.tables import Agency

ROOT = Path(__file__).parents[1]
HEADER = "name,code,level,parent,classes,aliases\n"


@pytest.fixture
def cli(db_url: str, tmp_path: Path, engine: Engine) -> tuple[dict[str, str], Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(DONDOC_DATABASE_URL=db_url, DONDOC_ENV_FILE=str(tmp_path / "no.env"), PYTHONPATH=str(ROOT))
    return env, tmp_path


def dondoc(cli: tuple[dict[str, str], Path], *argv: str) -> subprocess.CompletedProcess[str]:
    env, cwd = cli
    return subprocess.run([sys.executable, "-m", "bot.cli", *argv], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def agencies(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as s:
        return {a.code: a.name for a in s.exec(select(Agency))}


def test_a_nul_in_a_csv_is_refused_in_one_line_and_changes_nothing(
        cli: tuple[dict[str, str], Path], engine: Engine) -> None:
    assert dondoc(cli, "init").returncode == 0
    before = agencies(engine)
    path = cli[1] / "agencies.csv"
    path.write_bytes((HEADER + "UBND xã Mới,XA-MOI,commune,,UBND cấp xã,\n"
                      "UBND xã\x00 Khác,XA-KHAC,commune,,,\n").encode())
    done = dondoc(cli, "agencies", "import", str(path))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"{path}, line 3" in done.stderr and "NUL" in done.stderr
    assert agencies(engine) == before  # the good row before it was not imported either


def test_control_characters_are_removed_from_what_is_stored(
        cli: tuple[dict[str, str], Path], engine: Engine) -> None:
    assert dondoc(cli, "init").returncode == 0
    path = cli[1] / "agencies.csv"
    path.write_bytes((HEADER + "\"UBND xã\x0bMới\x1b[0m\",xa-moi\x7f,commune,,UBND cấp xã\x85,\n"
                      "UBND xa\u0303 Kha\u0301c,XA-KHAC,commune,,,\n").encode())
    done = dondoc(cli, "agencies", "import", str(path))
    assert done.returncode == 0, done.stderr
    stored = agencies(engine)
    assert stored["XA-MOI"] == "UBND xã Mới[0m"
    assert stored["XA-KHAC"] == "UBND xã Khác"  # NFC: the composed letters
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Agency).where(Agency.name.like("%\x1b%"))).one() == 0
    # A name over the column's size is refused after normalising, naming the line.
    path.write_bytes((HEADER + "x" * 256 + ",XA-DAI,commune,,,\n").encode())
    done = dondoc(cli, "agencies", "import", str(path))
    assert done.returncode == 1 and "line 2: name has 256 characters; at most 255" in done.stderr


def test_an_id_no_database_can_hold_is_answered(cli: tuple[dict[str, str], Path]) -> None:
    assert dondoc(cli, "init").returncode == 0
    for argv in (["members", "move", "99999999999999999999", "--agency", "SNV"],
                 ["members", "role", str(2**63), "admin"], ["members", "deactivate", str(-(2**64))]):
        done = dondoc(cli, *argv)
        assert done.returncode == 1, argv
        assert done.stderr.startswith("dondoc: error: no member") and "Traceback" not in done.stderr
