"""The moderators' side: hide and unhide, the queue, pre-moderation, appeals, locks,
suspensions, roles, trust, and the moderation log.

Every route here except the public log sits behind one guard (``before_request``), so no
route can forget the check; the services check the actor again."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from forum.auth.current import current_actor
from forum.auth.redirects import safe_next
from forum.errors import database_down
from forum.forms_support import ForumForm
from forum.models import Comment, ModAction
from forum.moderation.forms import (
    REASON_CHOICES,
    HideForm,
    ReasonForm,
    RoleForm,
    SuspendForm,
)
from forum.paging import page_arg
from forum.services import (
    accounts,
    appeals,
    articles,
    moderation,
    permissions,
    premoderation,
    sanctions,
    threads,
)

bp = Blueprint("moderation", __name__)

PUBLIC_ENDPOINTS = {"moderation.log"}


@bp.before_request
def _moderators_only():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not permissions.is_moderator(current_user):
        abort(403, gettext("Only moderators can do that."))
    if current_user.is_suspended():
        abort(403, gettext("Your account is suspended, so you can't moderate."))
    return None


@bp.app_context_processor
def _queue_count():
    """The open-reports count in moderators' navigation (one query, moderators only)."""
    if database_down():  # the outage page: no query, not even for the logged-in user
        return {}
    if (
        current_user.is_authenticated
        and permissions.is_moderator(current_user)
        and not current_user.is_suspended()
    ):
        return {"open_report_count": moderation.open_report_count()}
    return {}


def _comment(comment_id: int) -> Comment:
    return threads.get_comment(comment_id)


def _back(default: str) -> str:
    """Return to the page the button was on, when that page is on this site."""
    return safe_next(request.form.get("next")) or default


def _run(action, success: str, default_back: str):
    """Run a service call; a refusal becomes its HTTP status with the message."""
    action()
    flash(success, "success")
    return redirect(_back(default_back))


def _checked(form_class: type[ForumForm]) -> ForumForm:
    """The submitted form, checked for shape (the CSRF token is CSRFProtect's, for every
    POST); a malformed one is a 400 naming each problem."""
    form = form_class()
    if not form.validate_on_submit():
        problems = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
        abort(400, problems or gettext("The form was incomplete; please try again."))
    return form


# --- comments -------------------------------------------------------------------------------


@bp.post("/comments/<int:comment_id>/hide")
def hide(comment_id: int):
    comment = _comment(comment_id)
    form = _checked(HideForm)
    return _run(
        lambda: moderation.hide_comment(
            current_actor(), comment, form.reason.data, form.note.data or ""
        ),
        gettext("The comment is hidden."),
        url_for("discussion.permalink", comment_id=comment.id),
    )


@bp.post("/comments/<int:comment_id>/unhide")
def unhide(comment_id: int):
    comment = _comment(comment_id)
    return _run(
        lambda: moderation.unhide_comment(current_actor(), comment),
        gettext("The comment is shown again."),
        url_for("discussion.permalink", comment_id=comment.id),
    )


@bp.post("/comments/<int:comment_id>/approve")
def approve(comment_id: int):
    comment = _comment(comment_id)
    return _run(
        lambda: premoderation.approve_comment(current_actor(), comment),
        gettext("The comment is approved and now visible."),
        url_for("moderation.queue"),
    )


@bp.post("/comments/<int:comment_id>/reject")
def reject(comment_id: int):
    comment = _comment(comment_id)
    form = _checked(HideForm)
    return _run(
        lambda: premoderation.reject_comment(
            current_actor(), comment, form.reason.data, form.note.data or ""
        ),
        gettext("The comment is rejected; its author can still see it."),
        url_for("moderation.queue"),
    )


@bp.post("/comments/<int:comment_id>/dismiss")
def dismiss(comment_id: int):
    comment = _comment(comment_id)
    form = _checked(ReasonForm)
    return _run(
        lambda: moderation.dismiss_reports(current_actor(), comment, form.reason.data or ""),
        gettext("The reports are dismissed."),
        url_for("moderation.queue"),
    )


