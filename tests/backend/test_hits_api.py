"""The crawler's API: a rights-holder sees their own hits with evidence, watches pages and sites
within a limit, and imports their own portfolio (catalogued; never a place for hits)."""

from __future__ import annotations

import hashlib
import threading

import pytest

from tests.backend.crawl_site import Site
from tests.backend.test_crawler import CRAWL_SETTINGS, add_registration, html, image, original, photo
from tests.images import encode, picture

SETTINGS = {**CRAWL_SETTINGS, "crawler_watch_limit": 2}


@pytest.fixture
def site():
    site = Site()
    yield site
    site.stop()


def crawl(services, site, *seeds):
    crawler = services.crawler("api-test", resolver=site.resolver)
    crawler.seed(seeds)
    crawler.run(threading.Event(), until_done=True, idle_wait=0.1)


@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_hits__owner_sees_own_hits_filtered_paginated_with_evidence(client, auth, services, site, wallet,
                                                                  other_wallet):
    mine = add_registration(services, 1, owner=wallet.address)
    theirs = add_registration(services, 2, owner=other_wallet.address)
    site.host("copier.test", "127.0.0.2", {
        "/": html('<img src="/a.png"><img src="/b.jpg"><a href="/more">more</a>'),
        "/more": html('<img src="/a-small.png">'),
        "/a.png": image(encode(photo(1).resize((320, 240)), "PNG")),
        "/a-small.png": image(encode(photo(1).resize((200, 150)), "PNG")),
        "/b.jpg": image(encode(photo(2), "JPEG", quality=50)),
    })
    site.start()
    crawl(services, site, site.url("copier.test"))
    assert client.get("/api/v1/hits").status_code == 401

    headers = auth.headers(wallet)
    body = client.get("/api/v1/hits", headers=headers).get_json()
    assert body["total"] == 2 and {h["registration_id"] for h in body["hits"]} == {mine}
    assert {h["page_url"] for h in body["hits"]} == {site.url("copier.test"), site.url("copier.test", "/more")}
    page = client.get("/api/v1/hits?limit=1&offset=1", headers=headers).get_json()
    assert page["total"] == 2 and len(page["hits"]) == 1 and page["hits"][0] == body["hits"][1]
    assert client.get("/api/v1/hits?domain=copier.test&status=active&min_score=0.5",
                      headers=headers).get_json()["total"] == 2
    assert client.get("/api/v1/hits?domain=elsewhere.test", headers=headers).get_json()["total"] == 0
    assert client.get(f"/api/v1/hits?registration={theirs}", headers=headers).get_json()["total"] == 0
    assert client.get("/api/v1/hits?status=gone", headers=headers).get_json()["total"] == 0
    bad = client.get("/api/v1/hits?min_score=2", headers=headers)
    assert bad.status_code == 400 and "min_score" in bad.get_json()["error"]["message"]

    detail = client.get(f"/api/v1/hits/{body['hits'][0]['id']}", headers=headers).get_json()
    warc = client.get(detail["evidence"]["warc"]["url"])
    assert warc.status_code == 200 and hashlib.sha256(warc.data).hexdigest() == detail["evidence"]["warc"]["sha256"]
    other_headers = auth.headers(other_wallet)
    assert client.get(f"/api/v1/hits/{body['hits'][0]['id']}", headers=other_headers).status_code == 404
    theirs_body = client.get("/api/v1/hits", headers=other_headers).get_json()
    assert [h["registration_id"] for h in theirs_body["hits"]] == [theirs]


