"""Writing and editing articles in the browser: the form, the preview, the rules (the same as
the importer's), who may edit what, and the sanitizer on every article body."""

import lxml.html
import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Article, Follow, Role, Series, utcnow
from forum.services import article_editor, article_rules, sanctions
from forum.services.errors import Forbidden, ValidationFailed
from tests.conftest import client_as, csrf_token_from, make_article, make_series, make_user

# --- helpers -----------------------------------------------------------------------------


@pytest.fixture
def people(app):
    """Two authors, a reader and a moderator."""
    return {
        "ann": make_user("ann", role=Role.AUTHOR),
        "ben": make_user("ben", role=Role.AUTHOR),
        "rex": make_user("rex"),
        "mod": make_user("mod", role=Role.MODERATOR),
    }


def form_data(**fields) -> dict:
    data = {"title": "Cells and Signals", "body": "How cells talk.", "summary": "", "slug": ""}
    data.update(fields)
    return data


def stored(slug: str) -> Article | None:
    db.session.rollback()
    return db.session.execute(select(Article).where(Article.slug == slug)).scalar_one_or_none()


def article_count() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count(Article.id))).scalar_one()


def doc_of(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def value_of(doc, name: str) -> str:
    [found] = doc.xpath(f'//*[@name="{name}"]')
    if found.tag == "textarea":
        return (found.text or "").lstrip("\n")
    if found.tag == "select":
        selected = found.xpath(".//option[@selected]")
        return selected[0].get("value") if selected else ""
    return found.get("value") or ""


def error_of(doc, name: str) -> str:
    found = doc.xpath(f'//*[@id="{name}-error"]')
    return found[0].text_content() if found else ""


# --- creating ----------------------------------------------------------------------------


def test_an_author_sees_the_empty_form(app, people):
    response = client_as(app, people["ann"]).get("/articles/new")
    assert response.status_code == 200
    doc = doc_of(response)
    for name in ("title", "slug", "summary", "series", "new_series", "position", "body"):
        assert doc.xpath(f'//*[@name="{name}"]'), name
    assert doc.xpath('//button[@name="preview"]')


def test_publishing_creates_the_article_and_its_author_follows_it(app, people):
    client = client_as(app, people["ann"])
    response = client.post(
        "/articles/new", data=form_data(summary="A short tour.", body="## Start\n\nHello.")
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/articles/cells-and-signals"
    article = stored("cells-and-signals")
    assert article.author_id == people["ann"].id
    assert article.summary == "A short tour."
    assert article.body_md == "## Start\n\nHello."
    assert "<h2>Start</h2>" in article.body_html  # the article profile keeps headings
    assert article.series is None and article.position is None
    follows = db.session.execute(
        select(Follow).where(Follow.article_id == article.id, Follow.user_id == people["ann"].id)
    ).all()
    assert len(follows) == 1
    page = client.get("/articles/cells-and-signals").get_data(as_text=True)
    assert "Cells and Signals" in page and "Hello." in page


def test_the_slug_is_suggested_from_the_title_and_kept_free(app, people):
    make_article(people["ben"], slug="cafe-cells")
    client = client_as(app, people["ann"])
    response = client.post("/articles/new", data=form_data(title="Café  Cells!"))
    assert response.headers["Location"] == "/articles/cafe-cells-2"
    response = client.post("/articles/new", data=form_data(title="新しい"))
    assert response.headers["Location"] == "/articles/article"


def test_preview_renders_the_body_fills_the_slug_and_saves_nothing(app, people):
    client = client_as(app, people["ann"])
    response = client.post(
        "/articles/new", data=form_data(body="Some **bold** words.", preview="1")
    )
    assert response.status_code == 200
    doc = doc_of(response)
    [preview] = doc.xpath('//section[contains(@class, "preview")]')
    assert preview.xpath(".//strong")[0].text == "bold"
    assert value_of(doc, "slug") == "cells-and-signals"  # the suggestion, to accept or change
    assert value_of(doc, "body") == "Some **bold** words."
    assert article_count() == 0


def test_a_new_series_is_created_and_the_article_is_its_first(app, people):
    client = client_as(app, people["ann"])
    response = client.post("/articles/new", data=form_data(new_series="Inner Life"))
    assert response.status_code == 302
    article = stored("cells-and-signals")
    assert article.series.title == "Inner Life"
    assert article.series.slug == "inner-life"
    assert article.position == 1


def test_typing_the_title_of_an_existing_series_uses_that_series(app, people):
    series = make_series("Inner Life")
    make_article(people["ann"], series=series, position=1)
    client = client_as(app, people["ann"])
    client.post("/articles/new", data=form_data(new_series="Inner Life"))
    article = stored("cells-and-signals")
    assert article.series_id == series.id
    assert article.position == 2
    assert db.session.execute(select(func.count(Series.id))).scalar_one() == 1


def test_an_empty_position_goes_after_the_series_last_article(app, people):
    series = make_series("Inner Life")
    make_article(people["ben"], series=series, position=4)
    client = client_as(app, people["ann"])
    client.post("/articles/new", data=form_data(series=str(series.id)))
    assert stored("cells-and-signals").position == 5


# --- bad input: 400, the draft kept, the error by its field -------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"title": ""}, "title", "title"),
        ({"title": "x" * 201}, "title", "at most 200"),
        ({"slug": "Not A Slug"}, "slug", "lower-case"),
        ({"slug": "double--hyphen"}, "slug", "lower-case"),
        ({"slug": "-leading"}, "slug", "lower-case"),
        ({"slug": "new"}, "slug", "address of a page"),
        ({"slug": "taken"}, "slug", "taken by"),
        ({"body": "   \n  "}, "body", "Write the article"),
        ({"summary": "s" * 1001}, "summary", "summary"),
        ({"position": "2"}, "position", "needs a series"),
        ({"position": "zero"}, "position", ""),
        ({"position": "0"}, "position", "from 1"),
        ({"position": "99999999999999999999"}, "position", "from 1"),
        ({"series": "{series}", "position": "1"}, "position", "is taken by"),
        ({"series": "{series}", "new_series": "Other"}, "new_series", "not both"),
        ({"series": "999"}, "series", "doesn't exist"),
        ({"series": "abc"}, "series", "doesn't exist"),
        ({"new_series": "n" * 201}, "new_series", "at most 200"),
    ],
    ids=lambda v: str(v)[:40] if not isinstance(v, dict) else "-".join(v),
)
def test_bad_input_is_refused_with_the_draft_kept(app, people, fields, field, words):
    series = make_series("Inner Life")
    make_article(people["ben"], series=series, position=1, slug="taken", title="Taken")
    before = article_count()
    fields = {k: v.replace("{series}", str(series.id)) for k, v in fields.items()}
    data = form_data(title="My Title", body="My *draft* body.", summary="My summary.")
    data.update(fields)
    response = client_as(app, people["ann"]).post("/articles/new", data=data)
    assert response.status_code == 400
    doc = doc_of(response)
    assert words.lower() in error_of(doc, field).lower()
    assert error_of(doc, field)
    for name in ("title", "body", "summary", "new_series"):
        assert value_of(doc, name) == data.get(name, "")
    if "series" in fields and fields["series"].isdigit() and fields["series"] != "999":
        assert value_of(doc, "series") == fields["series"]
    assert article_count() == before


