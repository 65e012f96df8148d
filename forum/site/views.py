"""The publisher's pages: home, series, article, user profile.

A service's NotFound reaches the app's error handler, which renders the 404 page."""

from flask import Blueprint, Response, current_app, render_template, request

from forum.auth.current import current_actor
from forum.discussion.page import serve_article
from forum.moderation.forms import ReasonForm, RoleForm, SuspendForm
from forum.paging import page_arg
from forum.services import accounts, articles, community, profiles

bp = Blueprint("site", __name__)


@bp.get("/")
def index():
    recent = articles.recent_articles(limit=12)
    series = articles.all_series()
    counts = articles.comment_counts([a.id for a in recent])
    return render_template("site/index.html", recent=recent, series=series, counts=counts)


@bp.get("/series/<slug>")
def series(slug: str):
    found = articles.get_series(slug)
    items = articles.series_articles(found)
    counts = articles.comment_counts([a.id for a in items])
    return render_template("site/series.html", series=found, articles=items, counts=counts)


@bp.get("/users/<username>")
def profile(username: str):
    """Role, join date, helpful votes received, and a page of their visible comments."""
    user = accounts.get_by_username(username)
    comments = profiles.profile_comments(
        user, current_actor(), page_arg(), current_app.config["PROFILE_PAGE_SIZE"]
    )
    # The moderator tools' forms render their own choices (the template shows them only to
    # those the permissions allow).
    role_form = RoleForm(formdata=None, role=user.role.value)
    return render_template(
        "site/profile.html",
        profile=user,
        comments=comments,
        helpful=community.helpful_votes_received(user),
        name_history=profiles.name_history(user),
        suspend_form=SuspendForm(formdata=None),
        unsuspend_form=ReasonForm(formdata=None),
        role_form=role_form,
    )


@bp.get("/theme.css")
def theme_stylesheet():
    """The accent colour from settings (forum/theme.py). Its URL carries the stylesheet's
    hash (``?v=``), so browsers keep it for a year and a new colour is a new URL."""
    theme = current_app.extensions["forum_theme"]
    response = Response(theme.stylesheet, mimetype="text/css")
    if request.args.get("v") == theme.stylesheet_version:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "public, no-cache"
    response.set_etag(theme.stylesheet_version)
    return response.make_conditional(request)


@bp.get("/articles/<slug>")
def article(slug: str):
    return serve_article(slug)