@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_watch__queues_the_page__refuses_duplicates_bad_urls_and_past_the_limit(client, auth, services, wallet):
    from sqlalchemy import select

    from backend.crawler.models import CrawlUrl

    headers = auth.headers(wallet)
    answer = client.post("/api/v1/watch", json={"url": "copier.example/gallery", "scope": "page"}, headers=headers)
    assert answer.status_code == 201 and answer.get_json()["url"] == "https://copier.example/gallery"
    with services.db.session() as db:
        queued = db.scalar(select(CrawlUrl).where(CrawlUrl.url == "https://copier.example/gallery"))
    assert queued.seed_owner == wallet.address and queued.status == "queued"
    assert client.post("/api/v1/watch", json={"url": "https://copier.example/gallery"},
                       headers=headers).status_code == 409
    bad = client.post("/api/v1/watch", json={"url": "ftp://copier.example/"}, headers=headers)
    assert bad.status_code == 400 and "http" in bad.get_json()["error"]["message"]
    assert client.post("/api/v1/watch", json={"url": "https://b.example/"}, headers=headers).status_code == 201
    over = client.post("/api/v1/watch", json={"url": "https://c.example/"}, headers=headers)
    assert over.status_code == 409 and "limit" in over.get_json()["error"]["message"]
    assert len(client.get("/api/v1/watch", headers=headers).get_json()["watch"]) == 2


@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_unwatch__frees_a_place_in_the_limit__only_the_owner_can(client, auth, wallet, other_wallet):
    headers = auth.headers(wallet)
    first = client.post("/api/v1/watch", json={"url": "https://a.example/"}, headers=headers).get_json()
    client.post("/api/v1/watch", json={"url": "https://b.example/"}, headers=headers)
    assert client.post("/api/v1/watch", json={"url": "https://c.example/"}, headers=headers).status_code == 409
    stranger = client.delete(f"/api/v1/watch/{first['id']}", headers=auth.headers(other_wallet))
    assert stranger.status_code == 404 and f"you watch nothing with id {first['id']}" in stranger.get_json()["error"]["message"]
    assert client.delete(f"/api/v1/watch/{first['id']}").status_code == 401
    removed = client.delete(f"/api/v1/watch/{first['id']}", headers=headers)
    assert removed.status_code == 200 and removed.get_json() == {**first, "removed": True}
    assert client.delete(f"/api/v1/watch/{first['id']}", headers=headers).status_code == 404
    assert client.post("/api/v1/watch", json={"url": "https://c.example/"}, headers=headers).status_code == 201
    assert [w["url"] for w in client.get("/api/v1/watch", headers=headers).get_json()["watch"]] == [
        "https://b.example/", "https://c.example/"]


@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_portfolio__catalogues_own_images__marks_registered__never_hits_there(client, auth, services, site, wallet,
                                                                              other_wallet):
    reg = add_registration(services, 1, owner=wallet.address)
    site.host("me.test", "127.0.0.2", {
        "/": html('<img src="/registered.jpg"><img src="/new.jpg">'),
        "/registered.jpg": image(original(1)),
        "/new.jpg": image(encode(picture(50, (640, 480)), "JPEG")),
    })
    site.start()
    headers = auth.headers(wallet)
    created = client.post("/api/v1/portfolios", json={"url": site.url("me.test")}, headers=headers)
    assert created.status_code == 201 and created.get_json()["domain"] == "me.test"
    crawl(services, site)  # the portfolio queued its page
    catalogue = client.get(f"/api/v1/portfolios/{created.get_json()['id']}", headers=headers).get_json()
    marks = {i["image_url"].rsplit("/", 1)[1]: (i["registered"], i["registration_id"]) for i in catalogue["images"]}
    assert marks == {"registered.jpg": (True, reg), "new.jpg": (False, None)}
    assert client.get("/api/v1/hits", headers=headers).get_json()["total"] == 0
    assert client.get(f"/api/v1/portfolios/{created.get_json()['id']}",
                      headers=auth.headers(other_wallet)).status_code == 404


def own_site(site, me: str = "me.test", other: str = "other.test") -> None:
    """`me`: a registered image on its home page, a new one a link away; `other`: an image of its own."""
    site.host(me, "127.0.0.2", {
        "/": html('<img src="/registered.jpg"><a href="/more">more</a>'),
        "/more": html('<img src="/new.jpg">'),
        "/registered.jpg": image(original(1)),
        "/new.jpg": image(encode(picture(50, (640, 480)), "JPEG")),
    })
    site.host(other, "127.0.0.3", {"/": html('<img src="/theirs.jpg">'),
                                          "/theirs.jpg": image(encode(picture(51, (640, 480)), "JPEG"))})


