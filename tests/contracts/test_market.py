"""LicenseMarket: signed offers, purchase into escrow, licences on-chain, disputes, withdrawals."""

import ape
import pytest
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from market_signing import offer_args, registration_id_of, terms_of

from backend.marketplace.typed_data import ETH, domain_hash, encode_territory

pytestmark = pytest.mark.usefixtures("fast_reverts")

DAY = 86_400
PRICE = 10**18
FEE = PRICE * 500 // 10_000
# An undisputed escrow may be released after the dispute window and the arbiter's grace period.
RELEASABLE = 7 * DAY + 3 * DAY


def buy(market, typed, signature, buyer, domains=None, value=None):
    message = typed["message"]
    if value is None:
        value = message["price"] if message["currency"] == ETH else 0
    if domains is None:
        domains = [] if message["domains"] else [domain_hash("example.com")]
    return market.buy(offer_args(typed), signature, domains, sender=buyer, value=value)



# --- offers ---------------------------------------------------------------------------------


def test_offer_hash__matches_the_eip712_digest_wallets_sign(market, market_offer):
    typed, _ = market_offer(market, domains=[domain_hash("a.com"), domain_hash("b.org")])
    assert market.offer_hash(offer_args(typed)) == keccak(b"\x19\x01" + encode_typed_data(full_message=typed).header + encode_typed_data(full_message=typed).body)


def test_buy__eth_offer__records_the_licence_and_holds_the_price_in_escrow(chain, market, market_offer, buyer, seller, market_registration_id, market_domain):
    typed, signature = market_offer(market, territory=encode_territory(["DE", "AT"]), seats=5)
    tx = buy(market, typed, signature, buyer)

    licence_id = tx.return_value
    assert licence_id == 1
    event = tx.decode_logs(market.LicencePurchased)[0]
    assert event.licence_id == 1 and event.registration_id == market_registration_id
    assert event.licensee == buyer and event.seller == seller
    assert event.price == PRICE and event.fee == FEE and event.currency == ETH
    assert event.ends_at == event.starts_at + 365 * DAY
    assert event.release_at == event.starts_at + 7 * DAY
    assert list(event.domains) == [market_domain]

    assert event.seats == 5 and event.territory == encode_territory(["DE", "AT"])
    assert event.offer_hash == market.offer_hash(offer_args(typed))
    lic = market.licence(licence_id)
    assert terms_of(market, licence_id) == (buyer, seller, ETH, PRICE, chain.blocks[tx.block_number - 1].hash)
    assert (lic.starts_at, lic.ends_at) == (event.starts_at, event.ends_at)
    assert not lic.revoked
    assert market.escrowed(ETH) == PRICE and chain.provider.get_balance(market.address) == PRICE
    assert market.escrow(licence_id).status == market.HELD()


def test_is_licensed__answers_for_licensee_domain_and_period_only(market, market_offer, buyer, stranger, market_registration_id, market_domain):
    typed, signature = market_offer(market, duration=30 * DAY)
    lic = market.licence(buy(market, typed, signature, buyer).return_value)

    assert market.is_licensed(market_registration_id, buyer, market_domain, lic.starts_at)
    assert market.is_licensed(market_registration_id, buyer, market_domain, lic.ends_at - 1)
    assert not market.is_licensed(market_registration_id, buyer, market_domain, lic.ends_at)
    assert not market.is_licensed(market_registration_id, buyer, market_domain, lic.starts_at - 1)
    assert not market.is_licensed(market_registration_id, buyer, domain_hash("other.com"), lic.starts_at)
    assert not market.is_licensed(market_registration_id, stranger, market_domain, lic.starts_at)
    assert not market.is_licensed(market_registration_id + 1, buyer, market_domain, lic.starts_at)


def test_is_licensed__perpetual_licence__never_ends(market, market_offer, buyer, market_registration_id, market_domain):
    typed, signature = market_offer(market, duration=0)
    lic = market.licence(buy(market, typed, signature, buyer).return_value)
    assert lic.ends_at == 0
    assert market.is_licensed(market_registration_id, buyer, market_domain, 2**64)


def test_buy__cpy_offer__pulls_the_price_from_the_buyer(market, market_offer, cpy_mock, buyer):
    typed, signature = market_offer(market, currency=cpy_mock.address, price=50 * 10**18)
    cpy_mock.approve(market, 50 * 10**18, sender=buyer)
    before = cpy_mock.balanceOf(buyer)
    buy(market, typed, signature, buyer)
    assert cpy_mock.balanceOf(buyer) == before - 50 * 10**18
    assert cpy_mock.balanceOf(market) == 50 * 10**18 == market.escrowed(cpy_mock)


def test_buy__cpy_offer_with_eth_attached__reverts(market, market_offer, cpy_mock, buyer):
    typed, signature = market_offer(market, currency=cpy_mock.address)
    cpy_mock.approve(market, PRICE, sender=buyer)
    with ape.reverts("market: ETH sent for a CPY offer"):
        buy(market, typed, signature, buyer, value=1)


def test_buy__cpy_offer_without_allowance__reverts(market, market_offer, cpy_mock, buyer):
    typed, signature = market_offer(market, currency=cpy_mock.address)
    with ape.reverts():
        buy(market, typed, signature, buyer)
    assert market.licence_count() == 0


def test_buy_and_withdraw__token_without_return_values__work(market_factory, market_offer, no_return_token, buyer, seller, treasury, chain):
    market = market_factory(cpy_token=no_return_token)
    typed, signature = market_offer(market, currency=no_return_token.address)
    no_return_token.approve(market, PRICE, sender=buyer)
    licence_id = buy(market, typed, signature, buyer).return_value
    chain.pending_timestamp += RELEASABLE
    market.release(licence_id, terms_of(market, licence_id), sender=seller)
    market.withdraw(no_return_token, sender=seller)
    market.withdraw(no_return_token, sender=treasury)
    assert no_return_token.balanceOf(seller) == PRICE - FEE
    assert no_return_token.balanceOf(treasury) == FEE
    assert no_return_token.balanceOf(market) == 0


