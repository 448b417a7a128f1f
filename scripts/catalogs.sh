#!/usr/bin/env bash
# Translation catalogs of the "dondoc" domain (msgids are English; vi is translated in full).
#
#   bash scripts/catalogs.sh extract   # code -> locales/dondoc.pot
#   bash scripts/catalogs.sh update    # .pot -> locales/{vi,en}/LC_MESSAGES/dondoc.po (merge)
#   bash scripts/catalogs.sh compile   # .po  -> .mo (git-ignored; fuzzy entries left out)
#   bash scripts/catalogs.sh all       # extract + update + compile
#
# After `update`, translate new/fuzzy entries in locales/vi/LC_MESSAGES/dondoc.po (remove the
# "#, fuzzy" flag once checked), then `compile`, then `pytest tests/test_catalogs.py`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ -x "$ROOT/.venv/bin/pybabel" ]]; then
    PYBABEL="$ROOT/.venv/bin/pybabel"
elif command -v pybabel >/dev/null 2>&1; then
    PYBABEL="$(command -v pybabel)"
else
    echo "catalogs.sh: pybabel not found (pip install babel, or create .venv)" >&2
    exit 1
fi

DOMAIN=dondoc
LOCALES_DIR=locales
POT="$LOCALES_DIR/$DOMAIN.pot"
LANGS=(vi en)
# Keep in step with babel.cfg (which also lists them per section).
KEYWORDS=(-k _ -k gettext -k ngettext:1,2 -k pgettext:1c,2 -k N_)
TMP_FILES=()
trap 'rm -f "${TMP_FILES[@]}"' EXIT

extract() {
    local tmp
    tmp="$(mktemp "${TMPDIR:-/tmp}/dondoc.pot.XXXXXX")"
    TMP_FILES+=("$tmp")
    "$PYBABEL" -q extract -F babel.cfg --no-default-keywords "${KEYWORDS[@]}" \
        --no-location --sort-output --width 100 \
        --project dondoc --version 0.1 --msgid-bugs-address "dondoc@localhost" \
        --copyright-holder "dondoc" \
        -o "$tmp" .
    # Keep the old template when only its creation date would change (no churn in git).
    if [[ -f "$POT" ]] && diff -q \
        <(grep -v '^"POT-Creation-Date:' "$POT") \
        <(grep -v '^"POT-Creation-Date:' "$tmp") >/dev/null; then
        echo "$POT: unchanged"
    else
        cp "$tmp" "$POT"
        echo "$POT: $(grep -c '^msgid "' "$POT") entries (incl. header), written"
    fi
}

update() {
    [[ -f "$POT" ]] || { echo "catalogs.sh: $POT missing; run extract first" >&2; exit 1; }
    local lang po
    for lang in "${LANGS[@]}"; do
        po="$LOCALES_DIR/$lang/LC_MESSAGES/$DOMAIN.po"
        if [[ -f "$po" ]]; then
            "$PYBABEL" update -D "$DOMAIN" -i "$POT" -d "$LOCALES_DIR" -l "$lang" \
                --width 100 --ignore-obsolete --no-fuzzy-matching
        else
            "$PYBABEL" init -D "$DOMAIN" -i "$POT" -d "$LOCALES_DIR" -l "$lang" --width 100
            # A new catalog's header is flagged fuzzy, which stops `compile`; drop that flag.
            sed -i '0,/^#, fuzzy$/{/^#, fuzzy$/d}' "$po"
        fi
    done
}

compile() {
    local lang
    for lang in "${LANGS[@]}"; do
        "$PYBABEL" compile -D "$DOMAIN" -d "$LOCALES_DIR" -l "$lang" --statistics
    done
}

case "${1:-all}" in
    extract) extract ;;
    update) update ;;
    compile) compile ;;
    all) extract; update; compile ;;
    *) echo "usage: $0 {extract|update|compile|all}" >&2; exit 2 ;;
esac
