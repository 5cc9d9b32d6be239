"""Public endpoints (no sign-in): who registered this image, a registration, the stack's status."""

from flask import Blueprint, jsonify

from backend.api.common import services, uploaded_file
from backend.api.market import chain_now
from backend.marketplace.offers import live_offers
from backend.models import Image, Registration
from backend.registry.uploads import final_registration_id
from backend.registry.lookup import lookup as lookup_image
from backend.registry.lookup import registration_view

bp = Blueprint("public", __name__, url_prefix="/api/v1")


@bp.post("/lookup")
def lookup():
    data, _ = uploaded_file()
    with services().db.session() as db:
        answer = lookup_image(db, services().matcher, data, services().image_limits)
        # "I found this picture, how do I license it?": each match carries its live offers.
        offers = live_offers(db, [m["id"] for m in answer["matches"]], chain_now()) if answer["matches"] else {}
        for match in answer["matches"]:
            match["offers"] = offers.get(match["id"], [])
        return jsonify(answer)


@bp.get("/registrations/<reg_id>")
def registration(reg_id: str):
    with services().db.session() as db:
        row = db.get(Registration, final_registration_id(db, reg_id))
        return jsonify(registration_view(db, row))


@bp.get("/status")
def status():
    """What a client needs to know about this deployment; nothing about the operator's setup."""
    svc = services()
    body = svc.chain_status()
    with svc.db.session() as db:
        body["database_counts"] = {
            "images": db.query(Image).count(),
            "registrations": db.query(Registration).count(),
        }
    return jsonify(body)
