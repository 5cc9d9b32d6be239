"""Fingerprints of one image: global perceptual hashes, region hashes and local features."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import cv2
import iscc_core
import numpy as np
import pdqhash
import scipy.fftpack
from PIL import Image

from . import windows
from .decoding import InvalidImage, decode

PDQ_BYTES = 32
PDQ_SIDE = 256
PHASH_SIDE = 32  # imagehash.phash's defaults: an 8 x 8 DCT block of a 32 x 32 thumbnail
DESCRIPTOR_BYTES = 32
MAX_KEYPOINTS = 256
WINDOW_KEYPOINTS = 128
# Several windows share one ORB pass over all of them that keeps this many keypoints per window
# (see _shared_window_features); OpenCV's ORB defaults for the pyramid it shares them across.
SHARED_KEYPOINTS_PER_WINDOW = 256
ORB_LEVELS = 8
ORB_MIN_SIDE = 32
ORB_SCALE = 1.2
# Borders whose grey level stays within this distance of the border colour count as padding.
BORDER_TOLERANCE = 12
MIN_TRIMMED_FRACTION = 0.15
# PDQ's dihedral order (pdqhash.compute_dihedral), as Pillow transposes of the upright image.
DIHEDRAL_TRANSPOSES = (
    None,
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_180,
    Image.Transpose.ROTATE_270,
    Image.Transpose.FLIP_TOP_BOTTOM,
    Image.Transpose.FLIP_LEFT_RIGHT,
    Image.Transpose.TRANSPOSE,
    Image.Transpose.TRANSVERSE,
)
FORMAT_MAGIC = b"CTFP"
# 4: no region codes (crops are found by their keypoints); 5: windows in 8 dihedral variants
FORMAT_VERSION = 5
_HEADER = struct.Struct("<4sBIIQH26sHHH")


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """Everything the matcher needs to know about one image, without its pixels.

    `pdq` holds the PDQ codes of the 8 dihedral variants (row 0: the image as shown; then
    PDQ's order, DIHEDRAL_TRANSPOSES: rotated 90, 180, 270 degrees anticlockwise, flipped top to
    bottom, left to right, transposed, transversed); `phash_dihedral` the 64-bit pHashes of the
    same variants (`phash_dihedral[0] == phash64`). `trimmed` is the PDQ code of the image with
    uniform borders removed, or None when there were none. `windows` are PDQ codes of content
    windows (see windows.py), 8 rows per window (its dihedral variants, in PDQ's order),
    searched so that a registered image inside a larger picture is found, mirrored or not.
    `keypoints` (pixel positions in the working image) and `descriptors` are ORB features: they
    find crops and pasted copies (features.py) and confirm matches geometrically.
    """

    width: int
    height: int
    phash64: int
    phash_dihedral: np.ndarray
    pdq: np.ndarray
    pdq_quality: int
    iscc: str
    trimmed: np.ndarray | None
    windows: np.ndarray
    keypoints: np.ndarray
    descriptors: np.ndarray

    def to_bytes(self) -> bytes:
        """A compact binary form, read back by `Fingerprint.from_bytes`."""
        iscc = self.iscc.encode("ascii")
        header = _HEADER.pack(
            FORMAT_MAGIC,
            FORMAT_VERSION,
            self.width,
            self.height,
            self.phash64,
            self.pdq_quality,
            iscc.ljust(26, b"\0"),
            0 if self.trimmed is None else 1,
            len(self.windows),
            len(self.keypoints),
        )
        parts = [header, self.phash_dihedral[1:].astype("<u8").tobytes(), self.pdq.tobytes()]
        if self.trimmed is not None:
            parts.append(self.trimmed.tobytes())
        parts += [
            self.windows.tobytes(),
            self.keypoints.astype("<f4").tobytes(),
            self.descriptors.tobytes(),
        ]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        """Rebuild a fingerprint from `to_bytes` output; ValueError names what is wrong."""
        data = bytes(data)
        if len(data) < _HEADER.size or data[:4] != FORMAT_MAGIC:
            raise ValueError("not a Copytrack fingerprint (bad magic or too short)")
        (_, version, width, height, phash64, quality, iscc, has_trimmed, n_windows,
         n_keypoints) = _HEADER.unpack_from(data)
        if version != FORMAT_VERSION:
            raise ValueError(f"fingerprint format version {version} is not supported")
        expected = (
            _HEADER.size
            + 7 * 8
            + (8 + has_trimmed + n_windows) * PDQ_BYTES
            + n_keypoints * (8 + DESCRIPTOR_BYTES)
        )
        if len(data) != expected:
            raise ValueError(f"fingerprint is {len(data)} bytes, expected {expected}")
        offset = _HEADER.size

        def take(count: int, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
            nonlocal offset
            array = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
            offset += array.nbytes
            return array.reshape(shape).copy()

        other_phashes = take(7, "<u8", (7,)).astype(np.uint64)
        pdq = take(8 * PDQ_BYTES, "u1", (8, PDQ_BYTES))
        trimmed = take(PDQ_BYTES, "u1", (PDQ_BYTES,)) if has_trimmed else None
        windows = take(n_windows * PDQ_BYTES, "u1", (n_windows, PDQ_BYTES))
        keypoints = take(n_keypoints * 2, "<f4", (n_keypoints, 2)).astype(np.float32)
        descriptors = take(n_keypoints * DESCRIPTOR_BYTES, "u1", (n_keypoints, DESCRIPTOR_BYTES))
        return cls(
            width=width,
            height=height,
            phash64=phash64,
            phash_dihedral=np.concatenate([np.array([phash64], np.uint64), other_phashes]),
            pdq=pdq,
            pdq_quality=quality,
            iscc=iscc.rstrip(b"\0").decode("ascii"),
            trimmed=trimmed,
            windows=windows,
            keypoints=keypoints,
            descriptors=descriptors,
        )


def fingerprint(data: bytes) -> Fingerprint:
    """Fingerprint untrusted image bytes; raises InvalidImage with the reason if they are bad."""
    decoded = decode(data)
    return fingerprint_image(decoded.image, decoded.width, decoded.height)


def fingerprint_bytes(data: bytes) -> bytes | str:
    """The fingerprint of image bytes, serialised, or why there is none: what a process of the
    crawler's fingerprint pool sends back. Here, not in the crawler, so that such a process
    imports only the matching package (about half the start-up time and memory)."""
    try:
        return fingerprint(data).to_bytes()
    except InvalidImage as exc:
        return f"cannot fingerprint: {exc}"[:200]


def fingerprint_image(image: Image.Image, width: int, height: int) -> Fingerprint:
    """Fingerprint an already decoded, upright RGB working image of an original width x height."""
    rgb = np.asarray(image.convert("RGB"))
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    dihedral, quality = pdqhash.compute_dihedral(_for_pdq(rgb))
    trim_box = _content_box(grey)
    trimmed = None
    if trim_box is not None:
        x0, y0, x1, y1 = trim_box
        trimmed = _pdq(rgb[y0:y1, x0:x1])
    phashes = _dihedral_phashes(image)
    crops = _window_crops(rgb, grey)
    # Features of the whole image, then of each window: a small picture inside a page full of
    # text would otherwise get few of the whole image's keypoints.
    features = [_orb_features(grey, None, MAX_KEYPOINTS)]
    if len(crops) == 1:
        features.append(_orb_features(grey, crops[0][1], WINDOW_KEYPOINTS))
    elif crops:
        features += _shared_window_features(grey, [mask for _, mask in crops])
    keypoints, descriptors = _distinct(np.concatenate([points for points, _ in features]),
                                       np.concatenate([found for _, found in features]))
    return Fingerprint(
        width=width,
        height=height,
        phash64=phashes[0],
        phash_dihedral=np.array(phashes, np.uint64),
        pdq=np.packbits(np.asarray(dihedral, dtype=np.uint8), axis=1),
        pdq_quality=int(quality),
        iscc=_iscc_image_code(grey if trim_box is None else grey[y0:y1, x0:x1]),
        trimmed=trimmed,
        windows=(np.concatenate([_pdq_dihedral(pixels) for pixels, _ in crops]) if crops
                 else np.zeros((0, PDQ_BYTES), np.uint8)),
        keypoints=keypoints,
        descriptors=descriptors,
    )


def _window_crops(rgb: np.ndarray, grey: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(pixels, mask in the working image) of each content window worth fingerprinting."""
    if min(grey.shape) < windows.MIN_SIDE:
        return []  # no window of at least MIN_SIDE fits (and the edge search needs 2+ lines)
    boxes = []
    layout = windows.layout_window(grey)
    if layout is not None:
        boxes.append(layout)
    boxes += [box for box in windows.edge_rectangles(grey) if box not in boxes]
    crops = []
    for x0, y0, x1, y1 in boxes:
        mask = np.zeros(grey.shape, np.uint8)
        mask[y0:y1, x0:x1] = 255
        crops.append((rgb[y0:y1, x0:x1], mask))
    quad = windows.content_quad(grey)
    if quad is not None:
        mask = np.zeros(grey.shape, np.uint8)
        cv2.fillConvexPoly(mask, quad.astype(np.int32), 255)
        crops.append((windows.rectify(rgb, quad), mask))
    return crops


def _dihedral_phashes(image: Image.Image) -> list[int]:
    """imagehash's pHash of each variant in DIHEDRAL_TRANSPOSES, as unsigned ints.

    The same computation as `int(str(imagehash.phash(image.transpose(t))), 16)`, bit for bit,
    from two resizes instead of eight: Pillow's resampling filters are symmetric, so mirroring
    the 32 x 32 thumbnail equals the thumbnail of the mirrored image; but Pillow resamples rows
    before columns and rounds in between, so the variants that swap the axes are mirrors of the
    thumbnail of the transposed image.
    """
    grey = image.convert("L")
    upright = np.asarray(grey.resize((PHASH_SIDE, PHASH_SIDE), Image.Resampling.LANCZOS))
    swapped = np.asarray(grey.transpose(Image.Transpose.TRANSPOSE)
                         .resize((PHASH_SIDE, PHASH_SIDE), Image.Resampling.LANCZOS))
    thumbnails = np.stack([
        upright,                # as shown
        swapped[::-1],          # rotated 90 degrees anticlockwise
        upright[::-1, ::-1],    # rotated 180
        swapped[:, ::-1],       # rotated 270
        upright[::-1],          # flipped top to bottom
        upright[:, ::-1],       # flipped left to right
        swapped,                # transposed
        swapped[::-1, ::-1],    # transversed
    ])
    dct = scipy.fftpack.dct(scipy.fftpack.dct(thumbnails, axis=1), axis=2)[:, :8, :8]
    bits = dct.reshape(8, 64) > np.median(dct.reshape(8, 64), axis=1, keepdims=True)
    return [int.from_bytes(row.tobytes(), "big") for row in np.packbits(bits, axis=1)]


def _for_pdq(rgb: np.ndarray) -> np.ndarray:
    """`rgb` area-averaged to at most PDQ_SIDE on its longer side.

    PDQ reduces every image to 64 x 64 with box filters whose cost grows with the input size;
    averaging down first gives nearly the same code several times faster.
    """
    height, width = rgb.shape[:2]
    scale = PDQ_SIDE / max(height, width)
    if scale >= 1:
        return np.ascontiguousarray(rgb)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _pdq_dihedral(rgb: np.ndarray) -> np.ndarray:
    """The PDQ codes of the 8 dihedral variants of `rgb` (8 x 32 bytes, PDQ's order)."""
    variants, _quality = pdqhash.compute_dihedral(_for_pdq(rgb))
    return np.packbits(np.asarray(variants, dtype=np.uint8), axis=1)


def _pdq(rgb: np.ndarray) -> np.ndarray:
    bits, _quality = pdqhash.compute(_for_pdq(rgb))
    return np.packbits(bits.astype(np.uint8))


def _content_box(grey: np.ndarray) -> tuple[int, int, int, int] | None:
    """The box inside uniform borders (padding, a plain background), or None if there are none.

    The border colour is the median of the outermost pixels; rows and columns whose pixels all
    stay within BORDER_TOLERANCE of it are trimmed.
    """
    edge = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    colour = int(np.median(edge))
    content = np.abs(grey.astype(np.int16) - colour) > BORDER_TOLERANCE
    rows = np.flatnonzero(content.any(axis=1))
    cols = np.flatnonzero(content.any(axis=0))
    if len(rows) == 0 or len(cols) == 0:
        return None
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    height, width = grey.shape
    trimmed_area = 1 - ((y1 - y0) * (x1 - x0)) / (height * width)
    if trimmed_area < MIN_TRIMMED_FRACTION or min(y1 - y0, x1 - x0) < 16:
        return None
    return int(x0), int(y0), int(x1), int(y1)


def _iscc_image_code(grey: np.ndarray) -> str:
    """The ISCC Content-Code Image (ISO 24138) of a greyscale image without empty borders.

    Equal to `iscc_core.gen_image_code_v0(pixels, bits=64)["iscc"]` of the 32 x 32 thumbnail,
    whose pure-Python DCT costs more than the rest of the ISCC: the same arithmetic is done here
    on whole rows and columns at once with numpy.
    """
    pixels = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float64)
    return "ISCC:" + iscc_core.encode_component(
        mtype=iscc_core.MT.CONTENT,
        stype=iscc_core.ST_CC.IMAGE,
        version=iscc_core.VS.V0,
        bit_length=64,
        digest=_iscc_soft_hash(pixels),
    )


