"""A long, lived-in discussion for the accessibility and console checks: many threads, one
nested past the display cap, a pinned question, votes, an edited comment, a deleted one
with a reply still standing, a hidden one under appeal, an open report, a comment waiting
for review, notifications, and the people who made them. Built through the services."""

from dataclasses import dataclass
from datetime import timedelta

from forum.extensions import db
from forum.models import Role, utcnow
from forum.services import appeals, community, moderation, threads
from forum.services.sanitize import render_markdown
from tests.conftest import make_article, make_series, make_user

ARTICLE_MD = """\
Cells talk to each other all the time. This article is about **how**.

## Messengers

Some signals travel far, others only to the neighbouring cell:

| Signal | Range |
|---|---|
| Hormones | The whole body |
| Neurotransmitters | One synapse |

> A quotation, for the styles.

```
code block
```
"""

REPLIES = [
    "I had not thought of it *that* way.",
    "Do you have a source for this? I'd like to read more.",
    "Here's one: https://example.org/paper and a `code span`.",
    "- a list item\n- another one\n\n1. and numbered\n2. items",
    "> quoting the parent\n\nand answering it.",
]


@dataclass
class Scene:
    slug: str
    series_slug: str
    writer: str
    moderator: str
    reader: str  # has notifications, an editable comment and a hidden one under appeal
    other: str
    visible_id: int  # someone else's visible comment (reply page)
    own_id: int  # the reader's own, editable comment (edit page)
    edited_id: int  # a comment with an edit history


def build(prefix: str = "scene") -> Scene:
    """Make the whole scene; call inside an app context."""
    writer = make_user(f"{prefix}-writer", role=Role.AUTHOR, display_name="Mara Quell")
    mod = make_user(f"{prefix}-mod", role=Role.MODERATOR, display_name="Theo Okafor")
    reader = make_user(f"{prefix}-ada", display_name="Ada")
    people = [
        reader,
        make_user(f"{prefix}-ben", display_name="Ben Sørensen"),
        make_user(f"{prefix}-chioma", display_name="Chioma"),
        make_user(f"{prefix}-dev"),
    ]
    series = make_series("How cells talk", slug=f"{prefix}-series")
    article = make_article(
        writer, series=series, position=1, slug=f"{prefix}-article", title="Signals"
    )
    make_article(writer, series=series, position=2, slug=f"{prefix}-next", title="Membranes")
    article.body_md = ARTICLE_MD
    article.body_html = render_markdown(ARTICLE_MD, profile="article")
    db.session.commit()
    for person in people:
        community.follow(person, article)

    def say(who, text, parent=None, hours_ago=0.0, **kw):
        comment = threads.post_comment(
            who, article, text, parent_id=parent.id if parent else None, **kw
        )
        comment.created_at = utcnow() - timedelta(hours=hours_ago)
        db.session.commit()
        return comment

    # A deep conversation, past the display cap (6 levels), so some replies are flattened.
    top = say(reader, "Why do some signals travel so far? @" + people[1].username, hours_ago=60)
    parent = top
    for depth in range(1, 9):
        who = people[depth % len(people)] if depth % 3 else writer
        parent = say(who, f"Level {depth}: " + REPLIES[depth % len(REPLIES)], parent, 59 - depth)
    community.pin(writer, top)
    for voter in people[1:]:
        community.vote(voter, top)

    # Many more threads, with a few replies each.
    visible = None
    for n in range(14):
        who = people[(n + 1) % len(people)]
        thread = say(who, f"Thread {n}: " + REPLIES[n % len(REPLIES)], hours_ago=40 - n)
        visible = visible or thread
        for k in range(n % 3):
            say(people[(n + k) % len(people)], REPLIES[(n + k) % len(REPLIES)], thread, 39 - n)

    gone = say(people[1], "I'll delete this.", hours_ago=20)
    say(people[2], "A reply that keeps the deleted comment's place.", gone, 19)
    threads.delete_comment(people[1], gone)

    rude = say(reader, "Something rude that a moderator hid.", hours_ago=10)
    moderation.report_comment(people[2], rude, "abuse", "Name-calling.")
    moderation.hide_comment(mod, rude, "abuse", "First warning.")
    appeals.appeal(reader, rude, "It was a joke between friends.")

    spam = say(people[3], "Buy things at https://spam.example/", hours_ago=5)
    moderation.report_comment(reader, spam, "spam", "Advertising.")
    say(
        make_user(f"{prefix}-newbie"),
        "My first comment, waiting for review.",
        hours_ago=1,
        settings=threads.DiscussionSettings(premoderate_first=5),
    )

    edited = say(people[2], "A comment with a typo.", hours_ago=0.5)
    threads.edit_comment(people[2], edited, "A comment without the typo, edited.")
    say(people[1], f"Replying to you, @{reader.username}.", top, hours_ago=0.3)
    own = say(reader, "My recent comment, still editable.", hours_ago=0.1)

    return Scene(
        slug=article.slug,
        series_slug=series.slug,
        writer=writer.username,
        moderator=mod.username,
        reader=reader.username,
        other=people[1].username,
        visible_id=visible.id,
        own_id=own.id,
        edited_id=edited.id,
    )
