"""External articles: pages on the publisher's own site that have their discussion here.

A page is known by its *canonical URL* (:func:`canonical_url`), so the many ways a browser or
an export names one page (``HTTP://Example.tld:80/a?utm_source=x#top``) find one discussion,
while addresses that are different pages (``/?p=4`` and ``/2014/test/``) stay different.
When a page moves, :func:`remap` points the discussion at the new address and keeps the old
one as an :class:`ArticleAlias`, which :func:`find_by_url` still answers to."""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.models import Article, ArticleAlias, ModAction, Role, User
from forum.models.articles import EXTERNAL_URL_MAX
from forum.services import article_rules, permissions
from forum.services.accounts import find_user
from forum.services.errors import Conflict, Forbidden, NotAllowed, NotFound
from forum.services.locking import commit_once, is_unique_violation, lock
from forum.services.moderation import record_action
from forum.services.pages import Page, paginate
from forum.services.text import clean_text
from forum.services.words import _l

DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that say how a reader arrived, not which page they are on.
TRACKING_PARAMETER = re.compile(
    r"^(utm_.*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|_ga|_gl|igshid)$",
    re.IGNORECASE,
)


def canonical_url(raw: str) -> str:
    """The one address a page's discussion is filed under, or NotAllowed saying what is wrong.

    Scheme and host are lower-cased (an international host becomes its ASCII form), a default
    port is dropped, the path is kept as written ("/" when empty), the query is kept in its
    order without tracking parameters, and the fragment is dropped."""
    text = (raw or "").strip()
    if not text:
        raise NotAllowed(_l("Give the page's address."), field="url")
    if len(text) > EXTERNAL_URL_MAX:
        raise NotAllowed(
            _l("A page address can be at most %(count)s characters.", count=EXTERNAL_URL_MAX), "url"
        )
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise NotAllowed(
            _l("That is not a page address (%(error)s).", error=str(error)), field="url"
        ) from error
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise NotAllowed(_l("A page address starts with http:// or https://."), field="url")
    if parts.username is not None or parts.password is not None:
        raise NotAllowed(_l("A page address must not hold a user name or password."), field="url")
    host = _ascii_host(parts.hostname or "")
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if any(ch.isspace() for ch in parts.path + parts.query):
        raise NotAllowed(_l("A page address cannot contain spaces."), field="url")
    query = urlencode(
        [
            (name, value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
            if not TRACKING_PARAMETER.match(name)
        ]
    )
    url = urlunsplit((scheme, netloc, parts.path or "/", query, ""))
    if len(url) > EXTERNAL_URL_MAX:
        raise NotAllowed(
            _l("A page address can be at most %(count)s characters.", count=EXTERNAL_URL_MAX), "url"
        )
    return url


def _ascii_host(host: str) -> str:
    """The host in lower case, an international name in its ASCII (IDNA) form."""
    host = host.rstrip(".").lower()
    if not host:
        raise NotAllowed(_l("A page address needs a host name."), field="url")
    if host.isascii():
        if not re.fullmatch(r"[a-z0-9.\-_:\[\]]+", host):
            raise NotAllowed(_l("That page address has a host name that cannot exist."), "url")
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise NotAllowed(
            _l("That page address has a host name that cannot exist."), "url"
        ) from error


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a canonical URL, as a browser names the page's origin."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def find_by_url(raw: str) -> Article | None:
    """The article whose page is at ``raw`` (its canonical URL now, or an address it had),
    or None. An address that cannot be a page finds nothing."""
    try:
        url = canonical_url(raw)
    except NotAllowed:
        return None
    article = db.session.execute(
        select(Article).where(Article.external_url == url)
    ).scalar_one_or_none()
    if article is not None:
        return article
    return db.session.execute(
        select(Article).join(ArticleAlias).where(ArticleAlias.url == url)
    ).scalar_one_or_none()


def get_by_url(raw: str) -> Article:
    article = find_by_url(raw)
    if article is None:
        raise NotFound(_l("No discussion is attached to that page yet."))
    return article


def _title_for(url: str, title: str) -> str:
    cleaned = clean_text(title or "").strip()[: article_rules.TITLE_MAX]
    if cleaned:
        return cleaned
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"[: article_rules.TITLE_MAX]


def create_external(url: str, title: str, author: User) -> Article:
    """A new external article for the page at ``url`` (added to the session, not committed).

    Its slug (the discussion's address here) is made from its title."""
    url = canonical_url(url)
    if find_by_url(url) is not None:
        raise Conflict(_l("That page already has a discussion."))
    title = _title_for(url, title)
    slug = article_rules.free_slug(Article, article_rules.make_slug(title, fallback="page"))
    article = Article(slug=slug, title=title, external_url=url, author=author)
    db.session.add(article)
    db.session.flush()
    return article


def find_many(urls: Iterable[str]) -> dict[str, int]:
    """Canonical URL → article id, for those of ``urls`` (canonical already) that have a
    discussion, at their address now or an old one. A few queries for any number of pages."""
    wanted = sorted(set(urls))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            db.session.execute(
                select(Article.external_url, Article.id).where(Article.external_url.in_(chunk))
            ).all()
        )
        found.update(
            db.session.execute(
                select(ArticleAlias.url, ArticleAlias.article_id).where(ArticleAlias.url.in_(chunk))
            ).all()
        )
    return found


