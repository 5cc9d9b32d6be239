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
    422: "the chain refused it; for a case: a check failed (details.failures lists every one)",
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

# -- shared input schemas: each says exactly what the handlers accept ---------------------------
# An account: 0x and 40 hex digits, in one case or with a right EIP-55 checksum (the format
# "eth-address"; mixed case with a wrong checksum is refused, as a typo may be).
ADDRESS = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$", "format": "eth-address",
           "description": "0x and 40 hex digits: all lower case, all upper case, or EIP-55 checksummed"}
HASH32 = {"type": "string", "pattern": "^0x[0-9a-fA-F]{64}$", "description": "32 bytes as 0x and 64 hex digits"}
OFFER_HASH_SCHEMA = {**HASH32, "description": "an offer's EIP-712 digest, 0x and 64 hex digits"}
# A registration's id is the file's SHA-256; the market also takes it as the uint256 it is on-chain.
REGISTRATION_ID = {**HASH32, "description": "the registered file's SHA-256, 0x and 64 hex digits"}
REGISTRATION_REF = {"type": "string", "pattern": "^(0x[0-9a-fA-F]{64}|[0-9]{1,77})$",
                    "description": "a registration id: the file's SHA-256 as 0x and 64 hex digits, or that "
                                   "number in decimal"}
SIGNATURE = {"type": "string", "pattern": "^0x[0-9a-fA-F]{130}$", "description": "65 bytes as 0x and 130 hex digits"}
OFFER_SIGNATURE = {"type": "string", "pattern": "^0x([0-9a-fA-F]{2}){1,65}$",
                   "description": "the seller's signature of the offer: 65 bytes (v 27 or 28, low s), or 64 in the compact "
                                  "form (EIP-2098); for a seller with code, any signature (up to 65 bytes) its ERC-1271 "
                                  "isValidSignature approves; kept in the 65-byte form"}
# Unsigned integers as decimal strings, bounded by the digits that surely fit (10^77 < 2^256, 10^19 < 2^64).
UINT256 = {"type": "string", "pattern": "^[0-9]{1,77}$", "description": "an unsigned 256-bit integer in decimal"}
UINT64 = {"type": "string", "pattern": "^[0-9]{1,19}$", "description": "an unsigned 64-bit integer in decimal"}
SAFE_INT = {"type": "integer", "minimum": 0, "maximum": 2**53 - 1}
ETHER = {"type": "string", "pattern": "^(0*[1-9][0-9]{0,58}(\\.[0-9]{1,18})?|0*\\.[0-9]{0,17}[1-9]0*)( ?ETH)?$",
         "description": "a positive amount of ETH in decimal, at most 18 decimals, e.g. 1.5 (or '1.5 ETH')"}
CURRENCY = {"enum": ["ETH", "CPY"]}
LICENCE_TYPE = {"enum": ["standard", "extended", "editorial", "exclusive"]}
COUNTRY = {"type": "string", "pattern": "^[A-Za-z]{2}$", "description": "an ISO 3166-1 alpha-2 country code"}
# A host name as licences record it (labels of letters, digits, '-' and '_'), bare or in an http(s) URL.
_HOST_LABEL = "[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOST = f"{_HOST_LABEL}(?:\\.{_HOST_LABEL})*\\.?"
DOMAIN = {"type": "string", "maxLength": 2000,
          "pattern": f"^(?:{_HOST}|https?://{_HOST}(?::[0-9]{{1,5}})?(?:[/?#][!-~]*)?)$",
          "description": "a host name, or an http(s) URL whose host counts"}
# A page to crawl: an http(s) URL whose host is a valid (IDNA) name or an IPv4 address. Labels of
# four or more characters have no '--' in 3rd and 4th place (IDNA reserves that for xn-- names).
_IDNA_LABEL = ("(?:[A-Za-z0-9]{1,2}|[A-Za-z0-9][A-Za-z0-9-][A-Za-z0-9](?:[A-Za-z0-9-]{0,59}[A-Za-z0-9])?"
               "|[A-Za-z0-9][A-Za-z0-9-]-[A-Za-z0-9](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])?)")
_PORT = "(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
URL = {"type": "string", "format": "uri", "maxLength": 680,
       "pattern": f"^https?://{_IDNA_LABEL}(?:\\.{_IDNA_LABEL}){{0,2}}(?::{_PORT})?(?:/[!-~]*)?$",
       "description": "an http(s) URL (at most 2048 characters once normalised, and percent-encoding can "
                      "triple a character)"}
PAGE = {"type": "integer", "minimum": 1, "maximum": 10_000}
PER_PAGE = {"type": "integer", "minimum": 1, "maximum": 100}


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


def _query(name: str, schema: dict, *, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema}


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
        "parent": {"anyOf": [REGISTRATION_ID, {"const": ""}],
                   "description": "for a derivative work: the id of the (final) registration it derives from; empty: none"},
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
            "last_error": {"type": ["string", "null"], "description": "why the last registration attempt failed"},
            "tx_hash": {"type": ["string", "null"]},
            "collection": {"type": ["string", "null"]},
            "category": {"type": ["string", "null"]},
        },
    },
}
# -- the offer book, licences and the sale (no sign-in: signatures and on-chain state decide) -----
TX_LIST = {"type": "object", "required": ["transactions"], "properties": {"transactions": {"type": "array", "items": {
    "type": "object", "description": "a transaction for the user's wallet; value is wei as a decimal string",
    "required": ["step", "from", "to", "data", "value", "chainId"],
    "properties": {"step": {"type": "string"}, "from": ADDRESS, "to": ADDRESS,
                   "data": {"type": "string", "pattern": "^0x[0-9a-f]*$"}, "value": DECIMAL,
                   "chainId": {"type": "integer"}}}}}}
