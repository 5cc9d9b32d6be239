"""Request helpers shared by the blueprints: who is calling, and reading input safely."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from functools import wraps

from flask import current_app, g, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter

from backend import accounts
from backend.errors import InvalidInput, PayloadTooLarge, Unauthenticated
from backend.services import Services
from backend.text import check_text

# Every id in a URL is a database integer key: the 32-bit range PostgreSQL's INTEGER holds.
MAX_ID = 2**31 - 1
MAX_JSON_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
# Strings in a JSON text: skipped when counting brackets (a bracket inside a string is text).
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


class IdConverter(BaseConverter):
    """`<id:name>`: a positive id that fits the database; anything else is a 400 naming it."""

    regex = r"[^/]+"

    def to_python(self, value: str) -> int:
        if value.isascii() and value.isdigit() and len(value) <= 10 and 1 <= int(value) <= MAX_ID:
            return int(value)
        raise BadRequest(f"an id in the URL is a whole number from 1 to {MAX_ID}, got {value[:40]!r}")

    def to_url(self, value) -> str:
        return str(value)


def iso_time(moment: datetime | None) -> str | None:
    """A stored time as ISO 8601 with its zone: SQLite hands back naive datetimes, and every time
    we store is UTC, so a time without a zone is never sent."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def services() -> Services:
    return current_app.extensions["copytrack"]


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def require_auth(view):
    """Only a signed-in wallet (session token) or an API key may call `view`; sets `g.address`
    and `g.api_key_id` (None for a wallet session)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = bearer_token()
        if token is None:
            raise Unauthenticated(
                "sign in first: send 'Authorization: Bearer <token>' with a session token or API key"
            )
        with services().db.session() as db:
            caller = accounts.authenticate(db, token)
        g.address, g.api_key_id = caller.address, caller.api_key_id
        return view(*args, **kwargs)

    return wrapper


def uploaded_file() -> tuple[bytes, str | None]:
    """The bytes and name of the multipart field `file`, read no further than one byte past the
    upload limit (so an oversized file is recognised without reading all of it)."""
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("send the image as multipart/form-data field 'file'")
    return upload.read(services().settings.max_upload_bytes + 1), upload.filename


def _json_depth(raw: bytes) -> int:
    depth = deepest = 0
    for char in _JSON_STRING.sub(b'""', raw):
        if char in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in b"]}":
            depth -= 1
    return deepest


def _check_strings(value, where: str = "body") -> None:
    """Every key and string is valid Unicode: `\\ud800` parses, but no database can store it."""
    if isinstance(value, dict):
        for key, item in value.items():
            check_text(key, f"a key in {where}", allow_controls=True)
            _check_strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(item, f"{where}[{index}]")
    elif isinstance(value, str):
        check_text(value, where, allow_controls=True)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def json_body() -> dict:
    """The request's JSON object, parsed in bounded size and depth, with valid Unicode only."""
    if not request.is_json:
        raise InvalidInput("the request body must be a JSON object (Content-Type: application/json)")
    # The body is already capped by MAX_CONTENT_LENGTH; cached, so a handler may read it twice.
    raw = request.get_data(cache=True)
    if len(raw) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"a JSON body has at most {MAX_JSON_BYTES:,} bytes")
    if _json_depth(raw) > MAX_JSON_DEPTH:
        raise InvalidInput(f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"the request body is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput("the request body must be a JSON object (Content-Type: application/json)")
    _check_strings(data)
    return data


def int_arg(name: str, default: int, *, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"query parameter {name!r} must be an integer, got {raw[:40]!r}") from None
    if not low <= value <= high:
        raise InvalidInput(f"query parameter {name!r} must be between {low} and {high}")
    return value
