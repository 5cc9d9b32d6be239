"""The crawler's endpoints: a rights-holder's hits, the pages and domains they watch, their portfolio."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, g, jsonify, request

from backend.api.common import int_arg, json_body, require_auth, services
from backend.crawler import service
from backend.crawler.frontier import Budget
from backend.enforcement import triage as triage_
from backend.errors import InvalidInput

FILTERS = ("domain", "registration", "collection", "since", "until", "min_score", "status", "verdict", "country")

bp = Blueprint("hits", __name__, url_prefix="/api/v1")


def _budget() -> Budget:
    s = services().settings
    return Budget(s.crawler_max_depth, s.crawler_max_urls_per_host, s.crawler_max_urls_per_shape)


def _date_arg(name: str, args=None) -> datetime | None:
    raw = (request.args if args is None else args).get(name)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        raise InvalidInput(f"query parameter {name!r} must be an ISO 8601 date or time, got {raw!r}") from None


def _score_arg(args=None) -> float | None:
    raw = (request.args if args is None else args).get("min_score")
    if raw is None:
        return None
    try:
        score = float(raw)
    except (TypeError, ValueError):
        score = -1.0
    if not 0 <= score <= 1:
        raise InvalidInput(f"query parameter 'min_score' must be a number from 0 to 1, got {raw!r}")
    return score


def _filters(args=None) -> dict:
    """The hit filters of a query string (or of a triage request's `filter` object)."""
    args = request.args if args is None else args
    for name in ("domain", "registration", "collection", "status", "verdict", "country"):
        if args.get(name) is not None and not isinstance(args.get(name), str):
            raise InvalidInput(f"filter {name!r} must be a string")
    return dict(domain_=args.get("domain"), registration=args.get("registration"),
                collection=args.get("collection"), since=_date_arg("since", args), until=_date_arg("until", args),
                min_score=_score_arg(args), status=args.get("status"), verdict=args.get("verdict"),
                country=args.get("country"))


@bp.get("/hits")
@require_auth
def hits():
    with services().db.session() as db:
        return jsonify(service.list_hits(
            db, g.address, **_filters(),
            limit=int_arg("limit", 50, low=1, high=500), offset=int_arg("offset", 0, low=0, high=10**9),
        ))


@bp.get("/hits/groups")
@require_auth
def hit_groups():
    with services().db.session() as db:
        return jsonify(service.hit_groups(db, g.address, request.args.get("by", "registration"), **_filters()))


@bp.post("/hits/triage")
@require_auth
def triage():
    body = json_body()
    unknown = set(body) - {"verdict", "hit_ids", "filter"}
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(sorted(unknown))}; send verdict and hit_ids or filter")
    raw = body.get("filter")
    if raw is not None and (not isinstance(raw, dict) or set(raw) - set(FILTERS)):
        raise InvalidInput(f"'filter' must be an object with some of {', '.join(FILTERS)}")
    filters = _filters(raw) if raw is not None else None
    with services().db.session() as db:
        return jsonify(triage_.triage(db, g.address, body.get("verdict"), hit_ids=body.get("hit_ids"),
                                      filters=filters, is_licensed=services().licence_check()))


@bp.post("/reports")
@require_auth
def report():
    body = json_body()
    hit_id = services().request_crawler.report(g.address, body.get("page_url"), body.get("image_url"))
    with services().db.session() as db:
        return jsonify(service.get_hit(db, g.address, hit_id)), 201


@bp.post("/whitelist")
@require_auth
def whitelist_add():
    with services().db.session() as db:
        return jsonify(triage_.add_whitelist(db, g.address, json_body().get("domain"))), 201


@bp.get("/whitelist")
@require_auth
def whitelist():
    with services().db.session() as db:
        return jsonify({"domains": triage_.list_whitelist(db, g.address)})


@bp.delete("/whitelist/<string:domain>")
@require_auth
def whitelist_remove(domain: str):
    with services().db.session() as db:
        return jsonify({"domain": triage_.remove_whitelist(db, g.address, domain), "removed": True})


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


@bp.delete("/watch/<id:watch_id>")
@require_auth
def unwatch(watch_id: int):
    with services().db.session() as db:
        return jsonify(service.remove_watch(db, g.address, watch_id))


@bp.post("/portfolios")
@require_auth
def add_portfolio():
    with services().db.session() as db:
        return jsonify(service.add_portfolio(db, g.address, json_body().get("url"), budget=_budget())), 201


@bp.get("/portfolios")
@require_auth
def portfolios():
    with services().db.session() as db:
        return jsonify({"portfolios": service.list_portfolios(db, g.address)})


@bp.get("/portfolios/<id:portfolio_id>")
@require_auth
def portfolio(portfolio_id: int):
    with services().db.session() as db:
        return jsonify(service.portfolio(db, services().matcher, g.address, portfolio_id,
                                         limit=int_arg("limit", 100, low=1, high=500),
                                         offset=int_arg("offset", 0, low=0, high=10**9)))


@bp.post("/portfolios/<id:portfolio_id>/import")
@require_auth
def import_from_portfolio(portfolio_id: int):
    crawler = services().request_crawler
    return jsonify(service.import_images(
        services().db, services().store, crawler.fetcher, g.address, portfolio_id, json_body().get("image_urls"),
        limits=services().image_limits, max_bytes=crawler.config.image_max_bytes))


@bp.delete("/portfolios/<id:portfolio_id>")
@require_auth
def remove_portfolio(portfolio_id: int):
    with services().db.session() as db:
        return jsonify(service.remove_portfolio(db, g.address, portfolio_id))
