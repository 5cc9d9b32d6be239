"""SettlementEscrow: mandates, cases, split payments, the escalation ladder, withdrawals."""

import ape
import pytest
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from market_signing import mandate_args, registration_id_of

from backend.marketplace.typed_data import ETH

pytestmark = pytest.mark.usefixtures("fast_reverts")

DAY = 86_400
REF = keccak(text="CT-2026-000123")
DUE = 1_000 * 10**15


LEGAL_LETTER_PDF = keccak(text="legal-letter.pdf")


def open_case(escrow, case_manager, market_registration_id, rights_holder, reference=REF, amount=DUE, asset=ETH):
    return escrow.open_case(reference, market_registration_id, rights_holder, amount, asset, sender=case_manager)


@pytest.fixture
def opened(mandated_settlement, case_manager, market_registration_id, seller):
    open_case(mandated_settlement, case_manager, market_registration_id, seller)
    return mandated_settlement


# --- mandates -------------------------------------------------------------------------------


def test_mandate_hash__matches_the_eip712_digest_wallets_sign(settlement, settlement_mandate):
    typed, _ = settlement_mandate(settlement, registration_id=7)
    signable = encode_typed_data(full_message=typed)
    assert settlement.mandate_hash(mandate_args(typed)) == keccak(b"\x19\x01" + signable.header + signable.body)


def test_submit_mandate__records_it_for_letter_recipients(settlement, settlement_mandate, seller, stranger, market_registration_id):
    assert not settlement.has_mandate(market_registration_id)
    typed, signature = settlement_mandate(settlement)
    assert settlement.verify_mandate(mandate_args(typed), signature)
    tx = settlement.submit_mandate(mandate_args(typed), signature, sender=stranger)
    event = tx.decode_logs(settlement.MandateRecorded)[0]
    assert (event.owner, event.registration_id, event.nonce) == (seller, 0, 0)
    assert settlement.has_mandate(market_registration_id)
    assert settlement.mandate_of(seller, 0).expiry == typed["message"]["expiry"]


def test_submit_mandate__forged__reverts(settlement, settlement_mandate, stranger):
    typed, signature = settlement_mandate(settlement, signer=stranger)
    assert not settlement.verify_mandate(mandate_args(typed), signature)
    with ape.reverts("settlement: invalid mandate signature"):
        settlement.submit_mandate(mandate_args(typed), signature, sender=stranger)


def test_submit_mandate__naming_another_agent__reverts(settlement, settlement_mandate, stranger):
    typed, signature = settlement_mandate(settlement, agent=stranger.address)
    with ape.reverts("settlement: mandate names another agent"):
        settlement.submit_mandate(mandate_args(typed), signature, sender=stranger)


def test_submit_mandate__expired__reverts(chain, settlement, settlement_mandate, seller):
    typed, signature = settlement_mandate(settlement, expiry=chain.pending_timestamp - 1)
    with ape.reverts("settlement: mandate expired"):
        settlement.submit_mandate(mandate_args(typed), signature, sender=seller)


def test_submit_mandate__after_revocation__reverts(settlement, settlement_mandate, seller):
    typed, signature = settlement_mandate(settlement)
    tx = settlement.revoke_mandates(sender=seller)
    assert tx.decode_logs(settlement.MandatesRevoked)[0].nonce == 1
    with ape.reverts("settlement: mandate revoked"):
        settlement.submit_mandate(mandate_args(typed), signature, sender=seller)


# --- opening cases --------------------------------------------------------------------------


def test_open_case__with_mandate__records_the_case(opened, market_registration_id, seller, case_manager):
    case = opened.case(REF)
    assert (case.registration_id, case.rights_holder, case.asset) == (market_registration_id, seller, ETH)
    assert (case.amount_due, case.amount_paid, case.commission_bps, case.step) == (DUE, 0, 3_000, 0)
    assert opened.case_count() == 1


def test_open_case__emits_case_opened_at_the_minimum_commission(mandated_settlement, case_manager, market_registration_id, seller):
    tx = open_case(mandated_settlement, case_manager, market_registration_id, seller)
    event = tx.decode_logs(mandated_settlement.CaseOpened)[0]
    assert event.reference == REF and event.rights_holder == seller and event.commission_bps == 3_000


