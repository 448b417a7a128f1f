"""The translation catalogs cover the code.

Messages are extracted from the source at test time (with babel.cfg's method map and keywords,
not from the possibly stale locales/dondoc.pot). The Vietnamese catalog must translate every
one of them, without fuzzy entries and with the same placeholders; the English catalog may
leave entries empty (the msgid is shown) but filled ones must keep the placeholders.

When this fails after you added or changed messages::

    bash scripts/catalogs.sh all      # extract, merge into vi/en, compile
    # translate the new/fuzzy entries in locales/vi/LC_MESSAGES/dondoc.po, then
    bash scripts/catalogs.sh compile

The checker itself is exercised on small synthetic catalogs below, one per failure mode.
"""

from __future__ import annotations

import re
import string
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import PoFileError, read_po

from views import i18n

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
EXPECTED_PLURAL_FORMS = {"vi": "nplurals=1; plural=0;", "en": "nplurals=2; plural=(n != 1);"}

MsgId = str | tuple[str, str]


@dataclass(frozen=True)
class Extracted:
    msgid: MsgId
    context: str | None
    where: str


# --------------------------------------------------------------------------- extraction


def extract(root: Path, cfg: Path = ROOT / "babel.cfg") -> list[Extracted]:
    """Messages in the code under ``root``, found as `pybabel extract -F babel.cfg` would."""
    with cfg.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(cfg))
    found = []
    # No default keywords: only those babel.cfg lists for each section count.
    for filename, lineno, message, _comments, context in extract_from_dir(
        root, method_map, options_map, keywords={}
    ):
        msgid: MsgId = (message[0], message[1]) if isinstance(message, tuple) else message
        found.append(Extracted(msgid, context, f"{filename}:{lineno}"))
    return found


# --------------------------------------------------------------------------- placeholders

