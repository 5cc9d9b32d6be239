"""Image edits modelled on Meta's AugLy / DISC21 augmentations, and the photographs to edit.

Shared by the matching benchmarks. Every edit is deterministic (seeded), takes and returns a PIL
RGB image, and is classed "mild" or "hard" as in issue 6 (hard: flips, rotations, crops,
padding, overlays, pasting).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import matplotlib.cbook
import numpy as np
import skimage.data
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont
from sklearn.datasets import load_sample_images

FONT = "DejaVuSans.ttf"
FONT_BOLD = "DejaVuSans-Bold.ttf"


def photographs() -> dict[str, Image.Image]:
    """Real photographs shipped inside pip packages (no downloads), as RGB images."""
    grey_or_rgb = {
        name: getattr(skimage.data, name)()
        for name in ("astronaut", "camera", "chelsea", "clock", "coffee", "coins", "moon",
                     "rocket", "hubble_deep_field", "immunohistochemistry", "retina", "brick",
                     "grass", "gravel", "page", "text")
    }
    grey_or_rgb["motorcycle"] = skimage.data.stereo_motorcycle()[0]
    china, flower = load_sample_images().images
    grey_or_rgb["china"] = china
    grey_or_rgb["flower"] = flower
    images = {name: Image.fromarray(pixels).convert("RGB") for name, pixels in grey_or_rgb.items()}
    images["grace_hopper"] = Image.open(
        matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    return images


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _rng(image: Image.Image) -> np.random.Generator:
    return np.random.default_rng(int(np.asarray(image.resize((8, 8))).sum()))


def _resize(factor: float):
    return lambda im: im.resize((max(1, round(im.width * factor)), max(1, round(im.height * factor))),
                                Image.Resampling.BILINEAR)


def _noise(sigma: float):
    def edit(im):
        noisy = np.asarray(im, np.float32) + _rng(im).normal(0, sigma, (im.height, im.width, 3))
        return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    return edit


def _rotate(degrees: float):
    return lambda im: im.rotate(degrees, Image.Resampling.BILINEAR, expand=True, fillcolor="black")


def _crop(removed: float, anchor: str = "centre"):
    """Keep (1 - removed) of the area; anchored at the centre or at the top-left corner."""
    def edit(im):
        side = (1 - removed) ** 0.5
        w, h = round(im.width * side), round(im.height * side)
        if anchor == "centre":
            x, y = (im.width - w) // 2, (im.height - h) // 2
        else:
            rng = _rng(im)
            x, y = int(rng.integers(0, im.width - w + 1)), int(rng.integers(0, im.height - h + 1))
        return im.crop((x, y, x + w, y + h))
    return edit


def _pad(fraction: float, colour=(255, 255, 255)):
    def edit(im):
        dx, dy = round(im.width * fraction), round(im.height * fraction)
        canvas = Image.new("RGB", (im.width + 2 * dx, im.height + 2 * dy), colour)
        canvas.paste(im, (dx, dy))
        return canvas
    return edit


def _text_overlay(im):
    draw = ImageDraw.Draw(im := im.copy())
    font = ImageFont.truetype(FONT_BOLD, max(12, im.height // 10))
    draw.text((im.width // 20, im.height // 2), "© stolen 2026", font=font, fill=(255, 0, 0),
              stroke_width=2, stroke_fill=(255, 255, 255))
    return im


def _emoji_overlay(im):
    draw = ImageDraw.Draw(im := im.copy())
    rng = _rng(im)
    font = ImageFont.truetype(FONT, max(16, im.height // 5))
    for glyph, colour in (("☺", (255, 220, 0)), ("★", (255, 80, 0)), ("♥", (230, 0, 60))):
        xy = (int(rng.integers(0, im.width * 3 // 4)), int(rng.integers(0, im.height * 3 // 4)))
        draw.text(xy, glyph, font=font, fill=colour, stroke_width=2, stroke_fill=(0, 0, 0))
    return im


def _meme(im):
    band = max(24, im.height // 5)
    canvas = Image.new("RGB", (im.width, im.height + band), "white")
    canvas.paste(im, (0, band))
    font = ImageFont.truetype(FONT_BOLD, band * 2 // 3)
    ImageDraw.Draw(canvas).text((im.width // 2, band // 2), "WHEN THE CODE RUNS", font=font,
                                fill="black", anchor="mm")
    return canvas


def _paste_on_background(im):
    """The image at 60% of its size on a larger, textured, non-uniform background."""
    rng = _rng(im)
    w, h = im.width * 5 // 3, im.height * 5 // 3
    yy, xx = np.mgrid[0:h, 0:w]
    background = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx + yy) * 127 // (w + h))], -1)
    background = background + rng.normal(0, 20, (h, w, 3))
    canvas = Image.fromarray(np.clip(background, 0, 255).astype(np.uint8))
    small = im.resize((im.width * 3 // 5, im.height * 3 // 5), Image.Resampling.BILINEAR)
    canvas.paste(small, (int(rng.integers(0, w - small.width)), int(rng.integers(0, h - small.height))))
    return canvas


def _web_page(im):
    """A page layout: header bar, text columns, the image as a figure in the right column."""
    page_w, page_h = 1000, 800
    canvas = Image.new("RGB", (page_w, page_h), (250, 250, 250))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, page_w, 70), fill=(30, 60, 120))
    draw.text((30, 18), "Daily Blog — Photos of the week", font=ImageFont.truetype(FONT_BOLD, 28),
              fill="white")
    body = ImageFont.truetype(FONT, 16)
    for line in range(28):
        draw.text((30, 100 + line * 24), "Lorem ipsum dolor sit amet, consectetur adipiscing",
                  font=body, fill=(40, 40, 40))
    scale = min(480 / im.width, 560 / im.height)
    figure = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.BILINEAR)
    canvas.paste(figure, (490, 110))
    draw.text((490, 120 + figure.height), "Figure 1: found on the internet", font=body, fill="grey")
    return canvas


def _perspective(im):
    w, h = im.size
    source = [(0, 0), (w, 0), (w, h), (0, h)]
    target = [(w * 0.08, h * 0.05), (w * 0.95, 0), (w, h), (0, h * 0.92)]
    matrix = _perspective_coefficients(target, source)
    return im.transform((w, h), Image.Transform.PERSPECTIVE, matrix, Image.Resampling.BILINEAR)


def _perspective_coefficients(target, source):
    rows = []
    for (x, y), (u, v) in zip(target, source):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    return np.linalg.solve(np.array(rows, float), np.array(source, float).ravel()).tolist()


def _pixelise(block: int):
    return lambda im: im.resize((max(1, im.width // block), max(1, im.height // block)),
                                Image.Resampling.BILINEAR).resize(im.size, Image.Resampling.NEAREST)


def _aspect(x: float, y: float):
    return lambda im: im.resize((round(im.width * x), round(im.height * y)), Image.Resampling.BILINEAR)


EDITS: dict[str, tuple[str, Callable[[Image.Image], Image.Image]]] = {
    "resize 50%": ("mild", _resize(0.5)),
    "resize 25%": ("mild", _resize(0.25)),
    "upscale 150%": ("mild", _resize(1.5)),
    "jpeg q50": ("mild", lambda im: jpeg(im, 50)),
    "jpeg q25": ("mild", lambda im: jpeg(im, 25)),
    "jpeg q10": ("mild", lambda im: jpeg(im, 10)),
    "blur r2": ("mild", lambda im: im.filter(ImageFilter.GaussianBlur(2))),
    "blur r4": ("mild", lambda im: im.filter(ImageFilter.GaussianBlur(4))),
    "noise σ10": ("mild", _noise(10)),
    "noise σ25": ("mild", _noise(25)),
    "brightness +40%": ("mild", lambda im: ImageEnhance.Brightness(im).enhance(1.4)),
    "brightness −40%": ("mild", lambda im: ImageEnhance.Brightness(im).enhance(0.6)),
    "contrast ×1.6": ("mild", lambda im: ImageEnhance.Contrast(im).enhance(1.6)),
    "contrast ×0.5": ("mild", lambda im: ImageEnhance.Contrast(im).enhance(0.5)),
    "saturation ×2": ("mild", lambda im: ImageEnhance.Color(im).enhance(2.0)),
    "greyscale": ("mild", lambda im: im.convert("L").convert("RGB")),
    "aspect 4:3→wide": ("mild", _aspect(1.3, 1.0)),
    "aspect squeeze": ("mild", _aspect(1.0, 0.75)),
    "pixelise ×8": ("mild", _pixelise(8)),
    "perspective": ("mild", _perspective),
    "flip horizontal": ("hard", lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
    "flip vertical": ("hard", lambda im: im.transpose(Image.Transpose.FLIP_TOP_BOTTOM)),
    "rotate 90°": ("hard", lambda im: im.transpose(Image.Transpose.ROTATE_90)),
    "rotate 5°": ("hard", _rotate(5)),
    "rotate 15°": ("hard", _rotate(15)),
    "crop 10% centre": ("hard", _crop(0.10)),
    "crop 25% offset": ("hard", _crop(0.25, "random")),
    "crop 50% centre": ("hard", _crop(0.50)),
    "crop 50% offset": ("hard", _crop(0.50, "random")),
    "pad 10% white": ("hard", _pad(0.10)),
    "pad 30% black": ("hard", _pad(0.30, (0, 0, 0))),
    "text overlay": ("hard", _text_overlay),
    "emoji overlay": ("hard", _emoji_overlay),
    "meme caption": ("hard", _meme),
    "paste on background": ("hard", _paste_on_background),
    "web-page screenshot": ("hard", _web_page),
}
