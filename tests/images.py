"""Test pictures made on the spot: varied enough that perceptual hashes tell them apart."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter


def picture(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A smooth, photo-like picture: blurred random shapes on a gradient, unique per seed."""
    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    top, bottom = [tuple(rng.randrange(256) for _ in range(3)) for _ in range(2)]
    for y in range(height):
        t = y / max(1, height - 1)
        draw.line([(0, y), (width, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    for _ in range(12):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = x0 + rng.randrange(20, width // 2), y0 + rng.randrange(20, height // 2)
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=colour)
    return image.filter(ImageFilter.GaussianBlur(2))


def encode(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        options.setdefault("quality", 90)
        image = image.convert("RGB")
    image.save(out, fmt, **options)
    return out.getvalue()


def jpeg(seed: int, size: tuple[int, int] = (320, 240), **options) -> bytes:
    return encode(picture(seed, size), "JPEG", **options)
