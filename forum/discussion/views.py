"""Posting, replying, editing, deleting, permalinks and edit history.

The posting and editing views answer the page's script too: a request that asks for JSON
(``Accept: application/json``) gets the rendered comment or the errors as JSON instead of a
redirect or a page, so the discussion updates without a reload. Plain forms work as before,
and the CSRF token is required either way."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_number
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import DBAPIError

from forum import background, kept_forms
from forum.auth.current import current_actor
from forum.discussion import cached
from forum.discussion.answers import comment_json, comment_url, form_errors_json, load_comment
from forum.discussion.forms import CommentForm, EditForm, PreviewForm
from forum.discussion.page import (
    comment_node,
    new_comment_form,
    render_article,
    restore_fields,
    settings,
)
from forum.errors import answer_busy, is_database_outage, render_refusal, wants_json
from forum.extensions import limiter
from forum.forms_support import apply_refusal
from forum.models import Comment
from forum.moderation.forms import AppealForm, ReportForm
from forum.paging import id_arg
from forum.services import (
    appeals,
    articles,
    community,
    discussion_pages,
    discussion_state,
    moderation,
    notifications,
    permissions,
    premoderation,
    spam,
    threads,
    trees,
)
from forum.services.errors import DomainError, NotAllowed
from forum.services.sanitize import render_markdown
from forum.services.text import strip_control_characters
from forum.sqlite import reads_first

bp = Blueprint("discussion", __name__)

# Live previews are requested as the reader types (debounced): generous, but bounded.
PREVIEW_LIMIT = "120 per minute"


def _account_key() -> str:
    """Rate-limit key for actions limited per account rather than per address."""
    return (
        f"user:{current_user.get_id().split(':')[0]}" if current_user.is_authenticated else "anon"
    )


def _posting_limit() -> str:
    """New, untrusted accounts post at a slower rate until enough comments are approved."""
    config = current_app.config
    user = current_actor()
    if user is not None and not premoderation.is_trusted(
        user, config["TRUSTED_AFTER_APPROVED_COMMENTS"]
    ):
        return config["RATELIMIT_POST_NEW_ACCOUNT"]
    return config["RATELIMIT_POST"]


@bp.errorhandler(DomainError)
def _refused(error: DomainError):
    """A service's refusal in this blueprint: the script gets ``{"errors": {"form": [...]}}``
    (the shape of its form errors); pages get the app's error page for that status."""
    if wants_json():
        return jsonify(errors={"form": [error.message]}), error.status
    return render_refusal(error)


def _spam_check(form: CommentForm) -> None:
    spam.check_form(
        honeypot=form.website.data,
        started=form.form_started.data,
        enabled=current_app.config["SPAM_CHECKS_ENABLED"],
        min_seconds=current_app.config["SPAM_MIN_SUBMIT_SECONDS"],
        secret_key=current_app.secret_key,
    )


@bp.get("/articles/<slug>/comments")
def comments_form(slug: str):
    """Where a login meant for a comment's POST used to land: the article's comment form."""
    return redirect(url_for("site.article", slug=slug, _anchor="new-comment-heading"))


@bp.post("/articles/<slug>/comments")
@reads_first  # the write lock is taken only around the insert (threads.post_comment)
@login_required
# One budget for comments and replies alike: alternating them mustn't double the rate.
@limiter.shared_limit(_posting_limit, scope="posting", key_func=_account_key)
def post(slug: str):
    article = articles.get_article(slug, for_page=False)  # a refusal's page loads the rest
    form = CommentForm()
    try:
        # The service reads the hidden field: a reply pointing at no comment ("abc") must
        # not quietly become a new thread.
        parent = threads.find_parent(article, form.parent_id.data)
    except NotAllowed as exc:
        apply_refusal(form, exc)
        return render_article(article, form=form, status=400)
    return _handle_post(article, form, parent)


