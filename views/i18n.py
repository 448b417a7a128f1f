"""Translations and locale-aware formatting (Vietnamese first, English too).

The design follows aiogram's i18n core: source strings (msgids) are English, the locale of
the update being handled lives in a :class:`~contextvars.ContextVar` (so concurrent updates
never see each other's language), and translations are loaded once per language from the
``dondoc`` gettext domain under the ``locales`` package.

Usage::

    from views.i18n import _, ngettext, N_

    _("Hello, {name}").format(name=user.first_name)
    ngettext("{n} task", "{n} tasks", n).format(n=n)
    LABEL = N_("Overdue")          # marked for extraction, translated later with _(LABEL)

A handler sets the language for the rest of the update with :func:`set_locale` (the
``handlers.locale`` pre-handler does it for every update); anything else - jobs, the command
menu, tests - uses ``with use_locale("en"): ...``.

Catalogs: ``locales/<lang>/LC_MESSAGES/dondoc.mo``, compiled by ``bash scripts/catalogs.sh
all``. A missing or stale ``.mo`` is compiled from the ``.po`` in memory (with a warning).
"""

from __future__ import annotations

import datetime as dt
import gettext as _gettext
import importlib.resources
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from decimal import Decimal
from importlib.resources.abc import Traversable
from io import BytesIO
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import babel
import babel.dates
import babel.numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = [
    "DEFAULT",
    "DOMAIN",
    "N_",
    "SUPPORTED",
    "TIMEZONE",
    "CatalogError",
    "_",
    "babel_locale",
    "clear_cache",
    "compile_po",
    "current_locale",
    "format_date",
    "format_date_as",
    "format_datetime",
    "format_decimal",
    "format_number",
    "format_numeric_date",
    "format_percent",
    "format_relative_days",
    "format_time",
    "gettext",
    "install",
    "load_translations",
    "negotiate",
    "ngettext",
    "npgettext",
    "pgettext",
    "reset_locale",
    "set_locale",
    "translations",
    "use_locale",
]

log = logging.getLogger(__name__)

SUPPORTED: tuple[str, ...] = ("vi", "en")
DEFAULT = "vi"
DOMAIN = "dondoc"
TIMEZONE = "Asia/Ho_Chi_Minh"

Number = int | float | Decimal


class CatalogError(RuntimeError):
    """A supported language has no usable catalog (neither ``.mo`` nor ``.po``)."""


# --------------------------------------------------------------------------- current locale

_locale: ContextVar[str] = ContextVar("dondoc_locale", default=DEFAULT)


def _check(lang: str) -> str:
    if lang not in SUPPORTED:
        raise ValueError(f"unsupported language {lang!r}; expected one of {SUPPORTED}")
    return lang


def current_locale() -> str:
    """The language of the update (or job) being handled."""
    return _locale.get()


def set_locale(lang: str) -> Token[str]:
    """Use ``lang`` for the rest of the current task (a handler's lifetime).

    Each update runs in its own context copy when PTB processes updates concurrently, so
    this never leaks into other updates; the returned token can be passed to
    ``reset_locale`` to undo it early.
    """
    return _locale.set(_check(lang))


def reset_locale(token: Token[str]) -> None:
    _locale.reset(token)


@contextmanager
def use_locale(lang: str) -> Iterator[str]:
    """``with use_locale("en"): ...`` - translate in ``lang`` inside the block only."""
    token = _locale.set(_check(lang))
    try:
        yield lang
    finally:
        _locale.reset(token)


def negotiate(*, chosen: str | None, telegram_language_code: str | None, default: str) -> str:
    """Pick the language of a user.

    The member's own choice wins if supported; otherwise their Telegram client's language
    (``"en"``, ``"en-US"``, ``"en_GB"`` -> ``"en"``) if supported; otherwise ``default``.
    """
    if chosen:
        lang = chosen.strip().lower()
        if lang in SUPPORTED:
            return lang
    if telegram_language_code:
        code = telegram_language_code.strip().replace("_", "-")
        try:
            lang = babel.Locale.parse(code, sep="-").language
        except (ValueError, TypeError, babel.UnknownLocaleError):
            lang = ""
        if lang in SUPPORTED:
            return lang
    return default


# --------------------------------------------------------------------------- catalogs

_cache: dict[str, _gettext.NullTranslations] = {}
_cache_lock = threading.Lock()
_warned: set[str] = set()


def _locales_dir() -> Traversable:
    return importlib.resources.files("locales")


def _mtime(entry: Traversable) -> float | None:
    if isinstance(entry, Path):
        try:
            return entry.stat().st_mtime
        except OSError:
            return None
    return None


def compile_po(po_bytes: bytes, lang: str) -> _gettext.GNUTranslations:
    """Compile a ``.po`` in memory (fuzzy and empty entries left out)."""
    catalog = read_po(BytesIO(po_bytes), locale=lang, domain=DOMAIN, abort_invalid=True)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def load_translations(
    lang: str, directory: Traversable | Path | None = None
) -> _gettext.GNUTranslations:
    """Load ``lang``'s catalog from ``directory`` (default: the ``locales`` package), uncached.

    The compiled ``.mo`` is used when it exists and is not older than the ``.po``;
    otherwise the ``.po`` is compiled in memory and a warning is logged (once per file).
    """
    base = (directory if directory is not None else _locales_dir()) / lang / "LC_MESSAGES"
    mo = base / f"{DOMAIN}.mo"
    po = base / f"{DOMAIN}.po"
    has_mo, has_po = mo.is_file(), po.is_file()
    if not has_mo and not has_po:
        raise CatalogError(
            f"no catalog for {lang!r}: neither {mo} nor {po} exists; "
            f"run `bash scripts/catalogs.sh all`"
        )
    if has_mo:
        mo_time, po_time = _mtime(mo), _mtime(po) if has_po else None
        stale = has_po and mo_time is not None and po_time is not None and mo_time < po_time
        if not stale:
            with mo.open("rb") as fh:
                return _gettext.GNUTranslations(fh)
    key = str(po)
    if key not in _warned:
        _warned.add(key)
        log.warning(
            "%s is %s; compiling %s in memory (run `bash scripts/catalogs.sh compile`)",
            mo, "older than the .po" if has_mo else "missing", po,
        )
    return compile_po(po.read_bytes(), lang)