@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_portfolio_import__adds_the_sites_images_to_my_images__only_from_its_catalogue(
        client, auth, services, site, wallet, other_wallet):
    own_site(site, "127.0.0.2", "127.0.0.3")  # the API's fetcher resolves names for real: addresses only
    site.start()
    headers = auth.headers(wallet)
    mine = client.post("/api/v1/portfolios", json={"url": site.url("127.0.0.2")}, headers=headers).get_json()
    crawl(services, site, site.url("127.0.0.3"))
    new, theirs = site.url("127.0.0.2", "/new.jpg"), site.url("127.0.0.3", "/theirs.jpg")
    answer = client.post(f"/api/v1/portfolios/{mine['id']}/import", json={"image_urls": [new, theirs]},
                         headers=headers)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert [(i["image_url"], i["created"]) for i in body["imported"]] == [(new, True)]
    # crawled, but on someone else's site: never fetched for this owner
    assert body["skipped"] == [{"image_url": theirs, "reason": "not an image the crawler found on 127.0.0.2"}]
    images = client.get("/api/v1/images", headers=headers).get_json()["images"]
    assert [(i["id"], i["filename"], i["status"]) for i in images] == [(body["imported"][0]["image_id"], "new.jpg", "uploaded")]
    again = client.post(f"/api/v1/portfolios/{mine['id']}/import", json={"image_urls": [new]}, headers=headers)
    assert again.get_json()["imported"][0]["created"] is False
    for bad in ({}, {"image_urls": []}, {"image_urls": [new] * 21}, {"image_urls": [7]}, {"image_urls": new}):
        refused = client.post(f"/api/v1/portfolios/{mine['id']}/import", json=bad, headers=headers)
        assert refused.status_code == 400 and "image_urls" in refused.get_json()["error"]["message"], bad
    assert client.post(f"/api/v1/portfolios/{mine['id']}/import", json={"image_urls": [new]},
                       headers=auth.headers(other_wallet)).status_code == 404
    assert len(client.get("/api/v1/images", headers=headers).get_json()["images"]) == 1


@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_portfolios__listed__paged__removed_by_the_owner_only__then_copies_there_are_hits(
        client, auth, services, site, wallet, other_wallet):
    reg = add_registration(services, 1, owner=wallet.address)
    own_site(site)
    site.start()
    headers = auth.headers(wallet)
    mine = client.post("/api/v1/portfolios", json={"url": site.url("me.test")}, headers=headers).get_json()
    client.post("/api/v1/portfolios", json={"url": site.url("other.test")}, headers=auth.headers(other_wallet))
    crawl(services, site)
    assert client.get("/api/v1/portfolios", headers=headers).get_json() == {"portfolios": [mine]}
    first = client.get(f"/api/v1/portfolios/{mine['id']}?limit=1", headers=headers).get_json()
    second = client.get(f"/api/v1/portfolios/{mine['id']}?limit=1&offset=1", headers=headers).get_json()
    assert (first["total"], second["total"], len(first["images"]), len(second["images"])) == (2, 2, 1, 1)
    assert {first["images"][0]["image_url"], second["images"][0]["image_url"]} == {
        site.url("me.test", "/registered.jpg"), site.url("me.test", "/new.jpg")}
    bad = client.get(f"/api/v1/portfolios/{mine['id']}?limit=0", headers=headers)
    assert bad.status_code == 400 and "'limit'" in bad.get_json()["error"]["message"]
    assert client.delete(f"/api/v1/portfolios/{mine['id']}", headers=auth.headers(other_wallet)).status_code == 404
    assert client.get("/api/v1/hits", headers=headers).get_json()["total"] == 0
    removed = client.delete(f"/api/v1/portfolios/{mine['id']}", headers=headers)
    assert removed.status_code == 200 and removed.get_json() == {**mine, "removed": True}
    assert client.get("/api/v1/portfolios", headers=headers).get_json() == {"portfolios": []}
    # no longer the owner's own site: its pages are read again at once, and the copy there is a hit
    crawl(services, site)
    hits = client.get("/api/v1/hits", headers=headers).get_json()["hits"]
    assert [(h["registration_id"], h["page_url"]) for h in hits] == [(reg, site.url("me.test", "/"))]
