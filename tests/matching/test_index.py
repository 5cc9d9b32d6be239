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


def _in_layout(picture: Image.Image, kind: str) -> Image.Image:
    """The picture as a figure in a text page, under a caption band, or tilted on a fill."""
    from PIL import ImageDraw

    if kind == "page":
        page = Image.new("RGB", (1000, 800), (250, 250, 250))
        draw = ImageDraw.Draw(page)
        for line in range(28):
            draw.text((30, 100 + 24 * line), "Lorem ipsum dolor sit amet, consectetur", fill=(40,) * 3)
        page.paste(picture.resize((480, round(480 * picture.height / picture.width))), (490, 110))
        return page
    if kind == "caption":
        band = picture.height // 5
        canvas = Image.new("RGB", (picture.width, picture.height + band), "white")
        canvas.paste(picture, (0, band))
        ImageDraw.Draw(canvas).text((20, band // 3), "WHEN THE TESTS PASS", fill="black")
        return canvas
    return picture.rotate(12, Image.Resampling.BILINEAR, expand=True, fillcolor="black")


@pytest.mark.parametrize("kind", ["page", "caption", "tilted"])
def test_search__picture_inside_a_larger_one__is_found_as_region(index, photos, encode, kind):
    for name in ("astronaut", "coffee"):
        query = fingerprint(encode(_in_layout(Image.fromarray(photos[name]), kind), quality=85))

        matches = index.search(query)

        assert [m.key for m in matches] == [name], f"{name} {kind}: {matches}"
        assert matches[0].kind == "region"


def test_search__centre_crop_of_half_the_area__is_found(index, photos, encode):
    pixels = photos["rocket"]
    height, width = pixels.shape[:2]
    crop = pixels[round(height * 0.15): round(height * 0.85), round(width * 0.15): round(width * 0.85)]

    assert [m.key for m in index.search(fingerprint(encode(crop)))] == ["rocket"]


def test_search__texture_rotated_90__is_found_as_rotation(index, photos, encode):
    rotated = Image.fromarray(photos["brick"]).transpose(Image.Transpose.ROTATE_270)

    [match] = index.search(fingerprint(encode(rotated, quality=85)))

    assert (match.key, match.kind) == ("brick", "rotation")


def test_search__blurred_text_page__is_found(index, photos, encode):
    from PIL import ImageFilter

    blurred = Image.fromarray(photos["page"]).filter(ImageFilter.GaussianBlur(3))

    assert [m.key for m in index.search(fingerprint(encode(blurred, quality=85)))] == ["page"]


def test_search__crop_at_an_offset__is_found_by_its_keypoints(index, photos, encode):
    # A quarter of the area removed, off-centre: every global hash is far from the original's.
    for name in ("chelsea", "china"):
        pixels = photos[name]
        height, width = pixels.shape[:2]
        crop = pixels[round(height * 0.21):, round(width * 0.03): round(width * 0.9)]

        matches = index.search(fingerprint(encode(crop, quality=85)))

        assert [(m.key, m.kind) for m in matches] == [(name, "region")], name


def test_search__picture_pasted_on_a_busy_background__is_found(index, photos, encode):
    rng = np.random.default_rng(3)
    background = np.clip(rng.normal(128, 40, (700, 900, 3)), 0, 255).astype(np.uint8)
    canvas = Image.fromarray(background)
    canvas.paste(Image.fromarray(photos["coffee"]).resize((480, 320)), (250, 300))

    matches = index.search(fingerprint(encode(canvas, quality=85)))

    assert [m.key for m in matches] == ["coffee"]


def test_remove__key__its_keypoints_no_longer_match(index, photos, encode):
    pixels = photos["chelsea"]
    crop = pixels[pixels.shape[0] // 4:, : pixels.shape[1] * 3 // 4]
    index.remove("chelsea")

    assert index.search(fingerprint(encode(crop, quality=85))) == []


def test_open__older_layout__raises_value_error(index, tmp_path):
    index.save(tmp_path / "index")
    keys = tmp_path / "index" / "keys.json"
    keys.write_text(keys.read_text().replace('"format": 3, ', ""))

    with pytest.raises(ValueError, match="has layout 1, this version reads 3; rebuild it"):
        MatchIndex.open(tmp_path / "index")


def test_open_then_add__keeps_saved_arrays_on_disk(index, registered, tmp_path):
    index.save(tmp_path / "index")
    reopened = MatchIndex.open(tmp_path / "index")

    reopened.add("again", registered["china"])

    # The saved keypoints stay memory-mapped: adding an image appends beside them.
    assert isinstance(reopened._keypoints._base, np.memmap)
    assert sorted(m.key for m in reopened.search(registered["china"])) == ["again", "china"]
    reopened.save(tmp_path / "second")
    assert sorted(m.key for m in MatchIndex.open(tmp_path / "second").search(
        registered["china"])) == ["again", "china"]


def _text_page(seed: int, font: str) -> np.ndarray:
    """A page of random words: every page shares glyph shapes, none shares a layout."""
    import random

    from PIL import ImageDraw, ImageFont

    words = ("copyright", "image", "register", "licence", "market", "token", "escrow", "crawler",
             "letter", "invoice", "court", "lawyer", "photo", "wallet", "chain", "proof")
    rng = random.Random(seed)
    page = Image.new("L", (900, 1200), 255)
    draw, typeface = ImageDraw.Draw(page), ImageFont.truetype(font, 22)
    for y in range(30, 1160, 33):
        draw.text((30, y), " ".join(rng.choice(words) for _ in range(12)), fill=0, font=typeface)
    return np.stack([np.asarray(page)] * 3, axis=-1)


def test_search__unrelated_text_pages__never_match(encode):
    # Pages of text share countless keypoints at the same few glyph shapes; four of them always
    # fit some homography, so inliers must be distinct positions and the mapping a real one.
    fonts = ("DejaVuSans.ttf", "DejaVuSerif.ttf")
    index = MatchIndex()
    for seed in range(4):
        for font in fonts:
            index.add(f"{seed} {font}", fingerprint(encode(_text_page(seed, font))))

    for seed in range(100, 104):
        for font in fonts:
            assert index.search(fingerprint(encode(_text_page(seed, font)))) == [], (seed, font)
    page = _text_page(2, fonts[1])
    assert [m.key for m in index.search(fingerprint(encode(page[200:, :700])))] == [
        f"2 {fonts[1]}"]


def test_add__beyond_the_feature_limit__leaves_the_index_unchanged(index, registered, monkeypatch):
    from backend.matching import index as index_module

    monkeypatch.setattr(index_module, "MAX_FEATURE_ID", len(index._keypoints) + 10)
    before = [index.search(print_) for print_ in registered.values()]

    with pytest.raises(ValueError, match="shard the registered images"):
        index.add("china", registered["astronaut"])  # replacing a key, too many features

    assert "china" in index and len(index) == len(registered)
    assert [index.search(print_) for print_ in registered.values()] == before


def test_save__into_the_directory_it_was_opened_from__keeps_everything(index, registered, photos,
                                                                        encode, tmp_path):
    index.save(tmp_path / "index")
    reopened = MatchIndex.open(tmp_path / "index")
    reopened.add("again", registered["rocket"])

    reopened.save(tmp_path / "index")  # its arrays are memory-mapped from these very files

    pixels = photos["china"]
    crop = pixels[pixels.shape[0] // 4:, : pixels.shape[1] * 3 // 4]
    final = MatchIndex.open(tmp_path / "index")
    assert [m.key for m in final.search(fingerprint(encode(crop, quality=85)))] == ["china"]
    assert sorted(m.key for m in final.search(registered["rocket"])) == ["again", "rocket"]


@pytest.mark.parametrize("kind", ["page", "caption"])
def test_search__mirrored_picture_inside_a_larger_one__is_found(index, photos, encode, kind):
    # Mirroring changes every ORB descriptor: the window's dihedral hashes find it.
    for name in ("astronaut", "coffee"):
        mirrored = Image.fromarray(photos[name]).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        query = fingerprint(encode(_in_layout(mirrored, kind), quality=85))

        assert [m.key for m in index.search(query)] == [name], f"{name} {kind}"
