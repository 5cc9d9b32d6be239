"""`copytrack`: run the stack, register and look up images, inspect the installation."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import click
import httpx
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from backend.cli_cases import cases
from backend.cli_account import account, api_key, images
from backend.config import ConfigError, load_settings
from backend.errors import DomainError
from ipfs import open_store
from ipfs.cli import ipfs as ipfs_group

MAX_BATCH = 100  # the register's largest batch
console = Console()
err_console = Console(stderr=True)


class CliError(click.ClickException):
    def show(self, file=None) -> None:
        err_console.print(f"[red]error:[/red] {self.message}")


def _settings():
    try:
        return load_settings()
    except ConfigError as exc:
        raise CliError(str(exc)) from None


@click.group()
@click.version_option(package_name="copytrack")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Copytrack: a self-hostable copyright register for images."""
    if ctx.invoked_subcommand == "ipfs":
        settings = _settings()
        ctx.obj = open_store(settings.data_dir / "ipfs", settings.ipfs_api or None)


main.add_command(ipfs_group)
main.add_command(cases)


@main.command()
def run() -> None:
    """Start the whole stack (local chain, contracts, backend, indexer) until Ctrl-C."""
    from backend.runner import run as run_stack

    try:
        run_stack(_settings(), echo=click.echo)
    except (ConfigError, DomainError, RuntimeError) as exc:
        raise CliError(getattr(exc, "message", str(exc))) from None