def test_open_case__without_mandate__reverts(settlement, case_manager, market_registration_id, seller):
    with ape.reverts("settlement: no valid mandate from the owner"):
        open_case(settlement, case_manager, market_registration_id, seller)


def test_open_case__with_expired_mandate__reverts(chain, settlement, settlement_mandate, case_manager, market_registration_id, seller):
    typed, signature = settlement_mandate(settlement, expiry=chain.pending_timestamp + DAY)
    settlement.submit_mandate(mandate_args(typed), signature, sender=seller)
    chain.pending_timestamp += DAY
    with ape.reverts("settlement: no valid mandate from the owner"):
        open_case(settlement, case_manager, market_registration_id, seller)


def test_open_case__after_mandates_revoked__reverts(mandated_settlement, case_manager, market_registration_id, seller):
    mandated_settlement.revoke_mandates(sender=seller)
    assert not mandated_settlement.has_mandate(market_registration_id)
    with ape.reverts("settlement: no valid mandate from the owner"):
        open_case(mandated_settlement, case_manager, market_registration_id, seller)


def test_open_case__mandate_scoped_to_another_registration__reverts(settlement, settlement_mandate, mock_register, case_manager, market_registration_id, seller):
    other = registration_id_of("other.png")
    mock_register.set_owner(other, seller, sender=seller)
    typed, signature = settlement_mandate(settlement, registration_id=other)
    settlement.submit_mandate(mandate_args(typed), signature, sender=seller)
    with ape.reverts("settlement: no valid mandate from the owner"):
        open_case(settlement, case_manager, market_registration_id, seller)
    open_case(settlement, case_manager, other, seller)


def test_open_case__mandate_of_a_previous_owner__reverts(mandated_settlement, mock_register, case_manager, market_registration_id, stranger):
    mock_register.set_owner(market_registration_id, stranger, sender=stranger)
    with ape.reverts("settlement: no valid mandate from the owner"):
        open_case(mandated_settlement, case_manager, market_registration_id, stranger)


def test_open_case__rights_holder_not_the_owner__reverts(mandated_settlement, case_manager, market_registration_id, stranger):
    with ape.reverts("settlement: rights-holder is not the registration owner"):
        open_case(mandated_settlement, case_manager, market_registration_id, stranger)


def test_open_case__unknown_registration__reverts(mandated_settlement, case_manager, seller):
    with ape.reverts("settlement: unknown registration"):
        open_case(mandated_settlement, case_manager, registration_id_of("nothing"), seller)


def test_open_case__by_non_case_manager__reverts(mandated_settlement, stranger, market_registration_id, seller):
    with ape.reverts("access_control: account is missing role"):
        open_case(mandated_settlement, stranger, market_registration_id, seller)


def test_open_case__reference_reused__reverts(opened, case_manager, market_registration_id, seller):
    with ape.reverts("settlement: case reference already used"):
        open_case(opened, case_manager, market_registration_id, seller)


def test_open_case__amount_due_of_2_pow_128__reverts_so_the_commission_sum_cannot_overflow(mandated_settlement, case_manager, market_registration_id, seller):
    with ape.reverts("settlement: amount due must be below 2**128"):
        open_case(mandated_settlement, case_manager, market_registration_id, seller, amount=2**128)
    tx = open_case(mandated_settlement, case_manager, market_registration_id, seller, amount=2**128 - 1)
    assert tx.decode_logs(mandated_settlement.CaseOpened)[0].reference == REF
    assert mandated_settlement.case(REF).amount_due == 2**128 - 1


def test_open_case__bad_inputs__revert(mandated_settlement, case_manager, market_registration_id, seller, no_return_token):
    with ape.reverts("settlement: empty case reference"):
        open_case(mandated_settlement, case_manager, market_registration_id, seller, reference=b"\0" * 32)
    with ape.reverts("settlement: amount due is zero"):
        open_case(mandated_settlement, case_manager, market_registration_id, seller, amount=0)
    with ape.reverts("settlement: unsupported asset"):
        open_case(mandated_settlement, case_manager, market_registration_id, seller, asset=no_return_token.address)


# --- paying ---------------------------------------------------------------------------------


