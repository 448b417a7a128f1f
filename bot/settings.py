"""Settings from environment variables (prefix ``DONDOC_``) and an optional ``.env`` file.

Every setting is validated when the process starts; :func:`load_settings` turns pydantic's
errors into one readable line per bad value, so an operator never has to read a traceback.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.docnumber import Issuer
from domain.extensions import ExtensionLimits
from domain.periods import DueRules
from domain.rules import WEEKDAYS, ScheduleRules, parse_hhmm
from domain.slots import ReminderPolicy, is_quiet
from scheduler.config import BotConfig

SUPPORTED_LANGUAGES = ("vi", "en")
LOCAL_HOSTS = ("127.0.0.1", "localhost")
_TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,128}")


class SettingsError(ValueError):
    """A setting is missing or wrong; the message names it and says what to do."""


def _default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'dondoc.sqlite3'}"


class Settings(BaseSettings):
    """All of dondoc's settings. The README documents each one."""

    model_config = SettingsConfigDict(
        env_prefix="DONDOC_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    bot_token: str | None = None
    bot_api_url: str = "https://api.telegram.org"
    database_url: str = Field(default_factory=_default_database_url)
    timezone: str = "Asia/Ho_Chi_Minh"
    default_language: str = "vi"
    # Administrators bootstrapped by Telegram user id (comma separated); they can invite others.
    admin_ids: str = ""
    log_level: str = "INFO"
    log_format: str = "text"  # "text" or "json" (one object per line)
    # Webhook mode (`dondoc run --webhook URL`): where the HTTP server listens, the path
    # Telegram posts to, and the secret Telegram must send back in every request.
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_path: str = "telegram"
    webhook_secret: str | None = None

    # Deadlines: due day of each period, DD-MM (see domain/periods.py).
    due_quarterly: str = "31-03,30-06,30-09,31-12"
    due_annual: str = "31-12"
    due_semiannual: str = "30-06,31-12"
    # Reminder policy (see domain/slots.py).
    remind_before_days: str = "14,7,3,1"
    remind_on_due_day: bool = True
    remind_overdue_days: str = "1,3,7"
    escalate_leaders_from: int = 3
    escalate_coordinators_from: int = 7
    remind_at: str = "08:30"
    quiet_start: str = "21:00"
    quiet_end: str = "07:00"
    # Reminders missed by downtime are still sent if at most this old; older ones collapse
    # into the next reminder.
    grace_hours: float = Field(default=24, ge=0, le=24 * 14)
    # A message claimed by an instance that died is sent again after this many seconds.
    claim_lease_seconds: float = Field(default=300, ge=1, le=3600)
    # How often the dispatcher looks at the ledger even when nothing is due (seconds).
    dispatch_interval: float = Field(default=60, gt=0, le=3600)
    # Event deadlines: how far from today an event date may be.
    event_max_past_days: int = Field(default=366, ge=0)
    event_max_future_days: int = Field(default=366, ge=0)
    # Extension requests: how many an item may have, how many days after the date in force
    # one may still come.
    extension_max_per_item: int = Field(default=2, ge=0, le=20)
    extension_latest_days: int = Field(default=30, ge=0, le=366)
    # A report left unfinished this long (minutes since its last step) is discarded.
    draft_timeout_minutes: int = Field(default=120, gt=0, le=60 * 24 * 7)
    # Explanation requests: the answer is due this many Vietnamese working days after the request.
    explanation_days: int = Field(default=3, ge=1, le=60)
    # Leaders' digests: weekday (mon..sun) and local time of the weekly one; period ends too.
    digest_weekday: str = "mon"
    digest_at: str = "08:00"
    # Fairness under flood: beyond this many updates a minute one person is told to slow down
    # once, then ignored for the cooldown (administrators are not limited).
    flood_per_minute: int = Field(default=30, ge=1, le=10_000)
    flood_cooldown_seconds: float = Field(default=60, gt=0, le=24 * 3600)
    # Coordinating agencies are told when a period of tasks they coordinate begins and when a
    # lead reports done (on|off).
    coordination_notices: bool = True
    # Health (GET /healthz in webhook mode, `dondoc doctor`): stuck beyond these.
    health_max_pending_updates: int = Field(default=1000, ge=0)
    health_max_due_seconds: float = Field(default=900, gt=0)
    # The dashboard (a Telegram Mini App at /app/) and calendar feeds (/ical/): the public URL
    # they are reached at (https; http only for 127.0.0.1 / localhost). Unset: neither is offered.
    # Webhook mode serves them on the webhook server, polling mode on WEB_LISTEN:WEB_PORT.
    web_base_url: str | None = None
    web_listen: str = "0.0.0.0"
    web_port: int = Field(default=8081, ge=1, le=65535)
    # Launch data Telegram signed longer ago than this is refused (401).
    web_auth_max_age_seconds: int = Field(default=86400, ge=60, le=30 * 86400)
    # The official report (report-doc, /report_doc): its issuer as Decree 30/2020 lays out.
    report_parent: str = Issuer.parent
    report_body: str = Issuer.body
    report_body_name: str = Issuer.name
    report_symbol: str = Issuer.symbol
    report_place: str = Issuer.place
    report_recipient: str = Issuer.recipient
    report_signer_title: str = Issuer.signer_title
    report_signer_name: str = Issuer.signer_name

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        value = value.strip()
        # The bot's id, a colon, the secret: what goes into every Bot API URL, so anything else
        # (a space, a slash, a quote, a second line) would only fail later with a traceback.
        if not _TOKEN.fullmatch(value):
            raise ValueError(
                "does not look like a bot token (expected '<digits>:<secret>', as given by @BotFather)"
            )
        return value

    @field_validator("bot_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://api.telegram.org")
        return value.strip().rstrip("/")

    @field_validator("web_base_url")
    @classmethod
    def _web_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        local = parts.hostname in LOCAL_HOSTS
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise ValueError("must be an https:// URL (plain http only for 127.0.0.1 or localhost)")
        if not parts.netloc or parts.query or parts.fragment:
            raise ValueError("must be a URL such as https://dondoc.example.gov.vn, without ? or #")
        return value

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        value = value.strip()
        scheme = value.split(":", 1)[0]
        if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        if scheme in ("postgresql", "postgres"):
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            value = "postgresql+psycopg" + value[len(scheme):]
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Ho_Chi_Minh)") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _lang(cls, value: str) -> str:
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value

    @field_validator("admin_ids")
    @classmethod
    def _admins(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            if not part.lstrip("-").isdigit():
                raise ValueError(f"{part!r} is not a Telegram user id (a number)")
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value not in ("text", "json"):
            raise ValueError("must be text or json")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not 1 <= len(value) <= 256 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in value):
            raise ValueError("1-256 characters, only A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @field_validator("digest_weekday")
    @classmethod
    def _digest_weekday(cls, value: str) -> str:
        value = value.strip().lower()[:3]
        if value not in WEEKDAYS:
            raise ValueError(f"must be one of {', '.join(WEEKDAYS)}")
        return value

    @field_validator("digest_at")
    @classmethod
    def _digest_at(cls, value: str) -> str:
        parsed = parse_hhmm(value)
        if parsed.hour > 23 or parsed.minute > 59:
            raise ValueError(f"{value!r} is not a time of day like 08:00")
        return f"{parsed:%H:%M}"

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = value.upper()
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value

    @model_validator(mode="after")
    def _schedule_rules(self) -> Settings:
        # Parse once here so that a bad rule stops the process at start, naming the setting.
        check_schedule_settings(self)
        return self

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def admin_user_ids(self) -> frozenset[int]:
        return frozenset(int(p) for p in self.admin_ids.split(",") if p.strip())

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def require_webhook_secret(self) -> str:
        if not self.webhook_secret:
            raise SettingsError("DONDOC_WEBHOOK_SECRET is not set: webhook mode needs a secret "
                                "(1-256 characters of A-Z, a-z, 0-9, _ and -) that Telegram sends back")
        return self.webhook_secret

    def require_token(self) -> str:
        if not self.bot_token:
            raise SettingsError(
                "DONDOC_BOT_TOKEN is not set. Talk to @BotFather in Telegram, send /newbot, "
                "and put the token it gives you in DONDOC_BOT_TOKEN (or in a .env file)."
            )
        return self.bot_token


def _describe(error: dict[str, Any]) -> str:
    field = ".".join(str(p) for p in error.get("loc", ()))
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    # Checks across settings (model validators) name their settings themselves.
    return f"DONDOC_{field.upper()}: {message}" if field else message


def load_settings(**overrides: Any) -> Settings:
    """Read and validate settings, raising :class:`SettingsError` with one line per problem."""
    env_file = os.environ.get("DONDOC_ENV_FILE", ".env")
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise SettingsError("; ".join(_describe(e) for e in exc.errors())) from None  # type: ignore[arg-type]


_DEFAULT_DUE = {"quarterly": "31-03,30-06,30-09,31-12", "annual": "31-12", "semiannual": "30-06,31-12"}


def _due_rules(settings: Settings) -> DueRules:
    """The due days; a bad one is reported with the setting that holds it."""
    given = {"quarterly": settings.due_quarterly, "annual": settings.due_annual,
             "semiannual": settings.due_semiannual}
    for name, value in given.items():
        try:
            DueRules.parse(**{**_DEFAULT_DUE, name: value})
        except ValueError as exc:
            raise ValueError(f"DONDOC_DUE_{name.upper()}={value!r}: {exc}") from None
    return DueRules.parse(**given)


def _policy(settings: Settings) -> ReminderPolicy:
    try:
        return ReminderPolicy.parse(
            before_days=settings.remind_before_days, on_due_day=str(settings.remind_on_due_day),
            overdue_working_days=settings.remind_overdue_days,
            leaders_from=str(settings.escalate_leaders_from),
            coordinators_from=str(settings.escalate_coordinators_from),
            send_at=settings.remind_at, quiet_start=settings.quiet_start, quiet_end=settings.quiet_end)
    except ValueError as exc:
        raise ValueError(f"reminder policy (DONDOC_REMIND_*/QUIET_*/ESCALATE_*): {exc}") from None


def _outside_quiet_hours(settings: Settings, policy: ReminderPolicy) -> None:
    """A send time inside quiet hours would be held to the next morning (a due-day reminder of
    31/12 at 22:00 arrives on 01/01, after the deadline), so it is refused."""
    for name, value in (("REMIND_AT", settings.remind_at), ("DIGEST_AT", settings.digest_at)):
        moment = datetime.combine(date(2026, 1, 1), parse_hhmm(value), tzinfo=settings.tz)
        if is_quiet(moment, policy):
            raise ValueError(
                f"DONDOC_{name}={value} is inside the quiet hours (DONDOC_QUIET_START="
                f"{settings.quiet_start} to DONDOC_QUIET_END={settings.quiet_end}), when nothing is "
                "sent; choose a time outside them or change the quiet hours")


def check_schedule_settings(settings: Settings) -> None:
    _due_rules(settings)
    _outside_quiet_hours(settings, _policy(settings))


def schedule_rules(settings: Settings) -> ScheduleRules:
    return ScheduleRules(due=_due_rules(settings), policy=_policy(settings), tz=settings.tz,
                         grace=timedelta(hours=settings.grace_hours),
                         lease=timedelta(seconds=settings.claim_lease_seconds))


def report_issuer(settings: Settings) -> Issuer:
    return Issuer(parent=settings.report_parent, body=settings.report_body,
                  name=settings.report_body_name, symbol=settings.report_symbol,
                  place=settings.report_place, recipient=settings.report_recipient,
                  signer_title=settings.report_signer_title, signer_name=settings.report_signer_name)


def bot_config(settings: Settings) -> BotConfig:
    """The plain values the layers below act on."""
    return BotConfig(rules=schedule_rules(settings), default_language=settings.default_language,
                     admin_user_ids=settings.admin_user_ids,
                     draft_timeout_minutes=settings.draft_timeout_minutes,
                     explanation_days=settings.explanation_days,
                     event_max_past_days=settings.event_max_past_days,
                     event_max_future_days=settings.event_max_future_days,
                     extension_limits=ExtensionLimits(settings.extension_max_per_item,
                                                      settings.extension_latest_days),
                     dispatch_interval=settings.dispatch_interval,
                     digest_weekday=settings.digest_weekday, digest_at=settings.digest_at,
                     web_base_url=settings.web_base_url,
                     flood_per_minute=settings.flood_per_minute,
                     flood_cooldown_seconds=settings.flood_cooldown_seconds,
                     report_issuer=report_issuer(settings),
                     coordination_notices=settings.coordination_notices)
