"""Where in a picture another picture may sit: content windows found without knowing it.

A copy is often a registered image inside something else: on padding or a plain background,
under or over a caption band, as a figure in a page layout, or rotated or skewed onto a filled
canvas. These functions find such windows in a query image so that each can be fingerprinted on
its own. They only propose; a window's match is always confirmed geometrically.
"""

from __future__ import annotations

import cv2
import numpy as np

# Grey levels within this distance of a side's colour count as that side's background.
TOLERANCE = 12
# A row or column counts as background (padding, caption band, page) when this share of its
# pixels has the side's colour. Bold caption text and text columns leave less than half of a
# line's pixels uncovered; 0.4 found the most copies in pages (0.3 and 0.55 found fewer).
BACKGROUND_SHARE = 0.4
MIN_WINDOW_SHARE = 0.08
MAX_WINDOW_SHARE = 0.92
MIN_SIDE = 24
MAX_PASSES = 6


def layout_window(grey: np.ndarray) -> tuple[int, int, int, int] | None:
    """The box left after peeling background rows and columns off every side, repeatedly.

    Each side is peeled while its outermost row (or column) is mostly the colour that row had
    when peeling started, so padding, a caption band, page margins and text columns all go,
    and a picture inside them stays. None when nothing worth a window is left or peeled.
    """
    height, width = grey.shape
    y0, y1, x0, x1 = 0, height, 0, width
    signed = grey.astype(np.int16)
    for _ in range(MAX_PASSES):
        before = (y0, y1, x0, x1)
        y0 = _peel(signed[y0:y1, x0:x1], from_start=True, axis=0) + y0
        y1 = y1 - _peel(signed[y0:y1, x0:x1], from_start=False, axis=0)
        x0 = _peel(signed[y0:y1, x0:x1], from_start=True, axis=1) + x0
        x1 = x1 - _peel(signed[y0:y1, x0:x1], from_start=False, axis=1)
        if (y0, y1, x0, x1) == before or y1 - y0 < MIN_SIDE or x1 - x0 < MIN_SIDE:
            break
    return _worth_a_window((x0, y0, x1, y1), width, height)


def _peel(block: np.ndarray, *, from_start: bool, axis: int) -> int:
    """How many background lines to remove from one side of `block` (axis 0: rows)."""
    lines = block if axis == 0 else block.T
    if not from_start:
        lines = lines[::-1]
    if len(lines) < MIN_SIDE:
        return 0
    colour = int(np.median(lines[0]))
    # Only the lines up to the first non-background one matter: look at a few lines first and
    # at more only while all of them are background.
    start, count = 0, MIN_SIDE
    while start < len(lines):
        chunk = lines[start:start + count]
        share = np.count_nonzero(np.abs(chunk - colour) <= TOLERANCE, axis=1) / chunk.shape[1]
        background = share >= BACKGROUND_SHARE
        if not background.all():
            return start + int(np.argmin(background))
        start, count = start + count, 4 * count
    return 0


def content_quad(grey: np.ndarray) -> np.ndarray | None:
    """Corners (4 x 2, clockwise from top-left) of a tilted picture on a uniform fill, if any."""
    height, width = grey.shape
    edge = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    colour = int(np.median(edge))
    mask = (np.abs(grey.astype(np.int16) - colour) > TOLERANCE).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(contour)
    if not MIN_WINDOW_SHARE <= area / (width * height) <= MAX_WINDOW_SHARE:
        return None
    hull = cv2.convexHull(contour)
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True).reshape(-1, 2)
    if len(quad) != 4 or cv2.contourArea(quad) < 0.9 * area:
        return None
    return _clockwise_from_top_left(quad.astype(np.float32))


