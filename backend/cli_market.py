"""`copytrack offers|licence|withdraw|sale|dev`: the buyer's, the rights-holder's and the investor's
journeys from a terminal. The backend drafts and checks; the user's key (keystore or
COPYTRACK_PRIVATE_KEY) signs here, and the transactions go straight to the chain."""

from __future__ import annotations

import json
import os
import re
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from eth_account.messages import encode_typed_data
from rich.console import Console
from rich.table import Table
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from backend.chain.client import connect, revert_reason
from backend.chain.register import id_hex
from backend.errors import DomainError
from backend.marketplace.offers import signable

console = Console()


# `backend.cli` registers these commands at its end, so its helpers are imported when a command
# runs (with `python -m backend.cli` that module is `__main__`, and a top-level import would loop).
def ApiClient(*args, **kwargs):
    from backend.cli import ApiClient as client

    return client(*args, **kwargs)


def CliError(message: str):
    from backend.cli import CliError as error

    return error(message)


def _api_url(api_url):
    from backend.cli import _api_url as resolve

    return resolve(api_url)


def _settings():
    from backend.cli import _settings as settings

    return settings()


def load_account(keystore):
    from backend.cli import load_account as load

    return load(keystore)


def _api_option(func):
    return click.option("--api", "api_url", envvar="COPYTRACK_API_URL",
                        help="Backend URL (default: the configured host and port).")(func)


_DURATION = re.compile(r"^(\d+)\s*([smhdw]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_AMOUNT = re.compile(r"^\s*([0-9.]+)\s*(ETH|CPY)?\s*$", re.IGNORECASE)


def parse_duration(text: str) -> int:
    """'365d', '12h', '90m', '3600' (seconds) in seconds."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise click.BadParameter(f"{text!r} is not a duration; write e.g. 365d, 12h, 90m or seconds")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_amount(text: str) -> tuple[int, str]:
    """'0.05ETH' or '100 CPY' as (base units, currency); a bare number is ETH (18 decimals both)."""
    match = _AMOUNT.match(text)
    try:
        amount = Decimal(match.group(1)) if match else None
    except InvalidOperation:
        amount = None
    if amount is None or amount <= 0:
        raise click.BadParameter(f"{text!r} is not a price; write e.g. 0.05ETH or 100CPY")
    units = amount.scaleb(18)
    if units != units.to_integral_value():
        raise click.BadParameter(f"{text!r} has more than 18 decimals")
    return int(units), (match.group(2) or "ETH").upper()


def _ether(wei) -> str:
    return f"{Decimal(int(wei)).scaleb(-18).normalize():f}"


def _when(timestamp) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(timestamp)))


class Wallet:
    """The user's key, the backend, and the chain node the backend names (or COPYTRACK_RPC_URL)."""

    def __init__(self, api_url: str | None, keystore: str | None, need_key: bool = True):
        self.client = ApiClient(_api_url(api_url))
        self.account = load_account(keystore) if need_key else None
        self._w3 = None

    @property
    def address(self) -> str:
        return self.account.address

    @property
    def w3(self) -> Web3:
        if self._w3 is None:
            status = self.client.call("GET", "/api/v1/status")
            url = os.environ.get("COPYTRACK_RPC_URL") or status["chain"]["rpc_url"]
            if not url:
                raise CliError(f"the backend names no public chain RPC; set COPYTRACK_RPC_URL to a node of chain "
                               f"{status['chain']['chain_id']}")
            self._w3 = connect(url)
        return self._w3

    def send(self, transactions: list[dict]) -> list[dict]:
        """Sign and send each transaction in order, waiting for each; a refusal in plain words."""
        receipts = []
        for step in transactions:
            tx = {"from": self.address, "to": step["to"], "data": step["data"], "value": int(step["value"]),
                  "chainId": int(step["chainId"]), "nonce": self.w3.eth.get_transaction_count(self.address, "pending")}
            try:
                tx["gas"] = self.w3.eth.estimate_gas(tx)
            except (ContractLogicError, ContractCustomError) as exc:
                raise CliError(f"{step['step'].replace('_', ' ')} refused: {_plain(revert_reason(exc))}") from None
            except ValueError as exc:
                raise CliError(f"{step['step'].replace('_', ' ')} cannot be sent: {revert_reason(exc)}") from None
            fees = self.w3.eth.fee_history(1, "latest")
            tx["maxPriorityFeePerGas"] = 10**9
            tx["maxFeePerGas"] = 2 * fees["baseFeePerGas"][-1] + tx["maxPriorityFeePerGas"]
            signed = self.account.sign_transaction(tx)
            with console.status(f"{step['step'].replace('_', ' ')}: waiting for {signed.hash.to_0x_hex()}…"):
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
                receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120, poll_latency=0.2)
            if receipt["status"] != 1:
                raise CliError(f"{step['step']} transaction {tx_hash.to_0x_hex()} failed on-chain")
            receipts.append(receipt)
        return receipts


