"""The backend serves the built web app at `/`, with index.html for the app's own routes, and
never in place of the API or the IPFS gateway."""

from dataclasses import replace

import pytest

from backend.app import create_app
from backend.services import Services


@pytest.fixture
def built(tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>Copytrack app</title>")
    (dist / "assets" / "index-abc123.js").write_text("console.log('app')")
    return dist


@pytest.fixture
def webapp_dir(built):
    return built


@pytest.fixture
def client(settings, webapp_dir):
    services = Services(replace(settings, webapp_dir=str(webapp_dir)))
    yield create_app(services=services).test_client()
    services.close()


def test_root_and_client_routes__serve_the_app(client):
    for path in ("/", "/verify/0x" + "ab" * 32, "/images", "/sale"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert b"Copytrack app" in answer.data
        assert answer.headers["Cache-Control"] == "no-cache"
        assert "default-src 'self'" in answer.headers["Content-Security-Policy"]


def test_hashed_assets__are_cached_for_good(client):
    answer = client.get("/assets/index-abc123.js")
    assert answer.status_code == 200 and answer.data == b"console.log('app')"
    assert "max-age=31536000" in answer.headers["Cache-Control"]


def test_missing_files_and_api_paths__are_404_not_the_app(client):
    assert client.get("/assets/gone-123.js").status_code == 404
    assert client.get("/favicon.png").status_code == 404
    api = client.get("/api/v1/no-such-endpoint")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"
    assert client.get("/ipfs/").status_code == 404
    assert client.get("/api/v1/status").get_json()["chain"]["chain_id"] == 31337


@pytest.mark.parametrize("settings", [{"public_rpc_url": "https://rpc.example.org/v1/abc"}], indirect=True)
def test_content_security_policy__allows_only_this_server_and_the_public_rpc(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "connect-src 'self' https://rpc.example.org;" in policy
    assert "frame-ancestors 'none'" in policy


def test_content_security_policy__without_a_public_rpc__connects_only_here(client):
    assert "connect-src 'self';" in client.get("/").headers["Content-Security-Policy"]


@pytest.mark.parametrize("webapp_dir", ["/nonexistent/dist"])
def test_app_not_built__a_page_that_says_how_to_build_it(client):
    answer = client.get("/verify/abc")
    assert answer.status_code == 503
    assert b"The web app is not built" in answer.data and b"make run" in answer.data
    assert client.get("/api/v1/status").status_code == 200
