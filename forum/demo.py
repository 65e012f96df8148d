"""Demo content for ``flask --app forum demo``: accounts, a series of articles and lively
discussions, loaded once. Passwords are made up at load time, never fixed in the code."""

import secrets
from datetime import timedelta
from pathlib import Path

from forum.extensions import db
from forum.models import Comment, Role, utcnow
from forum.services import (
    accounts,
    appeals,
    article_import,
    articles,
    community,
    moderation,
    threads,
)

CONTENT_DIR = Path(__file__).parent / "demo_content"
FEATURED_SLUG = "exosomes-cellular-messengers"

DEMO_USERS = [
    ("mara", Role.AUTHOR, "Mara Quell"),
    ("theo", Role.MODERATOR, "Theo Okafor"),
    ("admin", Role.ADMIN, None),
    ("ada", Role.READER, "Ada"),
    ("ben", Role.READER, "Ben Sørensen"),
    ("chioma", Role.READER, "Chioma"),
    ("dev", Role.READER, None),
    ("sam", Role.READER, "Sam"),
]


def load() -> list[tuple[str, str, str]]:
    """Load the demo once; returns (username, role, password) for each account made, or []."""
    if accounts.find_user("mara") is not None:
        return []
    made = []
    for username, role, display_name in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        accounts.register(username, password, role=role, display_name=display_name)
        made.append((username, role.value, password))
    article_import.import_articles([CONTENT_DIR])
    _discussions()
    return made


def _discussions() -> None:
    """A lively thread under the featured article, written through the real services."""
    people = {name: accounts.find_user(name) for name, _, _ in DEMO_USERS}
    article = articles.get_article(FEATURED_SLUG)
    settings = threads.DiscussionSettings(spam_checks=False)

    def say(who: str, text: str, parent: Comment | None = None, hours_ago: float = 0) -> Comment:
        comment = threads.post_comment(
            people[who], article, text, parent_id=parent.id if parent else None, settings=settings
        )
        comment.created_at = utcnow() - timedelta(hours=hours_ago)
        db.session.commit()
        return comment

    q = say(
        "ada",
        "How do researchers tell an exosome apart from a virus in a blood sample, if they are "
        "the same size and both wrapped in lipid?",
        hours_ago=50,
    )
    a = say(
        "mara",
        "Good question! Mostly by **what is on the surface**: exosomes carry marker proteins "
        "such as the tetraspanins CD9, CD63 and CD81, and researchers sort particles with "
        "antibodies against them. Sequencing the cargo helps too.",
        q,
        hours_ago=48,
    )
    b = say(
        "ben", "Is antibody sorting reliable, though? Some viruses pick up CD63 as they bud.", a, 40
    )
    c = say(
        "mara",
        "It isn't perfect, which is why papers combine methods: density gradients, electron "
        "microscopy and *functional* tests. The field has published guidelines (MISEV) for it.",
        b,
        39,
    )
    say(
        "chioma",
        "MISEV is a great read. The 2023 update is on the ISEV site: https://www.isev.org/",
        c,
        30,
    )
    d = say(
        "dev",
        "The table in the article made this click for me. Thanks for writing it.",
        hours_ago=36,
    )
    say("ada", "Same here, especially the size column.", d, 35)

    gone = say("ben", "I think this is all overhyped.", hours_ago=28)
    say("chioma", "Which part? The repair claims are the shakiest, I'd say.", gone, 27)
    threads.delete_comment(people["ben"], gone)

    edited = say("chioma", "Do plant cells make exosomes as well?", hours_ago=0.2)
    threads.edit_comment(
        people["chioma"],
        edited,
        "Do plant cells make exosome-like vesicles as well? I read that they can carry small "
        "RNAs into fungi that attack them.",
        settings=settings,
    )
    say(
        "mara",
        "They do, and that cross-kingdom RNA traffic is one of my favourite stories.",
        edited,
    )

    spam = say(
        "dev",
        "Cheap supplements here!!! https://spam.example/buy https://spam.example/now",
        hours_ago=5,
    )
    moderation.report_comment(people["ada"], spam, "spam", "Advertising, not discussion.")
    rude = say("ben", "Anyone who believes this stuff is an idiot.", hours_ago=4)
    moderation.report_comment(people["chioma"], rude, "abuse", "Name-calling.")
    moderation.hide_comment(people["theo"], rude, "abuse", "Personal attack; first warning.")

    # Community: a pinned question, helpful votes, a mention; the readers' notifications
    # (replies, the mention, followed discussions) are created by the services above.
    say("chioma", "@ada the size column is my favourite part too.", d, 2)
    community.pin(people["mara"], q)
    for voter in ("ada", "chioma", "dev"):
        community.vote(people[voter], a)
    community.vote(people["ben"], d)
    community.vote(people["mara"], q)

    # The queue on first run: a second report, a newcomer's comment awaiting review (as with
    # FORUM_PREMODERATE_FIRST_COMMENTS), and an appeal against the hidden comment.
    moderation.report_comment(people["sam"], spam, "spam")
    newcomer = threads.DiscussionSettings(spam_checks=False, premoderate_first=1)
    threads.post_comment(
        people["sam"],
        article,
        "First time here. Are exosomes what the *liquid biopsy* tests look for?",
        settings=newcomer,
    )
    appeals.appeal(
        people["ben"], rude, "That was harsh, I admit, but I was talking about the claims."
    )
