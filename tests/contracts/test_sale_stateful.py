"""The sale driven by Hypothesis against a Python model, with invariants after every step.

Investors buy (sometimes breaking a rule on purpose), the admin pauses, time jumps, anyone
finalizes, investors claim and withdraw refunds, the sale wallet withdraws. Every transaction's
outcome (its revert reason, or its effects) is predicted by the model first; after every step the
contract's state is compared with the model and the issue's invariants are checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from web3.exceptions import ContractLogicError

from backend.chain.sale_deployment import CPY, DAY, ETHER, SALE_ALLOCATION
from cpy_sale_model import price

TOTAL_SUPPLY = 100_000_000 * CPY
RULES = dict(
    base_rate=740,
    tranche_limits=(50 * CPY, 120 * CPY),
    tranche_rates=(2_000, 1_178),
    hard_cap=300 * CPY,
    min_contribution=ETHER // 100,
    max_contribution=ETHER // 5,
)
# The sale is open from the first step (`not open yet` is covered by the unit tests). Time moves
# one second per transaction and in whole hours per jump, and the sale closes half an hour past
# a whole hour, so no step lands within seconds of the closing time.
SALE_LENGTH = 30 * DAY + 1_800


@dataclass
class SaleModel:
    """What the sale's state should be, from the rules alone."""

    soft_cap: int
    now: int
    opening: int
    closing: int
    allow_listed: set[str]
    paused: bool = False
    finalized: bool = False
    sold: int = 0
    raised: int = 0
    claimed: int = 0
    wei_refunded: int = 0
    tokens_forfeited: int = 0
    funds_withdrawn: int = 0
    burned: int = 0
    contributions: dict[str, int] = field(default_factory=dict)
    owed: dict[str, int] = field(default_factory=dict)
    excess: dict[str, int] = field(default_factory=dict)

    @property
    def soft_cap_reached(self) -> bool:
        return self.raised >= self.soft_cap

    def purchase_rejection(self, buyer: str, amount: int) -> str | None:
        if self.now < self.opening:
            return "sale: not open yet"
        if self.now > self.closing:
            return "sale: closed"
        if self.finalized:
            return "sale: already finalized"
        if self.paused:
            return "sale: purchases are paused"
        if buyer not in self.allow_listed:
            return "sale: investor not on allow-list"
        if amount < RULES["min_contribution"]:
            return "sale: below minimum contribution"
        if self.sold >= RULES["hard_cap"]:
            return "sale: hard cap reached"
        _, used = self.quote(amount)
        if self.contributions.get(buyer, 0) + used > RULES["max_contribution"]:
            return "sale: above maximum contribution"
        return None

    def quote(self, amount: int) -> tuple[int, int]:
        rules = {k: RULES[k] for k in ("tranche_limits", "tranche_rates", "base_rate", "hard_cap")}
        return price(amount, self.sold, **rules)

    def refundable(self, investor: str) -> int:
        amount = self.excess.get(investor, 0)
        if self.finalized and not self.soft_cap_reached:
            amount += self.contributions.get(investor, 0)
        return amount