def _plain(reason: str) -> str:
    for prefix in ("market: ", "sale: ", "register: ", "settlement: "):
        reason = reason.removeprefix(prefix)
    return reason


def _key_option(func):
    return click.option("--keystore", type=click.Path(exists=True, dir_okay=False),
                        help="Encrypted key file (else COPYTRACK_PRIVATE_KEY).")(func)


def _wait_for(client: ApiClient, path: str, timeout: float = 60) -> dict:
    """Poll `path` until the indexer has it (it records only final blocks, a few seconds late)."""
    deadline = time.monotonic() + timeout
    with console.status("waiting for the chain to make it final…"):
        while True:
            try:
                return client.call("GET", path)
            except click.ClickException:
                if time.monotonic() > deadline:
                    raise
            time.sleep(1)


# -- offers -----------------------------------------------------------------------------------
@click.group()
def offers() -> None:
    """Publish licence offers for your registrations, and search the offer book."""


@offers.command()
@click.argument("registration")
@click.option("--price", required=True, help="e.g. 0.05ETH or 100CPY.")
@click.option("--type", "licence_type", default="standard", show_default=True,
              type=click.Choice(["standard", "extended", "editorial", "exclusive"]))
@click.option("--territory", default="", help="Country codes, e.g. DE,AT (default: worldwide).")
@click.option("--duration", default="0", help="How long a licence runs, e.g. 365d (default: perpetual).")
@click.option("--domains", default="", help="Domains the licence covers, e.g. shop.example (default: the buyer names them).")
@click.option("--max-sales", default=1, show_default=True, type=click.IntRange(1, 2**32 - 1))
@click.option("--expires", default="30d", show_default=True, help="How long the offer stands.")
@_key_option
@_api_option
def publish(registration, price, licence_type, territory, duration, domains, max_sales, expires, keystore, api_url):
    """Sign an offer for REGISTRATION (its id) and put it into the book."""
    wallet = Wallet(api_url, keystore)
    amount, currency = parse_amount(price)
    now = wallet.w3.eth.get_block("latest")["timestamp"]
    terms = {
        "seller": wallet.address, "registration_id": registration, "price": str(amount), "currency": currency,
        "licence_type": licence_type, "countries": [c for c in territory.split(",") if c.strip()],
        "duration": parse_duration(duration), "domains": [d for d in domains.split(",") if d.strip()],
        "max_sales": max_sales, "expiry": now + parse_duration(expires),
    }
    draft = wallet.client.call("POST", "/api/v1/offers/draft", json=terms)
    typed = draft["typed_data"]
    signature = wallet.account.sign_message(encode_typed_data(full_message=signable(typed))).signature.to_0x_hex()
    answer = wallet.client.call("POST", "/api/v1/offers", json={"typed_data": typed, "signature": signature})
    console.print(f"offer {answer['offer_hash']} published: {licence_type} licence for {_ether(amount)} {currency}, "
                  f"{territory or 'worldwide'}, until {_when(terms['expiry'])}")


def _print_offers(rows: list[dict], title: str) -> None:
    table = Table(title=title)
    for column in ("offer hash", "registration", "title", "type", "territory", "price", "sold", "expires"):
        table.add_column(column, overflow="fold")
    for offer in rows:
        table.add_row(offer["hash"], offer["registration_id"], offer.get("title") or "", offer["licence_type"],
                      ",".join(offer["countries"]) or "worldwide", f"{_ether(offer['price'])} {offer['currency']}",
                      f"{offer['sold']}/{offer['max_sales']}", _when(offer["expiry"]))
    console.print(table)


