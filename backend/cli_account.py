"""`copytrack images`, `copytrack api-key` and `copytrack account`: a rights-holder's own things, from the terminal.

Each command signs in with the user's own key (a keystore or COPYTRACK_PRIVATE_KEY) as
`copytrack register` does. Tables fit an 80-column terminal: hashes are shortened and long text
is cut with an ellipsis; `--wide` shows full values, `--json` the API's answer. Times always
carry their zone (UTC).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import click
from rich import box
from rich.console import Console
from rich.table import Table

from backend.registry.uploads import STATUSES

WIDE = 400  # columns for --wide: no value is ever cut or wrapped
console = Console()


def short_hash(value: str | None) -> str:
    """`0x1234…cdef`: enough to tell hashes apart at a glance; --wide shows all of it."""
    if not value:
        return ""
    return value if len(value) <= 13 else f"{value[:6]}…{value[-4:]}"


def utc_time(value: str | None) -> str:
    """An ISO 8601 time from the API, in UTC, with its zone written out."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _signed_in(keystore: str | None, api_url: str | None):
    # Imported here: `backend.cli` registers these commands, so importing it at the top would
    # be circular when the CLI runs as `python -m backend.cli`.
    from backend.cli import ApiClient, _api_url, load_account

    client = ApiClient(_api_url(api_url))
    client.sign_in(load_account(keystore))
    return client


def _table(title: str, columns: dict[str, int | None], *, wide: bool) -> Table:
    """A table without vertical rules (their width goes to the values). Columns with a ratio
    (free text: titles, names) share what the others (ids, states, short hashes, times, never cut)
    leave of the terminal's width, cut with an ellipsis; `wide` cuts nothing."""
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, expand=not wide)
    for name, ratio in columns.items():
        table.add_column(name, no_wrap=True, overflow="ellipsis", ratio=None if wide else ratio,
                         justify="right" if name == "id" else "left")
    return table


def _print(table: Table, wide: bool) -> None:
    (Console(width=WIDE) if wide else console).print(table)


def _api_option(func):
    return click.option("--api", "api_url", envvar="COPYTRACK_API_URL",
                        help="Backend URL (default: the configured host and port).")(func)


def _keystore_option(func):
    return click.option("--keystore", type=click.Path(exists=True, dir_okay=False),
                        help="Encrypted key file (else COPYTRACK_PRIVATE_KEY).")(func)


def _output_options(func):
    func = click.option("--json", "as_json", is_flag=True, help="Print the API's JSON answer.")(func)
    return click.option("--wide", is_flag=True, help="Full hashes and names, however wide.")(func)


