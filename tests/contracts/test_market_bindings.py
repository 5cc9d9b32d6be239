"""The Python bindings (backend.marketplace) against the contracts on anvil, through plain web3."""

import json

import pytest
from eth_utils import keccak
from market_signing import sign_typed

from backend.marketplace import LicenseMarket, SettlementEscrow, decode_territory, domain_hash, encode_territory
from backend.marketplace.license_market import MarketError
from backend.marketplace.settlement import SettlementError

pytestmark = pytest.mark.usefixtures("fast_reverts")

DAY = 86_400


@pytest.fixture
def w3(chain):
    return chain.provider.web3


def test_license_market_binding__offer_buy_and_check(chain, w3, market, seller, buyer, market_registration_id):
    binding = LicenseMarket(w3, market.address)
    typed = binding.build_offer(
        seller=seller.address,
        registration_id=market_registration_id,
        price=10**17,
        expiry=chain.pending_timestamp + DAY,
        licence_type="editorial",
        countries=["de", "CH"],
        duration=30 * DAY,
        seats=3,
    )
    signature = sign_typed(typed, seller.private_key)
    assert binding.offer_hash(typed) == market.offer_hash(tuple(typed["message"].values()))

    licence_id = binding.buy(typed, signature, buyer.address, [domain_hash("https://Shop.Example/page")])

    licence = binding.licence(licence_id)
    assert licence.licensee == buyer.address and licence.licence_type == "editorial"
    assert licence.countries == ["DE", "CH"] and licence.seats == 3
    assert licence.ends_at == licence.starts_at + 30 * DAY
    assert binding.is_licensed(market_registration_id, buyer.address, domain_hash("shop.example"), licence.starts_at)
    assert not binding.is_licensed(market_registration_id, buyer.address, domain_hash("other.example"), licence.starts_at)
    assert [lic.licence_id for lic in binding.licences_of(market_registration_id)] == [licence_id]


def test_build_offer__typed_data_is_json_for_eth_sign_typed_data_v4(chain, w3, market, seller, buyer, stranger, market_registration_id):
    binding = LicenseMarket(w3, market.address)
    typed = binding.build_offer(
        seller=seller.address,
        registration_id=market_registration_id,
        price=10**17,
        expiry=chain.pending_timestamp + DAY,
        countries=["DE"],
        domain_hashes=[domain_hash("shop.example")],
        buyer=buyer.address,
    )
    as_json = json.dumps(typed)
    message = json.loads(as_json)["message"]
    assert message["territory"] == "0x" + encode_territory(["DE"]).hex()
    assert message["domains"] == ["0x" + domain_hash("shop.example").hex()]
    assert (message["buyer"], message["max_fee_bps"]) == (buyer.address, market.fee_bps())

    signature = sign_typed(json.loads(as_json), seller.private_key)
    with pytest.raises(MarketError, match="market: offer reserved for another buyer"):
        binding.buy(typed, signature, stranger.address)
    licence_id = binding.buy(json.loads(as_json), signature, buyer.address)
    assert binding.licence(licence_id).domain_hashes == [domain_hash("shop.example")]


def test_license_market_binding__rejects_bad_offers_before_signing(market, w3, seller):
    binding = LicenseMarket(w3, market.address)
    with pytest.raises(MarketError, match="unknown licence type"):
        binding.build_offer(seller=seller.address, registration_id=1, price=1, expiry=1, licence_type="royal")
    with pytest.raises(ValueError, match="not an ISO 3166-1 alpha-2"):
        binding.build_offer(seller=seller.address, registration_id=1, price=1, expiry=1, countries=["Germany"])
    with pytest.raises(MarketError, match="max_fee_bps must be 0..2000, got 2001"):
        binding.build_offer(seller=seller.address, registration_id=1, price=1, expiry=1, max_fee_bps=2_001)
    with pytest.raises(MarketError, match="no licence with id 5"):
        binding.licence(5)


def test_territory_encoding__round_trips():
    assert decode_territory(encode_territory(["DE", "FR", "IT"])) == ["DE", "FR", "IT"]
    assert encode_territory(None) == b"\0" * 32 and decode_territory(b"\0" * 32) == []
    with pytest.raises(ValueError, match="at most 16"):
        encode_territory(["DE"] * 17)


def test_settlement_binding__mandate_case_payment_and_steps(chain, w3, settlement, seller, case_manager, infringer, market_registration_id):
    binding = SettlementEscrow(w3, settlement.address)
    typed = binding.mandate_typed_data(seller.address, expiry=chain.pending_timestamp + 30 * DAY)
    binding.submit_mandate(typed, sign_typed(typed, seller.private_key), sender=case_manager.address)
    assert binding.has_mandate(market_registration_id)

    reference = keccak(text="CT-42")
    binding.open_case(reference=reference, registration_id=market_registration_id, rights_holder=seller.address, amount_due=900, case_manager=case_manager.address)
    binding.log_step(reference, "post_licensing_letter", case_manager.address, keccak(text="letter"))
    case = binding.pay(reference, 300, infringer.address)
    assert (case.amount_paid, case.outstanding, case.step) == (300, 600, "post_licensing_letter")
    with pytest.raises(SettlementError, match="legal letter is logged with the hash of its document"):
        binding.log_step(reference, "legal_letter", case_manager.address)
    binding.log_step(reference, "legal_letter", case_manager.address, keccak(text="legal-letter.pdf"))
    binding.raise_commission(reference, 5_000, case_manager.address)
    case = binding.pay(reference, 600, infringer.address)
    assert case.step == "settled"
    assert binding.credit(seller.address) == 300 - 90 + 600 - 300

    with pytest.raises(SettlementError, match="a raised commission must be above 3000 and at most 5000 bps, got 6000"):
        binding.raise_commission(reference, 6_000, case_manager.address)
    with pytest.raises(SettlementError, match="unknown step"):
        binding.log_step(reference, "judgement", case_manager.address)
    with pytest.raises(SettlementError, match="no case with reference"):
        binding.case(keccak(text="missing"))


def test_license_market_binding__contract_refusal__raises_with_the_reason(chain, w3, market, seller, buyer, market_registration_id):
    binding = LicenseMarket(w3, market.address)
    typed = binding.build_offer(seller=seller.address, registration_id=market_registration_id, price=1, expiry=chain.pending_timestamp + DAY)
    forged = sign_typed(typed, buyer.private_key)
    with pytest.raises(MarketError, match="market: invalid offer signature"):
        binding.buy(typed, forged, buyer.address, [domain_hash("a.example")])
