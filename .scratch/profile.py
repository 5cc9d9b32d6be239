import sys, collections
sys.path.insert(0, "bench")
import gas_market as g
from ape import networks, chain, accounts, Project
from backend.marketplace.typed_data import domain_hash

def profile(tx):
    w3 = chain.provider.web3
    t = w3.provider.make_request("debug_traceTransaction", [tx.txn_hash, {"disableStorage": True, "disableMemory": True, "disableStack": True}])
    logs = t["result"]["structLogs"]
    by = collections.Counter()
    for i, l in enumerate(logs):
        cost = l["gasCost"]
        if l["op"] in ("CALL", "STATICCALL", "DELEGATECALL"):
            # charge only the call overhead, not the forwarded gas
            nxt = logs[i + 1] if i + 1 < len(logs) else None
            if nxt and nxt["depth"] > l["depth"]:
                cost = l["gas"] - nxt["gas"]
        by[(l["depth"], l["op"])] += cost
    print("total", tx.gas_used, "exec", sum(by.values()))
    for k, v in by.most_common(25):
        print(k, v)

with networks.parse_network_choice("ethereum:local:foundry"):
    project = Project(g.ROOT)
    owner, seller, buyer, treasury = accounts.test_accounts[:4]
    register = owner.deploy(project.MockRegister)
    cpy = owner.deploy(project.TestToken)
    market = owner.deploy(project.LicenseMarket, register, cpy, treasury, 500)
    rid = 12345678901234567890
    register.set_owner(rid, seller, sender=seller)
    args, sig = g.offer(market, seller, rid)
    tx = market.buy(args, sig, [domain_hash("shop.example")], sender=buyer, value=10**17)
    profile(tx)
    tx = market.buy(args, sig, [domain_hash("shop.example")], sender=buyer, value=10**17)
    profile(tx)
    print(len(bytes.fromhex(tx.data.hex()[2:] if isinstance(tx.data, str) else tx.data.hex())))