def rectify(rgb: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The picture inside `quad`, warped back to an upright rectangle."""
    top = np.linalg.norm(quad[1] - quad[0])
    left = np.linalg.norm(quad[3] - quad[0])
    bottom = np.linalg.norm(quad[2] - quad[3])
    right = np.linalg.norm(quad[2] - quad[1])
    width, height = max(MIN_SIDE, round((top + bottom) / 2)), max(MIN_SIDE, round((left + right) / 2))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    matrix = cv2.getPerspectiveTransform(quad, target)
    return cv2.warpPerspective(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR)


def _clockwise_from_top_left(points: np.ndarray) -> np.ndarray:
    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    ordered = points[np.argsort(angles)]  # clockwise on screen (y grows downwards)
    start = int(np.argmin(ordered.sum(axis=1)))
    return np.roll(ordered, -start, axis=0)


def _worth_a_window(box, width: int, height: int):
    x0, y0, x1, y1 = box
    share = (x1 - x0) * (y1 - y0) / (width * height)
    if min(x1 - x0, y1 - y0) < MIN_SIDE or not MIN_WINDOW_SHARE <= share <= MAX_WINDOW_SHARE:
        return None
    return int(x0), int(y0), int(x1), int(y1)


# A straight edge is a run of pixels whose neighbour across the edge differs by this many grey
# levels (after a light blur), at least MIN_EDGE_SHARE of the image's width or height long.
EDGE_STEP = 16
GAP_BRIDGE = 15
MIN_EDGE_SHARE = 0.25
SIDE_SUPPORT = 0.7
MAX_LINES = 10
MAX_RECTANGLES = 3


def edge_rectangles(grey: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes bounded on all four sides by long straight edges or the image border.

    A picture pasted onto a background, placed in a page layout or under a caption band has
    such a frame even when the background around it is busy.
    """
    height, width = grey.shape
    blurred = cv2.GaussianBlur(grey, (5, 5), 0)
    rows = _straight_edges(cv2.absdiff(blurred[1:], blurred[:-1]) > EDGE_STEP, width)
    columns = _straight_edges((cv2.absdiff(blurred[:, 1:], blurred[:, :-1]) > EDGE_STEP).T,
                              height)
    rows = [(0, 0, width), (height, 0, width)] + [(p + 1, a, b) for p, a, b in rows]
    columns = [(0, 0, height), (width, 0, height)] + [(p + 1, a, b) for p, a, b in columns]
    # Every pair of rows against every pair of columns, as arrays: (top, t0, t1, bottom, b0, b1)
    # down the first axis, (left, l0, l1, right, r0, r1) across the second.
    top, t0, t1, bottom, b0, b1 = (values[:, None] for values in _pairs(rows))
    left, l0, l1, right, r0, r1 = (values[None, :] for values in _pairs(columns))
    box_width, box_height = right - left, bottom - top
    share = box_width * box_height / (width * height)
    supported = (
        (np.minimum(box_width, box_height) >= MIN_SIDE)
        & (MIN_WINDOW_SHARE <= share) & (share <= MAX_WINDOW_SHARE)
        & _covers(t0, t1, left, right) & _covers(b0, b1, left, right)
        & _covers(l0, l1, top, bottom) & _covers(r0, r1, top, bottom)
    )
    found_rows, found_columns = np.nonzero(supported)
    if len(found_rows) == 0:
        return []
    x0, x1 = left[0, found_columns], right[0, found_columns]
    y0, y1 = top[found_rows, 0], bottom[found_rows, 0]
    borders = (y0 == 0).astype(int) + (y1 == height) + (x0 == 0) + (x1 == width)
    # Frames drawn by real edges on all sides first (a figure in a page), then larger ones.
    order = np.lexsort((y1, x1, y0, x0, -(x1 - x0) * (y1 - y0), borders))[:MAX_RECTANGLES]
    return [(int(x0[i]), int(y0[i]), int(x1[i]), int(y1[i])) for i in order]


def _straight_edges(steps: np.ndarray, length: int) -> list[tuple[int, int, int]]:
    """(line, start, end) of the longest run in each line, strongest few, one per neighbourhood."""
    # An edge wanders by a pixel across lines and fades where both sides happen to match:
    # merge neighbouring lines and bridge short gaps before measuring runs.
    steps = cv2.dilate(steps.astype(np.uint8), np.ones((3, 1), np.uint8))
    steps = cv2.morphologyEx(steps, cv2.MORPH_CLOSE, np.ones((1, GAP_BRIDGE), np.uint8))
    # Only lines with enough edge pixels in all can hold a long enough run.
    candidates = np.flatnonzero(steps.sum(axis=1, dtype=np.int32) >= MIN_EDGE_SHARE * length)
    padded = np.zeros((len(candidates), steps.shape[1] + 2), np.int8)
    padded[:, 1:-1] = steps[candidates]
    # Row-major positions of the changes: each run's start, then its end.
    changes = np.flatnonzero(np.diff(padded, axis=1))
    line_length = steps.shape[1] + 1
    start_lines = candidates[changes[0::2] // line_length]
    starts, ends = changes[0::2] % line_length, changes[1::2] % line_length
    runs = ends - starts
    # The longest run of each line: sort by line, longest first, keep the first of each line.
    order = np.lexsort((-runs, start_lines))
    first = np.ones(len(order), bool)
    first[1:] = start_lines[order][1:] != start_lines[order][:-1]
    longest = order[first]
    long_enough = longest[runs[longest] >= MIN_EDGE_SHARE * length]
    lines = sorted(zip((-runs[long_enough]).tolist(), (-start_lines[long_enough]).tolist(),
                       starts[long_enough].tolist(), ends[long_enough].tolist()))
    kept: list[tuple[int, int, int]] = []
    for _run, negative_line, start, end in lines:
        line = -negative_line
        if all(abs(line - other) > 4 for other, _, _ in kept):
            kept.append((line, start, end))
        if len(kept) == MAX_LINES:
            break
    return kept


def _pairs(lines) -> list[np.ndarray]:
    """Pairs of lines at least MIN_SIDE apart: arrays a, a_start, a_end, b, b_start, b_end."""
    ordered = np.array(sorted(lines), dtype=np.int64).reshape(-1, 3)
    first, second = np.triu_indices(len(ordered), k=1)
    apart = ordered[second, 0] - ordered[first, 0] >= MIN_SIDE
    first, second = first[apart], second[apart]
    return [*ordered[first].T, *ordered[second].T]


def _covers(start, end, low, high):
    return np.minimum(end, high) - np.maximum(start, low) >= SIDE_SUPPORT * (high - low)
