"""The crawler's endpoints: a rights-holder's hits, the pages and domains they watch, their portfolio."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, g, jsonify, request

from backend.api.common import int_arg, json_body, require_auth, services
from backend.crawler import service
from backend.crawler.frontier import Budget
from backend.errors import InvalidInput

bp = Blueprint("hits", __name__, url_prefix="/api/v1")


def _budget() -> Budget:
    s = services().settings
    return Budget(s.crawler_max_depth, s.crawler_max_urls_per_host, s.crawler_max_urls_per_shape)


def _date_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"query parameter {name!r} must be an ISO 8601 date or time, got {raw!r}") from None


def _score_arg() -> float | None:
    raw = request.args.get("min_score")
    if raw is None:
        return None
    try:
        score = float(raw)
    except ValueError:
        score = -1.0
    if not 0 <= score <= 1:
        raise InvalidInput(f"query parameter 'min_score' must be a number from 0 to 1, got {raw!r}")
    return score


@bp.get("/hits")
@require_auth
def hits():
    with services().db.session() as db:
        return jsonify(service.list_hits(
            db, g.address, domain_=request.args.get("domain"), registration=request.args.get("registration"),
            collection=request.args.get("collection"), since=_date_arg("since"), until=_date_arg("until"),
            min_score=_score_arg(), status=request.args.get("status"),
            limit=int_arg("limit", 50, low=1, high=500), offset=int_arg("offset", 0, low=0, high=10**9),
        ))


@bp.get("/hits/<id:hit_id>")
@require_auth
def hit(hit_id: int):
    with services().db.session() as db:
        return jsonify(service.get_hit(db, g.address, hit_id))


@bp.post("/watch")
@require_auth
def watch():
    body = json_body()
    with services().db.session() as db:
        return jsonify(service.add_watch(db, g.address, body.get("url"), body.get("scope"),
                                         limit=services().settings.crawler_watch_limit, budget=_budget())), 201


@bp.get("/watch")
@require_auth
def watched():
    with services().db.session() as db:
        return jsonify({"watch": service.list_watch(db, g.address)})


@bp.post("/portfolios")
@require_auth
def add_portfolio():
    with services().db.session() as db:
        return jsonify(service.add_portfolio(db, g.address, json_body().get("url"), budget=_budget())), 201


@bp.get("/portfolios/<id:portfolio_id>")
@require_auth
def portfolio(portfolio_id: int):
    with services().db.session() as db:
        return jsonify(service.portfolio(db, services().matcher, g.address, portfolio_id))
