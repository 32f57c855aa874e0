"""The API's Swagger UI page, whose script and stylesheet the API serves itself.

Powertools (a dependency of the layer) ships Swagger UI's built assets, so the page needs no CDN
and works offline; its UI version is the one the layer pins. The files are read the first time
the page or an asset is asked for, never at import (the query function's cold start does not pay
for a page few requests open).

They are sent as plain text: API Gateway compresses them for clients that take gzip (the API's
``MinimumCompressionSize``), so nothing here compresses or sets ``Content-Encoding``.

Asset URLs carry a hash of their content (``?v=...``), so they can be cached for a year: a new
layer with another Swagger UI gets new URLs. A request with another (or no) hash still gets the
current file, marked ``no-cache``, so a stale URL is never pinned in a cache.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path

import aws_lambda_powertools

from tpns_account.values import Value
from tpns_api.http.answers import Document
from tpns_api.http.request import HttpRequest

IMMUTABLE = "public, max-age=31536000, immutable"


class Asset(Value):
    """One of Swagger UI's files, as Powertools ships it and as the API serves it."""

    route: str
    file_name: str
    content_type: str

    def serve(self, request: HttpRequest) -> Document:
        """The file; cacheable for a year only at its current versioned URL."""
        current = request.query.get("v") == version(self)
        headers = {
            "Cache-Control": IMMUTABLE if current else "no-cache",
            # API Gateway compresses by the request's Accept-Encoding: caches must key on it.
            "Vary": "Accept-Encoding",
        }
        return Document(content(self), self.content_type, headers)


SCRIPT = Asset(
    "/v1/docs/swagger-ui-bundle.js", "swagger-ui-bundle.min.js", "text/javascript; charset=utf-8"
)
STYLESHEET = Asset("/v1/docs/swagger-ui.css", "swagger-ui.min.css", "text/css; charset=utf-8")
ASSETS = (SCRIPT, STYLESHEET)


def swagger_ui_dir() -> Path:
    """Where the installed Powertools keeps Swagger UI (located, not imported: no import cost)."""
    return Path(aws_lambda_powertools.__file__).parent / "event_handler/openapi/swagger_ui"


@cache
def content(asset: Asset) -> str:
    return (swagger_ui_dir() / asset.file_name).read_text(encoding="utf-8")


@cache
def version(asset: Asset) -> str:
    return hashlib.sha256(content(asset).encode()).hexdigest()[:16]


def url(asset: Asset) -> str:
    """The asset's URL relative to the page (``/v1/docs``), so a stage prefix is kept."""
    return f"{asset.route.removeprefix('/v1/')}?v={version(asset)}"


# Loads the spec from this API (the page is <base>/v1/docs; <base> is "/<stage>" behind API
# Gateway) and points "Try it out" at the API the page came from. validatorUrl: null keeps
# Swagger UI from sending the spec to its online validator.
_INIT_SCRIPT = """
const base = window.location.pathname.replace(/\\/v1\\/docs\\/?$/, "");
fetch(base + "/v1/openapi.json")
  .then((answer) => {
    if (!answer.ok) throw new Error("HTTP " + answer.status);
    return answer.json();
  })
  .then((spec) => {
    spec.servers = [{url: window.location.origin + base, description: "this API"}];
    window.ui = SwaggerUIBundle({spec: spec, dom_id: "#swagger-ui", validatorUrl: null});
  })
  .catch((error) => {
    document.getElementById("swagger-ui").textContent = "Cannot load the API spec: " + error;
  });
"""

# Nothing but this API: a page that holds an API key loads and sends nothing elsewhere.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self' 'sha256-"
        + base64.b64encode(hashlib.sha256(_INIT_SCRIPT.encode()).digest()).decode()
        + "'",
        "style-src 'self' 'unsafe-inline'",  # Swagger UI sets inline styles
        "img-src 'self' data:",  # and draws its icons as data: URLs
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}


def page(request: HttpRequest) -> Document:
    """The page, linking the assets' current versioned URLs (so it is never cached itself)."""
    html = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>TPNS account bindings API</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{url(STYLESHEET)}">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{url(SCRIPT)}"></script>
  <script>{_INIT_SCRIPT}</script>
</body>
</html>
"""
    return Document(html, "text/html; charset=utf-8", PAGE_HEADERS)
