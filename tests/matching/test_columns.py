import numpy as np
import pytest

from backend.matching.columns import Column


@pytest.fixture
def column(tmp_path) -> tuple[Column, np.ndarray]:
    """A column of sorted pairs: 50 saved and memory-mapped, 30 appended since."""
    whole = np.sort(np.random.default_rng(0).integers(0, 1000, (80, 2)), axis=0)
    np.save(tmp_path / "base.npy", whole[:50])
    column = Column(np.int64, data=np.load(tmp_path / "base.npy", mmap_mode="r"))
    column.append(whole[50:70])
    column.append(whole[70:])
    return column, whole


def test_reads__across_base_and_tail__equal_one_array(column):
    column, whole = column
    indices = np.array([0, 49, 50, 79, 3, 66])

    assert len(column) == 80
    assert all((column[i] == whole[i]).all() for i in (0, 49, 50, 79))
    for start, stop in ((0, 10), (45, 55), (50, 80), (0, 80)):
        assert (column[start:stop] == whole[start:stop]).all()
    assert (column[indices] == whole[indices]).all()
    values = np.array([-1, 0, whole[49, 0], whole[50, 0], whole[79, 0], 5000])
    assert (column.searchsorted(values, column=0)
            == np.searchsorted(whole[:, 0], values, side="right")).all()


def test_save__writes_base_and_tail(column, tmp_path):
    column, whole = column

    column.save(tmp_path / "saved.npy")

    assert (np.load(tmp_path / "saved.npy") == whole).all()


def test_reads__out_of_range__raise_index_error(column):
    column, _ = column

    for key in (-1, 80, [0, -1], [79, 80]):
        with pytest.raises(IndexError, match="out of range"):
            column[key]
