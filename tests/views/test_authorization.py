"""Who may change what: every state-changing route of the app, for every kind of actor.

One row per route: the path (placeholders are filled from a fresh world), what is posted, and
the status each actor must get. A refused request (anything but a redirect to a page other
than the login page) must leave every row of every table as it was; an accepted one must
change something. New routes must be added to the table: ``test_every_state_changing_route_is
_in_the_table`` fails for any POST (or PUT, PATCH, DELETE) rule missing from it."""

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Comment, Notification, Role, User, utcnow
from forum.services import (
    api_tokens,
    appeals,
    community,
    external_articles,
    moderation,
    sanctions,
    threads,
)
from tests.avatar_support import png_bytes
from tests.conftest import (
    PASSWORD,
    client_as,
    make_article,
    make_user,
    seeded_template,
    snapshot,
)

ANON, READER, AUTHOR, WRITER, MOD, ADMIN, SUSPENDED = (
    "anon",  # not logged in
    "reader",  # another reader, not involved
    "author",  # the comment's author (a reader)
    "writer",  # the article's author
    "mod",
    "admin",
    "suspended",  # a reader suspended until next week
)
ACTORS = (ANON, READER, AUTHOR, WRITER, MOD, ADMIN, SUSPENDED)

# Routes with tests of their own (tests/views/test_auth.py, test_csrf.py).
OWN_TESTS = {"/login", "/register", "/logout", "/account"}
# Token links work without logging in (the signed token is the credential); their
# authorization is proved in tests/views/test_email_views.py.
OWN_TESTS |= {
    "/email/confirm/<token>",
    "/email/unsubscribe/<token>",
    "/password/forgot",
    "/password/reset/<token>",
}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


class FreshPicture(dict):
    """Form data with a small PNG as ``avatar``, a fresh file each time it is posted (a
    file object is used up by one request)."""

    def __init__(self) -> None:
        super().__init__(avatar="a fresh PNG")  # not empty: an empty dict posts no body

    def items(self):
        return [("avatar", (io.BytesIO(png_bytes()), "me.png"))]


def E(**expected: int) -> dict[str, int]:
    """The status each actor gets; 302 for ``anon`` is the redirect to the login page."""
    assert set(expected) == set(ACTORS), f"give all of {ACTORS}"
    return expected


@dataclass(frozen=True)
class Row:
    path: str  # placeholders: see World.values
    data: dict = field(default_factory=dict)
    expect: dict = field(default_factory=dict)
    changes: bool = True  # whether an accepted request must change the database
    accepted: int = 302  # the status of an accepted request (a page shown once: 200)

    def __str__(self) -> str:
        return self.path


