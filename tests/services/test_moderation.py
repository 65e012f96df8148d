"""The moderation service: hiding, reports and the queue, pre-moderation and trust, appeals,
locks, suspensions, roles and the log. Each refusal is a DomainError that changes nothing and
logs nothing; each action is logged exactly once."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import (
    Appeal,
    AppealStatus,
    CommentStatus,
    ModAction,
    ModerationAction,
    Report,
    ReportStatus,
    Role,
    utcnow,
)
from forum.models.users import INDEFINITE
from forum.services import appeals, moderation, premoderation, sanctions, threads
from forum.services.errors import Conflict, Forbidden, NotAllowed, NotFound
from tests.conftest import make_article, make_user, snapshot


@pytest.fixture
def p(app):
    """People and a discussion: carl wrote ``comment`` under the writer's article."""
    writer = make_user("writer", role=Role.AUTHOR)
    carl = make_user("carl")
    article = make_article(writer, slug="the-article")
    return SimpleNamespace(
        writer=writer,
        carl=carl,
        rita=make_user("rita"),
        wes=make_user("wes"),
        mod=make_user("mod", role=Role.MODERATOR),
        mod2=make_user("mod2", role=Role.MODERATOR),
        admin=make_user("admin", role=Role.ADMIN),
        article=article,
        comment=threads.post_comment(carl, article, "Buy cheap pills."),
    )


def log_entries(action: ModAction | None = None) -> list[ModerationAction]:
    query = select(ModerationAction).order_by(ModerationAction.id)
    if action is not None:
        query = query.where(ModerationAction.action == action)
    return list(db.session.execute(query).scalars())


def refused(error: type[Exception], call, *args, **kwargs) -> Exception:
    """Run ``call``, expecting ``error``, and check the database is exactly as it was."""
    before = snapshot()
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    assert snapshot() == before
    return caught.value


# --- hiding ---------------------------------------------------------------------------------


def test_hide_keeps_reason_note_moderator_and_time_and_logs_once(p):
    moderation.hide_comment(p.mod, p.comment, "spam", "  Third advert this week.  ")

    assert p.comment.status is CommentStatus.HIDDEN
    assert p.comment.hidden_reason == "spam"
    assert p.comment.hidden_note == "Third advert this week."
    assert p.comment.hidden_by_id == p.mod.id
    assert utcnow() - p.comment.hidden_at < timedelta(minutes=1)
    [entry] = log_entries()
    assert (entry.action, entry.actor_id, entry.comment_id) == (
        ModAction.HIDE,
        p.mod.id,
        p.comment.id,
    )
    assert (entry.reason, entry.note) == ("spam", "Third advert this week.")
    assert (entry.target_user_id, entry.article_id) == (p.carl.id, p.article.id)


@pytest.mark.parametrize("reason", ["", None, "rude", "SPAM"])
def test_hide_without_a_preset_reason_is_not_allowed(p, reason):
    error = refused(NotAllowed, moderation.hide_comment, p.mod, p.comment, reason)
    assert error.field == "reason"
    assert "spam" in error.message


def test_hiding_a_hidden_comment_conflicts_and_logs_nothing_more(p):
    moderation.hide_comment(p.mod, p.comment, "spam")
    refused(Conflict, moderation.hide_comment, p.mod2, p.comment, "abuse")
    assert len(log_entries()) == 1
    assert p.comment.hidden_reason == "spam"


def test_a_comment_can_be_hidden_again_after_it_was_shown_again(p):
    moderation.hide_comment(p.mod, p.comment, "spam")
    moderation.unhide_comment(p.mod, p.comment)
    moderation.hide_comment(p.mod, p.comment, "abuse")
    assert p.comment.status is CommentStatus.HIDDEN
    assert [e.action for e in log_entries()] == [ModAction.HIDE, ModAction.UNHIDE, ModAction.HIDE]


def test_only_visible_comments_can_be_hidden(p):
    threads.delete_comment(p.carl, p.comment)
    refused(Conflict, moderation.hide_comment, p.mod, p.comment, "spam")


