"""Run the stub standalone: ``python -m sandbox.stub_botapi --port 8081``.

Prints the root URL on stdout (one line) and serves until interrupted (SIGTERM or Ctrl-C).
``--calls-out FILE`` writes every call it answered (method, chat id, arrival time on the
system's monotonic clock, status) to FILE as JSON lines on the way out, for benchmarks that run
the stub in a process of its own. ``--control`` serves the ``/control/<token>/`` endpoints
(:mod:`.control`: act as a user, wait for the bot's answer, read the calls) for a driver in
another process.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from .server import StubBotApi


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local stand-in of the Telegram Bot API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default="123:ABC")
    parser.add_argument("--username", default="dondoc_test_bot")
    parser.add_argument("--calls-out", default="", help="write the calls as JSON lines here on exit")
    parser.add_argument("--control", action="store_true", help="serve /control/<token>/ too")
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stub = StubBotApi(args.token, args.username, host=args.host, port=args.port,
                      control=args.control).start()
    sys.stdout.write(f"{stub.url}\n")
    sys.stdout.flush()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stub.stop()
        if args.calls_out:
            _write_calls(stub, args.calls_out)
    return 0


def _write_calls(stub: StubBotApi, path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for call in stub.calls():
            out.write(json.dumps({"method": call.method, "chat_id": call.chat_id, "time": call.time,
                                  "status": call.response_status}) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
