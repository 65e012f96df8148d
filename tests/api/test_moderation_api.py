"""The moderators' API operations: every one answers each caller as its HTML route does (same
service, same status, 401 where the page sends a visitor to log in), changes what the pages
then show, logs what it did, and pages its lists by cursor in the pages' order."""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import lxml.html
import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import (
    Appeal,
    Comment,
    CommentStatus,
    ModAction,
    ModerationAction,
    Report,
    ReportStatus,
    Role,
    User,
)
from forum.services import api_tokens, appeals, moderation, premoderation, sanctions, threads
from tests.api.support import assert_problem, bearer
from tests.conftest import (
    client_as,
    csrf_token_from,
    make_article,
    make_user,
    seeded_template,
    snapshot,
)
from tests.test_query_counts import counted

PREMODERATE = threads.DiscussionSettings(premoderate_first=10)

ANON, READER, MOD, ADMIN, SUSPENDED = "anon", "reader", "mod", "admin", "suspended"
ACTORS = (ANON, READER, MOD, ADMIN, SUSPENDED)  # SUSPENDED: a moderator an admin suspended

# --- two worlds alike: one for the HTML route, one for the API operation -------------------------


def build_world(tag: str) -> dict:
    """An article with a reported, a quiet, a hidden, an appealed and a pending comment, a
    decided appeal, a locked article, a suspended reader, and the people who act; every name
    ends in ``tag`` so two worlds live side by side."""
    writer = make_user(f"writer{tag}", role=Role.AUTHOR)
    carl = make_user(f"carl{tag}")
    rita = make_user(f"rita{tag}")
    wes = make_user(f"wes{tag}")
    sam = make_user(f"sam{tag}")
    mod = make_user(f"mod{tag}", role=Role.MODERATOR)
    other_mod = make_user(f"max{tag}", role=Role.MODERATOR)
    fallen = make_user(f"fallen{tag}", role=Role.MODERATOR)
    admin = make_user(f"boss{tag}", role=Role.ADMIN)
    article = make_article(writer, slug=f"open-{tag}")
    locked = make_article(writer, slug=f"locked-{tag}")
    sanctions.lock_article(mod, locked, "Heated.")

    visible = threads.post_comment(carl, article, "A reported comment.")
    moderation.report_comment(wes, visible, "spam", "Looks like an advert.")
    quiet = threads.post_comment(carl, article, "Nobody reported this one.")
    hidden = threads.post_comment(carl, article, "A hidden comment.")
    moderation.hide_comment(mod, hidden, "abuse", "A private note.")
    appealed = threads.post_comment(carl, article, "Hidden, then appealed.")
    moderation.hide_comment(mod, appealed, "spam")
    appeal = appeals.appeal(carl, appealed, "It was on topic.")
    denied = threads.post_comment(carl, article, "Hidden, appealed, denied.")
    moderation.hide_comment(mod, denied, "spam")
    decided = appeals.appeal(carl, denied, "Please.")
    appeals.decide_appeal(mod, decided, False)
    pending = threads.post_comment(carl, article, "Waiting for review.", settings=PREMODERATE)
    sanctions.suspend_user(mod, sam, 7, "Cooling off.")
    sanctions.suspend_user(admin, fallen, 7, "Overreach.")
    return {
        "users": {READER: rita.id, MOD: mod.id, ADMIN: admin.id, SUSPENDED: fallen.id},
        "article": article.slug,
        "locked": locked.slug,
        "visible": visible.id,
        "quiet": quiet.id,
        "hidden": hidden.id,
        "pending": pending.id,
        "appeal": appeal.id,
        "decided": decided.id,
        "carl": carl.username,
        "sam": sam.username,
        "other_mod": other_mod.username,
        "admin": admin.username,
        "missing": 999_999,
    }


def build_worlds() -> dict[str, dict]:
    return {"html": build_world("h"), "api": build_world("a")}


_seeded: dict[str, dict] = {}


