"""Votes, pins, follows and notifications."""

from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forum.auth.forms import PostOnlyForm
from forum.auth.redirects import safe_next
from forum.discussion.views import comment_url, load_comment
from forum.extensions import db
from forum.models import Notification
from forum.services import articles, community, notifications

bp = Blueprint("community", __name__)


@bp.app_context_processor
def _unread_count():
    """The unread-notifications count in the navigation (one query, logged-in users only)."""
    if current_user.is_authenticated:
        return {"unread_count": notifications.unread_count(current_user)}
    return {}


def _user():
    return current_user._get_current_object()


def _do(action, success: str, back: str | Callable[[], str]):
    """Check the CSRF token, run ``action``, and return to where the button was.

    ``back`` may be a function, called after the action: pinning moves a thread to the
    first page, so the comment's address is known only once it is pinned (or unpinned)."""
    if not PostOnlyForm().validate_on_submit():
        abort(400, "The form was incomplete; please try again.")
    action()
    flash(success, "success")
    return redirect(safe_next(request.form.get("next")) or (back() if callable(back) else back))


@bp.post("/comments/<int:comment_id>/vote")
@login_required
def vote(comment_id: int):
    comment = load_comment(comment_id)
    return _do(lambda: community.vote(_user(), comment), "Marked helpful.", comment_url(comment))


@bp.post("/comments/<int:comment_id>/unvote")
@login_required
def unvote(comment_id: int):
    comment = load_comment(comment_id)
    return _do(lambda: community.unvote(_user(), comment), "Vote taken back.", comment_url(comment))


@bp.post("/comments/<int:comment_id>/pin")
@login_required
def pin(comment_id: int):
    comment = load_comment(comment_id)
    article_slug = request.form.get("article")
    article = None
    if article_slug:
        article = articles.get_article(article_slug)
    return _do(
        lambda: community.pin(_user(), comment, article),
        "Pinned to the top of the discussion.",
        lambda: comment_url(comment),
    )


@bp.post("/comments/<int:comment_id>/unpin")
@login_required
def unpin(comment_id: int):
    comment = load_comment(comment_id)
    return _do(lambda: community.unpin(_user(), comment), "Unpinned.", lambda: comment_url(comment))


@bp.post("/articles/<slug>/follow")
@login_required
def follow(slug: str):
    article = articles.get_article(slug)  # NotFound becomes a 404 page
    return _do(
        lambda: community.follow(_user(), article),
        "You'll be notified about new comments here.",
        url_for("site.article", slug=slug, _anchor="discussion"),
    )


@bp.post("/articles/<slug>/unfollow")
@login_required
def unfollow(slug: str):
    article = articles.get_article(slug)  # NotFound becomes a 404 page
    return _do(
        lambda: community.unfollow(_user(), article),
        "You no longer follow this discussion.",
        url_for("site.article", slug=slug, _anchor="discussion"),
    )


@bp.get("/notifications")
@login_required
def inbox():
    try:
        page = max(int(request.args.get("page", 1)), 1)
    except ValueError:
        page = 1
    items = notifications.page_for(_user(), page, current_app.config["NOTIFICATIONS_PAGE_SIZE"])
    return render_template("community/notifications.html", items=items)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    item = db.session.get(Notification, notification_id)
    if item is None or item.user_id != current_user.id:
        abort(404, "No such notification.")
    return _do(
        lambda: notifications.mark_read(_user(), notification_id),
        "Marked as read.",
        url_for("community.inbox"),
    )


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    return _do(
        lambda: notifications.mark_all_read(_user()),
        "All notifications marked as read.",
        url_for("community.inbox"),
    )
