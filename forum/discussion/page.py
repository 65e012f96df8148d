"""Rendering the article page with its discussion, shared by the article view and by the
posting views when they must show a form again with its errors."""

from flask import current_app, render_template, request

from forum.auth.current import current_actor
from forum.discussion.forms import CommentForm
from forum.models import Article, Comment, utcnow
from forum.paging import page_arg
from forum.services import articles, community, spam, threads


def settings() -> threads.DiscussionSettings:
    return threads.DiscussionSettings.from_config(current_app.config)


def new_comment_form(parent_id: int | None = None) -> CommentForm:
    form = CommentForm(formdata=None)
    form.parent_id.data = str(parent_id) if parent_id else ""
    form.form_started.data = spam.form_token()
    return form


def render_article(
    article: Article,
    *,
    form: CommentForm | None = None,
    preview_html: str | None = None,
    status: int = 200,
):
    """The article page; ``form`` carries a draft and its errors back to the reader.

    An unknown ``sort`` is the service's 400; a page that isn't there is a 404."""
    sort = threads.Sort.parse(request.args.get("sort"))
    reader = current_actor()
    discussion = threads.load_page(article, reader, sort=sort, page=page_arg(), settings=settings())
    return (
        render_template(
            "discussion/article.html",
            article=article,
            position=articles.series_position(article),
            discussion=discussion,
            sorts=list(threads.Sort),  # the sort links, from the one list the service accepts
            form=form or new_comment_form(),
            preview_html=preview_html,
            settings=settings(),
            voted=community.voted_ids(reader, discussion.comment_ids),
            following=community.is_following(reader, article),
            can_pin=community.can_pin(reader, article),
            # The server's clock, so the script's "new since your last visit" needs no
            # trust in the reader's clock.
            rendered_at=utcnow(),
        ),
        status,
    )


def comment_node(comment: Comment, reader) -> threads.Node:
    """``comment`` alone (no replies) as it appears to ``reader`` at its place in the tree.

    The display level and the "replying to" name follow the same cap as a whole page."""
    cap = max(settings().max_display_depth, 1)
    level = min(comment.depth + 1, cap)
    replying_to = None
    if comment.depth + 1 > cap and comment.parent_id is not None:
        replying_to = threads.get_comment(comment.parent_id).author
    shown = threads.shown_as(comment, reader) or threads.Shown.DELETED_PLACEHOLDER
    return threads.Node(comment=comment, shown=shown, level=level, replying_to=replying_to)


def render_comment_fragment(comment: Comment) -> str:
    """The comment's ``<li>`` rendered by the same macros as the page, for the viewer."""
    reader = current_actor()
    return render_template(
        "discussion/_fragment.html",
        node=comment_node(comment, reader),
        article=comment.article,
        settings=settings(),
        voted=community.voted_ids(reader, [comment.id]),
        can_pin=community.can_pin(reader, comment.article),
    )
