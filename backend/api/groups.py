"""Collections and categories: the same operations on two kinds of grouping."""

from flask import Blueprint, g, jsonify

from backend.api.common import iso_time, json_body, require_auth, services
from backend.models import Category, Collection
from backend.registry.groups import create_group, list_groups, rename_group

bp = Blueprint("groups", __name__, url_prefix="/api/v1")

KINDS = {"collections": Collection, "categories": Category}


def _view(group) -> dict:
    return {"id": group.id, "name": group.name, "created_at": iso_time(group.created_at)}


def _model(kind: str):
    return KINDS[kind]


@bp.post("/<any(collections, categories):kind>")
@require_auth
def create(kind: str):
    with services().db.session() as db:
        return jsonify(_view(create_group(db, _model(kind), g.address, json_body().get("name")))), 201


@bp.get("/<any(collections, categories):kind>")
@require_auth
def index(kind: str):
    with services().db.session() as db:
        return jsonify({kind: [_view(x) for x in list_groups(db, _model(kind), g.address)]})


@bp.patch("/<any(collections, categories):kind>/<id:group_id>")
@require_auth
def rename(kind: str, group_id: int):
    with services().db.session() as db:
        group = rename_group(db, _model(kind), g.address, group_id, json_body().get("name"))
        return jsonify(_view(group))