@offers.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--registration", multiple=True, help="A registration id (repeatable).")
@click.option("--owner", multiple=True, help="A seller's address (repeatable).")
@click.option("--collection", multiple=True)
@click.option("--type", "licence_type", multiple=True)
@click.option("--territory", multiple=True, help="A country code; worldwide offers match too.")
@click.option("--currency", type=click.Choice(["ETH", "CPY"], case_sensitive=False))
@click.option("--max-price", help="e.g. 0.1ETH")
@click.option("--text", "q", help="Words in the image's title or collection.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON answer.")
@_api_option
def search(file, registration, owner, collection, licence_type, territory, currency, max_price, q, as_json, api_url):
    """Find offers: by picture (FILE, any copy of it) or by filters."""
    client = ApiClient(_api_url(api_url))
    if file is not None:
        with file.open("rb") as handle:
            answer = client.call("POST", "/api/v1/lookup", files={"file": (file.name, handle)})
        rows = [offer for match in answer["matches"] for offer in match["offers"]]
        if as_json:
            click.echo(json.dumps(answer, indent=2))
            return
        if not answer["matches"]:
            console.print(f"{file.name}: not registered, so nobody offers licences for it here")
            return
        _print_offers(rows, f"{file.name}: offers for {len(answer['matches'])} matching registration(s)")
        return
    params = {"registration": registration, "owner": owner, "collection": collection, "licence_type": licence_type,
              "territory": territory, "currency": currency, "q": q,
              "max_price": str(parse_amount(max_price)[0]) if max_price else None}
    answer = client.call("GET", "/api/v1/offers", params={k: v for k, v in params.items() if v})
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    _print_offers(answer["offers"], f"{answer['total']} offer(s)")


# -- licences ---------------------------------------------------------------------------------
@click.group()
def licence() -> None:
    """Buy, show, check and dispute licences."""


@licence.command()
@click.argument("offer_hash")
@click.option("--domain", "domains", multiple=True, help="A domain the licence covers (when the offer leaves it open).")
@_key_option
@_api_option
def buy(offer_hash, domains, keystore, api_url):
    """Buy a licence from the offer OFFER_HASH (pays from your key; CPY offers approve first)."""
    from backend.chain import artifacts

    wallet = Wallet(api_url, keystore)
    answer = wallet.client.call("POST", f"/api/v1/offers/{offer_hash}/buy",
                                json={"buyer": wallet.address, "domains": list(domains)})
    receipt = wallet.send(answer["transactions"])[-1]
    market = wallet.w3.eth.contract(abi=artifacts.abi("LicenseMarket"))
    (event,) = market.events.LicencePurchased().process_receipt(receipt)
    licence_id = event["args"]["licence_id"]
    console.print(f"bought licence {licence_id} for registration {id_hex(event['args']['registration_id'])} "
                  f"(transaction {receipt['transactionHash'].to_0x_hex()}); the money is held in escrow until "
                  f"{_when(event['args']['release_at'])}, you may dispute until then")