# -- talking to a running backend -------------------------------------------------------------
class ApiClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout)
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise CliError(
                f"cannot reach the backend at {self.base_url} ({type(exc).__name__}); is `copytrack run` running?"
            ) from None
        try:
            body = response.json()
        except ValueError:
            raise CliError(f"{method} {path}: HTTP {response.status_code} with a non-JSON answer") from None
        if response.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise CliError(error.get("message") or f"{method} {path}: HTTP {response.status_code}")
        return body

    def sign_in(self, account) -> str:
        from siwe import SiweMessage  # slow to import (its grammars); only commands that sign in need it

        nonce = self.call("POST", "/api/v1/auth/nonce")
        message = SiweMessage(
            domain=nonce["domain"],
            address=account.address,
            statement="Sign in to Copytrack",
            uri=self.base_url,
            version="1",
            chain_id=nonce["chain_id"],
            nonce=nonce["nonce"],
            issued_at=datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        ).prepare_message()
        signature = account.sign_message(encode_defunct(text=message)).signature.to_0x_hex()
        token = self.call("POST", "/api/v1/auth/login", json={"message": message, "signature": signature})["token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        return token


def load_account(keystore: str | None):
    """The user's own key: a keystore file (password asked) or COPYTRACK_PRIVATE_KEY."""
    if keystore:
        try:
            encrypted = json.loads(Path(keystore).read_text())
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot read keystore {keystore}: {exc}") from None
        password = os.environ.get("COPYTRACK_KEYSTORE_PASSWORD") or click.prompt(
            "Keystore password", hide_input=True
        )
        try:
            return Account.from_key(Account.decrypt(encrypted, password))
        except ValueError:
            raise CliError("wrong keystore password (or not an Ethereum keystore file)") from None
    key = os.environ.get("COPYTRACK_PRIVATE_KEY")
    if not key:
        raise CliError("no key: pass --keystore FILE or set COPYTRACK_PRIVATE_KEY")
    try:
        return Account.from_key(key)
    except (ValueError, TypeError):
        raise CliError("COPYTRACK_PRIVATE_KEY is not a valid private key (64 hex digits)") from None


def _api_option(func):
    return click.option(
        "--api",
        "api_url",
        envvar="COPYTRACK_API_URL",
        help="Backend URL (default: the configured host and port).",
    )(func)


def _api_url(api_url: str | None) -> str:
    if api_url:
        return api_url
    settings = load_settings()
    return f"http://{settings.host}:{settings.port}"


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--collection", help="Put the images in this collection (created if missing).")
@click.option("--category", help="Put the images in this category (must exist).")
@click.option("--parent", help="Derivative works: the registration id of the original they derive from.")
@click.option("--gasless", is_flag=True,
              help="Sign one EIP-712 message per 100 images; the platform's relayer pays the gas.")
@click.option("--keystore", type=click.Path(exists=True, dir_okay=False), help="Encrypted key file (else COPYTRACK_PRIVATE_KEY).")
@click.option("--wait/--no-wait", default=True, help="Wait until the registrations are final.")
@click.option("--timeout", default=120, show_default=True, help="Seconds to wait for finality.")
@_api_option
def register(files, collection, category, parent, gasless, keystore, wait, timeout, api_url) -> None:
    """Upload FILES and register them on-chain under your own address."""
    account = load_account(keystore)
    client = ApiClient(_api_url(api_url))
    client.sign_in(account)
    if collection:
        existing = {c["name"] for c in client.call("GET", "/api/v1/collections")["collections"]}
        if collection not in existing:
            client.call("POST", "/api/v1/collections", json={"name": collection})
    rows, to_send, failures = [], [], []
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("uploading", total=len(files))
        for path in files:
            try:
                with path.open("rb") as handle:
                    answer = client.call(
                        "POST",
                        "/api/v1/images",
                        files={"file": (path.name, handle)},
                        data={k: v for k, v in {"collection": collection, "category": category,
                                                 "parent": parent}.items() if v},
                    )
            except CliError as exc:
                failures.append((path, exc.message))
                progress.advance(task)
                continue
            image = answer["image"]
            for prior in answer["prior_registrations"]:
                err_console.print(
                    f"[yellow]warning:[/yellow] {path.name} resembles registration {prior['id'][:18]}… "
                    f"by {prior['owner']} ({prior['match']}, distance {prior['distance']})"
                )
            rows.append((path, image))
            if image["status"] == "uploaded":
                to_send.append((path, image))
            progress.advance(task)
        if to_send:
            task = progress.add_task("registering", total=len(to_send))
            send = _relay_batches if gasless else _send_batches
            failures += send(client, account, to_send, lambda n: progress.advance(task, n))
    if wait and rows:
        _wait_final(client, rows, timeout)
        failed = {path for path, _ in failures}
        failures += [(path, _why_not_registered(image, timeout)) for path, image in rows
                     if image["status"] != "registered" and path not in failed]
    _print_images(rows)
    for path, message in failures:
        err_console.print(f"[red]failed:[/red] {path}: {message}")
    if failures:
        err_console.print(f"{len(failures)} of {len(files)} file(s) not registered")
        sys.exit(1)


def _relay_batches(client: ApiClient, account, images: list, advance) -> list:
    """Gasless: ONE wallet signature per batch of up to MAX_BATCH images; the platform relays it."""
    failures = []
    status = client.call("GET", "/api/v1/status")
    for start in range(0, len(images), MAX_BATCH):
        chunk = images[start:start + MAX_BATCH]
        try:
            drafted = client.call("POST", "/api/v1/images/relay-batch/draft",
                                  json={"image_ids": [image["id"] for _, image in chunk]})
            check_draft(drafted, account.address, [path.read_bytes() for path, _ in chunk],
                        [image["id"] for _, image in chunk], status)
            signature = account.sign_message(encode_typed_data(full_message=drafted["typed_data"])).signature
            batch = client.call("POST", "/api/v1/images/relay-batch", json={
                "image_ids": drafted["image_ids"], "signature": signature.to_0x_hex(), "salt": drafted["salt"],
                "nonce": drafted["nonce"], "deadline": drafted["deadline"]})
        except CliError as exc:
            failures += [(path, exc.message) for path, _ in chunk]
        else:
            for (_, image), relayed in zip(chunk, batch["images"]):
                image.update(relayed)
        advance(len(chunk))
    return failures


def check_draft(drafted: dict, owner: str, files: list[bytes], image_ids: list[int], status: dict) -> None:
    """Sign only what was uploaded: the message must name this owner, these files' bytes in this
    order, the chain and register the backend reports, and the salt, nonce and deadline it sends."""
    typed, wrong = drafted["typed_data"], []
    message, domain = typed["message"], typed["domain"]
    if drafted["image_ids"] != image_ids:
        wrong.append("other images")
    if message["owner"].lower() != owner.lower():
        wrong.append(f"another owner ({message['owner']})")
    if [i["content_hash"] for i in message["items"]] != ["0x" + hashlib.sha256(f).hexdigest() for f in files]:
        wrong.append("content hashes that are not your files'")
    if (str(domain["chainId"]) != str(status["chain"]["chain_id"])
            or domain["verifyingContract"].lower() != status["contracts"]["CopyrightRegister"].lower()):
        wrong.append("another chain or register contract")
    if (message["salt"], str(message["nonce"]), message["deadline"]) != (
            drafted["salt"], str(drafted["nonce"]), drafted["deadline"]):
        wrong.append("a salt, nonce or deadline other than the ones it sends")
    if wrong:
        raise CliError(f"the backend asked to sign {', '.join(wrong)}; nothing was signed")


def _send_batches(client: ApiClient, account, images: list, advance) -> list:
    """Own transactions: up to MAX_BATCH images per `register_batch`, paid by the user's key."""
    from backend.chain.client import connect
    from backend.chain.register import Item, RegisterContract

    status = client.call("GET", "/api/v1/status")
    rpc_url = os.environ.get("COPYTRACK_RPC_URL") or status["chain"]["rpc_url"]
    if not rpc_url:
        raise CliError("the backend names no public chain RPC; set COPYTRACK_RPC_URL to a node of chain "
                       f"{status['chain']['chain_id']}")
    register = RegisterContract(connect(rpc_url), status["contracts"]["CopyrightRegister"])
    failures = []
    for start in range(0, len(images), MAX_BATCH):
        chunk = images[start:start + MAX_BATCH]
        try:
            receipt = register.register_with_key(
                account.key.to_0x_hex(), [Item(i["sha256"], i["phash"], i["cid"], i["parent"]) for _, i in chunk]
            )
        except DomainError as exc:
            failures += [(path, exc.message) for path, _ in chunk]
        else:
            tx_hash = receipt["transactionHash"].to_0x_hex()
            for _, image in chunk:
                image.update(client.call("POST", f"/api/v1/images/{image['id']}/submitted", json={"tx_hash": tx_hash}))
        advance(len(chunk))
    return failures


def _wait_final(client: ApiClient, rows: list, timeout: float) -> None:
    """Poll the images whose transaction is sent until the indexer reports them final."""
    deadline = time.monotonic() + timeout
    with console.status("waiting for the registrations to become final…"):
        while time.monotonic() < deadline:
            waiting = [i for i, (_, image) in enumerate(rows) if image["status"] in ("committed", "submitted")]
            if not waiting:
                return
            time.sleep(1)
            for i in waiting:
                rows[i] = (rows[i][0], client.call("GET", f"/api/v1/images/{rows[i][1]['id']}"))


def _why_not_registered(image: dict, timeout: float) -> str:
    if image["status"] in ("committed", "submitted"):
        return (f"still {image['status']} after {timeout:.0f} s; the backend finishes it, check later with "
                f"GET /api/v1/images/{image['id']}")
    return image.get("last_error") or f"image {image['id']} is {image['status']}"


def _print_images(rows) -> None:
    table = Table(title="Registrations")
    for column in ("file", "image", "status", "registration id", "CID", "tx hash"):
        table.add_column(column, overflow="fold")
    for path, image in rows:
        table.add_row(
            path.name,
            str(image["id"]),
            image["status"] if image["status"] == "registered" else f"[red]{image['status']}[/red]",
            image["sha256"] if image["status"] == "registered" else "",
            image["cid"],
            image.get("tx_hash") or "",
        )
    console.print(table)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_api_option
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON answer.")
def lookup(file: Path, api_url, as_json: bool) -> None:
    """Who registered FILE (or an image that looks the same), and when?"""
    client = ApiClient(_api_url(api_url))
    with file.open("rb") as handle:
        answer = client.call("POST", "/api/v1/lookup", files={"file": (file.name, handle)})
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    if not answer["matches"]:
        console.print(f"{file.name}: not registered (sha256 {answer['sha256']})")
        return
    table = Table(title=f"{file.name}: registered")
    for column in ("match", "owner", "verified", "registered (UTC)", "distance", "tx hash", "CID"):
        table.add_column(column, overflow="fold")
    levels = {0: "no", 1: "identity", 2: "creator"}
    for match in answer["matches"]:
        when = datetime.fromtimestamp(match["registered_at"], timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(match["match"], match["owner"], levels.get(match["verification_level"], "?"), when,
                      str(match["distance"]), match["tx_hash"], match["cid"])
    console.print(table)


@main.command()
def status() -> None:
    """Show the chain, contracts, database and data directory in use."""
    from backend.services import Services

    settings = _settings()
    services = Services(settings)
    table = Table(show_header=False)
    table.add_row("data directory", str(settings.data_dir.resolve()))
    table.add_row("database", services.db.engine.url.render_as_string(hide_password=True))
    table.add_row("IPFS", settings.ipfs_api or f"local block store in {settings.data_dir / 'ipfs'}")
    table.add_row("chain RPC", settings.resolved_rpc_url + ("" if settings.rpc_url else " (local anvil)"))
    table.add_row("backend", f"http://{settings.host}:{settings.port}")
    try:
        deployment = services.deployment()
        for name, address in deployment.addresses.items():
            table.add_row(name, f"{address} (chain {deployment.chain_id}, block {deployment.blocks[name]})")
        register = services.register()
        table.add_row("chain head", str(register.w3.eth.block_number))
        table.add_row("registrations on chain", str(register.registration_count()))
    except DomainError as exc:
        table.add_row("chain", f"[yellow]{exc.message}[/yellow]")
    console.print(table)


from backend.cli_market import COMMANDS as _MARKET_COMMANDS  # noqa: E402  (it builds on the helpers above)

for _command in _MARKET_COMMANDS:
    main.add_command(_command)

from backend.cli_crawler import crawl, crawler  # noqa: E402  (they import this module's helpers)
from backend.cli_hits import hits  # noqa: E402
from backend.cli_sites import sites  # noqa: E402

main.add_command(crawler)
main.add_command(crawl)
main.add_command(images)
main.add_command(api_key)
main.add_command(account)
main.add_command(hits)
main.add_command(sites)

if __name__ == "__main__":
    main()

