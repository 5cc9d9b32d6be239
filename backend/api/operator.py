"""The platform operator's page over HTTP: cases waiting for review, partners per country,
verification levels, and the transaction that sets a level (the operator's wallet signs it).
Only the addresses in `enforcement_operators`; for everyone else it is a 404."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from backend.api.common import json_body, require_auth, services
from backend.marketplace.offers import parse_address
from backend.enforcement import operators

bp = Blueprint("operator", __name__, url_prefix="/api/v1/operator")


@bp.get("")
@require_auth
def overview():
    operators.require_operator(g.address, services().settings.operator_addresses)
    env = services().enforcement()
    return jsonify({"address": g.address, "review": operators.review_queue(env),
                    "partners": operators.partners_by_country(env.jurisdictions),
                    "verifications": operators.verification_levels(env)})


@bp.post("/verifications")
@require_auth
def set_verification():
    operators.require_operator(g.address, services().settings.operator_addresses)
    body = json_body()
    account = parse_address("account", body.get("account"))
    level = operators.check_level(body.get("level"))
    transaction = services().register().verification_transaction(g.address, account, level)
    return jsonify({"transactions": [{"step": "set_verification", **transaction}]})