@pytest.fixture(scope="module")
def database_template(database_template, tmp_path_factory):
    """On SQLite both worlds are built once into a template each case copies; on PostgreSQL
    each case builds them (``worlds``)."""
    if database_template is None:
        return None
    directory = tmp_path_factory.mktemp("moderation_api")
    path, _seeded["worlds"] = seeded_template(database_template, directory, build_worlds)
    return path


@pytest.fixture
def worlds(app) -> dict[str, dict]:
    return _seeded.get("worlds") or build_worlds()


def actor_client(app, world: dict, actor: str):
    user = db.session.get(User, world["users"][actor]) if actor != ANON else None
    return client_as(app, user)


# --- the operations, each beside its HTML route -----------------------------------------------


def E(**expected: int) -> dict[str, int]:
    assert set(expected) == set(ACTORS)
    return expected


STAFF = E(anon=401, reader=403, mod=200, admin=200, suspended=403)


def staff(status: int) -> dict[str, int]:
    """Refused to everyone but staff, who get ``status``."""
    return E(anon=401, reader=403, mod=status, admin=status, suspended=403)


@dataclass(frozen=True)
class Op:
    api: str  # the API path (placeholders from the world)
    html: str  # the HTML route that does the same
    json: dict | None = None  # the API body
    form: dict = field(default_factory=dict)  # the HTML form
    expect: dict = field(default_factory=lambda: STAFF)

    def __str__(self) -> str:
        return self.api


# fmt: off
OPERATIONS = [
    # --- comments
    Op("/comments/{visible}/hide", "/comments/{visible}/hide",
       {"reason": "spam", "note": "An advert."}, {"reason": "spam", "note": "An advert."}),
    Op("/comments/{hidden}/hide", "/comments/{hidden}/hide", {"reason": "spam"},
       {"reason": "spam"}, staff(409)),
    Op("/comments/{missing}/hide", "/comments/{missing}/hide", {"reason": "spam"},
       {"reason": "spam"}, staff(404)),
    Op("/comments/{visible}/hide", "/comments/{visible}/hide", {"reason": "boring"},
       {"reason": "boring"}, staff(400)),
    Op("/comments/{hidden}/unhide", "/comments/{hidden}/unhide"),
    Op("/comments/{visible}/unhide", "/comments/{visible}/unhide", expect=staff(409)),
    Op("/comments/{pending}/approve", "/comments/{pending}/approve"),
    Op("/comments/{visible}/approve", "/comments/{visible}/approve", expect=staff(409)),
    Op("/comments/{pending}/reject", "/comments/{pending}/reject",
       {"reason": "off-topic", "note": "Not about it."}, {"reason": "off-topic"}),
    Op("/comments/{visible}/reject", "/comments/{visible}/reject", {"reason": "spam"},
       {"reason": "spam"}, staff(409)),
    Op("/comments/{visible}/dismiss", "/comments/{visible}/dismiss",
       {"reason": "Not spam."}, {"reason": "Not spam."}),
    Op("/comments/{quiet}/dismiss", "/comments/{quiet}/dismiss", {}, {}, staff(409)),
    # --- appeals
    Op("/appeals/{appeal}/grant", "/moderation/appeals/{appeal}/grant", {"reason": "Fair."}),
    Op("/appeals/{appeal}/deny", "/moderation/appeals/{appeal}/deny", {}),
    Op("/appeals/{decided}/grant", "/moderation/appeals/{decided}/grant", {}, {}, staff(409)),
    Op("/appeals/{missing}/deny", "/moderation/appeals/{missing}/deny", {}, {}, staff(404)),
    # --- discussions
    Op("/articles/{article}/lock", "/articles/{article}/lock", {"reason": "Too heated."},
       {"reason": "Too heated."}),
    Op("/articles/{locked}/lock", "/articles/{locked}/lock", {}, {}, staff(409)),
    Op("/articles/{locked}/unlock", "/articles/{locked}/unlock", {}),
    Op("/articles/{article}/unlock", "/articles/{article}/unlock", {}, {}, staff(409)),
    Op("/articles/no-such-article/lock", "/articles/no-such-article/lock", {}, {}, staff(404)),
    # --- people
    Op("/users/{carl}/suspend", "/users/{carl}/suspend", {"days": 7, "reason": "Spam."},
       {"days": "7", "reason": "Spam."}),
    Op("/users/{carl}/suspend", "/users/{carl}/suspend", {"days": None, "reason": "Spam."},
       {"days": "indefinite", "reason": "Spam."}),
    Op("/users/{carl}/suspend", "/users/{carl}/suspend", {"days": 7, "reason": " "},
       {"days": "7", "reason": " "}, staff(400)),
    Op("/users/{other_mod}/suspend", "/users/{other_mod}/suspend",
       {"days": 7, "reason": "Overreach."}, {"days": "7", "reason": "Overreach."},
       E(anon=401, reader=403, mod=403, admin=200, suspended=403)),
    Op("/users/{admin}/suspend", "/users/{admin}/suspend", {"days": None, "reason": "Coup."},
       {"days": "indefinite", "reason": "Coup."}, staff(403)),
    Op("/users/nobody-here/suspend", "/users/nobody-here/suspend",
       {"days": 7, "reason": "Who?"}, {"days": "7", "reason": "Who?"}, staff(404)),
    Op("/users/{sam}/unsuspend", "/users/{sam}/unsuspend", {}),
    Op("/users/{carl}/unsuspend", "/users/{carl}/unsuspend", {}, {}, staff(409)),
]
# fmt: on

