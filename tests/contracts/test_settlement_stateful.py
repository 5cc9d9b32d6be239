"""Stateful property test of SettlementEscrow: every payment is split and accounted for.

After every step: the escrow's ETH and CPY balances equal the withdrawable credits, the credits
match a Python model of the split, and nobody has withdrawn more than they were credited.
"""

from collections import defaultdict

import ape
import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from backend.chain import artifacts
from backend.marketplace.typed_data import ETH

pytestmark = pytest.mark.usefixtures("fast_reverts")


def test_settlement_money_is_always_accounted_for(chain, accounts, mandated_settlement, cpy_mock, case_manager, market_registration_id, seller, buyer, infringer, treasury):
    escrow = mandated_settlement
    payers = [infringer, buyer]
    for p in payers:
        cpy_mock.approve(escrow, 2**255, sender=p)
    assets = [ETH, cpy_mock.address]
    everyone = [seller, treasury] + payers
    # The invariant reads go through plain web3: a dozen reads after every step, ape's call layer is slower.
    w3 = chain.provider.web3
    escrow_view = w3.eth.contract(address=escrow.address, abi=artifacts.abi("SettlementEscrow")).functions
    cpy_view = w3.eth.contract(address=cpy_mock.address, abi=artifacts.abi("TestToken")).functions

    class SettlementMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.snapshot = chain.snapshot()
            self.cases = []  # dicts: reference, asset, due, paid, bps, step, accrued (exact commission x 10,000)
            self.credited = defaultdict(int)
            self.withdrawn = defaultdict(int)

        def teardown(self):
            chain.restore(self.snapshot)

        @rule(asset=st.sampled_from(assets), due=st.integers(1, 10**19))
        def open_case(self, asset, due):
            reference = keccak(text=f"case-{len(self.cases)}")
            escrow.open_case(reference, market_registration_id, seller, due, asset, sender=case_manager)
            self.cases.append(dict(reference=reference, asset=asset, due=due, paid=0, bps=3_000, step=0, accrued=0))

        @precondition(lambda self: self.cases)
        @rule(data=st.data(), payer=st.sampled_from(payers), share=st.floats(0.0, 1.2))
        def pay(self, data, payer, share):
            case = data.draw(st.sampled_from(self.cases))
            outstanding = case["due"] - case["paid"]
            amount = int(case["due"] * share)
            value = amount if case["asset"] == ETH else 0
            if case["step"] >= 5 or amount == 0:
                with ape.reverts():
                    escrow.pay(case["reference"], amount, sender=payer, value=value)
                return
            escrow.pay(case["reference"], amount, sender=payer, value=value)
            paid = min(amount, outstanding)
            accrued = case["accrued"] + paid * case["bps"]
            commission = accrued // 10_000 - case["accrued"] // 10_000
            case["accrued"] = accrued
            self.credited[(seller.address, case["asset"])] += paid - commission
            self.credited[(treasury.address, case["asset"])] += commission
            if case["asset"] == ETH:
                self.credited[(payer.address, ETH)] += amount - paid
            case["paid"] += paid
            if case["paid"] == case["due"]:
                case["step"] = 5

        @precondition(lambda self: self.cases)
        @rule(data=st.data(), bps=st.integers(3_001, 5_000))
        def escalate_to_lawyer(self, data, bps):
            case = data.draw(st.sampled_from(self.cases))
            if case["step"] >= 3:
                return
            escrow.log_step(case["reference"], 3, keccak(text="legal-letter.pdf"), sender=case_manager)
            case["step"] = 3
            if bps > case["bps"]:
                escrow.raise_commission(case["reference"], bps, sender=case_manager)
                case["bps"] = bps

        @rule(account=st.sampled_from(everyone), asset=st.sampled_from(assets))
        def withdraw(self, account, asset):
            owed = self.credited[(account.address, asset)] - self.withdrawn[(account.address, asset)]
            if owed == 0:
                with ape.reverts("settlement: nothing to withdraw"):
                    escrow.withdraw(asset, sender=account)
                return
            escrow.withdraw(asset, sender=account)
            self.withdrawn[(account.address, asset)] += owed

        @invariant()
        def balances_equal_credits(self):
            for asset in assets:
                credits = 0
                for account in everyone:
                    key = (account.address, asset)
                    credit = escrow_view.credit(account.address, asset).call()
                    assert credit == self.credited[key] - self.withdrawn[key]
                    assert self.withdrawn[key] <= self.credited[key]
                    credits += credit
                held = w3.eth.get_balance(escrow.address) if asset == ETH else cpy_view.balanceOf(escrow.address).call()
                assert held == credits
            for case in self.cases:
                on_chain = escrow_view.case(case["reference"]).call()
                assert (on_chain[4], on_chain[6], on_chain[5]) == (case["paid"], case["step"], case["bps"])
                assert escrow_view.commission_accrued(case["reference"]).call() == case["accrued"]

    run_state_machine_as_test(
        SettlementMachine,
        settings=settings(max_examples=5, stateful_step_count=16, deadline=None, suppress_health_check=list(HealthCheck)),
    )
