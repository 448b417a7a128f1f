"""views.i18n: language negotiation, the per-update locale, catalog loading and Babel formats."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import shutil
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from views import i18n
from views.i18n import _, ngettext, pgettext

LOCALES = Path(__file__).resolve().parent.parent / "locales"


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Tests may install synthetic catalogs; never let them leak into other tests."""
    i18n.clear_cache()
    yield
    i18n.clear_cache()


# --------------------------------------------------------------------------- negotiate


@pytest.mark.parametrize(
    ("chosen", "code", "default", "expected"),
    [
        (None, None, "vi", "vi"),
        (None, "vi", "vi", "vi"),
        (None, "en", "vi", "en"),
        (None, "en-US", "vi", "en"),
        (None, "en_GB", "vi", "en"),
        (None, "EN-us", "vi", "en"),
        (None, "ru", "vi", "vi"),  # valid but unsupported
        (None, "zh-hans", "vi", "vi"),
        (None, "not a language!", "vi", "vi"),  # invalid
        (None, "", "vi", "vi"),
        (None, "xx-YY", "vi", "vi"),
        ("en", "vi", "vi", "en"),  # the member's choice wins
        ("vi", "en-US", "vi", "vi"),
        ("fr", "en", "vi", "en"),  # unsupported choice is ignored
        ("fr", None, "vi", "vi"),
        (None, "fr", "en", "en"),  # configured default
        (None, None, "en", "en"),
    ],
)
def test_negotiate(chosen: str | None, code: str | None, default: str, expected: str) -> None:
    assert i18n.negotiate(chosen=chosen, telegram_language_code=code, default=default) == expected


# --------------------------------------------------------------------------- current locale


def test_default_locale_is_vietnamese() -> None:
    assert i18n.SUPPORTED == ("vi", "en")
    assert i18n.DEFAULT == "vi"
    assert i18n.current_locale() == "vi"


def test_use_locale_sets_and_restores() -> None:
    with i18n.use_locale("en") as lang:
        assert lang == "en" == i18n.current_locale()
        with i18n.use_locale("vi"):
            assert i18n.current_locale() == "vi"
        assert i18n.current_locale() == "en"
    assert i18n.current_locale() == "vi"


def test_use_locale_restores_after_an_error() -> None:
    with pytest.raises(RuntimeError), i18n.use_locale("en"):
        raise RuntimeError
    assert i18n.current_locale() == "vi"


def test_unsupported_locale_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        i18n.set_locale("fr")
    with pytest.raises(ValueError, match="unsupported"), i18n.use_locale("fr"):
        pass


async def test_concurrent_updates_keep_their_own_locale() -> None:
    """Two updates handled at once (as PTB does with concurrent_updates) never mix languages."""
    vi_set, en_set = asyncio.Event(), asyncio.Event()
    seen: dict[str, list[str]] = {}

    async def update(lang: str, mine: asyncio.Event, other: asyncio.Event) -> None:
        i18n.set_locale(lang)  # as the locale pre-handler does, for the handler's lifetime
        mine.set()
        await other.wait()  # the other update has set its language meanwhile
        seen[lang] = [i18n.current_locale(), _("today"), i18n.format_number(1234567)]
        await asyncio.sleep(0)
        # blocking work in a thread (models.db.run_sync) inherits the update's locale
        seen[lang].append(await asyncio.to_thread(_, "today"))

    await asyncio.gather(update("vi", vi_set, en_set), update("en", en_set, vi_set))
    assert seen["vi"] == ["vi", "hôm nay", "1.234.567", "hôm nay"]
    assert seen["en"] == ["en", "today", "1,234,567", "today"]
    assert i18n.current_locale() == "vi"  # the tasks' set_locale did not leak out


async def test_concurrent_tasks_with_a_synthetic_catalog(tmp_path: Path) -> None:
    write_catalog(tmp_path, "vi", VI_PO)
    i18n.install("vi", i18n.load_translations("vi", tmp_path))
    i18n.install("en", i18n.load_translations("en", write_catalog(tmp_path, "en", EN_PO)))

    async def count(lang: str, n: int) -> str:
        with i18n.use_locale(lang):
            await asyncio.sleep(0)
            return ngettext("{n} task", "{n} tasks", n).format(n=n)

    results = await asyncio.gather(*(count(lang, n) for n in (1, 2) for lang in ("vi", "en")))
    assert results == ["1 nhiệm vụ", "1 task", "2 nhiệm vụ", "2 tasks"]


# --------------------------------------------------------------------------- catalogs

VI_PO = """\
    msgid ""
    msgstr ""
    "Language: vi\\n"
    "Plural-Forms: nplurals=1; plural=0;\\n"
    "Content-Type: text/plain; charset=utf-8\\n"

    msgid "Hello, {name}"
    msgstr "Xin chào, {name}"

    msgid "{n} task"
    msgid_plural "{n} tasks"
    msgstr[0] "{n} nhiệm vụ"

    msgctxt "verb"
    msgid "Open"
    msgstr "Mở"

    msgctxt "adjective"
    msgid "Open"
    msgstr "Đang mở"

    #, fuzzy
    msgid "Overdue"
    msgstr "Quá hạn (chưa duyệt)"

    msgid "Untranslated"
    msgstr ""
"""

