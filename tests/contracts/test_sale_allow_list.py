"""Reading investor CSVs and the Merkle allow-list, checked against the sale contract."""

import pytest

from backend.chain.allow_list import AllowListError, MerkleAllowList, heap_tree, read_investor_csv, verify
from backend.chain.sale_deployment import ETHER

ALICE = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
BOB = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"


def write(tmp_path, text):
    path = tmp_path / "investors.csv"
    path.write_text(text)
    return path


def test_read_investor_csv__address_column__checksummed_in_file_order(tmp_path):
    path = write(tmp_path, f"name,address\nbob,{BOB.lower()}\nalice,{ALICE}\n\nbob again,{BOB}\n")

    assert read_investor_csv(path) == [BOB, ALICE]


def test_read_investor_csv__no_header__first_column(tmp_path):
    path = write(tmp_path, f"{ALICE},x\n{BOB}\n")

    assert read_investor_csv(path) == [ALICE, BOB]


def test_read_investor_csv__bad_address__names_the_line(tmp_path):
    path = write(tmp_path, f"address\n{ALICE}\n0x1234\n")

    with pytest.raises(AllowListError, match=r"line 3: '0x1234' is not an Ethereum address"):
        read_investor_csv(path)


def test_read_investor_csv__zero_address__rejected(tmp_path):
    path = write(tmp_path, "0x" + "0" * 40 + "\n")

    with pytest.raises(AllowListError, match="zero address cannot be allow-listed"):
        read_investor_csv(path)


def test_read_investor_csv__empty_file__rejected(tmp_path):
    with pytest.raises(AllowListError, match="no addresses found"):
        read_investor_csv(write(tmp_path, "\n\n"))


def test_merkle_allow_list__every_proof_verifies_only_for_its_address():
    addresses = [f"0x{index:040x}" for index in range(1, 12)]
    tree = MerkleAllowList.build(addresses)

    for address in addresses:
        assert verify(tree.proof(address), tree.root, address)
    assert not verify(tree.proof(addresses[0]), tree.root, addresses[1])
    with pytest.raises(AllowListError, match="not in this Merkle allow-list"):
        tree.proof(ALICE)


def test_merkle_allow_list__accepted_by_sale_for_every_leaf(deploy_sale, kyc_operator, accounts):
    sale = deploy_sale(allow_list=False)
    buyers = list(accounts[4:9])
    tree = MerkleAllowList.build([b.address for b in buyers] + [f"0x{index:040x}" for index in range(1, 4)])
    sale.set_allow_list_root(tree.root, sender=kyc_operator)

    for buyer in buyers:
        sale.buy_tokens_with_proof(tree.proof(buyer.address), value=ETHER // 10, sender=buyer)

    assert all(sale.is_allow_listed(buyer) for buyer in buyers)


# OpenZeppelin merkle-tree's published snapshot (src/standard.test.ts.md, "dump (with seed=0)",
# sortLeaves on): its 12 leaf hashes and the root StandardMerkleTree computed from them.
OPENZEPPELIN_LEAVES = [
    "0xfff0acc0b7c7dd4dca88db8b9ea4cb251797946d4bf09314f9487d079cbc8168",
    "0xf37f0986a1809cffdf18075f7ff12bdfbc6b46ac4966cbc1dbecf50e59b8146f",
    "0xc141a2c1fa419824b43dbded51a5087ffe99d20964d995f96fb619781a6662d2",
    "0xb2ec04776c599a72b9b1d2dfdee91560dc9f479643e201020ded568f68c06a80",
    "0xa596ffee17c3519d0311edb25ac6d28e08407856a2c6fd1db81a9260295f2851",
    "0x8cf4ffe7174807707948cd21858ba8360b8f37a69e12696a722c9a500970b7dd",
    "0x6de05019198fcc90ba19896fca48ba0c8f9dd00b7264c7a22284351f3652ea5c",
    "0x67c6abdc93cb48b54a8f8e02762d6582ba99455b1112824fa2913e51c14610a3",
    "0x53e63148bd7b5c974996c9469d0fcc9e764d34ddafec28eabb4a93399eb8b882",
    "0x53722a4093d3d803b22250c797e0d4fdda3aebfd9c151c8c775ffa8b440f4629",
    "0x4bda3fa8b7e83fdab2048e0faa3fc2edc803df4f2df2996309c71d9d560ea667",
    "0x02ad059b3cbe14ca74695645b9287bab95865054a44f35870ccb3224d57ae497",
]
OPENZEPPELIN_ROOT = "0x157e9c38a2614a4493a0e4c38e84a1b43a932665e4d42fa2bf345824b9f101b7"
# Node 8 of that snapshot's tree, the parent of its nodes 17 and 18.
OPENZEPPELIN_NODE_8 = "0xada38b6fdf007666bf5b19773191f484c99c249e44e1b07d5218f9eefb5ff9b3"


def test_heap_tree__matches_openzeppelin_standard_merkle_tree_snapshot():
    ascending = sorted(bytes.fromhex(node[2:]) for node in OPENZEPPELIN_LEAVES)

    tree = heap_tree(ascending)

    assert "0x" + tree[0].hex() == OPENZEPPELIN_ROOT
    assert "0x" + tree[8].hex() == OPENZEPPELIN_NODE_8
    assert ["0x" + node.hex() for node in tree[11:]] == OPENZEPPELIN_LEAVES


def test_merkle_allow_list__odd_leaf_count__proof_of_every_leaf_has_heap_depth():
    # 5 leaves: a heap of 9 nodes with the leaves at 4..8: nodes 4, 5, 6 sit at depth 2, nodes 7
    # and 8 (children of node 3) at depth 3. A pairwise layer-by-layer tree would give 1, 3, 3, 3, 3.
    tree = MerkleAllowList.build([f"0x{index:040x}" for index in range(1, 6)])

    assert sorted(len(proof) for proof in tree.proofs.values()) == [2, 2, 2, 3, 3]
