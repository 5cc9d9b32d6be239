"""Integers a browser reads must survive JavaScript: the API's answer, parsed by JSON.parse in
Node and signed with viem through an anvil account, is accepted by the backend's relay."""

import json
import subprocess
from pathlib import Path

from eth_account import Account

from backend.chain.eip712 import json_safe
from tests.backend.test_images_api import upload
from tests.images import jpeg

SCRIPT = Path(__file__).with_name("sign_typed_data.mjs")
# anvil's fourth development account (public test key); anvil itself signs for it.
DEV_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"


def test_typed_data__wide_integers_are_decimal_strings_by_type():
    typed = {
        "types": {"EIP712Domain": [{"name": "chainId", "type": "uint256"}],
                  "M": [{"name": "small", "type": "uint16"}, {"name": "big", "type": "uint64"},
                        {"name": "list", "type": "uint256[]"}, {"name": "signed", "type": "int256"}]},
        "primaryType": "M",
        "domain": {"chainId": 31337},
        "message": {"small": 7, "big": 18443648216906967672, "list": [1, 2**255], "signed": -(2**60)},
    }
    safe = json_safe({"typed_data": typed, "transaction": {"to": "0x1", "data": "0x", "value": 10**18, "chainId": 1}})
    assert safe["typed_data"]["domain"] == {"chainId": "31337"}
    assert safe["typed_data"]["message"] == {"small": 7, "big": "18443648216906967672",
                                             "list": ["1", str(2**255)], "signed": str(-(2**60))}
    assert safe["transaction"]["value"] == "0xde0b6b3a7640000" and safe["transaction"]["chainId"] == 1


def test_upload_answer__parsed_and_signed_in_node_with_viem__is_accepted_by_the_relay(client, auth, chain, anvil):
    owner = Account.from_key(DEV_KEY)
    assert owner.address in chain.w3.eth.accounts  # anvil holds this key and signs for it
    headers = auth.headers(owner)
    answer = upload(client, headers, jpeg(90))
    assert answer.status_code == 201, answer.get_json()
    phash = answer.get_json()["image"]["phash"]
    assert int(phash, 16) > 2**53  # the value JSON.parse would have rounded as a number
    signed = subprocess.run(
        ["node", str(SCRIPT), anvil.url, owner.address],
        input=answer.get_data(as_text=True), capture_output=True, text=True, timeout=60, check=True,
    )
    result = json.loads(signed.stdout)
    assert result["phash"] == str(int(phash, 16))
    relayed = client.post(
        f"/api/v1/images/{answer.get_json()['image']['id']}/relay",
        json={"signature": result["signature"], "deadline": result["deadline"], "salt": result["salt"]},
        headers=headers,
    )
    assert relayed.status_code == 202, relayed.get_json()
    assert relayed.get_json()["status"] == "committed"