# uint64 and wider travel as decimal strings; a JSON number is accepted while it is exact (below 2^53).
_WIDE = lambda text, schema: {"anyOf": [schema, SAFE_INT], "description": text}  # noqa: E731
OFFER_TERMS = {
    "type": "object", "required": ["seller", "registration_id", "price", "expiry"], "additionalProperties": False,
    "properties": {
        "seller": ADDRESS, "registration_id": REGISTRATION_REF,
        "price": _WIDE("wei (or CPY base units)", UINT256),
        "currency": CURRENCY, "licence_type": LICENCE_TYPE,
        "countries": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]{2}$"}, "maxItems": 16,
                      "uniqueItems": True, "description": "ISO 3166-1 alpha-2 codes; none = worldwide"},
        "duration": _WIDE("seconds; 0 = perpetual", UINT64),
        "seats": {"type": "integer", "minimum": 1, "maximum": 2**16 - 1},
        "max_sales": {"type": "integer", "minimum": 1, "maximum": 2**32 - 1},
        "domains": {"type": "array", "items": DOMAIN, "maxItems": 8,
                    "description": "host names the licence covers; none = the buyer names them"},
        "expiry": _WIDE("unix time the offer lapses: later than the chain's clock", {**UINT64, "pattern": "^[0-9]{1,18}$"}),
        "buyer": {**ADDRESS, "description": "reserve the offer for one account"},
        "max_fee_bps": {"type": "integer", "minimum": 0, "maximum": 2000,
                        "description": "at least the market's fee (default: the fee now)"},
    },
}
OFFER_FILTERS = [_query(name, schema) for name, schema in (
    ("registration", REGISTRATION_REF), ("owner", ADDRESS), ("collection", GROUP_FILTER),
    ("licence_type", LICENCE_TYPE), ("territory", COUNTRY), ("currency", CURRENCY),
    ("min_price", UINT256), ("max_price", UINT256),
    ("q", {"type": "string", "maxLength": 200, "description": "words in image titles and collection names"}),
    ("sort", {"enum": ["newest", "price", "-price", "expiry"]}), ("page", PAGE), ("per_page", PER_PAGE),
)]
OFFER_HASH = _path_param("offer_hash", OFFER_HASH_SCHEMA)
LICENCE_ID = _path_param("licence_id", ID)
INVESTOR = {"type": "object", "required": ["investor"], "properties": {"investor": ADDRESS}}
_STR, _INT, _BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
_NULLABLE_STR = {"type": ["string", "null"]}


def _object(properties: dict) -> dict:
    """A response object: every property is always present."""
    return {"type": "object", "required": list(properties), "properties": properties}


OFFER = _object({
    "hash": HASH32, "seller": ADDRESS, "buyer": {"anyOf": [ADDRESS, {"type": "null"}]},
    "registration_id": REGISTRATION_ID,
    "cid": {**_NULLABLE_STR, "description": "the registered image's IPFS CID (served at /ipfs/{cid})"},
    "title": _NULLABLE_STR, "collection": _NULLABLE_STR,
    "licence_type": LICENCE_TYPE, "countries": {"type": "array", "items": _STR}, "duration": DECIMAL,
    "seats": _INT, "domains": {"type": "array", "items": HASH32, "description": "keccak256 of the host names"},
    "currency": CURRENCY, "currency_address": ADDRESS, "price": DECIMAL, "max_sales": _INT, "sold": _INT,
    "expiry": DECIMAL, "signature": SIGNATURE,
    "message": {"type": "object", "description": "the signed Offer (uint64 and wider as decimal strings)"}})
OFFER_PAGE = _object({"offers": {"type": "array", "items": OFFER}, "page": _INT, "per_page": _INT, "total": _INT})
LICENCE = _object({
    "id": _INT, "registration_id": REGISTRATION_ID, "licensee": ADDRESS, "seller": ADDRESS, "offer_hash": HASH32,
    "licence_type": LICENCE_TYPE, "countries": {"type": "array", "items": _STR}, "seats": _INT,
    "starts_at": DECIMAL, "ends_at": {"anyOf": [DECIMAL, {"type": "null"}], "description": "null: perpetual"},
    "domain_hashes": {"type": "array", "items": HASH32}, "currency": CURRENCY, "price": DECIMAL, "fee": DECIMAL,
    "escrow": _object({"status": _STR, "release_at": DECIMAL, "dispute_reason": _NULLABLE_STR,
                       "refunded": {"anyOf": [DECIMAL, {"type": "null"}]},
                       "released_to_seller": {"anyOf": [DECIMAL, {"type": "null"}]}}),
    "revoked": _BOOL, "revocation_reason": _NULLABLE_STR, "tx_hash": HASH32, "block_number": _INT})
CERTIFICATE = _object({
    "licence": LICENCE,
    "image": _object({"registration_id": REGISTRATION_ID, "title": _NULLABLE_STR, "cid": _NULLABLE_STR,
                      "registered_at": {"type": ["integer", "null"]},
                      "owner": {"anyOf": [ADDRESS, {"type": "null"}]}}),
    "verify_url": _STR, "valid": _BOOL})
LICENCE_CHECK = _object({"registration_id": REGISTRATION_ID, "domain": _STR, "at": DECIMAL, "licensed": _BOOL,
                         "licensees": {"type": "array", "items": ADDRESS}})
VESTING = _object({"name": _STR, "address": ADDRESS, "beneficiary": ADDRESS, "start": DECIMAL,
                   "cliff_duration": DECIMAL, "duration": DECIMAL, "total": DECIMAL, "released": DECIMAL,
                   "releasable": DECIMAL})
SALE = _object({
    "address": ADDRESS, "token": ADDRESS, "token_symbol": _STR, "token_decimals": _INT, "rate": DECIMAL,
    "base_rate": DECIMAL, "tranche": _INT,
    "tranches": {"type": "array", "items": _object({"until_sold": DECIMAL, "rate": DECIMAL})},
    "next_boundary": {"anyOf": [DECIMAL, {"type": "null"}], "description": "null past the last tranche"},
    "hard_cap": DECIMAL, "soft_cap": DECIMAL, "soft_cap_reached": _BOOL, "tokens_sold": DECIMAL,
    "wei_raised": DECIMAL, "min_contribution": DECIMAL, "max_contribution": DECIMAL, "opening_time": DECIMAL,
    "closing_time": DECIMAL, "open": _BOOL, "paused": _BOOL, "finalized": _BOOL, "burned": DECIMAL,
    "allow_list_root": HASH32, "vesting": {"type": "array", "items": VESTING}, "chain_time": DECIMAL})
SALE_INVESTOR = _object({
    "address": ADDRESS, "allow_listed": _BOOL,
    "allow_listed_by": {"enum": ["direct", "merkle", "removed", None]},
    "merkle_proof": {"anyOf": [{"type": "array", "items": HASH32}, {"type": "null"}]},
    "contributed": DECIMAL, "tokens_owed": DECIMAL, "remaining_allowance": DECIMAL, "min_contribution": DECIMAL,
    "claimable": DECIMAL, "refundable": DECIMAL, "vesting": {"type": "array", "items": VESTING}})
