"""Start ``dondoc`` with its clock set to a given instant (the clock then runs normally).

    python -m sandbox.run_at 2027-03-24T08:29:50+07:00 run

time-machine patches the wall clock (datetime, time.time) but not time.monotonic, so asyncio,
the JobQueue and httpx keep working while the bot believes it is that day.
"""

from __future__ import annotations

import sys
from datetime import datetime

import time_machine

from bot.cli import main


def run(argv: list[str]) -> int:
    if len(argv) < 1:
        sys.stderr.write("usage: python -m sandbox.run_at ISO_DATETIME_WITH_OFFSET [dondoc args]\n")
        return 2
    at = datetime.fromisoformat(argv[0])
    if at.tzinfo is None:
        sys.stderr.write("run_at: give the instant with its offset, e.g. 2027-03-24T08:29:50+07:00\n")
        return 2
    with time_machine.travel(at, tick=True):
        return main(argv[1:] or ["run"])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
