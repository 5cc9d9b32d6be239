"""Property tests of the whole HTTP API from its own OpenAPI document (schemathesis, over WSGI):
for every documented operation, signed in with a real session, no answer is a 5xx and every
answer is documented (status, content type, body schema); valid input is not refused; every
route answers an undocumented method with 405 and an `Allow` header."""

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings as hypothesis_settings
from hypothesis import given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from web3 import Web3

EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# Operations whose valid-looking input is judged beyond what a schema can say: a signature must
# verify, bytes must be an image, a transaction or CID must exist, the chain's state must allow
# it. For them a 400 (or the chain's 422) is the answer to well-formed nonsense; every other
# operation must accept what its document allows.
SEMANTIC = {
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/images"),
    ("POST", "/api/v1/lookup"),
    ("POST", "/api/v1/images/{image_id}/submitted"),
    ("POST", "/api/v1/images/{image_id}/relay"),
    ("GET", "/ipfs/{cid}"),
    # The typed data must be exactly what the API handed out, and the signature must verify over it.
    ("POST", "/api/v1/offers"),
    ("POST", "/api/v1/mandates"),
    ("POST", "/api/v1/images/relay-batch"),
    # Checked against the chain: the expiry against its clock, the seller's counter, the fee, the
    # registration's owner and claim window.
    ("POST", "/api/v1/offers/draft"),
    # Checked against the chain: the investor's balance and remaining allowance.
    ("POST", "/api/v1/sale/contribute"),
    # Checked against the chain: the account must have something credited to withdraw.
    ("POST", "/api/v1/market/withdraw"),
    ("POST", "/api/v1/settlement/withdraw"),
    # Simulated on the chain first: claiming needs a finalized, successful sale and tokens owed;
    # a refund needs a failed sale and a contribution (else 422, the sale would refuse it).
    ("POST", "/api/v1/sale/claim"),
    ("POST", "/api/v1/sale/refund"),
    # The page and the image are fetched: an address that answers nothing, or no copy, is a 422.
    ("POST", "/api/v1/reports"),
    # An e-mail address on a reserved domain (.test, .invalid, …) is well-formed but never delivered.
    ("PUT", "/api/v1/account/email"),
    # The token must be one a confirmation link carried, unused and not expired.
    ("POST", "/api/v1/account/email/confirm"),
}
# An address as the API takes it: one case, or EIP-55 mixed case with a right checksum (the
# document's format "eth-address"; a keccak checksum is beyond what a pattern can say).
schemathesis.openapi.format("eth-address", st.tuples(st.binary(min_size=20, max_size=20), st.booleans()).map(
    lambda drawn: Web3.to_checksum_address(drawn[0]) if drawn[1] else "0x" + drawn[0].hex()))
LIMITS = {"rate_limit_public": "100000/minute", "rate_limit_sign_in": "100000/minute",
          "rate_limit_fetch": "100000/minute"}


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def _operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("settings", [LIMITS], indirect=True)
def test_every_operation__no_5xx_and_answers_as_documented(api_schema, auth, wallet, chain, client):
    headers = auth.headers(wallet)
    # Something of the caller's to find: ids 1 exist for images, collections, categories and keys.
    from tests.backend.test_images_api import upload
    from tests.images import jpeg

    upload(client, headers, jpeg(95))
    for kind in ("collections", "categories"):
        client.post(f"/api/v1/{kind}", json={"name": "first"}, headers=headers)
    client.post("/api/v1/api-keys", json={"name": "first"}, headers=headers)
    failures = []
    for operation in _operations(api_schema):
        checks = CHECKS + ([] if (operation.method.upper(), operation.path) in SEMANTIC else [positive_data_acceptance])
        headers = auth.headers(wallet)  # a session of its own: the logout operation ends one

        @given(case=operation.as_strategy())
        # Derandomized: the same examples on every run, so `make test` does not flicker.
        @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                             suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers={**(case.headers or {}), **headers}, checks=checks)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failure, not only the first
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_every_route__undocumented_method__405_with_allow(app, client, api_schema):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, operations in document["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        unused = next(m for m in ("put", "delete", "patch", "post") if m not in operations)
        answer = client.open(concrete, method=unused.upper())
        assert answer.status_code == 405, (path, unused, answer.status_code)
        allowed = {m.strip().lower() for m in answer.headers["Allow"].split(",")}
        assert set(operations) <= allowed, (path, allowed)
        assert answer.get_json()["error"]["code"] == "method_not_allowed"
