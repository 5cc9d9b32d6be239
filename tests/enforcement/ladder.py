"""A registered image with a mandate on the real anvil chain, ready for a case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from eth_account import Account
from eth_account.messages import encode_typed_data

from backend.chain.register import Item, id_hex
from backend.enforcement.cases import Enforcement, FoundCopy, Recipient, open_case
from backend.enforcement.pricing import LicencePrice, price_claim
from backend.marketplace.typed_data import ETH
from backend.registry.images import inspect_image
from tests.images import encode, picture

CLAIM_WINDOW = 86_400


@dataclass
class Setup:
    env: Enforcement
    owner: Account
    registration_id: str
    mandate: dict
    now: list  # [datetime]: the clock the ladder reads, moved by the test


def register_image(services, chain, seed: int = 61, owner=None) -> tuple[Account, str]:
    """A picture of `owner` (default: a fresh account) registered on-chain, indexed and out of its
    claim window."""
    services.db.migrate()
    owner = owner or Account.create()
    chain.fund(owner.address)
    image = encode(picture(seed, (320, 240)), "PNG")
    facts = inspect_image(image, services.image_limits)
    cid = services.store.add(image)
    services.register().register_with_key(owner.key.to_0x_hex(), [Item(facts.sha256, facts.phash, cid)])
    chain.w3.provider.make_request("evm_increaseTime", [CLAIM_WINDOW + 1])
    chain.mine()
    services.indexer().poll()
    return owner, id_hex(int(facts.sha256, 16))


def register_with_mandate(services, chain, seed: int = 61, owner=None) -> Setup:
    owner, registration_id = register_image(services, chain, seed, owner)
    env = services.enforcement()
    chain_now = chain.w3.eth.get_block("latest")["timestamp"]
    typed = env.escrow.mandate_typed_data(owner.address, chain_now + 365 * 86_400, int(registration_id, 16))
    signature = Account.sign_message(encode_typed_data(full_message=typed), owner.key).signature
    env.escrow.submit_mandate(typed, bytes(signature), sender=env.case_manager)
    now = [datetime.fromtimestamp(chain_now, timezone.utc)]
    env.clock = lambda: now[0]
    mandate = {"typed_data": typed, "signature": signature.to_0x_hex()}
    return Setup(env, owner, registration_id, mandate, now)


def open_test_case(setup: Setup, origin: str = "https://shop.beispiel.de", country: str = "DE", factor: str = "1.5",
                   copy_cid: str | None = None, **overrides):
    claim = price_claim(LicencePrice(10**17, ETH, "standard", "collection", "Alps"), setup.env.jurisdictions[country or "DE"],
                        damages_factor=factor)
    values = dict(
        registration_id=setup.registration_id, rights_holder=setup.owner.address,
        copy=FoundCopy((7,), f"{origin}/blog/post", f"{origin}/img/alps.png", setup.now[0] - timedelta(days=1), None,
                       copy_cid),
        recipient=Recipient("Beispiel GmbH", "recht@beispiel.test", "Musterstraße 1, Berlin"), country=country,
        claim=claim, mandate=setup.mandate, still_online=True,
    )
    values.update(overrides)
    return open_case(setup.env, **values)