def _iscc_soft_hash(pixels: np.ndarray) -> bytes:
    """iscc_core.soft_hash_image_v0(pixels, bits=64) of a 32 x 32 array, in float64.

    iscc-core's values are Python ints and floats; float64 holds the ints it produces exactly,
    and every addition, subtraction and division below is the one it performs, in its order,
    so the coefficients and hence the bits are identical.
    """
    rows = _iscc_dct(pixels.T).T
    matrix = _iscc_dct(rows)
    block = np.sort(matrix[:8, :8].ravel())
    median = (block[31] + block[32]) / 2  # statistics.median of 64 values
    bits = matrix[:8, :8].ravel() > median
    return np.packbits(bits).tobytes()


def _iscc_dct(vectors: np.ndarray) -> np.ndarray:
    """iscc_core.alg_dct (nayuki's fast recursive DCT) of every column of `vectors`.

    alg_dct splits a vector into the sums and scaled differences of its mirrored halves and
    transforms each; both halves of every column go down the recursion side by side.
    """
    n, count = vectors.shape
    if n == 1:
        return vectors.copy()
    half = n // 2
    mirrored = vectors[::-1][:half]
    halves = _iscc_dct(np.concatenate(
        [vectors[:half] + mirrored, (vectors[:half] - mirrored) / _iscc_cosines(n)[:, None]],
        axis=1))
    alpha, beta = halves[:, :count], halves[:, count:]
    result = np.empty_like(vectors)
    result[0::2] = alpha
    result[1:-1:2] = beta[:-1] + beta[1:]
    result[-1] = beta[-1]
    return result


