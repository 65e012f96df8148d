"""Registration, authentication and password changes."""

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam, select

from forum.extensions import db, passwords
from forum.models import Role, User
from forum.models.users import new_session_token
from forum.services.errors import NotAllowed, NotFound, ValidationFailed
from forum.services.names import look_alike_problem, set_skeletons
from forum.services.text import clean_display_name
from forum.services.usernames import USERNAME_RULE, is_valid_username
from forum.services.words import _l, lazy_number
from forum.sqlite import writing


def find_user(username: str, *, include_deleted: bool = True) -> User | None:
    """The account with this name, whatever its letter case; the one lookup by name."""
    query = select(User).where(User.username_is(username))
    if not include_deleted:
        query = query.where(User.deleted_at.is_(None))
    return db.session.execute(query).scalar_one_or_none()


def get_by_username(username: str, *, include_deleted: bool = True) -> User:
    """The account with this name, or NotFound (a 404 page)."""
    user = find_user(username, include_deleted=include_deleted)
    if user is None:
        raise NotFound(_l("No one by that name has an account here."))
    return user


def normalize_address(address: str) -> str:
    """The address as stored (domain lower-cased), or NotAllowed when it isn't one. The one
    check for every address an account gets: at registration and on the account page."""
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise NotAllowed(
            _l("That isn't an email address: %(reason)s", reason=str(exc)), field="email"
        ) from None


def username_problem(username: str) -> str | None:
    """Why ``username`` can't be used, or None."""
    if not is_valid_username(username):
        return _l("Usernames are %(rule)s.", rule=USERNAME_RULE)
    if find_user(username) is not None:
        return _l("That username is taken.")
    return look_alike_problem(username)


def password_problem(password: str, username: str, min_length: int, max_length: int) -> str | None:
    """Why ``password`` is too weak, or None. Long passwords are accepted whole, never cut."""
    if len(password) < min_length:
        return _l("Use at least %(count)s characters.", count=lazy_number(min_length))
    if len(password) > max_length:
        return _l("Use at most %(count)s characters.", count=lazy_number(max_length))
    if password.strip().lower() == username.strip().lower():
        return _l("Your password can't be your username.")
    return None


def register(
    username: str,
    password: str,
    *,
    email: str | None = None,
    display_name: str | None = None,
    role: Role = Role.READER,
    min_length: int = 10,
    max_length: int = 1024,
) -> User:
    """Create an account; raises ValidationFailed naming each bad field."""
    username = username.strip()
    errors = {}
    if problem := username_problem(username):
        errors["username"] = problem
    if problem := password_problem(password, username, min_length, max_length):
        errors["password"] = problem
    display_name = clean_display_name(display_name)
    # It may look like the new account's own username (not stored yet), no one else's.
    if display_name and (problem := look_alike_problem(display_name)):
        errors["display_name"] = problem
    address = None
    if email and email.strip():
        # Checked like the account page's address: a carriage return or a non-address
        # stored here would end up in mail headers once confirmation is sent.
        try:
            address = normalize_address(email)
        except NotAllowed as exc:
            errors["email"] = exc._message  # still lazy: read in the reader's language
    if errors:
        raise ValidationFailed(errors)
    user = User(
        username=username,
        username_key=username.lower(),
        display_name=display_name,
        email=address,
        password_hash=passwords.hash(password),
        role=role,
    )
    set_skeletons(user)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(username: str, password: str) -> User | None:
    """The user if the password matches; None otherwise, with the same cost either way."""
    user = find_user(username) if is_valid_username(username.strip()) else None
    if not passwords.verify(user.password_hash if user else None, password):
        return None
    if passwords.needs_rehash(user.password_hash):
        new_hash = passwords.hash(password)  # before the write lock (SQLite), not inside it
        with writing(db.session):
            user.password_hash = new_hash
            db.session.commit()
    return user


def change_password(
    user: User, current: str, new: str, *, min_length: int = 10, max_length: int = 1024
) -> None:
    """Set a new password after checking the current one; every other session ends."""
    if not passwords.verify(user.password_hash, current):
        raise NotAllowed(_l("That isn't your current password."), field="current_password")
    if problem := password_problem(new, user.username, min_length, max_length):
        raise NotAllowed(problem, field="new_password")
    user.password_hash = passwords.hash(new)
    user.session_token = new_session_token()
    db.session.commit()


def end_all_sessions(user: User) -> None:
    """Make every session cookie issued to ``user`` so far useless."""
    user.session_token = new_session_token()
    db.session.commit()


def load_session_user(user_id: str) -> User | None:
    """Flask-Login's loader: ``"<id>:<token>"`` is valid only while the token matches."""
    ident, _, token = user_id.partition(":")
    if not ident.isdigit() or not token:
        return None
    user = db.session.execute(_USER_BY_ID, {"id": int(ident)}).scalar_one_or_none()
    if user is None or user.session_token != token:
        return None
    return user


# Built once: it runs on every request of a logged-in reader, and ``Session.get`` built
# its statement each time (half of the load).
_USER_BY_ID = select(User).where(User.id == bindparam("id"))
