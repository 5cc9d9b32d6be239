"""SettlementEscrow against hostile rights-holders: re-entering and ETH-rejecting contracts."""

import ape
import pytest
from eth_utils import keccak
from market_signing import mandate_args

from backend.marketplace.typed_data import ETH

pytestmark = pytest.mark.usefixtures("fast_reverts")

REF = keccak(text="CT-2026-000777")
DUE = 10**18


def mandate_contract_owner(settlement, settlement_mandate, holder_contract, controller):
    typed, _ = settlement_mandate(settlement, owner=holder_contract.address)
    holder_contract.approve_hash(settlement.mandate_hash(mandate_args(typed)), sender=controller)
    settlement.submit_mandate(mandate_args(typed), b"", sender=controller)


def test_reentrant_rights_holder__withdrawal__pays_once_and_reentry_fails(chain, project, settlement, settlement_mandate, mock_register, market_registration_id, seller, case_manager, infringer, treasury):
    holder = seller.deploy(project.ReentrantAccount)
    mock_register.set_owner(market_registration_id, holder, sender=seller)
    mandate_contract_owner(settlement, settlement_mandate, holder, seller)
    settlement.open_case(REF, market_registration_id, holder, DUE, ETH, sender=case_manager)
    settlement.pay(REF, DUE, sender=infringer, value=DUE)

    withdraw_data = settlement.withdraw.encode_input(ETH)
    holder.set_reentry(settlement, withdraw_data, sender=seller)
    holder.execute(settlement, withdraw_data, 0, sender=seller)

    assert holder.reentries_tried() == 1 and holder.reentries_succeeded() == 0
    assert chain.provider.get_balance(holder.address) == DUE * 7 // 10
    assert chain.provider.get_balance(settlement.address) == settlement.credit(treasury, ETH) == DUE * 3 // 10


def test_eth_rejecting_rights_holder__funds_stay_withdrawable_and_treasury_is_not_stuck(chain, project, settlement, settlement_mandate, mock_register, market_registration_id, seller, case_manager, infringer, treasury):
    rejecter = seller.deploy(project.EthRejectingSeller)
    mock_register.set_owner(market_registration_id, rejecter, sender=seller)
    mandate_contract_owner(settlement, settlement_mandate, rejecter, seller)
    settlement.open_case(REF, market_registration_id, rejecter, DUE, ETH, sender=case_manager)
    settlement.pay(REF, DUE, sender=infringer, value=DUE)

    with ape.reverts("settlement: ETH transfer failed"):
        rejecter.execute(settlement, settlement.withdraw.encode_input(ETH), sender=seller)
    assert settlement.credit(rejecter, ETH) == DUE * 7 // 10
    settlement.withdraw(ETH, sender=treasury)
    assert chain.provider.get_balance(settlement.address) == DUE * 7 // 10


def test_contract_owner__unapproved_mandate__reverts(project, settlement, settlement_mandate, seller):
    holder = seller.deploy(project.ReentrantAccount)
    typed, _ = settlement_mandate(settlement, owner=holder.address)
    with ape.reverts("settlement: invalid mandate signature"):
        settlement.submit_mandate(mandate_args(typed), b"", sender=seller)
