"""Decoding an upload for real and computing what identifies it.

Only what a browser can show is accepted (JPEG, PNG, WebP, GIF), judged by the bytes, never by
the file name or the declared content type. Limits (bytes, pixels, each side, aspect ratio) are
checked from the header before any pixel is decoded, so a decompression bomb costs nothing; the
pixels are then decoded once, by the matcher's fingerprinting, which holds one of a fixed number
of slots: the memory of a process's fingerprintings is at most that many decoded images.
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

from backend.errors import InvalidInput, Overloaded, PayloadTooLarge, UnsupportedMedia
from backend.matching import Fingerprint, InvalidImage, fingerprint

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


class FingerprintSlots:
    """At most `size` fingerprintings at once; a caller waits up to `wait` seconds for a slot,
    then gets `Overloaded` (with the seconds after which to retry), having done nothing."""

    def __init__(self, size: int, wait: float):
        self.size = size
        self.wait = wait
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def hold(self, *, wait: float | None = None) -> Iterator[None]:
        """`wait=None`: the configured wait; `math.inf`: as long as it takes (background work)."""
        wait = self.wait if wait is None else wait
        if not self._slots.acquire(timeout=None if math.isinf(wait) else wait):
            raise Overloaded(
                f"the server is fingerprinting {self.size} image(s) already; retry in a few seconds",
                retry_after=max(1, math.ceil(self.wait)),
            )
        try:
            yield
        finally:
            self._slots.release()


@dataclass(frozen=True)
class ImageLimits:
    """What one image may cost: refused from its header beyond these, fingerprinted in `slots`."""

    max_bytes: int
    max_pixels: int
    max_side: int
    max_aspect: float
    slots: FingerprintSlots = field(default_factory=lambda: FingerprintSlots(2, 10.0))


@dataclass(frozen=True)
class ImageFacts:
    mime: str
    width: int
    height: int
    size: int
    sha256: str  # 0x-prefixed hex
    fingerprint: Fingerprint  # what the matcher compares (backend.matching)

    @property
    def phash(self) -> str:
        """The 64-bit DCT perceptual hash as 16 hex digits (the value written on-chain)."""
        return f"{self.fingerprint.phash64:016x}"


def inspect_image(data: bytes, limits: ImageLimits) -> ImageFacts:
    max_bytes, max_pixels = limits.max_bytes, limits.max_pixels
    if not data:
        raise InvalidInput("the file is empty; choose a JPEG, PNG, WebP or GIF image")
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"the file has {len(data):,} bytes, more than the limit of {max_bytes:,} bytes",
            size=len(data),
            limit=max_bytes,
        )
    with warnings.catch_warnings():
        # Pillow warns (and beyond 2x raises) on large images; our own limit decides first.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise PayloadTooLarge(f"the image has too many pixels to decode safely: {exc}") from None
        except (UnidentifiedImageError, OSError, ValueError):
            raise UnsupportedMedia(
                "the file is not an image we accept: send a JPEG, PNG, WebP or GIF file"
            ) from None
        if image.format not in FORMATS:
            raise UnsupportedMedia(
                f"the file is a {image.format} image; send a JPEG, PNG, WebP or GIF file instead",
                format=image.format,
            )
        width, height = image.size
        if width <= 0 or height <= 0:
            raise InvalidInput(f"the image header declares an empty size {width}×{height}")
        if width * height > max_pixels:
            raise PayloadTooLarge(
                f"the image is {width}×{height} = {width * height:,} pixels, more than the "
                f"limit of {max_pixels:,}; scale it down before uploading",
                pixels=width * height,
                limit=max_pixels,
            )
        if max(width, height) > limits.max_side:
            raise PayloadTooLarge(
                f"the image is {width}×{height} pixels; no side may be longer than {limits.max_side:,} "
                "pixels: scale it down before uploading",
                width=width,
                height=height,
                limit=limits.max_side,
            )
        if max(width, height) > limits.max_aspect * min(width, height):
            raise InvalidInput(
                f"the image is {width}×{height} pixels, longer than {limits.max_aspect:g} times its width; "
                "crop it to the picture itself",
                width=width,
                height=height,
                max_aspect=limits.max_aspect,
            )
    # One full decode: the matcher's, which reads JPEGs at reduced size, honours EXIF orientation,
    # and reports truncated or corrupt data.
    try:
        with limits.slots.hold():
            print_ = fingerprint(data)
    except InvalidImage as exc:
        raise InvalidInput(f"the {image.format} image cannot be read: {exc}") from None
    return ImageFacts(
        mime=FORMATS[image.format],
        width=print_.width,
        height=print_.height,
        size=len(data),
        sha256="0x" + hashlib.sha256(data).hexdigest(),
        fingerprint=print_,
    )
