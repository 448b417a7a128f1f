"""Administrative divisions: `dondoc agencies load-divisions` with the real package data and the
bundled district-era file, and the warnings of `init` / `doctor` about classes nobody is in."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select
from vietnam_provinces import Province, Ward

from bot.cli import main
from domain.collation import vi_key
from models.agencies import bundled, class_member_ids, find_agency, find_class
from models.db import make_engine, session_scope
from models.divisions import committee, empty_classes, province_key
from models.obligations import owing_agencies
from models.registry import current_plan
from models.tables import Agency, AgencyClass, AuditLog, Task

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = "quang_ninh_divisions_2016.csv"
DISTRICTS = str(ROOT / "models" / "data" / "quang_ninh_districts_2016.csv")


def quang_ninh_wards() -> list[Ward]:
    province = next(p for p in Province.iter_all() if p.codename == "quang_ninh")
    return list(Ward.iter_by_province(province.code))


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DONDOC_DATABASE_URL", db_url)
    monkeypatch.delenv("DONDOC_BOT_TOKEN", raising=False)
    return db_url


@pytest.fixture
def db(cli_env: str) -> Iterator[Engine]:
    engine = make_engine(cli_env, pooled=False)
    yield engine
    engine.dispose()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def count_agencies(engine: Engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Agency)).one()


def members_of(engine: Engine, class_name: str) -> list[Agency]:
    with Session(engine) as s:
        klass = find_class(s, class_name)
        assert klass is not None and klass.id is not None
        ids = class_member_ids(s, klass.id)
        return list(s.exec(select(Agency).where(col(Agency.id).in_(ids))))


def csv_rows(text: str) -> list[dict[str, str]]:
    """The rows of a CSV text whose first lines are ``#`` comments."""
    table = "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))
    return list(csv.DictReader(io.StringIO(table)))


def bundled_rows() -> list[dict[str, str]]:
    return csv_rows(bundled(BUNDLED).decode("utf-8"))


# --------------------------------------------------------------------------- the bundled file

def test_bundled_file_names_its_source() -> None:
    header = [ln for ln in bundled(BUNDLED).decode("utf-8").splitlines() if ln.startswith("#")]
    assert any("vietnam-provinces 0.2" in ln for ln in header)
    assert any("scripts/derive_quang_ninh_2016.py" in ln for ln in header)


def test_bundled_file_holds_the_three_levels() -> None:
    rows = bundled_rows()
    levels = Counter(r["level"] for r in rows)
    assert levels == {"district": 14, "commune": 177}
    assert len({r["code"] for r in rows}) == len(rows)
    assert len({r["name"].casefold() for r in rows}) == len(rows)
    districts = {r["code"] for r in rows if r["level"] == "district"}
    assert all(r["parent"] in districts for r in rows if r["level"] == "commune")
    assert all(r["parent"] == "UBND-TINH" for r in rows if r["level"] == "district")
    per_district = Counter(r["parent"] for r in rows if r["level"] == "commune")
    assert per_district["HOANH-BO"] == 13 and per_district["HA-LONG"] == 20 and per_district["CO-TO"] == 3


def test_bundled_districts_are_the_sample_files_districts() -> None:
    with open(DISTRICTS, encoding="utf-8") as handle:
        sample = {(r["code"], r["name"]) for r in csv.DictReader(handle)}
    assert {(r["code"], r["name"]) for r in bundled_rows() if r["level"] == "district"} == sample


