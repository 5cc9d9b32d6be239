"""The claim: the owner's own licence price, a bounded factor, the calculation as data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backend.enforcement.jurisdictions import load_jurisdictions
from backend.enforcement.pricing import Claim, LicencePrice, price_claim
from backend.errors import InvalidInput
from backend.marketplace.typed_data import ETH

TABLE = load_jurisdictions()
PRICE = LicencePrice(10**17, ETH, "standard", "collection", "Alps 2026")


def test_price_claim__multiplies_the_owners_price_and_shows_each_line():
    claim = price_claim(PRICE, TABLE["DE"], damages_factor="1.5", minimum=10**17)
    assert (claim.licence_fee, claim.total, claim.damages) == (10**17, 15 * 10**16, 5 * 10**16)
    assert [line["amount"] for line in claim.lines()] == [str(10**17), str(5 * 10**16), str(15 * 10**16)]
    assert "at most 2.0 in DE" in claim.lines()[1]["basis"]
    assert "Alps 2026" in claim.lines()[0]["basis"]


def test_price_claim__from_a_published_offer_uses_its_price_and_licence_type():
    offer = {"price": 3 * 10**16, "currency": ETH, "licence_type": 1}
    claim = price_claim(LicencePrice.from_offer(offer, "0xabc"), TABLE["JP"])
    assert (claim.total, claim.licence_type, claim.price_source, claim.minimum) == (3 * 10**16, "extended", "offer", 3 * 10**16)


def test_price_claim__above_the_countrys_bound__is_refused_with_the_bound():
    with pytest.raises(InvalidInput) as error:
        price_claim(PRICE, TABLE["AF"], damages_factor="1.2")
    assert "between 1 and 1.0" in error.value.message


def test_price_claim__with_a_minimum_above_the_claim__is_refused():
    with pytest.raises(InvalidInput) as error:
        price_claim(PRICE, TABLE["DE"], minimum=10**18)
    assert "at most the claim" in error.value.message


def test_claim__survives_the_round_trip_through_the_case_record():
    claim = price_claim(PRICE, TABLE["US"], damages_factor=Decimal("2.5"), minimum=10**17)
    assert Claim.from_dict(claim.as_dict()) == claim


def test_collection_price__is_the_owners_and_prices_the_claim(database):
    from backend.enforcement.pricing import collection_price, set_collection_price
    from backend.errors import Forbidden
    from backend.models import Collection, Image

    owner, sha = "0x" + "0A" * 20, "0x" + "3c" * 32
    with database.session() as db:
        alps = Collection(owner=owner, name="Alps")
        db.add(alps)
        db.flush()
        db.add(Image(owner=owner, sha256=sha, phash="0" * 16, cid="bafy", mime="image/png", width=1, height=1, size=1,
                     collection_id=alps.id, status="registered"))
        with pytest.raises(Forbidden):
            set_collection_price(db, "0x" + "0B" * 20, alps.id, "standard", 10**17, 10**17)
        with pytest.raises(InvalidInput):
            set_collection_price(db, owner, alps.id, "standard", 10**17, 2 * 10**17)
        set_collection_price(db, owner, alps.id, "standard", 10**17, 8 * 10**16)
    with database.session() as db:
        price, minimum = collection_price(db, sha, owner, "standard")
        assert collection_price(db, sha, owner, "exclusive") is None
    claim = price_claim(price, TABLE["DE"], damages_factor="2", minimum=minimum)
    assert (claim.total, claim.minimum, claim.price_reference) == (2 * 10**17, 8 * 10**16, "Alps")
