"""The sale's allow-list off-chain: reading investor CSVs and building the Merkle allow-list.

The Merkle tree is laid out exactly like OpenZeppelin's `StandardMerkleTree.of(values, ["address"])`
(`@openzeppelin/merkle-tree`, default `sortLeaves: true`), so both produce the same root and proofs
for the same investors:
- a leaf is `keccak256(keccak256(abi.encode(address)))`;
- the leaves are sorted by hash and stored as a binary heap: for n leaves, an array of 2n-1 nodes
  with the smallest leaf last, and node i the sorted-pair hash of nodes 2i+1 and 2i+2;
- a proof lists the siblings on the way from the leaf to the root (node 0).
The sale checks proofs with snekmate's `merkle_proof_verification`, which hashes pairs in sorted
order like OpenZeppelin's `MerkleProof`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from eth_abi import encode
from eth_utils import is_address, keccak, to_checksum_address


class AllowListError(ValueError):
    """An allow-list file or address that cannot be used, with the reason and where."""


def read_investor_csv(path: Path) -> list[str]:
    """Checksummed, de-duplicated addresses from a CSV file, in file order.

    The file has an `address` column (other columns are ignored) or, without a header, the
    address in the first column. Blank lines are skipped; anything else that is not an address
    is an error naming the line.
    """
    text = Path(path).read_text(encoding="utf-8-sig")
    rows = [row for row in csv.reader(text.splitlines()) if any(cell.strip() for cell in row)]
    if not rows:
        raise AllowListError(f"{path}: no addresses found")
    header = [cell.strip().lower() for cell in rows[0]]
    column, first_line = (header.index("address"), 2) if "address" in header else (0, 1)
    body = rows[1:] if first_line == 2 else rows
    addresses: list[str] = []
    seen: set[str] = set()
    for line_number, row in enumerate(body, start=first_line):
        value = row[column].strip() if column < len(row) else ""
        if not is_address(value):
            raise AllowListError(f"{path}, line {line_number}: {value!r} is not an Ethereum address")
        address = to_checksum_address(value)
        if int(address, 16) == 0:
            raise AllowListError(f"{path}, line {line_number}: the zero address cannot be allow-listed")
        if address not in seen:
            seen.add(address)
            addresses.append(address)
    return addresses


def leaf(address: str) -> bytes:
    """The Merkle leaf of `address` (double keccak of its ABI encoding)."""
    return keccak(keccak(encode(["address"], [to_checksum_address(address)])))


def _hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b if a < b else b + a)


def heap_tree(sorted_leaves: list[bytes]) -> list[bytes]:
    """The node array of OpenZeppelin's `makeMerkleTree` over leaves already sorted by hash."""
    if not sorted_leaves:
        raise AllowListError("a Merkle allow-list needs at least one address")
    size = 2 * len(sorted_leaves) - 1
    tree: list[bytes] = [b""] * size
    for position, node in enumerate(sorted_leaves):
        tree[size - 1 - position] = node
    for index in range(size - 1 - len(sorted_leaves), -1, -1):
        tree[index] = _hash_pair(tree[2 * index + 1], tree[2 * index + 2])
    return tree


def heap_proof(tree: list[bytes], index: int) -> list[bytes]:
    """The siblings from node `index` up to the root of a `heap_tree`."""
    proof = []
    while index > 0:
        proof.append(tree[index + 1 if index % 2 else index - 1])
        index = (index - 1) // 2
    return proof


@dataclass(frozen=True)
class MerkleAllowList:
    """A Merkle tree over investor addresses: its root and a proof per investor."""

    root: bytes
    proofs: dict[str, list[bytes]]

    @classmethod
    def build(cls, addresses: list[str]) -> "MerkleAllowList":
        if not addresses:
            raise AllowListError("a Merkle allow-list needs at least one address")
        investors = sorted({to_checksum_address(a) for a in addresses}, key=leaf)
        tree = heap_tree([leaf(investor) for investor in investors])
        last = len(tree) - 1
        proofs = {investor: heap_proof(tree, last - position) for position, investor in enumerate(investors)}
        return cls(root=tree[0], proofs=proofs)

    def proof(self, address: str) -> list[bytes]:
        """The proof for `address`; an error if it is not in the tree."""
        investor = to_checksum_address(address)
        if investor not in self.proofs:
            raise AllowListError(f"{investor} is not in this Merkle allow-list")
        return self.proofs[investor]


def verify(proof: list[bytes], root: bytes, address: str) -> bool:
    """Checks a proof the way the sale does."""
    node = leaf(address)
    for sibling in proof:
        node = _hash_pair(node, sibling)
    return node == root
