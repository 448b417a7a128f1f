"""Derive models/data/quang_ninh_divisions_2016.csv from the pre-2025 series of the
``vietnam-provinces`` package (three levels: province, district, commune).

The current series (2025.x) holds the two-level structure in force since 1 July 2025, without
districts. Plan 916/KH-UBND (2016) assigns tasks to district- and commune-level People's
Committees, so the bot ships that structure as data, derived here from the earliest release,
0.2, whose data is the GSO list of February 2020:

    pip download --no-deps vietnam-provinces==0.2 -d /tmp/vp
    python scripts/derive_quang_ninh_2016.py /tmp/vp/vietnam_provinces-0.2-py3-none-any.whl \\
        --output models/data/quang_ninh_divisions_2016.csv

One correction, by a rule the data itself shows: Huyện Hoành Bồ (GSO district 204) was merged
into Hạ Long on 1 January 2020 (Resolution 837/NQ-UBTVQH14), so the release lists its units
under Hạ Long. GSO numbers communes in one block per district, in district order; the Hạ Long
units numbered between the last commune of Vân Đồn (203) and the first of Đông Triều (205) are
district 204's block, and are listed under Hoành Bồ again. Communes merged away before 2020 are
not in the source and so not in the file.

Codes: districts keep the codes of models/data/quang_ninh_districts_2016.csv (HA-LONG, ...);
communes are ``XA-`` and their five-digit GSO code. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

PACKAGE, VERSION = "vietnam-provinces", "0.2"
PROVINCE_CODE = 22  # Quảng Ninh
MERGED = {204: {"name": "Huyện Hoành Bồ", "codename": "hoanh_bo", "into": 193, "before": 203, "after": 205}}
DISTRICT_CLASSES = "UBND cấp huyện;Các cơ quan hành chính nhà nước"
COMMUNE_CLASSES = "UBND cấp xã;Các cơ quan hành chính nhà nước"
_TYPES = ("Thành phố", "Thị xã", "Huyện", "Quận", "Phường", "Thị trấn", "Xã", "Đặc khu")
DATA = "vietnam_provinces/data/nested-divisions.json"


def committee(unit: str) -> str:
    """``"Phường Hà Khánh"`` -> ``"UBND phường Hà Khánh"`` (the type in lower case)."""
    for kind in _TYPES:
        if unit.startswith(kind + " "):
            return f"UBND {kind.lower()}{unit[len(kind):]}"
    return f"UBND {unit}"


def aliases(unit: str) -> str:
    return ";".join([committee(unit).replace("UBND ", "Ủy ban nhân dân ", 1), unit])


def read_release(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """(version, nested divisions) from a wheel or an unpacked release."""
    if path.is_dir():
        meta = next(path.glob("vietnam_provinces-*.dist-info/METADATA")).read_text(encoding="utf-8")
        data = (path / DATA).read_text(encoding="utf-8")
    else:
        with zipfile.ZipFile(path) as wheel:
            meta_name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
            meta = wheel.read(meta_name).decode("utf-8")
            data = wheel.read(DATA).decode("utf-8")
    version = next(line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Version:"))
    return version, json.loads(data)


def restore_merged(districts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Put each merged district back, with the communes of its GSO block."""
    by_code = {d["code"]: d for d in districts}
    for code, merged in MERGED.items():
        if code in by_code:
            raise SystemExit(f"district {code} is in the source already: nothing to restore")
        host = by_code[merged["into"]]
        low = max(w["code"] for w in by_code[merged["before"]]["wards"])
        high = min(w["code"] for w in by_code[merged["after"]]["wards"])
        block = [w for w in host["wards"] if low < w["code"] < high]
        if not block:
            raise SystemExit(f"no communes of district {code} found between {low} and {high}")
        host["wards"] = [w for w in host["wards"] if w not in block]
        by_code[code] = {"name": merged["name"], "code": code, "short_codename": merged["codename"],
                         "division_type": "huyện", "wards": block}
    return [by_code[code] for code in sorted(by_code)]


def rows(province: dict[str, Any]) -> list[list[str]]:
    out = []
    districts = restore_merged(province["districts"])
    for district in districts:
        code = district["short_codename"].upper().replace("_", "-")
        out.append([committee(district["name"]), code, "district", "UBND-TINH", DISTRICT_CLASSES,
                    aliases(district["name"])])
    for district in districts:
        parent = district["short_codename"].upper().replace("_", "-")
        for ward in sorted(district["wards"], key=lambda w: w["code"]):
            out.append([committee(ward["name"]), f"XA-{ward['code']:05d}", "commune", parent,
                        COMMUNE_CLASSES, aliases(ward["name"])])
    return out


def render(version: str, province: dict[str, Any]) -> str:
    table = rows(province)
    districts = sum(1 for r in table if r[2] == "district")
    buffer = io.StringIO()
    buffer.write(
        "# Quảng Ninh's district- and commune-level People's Committees in the three-level structure\n"
        "# (province, district, commune) that Plan 916/KH-UBND (2016) was written for.\n"
        f"# Source: PyPI package {PACKAGE} {version} (vietnam_provinces/data/nested-divisions.json,\n"
        "# the GSO list of February 2020), derived by scripts/derive_quang_ninh_2016.py.\n"
        "# Huyện Hoành Bồ (GSO district 204), merged into Hạ Long on 1 January 2020, is restored with\n"
        "# the communes of its GSO code block. Names are those of February 2020; communes merged away\n"
        "# before then are not in the source.\n"
        f"# {districts} districts, {len(table) - districts} communes.\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "code", "level", "parent", "classes", "aliases"])
    writer.writerows(table)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("release", type=Path, help=f"the {PACKAGE} {VERSION} wheel, or its unpacked folder")
    parser.add_argument("--output", type=Path, help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    version, provinces = read_release(args.release)
    if version != VERSION:
        raise SystemExit(f"{args.release}: version {version}; this script derives from {VERSION}")
    province = next(p for p in provinces if p["code"] == PROVINCE_CODE)
    text = render(version, province)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
