"""Rate limits (flask-limiter): the endpoints anyone can call without signing in, per client
address; uploads, and requests that make the server fetch from other sites, per signed-in account.

The counters live in `rate_limit_storage` (in memory for one process, a shared store such as
`redis://…` when several backend processes serve the same site).
"""

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from backend import accounts
from backend.api.common import bearer_token, services
from backend.config import Settings
from backend.errors import DomainError

PUBLIC_VIEWS = ("public.lookup", "public.status", "market.draft_offer", "market.submit_offer", "market.buy_offer")
# a letter's case code and secret must not be guessable by trying: same limit as the public views
RESPONSE_VIEWS = ("responses.show", "responses.licence_proof", "responses.dispute", "lawyers.show_case",
                  "lawyers.post_message")
SIGN_IN_VIEWS = ("auth.nonce", "auth.login", "auth.confirm_email")
ACCOUNT_VIEWS = ("images.upload",)
# the server fetches from other people's sites for these: a copy reported by hand, images added from an own site
FETCH_VIEWS = ("hits.report", "hits.import_from_portfolio")


def account_key() -> str:
    """The signed-in address, so one account cannot multiply its uploads over many addresses
    (nor share one address's budget with others); the client address for a request that is not
    signed in (refused with 401 by the view anyway)."""
    token = bearer_token()
    if token is not None:
        try:
            with services().db.session() as db:
                return "account:" + accounts.authenticate(db, token).address
        except DomainError:
            pass
    return "address:" + get_remote_address()


def init_app(app: Flask, settings: Settings) -> Limiter:
    limiter = Limiter(get_remote_address, app=app, storage_uri=settings.rate_limit_storage, headers_enabled=True)
    for views, rate in ((PUBLIC_VIEWS + RESPONSE_VIEWS, settings.rate_limit_public),
                        (SIGN_IN_VIEWS, settings.rate_limit_sign_in)):
        for name in views:
            app.view_functions[name] = limiter.limit(rate)(app.view_functions[name])
    for name in ACCOUNT_VIEWS:
        app.view_functions[name] = limiter.limit(settings.rate_limit_upload, key_func=account_key)(
            app.view_functions[name]
        )
    fetching = limiter.shared_limit(settings.rate_limit_fetch, scope="fetch", key_func=account_key)  # one budget
    for name in FETCH_VIEWS:
        app.view_functions[name] = fetching(app.view_functions[name])
    return limiter
