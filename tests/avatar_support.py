"""Pictures made for the avatar tests: ordinary ones, and the awkward ones people upload."""

import io

from PIL import Image


def picture(size=(64, 48), colour=(200, 40, 40), mode="RGB") -> Image.Image:
    return Image.new(mode, size, colour)


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def png_bytes(size=(64, 48)) -> bytes:
    return encoded(picture(size), "PNG")


def jpeg_with_exif() -> bytes:
    """A JPEG whose EXIF holds a camera maker, a GPS position and an orientation."""
    exif = Image.Exif()
    exif[0x010F] = "Spy Camera Co"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show upright
    gps = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    exif[0x8825] = gps  # GPSInfo
    return encoded(picture((80, 40)), "JPEG", exif=exif.tobytes(), comment=b"secret note")


def animated_gif() -> bytes:
    frames = [picture((40, 40), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def bomb_png(side: int = 6000) -> bytes:
    """A tiny file that would decode to ``side``² pixels: all one colour compresses to
    almost nothing."""
    return encoded(Image.new("1", (side, side)), "PNG", optimize=True)
