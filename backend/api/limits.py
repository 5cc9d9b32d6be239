"""Rate limits on the endpoints anyone can call without signing in (flask-limiter).

Per client address; the counters live in `rate_limit_storage` (in memory for one process, a
shared store such as `redis://…` when several backend processes serve the same site).
"""

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from backend.config import Settings

PUBLIC_VIEWS = ("public.lookup", "market.draft_offer", "market.submit_offer", "market.buy_offer")
# a letter's case code and secret must not be guessable by trying: same limit as the public views
RESPONSE_VIEWS = ("responses.show", "responses.licence_proof", "responses.dispute", "lawyers.show_case",
                  "lawyers.post_message")
SIGN_IN_VIEWS = ("auth.nonce", "auth.login")


def init_app(app: Flask, settings: Settings) -> Limiter:
    limiter = Limiter(get_remote_address, app=app, storage_uri=settings.rate_limit_storage, headers_enabled=True)
    for views, rate in ((PUBLIC_VIEWS + RESPONSE_VIEWS, settings.rate_limit_public),
                        (SIGN_IN_VIEWS, settings.rate_limit_sign_in)):
        for name in views:
            app.view_functions[name] = limiter.limit(rate)(app.view_functions[name])
    return limiter
