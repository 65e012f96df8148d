"""Public profiles: who someone is here, the comments they wrote that anyone can read, and
editing one's own display name and bio."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import Comment, CommentStatus, DisplayNameChange, User
from forum.services import names, permissions, premoderation
from forum.services.errors import Forbidden, ValidationFailed
from forum.services.pages import Page, paginate
from forum.services.sanitize import render_markdown
from forum.services.text import clean_display_name, clean_text
from forum.services.words import _l, lazy_number

BIO_MAX = 500
DISPLAY_NAME_MAX = 60  # the column's length


def listed_statuses(user: User, viewer: User | None) -> tuple[CommentStatus, ...]:
    """Everyone sees visible comments; the owner also sees their own pending and hidden ones
    (marked as such), which nobody else may."""
    if viewer is not None and getattr(viewer, "id", None) == user.id:
        return (CommentStatus.VISIBLE, CommentStatus.PENDING, CommentStatus.HIDDEN)
    return (CommentStatus.VISIBLE,)


def profile_comments(user: User, viewer: User | None, page: int, per_page: int) -> Page[Comment]:
    """One page of ``user``'s comments as ``viewer`` may see them, newest first, with their
    articles. Two queries: the count and the page."""
    statuses = listed_statuses(user, viewer)
    return paginate(
        select(Comment)
        .options(joinedload(Comment.article))
        .where(Comment.author_id == user.id, Comment.status.in_(statuses))
        .order_by(Comment.created_at.desc(), Comment.id.desc()),
        page,
        per_page,
    )


# --- editing one's own profile ---------------------------------------------------------------


def name_history(user: User, limit: int = 20) -> list[DisplayNameChange]:
    """The account's display-name changes, newest first (shown on the public profile)."""
    return list(
        db.session.execute(
            select(DisplayNameChange)
            .where(DisplayNameChange.user_id == user.id)
            .order_by(DisplayNameChange.changed_at.desc(), DisplayNameChange.id.desc())
            .limit(limit)
        ).scalars()
    )


def render_bio(user: User, bio: str, *, trusted_after: int) -> str:
    """The bio's HTML: comment Markdown, and links only for trusted accounts (a profile is
    an easy place to advertise, and no moderator reviews it)."""
    links = premoderation.is_trusted(user, trusted_after)
    return render_markdown(bio, profile="bio" if links else "bio_without_links")


def update_profile(
    user: User,
    *,
    display_name: str | None,
    bio: str | None,
    trusted_after: int,
    bio_max: int = BIO_MAX,
) -> User:
    """Change ``user``'s display name and bio. A new display name may not look like another
    account's name (forum/services/names.py) and is logged; raises ValidationFailed naming
    each bad field."""
    if not permissions.can_edit_profile(user):
        raise Forbidden(_l("While your account is suspended, your profile can't be changed."))
    new_name = clean_display_name(display_name)
    bio_text = clean_text(bio or "").strip()
    errors = {}
    if new_name is not None and len(new_name) > DISPLAY_NAME_MAX:
        errors["display_name"] = _l(
            "Use at most %(count)s characters.", count=lazy_number(DISPLAY_NAME_MAX)
        )
    elif (
        new_name is not None
        and new_name != user.display_name
        and (problem := names.look_alike_problem(new_name, exclude=user))
    ):
        errors["display_name"] = problem
    if len(bio_text) > bio_max:
        errors["bio"] = _l(
            "Use at most %(count)s characters (this is %(length)s).",
            count=lazy_number(bio_max),
            length=lazy_number(len(bio_text)),
        )
    if errors:
        raise ValidationFailed(errors)
    if new_name != user.display_name:
        db.session.add(
            DisplayNameChange(user_id=user.id, old_name=user.display_name, new_name=new_name)
        )
        user.display_name = new_name
        names.set_skeletons(user)
    user.bio_md = bio_text or None
    user.bio_html = render_bio(user, bio_text, trusted_after=trusted_after) if bio_text else None
    db.session.commit()
    return user


def rerender_bios(*, trusted_after: int) -> tuple[int, int]:
    """Render every stored bio again (after the sanitizer changes, or to give accounts
    trusted since their last edit their links); returns (bios, changed). One commit."""
    users = db.session.execute(select(User).where(User.bio_md.is_not(None))).scalars().all()
    changed = 0
    for user in users:
        html = render_bio(user, user.bio_md, trusted_after=trusted_after)
        if html != user.bio_html:
            user.bio_html = html
            changed += 1
    db.session.commit()
    return len(users), changed
