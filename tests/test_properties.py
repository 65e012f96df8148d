"""Property tests (hypothesis): random sequences of what people do to a discussion, through
the services, keep its invariants.

Posts, replies, edits, deletions, hides, unhides, approvals (some accounts are
pre-moderated), locks and account deletions, in any order, and after every step:

- every reply's ``root_id`` and ``depth`` match its parent chain;
- the stored counts (``Article.comment_count``, ``thread_count``, each root's
  ``visible_in_thread`` and ``listed``) equal a recount made here from the comments;
- every comment a reader may see is on the anonymous reader's pages (``load_page``, all
  pages, a few threads a page); and at the end of each run, over HTTP, every visible comment's
  text is on some page and no hidden, pending, rejected or deleted comment's text is.

The test's app and database are made once; each example gets a new article and new accounts
so that examples don't see each other's comments. A step picks its comment by index among
those it can act on (an unhide among hidden comments), and a step the forum refuses (a post
in a locked discussion, an edit by a deleted account) changes nothing and is part of the
sequence. Bounded (40 sequences of 15 to 30 steps, about 5 s on SQLite, 10 s on PostgreSQL)
and derandomized, so CI runs the same sequences every time. A failure's message carries the
steps taken so far."""

from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from forum.extensions import db
from forum.models import Article, Comment, CommentStatus, Role
from forum.services import (
    discussion_pages,
    moderation,
    premoderation,
    sanctions,
    threads,
    your_data,
)
from forum.services.errors import DomainError
from tests.conftest import PASSWORD, client_as, make_article, make_user

PER_PAGE = 3
SETTINGS = threads.DiscussionSettings(threads_per_page=PER_PAGE, spam_checks=False)
PREMODERATED = threads.DiscussionSettings(
    threads_per_page=PER_PAGE, spam_checks=False, premoderate_first=2, trusted_after=2
)
# Unique words for comment bodies: one word can't be found inside another ("w000012z").
_words = count(1)
_names = count(1)


def word() -> str:
    return f"w{next(_words):06d}z"