@bp.route("/comments/<int:comment_id>/reply", methods=["GET", "POST"])
@reads_first
@login_required
@limiter.shared_limit(_posting_limit, scope="posting", key_func=_account_key, methods=["POST"])
def reply(comment_id: int):
    parent = load_comment(comment_id)
    if request.method == "GET":
        if not parent.is_visible:
            abort(404, _("That comment has been removed, so it can't take replies."))
        threads.check_can_post(current_actor(), parent.article)
        form = new_comment_form(parent.id)
        restore_fields(form, request.path, ("body", "idempotency_key", "form_started"))
        return _render_reply(parent, form)
    form = CommentForm()
    form.parent_id.data = str(parent.id)
    return _handle_post(parent.article, form, parent)


def _render_reply(
    parent: Comment,
    form: CommentForm,
    preview_html: str | None = None,
    status: int = 200,
    refusal: kept_forms.Refusal | None = None,
):
    return (
        render_template(
            "discussion/reply.html",
            parent=parent,
            article=parent.article,
            form=form,
            preview_html=preview_html,
            settings=settings(),
            refusal=refusal,
        ),
        status,
    )


# A form refused for an ended session or a rate limit comes back with its text (see
# forum/kept_forms.py); ``home`` is where a reader who logged in again finds it.


@kept_forms.keeps_drafts(
    "discussion.post",
    home=lambda slug: url_for("site.article", slug=slug, _anchor="new-comment-heading"),
)
def _comment_again(refusal: kept_forms.Refusal):
    article = articles.get_article(request.view_args["slug"])
    form = CommentForm()
    form.parent_id.data = ""
    return render_article(article, form=form, status=refusal.status, refusal=refusal)


@kept_forms.keeps_drafts(
    "discussion.reply",
    home=lambda comment_id: url_for("discussion.reply", comment_id=comment_id),
)
def _reply_again(refusal: kept_forms.Refusal):
    parent = load_comment(request.view_args["comment_id"])
    form = CommentForm()
    form.parent_id.data = str(parent.id)
    return _render_reply(parent, form, status=refusal.status, refusal=refusal)


@kept_forms.keeps_drafts(
    "discussion.edit",
    home=lambda comment_id: url_for("discussion.edit", comment_id=comment_id),
)
def _edit_kept(refusal: kept_forms.Refusal):
    comment = load_comment(request.view_args["comment_id"])
    return _edit_again(comment, EditForm(), refusal.status, refusal=refusal)


@kept_forms.keeps_drafts(
    "discussion.flag",
    home=lambda comment_id: url_for("discussion.report", comment_id=comment_id),
)
def _report_again(refusal: kept_forms.Refusal):
    comment = load_comment(request.view_args["comment_id"])
    return _render_report(comment, ReportForm(), status=refusal.status, refusal=refusal)


def _handle_post(article, form: CommentForm, parent: Comment | None):
    """Preview, or post and land on the new comment; on a refusal, show the draft again."""
    user = current_actor()

    def again(status: int, preview_html: str | None = None):
        if wants_json():
            if preview_html is not None:
                return jsonify(html=preview_html), status
            return form_errors_json(form, status)
        if parent is not None:
            return _render_reply(parent, form, preview_html, status)
        return render_article(article, form=form, preview_html=preview_html, status=status)

    if not form.validate_on_submit():
        return again(400)
    if form.preview.data:
        return again(200, render_markdown(form.body.data or ""))
    try:
        _spam_check(form)
        later = current_app.config["NOTIFY_IN_BACKGROUND"]
        comment = threads.post_comment(
            user,
            article,
            form.body.data or "",
            parent_id=parent.id if parent else None,
            settings=settings(),
            notify=not later,
            idempotency_key=form.idempotency_key.data,
        )
        if later and comment.is_visible:
            # Replies, mentions and followers are told after the response: a discussion
            # with thousands of followers mustn't slow the one who posts.
            background.after_response_batched(notifications.fan_out_many, [comment.id])
    except NotAllowed as exc:
        apply_refusal(form, exc, default_field="body")
        return again(400)
    except DBAPIError as exc:
        if not is_database_outage(exc):
            raise
        return answer_busy(again, form)
    message = (
        _("Your comment is posted.")
        if comment.is_visible
        else _("Your comment is waiting for review.")
    )
    if wants_json():
        return comment_json(comment, message, 201)
    flash(message, "success")
    return redirect(comment_url(comment))


