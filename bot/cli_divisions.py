"""``dondoc agencies load-divisions``: every district- and commune-level People's Committee of a
province, into the classes ``UBND cấp huyện`` / ``UBND cấp xã``. Without ``--apply`` it shows what
it would add and update and changes nothing; with it, it loads them (again: no change)."""

from __future__ import annotations

import argparse
import sys

from bot.settings import Settings
from models import divisions as div
from models.db import existing_session


def _echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def cmd_load_divisions(settings: Settings, args: argparse.Namespace) -> None:
    """Preview, or (--apply) load, a province's administrative divisions."""
    divisions = div.divisions_for(args.province, era=args.era)
    levels = "districts and communes" if divisions.era == div.DISTRICT_ERA else "communes (since 1 July 2025)"
    with existing_session(settings.database_url) as session:
        plan = div.plan_divisions(session, divisions)
        _echo(f"{divisions.province}: {len(divisions.rows)} {levels}, from {divisions.source}.")
        if not args.apply:
            _print_plan(plan)
            return
        report = div.load_divisions(session, plan)
    _print_changes(plan)
    _echo(f"Agencies: {len(report.added)} added, {len(report.updated)} updated, "
          f"{report.unchanged} unchanged.")
    for name in report.classes_added:
        _echo(f"  new agency class: {name}")


def _print_changes(plan: div.DivisionsPlan) -> None:
    for row in plan.to_add:
        _echo(f"  + {row.name} ({row.code}, {row.level})")
    for row in plan.to_update:
        _echo(f"  ~ {row.name} ({row.code})")


def _print_plan(plan: div.DivisionsPlan) -> None:
    _print_changes(plan)
    for row, holder in plan.clashes:
        _echo(f"  ! {row.name} ({row.code}): the name is held by agency {holder}")
    _echo(f"Would add {len(plan.to_add)}, update {len(plan.to_update)}, leave {plan.unchanged} unchanged.")
    if plan.clashes:
        _echo(f"{len(plan.clashes)} names are taken: --apply would refuse until those agencies are "
              "renamed or re-coded.")
    elif plan.changes:
        _echo("Nothing was changed: run again with --apply to load them.")
    else:
        _echo("Nothing to do: they are all loaded.")


def add_parser(agencies_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = agencies_sub.add_parser(
        "load-divisions",
        help="load every district- and commune-level People's Committee of a province "
             "(preview; --apply to load)")
    p.add_argument("--province", required=True, help='province name, e.g. "Quảng Ninh" (or its GSO code)')
    p.add_argument("--era", choices=div.ERAS, default=div.CURRENT,
                   help="current: the two-level structure since 1 July 2025 (communes, from the "
                        "vietnam-provinces package; default); district: the three-level structure of "
                        "the 2016 plan (districts and communes; Quảng Ninh, bundled)")
    p.add_argument("--apply", action="store_true", help="load them (without it: show what would change)")
    p.set_defaults(handler=cmd_load_divisions)