@pytest.mark.parametrize("who", ["carl", "rita", "writer"])
def test_only_moderators_hide_and_unhide(p, who):
    refused(Forbidden, moderation.hide_comment, getattr(p, who), p.comment, "spam")
    moderation.hide_comment(p.mod, p.comment, "spam")
    refused(Forbidden, moderation.unhide_comment, getattr(p, who), p.comment)


def test_unhide_restores_the_comment_and_logs_the_old_reason(p):
    moderation.hide_comment(p.mod, p.comment, "abuse", "private")
    moderation.unhide_comment(p.admin, p.comment, "On reflection, fine.")

    assert p.comment.status is CommentStatus.VISIBLE
    assert p.comment.hidden_reason is p.comment.hidden_note is p.comment.hidden_by_id is None
    entry = log_entries(ModAction.UNHIDE)[0]
    assert (entry.actor_id, entry.reason, entry.note) == (
        p.admin.id,
        "was hidden as abuse",
        "On reflection, fine.",
    )


def test_unhiding_a_visible_comment_conflicts(p):
    refused(Conflict, moderation.unhide_comment, p.mod, p.comment)
    moderation.hide_comment(p.mod, p.comment, "spam")
    moderation.unhide_comment(p.mod, p.comment)
    refused(Conflict, moderation.unhide_comment, p.mod, p.comment)
    assert [e.action for e in log_entries()] == [ModAction.HIDE, ModAction.UNHIDE]


# --- reports and the queue --------------------------------------------------------------------


def test_a_reader_reports_a_comment_once(p):
    report = moderation.report_comment(p.rita, p.comment, "spam", " An advert. ")
    assert (report.category.value, report.note, report.status) == (
        "spam",
        "An advert.",
        ReportStatus.OPEN,
    )
    refused(Conflict, moderation.report_comment, p.rita, p.comment, "abuse")
    assert db.session.execute(select(func.count(Report.id))).scalar_one() == 1


def test_nobody_reports_their_own_comment(p):
    refused(Forbidden, moderation.report_comment, p.carl, p.comment, "spam")


@pytest.mark.parametrize("category", ["", None, "boring"])
def test_a_report_needs_a_category(p, category):
    error = refused(NotAllowed, moderation.report_comment, p.rita, p.comment, category)
    assert error.field == "category"


def test_hidden_comments_cannot_be_reported(p):
    moderation.hide_comment(p.mod, p.comment, "spam")
    refused(Conflict, moderation.report_comment, p.rita, p.comment, "spam")


def test_hiding_closes_the_open_reports_as_actioned(p):
    moderation.report_comment(p.rita, p.comment, "spam")
    moderation.report_comment(p.wes, p.comment, "abuse")
    assert moderation.open_report_count() == 1  # one comment, two reports
    moderation.hide_comment(p.mod, p.comment, "spam")

    reports = db.session.execute(select(Report)).scalars().all()
    assert {r.status for r in reports} == {ReportStatus.ACTIONED}
    assert {r.resolved_by_id for r in reports} == {p.mod.id}
    assert moderation.open_report_count() == 0


def test_dismissing_closes_the_reports_and_leaves_the_comment(p):
    moderation.report_comment(p.rita, p.comment, "spam")
    moderation.report_comment(p.wes, p.comment, "spam")
    refused(Forbidden, moderation.dismiss_reports, p.rita, p.comment)

    assert moderation.dismiss_reports(p.mod, p.comment, "Not spam.") == 2
    assert p.comment.status is CommentStatus.VISIBLE
    statuses = db.session.execute(select(Report.status)).scalars().all()
    assert statuses == [ReportStatus.DISMISSED] * 2
    [entry] = log_entries()
    assert (entry.action, entry.reason, entry.note) == (
        ModAction.DISMISS,
        "2 reports dismissed",
        "Not spam.",
    )
    refused(Conflict, moderation.dismiss_reports, p.mod, p.comment)


