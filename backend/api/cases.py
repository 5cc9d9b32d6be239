"""The rights-holder's and operator's enforcement endpoints: the mandate, cases, actions, messages.

Operators are the addresses in the setting `enforcement_operators`; everyone else sees and acts
on their own cases only.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from backend.api.common import int_arg, json_body, require_auth, services
from backend.enforcement import cases as ladder
from backend.enforcement import owner
from backend.errors import InvalidInput

bp = Blueprint("cases", __name__, url_prefix="/api/v1")


def _operators() -> frozenset[str]:
    return services().settings.operator_addresses


def _text(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"send {name!r} as a non-empty string")
    return value


@bp.get("/mandates/typed-data")
@require_auth
def mandate_typed_data():
    registration_id = request.args.get("registration_id", "")
    if not registration_id.startswith("0x"):
        raise InvalidInput("registration_id must be the registration's 0x-hex id")
    days = int_arg("days", 365, low=1, high=owner.MAX_MANDATE_DAYS)
    return jsonify({"typed_data": owner.mandate_request(services().enforcement(), g.address, registration_id.lower(), days)})


@bp.post("/mandates")
@require_auth
def submit_mandate():
    body = json_body()
    if not isinstance(body.get("typed_data"), dict):
        raise InvalidInput("send the 'typed_data' you were given and the wallet's 'signature'")
    mandate = owner.submit_mandate(services().enforcement(), g.address, body["typed_data"], _text(body, "signature"))
    return jsonify({"mandate": mandate}), 201


@bp.get("/cases")
@require_auth
def list_cases():
    return jsonify({"cases": owner.list_cases(services().enforcement(), g.address, _operators())})


@bp.get("/cases/<id:case_id>")
@require_auth
def show_case(case_id: int):
    return jsonify(owner.case_detail(services().enforcement(), case_id, g.address, _operators()))


@bp.post("/cases/<id:case_id>/hold")
@require_auth
def hold_case(case_id: int):
    env = services().enforcement()
    ladder.hold(env, case_id, g.address, _text(json_body(), "reason"), operators=_operators())
    return jsonify(owner.case_detail(env, case_id, g.address, _operators()))


@bp.post("/cases/<id:case_id>/resume")
@require_auth
def resume_case(case_id: int):
    env = services().enforcement()
    ladder.resume(env, case_id, g.address, operators=_operators())
    return jsonify(owner.case_detail(env, case_id, g.address, _operators()))


@bp.post("/cases/<id:case_id>/close")
@require_auth
def close_case(case_id: int):
    env = services().enforcement()
    ladder.close(env, case_id, g.address, _text(json_body(), "reason"), operators=_operators())
    return jsonify(owner.case_detail(env, case_id, g.address, _operators()))


@bp.post("/cases/<id:case_id>/messages")
@require_auth
def post_message(case_id: int):
    env = services().enforcement()
    owner.post_message(env, case_id, g.address, _operators(), _text(json_body(), "body"))
    return jsonify(owner.case_detail(env, case_id, g.address, _operators())), 201
