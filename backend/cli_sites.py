"""`copytrack sites`: the places a rights-holder tells the crawler about, from the terminal — sites
to watch, their own sites (the images found there, registered ones marked) and the domains they
allow. Each command signs in with the user's own key as `copytrack hits` does."""

from __future__ import annotations

import json
from urllib.parse import quote

import click

from backend.cli_account import (
    _api_option, _keystore_option, _output_options, _print, _signed_in, _table, console, short_hash, utc_time,
)
from backend.cli_hits import whitelist

_ID = click.IntRange(1, 2**31 - 1)


@click.group("sites")
def sites() -> None:
    """Sites you watch, your own sites and their images, domains you allow."""


@sites.command("list")
@_output_options
@_keystore_option
@_api_option
def list_sites(wide, as_json, keystore, api_url) -> None:
    """The pages and sites you watch, your own sites and the domains you allow."""
    client = _signed_in(keystore, api_url)
    answer = {"watch": client.call("GET", "/api/v1/watch")["watch"],
              "portfolios": client.call("GET", "/api/v1/portfolios")["portfolios"],
              "allowed": client.call("GET", "/api/v1/whitelist")["domains"]}
    if as_json:
        click.echo(json.dumps(answer, indent=2, ensure_ascii=False))
        return
    watched = _table(f"watching {len(answer['watch'])}", {"id": None, "scope": None, "since": None, "url": 1},
                     wide=wide)
    for target in answer["watch"]:
        watched.add_row(str(target["id"]), target["scope"], utc_time(target["created_at"]), target["url"])
    _print(watched, wide)
    own = _table(f"{len(answer['portfolios'])} own site(s)", {"id": None, "domain": 1, "since": None, "url": 1},
                 wide=wide)
    for site in answer["portfolios"]:
        own.add_row(str(site["id"]), site["domain"], utc_time(site["created_at"]), site["url"])
    _print(own, wide)
    console.print(f"allowed: {', '.join(answer['allowed']) or 'none'}")


@sites.command("watch")
@click.argument("url")
@click.option("--page", "page_only", is_flag=True, help="This page only (default: the whole site from it).")
@_keystore_option
@_api_option
def watch(url, page_only, keystore, api_url) -> None:
    """Have the crawler visit URL first: the whole site from there, or with --page that page alone."""
    target = _signed_in(keystore, api_url).call("POST", "/api/v1/watch",
                                                json={"url": url, "scope": "page" if page_only else "domain"})
    console.print(f"watching {target['url']} ({'this page' if page_only else 'the whole site'}) as {target['id']}")


@sites.command("unwatch")
@click.argument("watch_id", type=_ID)
@_keystore_option
@_api_option
def unwatch(watch_id, keystore, api_url) -> None:
    """Stop watching WATCH_ID (see `copytrack sites list`); its place in your limit is free again."""
    target = _signed_in(keystore, api_url).call("DELETE", f"/api/v1/watch/{watch_id}")
    console.print(f"no longer watching {target['url']}")


@sites.command("own")
@click.argument("url")
@_keystore_option
@_api_option
def own(url, keystore, api_url) -> None:
    """Record URL's site as your own: copies there are never hits, and its images are catalogued."""
    site = _signed_in(keystore, api_url).call("POST", "/api/v1/portfolios", json={"url": url})
    console.print(f"{site['domain']} is your own site ({site['id']}); `copytrack sites images {site['id']}` "
                  "lists the images the crawler finds there")


@sites.command("images")
@click.argument("portfolio_id", type=_ID)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 500), help="At most this many.")
@click.option("--offset", default=0, type=click.IntRange(0, 10**9), help="Skip this many first.")
@_output_options
@_keystore_option
@_api_option
def images(portfolio_id, limit, offset, wide, as_json, keystore, api_url) -> None:
    """The images the crawler found on your own site PORTFOLIO_ID, the registered ones marked."""
    answer = _signed_in(keystore, api_url).call("GET", f"/api/v1/portfolios/{portfolio_id}",
                                                params={"limit": limit, "offset": offset})
    if as_json:
        click.echo(json.dumps(answer, indent=2, ensure_ascii=False))
        return
    table = _table(f"{answer['total']} image(s) found on {answer['domain']}",
                   {"registration": None, "size": None, "image": 1, **({"page": 1} if wide else {})}, wide=wide)
    for found in answer["images"]:
        registration = found["registration_id"] if wide else short_hash(found["registration_id"])
        size = f"{found['width']}×{found['height']}" if found["width"] else ""
        table.add_row(registration or "not registered", size, found["image_url"],
                      *([found["page_url"]] if wide else []))
    _print(table, wide)


@sites.command("import")
@click.argument("portfolio_id", type=_ID)
@click.argument("image_urls", nargs=-1, required=True)
@_keystore_option
@_api_option
def import_images(portfolio_id, image_urls, keystore, api_url) -> None:
    """Add IMAGE_URLS, found on your own site PORTFOLIO_ID, to your images, ready to register."""
    answer = _signed_in(keystore, api_url).call("POST", f"/api/v1/portfolios/{portfolio_id}/import",
                                                json={"image_urls": list(image_urls)})
    for done in answer["imported"]:
        console.print(f"image {done['image_id']}: {done['image_url']}{'' if done['created'] else ' (uploaded before)'}")
    for skipped in answer["skipped"]:
        console.print(f"[yellow]not added: {skipped['image_url']}: {skipped['reason']}[/yellow]")
    console.print(f"{len(answer['imported'])} image(s) added; register them on the web app's My images page")


@sites.command("disown")
@click.argument("portfolio_id", type=_ID)
@_keystore_option
@_api_option
def disown(portfolio_id, keystore, api_url) -> None:
    """PORTFOLIO_ID is no longer your own site: copies of your images there become hits at the next pass."""
    site = _signed_in(keystore, api_url).call("DELETE", f"/api/v1/portfolios/{portfolio_id}")
    console.print(f"{site['domain']} is no longer your own site; its pages are read again at the next pass")


@sites.command("disallow")
@click.argument("domain")
@_keystore_option
@_api_option
def disallow(domain, keystore, api_url) -> None:
    """Stop allowing DOMAIN; hits already legal keep their verdict."""
    answer = _signed_in(keystore, api_url).call("DELETE", f"/api/v1/whitelist/{quote(domain, safe='')}")
    console.print(f"{answer['domain']} is no longer allowed; hits already legal keep their verdict")


sites.add_command(whitelist, "allow")  # the same command as `copytrack hits whitelist`
