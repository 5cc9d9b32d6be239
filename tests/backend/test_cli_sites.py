"""`copytrack sites` against a live backend, signed in with the user's own key: watch and unwatch,
an own site, the images found there and one added to the user's images, allow and disallow a
domain; refusals in words."""

import json

import pytest
from click.testing import CliRunner

from tests.backend.crawl_site import Site
from tests.backend.test_cli_account import cli, live, user  # noqa: F401  (fixtures)
from tests.backend.test_crawler import add_registration, html, image, original
from tests.backend.test_hits_api import SETTINGS, crawl
from tests.images import encode, picture


@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_sites__watch_own_images_allow__and_undo_each(live, user, services):  # noqa: F811
    from backend.cli import main

    reg = add_registration(services, 1, owner=user.address)
    site = Site()
    site.host("127.0.0.2", "127.0.0.2", {  # an address: the API's fetcher resolves names for real
        "/": html('<img src="/registered.jpg"><img src="/new.jpg">'),
        "/registered.jpg": image(original(1)),
        "/new.jpg": image(encode(picture(50, (640, 480)), "JPEG")),
    })
    site.start()
    try:
        assert "as 1" in cli(live, user, "sites", "watch", "https://copier.example/gallery", "--page")
        assert "(the whole site)" in cli(live, user, "sites", "watch", "copier2.example")
        assert "127.0.0.2 is your own site (1)" in cli(live, user, "sites", "own", site.url("127.0.0.2"))
        crawl(services, site)
        added = " ".join(cli(live, user, "sites", "import", "1", site.url("127.0.0.2", "/new.jpg"),
                             "https://else.example/a.jpg").split())  # as one line, however it wraps
        assert "image 1: " in added and "1 image(s) added" in added
        assert "not added: https://else.example/a.jpg: not an image the crawler found on 127.0.0.2" in added
    finally:
        site.stop()
    assert "partner.example is allowed (whitelisted); 0 hit(s) made legal" in cli(live, user, "sites", "allow",
                                                                                    "partner.example")
    listed = json.loads(cli(live, user, "sites", "list", "--json"))
    assert [(w["url"], w["scope"]) for w in listed["watch"]] == [
        ("https://copier.example/gallery", "page"), ("https://copier2.example/", "domain")]
    assert [p["domain"] for p in listed["portfolios"]] == ["127.0.0.2"] and listed["allowed"] == ["partner.example"]
    table = cli(live, user, "sites", "list")
    assert "watching 2" in table and "1 own site(s)" in table and "allowed: partner.example" in table

    found = json.loads(cli(live, user, "sites", "images", "1", "--json"))
    assert {(i["image_url"].rsplit("/", 1)[1], i["registration_id"]) for i in found["images"]} == {
        ("registered.jpg", reg), ("new.jpg", None)}
    shown = cli(live, user, "sites", "images", "1", "--limit", "1")
    assert "2 image(s) found on 127.0.0.2" in shown and shown.count(".jpg") == 1

    assert "no longer watching https://copier.example/gallery" in cli(live, user, "sites", "unwatch", "1")
    assert "127.0.0.2 is no longer your own site" in cli(live, user, "sites", "disown", "1")
    assert "partner.example is no longer allowed" in cli(live, user, "sites", "disallow", "partner.example")
    after = json.loads(cli(live, user, "sites", "list", "--json"))
    assert (len(after["watch"]), after["portfolios"], after["allowed"]) == (1, [], [])

    env = {"COPYTRACK_PRIVATE_KEY": user.key.to_0x_hex()}
    gone = CliRunner().invoke(main, ["sites", "unwatch", "1", "--api", live], env=env)
    assert gone.exit_code != 0 and "you watch nothing with id 1" in gone.output
    bad = CliRunner().invoke(main, ["sites", "watch", "ftp://copier.example/", "--api", live], env=env)
    assert bad.exit_code != 0 and "http" in bad.output
    zero = CliRunner().invoke(main, ["sites", "unwatch", "0", "--api", live], env=env)
    assert zero.exit_code == 2 and "0 is not in the range" in zero.output
