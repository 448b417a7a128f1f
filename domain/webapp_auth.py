"""Telegram Mini App launch data, validated as Telegram specifies ("Validating data received via
the Mini App", core.telegram.org/bots/webapps).

The page receives ``tgWebAppData`` in its URL fragment: a query string (``query_id``, ``user``
as JSON, ``auth_date``, ``chat_instance``, ``signature``, ``hash``…). The server checks it:

- secret key = HMAC-SHA256(key = ``"WebAppData"``, message = the bot token);
- data-check-string = every received field except ``hash``, as ``key=value`` (values
  URL-decoded), sorted by key, joined with ``\\n``;
- ``hash`` must be the hex HMAC-SHA256 of the data-check-string under the secret key;
- ``auth_date`` no older than the allowed age (and not from the future beyond a minute).

Pure: the caller passes the token, the time and the age; nothing here reads a clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

MAX_LENGTH = 8192  # far above any real launch data (a user object is a few hundred bytes)
CLOCK_SKEW = timedelta(seconds=60)
_HEX = frozenset("0123456789abcdef")


class BadLaunchData(ValueError):
    """Launch data that is missing, malformed, forged or too old; ``reason`` names which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LaunchData:
    """What validated launch data says: the Telegram user and when Telegram signed it."""

    user_id: int
    first_name: str
    language_code: str | None
    auth_date: datetime
    fields: Mapping[str, str]


def secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: Mapping[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign(fields: Mapping[str, str], bot_token: str) -> str:
    """The hash Telegram would put on ``fields`` (for tests and the local demo)."""
    return hmac.new(secret_key(bot_token), data_check_string(fields).encode(), hashlib.sha256).hexdigest()


def signed_init_data(fields: Mapping[str, str], bot_token: str) -> str:
    """``fields`` plus their hash, URL-encoded as Telegram sends them."""
    return urlencode({**fields, "hash": sign(fields, bot_token)})


def _fields(init_data: str) -> dict[str, str]:
    if not init_data:
        raise BadLaunchData("missing")
    if len(init_data) > MAX_LENGTH:
        raise BadLaunchData("too_long")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise BadLaunchData("malformed") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise BadLaunchData("duplicate_field")
        fields[key] = value
    return fields


def validate(init_data: str, bot_token: str, now: datetime, max_age: timedelta) -> LaunchData:
    """The launch data's user, or :class:`BadLaunchData`. ``now`` is aware."""
    fields = _fields(init_data)
    given = fields.get("hash", "")
    if len(given) != 64 or not set(given) <= _HEX:
        raise BadLaunchData("no_hash")
    if not hmac.compare_digest(sign(fields, bot_token), given):
        raise BadLaunchData("bad_hash")
    raw_date = fields.get("auth_date", "")
    if not raw_date.isdigit() or len(raw_date) > 12:
        raise BadLaunchData("no_auth_date")
    auth_date = datetime.fromtimestamp(int(raw_date), tz=UTC)
    if now - auth_date > max_age:
        raise BadLaunchData("stale")
    if auth_date - now > CLOCK_SKEW:
        raise BadLaunchData("future")
    try:
        user = json.loads(fields.get("user", ""))
    except ValueError:
        raise BadLaunchData("no_user") from None
    if not isinstance(user, dict) or type(user.get("id")) is not int:
        raise BadLaunchData("no_user")
    language = user.get("language_code")
    first_name = user.get("first_name")
    return LaunchData(user_id=user["id"], first_name=first_name if isinstance(first_name, str) else "",
                      language_code=language if isinstance(language, str) else None,
                      auth_date=auth_date, fields=fields)
