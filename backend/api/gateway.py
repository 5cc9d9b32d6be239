"""`GET /ipfs/{cid}`: the IPFS Trustless Gateway, so any IPFS client can fetch and verify from us."""

from flask import Blueprint, Response, request

from backend.api.common import services
from ipfs import gateway

bp = Blueprint("gateway", __name__)


@bp.get("/ipfs/<path:cid_path>")
def serve(cid_path: str):
    status, headers, body = gateway.respond(
        services().store, cid_path, request.args.get("format"), request.headers.get("Accept")
    )
    return Response(body, status=status, headers=headers)
