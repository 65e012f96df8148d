"""Names that could pass for someone else's are refused: confusable skeletons (Unicode TR39,
case, marks and spacing folded), at registration and on profile edits."""

import pytest

from forum.models import Role
from forum.services import accounts, profiles, your_data
from forum.services.errors import ValidationFailed
from forum.services.names import candidate_skeletons, look_alike_owner, skeleton
from tests.conftest import PASSWORD, make_user

CYRILLIC_E, CYRILLIC_O = "\u0435", "\u043e"

# Each pair looks alike to a reader.
CONFUSABLE = [
    ("theo", "the0"),
    ("theo", "Theo"),
    ("theo", "THEO"),
    ("theo", f"th{CYRILLIC_E}{CYRILLIC_O}"),  # Cyrillic letters
    ("theo", "T h e-o"),  # spacing and punctuation
    ("theo", "Théo"),  # a combining mark
    ("theo", "\U0001d42d\U0001d421\U0001d41e\U0001d428"),  # mathematical bold letters
    ("theo", "the\u200bo"),  # a zero-width space
    ("theo", "\uff54\uff48\uff45\uff4f"),  # full-width letters
    ("alice", "aIice"),  # a capital I for the l
    ("bill", "bi11"),
]
DIFFERENT = [
    ("theo", "thea"),
    ("alice", "alicia"),
    ("ada", "adam"),
    ("سارة", "مريم"),
    ("שרה", "מרים"),
]


@pytest.mark.parametrize(("name", "look_alike"), CONFUSABLE)
def test_look_alike_names_share_a_skeleton(name, look_alike):
    assert skeleton(name) in candidate_skeletons(look_alike)


@pytest.mark.parametrize(("name", "other"), DIFFERENT)
def test_different_names_keep_different_skeletons(name, other):
    assert skeleton(name) not in candidate_skeletons(other)


def test_a_name_of_only_punctuation_has_an_empty_skeleton_and_resembles_nobody(app):
    make_user("theo")
    assert skeleton("-- . --") == ""
    assert look_alike_owner("-- . --") is None


@pytest.mark.parametrize("display_name", ["The0", "T.H.E.O", f"Th{CYRILLIC_E}o"])
def test_registering_with_a_display_name_like_someone_elses_username_is_refused(app, display_name):
    make_user("theo")
    with pytest.raises(ValidationFailed) as refused:
        accounts.register("newcomer", "a long password", display_name=display_name)
    assert refused.value.errors["display_name"] == (
        "That name looks too much like @theo's. Please choose another."
    )


def test_a_username_like_someone_elses_display_name_is_refused(app):
    make_user("mara", display_name="Moonlight")
    with pytest.raises(ValidationFailed) as refused:
        accounts.register("m00nlight", "a long password")
    assert "@mara" in refused.value.errors["username"]


def test_a_display_name_may_look_like_ones_own_username(app):
    theo = make_user("theo", display_name="Théo")
    assert theo.display_name == "Théo"
    profiles.update_profile(theo, display_name="THEO", bio="", trusted_after=3)
    assert theo.display_name == "THEO"


@pytest.mark.parametrize(
    "display_name", ["Theo (mod)", "theo_admin", "Official Theo", "Moderator Theo", "the0 staff"]
)
def test_staff_names_are_guarded_against_close_variants(app, display_name):
    make_user("theo", role=Role.MODERATOR)
    reader = make_user("reader")
    with pytest.raises(ValidationFailed) as refused:
        profiles.update_profile(reader, display_name=display_name, bio="", trusted_after=3)
    assert refused.value.errors == {
        "display_name": "That name looks too much like @theo's. Please choose another."
    }


def test_a_readers_name_is_not_guarded_against_variants(app):
    make_user("theo")
    reader = make_user("reader")
    profiles.update_profile(reader, display_name="Theo (mod)", bio="", trusted_after=3)
    assert reader.display_name == "Theo (mod)"


def test_a_deleted_accounts_display_name_is_free_again_but_not_its_username(app):
    gone = make_user("gone", display_name="Stardust")
    your_data.delete_account(gone, PASSWORD, remove_comments=False)
    reader = make_user("reader")
    profiles.update_profile(reader, display_name="Stardust", bio="", trusted_after=3)
    with pytest.raises(ValidationFailed):
        profiles.update_profile(reader, display_name="G0NE", bio="", trusted_after=3)
