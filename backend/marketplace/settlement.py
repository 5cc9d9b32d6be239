"""Thin web3 binding of `contracts/SettlementEscrow.vy`.

Transactions are sent `from` the given address through the web3 instance as configured (an
unlocked node account, or a signing middleware for the operator's key).
"""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3

from backend.marketplace.binding import ContractBinding
from backend.marketplace.typed_data import ETH, MANDATE_FIELDS, STEPS, as_tuple, mandate_typed_data

MIN_COMMISSION_BPS = 3_000
MAX_COMMISSION_BPS = 5_000


class SettlementError(RuntimeError):
    """A settlement call could not be made as asked (the message says why)."""


@dataclass(frozen=True)
class Case:
    """A case as the escrow records it."""

    reference: bytes
    registration_id: int
    rights_holder: str
    asset: str
    amount_due: int
    amount_paid: int
    commission_bps: int
    step: str
    opened_at: int

    @property
    def outstanding(self) -> int:
        return self.amount_due - self.amount_paid


class SettlementEscrow(ContractBinding):
    """The settlement escrow at `address`."""

    contract_name = "SettlementEscrow"
    error = SettlementError

    @property
    def agent(self) -> str:
        return self.contract.functions.AGENT().call()

    def mandate_typed_data(self, owner: str, expiry: int, registration_id: int = 0) -> dict:
        """The EIP-712 mandate the owner signs; `registration_id` 0 covers all their registrations."""
        owner = Web3.to_checksum_address(owner)
        mandate = {
            "owner": owner,
            "agent": self.agent,
            "registration_id": int(registration_id),
            "expiry": int(expiry),
            "nonce": self.contract.functions.mandate_nonce(owner).call(),
        }
        return mandate_typed_data(self.w3.eth.chain_id, self.address, mandate)

    def submit_mandate(self, typed_mandate: dict, signature: bytes, sender: str) -> None:
        """Records a signed mandate on-chain (anyone may send it)."""
        call = self.contract.functions.submit_mandate(as_tuple(MANDATE_FIELDS, typed_mandate["message"]), bytes(signature))
        self._send(call, sender)

    def has_mandate(self, registration_id: int) -> bool:
        """Whether the current owner of the registration has mandated the platform."""
        return self.contract.functions.has_mandate(int(registration_id)).call()

    def open_case(
        self,
        *,
        reference: bytes,
        registration_id: int,
        rights_holder: str,
        amount_due: int,
        case_manager: str,
        asset: str = ETH,
    ) -> None:
        """Opens a case at MIN_COMMISSION_BPS (the sender needs CASE_MANAGER_ROLE, the owner's mandate
        must be recorded and the registration past the register's claim window)."""
        if len(reference) != 32:
            raise SettlementError(f"a case reference is 32 bytes, got {len(reference)}")
        call = self.contract.functions.open_case(
            bytes(reference),
            int(registration_id),
            Web3.to_checksum_address(rights_holder),
            int(amount_due),
            Web3.to_checksum_address(asset),
        )
        self._send(call, case_manager)

    def pay(self, reference: bytes, amount: int, payer: str) -> Case:
        """Pays towards a case (ETH as value; for CPY approve the escrow first); returns the case after.

        The case takes at most what is outstanding: the rest of an ETH payment is credited to the
        payer (`withdraw`), of CPY only what is due is pulled."""
        case = self.case(reference)
        value = amount if int(case.asset, 16) == 0 else 0
        self._send(self.contract.functions.pay(bytes(reference), int(amount)), payer, value)
        return self.case(reference)

    def log_step(self, reference: bytes, step: str, case_manager: str, document_hash: bytes = b"\0" * 32) -> None:
        """Logs an escalation step by name (see `STEPS`); steps only move forward."""
        if step not in STEPS:
            raise SettlementError(f"unknown step {step!r}; use one of {sorted(STEPS)}")
        if step in ("legal_letter", "court_claim") and not any(document_hash):
            raise SettlementError(f"a {step.replace('_', ' ')} is logged with the hash of its document")
        self._send(self.contract.functions.log_step(bytes(reference), STEPS[step], bytes(document_hash)), case_manager)

    def raise_commission(self, reference: bytes, new_bps: int, case_manager: str) -> None:
        """Raises the commission once a legal letter or court claim was logged (at most 5000 bps)."""
        if not MIN_COMMISSION_BPS < new_bps <= MAX_COMMISSION_BPS:
            raise SettlementError(f"a raised commission must be above {MIN_COMMISSION_BPS} and at most {MAX_COMMISSION_BPS} bps, got {new_bps}")
        self._send(self.contract.functions.raise_commission(bytes(reference), int(new_bps)), case_manager)

    def case(self, reference: bytes) -> Case:
        """The case with `reference`."""
        raw = self.contract.functions.case(bytes(reference)).call()
        if int(raw[1], 16) == 0:
            raise SettlementError(f"no case with reference 0x{bytes(reference).hex()}")
        names = {v: k for k, v in STEPS.items()}
        registration_id, rights_holder, asset, amount_due, amount_paid, commission_bps, step, opened_at = raw
        return Case(bytes(reference), registration_id, rights_holder, asset, amount_due, amount_paid, commission_bps, names[step], opened_at)

    def withdraw(self, account: str, asset: str = ETH) -> None:
        """Withdraws everything credited to `account` in `asset`."""
        self._send(self.contract.functions.withdraw(Web3.to_checksum_address(asset)), account)

    def credit(self, account: str, asset: str = ETH) -> int:
        return self.contract.functions.credit(Web3.to_checksum_address(account), Web3.to_checksum_address(asset)).call()

