import math

import numpy as np
import pytest

from backend.matching.geometry import describe


def _similarity(scale: float = 1.0, degrees: float = 0.0, dx: float = 0.0, dy: float = 0.0):
    """Query pixels -> stored pixels."""
    c, s = scale * math.cos(math.radians(degrees)), scale * math.sin(math.radians(degrees))
    return np.array([[c, -s, dx], [s, c, dy], [0, 0, 1]], float)


@pytest.mark.parametrize(
    ("homography", "query_size", "kind"),
    [
        (_similarity(), (512, 384), "whole"),  # same frame
        (_similarity(scale=2.0), (256, 192), "whole"),  # a half-size copy
        # Turned by 10 degrees onto a canvas just large enough (580 x 476): query centre (290,
        # 238) -> stored centre (256, 192).
        (_similarity(dx=256, dy=192) @ _similarity(degrees=-10) @ _similarity(dx=-290, dy=-238),
         (580, 476), "rotation"),
        (_similarity(dx=100, dy=80), (300, 250), "region"),  # a crop of the stored image
        (_similarity(scale=2.0, dx=-400, dy=-300), (1024, 768), "region"),  # inside a larger picture
    ],
)
def test_describe__homography__names_what_the_query_shows(homography, query_size, kind):
    assert describe(homography, query_size, (512, 384)) == kind
