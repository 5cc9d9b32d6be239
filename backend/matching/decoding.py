"""Safe decoding of untrusted image bytes into a small, upright, opaque RGB working image."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 64 * 1024 * 1024
MAX_PIXELS = 64_000_000
# Every fingerprint is computed on an image whose longer side is at most this many pixels:
# PDQ works on 64x64, pHash on 32x32, ORB keypoints are stable at this size.
WORKING_SIDE = 512
ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")
ORIENTATION_TAG = 0x0112
SIDEWAYS_ORIENTATIONS = (5, 6, 7, 8)


class InvalidImage(ValueError):
    """The bytes are not an image Copytrack can fingerprint; the message says why."""


@dataclass(frozen=True)
class Decoded:
    """The working image and the size of the original, upright image it was reduced from."""

    image: Image.Image
    width: int
    height: int


def decode(data: bytes, *, reduced: bool = True) -> Decoded:
    """Decode `data` into an RGB image no larger than WORKING_SIDE on its longer side.

    JPEGs are decoded at a reduced scale (Pillow's draft mode) when `reduced` is true, which
    skips most of the decoding work for large photographs. EXIF orientation is applied and
    transparency is flattened onto white, so the result looks the way a viewer shows it.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidImage(f"image data must be bytes, not {type(data).__name__}")
    if len(data) == 0:
        raise InvalidImage("image data is empty (0 bytes)")
    if len(data) > MAX_BYTES:
        raise InvalidImage(f"image is {len(data)} bytes; the limit is {MAX_BYTES} bytes")
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except UnidentifiedImageError:
        raise InvalidImage(
            f"not a recognised image; accepted formats are {', '.join(ACCEPTED_FORMATS)}"
        ) from None
    except Image.DecompressionBombError as error:
        raise InvalidImage(f"image has too many pixels: {error}") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImage(f"image header is corrupt: {error}") from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise InvalidImage(f"image has zero size ({width}x{height})")
    if width * height > MAX_PIXELS:
        raise InvalidImage(
            f"image is {width}x{height} = {width * height} pixels; the limit is {MAX_PIXELS}"
            " (decompression bomb protection); scale it down and retry"
        )
    try:
        if reduced and image.format == "JPEG":
            image.draft("RGB", (WORKING_SIDE, WORKING_SIDE))
        image.load()
        if image.getexif().get(ORIENTATION_TAG, 1) in SIDEWAYS_ORIENTATIONS:
            width, height = height, width
        image = ImageOps.exif_transpose(image)
        image = _flatten(image)
        image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    except Image.DecompressionBombError as error:
        raise InvalidImage(f"image has too many pixels: {error}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise InvalidImage(f"image data is truncated or corrupt: {error}") from None
    if min(image.size) < 1:
        raise InvalidImage(f"image has zero size after orientation ({image.size})")
    return Decoded(image=image, width=width, height=height)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on a white background, whatever the mode and transparency of `image`."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit and float greyscale: scale to 8 bits by the value range actually used.
        image = ImageOps.autocontrast(image.convert("F").convert("L"))
    return image.convert("RGB")