MARKET_PATHS = {
    "/api/v1/offers/draft": {"post": _op(
        "The EIP-712 Offer to sign for the terms given, checked as the market contract would",
        auth=False, body=OFFER_TERMS, errors=(400, 403, 404, 429, 503),
        result=_object({"typed_data": {"type": "object"}, "offer_hash": HASH32}))},
    "/api/v1/offers": {
        "post": _op("Put a signed Offer into the book (checked as the contract would); answers with its hash "
                    "(201; 200 when the book holds it already)",
                    auth=False, ok=201, errors=(400, 403, 404, 429, 503),
                    result=_object({"offer_hash": HASH32, "offer": OFFER}),
                    body={"type": "object", "required": ["typed_data", "signature"],
                          "properties": {"typed_data": {"type": "object", "description": "the Offer as drafted"},
                                         "signature": OFFER_SIGNATURE}}),
        "get": _op("Search the live offers (filters, text, price range; paginated, sorted)", auth=False,
                   params=OFFER_FILTERS, errors=(400, 503), result=OFFER_PAGE),
    },
    "/api/v1/offers/{offer_hash}": {"get": _op("One offer, and whether it is still live", auth=False,
                                               params=[OFFER_HASH], errors=(400, 404),
                                               result={**OFFER, "required": [*OFFER["required"], "live"],
                                                       "properties": {**OFFER["properties"], "live": _BOOL}})},
    "/api/v1/offers/{offer_hash}/buy": {"post": _op(
        "The transactions to buy a licence from the offer (a CPY approve first where needed)", auth=False,
        params=[OFFER_HASH], result={**TX_LIST, "properties": {**TX_LIST["properties"], "offer_hash": HASH32}},
        errors=(400, 404, 422, 429, 503),
        body={"type": "object", "required": ["buyer"], "properties": {
            "buyer": ADDRESS, "domains": {"type": "array", "items": DOMAIN, "maxItems": 8,
                                          "description": "required exactly when the offer names none"}}})},
    "/api/v1/offers/{offer_hash}/cancel": {"post": _op(
        "The transaction for the seller to cancel the offer", auth=False, params=[OFFER_HASH], result=TX_LIST,
        errors=(400, 403, 404, 503), body={"type": "object", "required": ["seller"],
                                      "properties": {"seller": ADDRESS}})},
    "/api/v1/images/{registration_id}/offers": {"get": _op(
        "The live offers of one registration", auth=False, errors=(400, 503), result=OFFER_PAGE,
        params=[_path_param("registration_id", REGISTRATION_REF),
                *[p for p in OFFER_FILTERS if p["name"] != "registration"]])},
    "/api/v1/licences": {"get": _op("Licences by licensee, seller or registration", auth=False, errors=(400,),
                                    result=_object({"licences": {"type": "array", "items": LICENCE},
                                                    "page": _INT, "per_page": _INT}),
                                    params=[_query("licensee", ADDRESS), _query("seller", ADDRESS),
                                            _query("registration", REGISTRATION_REF),
                                            _query("page", PAGE), _query("per_page", PER_PAGE)])},
    "/api/v1/licences/check": {"get": _op(
        "Does anyone hold a licence for the registration on this domain (now, or at `at`)? Asks is_licensed on-chain",
        auth=False, errors=(400, 503), result=LICENCE_CHECK,
        params=[_query("registration", REGISTRATION_REF, required=True),
                                               _query("domain", DOMAIN, required=True),
                                               _query("licensee", ADDRESS),
                                               _query("at", {**UINT64, "description": "unix time; default: the chain's now"})])},
    "/api/v1/licences/{licence_id}": {"get": _op("One licence and its escrow's state", auth=False,
                                                 params=[LICENCE_ID], errors=(400, 404), result=LICENCE)},
    "/api/v1/licences/{licence_id}/certificate": {"get": _op(
        "A public licence certificate: image, terms, parties, transaction, verification link; a PDF with a QR "
        "code to it with ?format=pdf", auth=False,
        params=[LICENCE_ID, _query("format", {"enum": ["json", "pdf"]})], errors=(400, 404), result=CERTIFICATE)},
    "/api/v1/licences/{licence_id}/dispute": {"post": _op(
        "The transaction for the licensee to dispute within the dispute window", auth=False, params=[LICENCE_ID],
        result=TX_LIST, errors=(400, 403, 404, 422, 503),
        body={"type": "object", "required": ["buyer", "reason"],
              "properties": {"buyer": ADDRESS, "reason": {
                  "type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S",
                  "description": "for the arbiter: 1 to 200 bytes of UTF-8, not only spaces"}}})},
    "/api/v1/licences/{licence_id}/release": {"post": _op(
        "The transaction to release an escrow after its window (anyone may send it)", auth=False,
        params=[LICENCE_ID], result=TX_LIST, errors=(400, 404, 422, 503),
        body={"type": "object", "required": ["sender"], "properties": {"sender": ADDRESS}})},
    "/api/v1/market/withdraw": {"post": _op(
        "The transaction to withdraw what the market credited an account", auth=False,
        result={**TX_LIST, "properties": {**TX_LIST["properties"], "credit": DECIMAL}}, errors=(400, 503), body={"type": "object", "required": ["account"], "properties": {
            "account": ADDRESS, "asset": {"anyOf": [CURRENCY, ADDRESS], "description": "default ETH"}}})},
    "/api/v1/settlement/withdraw": {"post": _op(
        "The transaction to withdraw what the settlement escrow credited an account (a rights-holder's share "
        "of case payments, an overpayment returned)", auth=False,
        result={**TX_LIST, "properties": {**TX_LIST["properties"], "credit": DECIMAL}}, errors=(400, 503), body={"type": "object", "required": ["account"], "properties": {
            "account": ADDRESS, "asset": {"anyOf": [CURRENCY, ADDRESS], "description": "default ETH"}}})},
    "/api/v1/credits/{address}": {"get": _op(
        "What an account can withdraw now, per contract (market, settlement) and asset, in wei as decimal strings",
        auth=False, errors=(400, 503), params=[_path_param("address", ADDRESS)],
        result=_object({"account": ADDRESS, **{name: _object({"ETH": DECIMAL, "CPY": DECIMAL})
                                               for name in ("market", "settlement")}}))},
    "/api/v1/sale": {"get": _op(
        "The CPY sale: rate and tranche, caps, sold, raised, soft cap, window, paused, finalized, burned",
        auth=False, errors=(503,), result=SALE)},
    "/api/v1/sale/investors/{address}": {"get": _op(
        "An investor's standing: allow-listed (and by which list), Merkle proof, contributed, owed, allowance, "
        "claimable, refundable, and the vesting schedules", auth=False, errors=(400, 503), result=SALE_INVESTOR,
        params=[_path_param("address", ADDRESS)])},
    "/api/v1/sale/contribute": {"post": _op(
        "The transaction to contribute ETH (with the investor's Merkle proof where needed)", auth=False,
        result=TX_LIST, errors=(400, 422, 503), body={"type": "object", "required": ["investor", "amount"], "properties": {
            "investor": ADDRESS, "amount": ETHER}})},
    "/api/v1/sale/claim": {"post": _op("The transaction to claim CPY after a successful sale", auth=False,
                                       body=INVESTOR, result=TX_LIST, errors=(400, 422, 503))},
    "/api/v1/sale/refund": {"post": _op("The transaction to withdraw ETH the sale owes back", auth=False,
                                        body=INVESTOR, result=TX_LIST, errors=(400, 422, 503))},
}

