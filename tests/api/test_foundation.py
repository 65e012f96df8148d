"""The API's foundation: the generated OpenAPI 3.1 document and its reference page, problem
details for every error, cursor pages that stay put under inserts, and the example
operation (the article list)."""

from datetime import timedelta

from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from sqlalchemy import exc as sa_exc

from forum.extensions import db
from forum.models import Role, utcnow
from forum.services import articles, external_articles
from tests.api.support import assert_problem
from tests.conftest import make_article, make_series, make_user


def test_the_document_is_valid_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document, cls=OpenAPIV31SpecValidator)
    assert "/api/v1/articles" in document["paths"]
    # Errors are documented as problem details, from the same model the handlers fill.
    answers = document["paths"]["/api/v1/articles"]["get"]["responses"]
    assert "application/problem+json" in answers["404"]["content"]
    assert "Problem" in document["components"]["schemas"]


def test_the_reference_page_needs_no_script_or_outside_asset(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "GET /api/v1/articles" in html
    assert "Content-Security-Policy" in response.headers
    assert "<script>" not in html and "style=" not in html and "https://cdn" not in html


def test_unknown_paths_and_methods_answer_problems(client):
    assert_problem(client.get("/api/v1/no-such-thing"), 404)
    response = client.post("/api/v1/articles", json={})
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_a_refusal_of_the_service_keeps_its_status_and_words(client):
    body = assert_problem(client.get("/api/v1/articles/missing"), 404)
    assert body["detail"] == "No article has that address."


def test_invalid_query_answers_400_with_errors_per_field(client):
    body = assert_problem(client.get("/api/v1/articles?limit=1000"), 400)
    assert list(body["errors"]) == ["limit"]


def test_a_database_outage_is_a_503_problem_with_retry_after(app, client, monkeypatch):
    def outage(*_args, **_kwargs):
        raise sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(articles, "articles_query", outage)
    response = client.get("/api/v1/articles")
    assert_problem(response, 503)
    assert int(response.headers["Retry-After"]) > 0


def test_articles_are_listed_newest_first_with_their_numbers(app, client):
    older = make_article(title="Older")
    older.published_at = utcnow() - timedelta(days=2)
    newer = make_article(title="Newer")
    db.session.commit()
    items = client.get("/api/v1/articles").get_json()["items"]
    assert [item["slug"] for item in items] == [newer.slug, older.slug]
    first = items[0]
    assert first["url"].endswith(f"/articles/{newer.slug}")
    assert first["external"] is False
    assert first["comment_count"] == 0
    assert first["author"]["username"] == newer.author.username


def test_the_series_filter_keeps_one_series(app, client):
    series = make_series(slug="season")
    inside = make_article(series=series, position=1)
    make_article()
    items = client.get("/api/v1/articles?series=season").get_json()["items"]
    assert [item["slug"] for item in items] == [inside.slug]
    assert items[0]["series"] == {"slug": "season", "title": series.title}
    assert_problem(client.get("/api/v1/articles?series=nope"), 404)


def test_cursor_pages_neither_repeat_nor_skip_when_articles_arrive(app, client):
    base = utcnow() - timedelta(days=1)
    made = []
    for number in range(5):
        article = make_article(title=f"A{number}")
        article.published_at = base + timedelta(minutes=number)
        made.append(article.slug)
    db.session.commit()
    first = client.get("/api/v1/articles?limit=2").get_json()
    make_article(title="Arrived meanwhile")  # newest of all: belongs before page 1
    seen = [item["slug"] for item in first["items"]]
    cursor = first["next"]
    while cursor:
        page = client.get("/api/v1/articles", query_string={"limit": 2, "cursor": cursor})
        body = page.get_json()
        seen += [item["slug"] for item in body["items"]]
        cursor = body["next"]
    assert seen == list(reversed(made))


def test_a_forged_or_foreign_cursor_is_refused(app, client):
    body = assert_problem(client.get("/api/v1/articles?cursor=WzEsMl0.forged"), 400)
    assert "cursor" in body["errors"]


def test_one_article_with_its_discussion_numbers(app, client):
    article = make_article()
    body = client.get(f"/api/v1/articles/{article.slug}").get_json()
    assert body["slug"] == article.slug
    assert body["locked"] is False
    assert body["version"] == article.discussion_version
    assert body["thread_count"] == 0


def test_by_url_finds_external_articles_by_any_spelling_of_their_address(client):
    author = make_user("writer", role=Role.AUTHOR)
    article = external_articles.create_external("https://example.com/a", "A page", author)
    db.session.commit()
    body = client.get("/api/v1/articles/by-url?url=HTTPS://Example.com:443/a%3Futm_source%3Dx")
    assert body.status_code == 200, body.get_json()
    found = body.get_json()
    assert (found["slug"], found["url"], found["external"]) == (
        article.slug,
        "https://example.com/a",
        True,
    )
    assert_problem(client.get("/api/v1/articles/by-url?url=https://example.com/b"), 404)
    assert_problem(client.get("/api/v1/articles/by-url?url=not-a-page"), 404)
    assert_problem(client.get("/api/v1/articles/by-url"), 400)
