import io
import struct
import zlib

import numpy as np
import pytest
import skimage.data
from PIL import Image

from backend.matching import Fingerprint, InvalidImage, fingerprint
from backend.matching.decoding import MAX_PIXELS
from backend.matching.fingerprints import fingerprint_image


def pdq_distance(a: Fingerprint, b: Fingerprint) -> int:
    return int(np.unpackbits(a.pdq[0] ^ b.pdq[0]).sum())


def phash_distance(a: Fingerprint, b: Fingerprint) -> int:
    return (a.phash64 ^ b.phash64).bit_count()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"hello, this is plain text and not a picture", "not a recognised image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not a recognised image"),
    ],
)
def test_fingerprint__not_an_image__raises_invalid_image(data, reason):
    with pytest.raises(InvalidImage, match=reason):
        fingerprint(data)


def test_fingerprint__not_bytes__raises_invalid_image():
    with pytest.raises(InvalidImage, match="must be bytes"):
        fingerprint("a string")


def test_fingerprint__truncated_jpeg__raises_invalid_image(photos, encode):
    data = encode(photos["china"], quality=90)
    with pytest.raises(InvalidImage, match="truncated or corrupt"):
        fingerprint(data[: len(data) // 2])


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels in a few bytes: a decompression bomb's header."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_fingerprint__decompression_bomb__raises_invalid_image():
    side = int(MAX_PIXELS**0.5) + 100
    with pytest.raises(InvalidImage, match="pixels"):
        fingerprint(_png_header_only(side, side))


def test_fingerprint__zero_size__raises_invalid_image():
    with pytest.raises(InvalidImage):
        fingerprint(_png_header_only(0, 10))


def test_fingerprint__exif_orientation__matches_upright_image(photos, encode):
    upright = Image.fromarray(photos["astronaut"])
    # Stored rotated, with EXIF orientation 6 ("rotate 90 clockwise to display").
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated_with_tag = encode(stored, exif=exif.tobytes(), quality=95)
    plain_rotated = encode(stored, quality=95)
    reference = fingerprint(encode(upright, quality=95))

    oriented = fingerprint(rotated_with_tag)

    assert pdq_distance(oriented, reference) <= 16
    assert pdq_distance(fingerprint(plain_rotated), reference) > 64
    assert (oriented.width, oriented.height) == upright.size


def test_fingerprint__transparency__is_flattened_onto_white(photos, encode):
    rgb = Image.fromarray(photos["chelsea"])
    alpha = Image.new("L", rgb.size, 255)
    alpha.paste(0, (0, 0, rgb.width // 3, rgb.height))
    transparent = rgb.copy()
    transparent.putalpha(alpha)
    # Fully transparent pixels carry arbitrary colour; what a viewer shows is white.
    hidden_colour = np.asarray(transparent).copy()
    hidden_colour[:, : rgb.width // 3, :3] = 0
    on_white = rgb.copy()
    on_white.paste((255, 255, 255), (0, 0, rgb.width // 3, rgb.height))

    flattened = fingerprint(encode(Image.fromarray(hidden_colour), "PNG"))

    assert pdq_distance(flattened, fingerprint(encode(on_white, "PNG"))) <= 8


def test_fingerprint__draft_decoding__stays_close_to_full_resolution(photos, encode):
    large = Image.fromarray(photos["china"]).resize((3200, 2136), Image.Resampling.LANCZOS)
    data = encode(large, quality=92)
    full = Image.open(io.BytesIO(data))
    full.load()
    full.thumbnail((512, 512), Image.Resampling.LANCZOS)
    from_full = fingerprint_image(full.convert("RGB"), *large.size)

    from_draft = fingerprint(data)

    assert phash_distance(from_draft, from_full) <= 4
    assert pdq_distance(from_draft, from_full) <= 16
    assert (from_draft.width, from_draft.height) == (3200, 2136)


def test_fingerprint__to_bytes__round_trips(photos, encode):
    original = fingerprint(encode(photos["coffee"]))

    copy = Fingerprint.from_bytes(original.to_bytes())

    assert copy.to_bytes() == original.to_bytes()
    assert copy.phash64 == original.phash64
    assert copy.iscc == original.iscc and copy.iscc.startswith("ISCC:")
    assert np.array_equal(copy.descriptors, original.descriptors)


def test_fingerprint__phash64__has_imagehash_bit_order(photos, encode):
    import imagehash

    data = encode(photos["rocket"], "PNG")
    image = Image.open(io.BytesIO(data)).convert("RGB")

    assert fingerprint(data).phash64 == int(str(imagehash.phash(image)), 16)


@pytest.mark.parametrize("damage", [b"", b"CTFP\x09" + b"\0" * 60, b"garbage" * 10])
def test_from_bytes__damaged__raises_value_error(damage):
    with pytest.raises(ValueError):
        Fingerprint.from_bytes(damage)


def test_fingerprint__phash_dihedral__equals_imagehash_of_each_variant(photos, encode):
    import imagehash

    from backend.matching.decoding import decode
    from backend.matching.fingerprints import DIHEDRAL_TRANSPOSES

    # Thumbnails of transposed images differ slightly from transposed thumbnails: for
    # astronaut, chelsea and rocket the bits would differ if that were ignored.
    for name, pixels in photos.items():
        data = encode(pixels, quality=90)
        image = decode(data).image

        computed = fingerprint(data).phash_dihedral

        expected = [int(str(imagehash.phash(image if t is None else image.transpose(t))), 16)
                    for t in DIHEDRAL_TRANSPOSES]
        assert computed.tolist() == expected, name


def _iscc_test_images(photos) -> list[np.ndarray]:
    rng = np.random.default_rng(6)
    greys = [np.asarray(Image.fromarray(pixels).convert("L")) for pixels in photos.values()]
    ramp = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (40, 1))
    return greys + [
        np.zeros((40, 40), np.uint8),          # flat: every AC coefficient is rounding noise
        np.full((33, 70), 255, np.uint8),
        ramp, ramp.T.copy(),
        rng.integers(0, 256, (50, 37), dtype=np.uint8),
    ]


def test_iscc_image_code__equals_iscc_core(photos):
    import cv2
    import iscc_core

    from backend.matching.fingerprints import _iscc_image_code

    for grey in _iscc_test_images(photos):
        pixels = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA)
        expected = iscc_core.gen_image_code_v0(pixels.flatten().tolist(), bits=64)["iscc"]

        assert _iscc_image_code(grey) == expected


def test_level_quotas__match_how_opencv_orb_shares_keypoints_over_levels(photos):
    import cv2

    from backend.matching.fingerprints import _level_quotas

    grey = np.asarray(Image.fromarray(photos["brick"]).convert("L"))
    for count in (128, 256, 512, 1280):
        keypoints = cv2.ORB_create(nfeatures=count, fastThreshold=10).detect(grey, None)

        per_level = np.bincount([kp.octave for kp in keypoints], minlength=8).tolist()

        assert per_level == _level_quotas(count)


def test_shared_window_features__each_window_gets_its_own_keypoints(photos):
    from backend.matching.fingerprints import WINDOW_KEYPOINTS, _shared_window_features

    # Two pictures on a page: one textured, one much smoother, which must not be starved.
    page = np.full((420, 512), 255, np.uint8)
    page[20:220, 20:300] = np.asarray(Image.fromarray(photos["brick"]).convert("L"))[:200, :280]
    page[230:400, 200:490] = np.asarray(Image.fromarray(photos["coffee"]).convert("L"))[100:270, 200:490]
    boxes = [(20, 20, 300, 220), (200, 230, 490, 400), (0, 0, 512, 420)]
    masks = []
    for x0, y0, x1, y1 in boxes:
        mask = np.zeros(page.shape, np.uint8)
        mask[y0:y1, x0:x1] = 255
        masks.append(mask)

    features = _shared_window_features(page, masks)

    assert len(features) == len(boxes)
    for (x0, y0, x1, y1), (points, descriptors) in zip(boxes, features):
        assert len(points) == len(descriptors) == WINDOW_KEYPOINTS
        assert np.all((points >= (x0 - 1, y0 - 1)) & (points <= (x1, y1)))


def test_fingerprint__keypoints__are_stored_once(encode):
    # A picture in a page: its window's keypoints are found by the whole-image pass as well.
    from PIL import ImageDraw

    page = Image.new("RGB", (1000, 800), (250, 250, 250))
    ImageDraw.Draw(page).rectangle((0, 0, 1000, 60), fill=(30, 60, 120))
    page.paste(Image.fromarray(skimage.data.astronaut()).resize((480, 480)), (480, 150))

    print_ = fingerprint(encode(page, quality=90))

    rows = np.concatenate([print_.keypoints.view(np.uint8).reshape(len(print_.keypoints), -1),
                           print_.descriptors], axis=1)
    assert len(print_.windows) > 0
    assert len(np.unique(rows, axis=0)) == len(rows)


def test_fingerprint__flat_image__has_no_keypoints(encode):
    flat = fingerprint(encode(np.full((300, 400, 3), 128, np.uint8), "PNG"))

    assert len(flat.keypoints) == len(flat.descriptors) == 0
    assert Fingerprint.from_bytes(flat.to_bytes()).keypoints.shape == (0, 2)


@pytest.mark.parametrize("shape", [(1, 1), (2, 900), (900, 2), (23, 400)])
def test_fingerprint__tiny_or_thin_image__is_fingerprinted(encode, shape):
    pixels = np.random.default_rng(0).integers(0, 256, shape + (3,), dtype=np.uint8)

    print_ = fingerprint(encode(pixels, "PNG"))

    assert (print_.width, print_.height) == (shape[1], shape[0])
    assert len(print_.windows) == 0