CASES = [
    pytest.param(op, actor, id=f"{op}-{op.expect[actor]}-{actor}")
    for op in OPERATIONS
    for actor in ACTORS
]


def html_status(response) -> int:
    """The HTML route's answer as the API's status: its redirect after success is a 200, its
    redirect to the login page a 401."""
    if response.status_code != 302:
        return response.status_code
    return 401 if urlsplit(response.headers["Location"]).path == "/login" else 200


@pytest.mark.parametrize(("op", "actor"), CASES)
def test_each_operation_answers_each_caller_as_its_html_route(app, worlds, op, actor):
    """The same status as the page for the same caller on the same data; a refusal changes
    nothing, a success changes something; errors are problem details."""
    page = actor_client(app, worlds["html"], actor).post(
        op.html.format_map(worlds["html"]), data=op.form
    )
    assert html_status(page) == op.expect[actor], page.get_data(as_text=True)[:400]

    world = worlds["api"]
    client = actor_client(app, world, actor)
    before = snapshot()
    path = "/api/v1" + op.api.format_map(world)
    response = client.post(path, json=op.json) if op.json is not None else client.post(path)
    after = snapshot()
    if op.expect[actor] != 200:
        assert_problem(response, op.expect[actor])
        assert after == before, f"a refused POST {path} changed the database"
    else:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "application/json"
        assert after != before


@pytest.mark.parametrize(
    ("api", "html", "expect"),
    [
        ("/moderation/queue", "/moderation", STAFF),
        ("/moderation/queue/pending", "/moderation", STAFF),
        ("/moderation/queue/appeals", "/moderation", STAFF),
        (
            "/moderation/log",
            "/moderation/log",
            E(anon=200, reader=200, mod=200, admin=200, suspended=200),
        ),
    ],
)
@pytest.mark.parametrize("actor", ACTORS)
def test_the_lists_answer_each_caller_as_the_pages(app, worlds, api, html, expect, actor):
    page = actor_client(app, worlds["html"], actor).get(html)
    assert html_status(page) == expect[actor]
    response = actor_client(app, worlds["api"], actor).get("/api/v1" + api)
    if expect[actor] == 200:
        assert response.status_code == 200
        assert isinstance(response.get_json()["items"], list)
    else:
        assert_problem(response, expect[actor])


# --- what the operations change ------------------------------------------------------------------


def comment(comment_id: int) -> Comment:
    db.session.rollback()
    return db.session.get(Comment, comment_id)


def mod_of(world: dict) -> User:
    return db.session.get(User, world["users"][MOD])