@bp.post("/comments/preview")
@reads_first  # changes nothing: Markdown rendering must not hold the write lock
@login_required
@limiter.limit(PREVIEW_LIMIT, key_func=_account_key)
def preview():
    """A draft rendered by the same Markdown pipeline and sanitizer as a posted comment,
    for the live preview under comment forms: ``{"html": ...}``. Changes nothing."""
    form = PreviewForm()
    if not form.validate_on_submit():
        return form_errors_json(form)
    body = strip_control_characters(form.body.data or "")
    limit = settings().max_length
    if len(body) > limit:
        message = _(
            "Comments can be at most %(limit)s characters; this one has %(length)s.",
            limit=format_number(limit),
            length=format_number(len(body)),
        )
        return jsonify(errors={"body": [message]}), 400
    return jsonify(html=threads.render_body(body))


@bp.get("/comments/<int:comment_id>")
def permalink(comment_id: int):
    """Redirect to the page of the discussion holding the comment, at its anchor."""
    comment = load_comment(comment_id)
    if not discussion_pages.is_on_page(comment, current_actor()):
        abort(404, _("That comment isn't available: it was deleted, or hasn't been approved yet."))
    sort = discussion_pages.Sort.parse(request.args.get("sort"))
    return redirect(comment_url(comment, sort=sort))


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@reads_first  # the write lock is taken only around the update (threads.edit_comment)
@login_required
# Each edit stores a revision and may mention people: bounded per account like posting.
@limiter.limit(
    lambda: current_app.config["RATELIMIT_EDIT"], key_func=_account_key, methods=["POST"]
)
def edit(comment_id: int):
    comment = load_comment(comment_id)
    user = current_actor()
    # The service decides who may edit and until when; its Forbidden is this page's 403.
    threads.check_can_edit(user, comment, settings())
    form = EditForm()
    if request.method == "GET":
        form.body.data = comment.body_md
        form.revision.data = threads.revision_of(comment)
        restore_fields(form, request.path, ("body", "revision"))
    preview_html = None
    status = 200
    if request.method == "POST":
        if form.preview.data and form.validate_on_submit():
            preview_html = render_markdown(form.body.data or "")
        elif form.validate_on_submit():
            try:
                threads.edit_comment(
                    user,
                    comment,
                    form.body.data or "",
                    settings=settings(),
                    base_revision=form.revision.data or None,
                )
            except threads.EditedElsewhere as conflict:
                return _edited_elsewhere(comment, form, conflict)
            except NotAllowed as exc:
                apply_refusal(form, exc, default_field="body")
                status = 400
            except DBAPIError as exc:
                if not is_database_outage(exc):
                    raise
                return answer_busy(lambda code: _edit_again(comment, form, code), form)
            else:
                if wants_json():
                    return comment_json(comment, _("Your changes are saved."))
                flash(_("Your changes are saved."), "success")
                return redirect(comment_url(comment))
        else:
            status = 400
        if wants_json():
            if preview_html is not None:
                return jsonify(html=preview_html)
            return form_errors_json(form, status)
    return _edit_again(comment, form, status, preview_html)


def _edited_elsewhere(comment: Comment, form: EditForm, conflict: threads.EditedElsewhere):
    """409: the comment changed since this form was opened. Both texts, side by side; the
    form now starts from the current revision, so saving again is a deliberate choice."""
    if wants_json():
        return jsonify(
            errors={"form": [conflict.message]},
            current={"body": conflict.current_body, "revision": conflict.current_revision},
        ), 409
    form.revision.data = conflict.current_revision
    form.form_errors.append(conflict.message)
    return _edit_again(comment, form, 409, current_text=conflict.current_body)


