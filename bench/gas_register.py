"""Gas of registering images: CopyrightRegister beside the naive one-slot-per-field baseline.

Run from the project root after `ape compile`, with anvil on PATH:

    python bench/gas_register.py

Starts its own anvil (ape's foundry provider), deploys both contracts, sends real transactions
and prints a Markdown table of the gas used (whole transactions, including the 21,000 base).
Every image is fresh random bytes, so every registration writes new storage.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CODEC_RAW = 0x55
BATCH_SIZES = (10, 100)


def _put_toolchain_on_path() -> None:
    """ape-foundry looks anvil up on PATH; ape-vyper needs the venv's vyper."""
    extra = [str(PROJECT_ROOT / "node_modules" / ".bin"), str(Path(sys.executable).parent)]
    os.environ["PATH"] = os.pathsep.join(extra + [os.environ.get("PATH", "")])


def random_item(parent: int = 0) -> dict:
    data = secrets.token_bytes(1024)
    digest = hashlib.sha256(data).digest()
    return {
        "content_hash": digest,
        "phash": int.from_bytes(secrets.token_bytes(8), "big"),
        "cid_codec": CODEC_RAW,
        "cid_digest": digest,
        "parent": parent,
    }


def measure(accounts, project, chain) -> list[tuple[str, int, int | None]]:
    """Rows of (operation, gas per image in CopyrightRegister, gas per image in NaiveRegister)."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    deployer, creator, relayer = accounts[0], accounts[1], accounts[3]
    register = project.CopyrightRegister.deploy(sender=deployer)
    naive = project.NaiveRegister.deploy(sender=deployer)

    # Warm-up: the first write to the counters of a fresh contract costs a fresh slot, which every
    # later registration does not pay; make both contracts' counters non-zero first.
    register.register(random_item(), sender=deployer)
    naive.register(random_item(), sender=deployer)

    rows: list[tuple[str, int, int | None]] = []
    ours = register.register(random_item(), sender=creator).gas_used
    theirs = naive.register(random_item(), sender=creator).gas_used
    rows.append(("register, one image", ours, theirs))

    for size in BATCH_SIZES:
        ours = register.register_batch([random_item() for _ in range(size)], sender=creator).gas_used
        theirs = naive.register_batch([random_item() for _ in range(size)], sender=creator).gas_used
        rows.append((f"register_batch of {size}, per image", ours // size, theirs // size))

    parent = random_item()
    register.register(parent, sender=creator)
    child = random_item(parent=int.from_bytes(parent["content_hash"], "big"))
    rows.append(("register, derivative work (first child)", register.register(child, sender=creator).gas_used, None))

    item = random_item()
    salt = secrets.token_bytes(32)
    commitment = register.commitment_of(creator.address, item["content_hash"], salt)
    commit_gas = register.commit(commitment, sender=creator).gas_used
    chain.mine(deltatime=12)
    reveal_gas = register.reveal(item, salt, sender=creator).gas_used
    rows.append(("commit", commit_gas, None))
    rows.append(("reveal", reveal_gas, None))
    rows.append(("commit + reveal", commit_gas + reveal_gas, None))

    item = random_item()
    deadline = chain.pending_timestamp + 3600
    message = {
        "owner": creator.address,
        **{key: item[key] for key in ("content_hash", "phash", "cid_codec", "cid_digest", "parent")},
        "nonce": register.nonces(creator.address),
        "deadline": deadline,
    }
    domain = {"name": "Copytrack Register", "version": "1", "chainId": chain.chain_id,
              "verifyingContract": register.address}
    types = {"Register": [
        {"name": "owner", "type": "address"}, {"name": "content_hash", "type": "bytes32"},
        {"name": "phash", "type": "uint64"}, {"name": "cid_codec", "type": "uint16"},
        {"name": "cid_digest", "type": "bytes32"}, {"name": "parent", "type": "uint256"},
        {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"},
    ]}
    signature = Account.sign_message(encode_typed_data(domain, types, message), creator.private_key).signature
    by_sig = register.register_by_sig(creator.address, item, deadline, bytes(signature), sender=relayer).gas_used
    rows.append(("register_by_sig (paid by the relayer)", by_sig, None))

    # The backend's gasless path for many images: one RevealBatch signature, one commit, one reveal.
    item_fields = [{"name": f["name"], "type": f["type"]} for f in types["Register"][1:6]]
    batch_types = {
        "RevealBatch": [{"name": "owner", "type": "address"}, {"name": "items", "type": "Item[]"},
                        {"name": "salt", "type": "bytes32"}, {"name": "nonce", "type": "uint256"},
                        {"name": "deadline", "type": "uint256"}],
        "Item": item_fields,
    }
    for size in (1, *BATCH_SIZES):
        items = [random_item() for _ in range(size)]
        salt = secrets.token_bytes(32)
        commit_gas = register.commit(register.batch_commitment_of(creator.address, items, salt),
                                     sender=relayer).gas_used
        chain.mine(deltatime=12)
        deadline = chain.pending_timestamp + 3600
        message = {"owner": creator.address, "items": items, "salt": salt, "nonce": size, "deadline": deadline}
        signature = Account.sign_message(encode_typed_data(domain, batch_types, message),
                                         creator.private_key).signature
        reveal_gas = register.reveal_batch_by_sig(creator.address, items, salt, size, deadline, bytes(signature),
                                                  sender=relayer).gas_used
        rows.append((f"gasless batch of {size} (commit + reveal_batch_by_sig, relayer pays), per image",
                     (commit_gas + reveal_gas) // size, None))
    return rows


def markdown_table(rows: list[tuple[str, int, int | None]]) -> str:
    lines = [
        "| operation | CopyrightRegister (gas) | NaiveRegister (gas) | naive / packed |",
        "|---|---:|---:|---:|",
    ]
    for name, ours, theirs in rows:
        if theirs is None:
            lines.append(f"| {name} | {ours:,} | – | – |")
        else:
            lines.append(f"| {name} | {ours:,} | {theirs:,} | {theirs / ours:.2f}× |")
    return "\n".join(lines)


def main() -> None:
    _put_toolchain_on_path()
    os.chdir(PROJECT_ROOT)
    from ape import accounts, chain, networks, project
    from ape.logging import logger

    logger.set_level("ERROR")  # the table only, not one log line per transaction
    with networks.parse_network_choice("ethereum:local:foundry"):
        rows = measure(accounts.test_accounts, project, chain)
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
