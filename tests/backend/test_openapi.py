import re


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
