"""Decoding uploads for real: what is accepted, and the clear errors for everything else."""

import io
import struct
import threading
import zlib
from dataclasses import replace

import pytest
from PIL import Image

from backend.errors import InvalidInput, Overloaded, PayloadTooLarge, UnsupportedMedia
from backend.registry.images import FingerprintSlots, ImageLimits, inspect_image
from tests.images import encode, jpeg, picture

LIMITS = ImageLimits(max_bytes=2_000_000, max_pixels=4_000_000, max_side=10_000, max_aspect=32)


@pytest.mark.parametrize("fmt,mime", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"), ("GIF", "image/gif")])
def test_accepted_formats__report_type_size_and_hashes(fmt, mime):
    data = encode(picture(1), fmt)
    facts = inspect_image(data, LIMITS)
    assert facts.mime == mime
    assert (facts.width, facts.height) == (320, 240)
    assert facts.sha256.startswith("0x") and len(facts.sha256) == 66
    assert len(facts.phash) == 16


def test_reencoded_copy__has_a_close_perceptual_hash():
    a = inspect_image(jpeg(7), LIMITS)
    b = inspect_image(encode(picture(7).resize((160, 120)), "PNG"), LIMITS)
    assert a.sha256 != b.sha256
    assert (int(a.phash, 16) ^ int(b.phash, 16)).bit_count() <= 6


def test_empty_file__is_rejected():
    with pytest.raises(InvalidInput, match="empty"):
        inspect_image(b"", LIMITS)


def test_truncated_jpeg__is_rejected():
    data = jpeg(2)
    with pytest.raises(InvalidInput, match="truncated or corrupt"):
        inspect_image(data[: len(data) // 2], LIMITS)


def test_text_file_named_like_an_image__is_rejected():
    with pytest.raises(UnsupportedMedia, match="JPEG, PNG, WebP or GIF"):
        inspect_image(b"this is not a picture, whatever its name says", LIMITS)


def test_unsupported_image_format__names_the_format():
    with pytest.raises(UnsupportedMedia, match="BMP"):
        inspect_image(encode(picture(3), "BMP"), LIMITS)


def test_oversized_file__is_rejected_before_decoding():
    with pytest.raises(PayloadTooLarge, match="limit of 1,000 bytes"):
        inspect_image(jpeg(4), replace(LIMITS, max_bytes=1000, max_pixels=10**9))


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas: a decompression bomb."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def test_decompression_bomb__is_rejected_from_the_header():
    bomb = _png_header_only(100_000, 100_000)
    assert len(bomb) < 200
    with pytest.raises(PayloadTooLarge, match="pixels"):
        inspect_image(bomb, LIMITS)


def test_image_over_pixel_limit__is_rejected():
    with pytest.raises(PayloadTooLarge, match="76,800 pixels"):
        inspect_image(jpeg(5), replace(LIMITS, max_bytes=10**7, max_pixels=10_000))


def test_exif_rotated_photo__hashes_upright():
    upright = picture(9)
    rotated = upright.rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view": the stored pixels are turned counter-clockwise
    out = io.BytesIO()
    rotated.save(out, "JPEG", quality=90, exif=exif)
    facts = inspect_image(out.getvalue(), LIMITS)
    reference = inspect_image(encode(upright, "JPEG"), LIMITS)
    assert (facts.width, facts.height) == (320, 240)
    assert (int(facts.phash, 16) ^ int(reference.phash, 16)).bit_count() <= 6


def test_skinny_strip_within_the_pixel_limit__is_rejected_from_the_header():
    """1 x 49,000,000 pixels is under a 50-megapixel limit but cost 1 GB to decode."""
    strip = _png_header_only(49_000_000, 1)
    with pytest.raises(PayloadTooLarge, match="no side may be longer than 10,000 pixels"):
        inspect_image(strip, replace(LIMITS, max_pixels=50_000_000))


def test_image_beyond_the_aspect_ratio__is_rejected_from_the_header():
    with pytest.raises(InvalidInput, match=r"9000×100 pixels, longer than 32 times its width"):
        inspect_image(_png_header_only(9000, 100), LIMITS)


def test_all_fingerprinting_slots_busy__refuses_after_the_wait_with_a_retry_time():
    slots = FingerprintSlots(1, 0.2)
    held, release = threading.Event(), threading.Event()

    def occupy():
        with slots.hold():
            held.set()
            release.wait(10)

    worker = threading.Thread(target=occupy)
    worker.start()
    held.wait(10)
    try:
        with pytest.raises(Overloaded) as refused:
            inspect_image(jpeg(4), replace(LIMITS, slots=slots))
        assert refused.value.details["retry_after"] == 1
    finally:
        release.set()
        worker.join()
    assert inspect_image(jpeg(4), replace(LIMITS, slots=slots)).width == 320