def test_buy__unsupported_currency__reverts(market, market_offer, buyer, no_return_token):
    typed, signature = market_offer(market, currency=no_return_token.address)
    with ape.reverts("market: unsupported currency"):
        buy(market, typed, signature, buyer)


def test_buy__wrong_eth_amount__reverts(market, market_offer, buyer):
    typed, signature = market_offer(market)
    with ape.reverts("market: sent ETH differs from the price"):
        buy(market, typed, signature, buyer, value=PRICE - 1)


def test_buy__expired_offer__reverts(chain, market, market_offer, buyer):
    typed, signature = market_offer(market, expiry=chain.pending_timestamp + 100)
    chain.pending_timestamp += 101
    with ape.reverts("market: offer expired"):
        buy(market, typed, signature, buyer)


def test_buy__cancelled_offer__reverts(market, market_offer, buyer, seller):
    typed, signature = market_offer(market)
    tx = market.cancel_offer(offer_args(typed), sender=seller)
    assert tx.decode_logs(market.OfferCancelled)[0].offer_hash == market.offer_hash(offer_args(typed))
    with ape.reverts("market: offer cancelled"):
        buy(market, typed, signature, buyer)


def test_cancel_offer__by_someone_else__reverts(market, market_offer, buyer):
    typed, _ = market_offer(market)
    with ape.reverts("market: only the seller can cancel an offer"):
        market.cancel_offer(offer_args(typed), sender=buyer)


def test_buy__after_seller_bumped_counter__reverts_and_new_offers_work(market, market_offer, buyer, seller):
    old, old_signature = market_offer(market)
    tx = market.increment_counter(sender=seller)
    assert tx.decode_logs(market.CounterIncremented)[0].counter == 1
    with ape.reverts("market: offer cancelled"):
        buy(market, old, old_signature, buyer)
    new, new_signature = market_offer(market, counter=1)
    buy(market, new, new_signature, buyer)


def test_buy__replayed_offer__reverts_once_sold_out(market, market_offer, buyer, stranger):
    typed, signature = market_offer(market, max_sales=2)
    buy(market, typed, signature, buyer)
    buy(market, typed, signature, stranger)
    with ape.reverts("market: offer sold out"):
        buy(market, typed, signature, buyer)
    assert market.sales_of(market.offer_hash(offer_args(typed))) == 2


def test_buy__offer_signed_by_someone_else__reverts(market, market_offer, buyer, stranger):
    typed, signature = market_offer(market, signer=stranger)
    with ape.reverts("market: invalid offer signature"):
        buy(market, typed, signature, buyer)


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def test_buy__compact_eip2098_signature__is_accepted(market, market_offer, buyer):
    typed, signature = market_offer(market)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    compact = r + ((v - 27) << 255 | s).to_bytes(32, "big")
    licence_id = buy(market, typed, compact, buyer).return_value
    assert terms_of(market, licence_id)[0] == buyer


def test_buy__malleable_high_s_signature__reverts(market, market_offer, buyer):
    typed, signature = market_offer(market)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    # The same point's other signature (n - s, the other v) recovers to the seller too; it is refused.
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
    with ape.reverts("market: invalid offer signature"):
        buy(market, typed, twin, buyer)
    assert market.licence_count() == 0


def test_buy__tampered_price__reverts(market, market_offer, buyer):
    typed, signature = market_offer(market)
    typed["message"]["price"] = 1
    with ape.reverts("market: invalid offer signature"):
        buy(market, typed, signature, buyer, value=1)


def test_buy__offer_for_another_market__reverts(market_factory, market_offer, buyer):
    first, second = market_factory(), market_factory()
    typed, signature = market_offer(first)
    with ape.reverts("market: invalid offer signature"):
        buy(second, typed, signature, buyer)


def test_buy__after_registration_changed_owner__reverts(market, market_offer, mock_register, market_registration_id, buyer, stranger):
    typed, signature = market_offer(market)
    mock_register.set_owner(market_registration_id, stranger, sender=stranger)
    with ape.reverts("market: seller does not own the registration"):
        buy(market, typed, signature, buyer)


def test_buy__unknown_licence_type__reverts(market, market_offer, buyer):
    typed, signature = market_offer(market, licence_type=4)
    with ape.reverts("market: unknown licence type"):
        buy(market, typed, signature, buyer)


def test_buy__no_seats__reverts(market, market_offer, buyer):
    typed, signature = market_offer(market, seats=0)
    with ape.reverts("market: offer has no seats"):
        buy(market, typed, signature, buyer)


def test_buy__offer_names_domains__covers_them_and_refuses_others(market, market_offer, buyer, market_registration_id):
    fixed = [domain_hash("shop.example"), domain_hash("blog.example")]
    typed, signature = market_offer(market, domains=fixed, max_sales=2)
    with ape.reverts("market: the offer already names the domains"):
        buy(market, typed, signature, buyer, domains=[domain_hash("mine.example")])
    tx = buy(market, typed, signature, buyer)
    assert list(tx.decode_logs(market.LicencePurchased)[0].domains) == fixed
    starts_at = market.licence(tx.return_value).starts_at
    assert all(market.is_licensed(market_registration_id, buyer, d, starts_at) for d in fixed)
    assert not market.is_licensed(market_registration_id, buyer, domain_hash("mine.example"), starts_at)


def test_buy__open_offer_without_domain__reverts(market, market_offer, buyer):
    typed, signature = market_offer(market)
    with ape.reverts("market: name at least one domain"):
        buy(market, typed, signature, buyer, domains=[])


@pytest.mark.parametrize("countries", [[], ["DE"], [f"A{chr(65 + i)}" for i in range(15)], [f"A{chr(65 + i)}" for i in range(16)]])
def test_buy__territory_of_none_to_sixteen_countries__is_accepted(market, market_offer, buyer, countries):
    typed, signature = market_offer(market, territory=encode_territory(countries))
    event = buy(market, typed, signature, buyer).decode_logs(market.LicencePurchased)[0]
    assert event.territory == encode_territory(countries)


