"""The CPY sale for investors over HTTP: its state, an investor's standing and Merkle proof, and
the transactions to send (the backend never holds an investor's key)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from backend.api.common import json_body, services

bp = Blueprint("sale", __name__, url_prefix="/api/v1/sale")


@bp.get("")
def status():
    with services().db.session() as db:
        return jsonify(services().sale().status(db))


@bp.get("/investors/<address>")
def investor(address: str):
    with services().db.session() as db:
        return jsonify(services().sale().investor(db, address))


@bp.post("/contribute")
def contribute():
    body = json_body()
    with services().db.session() as db:
        return jsonify(services().sale().contribute_transaction(db, body.get("investor"), body.get("amount")))


@bp.post("/claim")
def claim():
    return jsonify(services().sale().claim_transaction(json_body().get("investor")))


@bp.post("/refund")
def refund():
    return jsonify(services().sale().refund_transaction(json_body().get("investor")))