def test_hiding_shows_on_the_page_closes_the_reports_and_is_logged_with_its_reason(app, worlds):
    world = worlds["api"]
    mod = client_as(app, mod_of(world))
    body = mod.post(
        f"/api/v1/comments/{world['visible']}/hide",
        json={"reason": "off-topic", "note": "Derailing."},
    ).get_json()
    assert body["state"] == "hidden"
    assert body["hidden"] == {
        "reason": "off-topic",
        "note": "Derailing.",
        "at": body["hidden"]["at"],
        "by": mod_of(world).username,
    }
    assert body["body_md"] == "A reported comment."  # moderators keep seeing the text

    reader_page = client_as(app).get(f"/articles/{world['article']}").get_data(as_text=True)
    assert "A reported comment." not in reader_page
    assert comment(world["visible"]).status is CommentStatus.HIDDEN
    statuses = db.session.execute(
        select(Report.status).where(Report.comment_id == world["visible"])
    ).scalars()
    assert list(statuses) == [ReportStatus.ACTIONED]

    log = client_as(app).get("/api/v1/moderation/log?action=hide").get_json()["items"]
    newest = log[0]
    assert (newest["comment_id"], newest["reason"], newest["actor"]) == (
        world["visible"],
        "off-topic",
        mod_of(world).username,
    )
    assert newest["note"] is None  # private: not for anonymous readers
    full = mod.get("/api/v1/moderation/log?action=hide").get_json()["items"][0]
    assert full["note"] == "Derailing."

    # The HTML log has the same entry, note and all, for a moderator.
    html_log = mod.get("/moderation/log?action=hide").get_data(as_text=True)
    assert "Note: Derailing." in html_log


def test_unhide_approve_reject_and_dismiss_change_what_the_page_shows(app, worlds):
    world = worlds["api"]
    mod = client_as(app, mod_of(world))
    reader = client_as(app, db.session.get(User, world["users"][READER]))
    article = f"/articles/{world['article']}"
    assert "A hidden comment." not in reader.get(article).get_data(as_text=True)
    assert mod.post(f"/api/v1/comments/{world['hidden']}/unhide").get_json()["hidden"] is None
    assert "Waiting for review." not in reader.get(article).get_data(as_text=True)
    assert mod.post(f"/api/v1/comments/{world['pending']}/approve").status_code == 200
    page = reader.get(article).get_data(as_text=True)
    assert "A hidden comment." in page and "Waiting for review." in page

    dismissed = mod.post(f"/api/v1/comments/{world['visible']}/dismiss", json={}).get_json()
    assert dismissed["dismissed"] == 1
    assert dismissed["comment"]["state"] == "visible"
    assert f'id="q{world["visible"]}"' not in mod.get("/moderation").get_data(as_text=True)
    actions = db.session.execute(
        select(ModerationAction.action).order_by(ModerationAction.id.desc()).limit(3)
    ).scalars()
    assert list(actions) == [ModAction.DISMISS, ModAction.APPROVE, ModAction.UNHIDE]


def test_a_rejected_comment_keeps_its_reason_for_its_author_only(app, worlds):
    world = worlds["api"]
    mod = client_as(app, mod_of(world))
    body = mod.post(
        f"/api/v1/comments/{world['pending']}/reject", json={"reason": "spam", "note": "Ads."}
    ).get_json()
    assert (body["state"], body["hidden"]["reason"]) == ("rejected", "spam")
    assert comment(world["pending"]).status is CommentStatus.REJECTED


def test_appeals_granted_show_the_comment_again_and_denied_keep_it_hidden(app, worlds):
    world = worlds["api"]
    mod = client_as(app, mod_of(world))
    granted = mod.post(f"/api/v1/appeals/{world['appeal']}/grant", json={}).get_json()
    assert granted["status"] == "granted"
    assert granted["comment"]["state"] == "visible"
    assert db.session.get(Appeal, world["appeal"]).resolved_at is not None
    assert_problem(mod.post(f"/api/v1/appeals/{world['appeal']}/deny", json={}), 409)


