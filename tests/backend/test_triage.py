"""Triage of hits: verdicts in bulk and by filter, not-a-match suppression across a recrawl, the
whitelist before and after a find, automatically legal hits refused as illegal, another owner's
hit not found, hostile input answered with a 4xx."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from backend.crawler.models import Hit, NegativePair
from backend.enforcement import triage
from tests.backend.crawl_site import Site
from tests.backend.test_crawler import CRAWL_SETTINGS, add_registration, html, image, photo
from tests.backend.test_hits_api import crawl
from tests.images import encode

SETTINGS = {**CRAWL_SETTINGS}


@pytest.fixture
def site():
    site = Site()
    yield site
    site.stop()


def copier(site, host="copier.test", address="127.0.0.2"):
    site.host(host, address, {
        "/": html('<img src="/a.png"><img src="/b.jpg">'),
        "/a.png": image(encode(photo(1).resize((320, 240)), "PNG")),
        "/b.jpg": image(encode(photo(2), "JPEG", quality=50)),
    })


@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_triage__bulk_by_ids_and_filter__groups__another_owners_hit_not_found(client, auth, services, site,
                                                                              wallet, other_wallet):
    add_registration(services, 1, owner=wallet.address)
    add_registration(services, 2, owner=wallet.address)
    copier(site)
    copier(site, "copier.de", "127.0.0.3")
    site.start()
    crawl(services, site, site.url("copier.test"), site.url("copier.de"))
    headers = auth.headers(wallet)
    body = client.get("/api/v1/hits", headers=headers).get_json()
    assert body["total"] == 4
    assert all(h["verdict"] is None and h["copy_url"].startswith("/ipfs/") for h in body["hits"])
    assert all(h["registered_image_url"].startswith("/ipfs/") for h in body["hits"])
    copy = client.get(body["hits"][0]["copy_url"])
    assert copy.status_code == 200 and copy.data[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb")
    assert client.get("/api/v1/hits?country=DE", headers=headers).get_json()["total"] == 2
    groups = client.get("/api/v1/hits/groups?by=domain", headers=headers).get_json()
    assert {g["key"]: (g["count"], g["new"]) for g in groups["groups"]} == {"copier.test": (2, 2),
                                                                            "copier.de": (2, 2)}

    german = [h["id"] for h in body["hits"] if h["domain"] == "copier.de"]
    answer = client.post("/api/v1/hits/triage", json={"verdict": "unsure", "hit_ids": [*german, 10**6]},
                         headers=headers).get_json()
    assert answer == {"updated": 2, "skipped": [{"id": 10**6, "reason": "not found: you have no such hit"}]}
    answer = client.post("/api/v1/hits/triage", json={"verdict": "legal", "filter": {"verdict": "new"}},
                         headers=headers).get_json()
    assert answer == {"updated": 2, "skipped": []}
    assert client.get("/api/v1/hits?verdict=new", headers=headers).get_json()["total"] == 0
    assert client.get("/api/v1/hits?verdict=unsure", headers=headers).get_json()["total"] == 2
    one = client.get(f"/api/v1/hits/{german[0]}", headers=headers).get_json()
    assert one["verdict"] == "unsure" and one["verdict_by"] == "owner" and one["verdict_at"]
    groups = client.get("/api/v1/hits/groups?by=domain", headers=headers).get_json()
    assert all(g["new"] == 0 for g in groups["groups"])

    theirs = auth.headers(other_wallet)
    answer = client.post("/api/v1/hits/triage", json={"verdict": "legal", "hit_ids": german}, headers=theirs)
    assert answer.get_json()["updated"] == 0 and len(answer.get_json()["skipped"]) == 2
    assert client.get(f"/api/v1/hits/{german[0]}", headers=headers).get_json()["verdict"] == "unsure"


@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_triage__hostile_input_is_a_4xx(client, auth, services, wallet):
    headers = auth.headers(wallet)
    for body in ({"verdict": "guilty", "hit_ids": [1]}, {"verdict": "legal"}, {"verdict": "legal", "hit_ids": []},
                 {"verdict": "legal", "hit_ids": ["1"]}, {"verdict": "legal", "hit_ids": [2**40]},
                 {"verdict": "legal", "hit_ids": [1], "filter": {}}, {"verdict": "legal", "filter": {"x": 1}},
                 {"verdict": "legal", "filter": {"since": 5}}, {"verdict": "legal", "filter": {"country": "DEU"}},
                 {"verdict": "legal", "hit_ids": list(range(1, 1100))}, {"verdict": "legal", "extra": 1}):
        answer = client.post("/api/v1/hits/triage", json=body, headers=headers)
        assert answer.status_code == 400, body
        assert answer.get_json()["error"]["message"]
    assert client.get("/api/v1/hits?verdict=maybe", headers=headers).status_code == 400
    assert client.get("/api/v1/hits/groups?by=colour", headers=headers).status_code == 400
    for domain in ("", "no dots", "x" * 300, "http://"):
        assert client.post("/api/v1/whitelist", json={"domain": domain}, headers=headers).status_code == 400
    assert client.delete("/api/v1/whitelist/nowhere.test", headers=headers).status_code == 404


@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_not_a_match__suppressed_across_a_recrawl__only_for_that_owner(client, auth, services, site, wallet):
    reg = add_registration(services, 1, owner=wallet.address)
    copier(site)
    site.start()
    crawl(services, site, site.url("copier.test"))
    headers = auth.headers(wallet)
    [hit] = client.get("/api/v1/hits", headers=headers).get_json()["hits"]
    answer = client.post("/api/v1/hits/triage", json={"verdict": "not_a_match", "hit_ids": [hit["id"]]},
                         headers=headers).get_json()
    assert answer == {"updated": 1, "skipped": []}
    assert client.get("/api/v1/hits", headers=headers).get_json()["total"] == 0
    assert client.get("/api/v1/hits?verdict=not_a_match", headers=headers).get_json()["total"] == 1
    with services.db.session() as db:
        assert db.scalar(select(NegativePair.image_sha256).where(NegativePair.registration_id == reg)) == \
            hit["image_sha256"]
        db.execute(Hit.__table__.delete())  # the hit is forgotten: only the negative pair remains
    # The same copy on another page of a recrawl: no hit again.
    site.host("mirror.test", "127.0.0.4", {"/": html('<img src="/a.png">'),
                                            "/a.png": image(encode(photo(1).resize((320, 240)), "PNG"))})
    crawl(services, site, site.url("copier.test"), site.url("mirror.test"))
    with services.db.session() as db:
        assert db.scalar(select(Hit.id)) is None


@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_whitelist__before_and_after_finding__hits_legal__illegal_refused(client, auth, services, site, wallet):
    add_registration(services, 1, owner=wallet.address)
    copier(site)
    site.host("friend.test", "127.0.0.5", {"/": html('<img src="/a.png">'),
                                           "/a.png": image(encode(photo(1).resize((320, 240)), "PNG"))})
    site.start()
    headers = auth.headers(wallet)
    answer = client.post("/api/v1/whitelist", json={"domain": "friend.test"}, headers=headers)
    assert answer.status_code == 201 and answer.get_json() == {"domain": "friend.test", "hits_made_legal": 0}
    crawl(services, site, site.url("copier.test"), site.url("friend.test"))
    friend = client.get("/api/v1/hits?domain=friend.test", headers=headers).get_json()["hits"]
    assert [(h["verdict"], h["verdict_by"]) for h in friend] == [("legal", "whitelist")]

    answer = client.post("/api/v1/whitelist", json={"domain": "https://copier.test/"}, headers=headers)
    assert answer.get_json() == {"domain": "copier.test", "hits_made_legal": 1}
    assert client.get("/api/v1/whitelist", headers=headers).get_json() == {"domains": ["copier.test", "friend.test"]}
    ids = [h["id"] for h in client.get("/api/v1/hits", headers=headers).get_json()["hits"]]
    answer = client.post("/api/v1/hits/triage", json={"verdict": "illegal", "hit_ids": ids}, headers=headers)
    assert answer.get_json()["updated"] == 0
    assert {s["reason"] for s in answer.get_json()["skipped"]} == {"copier.test is on your whitelist",
                                                                   "friend.test is on your whitelist"}
    assert client.delete("/api/v1/whitelist/copier.test", headers=headers).get_json() == {
        "domain": "copier.test", "removed": True}
    assert client.get("/api/v1/whitelist", headers=headers).get_json() == {"domains": ["friend.test"]}


@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_triage__licensed_domain_refused_as_illegal(app, services, site, wallet):
    add_registration(services, 1, owner=wallet.address)
    copier(site)
    site.start()
    crawl(services, site, site.url("copier.test"))
    asked = []

    def licensed(registration_id, domain):
        asked.append((registration_id, domain))
        return True

    with services.db.session() as db:
        ids = list(db.scalars(select(Hit.id)))
        answer = triage.triage(db, wallet.address, "illegal", hit_ids=ids, is_licensed=licensed)
        assert answer["updated"] == 0 and answer["skipped"] == [
            {"id": ids[0], "reason": "copier.test holds a valid licence for this image on the marketplace"}]
        assert asked and db.get(Hit, ids[0]).verdict is None
        assert triage.triage(db, wallet.address, "illegal", hit_ids=ids, is_licensed=lambda r, d: False) == {
            "updated": 1, "skipped": []}


@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_report__a_copy_becomes_a_hit_with_evidence__anything_else_a_clear_422(client, auth, services, site,
                                                                               wallet, other_wallet):
    reg = add_registration(services, 1, owner=wallet.address)
    add_registration(services, 2, owner=other_wallet.address)
    copier(site, "127.0.0.2", "127.0.0.2")
    site.start()
    page, copy, theirs = (site.url("127.0.0.2"), site.url("127.0.0.2", "/a.png"), site.url("127.0.0.2", "/b.jpg"))
    headers = auth.headers(wallet)
    answer = client.post("/api/v1/reports", json={"page_url": page, "image_url": copy}, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    hit = answer.get_json()
    assert (hit["registration_id"], hit["page_url"], hit["image_url"]) == (reg, page, copy)
    assert hit["evidence"]["warc"]["url"].startswith("/ipfs/") and hit["copy_url"].startswith("/ipfs/")
    again = client.post("/api/v1/reports", json={"page_url": page, "image_url": copy}, headers=headers)
    assert again.status_code == 201 and again.get_json()["id"] == hit["id"]
    assert client.get("/api/v1/hits", headers=headers).get_json()["total"] == 1

    refused = client.post("/api/v1/reports", json={"page_url": page, "image_url": theirs}, headers=headers)
    assert refused.status_code == 422 and "not a copy of one of your registrations" in \
        refused.get_json()["error"]["message"]
    missing = client.post("/api/v1/reports", json={"page_url": page, "image_url": page + "nothing.png"},
                          headers=headers)
    assert missing.status_code == 422
    for body in ({"page_url": page}, {"page_url": "ftp://x", "image_url": copy}, {"page_url": 5, "image_url": copy}):
        assert client.post("/api/v1/reports", json=body, headers=headers).status_code == 400, body
    with services.db.session() as db:
        assert db.scalar(select(Hit.id).where(Hit.owner == other_wallet.address)) is None


@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_crawl__hit_on_a_licensed_domain_is_legal_at_once(app, services, site, wallet):
    add_registration(services, 1, owner=wallet.address)
    copier(site)
    site.start()
    crawler = services.crawler("licence-test", resolver=site.resolver)
    asked = []
    crawler.is_licensed = lambda registration_id, domain: asked.append(domain) or domain == "copier.test"
    crawler.seed([site.url("copier.test")])
    crawler.run(threading.Event(), until_done=True, idle_wait=0.1)
    with services.db.session() as db:
        hit = db.scalar(select(Hit))
        assert (hit.verdict, hit.verdict_by) == ("legal", "licence") and asked == ["copier.test"]
