"""Fuzzing every route: random and hostile values in paths, queries and forms never make a
5xx, for an anonymous visitor and every role (reader, author, moderator, admin).

The routes come from the app's URL map (a new route is fuzzed without touching this file);
the form field names from every Flask-WTF form the app defines, plus the names views read
by hand. Values mix known-good ones (an existing slug, username, comment id), so requests
reach the services, with hostile ones: NUL, XML-invalid characters, huge and negative
numbers, very long strings, ``../``, ``%``. CSRF is off in the test config.

Bounded and deterministic (``derandomize``): the same requests on every run, well under a
minute. Marked ``slow`` so a quick run can skip it (``-m "not slow"``)."""

import inspect
import re
from tempfile import mkdtemp
from urllib.parse import quote, urlencode

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from wtforms.fields.core import UnboundField

from forum import create_app
from forum.models import Role
from forum.services import moderation, threads
from tests.conftest import login, make_article, make_series, make_user

pytestmark = pytest.mark.slow

HOSTILE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\uffff",
    "\ufffe",
    "\x01\x1b",
    "%",
    "%00",
    "%zz",
    "../",
    "../../etc/passwd",
    "..%2f",
    "0",
    "-1",
    "1e3",
    "NaN",
    "2147483647",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999",
    "x" * 5000,
    "é\u0301",
    "👩\u200d🔬",
    "\u202eevil",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "1970-01-01T00:00:00",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00+14:00",
    "spam",
    "indefinite",
    "grant",
    "//evil.example",
]
KNOWN = [
    "fuzzed",
    "alice",
    "mod",
    "admin",
    "author",
    "fuzz-series",
    "1",
    "2",
    "3",
    "4",
    "oldest",
    "top",
]

# Hostile values are drawn twice as often as each of the others.
values = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from(HOSTILE),
    st.sampled_from(KNOWN),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=40),
)

QUERY_NAMES = ["page", "sort", "after", "next", "moderator", "action", "tab", "q", "format"]
# Names views read without a form (request.form.get), besides every form's fields.
EXTRA_FIELDS = ["next", "article", "until", "parent_id", "idempotency_key"]

# An app only for its URL map and view functions (no database is touched).
MAP_APP = create_app(
    {"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": mkdtemp(), "DATABASE_URL": "sqlite://"}
)


def _form_fields() -> dict[str, set[str]]:
    """The field names of every Flask-WTF form the app defines, by form class name."""
    fields: dict[str, set[str]] = {}
    stack = list(FlaskForm.__subclasses__())
    while stack:
        form = stack.pop()
        stack.extend(form.__subclasses__())
        fields[form.__name__] = {
            attr for attr in dir(form) if isinstance(getattr(form, attr, None), UnboundField)
        }
    return fields


FORM_FIELDS = _form_fields()
ALL_FIELDS = sorted(set(EXTRA_FIELDS).union(*FORM_FIELDS.values()))


def _names_in(source: str) -> set[str]:
    names = set(re.findall(r"request\.form\.get\(\"(\w+)\"\)", source))
    for form_name in re.findall(r"\b(\w+Form)\b", source):
        names |= FORM_FIELDS.get(form_name, set())
    return names


def _fields_of(endpoint: str) -> list[str]:
    """The fields a route reads, found in its view's source (the forms it names, its
    ``request.form.get(...)`` calls), else in its module's: so most draws fill fields the
    view really reads."""
    view = inspect.unwrap(MAP_APP.view_functions[endpoint])
    names = _names_in(inspect.getsource(view)) or _names_in(
        inspect.getsource(inspect.getmodule(view))
    )
    return sorted(names) or ALL_FIELDS


def _routes(method: str) -> list[tuple[str, str]]:
    """Every (rule, endpoint) answering ``method`` (static files too: ``../`` must not
    escape the folder)."""
    return sorted(
        {
            (rule.rule, rule.endpoint)
            for rule in MAP_APP.url_map.iter_rules()
            if method in rule.methods
        }
    )


_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _fill(rule: str, data) -> str:
    """The rule with each variable replaced by a drawn value (percent-encoded, as a
    browser would send it)."""
    return _VARIABLE.sub(lambda _: quote(data.draw(values), safe="") or "x", rule)