def test_several_bad_fields_are_all_reported_at_once(app, people):
    response = client_as(app, people["ann"]).post(
        "/articles/new", data=form_data(title="", slug="Bad Slug", body="")
    )
    assert response.status_code == 400
    doc = doc_of(response)
    assert error_of(doc, "title") and error_of(doc, "slug") and error_of(doc, "body")


def test_a_body_over_the_configured_length_is_refused(app_factory):
    app = app_factory(ARTICLE_MAX_LENGTH=50)
    with app.app_context():
        ann = make_user("ann", role=Role.AUTHOR)
        response = client_as(app, ann).post("/articles/new", data=form_data(body="x" * 51))
        assert response.status_code == 400
        assert "at most 50" in error_of(doc_of(response), "body")


def test_an_article_longer_than_the_sites_request_limit_is_accepted_with_csrf_on(app_factory):
    """The site refuses requests over 64 KiB; the editor takes long articles, and the larger
    limit is in force before the CSRF check reads the form."""
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        ann = make_user("ann", role=Role.AUTHOR)
        client = client_as(app, ann)
        token = csrf_token_from(client.get("/articles/new").get_data(as_text=True))
        body = "A long paragraph. " * 4500  # about 80 KB
        assert len(body.encode()) > app.config["MAX_CONTENT_LENGTH"]
        response = client.post("/articles/new", data=form_data(body=body, csrf_token=token))
        assert response.status_code == 302
        # ...and the rest of the site keeps its limit.
        response = client.post("/logout", data={"csrf_token": token, "x": body})
        assert response.status_code == 413


