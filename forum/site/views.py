"""The publisher's pages: home, series, article, user profile."""

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from forum.discussion.page import render_article
from forum.extensions import db
from forum.models import User
from forum.services import articles
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
    user = db.session.execute(
        select(User).where(User.username_key == username.lower())
    ).scalar_one_or_none()
    if user is None:
        abort(404, "No one by that name has an account here.")
    return render_template("site/profile.html", profile=user)


@bp.get("/articles/<slug>")
def article(slug: str):
    try:
        found = articles.get_article(slug)
    except NotFound as exc:
        abort(404, exc.message)
    return render_article(found)
