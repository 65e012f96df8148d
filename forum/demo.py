"""Demo content for ``flask --app forum demo``: accounts, a series of articles and lively
discussions, loaded once. Passwords are made up at load time, never fixed in the code."""

import secrets
from pathlib import Path

from forum.models import Role
from forum.services import accounts, articles

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
]


def load(sanitizer: str = "bleach") -> list[tuple[str, str, str]]:
    """Load the demo once; returns (username, role, password) for each account made, or []."""
    if accounts.find_user("mara") is not None:
        return []
    made = []
    for username, role, display_name in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        accounts.register(username, password, role=role, display_name=display_name)
        made.append((username, role.value, password))
    articles.import_articles([CONTENT_DIR], sanitizer)
    return made
