"""The words of the page's script (forum/static/js/discussion.js), from the same catalogue
as the pages.

Every string the script shows is listed here, marked for ``pybabel extract``. Each page
carries them, translated into its language, as a JSON data block (``<script
type="application/json" id="i18n-strings">`` in base.html: data, never run, so the CSP
allows it). The script looks a string up by its English text and falls back to that text,
so a page without the block still works, in English. Plurals are ``[one, other]`` pairs,
chosen in the script with ``Intl.PluralRules`` for the page's ``<html lang>``; numbers go
into the ``%(name)s`` placeholders there, written with ``Intl.NumberFormat``."""

import weakref

from flask_babel import force_locale, get_translations, gettext, ngettext

# Placeholders come back as written: the script fills them.
_KEEP = {name: f"%({name})s" for name in ("count", "index", "max", "shown", "status", "total")}


def _singular() -> list[str]:
    return [
        gettext("Something went wrong (error %(status)s). Your draft is kept.", **_KEEP),
        gettext("Log in", **_KEEP),
        gettext("Your unsent draft is restored.", **_KEEP),
        gettext("Discard draft", **_KEEP),
        gettext("Preview", **_KEEP),
        gettext("Posted.", **_KEEP),
        gettext("The server could not be reached. Your draft is kept; try again.", **_KEEP),
        gettext("The current text", **_KEEP),
        gettext("Comments", **_KEEP),
        gettext("Cancel", **_KEEP),
        gettext("Replies shown.", **_KEEP),
        gettext("Replies folded.", **_KEEP),
        gettext("New", **_KEEP),
        gettext("1 new since your last visit", **_KEEP),
        gettext("%(count)s new since your last visit — go to %(index)s of %(total)s", **_KEEP),
        gettext("Show", **_KEEP),
        gettext("Show more replies", **_KEEP),
        gettext("Reported", **_KEEP),
        gettext("just now", **_KEEP),
    ]


def _plural(n: int) -> list[str]:
    return [
        ngettext("%(count)s character left", "%(count)s characters left", n, **_KEEP),
        ngettext(
            "%(count)s character over the limit of %(max)s",
            "%(count)s characters over the limit of %(max)s",
            n,
            **_KEEP,
        ),
        ngettext("Hide %(count)s reply", "Hide %(count)s replies", n, **_KEEP),
        ngettext("Show %(count)s reply (folded)", "Show %(count)s replies (folded)", n, **_KEEP),
        ngettext("%(count)s new comment", "%(count)s new comments", n, **_KEEP),
        ngettext("%(count)s new comment shown.", "%(count)s new comments shown.", n, **_KEEP),
        ngettext("%(count)s more reply shown.", "%(count)s more replies shown.", n, **_KEEP),
        ngettext("Discussion (%(shown)s comment)", "Discussion (%(shown)s comments)", n, **_KEEP),
    ]


# By the page's catalogue (Flask-Babel keeps one per language and app): every page carries
# these, and looking up each of them costs a millisecond or two per request.
_by_catalogue: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


def script_strings() -> dict[str, str | list[str]]:
    """English text → its translation in the page's language (plurals: ``[one, other]``,
    keyed by the English singular), once per catalogue. English and German have these two
    forms."""
    catalogue = get_translations()
    strings = _by_catalogue.get(catalogue)
    if strings is None:
        strings = _by_catalogue[catalogue] = _script_strings()
    return strings


def _script_strings() -> dict[str, str | list[str]]:
    with force_locale("en"):
        singular_keys, plural_keys = _singular(), _plural(1)
    strings: dict[str, str | list[str]] = dict(zip(singular_keys, _singular(), strict=True))
    for key, one, other in zip(plural_keys, _plural(1), _plural(2), strict=True):
        strings[key] = [one, other]
    return strings
