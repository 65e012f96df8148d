"""The publisher's pages: home, series, article, user profile."""

from flask import Blueprint, abort, current_app, render_template, request

from forum.discussion.page import serve_article, viewer
from forum.services import articles, community, profiles
from forum.services.errors import NotFound

bp = Blueprint("site", __name__)


@bp.get("/")
def index():
    recent = articles.recent_articles(limit=12)
    series = articles.all_series()
    counts = articles.comment_counts([a.id for a in recent])
    return render_template("site/index.html", recent=recent, series=series, counts=counts)


@bp.get("/series/<slug>")
def series(slug: str):
    try:
        found = articles.get_series(slug)
    except NotFound as exc:
        abort(404, exc.message)
    items = articles.series_articles(found)
    counts = articles.comment_counts([a.id for a in items])
    return render_template("site/series.html", series=found, articles=items, counts=counts)


@bp.get("/users/<username>")
def profile(username: str):
    """Role, join date, helpful votes received, and a page of their visible comments."""
    try:
        user = profiles.find_profile(username)
    except NotFound as exc:
        abort(404, exc.message)
    page = request.args.get("page", "1")
    comments = profiles.profile_comments(
        user,
        viewer(),
        int(page) if page.isascii() and page.isdigit() else 1,
        current_app.config["PROFILE_PAGE_SIZE"],
    )
    return render_template(
        "site/profile.html",
        profile=user,
        comments=comments,
        helpful=community.helpful_votes_received(user),
    )


@bp.get("/articles/<slug>")
def article(slug: str):
    try:
        found = articles.get_article(slug)
    except NotFound as exc:
        abort(404, exc.message)
    return serve_article(found)
