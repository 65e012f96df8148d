"""Named predicates deciding who may do what. Used by services, views and templates alike;
the server checks them on every POST whatever the templates chose to show."""

from datetime import datetime, timedelta

from forum.models import Article, Comment, CommentStatus, Role, TokenScope, User, utcnow


def _is_user(user: User | None) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def is_moderator(user: User | None) -> bool:
    """Moderators and admins (the role rule itself is ``User.is_moderator``)."""
    return _is_user(user) and user.is_moderator


def is_admin(user: User | None) -> bool:
    return _is_user(user) and user.is_admin


def in_good_standing(user: User | None) -> bool:
    """Logged in and not suspended: what every write power needs. A suspension leaves a
    member reading, appealing and deleting their own data, and nothing else (no votes,
    reports, follows or pins, whatever their role)."""
    return _is_user(user) and not user.is_suspended()


def can_edit_profile(user: User | None) -> bool:
    """A new name, bio or picture is a write power: a suspended member keeps theirs as they
    are (they may still remove their picture)."""
    return in_good_standing(user) and user.deleted_at is None


def can_post(user: User | None, article: Article) -> bool:
    """Whether ``user`` may start or join the discussion under ``article`` now."""
    return in_good_standing(user) and (not article.discussion_locked)


def can_reply(user: User | None, comment: Comment) -> bool:
    """Replies go to comments that still stand in the thread."""
    return can_post(user, comment.article) and comment.is_visible


def can_edit(
    user: User | None, comment: Comment, window_minutes: int, now: datetime | None = None
) -> bool:
    """Authors edit their own visible or pending comments within the edit window."""
    return (
        _is_user(user)
        and comment.author_id == user.id
        and comment.status in (CommentStatus.VISIBLE, CommentStatus.PENDING)
        and not user.is_suspended()
        and not comment.article.discussion_locked
        and (now or utcnow()) - comment.created_at <= timedelta(minutes=window_minutes)
    )


def can_delete(user: User | None, comment: Comment) -> bool:
    """Authors withdraw their own comments (even hidden ones) at any time."""
    return (
        _is_user(user)
        and comment.author_id == user.id
        and comment.status not in (CommentStatus.DELETED,)
    )


def can_see_text(user: User | None, comment: Comment) -> bool:
    """Whether ``user`` may read this comment's words (not just a placeholder)."""
    if comment.is_visible:
        return True
    if comment.status is CommentStatus.DELETED:
        return False
    if comment.status is CommentStatus.REJECTED:
        return _is_user(user) and (user.id == comment.author_id or is_moderator(user))
    # hidden or pending: the author and moderators
    return _is_user(user) and (user.id == comment.author_id or is_moderator(user))


def can_hide(user: User | None, comment: Comment) -> bool:
    return is_moderator(user)


def can_report(user: User | None, comment: Comment) -> bool:
    """Readers in good standing report other people's visible comments."""
    return in_good_standing(user) and comment.author_id != user.id and comment.is_visible


def can_vote(user: User | None) -> bool:
    """Votes (and taking them back) move what others see first: not while suspended."""
    return in_good_standing(user)


def can_follow(user: User | None) -> bool:
    """Following subscribes to mail and notifications: a write, refused while suspended
    (unfollowing only lessens what one receives, so it stays open)."""
    return in_good_standing(user)


def can_lock(user: User | None, article: Article) -> bool:
    return is_moderator(user)


def can_suspend(user: User | None, target: User) -> bool:
    """Moderators suspend readers and authors; nobody suspends an admin or themselves."""
    return (
        is_moderator(user)
        and target.id != user.id
        and target.role is not Role.ADMIN
        and (is_admin(user) or target.role is not Role.MODERATOR)
    )


def can_grant_trust(user: User | None, target: User) -> bool:
    """Moderators lift the new-account limits from a reader not yet trusted by hand (staff
    roles are trusted by their role already)."""
    return is_moderator(user) and not target.trusted and target.role is Role.READER


def can_change_role(user: User | None, target: User) -> bool:
    """Only admins change roles, and not their own (so an admin can't lock everyone out)."""
    return is_admin(user) and target.id != user.id


def is_article_author(user: User | None, article: Article) -> bool:
    return _is_user(user) and article.author_id == user.id


def has_author_desk(user: User | None) -> bool:
    """Authors, moderators and admins have an author's desk (even while suspended)."""
    return _is_user(user) and user.role in (Role.AUTHOR, Role.MODERATOR, Role.ADMIN)


def can_write_articles(user: User | None) -> bool:
    """Authors, moderators and admins write articles, unless they are suspended."""
    return has_author_desk(user) and not user.is_suspended()


def can_edit_article(user: User | None, article: Article) -> bool:
    """Authors edit their own articles; moderators and admins edit any article. An external
    article has no text here to edit: admins change its title and address on their page."""
    if article.is_external:
        return False
    return can_write_articles(user) and (article.author_id == user.id or is_moderator(user))


def can_make_tokens(user: User | None) -> bool:
    """Personal API tokens are made by members in good standing (a suspended member's
    tokens stop working, so making new ones would be pointless)."""
    return in_good_standing(user) and user.deleted_at is None


def can_hold_token_scope(user: User | None, scope: TokenScope) -> bool:
    """A token's scope reaches no higher than its holder's role: moderate is for
    moderators and admins, read and write for every member."""
    if not _is_user(user):
        return False
    if scope is TokenScope.MODERATE:
        return user.is_moderator
    return True
