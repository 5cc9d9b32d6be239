"""Sign-In with Ethereum, API keys, and the account's e-mail address."""

from flask import Blueprint, g, jsonify

from backend import accounts
from backend.api.common import bearer_token, iso_time, json_body, require_auth, services
from backend.errors import InvalidInput

bp = Blueprint("auth", __name__, url_prefix="/api/v1")


@bp.post("/auth/nonce")
def nonce():
    settings = services().settings
    with services().db.session() as db:
        value = accounts.issue_nonce(db, settings.siwe_nonce_ttl)
    return jsonify(
        nonce=value,
        domain=settings.resolved_siwe_domain,
        chain_id=settings.chain_id,
        expires_in=settings.siwe_nonce_ttl,
    )


@bp.post("/auth/login")
def login():
    body = json_body()
    settings = services().settings
    with services().db.session() as db:
        signed_in = accounts.sign_in(
            db,
            body.get("message"),
            body.get("signature"),
            domain=settings.resolved_siwe_domain,
            chain_id=settings.chain_id,
            session_ttl=settings.session_ttl,
            clock_skew=settings.siwe_clock_skew,
        )
    return jsonify(address=signed_in.address, token=signed_in.token, expires_at=iso_time(signed_in.expires_at))


@bp.post("/auth/logout")
@require_auth
def logout():
    with services().db.session() as db:
        ended = accounts.sign_out(db, bearer_token())
    return jsonify(signed_out=True, ended=ended)


@bp.get("/auth/me")
@require_auth
def me():
    return jsonify(address=g.address)


def _key_view(key) -> dict:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": iso_time(key.created_at),
        "last_used_at": iso_time(key.last_used_at),
        "revoked": key.revoked_at is not None,
    }


@bp.post("/api-keys")
@require_auth
def create_key():
    caller = accounts.Caller(g.address, g.api_key_id)
    with services().db.session() as db:
        plaintext, key = accounts.create_api_key(db, caller, json_body().get("name"))
        view = _key_view(key)
    return jsonify({**view, "key": plaintext, "note": "store this key now; it is never shown again"}), 201


@bp.get("/api-keys")
@require_auth
def list_keys():
    with services().db.session() as db:
        return jsonify(api_keys=[_key_view(k) for k in accounts.list_api_keys(db, g.address)])


@bp.delete("/api-keys/<id:key_id>")
@require_auth
def revoke_key(key_id: int):
    with services().db.session() as db:
        return jsonify(_key_view(accounts.revoke_api_key(db, g.address, key_id)))


@bp.get("/account")
@require_auth
def account():
    with services().db.session() as db:
        return jsonify(accounts.account_view(db, g.address))


@bp.patch("/account")
@require_auth
def update_account():
    body = json_body()
    if set(body) - {"hits_digest"}:
        raise InvalidInput(f"unknown field(s) {', '.join(sorted(set(body) - {'hits_digest'}))}; "
                           "the account's e-mail address changes with PUT /api/v1/account/email")
    with services().db.session() as db:
        return jsonify(accounts.set_hits_digest(db, g.address, body.get("hits_digest")))


@bp.put("/account/email")
@require_auth
def set_email():
    settings = services().settings
    with services().db.session() as db:
        view = accounts.set_email(db, accounts.Caller(g.address, g.api_key_id), json_body().get("email"),
                                  public_url=settings.resolved_public_url, sender_domain=settings.mail_domain)
    return jsonify({**view, "note": None if view["email_confirmed"] else
                    f"a confirmation link was mailed to {view['email']}; nothing else is sent there until it is opened"})


@bp.delete("/account/email")
@require_auth
def remove_email():
    with services().db.session() as db:
        return jsonify(accounts.remove_email(db, g.address))


@bp.post("/account/email/confirm")
def confirm_email():
    with services().db.session() as db:
        return jsonify(accounts.confirm_email(db, json_body().get("token")))
