"""Python binding of `CopyrightRegister`: the calls the backend and the CLI make.

A registration's id is the file's SHA-256 as an integer; the CID travels as (codec, digest)
because every CID we write is CIDv1 with a sha2-256 multihash.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from multiformats import CID, multihash
from web3 import Web3
from web3.exceptions import TransactionNotFound

from backend.chain import artifacts
from backend.chain.client import operator, transact, unsigned_transaction
from backend.chain.eip712 import typed_message
from backend.errors import ChainRejected, ChainUnavailable, InvalidInput

CODECS = {"raw": 0x55, "dag-pb": 0x70}
CODEC_NAMES = {code: name for name, code in CODECS.items()}
EIP712_NAME = "Copytrack Register"
EIP712_VERSION = "1"
REGISTER_TYPES = {
    "Register": [
        {"name": "owner", "type": "address"},
        {"name": "content_hash", "type": "bytes32"},
        {"name": "phash", "type": "uint64"},
        {"name": "cid_codec", "type": "uint16"},
        {"name": "cid_digest", "type": "bytes32"},
        {"name": "parent", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
REVEAL_TYPES = {
    "Reveal": [f for f in REGISTER_TYPES["Register"] if f["name"] not in ("nonce", "deadline")]
    + [
        {"name": "salt", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
ITEM_FIELDS = [f for f in REGISTER_TYPES["Register"] if f["name"] not in ("owner", "nonce", "deadline")]
REVEAL_BATCH_FIELDS = [
    {"name": "owner", "type": "address"},
    {"name": "items", "type": "Item[]"},
    {"name": "salt", "type": "bytes32"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
REVEAL_BATCH_TYPE = (
    "RevealBatch(address owner,Item[] items,bytes32 salt,uint256 nonce,uint256 deadline)"
    "Item(" + ",".join(f"{f['type']} {f['name']}" for f in ITEM_FIELDS) + ")"
)
ITEM_TYPE = REVEAL_BATCH_TYPE[REVEAL_BATCH_TYPE.index("Item("):]
VERIFICATION_LEVELS = {0: "none", 1: "identity checked", 2: "verified creator"}


def cid_parts(cid: str) -> tuple[int, bytes]:
    try:
        decoded = CID.decode(cid)
    except Exception as exc:
        raise InvalidInput(f"{cid!r} is not a valid CID: {exc}") from None
    if decoded.version != 1 or decoded.hashfun.name != "sha2-256" or decoded.codec.code not in CODEC_NAMES:
        raise InvalidInput(f"CID {cid} is not a CIDv1 raw or dag-pb CID with a sha2-256 hash")
    return decoded.codec.code, bytes(decoded.raw_digest)


def cid_string(codec: int, digest: bytes) -> str:
    return str(CID("base32", 1, CODEC_NAMES[codec], multihash.wrap(bytes(digest), "sha2-256")))


def registration_id(sha256_hex: str) -> int:
    return int(sha256_hex, 16)


def id_hex(registration: int | bytes) -> str:
    if isinstance(registration, (bytes, bytearray)):
        return "0x" + bytes(registration).hex()
    return f"0x{registration:064x}"


@dataclass(frozen=True)
class Item:
    content_hash: str  # 0x hex
    phash: str  # 16 hex digits
    cid: str
    parent: str | None = None  # registration id as 0x hex

    def as_tuple(self) -> tuple:
        codec, digest = cid_parts(self.cid)
        return (
            bytes.fromhex(self.content_hash[2:]),
            int(self.phash, 16),
            codec,
            digest,
            registration_id(self.parent) if self.parent else 0,
        )

    def message(self, owner: str, nonce: int, deadline: int) -> dict:
        content_hash, phash, codec, digest, parent = self.as_tuple()
        return {
            "owner": owner,
            "content_hash": "0x" + content_hash.hex(),
            "phash": phash,
            "cid_codec": codec,
            "cid_digest": "0x" + digest.hex(),
            "parent": parent,
            "nonce": nonce,
            "deadline": deadline,
        }

    def batch_message(self) -> dict:
        """The item as an `Item` struct of a `RevealBatch` message."""
        content_hash, phash, codec, digest, parent = self.as_tuple()
        return {"content_hash": "0x" + content_hash.hex(), "phash": phash, "cid_codec": codec,
                "cid_digest": "0x" + digest.hex(), "parent": parent}

    def struct_hash(self) -> bytes:
        """The EIP-712 hash of the item as an `Item` struct."""
        return Web3.keccak(abi_encode(["bytes32", *(f["type"] for f in ITEM_FIELDS)],
                                      [Web3.keccak(text=ITEM_TYPE), *self.as_tuple()]))


def _field(struct, name: str, index: int):
    """A decoded struct's field: web3 decodes tuples as dicts or as tuples depending on the ABI."""
    return struct[name] if isinstance(struct, dict) else struct[index]


