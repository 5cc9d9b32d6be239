"""The CPY sale for investors: its state, one investor's standing and Merkle proof, and the
transactions they send (contribute, claim, refund). The operator's Merkle allow-list is kept in
the database, so that proofs are served to investors without the operator's file."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from web3 import Web3

from backend.chain import artifacts
from backend.chain.allow_list import MerkleAllowList, verify
from backend.chain.client import unsigned_transaction
from backend.chain.deploy import Deployment
from backend.errors import InvalidInput
from backend.chain.indexer import EventSource
from backend.marketplace.models import SaleAllowListEntry, SaleInvestor
from backend.models import ChainEvent, KeyValue

VESTING = ("BusinessDevelopmentVesting", "FoundersVesting")
ALLOW_LIST_ROOT_KEY = "sale:allow_list_root"
BURNED_KEY = "sale:burned"


class SaleEvents(EventSource):
    """CPYSale: how each investor was allow-listed (by an operator or a Merkle proof), their
    purchases, claims and refunds, and the tokens burned at finalization."""

    contract_name = "CPYSale"
    events = ("InvestorAllowListed", "InvestorRemovedFromAllowList", "TokensPurchased", "TokensClaimed",
              "RefundWithdrawn", "UnsoldTokensBurned")

    def apply(self, db: Session, event: ChainEvent) -> None:
        args = event.args
        if event.name == "UnsoldTokensBurned":
            burned = db.get(KeyValue, BURNED_KEY)
            db.merge(KeyValue(key=BURNED_KEY, value=str(int(burned.value if burned else 0) + int(args["token_amount"]))))
            db.flush()
            return
        investor = db.get(SaleInvestor, args["investor"]) or SaleInvestor(
            address=args["investor"], removed=False, contributed="0", tokens_bought="0", claimed="0", refunded="0")
        db.add(investor)
        if event.name == "InvestorAllowListed":
            investor.allow_listed_by = "merkle" if args["operator"] == self.address else "direct"
            investor.removed = False
        elif event.name == "InvestorRemovedFromAllowList":
            investor.removed = True
        elif event.name == "TokensPurchased":
            investor.contributed = str(int(investor.contributed) + int(args["wei_amount"]))
            investor.tokens_bought = str(int(investor.tokens_bought) + int(args["token_amount"]))
        elif event.name == "TokensClaimed":
            investor.claimed = str(int(investor.claimed) + int(args["token_amount"]))
        elif event.name == "RefundWithdrawn":
            investor.refunded = str(int(investor.refunded) + int(args["wei_amount"]))
        db.flush()

    def rebuild(self, db: Session, stale: list[ChainEvent]) -> None:
        db.execute(delete(SaleInvestor))
        db.execute(delete(KeyValue).where(KeyValue.key == BURNED_KEY))
        for event in self.remaining_events(db):
            self.apply(db, event)


def _address(name: str, value) -> str:
    if not isinstance(value, str) or not Web3.is_address(value):
        raise InvalidInput(f"{name!r} must be an Ethereum address (0x and 40 hex digits), got {value!r}")
    return Web3.to_checksum_address(value)


def parse_ether(text) -> int:
    """'1.5', '1.5ETH' or '1.5 ETH' in wei; refuses zero, negatives and fractions of a wei."""
    raw = str(text).strip().upper().removesuffix("ETH").strip()
    try:
        ether = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(f"{text!r} is not an amount of ETH, e.g. 1.5") from None
    if not ether.is_finite() or ether <= 0:
        raise InvalidInput(f"{text!r} must be a positive amount of ETH")
    wei = ether.scaleb(18)
    if wei != wei.to_integral_value():
        raise InvalidInput(f"{text!r} has more than 18 decimals (below one wei)")
    if wei >= 2**256:
        raise InvalidInput(f"{text!r} is more ETH than can exist")
    return int(wei)


class Sale:
    """The deployment's CPYSale, its token and the two vesting contracts."""

    def __init__(self, w3: Web3, deployment: Deployment):
        self.w3 = w3
        self.deployment = deployment
        self.contract = w3.eth.contract(address=deployment.address("CPYSale"), abi=artifacts.abi("CPYSale"))
        self.token = w3.eth.contract(address=deployment.address("CPYToken"), abi=artifacts.abi("CPYToken"))

    @property
    def address(self) -> str:
        return self.contract.address

    def status(self, db: Session) -> dict:
        """The sale now (from the contract; the tokens burned at finalization once that block is final)."""
        f = self.contract.functions
        sold = f.tokens_sold().call()
        tranches = range(f.tranche_count().call())
        limits = [f.tranche_limits(i).call() for i in tranches]
        rates = [f.tranche_rates(i).call() for i in tranches]
        tranche = next((i for i, limit in enumerate(limits) if sold < limit), len(limits))
        burned = db.get(KeyValue, BURNED_KEY)
        return {
            "address": self.address,
            "token": self.token.address,
            "token_symbol": self.token.functions.symbol().call(),
            "token_decimals": self.token.functions.decimals().call(),
            "rate": str(f.rate().call()),
            "base_rate": str(f.base_rate().call()),
            "tranche": tranche,
            "tranches": [{"until_sold": str(limit), "rate": str(rate)} for limit, rate in zip(limits, rates)],
            # past the last tranche the base rate applies, up to the hard cap
            "next_boundary": str(limits[tranche]) if tranche < len(limits) else None,
            "hard_cap": str(f.hard_cap().call()),
            "soft_cap": str(f.soft_cap().call()),
            "soft_cap_reached": f.soft_cap_reached().call(),
            "tokens_sold": str(sold),
            "wei_raised": str(f.wei_raised().call()),
            "min_contribution": str(f.min_contribution().call()),
            "max_contribution": str(f.max_contribution().call()),
            "opening_time": str(f.opening_time().call()),
            "closing_time": str(f.closing_time().call()),
            "open": f.is_open().call(),
            "paused": f.paused().call(),
            "finalized": f.finalized().call(),
            "burned": burned.value if burned else "0",
            "allow_list_root": "0x" + bytes(f.allow_list_root().call()).hex(),
            "vesting": self.vesting(),
            # the sale's window runs on the chain's clock, which a test chain may have moved ahead
            "chain_time": str(self.w3.eth.get_block("latest")["timestamp"]),
        }

    def investor(self, db: Session, address) -> dict:
        investor = _address("address", address)
        f = self.contract.functions
        root = bytes(f.allow_list_root().call())
        proof = stored_proof(db, root, investor)
        listed, revoked = f.is_allow_listed(investor).call(), f.is_revoked(investor).call()
        indexed = db.get(SaleInvestor, investor)
        if revoked:
            by = "removed"
        elif listed:  # on-chain already; the indexed event says whether an operator or a proof did it
            by = indexed.allow_listed_by if indexed is not None and indexed.allow_listed_by else "direct"
        else:
            by = "merkle" if proof is not None else None
        contributed = f.contribution_of(investor).call()
        owed = f.tokens_owed(investor).call()
        finalized, succeeded = f.finalized().call(), f.soft_cap_reached().call()
        return {
            "address": investor,
            "allow_listed": by in ("direct", "merkle"),
            "allow_listed_by": by,
            "merkle_proof": ["0x" + p.hex() for p in proof] if proof is not None else None,
            "contributed": str(contributed),
            "tokens_owed": str(owed),
            "remaining_allowance": str(max(f.max_contribution().call() - contributed, 0)),
            "min_contribution": str(f.min_contribution().call()),
            "claimable": str(owed if finalized and succeeded else 0),
            "refundable": str(f.refundable(investor).call()),
            "vesting": self.vesting(),
        }

    def vesting(self) -> list[dict]:
        """The business-development and founders' vesting schedules, with what is releasable now."""
        return [self._vesting(name) for name in VESTING if name in self.deployment.addresses]

    def _vesting(self, name: str) -> dict:
        vesting = self.w3.eth.contract(address=self.deployment.address(name), abi=artifacts.abi("TokenVesting"))
        f = vesting.functions
        released = f.released().call()
        return {
            "name": name,
            "address": vesting.address,
            "beneficiary": f.beneficiary().call(),
            "start": str(f.start().call()),
            "cliff_duration": str(f.cliff_duration().call()),
            "duration": str(f.duration().call()),
            "total": str(self.token.functions.balanceOf(vesting.address).call() + released),
            "released": str(released),
            "releasable": str(f.releasable().call()),
        }

    # -- transactions to send ----------------------------------------------------------------
    def _transaction(self, sender: str, call, value: int = 0) -> dict:
        return unsigned_transaction(self.w3, sender, call, value=value, refusal="the sale would refuse this: ")

    def contribute_transaction(self, db: Session, investor, amount) -> dict:
        investor = _address("investor", investor)
        wei = parse_ether(amount)
        f = self.contract.functions
        remaining = f.max_contribution().call() - f.contribution_of(investor).call()
        if wei > remaining:
            raise InvalidInput(f"{Web3.from_wei(wei, 'ether')} ETH is above {investor}'s remaining allowance of "
                               f"{Web3.from_wei(max(remaining, 0), 'ether')} ETH (the maximum per investor is "
                               f"{Web3.from_wei(f.max_contribution().call(), 'ether')} ETH)")
        if self.w3.eth.get_balance(investor) < wei:
            raise InvalidInput(f"{investor} holds less than {Web3.from_wei(wei, 'ether')} ETH")
        proof = stored_proof(db, bytes(f.allow_list_root().call()), investor)
        call = f.buy_tokens_with_proof(proof) if proof is not None and not f.is_allow_listed(investor).call() \
            else f.buy_tokens()
        return {"transactions": [{"step": "contribute", **self._transaction(investor, call, wei)}]}

    def claim_transaction(self, investor) -> dict:
        investor = _address("investor", investor)
        return {"transactions": [{"step": "claim", **self._transaction(investor, self.contract.functions.claim())}]}

    def refund_transaction(self, investor) -> dict:
        investor = _address("investor", investor)
        call = self.contract.functions.withdraw_refund()
        return {"transactions": [{"step": "refund", **self._transaction(investor, call)}]}


# -- the operator's Merkle allow-list -------------------------------------------------------
def store_allow_list(db: Session, tree: MerkleAllowList) -> None:
    """Keeps every investor's proof for `tree.root` (replacing what was kept for that root)."""
    root = "0x" + tree.root.hex()
    db.execute(delete(SaleAllowListEntry).where(SaleAllowListEntry.root == root))
    for investor, proof in tree.proofs.items():
        db.add(SaleAllowListEntry(root=root, investor=investor, proof=["0x" + p.hex() for p in proof]))
    db.merge(KeyValue(key=ALLOW_LIST_ROOT_KEY, value=root))


def stored_proof(db: Session, root: bytes, investor: str) -> list[bytes] | None:
    """The investor's proof under the sale's current root, if the operator's list names them."""
    if not any(root):
        return None
    entry = db.scalars(select(SaleAllowListEntry).where(
        SaleAllowListEntry.root == "0x" + root.hex(), SaleAllowListEntry.investor == investor)).first()
    if entry is None:
        return None
    proof = [bytes.fromhex(p[2:]) for p in entry.proof]
    return proof if verify(proof, root, investor) else None
