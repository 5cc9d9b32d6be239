"""web3 access: connecting, sending transactions with an operator key, and turning the chain's
refusals into domain errors a person can act on."""

from __future__ import annotations

import logging
import re
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted

from backend.errors import ChainRejected, ChainUnavailable

log = logging.getLogger(__name__)

_REASON = re.compile(r"(?:revert(?:ed)?:?\s*)(.+)$")
_MODULE_PREFIX = re.compile(r"^[a-z_]+: ")  # "sale: below minimum": the contract's module names itself


def connect(url: str, timeout: float = 10.0) -> Web3:
    return Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))


def require_connection(w3: Web3) -> None:
    try:
        w3.eth.chain_id
    except Exception as exc:
        # The node's URL stays in the log: provider URLs often carry an API key.
        log.warning("chain node %s does not answer: %s", w3.provider.endpoint_uri, exc)
        raise ChainUnavailable(
            f"the chain node does not answer ({type(exc).__name__}); nothing was lost, try again when it is up"
        ) from None


def revert_reason(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(message, tuple):
        message = message[0]
    match = _REASON.search(str(message))
    return (match.group(1) if match else str(message)).strip().strip("'\"")


def unsigned_transaction(w3: Web3, sender: str, call: Any, *, value: int = 0, refusal: str = "") -> dict:
    """The transaction `sender` is to sign and send for `call`, after a dry run: a call the contract
    would refuse raises ChainRejected with its reason (`refusal` first, without the module prefix)."""
    try:
        call.call({"from": sender, "value": value})
    except (ContractLogicError, ContractCustomError) as exc:
        raise ChainRejected(refusal + _MODULE_PREFIX.sub("", revert_reason(exc))) from None
    return {"from": sender, "to": call.address, "data": call._encode_transaction_data(), "value": str(value),
            "chainId": w3.eth.chain_id}


def operator(private_key: str) -> LocalAccount:
    return Account.from_key(private_key)


def transact(w3: Web3, account: LocalAccount, call: Any, *, value: int = 0, timeout: float = 60.0) -> dict:
    """Send `call` (a web3 contract function call) signed by `account`; wait for the receipt.

    A revert is reported with the contract's reason before anything is sent (the gas estimate
    runs the call); a node that is down, or an account without funds, gives a clear error.
    """
    signed = sign_call(w3, account, call, value=value)
    return wait_for(w3, send_signed(w3, signed.raw_transaction), timeout=timeout)


def sign_call(w3: Web3, account: LocalAccount, call: Any, *, value: int = 0, nonce: int | None = None,
              then_gas: int = 0):
    """Build and sign `call` without sending it, so that its hash can be recorded before it leaves.

    The gas estimate runs the call: a revert is reported with the contract's reason, an account
    without funds with a clear error. `then_gas` is gas the account must still pay for afterwards
    (at the same fee), for a transaction that is useless without its follow-up. Returns
    eth-account's signed transaction (`hash`, `raw_transaction`).
    """
    try:
        if nonce is None:
            nonce = w3.eth.get_transaction_count(account.address, "pending")
        tx = call.build_transaction({"from": account.address, "value": value, "nonce": nonce})
    except (ContractLogicError, ContractCustomError) as exc:
        raise ChainRejected(f"the contract refused: {revert_reason(exc)}") from None
    except ValueError as exc:
        text = str(exc)
        if "insufficient funds" in text or "gas required exceeds" in text:
            raise ChainUnavailable(
                f"account {account.address} cannot pay for gas; fund it and retry", account=account.address
            ) from None
        raise ChainRejected(f"the chain refused the transaction: {revert_reason(exc)}") from None
    except Exception as exc:
        raise ChainUnavailable(f"the chain node does not answer ({type(exc).__name__}); retry later") from None
    balance = w3.eth.get_balance(account.address)
    if balance < (tx["gas"] + then_gas) * tx.get("maxFeePerGas", tx.get("gasPrice", 0)) + value:
        raise ChainUnavailable(
            f"account {account.address} has {Web3.from_wei(balance, 'ether')} ETH, not enough for gas; fund it and retry",
            account=account.address,
        )
    return account.sign_transaction(tx)


def send_signed(w3: Web3, raw_transaction: bytes) -> bytes:
    """Send a signed transaction; answers its hash."""
    try:
        return bytes(w3.eth.send_raw_transaction(raw_transaction))
    except ValueError as exc:
        raise ChainRejected(f"the chain refused the transaction: {revert_reason(exc)}") from None
    except Exception as exc:
        raise ChainUnavailable(f"the chain node does not answer ({type(exc).__name__}); retry later") from None


def wait_for(w3: Web3, tx_hash: bytes, *, timeout: float = 60.0) -> dict:
    """The receipt of a sent transaction; a revert or a transaction not mined in time is an error."""
    hex_hash = "0x" + bytes(tx_hash).hex()
    try:
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.2)
    except TimeExhausted:
        raise ChainUnavailable(f"transaction {hex_hash} was sent but not mined within {timeout:.0f}s") from None
    except Exception as exc:
        raise ChainUnavailable(f"the chain node does not answer ({type(exc).__name__}); retry later") from None
    if receipt["status"] != 1:
        raise ChainRejected(f"transaction {hex_hash} reverted", tx_hash=hex_hash)
    return receipt
