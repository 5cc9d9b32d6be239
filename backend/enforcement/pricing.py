"""What a case claims: the owner's own licence price for that use, times a bounded damages factor.

Fair by construction: the base is a price the owner publishes to everyone (a marketplace offer)
or set for the collection beforehand, never a number made up for the letter; the factor is the
owner's choice but bounded by the infringer's jurisdiction; and the whole calculation travels as
data into the case, the letter and the invoice, so a recipient can check every line.
Amounts are integers in the asset's smallest unit (wei for ETH) and leave as decimal strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.enforcement.jurisdictions import Jurisdiction
from backend.enforcement.models import CollectionPrice
from backend.errors import Forbidden, InvalidInput, NotFound
from backend.marketplace.typed_data import ETH, LICENCE_TYPES
from backend.models import Collection, Image

LICENCE_NAMES = {number: name for name, number in LICENCE_TYPES.items()}


@dataclass(frozen=True)
class LicencePrice:
    """The owner's price for one licence of the kind the copy needed."""

    amount: int
    asset: str  # ETH (the zero address) or a token address
    licence_type: str  # standard, extended, editorial, exclusive
    source: str  # "offer" (a published marketplace offer) or "collection" (the owner's price list)
    reference: str  # the offer's hash or the collection's name

    @classmethod
    def from_offer(cls, offer: dict, offer_hash: str) -> "LicencePrice":
        """From a signed marketplace offer's message (the typed data's `message`)."""
        return cls(int(offer["price"]), str(offer["currency"]), LICENCE_NAMES[int(offer["licence_type"])], "offer", offer_hash)