@pytest.mark.parametrize(
    "territory, reason",
    [
        (b"DE\0\0FR".ljust(32, b"\0"), "market: malformed territory (gap between country codes)"),
        (b"de".ljust(32, b"\0"), "market: malformed territory (codes are upper-case ISO 3166 alpha-2)"),
        (b"D1".ljust(32, b"\0"), "market: malformed territory (codes are upper-case ISO 3166 alpha-2)"),
        (b"\0\0DE".ljust(32, b"\0"), "market: malformed territory (gap between country codes)"),
        (b"DE".ljust(31, b"\0") + b"\x01", "market: malformed territory (gap between country codes)"),
    ],
)
def test_buy__malformed_territory__reverts(market, market_offer, buyer, territory, reason):
    typed, signature = market_offer(market, territory=territory)
    with ape.reverts(reason):
        buy(market, typed, signature, buyer)


# --- exclusivity ----------------------------------------------------------------------------


def test_buy__licence_overlapping_a_running_exclusive__reverts(market, market_offer, buyer, stranger):
    exclusive, sig = market_offer(market, licence_type=3, territory=encode_territory(["DE", "FR"]), duration=30 * DAY)
    buy(market, exclusive, sig, buyer)
    overlapping, sig2 = market_offer(market, territory=encode_territory(["IT", "FR"]))
    with ape.reverts("market: an exclusive licence runs in this territory"):
        buy(market, overlapping, sig2, stranger)
    worldwide, sig3 = market_offer(market)
    with ape.reverts("market: an exclusive licence runs in this territory"):
        buy(market, worldwide, sig3, stranger)


def test_buy__exclusives_in_disjoint_territories__both_succeed(market, market_offer, buyer, stranger):
    de, sig = market_offer(market, licence_type=3, territory=encode_territory(["DE"]))
    fr, sig2 = market_offer(market, licence_type=3, territory=encode_territory(["FR"]))
    buy(market, de, sig, buyer)
    buy(market, fr, sig2, stranger)
    assert market.licence_count() == 2


def test_buy__after_exclusive_ended__succeeds(chain, market, market_offer, buyer, stranger):
    exclusive, sig = market_offer(market, licence_type=3, duration=10 * DAY)
    buy(market, exclusive, sig, buyer)
    chain.pending_timestamp += 10 * DAY
    later, sig2 = market_offer(market, expiry=chain.pending_timestamp + DAY)
    buy(market, later, sig2, stranger)


def test_buy__exclusive_while_another_licence_runs__reverts(market, market_offer, buyer, stranger):
    standard, sig = market_offer(market, territory=encode_territory(["US"]))
    buy(market, standard, sig, buyer)
    exclusive, sig2 = market_offer(market, licence_type=3, territory=encode_territory(["DE"]))
    with ape.reverts("market: other licences still run, no exclusive licence possible"):
        buy(market, exclusive, sig2, stranger)


def test_buy__after_refunded_exclusive__succeeds(market, market_offer, buyer, stranger, arbiter):
    exclusive, sig = market_offer(market, licence_type=3)
    licence_id = buy(market, exclusive, sig, buyer).return_value
    market.dispute(licence_id, terms_of(market, licence_id), "seller is not the author", sender=buyer)
    market.resolve(licence_id, terms_of(market, licence_id), True, sender=arbiter)
    other, sig2 = market_offer(market)
    buy(market, other, sig2, stranger)


# --- escrow, disputes, withdrawals ----------------------------------------------------------


@pytest.fixture
def bought(market, market_offer, buyer):
    typed, signature = market_offer(market)
    return buy(market, typed, signature, buyer).return_value


def test_release__before_dispute_window_ends__reverts(chain, market, bought, seller):
    chain.pending_timestamp += 7 * DAY - 10
    with ape.reverts("market: dispute window still open"):
        market.release(bought, terms_of(market, bought), sender=seller)


def test_release__after_window__credits_seller_and_treasury(chain, market, bought, seller, treasury, stranger):
    chain.pending_timestamp += RELEASABLE
    tx = market.release(bought, terms_of(market, bought), sender=stranger)
    event = tx.decode_logs(market.Released)[0]
    assert (event.seller, event.seller_amount, event.fee) == (seller, PRICE - FEE, FEE)
    assert market.credit(seller, ETH) == PRICE - FEE
    assert market.credit(treasury, ETH) == FEE
    assert market.escrowed(ETH) == 0
    with ape.reverts("market: escrow already paid out"):
        market.release(bought, terms_of(market, bought), sender=stranger)


def test_withdraw__pays_once_then_reverts(chain, market, bought, seller):
    chain.pending_timestamp += RELEASABLE
    market.release(bought, terms_of(market, bought), sender=seller)
    before = seller.balance
    tx = market.withdraw(ETH, sender=seller)
    assert tx.decode_logs(market.Withdrawn)[0].amount == PRICE - FEE
    assert seller.balance == before + PRICE - FEE - tx.total_fees_paid
    with ape.reverts("market: nothing to withdraw"):
        market.withdraw(ETH, sender=seller)


def test_withdraw__unsupported_asset__reverts(market, seller, no_return_token):
    with ape.reverts("market: unsupported asset"):
        market.withdraw(no_return_token, sender=seller)


@pytest.mark.parametrize("forge", [
    lambda t, who: (t[0], who, *t[2:]),  # another seller, to be paid the price
    lambda t, who: (*t[:3], t[3] * 2, t[4]),  # a higher price, paid out of others' escrow
    lambda t, who: (*t[:2], ETH if t[2] != ETH else "0x" + "11" * 20, *t[3:]),  # another currency
    lambda t, who: (who, *t[1:]),  # another licensee, to be refunded
    lambda t, who: (*t[:4], b"\x01" * 32),  # terms prepared for another block
])
def test_escrow_moves__only_on_the_terms_the_licence_was_bought_on(chain, market, bought, seller, buyer, stranger, arbiter, forge):
    # The market keeps a hash of the terms; whoever calls brings them, and forged ones move nothing.
    forged = forge(terms_of(market, bought), stranger.address)
    wrong = "market: terms differ from the licence's purchase"
    with ape.reverts(wrong):
        market.dispute(bought, forged, "mine now", sender=stranger)
    with ape.reverts(wrong):
        market.seller_refund(bought, forged, sender=stranger)
    with ape.reverts(wrong):
        market.revoke(bought, forged, "fraud", sender=arbiter)
    market.freeze(bought, "a report", sender=arbiter)  # the freeze needs no terms: it moves no money
    with ape.reverts(wrong):
        market.resolve(bought, forged, True, sender=arbiter)
    chain.pending_timestamp += 31 * DAY
    with ape.reverts(wrong):
        market.release(bought, forged, sender=stranger)
    assert market.escrowed(ETH) == PRICE and market.credit(stranger, ETH) == 0
    market.release(bought, terms_of(market, bought), sender=stranger)
    assert market.credit(seller, ETH) == PRICE - FEE