MARKET_PATHS["/api/v1/offers"]["post"]["responses"]["200"] = {
    "description": "the book holds this offer already", "content": _json(_object({"offer_hash": HASH32, "offer": OFFER}))}
MARKET_PATHS["/api/v1/licences/{licence_id}/certificate"]["get"]["responses"]["200"]["content"]["application/pdf"] = {
    "schema": {"type": "string", "format": "binary"}}


# enforcement: the letter recipient's side (case code in the path, secret in X-Case-Secret)
_CASE_SECRET = {"name": "X-Case-Secret", "in": "header", "required": True, "schema": {"type": "string"}}
_CASE_CODE = _path_param("reference", {"type": "string", "example": "CT-1A2B3C4D"})
_CASE_ID = _path_param("case_id", ID)
_REASON = {"type": "object", "required": ["reason"], "properties": {
    "reason": {"type": "string", "pattern": "\\S", "description": "not only spaces"}}}
_MESSAGE_BODY = {"type": "object", "required": ["body"], "properties": {
    "body": {"type": "string", "pattern": "\\S", "description": "not only spaces; kept up to 5000 characters"}}}
# What the enforcement views answer (times as ISO 8601 strings; amounts as decimal strings).
CASE_SUMMARY = {"type": "object", "required": ["id", "reference", "registration_id", "domain", "country", "stage",
                                               "status", "deadline", "claim", "commission_bps", "hit_ids"],
                "properties": {"id": {"type": "integer"}, "reference": {"type": "string"},
                               "registration_id": {"type": "string"}, "domain": {"type": "string"},
                               "country": {"type": "string"}, "stage": {"type": "string"},
                               "status": {"type": "string"}, "deadline": {"type": ["string", "null"]},
                               "claim": {"type": ["object", "null"]}, "commission_bps": {"type": "integer"},
                               "hit_ids": {"type": "array", "items": {"type": "integer"}}}}
CASE_DETAIL = {**CASE_SUMMARY,
               "required": [*CASE_SUMMARY["required"], "evidence", "recipient", "escrow", "timeline", "documents",
                            "messages"],
               "properties": {**CASE_SUMMARY["properties"], "evidence": {"type": "object"},
                              "recipient": {"type": "object"},
                              "escrow": {"type": ["object", "null"], "description": "null while the escrow is not reachable"},
                              "timeline": {"type": "array", "items": {"type": "object"}},
                              "documents": {"type": "array", "items": {"type": "object"}},
                              "messages": {"type": "array", "items": {"type": "object"}}}}
PAUSED = {"type": "object", "required": ["status"], "properties": {"status": {"const": "paused"}}}
NOTIFY_EMAIL = {"type": "string", "maxLength": 320,
                "pattern": "^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\\.[A-Za-z0-9-]{1,63})*\\.[A-Za-z]{2,24}$",
                "description": "where you hear of the case (opened, letters, answers, payments); default: your "
                               "account's confirmed e-mail address (PUT /api/v1/account/email)"}
ACCOUNT = {"type": "object", "properties": {
    "address": {"type": "string"},
    "email": {"type": ["string", "null"], "description": "where the account hears from Copytrack"},
    "email_confirmed": {"type": "boolean", "description": "nothing but the confirmation link is mailed until true"},
    "hits_digest": {"type": "boolean", "description": "a mail of the new hits at most once per hits_digest_interval"},
    "note": {"type": ["string", "null"]}}}
OPEN_CASE = {"type": "object", "required": ["registration_id", "domain"], "properties": {
    "registration_id": REGISTRATION_ID,
    "domain": {**DOMAIN, "description": "the host your hits marked illegal are on (a host name, or a URL whose host counts)"},
    "licence_type": {**LICENCE_TYPE, "description": "the use the claim prices; default standard"},
    "damages_factor": {"type": "string", "pattern": "^[0-9]{1,3}(\\.[0-9]{1,4})?$",
                       "description": "times the licence fee, from 1 to the country's bound; default 1"},
    "minimum": {"type": "string", "pattern": "^[1-9][0-9]{0,76}$",
                "description": "the least you accept, in the asset's smallest unit; default: your collection's "
                               "minimum, else the licence fee"},
    "notify_email": NOTIFY_EMAIL}}
VIABILITY = {"type": "object", "required": ["registration_id", "domain", "viable", "failures", "country", "contacts",
                                            "recipient", "claim", "copy"],
             "properties": {"registration_id": {"type": "string"}, "domain": {"type": "string"},
                            "viable": {"type": "boolean"},
                            "failures": {"type": "array", "items": {"type": "string"}},
                            "country": {"type": "object", "description": "the country found and each source's evidence"},
                            "contacts": {"type": "array", "items": {"type": "object"}},
                            "recipient": {"type": "object"}, "claim": {"type": ["object", "null"]},
                            "copy": {"type": "object"}}}