@bp.post("/moderation/appeals/<int:appeal_id>/<any(grant, deny):decision>")
def decide_appeal(appeal_id: int, decision: str):
    item = appeals.get_appeal(appeal_id)
    form = _checked(ReasonForm)
    granted = decision == "grant"
    return _run(
        lambda: appeals.decide_appeal(current_actor(), item, granted, form.reason.data or ""),
        gettext("Appeal granted: the comment is shown again.")
        if granted
        else gettext("Appeal denied."),
        url_for("moderation.queue"),
    )


# --- articles -------------------------------------------------------------------------------


@bp.post("/articles/<slug>/lock")
def lock(slug: str):
    article = articles.get_article(slug)  # NotFound becomes a 404 page
    form = _checked(ReasonForm)
    return _run(
        lambda: sanctions.lock_article(current_actor(), article, form.reason.data or ""),
        gettext("The discussion is locked."),
        url_for("site.article", slug=slug, _anchor="discussion"),
    )


@bp.post("/articles/<slug>/unlock")
def unlock(slug: str):
    article = articles.get_article(slug)  # NotFound becomes a 404 page
    form = _checked(ReasonForm)
    return _run(
        lambda: sanctions.unlock_article(current_actor(), article, form.reason.data or ""),
        gettext("The discussion is open again."),
        url_for("site.article", slug=slug, _anchor="discussion"),
    )


# --- people ---------------------------------------------------------------------------------


@bp.post("/users/<username>/suspend")
def suspend(username: str):
    target = accounts.get_by_username(username)
    form = _checked(SuspendForm)
    return _run(
        lambda: sanctions.suspend_user(
            current_actor(), target, form.days.data, form.reason.data or ""
        ),
        gettext("%(username)s is suspended.", username=target.username),
        url_for("site.profile", username=target.username),
    )


@bp.post("/users/<username>/unsuspend")
def unsuspend(username: str):
    target = accounts.get_by_username(username)
    form = _checked(ReasonForm)
    return _run(
        lambda: sanctions.unsuspend_user(current_actor(), target, form.reason.data or ""),
        gettext("%(username)s's suspension is lifted.", username=target.username),
        url_for("site.profile", username=target.username),
    )


@bp.post("/users/<username>/role")
def change_role(username: str):
    target = accounts.get_by_username(username)
    form = _checked(RoleForm)
    return _run(
        lambda: sanctions.change_role(current_actor(), target, form.role.data or ""),
        gettext("%(username)s's role is changed.", username=target.username),
        url_for("site.profile", username=target.username),
    )


@bp.post("/users/<username>/trust")
def trust(username: str):
    target = accounts.get_by_username(username)
    return _run(
        lambda: premoderation.grant_trust(current_actor(), target),
        gettext(
            "%(username)s is trusted: new-account limits no longer apply.",
            username=target.username,
        ),
        url_for("site.profile", username=target.username),
    )


# --- pages ----------------------------------------------------------------------------------


@bp.get("/moderation")
def queue():
    reports = moderation.report_queue(page_arg(), current_app.config["MODERATION_PAGE_SIZE"])
    return render_template(
        "moderation/queue.html",
        reports=reports,
        pending=premoderation.pending_comments(),
        appeals=appeals.open_appeals(),
        hide_form=HideForm(formdata=None),
        reason_choices=REASON_CHOICES,
    )


@bp.get("/moderation/log")
def log():
    """The moderation log: the full view for moderators, a public one for everyone else."""
    full_view = permissions.is_moderator(current_user)
    action = request.args.get("action") or None
    moderator = request.args.get("moderator") or None
    entries = moderation.log_page(
        page_arg(),
        current_app.config["MODERATION_PAGE_SIZE"],
        action=action,
        moderator=moderator,
    )
    return render_template(
        "moderation/log.html",
        entries=entries,
        full_view=full_view,
        actions=list(ModAction),
        action=action,
        moderator=moderator,
    )
