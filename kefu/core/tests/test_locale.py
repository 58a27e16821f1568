"""The translation catalogues are complete, compiled, and keep every placeholder.

zh-Hant is the default language (DESIGN.md), so an untranslated string would show
English to every user; a stale .mo would hide a fixed translation.
"""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "kefu" / "locale"
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sd]|%[sd]")


def catalogue(lang: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("lang", ["zh_Hant", "zh_Hans"])
def test_every_string_is_translated(lang):
    po = catalogue(lang)
    untranslated = [e.msgid for e in po.untranslated_entries() if not e.obsolete]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"{lang}: {len(untranslated)} untranslated, e.g. {untranslated[:5]} (run make messages)"
    assert not fuzzy, f"{lang}: fuzzy entries {fuzzy[:5]}"


@pytest.mark.parametrize("lang", ["zh_Hant", "zh_Hans", "en"])
def test_placeholders_survive_translation(lang):
    for entry in catalogue(lang).translated_entries():
        if not entry.msgid_plural:
            wanted = sorted(PLACEHOLDER.findall(entry.msgid))
            assert sorted(PLACEHOLDER.findall(entry.msgstr)) == wanted, f"{lang}: {entry.msgid!r} → {entry.msgstr!r}"
            continue
        # Chinese has one plural form: it may use the count that only the plural msgid names,
        # but every other placeholder must survive and none may be invented.
        singular, plural = set(PLACEHOLDER.findall(entry.msgid)), set(PLACEHOLDER.findall(entry.msgid_plural))
        for text in entry.msgstr_plural.values():
            found = set(PLACEHOLDER.findall(text))
            assert singular & plural <= found <= singular | plural, f"{lang}: {entry.msgid!r} → {text!r}"


@pytest.mark.parametrize("lang", ["zh_Hant", "zh_Hans", "en"])
def test_compiled_catalogue_matches_the_source(lang):
    po = catalogue(lang)
    mo = polib.mofile(str(LOCALE / lang / "LC_MESSAGES" / "django.mo"))
    compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in mo}
    for entry in po.translated_entries():
        assert (entry.msgctxt, entry.msgid) in compiled, f"{lang}: {entry.msgid!r} missing from the .mo (compilemessages)"
        msgstr, plural = compiled[(entry.msgctxt, entry.msgid)]
        if entry.msgid_plural:
            assert {int(k): v for k, v in plural.items()} == {int(k): v for k, v in entry.msgstr_plural.items()}
        else:
            assert msgstr == entry.msgstr, f"{lang}: {entry.msgid!r} differs in the .mo (compilemessages)"


def test_the_three_languages_render():
    template = Template("{% load i18n %}{% translate 'Workbench' %}|{% translate 'Log in' %}")
    seen = {}
    for code in ("zh-hant", "zh-hans", "en"):
        with translation.override(code):
            seen[code] = template.render(Context())
    assert seen == {"zh-hant": "工作台|登入", "zh-hans": "工作台|登录", "en": "Workbench|Log in"}
