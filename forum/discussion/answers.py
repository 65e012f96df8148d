"""What the discussion's views answer besides pages: a comment as JSON for the page's
script, a refused form as JSON, and the address of the page that shows a comment."""

from urllib.parse import urlencode

from flask import jsonify, url_for
from flask_babel import gettext as _

from forum.auth.current import current_actor
from forum.discussion.page import render_comment_fragment, settings
from forum.embed import context as embed_context
from forum.models import Comment
from forum.services import discussion_pages, threads


def form_errors_json(form, status: int = 400):
    """A refused form as JSON: ``{"errors": {"body": [...], "form": [...]}}``."""
    found = form.errors
    errors = {
        name: [str(message) for message in messages]
        for name, messages in found.items()
        if messages and name not in (None, "csrf_token")
    }
    if form.form_errors:
        errors["form"] = [str(message) for message in form.form_errors]
    if "csrf_token" in found:
        errors.setdefault("form", []).append(
            _("The form had expired; reload the page and try again.")
        )
    return jsonify(errors=errors or {"form": [_("Please check the form.")]}), status


def comment_json(comment: Comment, message: str, status: int = 200):
    """The comment's ``<li>`` as this viewer sees it, where it lives, and what to announce."""
    return (
        jsonify(
            id=comment.id,
            parent_id=comment.parent_id,
            level=min(comment.depth + 1, max(settings().max_display_depth, 1)),
            html=render_comment_fragment(comment),
            url=comment_url(comment),
            message=str(message),
        ),
        status,
    )


def comment_url(
    comment: Comment, *, sort: discussion_pages.Sort = discussion_pages.Sort.OLDEST, **extra
) -> str:
    """The article page that shows ``comment``, at its anchor."""
    page = discussion_pages.page_of_comment(
        comment, current_actor(), sort, settings().threads_per_page
    )
    args = {}
    if sort is not discussion_pages.Sort.OLDEST:
        args["sort"] = sort.value
    if page > 1:
        args["page"] = page
    embedded = embed_context.of_request()
    if embedded is not None:  # a comment posted from the iframe lands in the iframe
        return embed_context.embed_article_url(
            comment.article.slug, embedded, urlencode({**args, **extra}), f"c{comment.id}"
        )
    return url_for(
        "site.article", slug=comment.article.slug, _anchor=f"c{comment.id}", **args, **extra
    )


def load_comment(comment_id: int) -> Comment:
    return threads.get_comment(comment_id)