def _query(data) -> str:
    pairs = data.draw(st.lists(st.tuples(st.sampled_from(QUERY_NAMES), values), max_size=3))
    return ("?" + urlencode(pairs)) if pairs else ""


@pytest.fixture
def world(app):
    """An article with a thread, a hidden comment, a series; every kind of account."""
    mod = make_user("mod", role=Role.MODERATOR)
    alice = make_user("alice")
    series = make_series(slug="fuzz-series")
    article = make_article(slug="fuzzed", series=series, position=1)
    first = threads.post_comment(alice, article, "First words")
    threads.post_comment(mod, article, "A reply", parent_id=first.id)
    hidden = threads.post_comment(alice, article, "Hidden words")
    moderation.hide_comment(mod, hidden, "spam")
    moderation.report_comment(mod, first, "spam", "a report")
    viewers = {"anonymous": None, "reader": alice, "moderator": mod, "author": article.author}
    viewers["admin"] = make_user("admin", role=Role.ADMIN)
    return app, viewers


# Per route: about 35 GET and 37 POST routes, so some 1,000 requests in all.
FUZZ_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


ACCEPT = ["text/html", "application/json", "*/*"]


def _client(app, people, who):
    client = app.test_client()
    if people[who] is not None:
        login(client, people[who])
    return client


def _assert_no_5xx(response, method: str, url: str, form=None) -> None:
    event(f"{method} {response.status_code}")  # --hypothesis-show-statistics
    assert response.status_code < 500, (method, url, form, response.status_code)


@pytest.mark.parametrize(("rule", "endpoint"), _routes("GET"))
@FUZZ_SETTINGS
@given(data=st.data())
def test_fuzz_every_get_route_never_answers_5xx(world, rule, endpoint, data):
    app, people = world
    url = _fill(rule, data) + _query(data)
    who = data.draw(st.sampled_from(sorted(people)), label="viewer")
    # The script's requests (Accept: application/json) take other paths through the views.
    accept = data.draw(st.sampled_from(ACCEPT), label="accept")
    response = _client(app, people, who).get(url, headers={"Accept": accept})
    _assert_no_5xx(response, "GET", url)


@pytest.mark.parametrize(("rule", "endpoint"), _routes("POST"))
@FUZZ_SETTINGS
@given(data=st.data())
def test_fuzz_every_post_route_never_answers_5xx(world, rule, endpoint, data):
    app, people = world
    url = _fill(rule, data) + _query(data)
    # The route's own fields, each present or not, and now and then a stray one.
    own = st.fixed_dictionaries({}, optional={name: values for name in _fields_of(endpoint)})
    stray = st.dictionaries(st.sampled_from(ALL_FIELDS), values, max_size=2)
    fields = data.draw(st.tuples(stray, own).map(lambda pair: {**pair[0], **pair[1]}), label="form")
    who = data.draw(st.sampled_from(sorted(people)), label="viewer")
    accept = data.draw(st.sampled_from(ACCEPT), label="accept")
    response = _client(app, people, who).post(url, data=fields, headers={"Accept": accept})
    _assert_no_5xx(response, "POST", url, fields)


# The classes that broke the first version, sent to every route and every field at once,
# by every kind of account: a sweep that doesn't depend on what the fuzzer happens to draw.
SWEEP = ["a\x00b", "\uffff\ufffe\x01", "2147483648", "99999999999999999999", "-1", "../%"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_route_takes_each_hostile_value_everywhere_without_a_5xx(world, method):
    app, people = world
    for rule, endpoint in _routes(method):
        for value in SWEEP:
            url = _VARIABLE.sub(lambda _, v=value: quote(v, safe=""), rule)
            fields = None
            if method == "GET":
                url += "?" + urlencode([(name, value) for name in QUERY_NAMES])
            else:  # the form alone, so a refused query doesn't hide what the form does
                fields = dict.fromkeys(_fields_of(endpoint), value)
            for who in people:
                response = _client(app, people, who).open(url, method=method, data=fields)
                assert response.status_code < 500, (method, url, who, fields)
