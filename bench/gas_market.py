"""Gas of the licence market and the settlement escrow on a local anvil chain.

Run: `python bench/gas_market.py` (from the project root, after `ape compile`). Prints a
Markdown table, beside the figures of main before a licence was kept in one word (477daee) and
of the contracts before the storage of a licence was packed (72aaea1, issue 12), and whether the
purchase aims are met, then the market's deployed size. The mock register keeps owner and
priority time in one word and reads a parent word in `registration`, as the real register does,
so what a purchase or a case pays for reading it is what it pays on the real one. Offers are signed off-chain, so publishing
one costs no gas at all.
"""

import hashlib
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"
os.chdir(ROOT)

from ape import Project, accounts, chain, networks  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_account.messages import encode_typed_data  # noqa: E402
from eth_utils import keccak  # noqa: E402

from backend.marketplace.typed_data import (  # noqa: E402
    ETH,
    MANDATE_FIELDS,
    OFFER_FIELDS,
    as_tuple,
    domain_hash,
    encode_territory,
    mandate_typed_data,
    offer_typed_data,
)

DAY = 86_400

# The same bench on the contracts of commit 72aaea1 (every licence field in its own slot; a
# settlement payment refused above the amount outstanding), measured on 4 December 2026.
BEFORE = {
    "buy a licence in ETH (first of the registration)": 585_734,
    "buy a licence in ETH (same offer again)": 480_161,
    "buy a licence in CPY": 575_499,
    "release escrow once it may be released": 91_602,
    "withdraw (ETH)": 30_918,
    "withdraw (CPY)": 56_717,
    "seller refunds a held purchase": 113_040,
    "arbiter revokes a licence for fraud (refunds the held price)": 102_061,
    "recount licensed_until over 5 licences": 71_949,
    "cancel all offers (bump counter)": 44_857,
    "record a mandate": 60_330,
    "open a case": 186_712,
    "log an escalation step": 75_809,
    "pay a case in ETH (instalment)": 109_307,
    "raise the commission after a legal letter": 57_459,
    "pay a case in ETH (final, settles)": 63_305,
    "pay a case in CPY (in full)": 167_832,
    "withdraw settlement share (ETH)": 30_918,
}
# The same bench on main at 477daee (a licence in two words, `_holdings` and `_payments`; the
# register's whole `registration` read on every purchase), measured on 5 December 2026.
BEFORE_MAIN = {
    "buy a licence in ETH (first of the registration)": 175_356,
    "buy a licence in ETH (same offer again)": 124_275,
    "buy a licence in CPY": 182_628,
    "release escrow once it may be released": 84_474,
    "withdraw (ETH)": 31_057,
    "withdraw (CPY)": 56_856,
    "seller refunds a held purchase": 84_349,
    "arbiter revokes a licence for fraud (refunds the held price)": 70_917,
    "recount licensed_until over 5 licences": 49_639,
    "cancel all offers (bump counter)": 45_007,
    "record a mandate": 60_330,
    "open a case": 186_741,
    "log an escalation step": 75_809,
    "pay a case in ETH (instalment)": 109_804,
    "raise the commission after a legal letter": 101_989,
    "pay a case in ETH (final, settles)": 68_684,
    "pay a case in CPY (in full)": 168_309,
    "withdraw settlement share (ETH)": 30_918,
}
# The aims of issue 12 for a whole purchase transaction.
AIMS = {
    "buy a licence in ETH (first of the registration)": 150_000,
    "buy a licence in ETH (same offer again)": 120_000,
}


def sign(typed: dict, account) -> bytes:
    return bytes(Account.sign_message(encode_typed_data(full_message=typed), account.private_key).signature)


def offer(market, seller, registration_id, **fields) -> tuple[tuple, bytes]:
    message = {
        "seller": seller.address,
        "buyer": ETH,
        "registration_id": registration_id,
        "licence_type": 0,
        "territory": encode_territory(["DE", "AT", "CH"]),
        "duration": 365 * DAY,
        "seats": 1,
        "domains": [],
        "currency": ETH,
        "price": 10**17,
        "max_fee_bps": 2_000,
        "max_sales": 100,
        "expiry": chain.pending_timestamp + 30 * DAY,
        "counter": 0,
        "salt": secrets.randbits(256),
    }
    message.update(fields)
    typed = offer_typed_data(chain.chain_id, market.address, message)
    return as_tuple(OFFER_FIELDS, typed["message"]), sign(typed, seller)


def terms(receipt) -> tuple[int, tuple]:
    """The licence a purchase made and the terms its escrow pays out on, from its event."""
    event = next(e for e in receipt.events if e.event_name == "LicencePurchased")
    return event.licence_id, (event.licensee, event.seller, event.currency, event.price, event.previous_block_hash)


