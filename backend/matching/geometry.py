"""Geometric confirmation: do two images share a planar region seen through one homography?"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .decoding import WORKING_SIDE

# Lowe's ratio test on ORB's Hamming distances, and the RANSAC reprojection error in pixels
# of the 512-pixel working images.
RATIO = 0.8
RANSAC_PIXELS = 6.0
MIN_MATCHES = 8
# Inliers are counted as distinct positions (cells of this many pixels) on both sides: ORB finds
# several keypoints at one spot (pyramid levels, window passes), and four spots always fit a
# homography exactly, however many keypoints sit on them.
POSITION_CELL = 3.0
# The correspondences RANSAC sees at most (the nearest first): a bound on its work per candidate.
MAX_PAIRS = 2000
# What a confirmed match is called: a query covering less than WHOLE_COVER of the registered
# image shows a region of it; a registered image filling less than WHOLE_FILL of the query sits
# inside a larger picture (padding, a page, a background); a turn beyond MIN_ROTATION degrees
# of a whole image is a rotation.
WHOLE_COVER = 0.85
WHOLE_FILL = 0.6
MIN_ROTATION = 3.0


def confirm(
    query_points: np.ndarray,
    query_descriptors: np.ndarray,
    stored_points: np.ndarray,
    stored_descriptors: np.ndarray,
) -> tuple[int, np.ndarray | None]:
    """How many ORB correspondences agree on one plausible homography (0 when none does), and
    that homography, from query to stored working-image pixels (None when none does)."""
    if len(query_descriptors) < MIN_MATCHES or len(stored_descriptors) < MIN_MATCHES:
        return 0, None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(query_descriptors, stored_descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    return confirm_pairs(query_points[[m.queryIdx for m in good]],
                         stored_points[[m.trainIdx for m in good]])


def confirm_pairs(source: np.ndarray, target: np.ndarray) -> tuple[int, np.ndarray | None]:
    """Inliers and homography of given correspondences source[i] -> target[i], best first.

    Used directly with the local-feature hits, which need no ratio test: in repetitive textures
    (bricks, coins) the ratio test throws away the right matches with the wrong ones. Inliers
    count distinct positions, the fewer of the two sides'.
    """
    source, target = source[:MAX_PAIRS], target[:MAX_PAIRS]
    if len(source) < MIN_MATCHES:
        return 0, None
    homography, mask = cv2.findHomography(source.reshape(-1, 1, 2), target.reshape(-1, 1, 2),
                                          cv2.RANSAC, RANSAC_PIXELS)
    if homography is None or not _plausible(homography, source):
        return 0, None
    keep = mask.ravel() > 0
    return min(_positions(source[keep]), _positions(target[keep])), homography


def _positions(points: np.ndarray) -> int:
    return len(np.unique(np.floor(points / POSITION_CELL).astype(np.int64), axis=0))


def describe(homography: np.ndarray, query_size: tuple[int, int],
             stored_size: tuple[int, int]) -> str:
    """"whole", "rotation" or "region": what a confirmed homography says the query shows.

    Sizes are the original images' (width, height); keypoints live in working images scaled
    to WORKING_SIDE, and so does the homography.
    """
    query_w, query_h = working_size(*query_size)
    stored_w, stored_h = working_size(*stored_size)
    corners = np.float32([[0, 0], [query_w, 0], [query_w, query_h], [0, query_h]])
    mapped = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), homography).reshape(-1, 2)
    stored = np.float32([[0, 0], [stored_w, 0], [stored_w, stored_h], [0, stored_h]])
    if not cv2.isContourConvex(mapped):
        return "region"
    overlap, _ = cv2.intersectConvexConvex(mapped, stored)
    if overlap < WHOLE_COVER * stored_w * stored_h:
        return "region"
    # The whole registered image is in the query: how much of the query does it fill?
    scale = abs(float(np.linalg.det(homography[:2, :2] / homography[2, 2])))
    if stored_w * stored_h / scale < WHOLE_FILL * query_w * query_h:
        return "region"
    turn = math.degrees(math.atan2(homography[1, 0], homography[0, 0]))
    return "rotation" if abs(turn) > MIN_ROTATION else "whole"


def working_size(width: int, height: int) -> tuple[float, float]:
    """The size of the working image decoding.decode makes of a width x height original."""
    scale = min(1.0, WORKING_SIDE / max(width, height))
    return width * scale, height * scale


def _plausible(homography: np.ndarray, source: np.ndarray) -> bool:
    """Rejects mappings no edit produces: mirroring, collapse, extreme scale or perspective.

    The projective divisor must stay positive over the query points' extent: where it changes
    sign the plane folds through infinity, which no photograph of a picture does.
    """
    linear = homography[:2, :2] / homography[2, 2]
    determinant = float(np.linalg.det(linear))
    if not 1 / 64 < determinant < 64:
        return False
    perspective = np.abs(homography[2, :2] / homography[2, 2])
    if perspective.max() >= 0.005:
        return False
    low, high = source.reshape(-1, 2).min(axis=0), source.reshape(-1, 2).max(axis=0)
    corners = np.array([[low[0], low[1], 1], [high[0], low[1], 1], [high[0], high[1], 1],
                        [low[0], high[1], 1]])
    return bool((corners @ homography[2] / homography[2, 2] > 0.25).all())
