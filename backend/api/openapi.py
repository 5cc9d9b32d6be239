"""The OpenAPI 3.1 document of the public HTTP API, served at /api/v1/openapi.json."""

from flask import Blueprint, jsonify

from backend.registry.uploads import STATUSES

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_MEANING = {
    400: "invalid input (the message says what to change)",
    401: "not signed in, or the token is unknown, expired or revoked",
    403: "signed in, but not allowed (e.g. an API key creating API keys, or a signature by someone else)",
    404: "no such thing of yours (someone else's is not found either)",
    409: "conflicts with what exists",
    413: "the body is larger than allowed",
    415: "not an image type we accept",
    422: "the chain refused it",
    429: "too many requests; see Retry-After",
    503: "the chain node is unavailable; nothing was lost, retry later",
}
# Text a person names things with: no control characters or bidirectional overrides.
_INVISIBLE = "\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069"
VISIBLE_TEXT = f"^[^{_INVISIBLE}]*$"
# A name has something besides spaces (names are stripped, and an empty name is refused).
NAME_TEXT = f"^ *[^\\s{_INVISIBLE}][^{_INVISIBLE}]*$"
DECIMAL = {"type": "string", "pattern": "^[0-9]{1,78}$", "description": "an unsigned integer as a decimal string"}
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
GROUP_NAME = {"type": "string", "maxLength": 200, "pattern": NAME_TEXT}
GROUP_FILTER = {"anyOf": [GROUP_NAME, {"const": ""}], "description": "a name of yours; empty: any"}
BEARER = [{"bearer": []}]


def _json(schema: dict | None = None) -> dict:
    return {"application/json": {"schema": schema or {"type": "object"}}}


def _op(summary: str, *, auth: bool = True, body: dict | None = None, multipart: dict | None = None,
        ok: int = 200, result: dict | None = None, errors: tuple[int, ...] = (400,), params: list | None = None) -> dict:
    """An operation with every status it can answer: those named, plus 401 when signed in, 400
    and 413 for a JSON body (malformed, too deep or too large), 400 and 404 for an id in the path."""
    statuses = set(errors)
    if auth:
        statuses.add(401)
    if body is not None:
        statuses |= {400, 413}
    if any(p["in"] == "path" and p["schema"].get("type") == "integer" for p in params or ()):
        statuses |= {400, 404}
    op = {"summary": summary, "responses": {str(ok): {"description": "success", "content": _json(result)}}}
    for status in sorted(statuses):
        op["responses"][str(status)] = {"description": ERROR_MEANING[status], "content": _json(ERROR)}
    if auth:
        op["security"] = BEARER
    if body is not None:
        op["requestBody"] = {"required": True, "content": _json(body)}
    if multipart is not None:
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": multipart}}}
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema}


IMAGE_FILE = {
    "type": "object",
    "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "JPEG, PNG, WebP or GIF"}},
}
UPLOAD = {
    **IMAGE_FILE,
    "properties": {
        **IMAGE_FILE["properties"],
        "title": {"type": "string", "maxLength": 300, "pattern": VISIBLE_TEXT},
        "collection": {**GROUP_NAME, "description": "name of an existing collection of yours"},
        "category": {**GROUP_NAME, "description": "name of an existing category of yours"},
        "parent": {"type": "string", "description": "for a derivative work: the id of the registration it derives from"},
    },
}
def _name(limit: int) -> dict:
    return {"type": "object", "required": ["name"], "properties": {"name": {
        "type": "string", "minLength": 1, "maxLength": limit, "pattern": NAME_TEXT,
        "description": "visible text, not only spaces; no control characters or bidirectional overrides"}}}


