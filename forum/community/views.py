"""Votes, pins, follows and notifications."""

from collections.abc import Callable

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.auth.current import current_actor
from forum.auth.redirects import safe_next
from forum.discussion.answers import comment_url, load_comment
from forum.errors import database_down
from forum.paging import page_arg
from forum.services import articles, community, notifications

bp = Blueprint("community", __name__)


@bp.app_context_processor
def _unread_count():
    """The unread-notifications count in the navigation (one query, logged-in users only)."""
    if database_down():  # the outage page: no query, not even for the logged-in user
        return {}
    if current_user.is_authenticated:
        if "unread_count" in g:  # the article page asked it with the follow state
            return {"unread_count": g.unread_count}
        return {"unread_count": notifications.unread_count(current_user)}
    return {}


def _do(action, success: str, back: str | Callable[[], str]):
    """Run ``action`` and return to where the button was (CSRFProtect has checked the token).

    ``back`` may be a function, called after the action: pinning moves a thread to the
    first page, so the comment's address is known only once it is pinned (or unpinned)."""
    action()
    flash(str(success), "success")
    return redirect(safe_next(request.form.get("next")) or (back() if callable(back) else back))


@bp.post("/comments/<int:comment_id>/vote")
@login_required
def vote(comment_id: int):
    comment = load_comment(comment_id)
    return _do(
        lambda: community.vote(current_actor(), comment), _("Marked helpful."), comment_url(comment)
    )


@bp.post("/comments/<int:comment_id>/unvote")
@login_required
def unvote(comment_id: int):
    comment = load_comment(comment_id)
    return _do(
        lambda: community.unvote(current_actor(), comment),
        _("Vote taken back."),
        comment_url(comment),
    )


@bp.post("/comments/<int:comment_id>/pin")
@login_required
def pin(comment_id: int):
    comment = load_comment(comment_id)
    article_slug = request.form.get("article")
    article = None
    if article_slug:
        article = articles.get_article(article_slug)
    return _do(
        lambda: community.pin(current_actor(), comment, article),
        _("Pinned to the top of the discussion."),
        lambda: comment_url(comment),
    )


@bp.post("/comments/<int:comment_id>/unpin")
@login_required
def unpin(comment_id: int):
    comment = load_comment(comment_id)
    return _do(
        lambda: community.unpin(current_actor(), comment),
        _("Unpinned."),
        lambda: comment_url(comment),
    )


@bp.post("/articles/<slug>/follow")
@login_required
def follow(slug: str):
    article = articles.get_article(slug)  # NotFound becomes a 404 page
    return _do(
        lambda: community.follow(current_actor(), article),
        _("You'll be notified about new comments here."),
        url_for("site.article", slug=slug, _anchor="discussion"),
    )


@bp.post("/articles/<slug>/unfollow")
@login_required
def unfollow(slug: str):
    article = articles.get_article(slug)  # NotFound becomes a 404 page
    return _do(
        lambda: community.unfollow(current_actor(), article),
        _("You no longer follow this discussion."),
        url_for("site.article", slug=slug, _anchor="discussion"),
    )


@bp.get("/notifications")
@login_required
def inbox():
    items = notifications.page_for(
        current_actor(), page_arg(), current_app.config["NOTIFICATIONS_PAGE_SIZE"]
    )
    return render_template("community/notifications.html", items=items)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    notifications.get_own(current_actor(), notification_id)  # NotFound: not theirs, or none
    return _do(
        lambda: notifications.mark_read(current_actor(), notification_id),
        _("Marked as read."),
        url_for("community.inbox"),
    )


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    return _do(
        lambda: notifications.mark_all_read(current_actor()),
        _("All notifications marked as read."),
        url_for("community.inbox"),
    )