ENFORCEMENT_PATHS = {
    "/api/v1/mandates/typed-data": {
        "get": _op("The EIP-712 mandate for one of your registrations (integers as decimal strings), for your wallet to sign",
                   errors=(400, 403, 404), result={"type": "object", "required": ["typed_data"],
                                                   "properties": {"typed_data": {"type": "object"}}}, params=[_query("registration_id", REGISTRATION_ID, required=True),
                                                    _query("days", {"type": "integer", "minimum": 1, "maximum": 5 * 365,
                                                                    "description": "how long the mandate runs; default 365"})]),
    },
    "/api/v1/mandates": {
        "post": _op("Record your signed mandate on the settlement escrow (the platform pays the gas)", ok=201,
                    errors=(400, 403, 422), result={"type": "object", "required": ["mandate"], "properties": {
                        "mandate": {"type": "object", "required": ["typed_data", "signature"]}}},
                    body={"type": "object", "required": ["typed_data", "signature"],
                          "properties": {"typed_data": {"type": "object", "description": "the mandate as handed out"},
                                         "signature": SIGNATURE}}),
    },
    "/api/v1/cases": {
        "get": _op("Your enforcement cases (an operator's: all)", errors=(), result={
            "type": "object", "required": ["cases"], "properties": {"cases": {"type": "array", "items": CASE_SUMMARY}}}),
        "post": _op("Open one case against a domain from your hits of a registration marked illegal there: the "
                    "viability checks run first (422 case_not_viable lists every failure), then the "
                    "post-licensing letter goes out", ok=201, body=OPEN_CASE, errors=(400, 404, 422, 503),
                    result=CASE_DETAIL),
    },
    "/api/v1/cases/viability": {
        "get": _op("The checks a case for your illegal hits of a registration on a domain would pass and fail, "
                   "without opening anything: mandate, registration final and out of its claim window, "
                   "verification level, the site's country among the jurisdictions, a contact address, no case yet, "
                   "the copy still online, no licence or whitelist; with the priced claim", errors=(400, 404, 503),
                   params=[_query("registration_id", REGISTRATION_ID, required=True),
                           _query("domain", {**DOMAIN, "description": "the host the hits are on"}, required=True)],
                   result=VIABILITY),
    },
    "/api/v1/lawyer/case": {
        "get": _op("The case a partner lawyer's signed link names (token in X-Lawyer-Token)", auth=False, errors=(401, 429),
                   result={**CASE_DETAIL, "properties": {**CASE_DETAIL["properties"], "lawyer": {"type": "string"}}},
                   params=[{"name": "X-Lawyer-Token", "in": "header", "required": True, "schema": {"type": "string"}}]),
    },
    "/api/v1/lawyer/case/messages": {
        "post": _op("A partner lawyer writes in the case conversation", auth=False, ok=201, errors=(400, 401, 429),
                    params=[{"name": "X-Lawyer-Token", "in": "header", "required": True, "schema": {"type": "string"}}],
                    body=_MESSAGE_BODY,
                    result={**CASE_DETAIL, "properties": {**CASE_DETAIL["properties"], "lawyer": {"type": "string"}}}),
    },
    "/api/v1/cases/{case_id}": {
        "get": _op("A case: evidence, claim, escrow state, timeline, documents, conversation", errors=(404,),
                   params=[_CASE_ID], result=CASE_DETAIL),
    },
    "/api/v1/cases/{case_id}/hold": {"post": _op("Stop the case's clock", body=_REASON, errors=(400, 403, 404, 409),
                                                 params=[_CASE_ID], result=CASE_DETAIL)},
    "/api/v1/cases/{case_id}/resume": {"post": _op("Restart a held or paused case", errors=(403, 404, 409),
                                                   params=[_CASE_ID], result=CASE_DETAIL)},
    "/api/v1/cases/{case_id}/close": {
        "post": _op("Close the case (logged on the escrow)", body=_REASON, errors=(400, 403, 404, 409), params=[_CASE_ID],
                    result=CASE_DETAIL),
    },
    "/api/v1/cases/{case_id}/messages": {
        "post": _op("Write in the case conversation", ok=201, errors=(400, 404), params=[_CASE_ID],
                    body=_MESSAGE_BODY, result=CASE_DETAIL),
    },
    "/api/v1/responses/{reference}": {
        "get": _op("A letter's case as its recipient sees it: evidence, registration proof, mandate, the claim "
                   "with its calculation, what is paid and outstanding (decimal strings), and the transaction "
                   "that pays `amount` (default: everything outstanding) into the settlement escrow",
                   auth=False, errors=(400, 401, 429),
                   params=[_CASE_CODE, _CASE_SECRET, _query("amount", {**UINT256, "description": "wei, above 0 and at "
                                                                       "most what is outstanding"})],
                   result={"type": "object", "required": ["reference", "stage", "status", "deadline", "evidence",
                                                          "registration", "mandate", "claim", "paid", "outstanding",
                                                          "documents"],
                           "properties": {"reference": {"type": "string"}, "stage": {"type": "string"},
                                          "status": {"type": "string"}, "deadline": {"type": ["string", "null"]},
                                          "evidence": {"type": "object"}, "registration": {"type": "object"},
                                          "mandate": {"type": ["object", "null"]}, "claim": {"type": ["object", "null"]},
                                          "paid": DECIMAL, "outstanding": DECIMAL,
                                          "documents": {"type": "array", "items": {"type": "object"}},
                                          "payment": {"type": "object", "description": "while something is outstanding: "
                                                                                       "the transaction that pays"}}}),
    },
    "/api/v1/responses/{reference}/licence-proof": {
        "post": _op("Upload a licence you hold (field `file`, optional `note`); the case pauses for the owner's review",
                    auth=False, ok=201, errors=(400, 401, 409, 413, 429), params=[_CASE_CODE, _CASE_SECRET],
                    multipart={"type": "object", "required": ["file"],
                               "properties": {"file": {"type": "string", "format": "binary"}, "note": {"type": "string"}}},
                    result={"type": "object", "required": ["sha256", "status"],
                            "properties": {"sha256": {"type": "string"}, "status": {"const": "paused"}}}),
    },
    "/api/v1/responses/{reference}/dispute": {
        "post": _op("Dispute the claim with a message; the case pauses until the owner or operator answers",
                    auth=False, ok=201, errors=(400, 401, 409, 429), params=[_CASE_CODE, _CASE_SECRET],
                    body={"type": "object", "required": ["message"], "properties": {"message": {
                        "type": "string", "maxLength": 5000, "pattern": "\\S", "description": "why; not only spaces"}}},
                    result=PAUSED),
    },
}
ENFORCEMENT_PATHS.update({
    "/api/v1/operator": {
        "get": _op("The operator's page (addresses in the setting enforcement_operators; 404 for anyone else): "
                   "held and paused cases with the event that stopped them, the partner law firms per country, "
                   "and every rights-holder's verification level", errors=(404,), result=_object({
                       "address": ADDRESS,
                       "review": {"type": "array", "items": {**CASE_SUMMARY, "required": [*CASE_SUMMARY["required"], "why"],
                                                             "properties": {**CASE_SUMMARY["properties"],
                                                                            "why": {"type": ["object", "null"]}}}},
                       "partners": {"type": "array", "items": {"type": "object", "required": ["country", "name", "partners"]}},
                       "verifications": {"type": "array", "items": _object({
                           "address": ADDRESS, "level": {"type": "integer", "enum": [0, 1, 2]},
                           "registrations": {"type": "integer", "minimum": 0}})}})),
    },
    "/api/v1/operator/verifications": {
        "post": _op("The transaction that records a rights-holder's verification level, for the signed-in "
                    "operator's wallet (it must hold the register's ATTESTOR_ROLE, else 422); 404 for non-operators",
                    errors=(400, 404, 422), result=TX_LIST, body={
                        "type": "object", "required": ["account", "level"], "properties": {
                            "account": ADDRESS, "level": {"type": "integer", "enum": [0, 1, 2],
                                                          "description": "0 not verified, 1 identity checked, "
                                                                         "2 verified creator"}}}),
    },
})
# Every enforcement view asks the chain node first (the escrow is on-chain): 503 while it is down.
for _operations in ENFORCEMENT_PATHS.values():
    for _operation in _operations.values():
        _operation["responses"]["503"] = {"description": ERROR_MEANING[503], "content": _json(ERROR)}

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

