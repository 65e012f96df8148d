"""Languages: every string a reader sees is marked for translation and translated into German;
the reader's language comes from their account, else their browser.

The template check reads each template's raw text (what Jinja passes through untouched) and
the attributes people read (title, alt, placeholder, aria-label): any word there is a string
nobody marked."""

import ast
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment

from forum import PROJECT_ROOT
from forum.extensions import db
from forum.i18n import LOCALES, TRANSLATIONS, negotiate
from tests.conftest import login, make_user

TEMPLATES = PROJECT_ROOT / "templates"
# Attributes whose values people read (or hear, from a screen reader).
READ_ATTRIBUTES = re.compile(
    r"""\b(?:title|alt|placeholder|aria-label|aria-description)\s*=\s*(["'])(.*?)\1""", re.S
)
TAG = re.compile(r"<[^>]*>", re.S)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
ENTITY = re.compile(r"&[#\w]+;")
WORD = re.compile(r"[^\W\d_]{2,}")


def unmarked_text(source: str) -> list[str]:
    """Words in ``source`` that reach the reader without passing through gettext.

    The template's own text is kept and every ``{{ }}`` and ``{% %}`` becomes a mark with
    no letters, so tags split by an expression (``<a href="{{ url }}">``) stay whole."""
    pieces = []
    in_trans = after_block_begin = False
    # Only lexed, never rendered: autoescaping has nothing to do here.
    for _, kind, value in Environment(autoescape=True).lex(source):
        if after_block_begin and kind == "name":
            in_trans = value in ("trans", "pluralize") or (in_trans and value != "endtrans")
        after_block_begin = kind == "block_begin" or (after_block_begin and kind == "whitespace")
        if kind == "data" and not in_trans:
            pieces.append(value)
        elif kind in ("variable_begin", "block_begin"):
            pieces.append("\x01")
    text = HTML_COMMENT.sub(" ", "".join(pieces))
    found = [
        value.replace("\x01", "").strip()
        for _, value in READ_ATTRIBUTES.findall(text)
        if WORD.search(value)
    ]
    text = ENTITY.sub(" ", TAG.sub(" ", text)).replace("\x01", " ")
    found.extend(part.strip() for part in text.split("\n") if WORD.search(part))
    return found


# Calls whose words reach a reader, and which of their arguments carry them: flash
# messages, HTTP errors, the services' refusals (shown on pages and in JSON) and form
# validation messages. Operators' errors (settings, the command line) are English on purpose.
SPEAKING_CALLS = {
    "flash": (0,),
    "abort": (1,),
    "NotAllowed": (0,),
    "Conflict": (0,),
    "NotFound": (0,),
    "Forbidden": (0,),
    "ValidationError": (0,),
    "ValidationFailed": (0,),
    "InvalidToken": (0,),
}


def unmarked_python_strings(source: str) -> list[str]:
    """Text literals (plain or f-strings) passed straight to a call that shows them to a
    reader, or as a validator's ``message=``, instead of through gettext."""

    def text(node) -> list[ast.AST]:
        if isinstance(node, ast.JoinedStr):
            return [node]
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node] if WORD.search(node.value) else []
        if isinstance(node, ast.IfExp):
            return text(node.body) + text(node.orelse)
        return []

    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None) or ""
        # A form field's label and its hint (wtforms' StringField, SelectField, ...).
        positions = (0,) if name.endswith("Field") and name != "Field" else ()
        spoken = [node.args[i] for i in SPEAKING_CALLS.get(name, positions) if i < len(node.args)]
        words = ("message", "label", "description") if positions else ("message",)
        spoken += [k.value for k in node.keywords if k.arg in words]
        found += [f"line {n.lineno}: {ast.unparse(n)}" for arg in spoken for n in text(arg)]
    return found


def test_unmarked_python_strings_are_found():
    source = """
flash("Saved.", "success")
flash(gettext("Saved."), "success")
abort(404, "No such page.")
abort(404, gettext("No such page."))
raise NotAllowed(f"At most {n} characters.", field="name")
raise NotAllowed(_l("At most %(n)s characters.", n=n), field="name")
DataRequired(message="Enter it.")
name = StringField("Name", description=_l("Your name."))
"""
    assert unmarked_python_strings(source) == [
        "line 2: 'Saved.'",
        "line 4: 'No such page.'",
        "line 6: f'At most {n} characters.'",
        "line 8: 'Enter it.'",
        "line 9: 'Name'",
    ]


@pytest.mark.parametrize(
    "module",
    sorted(str(p.relative_to(PROJECT_ROOT)) for p in (PROJECT_ROOT / "forum").rglob("*.py")),
)
def test_every_python_message_is_marked(module):
    assert unmarked_python_strings((PROJECT_ROOT / module).read_text()) == []


