"""Reading investor CSVs and the Merkle allow-list, checked against the sale contract."""

import pytest

from backend.chain.allow_list import AllowListError, MerkleAllowList, read_investor_csv, verify
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
