"""Avatars: the generated one is the account's own and drawn here; an upload is decoded,
checked, re-encoded and stripped before anyone is served a byte of it."""

import io

import pytest
from PIL import Image

from forum.extensions import db
from forum.models import AvatarImage, Role
from forum.services import avatars, sanctions, your_data
from forum.services.errors import Forbidden, NotAllowed, NotFound, TooLarge
from tests.avatar_support import (
    animated_gif,
    bomb_png,
    encoded,
    jpeg_with_exif,
    picture,
    png_bytes,
)
from tests.conftest import PASSWORD, make_user

LIMITS = {"max_bytes": 2_000_000, "max_pixels": 20_000_000}


def served(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_the_generated_avatar_is_the_same_for_one_account_and_differs_between_accounts(app):
    ada, bea = make_user("ada"), make_user("bea")
    assert avatars.identicon_svg(ada) == avatars.identicon_svg(ada)
    assert avatars.identicon_svg(ada) != avatars.identicon_svg(bea)


def test_the_generated_avatar_is_a_self_contained_svg(app):
    svg = avatars.identicon_svg(make_user("ada"))
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    # Nothing in it loads anything: no links, images, scripts or styles from anywhere.
    for needle in ("href", "<image", "<script", "url(", "<style", "@import"):
        assert needle not in svg


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (png_bytes((300, 200)), "PNG"),
        (encoded(picture((120, 400)), "JPEG"), "JPEG"),
        (encoded(picture((50, 50), (0, 0, 0, 0), "RGBA"), "PNG"), "PNG with transparency"),
        (encoded(picture((64, 64)), "WEBP"), "WEBP"),
    ],
)
def test_an_upload_becomes_a_square_webp_of_at_most_256_pixels(data, fmt):
    image = served(avatars.normalize_upload(data, **LIMITS))
    assert image.format == "WEBP"
    assert image.width == image.height <= avatars.AVATAR_SIZE


def test_metadata_is_stripped_and_orientation_applied():
    data = jpeg_with_exif()
    assert Image.open(io.BytesIO(data)).getexif()  # the fixture does carry EXIF
    image = served(avatars.normalize_upload(data, **LIMITS))
    assert not image.getexif()
    assert "exif" not in image.info and "xmp" not in image.info and "icc_profile" not in image.info
    out = avatars.normalize_upload(data, **LIMITS)
    assert b"Spy Camera" not in out and b"secret note" not in out


def test_an_animated_gif_keeps_its_first_frame_only():
    image = served(avatars.normalize_upload(animated_gif(), **LIMITS))
    assert getattr(image, "n_frames", 1) == 1
    red, green, blue = image.convert("RGB").getpixel((10, 10))
    assert red > 200 and green < 50 and blue < 50  # the first frame was red


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a not really",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"%PDF-1.4\n",
        png_bytes()[:40],  # cut short
        encoded(picture(), "BMP"),  # a picture, but not a type we take
    ],
)
def test_what_is_not_a_picture_we_read_is_refused(data):
    with pytest.raises(NotAllowed) as refused:
        avatars.normalize_upload(data, **LIMITS)
    assert refused.value.message == avatars.UNREADABLE
    assert refused.value.field == "avatar"


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    data = bomb_png(6000)
    assert len(data) < 100_000
    with pytest.raises(NotAllowed) as refused:
        avatars.normalize_upload(data, max_bytes=2_000_000, max_pixels=20_000_000)
    assert "6000 by 6000 pixels" in refused.value.message


def test_a_file_over_the_size_limit_is_refused_as_too_large():
    with pytest.raises(TooLarge) as refused:
        avatars.normalize_upload(b"x" * 2001, max_bytes=2000, max_pixels=1_000_000)
    assert refused.value.status == 413


def test_uploading_and_removing_a_picture(app):
    ada = make_user("ada")
    digest = avatars.set_uploaded(ada, png_bytes(), **LIMITS)
    assert ada.avatar_hash == digest
    stored = avatars.uploaded_image(ada, digest)
    assert stored.media_type == "image/webp"
    with pytest.raises(NotFound):
        avatars.uploaded_image(ada, "0" * 64)
    avatars.remove_uploaded(ada)
    assert ada.avatar_hash is None
    assert db.session.get(AvatarImage, ada.id) is None
    with pytest.raises(NotAllowed):
        avatars.remove_uploaded(ada)


def test_a_new_upload_replaces_the_old_one_under_a_new_address(app):
    ada = make_user("ada")
    first = avatars.set_uploaded(ada, png_bytes((40, 40)), **LIMITS)
    second = avatars.set_uploaded(ada, encoded(picture((40, 40), (0, 90, 200)), "PNG"), **LIMITS)
    assert first != second
    with pytest.raises(NotFound):
        avatars.uploaded_image(ada, first)


def test_a_suspended_member_cannot_change_their_picture_but_can_remove_it(app):
    ada, mod = make_user("ada"), make_user("mod", role=Role.MODERATOR)
    avatars.set_uploaded(ada, png_bytes(), **LIMITS)
    sanctions.suspend_user(mod, ada, 3, "Cool off.")
    with pytest.raises(Forbidden):
        avatars.set_uploaded(ada, png_bytes((30, 30)), **LIMITS)
    avatars.remove_uploaded(ada)
    assert ada.avatar_hash is None


def test_deleting_the_account_deletes_the_picture(app):
    ada = make_user("ada")
    digest = avatars.set_uploaded(ada, png_bytes(), **LIMITS)
    your_data.delete_account(ada, PASSWORD, remove_comments=False)
    assert db.session.get(AvatarImage, ada.id) is None
    with pytest.raises(NotFound):
        avatars.uploaded_image(ada, digest)
