"""Run the stub standalone: ``python -m tests.stub_botapi --port 8081``.

Prints the root URL on stdout (one line) and serves until interrupted.
"""

from __future__ import annotations

import argparse
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
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stub = StubBotApi(args.token, args.username, host=args.host, port=args.port).start()
    sys.stdout.write(f"{stub.url}\n")
    sys.stdout.flush()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stub.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
