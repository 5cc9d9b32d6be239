"""The offer book and licences over HTTP (no sign-in: signatures and on-chain ownership decide;
for anything a user pays or signs the answer is the typed data or transaction to send)."""

from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify, request

from backend.api.common import int_arg, json_body, services
from backend.errors import DomainError
from backend.marketplace import licences, offers
from backend.marketplace.certificate import render_pdf

bp = Blueprint("market", __name__, url_prefix="/api/v1")


def _market():
    return services().market()


def chain_now() -> int:
    """The chain's clock (offers expire by block time, and a dev chain's clock may be moved)."""
    try:
        return services().market().w3.eth.get_block("latest")["timestamp"]
    except DomainError:
        return int(time.time())


def _filters() -> dict:
    return {name: request.args.getlist(name) for name in request.args}


def _page() -> tuple[int, int]:
    return int_arg("page", 1, low=1, high=10_000), int_arg("per_page", 20, low=1, high=offers.MAX_PAGE)


@bp.post("/offers/draft")
def draft_offer():
    checked = offers.draft_offer(_market(), json_body())
    return jsonify({"typed_data": checked.typed_data, "offer_hash": checked.offer_hash})


@bp.post("/offers")
def submit_offer():
    body = json_body()
    with services().db.session() as db:
        row, created = offers.submit_offer(db, _market(), body.get("typed_data"), body.get("signature"))
        return jsonify({"offer_hash": row.hash, "offer": offers.offer_view(db, row)}), 201 if created else 200


def _search(filters: dict):
    """The book is read from the database: browsing works while the chain node is down (the
    clock then is this machine's)."""
    page, per_page = _page()
    cpy = services().deployment().address("CPYToken")
    with services().db.session() as db:
        return jsonify(offers.search_offers(db, cpy, chain_now(), filters, page=page, per_page=per_page))


@bp.get("/offers")
def search_offers():
    return _search(_filters())


@bp.get("/images/<registration_id>/offers")
def registration_offers(registration_id: str):
    return _search({**_filters(), "registration": [registration_id]})


@bp.get("/offers/<offer_hash>")
def get_offer(offer_hash: str):
    with services().db.session() as db:
        offer = offers.get_offer(db, offer_hash)
        return jsonify({**offers.offer_view(db, offer), "live": offers.is_live(db, offer, chain_now())})


@bp.post("/offers/<offer_hash>/buy")
def buy_offer(offer_hash: str):
    body = json_body()
    with services().db.session() as db:
        offer = offers.get_offer(db, offer_hash)
        return jsonify(licences.buy_transactions(db, _market(), offer, body.get("buyer"), body.get("domains"),
                                                 chain_now()))


@bp.post("/offers/<offer_hash>/cancel")
def cancel_offer(offer_hash: str):
    body = json_body()
    with services().db.session() as db:
        return jsonify(licences.cancel_transaction(_market(), offers.get_offer(db, offer_hash), body.get("seller")))


@bp.get("/licences")
def list_licences():
    page, per_page = _page()
    with services().db.session() as db:
        return jsonify(licences.list_licences(db, _filters(), page=page, per_page=per_page))


@bp.get("/licences/check")
def check_licence():
    args = request.args
    with services().db.session() as db:
        return jsonify(licences.check_licence(db, _market(), args.get("registration"), args.get("domain"),
                                              args.get("licensee"), args.get("at")))


@bp.get("/licences/<licence_id>")
def get_licence(licence_id: str):
    with services().db.session() as db:
        return jsonify(licences.licence_view(licences.get_licence(db, licence_id)))


@bp.get("/licences/<licence_id>/certificate")
def licence_certificate(licence_id: str):
    """JSON, or a PDF with `?format=pdf` (or `Accept: application/pdf`)."""
    with services().db.session() as db:
        certificate = licences.certificate(db, licences.get_licence(db, licence_id), request.host_url)
    wants_pdf = request.args.get("format") == "pdf" or request.accept_mimetypes.best == "application/pdf"
    if not wants_pdf:
        return jsonify(certificate)
    cid = certificate["image"]["cid"]
    image = services().store.cat(cid) if cid and services().store.has(cid) else None
    pdf = render_pdf(certificate, image, lambda t: time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(int(t))))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="licence-{certificate["licence"]["id"]}.pdf"'})


@bp.post("/licences/<licence_id>/dispute")
def dispute_licence(licence_id: str):
    body = json_body()
    with services().db.session() as db:
        licence = licences.get_licence(db, licence_id)
        return jsonify(licences.dispute_transaction(_market(), licence, body.get("buyer"), body.get("reason")))


@bp.post("/licences/<licence_id>/release")
def release_licence(licence_id: str):
    body = json_body()
    with services().db.session() as db:
        return jsonify(licences.release_transaction(_market(), licences.get_licence(db, licence_id),
                                                    body.get("sender")))


@bp.post("/market/withdraw")
def withdraw():
    body = json_body()
    return jsonify(licences.withdraw_transaction(_market(), body.get("account"), body.get("asset")))


@bp.post("/settlement/withdraw")
def withdraw_settlement():
    """A rights-holder's share of case payments (and anyone's overpayment returned) from the escrow."""
    body = json_body()
    return jsonify(licences.withdraw_transaction(services().settlement(), body.get("account"), body.get("asset")))


@bp.get("/credits/<address>")
def credits(address: str):
    return jsonify(licences.credits(_market(), services().settlement(), address))
