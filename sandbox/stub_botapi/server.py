"""``StubBotApi``: a local, strict stand-in of the Telegram Bot API.

A real aiohttp server on ``127.0.0.1`` (free port) running in a background thread
with its own event loop, so it serves sync tests, async tests (any loop) and a bot
running in another process alike::

    with StubBotApi(token="123:ABC") as stub:
        app = (ApplicationBuilder().token(stub.token)
               .base_url(f"{stub.url}/bot").base_file_url(f"{stub.url}/file/bot").build())
        alice = stub.user(1001, "Alice")
        stub.send_text(alice, "/start")              # queued for getUpdates / webhook
        msg = stub.wait_for_message(1001, contains="Xin chào")   # sync
        # or: msg = await stub.await_message(1001, contains="Xin chào")  # async
        stub.press_button(alice, msg, "menu:tasks")
        stub.fail("sendMessage", 429, retry_after=3)     # next sendMessage -> RetryAfter

See ``tests/stub_botapi/__init__.py`` for the full list of helpers.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import itertools
import json
import mimetypes
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from .actors import Chat, UserActions
from .control import ControlApi
from .faults import FaultInjector, _Limits, make_error
from .records import SEND_METHODS, Call, RateStats, SentMessage, compute_rate_stats
from .validation import (
    BotApiError,
    bad_request,
    check_reply_markup,
    normalize_params,
    parse_text,
)

T = TypeVar("T")
Handler = Callable[[dict[str, Any]], Any]

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_LONG_POLL_SECONDS = 50.0
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request (as recorded in ``Call.params``)."""

    filename: str | None
    content_type: str | None
    content: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class StoredFile:
    """A file known to the stub, downloadable at ``/file/bot{token}/{file_path}``."""

    file_id: str
    file_unique_id: str
    file_path: str
    filename: str | None
    mime_type: str | None
    content: bytes = field(repr=False)

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
        }
        if self.filename:
            doc["file_name"] = self.filename
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc

    def photo(self) -> list[dict[str, Any]]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": 1280,
                "height": 720,
                "file_size": len(self.content),
            }
        ]


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None