def test_release__unknown_licence__reverts(market, seller):
    with ape.reverts("market: unknown licence"):
        market.release(99, terms_of(market, 99), sender=seller)


def test_dispute__by_someone_else__reverts(market, bought, stranger):
    with ape.reverts("market: only the buyer can dispute"):
        market.dispute(bought, terms_of(market, bought), "not mine", sender=stranger)


def test_dispute__after_window__reverts(chain, market, bought, buyer):
    chain.pending_timestamp += 7 * DAY
    with ape.reverts("market: dispute window has closed"):
        market.dispute(bought, terms_of(market, bought), "too late", sender=buyer)


def test_resolve__refund__revokes_licence_and_credits_buyer(chain, market, bought, buyer, arbiter, market_registration_id, market_domain):
    tx = market.dispute(bought, terms_of(market, bought), "the seller is not the author", sender=buyer)
    assert tx.decode_logs(market.Disputed)[0].reason == "the seller is not the author"
    starts_at = market.licence(bought).starts_at
    chain.pending_timestamp += DAY
    tx = market.resolve(bought, terms_of(market, bought), True, sender=arbiter)
    assert tx.decode_logs(market.Refunded)[0].amount == PRICE
    lic = market.licence(bought)
    assert lic.revoked and not lic.voided and lic.revoked_at == tx.timestamp
    # valid for the time before the refund, not after
    assert market.is_licensed(market_registration_id, buyer, market_domain, starts_at)
    assert not market.is_licensed(market_registration_id, buyer, market_domain, tx.timestamp)
    assert market.credit(buyer, ETH) == PRICE
    assert market.escrowed(ETH) == 0
    with ape.reverts("market: licence is not disputed"):
        market.resolve(bought, terms_of(market, bought), True, sender=arbiter)


def test_resolve__release__credits_seller_before_window_ends(market, bought, buyer, seller, arbiter):
    market.dispute(bought, terms_of(market, bought), "hm", sender=buyer)
    with ape.reverts("market: arbitration period still running"):
        market.release(bought, terms_of(market, bought), sender=seller)
    market.resolve(bought, terms_of(market, bought), False, sender=arbiter)
    assert market.credit(seller, ETH) == PRICE - FEE
    assert market.escrow(bought).status == market.RELEASED()


def test_resolve__by_non_arbiter__reverts(market, bought, buyer):
    market.dispute(bought, terms_of(market, bought), "hm", sender=buyer)
    with ape.reverts("access_control: account is missing role"):
        market.resolve(bought, terms_of(market, bought), True, sender=buyer)


def test_resolve__undisputed__reverts(market, bought, arbiter):
    with ape.reverts("market: licence is not disputed"):
        market.resolve(bought, terms_of(market, bought), False, sender=arbiter)


def test_fee__is_fixed_at_purchase(chain, market, market_offer, buyer, owner, treasury):
    typed, signature = market_offer(market)
    licence_id = buy(market, typed, signature, buyer).return_value
    market.set_fee_bps(2_000, sender=owner)
    chain.pending_timestamp += RELEASABLE
    market.release(licence_id, terms_of(market, licence_id), sender=buyer)
    assert market.credit(treasury, ETH) == FEE


# --- administration -------------------------------------------------------------------------


def test_set_dispute_window__within_bounds__applies_to_new_purchases(market, market_offer, owner, buyer):
    tx = market.set_dispute_window(2 * DAY, sender=owner)
    assert tx.decode_logs(market.DisputeWindowChanged)[0].new_window == 2 * DAY
    typed, signature = market_offer(market)
    licence_id = buy(market, typed, signature, buyer).return_value
    escrow = market.escrow(licence_id)
    assert escrow.window_end == market.licence(licence_id).starts_at + 2 * DAY


@pytest.mark.parametrize(
    "window, reason",
    [(DAY - 1, "market: dispute window below MIN_DISPUTE_WINDOW"), (30 * DAY + 1, "market: dispute window above MAX_DISPUTE_WINDOW")],
)
def test_set_dispute_window__out_of_bounds__reverts(market, owner, window, reason):
    with ape.reverts(reason):
        market.set_dispute_window(window, sender=owner)


def test_admin_setters__by_non_admin__revert(market, stranger):
    with ape.reverts("access_control: account is missing role"):
        market.set_dispute_window(2 * DAY, sender=stranger)
    with ape.reverts("access_control: account is missing role"):
        market.set_fee_bps(1, sender=stranger)
    with ape.reverts("access_control: account is missing role"):
        market.set_treasury(stranger, sender=stranger)


def test_set_fee_bps__above_max__reverts(market, owner):
    with ape.reverts("market: fee above MAX_FEE_BPS"):
        market.set_fee_bps(2_001, sender=owner)


def test_constructor__zero_treasury__reverts(market_factory):
    with ape.reverts("market: treasury is the zero address"):
        market_factory(treasury=ETH)


# --- listing --------------------------------------------------------------------------------


def test_licences_of__pages_through_the_licences_of_a_registration(market, market_offer, buyer, market_registration_id):
    typed, signature = market_offer(market, max_sales=5)
    ids = [buy(market, typed, signature, buyer).return_value for _ in range(5)]
    assert market.licence_count_of(market_registration_id) == 5
    assert market.licences_of(market_registration_id, 0, 2) == ids[:2]
    assert market.licences_of(market_registration_id, 2, 100) == ids[2:]
    assert market.licences_of(market_registration_id, 5, 10) == []
    assert market.licences_of(registration_id_of("other.png"), 0, 10) == []
    with ape.reverts("market: page limit above 100"):
        market.licences_of(market_registration_id, 0, 101)


