"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask

from backend.api import auth, errors, gateway, groups, hits, images, limits, market, openapi, public, sale, webapp
from backend.api import cases as enforcement_cases
from backend.api import lawyers as enforcement_lawyers
from backend.api import operator as enforcement_operator
from backend.api import responses as enforcement_responses
from backend.api.common import IdConverter
from backend.config import Settings, load_settings
from backend.services import Services

MULTIPART_OVERHEAD = 64 * 1024


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    settings = settings or (services.settings if services else load_settings())
    services = services or Services(settings)
    services.db.migrate()
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes + MULTIPART_OVERHEAD
    app.config["JSON_SORT_KEYS"] = False
    app.extensions["copytrack"] = services
    app.url_map.converters["id"] = IdConverter
    errors.init_app(app)
    for blueprint in (auth.bp, groups.bp, images.bp, public.bp, openapi.bp, gateway.bp, market.bp, sale.bp,
                      hits.bp, enforcement_cases.bp, enforcement_responses.bp, enforcement_lawyers.bp,
                      enforcement_operator.bp, webapp.bp):
        app.register_blueprint(blueprint)
    limits.init_app(app, settings)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app