def create_many(pages: Iterable[tuple[str, str]], author: User) -> dict[str, int]:
    """New external articles for ``pages`` ((canonical URL, title) pairs, none of which has a
    discussion yet), inserted in bulk (imports make thousands); canonical URL → new id.

    Slugs are made from the titles as :func:`create_external` makes them, kept apart from
    every slug already taken. Nothing is committed."""
    pages = list(dict(pages).items())
    if not pages:
        return {}
    taken = set(db.session.execute(select(Article.slug)).scalars())
    rows = []
    for url, title in pages:
        title = _title_for(url, title)
        base = article_rules.make_slug(title, fallback="page")
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        rows.append({"slug": slug, "title": title, "external_url": url, "author_id": author.id})
    for start in range(0, len(rows), 1000):
        db.session.execute(insert(Article), rows[start : start + 1000])
    return find_many(url for url, _ in pages)


def get_or_create_external(url: str, title: str, author: User) -> tuple[Article, bool]:
    """The article for ``url``, and whether it was just created (not committed)."""
    found = find_by_url(url)
    if found is not None:
        return found, False
    return create_external(url, title, author), True


@dataclass(frozen=True)
class Remapping:
    """What :func:`remap` did (or, in a dry run, would do)."""

    article: Article
    old_url: str
    new_url: str
    comments: int


def remap(old: str, new: str, dry_run: bool = False) -> Remapping:
    """Point the discussion of the page at ``old`` to ``new``, keeping ``old`` as an alias.

    Refuses when nothing is at ``old`` or another discussion is already at ``new``."""
    old_url, new_url = canonical_url(old), canonical_url(new)
    article = find_by_url(old_url)
    if article is None:
        raise NotFound(_l("No discussion is attached to %(url)s.", url=old_url))
    existing = find_by_url(new_url)
    if existing is not None and existing.id != article.id:
        raise Conflict(
            _l(
                "%(url)s already has its own discussion (/articles/%(slug)s).",
                url=new_url,
                slug=existing.slug,
            )
        )
    result = Remapping(article, article.external_url or old_url, new_url, article.comment_count)
    if dry_run or article.external_url == new_url:
        return result
    _move(article, new_url)
    db.session.commit()
    return result


def _move(article: Article, new_url: str) -> None:
    """Point ``article`` at ``new_url`` (canonical, free or one of its own aliases), keeping
    its current address as an alias. Not committed."""
    if article.external_url == new_url:
        return
    stale = db.session.execute(
        select(ArticleAlias).where(ArticleAlias.url == new_url)
    ).scalar_one_or_none()
    if stale is not None:  # moving back to an address it had before
        db.session.delete(stale)
        db.session.flush()
    if article.external_url is not None:
        db.session.add(ArticleAlias(url=article.external_url, article=article))
    article.external_url = new_url


# --- the admins' list -----------------------------------------------------------------------


def external_articles_page(page: int, per_page: int) -> Page[Article]:
    """External articles, most recently published first."""
    query = (
        select(Article)
        .where(Article.external_url.is_not(None))
        .order_by(Article.published_at.desc(), Article.id.desc())
    )
    return paginate(query, page, per_page)


def get_external(article_id: int) -> Article:
    article = db.session.get(Article, article_id)
    if article is None or not article.is_external:
        raise NotFound(_l("No external article has that number."))
    return article


@dataclass(frozen=True)
class ExternalChanges:
    """What an admin submits for an external article."""

    title: str
    url: str
    author: str  # a username
    locked: bool
    lock_reason: str = ""