def _edit_again(
    comment: Comment,
    form: EditForm,
    status: int,
    preview_html: str | None = None,
    refusal: kept_forms.Refusal | None = None,
    current_text: str | None = None,
):
    """The edit form with the reader's text (and its errors or preview; ``current_text``
    beside it when another tab saved first)."""
    if wants_json() and status >= 400:
        return form_errors_json(form, status)
    return (
        render_template(
            "discussion/edit.html",
            comment=comment,
            form=form,
            preview_html=preview_html,
            settings=settings(),
            refusal=refusal,
            current_text=current_text,
        ),
        status,
    )


@bp.post("/comments/<int:comment_id>/delete")
@login_required
def delete(comment_id: int):
    comment = load_comment(comment_id)
    threads.delete_comment(current_actor(), comment)
    flash(_("Your comment is deleted."), "success")
    return redirect(url_for("site.article", slug=comment.article.slug, _anchor="discussion"))


@bp.get("/comments/<int:comment_id>/history")
def history(comment_id: int):
    comment = load_comment(comment_id)
    if not permissions.can_see_text(current_actor(), comment):
        abort(404, _("That comment's text isn't available."))
    return render_template(
        "discussion/history.html", comment=comment, revisions=threads.revisions_of(comment)
    )


@bp.get("/articles/<slug>/discussion/version")
def discussion_version(slug: str):
    """What the page's script polls while a discussion is open: the discussion's version and
    comment count, revalidated with an ``ETag`` (an unchanged discussion answers 304 with no
    body, after one small query)."""
    state = discussion_state.version_of(slug)
    if state is None:
        abort(404, _("No article has that address."))
    etag = f"v{state.version}"
    headers = {"ETag": f'"{etag}"', "Cache-Control": "no-cache", "Vary": "Cookie"}
    if request.if_none_match.contains(etag):
        return "", 304, headers
    return jsonify(version=state.version, comments=state.comment_count), 200, headers


@bp.get("/articles/<slug>/discussion/new")
def discussion_new(slug: str):
    """The comments newer than ``after`` (a comment id) that this viewer sees, oldest first,
    at most ``discussion_pages.NEW_COMMENTS_LIMIT``, each rendered as on the page: what the page's
    script inserts after the version it polls has changed.
    ``{"comments": [{"id", "parent_id", "level", "html"}...], "version": N}``."""
    article = articles.get_article(slug)
    # The newest comment the page holds; 0 (or nothing) for a page without comments.
    after = 0 if request.args.get("after", "").strip() in ("", "0") else id_arg("after")
    reader = current_actor()
    config = settings()
    found = discussion_pages.new_comments(article, reader, after)
    cap = max(config.max_display_depth, 1)
    # Replies shown flat at the deepest level name whom they answer: their parents' authors,
    # loaded at once rather than one query per comment.
    answered = threads.authors_of(c.parent_id for c in found if c.depth + 1 > cap)
    template = current_app.jinja_env.get_template("discussion/_fragment.html")
    # Rendered without the page's context processors (they would query per comment); the
    # fragment needs only this context and the template globals.
    context = {
        "article": article,
        "viewer": reader,
        "settings": config,
        "voted": community.voted_in(reader, article),
        "can_pin": community.can_pin(reader, article),
    }
    comments = []
    for comment in found:
        node = cached.comment_node(comment, reader, config, answered)
        comments.append(
            {
                "id": comment.id,
                "parent_id": comment.parent_id,
                "level": node.level,
                "html": template.render(nodes=[node], **context),
            }
        )
    headers = {"Cache-Control": "private, no-cache"}
    return jsonify(comments=comments, version=article.discussion_version), 200, headers


