"""One place that turns errors into `{"error": {"code", "message"}}` with the right status."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from backend import errors

log = logging.getLogger(__name__)

STATUS = {
    errors.InvalidInput: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMedia: 415,
    errors.ChainRejected: 422,
    errors.Unprocessable: 422,
    errors.ChainUnavailable: 503,
    errors.Overloaded: 503,
}


def error_response(status: int, code: str, message: str, details: dict | None = None):
    body = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    return jsonify(body), status


def init_app(app: Flask) -> None:
    @app.errorhandler(errors.DomainError)
    def domain_error(exc: errors.DomainError):
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        response = error_response(status, exc.code, exc.message, exc.details)
        if "retry_after" in exc.details:
            return (*response, {"Retry-After": str(exc.details["retry_after"])})
        return response

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc):
        limit = app.config.get("MAX_CONTENT_LENGTH")
        return error_response(413, "payload_too_large", f"the request body is larger than the limit of {limit:,} bytes")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        body, status = error_response(exc.code or 500, code, exc.description or exc.name)
        # Keep what the exception says beyond its body, e.g. `Allow` on a 405.
        body.headers.extend((k, v) for k, v in exc.get_headers() if k.lower() != "content-type")
        return body, status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "something went wrong on our side; it was logged")