_PERCENT = re.compile(r"%\((\w+)\)[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def placeholders(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(``{name}`` fields, ``%(name)s`` fields) of ``text``; ValueError if braces are broken."""
    braces = set()
    for _literal, field, _spec, _conversion in string.Formatter().parse(text):
        if field is not None:
            braces.add(re.split(r"[.\[]", field, maxsplit=1)[0])
    percent = set(_PERCENT.findall(text))
    return frozenset(braces), frozenset(percent)


def _describe(fields: tuple[frozenset[str], frozenset[str]]) -> str:
    braces, percent = fields
    return ", ".join([*(f"{{{f}}}" for f in sorted(braces)), *(f"%({f})s" for f in sorted(percent))])


def _label(msgid: MsgId, context: str | None) -> str:
    text = msgid[0] if isinstance(msgid, tuple) else msgid
    short = text if len(text) <= 60 else text[:57] + "..."
    return f"{context + ' | ' if context else ''}{short!r}"


def msgid_problems(messages: Iterable[Extracted]) -> list[str]:
    """Convention violations in the code: positional or broken placeholders."""
    problems = []
    for m in messages:
        for text in m.msgid if isinstance(m.msgid, tuple) else (m.msgid,):
            try:
                braces, _ = placeholders(text)
            except ValueError as exc:
                problems.append(f"{m.where}: broken braces in {text!r}: {exc}")
                continue
            positional = sorted(f for f in braces if f == "" or f.isdigit())
            if positional:
                problems.append(
                    f"{m.where}: positional placeholder in {text!r}; use named ones ({{name}})"
                )
    return problems


# --------------------------------------------------------------------------- catalog checks


def _plural_forms_header(po_text: str) -> str | None:
    match = re.search(r'^"Plural-Forms:\s*([^"\\]*)', po_text, re.MULTILINE)
    return " ".join(match.group(1).split()) if match else None


def _nplurals(header: str) -> int | None:
    match = re.search(r"nplurals\s*=\s*(\d+)", header)
    return int(match.group(1)) if match else None


def catalog_problems(
    po_text: str,
    lang: str,
    expected: Iterable[Extracted],
    *,
    complete: bool,
) -> list[str]:
    """Everything wrong with a ``.po`` (as text) for ``lang``, given the extracted messages.

    ``complete``: every extracted message needs a non-empty, non-fuzzy translation (vi).
    Placeholders must match wherever a translation is filled (all languages).
    """
    try:
        catalog: Catalog = read_po(BytesIO(po_text.encode("utf-8")), locale=lang,
                                   abort_invalid=True)
    except (PoFileError, ValueError, UnicodeError) as exc:
        return [f"{lang}: catalog is not parseable: {exc}"]

    problems = []
    header = _plural_forms_header(po_text)
    nplurals = _nplurals(header) if header else None
    if header is None:
        problems.append(f"{lang}: Plural-Forms header missing")
    elif lang in EXPECTED_PLURAL_FORMS and header != EXPECTED_PLURAL_FORMS[lang]:
        problems.append(
            f"{lang}: Plural-Forms is {header!r}, expected {EXPECTED_PLURAL_FORMS[lang]!r}"
        )

    for m in expected:
        entry = catalog.get(m.msgid, context=m.context)
        label = _label(m.msgid, m.context)
        if entry is None:
            if complete:
                problems.append(f"{lang}: {label} ({m.where}) is not in the catalog")
            continue
        if isinstance(m.msgid, tuple) != entry.pluralizable:
            problems.append(f"{lang}: {label} is plural in one of code/catalog but not the other")
            continue
        if complete:
            forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
            if not all(forms):
                problems.append(f"{lang}: {label} ({m.where}) has an empty translation")
            if entry.fuzzy:
                problems.append(f"{lang}: {label} is fuzzy; check it and remove the flag")
            if entry.pluralizable and nplurals is not None and len(forms) != nplurals:
                problems.append(
                    f"{lang}: {label} has {len(forms)} plural forms, nplurals={nplurals}"
                )

    for entry in catalog:
        if not entry.id:
            continue
        label = _label(entry.id, entry.context)
        pairs: list[tuple[str, str]]
        if entry.pluralizable:
            singular, plural = entry.id[0], entry.id[1]
            forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
            pairs = [
                (singular if i == 0 and len(forms) > 1 else plural, form)
                for i, form in enumerate(forms)
            ]
        else:
            pairs = [(entry.id, entry.string)]
        for source, translation in pairs:
            if not translation:
                continue
            try:
                want, got = placeholders(source), placeholders(translation)
            except ValueError as exc:
                problems.append(f"{lang}: {label}: broken braces: {exc}")
                continue
            if want != got:
                problems.append(
                    f"{lang}: {label}: placeholders differ: msgid has [{_describe(want)}], "
                    f"translation {translation!r} has [{_describe(got)}]"
                )
    return problems


def _po(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


# --------------------------------------------------------------------------- the real catalogs


@pytest.fixture(scope="module")
def extracted() -> list[Extracted]:
    return extract(ROOT)


def test_extraction_finds_the_code_messages(extracted: list[Extracted]) -> None:
    ids = {m.msgid for m in extracted}
    assert "today" in ids  # views/i18n.py, format_relative_days
    assert all(not m.where.startswith(("tests", ".venv")) for m in extracted)


def test_code_uses_named_placeholders(extracted: list[Extracted]) -> None:
    assert msgid_problems(extracted) == []


def test_vietnamese_catalog_translates_every_message(extracted: list[Extracted]) -> None:
    problems = catalog_problems(_po("vi").read_text("utf-8"), "vi", extracted, complete=True)
    assert problems == [], "\n".join(
        ["vi catalog out of date; run `bash scripts/catalogs.sh all` and translate:", *problems]
    )


def test_english_catalog_is_consistent(extracted: list[Extracted]) -> None:
    problems = catalog_problems(_po("en").read_text("utf-8"), "en", extracted, complete=False)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("lang", i18n.SUPPORTED)
def test_catalogs_compile(lang: str) -> None:
    translations = i18n.compile_po(_po(lang).read_bytes(), lang)
    expected = "hôm nay" if lang == "vi" else "today"
    assert translations.gettext("today") == expected


def test_babel_cfg_keywords_match_the_script() -> None:
    cfg = (ROOT / "babel.cfg").read_text("utf-8")
    script = (ROOT / "scripts" / "catalogs.sh").read_text("utf-8")
    keywords = "_ gettext ngettext:1,2 pgettext:1c,2 N_"
    assert cfg.count(f"keywords = {keywords}") == cfg.count("[python: ") == 6  # one per package
    assert " ".join(f"-k {k}" for k in keywords.split()) in script


# --------------------------------------------------------------------------- the checker itself

HEADER = {
    "vi": '"Language: vi\\n"\n"Plural-Forms: nplurals=1; plural=0;\\n"\n',
    "en": '"Language: en\\n"\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n',
}


def po(lang: str, body: str, *, header: str | None = None) -> str:
    head = HEADER[lang] if header is None else header
    return (
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n'
        + head + "\n" + textwrap.dedent(body)
    )


HELLO = Extracted("Hello, {name}", None, "x.py:1")
TASKS = Extracted(("{n} task", "{n} tasks"), None, "x.py:2")
OPEN = Extracted("Open", "verb", "x.py:3")
ALL = [HELLO, TASKS, OPEN]

GOOD_VI = """\
    msgid "Hello, {name}"
    msgstr "Xin chào, {name}"

    msgid "{n} task"
    msgid_plural "{n} tasks"
    msgstr[0] "{n} nhiệm vụ"

    msgctxt "verb"
    msgid "Open"
    msgstr "Mở"
"""


def test_checker_accepts_a_good_catalog() -> None:
    assert catalog_problems(po("vi", GOOD_VI), "vi", ALL, complete=True) == []


def test_checker_fails_on_a_missing_message() -> None:
    text = po("vi", GOOD_VI.replace('msgid "Hello, {name}"\n    msgstr "Xin chào, {name}"', ""))
    problems = catalog_problems(text, "vi", ALL, complete=True)
    assert len(problems) == 1 and "'Hello, {name}'" in problems[0] and "not in the catalog" in problems[0]


def test_checker_fails_on_a_missing_context() -> None:
    text = po("vi", GOOD_VI.replace('msgctxt "verb"\n', ""))
    problems = catalog_problems(text, "vi", ALL, complete=True)
    assert len(problems) == 1 and "verb | 'Open'" in problems[0]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('msgstr "Xin chào, {name}"', 'msgstr ""'),
        ('msgstr[0] "{n} nhiệm vụ"', 'msgstr[0] ""'),
    ],
)
def test_checker_fails_on_an_empty_translation(old: str, new: str) -> None:
    problems = catalog_problems(po("vi", GOOD_VI.replace(old, new)), "vi", ALL, complete=True)
    assert len(problems) == 1 and "empty translation" in problems[0]