def _derive_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("derive", ROOT / "scripts" / "derive_quang_ninh_2016.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_derivation_restores_hoanh_bo_from_its_code_block(tmp_path: Path) -> None:
    """The script on a release-shaped folder: Hạ Long's units numbered inside district 204's block
    go back under Hoành Bồ; the others stay."""
    derive = _derive_script()
    release = tmp_path / "release"
    (release / "vietnam_provinces" / "data").mkdir(parents=True)
    (release / "vietnam_provinces-0.2.dist-info").mkdir()
    (release / "vietnam_provinces-0.2.dist-info" / "METADATA").write_text("Name: x\nVersion: 0.2\n")

    def ward(code: int, name: str) -> dict[str, object]:
        return {"name": name, "code": code, "division_type": "xã"}

    def district(code: int, name: str, short: str, wards: list[dict[str, object]]) -> dict[str, object]:
        return {"name": name, "code": code, "short_codename": short, "division_type": "huyện", "wards": wards}

    data = [{"name": "Tỉnh Quảng Ninh", "code": 22, "districts": [
        district(193, "Thành phố Hạ Long", "ha_long",
                 [ward(6649, "Phường Hà Khánh"), ward(7030, "Phường Hoành Bồ"), ward(7033, "Xã Kỳ Thượng")]),
        district(203, "Huyện Vân Đồn", "van_don", [ward(7027, "Xã Thắng Lợi")]),
        district(205, "Thị xã Đông Triều", "dong_trieu", [ward(7069, "Phường Mạo Khê")]),
    ]}]
    (release / "vietnam_provinces" / "data" / "nested-divisions.json").write_text(json.dumps(data))
    out = tmp_path / "out.csv"
    assert derive.main([str(release), "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "# 4 districts, 5 communes." in text
    rows = csv_rows(text)
    parents = {r["name"]: r["parent"] for r in rows}
    assert parents["UBND huyện Hoành Bồ"] == "UBND-TINH"
    assert parents["UBND phường Hoành Bồ"] == parents["UBND xã Kỳ Thượng"] == "HOANH-BO"
    assert parents["UBND phường Hà Khánh"] == "HA-LONG"
    assert {r["code"] for r in rows if r["level"] == "commune"} == {
        "XA-06649", "XA-07030", "XA-07033", "XA-07027", "XA-07069"}


# --------------------------------------------------------------------------- names

def test_committee_names() -> None:
    assert committee("Phường Hà Khánh") == "UBND phường Hà Khánh"
    assert committee("Thị trấn Tiên Yên") == "UBND thị trấn Tiên Yên"
    assert committee("Đặc khu Vân Đồn") == "UBND đặc khu Vân Đồn"
    assert committee("Thành phố Hạ Long") == "UBND thành phố Hạ Long"


def test_province_key() -> None:
    assert province_key("Quảng Ninh") == province_key("tỉnh quang ninh") == province_key("quang_ninh")
    assert province_key("Thành phố Hà Nội") == province_key("Hà Nội") == "ha noi"


# --------------------------------------------------------------------------- the command, current era

def test_current_era_preview_changes_nothing(db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init")
    before = count_agencies(db)
    code, out, _ = run(capsys, "agencies", "load-divisions", "--province", "Quảng Ninh")
    wards = quang_ninh_wards()
    assert code == 0
    assert f"Would add {len(wards)}, update 0, leave 0 unchanged." in out
    assert "run again with --apply" in out
    assert "vietnam-provinces 2025" in out
    assert count_agencies(db) == before


def test_current_era_loads_every_commune_once(db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init")
    before = count_agencies(db)
    wards = quang_ninh_wards()
    code, out, _ = run(capsys, "agencies", "load-divisions", "--province", "Quảng Ninh", "--apply")
    assert code == 0 and f"Agencies: {len(wards)} added, 0 updated, 0 unchanged." in out
    assert "  + UBND đặc khu Vân Đồn (XA2025-" in out
    assert count_agencies(db) == before + len(wards)
    communes = members_of(db, "UBND cấp xã")
    assert sorted(a.name for a in communes) == sorted(committee(w.name) for w in wards)
    with Session(db) as s:
        province = find_agency(s, "UBND-TINH")
        assert province is not None
        assert {a.parent_id for a in communes} == {province.id}
        assert {a.level for a in communes} == {"commune"}
        found = find_agency(s, "Phường Hồng Gai")  # the unit's own name is an alias
        assert found is not None and found.name == "UBND phường Hồng Gai"
        assert s.exec(select(AuditLog).where(AuditLog.action == "agencies.import")).first() is not None
    # Again: nothing changes.
    code, out, _ = run(capsys, "agencies", "load-divisions", "--province", "quang ninh", "--apply")
    assert code == 0 and f"Agencies: 0 added, 0 updated, {len(wards)} unchanged." in out
    assert count_agencies(db) == before + len(wards)
    code, out, _ = run(capsys, "agencies", "load-divisions", "--province", "22")
    assert "Nothing to do: they are all loaded." in out


def test_unknown_province_is_refused_in_one_line(db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init")
    before = count_agencies(db)
    code, _, err = run(capsys, "agencies", "load-divisions", "--province", "Atlantis", "--apply")
    assert code == 1 and "no province 'Atlantis'" in err and len(err.splitlines()) == 1
    code, _, err = run(capsys, "agencies", "load-divisions", "--province", "Hà Nội", "--era", "district")
    assert code == 1 and "Quảng Ninh only" in err
    assert count_agencies(db) == before


# --------------------------------------------------------------------------- the command, district era

def test_district_era_loads_districts_and_communes(db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init")
    run(capsys, "agencies", "import", DISTRICTS)  # what `make init` used to load: 14 districts
    code, out, _ = run(capsys, "agencies", "load-divisions", "--province", "Quảng Ninh", "--era", "district")
    assert code == 0 and "Would add 177, update 14, leave 0 unchanged." in out
    assert "from vietnam-provinces 0.2" in out
    code, out, _ = run(capsys, "agencies", "load-divisions", "--province", "Quảng Ninh", "--era", "district",
                       "--apply")
    assert code == 0 and "Agencies: 177 added, 14 updated, 0 unchanged." in out
    assert "  + UBND xã Kỳ Thượng (XA-07033, commune)" in out
    assert len(members_of(db, "UBND cấp huyện")) == 14
    assert len(members_of(db, "UBND cấp xã")) == 177
    with Session(db) as s:
        ky_thuong = find_agency(s, "XA-07033")
        hoanh_bo = find_agency(s, "HOANH-BO")
        assert ky_thuong is not None and hoanh_bo is not None and ky_thuong.parent_id == hoanh_bo.id
        # A task the plan gives to "UBND cấp xã" is now owed by every commune.
        plan = current_plan(s)
        assert plan is not None
        task = s.exec(select(Task).where(Task.plan_id == plan.id, Task.code == "1.3")).one()
        assert task.id is not None
        owed = owing_agencies(s, [task.id])[task.id]
        assert len(owed) == 177
    code, out, _ = run(capsys, "agencies", "load-divisions", "--province", "Quảng Ninh", "--era", "district",
                       "--apply")
    assert code == 0 and "Agencies: 0 added, 0 updated, 191 unchanged." in out


def test_a_taken_name_refuses_the_whole_load(db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init")
    run(capsys, "agencies", "load-divisions", "--province", "Quảng Ninh", "--era", "district", "--apply")
    before = count_agencies(db)
    code, out, _ = run(capsys, "agencies", "load-divisions", "--province", "Quảng Ninh")
    assert code == 0 and "  ! UBND phường Hồng Gai (XA2025-" in out and "--apply would refuse" in out
    code, _, err = run(capsys, "agencies", "load-divisions", "--province", "Quảng Ninh", "--apply")
    assert code == 1 and "names are held by agencies with other codes" in err
    assert count_agencies(db) == before


def test_list_is_in_vietnamese_order(db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init")
    run(capsys, "agencies", "load-divisions", "--province", "Quảng Ninh", "--era", "district", "--apply")
    _, out, _ = run(capsys, "agencies", "list", "--format", "json")
    listing = json.loads(out)
    districts = [a["name"] for a in listing if a["level"] == "district"]
    assert districts[:5] == ["UBND huyện Ba Chẽ", "UBND huyện Bình Liêu", "UBND huyện Cô Tô",
                             "UBND huyện Đầm Hà", "UBND huyện Hải Hà"]
    communes = [a["name"] for a in listing if a["level"] == "commune"]
    assert communes == sorted(communes, key=vi_key) and communes != sorted(communes)


# --------------------------------------------------------------------------- warnings

EMPTY_AFTER_INIT = ["Công an cấp huyện", "Công an cấp xã", "UBND cấp huyện", "UBND cấp xã"]


def warning_lines(out: str, prefix: str) -> list[str]:
    return [ln for ln in out.splitlines() if ln.startswith(prefix)]


def test_init_warns_once_per_empty_class(db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "init")
    assert code == 0
    lines = warning_lines(out, "warning: agency class")
    assert [ln.split("'")[1] for ln in lines] == EMPTY_AFTER_INIT
    assert "load-divisions" in lines[3] and "agencies import" in lines[0]
    run(capsys, "agencies", "load-divisions", "--province", "Quảng Ninh", "--era", "district", "--apply")
    _, out, _ = run(capsys, "init")
    assert [ln.split("'")[1] for ln in warning_lines(out, "warning: agency class")] == EMPTY_AFTER_INIT[:2]


def test_doctor_warns_without_failing(db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init")
    code, out, _ = run(capsys, "doctor")
    assert code == 1  # the Bot API check fails: no token in tests
    lines = warning_lines(out, "[warn] agencies:")
    assert [ln.split("'")[1] for ln in lines] == EMPTY_AFTER_INIT
    assert warning_lines(out, "[FAIL]") == ["[FAIL] bot api: DONDOC_BOT_TOKEN is not set"]


def test_empty_classes_count_active_closed_classes_only(db: Engine,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init")
    with session_scope(db) as s:
        assert "Các cơ quan liên quan" not in empty_classes(s)  # open sets owe nothing themselves
        assert "Các Sở, ban, ngành" not in empty_classes(s)
        klass = s.exec(select(AgencyClass).where(AgencyClass.name == "Các Sở, ban, ngành")).one()
        assert klass.id is not None
        for agency_id in class_member_ids(s, klass.id):
            agency = s.get(Agency, agency_id)
            assert agency is not None
            agency.active = False
    with Session(db) as s:
        assert "Các Sở, ban, ngành" in empty_classes(s)