# fmt: off
TABLE = [
    # --- taking part -------------------------------------------------------------------
    # Forms with the reader's text answer an anonymous POST (their session ended) with 401:
    # the form again, its text in it, and a link to log in (forum/kept_forms.py).
    Row("/articles/{article}/comments", {"body": "A new comment."},
        E(anon=401, reader=302, author=302, writer=302, mod=302, admin=302, suspended=403)),
    Row("/comments/{visible}/reply", {"body": "A reply."},
        E(anon=401, reader=302, author=302, writer=302, mod=302, admin=302, suspended=403)),
    # The live preview renders a draft and changes nothing; anyone logged in may ask.
    Row("/comments/preview", {"body": "A *draft*."},
        E(anon=302, reader=200, author=200, writer=200, mod=200, admin=200, suspended=200),
        changes=False),
    Row("/comments/{visible}/edit", {"body": "Changed text."},
        E(anon=401, reader=403, author=302, writer=403, mod=403, admin=403, suspended=403)),
    Row("/comments/{visible}/delete", {},
        E(anon=302, reader=403, author=302, writer=403, mod=403, admin=403, suspended=403)),
    # A suspension removes every write power but appealing and deleting one's own data:
    # a suspended member reads, but no longer reports, votes, follows or pins.
    Row("/comments/{visible}/flag", {"category": "abuse", "note": "Rude."},
        E(anon=401, reader=302, author=403, writer=302, mod=302, admin=302, suspended=403)),
    Row("/comments/{hidden}/appeal", {"message": "Please look again."},
        E(anon=302, reader=403, author=302, writer=403, mod=403, admin=403, suspended=403)),
    # --- moderating comments -------------------------------------------------------------
    Row("/comments/{visible}/hide", {"reason": "spam", "note": "An advert."},
        E(anon=302, reader=403, author=403, writer=403, mod=302, admin=302, suspended=403)),
    Row("/comments/{hidden}/unhide", {},
        E(anon=302, reader=403, author=403, writer=403, mod=302, admin=302, suspended=403)),
    Row("/comments/{pending}/approve", {},
        E(anon=302, reader=403, author=403, writer=403, mod=302, admin=302, suspended=403)),
    Row("/comments/{pending}/reject", {"reason": "spam"},
        E(anon=302, reader=403, author=403, writer=403, mod=302, admin=302, suspended=403)),
    Row("/comments/{visible}/dismiss", {},
        E(anon=302, reader=403, author=403, writer=403, mod=302, admin=302, suspended=403)),
    Row("/moderation/appeals/{appeal}/grant", {},
        E(anon=302, reader=403, author=403, writer=403, mod=302, admin=302, suspended=403)),
    Row("/moderation/appeals/{appeal}/deny", {},
        E(anon=302, reader=403, author=403, writer=403, mod=302, admin=302, suspended=403)),
    # --- votes, pins, follows, notifications ---------------------------------------------
    # The reader has voted for {liked} and follows {article}; the writer pinned {liked}.
    Row("/comments/{visible}/vote", {},
        E(anon=302, reader=302, author=403, writer=302, mod=302, admin=302, suspended=403)),
    Row("/comments/{liked}/unvote", {},
        E(anon=302, reader=302, author=409, writer=409, mod=409, admin=409, suspended=403)),
    Row("/comments/{visible}/pin", {},
        E(anon=302, reader=403, author=403, writer=302, mod=302, admin=302, suspended=403)),
    Row("/comments/{liked}/unpin", {},
        E(anon=302, reader=403, author=403, writer=302, mod=302, admin=302, suspended=403)),
    Row("/articles/{article}/follow", {},
        E(anon=302, reader=409, author=302, writer=302, mod=302, admin=302, suspended=403)),
    Row("/articles/{article}/unfollow", {},
        E(anon=302, reader=302, author=409, writer=409, mod=409, admin=409, suspended=409)),
    # {notification} is one of the comment author's: nobody else may even learn it exists.
    Row("/notifications/{notification}/read", {},
        E(anon=302, reader=404, author=302, writer=404, mod=404, admin=404, suspended=404)),
    # Marking "all" read succeeds even for someone with nothing unread.
    Row("/notifications/read-all", {},
        E(anon=302, reader=302, author=302, writer=302, mod=302, admin=302, suspended=302),
        changes=False),
    # --- discussions ---------------------------------------------------------------------
    Row("/articles/{article}/lock", {"reason": "Too heated."},
        E(anon=302, reader=403, author=403, writer=403, mod=302, admin=302, suspended=403)),
    Row("/articles/{locked}/unlock", {},
        E(anon=302, reader=403, author=403, writer=403, mod=302, admin=302, suspended=403)),
    # --- people (the comment's author is a reader; "mod" is the moderator actor) -----------
    Row("/users/{comment_author}/suspend", {"days": "7", "reason": "Spam."},
        E(anon=302, reader=403, author=403, writer=403, mod=302, admin=302, suspended=403)),
    Row("/users/{other_mod}/suspend", {"days": "7", "reason": "Overreach."},
        E(anon=302, reader=403, author=403, writer=403, mod=403, admin=302, suspended=403)),
    Row("/users/{admin}/suspend", {"days": "indefinite", "reason": "Coup."},
        E(anon=302, reader=403, author=403, writer=403, mod=403, admin=403, suspended=403)),
    Row("/users/{suspended}/unsuspend", {},
        E(anon=302, reader=403, author=403, writer=403, mod=302, admin=302, suspended=403)),
    Row("/users/{comment_author}/trust", {},
        E(anon=302, reader=403, author=403, writer=403, mod=302, admin=302, suspended=403)),
    Row("/users/{comment_author}/role", {"role": "author"},
        E(anon=302, reader=403, author=403, writer=403, mod=403, admin=302, suspended=403)),
    Row("/users/{moderator}/role", {"role": "reader"},
        E(anon=302, reader=403, author=403, writer=403, mod=403, admin=302, suspended=403)),
    Row("/users/{admin}/role", {"role": "reader"},
        E(anon=302, reader=403, author=403, writer=403, mod=403, admin=403, suspended=403)),
    # --- articles and the author's desk (readers, suspended ones included, have neither) ---
    Row("/articles/new", {"title": "A New Article", "body": "Fresh words."},
        E(anon=302, reader=403, author=403, writer=302, mod=302, admin=302, suspended=403)),
    Row("/articles/{article}/edit",
        {"title": "Retitled", "slug": "open-article", "body": "Revised words."},
        E(anon=302, reader=403, author=403, writer=302, mod=302, admin=302, suspended=403)),
    Row("/author/seen", {},
        E(anon=302, reader=403, author=403, writer=302, mod=302, admin=302, suspended=403)),
    # External articles (pages of the publisher's site) are the admins' to edit.
    Row("/admin/articles/external/{external}",
        {"title": "Renamed page", "url": "https://www.example.com/moved", "author": "writer"},
        E(anon=302, reader=403, author=403, writer=403, mod=403, admin=302, suspended=403)),
    # --- your data: everyone may leave, suspended or not; the only admin may not ------------
    Row("/account/delete", {"password": PASSWORD, "comments": "keep"},
        E(anon=302, reader=302, author=302, writer=302, mod=302, admin=409, suspended=302)),
    # Anyone with an account chooses their language, suspended or not.
    Row("/account/language", {"language": "de"},
        E(anon=302, reader=302, author=302, writer=302, mod=302, admin=302, suspended=302)),
    # Mail is not configured in this app, so the mail-only routes answer 404.
    Row("/account/email", {"email": "new@example.org", "current_password": PASSWORD},
        E(anon=302, reader=302, author=302, writer=302, mod=302, admin=302, suspended=302)),
    Row("/account/email/confirmation", {},
        E(anon=302, reader=404, author=404, writer=404, mod=404, admin=404, suspended=404)),
    Row("/account/email/preference", {"preference": "daily"},
        E(anon=302, reader=404, author=404, writer=404, mod=404, admin=404, suspended=404)),
    # --- personal API tokens: the new token is the POST's answer (shown once, 200) ---------
    Row("/account/tokens", {"name": "A script", "scope": "read", "expires_in_days": "90"},
        E(anon=302, reader=200, author=200, writer=200, mod=200, admin=200, suspended=403),
        accepted=200),
    # {token} is the comment author's: nobody else may even learn it exists.
    Row("/account/tokens/{token}/revoke", {},
        E(anon=302, reader=404, author=302, writer=404, mod=404, admin=404, suspended=404)),
    # --- your profile: a suspension freezes name, bio and picture -----------------------------
    Row("/account/profile", {"display_name": "Somebody New", "bio": "Hello *there*."},
        E(anon=302, reader=302, author=302, writer=302, mod=302, admin=302, suspended=403)),
    Row("/account/avatar", FreshPicture(),
        E(anon=302, reader=302, author=302, writer=302, mod=302, admin=302, suspended=403)),
    # Nobody in the world has uploaded a picture: removing one is refused for all.
    Row("/account/avatar/remove", {},
        E(anon=302, reader=400, author=400, writer=400, mod=400, admin=400, suspended=400)),
]
# fmt: on


