import numpy as np
import pytest
from PIL import Image, ImageEnhance

from backend.matching import Fingerprint, Match, MatchIndex, fingerprint


@pytest.fixture(scope="module")
def registered(photos, encode) -> dict[str, Fingerprint]:
    return {name: fingerprint(encode(pixels, quality=90)) for name, pixels in photos.items()}


@pytest.fixture
def index(registered) -> MatchIndex:
    index = MatchIndex()
    for name, print_ in registered.items():
        index.add(name, print_)
    return index


def _edits(pixels: np.ndarray) -> dict[str, Image.Image]:
    image = Image.fromarray(pixels)
    width, height = image.size
    return {
        "jpeg quality 30": image,
        "half size": image.resize((width // 2, height // 2)),
        "brighter": ImageEnhance.Brightness(image).enhance(1.3),
        "greyscale": image.convert("L").convert("RGB"),
        "mirrored": image.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        "rotated 90": image.transpose(Image.Transpose.ROTATE_90),
    }


@pytest.mark.parametrize("name", ["china", "astronaut", "coffee"])
def test_search__edited_copy__finds_the_original_first(index, photos, encode, name):
    for edit, edited in _edits(photos[name]).items():
        matches = index.search(fingerprint(encode(edited, quality=30)))

        assert matches, f"{edit} of {name} was not found"
        assert matches[0].key == name, f"{edit} of {name} matched {matches[0]}"
        assert 0 <= matches[0].score <= 1


def test_search__unrelated_images__never_match(registered):
    for name, print_ in registered.items():
        alone = MatchIndex()
        for other, other_print in registered.items():
            if other != name:
                alone.add(other, other_print)

        assert alone.search(print_) == [], f"{name} matched an unrelated image"


def test_search__kind__names_a_flip(index, photos, encode):
    mirrored = np.ascontiguousarray(photos["chelsea"][:, ::-1])

    [match] = index.search(fingerprint(encode(mirrored)))

    assert match == Match(key="chelsea", score=match.score, kind="flip")


def test_remove__key__is_no_longer_found(index, registered):
    index.remove("china")

    assert "china" not in index and len(index) == len(registered) - 1
    assert [m.key for m in index.search(registered["china"])] == []
    assert [m.key for m in index.search(registered["flower"])] == ["flower"]


def test_remove__unknown_key__raises_key_error(index):
    with pytest.raises(KeyError, match="no image registered under key 'nope'"):
        index.remove("nope")


def test_add__same_key_twice__replaces(index, registered):
    index.add("china", registered["flower"])

    assert len(index) == len(registered)
    assert sorted(m.key for m in index.search(registered["flower"])) == ["china", "flower"]
    assert index.search(registered["china"]) == []


@pytest.mark.parametrize("key", [1.5, None, b"bytes", True])
def test_add__bad_key__raises_type_error(index, registered, key):
    with pytest.raises(TypeError, match="key must be a str or int"):
        index.add(key, registered["china"])


def test_save_open__round_trip__answers_the_same(index, registered, tmp_path):
    index.add(42, registered["china"])
    index.remove("rocket")
    index.save(tmp_path / "index")

    reopened = MatchIndex.open(tmp_path / "index")

    assert len(reopened) == len(index)
    for print_ in registered.values():
        assert reopened.search(print_) == index.search(print_)
    reopened.add("rocket", registered["rocket"])
    reopened.remove(42)
    assert [m.key for m in reopened.search(registered["rocket"])] == ["rocket"]
    assert [m.key for m in reopened.search(registered["china"])] == ["china"]


def test_open__missing_directory__raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="no index at"):
        MatchIndex.open(tmp_path / "absent")