def test_pay__in_full__splits_and_settles(chain, opened, infringer, seller, treasury):
    tx = opened.pay(REF, DUE, sender=infringer, value=DUE)
    paid = tx.decode_logs(opened.CasePaid)[0]
    assert (paid.payer, paid.amount, paid.commission, paid.to_rights_holder, paid.outstanding) == (infringer, DUE, DUE * 3 // 10, DUE * 7 // 10, 0)
    step = tx.decode_logs(opened.StepLogged)[0]
    assert step.step == opened.SETTLED() and step.previous_step == 0
    assert opened.case(REF).step == opened.SETTLED()
    assert opened.credit(seller, ETH) == DUE * 7 // 10
    assert opened.credit(treasury, ETH) == DUE * 3 // 10
    assert chain.provider.get_balance(opened.address) == DUE


def test_pay__instalments__add_up(opened, infringer, stranger, seller):
    opened.pay(REF, DUE // 4, sender=infringer, value=DUE // 4)
    opened.pay(REF, DUE // 4, sender=stranger, value=DUE // 4)
    assert opened.outstanding(REF) == DUE // 2
    assert opened.case(REF).step == 0
    opened.pay(REF, DUE // 2, sender=infringer, value=DUE // 2)
    assert opened.case(REF).step == opened.SETTLED()
    assert opened.credit(seller, ETH) == DUE * 7 // 10


def test_pay__more_than_outstanding__takes_what_is_due_and_credits_the_rest_to_the_payer(chain, opened, infringer, seller, treasury):
    tx = opened.pay(REF, DUE + 5, sender=infringer, value=DUE + 5)
    paid = tx.decode_logs(opened.CasePaid)[0]
    assert (paid.amount, paid.outstanding) == (DUE, 0)
    returned = tx.decode_logs(opened.OverpaymentCredited)[0]
    assert (returned.reference, returned.payer, returned.amount) == (REF, infringer, 5)
    assert opened.case(REF).step == opened.SETTLED()
    assert (opened.credit(seller, ETH), opened.credit(treasury, ETH), opened.credit(infringer, ETH)) == (DUE * 7 // 10, DUE * 3 // 10, 5)
    opened.withdraw(ETH, sender=infringer)
    assert chain.provider.get_balance(opened.address) == DUE


def test_pay__one_wei_paid_first__the_exact_settlement_still_goes_through(opened, infringer, stranger, seller, treasury):
    opened.pay(REF, 1, sender=stranger, value=1)
    tx = opened.pay(REF, DUE, sender=infringer, value=DUE)
    assert tx.decode_logs(opened.CasePaid)[0].amount == DUE - 1
    assert opened.case(REF).step == opened.SETTLED()
    assert opened.credit(infringer, ETH) == 1
    assert opened.credit(seller, ETH) + opened.credit(treasury, ETH) == DUE


def test_pay__cpy_more_than_outstanding__pulls_only_what_is_due(mandated_settlement, case_manager, market_registration_id, seller, infringer, cpy_mock):
    open_case(mandated_settlement, case_manager, market_registration_id, seller, asset=cpy_mock.address)
    cpy_mock.approve(mandated_settlement, 2 * DUE, sender=infringer)
    mandated_settlement.pay(REF, 1, sender=infringer)
    before = cpy_mock.balanceOf(infringer)
    tx = mandated_settlement.pay(REF, DUE, sender=infringer)
    assert tx.decode_logs(mandated_settlement.CasePaid)[0].amount == DUE - 1
    assert not tx.decode_logs(mandated_settlement.OverpaymentCredited)
    assert cpy_mock.balanceOf(infringer) == before - (DUE - 1)
    assert cpy_mock.balanceOf(mandated_settlement) == DUE
    assert mandated_settlement.credit(infringer, cpy_mock) == 0


def test_pay__tiny_instalments__carry_the_commission_of_the_running_total(mandated_settlement, case_manager, market_registration_id, seller, treasury, infringer):
    open_case(mandated_settlement, case_manager, market_registration_id, seller, amount=10)
    for _ in range(10):
        mandated_settlement.pay(REF, 1, sender=infringer, value=1)
    # 30 % of 10 wei is 3 wei, however it was paid; rounded per instalment it would be 0.
    assert mandated_settlement.credit(treasury, ETH) == 3
    assert mandated_settlement.credit(seller, ETH) == 7
    assert mandated_settlement.commission_accrued(REF) == 10 * 3_000


def test_pay__settled_case__reverts(opened, infringer):
    opened.pay(REF, DUE, sender=infringer, value=DUE)
    with ape.reverts("settlement: case already settled"):
        opened.pay(REF, 1, sender=infringer, value=1)


def test_pay__closed_case__reverts(opened, infringer, case_manager):
    opened.log_step(REF, opened.CLOSED(), b"\0" * 32, sender=case_manager)
    with ape.reverts("settlement: case is closed"):
        opened.pay(REF, 1, sender=infringer, value=1)


def test_pay__unknown_case__reverts(opened, infringer):
    with ape.reverts("settlement: unknown case"):
        opened.pay(keccak(text="nope"), 1, sender=infringer, value=1)


def test_pay__eth_mismatch_or_zero__reverts(opened, infringer):
    with ape.reverts("settlement: sent ETH differs from the amount"):
        opened.pay(REF, 10, sender=infringer, value=9)
    with ape.reverts("settlement: payment is zero"):
        opened.pay(REF, 0, sender=infringer)


def test_pay__cpy_case__pulls_tokens_and_splits(mandated_settlement, case_manager, market_registration_id, seller, treasury, infringer, cpy_mock):
    open_case(mandated_settlement, case_manager, market_registration_id, seller, asset=cpy_mock.address)
    cpy_mock.approve(mandated_settlement, DUE, sender=infringer)
    with ape.reverts("settlement: ETH sent for a CPY case"):
        mandated_settlement.pay(REF, DUE, sender=infringer, value=1)
    mandated_settlement.pay(REF, DUE, sender=infringer)
    assert cpy_mock.balanceOf(mandated_settlement) == DUE
    mandated_settlement.withdraw(cpy_mock, sender=seller)
    mandated_settlement.withdraw(cpy_mock, sender=treasury)
    assert cpy_mock.balanceOf(seller) == DUE * 7 // 10 and cpy_mock.balanceOf(treasury) == DUE * 3 // 10


def test_pay_and_withdraw__token_without_return_values__work(settlement_factory, settlement_mandate, no_return_token, case_manager, market_registration_id, seller, infringer):
    escrow = settlement_factory(cpy_token=no_return_token)
    typed, signature = settlement_mandate(escrow)
    escrow.submit_mandate(mandate_args(typed), signature, sender=seller)
    open_case(escrow, case_manager, market_registration_id, seller, asset=no_return_token.address)
    no_return_token.approve(escrow, DUE, sender=infringer)
    escrow.pay(REF, DUE, sender=infringer)
    escrow.withdraw(no_return_token, sender=seller)
    assert no_return_token.balanceOf(seller) == DUE * 7 // 10


def test_withdraw__twice__second_reverts(opened, infringer, seller):
    opened.pay(REF, DUE, sender=infringer, value=DUE)
    before = seller.balance
    tx = opened.withdraw(ETH, sender=seller)
    assert seller.balance == before + DUE * 7 // 10 - tx.total_fees_paid
    with ape.reverts("settlement: nothing to withdraw"):
        opened.withdraw(ETH, sender=seller)


# --- the escalation ladder ------------------------------------------------------------------


def test_log_step__moves_forward_and_logs_each_step(opened, case_manager):
    letter = keccak(text="letter.pdf")
    for step in (opened.POST_LICENSING_LETTER(), opened.INVOICE(), opened.COURT_CLAIM()):
        tx = opened.log_step(REF, step, letter, sender=case_manager)
        event = tx.decode_logs(opened.StepLogged)[0]
        assert event.step == step and event.document_hash == letter and event.actor == case_manager
    assert opened.case(REF).step == opened.COURT_CLAIM()


def test_log_step__backwards_or_repeated__reverts(opened, case_manager):
    opened.log_step(REF, opened.INVOICE(), b"\0" * 32, sender=case_manager)
    for step in (opened.INVOICE(), opened.POST_LICENSING_LETTER()):
        with ape.reverts("settlement: steps only move forward"):
            opened.log_step(REF, step, b"\0" * 32, sender=case_manager)


def test_log_step__settled_by_hand_or_unknown__reverts(opened, case_manager):
    with ape.reverts("settlement: a case is settled by full payment only"):
        opened.log_step(REF, opened.SETTLED(), b"\0" * 32, sender=case_manager)
    with ape.reverts("settlement: unknown step"):
        opened.log_step(REF, 7, b"\0" * 32, sender=case_manager)


def test_log_step__closing_a_settled_case__succeeds(opened, infringer, case_manager):
    opened.pay(REF, DUE, sender=infringer, value=DUE)
    opened.log_step(REF, opened.CLOSED(), b"\0" * 32, sender=case_manager)
    assert opened.case(REF).step == opened.CLOSED()


def test_log_step__by_stranger__reverts(opened, stranger):
    with ape.reverts("access_control: account is missing role"):
        opened.log_step(REF, 1, b"\0" * 32, sender=stranger)


def test_raise_commission__before_legal_letter__reverts(opened, case_manager):
    opened.log_step(REF, opened.INVOICE(), b"\0" * 32, sender=case_manager)
    with ape.reverts("settlement: commission rises only at the legal letter or court claim step"):
        opened.raise_commission(REF, 5_000, sender=case_manager)


def test_raise_commission__at_legal_letter__applies_to_later_payments(opened, case_manager, infringer, treasury):
    opened.pay(REF, DUE // 2, sender=infringer, value=DUE // 2)
    opened.log_step(REF, opened.LEGAL_LETTER(), LEGAL_LETTER_PDF, sender=case_manager)
    tx = opened.raise_commission(REF, 5_000, sender=case_manager)
    assert tx.decode_logs(opened.CommissionRaised)[0].new_bps == 5_000
    opened.pay(REF, DUE // 2, sender=infringer, value=DUE // 2)
    assert opened.credit(treasury, ETH) == DUE // 2 * 3 // 10 + DUE // 2 // 2


@pytest.mark.parametrize("bps, reason", [(5_001, "settlement: commission above 5000 bps"), (3_000, "settlement: commission can only rise"), (2_000, "settlement: commission can only rise")])
def test_raise_commission__out_of_bounds__reverts(opened, case_manager, bps, reason):
    opened.log_step(REF, opened.LEGAL_LETTER(), LEGAL_LETTER_PDF, sender=case_manager)
    with ape.reverts(reason):
        opened.raise_commission(REF, bps, sender=case_manager)


def test_set_treasury__later_commissions_go_to_the_new_treasury(opened, owner, stranger, treasury, infringer):
    tx = opened.set_treasury(stranger, sender=owner)
    assert tx.decode_logs(opened.TreasuryChanged)[0].new_treasury == stranger
    opened.pay(REF, DUE, sender=infringer, value=DUE)
    assert opened.credit(stranger, ETH) == DUE * 3 // 10 and opened.credit(treasury, ETH) == 0
    with ape.reverts("access_control: account is missing role"):
        opened.set_treasury(infringer, sender=infringer)


# --- the register's claim window ------------------------------------------------------------


def test_open_case__registration_in_its_claim_window__reverts(chain, mandated_settlement, mock_register, case_manager, market_registration_id, seller):
    registered_at = chain.pending_timestamp
    mock_register.set_registered_at(market_registration_id, registered_at, sender=seller)
    assert mandated_settlement.CLAIM_WINDOW() == DAY
    chain.pending_timestamp = registered_at + DAY - 1
    with ape.reverts("settlement: registration still in its claim window"):
        open_case(mandated_settlement, case_manager, market_registration_id, seller)
    chain.pending_timestamp = registered_at + DAY
    open_case(mandated_settlement, case_manager, market_registration_id, seller)


# --- the commission is bound to documented escalation ----------------------------------------


@pytest.mark.parametrize("step", [3, 4])
def test_log_step__legal_letter_or_court_claim_without_document__reverts(opened, case_manager, step):
    with ape.reverts("settlement: a legal letter or court claim needs its document hash"):
        opened.log_step(REF, step, b"\0" * 32, sender=case_manager)
    with ape.reverts("settlement: commission rises only at the legal letter or court claim step"):
        opened.raise_commission(REF, 5_000, sender=case_manager)


def test_raise_commission__after_documented_court_claim__succeeds(opened, case_manager):
    opened.log_step(REF, opened.COURT_CLAIM(), keccak(text="claim.pdf"), sender=case_manager)
    tx = opened.raise_commission(REF, 4_000, sender=case_manager)
    event = tx.decode_logs(opened.CommissionRaised)[0]
    assert (event.previous_bps, event.new_bps) == (3_000, 4_000)


# --- revoked or expired mandates stop the platform acting on open cases ----------------------


def test_log_step_and_raise_commission__after_mandates_revoked__revert_but_closing_and_paying_work(opened, case_manager, seller, infringer):
    opened.log_step(REF, opened.LEGAL_LETTER(), LEGAL_LETTER_PDF, sender=case_manager)
    opened.revoke_mandates(sender=seller)
    with ape.reverts("settlement: the rights-holder's mandate is revoked or expired"):
        opened.log_step(REF, opened.COURT_CLAIM(), keccak(text="claim.pdf"), sender=case_manager)
    with ape.reverts("settlement: the rights-holder's mandate is revoked or expired"):
        opened.raise_commission(REF, 5_000, sender=case_manager)
    opened.pay(REF, DUE // 2, sender=infringer, value=DUE // 2)
    tx = opened.log_step(REF, opened.CLOSED(), b"\0" * 32, sender=case_manager)
    assert tx.decode_logs(opened.StepLogged)[0].step == opened.CLOSED()


def test_log_step__after_mandate_expired__reverts(chain, settlement, settlement_mandate, case_manager, market_registration_id, seller):
    typed, signature = settlement_mandate(settlement, expiry=chain.pending_timestamp + 2 * DAY)
    settlement.submit_mandate(mandate_args(typed), signature, sender=seller)
    open_case(settlement, case_manager, market_registration_id, seller)
    chain.pending_timestamp += 2 * DAY
    with ape.reverts("settlement: the rights-holder's mandate is revoked or expired"):
        settlement.log_step(REF, 1, keccak(text="letter.pdf"), sender=case_manager)


# --- verify_mandate and re-submission -------------------------------------------------------


def test_verify_mandate__zero_owner__is_false(settlement, settlement_mandate):
    typed, _ = settlement_mandate(settlement, owner=ETH)
    for signature in (b"", b"\0" * 65, b"\x01" * 64 + b"\x1b"):
        assert not settlement.verify_mandate(mandate_args(typed), signature)


def test_verify_mandate__signer_does_not_own_the_registration__is_false(settlement, settlement_mandate, mock_register, market_registration_id, stranger):
    typed, signature = settlement_mandate(settlement, registration_id=market_registration_id)
    assert settlement.verify_mandate(mandate_args(typed), signature)
    mock_register.set_owner(market_registration_id, stranger, sender=stranger)
    assert not settlement.verify_mandate(mandate_args(typed), signature)


def test_submit_mandate__shorter_resubmission__reverts_and_longer_extends(chain, settlement, settlement_mandate, seller, stranger):
    long_expiry = chain.pending_timestamp + 365 * DAY
    typed, signature = settlement_mandate(settlement, expiry=long_expiry)
    settlement.submit_mandate(mandate_args(typed), signature, sender=seller)
    for expiry in (long_expiry - DAY, long_expiry):
        shorter, shorter_signature = settlement_mandate(settlement, expiry=expiry)
        with ape.reverts("settlement: a recorded mandate already runs as long (revoke to shorten)"):
            settlement.submit_mandate(mandate_args(shorter), shorter_signature, sender=stranger)
    longer, longer_signature = settlement_mandate(settlement, expiry=long_expiry + DAY)
    settlement.submit_mandate(mandate_args(longer), longer_signature, sender=stranger)
    assert settlement.mandate_of(seller, 0).expiry == long_expiry + DAY

    settlement.revoke_mandates(sender=seller)
    renewed, renewed_signature = settlement_mandate(settlement, expiry=chain.pending_timestamp + 30 * DAY, nonce=1)
    settlement.submit_mandate(mandate_args(renewed), renewed_signature, sender=seller)
    assert settlement.mandate_of(seller, 0).expiry == renewed["message"]["expiry"]
