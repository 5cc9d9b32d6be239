"""Images recognised by their bytes (not by extension or content type), tiny ones skipped."""

from __future__ import annotations

import io
import warnings

from PIL import Image

# The formats the matcher decodes, by their first bytes.
MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)


def image_format(data: bytes) -> str | None:
    for magic, name in MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header (nothing decoded), or None if Pillow cannot read it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return Image.open(io.BytesIO(data)).size
        except Exception:  # whatever the bytes are, they are not an image we can use
            return None


def too_small(size: tuple[int, int], min_side: int) -> bool:
    """Icons, spacers and tracking pixels: not worth a fingerprint, never a work worth registering."""
    return min(size) < min_side