def test_checker_fails_on_a_fuzzy_entry() -> None:
    text = po("vi", GOOD_VI.replace('msgid "Hello', '#, fuzzy\n    msgid "Hello'))
    problems = catalog_problems(text, "vi", ALL, complete=True)
    assert len(problems) == 1 and "fuzzy" in problems[0]


@pytest.mark.parametrize(
    ("old", "new", "detail"),
    [
        ('"Xin chào, {name}"', '"Xin chào, {ten}"', "{ten}"),  # renamed
        ('"Xin chào, {name}"', '"Xin chào"', "translation 'Xin chào' has []"),  # dropped
        ('"Xin chào, {name}"', '"Xin chào, {name} {agency}"', "{agency}"),  # added
        ('"Xin chào, {name}"', '"Xin chào, %(name)s"', "%(name)s"),  # other style
        ('"Xin chào, {name}"', '"Xin chào, {name"', "broken braces"),
        ('"{n} nhiệm vụ"', '"nhiều nhiệm vụ"', "'nhiều nhiệm vụ' has []"),  # plural form
    ],
)
def test_checker_fails_on_placeholder_mismatch(old: str, new: str, detail: str) -> None:
    problems = catalog_problems(po("vi", GOOD_VI.replace(old, new)), "vi", ALL, complete=True)
    assert len(problems) == 1, problems
    assert detail in problems[0]