def test_unmarked_text_finds_words_outside_gettext():
    assert unmarked_text("<p>Hello {{ name }}</p>") == ["Hello"]
    assert unmarked_text('<img alt="A cat" src="{{ src }}">') == ["A cat"]
    assert unmarked_text('<p>{{ _("Hello") }} · {{ n }}</p><!-- a note -->') == []
    assert unmarked_text("{% trans %}Hello{% endtrans %}") == []
    plural = "{% trans n=n %}{{ n }} report{% pluralize %}{{ n }} reports{% endtrans %} Left"
    assert unmarked_text(plural) == ["Left"]
    assert unmarked_text('<a class="button secondary" href="/x">{{ _("Go") }}</a>') == []


@pytest.mark.parametrize(
    "template",
    sorted(
        path.relative_to(TEMPLATES).as_posix()
        for path in TEMPLATES.rglob("*")
        if path.suffix in (".html", ".txt")
    ),
)
def test_every_template_string_is_marked(template):
    words = unmarked_text((TEMPLATES / template).read_text())
    assert not words, f"{template} has text not marked for translation: {words[:10]}"


def extracted_messages() -> set[str]:
    """Every msgid the code and templates use, as ``pybabel extract -F babel.cfg`` finds."""
    method_map = [
        ("forum/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "_l": None,
        "lazy_gettext": None,
        "_ln": (1, 2),
        "lazy_ngettext": (1, 2),
    }
    found = set()
    # Babel skips folders starting with "_" by default: templates/_macros holds strings too.
    extracted = extract_from_dir(
        str(PROJECT_ROOT),
        method_map,
        keywords=keywords,
        directory_filter=lambda path: not Path(path).name.startswith("."),
    )
    for _, _, message, _, _ in extracted:
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("locale", sorted(set(LOCALES) - {"en"}))
def test_every_message_is_translated(locale):
    po_path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    translated = {
        message.id if isinstance(message.id, str) else message.id[0]: message
        for message in catalog
        if message.id
    }
    used = extracted_messages()
    assert used, "nothing extracted: is babel.cfg's mapping right?"
    missing = sorted(m for m in used if m not in translated or not translated[m].string)
    assert not missing, f"{locale}: translate these in {po_path}: {missing[:20]}"
    fuzzy = sorted(m for m in used if m in translated and translated[m].fuzzy)
    assert not fuzzy, f"{locale}: check these fuzzy translations: {fuzzy[:20]}"

    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    mo_path = Path(po_path).with_suffix(".mo")
    assert mo_path.read_bytes() == compiled.getvalue(), (
        f"{mo_path} is older than its .po: run pybabel compile -d forum/translations"
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("de", "de"),
        ("de-AT,de;q=0.9,en;q=0.5", "de"),
        ("fr-FR,fr;q=0.9,de;q=0.8,en;q=0.7", "de"),
        ("fr-FR,fr;q=0.9", "en"),
        ("en-GB,en;q=0.9,de;q=0.8", "en"),
        ("*", "en"),
        ("de;q=0", "en"),
        ("garbage;;;q=x", "en"),
    ],
)
def test_negotiate(header, expected):
    assert negotiate(header) == expected


def test_the_browser_chooses_the_language(client):
    english = client.get("/").get_data(as_text=True)
    german = client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="en">' in english
    assert '<html lang="de">' in german.get_data(as_text=True)


def test_the_account_setting_wins_over_the_browser(client):
    user = make_user("greta")
    login(client, user)
    page = client.get("/account/language", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert """<option selected value="">Automatic (your browser's language)</option>""" in (
        page.get_data(as_text=True)
    )

    saved = client.post(
        "/account/language",
        data={"language": "de"},
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    html = saved.get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "Ihre Sprache ist gespeichert." in html
    db.session.refresh(user)
    assert user.locale == "de"

    back = client.post(
        "/account/language",
        data={"language": ""},
        headers={"Accept-Language": "en-US"},
        follow_redirects=True,
    )
    assert '<html lang="en">' in back.get_data(as_text=True)
    assert "Your language is saved." in back.get_data(as_text=True)
    db.session.refresh(user)
    assert user.locale is None


def test_an_unknown_language_is_refused_and_nothing_changes(client):
    user = make_user("greta")
    login(client, user)
    refused = client.post("/account/language", data={"language": "xx"})
    assert refused.status_code == 400
    assert "Not a valid choice" in refused.get_data(as_text=True)
    db.session.refresh(user)
    assert user.locale is None


def test_the_language_page_needs_an_account(client):
    response = client.get("/account/language")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
