import pytest
from multiformats import CID

from ipfs import InvalidCid, LocalStore
from ipfs.cids import cid_text, from_binary, parse_cid

HELLO = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"


def test_parse_cid__v0__becomes_dag_pb_v1():
    digest = bytes(range(32))
    v0 = str(CID("base58btc", 0, "dag-pb", ("sha2-256", digest)))
    assert v0.startswith("Qm")
    assert cid_text(parse_cid(v0)) == str(CID("base32", 1, "dag-pb", ("sha2-256", digest)))


def test_parse_cid__other_multibase__normalised_to_base32():
    base58 = CID.decode(HELLO).encode("base58btc")
    assert base58.startswith("z")
    assert cid_text(parse_cid(base58)) == HELLO


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty CID"),
        ("   ", "empty CID"),
        ("not-a-cid", "invalid CID 'not-a-cid'"),
        (HELLO[:-3], "invalid CID"),
        (HELLO + "x", "invalid CID"),
        ("bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua", "unsupported codec 'dag-cbor'"),
        ("baguqeeradyqtezigy5p7vp34vdalqwz7npwh25yjb4kupgawv2bq5zlagnuq", "unsupported codec 'dag-json'"),
        ("bafkqaaa", "unsupported hash function 'identity'"),
        ("bafkr4ihkr4ld3m4gqkjf4reryxsy2s5tkbxprqkow6fin2iiyvreuzzab4", "unsupported hash function 'blake3'"),
    ],
)
def test_parse_cid__malformed_or_unsupported__raises_clear_error(text, message):
    with pytest.raises(InvalidCid, match=message.replace("(", r"\(")):
        parse_cid(text)


def test_parse_cid__not_a_string__raises():
    with pytest.raises(InvalidCid, match="must be a string, got int"):
        parse_cid(42)


def test_from_binary__truncated_link__raises():
    with pytest.raises(InvalidCid, match="invalid binary CID"):
        from_binary(parse_cid(HELLO)[:20])


@pytest.mark.parametrize("method", ["cat", "has", "pin", "unpin"])
def test_store__invalid_cid__raises_before_touching_disk(tmp_path, method):
    store = LocalStore(tmp_path)
    with pytest.raises(InvalidCid, match="unsupported codec 'dag-cbor'"):
        getattr(store, method)("bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua")