def test_lock_and_unlock_change_the_discussion_and_the_log(app, worlds):
    world = worlds["api"]
    mod = client_as(app, mod_of(world))
    locked = mod.post(
        f"/api/v1/articles/{world['article']}/lock", json={"reason": "Too heated."}
    ).get_json()
    assert locked == {
        "slug": world["article"],
        "title": "An Article",
        "discussion_locked": True,
        "lock_reason": "Too heated.",
    }
    page = client_as(app).get(f"/articles/{world['article']}").get_data(as_text=True)
    assert "Too heated." in page
    opened = mod.post(f"/api/v1/articles/{world['article']}/unlock", json={}).get_json()
    assert (opened["discussion_locked"], opened["lock_reason"]) == (False, None)
    entries = client_as(app).get("/api/v1/moderation/log?limit=2").get_json()["items"]
    assert [(e["action"], e["article"]["slug"]) for e in entries] == [
        ("unlock", world["article"]),
        ("lock", world["article"]),
    ]
    assert entries[1]["reason"] == "Too heated."


def test_suspensions_for_days_or_indefinitely_and_lifted(app, worlds):
    world = worlds["api"]
    mod = client_as(app, mod_of(world))
    path = f"/api/v1/users/{world['carl']}"
    week = mod.post(f"{path}/suspend", json={"days": 7, "reason": "Spam."}).get_json()
    assert (week["suspended"], week["indefinite"], week["reason"]) == (True, False, "Spam.")
    assert week["suspended_until"] is not None
    forever = mod.post(f"{path}/suspend", json={"days": None, "reason": "Again."}).get_json()
    assert (forever["indefinite"], forever["suspended_until"]) == (True, None)
    lifted = mod.post(f"{path}/unsuspend", json={"reason": "Served."}).get_json()
    assert (lifted["suspended"], lifted["reason"]) == (False, None)
    assert not db.session.get(User, comment(world["quiet"]).author_id).is_suspended()
    reasons = client_as(app).get("/api/v1/moderation/log?limit=3").get_json()["items"]
    assert [e["reason"] for e in reasons] == [
        "Served.",
        "indefinitely: Again.",
        "for 7 day(s): Spam.",
    ]


@pytest.mark.parametrize(
    "body",
    [{}, {"days": 0, "reason": "x"}, {"days": 4000, "reason": "x"}, {"days": "7", "reason": 1}],
)
def test_a_suspension_needs_a_length_and_a_reason(app, worlds, body):
    world = worlds["api"]
    problem = assert_problem(
        client_as(app, mod_of(world)).post(f"/api/v1/users/{world['carl']}/suspend", json=body),
        400,
    )
    assert problem["errors"]


def test_a_body_that_is_not_json_is_refused_without_a_change(app, worlds):
    world = worlds["api"]
    mod = client_as(app, mod_of(world))
    before = snapshot()
    response = mod.post(f"/api/v1/comments/{world['visible']}/hide", data={"reason": "spam"})
    assert_problem(response, 415)
    assert snapshot() == before


# --- the lists ----------------------------------------------------------------------------------


def walk(client, path: str, limit: int) -> list[dict]:
    """Every item of a cursor-paged list, page by page."""
    items, url = [], f"{path}?limit={limit}"
    while True:
        page = client.get(url).get_json()
        items += page["items"]
        if page["next"] is None:
            return items
        url = f"{path}?limit={limit}&cursor={page['next']}"


def queue_ids_on_the_page(client) -> list[int]:
    tree = lxml.html.fromstring(client.get("/moderation").get_data(as_text=True))
    return [int(item.get("id")[1:]) for item in tree.xpath('//li[starts-with(@id, "q")]')]


def test_the_queue_pages_by_cursor_in_the_html_queues_order(app, worlds):
    world = worlds["api"]
    mod_user = mod_of(world)
    reporters = [make_user(f"reporter{n}") for n in range(3)]
    article = make_article(slug="busy")
    for n in range(5):
        reported = threads.post_comment(reporters[0], article, f"Reported {n}.")
        for reporter in reporters[1 : 1 + n % 3]:
            moderation.report_comment(reporter, reported, "abuse", f"note {n}")
    mod = client_as(app, mod_user)
    walked = walk(mod, "/api/v1/moderation/queue", 2)
    assert [item["comment"]["id"] for item in walked] == queue_ids_on_the_page(mod)
    first = walked[0]
    assert first["categories"] == {"abuse": 1}
    assert first["reports"][0]["reporter"] == "reporter1"
    assert first["comment"]["body_md"] == "Reported 4."


