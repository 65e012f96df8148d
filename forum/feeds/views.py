"""Atom feeds of visible comments: one article's, one person's, and the whole site's.

Built with feedgen; only visible comments ever appear (never hidden, pending or deleted)."""

from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, current_app

from forum.models import Article, Comment, utcnow
from forum.services import accounts, articles, feeds
from forum.services.text import xml_safe

bp = Blueprint("feeds", __name__)


def _external(endpoint: str, anchor: str = "", **values) -> str:
    """An absolute URL under the configured ``BASE_URL``: feeds are fetched and kept by
    readers and aggregators, so their links must never follow a request's ``Host`` header
    (anyone can send one, and a cached feed would carry it to everybody)."""
    parts = urlsplit(current_app.config["BASE_URL"])
    urls = current_app.url_map.bind(
        parts.netloc, script_name=parts.path.rstrip("/") or "/", url_scheme=parts.scheme
    )
    url = urls.build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url


def _atom(feed_id: str, title: str, alternate: str, comments: list[Comment]) -> Response:
    # Every string is passed through xml_safe: lxml raises on U+FFFF, C0 controls and the
    # like, and old rows (or a title, a display name) may hold them.
    feed = FeedGenerator()
    feed.id(xml_safe(feed_id))
    feed.title(xml_safe(title))
    feed.link(href=xml_safe(alternate), rel="alternate")
    feed.link(href=xml_safe(feed_id), rel="self")
    feed.language("en")
    feed.generator("forum")  # no library name or version in responses
    if comments:
        feed.updated(max(c.edited_at or c.created_at for c in comments))
    else:
        feed.updated(utcnow())
    for comment in reversed(comments):  # feedgen prepends; keep newest first in the output
        entry = feed.add_entry()
        link = _external("discussion.permalink", comment_id=comment.id)
        author = xml_safe(comment.author_name)
        if comment.is_imported:
            author += " (imported)"
        entry.id(link)
        entry.link(href=link)
        entry.title(f"{author} on “{xml_safe(comment.article.title)}”")
        entry.author(name=author)
        entry.published(comment.created_at)
        entry.updated(comment.edited_at or comment.created_at)
        entry.content(xml_safe(comment.body_html), type="html")  # already sanitized at write time
    return Response(feed.atom_str(pretty=True), mimetype="application/atom+xml")


@bp.get("/articles/<slug>/comments.atom")
def article_comments(slug: str):
    article: Article = articles.get_article(slug)
    return _atom(
        _external("feeds.article_comments", slug=slug),
        f"Comments on “{article.title}”",
        _external("site.article", anchor="discussion", slug=slug),
        feeds.newest_comments(article=article),
    )


@bp.get("/users/<username>/comments.atom")
def user_comments(username: str):
    # A deleted account has no feed (its profile page says it was deleted).
    user = accounts.get_by_username(username, include_deleted=False)
    return _atom(
        _external("feeds.user_comments", username=user.username),
        f"Comments by {user.name}",
        _external("site.profile", username=user.username),
        feeds.newest_comments(author=user),
    )


@bp.get("/comments.atom")
def site_comments():
    return _atom(
        _external("feeds.site_comments"),
        "Newest comments",
        _external("site.index"),
        feeds.newest_comments(),
    )