def test_the_queue_groups_open_reports_by_comment_newest_first_in_pages(p):
    older = threads.post_comment(p.carl, p.article, "Older.")
    newest = threads.post_comment(p.rita, p.article, "Newest.")
    now = utcnow()
    for reporter, comment, category, minutes in [
        (p.rita, p.comment, "spam", 30),
        (p.wes, p.comment, "abuse", 10),
        (p.wes, older, "off-topic", 50),
        (p.carl, newest, "other", 5),
    ]:
        report = moderation.report_comment(reporter, comment, category)
        report.created_at = now - timedelta(minutes=minutes)
    db.session.commit()

    first = moderation.report_queue(page=1, per_page=2)
    assert (first.pages, first.total) == (2, 3)
    items = first.items
    assert [item.comment.id for item in items] == [newest.id, p.comment.id]
    grouped = items[1]
    assert [r.reporter_id for r in grouped.reports] == [p.wes.id, p.rita.id]  # newest first
    assert grouped.categories == {"abuse": 1, "spam": 1}
    assert [item.comment.id for item in moderation.report_queue(2, 2).items] == [older.id]
    with pytest.raises(NotFound):  # past the last page: no such page
        moderation.report_queue(page=3, per_page=2)


def test_dismissed_and_actioned_reports_leave_the_queue(p):
    moderation.report_comment(p.rita, p.comment, "spam")
    moderation.dismiss_reports(p.mod, p.comment)
    empty = moderation.report_queue(1, 10)
    assert (empty.items, empty.page, empty.pages) == ([], 1, 1)
    assert moderation.open_report_count() == 0


# --- pre-moderation and trust -------------------------------------------------------------------


def approve_all(actor, user) -> None:
    for comment in db.session.execute(
        select(threads.Comment).where(
            threads.Comment.author_id == user.id,
            threads.Comment.status == CommentStatus.PENDING,
        )
    ).scalars():
        premoderation.approve_comment(actor, comment)


def test_first_comments_wait_until_enough_are_approved(p):
    settings = threads.DiscussionSettings(premoderate_first=2, trusted_after=3)
    newcomer = make_user("newcomer")
    first = threads.post_comment(newcomer, p.article, "First.", settings=settings)
    second = threads.post_comment(newcomer, p.article, "Second.", settings=settings)
    assert first.status is second.status is CommentStatus.PENDING

    premoderation.approve_comment(p.mod, first)
    third = threads.post_comment(newcomer, p.article, "Third.", settings=settings)
    assert third.status is CommentStatus.PENDING  # one approved is not enough

    premoderation.approve_comment(p.mod, second)
    fourth = threads.post_comment(newcomer, p.article, "Fourth.", settings=settings)
    assert fourth.status is CommentStatus.VISIBLE


def test_premoderation_is_off_by_default_and_never_applies_to_staff_or_trusted(p):
    assert not premoderation.needs_premoderation(p.rita, 0, 3)
    assert premoderation.needs_premoderation(p.rita, 2, 3)
    for staff in (p.writer, p.mod, p.admin):
        assert not premoderation.needs_premoderation(staff, 2, 3)
    premoderation.grant_trust(p.mod, p.rita)
    assert not premoderation.needs_premoderation(p.rita, 2, 3)


def test_trust_is_earned_by_approved_comments_that_stay_visible(p):
    assert not premoderation.is_trusted(p.rita, 2)
    one = threads.post_comment(p.rita, p.article, "One.")
    threads.post_comment(p.rita, p.article, "Two.")
    assert premoderation.is_trusted(p.rita, 2)
    moderation.hide_comment(p.mod, one, "spam")
    assert not premoderation.is_trusted(p.rita, 2)  # hidden comments don't count


def test_a_moderator_grants_trust_once(p):
    refused(Forbidden, premoderation.grant_trust, p.rita, p.wes)
    premoderation.grant_trust(p.mod, p.wes)
    assert p.wes.trusted
    assert premoderation.is_trusted(p.wes, 100)
    refused(Conflict, premoderation.grant_trust, p.mod, p.wes)
    [entry] = log_entries(ModAction.TRUST)
    assert (entry.actor_id, entry.target_user_id) == (p.mod.id, p.wes.id)


@pytest.mark.parametrize(
    ("body", "links"),
    [
        ("no links at all", 0),
        ("see https://example.org and http://example.com", 2),
        ("[a](https://a.example) www.b.example https://www.c.example", 3),
        ("HTTPS://SHOUTING.EXAMPLE", 1),
    ],
)
def test_links_are_counted_as_a_reader_would_follow_them(body, links):
    assert premoderation.count_links(body) == links