def test_is_licensed__stays_true_while_disputed(market, bought, buyer, market_registration_id, market_domain):
    market.dispute(bought, terms_of(market, bought), "checking authorship", sender=buyer)
    assert market.is_licensed(market_registration_id, buyer, market_domain, market.licence(bought).starts_at)


def test_resolve__refund_of_a_cpy_purchase__credits_cpy(market, market_offer, cpy_mock, buyer, arbiter):
    typed, signature = market_offer(market, currency=cpy_mock.address)
    cpy_mock.approve(market, PRICE, sender=buyer)
    licence_id = buy(market, typed, signature, buyer).return_value
    market.dispute(licence_id, terms_of(market, licence_id), "not the author", sender=buyer)
    market.resolve(licence_id, terms_of(market, licence_id), True, sender=arbiter)
    assert market.credit(buyer, cpy_mock) == PRICE and market.credit(buyer, ETH) == 0
    before = cpy_mock.balanceOf(buyer)
    market.withdraw(cpy_mock, sender=buyer)
    assert cpy_mock.balanceOf(buyer) == before + PRICE


def test_set_treasury__pending_escrow_keeps_the_treasury_of_its_purchase(chain, market, market_offer, bought, owner, buyer, stranger, treasury):
    assert market.escrow(bought).treasury == treasury
    tx = market.set_treasury(stranger, sender=owner)
    event = tx.decode_logs(market.TreasuryChanged)[0]
    assert (event.previous_treasury, event.new_treasury) == (treasury, stranger)
    typed, signature = market_offer(market)
    later = buy(market, typed, signature, buyer).return_value
    chain.pending_timestamp += RELEASABLE
    market.release(bought, terms_of(market, bought), sender=stranger)
    market.release(later, terms_of(market, later), sender=stranger)
    assert market.credit(treasury, ETH) == FEE and market.credit(stranger, ETH) == FEE


# --- reserved offers and the fee cap --------------------------------------------------------


def test_buy__offer_reserved_for_another_buyer__reverts(market, market_offer, buyer, stranger):
    typed, signature = market_offer(market, buyer=buyer.address)
    with ape.reverts("market: offer reserved for another buyer"):
        buy(market, typed, signature, stranger)
    assert terms_of(market, buy(market, typed, signature, buyer).return_value)[0] == buyer


def test_buy__platform_fee_above_the_offers_cap__reverts(market, market_offer, owner, buyer):
    typed, signature = market_offer(market, max_fee_bps=500)
    market.set_fee_bps(501, sender=owner)
    with ape.reverts("market: platform fee above the offer's max_fee_bps"):
        buy(market, typed, signature, buyer)
    market.set_fee_bps(500, sender=owner)
    buy(market, typed, signature, buyer)


# --- refunds and revocations unblock exclusive licences --------------------------------------


@pytest.mark.parametrize("take_back", ["arbiter_refund", "seller_refund", "revoke"])
def test_buy__exclusive_after_a_perpetual_licence_was_taken_back__succeeds(market, market_offer, buyer, stranger, seller, arbiter, market_registration_id, take_back):
    perpetual, sig = market_offer(market, duration=0)
    licence_id = buy(market, perpetual, sig, buyer).return_value
    exclusive, sig2 = market_offer(market, licence_type=3, max_sales=2)
    with ape.reverts("market: other licences still run, no exclusive licence possible"):
        buy(market, exclusive, sig2, stranger)
    assert market.licensed_until(market_registration_id) == 2**256 - 1

    if take_back == "arbiter_refund":
        market.dispute(licence_id, terms_of(market, licence_id), "wrong image", sender=buyer)
        market.resolve(licence_id, terms_of(market, licence_id), True, sender=arbiter)
    elif take_back == "seller_refund":
        market.seller_refund(licence_id, terms_of(market, licence_id), sender=seller)
    else:
        market.revoke(licence_id, terms_of(market, licence_id), "fraud", sender=arbiter)

    assert market.perpetual_licence_count(market_registration_id) == 0
    assert market.licensed_until(market_registration_id) == 0
    buy(market, exclusive, sig2, stranger)


def test_recount_licensed_until__after_revoking_the_latest_timed_licence__frees_exclusives_early(chain, market, market_offer, buyer, stranger, arbiter, market_registration_id):
    short, sig = market_offer(market, duration=10 * DAY)
    long, sig2 = market_offer(market, duration=30 * DAY)
    short_end = market.licence(buy(market, short, sig, buyer).return_value).ends_at
    long_id = buy(market, long, sig2, buyer).return_value
    long_end = market.licence(long_id).ends_at
    market.revoke(long_id, terms_of(market, long_id), "fraud", sender=arbiter)
    assert market.licensed_until(market_registration_id) == long_end

    assert not market.recount_licensed_until(market_registration_id, 1, sender=stranger).return_value
    assert market.recount_next(market_registration_id) == 1 and market.licensed_until(market_registration_id) == long_end
    tx = market.recount_licensed_until(market_registration_id, 1, sender=stranger)
    assert tx.return_value
    event = tx.decode_logs(market.LicensedUntilRecounted)[0]
    assert (event.registration_id, event.previous_timed_until, event.timed_until) == (market_registration_id, long_end, short_end)
    assert market.licensed_until(market_registration_id) == short_end and market.recount_next(market_registration_id) == 0

    chain.pending_timestamp = short_end
    exclusive, sig3 = market_offer(market, licence_type=3)
    buy(market, exclusive, sig3, stranger)


@pytest.mark.parametrize("steps", [0, 501])
def test_recount_licensed_until__steps_out_of_range__reverts(market, market_registration_id, stranger, steps):
    with ape.reverts("market: max_steps must be 1..500"):
        market.recount_licensed_until(market_registration_id, steps, sender=stranger)


