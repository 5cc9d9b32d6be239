"""Public endpoints (no sign-in): who registered this image, a registration, the stack's status."""

from flask import Blueprint, jsonify, request

from backend.api.common import services
from backend.errors import DomainError, InvalidInput, NotFound
from backend.models import Image, Registration
from backend.registry import service

bp = Blueprint("public", __name__, url_prefix="/api/v1")


@bp.post("/lookup")
def lookup():
    upload_file = request.files.get("file")
    if upload_file is None:
        raise InvalidInput("send the image as multipart/form-data field 'file'")
    settings = services().settings
    data = upload_file.read(settings.max_upload_bytes + 1)
    with services().db.session() as db:
        return jsonify(
            service.lookup(
                db,
                services().matcher,
                data,
                max_bytes=settings.max_upload_bytes,
                max_pixels=settings.max_image_pixels,
            )
        )


@bp.get("/registrations/<reg_id>")
def registration(reg_id: str):
    reg_id = reg_id.lower()
    if not (reg_id.startswith("0x") and len(reg_id) == 66):
        raise InvalidInput("a registration id is the 0x-prefixed SHA-256 of the file (64 hex digits)")
    with services().db.session() as db:
        row = db.get(Registration, reg_id)
        if row is None:
            raise NotFound(f"no final registration {reg_id} (it may still be waiting for confirmations)")
        return jsonify(service.registration_view(db, row))


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
