"""The settings the running bot acts on, as plain values (no Telegram import: the command line
builds them too, and should start fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from domain.docnumber import Issuer
from domain.extensions import ExtensionLimits
from domain.rules import ScheduleRules


@dataclass(frozen=True)
class BotConfig:
    """The settings the running bot acts on, as plain values."""

    rules: ScheduleRules
    default_language: str = "vi"
    admin_user_ids: frozenset[int] = frozenset()
    draft_timeout_minutes: int = 120
    explanation_days: int = 3  # working days to answer an explanation request
    event_max_past_days: int = 366
    event_max_future_days: int = 366
    extension_limits: ExtensionLimits = field(default_factory=ExtensionLimits)
    dispatch_interval: float = 60.0
    digest_weekday: str = "mon"
    digest_at: str = "08:00"  # local time
    # Where the dashboard and calendar feeds are reached (DONDOC_WEB_BASE_URL); None: not offered.
    web_base_url: str | None = None
    flood_per_minute: int = 30  # updates a minute from one person before "slow down"
    flood_cooldown_seconds: float = 60.0  # then ignored this long
    # The official report's header and signer (DONDOC_REPORT_*).
    report_issuer: Issuer = field(default_factory=Issuer)
    # DONDOC_COORDINATION_NOTICES: coordinating agencies told of period openings and lead reports.
    coordination_notices: bool = True

    @property
    def tz(self) -> ZoneInfo:
        return self.rules.tz