EN_PO = """\
    msgid ""
    msgstr ""
    "Language: en\\n"
    "Plural-Forms: nplurals=2; plural=(n != 1);\\n"
    "Content-Type: text/plain; charset=utf-8\\n"

    msgid "Hello, {name}"
    msgstr ""

    msgid "{n} task"
    msgid_plural "{n} tasks"
    msgstr[0] ""
    msgstr[1] ""
"""


def write_catalog(root: Path, lang: str, body: str, *, mo: bool = False) -> Path:
    directory = root / lang / "LC_MESSAGES"
    directory.mkdir(parents=True, exist_ok=True)
    po = directory / "dondoc.po"
    po.write_text(textwrap.dedent(body), encoding="utf-8")
    if mo:
        compile_to_file(po, directory / "dondoc.mo", lang)
    return root


def compile_to_file(po: Path, mo: Path, lang: str) -> None:
    catalog = read_po(BytesIO(po.read_bytes()), locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    mo.write_bytes(buffer.getvalue())


def test_missing_mo_is_compiled_in_memory_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_catalog(tmp_path, "vi", VI_PO)
    with caplog.at_level(logging.WARNING, logger="views.i18n"):
        vi = i18n.load_translations("vi", tmp_path)
        i18n.load_translations("vi", tmp_path)
    assert [r.getMessage() for r in caplog.records if "missing" in r.getMessage()] == [
        f"{tmp_path / 'vi/LC_MESSAGES/dondoc.mo'} is missing; compiling "
        f"{tmp_path / 'vi/LC_MESSAGES/dondoc.po'} in memory "
        "(run `bash scripts/catalogs.sh compile`)"
    ]
    assert vi.gettext("Hello, {name}").format(name="Lan") == "Xin chào, Lan"
    assert vi.ngettext("{n} task", "{n} tasks", 1) == "{n} nhiệm vụ"
    assert vi.ngettext("{n} task", "{n} tasks", 5) == "{n} nhiệm vụ"
    assert vi.pgettext("verb", "Open") == "Mở"
    assert vi.pgettext("adjective", "Open") == "Đang mở"


def test_fuzzy_and_empty_entries_are_not_used(tmp_path: Path) -> None:
    vi = i18n.load_translations("vi", write_catalog(tmp_path, "vi", VI_PO))
    assert vi.gettext("Overdue") == "Overdue"
    assert vi.gettext("Untranslated") == "Untranslated"
    assert vi.gettext("Not in the catalog") == "Not in the catalog"
    assert vi.ngettext("{n} file", "{n} files", 2) == "{n} files"


def test_english_falls_back_to_the_msgid(tmp_path: Path) -> None:
    en = i18n.load_translations("en", write_catalog(tmp_path, "en", EN_PO, mo=True))
    assert en.gettext("Hello, {name}") == "Hello, {name}"
    assert en.ngettext("{n} task", "{n} tasks", 1) == "{n} task"
    assert en.ngettext("{n} task", "{n} tasks", 2) == "{n} tasks"


def test_fresh_mo_is_used_and_a_stale_one_is_not(tmp_path: Path) -> None:
    write_catalog(tmp_path, "vi", VI_PO, mo=True)
    po = tmp_path / "vi/LC_MESSAGES/dondoc.po"
    mo = tmp_path / "vi/LC_MESSAGES/dondoc.mo"
    # change the .po after compiling, but keep it older than the .mo: the .mo wins
    po.write_text(po.read_text("utf-8").replace("Xin chào", "Chào"), encoding="utf-8")
    os.utime(po, (1_000_000, 1_000_000))
    os.utime(mo, (2_000_000, 2_000_000))
    assert i18n.load_translations("vi", tmp_path).gettext("Hello, {name}") == "Xin chào, {name}"
    # now the .po is newer: it is compiled in memory instead
    os.utime(po, (3_000_000, 3_000_000))
    assert i18n.load_translations("vi", tmp_path).gettext("Hello, {name}") == "Chào, {name}"


def test_no_catalog_at_all_is_a_loud_error(tmp_path: Path) -> None:
    with pytest.raises(i18n.CatalogError, match="neither"):
        i18n.load_translations("vi", tmp_path)


def test_unparseable_po_is_a_loud_error(tmp_path: Path) -> None:
    write_catalog(tmp_path, "vi", VI_PO + "\nthis is not a po line\n")
    with pytest.raises(Exception, match="misformatted"):
        i18n.load_translations("vi", tmp_path)


def test_real_catalogs_compile_in_memory_without_mo(tmp_path: Path) -> None:
    for lang in i18n.SUPPORTED:
        po = LOCALES / lang / "LC_MESSAGES" / "dondoc.po"
        target = tmp_path / lang / "LC_MESSAGES"
        target.mkdir(parents=True)
        shutil.copy(po, target / "dondoc.po")
    assert i18n.load_translations("vi", tmp_path).gettext("today") == "hôm nay"
    assert i18n.load_translations("en", tmp_path).gettext("today") == "today"


def test_translations_are_loaded_once_per_language() -> None:
    assert i18n.translations("vi") is i18n.translations("vi")
    assert i18n.translations("en") is not i18n.translations("vi")
    with i18n.use_locale("en"):
        assert i18n.translations() is i18n.translations("en")


def test_module_functions_use_the_current_locale(tmp_path: Path) -> None:
    i18n.install("vi", i18n.load_translations("vi", write_catalog(tmp_path, "vi", VI_PO)))
    i18n.install("en", i18n.load_translations("en", write_catalog(tmp_path, "en", EN_PO)))
    label = i18n.N_("Hello, {name}")
    assert label == "Hello, {name}"
    assert _(label).format(name="An") == "Xin chào, An"
    assert i18n.gettext is _
    assert pgettext("verb", "Open") == "Mở"
    assert ngettext("{n} task", "{n} tasks", 3).format(n=3) == "3 nhiệm vụ"
    with i18n.use_locale("en"):
        assert _(label).format(name="An") == "Hello, An"
        assert pgettext("verb", "Open") == "Open"
        assert ngettext("{n} task", "{n} tasks", 3).format(n=3) == "3 tasks"


# --------------------------------------------------------------------------- Babel formats

DAY = dt.date(2026, 11, 27)
# 01:30 UTC is 08:30 in Hanoi / Ho Chi Minh City (UTC+7, no DST)
MOMENT = dt.datetime(2026, 11, 27, 1, 30, tzinfo=dt.UTC)


def test_dates_in_vietnamese() -> None:
    assert i18n.babel_locale().language == "vi"
    assert i18n.format_date(DAY) == "27 thg 11, 2026"
    assert i18n.format_date(DAY, "short") == "27/11/26"
    assert i18n.format_date(DAY, "long") == "27 tháng 11, 2026"
    assert i18n.format_date(DAY, "dd/MM/yyyy") == "27/11/2026"
    assert i18n.format_date(MOMENT) == "27 thg 11, 2026"


def test_dates_in_english() -> None:
    with i18n.use_locale("en"):
        assert i18n.babel_locale().language == "en"
        assert i18n.format_date(DAY) == "Nov 27, 2026"
        assert i18n.format_date(DAY, "short") == "11/27/26"
        assert i18n.format_date(DAY, "long") == "November 27, 2026"


def test_datetime_is_shown_in_vietnam_time() -> None:
    assert i18n.format_datetime(MOMENT) == "08:30:00 27 thg 11, 2026"
    assert i18n.format_datetime(MOMENT, format="short") == "08:30 27/11/26"
    assert i18n.format_time(MOMENT) == "08:30"
    assert i18n.format_datetime(MOMENT, tz="UTC", format="short") == "01:30 27/11/26"
    with i18n.use_locale("en"):
        # CLDR puts a narrow no-break space before AM/PM
        assert i18n.format_datetime(MOMENT).replace("\u202f", " ") == "Nov 27, 2026, 8:30:00 AM"
        assert i18n.format_time(MOMENT).replace("\u202f", " ") == "8:30 AM"
    late = dt.datetime(2026, 11, 27, 20, 0, tzinfo=dt.UTC)  # already the next day in Vietnam
    assert i18n.format_datetime(late, format="short") == "03:00 28/11/26"


def test_naive_datetimes_are_refused() -> None:
    naive = dt.datetime(2026, 11, 27, 8, 30)  # noqa: DTZ001 - on purpose
    with pytest.raises(ValueError, match="naive"):
        i18n.format_datetime(naive)
    with pytest.raises(ValueError, match="naive"):
        i18n.format_time(naive)
    assert i18n.format_time(dt.time(8, 30)) == "08:30"


def test_numbers() -> None:
    assert i18n.format_number(1234567) == "1.234.567"
    assert i18n.format_decimal(1234567.5) == "1.234.567,5"
    assert i18n.format_decimal(Decimal("0.25")) == "0,25"
    assert i18n.format_percent(0.25) == "25%"
    with i18n.use_locale("en"):
        assert i18n.format_number(1234567) == "1,234,567"
        assert i18n.format_decimal(1234567.5) == "1,234,567.5"
        assert i18n.format_percent(0.256) == "26%"


def test_relative_days() -> None:
    assert i18n.format_relative_days(0) == "hôm nay"
    assert i18n.format_relative_days(3) == "sau 3 ngày nữa"
    assert i18n.format_relative_days(-3) == "3 ngày trước"
    assert i18n.format_relative_days(45) == "sau 45 ngày nữa"  # never rounded to months
    with i18n.use_locale("en"):
        assert i18n.format_relative_days(0) == "today"
        assert i18n.format_relative_days(3) == "in 3 days"
        assert i18n.format_relative_days(1) == "in 1 day"
        assert i18n.format_relative_days(-3) == "3 days ago"
        assert i18n.format_relative_days(-400) == "400 days ago"