def test_licensed_until__revoked_timed_licence__blocks_only_until_its_end(chain, market, market_offer, buyer, stranger, arbiter, market_registration_id):
    timed, sig = market_offer(market, duration=10 * DAY)
    licence_id = buy(market, timed, sig, buyer).return_value
    ends_at = market.licence(licence_id).ends_at
    market.revoke(licence_id, terms_of(market, licence_id), "fraud", sender=arbiter)
    assert market.licensed_until(market_registration_id) == ends_at
    chain.pending_timestamp = ends_at
    exclusive, sig2 = market_offer(market, licence_type=3)
    buy(market, exclusive, sig2, stranger)


# --- seller refunds, fraud revocation, the arbitration deadline ------------------------------


def test_seller_refund__held__refunds_the_buyer_and_revokes(market, bought, seller, buyer, market_registration_id, market_domain):
    tx = market.seller_refund(bought, terms_of(market, bought), sender=seller)
    event = tx.decode_logs(market.Refunded)[0]
    assert (event.licence_id, event.buyer, event.amount, event.refunded_by) == (bought, buyer, PRICE, seller)
    assert market.licence(bought).revoked and market.escrow(bought).status == market.REFUNDED()
    assert market.credit(buyer, ETH) == PRICE and market.escrowed(ETH) == 0
    assert not market.is_licensed(market_registration_id, buyer, market_domain, market.licence(bought).starts_at)


def test_seller_refund__disputed__refunds_the_buyer(market, bought, seller, buyer):
    market.dispute(bought, terms_of(market, bought), "not as described", sender=buyer)
    market.seller_refund(bought, terms_of(market, bought), sender=seller)
    assert market.credit(buyer, ETH) == PRICE


def test_seller_refund__by_someone_else__reverts(market, bought, buyer):
    with ape.reverts("market: only the seller can refund"):
        market.seller_refund(bought, terms_of(market, bought), sender=buyer)


def test_seller_refund__after_release__reverts(chain, market, bought, seller):
    chain.pending_timestamp += RELEASABLE
    market.release(bought, terms_of(market, bought), sender=seller)
    with ape.reverts("market: escrow paid out or frozen by the arbiter"):
        market.seller_refund(bought, terms_of(market, bought), sender=seller)


def test_revoke__after_release__revokes_without_refund(chain, market, bought, seller, buyer, arbiter):
    chain.pending_timestamp += RELEASABLE
    market.release(bought, terms_of(market, bought), sender=seller)
    tx = market.revoke(bought, terms_of(market, bought), "sold by a copier", sender=arbiter)
    assert tx.decode_logs(market.LicenceRevoked)[0].refunded == 0
    assert not tx.decode_logs(market.Refunded)
    assert market.licence(bought).revoked and market.credit(buyer, ETH) == 0
    assert market.escrow(bought).status == market.RELEASED()


def test_revoke__twice_or_by_non_arbiter_or_unknown__reverts(market, bought, arbiter, buyer):
    with ape.reverts("access_control: account is missing role"):
        market.revoke(bought, terms_of(market, bought), "fraud", sender=buyer)
    with ape.reverts("market: unknown licence"):
        market.revoke(99, terms_of(market, 99), "fraud", sender=arbiter)
    market.revoke(bought, terms_of(market, bought), "fraud", sender=arbiter)
    with ape.reverts("market: licence already voided"):
        market.revoke(bought, terms_of(market, bought), "fraud", sender=arbiter)


def test_release__disputed_after_arbitration_period__pays_the_seller(chain, market, bought, buyer, seller, stranger):
    tx = market.dispute(bought, terms_of(market, bought), "not the author", sender=buyer)
    deadline = tx.decode_logs(market.Disputed)[0].arbitration_deadline
    assert deadline == tx.timestamp + 30 * DAY == market.escrow(bought).releasable_at
    chain.pending_timestamp = deadline - 1
    with ape.reverts("market: arbitration period still running"):
        market.release(bought, terms_of(market, bought), sender=stranger)
    chain.pending_timestamp = deadline
    released = market.release(bought, terms_of(market, bought), sender=stranger).decode_logs(market.Released)[0]
    assert (released.seller, released.seller_amount) == (seller, PRICE - FEE)


# --- the per-domain index: append-only, no cap ----------------------------------------------


def test_buy__61st_daily_renewal_for_one_domain__succeeds_and_is_licensed_still_answers(chain, market, market_offer, buyer, market_registration_id, market_domain):
    renewals = 61
    start = chain.pending_timestamp
    typed, signature = market_offer(market, duration=DAY, max_sales=renewals, expiry=start + renewals * DAY)
    bought = []
    for day in range(renewals):
        chain.pending_timestamp = start + day * DAY
        bought.append(buy(market, typed, signature, buyer).return_value)
    last = market.licence(bought[-1])
    assert last.starts_at == start + (renewals - 1) * DAY
    # only the 61st licence runs at its start: the ones before it have ended
    assert market.is_licensed(market_registration_id, buyer, market_domain, last.starts_at)
    assert market.is_licensed(market_registration_id, buyer, market_domain, last.ends_at - 1)
    assert not market.is_licensed(market_registration_id, buyer, market_domain, last.ends_at)
    # the oldest licence still answers for its own day (the scan reaches the start of the list)
    assert market.is_licensed(market_registration_id, buyer, market_domain, market.licence(bought[0]).starts_at)
    assert not market.is_licensed(market_registration_id, buyer, market_domain, market.licence(bought[0]).starts_at - 1)


@pytest.mark.parametrize("named_by", ["offer", "buyer"])
def test_buy__duplicate_domain_hashes__reverts(market, market_offer, buyer, named_by):
    twice = [domain_hash("a.example"), domain_hash("b.example"), domain_hash("a.example")]
    if named_by == "offer":
        typed, signature = market_offer(market, domains=twice)
        with ape.reverts("market: duplicate domain hash"):
            buy(market, typed, signature, buyer)
    else:
        typed, signature = market_offer(market)
        with ape.reverts("market: duplicate domain hash"):
            buy(market, typed, signature, buyer, domains=twice)