def test_young_untrusted_accounts_may_post_only_a_few_links(p):
    three = "https://a.example https://b.example https://c.example"
    rules = {"max_links": 2, "new_account_days": 3, "trusted_after": 3}
    error = refused(NotAllowed, premoderation.check_link_cap, p.rita, three, **rules)
    assert error.field == "body"
    assert "at most 2 links" in error.message
    premoderation.check_link_cap(p.rita, "https://a.example https://b.example", **rules)

    p.wes.created_at = utcnow() - timedelta(days=4)  # no longer young
    premoderation.check_link_cap(p.wes, three, **rules)
    premoderation.check_link_cap(p.mod, three, **rules)  # staff
    premoderation.grant_trust(p.mod, p.rita)
    premoderation.check_link_cap(p.rita, three, **rules)


def test_approve_and_reject_only_pending_comments(p):
    settings = threads.DiscussionSettings(premoderate_first=5)
    waiting = threads.post_comment(p.rita, p.article, "Waiting.", settings=settings)
    other = threads.post_comment(p.rita, p.article, "Also waiting.", settings=settings)
    refused(Forbidden, premoderation.approve_comment, p.writer, waiting)
    refused(Conflict, premoderation.approve_comment, p.mod, p.comment)  # already visible
    refused(NotAllowed, premoderation.reject_comment, p.mod, other, "")

    premoderation.approve_comment(p.mod, waiting)
    premoderation.reject_comment(p.mod, other, "off-topic", "Not about the article.")
    assert waiting.status is CommentStatus.VISIBLE
    assert other.status is CommentStatus.REJECTED
    assert other.hidden_reason == "off-topic"
    refused(Conflict, premoderation.approve_comment, p.mod, other)
    refused(Conflict, premoderation.reject_comment, p.mod, waiting, "spam")
    assert [(e.action, e.reason) for e in log_entries()] == [
        (ModAction.APPROVE, ""),
        (ModAction.REJECT, "off-topic"),
    ]


# --- appeals -------------------------------------------------------------------------------------


def test_the_author_appeals_a_hidden_comment_once(p):
    refused(Conflict, appeals.appeal, p.carl, p.comment, "It's fine.")  # not hidden
    moderation.hide_comment(p.mod, p.comment, "spam")
    refused(Forbidden, appeals.appeal, p.rita, p.comment, "It's fine.")
    refused(NotAllowed, appeals.appeal, p.carl, p.comment, "   ")
    refused(NotAllowed, appeals.appeal, p.carl, p.comment, "x" * 1001)

    item = appeals.appeal(p.carl, p.comment, "  It was a joke.  ")
    assert (item.message, item.status) == ("It was a joke.", AppealStatus.OPEN)
    assert appeals.open_appeals() == [item]
    refused(Conflict, appeals.appeal, p.carl, p.comment, "Please?")


def test_granting_an_appeal_shows_the_comment_and_logs_both(p):
    moderation.hide_comment(p.mod, p.comment, "spam")
    item = appeals.appeal(p.carl, p.comment, "It was a joke.")
    refused(Forbidden, appeals.decide_appeal, p.carl, item, True)

    appeals.decide_appeal(p.mod2, item, True, "Fair enough.")
    assert item.status is AppealStatus.GRANTED
    assert item.resolved_by_id == p.mod2.id
    assert p.comment.status is CommentStatus.VISIBLE
    assert [e.action for e in log_entries()] == [
        ModAction.HIDE,
        ModAction.UNHIDE,
        ModAction.APPEAL_GRANTED,
    ]
    assert appeals.open_appeals() == []
    refused(Conflict, appeals.decide_appeal, p.mod, item, False)


def test_denying_an_appeal_keeps_the_comment_hidden_and_logs_it(p):
    moderation.hide_comment(p.mod, p.comment, "spam")
    item = appeals.appeal(p.carl, p.comment, "It was a joke.")
    appeals.decide_appeal(p.mod, item, False, "Still spam.")

    assert db.session.get(Appeal, item.id).status is AppealStatus.DENIED
    assert p.comment.status is CommentStatus.HIDDEN
    entry = log_entries()[-1]
    assert (entry.action, entry.reason, entry.target_user_id) == (
        ModAction.APPEAL_DENIED,
        "Still spam.",
        p.carl.id,
    )