@pytest.mark.parametrize("who", ["anonymous", "reader"])
def test_the_editors_larger_limit_is_only_for_people_with_an_authors_desk(app_factory, who):
    """The 2 MB limit was applied before login: anyone could make the site read 2 MB
    bodies. Without an author's desk the site's own 64 KiB limit answers first."""
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_article(slug="an-article")
        user = make_user("rita") if who == "reader" else None
        client = client_as(app, user)
        body = "A long paragraph. " * 4500  # about 80 KB
        for path in ("/articles/new", "/articles/an-article/edit"):
            response = client.post(path, data=form_data(body=body))
            assert response.status_code == 413, (path, response.status_code)
        assert article_count() == 1


def test_without_a_csrf_token_nothing_is_saved(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        ann = make_user("ann", role=Role.AUTHOR)
        response = client_as(app, ann).post("/articles/new", data=form_data())
        assert response.status_code == 400
        assert article_count() == 0


# --- the sanitizer -----------------------------------------------------------------------


def unsafe_parts(html: str) -> list[str]:
    """Script-capable elements, event handlers and non-web link targets in ``html``."""
    doc = lxml.html.fromstring(f"<div>{html}</div>")
    found = [el.tag for el in doc.xpath("//script | //iframe | //img | //object | //embed")]
    found += [f"@{name}" for el in doc.iter() for name in el.attrib if name.startswith("on")]
    found += [
        href
        for href in doc.xpath("//@href | //@src")
        if href.strip().lower().startswith(("javascript", "vbscript", "data"))
    ]
    return found


HOSTILE_BODY = (
    "<script>alert('x')</script>\n\n"
    '[click](javascript:alert(1)) and <a href="javascript:alert(2)">raw</a>\n\n'
    "<img src=x onerror=alert(3)>\n\n"
    '[digits](javascript:123) <iframe src="https://evil.example"></iframe>\n\n'
    "[fine](https://example.org/ok)"
)


def test_the_body_is_sanitized_like_a_comment(app, people):
    client = client_as(app, people["ann"])
    client.post("/articles/new", data=form_data(body=HOSTILE_BODY))
    html = stored("cells-and-signals").body_html
    assert "<script" not in html.lower()
    assert unsafe_parts(html) == []
    assert 'href="https://example.org/ok"' in html  # ordinary links survive
    # The editor's preview goes through the same sanitizer.
    preview = client.post("/articles/new", data=form_data(body=HOSTILE_BODY, preview="1"))
    [section] = doc_of(preview).xpath('//section[contains(@class, "preview")]')
    assert unsafe_parts(lxml.html.tostring(section, encoding="unicode")) == []


def test_editing_renders_the_new_body_through_the_sanitizer(app, people):
    article = make_article(people["ann"], slug="mine")
    client_as(app, people["ann"]).post(
        "/articles/mine/edit", data=form_data(slug="mine", body=HOSTILE_BODY)
    )
    db.session.refresh(article)
    assert article.body_md == HOSTILE_BODY
    assert "<script" not in article.body_html.lower()
    assert unsafe_parts(article.body_html) == []


# --- editing -----------------------------------------------------------------------------


def test_the_edit_form_is_filled_with_the_article(app, people):
    series = make_series("Inner Life")
    make_article(people["ann"], slug="mine", title="Mine", series=series, position=3)
    doc = doc_of(client_as(app, people["ann"]).get("/articles/mine/edit"))
    assert value_of(doc, "title") == "Mine"
    assert value_of(doc, "slug") == "mine"
    assert value_of(doc, "body") == "Body text."
    assert value_of(doc, "series") == str(series.id)
    assert value_of(doc, "position") == "3"


def test_an_author_edits_their_own_article(app, people):
    article = make_article(people["ann"], slug="mine", title="Mine")
    published = article.published_at
    response = client_as(app, people["ann"]).post(
        "/articles/mine/edit",
        data=form_data(title="Mine, revised", slug="mine-revised", body="New *words*."),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/articles/mine-revised"
    db.session.refresh(article)
    assert (article.title, article.slug) == ("Mine, revised", "mine-revised")
    assert "<em>words</em>" in article.body_html
    assert article.author_id == people["ann"].id
    assert article.published_at == published


def test_keeping_the_slug_and_position_is_not_a_conflict_with_itself(app, people):
    series = make_series("Inner Life")
    article = make_article(people["ann"], slug="mine", series=series, position=2)
    response = client_as(app, people["ann"]).post(
        "/articles/mine/edit",
        data=form_data(slug="mine", series=str(series.id), position="2", title="Same place"),
    )
    assert response.status_code == 302
    db.session.refresh(article)
    assert (article.series_id, article.position, article.title) == (series.id, 2, "Same place")


def test_leaving_the_series_clears_the_position(app, people):
    series = make_series("Inner Life")
    article = make_article(people["ann"], slug="mine", series=series, position=2)
    client_as(app, people["ann"]).post(
        "/articles/mine/edit", data=form_data(slug="mine", series="", position="")
    )
    db.session.refresh(article)
    assert article.series_id is None and article.position is None


def test_an_edit_with_errors_keeps_the_draft_and_the_article(app, people):
    article = make_article(people["ann"], slug="mine", title="Mine")
    make_article(people["ben"], slug="theirs")
    response = client_as(app, people["ann"]).post(
        "/articles/mine/edit", data=form_data(title="Changed", slug="theirs", body="Draft.")
    )
    assert response.status_code == 400
    doc = doc_of(response)
    assert "taken" in error_of(doc, "slug")
    assert value_of(doc, "title") == "Changed" and value_of(doc, "body") == "Draft."
    db.session.refresh(article)
    assert (article.title, article.slug) == ("Mine", "mine")


def test_editing_preview_changes_nothing(app, people):
    article = make_article(people["ann"], slug="mine", title="Mine")
    response = client_as(app, people["ann"]).post(
        "/articles/mine/edit", data=form_data(slug="mine", title="Other", preview="1")
    )
    assert response.status_code == 200
    db.session.refresh(article)
    assert article.title == "Mine"


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_author_cannot_edit_someone_elses_article(app, people, method):
    article = make_article(people["ben"], slug="bens", title="Ben's")
    client = client_as(app, people["ann"])
    response = getattr(client, method)("/articles/bens/edit", data=form_data(slug="bens"))
    assert response.status_code == 403
    db.session.refresh(article)
    assert article.title == "Ben's"


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
def test_moderators_and_admins_edit_any_article_and_it_stays_the_authors(app, people, role):
    article = make_article(people["ben"], slug="bens", title="Ben's")
    editor = make_user("editor", role=role)
    client = client_as(app, editor)
    assert client.get("/articles/bens/edit").status_code == 200
    response = client.post("/articles/bens/edit", data=form_data(slug="bens", title="Fixed"))
    assert response.status_code == 302
    db.session.refresh(article)
    assert article.title == "Fixed"
    assert article.author_id == people["ben"].id


def test_moderators_write_articles_of_their_own(app, people):
    response = client_as(app, people["mod"]).post("/articles/new", data=form_data())
    assert response.status_code == 302
    assert stored("cells-and-signals").author_id == people["mod"].id


@pytest.mark.parametrize("path", ["/articles/new", "/articles/bens/edit"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_readers_get_403(app, people, path, method):
    make_article(people["ben"], slug="bens")
    before = article_count()
    response = getattr(client_as(app, people["rex"]), method)(path, data=form_data())
    assert response.status_code == 403
    assert article_count() == before


@pytest.mark.parametrize("path", ["/articles/new", "/articles/bens/edit"])
def test_visitors_are_sent_to_log_in(app, people, path):
    make_article(people["ben"], slug="bens")
    response = client_as(app).get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_suspended_author_cannot_write_or_edit(app, people):
    make_article(people["ann"], slug="mine")
    sanctions.suspend_user(people["mod"], people["ann"], 7, "Cooling off.")
    client = client_as(app, people["ann"])
    assert client.post("/articles/new", data=form_data()).status_code == 403
    assert client.post("/articles/mine/edit", data=form_data(slug="mine")).status_code == 403
    assert client.get("/author").status_code == 200  # reading their desk is still fine


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_article_is_404(app, people, method):
    response = getattr(client_as(app, people["mod"]), method)(
        "/articles/nothing-here/edit", data=form_data()
    )
    assert response.status_code == 404


# --- links -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "shown"), [("ann", True), ("mod", True), ("ben", False), ("rex", False), (None, False)]
)
def test_the_edit_link_shows_for_those_allowed(app, people, who, shown):
    make_article(people["ann"], slug="anns")
    client = client_as(app, people[who] if who else None)
    doc = doc_of(client.get("/articles/anns"))
    assert bool(doc.xpath('//a[@href="/articles/anns/edit"]')) is shown


@pytest.mark.parametrize(("who", "shown"), [("ann", True), ("mod", True), ("rex", False)])
def test_the_write_link_is_in_the_navigation_for_writers(app, people, who, shown):
    doc = doc_of(client_as(app, people[who]).get("/"))
    assert bool(doc.xpath('//nav//a[@href="/articles/new"]')) is shown
    assert bool(doc.xpath('//nav//a[@href="/author"]')) is shown


# --- the service directly ----------------------------------------------------------------


def test_the_service_refuses_readers_and_other_authors(app, people):
    with pytest.raises(Forbidden):
        article_editor.create_article(
            people["rex"], article_rules.ArticleDraft(title="T", body="B")
        )
    theirs = make_article(people["ben"], slug="theirs")
    with pytest.raises(Forbidden):
        article_editor.update_article(
            people["ann"], theirs, article_rules.ArticleDraft(title="T", slug="theirs", body="B")
        )


def test_the_service_names_every_bad_field(app, people):
    with pytest.raises(ValidationFailed) as caught:
        article_editor.create_article(
            people["ann"], article_rules.ArticleDraft(title="", slug="UPPER", body="", position=3)
        )
    assert set(caught.value.errors) == {"title", "slug", "body", "position"}


def test_a_unique_constraint_failure_becomes_a_slug_error_not_a_crash(app, people, monkeypatch):
    """When the database's unique constraint catches what the check missed (two authors
    saving the same slug at once), the author gets a form error, not a 500."""
    checks = []
    original = article_rules.slug_problem

    def racing(slug, article):
        checks.append(slug)
        if len(checks) == 1:  # someone saves "raced" right after our check
            db.session.add(
                Article(
                    slug="raced",
                    title="Theirs",
                    author=people["ben"],
                    body_md="x",
                    body_html="x",
                    published_at=utcnow(),
                )
            )
            db.session.flush()
            return None
        return original(slug, article)

    monkeypatch.setattr(article_rules, "slug_problem", racing)
    with pytest.raises(ValidationFailed) as caught:
        article_editor.create_article(
            people["ann"], article_rules.ArticleDraft(title="Mine", slug="raced", body="B")
        )
    assert "slug" in caught.value.errors
