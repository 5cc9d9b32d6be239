"""The market's and the settlement escrow's events, applied to their tables by the chain indexer.

Both rebuild after a rollback by emptying their tables and replaying the events that remain:
reorgs are rare and these tables are small beside the events that make them.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from backend.chain.indexer import EventSource
from backend.chain.register import id_hex
from backend.marketplace.models import (
    CasePayment,
    CaseStep,
    EscrowCase,
    Licence,
    Mandate,
    OfferCancellation,
    SellerCounter,
    Withdrawal,
)
from backend.marketplace.typed_data import LICENCE_TYPES, STEPS, decode_territory
from backend.models import ChainEvent

LICENCE_TYPE_NAMES = {v: k for k, v in LICENCE_TYPES.items()}
STEP_NAMES = {v: k for k, v in STEPS.items()}


def _countries(territory_hex: str) -> str:
    return ",".join(decode_territory(bytes.fromhex(territory_hex[2:])))


def _withdrawal(db: Session, contract: str, event: ChainEvent) -> None:
    args = event.args
    db.add(Withdrawal(contract=contract, account=args["account"], asset=args["asset"], amount=str(args["amount"]),
                      tx_hash=event.tx_hash, block_number=event.block_number))


class MarketEvents(EventSource):
    """LicenseMarket: licences and their escrows, cancelled offers, seller counters, withdrawals."""

    contract_name = "LicenseMarket"
    events = ("LicencePurchased", "OfferCancelled", "CounterIncremented", "Disputed", "Frozen", "Refunded",
              "LicenceRevoked", "Released", "Withdrawn")

    def apply(self, db: Session, event: ChainEvent) -> None:
        args = event.args
        if event.name == "LicencePurchased":
            db.add(Licence(
                id=int(args["licence_id"]),
                registration_id=id_hex(int(args["registration_id"])),
                licensee=args["licensee"],
                seller=args["seller"],
                offer_hash=args["offer_hash"],
                licence_type=LICENCE_TYPE_NAMES.get(int(args["licence_type"]), str(args["licence_type"])),
                countries=_countries(args["territory"]),
                seats=int(args["seats"]),
                starts_at=int(args["starts_at"]),
                ends_at=int(args["ends_at"]) or None,
                domains=list(args["domains"]),
                currency=args["currency"],
                price=str(args["price"]),
                fee=str(args["fee"]),
                release_at=int(args["release_at"]),
                status="held",
                revoked=False,
                tx_hash=event.tx_hash,
                block_number=event.block_number,
                previous_block_hash=args.get("previous_block_hash"),
            ))
        elif event.name == "OfferCancelled":
            db.merge(OfferCancellation(offer_hash=args["offer_hash"], seller=args["seller"],
                                       block_number=event.block_number))
        elif event.name == "CounterIncremented":
            db.merge(SellerCounter(seller=args["seller"], counter=str(args["counter"])))
        elif event.name == "Withdrawn":
            _withdrawal(db, self.contract_name, event)
        else:
            licence = db.get(Licence, int(args["licence_id"]))
            if licence is None:
                return
            if event.name in ("Disputed", "Frozen"):  # the buyer's dispute, or the arbiter's freeze
                licence.status = "disputed" if event.name == "Disputed" else "frozen"
                licence.dispute_reason = args["reason"]
                licence.release_at = int(args["arbitration_deadline"])
            elif event.name == "Refunded":
                licence.status = "refunded"
                licence.refunded = str(args["amount"])
                licence.revoked = True
            elif event.name == "LicenceRevoked":
                licence.revoked = True
                licence.revocation_reason = args["reason"]
            elif event.name == "Released":
                licence.status = "released"
                licence.released_to_seller = str(args["seller_amount"])
        db.flush()

    def rebuild(self, db: Session, stale: list[ChainEvent]) -> None:
        for table in (Licence, OfferCancellation, SellerCounter):
            db.execute(delete(table))
        db.execute(delete(Withdrawal).where(Withdrawal.contract == self.contract_name))
        for event in self.remaining_events(db):
            self.apply(db, event)


class SettlementEvents(EventSource):
    """SettlementEscrow: mandates, cases, payments, escalation steps, withdrawals."""

    contract_name = "SettlementEscrow"
    events = ("MandateRecorded", "MandatesRevoked", "CaseOpened", "CasePaid", "StepLogged", "CommissionRaised",
              "Withdrawn")

    def apply(self, db: Session, event: ChainEvent) -> None:
        args = event.args
        chain = {"tx_hash": event.tx_hash, "block_number": event.block_number}
        if event.name == "MandateRecorded":
            registration = int(args["registration_id"])
            db.add(Mandate(owner=args["owner"], registration_id=id_hex(registration) if registration else None,
                           expiry=int(args["expiry"]), nonce=str(args["nonce"]), revoked=False, **chain))
        elif event.name == "MandatesRevoked":
            for mandate in db.query(Mandate).filter(Mandate.owner == args["owner"], Mandate.revoked.is_(False)):
                mandate.revoked = True
        elif event.name == "CaseOpened":
            db.add(EscrowCase(reference=args["reference"], registration_id=id_hex(int(args["registration_id"])),
                        rights_holder=args["rights_holder"], asset=args["asset"], amount_due=str(args["amount_due"]),
                        amount_paid="0", commission_bps=int(args["commission_bps"]), step="opened",
                        case_manager=args["case_manager"], **chain))
        elif event.name == "CasePaid":
            db.add(CasePayment(reference=args["reference"], payer=args["payer"], amount=str(args["amount"]),
                               to_rights_holder=str(args["to_rights_holder"]), commission=str(args["commission"]),
                               outstanding=str(args["outstanding"]), **chain))
            case = db.get(EscrowCase, args["reference"])
            if case is not None:
                case.amount_paid = str(int(case.amount_due) - int(args["outstanding"]))
        elif event.name == "StepLogged":
            step, previous = STEP_NAMES.get(int(args["step"]), str(args["step"])), STEP_NAMES.get(
                int(args["previous_step"]), str(args["previous_step"]))
            db.add(CaseStep(reference=args["reference"], step=step, previous_step=previous,
                            document_hash=args["document_hash"], actor=args["actor"], **chain))
            case = db.get(EscrowCase, args["reference"])
            if case is not None:
                case.step = step
        elif event.name == "CommissionRaised":
            case = db.get(EscrowCase, args["reference"])
            if case is not None:
                case.commission_bps = int(args["new_bps"])
        elif event.name == "Withdrawn":
            _withdrawal(db, self.contract_name, event)
        db.flush()

    def rebuild(self, db: Session, stale: list[ChainEvent]) -> None:
        for table in (CaseStep, CasePayment, EscrowCase, Mandate):
            db.execute(delete(table))
        db.execute(delete(Withdrawal).where(Withdrawal.contract == self.contract_name))
        for event in self.remaining_events(db):
            self.apply(db, event)
