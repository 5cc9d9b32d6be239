"""Uploading images, and everything their owner does to register them."""

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select

from backend.api.common import int_arg, iso_time, json_body, require_auth, services, uploaded_file
from backend.errors import ChainUnavailable
from backend.models import Image, Registration
from backend.registry.lookup import find_registrations
from backend.registry.relay import registration_request as build_registration_request
from backend.registry.relay import draft_batch, get_batch, relay_batch, relay_registration
from backend.registry.uploads import get_image, list_images, record_submission, update_image, upload_image

bp = Blueprint("images", __name__, url_prefix="/api/v1")


def image_view(db, image) -> dict:
    registration = db.get(Registration, image.sha256) if image.status == "registered" else None
    return {
        "id": image.id,
        "owner": image.owner,
        "title": image.title,
        "filename": image.filename,
        "sha256": image.sha256,
        "phash": image.phash,
        "cid": image.cid,
        "mime": image.mime,
        "width": image.width,
        "height": image.height,
        "size": image.size,
        "collection": image.collection.name if image.collection else None,
        "category": image.category.name if image.category else None,
        "parent": image.parent,
        "status": image.status,
        "tx_hash": image.tx_hash,
        "last_error": image.last_error,
        "registration": (
            {
                "id": registration.id,
                "block_number": registration.block_number,
                "registered_at": registration.registered_at,
                "tx_hash": registration.tx_hash,
            }
            if registration
            else None
        ),
        "created_at": iso_time(image.created_at),
    }


def _registration_or_warning(image) -> dict:
    """What to sign, or why it cannot be offered right now (the upload is kept either way)."""
    if image.status in ("registered", "conflict"):
        return {"registration_request": None}
    try:
        register = services().register()
        with services().db.session() as db:
            request_ = build_registration_request(
                db, register, image, deadline_seconds=services().settings.registration_deadline
            )
        return {"registration_request": request_}
    except ChainUnavailable as exc:
        return {
            "registration_request": None,
            "warning": {"code": exc.code, "message": exc.message + f"; fetch it later from /api/v1/images/{image.id}/registration"},
        }


@bp.post("/images")
@require_auth
def upload():
    data, filename = uploaded_file()
    with services().db.session() as db:
        result = upload_image(
            db,
            services().store,
            g.address,
            data,
            filename=filename,
            title=request.form.get("title"),
            collection=request.form.get("collection"),
            category=request.form.get("category"),
            parent=request.form.get("parent") or None,
            limits=services().image_limits,
        )
        image = result.image
        prior = find_registrations(
            db, services().matcher, image.sha256, result.fingerprint, exclude_owner=g.address
        )
        body = {"image": image_view(db, image), "prior_registrations": prior, "created": result.created}
    body.update(_registration_or_warning(image))
    return jsonify(body), 201 if result.created else 200


@bp.get("/images")
@require_auth
def index():
    with services().db.session() as db:
        images = list_images(
            db,
            g.address,
            collection=request.args.get("collection"),
            category=request.args.get("category"),
            status=request.args.get("status"),
            limit=int_arg("limit", 100, low=1, high=1000),
            offset=int_arg("offset", 0, low=0, high=10**9),
        )
        return jsonify(images=[image_view(db, i) for i in images])


@bp.get("/images/<id:image_id>")
@require_auth
def show(image_id: int):
    with services().db.session() as db:
        return jsonify(image_view(db, get_image(db, g.address, image_id)))


@bp.patch("/images/<id:image_id>")
@require_auth
def update(image_id: int):
    with services().db.session() as db:
        return jsonify(image_view(db, update_image(db, g.address, image_id, json_body())))


@bp.get("/images/<id:image_id>/registration")
@require_auth
def registration_request(image_id: int):
    with services().db.session() as db:
        image = get_image(db, g.address, image_id)  # a stranger's id is a 404 even with the chain down
        return jsonify(build_registration_request(
            db, services().register(), image, deadline_seconds=services().settings.registration_deadline
        ))


@bp.post("/images/<id:image_id>/submitted")
@require_auth
def submitted(image_id: int):
    tx_hash = json_body().get("tx_hash")
    with services().db.session() as db:
        return jsonify(image_view(db, record_submission(db, services().register, g.address, image_id, tx_hash)))


@bp.post("/images/<id:image_id>/relay")
@require_auth
def relay(image_id: int):
    body = json_body()
    register = services().register()
    with services().db.session() as db:
        image = relay_registration(
            db,
            register,
            services().settings.relayer_key,
            g.address,
            image_id,
            signature=body.get("signature"),
            deadline=body.get("deadline"),
            salt=body.get("salt"),
            deadline_seconds=services().settings.registration_deadline,
        )
        return jsonify(image_view(db, image)), 202


def batch_view(db, batch) -> dict:
    images = {i.id: i for i in db.scalars(select(Image).where(Image.id.in_(batch.image_ids)))}
    return {
        "id": batch.id,
        "owner": batch.owner,
        "status": batch.status,
        "nonce": batch.nonce,
        "deadline": str(batch.deadline),  # a browser-exact integer: a decimal string
        "commit_tx_hash": batch.commit_tx_hash,
        "reveal_tx_hash": batch.reveal_tx_hash,
        "last_error": batch.last_error,
        "images": [image_view(db, images[i]) for i in batch.image_ids],
        "created_at": iso_time(batch.created_at),
    }


def _image_ids(value):
    """The ids of a batch: JSON has one kind of number, so 7.0 is the id 7, as the document's
    `integer` allows; anything else is left for the batch to refuse."""
    if isinstance(value, list):
        return [int(i) if isinstance(i, float) and i.is_integer() else i for i in value]
    return value


@bp.post("/images/relay-batch/draft")
@require_auth
def relay_batch_draft():
    register = services().register()
    with services().db.session() as db:
        return jsonify(draft_batch(db, register, g.address, _image_ids(json_body().get("image_ids")),
                                   deadline_seconds=services().settings.registration_deadline))


@bp.post("/images/relay-batch")
@require_auth
def relay_batch_submit():
    body = json_body()
    batch_id = relay_batch(
        services().db,
        services().register(),
        services().settings.relayer_key,
        g.address,
        _image_ids(body.get("image_ids")),
        signature=body.get("signature"),
        salt=body.get("salt"),
        nonce=body.get("nonce"),
        deadline=body.get("deadline"),
        deadline_seconds=services().settings.registration_deadline,
    )
    with services().db.session() as db:
        return jsonify(batch_view(db, get_batch(db, batch_id, g.address))), 202


@bp.get("/images/relay-batch/<id:batch_id>")
@require_auth
def relay_batch_show(batch_id: int):
    with services().db.session() as db:
        return jsonify(batch_view(db, get_batch(db, batch_id, g.address)))