class RegisterContract:
    def __init__(self, w3: Web3, address: str):
        self.w3 = w3
        self.address = Web3.to_checksum_address(address)
        self.contract = w3.eth.contract(address=self.address, abi=artifacts.abi("CopyrightRegister"))

    def register_transaction(self, owner: str, item: Item) -> dict:
        """The unsigned transaction a wallet sends to register `item` as `owner`."""
        data = self.contract.encode_abi("register", args=[item.as_tuple()])
        return {"from": owner, "to": self.address, "data": data, "value": "0x0", "chainId": self.w3.eth.chain_id}

    def _typed(self, types: dict, message: dict) -> dict:
        ((primary, fields),) = types.items()
        return typed_message(name=EIP712_NAME, version=EIP712_VERSION, chain_id=self.w3.eth.chain_id,
                             contract=self.address, primary=primary, fields=fields, message=message)

    def typed_data(self, owner: str, item: Item, nonce: int, deadline: int) -> dict:
        """The EIP-712 `Register` message for `register_by_sig` (JSON-ready)."""
        return self._typed(REGISTER_TYPES, item.message(owner, nonce, deadline))

    def reveal_typed_data(self, owner: str, item: Item, salt: str, nonce: int, deadline: int) -> dict:
        """The EIP-712 `Reveal` message for `reveal_by_sig`: a gasless, front-running-safe registration."""
        message = item.message(owner, nonce, deadline)
        message = {**{k: v for k, v in message.items() if k not in ("nonce", "deadline")},
                   "salt": salt, "nonce": nonce, "deadline": deadline}
        return self._typed(REVEAL_TYPES, message)

    def reveal_batch_typed_data(self, owner: str, items: list[Item], salt: str, nonce: int, deadline: int) -> dict:
        """The EIP-712 `RevealBatch` message for `reveal_batch_by_sig`: one signature for up to 100 images."""
        message = {"owner": owner, "items": [i.batch_message() for i in items], "salt": salt, "nonce": nonce,
                   "deadline": deadline}
        return typed_message(name=EIP712_NAME, version=EIP712_VERSION, chain_id=self.w3.eth.chain_id,
                             contract=self.address, primary="RevealBatch", fields=REVEAL_BATCH_FIELDS,
                             message=message, nested={"Item": ITEM_FIELDS})

    @staticmethod
    def batch_commitment(owner: str, items: list[Item], salt: str) -> bytes:
        """The commitment of a batch (the contract's `batch_commitment_of`), computed here so no node sees it."""
        items_hash = Web3.keccak(b"".join(i.struct_hash() for i in items))
        return Web3.keccak(abi_encode(
            ["bytes32", "address", "bytes32", "bytes32"],
            [Web3.keccak(text=REVEAL_BATCH_TYPE), Web3.to_checksum_address(owner), items_hash,
             bytes.fromhex(salt[2:])],
        ))

    def nonce_used(self, owner: str, nonce: int) -> bool:
        """Whether the owner has spent this unordered `RevealBatch` nonce."""
        return self.contract.functions.nonce_used(Web3.to_checksum_address(owner), nonce).call()

    def commit_call(self, commitment: bytes):
        return self.contract.functions.commit(commitment)

    def reveal_batch_call(self, owner: str, items: list[Item], salt: str, nonce: int, deadline: int, signature: str):
        return self.contract.functions.reveal_batch_by_sig(
            Web3.to_checksum_address(owner),
            [i.as_tuple() for i in items],
            bytes.fromhex(salt[2:]),
            nonce,
            deadline,
            bytes.fromhex(signature.removeprefix("0x")),
        )

    @staticmethod
    def signer_of(typed_data: dict, signature: str) -> str:
        return Account.recover_message(encode_typed_data(full_message=typed_data), signature=signature)

    def check_register_transaction(self, tx_hash: str, owner: str, content_hash: str) -> None:
        """Refuse `tx_hash` unless it exists (pending or mined, not reverted), was sent by `owner`
        to this register, and calls `register` or `register_batch` with `content_hash`."""
        try:
            tx = self.w3.eth.get_transaction(tx_hash)
            receipt = self.w3.eth.get_transaction_receipt(tx_hash) if tx.get("blockNumber") is not None else None
        except TransactionNotFound:
            raise InvalidInput(
                f"the chain knows no transaction {tx_hash}; send the register transaction first, then report its hash"
            ) from None
        except Exception as exc:
            raise ChainUnavailable(
                f"the chain node does not answer ({type(exc).__name__}); nothing was changed, try again later"
            ) from None
        if tx["to"] is None or Web3.to_checksum_address(tx["to"]) != self.address:
            raise InvalidInput(f"transaction {tx_hash} is not a call to the register at {self.address}")
        if Web3.to_checksum_address(tx["from"]) != Web3.to_checksum_address(owner):
            raise InvalidInput(f"transaction {tx_hash} was sent by {tx['from']}, not by this image's owner {owner}")
        try:
            function, args = self.contract.decode_function_input(tx["input"])
        except ValueError:
            raise InvalidInput(f"transaction {tx_hash} does not call register or register_batch") from None
        items = {"register": lambda: [args["item"]], "register_batch": lambda: args["items"]}.get(
            function.fn_name, lambda: []
        )()
        wanted = bytes.fromhex(content_hash.removeprefix("0x"))
        if not any(bytes(_field(item, "content_hash", 0)) == wanted for item in items):
            raise InvalidInput(f"transaction {tx_hash} does not register this image (content hash {content_hash})")
        if receipt is not None and receipt["status"] != 1:
            raise ChainRejected(f"transaction {tx_hash} reverted; send the registration again")

    def nonce(self, owner: str) -> int:
        return self.contract.functions.nonces(Web3.to_checksum_address(owner)).call()

    @staticmethod
    def commitment(owner: str, content_hash: str, salt: str) -> bytes:
        """`keccak256(abi_encode(owner, content_hash, salt))`, computed here so no node sees the salt."""
        encoded = abi_encode(
            ["address", "bytes32", "bytes32"],
            [Web3.to_checksum_address(owner), bytes.fromhex(content_hash[2:]), bytes.fromhex(salt[2:])],
        )
        return Web3.keccak(encoded)


    def commit(self, key: str, commitment: bytes) -> dict:
        return transact(self.w3, operator(key), self.commit_call(commitment))

    def commitment_time(self, commitment: bytes) -> int:
        return self.contract.functions.commitment_time(commitment).call()

    def reveal_call(self, owner: str, item: Item, salt: str, deadline: int, signature: str):
        return self.contract.functions.reveal_by_sig(
            Web3.to_checksum_address(owner),
            item.as_tuple(),
            bytes.fromhex(salt[2:]),
            deadline,
            bytes.fromhex(signature.removeprefix("0x")),
        )

    def latest_timestamp(self) -> int:
        return self.w3.eth.get_block("latest")["timestamp"]

    def register_with_key(self, key: str, items: list[Item]) -> dict:
        """Register as the key's own address (the CLI's path); one transaction for a batch."""
        tuples = [i.as_tuple() for i in items]
        call = (
            self.contract.functions.register(tuples[0])
            if len(tuples) == 1
            else self.contract.functions.register_batch(tuples)
        )
        return transact(self.w3, operator(key), call)

    def registration(self, reg_id: int) -> dict:
        owner, registered_at, phash, parent = self.contract.functions.registration(reg_id).call()[:4]
        return {"owner": owner, "registered_at": registered_at, "phash": f"{phash:016x}", "parent": parent}

    def verification_level(self, address: str) -> int:
        return self.contract.functions.verification_level(Web3.to_checksum_address(address)).call()

    def verification_transaction(self, attestor: str, account: str, level: int) -> dict:
        """The transaction an attestor's wallet sends to record `account`'s verification level."""
        attestor = Web3.to_checksum_address(attestor)
        f = self.contract.functions
        if not f.hasRole(f.ATTESTOR_ROLE().call(), attestor).call():
            raise ChainRejected(f"{attestor} does not hold the register's ATTESTOR_ROLE, so the register would refuse "
                                "this; the register's admin grants it (scripts/deploy.py --attestor)")
        call = f.set_verification(Web3.to_checksum_address(account), level)
        return unsigned_transaction(self.w3, attestor, call,
                                    refusal="the register would refuse this: ")

    def registration_count(self) -> int:
        return self.contract.functions.registration_count().call()
