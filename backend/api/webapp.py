"""The web app at `/`: the files `make` builds from `frontend/` into `frontend/dist`.

Client routes such as `/verify/<id>` get `index.html` (the app routes them in the browser); paths
under `/api/` and `/ipfs/` never do, so an unknown API path still answers a JSON 404.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Response, send_from_directory
from werkzeug.exceptions import NotFound

from backend.api.common import services

bp = Blueprint("webapp", __name__)

SOURCE_DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"
RESERVED = ("api/", "ipfs/")
HASHED_ASSETS = "assets/"  # Vite puts a content hash in these names: they never change

MISSING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Copytrack: web app not built</title></head>
<body><main><h1>The web app is not built</h1>
<p>There are no built files in <code>{dist}</code>. Run <code>make run</code> (it builds the app) or
<code>npm ci &amp;&amp; npm run build:web</code> in the project directory, then reload this page.</p>
<p>The API works without it: <a href="/api/v1/status">/api/v1/status</a>.</p></main></body></html>
"""


def dist_dir() -> Path:
    configured = services().settings.webapp_dir
    return Path(configured) if configured else SOURCE_DIST


def _security_headers(response: Response) -> Response:
    """No script, style or connection outside this server and the chain's public RPC node."""
    rpc = services().settings.resolved_public_rpc_url
    rpc_origin = f" {urlsplit(rpc).scheme}://{urlsplit(rpc).netloc}" if rpc else ""
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; connect-src 'self'{rpc_origin}; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.get("/", defaults={"path": ""})
@bp.get("/<path:path>")
def serve(path: str):
    if path.startswith(RESERVED):
        raise NotFound(f"no such endpoint: /{path}")
    dist = dist_dir()
    if not (dist / "index.html").is_file():
        return Response(MISSING_PAGE.format(dist=escape(str(dist))), status=503, mimetype="text/html")
    if path and (dist / path).is_file():
        response = send_from_directory(dist, path, max_age=31536000 if path.startswith(HASHED_ASSETS) else 0)
    elif path.startswith(HASHED_ASSETS) or "." in path.rsplit("/", 1)[-1]:
        raise NotFound(f"no such file: /{path}")
    else:
        response = send_from_directory(dist, "index.html", max_age=0)
        response.headers["Cache-Control"] = "no-cache"
    return _security_headers(response)
