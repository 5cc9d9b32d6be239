"""Request helpers shared by the blueprints: who is calling, and reading input safely."""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, request

from backend import accounts
from backend.errors import InvalidInput, Unauthenticated
from backend.services import Services


def services() -> Services:
    return current_app.extensions["copytrack"]


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def require_auth(view):
    """Only a signed-in wallet (session token) or an API key may call `view`; sets `g.address`."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = bearer_token()
        if token is None:
            raise Unauthenticated(
                "sign in first: send 'Authorization: Bearer <token>' with a session token or API key"
            )
        with services().db.session() as db:
            g.address = accounts.authenticate(db, token)
        return view(*args, **kwargs)

    return wrapper


def json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("the request body must be a JSON object (Content-Type: application/json)")
    return data


def int_arg(name: str, default: int, *, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"query parameter {name!r} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise InvalidInput(f"query parameter {name!r} must be between {low} and {high}")
    return value