# -- gasless registration of many images under one signature (relay batches) ------------------
IMAGE_IDS = {"type": "array", "items": ID, "minItems": 1, "maxItems": 100,
             "uniqueItems": True, "description": "your images still 'uploaded', in the order they are signed"}
RELAY_BATCH = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "owner": {"type": "string"},
        "status": {"type": "string", "enum": ["committing", "committed", "revealing", "revealed", "failed"],
                   "description": "committing → committed (on-chain) → revealing → revealed; or failed "
                                  "(last_error says why, and each image too)"},
        "nonce": DECIMAL,
        "deadline": {**DECIMAL, "description": "unix time, as a decimal string"},
        "commit_tx_hash": {"type": ["string", "null"]},
        "reveal_tx_hash": {"type": ["string", "null"]},
        "last_error": {"type": ["string", "null"]},
        "images": {"type": "array", "items": IMG},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
SCHEMAS["RelayBatch"] = RELAY_BATCH


def relay_batch_paths() -> dict:
    batch = {"$ref": "#/components/schemas/RelayBatch"}
    return {
        "/api/v1/images/relay-batch/draft": {
            "post": _op(
                "Gasless registration of up to 100 images: the EIP-712 RevealBatch message to sign once "
                "(typed_data), with its salt, unordered nonce and deadline",
                body={"type": "object", "required": ["image_ids"], "properties": {"image_ids": IMAGE_IDS}},
                result={"type": "object", "required": ["image_ids", "salt", "nonce", "deadline", "typed_data"],
                        "properties": {"image_ids": IMAGE_IDS, "salt": HASH32, "nonce": DECIMAL,
                                       "deadline": {**DECIMAL, "description": "unix time, as a decimal string"},
                                       "typed_data": {"type": "object"}}},
                errors=(400, 404, 409, 503),
            )
        },
        "/api/v1/images/relay-batch": {
            "post": _op(
                "Relay a signed RevealBatch: the relayer commits to the batch now and reveals it a block "
                "later; every image ends registered or says why in last_error",
                body={"type": "object", "required": ["image_ids", "signature", "salt", "nonce", "deadline"],
                      "properties": {"image_ids": IMAGE_IDS, "signature": SIGNATURE, "salt": HASH32,
                                     "nonce": UINT256,
                                     "deadline": {"anyOf": [UINT64, SAFE_INT],
                                                  "description": "typed_data.message.deadline as handed out"}}},
                ok=202, result=batch, errors=(400, 403, 404, 409, 503),
            )
        },
        "/api/v1/images/relay-batch/{batch_id}": {
            "get": _op("One of your relay batches and its images", result=batch, errors=(404,),
                       params=[_path_param("batch_id", ID)])
        },
    }


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
        "/api/v1/account": {
            "get": _op("Your account: its e-mail address, whether confirmed, the digest of new hits", errors=(),
                       result=ACCOUNT),
            "patch": _op("Turn the mail of new hits on or off", errors=(409,), result=ACCOUNT,
                         body={"type": "object", "required": ["hits_digest"], "additionalProperties": False,
                               "properties": {"hits_digest": {"type": "boolean"}}}),
        },
        "/api/v1/account/email": {
            "put": _op("Set the account's e-mail address (case news, the digest of new hits): a confirmation link is "
                       "mailed to it, at most once a minute; only a wallet session may, not an API key",
                       errors=(403, 409), result=ACCOUNT,
                       body={"type": "object", "required": ["email"],
                             "properties": {"email": {"type": "string", "maxLength": 254, "format": "email"}}}),
            "delete": _op("Forget the account's e-mail address", errors=(), result=ACCOUNT),
        },
        "/api/v1/account/email/confirm": {
            "post": _op("Confirm an e-mail address with the token from its link (no sign-in: the token is the proof)",
                        auth=False, errors=(429,), result=ACCOUNT,
                        body={"type": "object", "required": ["token"],
                              "properties": {"token": {"type": "string", "minLength": 16, "maxLength": 100}}}),
        },
        "/api/v1/images": {
            "post": _op(
                "Upload an image: validates, hashes, stores on IPFS, reports prior registrations by others, "
                "and returns the transaction and the EIP-712 message to register it",
                multipart=UPLOAD, ok=201, errors=(400, 404, 413, 415, 429, 503),
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
                auth=False, multipart=IMAGE_FILE, errors=(400, 413, 415, 429, 503),
                result={"type": "object", "properties": {"sha256": {"type": "string"}, "phash": {"type": "string"},
                                                         "matches": {"type": "array", "items": REG}}},
            )
        },
        "/api/v1/registrations/{reg_id}": {
            "get": _op("A final registration by id (the file's SHA-256)", auth=False, result=REG, errors=(400, 404),
                       params=[_path_param("reg_id", REGISTRATION_ID)])
        },
        "/api/v1/status": {"get": _op("Chain, contracts, database and indexer status", auth=False, errors=(429,))},
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
    paths.update(relay_batch_paths())
    paths.update(WEBAPP_PATHS)
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
    paths.update(MARKET_PATHS)
    paths.update(ENFORCEMENT_PATHS)
    paths.update(crawler_paths())
    return {
        "openapi": "3.1.0",
        "info": {"title": "Copytrack API", "version": "1",
                 "description": "Copyright register for images: upload, register on-chain, look up, license, invest."},
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "a session token from /auth/login or an API key"}},
        },
    }