@licence.command()
@click.argument("licence_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@_api_option
def show(licence_id, as_json, api_url):
    """Show licence LICENCE_ID as recorded (and its certificate link)."""
    client = ApiClient(_api_url(api_url))
    answer = _wait_for(client, f"/api/v1/licences/{licence_id}/certificate")
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    lic = answer["licence"]
    table = Table(title=f"licence {licence_id}", show_header=False)
    for name, value in (
        ("image", f"{answer['image']['title'] or ''} ({lic['registration_id']})"),
        ("licensee", lic["licensee"]), ("seller", lic["seller"]), ("type", lic["licence_type"]),
        ("territory", ",".join(lic["countries"]) or "worldwide"), ("from", _when(lic["starts_at"])),
        ("until", _when(lic["ends_at"]) if lic["ends_at"] else "perpetual"),
        ("price", f"{_ether(lic['price'])} {lic['currency']}"), ("escrow", lic["escrow"]["status"]),
        ("valid", "yes" if answer["valid"] else "no (revoked or refunded)"), ("transaction", lic["tx_hash"]),
        ("verify at", answer["verify_url"]),
    ):
        table.add_row(name, str(value))
    console.print(table)


@licence.command()
@click.argument("registration")
@click.argument("domain")
@_api_option
def check(registration, domain, api_url):
    """Is anyone licensed to use REGISTRATION on DOMAIN now? (asks the market contract)"""
    answer = ApiClient(_api_url(api_url)).call("GET", "/api/v1/licences/check",
                                                params={"registration": registration, "domain": domain})
    if answer["licensed"]:
        console.print(f"{answer['domain']} is licensed for {registration}: held by {', '.join(answer['licensees'])}")
    else:
        console.print(f"{answer['domain']} holds no licence for {registration}")


@licence.command()
@click.argument("licence_id", type=int)
@click.option("--reason", required=True, help="Why, for the arbiter (at most 200 bytes).")
@_key_option
@_api_option
def dispute(licence_id, reason, keystore, api_url):
    """Dispute licence LICENCE_ID within the dispute window (you must be its licensee)."""
    wallet = Wallet(api_url, keystore)
    _wait_for(wallet.client, f"/api/v1/licences/{licence_id}")
    answer = wallet.client.call("POST", f"/api/v1/licences/{licence_id}/dispute",
                                json={"buyer": wallet.address, "reason": reason})
    wallet.send(answer["transactions"])
    console.print(f"licence {licence_id} disputed; the arbiter decides, the money stays in escrow meanwhile")


@licence.command()
@click.argument("licence_id", type=int)
@_key_option
@_api_option
def release(licence_id, keystore, api_url):
    """Release licence LICENCE_ID's escrow to the seller after the dispute window (anyone may)."""
    wallet = Wallet(api_url, keystore)
    _wait_for(wallet.client, f"/api/v1/licences/{licence_id}")
    answer = wallet.client.call("POST", f"/api/v1/licences/{licence_id}/release", json={"sender": wallet.address})
    wallet.send(answer["transactions"])
    console.print(f"escrow of licence {licence_id} released to the seller; they can `copytrack withdraw` it")


@click.command()
@click.option("--asset", type=click.Choice(["ETH", "CPY"]), default="ETH", show_default=True)
@click.option("--from", "source", type=click.Choice(["market", "settlement"]), default="market", show_default=True,
              help="The licence market (sales, refunds) or the settlement escrow (your share of case payments).")
@_key_option
@_api_option
def withdraw(asset, source, keystore, api_url):
    """Withdraw what the licence market or the settlement escrow credited you; with nothing to
    withdraw, says what each holds for you."""
    wallet = Wallet(api_url, keystore)
    held = wallet.client.call("GET", f"/api/v1/credits/{wallet.address}")
    if held[source][asset] == "0":
        elsewhere = [f"{_ether(amount)} {a} in the {name}" for name in ("market", "settlement")
                     for a, amount in held[name].items() if amount != "0"]
        raise CliError(f"nothing to withdraw in {asset} from the {source}"
                       + (f"; you have {', '.join(elsewhere)}" if elsewhere else ""))
    answer = wallet.client.call("POST", f"/api/v1/{source}/withdraw", json={"account": wallet.address, "asset": asset})
    wallet.send(answer["transactions"])
    console.print(f"withdrew {_ether(answer['credit'])} {asset} from the {source} to {wallet.address}")


# -- the sale ---------------------------------------------------------------------------------
@click.group()
def sale() -> None:
    """The CPY sale: its state, and contributing, claiming or refunding with your key."""


@sale.command("status")
@click.option("--json", "as_json", is_flag=True)
@_api_option
def sale_status(as_json, api_url):
    """The sale's price now, caps, sold and raised, window and state."""
    answer = ApiClient(_api_url(api_url)).call("GET", "/api/v1/sale")
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    table = Table(title=f"CPY sale {answer['address']}", show_header=False)
    state = "finalized" if answer["finalized"] else "paused" if answer["paused"] else "open" if answer["open"] else "closed"
    for name, value in (
        ("state", state), ("price now", f"{answer['rate']} CPY per ETH (tranche {answer['tranche']})"),
        ("sold", f"{_ether(answer['tokens_sold'])} of {_ether(answer['hard_cap'])} CPY"),
        ("raised", f"{_ether(answer['wei_raised'])} ETH"),
        ("soft cap", f"{_ether(answer['soft_cap'])} ETH, {'reached' if answer['soft_cap_reached'] else 'not reached'}"),
        ("per investor", f"{_ether(answer['min_contribution'])} to {_ether(answer['max_contribution'])} ETH"),
        ("window", f"{_when(answer['opening_time'])} to {_when(answer['closing_time'])}"),
        ("burned", f"{_ether(answer['burned'])} CPY"),
    ):
        table.add_row(name, value)
    console.print(table)


@sale.command()
@click.argument("address", required=False)
@_key_option
@_api_option
def investor(address, keystore, api_url):
    """Your standing in the sale (or ADDRESS's): allow-listed, contributed, owed, claimable."""
    wallet = Wallet(api_url, keystore, need_key=address is None)
    click.echo(json.dumps(wallet.client.call("GET", f"/api/v1/sale/investors/{address or wallet.address}"), indent=2))


@sale.command()
@click.argument("amount")
@_key_option
@_api_option
def contribute(amount, keystore, api_url):
    """Contribute AMOUNT ETH (e.g. 1.5); uses your Merkle proof when the allow-list has you."""
    wallet = Wallet(api_url, keystore)
    answer = wallet.client.call("POST", "/api/v1/sale/contribute", json={"investor": wallet.address, "amount": amount})
    wallet.send(answer["transactions"])
    standing = wallet.client.call("GET", f"/api/v1/sale/investors/{wallet.address}")
    console.print(f"contributed {amount} ETH; you have contributed {_ether(standing['contributed'])} ETH and are owed "
                  f"{_ether(standing['tokens_owed'])} CPY, claimable after the sale is finalized")


@sale.command()
@_key_option
@_api_option
def claim(keystore, api_url):
    """Claim your CPY after a successful sale."""
    wallet = Wallet(api_url, keystore)
    owed = wallet.client.call("GET", f"/api/v1/sale/investors/{wallet.address}")["claimable"]
    wallet.send(wallet.client.call("POST", "/api/v1/sale/claim", json={"investor": wallet.address})["transactions"])
    console.print(f"claimed {_ether(owed)} CPY to {wallet.address}")


@sale.command()
@_key_option
@_api_option
def refund(keystore, api_url):
    """Withdraw ETH the sale owes you back (an overflow at the hard cap, or a missed soft cap)."""
    wallet = Wallet(api_url, keystore)
    owed = wallet.client.call("GET", f"/api/v1/sale/investors/{wallet.address}")["refundable"]
    wallet.send(wallet.client.call("POST", "/api/v1/sale/refund", json={"investor": wallet.address})["transactions"])
    console.print(f"refunded {_ether(owed)} ETH to {wallet.address}")


@sale.command()
@_key_option
@_api_option
def finalize(keystore, api_url):
    """Finalize the sale after its close (anyone may): burns the unsold CPY."""
    from backend.chain import artifacts

    wallet = Wallet(api_url, keystore)
    address = wallet.client.call("GET", "/api/v1/sale")["address"]
    contract = wallet.w3.eth.contract(address=address, abi=artifacts.abi("CPYSale"))
    wallet.send([{"step": "finalize", "to": address, "data": contract.encode_abi("finalize"), "value": "0",
                  "chainId": wallet.w3.eth.chain_id}])
    console.print("sale finalized")


@sale.group()
def admin() -> None:
    """The operator's work on the deployment of `copytrack run` (reads its deployment file; signs
    with COPYTRACK_DEPLOYER_KEY, which holds the KYC operator role there)."""


@admin.command()
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def allowlist(csv_file):
    """Allow-list the investors of CSV_FILE by one Merkle root; their proofs are served by the API."""
    from backend.chain.allow_list import AllowListError, MerkleAllowList, read_investor_csv
    from backend.chain.client import operator, transact
    from backend.chain.sale import store_allow_list
    from backend.services import Services

    services = Services(_settings())
    try:
        services.db.migrate()
        tree = MerkleAllowList.build(read_investor_csv(csv_file))
        sale_ = services.sale()
        account = operator(services.settings.deployer_key)
        role = sale_.contract.functions.KYC_OPERATOR_ROLE().call()
        if not sale_.contract.functions.hasRole(role, account.address).call():
            raise CliError(f"{account.address} is not a KYC operator of the sale {sale_.address}; "
                           "set COPYTRACK_DEPLOYER_KEY to the operator's key")
        with services.db.session() as db:
            store_allow_list(db, tree)
        transact(services.w3, account, sale_.contract.functions.set_allow_list_root(tree.root))
    except AllowListError as exc:
        raise CliError(str(exc)) from None
    except DomainError as exc:
        raise CliError(exc.message) from None
    finally:
        services.close()
    console.print(f"allow-list root 0x{tree.root.hex()} set for {len(tree.proofs)} investor(s); "
                  "each can fetch their proof from /api/v1/sale/investors/ADDRESS")


# -- the local development chain ---------------------------------------------------------------
@click.group()
def dev() -> None:
    """Helpers for the local development chain (chain 31337 only)."""


@dev.command()
@click.argument("duration")
def advance(duration):
    """Move the local chain's clock forward by DURATION (e.g. 31d) and mine a block."""
    seconds = parse_duration(duration)
    settings = _settings()
    w3 = connect(settings.resolved_rpc_url)
    try:
        chain_id = w3.eth.chain_id
    except Exception:
        raise CliError(f"the chain node at {settings.resolved_rpc_url} does not answer; is `copytrack run` running?") from None
    if chain_id != 31337:
        raise CliError(f"chain {chain_id} is not the local development chain (31337); its clock is not ours to move")
    w3.provider.make_request("evm_increaseTime", [seconds])
    w3.provider.make_request("evm_mine", [])
    console.print(f"chain clock moved forward by {duration}; it is now {_when(w3.eth.get_block('latest')['timestamp'])}")


COMMANDS = (offers, licence, withdraw, sale, dev)
