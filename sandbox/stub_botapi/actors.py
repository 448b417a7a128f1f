"""Acting as Telegram users: build and queue the updates a real client would cause.

Mixed into :class:`~tests.stub_botapi.server.StubBotApi`; every action returns the
update dict it queued (a list of them when one action causes several updates).
"""

from __future__ import annotations

import abc
import copy
import itertools
import threading
import time
from collections.abc import Sequence
from typing import Any

from .records import SentMessage

User = dict[str, Any]
Chat = dict[str, Any]
MessageRef = SentMessage | dict[str, Any] | tuple[int, int]


class UserActions(abc.ABC):
    """User-side actions; relies on the state kept by ``StubBotApi``."""

    _lock: threading.RLock
    _users: dict[int, User]
    _chats: dict[Any, Chat]
    _callback_queries: dict[str, bool]
    _callback_ids: itertools.count[int]

    # Implemented by StubBotApi.
    bot_user: User

    @abc.abstractmethod
    def _queue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Implemented by StubBotApi."""

    @abc.abstractmethod
    def _new_message(self, chat: Chat, sender: User, **content: Any) -> dict[str, Any]:
        """Implemented by StubBotApi."""

    @abc.abstractmethod
    def _store_file(self, kind: str, filename: str | None, mime: str | None, data: bytes) -> Any:
        """Implemented by StubBotApi."""

    @abc.abstractmethod
    def _find_bot_message(self, chat_id: Any, message_id: Any) -> SentMessage | None:
        """Implemented by StubBotApi."""

    @abc.abstractmethod
    def _find_any_message(self, chat_id: Any, message_id: Any) -> dict[str, Any] | None:
        """Implemented by StubBotApi."""

    @abc.abstractmethod
    def block(self, user_id: int) -> None:
        """Implemented by StubBotApi."""

    @abc.abstractmethod
    def remove_from_chat(self, chat_id: int) -> None:
        """Implemented by StubBotApi."""

    @abc.abstractmethod
    def restore_chat(self, chat_id: int) -> None:
        """Implemented by StubBotApi."""

    @abc.abstractmethod
    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Implemented by StubBotApi."""

    # -- people and chats -------------------------------------------------------------
    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "vi",
    ) -> User:
        """Register and return a Bot API ``User`` dict."""
        user: User = {"id": user_id, "is_bot": False, "first_name": first_name}
        optional = {"last_name": last_name, "username": username, "language_code": language_code}
        user.update({k: v for k, v in optional.items() if v is not None})
        with self._lock:
            self._users[user_id] = user
        return copy.deepcopy(user)

    def private_chat(self, user: User | int) -> Chat:
        """The private chat between ``user`` and the bot."""
        user = self._resolve_user(user)
        chat: Chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        with self._lock:
            self._chats[chat["id"]] = chat
        return copy.deepcopy(chat)

    def group(self, chat_id: int, title: str, type: str = "group") -> Chat:
        """Register a ``group`` or ``supergroup`` chat (use negative ids)."""
        if type not in {"group", "supergroup"}:
            raise ValueError("type must be 'group' or 'supergroup'")
        chat: Chat = {"id": chat_id, "type": type, "title": title}
        with self._lock:
            self._chats[chat_id] = chat
        return copy.deepcopy(chat)

    # -- messages -----------------------------------------------------------------------
    def send_text(
        self,
        user: User | int,
        text: str,
        chat: Chat | int | None = None,
        *,
        reply_to: MessageRef | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The user sends ``text``; a leading ``/command`` gets a ``bot_command`` entity.
        ``entities``: formatting as a Telegram client sends it (Bot API MessageEntity dicts)."""
        sender, target = self._sender_and_chat(user, chat)
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else text
            length = len(command.encode("utf-16-le")) // 2
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if entities:
            content["entities"] = [*content.get("entities", []), *entities]
        if reply_to is not None:
            content["reply_to_message"] = self._message_dict(reply_to)
        return self._queue_message(target, sender, content)

    def send_document(
        self,
        user: User | int,
        filename: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        chat: Chat | int | None = None,
    ) -> dict[str, Any]:
        """The user uploads a document; the bot can fetch it with getFile."""
        sender, target = self._sender_and_chat(user, chat)
        stored = self._store_file("documents", filename, mime_type, content)
        body: dict[str, Any] = {"document": stored.document()}
        if caption is not None:
            body["caption"] = caption
        return self._queue_message(target, sender, body)

    def send_photo(
        self,
        user: User | int,
        content: bytes,
        caption: str | None = None,
        chat: Chat | int | None = None,
        *,
        filename: str = "photo.jpg",
    ) -> dict[str, Any]:
        """The user sends a photo (one ``PhotoSize``)."""
        sender, target = self._sender_and_chat(user, chat)
        stored = self._store_file("photos", filename, "image/jpeg", content)
        body: dict[str, Any] = {"photo": stored.photo()}
        if caption is not None:
            body["caption"] = caption
        return self._queue_message(target, sender, body)

    def send_sticker(
        self, user: User | int, chat: Chat | int | None = None, *, emoji: str = "👍"
    ) -> dict[str, Any]:
        """The user sends a (regular, static) sticker."""
        sender, target = self._sender_and_chat(user, chat)
        stored = self._store_file("stickers", "sticker.webp", "image/webp", b"RIFF-stub-webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(stored.content),
        }
        return self._queue_message(target, sender, {"sticker": sticker})

    # -- buttons ------------------------------------------------------------------------
    def press_button(
        self,
        user: User | int,
        message: MessageRef,
        callback_data: str,
        *,
        forged: bool = False,
    ) -> dict[str, Any]:
        """The user presses an inline button of a bot message.

        ``message`` is a :class:`SentMessage`, a Message dict or ``(chat_id, message_id)``.
        Unless ``forged=True`` the data must belong to a button of the message's
        *current* keyboard (``ValueError`` otherwise); forged data imitates a malicious
        client sending arbitrary callback data.
        """
        sender = self._resolve_user(user)
        current = self._message_dict(message)
        if not forged:
            stored = self._find_bot_message(current["chat"]["id"], current["message_id"])
            datas = stored.button_datas() if stored else []
            if callback_data not in datas:
                raise ValueError(f"no button with callback_data {callback_data!r}: {datas}")
        with self._lock:
            query_id = str(next(self._callback_ids))
            self._callback_queries[query_id] = False
        query = {
            "id": query_id,
            "from": sender,
            "message": current,
            "chat_instance": str(abs(hash(current["chat"]["id"]))),
            "data": callback_data,
        }
        return self._queue_update("callback_query", query)

    # -- membership -----------------------------------------------------------------------
    def add_bot_to_group(self, user: User | int, chat: Chat | int) -> list[dict[str, Any]]:
        """``user`` adds the bot: a ``my_chat_member`` and a ``new_chat_members`` update."""
        sender, target = self._sender_and_chat(user, chat)
        self.restore_chat(target["id"])
        member = self._member_update(sender, target, "left", "member")
        joined = self._queue_message(target, sender, {"new_chat_members": [self.bot_user]})
        return [member, joined]

    def remove_bot_from_group(self, user: User | int, chat: Chat | int) -> dict[str, Any]:
        """``user`` removes the bot; later sends to the chat answer 403 (kicked)."""
        sender, target = self._sender_and_chat(user, chat)
        new_status = "kicked" if target["type"] == "supergroup" else "left"
        update = self._member_update(sender, target, "member", new_status)
        self.remove_from_chat(target["id"])
        return update

    def migrate_group(self, old: Chat | int, new: Chat | int) -> list[dict[str, Any]]:
        """A group becomes a supergroup: service messages in both chats; sends to the
        old id answer 400 with ``migrate_to_chat_id``."""
        old_chat = self._resolve_chat(old)
        new_chat = self._resolve_chat(new)
        if new_chat.get("type") != "supergroup":
            new_chat = self.group(new_chat["id"], old_chat.get("title", ""), "supergroup")
        sender = next(iter(self._users.values()), self.bot_user)
        first = self._queue_message(old_chat, sender, {"migrate_to_chat_id": new_chat["id"]})
        second = self._queue_message(new_chat, sender, {"migrate_from_chat_id": old_chat["id"]})
        self.migrate_chat(old_chat["id"], new_chat["id"])
        return [first, second]

    # -- helpers ----------------------------------------------------------------------------
    def _queue_message(self, chat: Chat, sender: User, content: dict[str, Any]) -> dict[str, Any]:
        message = self._new_message(chat, sender, **content)
        return self._queue_update("message", message)

    def _member_update(self, sender: User, chat: Chat, old: str, new: str) -> dict[str, Any]:
        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"status": status, "user": self.bot_user}
            if status == "kicked":
                data["until_date"] = 0
            return data

        payload = {
            "chat": chat,
            "from": sender,
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        return self._queue_update("my_chat_member", payload)

    def _resolve_user(self, user: User | int) -> User:
        if isinstance(user, dict):
            with self._lock:
                self._users.setdefault(user["id"], copy.deepcopy(user))
            return copy.deepcopy(user)
        with self._lock:
            known = self._users.get(user)
        if known is None:
            return self.user(user, f"User {user}")
        return copy.deepcopy(known)

    def _resolve_chat(self, chat: Chat | int) -> Chat:
        if isinstance(chat, dict):
            with self._lock:
                self._chats.setdefault(chat["id"], copy.deepcopy(chat))
            return copy.deepcopy(chat)
        with self._lock:
            known = self._chats.get(chat)
        if known is not None:
            return copy.deepcopy(known)
        if chat > 0:
            return self.private_chat(chat)
        return self.group(chat, f"Group {chat}")

    def _sender_and_chat(self, user: User | int, chat: Chat | int | None) -> tuple[User, Chat]:
        sender = self._resolve_user(user)
        target = self.private_chat(sender) if chat is None else self._resolve_chat(chat)
        return sender, target

    def _message_dict(self, message: MessageRef) -> dict[str, Any]:
        if isinstance(message, SentMessage):
            chat_id, message_id = message.chat_id, message.message_id
        elif isinstance(message, dict):
            chat_id, message_id = message["chat"]["id"], message["message_id"]
        elif isinstance(message, Sequence) and len(message) == 2:
            chat_id, message_id = message
        else:
            raise TypeError(f"not a message reference: {message!r}")
        stored = self._find_any_message(chat_id, message_id)
        if stored is not None:
            return stored
        if isinstance(message, dict):
            return copy.deepcopy(message)
        raise ValueError(f"unknown message {chat_id}/{message_id}")
