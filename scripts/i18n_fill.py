"""Complete the catalogues after `makemessages`: zh_Hans from zh_Hant, en from the msgids.

zh_Hant is translated by hand (kefu/locale/zh_Hant/LC_MESSAGES/django.po). For every
entry whose zh_Hans translation is missing or fuzzy, the zh_Hant text is converted
with OpenCC (tw2sp: Taiwan phrasing to mainland, e.g. 匯入 → 导入); a translator can then edit zh_Hans and the edit is kept, since
only empty or fuzzy entries are filled. The English catalogue repeats the msgids.
"""

import sys
from pathlib import Path

import opencc
import polib

LOCALE = Path(__file__).resolve().parent.parent / "kefu" / "locale"


def main() -> int:
    hant = polib.pofile(str(LOCALE / "zh_Hant" / "LC_MESSAGES" / "django.po"))
    by_key = {(e.msgctxt, e.msgid): e for e in hant}
    t2s = opencc.OpenCC("tw2sp")
    missing = [e.msgid for e in hant if not e.translated() and not e.obsolete]

    hans = polib.pofile(str(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    for entry in hans:
        source = by_key.get((entry.msgctxt, entry.msgid))
        if source is None or not source.translated():
            continue
        if entry.translated() and "fuzzy" not in entry.flags:
            continue
        if entry.msgid_plural:
            entry.msgstr_plural = {k: t2s.convert(v) for k, v in source.msgstr_plural.items()}
        else:
            entry.msgstr = t2s.convert(source.msgstr)
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    hans.save()

    en = polib.pofile(str(LOCALE / "en" / "LC_MESSAGES" / "django.po"))
    for entry in en:
        if entry.msgid_plural:
            entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
        else:
            entry.msgstr = entry.msgid
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    en.save()

    if missing:
        print(f"zh_Hant: {len(missing)} entries still need a translation:", file=sys.stderr)
        for msgid in missing[:50]:
            print(f"  {msgid!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