def test_buy__after_2_pow_36_seconds__reverts_instead_of_corrupting_the_packed_start(chain, market, market_offer, buyer):
    chain.pending_timestamp = 2**36
    typed, signature = market_offer(market, duration=0, expiry=2**36 + DAY)
    with ape.reverts("market: licence past 2**36 s (year 4147)"):
        buy(market, typed, signature, buyer)


# --- review fixes: finality after the window, revocation times, the arbiter's grace -----------


def test_seller_refund__after_the_dispute_window__reverts_and_the_licence_is_final(chain, market, bought, seller, buyer, market_registration_id, market_domain):
    chain.pending_timestamp += 7 * DAY
    with ape.reverts("market: dispute window has closed, the licence is final"):
        market.seller_refund(bought, terms_of(market, bought), sender=seller)
    with ape.reverts("market: dispute window has closed"):
        market.dispute(bought, terms_of(market, bought), "too late", sender=buyer)
    # nobody called release, yet the licence holds for now and later
    assert market.escrow(bought).status == market.HELD()
    assert market.is_licensed(market_registration_id, buyer, market_domain, chain.pending_timestamp + 100 * DAY)


def test_seller_refund__exclusive_licence_after_the_window__cannot_be_taken_back_and_resold(chain, market, market_offer, buyer, stranger, seller):
    typed, signature = market_offer(market, licence_type=3, duration=0, max_sales=2, expiry=chain.pending_timestamp + 30 * DAY)
    exclusive = buy(market, typed, signature, buyer).return_value
    chain.pending_timestamp += 7 * DAY
    with ape.reverts("market: dispute window has closed, the licence is final"):
        market.seller_refund(exclusive, terms_of(market, exclusive), sender=seller)
    with ape.reverts("market: an exclusive licence runs in this territory"):
        buy(market, typed, signature, stranger)


def test_seller_refund__within_the_window__licence_stays_valid_for_the_time_before(chain, market, bought, seller, buyer, market_registration_id, market_domain):
    starts_at = market.licence(bought).starts_at
    chain.pending_timestamp += DAY
    tx = market.seller_refund(bought, terms_of(market, bought), sender=seller)
    assert tx.decode_logs(market.Refunded)[0].amount == PRICE
    lic = market.licence(bought)
    assert lic.revoked and not lic.voided and lic.revoked_at == tx.timestamp
    assert market.is_licensed(market_registration_id, buyer, market_domain, starts_at)
    assert market.is_licensed(market_registration_id, buyer, market_domain, tx.timestamp - 1)
    assert not market.is_licensed(market_registration_id, buyer, market_domain, tx.timestamp)


def test_revoke__for_fraud__voids_the_licence_from_the_start(chain, market, bought, buyer, arbiter, market_registration_id, market_domain):
    starts_at = market.licence(bought).starts_at
    chain.pending_timestamp += DAY
    market.revoke(bought, terms_of(market, bought), "sold by a copier", sender=arbiter)
    assert market.licence(bought).voided
    assert not market.is_licensed(market_registration_id, buyer, market_domain, starts_at)


def test_freeze__in_the_grace_period__stops_the_seller_releasing_ahead_of_a_revocation(chain, market, bought, seller, buyer, arbiter):
    chain.pending_timestamp += 7 * DAY + DAY
    tx = market.freeze(bought, "fraud report", sender=arbiter)
    frozen = tx.decode_logs(market.Frozen)[0]
    assert (frozen.licence_id, frozen.arbiter, frozen.arbitration_deadline) == (bought, arbiter, tx.timestamp + 30 * DAY)
    assert market.escrow(bought).status == market.FROZEN()
    chain.pending_timestamp += 3 * DAY
    with ape.reverts("market: arbitration period still running"):
        market.release(bought, terms_of(market, bought), sender=seller)
    revoked = market.revoke(bought, terms_of(market, bought), "copied image", sender=arbiter).decode_logs(market.LicenceRevoked)[0]
    assert revoked.refunded == PRICE
    assert market.credit(buyer, ETH) == PRICE and market.credit(seller, ETH) == 0


def test_freeze__after_the_grace_period_or_by_non_arbiter__reverts(chain, market, bought, seller, arbiter):
    with ape.reverts("access_control: account is missing role"):
        market.freeze(bought, "mine", sender=seller)
    chain.pending_timestamp += RELEASABLE
    with ape.reverts("market: grace period over, escrow may be released"):
        market.freeze(bought, "late", sender=arbiter)
    market.release(bought, terms_of(market, bought), sender=seller)
    with ape.reverts("market: escrow is not held"):
        market.freeze(bought, "late", sender=arbiter)


# --- audit fixes: each boundary to the second, freezes, voiding a refunded licence -----------

GRACE = 3 * DAY  # RELEASE_GRACE_PERIOD


@pytest.mark.parametrize("offset", [-1, 0])
def test_dispute__one_second_before_the_window_end_succeeds__at_it_reverts(chain, market, bought, buyer, offset):
    chain.pending_timestamp = market.escrow(bought).window_end + offset
    if offset < 0:
        event = market.dispute(bought, terms_of(market, bought), "not the author", sender=buyer).decode_logs(market.Disputed)[0]
        assert (event.licence_id, event.buyer) == (bought, buyer)
        assert market.escrow(bought).status == market.DISPUTED()
    else:
        with ape.reverts("market: dispute window has closed"):
            market.dispute(bought, terms_of(market, bought), "not the author", sender=buyer)


@pytest.mark.parametrize("offset", [-1, 0])
def test_seller_refund__one_second_before_the_window_end_succeeds__at_it_reverts(chain, market, bought, seller, buyer, offset):
    chain.pending_timestamp = market.escrow(bought).window_end + offset
    if offset < 0:
        event = market.seller_refund(bought, terms_of(market, bought), sender=seller).decode_logs(market.Refunded)[0]
        assert (event.licence_id, event.buyer, event.amount, event.refunded_by) == (bought, buyer, PRICE, seller)
    else:
        with ape.reverts("market: dispute window has closed, the licence is final"):
            market.seller_refund(bought, terms_of(market, bought), sender=seller)
        assert market.escrow(bought).status == market.HELD()


