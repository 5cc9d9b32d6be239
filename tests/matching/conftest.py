import io

import numpy as np
import pytest
import skimage.data
from PIL import Image
from sklearn.datasets import load_sample_images


def _encode(pixels: np.ndarray | Image.Image, fmt: str = "JPEG", **options) -> bytes:
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def encode():
    """encode(pixels_or_image, fmt="JPEG", **save_options) -> bytes"""
    return _encode


@pytest.fixture(scope="session")
def photos() -> dict[str, np.ndarray]:
    """Real RGB photographs that ship inside installed packages."""
    china, flower = load_sample_images().images
    return {
        "china": china,
        "flower": flower,
        "astronaut": skimage.data.astronaut(),
        "chelsea": skimage.data.chelsea(),
        "coffee": skimage.data.coffee(),
        "rocket": skimage.data.rocket(),
        # A texture and a page of text: their PDQ codes move most under edits.
        "brick": np.stack([skimage.data.brick()] * 3, axis=-1),
        "page": np.stack([skimage.data.page()] * 3, axis=-1),
    }