NAME = _name(200)
IMAGE_ID = _path_param("image_id", ID)
KINDS = ("collections", "categories")

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}},
            }
        },
    },
    "Registration": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "the file's SHA-256, 0x-prefixed"},
            "owner": {"type": "string"},
            "verification_level": {"type": "integer", "enum": [0, 1, 2]},
            "registered_at": {"type": "integer", "description": "unix time of priority"},
            "tx_hash": {"type": "string"},
            "block_number": {"type": "integer"},
            "cid": {"type": "string"},
            "phash": {"type": "string"},
            "parent": {"type": ["string", "null"]},
            "distance": {"type": "integer"},
            "match": {"type": "string", "enum": ["exact", "perceptual"]},
        },
    },
    "Image": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "sha256": {"type": "string"},
            "phash": {"type": "string"},
            "cid": {"type": "string"},
            "status": {"type": "string", "enum": list(STATUSES)},
            "tx_hash": {"type": ["string", "null"]},
            "collection": {"type": ["string", "null"]},
            "category": {"type": ["string", "null"]},
        },
    },
}
SCHEMAS["RegistrationRequest"] = {
    "type": "object",
    "description": "What the owner's wallet sends (transaction) or signs (typed_data, EIP-712 v4). Integers a "
                   "browser could misread travel as strings: every (u)int field wider than 53 bits in typed_data "
                   "(domain.chainId, message.phash, parent, nonce, deadline) is a decimal string, the "
                   "transaction's value is a hex quantity; sign and send them as given.",
    "properties": {
        "contract": {"type": "string"},
        "transaction": {"type": "object", "properties": {
            "from": {"type": "string"}, "to": {"type": "string"}, "data": {"type": "string"},
            "value": {"type": "string", "pattern": "^0x[0-9a-f]+$"},
            "chainId": {"type": "integer", "description": "below 2^53 (EIP-2294)"}}},
        "typed_data": {"type": "object", "properties": {
            "domain": {"type": "object", "properties": {"chainId": DECIMAL}},
            "message": {"type": "object", "properties": {
                "phash": DECIMAL, "parent": DECIMAL, "nonce": DECIMAL, "deadline": DECIMAL,
                "cid_codec": {"type": "integer"}}}}},
    },
}
REG = {"$ref": "#/components/schemas/Registration"}
REG_REQUEST = {"$ref": "#/components/schemas/RegistrationRequest"}
UPLOADED = {"type": "object", "properties": {
    "image": {"$ref": "#/components/schemas/Image"}, "created": {"type": "boolean"},
    "prior_registrations": {"type": "array", "items": REG},
    "registration_request": {"oneOf": [REG_REQUEST, {"type": "null"}]}}}
LOGOUT = {"type": "object", "properties": {"signed_out": {"type": "boolean"},
                                           "ended": {"enum": ["session_ended", "api_key_revoked"]}}}
IMG = {"$ref": "#/components/schemas/Image"}