class Discussion:
    """One article and its readers, acted on at random."""

    def __init__(self, app):
        self.app = app
        run = next(_names)
        self.moderator = make_user(f"mod{run}", role=Role.MODERATOR)
        self.article = make_article(slug=f"prop-{run}")
        self.readers = [make_user(f"rdr{run}x{i}") for i in range(4)]
        self.premoderated = {self.readers[2].id, self.readers[3].id}
        self.comment_ids: list[int] = []
        self.ops: list[str] = []  # the sequence so far, for the report of a failure

    # --- helpers -----------------------------------------------------------------------

    def _comment(self, index: int, status: CommentStatus | None = None) -> Comment | None:
        """The ``index``-th comment (modulo), among those in ``status`` when there are any:
        an unhide of a comment that isn't hidden only proves the refusal."""
        comments = sorted(self._comments(), key=lambda c: c.id)
        fitting = [c for c in comments if c.status is status]
        comments = fitting or comments
        return comments[index % len(comments)] if comments else None

    def _try(self, label: str, action) -> None:
        """Do ``action``; a refusal (a rule of the forum) leaves everything as it was."""
        try:
            action()
            self.ops.append(label)
        except DomainError:
            db.session.rollback()
            self.ops.append(label + " (refused)")

    def _comments(self) -> list[Comment]:
        db.session.expire_all()
        return list(
            db.session.execute(
                select(Comment).where(Comment.article_id == self.article.id)
            ).scalars()
        )

    # --- rules -------------------------------------------------------------------------

    def post(self, who, parent):
        author = self.readers[who]
        answered = self._comment(parent) if parent is not None else None
        settings = PREMODERATED if author.id in self.premoderated else SETTINGS

        def act():
            comment = threads.post_comment(
                author,
                self.article,
                word(),
                parent_id=answered.id if answered else None,
                settings=settings,
            )
            self.comment_ids.append(comment.id)

        self._try(f"post(reader {who}, reply to {answered and answered.id})", act)

    def edit(self, index):
        comment = self._comment(index)
        if comment is not None:
            self._try(
                f"edit({comment.id})",
                lambda: threads.edit_comment(comment.author, comment, word(), settings=SETTINGS),
            )

    def delete(self, index):
        comment = self._comment(index)
        if comment is not None:
            self._try(
                f"delete({comment.id})", lambda: threads.delete_comment(comment.author, comment)
            )

    def hide(self, index):
        comment = self._comment(index, CommentStatus.VISIBLE)
        if comment is not None:
            self._try(
                f"hide({comment.id})",
                lambda: moderation.hide_comment(self.moderator, comment, "abuse"),
            )

    def unhide(self, index):
        comment = self._comment(index, CommentStatus.HIDDEN)
        if comment is not None:
            self._try(
                f"unhide({comment.id})",
                lambda: moderation.unhide_comment(self.moderator, comment),
            )

    def approve(self, index):
        comment = self._comment(index, CommentStatus.PENDING)
        if comment is not None:
            self._try(
                f"approve({comment.id})",
                lambda: premoderation.approve_comment(self.moderator, comment),
            )

    def toggle_lock(self):
        locked = db.session.get(Article, self.article.id).discussion_locked
        change = sanctions.unlock_article if locked else sanctions.lock_article
        self._try(
            f"{'unlock' if locked else 'lock'}()", lambda: change(self.moderator, self.article)
        )

    def delete_account(self, who, remove_comments):
        user = self.readers[who]
        self._try(
            f"delete_account(reader {who}, remove_comments={remove_comments})",
            lambda: your_data.delete_account(user, PASSWORD, remove_comments=remove_comments),
        )

    # --- invariants --------------------------------------------------------------------

    def replies_match_their_parent_chain(self):
        comments = {c.id: c for c in self._comments()}
        for comment in comments.values():
            if comment.parent_id is None:
                assert (comment.root_id, comment.depth) == (None, 0), self.ops
                continue
            parent = comments[comment.parent_id]
            assert comment.depth == parent.depth + 1, self.ops
            assert comment.root_id == parent.thread_root_id, self.ops

    def stored_counts_equal_a_recount(self):
        comments = self._comments()
        visible = [c for c in comments if c.status is CommentStatus.VISIBLE]
        listed_threads = 0
        for root in (c for c in comments if c.parent_id is None):
            replies = sum(1 for c in visible if c.root_id == root.id)
            in_thread = replies + int(root.status is CommentStatus.VISIBLE)
            stands = root.status in (CommentStatus.VISIBLE, CommentStatus.HIDDEN)
            listed = stands or replies > 0
            listed_threads += listed
            assert (root.visible_in_thread, root.listed) == (in_thread, listed), (
                root.id,
                self.ops,
            )
        article = db.session.get(Article, self.article.id)
        assert article.comment_count == len(visible), self.ops
        assert article.thread_count == listed_threads, self.ops

    def readers_pages_show_every_visible_comment(self):
        wanted = {c.id for c in self._comments() if c.status is CommentStatus.VISIBLE}
        article = db.session.get(Article, self.article.id)
        shown: set[int] = set()
        page = 1
        while True:
            found = discussion_pages.load_page(article, None, page=page, settings=SETTINGS)
            nodes = list(found.threads)
            while nodes:  # every node of every tree, without recursion
                node = nodes.pop()
                shown.add(node.comment.id)
                nodes.extend(node.children)
            if page >= found.paging.pages:
                break
            page += 1
        assert wanted <= shown, (sorted(wanted - shown), self.ops)

    def check(self):
        self.replies_match_their_parent_chain()
        self.stored_counts_equal_a_recount()
        self.readers_pages_show_every_visible_comment()

    def check_http_pages(self):
        """Over HTTP, as an anonymous reader: every visible text is on some page, and no
        text of a comment readers may not see."""
        comments = self._comments()
        html = ""
        client = client_as(self.app)
        page = 1
        while True:
            response = client.get(f"/articles/{self.article.slug}?page={page}")
            if response.status_code == 404 and page > 1:
                break
            assert response.status_code == 200, (page, self.ops)
            html += response.get_data(as_text=True)
            page += 1
        for comment in comments:
            if comment.status is CommentStatus.VISIBLE:
                assert comment.body_md in html, (comment.id, self.ops)
            else:
                assert comment.body_md not in html, (comment.id, comment.status, self.ops)


WHO = st.integers(0, 3)
INDEX = st.integers(0, 1000)
# Posting is the most common step (listed three times), so discussions grow.
OPERATIONS = st.one_of(
    st.tuples(st.just("post"), WHO, st.none()),
    st.tuples(st.just("post"), WHO, INDEX),
    st.tuples(st.just("post"), WHO, INDEX),
    st.tuples(st.just("edit"), INDEX),
    st.tuples(st.just("delete"), INDEX),
    st.tuples(st.just("hide"), INDEX),
    st.tuples(st.just("unhide"), INDEX),
    st.tuples(st.just("approve"), INDEX),
    st.tuples(st.just("toggle_lock")),
    st.tuples(st.just("delete_account"), WHO, st.booleans()),
)


def test_random_discussions_keep_their_invariants(app_factory):
    app = app_factory(THREADS_PER_PAGE=PER_PAGE)

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.lists(OPERATIONS, min_size=15, max_size=30))
    def run(operations):
        discussion = Discussion(app)
        for name, *args in operations:
            getattr(discussion, name)(*args)
            discussion.check()
        discussion.check_http_pages()

    with app.app_context():
        run()
