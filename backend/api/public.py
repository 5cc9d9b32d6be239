"""Public endpoints (no sign-in): who registered this image, a registration, the stack's status."""

from flask import Blueprint, jsonify

from backend.api.common import services, uploaded_file
from backend.api.market import chain_now
from backend.errors import DomainError
from backend.marketplace.offers import live_offers
from backend.models import Image, Registration
from backend.registry.uploads import final_registration_id
from backend.registry.lookup import lookup as lookup_image
from backend.registry.lookup import registration_view

bp = Blueprint("public", __name__, url_prefix="/api/v1")


@bp.post("/lookup")
def lookup():
    data, _ = uploaded_file()
    settings = services().settings
    with services().db.session() as db:
        answer = lookup_image(
            db,
            services().matcher,
            data,
            max_bytes=settings.max_upload_bytes,
            max_pixels=settings.max_image_pixels,
        )
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
    settings = svc.settings
    body = {"chain": {"chain_id": settings.chain_id, "rpc_url": settings.resolved_public_rpc_url}}
    try:
        deployment = svc.deployment()
        body["contracts"] = deployment.addresses
        register = svc.register()
        body["chain"]["head"] = register.w3.eth.block_number
        body["chain"]["registrations_on_chain"] = register.registration_count()
        with svc.db.session() as db:
            body["indexer_cursor"] = svc.indexer().cursor(db)
    except DomainError as exc:
        body["chain"]["error"] = exc.message
    with svc.db.session() as db:
        body["database_counts"] = {
            "images": db.query(Image).count(),
            "registrations": db.query(Registration).count(),
        }
    return jsonify(body)