# --- locks ---------------------------------------------------------------------------------------


def test_lock_and_unlock_a_discussion(p):
    refused(Forbidden, sanctions.lock_article, p.writer, p.article, "Mine.")
    sanctions.lock_article(p.mod, p.article, "  Too heated.  ")
    assert p.article.discussion_locked
    assert p.article.lock_reason == "Too heated."
    with pytest.raises(Forbidden, match="locked: Too heated"):
        threads.post_comment(p.rita, p.article, "Let me in.")
    refused(Conflict, sanctions.lock_article, p.mod, p.article)

    sanctions.unlock_article(p.admin, p.article, "Calmer now.")
    assert not p.article.discussion_locked
    assert p.article.lock_reason is None
    refused(Conflict, sanctions.unlock_article, p.mod, p.article)
    assert [(e.action, e.reason) for e in log_entries()] == [
        (ModAction.LOCK, "Too heated."),
        (ModAction.UNLOCK, "Calmer now."),
    ]


# --- suspensions and roles -----------------------------------------------------------------------


def test_suspend_for_some_days_then_lift(p):
    sanctions.suspend_user(p.mod, p.rita, 3, "Flame war.")
    until = p.rita.suspended_until
    assert timedelta(days=3) - timedelta(minutes=1) < until - utcnow() <= timedelta(days=3)
    assert p.rita.suspension_reason == "Flame war."
    assert p.rita.is_suspended()
    with pytest.raises(Forbidden, match="suspended until"):
        threads.post_comment(p.rita, p.article, "Hello?")

    sanctions.unsuspend_user(p.mod, p.rita, "Served.")
    assert not p.rita.is_suspended()
    assert p.rita.suspension_reason is None
    refused(Conflict, sanctions.unsuspend_user, p.mod, p.rita)
    assert [(e.action, e.reason) for e in log_entries()] == [
        (ModAction.SUSPEND, "for 3 days: Flame war."),
        (ModAction.UNSUSPEND, "Served."),
    ]


def test_suspend_indefinitely(p):
    sanctions.suspend_user(p.admin, p.rita, None, "Spam bot.")
    assert p.rita.suspended_until == INDEFINITE
    assert p.rita.suspended_indefinitely
    assert log_entries()[0].reason == "indefinitely: Spam bot."


def test_suspensions_need_a_reason_and_a_sane_length(p):
    assert refused(NotAllowed, sanctions.suspend_user, p.mod, p.rita, 3, "  ").field == "reason"
    for days in (0, -1, 3651):
        assert refused(NotAllowed, sanctions.suspend_user, p.mod, p.rita, days, "x").field == (
            "days"
        )


@pytest.mark.parametrize(
    ("actor", "target", "allowed"),
    [
        ("mod", "rita", True),
        ("mod", "writer", True),
        ("mod", "mod", False),  # themselves
        ("mod", "mod2", False),  # another moderator: admins only
        ("mod", "admin", False),
        ("admin", "mod", True),
        ("admin", "admin", False),
        ("rita", "wes", False),
        ("writer", "rita", False),
    ],
)
def test_who_may_suspend_whom(p, actor, target, allowed):
    actor, target = getattr(p, actor), getattr(p, target)
    if allowed:
        sanctions.suspend_user(actor, target, 1, "Reason.")
        assert target.is_suspended()
    else:
        refused(Forbidden, sanctions.suspend_user, actor, target, 1, "Reason.")


def test_moderators_cannot_lift_an_admins_or_other_moderators_suspension(p):
    sanctions.suspend_user(p.admin, p.mod2, 1, "Overreach.")
    refused(Forbidden, sanctions.unsuspend_user, p.mod, p.mod2)
    sanctions.unsuspend_user(p.admin, p.mod2)


