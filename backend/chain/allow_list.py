"""The sale's allow-list off-chain: reading investor CSVs and building the Merkle allow-list.

The Merkle tree matches OpenZeppelin's `StandardMerkleTree` for leaves of type `["address"]`:
a leaf is `keccak256(keccak256(abi.encode(address)))` and each inner node hashes its two children
in sorted order, which is what the sale verifies with snekmate's `merkle_proof_verification`.
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
        paths: dict[str, list[bytes]] = {investor: [] for investor in investors}
        # Each entry: (node hash, investors under it).
        layer = [(leaf(investor), [investor]) for investor in investors]
        while len(layer) > 1:
            parents = []
            for index in range(0, len(layer), 2):
                if index + 1 == len(layer):
                    parents.append(layer[index])
                    continue
                (left, left_investors), (right, right_investors) = layer[index], layer[index + 1]
                for investor in left_investors:
                    paths[investor].append(right)
                for investor in right_investors:
                    paths[investor].append(left)
                parents.append((_hash_pair(left, right), left_investors + right_investors))
            layer = parents
        return cls(root=layer[0][0], proofs=paths)

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
