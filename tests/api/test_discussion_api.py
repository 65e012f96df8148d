"""The discussion through the API: pages of threads as each caller sees them, posting,
replying, editing, deleting, revisions, votes, reports, follows and notifications; with
the pages' refusals, limits and sizes."""

from datetime import timedelta

from forum.extensions import db, limiter
from forum.models import Comment
from forum.services import moderation, sanctions, threads
from tests.api.support import assert_problem, bearer
from tests.conftest import client_as, make_article, make_user


def discussion(app, scene, user=None, **query):
    client = client_as(app, user)
    response = client.get(f"/api/v1/articles/{scene['article'].slug}/comments", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def by_id(body) -> dict[int, dict]:
    found = {}
    for thread in body["threads"]:
        found[thread["id"]] = thread
        for reply in thread["replies"]:
            found[reply["id"]] = reply
    return found


def test_threads_come_with_their_replies_in_reading_order(app, scene):
    body = discussion(app, scene)
    first = body["threads"][0]
    assert first["id"] == scene["first"].id
    assert [r["id"] for r in first["replies"]] == [scene["reply"].id, scene["deeper"].id]
    assert [r["depth"] for r in first["replies"]] == [1, 2]
    assert first["replies"][1]["parent_id"] == scene["reply"].id
    assert first["body_html"].strip() == "<p>First <em>thread</em>.</p>"
    assert body["comment_count"] == scene["article"].comment_count
    assert body["version"] == scene["article"].discussion_version
    assert (body["page"], body["pages"], body["next_page"]) == (1, 1, None)


def test_authors_carry_their_badges(app, scene):
    moderation_reply = threads.post_comment(scene["mod"], scene["article"], "Mod here.")
    comments = by_id(discussion(app, scene))
    assert comments[scene["reply"].id]["author"]["badges"] == ["article-author"]
    assert comments[moderation_reply.id]["author"]["badges"] == ["moderator"]
    assert comments[scene["first"].id]["author"]["badges"] == []


def test_readers_get_placeholders_where_moderators_get_text(app, scene):
    hidden, pending, gone = scene["hidden"].id, scene["pending"].id, scene["gone"].id
    anonymous = by_id(discussion(app, scene))
    assert anonymous[hidden]["shown"] == "hidden-placeholder"
    assert anonymous[hidden]["body_html"] is None and anonymous[hidden]["author"] is None
    assert anonymous[hidden]["hidden_reason"] == "abuse"
    assert pending not in anonymous
    assert anonymous[gone]["state"] == "deleted" and anonymous[gone]["body_html"] is None

    moderator = by_id(discussion(app, scene, scene["mod"]))
    assert moderator[hidden]["shown"] == "mod-hidden"
    assert moderator[hidden]["body_md"] == "Rude words."
    assert moderator[pending]["state"] == "pending"

    author = by_id(discussion(app, scene, scene["carl"]))
    assert author[hidden]["shown"] == "own-hidden" and author[hidden]["body_md"] == "Rude words."
    assert author[pending]["shown"] == "own-pending"


def test_the_markdown_source_is_for_its_author_and_moderators(app, scene):
    first = scene["first"].id
    assert by_id(discussion(app, scene))[first]["body_md"] is None
    assert by_id(discussion(app, scene, scene["rita"]))[first]["body_md"] is None
    assert by_id(discussion(app, scene, scene["carl"]))[first]["body_md"] == "First *thread*."
    assert by_id(discussion(app, scene, scene["mod"]))[first]["body_md"] == "First *thread*."


def test_sorts_and_pages_are_the_pages(app, app_factory, scene):
    newest = discussion(app, scene, sort="newest")["threads"]
    oldest = discussion(app, scene, sort="oldest")["threads"]
    assert [t["id"] for t in newest] == list(reversed([t["id"] for t in oldest]))
    client = client_as(app)
    path = f"/api/v1/articles/{scene['article'].slug}/comments"
    assert_problem(client.get(path, query_string={"sort": "random"}), 400)
    assert_problem(client.get(path, query_string={"page": 9}), 404)
    small = app_factory(THREADS_PER_PAGE=2)
    with small.app_context():
        body = client_as(small).get(path).get_json()
    assert (body["pages"], body["next_page"], len(body["threads"])) == (2, 2, 2)


def test_one_comment_and_its_refusals(app, scene):
    client = client_as(app)
    body = client.get(f"/api/v1/comments/{scene['deeper'].id}").get_json()
    assert (body["id"], body["depth"], body["article"]) == (
        scene["deeper"].id,
        2,
        scene["article"].slug,
    )
    assert_problem(client.get(f"/api/v1/comments/{scene['pending'].id}"), 404)
    assert_problem(client.get("/api/v1/comments/999999"), 404)
    assert_problem(client.get("/api/v1/comments/99999999999"), 404)


def post(client, slug, **body):
    return client.post(f"/api/v1/articles/{slug}/comments", json=body)


def test_posting_and_replying(app, scene):
    client = client_as(app, scene["rita"])
    slug = scene["article"].slug
    response = post(client, slug, body="A new thread.")
    assert response.status_code == 201
    made = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/comments/{made['id']}")
    assert (made["state"], made["depth"], made["parent_id"]) == ("visible", 0, None)
    assert made["body_md"] == "A new thread."  # its author sees the source
    reply = post(client, slug, body="A reply.", parent_id=made["id"]).get_json()
    assert (reply["parent_id"], reply["depth"]) == (made["id"], 1)


def test_an_idempotency_key_stores_a_retried_post_once(app, scene):
    client = client_as(app, scene["rita"])
    slug = scene["article"].slug
    headers = {"Idempotency-Key": "7d9a1c2e-retry"}
    path = f"/api/v1/articles/{slug}/comments"
    first = client.post(path, json={"body": "Once."}, headers=headers).get_json()
    again = client.post(path, json={"body": "Once."}, headers=headers).get_json()
    assert first["id"] == again["id"]
    assert db.session.query(Comment).filter_by(body_md="Once.").count() == 1
    bad = client.post(path, json={"body": "Once."}, headers={"Idempotency-Key": "no spaces"})
    assert_problem(bad, 400)


def test_posting_refusals_are_the_pages(app, scene):
    client = client_as(app, scene["rita"])
    slug = scene["article"].slug
    body = assert_problem(post(client, slug, body="   "), 400)
    assert "body" in body["errors"]
    body = assert_problem(post(client, slug, body="x" * 10_001), 400)
    assert "10,000" in body["errors"]["body"][0]
    other = make_article()
    foreign = threads.post_comment(scene["carl"], other, "Elsewhere.")
    body = assert_problem(post(client, slug, body="Hi.", parent_id=foreign.id), 400)
    assert "parent_id" in body["errors"]
    assert_problem(post(client, slug, body="Hi.", parent_id=999999), 404)
    assert_problem(post(client, slug, body="Hi.", parent_id=scene["hidden"].id), 400)
    assert_problem(post(client, "no-such-article", body="Hi."), 404)
    assert_problem(post(client, slug), 400)
    sanctions.lock_article(scene["mod"], scene["article"], "Cooling down.")
    body = assert_problem(post(client, slug, body="Locked?"), 403)
    assert "locked" in body["detail"]


def test_a_body_that_is_not_json_or_too_large_is_refused(app, scene):
    client = client_as(app, scene["rita"])
    path = f"/api/v1/articles/{scene['article'].slug}/comments"
    assert_problem(client.post(path, data={"body": "A form."}), 415)
    assert_problem(client.post(path, data="{not json", content_type="application/json"), 400)
    huge = {"body": "x" * (70 * 1024)}
    assert_problem(client.post(path, json=huge), 413)


def test_editing_keeps_a_revision(app, scene):
    client = client_as(app, scene["carl"])
    comment_id = scene["first"].id
    response = client.patch(f"/api/v1/comments/{comment_id}", json={"body": "Better words."})
    assert response.status_code == 200
    assert response.get_json()["body_html"].strip() == "<p>Better words.</p>"
    assert response.get_json()["edited_at"] is not None
    revisions = client.get(f"/api/v1/comments/{comment_id}/revisions").get_json()["items"]
    assert [r["body_md"] for r in revisions] == ["First *thread*."]
    # Another reader sees the old text, not the source.
    others = client_as(app).get(f"/api/v1/comments/{comment_id}/revisions").get_json()
    assert others["items"][0]["body_md"] is None
    assert others["items"][0]["body_html"].strip() == "<p>First <em>thread</em>.</p>"


def test_editing_after_the_window_is_refused(app, scene):
    scene["first"].created_at -= timedelta(hours=3)
    db.session.commit()
    client = client_as(app, scene["carl"])
    body = assert_problem(
        client.patch(f"/api/v1/comments/{scene['first'].id}", json={"body": "Late."}), 403
    )
    assert "minutes" in body["detail"]


def test_deleting_leaves_a_placeholder_while_replies_stand(app, scene):
    client = client_as(app, scene["carl"])
    assert client.delete(f"/api/v1/comments/{scene['first'].id}").status_code == 204
    shown = client_as(app).get(f"/api/v1/comments/{scene['first'].id}").get_json()
    assert shown["state"] == "deleted" and shown["body_html"] is None
    lonely = threads.post_comment(scene["carl"], scene["article"], "Alone.")
    assert client.delete(f"/api/v1/comments/{lonely.id}").status_code == 204
    assert_problem(client_as(app).get(f"/api/v1/comments/{lonely.id}"), 404)
    assert_problem(client.delete(f"/api/v1/comments/{lonely.id}"), 403)


def test_votes_count_once(app, scene):
    client = client_as(app, scene["rita"])
    path = f"/api/v1/comments/{scene['first'].id}/vote"
    assert client.post(path).get_json() == {
        "comment_id": scene["first"].id,
        "voted": True,
        "helpful_count": 1,
    }
    assert_problem(client.post(path), 409)
    assert client.delete(path).get_json()["helpful_count"] == 0
    assert_problem(client.delete(path), 409)
    own = client_as(app, scene["carl"]).post(path)
    assert_problem(own, 403)


def test_reports_reach_the_moderators_once(app, scene):
    client = client_as(app, scene["rita"])
    path = f"/api/v1/comments/{scene['first'].id}/reports"
    response = client.post(path, json={"category": "spam", "note": "An advert."})
    assert response.status_code == 201
    assert moderation.open_report_count() == 1
    assert_problem(client.post(path, json={"category": "spam"}), 409)
    body = assert_problem(client.post(path, json={"category": "boring"}), 400)
    assert "category" in body["errors"]


def test_following_and_notifications(app, scene):
    rita = client_as(app, make_user())  # a reader who hasn't replied (replying follows)
    slug = scene["article"].slug
    assert rita.post(f"/api/v1/articles/{slug}/follow").get_json()["following"] is True
    assert_problem(rita.post(f"/api/v1/articles/{slug}/follow"), 409)
    for number in range(3):
        threads.post_comment(scene["carl"], scene["article"], f"News {number}.")
    listed = rita.get("/api/v1/notifications?limit=2").get_json()
    assert len(listed["items"]) == 2 and listed["next"]
    assert listed["unread_count"] >= 3
    assert listed["items"][0]["kind"] == "followed"
    assert listed["items"][0]["article"]["slug"] == slug
    rest = rita.get("/api/v1/notifications", query_string={"cursor": listed["next"]}).get_json()
    ids = [n["id"] for n in listed["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids))

    marked = rita.post("/api/v1/notifications/read", json={"ids": [ids[0]]}).get_json()
    assert marked["marked"] == 1
    assert rita.post("/api/v1/notifications/read", json={}).get_json()["unread_count"] == 0
    assert rita.delete(f"/api/v1/articles/{slug}/follow").get_json()["following"] is False
    cursor = listed["next"]
    assert_problem(client_as(app, scene["carl"]).get(f"/api/v1/articles?cursor={cursor}"), 400)


def test_posting_shares_the_pages_rate_limit_and_answers_429(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_POST="2 per minute")
    with app.app_context():
        limiter.reset()
        writer = make_user()
        article = make_article()
        client = client_as(app, writer)
        page = client.post(f"/articles/{article.slug}/comments", data={"body": "By the form."})
        assert page.status_code == 302
        assert post(client, article.slug, body="By the API.").status_code == 201
        response = post(client, article.slug, body="One too many.")
        assert_problem(response, 429)
        assert int(response.headers["Retry-After"]) > 0


def test_token_callers_are_limited_per_account_not_all_together(app_factory):
    """The limiter's key is the token holder's account (resolved before the limits are
    checked): one script's burst doesn't stop another's, and a holder's page posts and
    token posts share their budget."""
    from forum.services import api_tokens

    app = app_factory(
        RATELIMIT_ENABLED=True,
        RATELIMIT_POST="1 per minute",
        RATELIMIT_POST_NEW_ACCOUNT="1 per minute",
    )
    with app.app_context():
        limiter.reset()
        article = make_article()
        first, second = make_user(), make_user()
        _, first_token = api_tokens.create_token(first, "script", "write", 30)
        _, second_token = api_tokens.create_token(second, "script", "write", 30)
        anonymous = client_as(app)
        for raw in (first_token, second_token):
            response = anonymous.post(
                f"/api/v1/articles/{article.slug}/comments",
                json={"body": "Within my budget."},
                headers=bearer(raw),
            )
            assert response.status_code == 201, response.get_json()
        again = anonymous.post(
            f"/api/v1/articles/{article.slug}/comments",
            json={"body": "Over it."},
            headers=bearer(first_token),
        )
        assert_problem(again, 429)
        page = client_as(app, second).post(
            f"/articles/{article.slug}/comments", data={"body": "By the page."}
        )
        assert page.status_code == 429


def test_a_suspended_member_reads_but_does_not_write(app, scene):
    sanctions.suspend_user(scene["mod"], scene["rita"], 7, "Cooling off.")
    client = client_as(app, scene["rita"])
    assert client.get(f"/api/v1/articles/{scene['article'].slug}/comments").status_code == 200
    body = assert_problem(post(client, scene["article"].slug, body="Still here?"), 403)
    assert "suspended" in body["detail"]


def test_token_callers_post_as_themselves(app, scene):
    from forum.services import api_tokens

    _, raw = api_tokens.create_token(scene["rita"], "script", "write", 30)
    response = client_as(app).post(
        f"/api/v1/articles/{scene['article'].slug}/comments",
        json={"body": "From a script."},
        headers=bearer(raw),
    )
    assert response.status_code == 201
    assert response.get_json()["author"]["username"] == scene["rita"].username


def test_the_latest_comments_page_by_cursor_newest_first(app, scene):
    client = client_as(app, scene["rita"])
    path = f"/api/v1/articles/{scene['article'].slug}/comments/latest"
    first = client.get(path, query_string={"limit": 2}).get_json()
    threads.post_comment(scene["carl"], scene["article"], "Arrived meanwhile.")
    seen = [c["id"] for c in first["items"]]
    cursor = first["next"]
    while cursor:
        body = client.get(path, query_string={"limit": 2, "cursor": cursor}).get_json()
        seen += [c["id"] for c in body["items"]]
        cursor = body["next"]
    assert seen == sorted(seen, reverse=True)
    # What a reader sees by itself: the hidden one as a placeholder; not the pending one,
    # nor the deleted one.
    answer = db.session.scalars(
        db.select(Comment.id).where(Comment.parent_id == scene["gone"].id)
    ).one()
    expected = {scene[name].id for name in ("first", "reply", "deeper", "hidden")} | {answer}
    assert set(seen) == expected
    moderator = client_as(app, scene["mod"]).get(path, query_string={"limit": 100}).get_json()
    assert scene["pending"].id in {c["id"] for c in moderator["items"]}
