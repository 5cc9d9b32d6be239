"""Gas of the CPY sale's operations on a local anvil, printed as a Markdown table.

Run from the project root: `python bench/gas_sale.py` (anvil and vyper on PATH, as `make bench`
arranges). Deploys the production rules (tranches 1,554 / 1,178 / 1,000 CPY/ETH up to
5M / 10M / 20M sold, then 740; 60M cap; 0.1–2,500 ETH) with the deployment plan and measures
each operation's `gas_used`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This checkout's `backend`, even when the shared virtualenv has another checkout installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ape import accounts, chain, networks, project  # noqa: E402
from ape.logging import logger  # noqa: E402

from backend.chain.allow_list import MerkleAllowList  # noqa: E402
from backend.chain.sale_deployment import CPY, DAY, ETHER, SaleParameters, plan_sale_suite  # noqa: E402

NETWORK = "ethereum:local:foundry"


def deploy_suite(deployer):
    now = chain.pending_timestamp
    plan = plan_sale_suite(
        deployer=deployer.address,
        nonce=deployer.nonce,
        sale=SaleParameters(opening_time=now, closing_time=now + 30 * DAY),
        sale_wallet=deployer.address,
        business_development_beneficiary=deployer.address,
        founders_beneficiary=deployer.address,
    )
    deployed, gas = {}, {}
    for step in plan.steps:
        contract = getattr(project, step.contract).deploy(*step.args, sender=deployer)
        deployed[step.contract] = contract
        gas[step.contract] = contract.creation_metadata.receipt.gas_used
    return deployed["CPYSale"], gas


def measure() -> list[tuple[str, int, str]]:
    owner, whale, second, crosser, merkle_investor = accounts.test_accounts[:5]
    sale, deploy_gas = deploy_suite(owner)
    sale.grantRole(sale.KYC_OPERATOR_ROLE(), owner, sender=owner)
    rows = [
        ("deploy CPYToken (mints and distributes 100M)", deploy_gas["CPYToken"], "once"),
        ("deploy CPYSale", deploy_gas["CPYSale"], "once"),
        ("deploy TokenVesting", deploy_gas["TokenVesting"], "once per allocation"),
    ]

    batch = [accounts.test_accounts.generate_test_account().address for _ in range(100)]
    receipt = sale.add_to_allow_list(batch, sender=owner)
    rows.append(("allow-list batch of 100", receipt.gas_used, f"{receipt.gas_used // 100:,} per investor"))
    tree = MerkleAllowList.build([merkle_investor.address, *batch])
    receipt = sale.set_allow_list_root(tree.root, sender=owner)
    rows.append(("set Merkle root (any list size)", receipt.gas_used, "one transaction for the whole list"))
    sale.add_to_allow_list([whale, second, crosser], sender=owner)

    receipt = sale.buy_tokens(value=ETHER, sender=whale)
    rows.append(("purchase, first of the whole sale", receipt.gas_used, "sale totals start from zero"))
    receipt = sale.buy_tokens(value=ETHER, sender=second)
    rows.append(("purchase, first by an investor", receipt.gas_used, "buy_tokens()"))
    receipt = sale.buy_tokens(value=ETHER, sender=whale)
    rows.append(("purchase, repeat", receipt.gas_used, "buy_tokens()"))
    receipt = whale.transfer(sale, ETHER)
    rows.append(("purchase by plain ETH transfer, repeat", receipt.gas_used, "__default__"))
    proof = tree.proof(merkle_investor.address)
    receipt = sale.buy_tokens_with_proof(proof, value=ETHER, sender=merkle_investor)
    rows.append(
        ("purchase with Merkle proof, first", receipt.gas_used, f"proof of {len(proof)} nodes (101 leaves)")
    )

    # Fill the first tranche (5M CPY at 1,554) to 1 CPY short, then cross it with 1 ETH.
    sale.buy_tokens(value=2_500 * ETHER - 3 * ETHER, sender=whale)
    remaining_in_tranche = 5_000_000 * CPY - sale.tokens_sold()
    sale.buy_tokens(value=(remaining_in_tranche - CPY) // 1_554, sender=second)
    receipt = sale.buy_tokens(value=ETHER, sender=crosser)
    rows.append(("purchase crossing a tranche limit, first", receipt.gas_used, "priced piecewise 1,554 → 1,178"))

    chain.pending_timestamp = sale.closing_time() + 1
    receipt = sale.finalize(sender=crosser)
    rows.append(("finalize (burns unsold CPY)", receipt.gas_used, "anyone, once"))
    receipt = sale.claim(sender=whale)
    rows.append(("claim", receipt.gas_used, "after finalize"))
    receipt = sale.withdraw_funds(sender=owner)
    rows.append(("withdraw raised ETH to the sale wallet", receipt.gas_used, "anyone, after finalize"))
    return rows


def main() -> None:
    logger.set_level("ERROR")
    with networks.parse_network_choice(NETWORK):
        rows = measure()
    print("| operation | gas | note |")
    print("|---|---:|---|")
    for operation, gas, note in rows:
        print(f"| {operation} | {gas:,} | {note} |")


if __name__ == "__main__":
    main()
