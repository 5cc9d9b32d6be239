"""The partner lawyer's endpoints: the signed link's token in `X-Lawyer-Token`, no sign-in."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from backend.api.common import json_body, services
from backend.enforcement import lawyers

bp = Blueprint("lawyers", __name__, url_prefix="/api/v1/lawyer")
TOKEN_HEADER = "X-Lawyer-Token"


@bp.get("/case")
def show_case():
    return jsonify(lawyers.lawyer_case(services().enforcement(), request.headers.get(TOKEN_HEADER)))


@bp.post("/case/messages")
def post_message():
    env = services().enforcement()
    token = request.headers.get(TOKEN_HEADER)
    lawyers.lawyer_message(env, token, str(json_body().get("body", "")))
    return jsonify(lawyers.lawyer_case(env, token)), 201
