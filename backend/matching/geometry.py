"""Geometric confirmation: do two images share a planar region seen through one homography?"""

from __future__ import annotations

import cv2
import numpy as np

# Lowe's ratio test on ORB's Hamming distances, and the RANSAC reprojection error in pixels
# of the 512-pixel working images.
RATIO = 0.8
RANSAC_PIXELS = 6.0
MIN_MATCHES = 8


def inliers(
    query_points: np.ndarray,
    query_descriptors: np.ndarray,
    stored_points: np.ndarray,
    stored_descriptors: np.ndarray,
) -> int:
    """How many ORB correspondences agree on one plausible homography (0 when none does)."""
    if len(query_descriptors) < MIN_MATCHES or len(stored_descriptors) < MIN_MATCHES:
        return 0
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(query_descriptors, stored_descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < MIN_MATCHES:
        return 0
    source = query_points[[m.queryIdx for m in good]].reshape(-1, 1, 2)
    target = stored_points[[m.trainIdx for m in good]].reshape(-1, 1, 2)
    homography, mask = cv2.findHomography(source, target, cv2.RANSAC, RANSAC_PIXELS)
    if homography is None or not _plausible(homography):
        return 0
    # Distinct keypoints only: several query points matched onto one stored point are one.
    inlier_targets = {m.trainIdx for m, keep in zip(good, mask.ravel()) if keep}
    return len(inlier_targets)


def _plausible(homography: np.ndarray) -> bool:
    """Rejects mappings no edit produces: mirroring, collapse, extreme scale or perspective."""
    linear = homography[:2, :2] / homography[2, 2]
    determinant = float(np.linalg.det(linear))
    if not 1 / 64 < determinant < 64:
        return False
    perspective = np.abs(homography[2, :2] / homography[2, 2])
    return bool(perspective.max() < 0.005)