def document() -> dict:
    paths: dict[str, dict] = {
        "/api/v1/auth/nonce": {"post": _op("A single-use Sign-In with Ethereum nonce", auth=False, errors=(429,))},
        "/api/v1/auth/login": {
            "post": _op(
                "Sign in with a signed EIP-4361 message; returns a bearer token",
                auth=False,
                body={"type": "object", "required": ["message", "signature"],
                      "properties": {"message": {"type": "string"}, "signature": {"type": "string"}}},
                errors=(400, 401, 429),
            )
        },
        "/api/v1/auth/logout": {"post": _op(
            "End the credential you call with: a session token's session ends, an API key is revoked",
            errors=(), result=LOGOUT)},
        "/api/v1/auth/me": {"get": _op("The signed-in address", errors=())},
        "/api/v1/api-keys": {
            "post": _op("Create an API key (shown once); only a wallet session may, not an API key",
                        body=_name(100), ok=201, errors=(400, 403)),
            "get": _op("List your API keys", errors=()),
        },
        "/api/v1/api-keys/{key_id}": {
            "delete": _op("Revoke an API key", errors=(404,), params=[_path_param("key_id", ID)])
        },
        "/api/v1/images": {
            "post": _op(
                "Upload an image: validates, hashes, stores on IPFS, reports prior registrations by others, "
                "and returns the transaction and the EIP-712 message to register it",
                multipart=UPLOAD, ok=201, errors=(400, 404, 413, 415),
                result=UPLOADED,
            ),
            "get": _op(
                "List your images",
                result={"type": "object", "properties": {"images": {"type": "array", "items": IMG}}},
                params=[_query("collection", GROUP_FILTER), _query("category", GROUP_FILTER),
                        _query("status", {"enum": list(STATUSES)}),
                        _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                        _query("offset", {"type": "integer", "minimum": 0, "maximum": 10**9})],
                errors=(400, 404),
            ),
        },
        "/api/v1/images/{image_id}": {
            "get": _op("One of your images", result=IMG, errors=(), params=[IMAGE_ID]),
            "patch": _op(
                "Retitle an image or move it to another collection/category",
                body={"type": "object", "additionalProperties": False,
                      "properties": {"title": {"type": ["string", "null"], "maxLength": 300, "pattern": VISIBLE_TEXT},
                                     "collection": {"anyOf": [GROUP_NAME, {"type": "null"}]},
                                     "category": {"anyOf": [GROUP_NAME, {"type": "null"}]}}},
                result=IMG, errors=(), params=[IMAGE_ID],
            ),
        },
        "/api/v1/images/{image_id}/registration": {
            "get": _op("A fresh registration transaction and EIP-712 message", result=REG_REQUEST,
                       errors=(503,), params=[IMAGE_ID])
        },
        "/api/v1/images/{image_id}/submitted": {
            "post": _op("Record the hash of the register transaction your wallet sent: it must exist on the chain, "
                        "come from you and register this image",
                        body={"type": "object", "required": ["tx_hash"],
                              "properties": {"tx_hash": {"type": "string", "pattern": "^0x[0-9a-fA-F]{64}$"}}},
                        result=IMG, errors=(422, 503), params=[IMAGE_ID])
        },
        "/api/v1/images/{image_id}/relay": {
            "post": _op(
                "Gasless registration: sign the EIP-712 Reveal message; the relayer commits, then reveals (you own it)",
                body={"type": "object", "required": ["signature", "deadline", "salt"],
                      "properties": {"signature": {"type": "string"},
                                     "deadline": {"oneOf": [DECIMAL, {"type": "integer", "minimum": 0}],
                                                  "description": "typed_data.message.deadline as handed out"},
                                     "salt": {"type": "string"}}},
                ok=202, result=IMG, errors=(403, 409, 422, 503), params=[IMAGE_ID],
            )
        },
        "/api/v1/lookup": {
            "post": _op(
                "Who registered this image? Exact and perceptual matches, public",
                auth=False, multipart=IMAGE_FILE, errors=(400, 413, 415, 429),
                result={"type": "object", "properties": {"sha256": {"type": "string"}, "phash": {"type": "string"},
                                                         "matches": {"type": "array", "items": REG}}},
            )
        },
        "/api/v1/registrations/{reg_id}": {
            "get": _op("A final registration by id (the file's SHA-256)", auth=False, result=REG, errors=(400, 404),
                       params=[_path_param("reg_id", {"type": "string"})])
        },
        "/api/v1/status": {"get": _op("Chain, contracts, database and indexer status", auth=False, errors=())},
        "/api/v1/openapi.json": {"get": _op("This document", auth=False, errors=())},
        "/ipfs/{cid}": {
            "get": {
                "summary": "IPFS Trustless Gateway: the file, or with ?format=raw / ?format=car the block or a CAR",
                "parameters": [_path_param("cid", {"type": "string"}), _query("format", {"enum": ["raw", "car"]})],
                "responses": {
                    "200": {"description": "the content", "content": {
                        "application/octet-stream": {}, "application/vnd.ipld.raw": {}, "application/vnd.ipld.car": {}}},
                    "400": {"description": "invalid CID or format"},
                    "404": {"description": "unknown content"},
                },
            }
        },
    }
    paths["/api/v1/images"]["post"]["responses"]["200"] = {
        "description": "you uploaded these bytes before: that image, with created false",
        "content": _json(UPLOADED),
    }
    for kind in KINDS:
        paths[f"/api/v1/{kind}"] = {
            "post": _op(f"Create one of your {kind}", body=NAME, ok=201, errors=(400, 409)),
            "get": _op(f"List your {kind}", errors=()),
        }
        paths[f"/api/v1/{kind}/{{group_id}}"] = {
            "patch": _op(f"Rename one of your {kind}", body=NAME, errors=(409,),
                         params=[_path_param("group_id", ID)])
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Copytrack API", "version": "1",
                 "description": "Copyright register for images: upload, register on-chain, look up."},
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "a session token from /auth/login or an API key"}},
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(document())