def test_sale__random_operations__match_model_and_keep_invariants(
    deploy_sale, project, chain, owner, investor, investors, stranger, sale_wallet
):
    people = [investor, *investors, stranger]

    class SaleMachine(RuleBasedStateMachine):
        @initialize(
            soft_cap=st.sampled_from([0, ETHER // 5, ETHER * 3 // 10]),
            opening_rush=st.lists(
                st.tuples(st.integers(0, len(people) - 1), st.integers(ETHER // 200, ETHER // 4)),
                min_size=1,
                max_size=6,
            ),
        )
        def deploy(self, soft_cap, opening_rush):
            """A fresh sale, and a rush of purchases at its opening.

            Hypothesis enables a random subset of rules per example (swarm testing); the rush
            makes sure every example has buyers to finalize, claim and refund for.
            """
            web3 = chain.provider.web3
            opening = web3.eth.get_block("latest")["timestamp"]
            self.sale = deploy_sale(
                opening_time=opening, closing_time=opening + SALE_LENGTH, soft_cap=soft_cap, **RULES
            )
            self.token = project.CPYToken.at(self.sale.token())
            abi = [entry.model_dump(mode="json", by_alias=True) for entry in self.sale.contract_type.abi]
            self.web3_sale = web3.eth.contract(address=self.sale.address, abi=abi)
            allow_listed = {p.address for p in people if self.sale.is_allow_listed(p)}
            self.model = SaleModel(
                soft_cap=soft_cap,
                now=web3.eth.get_block("latest")["timestamp"],
                opening=opening,
                closing=opening + SALE_LENGTH,
                allow_listed=allow_listed,
            )
            self.touched = set()
            for who, amount in opening_rush:
                self.buy(who, amount, through_fallback=False)

        def _touch(self, *persons):
            self.touched.update(persons)

        def _next_block(self):
            self.model.now += 1
            chain.pending_timestamp = self.model.now

        def _send(self, rejection, action, sender, function=None, value=0):
            """Runs `action` if the model expects success; else checks the revert reason.

            An expected revert is checked with `eth_call` on the pending block (which carries the
            next block's timestamp), with the same sender, calldata and value as the transaction:
            the same outcome as sending it, without ape's slow failed-transaction tracing.
            """
            self._next_block()
            if rejection is None:
                return action()
            call = {"from": sender.address, "to": self.sale.address, "value": value}
            if function is not None:
                call["data"] = self.web3_sale.encode_abi(function, args=[])
            try:
                chain.provider.web3.eth.call(call, block_identifier="pending")
            except ContractLogicError as error:
                assert error.message == f"execution reverted: {rejection}"
            else:
                raise AssertionError(f"{function or 'fallback'} from {sender.address} did not revert with {rejection!r}")
            return None

        @rule(
            who=st.integers(0, len(people) - 1),
            amount=st.integers(ETHER // 200, ETHER // 4),
            through_fallback=st.booleans(),
        )
        def buy(self, who, amount, through_fallback):
            buyer = people[who]
            self._touch(buyer)
            rejection = self.model.purchase_rejection(buyer.address, amount)
            tokens, used = self.model.quote(amount)

            def purchase():
                if through_fallback:
                    return buyer.transfer(self.sale, amount)
                return self.sale.buy_tokens(value=amount, sender=buyer)

            function = None if through_fallback else "buy_tokens"
            receipt = self._send(rejection, purchase, buyer, function, value=amount)
            if receipt is None:
                return
            m = self.model
            m.sold += tokens
            m.raised += used
            m.contributions[buyer.address] = m.contributions.get(buyer.address, 0) + used
            m.owed[buyer.address] = m.owed.get(buyer.address, 0) + tokens
            if amount > used:
                m.excess[buyer.address] = m.excess.get(buyer.address, 0) + amount - used
            [event] = self.sale.TokensPurchased.from_receipt(receipt)
            assert (event.investor, event.wei_amount, event.token_amount) == (buyer.address, used, tokens)

        @rule()
        def toggle_pause(self):
            if self.model.paused:
                self._send(None, lambda: self.sale.unpause(sender=owner), owner)
            else:
                self._send(None, lambda: self.sale.pause(sender=owner), owner)
            self.model.paused = not self.model.paused

        @rule(seconds=st.sampled_from([3_600, DAY, 10 * DAY, 31 * DAY]))
        def time_passes(self, seconds):
            self.model.now += seconds

        @rule(who=st.integers(0, len(people) - 1))
        def finalize(self, who):
            m = self.model
            if m.finalized:
                rejection = "sale: already finalized"
            elif m.now + 1 <= m.closing and m.sold < RULES["hard_cap"]:
                rejection = "sale: still open and below the hard cap"
            else:
                rejection = None
            receipt = self._send(rejection, lambda: self.sale.finalize(sender=people[who]), people[who], "finalize")
            if receipt is None:
                return
            m.finalized = True
            burn = SALE_ALLOCATION - (m.sold if m.soft_cap_reached else 0)
            m.burned += burn
            [event] = self.sale.SaleFinalized.from_receipt(receipt)
            assert bool(event.soft_cap_reached) is m.soft_cap_reached
            assert [e.token_amount for e in self.sale.UnsoldTokensBurned.from_receipt(receipt)] == ([burn] if burn else [])

        @rule(who=st.integers(0, len(people) - 1))
        def claim(self, who):
            m, claimer = self.model, people[who].address
            self._touch(people[who])
            if not m.finalized:
                rejection = "sale: not finalized yet"
            elif not m.soft_cap_reached:
                rejection = "sale: soft cap not reached, withdraw a refund instead"
            elif m.owed.get(claimer, 0) == 0:
                rejection = "sale: nothing to claim"
            else:
                rejection = None
            before = self.token.balanceOf(claimer)
            if self._send(rejection, lambda: self.sale.claim(sender=people[who]), people[who], "claim") is None:
                return
            assert self.token.balanceOf(claimer) == before + m.owed[claimer]
            m.claimed += m.owed[claimer]
            m.owed[claimer] = 0

        @rule(who=st.integers(0, len(people) - 1))
        def withdraw_refund(self, who):
            m, investor_address = self.model, people[who].address
            self._touch(people[who])
            amount = m.refundable(investor_address)
            rejection = None if amount else "sale: nothing to refund"
            receipt = self._send(
                rejection, lambda: self.sale.withdraw_refund(sender=people[who]), people[who], "withdraw_refund"
            )
            if receipt is None:
                return
            assert [e.wei_amount for e in self.sale.RefundWithdrawn.from_receipt(receipt)] == [amount]
            m.excess[investor_address] = 0
            if m.finalized and not m.soft_cap_reached:
                m.wei_refunded += m.contributions.get(investor_address, 0)
                m.tokens_forfeited += m.owed.get(investor_address, 0)
                m.contributions[investor_address] = 0
                m.owed[investor_address] = 0

        @rule()
        def withdraw_funds(self):
            m = self.model
            if not m.finalized:
                rejection = "sale: not finalized yet"
            elif not m.soft_cap_reached:
                rejection = "sale: soft cap not reached, raised funds are refundable"
            elif m.raised == m.funds_withdrawn:
                rejection = "sale: nothing to withdraw"
            else:
                rejection = None
            withdraw = lambda: self.sale.withdraw_funds(sender=sale_wallet)  # noqa: E731
            if self._send(rejection, withdraw, sale_wallet, "withdraw_funds") is None:
                return
            m.funds_withdrawn = m.raised

        def _check_investor(self, person):
            sale, m = self.sale, self.model
            assert sale.contribution_of(person) == m.contributions.get(person.address, 0)
            assert sale.tokens_owed(person) == m.owed.get(person.address, 0)
            assert sale.excess_of(person) == m.excess.get(person.address, 0)

        @invariant()
        def contract_matches_model(self):
            # Every step checks the investor it touched; `teardown` sweeps all of them, so a
            # write to the wrong investor's account is caught by the end of the example.
            sale, m = self.sale, self.model
            assert sale.tokens_sold() == m.sold
            assert sale.wei_raised() == m.raised
            assert sale.finalized() is m.finalized
            assert sale.paused() is m.paused
            for person in self.touched:
                self._check_investor(person)
            self.touched.clear()

        def teardown(self):
            """Checks every investor, then winds the sale up and checks nothing is left behind.

            Whatever state the steps left, the sale closes, is finalized, every investor claims
            or withdraws what is theirs and the wallet withdraws the rest: the sale must end
            holding neither ETH nor CPY.
            """
            if not hasattr(self, "sale"):
                return
            for person in people:
                self._check_investor(person)
            m = self.model
            m.now = max(m.now, m.closing)
            if not m.finalized:
                self.finalize(0)
            for index, person in enumerate(people):
                if m.owed.get(person.address, 0) and m.soft_cap_reached:
                    self.claim(index)
                if m.refundable(person.address):
                    self.withdraw_refund(index)
            if m.soft_cap_reached and m.raised > m.funds_withdrawn:
                self.withdraw_funds()
            self.contract_matches_model()
            for person in people:
                self._check_investor(person)
            assert self.sale.balance == 0
            assert self.token.balanceOf(self.sale) == 0
            assert self.token.totalSupply() == TOTAL_SUPPLY - m.burned
            assert m.claimed == (m.sold if m.soft_cap_reached else 0)

        @invariant()
        def tokens_sold_never_exceed_cap(self):
            assert self.model.sold <= RULES["hard_cap"]

        @invariant()
        def contributions_within_limits(self):
            assert all(c <= RULES["max_contribution"] for c in self.model.contributions.values())

        @invariant()
        def eth_balance_is_raised_funds_plus_refunds(self):
            m = self.model
            held_for_raise = m.raised - m.funds_withdrawn - m.wei_refunded
            assert self.sale.balance == held_for_raise + sum(m.excess.values())

        @invariant()
        def owed_plus_claimed_equals_sold(self):
            m = self.model
            assert sum(m.owed.values()) + m.claimed + m.tokens_forfeited == m.sold
            assert self.sale.tokens_claimed() == m.claimed

        @invariant()
        def supply_is_initial_minus_burned(self):
            assert self.token.totalSupply() == TOTAL_SUPPLY - self.model.burned
            assert self.token.balanceOf(self.sale) == SALE_ALLOCATION - self.model.burned - self.model.claimed

    run_state_machine_as_test(
        SaleMachine,
        settings=settings(
            max_examples=8,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
