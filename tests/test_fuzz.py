"""Fuzzing every route: random and hostile values in paths, queries and forms never make a
5xx, for an anonymous visitor, a reader or a moderator.

The routes come from the app's URL map (a new route is fuzzed without touching this file);
the form field names from every Flask-WTF form the app defines, plus the names views read
by hand. Values mix known-good ones (an existing slug, username, comment id), so requests
reach the services, with hostile ones: NUL, XML-invalid characters, huge and negative
numbers, very long strings, ``../``, ``%``. CSRF is off in the test config.

Bounded and deterministic (``derandomize``): the same requests on every run, well under a
minute. Marked ``slow`` so a quick run can skip it (``-m "not slow"``)."""

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
    "spam",
    "indefinite",
    "grant",
    "//evil.example",
]
KNOWN = ["fuzzed", "alice", "mod", "fuzz-series", "1", "2", "3", "4", "oldest", "top"]

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


def _form_field_names() -> list[str]:
    """Every field name of every Flask-WTF form the app defines."""
    names: set[str] = set(EXTRA_FIELDS)
    stack = list(FlaskForm.__subclasses__())
    while stack:
        form = stack.pop()
        stack.extend(form.__subclasses__())
        for attr in dir(form):
            if isinstance(getattr(form, attr, None), UnboundField):
                names.add(attr)
    return sorted(names)


_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _routes(method: str) -> list[str]:
    """Every rule answering ``method`` (static files too: ``../`` must not escape)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "INSTANCE_PATH": mkdtemp(),
            "DATABASE_URL": "sqlite://",
        }
    )
    return sorted({rule.rule for rule in app.url_map.iter_rules() if method in rule.methods})


def _fill(rule: str, data) -> str:
    """The rule with each variable replaced by a drawn value (percent-encoded, as a
    browser would send it)."""
    return _VARIABLE.sub(lambda _: quote(data.draw(values), safe="") or "x", rule)


def _query(data) -> str:
    pairs = data.draw(st.lists(st.tuples(st.sampled_from(QUERY_NAMES), values), max_size=3))
    return ("?" + urlencode(pairs)) if pairs else ""


@pytest.fixture
def world(app):
    """An article with a thread, a hidden comment, a series, a reader and a moderator."""
    mod = make_user("mod", role=Role.MODERATOR)
    alice = make_user("alice")
    series = make_series(slug="fuzz-series")
    article = make_article(slug="fuzzed", series=series, position=1)
    first = threads.post_comment(alice, article, "First words")
    threads.post_comment(mod, article, "A reply", parent_id=first.id)
    hidden = threads.post_comment(alice, article, "Hidden words")
    moderation.hide_comment(mod, hidden, "spam")
    moderation.report_comment(mod, first, "spam", "a report")
    return app, {"anonymous": None, "reader": alice, "moderator": mod}


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


@pytest.mark.parametrize("rule", _routes("GET"))
@FUZZ_SETTINGS
@given(data=st.data())
def test_fuzz_every_get_route_never_answers_5xx(world, rule, data):
    app, people = world
    url = _fill(rule, data) + _query(data)
    who = data.draw(st.sampled_from(sorted(people)), label="viewer")
    # The script's requests (Accept: application/json) take other paths through the views.
    accept = data.draw(st.sampled_from(ACCEPT), label="accept")
    response = _client(app, people, who).get(url, headers={"Accept": accept})
    _assert_no_5xx(response, "GET", url)


@pytest.mark.parametrize("rule", _routes("POST"))
@FUZZ_SETTINGS
@given(data=st.data())
def test_fuzz_every_post_route_never_answers_5xx(world, rule, data):
    app, people = world
    url = _fill(rule, data) + _query(data)
    fields = data.draw(
        st.dictionaries(st.sampled_from(_form_field_names()), values, max_size=6), label="form"
    )
    who = data.draw(st.sampled_from(sorted(people)), label="viewer")
    accept = data.draw(st.sampled_from(ACCEPT), label="accept")
    response = _client(app, people, who).post(url, data=fields, headers={"Accept": accept})
    _assert_no_5xx(response, "POST", url, fields)