@pytest.mark.parametrize("offset", [-1, 0])
def test_freeze__one_second_before_the_grace_period_ends_succeeds__at_its_end_reverts(chain, market, bought, arbiter, offset):
    chain.pending_timestamp = market.escrow(bought).window_end + GRACE + offset
    if offset < 0:
        tx = market.freeze(bought, "fraud report", sender=arbiter)
        event = tx.decode_logs(market.Frozen)[0]
        assert (event.licence_id, event.arbiter, event.arbitration_deadline) == (bought, arbiter, tx.timestamp + 30 * DAY)
        assert market.escrow(bought).status == market.FROZEN()
    else:
        with ape.reverts("market: grace period over, escrow may be released"):
            market.freeze(bought, "fraud report", sender=arbiter)


def test_release__undisputed__possible_exactly_at_releasable_at_and_not_a_second_before(chain, market, bought, seller, stranger):
    escrow = market.escrow(bought)
    assert escrow.window_end == market.licence(bought).starts_at + 7 * DAY
    assert escrow.releasable_at == escrow.window_end + GRACE
    chain.pending_timestamp = escrow.window_end - 1
    with ape.reverts("market: dispute window still open"):
        market.release(bought, terms_of(market, bought), sender=stranger)
    chain.pending_timestamp = escrow.window_end
    with ape.reverts("market: grace period for the arbiter still running"):
        market.release(bought, terms_of(market, bought), sender=stranger)
    chain.pending_timestamp = escrow.releasable_at - 1
    with ape.reverts("market: grace period for the arbiter still running"):
        market.release(bought, terms_of(market, bought), sender=stranger)
    chain.pending_timestamp = escrow.releasable_at
    released = market.release(bought, terms_of(market, bought), sender=stranger).decode_logs(market.Released)[0]
    assert (released.licence_id, released.seller, released.seller_amount, released.fee) == (bought, seller, PRICE - FEE, FEE)
    after = market.escrow(bought)
    assert (after.status, after.window_end, after.releasable_at) == (market.RELEASED(), escrow.window_end, 0)


def test_seller_refund__escrow_frozen_in_the_grace_period__reverts_and_the_exclusive_stays_final(chain, market, market_offer, buyer, stranger, seller, arbiter):
    typed, signature = market_offer(market, licence_type=3, duration=0, max_sales=2, expiry=chain.pending_timestamp + 30 * DAY)
    exclusive = buy(market, typed, signature, buyer).return_value
    chain.pending_timestamp = market.escrow(exclusive).window_end + DAY
    tx = market.freeze(exclusive, "report by the seller", sender=arbiter)
    assert market.escrow(exclusive).status == market.FROZEN()
    assert market.escrow(exclusive).releasable_at == tx.decode_logs(market.Frozen)[0].arbitration_deadline
    with ape.reverts("market: escrow paid out or frozen by the arbiter"):
        market.seller_refund(exclusive, terms_of(market, exclusive), sender=seller)
    assert not market.licence(exclusive).revoked
    with ape.reverts("market: an exclusive licence runs in this territory"):
        buy(market, typed, signature, stranger)
    # the arbiter decides a frozen escrow like a disputed one
    released = market.resolve(exclusive, terms_of(market, exclusive), False, sender=arbiter).decode_logs(market.Released)[0]
    assert (released.licence_id, released.seller, released.seller_amount) == (exclusive, seller, PRICE - FEE)


def test_resolve__frozen_escrow_refunded__revokes_the_licence_and_refunds_the_buyer(chain, market, bought, buyer, arbiter):
    chain.pending_timestamp = market.escrow(bought).window_end + DAY
    market.freeze(bought, "fraud report", sender=arbiter)
    event = market.resolve(bought, terms_of(market, bought), True, sender=arbiter).decode_logs(market.Refunded)[0]
    assert (event.licence_id, event.buyer, event.amount, event.refunded_by) == (bought, buyer, PRICE, arbiter)
    assert market.licence(bought).revoked and market.escrow(bought).status == market.REFUNDED()


def test_revoke__after_the_sellers_refund__voids_the_licence_without_a_second_refund(chain, market, market_offer, seller, buyer, arbiter, market_registration_id, market_domain):
    typed, signature = market_offer(market, duration=0)
    bought = buy(market, typed, signature, buyer).return_value
    starts_at = market.licence(bought).starts_at
    chain.pending_timestamp = starts_at + DAY
    market.seller_refund(bought, terms_of(market, bought), sender=seller)
    assert market.is_licensed(market_registration_id, buyer, market_domain, starts_at)
    assert market.perpetual_licence_count(market_registration_id) == 0

    tx = market.revoke(bought, terms_of(market, bought), "sold by a copier", sender=arbiter)
    event = tx.decode_logs(market.LicenceRevoked)[0]
    assert (event.licence_id, event.licensee, event.refunded, event.arbiter) == (bought, buyer, 0, arbiter)
    assert not tx.decode_logs(market.Refunded)
    lic = market.licence(bought)
    assert lic.revoked and lic.voided
    assert not market.is_licensed(market_registration_id, buyer, market_domain, starts_at)
    assert market.credit(buyer, ETH) == PRICE and market.escrow(bought).status == market.REFUNDED()
    assert market.perpetual_licence_count(market_registration_id) == 0
    with ape.reverts("market: licence already voided"):
        market.revoke(bought, terms_of(market, bought), "again", sender=arbiter)


def test_revoke__held_escrow_in_the_grace_period_without_a_freeze__refunds_the_buyer(chain, market, bought, buyer, seller, arbiter):
    chain.pending_timestamp = market.escrow(bought).window_end + DAY
    tx = market.revoke(bought, terms_of(market, bought), "copied image", sender=arbiter)
    assert tx.decode_logs(market.LicenceRevoked)[0].refunded == PRICE
    refunded = tx.decode_logs(market.Refunded)[0]
    assert (refunded.licence_id, refunded.buyer, refunded.amount, refunded.refunded_by) == (bought, buyer, PRICE, arbiter)
    assert market.credit(buyer, ETH) == PRICE and market.escrowed(ETH) == 0
    with ape.reverts("market: escrow already paid out"):
        market.release(bought, terms_of(market, bought), sender=seller)