def measure() -> tuple[list[tuple[str, int]], int]:
    project = Project(ROOT)
    owner, seller, buyer, treasury, infringer, agent = accounts.test_accounts[:6]
    register = owner.deploy(project.MockRegister)
    cpy = owner.deploy(project.TestToken)
    for holder in (buyer, infringer):
        cpy.mint(holder, 10**24, sender=owner)
    market = owner.deploy(project.LicenseMarket, register, cpy, treasury, 500)
    escrow = owner.deploy(project.SettlementEscrow, register, cpy, treasury, agent)
    registration_id = int.from_bytes(hashlib.sha256(b"bench.jpg").digest(), "big")
    register.set_owner(registration_id, seller, sender=seller)
    domains = [domain_hash("shop.example")]
    rows = [("publish a licence offer (EIP-712 signature, off-chain)", 0)]

    args, signature = offer(market, seller, registration_id)
    first = market.buy(args, signature, domains, sender=buyer, value=10**17)
    rows.append(("buy a licence in ETH (first of the registration)", first.gas_used))
    rows.append(("buy a licence in ETH (same offer again)", market.buy(args, signature, domains, sender=buyer, value=10**17).gas_used))
    cpy.approve(market, 10**24, sender=buyer)
    args, signature = offer(market, seller, registration_id, currency=cpy.address, price=10**18)
    in_cpy = market.buy(args, signature, domains, sender=buyer)
    rows.append(("buy a licence in CPY", in_cpy.gas_used))
    chain.pending_timestamp += 7 * DAY + market.RELEASE_GRACE_PERIOD()
    rows.append(("release escrow once it may be released", market.release(*terms(first), sender=seller).gas_used))
    market.release(*terms(in_cpy), sender=seller)
    rows.append(("withdraw (ETH)", market.withdraw(ETH, sender=seller).gas_used))
    rows.append(("withdraw (CPY)", market.withdraw(cpy, sender=seller).gas_used))
    args, signature = offer(market, seller, registration_id, max_sales=2)
    refunded = market.buy(args, signature, domains, sender=buyer, value=10**17)
    revoked = market.buy(args, signature, domains, sender=buyer, value=10**17)
    count = market.licence_count()
    rows.append(("seller refunds a held purchase", market.seller_refund(*terms(refunded), sender=seller).gas_used))
    rows.append(("arbiter revokes a licence for fraud (refunds the held price)",
                 market.revoke(*terms(revoked), "copied image", sender=owner).gas_used))
    rows.append((f"recount licensed_until over {count} licences", market.recount_licensed_until(registration_id, 500, sender=seller).gas_used))
    rows.append(("cancel all offers (bump counter)", market.increment_counter(sender=seller).gas_used))

    mandate = mandate_typed_data(
        chain.chain_id,
        escrow.address,
        {"owner": seller.address, "agent": agent.address, "registration_id": 0, "expiry": chain.pending_timestamp + 365 * DAY, "nonce": 0},
    )
    rows.append(("record a mandate", escrow.submit_mandate(as_tuple(MANDATE_FIELDS, mandate["message"]), sign(mandate, seller), sender=owner).gas_used))
    reference = keccak(text="CT-BENCH-1")
    rows.append(("open a case", escrow.open_case(reference, registration_id, seller, 10**18, ETH, sender=owner).gas_used))
    rows.append(("log an escalation step", escrow.log_step(reference, 1, keccak(text="letter"), sender=owner).gas_used))
    rows.append(("pay a case in ETH (instalment)", escrow.pay(reference, 4 * 10**17, sender=infringer, value=4 * 10**17).gas_used))
    escrow.log_step(reference, 3, keccak(text="legal letter"), sender=owner)
    rows.append(("raise the commission after a legal letter", escrow.raise_commission(reference, 4_000, sender=owner).gas_used))
    rows.append(("pay a case in ETH (final, settles)", escrow.pay(reference, 6 * 10**17, sender=infringer, value=6 * 10**17).gas_used))
    cpy_reference = keccak(text="CT-BENCH-2")
    escrow.open_case(cpy_reference, registration_id, seller, 10**18, cpy, sender=owner)
    cpy.approve(escrow, 10**18, sender=infringer)
    rows.append(("pay a case in CPY (in full)", escrow.pay(cpy_reference, 10**18, sender=infringer).gas_used))
    rows.append(("withdraw settlement share (ETH)", escrow.withdraw(ETH, sender=seller).gas_used))
    return rows, len(chain.provider.web3.eth.get_code(market.address))


def main() -> None:
    with networks.parse_network_choice("ethereum:local:foundry"):
        rows, market_size = measure()
    print("| action | gas | before (main, 477daee) | before (72aaea1) | aim |")
    print("|---|---:|---:|---:|---|")
    for action, gas in rows:
        before = " | ".join(f"{figures[action]:,}" if action in figures else "" for figures in (BEFORE_MAIN, BEFORE))
        aim = ""
        if action in AIMS:
            aim = f"≤ {AIMS[action]:,}: {'met' if gas <= AIMS[action] else 'missed'}"
        print(f"| {action} | {gas:,} | {before} | {aim} |")
    print(f"\nLicenseMarket deployed: {market_size:,} bytes (limit 24,576)")


if __name__ == "__main__":
    main()