@bp.get("/comments/<int:comment_id>/report")
@login_required
def report(comment_id: int):
    """The report form for one comment (the discussion page links here instead of carrying a
    form under every comment)."""
    comment = load_comment(comment_id)
    if not permissions.can_report(current_actor(), comment):
        abort(403, _("You can report other people's visible comments."))
    form = ReportForm()
    restore_fields(form, url_for("discussion.flag", comment_id=comment.id), ("category", "note"))
    return _render_report(comment, form)


def _render_report(
    comment: Comment,
    form: ReportForm,
    status: int = 200,
    refusal: kept_forms.Refusal | None = None,
):
    return (
        render_template(
            "discussion/report.html",
            comment=comment,
            form=form,
            refusal=refusal,
            already_reported=moderation.has_reported(current_actor(), comment),
        ),
        status,
    )


@bp.get("/comments/<int:comment_id>/flag")
def flag_form(comment_id: int):
    """Where a login meant for a report's POST would land: the report page."""
    return redirect(url_for("discussion.report", comment_id=comment_id))


@bp.get("/comments/<int:comment_id>/replies")
def more_replies(comment_id: int):
    """The next replies of a long thread, oldest first, after the one given by ``after``: a
    page without JavaScript, a fragment for the script (``Accept: application/json``)."""
    root = load_comment(comment_id)
    if root.parent_id is not None:
        abort(404, _("Only a thread's first comment has a list of replies."))
    after_id = id_arg("after")
    after = load_comment(after_id) if after_id else root
    if after.thread_root_id != root.id:
        abort(404, _("That reply isn't in this thread."))
    reader = current_actor()
    limit = settings().replies_per_thread
    later = discussion_pages.later_replies(root, after, limit)
    nodes = [
        comment_node(comment, reader)
        for comment in later
        if trees.shown_as(comment, reader) is not None
    ]
    next_after = later[-1].id if len(later) == limit else None
    context = {
        "root": root,
        "article": root.article,
        "nodes": nodes,
        "viewer": reader,
        "voted": community.voted_in(reader, root.article),
        "reported": moderation.reported_in(reader, root.article),
        "can_pin": community.can_pin(reader, root.article),
        "settings": settings(),
    }
    if wants_json():
        next_url = (
            url_for("discussion.more_replies", comment_id=root.id, after=next_after)
            if next_after
            else None
        )
        html = render_template("discussion/_fragment.html", **context)
        return jsonify(html=html, next=next_url)
    return render_template("discussion/more_replies.html", next_after=next_after, **context)


@bp.post("/comments/<int:comment_id>/flag")
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_REPORT"], key_func=_account_key)
def flag(comment_id: int):
    """Report a comment to the moderators. The reported person never learns who reported."""
    comment = load_comment(comment_id)
    form = ReportForm()
    if not form.validate_on_submit():
        if wants_json():
            return form_errors_json(form)
        return _render_report(comment, form, status=400)  # the note comes back too
    try:
        moderation.report_comment(
            current_actor(), comment, form.category.data, form.note.data or ""
        )
    except moderation.AlreadyReported as exc:
        # Not an error to the reader (a second tab, an old page): say so where they are.
        if wants_json():
            return jsonify(message=str(exc.message), reported=True)
        return _render_report(comment, form)
    if wants_json():  # the report form the script opens in place
        return jsonify(message=_("Thank you. The moderators will take a look."), reported=True)
    flash(_("Thank you. The moderators will take a look."), "success")
    return redirect(comment_url(comment))


@bp.post("/comments/<int:comment_id>/appeal")
@login_required
def appeal(comment_id: int):
    """The author of a hidden comment asks the moderators, once, to look again."""
    comment = load_comment(comment_id)
    form = AppealForm()
    if not form.validate_on_submit():
        abort(400, _("Keep the appeal under %(count)s characters.", count=format_number(1000)))
    appeals.appeal(current_actor(), comment, form.message.data or "")
    flash(_("Your appeal is with the moderators. You'll be told the outcome."), "success")
    return redirect(comment_url(comment))
