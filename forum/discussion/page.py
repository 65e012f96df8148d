"""Rendering the article page with its discussion, shared by the article view and by the
posting views when they must show a form again with its errors."""

import logging
import uuid

from flask import (
    Response,
    current_app,
    flash,
    g,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from forum import kept_forms, security
from forum.auth.current import current_actor
from forum.discussion import cached, frame
from forum.discussion.forms import CommentForm
from forum.embed import context as embed_context
from forum.models import Article, Comment, User, utcnow
from forum.page_cache import page_cache
from forum.paging import page_arg
from forum.services import (
    articles,
    community,
    discussion_pages,
    discussion_state,
    spam,
    threads,
    trees,
)
from forum.templating import iso_time

log = logging.getLogger(__name__)


def settings() -> threads.DiscussionSettings:
    return threads.DiscussionSettings.from_config(current_app.config)


def new_comment_form(parent_id: int | None = None) -> CommentForm:
    form = CommentForm(formdata=None)
    form.parent_id.data = str(parent_id) if parent_id else ""
    form.form_started.data = spam.form_token(current_app.secret_key)
    form.idempotency_key.data = str(uuid.uuid4())
    return form


def restore_fields(form, action: str, names: tuple[str, ...]) -> bool:
    """Put the fields kept for the form posted to ``action`` (its session had ended) back
    into ``form``; True when there were some, and the reader is told."""
    fields = kept_forms.restore(action)
    if fields is None:
        return False
    for name in names:
        if name in fields and name in form:
            form[name].data = fields[name]
    flash(
        _("Your text is back in the form. Nothing was sent yet: send it when you're ready."),
        "info",
    )
    return True


def restored_comment_form(article: Article) -> CommentForm:
    """A new comment form, holding the text kept when the reader's session ended, if any."""
    form = new_comment_form()
    restore_fields(
        form,
        url_for("discussion.post", slug=article.slug),
        ("body", "idempotency_key", "form_started"),
    )
    return form


def render_article(
    article: Article,
    *,
    form: CommentForm | None = None,
    preview_html: str | None = None,
    status: int = 200,
    refusal: kept_forms.Refusal | None = None,
) -> tuple[str | bytes, int]:
    """The article page; ``form`` carries a draft and its errors back to the reader, and
    ``refusal`` says why it wasn't sent when that isn't its text (an ended session, a limit).

    The threads come from the shared rendering for this kind of viewer when there is one
    (``forum.discussion.cached``), with the reader's own marks put in place; a plain request
    of a logged-in reader or moderator gets the page around them from a cached frame too
    (``forum.discussion.frame``: the page comes back as bytes then). An unknown ``sort`` is
    the service's 400; a page that isn't there is a 404."""
    sort = discussion_pages.Sort.parse(request.args.get("sort"))
    page_number = page_arg()
    reader = current_actor()
    config = settings()
    kind = cached.viewer_kind(reader, article)
    marks = cached.ReaderMarks.of(reader, article)
    if kind == "reader" and marks.unshared:
        kind = None
    embedded = embed_context.of_request()
    plain = form is None and preview_html is None and refusal is None and status == 200
    if plain and embedded is None and frame.applies(kind):
        try:
            return _framed_page(article, reader, kind, marks, sort, page_number, config), status
        except frame.FrameLeak:
            # A template read something personal while the frame was rendered: a bug to fix
            # (tests/views/test_page_frames.py would show it), never a reader's 500.
            log.exception("Frame refused for %s; rendering the page in full", request.path)
    # Before anything is rendered: every template render asks the context processors for
    # the navigation's unread count, which this query answers beside the follow state.
    following = _following(reader, article)
    if kind in (None, "anonymous"):
        _discussion, html = cached.render_threads_block(
            article, reader, sort, page_number, config, marks=marks
        )
    else:
        block = cached.shared_threads_block(article, kind, reader, sort, page_number, config)
        html = cached.personalize(block, reader, article, marks, config, generate_csrf()).decode()
    if embedded is not None:
        # The iframe on the publisher's page (a refused form posted from it lands here too):
        # the same discussion block in the embed layout, framed only by EMBED_ORIGINS.
        security.allow_embed_framing()
    html = render_template(
        "embed/discussion.html" if embedded is not None else "discussion/article.html",
        embed=embedded,
        article_layout="embed/layout.html" if embedded is not None else "base.html",
        article=article,
        position=articles.series_position(article),
        threads_html=cached.threads_markup(html),
        form=form or (restored_comment_form(article) if reader is not None else None),
        preview_html=preview_html,
        refusal=refusal,
        settings=config,
        following=following,
        # The server's clock, so the script's "new since your last visit" needs no
        # trust in the reader's clock.
        rendered_at=iso_time(utcnow()),
    )
    if embedded is not None:
        html = embed_context.finish_page(html, embedded)
    return html, status


def _framed_page(article, reader, kind, marks, sort, page_number, config) -> bytes:
    """The page from its cached frame and the shared threads, with the reader's own values."""
    following = _following(reader, article)
    token = generate_csrf()
    block = cached.shared_threads_block(article, kind, reader, sort, page_number, config)
    threads_bytes = cached.personalize(block, reader, article, marks, config, token)
    before, after = frame.frame_parts(
        frame.frame_key(article, kind, reader, following, sort, page_number),
        lambda: _frame_html(article, frame.viewer(kind, reader), following, config),
    )
    return frame.assemble(before, threads_bytes, after, frame.personal_values(token))


def _following(reader: User | None, article: Article) -> bool:
    """Whether the reader follows the discussion. The navigation's unread count is asked in
    the same query and kept for this request (``community.views``' context processor)."""
    if reader is None:
        return False
    following, g.unread_count = community.following_and_unread(reader, article)
    return following


def _frame_html(article: Article, viewer, following: bool, config) -> str:
    """The page around the threads, with marks for everything personal (see frame.py)."""
    form = new_comment_form()
    form.form_started.data = frame.STARTED_MARK
    form.idempotency_key.data = frame.IDEMPOTENCY_MARK
    if "csrf_token" in form:
        form.csrf_token.current_token = cached.TOKEN_PLACEHOLDER
    g.form_token_placeholder = cached.TOKEN_PLACEHOLDER
    try:
        return render_template(
            "discussion/article.html",
            embed=None,
            article_layout="base.html",
            article=article,
            position=articles.series_position(article),
            threads_html=frame.THREADS_SLOT,
            form=form,
            preview_html=None,
            refusal=None,
            settings=config,
            following=following,
            current_user=viewer,
            **frame.context(),
        )
    finally:
        g.pop("form_token_placeholder", None)


def serve_article(slug: str) -> Response:
    """``GET /articles/<slug>``: anonymous readers get the cached page, revalidated by its
    ``ETag`` (one small query, no ORM objects, when nothing changed); everyone else gets
    ``render_article``."""
    if current_actor() is not None or not cached.anonymous_cacheable():
        body, status = render_article(articles.get_article(slug))
        response = make_response(body, status)
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    sort = discussion_pages.Sort.parse(request.args.get("sort"))
    page_number = page_arg()
    state = discussion_state.version_of(slug)
    if state is None:
        articles.get_article(slug)  # its NotFound, with its words
    etag = cached.anonymous_etag(state.id, state.version, sort, page_number)
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=_public(etag))
    cache = page_cache()
    body = cache.get(cached.cache_key(state.id, state.version, "anonymous-page", sort, page_number))
    if body is None:
        # Rendered from the article as it is now, which may be a version newer than the one
        # just read: the key and the ETag follow what was rendered.
        article = articles.get_article(slug)
        body = render_article(article)[0].encode()
        version = article.discussion_version
        cache.set(cached.cache_key(article.id, version, "anonymous-page", sort, page_number), body)
        etag = cached.anonymous_etag(article.id, version, sort, page_number)
    return Response(body, mimetype="text/html", headers=_public(etag))


def _public(etag: str) -> dict[str, str]:
    """Headers of an anonymous page: any proxy may keep it, and must revalidate it."""
    # Its language follows Accept-Language (and an account's setting, hence Cookie).
    return {
        "ETag": f'"{etag}"',
        "Cache-Control": "public, no-cache",
        "Vary": "Accept-Language, Cookie",
    }


def comment_node(comment: Comment, reader) -> trees.Node:
    """``comment`` alone (no replies) as it appears to ``reader`` at its place in the tree."""
    return cached.comment_node(comment, reader, settings())


def render_comment_fragment(comment: Comment) -> str:
    """The comment's ``<li>`` rendered by the same macros as the page, for the viewer."""
    reader = current_actor()
    return render_template(
        "discussion/_fragment.html",
        nodes=[comment_node(comment, reader)],
        article=comment.article,
        viewer=reader,
        settings=settings(),
        voted=community.voted_in(reader, comment.article),
        can_pin=community.can_pin(reader, comment.article),
    )