class StubBotApi(UserActions):
    """Fake Telegram Bot API server; see the module docstring."""

    def __init__(
        self,
        token: str = "123:ABC",
        bot_username: str = "dondoc_test_bot",
        *,
        bot_first_name: str = "Dondoc Test Bot",
        host: str = "127.0.0.1",
        port: int = 0,
        strict_chats: bool = False,
        control: bool = False,
    ) -> None:
        """``strict_chats=True``: sending to a chat no update came from -> "chat not found".
        ``control=True``: serve the ``/control/<token>/`` endpoints too (:mod:`.control`), for
        a driver in another process."""
        self.token = token
        self.bot_username = bot_username
        self.host = host
        self.port = port
        self.strict_chats = strict_chats
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.faults = FaultInjector()
        self.control = ControlApi(self) if control else None
        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None
        self._closing = False
        self._methods = self._method_table()
        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[Any, Chat] = {}
        self._files: dict[str, StoredFile] = {}
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._menu_buttons: dict[Any, dict[str, Any]] = {}
        self._members: dict[tuple[Any, int], str] = {}
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._webhook: WebhookConfig | None = None
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._next_update_id = 1
        self._clear_records()

    # ======================================================================================
    # lifecycle
    # ======================================================================================
    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:41234``."""
        if not self.port:
            raise RuntimeError("StubBotApi is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder().base_url()`` / ``Bot(base_url=...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    def start(self) -> StubBotApi:
        """Start serving in a background thread; returns ``self``."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        errors: list[BaseException] = []
        self._closing = False
        self._thread = threading.Thread(
            target=self._serve, args=(ready, errors), name="stub-botapi", daemon=True
        )
        self._thread.start()
        ready.wait(10)
        if errors:
            self._thread.join(5)
            self._thread = None
            raise RuntimeError("StubBotApi failed to start") from errors[0]
        return self

    def stop(self) -> None:
        """Stop the server and its thread (pending long polls answer immediately)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        future.result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        self._thread = None
        self._loop = None

    def __enter__(self) -> StubBotApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> StubBotApi:
        return self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.stop)

    def _serve(self, ready: threading.Event, errors: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:
            errors.append(exc)
            ready.set()
            loop.close()
            return
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _startup(self) -> None:
        self._wakeup = asyncio.Event()
        app = web.Application(client_max_size=MAX_DOCUMENT_BYTES + 8 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        if self.control is not None:
            self.control.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._webhook_task = asyncio.create_task(self._webhook_loop())

    async def _shutdown(self) -> None:
        self._closing = True
        self._wake()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None

    def _wake(self) -> None:
        """Wake long polls and the webhook sender (must run on the server loop)."""
        event, self._wakeup = self._wakeup, asyncio.Event()
        if event is not None:
            event.set()

    def _notify(self) -> None:
        """Thread-safe wake-up, callable from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake()
        else:
            loop.call_soon_threadsafe(self._wake)

    # ======================================================================================
    # HTTP layer
    # ======================================================================================
    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        now = time.monotonic()
        params: dict[str, Any] = {}
        try:
            if request.match_info["token"] != self.token:
                raise BotApiError(401, "Unauthorized")
            params = await self._read_params(request)
            result = await self._dispatch(method, params, now)
            status, body = 200, {"ok": True, "result": result}
        except BotApiError as exc:
            status, body = exc.status, exc.payload()
        description = body.get("description") if status != 200 else None
        self._record(Call(method, params, now, status, description))
        return web.json_response(body, status=status)

    async def _dispatch(self, method: str, params: dict[str, Any], now: float) -> Any:
        handler = self._methods.get(method.lower())
        if handler is None:
            raise BotApiError(404, "Not Found: method not found")
        self.faults.check(method, params.get("chat_id"), now)
        result = handler(params)
        if inspect.isawaitable(result):
            result = await result
        if method in SEND_METHODS:
            self.faults.note_send(params.get("chat_id"), now)
        return result

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method != "POST" or not request.body_exists:
            return normalize_params(params)
        try:
            if request.content_type == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise bad_request("request body must be a JSON object")
                params.update(body)
            else:
                params.update(self._form_values(await request.post()))
        except web.HTTPRequestEntityTooLarge as exc:
            raise BotApiError(413, "Request Entity Too Large") from exc
        except ValueError as exc:
            raise bad_request("can't parse request body") from exc
        return normalize_params(_resolve_attachments(params))

    @staticmethod
    def _form_values(form: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                content = value.file.read()
                value.file.close()
                values[key] = UploadedFile(value.filename, value.content_type, content)
            else:
                values[key] = value
        return values

    async def _handle_download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        with self._lock:
            stored = next((f for f in self._files.values() if f.file_path == path), None)
        if stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        content_type = stored.mime_type or "application/octet-stream"
        return web.Response(body=stored.content, content_type=content_type)

    # ======================================================================================
    # state helpers (shared with UserActions)
    # ======================================================================================
    def _clear_records(self) -> None:
        with self._lock:
            self._calls: list[Call] = []
            self._updates: list[dict[str, Any]] = []
            self._messages: dict[tuple[Any, Any], SentMessage] = {}
            self._all_messages: dict[tuple[Any, Any], dict[str, Any]] = {}
            self._message_ids: dict[Any, itertools.count[int]] = {}
            self._callback_queries: dict[str, bool] = {}
            self._callback_answers: dict[str, dict[str, Any]] = {}
            self._webhook_deliveries: list[dict[str, Any]] = []

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)
        if self.control is not None:
            self.control.recorded(call)

    def _queue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            update = {"update_id": self._next_update_id, kind: copy.deepcopy(payload)}
            self._next_update_id += 1
            self._updates.append(update)
        self._notify()
        return copy.deepcopy(update)

    def _new_message(self, chat: Chat, sender: dict[str, Any], **content: Any) -> dict[str, Any]:
        with self._lock:
            counter = self._message_ids.setdefault(chat["id"], itertools.count(1))
            message = {
                "message_id": next(counter),
                "from": copy.deepcopy(sender),
                "chat": copy.deepcopy(chat),
                "date": int(time.time()),
                **{k: v for k, v in content.items() if v is not None},
            }
            self._all_messages[(chat["id"], message["message_id"])] = message
            return copy.deepcopy(message)

    def _store_file(
        self, kind: str, filename: str | None, mime: str | None, data: bytes
    ) -> StoredFile:
        with self._lock:
            number = next(self._file_ids)
        suffix = mimetypes.guess_extension(mime or "") or ""
        if filename and "." in filename:
            suffix = "." + filename.rsplit(".", 1)[1]
        stored = StoredFile(
            file_id=f"stub-{kind}-{number}-{self.bot_user['id']}",
            file_unique_id=f"u{number}",
            file_path=f"{kind}/file_{number}{suffix}",
            filename=filename,
            mime_type=mime,
            content=data,
        )
        with self._lock:
            self._files[stored.file_id] = stored
        return stored

    def _find_bot_message(self, chat_id: Any, message_id: Any) -> SentMessage | None:
        with self._lock:
            stored = self._messages.get((chat_id, message_id))
            if stored is None or stored.deleted:
                return None
            return copy.deepcopy(stored)

    def _find_any_message(self, chat_id: Any, message_id: Any) -> dict[str, Any] | None:
        with self._lock:
            message = self._all_messages.get((chat_id, message_id))
            return copy.deepcopy(message) if message is not None else None

    def _chat(self, params: dict[str, Any], key: str = "chat_id") -> Chat:
        chat_id = params.get(key)
        if chat_id is None or chat_id == "":
            raise bad_request(f"{key} is empty")
        with self._lock:
            known = self._chats.get(chat_id)
        if known is not None:
            return copy.deepcopy(known)
        if self.strict_chats or not isinstance(chat_id, int):
            raise bad_request("chat not found")
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
        kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
        return {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}

    def _bot_message(
        self,
        chat: Chat,
        params: dict[str, Any],
        *,
        text: str | None,
        entities: list[dict[str, Any]],
        is_caption: bool = False,
        **media: Any,
    ) -> dict[str, Any]:
        """Create, store and return a message sent by the bot."""
        markup = params.get("reply_markup")
        content: dict[str, Any] = dict(media)
        if text:
            content["caption" if is_caption else "text"] = text
            if entities:
                content["caption_entities" if is_caption else "entities"] = entities
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        reply = self._reply_target(chat, params)
        if reply is not None:
            content["reply_to_message"] = reply
        message = self._new_message(chat, self.bot_user, **content)
        raw = params.get("caption" if is_caption else "text")
        sent = SentMessage(
            chat_id=chat["id"],
            message_id=message["message_id"],
            text=text,
            raw_text=raw,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            date=message["date"],
            document=media.get("document"),
            photo=media.get("photo"),
            entities=entities,
            message=message,
        )
        with self._lock:
            self._messages[(chat["id"], sent.message_id)] = sent
        return message

    def _reply_target(self, chat: Chat, params: dict[str, Any]) -> dict[str, Any] | None:
        reply_params = params.get("reply_parameters") or {}
        message_id = reply_params.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        allow = reply_params.get(
            "allow_sending_without_reply", params.get("allow_sending_without_reply")
        )
        found = self._find_any_message(chat["id"], message_id)
        if found is None and not allow:
            raise bad_request("message to be replied not found")
        return found

    def _editable(self, params: dict[str, Any]) -> SentMessage:
        if params.get("inline_message_id"):
            raise bad_request("message to edit not found")
        chat = self._chat(params)
        with self._lock:
            stored = self._messages.get((chat["id"], params.get("message_id")))
        if stored is None or stored.deleted:
            raise bad_request("message to edit not found")
        return stored

    def _apply_edit(self, stored: SentMessage, changes: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            for key, value in changes.items():
                setattr(stored, key, value)
            stored.edit_count += 1
            message = stored.message
            message["edit_date"] = int(time.time())
            text_key, entities_key = (
                ("caption", "caption_entities")
                if (stored.document or stored.photo)
                else ("text", "entities")
            )
            message[text_key] = stored.text
            message.pop(entities_key, None)
            if stored.entities:
                message[entities_key] = stored.entities
            message.pop("reply_markup", None)
            if stored.reply_markup and "inline_keyboard" in stored.reply_markup:
                message["reply_markup"] = stored.reply_markup
            self._all_messages[(stored.chat_id, stored.message_id)] = message
            return copy.deepcopy(message)

    # ======================================================================================
    # Bot API methods
    # ======================================================================================
    def _method_table(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "getFile": self._get_file,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "leaveChat": self._leave_chat,
            "close": lambda _params: True,
            "logOut": lambda _params: True,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
        }
        return {name.lower(): handler for name, handler in table.items()}

    def _get_me(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # -- updates ----------------------------------------------------------------------------
    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            if self._webhook is not None:
                raise BotApiError(409, WEBHOOK_CONFLICT)
            self._poll_generation += 1
            generation = self._poll_generation
            if params.get("allowed_updates") is not None:
                self._allowed_updates = list(params["allowed_updates"])
        self._wake()  # a concurrent older poll gets its 409 now
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), MAX_LONG_POLL_SECONDS)
        deadline = time.monotonic() + timeout
        while True:
            event = self._wakeup
            with self._lock:
                if generation != self._poll_generation:
                    raise BotApiError(409, POLL_CONFLICT)
                batch = self._take_updates(params.get("offset"), limit)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing or event is None:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _take_updates(self, offset: Any, limit: int) -> list[dict[str, Any]]:
        """Confirm updates before ``offset`` and return the next pending ones (locked)."""
        if isinstance(offset, int) and offset < 0:
            self._updates = self._updates[offset:]
        elif isinstance(offset, int):
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self._updates = [u for u in self._updates if self._is_allowed(u, self._allowed_updates)]
        return copy.deepcopy(self._updates[:limit])

    @staticmethod
    def _is_allowed(update: dict[str, Any], allowed: list[str] | None) -> bool:
        kind = next(key for key in update if key != "update_id")
        if allowed:
            return kind in allowed
        return kind not in DEFAULT_EXCLUDED_UPDATES

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("secret token contains unallowed characters")
        with self._lock:
            if params.get("drop_pending_updates"):
                self._updates.clear()
            if not url:
                self._webhook = None
            else:
                self._webhook = WebhookConfig(
                    url=url,
                    secret_token=secret,
                    max_connections=int(params.get("max_connections") or 40),
                    allowed_updates=params.get("allowed_updates"),
                )
            self._poll_generation += 1
        self._wake()
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        with self._lock:
            if params.get("drop_pending_updates"):
                self._updates.clear()
            self._webhook = None
        self._wake()
        return True

    def _get_webhook_info(self, _params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            hook = self._webhook
            info: dict[str, Any] = {
                "url": hook.url if hook else "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if hook is not None:
                info["max_connections"] = hook.max_connections
                if hook.allowed_updates is not None:
                    info["allowed_updates"] = hook.allowed_updates
                if hook.last_error_date is not None:
                    info["last_error_date"] = hook.last_error_date
                    info["last_error_message"] = hook.last_error_message
            return info

    async def _webhook_loop(self) -> None:
        delay = 0.05
        async with aiohttp.ClientSession() as session:
            while not self._closing:
                event = self._wakeup
                with self._lock:
                    hook = self._webhook
                    if hook is not None:
                        self._updates = [
                            u for u in self._updates if self._is_allowed(u, hook.allowed_updates)
                        ]
                    update = copy.deepcopy(self._updates[0]) if hook and self._updates else None
                if hook is None or update is None or event is None:
                    if event is not None:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(event.wait(), 1.0)
                    continue
                error = await self._post_update(session, hook, update)
                with self._lock:
                    if error is None:
                        if self._updates and self._updates[0]["update_id"] == update["update_id"]:
                            self._updates.pop(0)
                        self._webhook_deliveries.append(update)
                    else:
                        hook.last_error_date = int(time.time())
                        hook.last_error_message = error
                if error is None:
                    delay = 0.05
                else:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 1.0)

    @staticmethod
    async def _post_update(
        session: aiohttp.ClientSession, hook: WebhookConfig, update: dict[str, Any]
    ) -> str | None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": hook.secret_token} if hook.secret_token else {}
        try:
            timeout = aiohttp.ClientTimeout(total=10)
            async with session.post(
                hook.url, json=update, headers=headers, timeout=timeout
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return f"Connection failed: {exc.__class__.__name__}"

    # -- messages ---------------------------------------------------------------------------
    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        parsed = parse_text(params.get("text"), params.get("parse_mode"))
        check_reply_markup(params.get("reply_markup"))
        return self._bot_message(chat, params, text=parsed.text, entities=parsed.entities)

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._editable(params)
        if stored.document or stored.photo:
            raise bad_request("there is no text in the message to edit")
        parsed = parse_text(params.get("text"), params.get("parse_mode"))
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        if (parsed.text, parsed.entities, markup) == (
            stored.text,
            stored.entities,
            stored.reply_markup,
        ):
            raise bad_request(NOT_MODIFIED)
        changes = {
            "text": parsed.text,
            "raw_text": params.get("text"),
            "entities": parsed.entities,
            "parse_mode": params.get("parse_mode"),
            "reply_markup": markup,
        }
        return self._apply_edit(stored, changes)

    def _edit_message_caption(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._editable(params)
        if not (stored.document or stored.photo):
            raise bad_request("there is no caption in the message to edit")
        parsed = parse_text(params.get("caption"), params.get("parse_mode"), caption=True)
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        if (parsed.text or None, parsed.entities, markup) == (
            stored.text,
            stored.entities,
            stored.reply_markup,
        ):
            raise bad_request(NOT_MODIFIED)
        changes = {
            "text": parsed.text or None,
            "raw_text": params.get("caption"),
            "entities": parsed.entities,
            "parse_mode": params.get("parse_mode"),
            "reply_markup": markup,
        }
        return self._apply_edit(stored, changes)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._editable(params)
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        if markup == stored.reply_markup:
            raise bad_request(NOT_MODIFIED)
        return self._apply_edit(stored, {"reply_markup": markup})

    def _delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        key = (chat["id"], params.get("message_id"))
        with self._lock:
            if self._all_messages.pop(key, None) is None:
                raise bad_request("message to delete not found")
            if key in self._messages:
                self._messages[key].deleted = True
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        text = params.get("text") or ""
        if len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        with self._lock:
            if self._callback_queries.get(query_id, True):
                raise bad_request(
                    "query is too old and response timeout expired or query ID is invalid"
                )
            self._callback_queries[query_id] = True
            self._callback_answers[query_id] = {
                k: params[k] for k in ("text", "show_alert", "url", "cache_time") if k in params
            }
        return True

    # -- files ------------------------------------------------------------------------------
    def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_media(params, "document", "documents", MAX_DOCUMENT_BYTES)

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_media(params, "photo", "photos", MAX_PHOTO_BYTES)

    def _send_media(
        self, params: dict[str, Any], field_name: str, kind: str, max_bytes: int
    ) -> dict[str, Any]:
        chat = self._chat(params)
        stored = self._media_file(params.get(field_name), kind, max_bytes)
        parsed = parse_text(params.get("caption"), params.get("parse_mode"), caption=True)
        check_reply_markup(params.get("reply_markup"))
        media = stored.document() if field_name == "document" else stored.photo()
        return self._bot_message(
            chat,
            params,
            text=parsed.text or None,
            entities=parsed.entities,
            is_caption=True,
            **{field_name: media},
        )

    def _media_file(self, value: Any, kind: str, max_bytes: int) -> StoredFile:
        if isinstance(value, UploadedFile):
            if value.size > max_bytes:
                raise BotApiError(413, "Request Entity Too Large")
            if value.size == 0:
                raise bad_request("file must be non-empty")
            return self._store_file(kind, value.filename, value.content_type, value.content)
        if isinstance(value, str) and value:
            with self._lock:
                known = self._files.get(value)
            if known is not None:
                return known
            if value.startswith(("http://", "https://")):
                name = value.rsplit("/", 1)[-1] or None
                return self._store_file(kind, name, None, b"")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # -- commands and menu --------------------------------------------------------------------
    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not COMMAND_RE.fullmatch(str(command.get("command", "")).lstrip("/")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        with self._lock:
            self._commands[self._commands_key(params)] = copy.deepcopy(commands)
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self._commands.pop(self._commands_key(params), None)
        return True

    def _set_chat_menu_button(self, params: dict[str, Any]) -> bool:
        button = params.get("menu_button") or {"type": "default"}
        if button.get("type") not in {"default", "commands", "web_app"}:
            raise bad_request("can't parse menu button JSON object")
        with self._lock:
            self._menu_buttons[params.get("chat_id")] = button
        return True

    def _get_chat_menu_button(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._menu_buttons.get(params.get("chat_id"), {"type": "default"}))

    # -- chats --------------------------------------------------------------------------------
    def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription",
             "gifts_from_channels"),
            False,
        )  # fmt: skip
        return {
            **self._chat(params),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    def _member(self, chat_id: Any, user_id: int) -> dict[str, Any]:
        with self._lock:
            status = self._members.get((chat_id, user_id), "member")
            user = copy.deepcopy(self._users.get(user_id))
        if user_id == self.bot_user["id"]:
            user = copy.deepcopy(self.bot_user)
        user = user or {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(dict.fromkeys(_ADMIN_FLAGS, True))
            member.update(can_be_edited=False, is_anonymous=False)
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise bad_request("invalid user_id specified")
        return self._member(chat["id"], user_id)

    def _get_chat_administrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._chat(params)
        if chat["type"] == "private":
            raise bad_request("there are no administrators in the private chat")
        with self._lock:
            ids = [
                user_id
                for (chat_id, user_id), status in self._members.items()
                if chat_id == chat["id"] and status in {"creator", "administrator"}
            ]
        return [self._member(chat["id"], user_id) for user_id in ids]

    def _leave_chat(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        if chat["type"] == "private":
            raise bad_request("chat member status can't be changed in private chats")
        self.remove_from_chat(chat["id"])
        return True

    def _copy_message(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._source_message(params, "copy")
        chat = self._chat(params)
        caption = params.get("caption")
        text = message.get("text") or (caption if caption is not None else message.get("caption"))
        media = {k: message[k] for k in ("document", "photo", "sticker") if k in message}
        copied = self._bot_message(
            chat, params, text=text, entities=[], is_caption=bool(media), **media
        )
        return {"message_id": copied["message_id"]}

    def _forward_message(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._source_message(params, "forward")
        chat = self._chat(params)
        origin = {"type": "user", "sender_user": message["from"], "date": message["date"]}
        media = {k: message[k] for k in ("document", "photo", "sticker") if k in message}
        is_caption = bool(media)
        text = message.get("caption") if is_caption else message.get("text")
        return self._bot_message(
            chat,
            {"text": text},
            text=text,
            entities=[],
            is_caption=is_caption,
            forward_origin=origin,
            **media,
        )

    def _source_message(self, params: dict[str, Any], verb: str) -> dict[str, Any]:
        source = self._chat(params, "from_chat_id")
        message = self._find_any_message(source["id"], params.get("message_id"))
        if message is None:
            raise bad_request(f"message to {verb} not found")
        return message

    # ======================================================================================
    # test API: faults
    # ======================================================================================
    def fail(
        self,
        method: str,
        status: int,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        chat_id: Any = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (optionally only to ``chat_id``) fail."""
        error = make_error(status, retry_after=retry_after, description=description)
        self.faults.add_rule(method, error, times, chat_id)

    def fail_ratio(
        self,
        status_ratios: dict[int, float],
        seed: int = 0,
        *,
        methods: set[str] | frozenset[str] | None = None,
        retry_after: int = 1,
    ) -> None:
        """Random failures on send-like methods, e.g. ``{429: 0.10, 500: 0.02}``.

        Pass ``{}`` to switch off. Deterministic for a given ``seed`` and call order.
        """
        self.faults.set_ratios(
            status_ratios, seed, frozenset(methods) if methods else None, retry_after
        )

    def block(self, user_id: int) -> None:
        """The user blocked the bot: sends answer 403 until :meth:`unblock`."""
        self.faults.set_blocked(user_id, True)

    def unblock(self, user_id: int) -> None:
        self.faults.set_blocked(user_id, False)

    def remove_from_chat(self, chat_id: int) -> None:
        """The bot was kicked: sends to the group answer 403 until :meth:`restore_chat`."""
        self.faults.set_kicked(chat_id, True)

    def restore_chat(self, chat_id: int) -> None:
        self.faults.set_kicked(chat_id, False)

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Sends to ``old_id`` answer 400 with ``parameters.migrate_to_chat_id``."""
        self.faults.set_migrated(old_id, new_id)

    def enforce_limits(
        self,
        global_per_sec: int | None = 30,
        per_group_per_min: int | None = 20,
        per_chat_per_sec: int | None = None,
    ) -> None:
        """Answer 429 (with retry_after) when the bot exceeds Telegram's send limits."""
        self.faults.set_limits(_Limits(global_per_sec, per_group_per_min, per_chat_per_sec))

    def disable_limits(self) -> None:
        self.faults.set_limits(None)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What getChatMember answers: creator, administrator, member, left or kicked."""
        if status not in {"creator", "administrator", "member", "left", "kicked"}:
            raise ValueError(f"unsupported status {status!r}")
        with self._lock:
            self._members[(chat_id, user_id)] = status

    # ======================================================================================
    # test API: records and waiting
    # ======================================================================================
    def reset(self) -> None:
        """Forget calls, messages, queued updates, callback queries and injected faults."""
        self._clear_records()
        self.faults.reset()

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def sent_messages(
        self, chat_id: Any = None, *, include_deleted: bool = False
    ) -> list[SentMessage]:
        """Current state (after edits) of the bot's messages, in send order."""
        with self._lock:
            return [
                copy.deepcopy(m)
                for m in self._messages.values()
                if (chat_id is None or m.chat_id == chat_id) and (include_deleted or not m.deleted)
            ]

    def user_messages(self, chat_id: Any) -> list[dict[str, Any]]:
        """The messages users sent in a chat (Bot API Message dicts), in order; with
        :meth:`sent_messages` (the same message-id sequence) the whole conversation."""
        with self._lock:
            return [copy.deepcopy(m) for (chat, _id), m in sorted(self._all_messages.items())
                    if chat == chat_id and not m.get("from", {}).get("is_bot")]

    def last_message(self, chat_id: Any = None) -> SentMessage | None:
        messages = self.sent_messages(chat_id)
        return messages[-1] if messages else None

    def pending_updates(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._updates)

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Updates the webhook receiver acknowledged with 2xx."""
        with self._lock:
            return copy.deepcopy(self._webhook_deliveries)

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """Parameters of answerCallbackQuery for ``query_id`` (None if unanswered)."""
        with self._lock:
            return copy.deepcopy(self._callback_answers.get(str(query_id)))

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        return self._get_my_commands({"scope": scope, "language_code": language_code})

    def menu_button(self, chat_id: int | None = None) -> dict[str, Any]:
        return self._get_chat_menu_button({"chat_id": chat_id})

    def file_content(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id].content

    def rate_stats(self, *, include_failed: bool = False) -> RateStats:
        return compute_rate_stats(self.calls(), include_failed=include_failed)

    def wait_for(
        self, predicate: Callable[[], T | None], timeout: float = 10, interval: float = 0.02
    ) -> T:
        """Poll ``predicate()`` until truthy and return its value (sync code)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s; {self._summary()}")
            time.sleep(interval)

    async def await_for(
        self, predicate: Callable[[], T | None], timeout: float = 10, interval: float = 0.02
    ) -> T:
        """Async :meth:`wait_for`; never blocks the caller's event loop."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s; {self._summary()}")
            await asyncio.sleep(interval)

    def wait_for_message(
        self,
        chat_id: Any,
        *,
        contains: str | None = None,
        count: int = 1,
        timeout: float = 10,
    ) -> SentMessage:
        """Wait until ``count`` bot messages in the chat match; return the latest match."""
        return self.wait_for(self._message_matcher(chat_id, contains, count), timeout)

    async def await_message(
        self,
        chat_id: Any,
        *,
        contains: str | None = None,
        count: int = 1,
        timeout: float = 10,
    ) -> SentMessage:
        return await self.await_for(self._message_matcher(chat_id, contains, count), timeout)

    def wait_for_call(self, method: str, *, count: int = 1, timeout: float = 10) -> Call:
        """Wait until ``method`` was called ``count`` times; return the latest call."""
        return self.wait_for(self._call_matcher(method, count), timeout)

    async def await_call(self, method: str, *, count: int = 1, timeout: float = 10) -> Call:
        return await self.await_for(self._call_matcher(method, count), timeout)

    def _message_matcher(
        self, chat_id: Any, contains: str | None, count: int
    ) -> Callable[[], SentMessage | None]:
        def match() -> SentMessage | None:
            found = [
                m
                for m in self.sent_messages(chat_id)
                if contains is None or m.contains(contains)
            ]
            return found[-1] if len(found) >= count else None

        return match

    def _call_matcher(self, method: str, count: int) -> Callable[[], Call | None]:
        def match() -> Call | None:
            found = self.calls(method)
            return found[-1] if len(found) >= count else None

        return match

    def _summary(self) -> str:
        recent = [f"{c.method}->{c.response_status}" for c in self.calls()[-8:]]
        texts = [f"{m.chat_id}: {m.text!r}"[:120] for m in self.sent_messages()[-5:]]
        return f"last calls: {recent}; last messages: {texts}"


_ADMIN_FLAGS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories", "can_pin_messages",
)  # fmt: skip


def _resolve_attachments(params: dict[str, Any]) -> dict[str, Any]:
    """Replace ``attach://name`` values with the uploaded part called ``name``."""
    resolved = dict(params)
    for key, value in params.items():
        if isinstance(value, str) and value.startswith("attach://"):
            part = params.get(value.removeprefix("attach://"))
            if isinstance(part, UploadedFile):
                resolved[key] = part
    return resolved