_ISCC_COSINES: dict[int, np.ndarray] = {}


def _iscc_cosines(n: int) -> np.ndarray:
    """alg_dct's divisors for length n, computed with math.cos as it does."""
    if n not in _ISCC_COSINES:
        _ISCC_COSINES[n] = np.array([math.cos((i + 0.5) * math.pi / n) * 2.0
                                     for i in range(n // 2)])
    return _ISCC_COSINES[n]


def _shared_window_features(grey: np.ndarray, masks: list[np.ndarray]
                            ) -> list[tuple[np.ndarray, np.ndarray]]:
    """WINDOW_KEYPOINTS features for each of several windows, from one ORB pass over them all.

    An ORB pass costs nearly the same with or without a mask (the whole pyramid is searched),
    so one pass over the union of the windows keeps twice their keypoints, and each window takes
    the strongest of those inside it, pyramid level by level as ORB shares them out. A window
    left short on a level that the shared pass had to cut gets its own pass. On the robustness
    benchmark this found as many copies as a pass per window, with slightly more RANSAC inliers
    for true pairs and no more for unrelated ones.
    """
    count = SHARED_KEYPOINTS_PER_WINDOW * len(masks)
    orb = cv2.ORB_create(nfeatures=count, fastThreshold=10)
    keypoints, descriptors = orb.detectAndCompute(grey, np.maximum.reduce(masks))
    if descriptors is None or not keypoints:
        return [_orb_features(grey, mask, WINDOW_KEYPOINTS) for mask in masks]
    points = np.array([kp.pt for kp in keypoints], dtype=np.float32)
    responses = np.array([kp.response for kp in keypoints], dtype=np.float32)
    levels = np.array([kp.octave for kp in keypoints])
    height, width = grey.shape
    rows = np.clip(np.round(points[:, 1]).astype(int), 0, height - 1)
    cols = np.clip(np.round(points[:, 0]).astype(int), 0, width - 1)
    cut = np.bincount(levels, minlength=ORB_LEVELS) >= _level_quotas(count)
    features = []
    for mask in masks:
        chosen = _strongest(responses, levels, mask[rows, cols] > 0, WINDOW_KEYPOINTS)
        short = np.bincount(levels[chosen], minlength=ORB_LEVELS) < _level_quotas(WINDOW_KEYPOINTS)
        if (short & cut).any():
            features.append(_orb_features(grey, mask, WINDOW_KEYPOINTS))
        else:
            features.append((points[chosen], descriptors[chosen].astype(np.uint8)))
    return features


def _strongest(responses: np.ndarray, levels: np.ndarray, inside: np.ndarray, count: int
               ) -> np.ndarray:
    """Indices of the `count` strongest keypoints `inside`, shared over levels as ORB does."""
    chosen = []
    for level, quota in enumerate(_level_quotas(count)):
        candidates = np.flatnonzero(inside & (levels == level))
        strongest_first = np.argsort(-responses[candidates], kind="stable")
        chosen.append(candidates[strongest_first[:quota]])
    return np.sort(np.concatenate(chosen))


def _level_quotas(count: int) -> list[int]:
    """How many of `count` features ORB keeps on each pyramid level (OpenCV's formula)."""
    factor = 1 / ORB_SCALE
    share = count * (1 - factor) / (1 - factor**ORB_LEVELS)
    quotas = []
    for _ in range(ORB_LEVELS - 1):
        quotas.append(round(share))
        share *= factor
    return quotas + [max(count - sum(quotas), 0)]


def _distinct(points: np.ndarray, descriptors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The features without repeats, in their first order.

    A keypoint found by both the whole-image pass and a window's would be stored twice; a query
    descriptor's best and second-best matches would then be the same point, and Lowe's ratio
    test would reject the match.
    """
    if len(points) < 2:
        return points, descriptors
    rows = np.concatenate([points.view(np.uint8).reshape(len(points), -1), descriptors], axis=1)
    _, first = np.unique(np.ascontiguousarray(rows).view(f"V{rows.shape[1]}"), return_index=True)
    keep = np.sort(first)
    return points[keep], descriptors[keep]


def _orb_features(grey: np.ndarray, mask: np.ndarray | None, count: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    if min(grey.shape) < ORB_MIN_SIDE:  # no 31-pixel patch fits (and ORB's pyramid fails)
        return np.zeros((0, 2), np.float32), np.zeros((0, DESCRIPTOR_BYTES), np.uint8)
    # A detector per call: OpenCV's ORB object is not safe to share between threads.
    orb = cv2.ORB_create(nfeatures=count, fastThreshold=10)
    keypoints, descriptors = orb.detectAndCompute(grey, mask)
    if descriptors is None or not keypoints:
        return np.zeros((0, 2), np.float32), np.zeros((0, DESCRIPTOR_BYTES), np.uint8)
    points = np.array([kp.pt for kp in keypoints], dtype=np.float32)
    return points, descriptors.astype(np.uint8)


__all__ = ["Fingerprint", "InvalidImage", "fingerprint", "fingerprint_bytes", "fingerprint_image"]