@click.command()
@click.option("--collection", help="Only images in this collection of yours.")
@click.option("--category", help="Only images in this category of yours.")
@click.option("--status", type=click.Choice(STATUSES), help="Only images in this state.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000), help="At most this many.")
@click.option("--offset", default=0, type=click.IntRange(0), help="Skip this many first.")
@_output_options
@_keystore_option
@_api_option
def images(collection, category, status, limit, offset, wide, as_json, keystore, api_url) -> None:
    """List your images and where their registrations stand."""
    client = _signed_in(keystore, api_url)
    params = {k: v for k, v in {"collection": collection, "category": category, "status": status,
                                "limit": limit, "offset": offset}.items() if v is not None}
    rows = client.call("GET", "/api/v1/images", params=params)["images"]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    columns = {"id": None, "status": None, "title": 2, "sha256": None, "collection": 1, "uploaded": None}
    table = _table(f"{len(rows)} image{'s' * (len(rows) != 1)}",
                   {**columns, **({"CID": None, "tx hash": None} if wide else {})}, wide=wide)
    for image in rows:
        values = [str(image["id"]), image["status"], image["title"] or image["filename"] or "",
                  image["sha256"] if wide else short_hash(image["sha256"]), image["collection"] or "",
                  utc_time(image["created_at"])]
        if wide:
            values += [image["cid"], image["tx_hash"] or ""]
        table.add_row(*values)
    _print(table, wide)


@click.group("api-key")
def api_key() -> None:
    """Create, list and revoke API keys (signed in with your wallet's key)."""


@api_key.command("create")
@click.argument("name")
@_keystore_option
@_api_option
def create_key(name, keystore, api_url) -> None:
    """Create a key called NAME; it is printed once, store it now."""
    created = _signed_in(keystore, api_url).call("POST", "/api/v1/api-keys", json={"name": name})
    console.print(f"API key {created['id']} ({created['name']}), created {utc_time(created['created_at'])}:")
    click.echo(created["key"])
    console.print("[yellow]store this key now; it is never shown again[/yellow]")


@api_key.command("list")
@_output_options
@_keystore_option
@_api_option
def list_keys(wide, as_json, keystore, api_url) -> None:
    """List your API keys (never the keys themselves)."""
    keys = _signed_in(keystore, api_url).call("GET", "/api/v1/api-keys")["api_keys"]
    if as_json:
        click.echo(json.dumps(keys, indent=2, ensure_ascii=False))
        return
    columns = {"id": None, "name": 1, "prefix": None, "last used": None, "state": None}
    table = _table(f"{len(keys)} API key{'s' * (len(keys) != 1)}",
                   {**columns, **({"created": None} if wide else {})}, wide=wide)
    for key in keys:
        values = [str(key["id"]), key["name"], key["prefix"] + "…", utc_time(key["last_used_at"]) or "never",
                  "revoked" if key["revoked"] else "active"]
        table.add_row(*values, *([utc_time(key["created_at"])] if wide else []))
    _print(table, wide)


@api_key.command("revoke")
@click.argument("key_id", type=click.IntRange(1))
@_keystore_option
@_api_option
def revoke_key(key_id, keystore, api_url) -> None:
    """Revoke the API key KEY_ID (see `copytrack api-key list`)."""
    key = _signed_in(keystore, api_url).call("DELETE", f"/api/v1/api-keys/{key_id}")
    console.print(f"API key {key['id']} ({key['name']}) is revoked")


def _print_account(view: dict) -> None:
    click.echo(f"account {view['address']}")
    if not view["email"]:
        click.echo("no e-mail address; set one with `copytrack account email you@example.org`")
        return
    state = "confirmed" if view["email_confirmed"] else "not confirmed yet: open the link mailed to it"
    click.echo(f"e-mail: {view['email']} ({state})")
    click.echo(f"mail of new hits: {'on' if view['hits_digest'] else 'off'}")


@click.group("account")
def account() -> None:
    """Your account's e-mail address (case news, the mail of new hits), signed in with your key."""


@account.command("show")
@_keystore_option
@_api_option
def show_account(keystore, api_url) -> None:
    """Show the account's e-mail address and whether it is confirmed."""
    _print_account(_signed_in(keystore, api_url).call("GET", "/api/v1/account"))


@account.command("email")
@click.argument("email")
@_keystore_option
@_api_option
def set_account_email(email, keystore, api_url) -> None:
    """Send the account's news to EMAIL (a confirmation link is mailed to it first)."""
    view = _signed_in(keystore, api_url).call("PUT", "/api/v1/account/email", json={"email": email})
    _print_account(view)


@account.command("confirm")
@click.argument("token")
@_api_option
def confirm_account_email(token, api_url) -> None:
    """Confirm the address with TOKEN, the code after `confirm=` in the mailed link (no key needed)."""
    from backend.cli import ApiClient, _api_url

    _print_account(ApiClient(_api_url(api_url)).call("POST", "/api/v1/account/email/confirm", json={"token": token}))


@account.command("digest")
@click.argument("state", type=click.Choice(["on", "off"]))
@_keystore_option
@_api_option
def account_digest(state, keystore, api_url) -> None:
    """Turn the mail of new hits (at most one a day) on or off."""
    _print_account(_signed_in(keystore, api_url).call("PATCH", "/api/v1/account", json={"hits_digest": state == "on"}))


@account.command("forget-email")
@_keystore_option
@_api_option
def forget_account_email(keystore, api_url) -> None:
    """Forget the account's e-mail address: nothing more is mailed to it."""
    _print_account(_signed_in(keystore, api_url).call("DELETE", "/api/v1/account/email"))