def translations(lang: str | None = None) -> _gettext.NullTranslations:
    """The (cached) translations of ``lang`` (default: the current locale)."""
    lang = _check(lang or current_locale())
    found = _cache.get(lang)
    if found is None:
        with _cache_lock:
            found = _cache.get(lang)
            if found is None:
                found = _cache[lang] = load_translations(lang)
    return found


def install(lang: str, value: _gettext.NullTranslations) -> None:
    """Replace the cached translations of ``lang`` (tests)."""
    with _cache_lock:
        _cache[_check(lang)] = value


def clear_cache() -> None:
    """Forget loaded catalogs (they are reloaded on next use)."""
    with _cache_lock:
        _cache.clear()
        _warned.clear()


# --------------------------------------------------------------------------- translating


def gettext(message: str) -> str:
    """Translate ``message`` into the current locale (English msgid as fallback)."""
    return translations().gettext(message)


_ = gettext


def ngettext(singular: str, plural: str, n: int) -> str:
    """Plural-aware translation; format the result with ``.format(n=n)``."""
    return translations().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """Translation of ``message`` in ``context`` (for identical English with different senses)."""
    return translations().pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return translations().npgettext(context, singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for extraction only; translate it later with ``_(message)``."""
    return message


# --------------------------------------------------------------------------- formatting

_babel_locales: dict[str, babel.Locale] = {}


def babel_locale() -> babel.Locale:
    """The Babel locale of the current language."""
    lang = current_locale()
    found = _babel_locales.get(lang)
    if found is None:
        found = _babel_locales[lang] = babel.Locale.parse(lang)
    return found


DateFormat = Literal["short", "medium", "long", "full"] | str
# Dates cited in documents and files, translated as a Babel pattern (vi: "dd/MM/yyyy").
NUMERIC_DATE = N_("MM/dd/yyyy")


def _zone(tz: str | dt.tzinfo | None) -> dt.tzinfo:
    if tz is None:
        return ZoneInfo(TIMEZONE)
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def format_date(d: dt.date, format: DateFormat = "medium") -> str:
    """``27 thg 11, 2026`` (vi) / ``Nov 27, 2026`` (en); formats as in Babel."""
    if isinstance(d, dt.datetime):
        d = d.date()
    return babel.dates.format_date(d, format=format, locale=babel_locale())


def format_date_as(d: dt.date, pattern: str) -> str:
    """``d`` by a Babel pattern (a translated one: "'ngày' dd 'tháng' MM 'năm' yyyy")."""
    return babel.dates.format_date(d, format=pattern, locale=babel_locale())


def format_numeric_date(d: dt.date) -> str:
    """``25/02/2016`` (vi) / ``02/25/2016`` (en): a date cited in a document, the year in full."""
    return format_date_as(d, gettext(NUMERIC_DATE))


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError("naive datetime: pass an aware one (e.g. tzinfo=datetime.UTC)")
    return value


def format_datetime(
    value: dt.datetime, tz: str | dt.tzinfo | None = None, format: DateFormat = "medium"
) -> str:
    """An aware datetime shown in ``tz`` (default Asia/Ho_Chi_Minh)."""
    zone = _zone(tz)
    local = _aware(value).astimezone(zone)
    return babel.dates.format_datetime(local, format=format, tzinfo=zone, locale=babel_locale())


def format_time(
    value: dt.time | dt.datetime, tz: str | dt.tzinfo | None = None, format: DateFormat = "short"
) -> str:
    """``08:30`` (vi) / ``8:30 AM`` (en). Aware datetimes are converted to ``tz`` first."""
    if isinstance(value, dt.datetime):
        zone = _zone(tz)
        local = _aware(value).astimezone(zone)
        return babel.dates.format_time(local, format=format, tzinfo=zone, locale=babel_locale())
    return babel.dates.format_time(value, format=format, locale=babel_locale())


def format_decimal(n: Number, format: str | None = None) -> str:
    """``1.234.567,5`` (vi) / ``1,234,567.5`` (en)."""
    return babel.numbers.format_decimal(n, format=format, locale=babel_locale())


def format_number(n: Number) -> str:
    """``1.234.567`` (vi) / ``1,234,567`` (en)."""
    return babel.numbers.format_decimal(n, locale=babel_locale())


def format_percent(x: Number, format: str | None = None) -> str:
    """``0.25`` -> ``25%``."""
    return babel.numbers.format_percent(x, format=format, locale=babel_locale())


def format_relative_days(n: int) -> str:
    """``today``, ``in 3 days`` / ``sau 3 ngày nữa``, ``3 days ago`` / ``3 ngày trước``."""
    if n == 0:
        return gettext("today")
    return babel.dates.format_timedelta(
        dt.timedelta(days=n), granularity="day", threshold=float("inf"),
        add_direction=True, locale=babel_locale(),
    )
