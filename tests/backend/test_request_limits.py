"""Limits on what requests may ask of the backend: the status endpoint reads the chain at most
once a second, uploads are rate-limited per account, and a request that finds every
fingerprinting slot busy gets a 503 with Retry-After instead of waiting without end."""

from __future__ import annotations

import io
import threading

import pytest

from backend.config import ConfigError, load_settings
from tests.images import jpeg


@pytest.mark.parametrize("name", ["workers", "threads", "fingerprint_concurrency", "max_image_side"])
def test_resource_settings_below_one__are_refused_with_the_name(name):
    with pytest.raises(ConfigError, match=f"'{name}'"):
        load_settings({name: 0}, environ={})


@pytest.mark.parametrize("settings", [{"status_cache_seconds": 60}], indirect=True)  # no timing on a busy machine
def test_status__reads_the_chain_once_per_cache_period(client, chain, services):
    head = client.get("/api/v1/status").get_json()["chain"]["head"]
    chain.mine(3)
    assert client.get("/api/v1/status").get_json()["chain"]["head"] == head  # within the period: cached
    services._status = (services._status[0] - services.settings.status_cache_seconds, services._status[1])
    assert client.get("/api/v1/status").get_json()["chain"]["head"] >= head + 3  # expired: read again


@pytest.mark.parametrize("settings", [{"rate_limit_upload": "2/minute"}], indirect=True)
def test_uploads__are_rate_limited_per_account_not_per_client_address(client, auth, wallet, other_wallet):
    mine, theirs = auth.headers(wallet), auth.headers(other_wallet)

    def upload(headers, seed):
        return client.post("/api/v1/images", headers=headers,
                           data={"file": (io.BytesIO(jpeg(seed)), f"{seed}.jpg")}).status_code

    assert [upload(mine, seed) for seed in (60, 61, 62)] == [201, 201, 429]
    assert upload(theirs, 63) == 201  # the same client address, another account: its own budget


@pytest.mark.parametrize("settings", [{"fingerprint_concurrency": 1, "fingerprint_wait": 0.2}], indirect=True)
def test_lookup_with_every_slot_busy__answers_503_with_retry_after(client, services):
    held, release = threading.Event(), threading.Event()

    def occupy():
        with services.image_limits.slots.hold():
            held.set()
            release.wait(10)

    worker = threading.Thread(target=occupy)
    worker.start()
    held.wait(10)
    try:
        busy = client.post("/api/v1/lookup", data={"file": (io.BytesIO(jpeg(64)), "q.jpg")})
    finally:
        release.set()
        worker.join()
    assert busy.status_code == 503
    # Ours says 1 s; flask-limiter raises it to the end of the rate-limit window, never lowers it.
    assert int(busy.headers["Retry-After"]) >= 1
    assert busy.get_json()["error"]["code"] == "overloaded"
    assert client.post("/api/v1/lookup", data={"file": (io.BytesIO(jpeg(64)), "q.jpg")}).status_code == 200


@pytest.mark.parametrize("settings", [{"rate_limit_fetch": "2/minute"}], indirect=True)
def test_requests_that_fetch_from_other_sites__are_rate_limited_per_account(client, auth, wallet, other_wallet):
    """A reported copy and images added from an own site make the server fetch from a site; the
    two share one budget per account (here nothing is fetched: the requests are refused first)."""
    mine, theirs = auth.headers(wallet), auth.headers(other_wallet)
    report = client.post("/api/v1/reports", json={}, headers=mine)
    added = client.post("/api/v1/portfolios/1/import", json={"image_urls": ["https://a.example/x.jpg"]}, headers=mine)
    assert (report.status_code, added.status_code) == (400, 404)
    over = client.post("/api/v1/reports", json={}, headers=mine)
    assert over.status_code == 429 and over.headers["Retry-After"]
    assert client.post("/api/v1/reports", json={}, headers=theirs).status_code == 400  # its own budget
