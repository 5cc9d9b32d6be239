"""Operate the CPY sale: `ape run sale deploy|allowlist|remove|status|finalize|withdraw`.

`deploy` creates the two vesting contracts, the sale and the token (in that order, from one
account; see backend/chain/sale_deployment.py) and records the addresses in
`var/sale-deployment-<chain id>.json`, which the other commands read unless `--sale` is given.
Every command takes ape's `--network` option (default: a fresh local anvil) and the
transaction-sending ones `--account`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from ape import chain, project
from ape.cli import ConnectedProviderCommand, account_option, ape_cli_context
from eth_utils import is_address, to_checksum_address

from backend.chain.allow_list import AllowListError, MerkleAllowList, read_investor_csv
from backend.chain.sale_deployment import CPY, ETHER, PRESETS, plan_sale_suite, preset_parameters

DEPLOYMENTS_DIR = Path(__file__).resolve().parents[1] / "var"
MAX_BATCH = 256


def _deployment_file() -> Path:
    return DEPLOYMENTS_DIR / f"sale-deployment-{chain.chain_id}.json"


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _load_sale(address: str | None):
    if address is None:
        path = _deployment_file()
        if not path.exists():
            raise click.UsageError(
                f"no sale recorded for chain {chain.chain_id} at {path}; "
                "pass --sale ADDRESS or run `ape run sale deploy` on this network first"
            )
        address = json.loads(path.read_text())["sale"]
    if not chain.provider.get_code(address):
        raise click.UsageError(f"no contract at {address} on chain {chain.chain_id}; check --sale and --network")
    return project.CPYSale.at(address)


def parse_ether(text: str) -> int:
    """Wei from a decimal ETH amount, exactly (no float rounding); at most 18 decimals."""
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise click.BadParameter(f"{text!r} is not a number of ETH, e.g. 500 or 0.25") from None
    if not amount.is_finite() or amount < 0:
        raise click.BadParameter(f"{text!r} must be a non-negative number of ETH")
    wei = amount * ETHER
    if wei != wei.to_integral_value():
        raise click.BadParameter(f"{text!r} has more than 18 decimals (below one wei)")
    return int(wei)


def _check_address_option(name: str, value: str) -> str:
    if not is_address(value) or int(value, 16) == 0:
        raise click.BadParameter(f"{value!r} is not a non-zero Ethereum address", param_hint=name)
    return to_checksum_address(value)


def resolve_recipients(preset: str, given: dict[str, str | None], deployer: str) -> dict[str, str]:
    """The recipients by option name: checked addresses; the deployer stands in only on `local`."""
    missing = [name for name, value in given.items() if value is None]
    if preset != "local" and missing:
        raise click.UsageError(
            f"--preset {preset} needs {', '.join(missing)}: the recipients of real funds are never "
            "defaulted to the deploying account"
        )
    return {name: deployer if value is None else _check_address_option(name, value) for name, value in given.items()}


sale_option = click.option("--sale", "sale_address", default=None, help="Sale address (default: the recorded deployment).")


@click.group()
def cli():
    """Deploy and operate the CPY crowdsale."""


@cli.command(cls=ConnectedProviderCommand)
@ape_cli_context()
@account_option()
@click.option("--preset", type=click.Choice(PRESETS), default="local", show_default=True,
              help="original: the historic schedule (closing 9 Feb 2018 23:59:59 UTC); local: opens now, closes in 30 days.")
@click.option("--sale-wallet", default=None,
              help="Receives the raised ETH (required with --preset original; local default: the deploying account).")
@click.option("--business-development-beneficiary", default=None,
              help="Receives the vested 20M (required with --preset original; local default: the deploying account).")
@click.option("--founders-beneficiary", default=None,
              help="Receives the vested founders' 20M (required with --preset original; local default: the deploying account).")
@click.option("--kyc-operator", default=None, help="Gets the KYC operator role (default: the deploying account).")
@click.option("--admin", default=None,
              help="Gets the sale's admin role (pause, roles); the deploying account then renounces it.")
@click.option("--soft-cap-eth", default="0", show_default=True,
              help="Soft cap in ETH, read exactly as a decimal (e.g. 500 or 0.25); 0 for none.")
def deploy(cli_ctx, account, preset, sale_wallet, business_development_beneficiary, founders_beneficiary,
           kyc_operator, admin, soft_cap_eth):
    """Deploy vesting ×2, the sale and the token; the deployer keeps no CPY."""
    recipients = resolve_recipients(
        preset,
        {
            "--sale-wallet": sale_wallet,
            "--business-development-beneficiary": business_development_beneficiary,
            "--founders-beneficiary": founders_beneficiary,
        },
        account.address,
    )
    kyc_operator = _check_address_option("--kyc-operator", kyc_operator) if kyc_operator else account.address
    admin = _check_address_option("--admin", admin) if admin else None
    soft_cap = parse_ether(soft_cap_eth)
    now = chain.pending_timestamp
    rules = preset_parameters(preset, now)
    if rules.closing_time <= now:
        raise click.UsageError(
            f"the {preset} schedule closed at {_utc(rules.closing_time)} but this chain's clock is at "
            f"{_utc(now)}; deploy it on a chain started before the opening, "
            f"e.g. `anvil --timestamp {rules.opening_time - 3600}`"
        )
    rules = replace(rules, soft_cap=soft_cap)
    try:
        plan = plan_sale_suite(
            deployer=account.address,
            # The pending nonce: transactions of this account still in the mempool come first.
            nonce=chain.provider.web3.eth.get_transaction_count(account.address, "pending"),
            sale=rules,
            sale_wallet=recipients["--sale-wallet"],
            business_development_beneficiary=recipients["--business-development-beneficiary"],
            founders_beneficiary=recipients["--founders-beneficiary"],
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    names = ("business_development_vesting", "founders_vesting", "sale", "token")
    addresses = {}
    for name, step in zip(names, plan.steps):
        contract = getattr(project, step.contract).deploy(*step.args, sender=account)
        if contract.address != step.address:
            raise click.ClickException(
                f"{name} landed at {contract.address}, not {step.address}: another transaction from "
                f"{account.address} interleaved; redeploy from an account nobody else is using"
            )
        addresses[name] = contract.address
    sale = project.CPYSale.at(addresses["sale"])
    sale.grantRole(sale.KYC_OPERATOR_ROLE(), kyc_operator, sender=account)
    if admin is not None and admin != account.address:
        admin_role = sale.DEFAULT_ADMIN_ROLE()
        sale.grantRole(admin_role, admin, sender=account)
        sale.renounceRole(admin_role, account.address, sender=account)
    DEPLOYMENTS_DIR.mkdir(parents=True, exist_ok=True)
    record = {
        **addresses,
        "preset": preset,
        "chain_id": chain.chain_id,
        "deployer": account.address,
        "admin": admin or account.address,
    }
    _deployment_file().write_text(json.dumps(record, indent=2) + "\n")
    cli_ctx.logger.success(f"sale {addresses['sale']}, token {addresses['token']} (recorded in {_deployment_file()})")
    click.echo(f"window: {_utc(rules.opening_time)} to {_utc(rules.closing_time)}")


@cli.command(cls=ConnectedProviderCommand)
@ape_cli_context()
@account_option()
@sale_option
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--merkle", is_flag=True, help="Publish one Merkle root instead of listing addresses in batches.")
@click.option("--proofs-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --merkle: where to write each investor's proof (JSON).")
@click.option("--replace", "replace_root", is_flag=True,
              help="With --merkle: replace the root already set (its investors who have not bought yet lose access).")
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH), default=MAX_BATCH, show_default=True)
def allowlist(cli_ctx, account, sale_address, csv_file, merkle, proofs_out, replace_root, batch_size):
    """Allow-list the investors of CSV_FILE (an `address` column, or addresses in the first column)."""
    try:
        investors = read_investor_csv(csv_file)
    except AllowListError as error:
        raise click.BadParameter(str(error), param_hint="CSV_FILE") from error
    sale = _load_sale(sale_address)
    _require_kyc_operator(sale, account)
    if merkle:
        current = sale.allow_list_root()
        if int.from_bytes(bytes(current), "big") != 0 and not replace_root:
            raise click.UsageError(
                f"{sale.address} already has the Merkle root 0x{bytes(current).hex()}; a new root replaces it, "
                "and investors only in the old list can no longer prove themselves. Put everyone in one CSV "
                "and pass --replace"
            )
        tree = MerkleAllowList.build(investors)
        sale.set_allow_list_root(tree.root, sender=account)
        out = proofs_out or csv_file.with_suffix(".proofs.json")
        proofs = {investor: ["0x" + node.hex() for node in tree.proofs[investor]] for investor in investors}
        out.write_text(json.dumps({"root": "0x" + tree.root.hex(), "proofs": proofs}, indent=2) + "\n")
        cli_ctx.logger.success(f"root 0x{tree.root.hex()} set for {len(investors)} investors; proofs in {out}")
        return
    pending = [investor for investor in investors if not sale.is_allow_listed(investor)]
    batches = [pending[i:i + batch_size] for i in range(0, len(pending), batch_size)]
    with click.progressbar(batches, label=f"allow-listing {len(pending)} of {len(investors)} investors") as bar:
        for batch in bar:
            sale.add_to_allow_list(batch, sender=account)
    cli_ctx.logger.success(f"{len(pending)} added, {len(investors) - len(pending)} were already listed")


def _require_kyc_operator(sale, account) -> None:
    if not sale.hasRole(sale.KYC_OPERATOR_ROLE(), account):
        raise click.UsageError(f"{account.address} is not a KYC operator of {sale.address}; ask the admin to grant the role")


def investors_from_targets(targets: tuple[str, ...]) -> list[str]:
    """Addresses from the arguments: each one an address or a CSV file of them."""
    investors: list[str] = []
    for target in targets:
        if is_address(target):
            found = [to_checksum_address(target)]
        elif Path(target).is_file():
            try:
                found = read_investor_csv(Path(target))
            except AllowListError as error:
                raise click.BadParameter(str(error), param_hint="TARGETS") from error
        else:
            raise click.BadParameter(f"{target!r} is neither an Ethereum address nor a CSV file", param_hint="TARGETS")
        investors.extend(address for address in found if address not in investors)
    return investors


@cli.command(cls=ConnectedProviderCommand)
@ape_cli_context()
@account_option()
@sale_option
@click.argument("targets", nargs=-1, required=True)
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH), default=MAX_BATCH, show_default=True)
def remove(cli_ctx, account, sale_address, targets, batch_size):
    """Revoke investors (addresses or CSV files): no Merkle proof re-admits them; `allowlist` does."""
    investors = investors_from_targets(targets)
    sale = _load_sale(sale_address)
    _require_kyc_operator(sale, account)
    pending = [investor for investor in investors if not sale.is_revoked(investor)]
    batches = [pending[i:i + batch_size] for i in range(0, len(pending), batch_size)]
    with click.progressbar(batches, label=f"revoking {len(pending)} of {len(investors)} investors") as bar:
        for batch in bar:
            sale.remove_from_allow_list(batch, sender=account)
    cli_ctx.logger.success(f"{len(pending)} revoked, {len(investors) - len(pending)} were already revoked")


@cli.command(cls=ConnectedProviderCommand)
@sale_option
def status(sale_address):
    """Raised, sold, rate, time left and state of the sale."""
    sale = _load_sale(sale_address)
    now = chain.blocks.head.timestamp
    sold, cap = sale.tokens_sold(), sale.hard_cap()
    closing = sale.closing_time()
    if sale.finalized():
        state = "finalized" + ("" if sale.soft_cap_reached() else " (soft cap missed: refunds open)")
    elif sale.paused():
        state = "paused"
    elif sale.is_open():
        state = "open"
    elif now < sale.opening_time():
        state = f"opens {_utc(sale.opening_time())}"
    else:
        state = "closed, awaiting finalize"
    left = max(closing - now, 0)
    rows = [
        ("sale", sale.address),
        ("state", state),
        ("raised", f"{sale.wei_raised() / ETHER:,.4f} ETH"),
        ("sold", f"{sold / CPY:,.2f} of {cap / CPY:,.0f} CPY ({100 * sold / cap:.2f} %)"),
        ("current rate", f"{sale.rate():,} CPY/ETH"),
        ("soft cap", f"{sale.soft_cap() / ETHER:,.4f} ETH" if sale.soft_cap() else "none"),
        ("closes", f"{_utc(closing)} ({left // 86400} d {left % 86400 // 3600} h left)"),
        ("claimed", f"{sale.tokens_claimed() / CPY:,.2f} CPY"),
        ("withdrawn by wallet", f"{sale.funds_withdrawn() / ETHER:,.4f} ETH"),
    ]
    for label, value in rows:
        click.echo(f"{label:>20}: {value}")


@cli.command(cls=ConnectedProviderCommand)
@ape_cli_context()
@account_option()
@sale_option
def finalize(cli_ctx, account, sale_address):
    """Finalize the sale (anyone, once closed or sold out); burns unsold CPY."""
    sale = _load_sale(sale_address)
    receipt = sale.finalize(sender=account)
    burned = sum(log.token_amount for log in sale.UnsoldTokensBurned.from_receipt(receipt))
    cli_ctx.logger.success(f"finalized; {burned / CPY:,.2f} CPY burned")


@cli.command(cls=ConnectedProviderCommand)
@ape_cli_context()
@account_option()
@sale_option
def withdraw(cli_ctx, account, sale_address):
    """Send the raised ETH to the sale wallet (any account may trigger it; the ETH only goes to the wallet)."""
    sale = _load_sale(sale_address)
    receipt = sale.withdraw_funds(sender=account)
    [event] = sale.FundsWithdrawn.from_receipt(receipt)
    cli_ctx.logger.success(f"{event.wei_amount / ETHER:,.4f} ETH withdrawn to {event.wallet}")