def test_pending_comments_and_appeals_page_by_cursor(app, worlds):
    world = worlds["api"]
    carl = db.session.execute(select(User).where(User.username == world["carl"])).scalar_one()
    article = make_article(slug="waiting")
    for n in range(3):
        threads.post_comment(carl, article, f"Also waiting {n}.", settings=PREMODERATE)
    mod = client_as(app, mod_of(world))
    pending = walk(mod, "/api/v1/moderation/queue/pending", 2)
    waiting = [c.id for c in premoderation.pending_comments()]
    assert [c["id"] for c in pending] == waiting and len(waiting) == 5  # both worlds' too
    assert all(c["state"] == "pending" for c in pending)
    open_appeals = walk(mod, "/api/v1/moderation/queue/appeals", 1)
    assert [a["id"] for a in open_appeals] == [a.id for a in appeals.open_appeals()]
    assert {a["message"] for a in open_appeals} == {"It was on topic."}


def test_the_log_pages_by_cursor_and_filters_as_the_page(app, worlds):
    world = worlds["api"]
    everything = walk(client_as(app), "/api/v1/moderation/log", 3)
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == len(db.session.execute(select(ModerationAction.id)).all())
    by_mod = client_as(app).get(
        f"/api/v1/moderation/log?action=hide&moderator={mod_of(world).username.upper()}"
    )
    entries = by_mod.get_json()["items"]
    assert {e["action"] for e in entries} == {"hide"}
    assert {e["actor"] for e in entries} == {mod_of(world).username}
    assert_problem(client_as(app).get("/api/v1/moderation/log?action=delete-everything"), 400)
    assert_problem(client_as(app).get("/api/v1/moderation/log?cursor=forged"), 400)


@pytest.mark.parametrize("viewer", [ANON, READER, MOD, SUSPENDED])
def test_private_notes_only_for_moderators_as_on_the_html_log(app, worlds, viewer):
    """The HTML log's rule (``is_moderator``: a suspended moderator still reads notes)."""
    world = worlds["api"]
    client = actor_client(app, world, viewer)
    notes = {
        e["note"] for e in client.get("/api/v1/moderation/log?action=hide").get_json()["items"]
    }
    html = client.get("/moderation/log?action=hide").get_data(as_text=True)
    if viewer in (MOD, SUSPENDED):
        assert "A private note." in notes
        assert "Note: A private note." in html
    else:
        assert notes == {None}
        assert "A private note." not in html


# --- the session's writes need the CSRF token -------------------------------------------------


