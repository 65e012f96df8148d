"""Avatars: a generated picture for everyone, or one they upload.

The generated one is an identicon (a symmetric 5 by 5 pattern on a tinted ground) drawn
from a hash of the account's id and username: the same account always gets the same
picture, it is drawn here, and nothing about it comes from, or asks, another site.

An upload is never served as sent. It is decoded with Pillow (which proves it is a PNG,
JPEG, GIF or WebP picture, whatever its name or declared type), refused when its pixel count
could be a decompression bomb, turned upright (EXIF orientation), cropped to a square, made
at most ``AVATAR_SIZE`` pixels wide, and written afresh as WebP from its pixels alone, so no
metadata (EXIF, GPS position, XMP, comments, colour profiles) survives. Of an animated
picture only the first frame is kept. The bytes are stored in the database and named by
their hash in the URL, so they can be cached for ever and a new picture gets a new address.
"""

import hashlib
import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from forum.extensions import db
from forum.models import AvatarImage, User
from forum.services import permissions
from forum.services.errors import Forbidden, NotAllowed, NotFound, TooLarge
from forum.services.words import _l, lazy_number

AVATAR_SIZE = 256  # pixels a side, at most
MEDIA_TYPE = "image/webp"
ACCEPTED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
UNREADABLE = _l(
    "That file isn't a picture we can read. Please upload a PNG, JPEG, GIF or WebP image."
)


# --- the generated picture ----------------------------------------------------------------


def identicon_svg(user: User) -> str:
    """The account's generated avatar as an SVG document (a 5x5 pattern mirrored left to
    right, with a colour from the same hash)."""
    digest = hashlib.sha256(f"{user.id}:{user.username_key}".encode()).digest()
    hue = int.from_bytes(digest[:2], "big") % 360
    cells = []
    for row in range(5):
        for column in range(3):
            if digest[2 + row * 3 + column] % 2:
                cells.append((column, row))
                if column < 2:
                    cells.append((4 - column, row))
    path = "".join(f"M{x + 1} {y + 1}h1v1h-1z" for x, y in sorted(cells))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 7 7" width="64" height="64"'
        ' shape-rendering="crispEdges">'
        f'<rect width="7" height="7" fill="hsl({hue} 45% 90%)"/>'
        f'<path fill="hsl({hue} 55% 38%)" d="{path}"/>'
        "</svg>"
    )


# --- uploads --------------------------------------------------------------------------------


def _decode(data: bytes, max_pixels: int) -> Image.Image:
    """The picture in ``data``, decoded, or NotAllowed."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            # The header gives the size before any pixel is decoded.
            if image.width * image.height > max_pixels:
                raise NotAllowed(
                    _l(
                        "That picture is too large (%(width)s by %(height)s pixels). "
                        "Please upload one of at most %(limit)s pixels.",
                        width=image.width,  # dimensions, written as digits alone
                        height=image.height,
                        limit=lazy_number(max_pixels),
                    ),
                    field="avatar",
                )
            if image.format == "JPEG":
                # Decode at a reduced scale straight away: far less memory for a photo.
                image.draft("RGB", (AVATAR_SIZE * 2, AVATAR_SIZE * 2))
            image.seek(0)  # an animation's first frame
            image.load()
            return image
    except NotAllowed:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ):
        raise NotAllowed(UNREADABLE, field="avatar") from None


def normalize_upload(data: bytes, *, max_bytes: int, max_pixels: int) -> bytes:
    """The uploaded picture ``data`` as the WebP the forum serves: square, at most
    ``AVATAR_SIZE`` wide, without metadata. TooLarge or NotAllowed when it can't be."""
    if len(data) > max_bytes:
        raise TooLarge(
            _l(
                "That file is %(size)s MB. Please upload a picture of at most %(limit)s MB.",
                size=lazy_number(round(len(data) / 1_048_576, 1)),
                limit=lazy_number(round(max_bytes / 1_048_576, 1)),
            ),
            field="avatar",
        )
    if not data:
        raise NotAllowed(_l("Please choose a picture to upload."), field="avatar")
    image = _decode(data, max_pixels)
    image = ImageOps.exif_transpose(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if has_alpha else "RGB")
    side = min(AVATAR_SIZE, image.width, image.height)
    square = ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS)
    # A new image from the pixels alone: nothing of the file's metadata can come along.
    clean = Image.frombytes(square.mode, square.size, square.tobytes())
    out = io.BytesIO()
    clean.save(out, format="WEBP", quality=85, method=4)
    return out.getvalue()


def set_uploaded(user: User, data: bytes, *, max_bytes: int, max_pixels: int) -> str:
    """Make the uploaded picture ``user``'s avatar; returns its content hash. Discussions
    they took part in show it at once (``avatar_hash`` is a shown column of the user)."""
    if not permissions.can_edit_profile(user):
        raise Forbidden(_l("While your account is suspended, your picture can't be changed."))
    encoded = normalize_upload(data, max_bytes=max_bytes, max_pixels=max_pixels)
    digest = hashlib.sha256(encoded).hexdigest()
    stored = db.session.get(AvatarImage, user.id)
    if stored is None:
        stored = AvatarImage(user_id=user.id)
        db.session.add(stored)
    stored.content_hash = digest
    stored.media_type = MEDIA_TYPE
    stored.data = encoded
    user.avatar_hash = digest
    db.session.commit()
    return digest


def remove_uploaded(user: User) -> None:
    """Back to the generated avatar."""
    if user.avatar_hash is None:
        raise NotAllowed(_l("You have no uploaded picture to remove."), field="avatar")
    drop_uploaded(user)
    db.session.commit()


def drop_uploaded(user: User) -> None:
    """Forget the uploaded picture without committing (also for account deletion)."""
    stored = db.session.get(AvatarImage, user.id)
    if stored is not None:
        db.session.delete(stored)
    user.avatar_hash = None


def uploaded_image(user: User, content_hash: str) -> AvatarImage:
    """The stored picture ``user`` shows now, if ``content_hash`` names it; else NotFound
    (an old address, a removed picture, a deleted account)."""
    if user.deleted_at is not None or user.avatar_hash != content_hash:
        raise NotFound(_l("No such picture."))
    stored = db.session.get(AvatarImage, user.id)
    if stored is None or stored.content_hash != content_hash:
        raise NotFound(_l("No such picture."))
    return stored
