"""What the marketplace and settlement bindings share: the deployed contract and sending a call."""

from __future__ import annotations

from web3 import Web3
from web3.exceptions import ContractLogicError

from backend.chain import artifacts


class ContractBinding:
    """A deployed contract called through `w3` as configured (an unlocked node account, or a
    signing middleware for a local key); refusals raise `error` with the contract's reason."""

    contract_name: str
    error: type[Exception] = RuntimeError

    def __init__(self, w3: Web3, address: str):
        self.w3 = w3
        self.contract = w3.eth.contract(
            address=Web3.to_checksum_address(address), abi=artifacts.abi(self.contract_name)
        )

    @property
    def address(self) -> str:
        return self.contract.address

    def _send(self, call, sender: str, value: int = 0):
        try:
            tx_hash = call.transact({"from": Web3.to_checksum_address(sender), "value": value})
        except ContractLogicError as error:
            raise self.error(f"the contract refused: {error.message}") from error
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise self.error(f"transaction {tx_hash.hex()} reverted")
        return receipt