def test_admins_change_roles_and_it_is_logged(p):
    sanctions.change_role(p.admin, p.rita, "moderator")
    assert p.rita.role is Role.MODERATOR
    [entry] = log_entries(ModAction.ROLE_CHANGE)
    assert (entry.actor_id, entry.target_user_id, entry.reason) == (
        p.admin.id,
        p.rita.id,
        "reader → moderator",
    )


def test_role_changes_refused(p):
    assert refused(NotAllowed, sanctions.change_role, p.admin, p.rita, "overlord").field == "role"
    refused(Forbidden, sanctions.change_role, p.mod, p.rita, "author")
    refused(Forbidden, sanctions.change_role, p.mod, p.admin, "reader")
    refused(Forbidden, sanctions.change_role, p.admin, p.admin, "reader")  # own role
    refused(Conflict, sanctions.change_role, p.admin, p.rita, "reader")
    assert log_entries() == []


def test_the_operators_cli_changes_roles_without_a_log_actor(p):
    sanctions.change_role(None, p.rita, "admin")
    assert p.rita.role is Role.ADMIN
    assert log_entries() == []


# --- the log -------------------------------------------------------------------------------------


def test_every_action_kind_is_logged_and_the_log_filters(p):
    """One of every ModAction, made through the services, then read back through log_page."""
    settings = threads.DiscussionSettings(premoderate_first=5)
    moderation.hide_comment(p.mod, p.comment, "spam", "private")
    moderation.unhide_comment(p.mod, p.comment)
    waiting = threads.post_comment(p.rita, p.article, "Pending one.", settings=settings)
    premoderation.approve_comment(p.mod, waiting)
    waiting = threads.post_comment(p.wes, p.article, "Pending two.", settings=settings)
    premoderation.reject_comment(p.mod, waiting, "off-topic")
    moderation.report_comment(p.rita, p.comment, "abuse")
    moderation.dismiss_reports(p.mod, p.comment)
    sanctions.lock_article(p.mod, p.article, "Heated.")
    sanctions.unlock_article(p.mod, p.article)
    sanctions.suspend_user(p.mod, p.wes, 1, "Rude.")
    sanctions.unsuspend_user(p.mod, p.wes)
    sanctions.change_role(p.admin, p.wes, "author")
    premoderation.grant_trust(p.mod, p.rita)
    granted = threads.post_comment(p.carl, p.article, "One more.")
    moderation.hide_comment(p.mod, granted, "abuse")
    appeals.decide_appeal(p.mod, appeals.appeal(p.carl, granted, "Please."), True)
    denied = threads.post_comment(p.carl, p.article, "Another.")
    moderation.hide_comment(p.mod, denied, "spam")
    appeals.decide_appeal(p.mod, appeals.appeal(p.carl, denied, "Please."), False)

    everything = moderation.log_page(1, 100)
    assert {e.action for e in everything.items} == set(ModAction)
    ids = [e.id for e in everything.items]
    assert ids == sorted(ids, reverse=True)  # newest first

    hides = moderation.log_page(1, 100, action="hide")
    assert {e.action for e in hides.items} == {ModAction.HIDE}
    assert len(hides.items) == 3
    by_admin = moderation.log_page(1, 100, moderator="ADMIN")  # names ignore letter case
    assert [e.action for e in by_admin.items] == [ModAction.ROLE_CHANGE]
    assert moderation.log_page(1, 100, action="unlock", moderator="admin").items == []
    with pytest.raises(NotAllowed):
        moderation.log_page(1, 100, action="delete-everything")


def test_a_suspended_moderator_keeps_the_role_but_not_the_powers(p):
    moderation.report_comment(p.rita, p.comment, "spam")
    sanctions.suspend_user(p.admin, p.mod2, 7, "Overreach.")
    refused(Forbidden, moderation.hide_comment, p.mod2, p.comment, "spam")
    refused(Forbidden, moderation.dismiss_reports, p.mod2, p.comment)
    refused(Forbidden, sanctions.lock_article, p.mod2, p.article)
    refused(Forbidden, sanctions.suspend_user, p.mod2, p.rita, 1, "Revenge.")
    refused(Forbidden, premoderation.grant_trust, p.mod2, p.rita)
    sanctions.unsuspend_user(p.admin, p.mod2)
    moderation.hide_comment(p.mod2, p.comment, "spam")