HIT = {"type": "object", "required": ["id", "registration_id", "owner", "page_url", "image_url", "domain",
                                     "image_sha256", "match", "kind", "score", "status", "found_at",
                                     "last_seen_at", "gone_at", "verdict", "verdict_by", "verdict_at",
                                     "copy_url", "registered_image_url"], "properties": {
    "id": {"type": "integer"}, "registration_id": {"type": "string"}, "owner": {"type": "string"},
    "page_url": {"type": "string"}, "image_url": {"type": "string"}, "domain": {"type": "string"},
    "image_sha256": {"type": ["string", "null"]},
    "match": {"enum": ["exact", "perceptual"]}, "kind": {"type": "string"}, "score": {"type": "number"},
    "status": {"enum": ["active", "gone"]}, "found_at": {"type": "string", "format": "date-time"},
    "last_seen_at": {"type": ["string", "null"], "format": "date-time"},
    "gone_at": {"type": ["string", "null"], "format": "date-time"},
    "verdict": {"enum": [None, "legal", "illegal", "unsure", "not_a_match"], "description": "null: not triaged yet"},
    "verdict_by": {"enum": [None, "owner", "whitelist", "own_domain", "licence"]},
    "verdict_at": {"type": ["string", "null"], "format": "date-time"},
    "copy_url": {"type": ["string", "null"], "description": "/ipfs/{cid} of the copy's bytes as fetched"},
    "registered_image_url": {"type": ["string", "null"], "description": "/ipfs/{cid} of the registered image"},
    "http_status": {"type": ["integer", "null"], "description": "one hit only"},
    "headers": {"type": ["object", "null"], "description": "one hit only"},
    "evidence": {"type": "object", "description": "one hit only: WARC and screenshot, CID, SHA-256 and /ipfs/{cid} link",
                 "properties": {"warc": {"type": ["object", "null"]}, "screenshot": {"type": ["object", "null"]}}}}}
WATCHED = {"type": "object", "required": ["id", "url", "scope", "created_at"], "properties": {
    "id": {"type": "integer"}, "url": {"type": "string"}, "scope": {"enum": ["page", "domain"]},
    "created_at": {"type": ["string", "null"], "format": "date-time"}}}
PORTFOLIO = {"type": "object", "required": ["id", "domain", "url"], "properties": {
    "id": {"type": "integer"}, "domain": {"type": "string"}, "url": {"type": "string"},
    "created_at": {"type": ["string", "null"], "format": "date-time"}}}
PORTFOLIO_IMAGES = {**PORTFOLIO, "required": ["id", "domain", "url", "images", "total", "limit", "offset"], "properties": {
    **PORTFOLIO["properties"], "total": {"type": "integer"}, "limit": {"type": "integer"},
    "offset": {"type": "integer"}, "images": {"type": "array", "items": {
        "type": "object", "required": ["image_url", "page_url", "sha256", "registered", "registration_id"],
        "properties": {"image_url": {"type": "string"}, "page_url": {"type": "string"}, "sha256": {"type": "string"},
                       "width": {"type": ["integer", "null"]}, "height": {"type": ["integer", "null"]},
                       "registered": {"type": "boolean"}, "registration_id": {"type": ["string", "null"]}}}}}}
URL_BODY = {"type": "object", "required": ["url"], "properties": {"url": URL}}


def _removed(schema: dict) -> dict:
    """`schema` of a thing as it was, with `removed: true`."""
    return {**schema, "required": [*schema["required"], "removed"],
            "properties": {**schema["properties"], "removed": {"const": True}}}
HIT_FILTER_SCHEMAS = {
    "domain": {"type": "string", "maxLength": 253, "description": "a host name: hits on it and its subdomains"},
    "registration": REGISTRATION_ID,
    "collection": {**GROUP_NAME, "description": "a collection of yours"},
    "since": {"type": "string", "format": "date-time", "description": "ISO 8601"},
    "until": {"type": "string", "format": "date-time", "description": "ISO 8601"},
    "min_score": {"type": "number", "minimum": 0, "maximum": 1},
    "status": {"enum": ["active", "gone"]},
    "verdict": {"enum": ["new", "legal", "illegal", "unsure", "not_a_match"],
                "description": "new: not triaged yet; without it, hits that are not a match are left out"},
    "country": {"type": "string", "pattern": "^[A-Za-z]{2}$",
                "description": "ISO 3166 alpha-2: hits on domains under that country's ccTLD"},
}
HIT_FILTERS = [_query(name, schema) for name, schema in HIT_FILTER_SCHEMAS.items()]
VERDICT = {"enum": ["legal", "illegal", "unsure", "not_a_match"]}
TRIAGE_BODY = {"type": "object", "required": ["verdict"], "additionalProperties": False,
               "oneOf": [{"required": ["hit_ids"]}, {"required": ["filter"]}], "properties": {
    "verdict": VERDICT,
    "hit_ids": {"type": "array", "minItems": 1, "maxItems": 1000, "items": ID},
    "filter": {"type": "object", "additionalProperties": False, "properties": HIT_FILTER_SCHEMAS,
               "description": "the filters of GET /api/v1/hits; at most 1000 hits"}}}
TRIAGED = {"type": "object", "required": ["updated", "skipped"], "properties": {
    "updated": {"type": "integer"},
    "skipped": {"type": "array", "items": {"type": "object", "required": ["id", "reason"],
                                           "properties": {"id": {"type": "integer"}, "reason": {"type": "string"}}}}}}
