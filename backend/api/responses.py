"""The letter recipient's endpoints: case code in the path, the secret in `X-Case-Secret`
(a header, so it stays out of access logs); no sign-in, rate limited like the other public views."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from backend.api.common import json_body, services, uploaded_file
from backend.enforcement import responses
from backend.errors import InvalidInput

bp = Blueprint("responses", __name__, url_prefix="/api/v1/responses")
SECRET_HEADER = "X-Case-Secret"


def _secret() -> str | None:
    return request.headers.get(SECRET_HEADER)


@bp.get("/<reference>")
def show(reference: str):
    amount = request.args.get("amount")
    if amount is not None and not amount.isdigit():
        raise InvalidInput(f"amount must be a whole number of the asset's smallest unit (wei), got {amount!r}")
    return jsonify(responses.view(services().enforcement(), reference, _secret(), int(amount) if amount else None))


@bp.post("/<reference>/licence-proof")
def licence_proof(reference: str):
    data, filename = uploaded_file()
    digest = responses.submit_licence_proof(services().enforcement(), reference, _secret(), filename or "licence",
                                            data, request.form.get("note", ""))
    return jsonify({"sha256": digest, "status": "paused"}), 201


@bp.post("/<reference>/dispute")
def dispute(reference: str):
    body = json_body()
    responses.dispute(services().enforcement(), reference, _secret(), str(body.get("message", "")))
    return jsonify({"status": "paused"}), 201
