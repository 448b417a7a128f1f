"""Control endpoints of the stand-in, for a driver in another process (``--control``).

When the stand-in runs in a process of its own (``python -m sandbox.stub_botapi --control``),
a benchmark acts as its users and reads what the bot sent over HTTP, under
``/control/<token>/``; every time is the stand-in's own ``time.monotonic()``, so a latency is
the difference of two readings of one clock:

* ``POST ask`` ``{"user_id", "text", "first_name"?, "timeout"?, "skip"?}``: the user sends
  ``text`` (as :meth:`UserActions.send_text`); answers when the bot's first message to that chat
  arrives (sendMessage, sendDocument or sendPhoto answered 200, its text or caption not
  containing ``skip``): ``{"queued_at", "answered_at", "seconds"}`` (504 after ``timeout``).
* ``POST ask_all`` ``{"user_id", "texts", "first_name"?, "timeout"?, "skip"?}``: the user sends
  every text at once; answers when as many answers (as for ``ask``) to that chat have arrived:
  ``{"queued_at", "answered_at", "answers"}`` (504 after ``timeout``, saying how many came).
* ``POST send_texts`` ``{"user_id", "texts", "first_name"?, "spread"?}``: the user sends each
  text, spread evenly over ``spread`` seconds: ``{"first_queued", "last_queued"}``.
* ``GET calls?since=&method=&chat_id=&contains=``: the calls answered since ``since``
  (``{"method", "chat_id", "time", "status"}`` each), with ``now``.
* ``GET clock``: ``{"now"}``.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .records import Call

if TYPE_CHECKING:
    from .server import StubBotApi

ANSWER_METHODS = frozenset({"sendMessage", "sendDocument", "sendPhoto"})


def call_text(call: Call) -> str:
    return str(call.params.get("text") or call.params.get("caption") or "")


class ControlApi:
    """The ``/control/<token>/`` routes of one stand-in, and the asks waiting for an answer."""

    def __init__(self, stub: StubBotApi) -> None:
        self.stub = stub
        self._waiters: dict[Any, list[tuple[Callable[[Call], bool], asyncio.Future[Call]]]] = (
            defaultdict(list))

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/control/{token}/ask", self._ask)
        app.router.add_post("/control/{token}/ask_all", self._ask_all)
        app.router.add_post("/control/{token}/send_texts", self._send_texts)
        app.router.add_get("/control/{token}/calls", self._calls)
        app.router.add_get("/control/{token}/clock", self._clock)

    def recorded(self, call: Call) -> None:
        """A call was answered (on the server's loop): settle the asks it answers."""
        waiting = self._waiters.get(call.chat_id)
        if not waiting:
            return
        for keep, future in list(waiting):
            if not future.done() and keep(call):
                future.set_result(call)
                waiting.remove((keep, future))

    def _check(self, request: web.Request) -> None:
        if request.match_info["token"] != self.stub.token:
            raise web.HTTPUnauthorized()

    def _user(self, body: dict[str, Any]) -> int:
        uid = int(body["user_id"])
        self.stub.user(uid, str(body.get("first_name") or f"U{uid}"))
        return uid

    def _answers(self, body: dict[str, Any], since: float) -> Callable[[Call], bool]:
        """Whether a call to the asker's chat is an answer: see ``ask``."""
        skip = str(body.get("skip") or "")
        return lambda call: (call.ok and call.method in ANSWER_METHODS and call.time >= since
                             and not (skip and skip in call_text(call)))

    async def _wait(self, uid: int, keep: Callable[[Call], bool], send: Callable[[], object],
                    timeout: float) -> Call | None:
        """Wait for ``uid``'s chat to get a call ``keep`` settles on, ``send`` once waiting;
        None after ``timeout``."""
        future: asyncio.Future[Call] = asyncio.get_running_loop().create_future()
        entry = (keep, future)
        self._waiters[uid].append(entry)
        send()
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            if entry in self._waiters[uid]:
                self._waiters[uid].remove(entry)
            return None

    async def _ask(self, request: web.Request) -> web.Response:
        self._check(request)
        body = await request.json()
        uid = self._user(body)
        queued_at = time.monotonic()
        call = await self._wait(uid, self._answers(body, queued_at),
                                lambda: self.stub.send_text(uid, str(body["text"])),
                                float(body.get("timeout") or 60))
        if call is None:
            raise web.HTTPGatewayTimeout(text=f"{uid} got no answer to {body['text']!r}")
        return web.json_response({"queued_at": queued_at, "answered_at": call.time,
                                  "seconds": call.time - queued_at})

    async def _ask_all(self, request: web.Request) -> web.Response:
        self._check(request)
        body = await request.json()
        uid = self._user(body)
        texts = [str(t) for t in body["texts"]]
        queued_at = time.monotonic()
        if not texts:
            return web.json_response({"queued_at": queued_at, "answered_at": queued_at, "answers": 0})
        answer = self._answers(body, queued_at)
        answers = 0

        def keep(call: Call) -> bool:
            nonlocal answers
            answers += answer(call)
            return answers >= len(texts)

        def send() -> None:
            for text in texts:
                self.stub.send_text(uid, text)

        call = await self._wait(uid, keep, send, float(body.get("timeout") or 60))
        if call is None:
            raise web.HTTPGatewayTimeout(text=f"{uid} got {answers} answers to {len(texts)} texts")
        return web.json_response({"queued_at": queued_at, "answered_at": call.time, "answers": answers})

    async def _send_texts(self, request: web.Request) -> web.Response:
        self._check(request)
        body = await request.json()
        uid = self._user(body)
        texts = [str(t) for t in body["texts"]]
        spread = float(body.get("spread") or 0)
        first = time.monotonic()
        for i, text in enumerate(texts):
            self.stub.send_text(uid, text)
            await asyncio.sleep(max(0.0, first + (i + 1) * spread / len(texts) - time.monotonic()))
        return web.json_response({"first_queued": first, "last_queued": time.monotonic()})

    async def _calls(self, request: web.Request) -> web.Response:
        self._check(request)
        query = request.query
        since = float(query.get("since", "-inf"))
        method = query.get("method")
        chat_id = int(query["chat_id"]) if "chat_id" in query else None
        contains = query.get("contains")
        found = [{"method": c.method, "chat_id": c.chat_id, "time": c.time, "status": c.response_status}
                 for c in self.stub.calls(method)
                 if c.time >= since and (chat_id is None or c.chat_id == chat_id)
                 and (contains is None or contains in call_text(c))]
        return web.json_response({"now": time.monotonic(), "calls": found})

    async def _clock(self, request: web.Request) -> web.Response:
        self._check(request)
        return web.json_response({"now": time.monotonic()})
