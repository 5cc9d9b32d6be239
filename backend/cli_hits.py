"""`copytrack hits`: a rights-holder's hits from the terminal — list them, give verdicts, allow a
domain, report a copy by hand. Each command signs in with the user's own key as `copytrack
images` does; tables fit 80 columns (`--wide` shows full values, `--json` the API's answer)."""

from __future__ import annotations

import json

import click

from backend.cli_account import (
    _api_option, _keystore_option, _output_options, _print, _signed_in, _table, console, short_hash, utc_time,
)

VERDICTS = ("legal", "illegal", "unsure", "not_a_match")


def _filter_options(func):
    for option in reversed([
        click.option("--domain", help="Only hits on this host name and its subdomains."),
        click.option("--registration", help="Only hits of this registration (0x SHA-256)."),
        click.option("--collection", help="Only hits of images in this collection of yours."),
        click.option("--status", type=click.Choice(("active", "gone")), help="Only hits in this state."),
        click.option("--verdict", "verdict_filter", type=click.Choice(("new", *VERDICTS)),
                     help="new: not triaged yet."),
        click.option("--country", help="ISO 3166 alpha-2: only hits under that country's ccTLD."),
        click.option("--min-score", type=click.FloatRange(0, 1), help="Only matches at least this close."),
    ]):
        func = option(func)
    return func


def _filters(given: dict) -> dict:
    """The API's filter names for the options given."""
    names = {"verdict_filter": "verdict"}
    return {names.get(k, k): v for k, v in given.items() if v is not None}


@click.group("hits")
def hits() -> None:
    """Your hits: list, triage, whitelist a domain, report a copy by hand."""


@hits.command("list")
@_filter_options
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 500), help="At most this many.")
@_output_options
@_keystore_option
@_api_option
def list_hits(limit, wide, as_json, keystore, api_url, **filters) -> None:
    """List your hits, newest first."""
    params = {**_filters(filters), "limit": limit}
    answer = _signed_in(keystore, api_url).call("GET", "/api/v1/hits", params=params)
    if as_json:
        click.echo(json.dumps(answer, indent=2, ensure_ascii=False))
        return
    table = _table(f"{answer['total']} hit{'s' * (answer['total'] != 1)}",
                   {"id": None, "verdict": None, "domain": 1, "registration": None, "found": None,
                    **({"page": 2} if wide else {})}, wide=wide)
    for hit in answer["hits"]:
        table.add_row(str(hit["id"]), hit["verdict"] or "new", hit["domain"],
                      hit["registration_id"] if wide else short_hash(hit["registration_id"]),
                      utc_time(hit["found_at"]), *([hit["page_url"]] if wide else []))
    _print(table, wide)


@hits.command("triage")
@click.argument("verdict", type=click.Choice(VERDICTS))
@click.argument("hit_ids", nargs=-1, type=click.IntRange(1, 2**31 - 1))
@_filter_options
@_keystore_option
@_api_option
def triage(verdict, hit_ids, keystore, api_url, **given) -> None:
    """Give VERDICT to the hits HIT_IDS, or to every hit the filter options keep (at most 1000)."""
    filters = _filters(given)
    if bool(hit_ids) == bool(filters):
        raise click.UsageError("name hit ids, or filter options (e.g. --domain), not both and not neither")
    body = {"verdict": verdict, **({"hit_ids": list(hit_ids)} if hit_ids else {"filter": filters})}
    answer = _signed_in(keystore, api_url).call("POST", "/api/v1/hits/triage", json=body)
    console.print(f"{answer['updated']} hit{'s' * (answer['updated'] != 1)} now {verdict}")
    for skipped in answer["skipped"]:
        console.print(f"[yellow]hit {skipped['id']} skipped: {skipped['reason']}[/yellow]")


@hits.command("whitelist")
@click.argument("domain")
@_keystore_option
@_api_option
def whitelist(domain, keystore, api_url) -> None:
    """Allow DOMAIN to use your images: its hits become legal, now and when found later."""
    answer = _signed_in(keystore, api_url).call("POST", "/api/v1/whitelist", json={"domain": domain})
    console.print(f"{answer['domain']} is allowed (whitelisted); {answer['hits_made_legal']} hit(s) made legal")


@hits.command("report")
@click.argument("page_url")
@click.argument("image_url")
@_keystore_option
@_api_option
def report(page_url, image_url, keystore, api_url) -> None:
    """Report a copy by hand: IMAGE_URL as shown on PAGE_URL, recorded as a hit with evidence."""
    hit = _signed_in(keystore, api_url).call("POST", "/api/v1/reports",
                                             json={"page_url": page_url, "image_url": image_url})
    console.print(f"hit {hit['id']} recorded on {hit['domain']} (registration {short_hash(hit['registration_id'])})")