@dataclass(frozen=True)
class Claim:
    licence_fee: int
    damages_factor: Decimal
    max_damages_factor: Decimal
    total: int
    minimum: int  # the least the owner accepts in a settlement
    asset: str
    country: str
    price_source: str
    price_reference: str
    licence_type: str

    @property
    def damages(self) -> int:
        return self.total - self.licence_fee

    def lines(self) -> list[dict]:
        """The calculation, line by line, as the case, the letter and the invoice show it."""
        return [
            {"item": "licence_fee", "amount": str(self.licence_fee),
             "basis": f"{self.licence_type} licence, the owner's {self.price_source} price ({self.price_reference})"},
            {"item": "damages", "amount": str(self.damages),
             "basis": f"factor {self.damages_factor} on the licence fee (at most {self.max_damages_factor} in {self.country})"},
            {"item": "total", "amount": str(self.total), "basis": "licence fee times factor, rounded down"},
        ]

    def as_dict(self) -> dict:
        return {
            "asset": self.asset, "country": self.country, "licence_type": self.licence_type,
            "price_source": self.price_source, "price_reference": self.price_reference,
            "licence_fee": str(self.licence_fee), "damages_factor": str(self.damages_factor),
            "max_damages_factor": str(self.max_damages_factor), "damages": str(self.damages),
            "total": str(self.total), "minimum": str(self.minimum), "lines": self.lines(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Claim":
        return cls(int(data["licence_fee"]), Decimal(data["damages_factor"]), Decimal(data["max_damages_factor"]),
                   int(data["total"]), int(data["minimum"]), data["asset"], data["country"], data["price_source"],
                   data["price_reference"], data["licence_type"])


def price_claim(price: LicencePrice, jurisdiction: Jurisdiction, *, damages_factor: Decimal | str = Decimal(1),
                minimum: int | None = None) -> Claim:
    """The claim for `price` in `jurisdiction`; refuses a factor above the country's bound and a
    minimum the claim cannot reach."""
    try:
        factor = Decimal(str(damages_factor))
    except ArithmeticError:
        raise InvalidInput(f"damages factor {damages_factor!r} is not a number (e.g. 1.5)") from None
    if price.amount <= 0:
        raise InvalidInput(f"the licence price must be above 0, got {price.amount}", source=price.source)
    if not Decimal(1) <= factor <= jurisdiction.max_damages_factor:
        raise InvalidInput(
            f"damages factor {factor} is outside what {jurisdiction.name} allows: between 1 and {jurisdiction.max_damages_factor}",
            country=jurisdiction.country, max_damages_factor=str(jurisdiction.max_damages_factor),
        )
    total = int((Decimal(price.amount) * factor).to_integral_value(rounding=ROUND_DOWN))
    minimum = price.amount if minimum is None else int(minimum)
    if not 0 < minimum <= total:
        raise InvalidInput(
            f"the least you accept ({minimum}) must be above 0 and at most the claim ({total})",
            claim=str(total), minimum=str(minimum),
        )
    return Claim(price.amount, factor, jurisdiction.max_damages_factor, total, minimum, price.asset or ETH,
                 jurisdiction.country, price.source, price.reference, price.licence_type)


def set_collection_price(db: Session, owner: str, collection_id: int, licence_type: str, amount: int, minimum: int,
                         asset: str = ETH) -> CollectionPrice:
    """The owner's price for a licence of `licence_type` to any image of their collection."""
    collection = db.get(Collection, collection_id)
    if collection is None:
        raise NotFound(f"no collection {collection_id}")
    if collection.owner.lower() != owner.lower():
        raise Forbidden(f"collection {collection_id} is not yours")
    if licence_type not in LICENCE_TYPES:
        raise InvalidInput(f"unknown licence type {licence_type!r}; one of {sorted(LICENCE_TYPES)}")
    if not 0 < int(minimum) <= int(amount):
        raise InvalidInput(f"the price must be above 0 and the least you accept between 1 and the price ({amount}), got {minimum}")
    row = db.scalar(select(CollectionPrice).where(CollectionPrice.collection_id == collection_id,
                                                  CollectionPrice.licence_type == licence_type))
    if row is None:
        row = CollectionPrice(collection_id=collection_id, licence_type=licence_type)
        db.add(row)
    row.amount, row.minimum, row.asset = str(int(amount)), str(int(minimum)), asset
    db.flush()
    return row


def collection_price(db: Session, registration_id: str, owner: str, licence_type: str) -> tuple[LicencePrice, int] | None:
    """The price (and the owner's minimum) set for the collection holding the registered image."""
    image = db.scalar(select(Image).where(Image.sha256 == registration_id, Image.owner == owner))
    if image is None or image.collection_id is None:
        return None
    row = db.scalar(select(CollectionPrice).where(CollectionPrice.collection_id == image.collection_id,
                                                  CollectionPrice.licence_type == licence_type))
    if row is None:
        return None
    name = db.get(Collection, image.collection_id).name
    return LicencePrice(int(row.amount), row.asset, licence_type, "collection", name), int(row.minimum)


def offer_price(db: Session, registration_id: str, owner: str, licence_type: str, now: int) -> LicencePrice | None:
    """The owner's cheapest live public marketplace offer of `licence_type` for the image."""
    from backend.marketplace.models import Offer
    from backend.marketplace.offers import live_condition
    from backend.models import Registration

    offer = db.scalar(
        select(Offer).join(Registration, Registration.id == Offer.registration_id)
        .where(Offer.registration_id == registration_id, Offer.seller == owner, Offer.buyer == ETH,
               Offer.licence_type == licence_type, live_condition(now))
        .order_by(Offer.price_key.asc()).limit(1)
    )
    return LicencePrice.from_offer(offer.message, offer.hash) if offer is not None else None


def owner_price(db: Session, registration_id: str, owner: str, licence_type: str, now: int) -> tuple[LicencePrice, int | None] | None:
    """The price a claim starts from, and the least the owner set (None: the price itself): their
    published marketplace offer first, else the price set for the image's collection."""
    offer = offer_price(db, registration_id, owner, licence_type, now)
    if offer is not None:
        return offer, None
    return collection_price(db, registration_id, owner, licence_type)