@pytest.fixture
def csrf_app(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app


def test_a_moderators_session_hides_only_with_the_csrf_token_in_its_header(csrf_app):
    world = build_world("c")
    mod = client_as(csrf_app, mod_of(world))
    path = f"/api/v1/comments/{world['visible']}/hide"
    before = snapshot()
    assert_problem(mod.post(path, json={"reason": "spam"}), 400)
    assert_problem(mod.post(path, json={"reason": "spam"}, headers={"X-CSRFToken": "x"}), 400)
    assert snapshot() == before
    token = csrf_token_from(mod.get("/moderation").get_data(as_text=True))
    response = mod.post(path, json={"reason": "spam"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert comment(world["visible"]).status is CommentStatus.HIDDEN


# --- tokens: the moderate scope, never more than the holder's role ------------------------------


def token(user: User, scope: str) -> dict[str, str]:
    return bearer(api_tokens.create_token(user, f"t-{scope}", scope, 30)[1])


@pytest.mark.parametrize(("scope", "status"), [("read", 403), ("write", 403), ("moderate", 200)])
def test_a_moderators_token_moderates_only_with_the_moderate_scope(app, worlds, scope, status):
    world = worlds["api"]
    headers = token(mod_of(world), scope)
    before = snapshot()
    response = client_as(app).post(
        f"/api/v1/comments/{world['visible']}/hide", json={"reason": "spam"}, headers=headers
    )
    if status == 200:
        assert response.status_code == 200
        assert comment(world["visible"]).status is CommentStatus.HIDDEN
    else:
        assert "scope" in assert_problem(response, status)["detail"]
        assert {k: v for k, v in snapshot().items() if k != "api_tokens"} == {
            k: v for k, v in before.items() if k != "api_tokens"
        }
    queue = client_as(app).get("/api/v1/moderation/queue", headers=headers)
    assert queue.status_code == status


def test_a_demoted_moderators_moderate_token_no_longer_moderates(app, worlds):
    world = worlds["api"]
    admin = db.session.get(User, world["users"][ADMIN])
    headers = token(mod_of(world), "moderate")
    sanctions.change_role(admin, mod_of(world), "reader")
    response = client_as(app).post(f"/api/v1/comments/{world['hidden']}/unhide", headers=headers)
    assert_problem(response, 403)
    assert comment(world["hidden"]).status is CommentStatus.HIDDEN


def test_a_suspended_moderators_token_stops_working(app, worlds):
    world = worlds["api"]
    headers = token(mod_of(world), "moderate")
    admin = db.session.get(User, world["users"][ADMIN])
    sanctions.suspend_user(admin, mod_of(world), 3, "Overreach.")
    response = client_as(app).post(f"/api/v1/comments/{world['hidden']}/unhide", headers=headers)
    assert_problem(response, 401)


@pytest.mark.parametrize(("scope", "sees_notes"), [("read", False), ("moderate", True)])
def test_private_notes_by_token_need_the_moderate_scope(app, worlds, scope, sees_notes):
    """A moderator's read-only token (a dashboard, say) reads the public log: a leaked one
    reveals nothing the public log doesn't."""
    world = worlds["api"]
    response = client_as(app).get(
        "/api/v1/moderation/log?action=hide", headers=token(mod_of(world), scope)
    )
    notes = {entry["note"] for entry in response.get_json()["items"]}
    assert ("A private note." in notes) is sees_notes
    assert sees_notes or notes == {None}


def test_an_admins_moderate_token_suspends_a_moderator(app, worlds):
    world = worlds["api"]
    admin = db.session.get(User, world["users"][ADMIN])
    response = client_as(app).post(
        f"/api/v1/users/{world['other_mod']}/suspend",
        json={"days": 1, "reason": "Overreach."},
        headers=token(admin, "moderate"),
    )
    assert response.status_code == 200
    assert response.get_json()["suspended"] is True


# --- what a page of a list costs --------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/moderation/queue",
        "/moderation/queue/pending",
        "/moderation/queue/appeals",
        "/moderation/log",
    ],
)
def test_a_longer_page_of_a_list_costs_no_more_queries(app, worlds, path):
    """No query per item: a page of six costs what a page of two does."""
    world = worlds["api"]
    mod_user = mod_of(world)
    article = make_article(slug="more")
    for n in range(4):
        # Each item by someone else: a query per item's people would show.
        member = make_user(f"member{n}")
        pending = threads.post_comment(member, article, f"Waiting {n}.", settings=PREMODERATE)
        assert pending.status is CommentStatus.PENDING
        reported = threads.post_comment(member, article, f"Reported {n}.")
        moderation.report_comment(make_user(f"witness{n}"), reported, "spam")
        appealed = threads.post_comment(member, article, f"Appealed {n}.")
        moderation.hide_comment(make_user(f"mod{n}", role=Role.MODERATOR), appealed, "abuse")
        appeals.appeal(member, appealed, "Please.")
    mod = client_as(app, mod_user)
    costs = []
    for limit in (2, 6):
        db.session.close()  # the request checks out its own connection, which is counted
        with counted(app) as statements:
            response = mod.get(f"/api/v1{path}?limit={limit}")
        assert len(response.get_json()["items"]) == limit
        costs.append(len(statements))
    assert costs[0] == costs[1], costs