def update_external(actor: User, article: Article, changes: ExternalChanges) -> Article:
    """An admin edits an external article: its title, its page (the old address is kept
    as an alias, as ``articles remap`` does), its author and whether it is locked. One
    commit; a lock or unlock is logged like a moderator's."""
    if not permissions.is_admin(actor):
        raise Forbidden(_l("Only admins can edit external articles."))
    title = clean_text(changes.title or "").strip()
    if not title:
        raise NotAllowed(_l("Give the article a title."), field="title")
    if len(title) > article_rules.TITLE_MAX:
        raise NotAllowed(
            _l("A title can be at most %(count)s characters.", count=article_rules.TITLE_MAX),
            field="title",
        )
    new_url = canonical_url(changes.url)
    existing = find_by_url(new_url)
    if existing is not None and existing.id != article.id:
        raise Conflict(
            _l(
                "%(url)s already has its own discussion (/articles/%(slug)s).",
                url=new_url,
                slug=existing.slug,
            )
        )
    author = find_user(changes.author or "", include_deleted=False)
    if author is None or not permissions.has_author_desk(author):
        raise NotAllowed(_l("The author must be an author, moderator or admin."), field="author")
    lock(article)  # the lock state below is read again, and held until the commit
    article.title = title
    article.author = author
    _move(article, new_url)
    reason = clean_text(changes.lock_reason or "").strip()[:500]
    if changes.locked != article.discussion_locked:
        article.discussion_locked = changes.locked
        article.lock_reason = (reason or None) if changes.locked else None
        action = ModAction.LOCK if changes.locked else ModAction.UNLOCK
        record_action(actor, action, article=article, reason=reason)
    elif changes.locked and (reason or None) != article.lock_reason:
        article.lock_reason = reason or None  # readers see the reason under the lock
    db.session.commit()
    return article


# --- embedding ------------------------------------------------------------------------------


def embed_author(requested: str | None, fallback: str | None) -> User:
    """Who a discussion created by an embed belongs to: the page's ``data-author`` when that
    account may have articles (an author, moderator or admin), else the configured account,
    else the first admin. Forbidden when the site has none of these."""
    for username in (requested, fallback):
        if not username:
            continue
        user = find_user(username, include_deleted=False)
        if user is not None and permissions.has_author_desk(user):
            return user
    admin = db.session.execute(
        select(User)
        .where(User.role == Role.ADMIN, User.deleted_at.is_(None))
        .order_by(User.id)
        .limit(1)
    ).scalar_one_or_none()
    if admin is None:
        raise Forbidden(_l("This forum has no account to own new discussions yet."))
    return admin


def open_for_embed(
    raw_url: str,
    title: str,
    *,
    allowed_origins: tuple[str, ...],
    requested_author: str | None,
    fallback_author: str | None,
    before_create: Callable[[], None] = lambda: None,
) -> tuple[Article, bool]:
    """The discussion of the page at ``raw_url``, created (and committed) when the page has
    none and its origin is one of ``allowed_origins``; whether it was created.

    An existing discussion is found whoever asks. A page from any other origin is refused
    (Forbidden) and nothing is created, so a stranger can't fill the forum with discussions
    of pages that aren't the publisher's. ``before_create`` runs just before a discussion is
    created (the view's rate limit)."""
    url = canonical_url(raw_url)
    found = find_by_url(url)
    if found is not None:
        return found, False
    if origin_of(url) not in allowed_origins:
        raise Forbidden(
            _l("Discussions can only be started here for pages of this site's publisher.")
        )
    author = embed_author(requested_author, fallback_author)
    before_create()
    try:
        article = create_external(url, title, author)
        commit_once(lambda: Conflict(_l("That page already has a discussion.")))
    except (Conflict, IntegrityError) as error:
        # Two readers opening a new page at once both try to create it: the later one finds
        # the first one's discussion instead of an error (whether it noticed before its
        # insert, at its insert, or at its commit).
        db.session.rollback()
        if isinstance(error, IntegrityError) and not is_unique_violation(error):
            raise
        found = find_by_url(url)
        if found is None:
            raise
        return found, False
    return article, True


def comment_counts(raw_urls: list[str]) -> dict[str, int]:
    """How many comments an anonymous reader sees under each page, keyed by the URLs as
    given; 0 for a page with no discussion (or an address that can't be a page)."""
    canonical: dict[str, str] = {}
    for raw in raw_urls:
        try:
            canonical[raw] = canonical_url(raw)
        except NotAllowed:
            continue
    wanted = set(canonical.values())
    counts: dict[str, int] = {}
    if wanted:
        rows = db.session.execute(
            select(Article.external_url, Article.comment_count).where(
                Article.external_url.in_(wanted)
            )
        ).all()
        counts.update({url: count for url, count in rows})
        rest = wanted - counts.keys()
        if rest:
            aliases = db.session.execute(
                select(ArticleAlias.url, Article.comment_count)
                .join(Article, ArticleAlias.article_id == Article.id)
                .where(ArticleAlias.url.in_(rest))
            ).all()
            counts.update({url: count for url, count in aliases})
    return {raw: counts.get(canonical.get(raw, ""), 0) for raw in raw_urls}