@dataclass
class World:
    users: dict[str, int]  # actor → account id (no entry for ANON)
    values: dict[str, object]  # placeholder → slug, id or username


def build_world() -> World:
    """An article with a visible, a liked and pinned, a hidden, an appealed and a pending
    comment by one reader, an open report, a locked article, and the people who act."""
    writer = make_user("writer", role=Role.AUTHOR)
    author = make_user("carl")
    reader = make_user("rita")
    mod = make_user("mod", role=Role.MODERATOR)
    admin = make_user("boss", role=Role.ADMIN)
    suspended = make_user("sam")
    witness = make_user("wes")
    other_mod = make_user("max", role=Role.MODERATOR)

    article = make_article(writer, slug="open-article")
    locked = make_article(writer, slug="locked-article")
    sanctions.lock_article(mod, locked, "Heated.")

    visible = threads.post_comment(author, article, "A visible comment.")
    moderation.report_comment(witness, visible, "spam", "Looks like an advert.")
    liked = threads.post_comment(author, article, "A helpful comment.")
    community.vote(reader, liked)
    community.pin(writer, liked)
    community.follow(reader, article)
    hidden = threads.post_comment(author, article, "A comment to hide.")
    moderation.hide_comment(mod, hidden, "abuse", "A private note.")
    appealed = threads.post_comment(author, article, "A hidden comment, appealed.")
    moderation.hide_comment(mod, appealed, "spam")
    appeal = appeals.appeal(author, appealed, "It was on topic.")
    pending = threads.post_comment(
        author,
        article,
        "Waiting for review.",
        settings=threads.DiscussionSettings(premoderate_first=10),
    )
    external = external_articles.create_external(
        "https://www.example.com/page", "A page of the publisher", writer
    )
    db.session.commit()
    sanctions.suspend_user(mod, suspended, 7, "Cooling off.")
    assert suspended.suspended_until > utcnow() + timedelta(days=6)
    token, _ = api_tokens.create_token(author, "The author's script", "write", 30)
    notification = db.session.execute(
        select(Notification.id).where(Notification.user_id == author.id).limit(1)
    ).scalar_one()

    return World(
        users={
            READER: reader.id,
            AUTHOR: author.id,
            WRITER: writer.id,
            MOD: mod.id,
            ADMIN: admin.id,
            SUSPENDED: suspended.id,
        },
        values={
            "article": article.slug,
            "locked": locked.slug,
            "visible": visible.id,
            "liked": liked.id,
            "hidden": hidden.id,
            "pending": pending.id,
            "appeal": appeal.id,
            "external": external.id,
            "notification": notification,
            "token": token.id,
            "comment_author": author.username,
            "moderator": mod.username,
            "other_mod": other_mod.username,
            "admin": admin.username,
            "suspended": suspended.username,
        },
    )


