"""Stateful property test of LicenseMarket: money is always accounted for (purchases, disputes,
the arbiter's freezes and resolutions, releases after the grace period, seller refunds within the
window or during the buyer's dispute but never once frozen, fraud revocations that also void
refunded licences, withdrawals).

After every step: the market's ETH and CPY balances equal the withdrawable credits plus what is
still escrowed, the contract's credits match a Python model, and nobody has withdrawn more than
they were credited.
"""

from collections import defaultdict

import ape
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from market_signing import offer_args, registration_id_of

from backend.chain import artifacts
from backend.marketplace.typed_data import ETH, domain_hash

pytestmark = pytest.mark.usefixtures("fast_reverts")

DAY = 86_400
FEE_BPS = 500
MARGIN = 120  # seconds kept clear of the window boundary, so wall-clock drift cannot flip a check
GRACE = 3 * DAY  # RELEASE_GRACE_PERIOD: after the window, only the arbiter may act before release


def test_market_money_is_always_accounted_for(chain, accounts, market, market_offer, mock_register, cpy_mock, seller, buyer, stranger, infringer, treasury, arbiter):
    sellers = [seller, accounts[7]]  # distinct from every buyer, so credits are not counted twice
    registrations = [registration_id_of("a.jpg"), registration_id_of("b.jpg")]
    for owner_account, rid in zip(sellers, registrations):
        mock_register.set_owner(rid, owner_account, sender=owner_account)
    buyers = [buyer, stranger, infringer]
    for b in buyers:
        cpy_mock.approve(market, 2**255, sender=b)
    cpy_mock.mint(stranger, 1_000 * 10**18, sender=accounts[0])
    assets = [ETH, cpy_mock.address]
    # stranger is both a seller and a buyer: count each account's credit once in the invariant
    everyone = list({account.address: account for account in sellers + buyers + [treasury]}.values())
    # The invariant reads go through plain web3: a dozen reads after every step, ape's call layer is slower.
    w3 = chain.provider.web3
    market_view = w3.eth.contract(address=market.address, abi=artifacts.abi("LicenseMarket")).functions
    cpy_view = w3.eth.contract(address=cpy_mock.address, abi=artifacts.abi("TestToken")).functions

    class MarketMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.snapshot = chain.snapshot()
            self.sales = []  # dicts: licence_id, buyer, seller, asset, price, fee, window_end, release_at, status
            self.credited = defaultdict(int)
            self.withdrawn = defaultdict(int)

        def teardown(self):
            chain.restore(self.snapshot)

        @rule(b=st.sampled_from(buyers), s=st.integers(0, 1), asset=st.sampled_from(assets), price=st.integers(0, 5 * 10**18))
        def buy(self, b, s, asset, price):
            typed, signature = market_offer(
                market, seller=sellers[s].address, registration_id=registrations[s], signer=sellers[s], currency=asset, price=price
            )
            value = price if asset == ETH else 0
            tx = market.buy(offer_args(typed), signature, [domain_hash("site.example")], sender=b, value=value)
            event = tx.decode_logs(market.LicencePurchased)[0]
            assert event.fee == price * FEE_BPS // 10_000
            self.sales.append(
                dict(
                    licence_id=event.licence_id, buyer=b, seller=sellers[s], asset=asset, price=price, fee=event.fee,
                    window_end=event.release_at, release_at=event.release_at + GRACE, status="held",
                    terms=(event.licensee, event.seller, event.currency, event.price, event.previous_block_hash),
                )
            )

        @precondition(lambda self: self.sales)
        @rule(data=st.data())
        def dispute(self, data):
            sale = data.draw(st.sampled_from(self.sales))
            now = chain.pending_timestamp
            if sale["status"] == "held" and now + MARGIN < sale["window_end"]:
                tx = market.dispute(sale["licence_id"], sale["terms"], "not the author", sender=sale["buyer"])
                sale["status"] = "disputed"
                sale["release_at"] = tx.decode_logs(market.Disputed)[0].arbitration_deadline
            elif sale["status"] != "held" or now >= sale["window_end"]:
                with ape.reverts():
                    market.dispute(sale["licence_id"], sale["terms"], "not the author", sender=sale["buyer"])

        @precondition(lambda self: self.sales)
        @rule(data=st.data())
        def freeze(self, data):
            sale = data.draw(st.sampled_from(self.sales))
            now = chain.pending_timestamp
            if sale["status"] == "held" and now + MARGIN < sale["release_at"]:
                tx = market.freeze(sale["licence_id"], "fraud report", sender=arbiter)
                sale["status"] = "frozen"
                sale["release_at"] = tx.decode_logs(market.Frozen)[0].arbitration_deadline
            elif sale["status"] != "held" or now >= sale["release_at"]:
                with ape.reverts():
                    market.freeze(sale["licence_id"], "fraud report", sender=arbiter)

        @precondition(lambda self: self.sales)
        @rule(data=st.data(), refund=st.booleans())
        def resolve(self, data, refund):
            sale = data.draw(st.sampled_from(self.sales))
            if sale["status"] not in ("disputed", "frozen"):
                with ape.reverts("market: licence is not disputed"):
                    market.resolve(sale["licence_id"], sale["terms"], refund, sender=arbiter)
                return
            market.resolve(sale["licence_id"], sale["terms"], refund, sender=arbiter)
            if refund:
                self.credited[(sale["buyer"].address, sale["asset"])] += sale["price"]
                sale["status"] = "refunded"
                sale["revoked"] = True
            else:
                self._credit_release(sale)

        @precondition(lambda self: self.sales)
        @rule(data=st.data())
        def release(self, data):
            sale = data.draw(st.sampled_from(self.sales))
            now = chain.pending_timestamp
            pending = sale["status"] in ("held", "disputed", "frozen")
            if pending and now >= sale["release_at"]:
                market.release(sale["licence_id"], sale["terms"], sender=stranger)
                self._credit_release(sale)
            elif not pending or now + MARGIN < sale["release_at"]:
                with ape.reverts():
                    market.release(sale["licence_id"], sale["terms"], sender=stranger)

        @precondition(lambda self: self.sales)
        @rule(data=st.data(), by_arbiter=st.booleans())
        def take_back(self, data, by_arbiter):
            """The seller refunds (within the window or during the buyer's dispute, never once the
            arbiter froze the escrow), or the arbiter revokes for fraud (refunding while money is
            held, and voiding a licence refunded before without refunding it twice)."""
            sale = data.draw(st.sampled_from(self.sales))
            pending = sale["status"] in ("held", "disputed", "frozen")
            now = chain.pending_timestamp
            if by_arbiter:
                if sale.get("voided"):
                    with ape.reverts("market: licence already voided"):
                        market.revoke(sale["licence_id"], sale["terms"], "fraud", sender=arbiter)
                    return
                tx = market.revoke(sale["licence_id"], sale["terms"], "fraud", sender=arbiter)
                assert tx.decode_logs(market.LicenceRevoked)[0].refunded == (sale["price"] if pending else 0)
            elif sale["status"] == "disputed" or (sale["status"] == "held" and now + MARGIN < sale["window_end"]):
                market.seller_refund(sale["licence_id"], sale["terms"], sender=sale["seller"])
            elif not pending or sale["status"] == "frozen":
                with ape.reverts("market: escrow paid out or frozen by the arbiter"):
                    market.seller_refund(sale["licence_id"], sale["terms"], sender=sale["seller"])
                return
            else:
                if now >= sale["window_end"]:
                    with ape.reverts("market: dispute window has closed, the licence is final"):
                        market.seller_refund(sale["licence_id"], sale["terms"], sender=sale["seller"])
                return
            sale["revoked"] = True
            sale["voided"] = by_arbiter
            if pending:
                self.credited[(sale["buyer"].address, sale["asset"])] += sale["price"]
                sale["status"] = "refunded"

        @rule(account=st.sampled_from(everyone), asset=st.sampled_from(assets))
        def withdraw(self, account, asset):
            owed = self.credited[(account.address, asset)] - self.withdrawn[(account.address, asset)]
            if owed == 0:
                with ape.reverts("market: nothing to withdraw"):
                    market.withdraw(asset, sender=account)
                return
            tx = market.withdraw(asset, sender=account)
            assert tx.decode_logs(market.Withdrawn)[0].amount == owed
            self.withdrawn[(account.address, asset)] += owed

        @rule(days=st.sampled_from([1, 3, 8]))
        def wait(self, days):
            chain.pending_timestamp += days * DAY

        def _credit_release(self, sale):
            self.credited[(sale["seller"].address, sale["asset"])] += sale["price"] - sale["fee"]
            self.credited[(treasury.address, sale["asset"])] += sale["fee"]
            sale["status"] = "released"

        @invariant()
        def licence_state_matches_the_model(self):
            statuses = {"held": 1, "disputed": 2, "released": 3, "refunded": 4, "frozen": 5}
            for sale in self.sales:
                lic = market_view.licence(sale["licence_id"]).call()
                assert (lic[3], lic[5]) == (bool(sale.get("revoked")), bool(sale.get("voided")))
                window_end, releasable_at, status = market_view.escrow(sale["licence_id"]).call()[3:]
                assert status == statuses[sale["status"]]
                pending = sale["status"] in ("held", "disputed", "frozen")
                assert (window_end, releasable_at) == (sale["window_end"], sale["release_at"] if pending else 0)

        @invariant()
        def balances_equal_credits_plus_escrow(self):
            for asset in assets:
                in_escrow = sum(s["price"] for s in self.sales if s["asset"] == asset and s["status"] in ("held", "disputed", "frozen"))
                assert market_view.escrowed(asset).call() == in_escrow
                credits = 0
                for account in everyone:
                    key = (account.address, asset)
                    credit = market_view.credit(account.address, asset).call()
                    assert credit == self.credited[key] - self.withdrawn[key]
                    assert self.withdrawn[key] <= self.credited[key]
                    credits += credit
                held = w3.eth.get_balance(market.address) if asset == ETH else cpy_view.balanceOf(market.address).call()
                assert held == credits + in_escrow

    run_state_machine_as_test(
        MarketMachine,
        settings=settings(max_examples=5, stateful_step_count=16, deadline=None, suppress_health_check=list(HealthCheck)),
    )