HOST = {"type": "string", "minLength": 1, "maxLength": 253, "description": "a host name such as example.org",
        "pattern": r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"}


def crawler_paths() -> dict:
    return {
        "/api/v1/hits": {"get": _op(
            "Copies of your registered images the crawler found, newest first",
            result={"type": "object", "required": ["hits", "total", "limit", "offset"],
                    "properties": {"hits": {"type": "array", "items": HIT}, "total": {"type": "integer"},
                                   "limit": {"type": "integer"}, "offset": {"type": "integer"}}},
            params=[*HIT_FILTERS,
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
                    _query("offset", {"type": "integer", "minimum": 0, "maximum": 10**9})], errors=(400, 404))},
        "/api/v1/hits/groups": {"get": _op(
            "Your hits the filters keep, counted per registration or per domain, latest find first",
            result={"type": "object", "required": ["by", "groups"], "properties": {
                "by": {"enum": ["registration", "domain"]},
                "groups": {"type": "array", "items": {
                    "type": "object", "required": ["key", "count", "new", "latest_found_at"],
                    "properties": {"key": {"type": "string"}, "count": {"type": "integer"},
                                   "new": {"type": "integer", "description": "not triaged yet"},
                                   "latest_found_at": {"type": ["string", "null"], "format": "date-time"}}}}}},
            params=[_query("by", {"enum": ["registration", "domain"], "description": "default registration"}),
                    *HIT_FILTERS], errors=(400, 404))},
        "/api/v1/hits/triage": {"post": _op(
            "Give a verdict to hits named by id or kept by a filter; illegal is refused (skipped, with the "
            "reason) for whitelisted, own and licensed domains; not_a_match suppresses the copy for good",
            body=TRIAGE_BODY, result=TRIAGED, errors=(400, 404, 503))},
        "/api/v1/reports": {"post": _op(
            "Report a copy by hand: the page and the image are fetched (crawler rules), matched against your "
            "registrations and recorded as a hit with WARC evidence; 422 if it is no copy of yours",
            body={"type": "object", "required": ["page_url", "image_url"],
                  "properties": {"page_url": URL, "image_url": URL}},
            ok=201, result=HIT, errors=(400, 422, 429))},
        "/api/v1/whitelist": {
            "post": _op("Allow a domain: your hits on it become legal, now and when found later", ok=201,
                        body={"type": "object", "required": ["domain"], "properties": {"domain": HOST}},
                        result={"type": "object", "required": ["domain", "hits_made_legal"],
                                "properties": {"domain": {"type": "string"}, "hits_made_legal": {"type": "integer"}}},
                        errors=(400,)),
            "get": _op("The domains you allow", errors=(),
                       result={"type": "object", "required": ["domains"],
                               "properties": {"domains": {"type": "array", "items": {"type": "string"}}}}),
        },
        "/api/v1/whitelist/{domain}": {"delete": _op(
            "Stop allowing a domain (hits already legal keep their verdict)", errors=(400, 404),
            result={"type": "object", "required": ["domain", "removed"],
                    "properties": {"domain": {"type": "string"}, "removed": {"type": "boolean"}}},
            params=[_path_param("domain", HOST)])},
        "/api/v1/hits/{hit_id}": {"get": _op(
            "One of your hits with its evidence (WARC, screenshot) through /ipfs/{cid}", result=HIT,
            errors=(404,), params=[_path_param("hit_id", ID)])},
        "/api/v1/watch": {
            "post": _op("Watch a page (scope page) or a site (scope domain, the default)", ok=201,
                        body={**URL_BODY, "properties": {**URL_BODY["properties"],
                                                         "scope": {"enum": ["page", "domain"],
                                                                   "description": "default domain"}}},
                        result=WATCHED, errors=(400, 409)),
            "get": _op("The pages and sites you watch", errors=(),
                       result={"type": "object", "required": ["watch"],
                               "properties": {"watch": {"type": "array", "items": WATCHED}}}),
        },
        "/api/v1/watch/{watch_id}": {"delete": _op(
            "Stop watching a page or site: its place in your limit is free again (the crawler keeps"
            " it as a page it found)", errors=(404,), result=_removed(WATCHED),
            params=[_path_param("watch_id", ID)])},
        "/api/v1/portfolios": {
            "post": _op("Your own site: its images are catalogued, and copies there are never hits", body=URL_BODY,
                        ok=201, result=PORTFOLIO, errors=(400, 409)),
            "get": _op("Your own sites", errors=(),
                       result={"type": "object", "required": ["portfolios"],
                               "properties": {"portfolios": {"type": "array", "items": PORTFOLIO}}}),
        },
        "/api/v1/portfolios/{portfolio_id}/import": {"post": _op(
            "Add images found on your site to your images, ready to register (fetched from the site now)",
            body={"type": "object", "required": ["image_urls"], "properties": {"image_urls": {
                "type": "array", "minItems": 1, "maxItems": 20, "items": {**URL, "minLength": 1},
                "description": "image addresses from the site's catalogue"}}},
            result={"type": "object", "required": ["imported", "skipped"], "properties": {
                "imported": {"type": "array", "items": {"type": "object", "required": ["image_url", "image_id", "created"],
                             "properties": {"image_url": {"type": "string"}, "image_id": {"type": "integer"},
                                            "created": {"type": "boolean", "description": "false: you had uploaded these bytes before"}}}},
                "skipped": {"type": "array", "items": {"type": "object", "required": ["image_url", "reason"],
                            "properties": {"image_url": {"type": "string"}, "reason": {"type": "string"}}}}}},
            errors=(400, 404, 429), params=[_path_param("portfolio_id", ID)])},
        "/api/v1/portfolios/{portfolio_id}": {
            "get": _op("The images found on your site so far, in the order found, the registered ones marked",
                       errors=(404,), result=PORTFOLIO_IMAGES,
                       params=[_path_param("portfolio_id", ID),
                               _query("limit", {"type": "integer", "minimum": 1, "maximum": 500,
                                                "description": "default 100"}),
                               _query("offset", {"type": "integer", "minimum": 0, "maximum": 10**9})]),
            "delete": _op("Your site is no longer your own: copies there become hits, its pages are read again"
                          " at the next pass", errors=(404,), result=_removed(PORTFOLIO),
                          params=[_path_param("portfolio_id", ID)]),
        },
    }
_WEBAPP_PAGE = {
    "200": {"description": "the web app's page or file", "content": {"text/html": {}}},
    "404": {"description": "a missing file, or an unknown path under /api/ or /ipfs/ (JSON error)"},
    "503": {"description": "the web app is not built; the page says how to build it", "content": {"text/html": {}}},
}
# The web app (backend/api/webapp.py): its files, and index.html for the app's own routes.
WEBAPP_PATHS = {
    "/": {"get": {"summary": "The web app", "responses": _WEBAPP_PAGE}},
    "/{path}": {"get": {"summary": "A file of the web app, or its page for a client route such as /verify/{id}",
                        "parameters": [_path_param("path", {"type": "string"})], "responses": _WEBAPP_PAGE}},
}


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(document())
