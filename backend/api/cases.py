"""The rights-holder's and operator's enforcement endpoints: the mandate, cases, actions, messages.

Operators are the addresses in the setting `enforcement_operators`; everyone else sees and acts
on their own cases only.
"""

from __future__ import annotations

import re

from flask import Blueprint, g, jsonify, request

from backend.api.common import int_arg, json_body, require_auth, services
from backend.enforcement import cases as ladder
from backend.enforcement import opening, owner
from backend.errors import InvalidInput
from backend.marketplace.typed_data import LICENCE_TYPES

bp = Blueprint("cases", __name__, url_prefix="/api/v1")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}")


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


def _registration_id(raw) -> str:
    if not isinstance(raw, str) or not re.fullmatch(r"0x[0-9a-fA-F]{64}", raw):
        raise InvalidInput(f"registration_id must be the registration's id, 0x and 64 hex digits, got {str(raw)[:80]!r}")
    return raw.lower()


def _domain(raw) -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 2000:
        raise InvalidInput("domain must be the host name the hits are on, such as shop.example.de")
    return raw


def _terms(body: dict) -> opening.Terms:
    licence_type = body.get("licence_type", "standard")
    factor = body.get("damages_factor", "1")
    minimum = body.get("minimum")
    email = body.get("notify_email")
    if not isinstance(licence_type, str) or licence_type not in LICENCE_TYPES:
        raise InvalidInput(f"licence_type must be one of {', '.join(LICENCE_TYPES)}, got {str(licence_type)[:40]!r}")
    if not isinstance(factor, str) or not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,4})?", factor):
        raise InvalidInput(f"damages_factor must be a decimal string such as \"1.5\", got {str(factor)[:40]!r}")
    if minimum is not None and (not isinstance(minimum, str) or not re.fullmatch(r"[1-9][0-9]{0,76}", minimum)):
        raise InvalidInput("minimum must be a whole number of the asset's smallest unit (wei) as a decimal string")
    if email is not None and (not isinstance(email, str) or len(email) > 320 or not EMAIL.fullmatch(email)):
        raise InvalidInput(f"notify_email must be one e-mail address such as you@example.org, got {str(email)[:80]!r}")
    return opening.Terms(licence_type, factor, int(minimum) if minimum else None, email.strip() if email else None)


@bp.get("/cases/viability")
@require_auth
def viability():
    registration_id = _registration_id(request.args.get("registration_id"))
    domain = _domain(request.args.get("domain"))
    opened = services().case_opening()
    return jsonify(opening.assess(opened, g.address, registration_id, domain).as_dict())


@bp.post("/cases")
@require_auth
def open_case():
    body = json_body()
    registration_id, domain, terms = _registration_id(body.get("registration_id")), _domain(body.get("domain")), _terms(body)
    case = opening.open_from_hits(services().case_opening(), g.address, registration_id, domain, terms)
    return jsonify(owner.case_detail(services().enforcement(), case.case_id, g.address, _operators())), 201


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