# The world the module's template holds (SQLite), set once by ``database_template``.
_seeded: dict[str, World] = {}


@pytest.fixture(scope="module")
def database_template(database_template, tmp_path_factory):
    """On SQLite, the world is built once into a template that every case copies (a case
    costs a file copy, not a world); on PostgreSQL every case builds it (``world``)."""
    if database_template is None:
        return None
    directory = tmp_path_factory.mktemp("authorization")
    path, _seeded["world"] = seeded_template(database_template, directory, build_world)
    return path


@pytest.fixture
def world(app) -> World:
    """The same world for every case, fresh: copied with the database, or built here."""
    return _seeded.get("world") or build_world()


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


CASES = [pytest.param(row, actor, id=f"{row.path}-{actor}") for row in TABLE for actor in ACTORS]


@pytest.mark.parametrize(("row", "actor"), CASES)
def test_route_answers_each_actor_as_the_table_says(app, world, row, actor):
    """The expected status, and a refused request leaves the database exactly as it was."""
    user = db.session.get(User, world.users[actor]) if actor in world.users else None
    client = client_as(app, user)
    path = row.path.format_map(world.values)
    before = snapshot()
    response = client.post(path, data=row.data)
    after = snapshot()

    page = response.get_data(as_text=True)
    assert response.status_code == row.expect[actor], f"{actor} POST {path}: {page[:600]}"
    location = urlsplit(response.headers.get("Location", "")).path
    if actor == ANON and response.status_code == 302:
        assert location == "/login"
    if actor == ANON and response.status_code == 401:
        assert 'class="login-again"' in page
    accepted = response.status_code == row.accepted and location != "/login"
    if not accepted:
        changed = changed_tables(before, after)
        if actor == ANON and response.status_code == 401:
            changed.remove("kept_drafts")  # the text, kept for after logging in; nothing else
        assert changed == [], f"a refused POST {path} changed the database"
    elif row.changes:
        assert changed_tables(before, after), f"{actor} POST {path} succeeded but changed nothing"


def _sample_path(row: Row) -> str:
    """The row's path with every placeholder filled by a plausible value."""
    return row.path.format_map(defaultdict(lambda: "1"))


def test_every_state_changing_route_is_in_the_table(app):
    """A route added later without a row here fails this test: add it to TABLE."""
    adapter = app.url_map.bind("localhost")
    covered = {
        adapter.match(_sample_path(row), method="POST", return_rule=True)[0].rule for row in TABLE
    }
    # The JSON API's operations have their own table: tests/api/test_authorization_api.py.
    state_changing = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.methods & STATE_CHANGING and not rule.rule.startswith("/api/")
    }
    missing = state_changing - covered - OWN_TESTS
    assert not missing, f"add these routes to TABLE in {__name__}: {sorted(missing)}"
    assert state_changing >= OWN_TESTS, "a route listed as tested elsewhere no longer exists"


def test_the_table_names_real_routes_and_every_actor(app):
    adapter = app.url_map.bind("localhost")
    for row in TABLE:
        endpoint, _ = adapter.match(_sample_path(row), method="POST")
        assert endpoint != "static", row
        assert set(row.expect) == set(ACTORS), row
        assert row.expect[ANON] in (302, 401), f"{row}: anonymous visitors are sent to log in"


@pytest.mark.parametrize("action", ["pin", "unpin", "vote", "unvote", "flag", "follow"])
def test_a_suspended_moderator_keeps_the_role_but_not_the_powers(app, world, action):
    """Only admins suspend moderators; while suspended, a moderator pins, unpins, votes,
    reports and follows no more than any suspended reader (the table's ``suspended`` is a
    reader)."""
    admin = db.session.get(User, world.users[ADMIN])
    mod = db.session.get(User, world.users[MOD])
    target = world.values["liked" if action in ("unpin", "unvote") else "visible"]
    if action == "unvote":
        community.vote(mod, db.session.get(Comment, target))  # before the suspension
    sanctions.suspend_user(admin, mod, 7, "Overreach.")
    path = {
        "follow": f"/articles/{world.values['article']}/follow",
        "flag": f"/comments/{target}/flag",
    }.get(action, f"/comments/{target}/{action}")
    data = {"category": "abuse", "note": "Rude."} if action == "flag" else {}
    client = client_as(app, mod)
    before = snapshot()
    response = client.post(path, data=data)
    assert response.status_code == 403, response.get_data(as_text=True)[:600]
    assert changed_tables(before, snapshot()) == []
