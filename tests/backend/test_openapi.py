import re

import pytest


def test_every_route_is_documented(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            paths = [rule.rule]
            kinds = re.match(r".*<any\(([^)]*)\):kind>", rule.rule)
            if kinds:
                paths = [re.sub(r"<any\([^)]*\):kind>", k.strip(), rule.rule) for k in kinds.group(1).split(",")]
            for path in paths:
                path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path).replace("{cid_path}", "{cid}")
                assert (path, method.lower()) in documented, f"{method} {path} is not in the OpenAPI document"


def test_errors_are_json_with_code_and_message(client):
    answer = client.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert set(answer.get_json()["error"]) >= {"code", "message"}
    wrong_method = client.delete("/api/v1/lookup")
    assert wrong_method.status_code == 405 and "error" in wrong_method.get_json()


@pytest.mark.parametrize("settings", [{"rate_limit_sign_in": "3/minute", "rate_limit_public": "2/minute"}],
                         indirect=True)
def test_endpoints_without_sign_in__are_rate_limited_per_client(client):
    assert [client.post("/api/v1/auth/nonce").status_code for _ in range(4)] == [200, 200, 200, 429]
    limited = client.post("/api/v1/auth/nonce")
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    assert "minute" in limited.get_json()["error"]["message"]
    lookups = [client.post("/api/v1/lookup").status_code for _ in range(3)]
    assert lookups == [400, 400, 429]  # bad requests count too
    assert [client.get("/api/v1/status").status_code for _ in range(3)] == [200, 200, 429]