def test_checker_compares_percent_placeholders() -> None:
    body = 'msgid "%(count)d left"\nmsgstr "còn %(so)d"\n'
    problems = catalog_problems(po("vi", body), "vi", [], complete=True)
    assert len(problems) == 1 and "%(count)s" in problems[0] and "%(so)s" in problems[0]


def test_checker_fails_on_an_unparseable_catalog() -> None:
    text = po("vi", GOOD_VI + "\nthis is not a po line\n")
    problems = catalog_problems(text, "vi", ALL, complete=True)
    assert len(problems) == 1 and "not parseable" in problems[0]


def test_checker_fails_without_plural_forms_header() -> None:
    problems = catalog_problems(po("vi", GOOD_VI, header='"Language: vi\\n"\n'), "vi", ALL,
                                complete=True)
    assert problems == ["vi: Plural-Forms header missing"]


def test_checker_fails_on_wrong_vietnamese_plural_forms() -> None:
    header = '"Language: vi\\n"\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n'
    problems = catalog_problems(po("vi", GOOD_VI, header=header), "vi", ALL, complete=True)
    # the header, and the plural entry now lacks its second form
    assert len(problems) == 2, problems
    assert "Plural-Forms is 'nplurals=2; plural=(n != 1);'" in problems[0]
    assert "'{n} task'" in problems[1]


def test_checker_flags_plural_mismatch_between_code_and_catalog() -> None:
    singular_tasks = Extracted("{n} task", None, "x.py:2")
    problems = catalog_problems(po("vi", GOOD_VI), "vi", [HELLO, singular_tasks, OPEN],
                                complete=True)
    assert len(problems) == 1 and "plural" in problems[0]


def test_checker_lets_english_fall_back_but_checks_filled_entries() -> None:
    empty_en = """\
        msgid "Hello, {name}"
        msgstr ""

        msgid "{n} task"
        msgid_plural "{n} tasks"
        msgstr[0] ""
        msgstr[1] ""
    """
    assert catalog_problems(po("en", empty_en), "en", ALL, complete=False) == []
    bad = empty_en.replace('msgstr[1] ""', 'msgstr[1] "tasks"')
    problems = catalog_problems(po("en", bad), "en", ALL, complete=False)
    assert len(problems) == 1 and "'tasks' has []" in problems[0]
    # and for English the singular form is compared with the singular msgid
    ok = empty_en.replace('msgstr[0] ""', 'msgstr[0] "one task ({n})"')
    assert catalog_problems(po("en", ok), "en", ALL, complete=False) == []


def test_extract_uses_babel_cfg_keywords(tmp_path: Path) -> None:
    (tmp_path / "handlers").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "handlers" / "demo.py").write_text(
        textwrap.dedent("""\
            from views.i18n import N_, _, gettext, ngettext, pgettext
            LABEL = N_("Overdue")
            def f(n, name):
                a = _("Hello, {name}").format(name=name)
                b = gettext("Bye")
                c = ngettext("{n} task", "{n} tasks", n).format(n=n)
                d = pgettext("verb", "Open")
                e = ugettext("not a keyword of ours")
                return a, b, c, d, e
        """),
        encoding="utf-8",
    )
    (tmp_path / "tests" / "test_x.py").write_text('_("not extracted from tests")\n', "utf-8")
    found = {(m.msgid, m.context) for m in extract(tmp_path)}
    assert found == {
        ("Overdue", None),
        ("Hello, {name}", None),
        ("Bye", None),
        (("{n} task", "{n} tasks"), None),
        ("Open", "verb"),
    }


def test_msgid_problems_flags_positional_placeholders() -> None:
    bad = [Extracted("Hello, {}", None, "x.py:1"), Extracted("{0} tasks", None, "x.py:2"),
           Extracted("Hello, {name", None, "x.py:3"), HELLO]
    problems = msgid_problems(bad)
    assert len(problems) == 3
    assert "positional" in problems[0] and "positional" in problems[1]
    assert "broken braces" in problems[2]
