"""The docs page and its assets, as the query function answers them (no CDN, cached, plain text:
API Gateway compresses them)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest

from tests.support.api_events import api_event
from tests.support.paths import ROOT
from tpns_api.http import docs_page

YEAR = "public, max-age=31536000, immutable"
LAMBDA_ANSWER_LIMIT = 6 * 1024 * 1024  # bytes of a synchronous invocation's answer


def asset_event(asset: docs_page.Asset, *, version: str | None) -> dict[str, Any]:
    """The canonical asset request, for ``asset``, with ``?v=version`` (or no query string)."""
    event = api_event("docs-script", path=asset.route, query={"v": version} if version else None)
    event["resource"] = asset.route
    if version is None:
        event["queryStringParameters"] = event["multiValueQueryStringParameters"] = None
    return event


def test_the_page_loads_its_script_and_stylesheet_from_the_api(api: Any) -> None:
    # WHEN the docs page is asked for
    page = api("query", api_event("docs"))

    # THEN it links the API's own asset routes, each URL carrying its content hash, and nothing
    # from another origin
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    links = re.findall(r'(?:href|src)="([^"]+)"', page.text)
    assert links == [
        "data:,",
        f"docs/swagger-ui.css?v={docs_page.version(docs_page.STYLESHEET)}",
        f"docs/swagger-ui-bundle.js?v={docs_page.version(docs_page.SCRIPT)}",
    ]
    assert "//" not in page.text.replace("://", "")  # no protocol-relative CDN link either
    assert 'fetch(base + "/v1/openapi.json")' in page.text
    assert "validatorUrl: null" in page.text
    assert page.headers["Cache-Control"] == "no-cache"


def test_the_page_allows_scripts_and_requests_to_its_own_origin_only(api: Any) -> None:
    page = api("query", api_event("docs"))

    policy = dict(
        directive.split(" ", 1) for directive in page.headers["Content-Security-Policy"].split("; ")
    )
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'self'"
    assert policy["script-src"].startswith("'self' 'sha256-")


@pytest.mark.parametrize("asset", docs_page.ASSETS, ids=lambda asset: asset.file_name)
def test_an_asset_with_its_hash_is_plain_text_cached_for_a_year(
    api: Any, asset: docs_page.Asset
) -> None:
    # WHEN a browser (taking gzip) asks for the asset at the URL the page links
    answer = api("query", asset_event(asset, version=docs_page.version(asset)))

    # THEN the body is Powertools' file as text, left for API Gateway to compress
    assert answer.status == 200
    assert answer.raw["isBase64Encoded"] is False
    assert "Content-Encoding" not in answer.headers
    assert answer.text == (docs_page.swagger_ui_dir() / asset.file_name).read_text()
    # THEN with its type, cacheable for a year (its URL changes with its content), and keyed
    # on Accept-Encoding by caches (API Gateway's compression depends on it)
    assert answer.headers["Content-Type"] == asset.content_type
    assert answer.headers["Cache-Control"] == YEAR
    assert answer.headers["Vary"] == "Accept-Encoding"
    # THEN the whole answer fits in what Lambda may answer
    assert len(json.dumps(answer.raw).encode()) < LAMBDA_ANSWER_LIMIT


@pytest.mark.parametrize("version", ["0123456789abcdef", None], ids=["stale", "missing"])
def test_an_asset_asked_for_without_its_current_hash_is_not_cached(
    api: Any, version: str | None
) -> None:
    # WHEN the script is asked for with a stale hash, or none
    answer = api("query", asset_event(docs_page.SCRIPT, version=version))

    # THEN it is the current file, which no cache may keep under that URL without asking
    assert answer.status == 200
    assert answer.text == docs_page.content(docs_page.SCRIPT)
    assert answer.headers["Cache-Control"] == "no-cache"


def test_importing_the_query_function_reads_no_swagger_ui_file() -> None:
    # GIVEN a fresh interpreter that reports every file it opens
    code = (
        "import sys, importlib.util\n"
        "opened = []\n"
        "sys.addaudithook(lambda e, a: e == 'open' and opened.append(str(a[0])))\n"
        "spec = importlib.util.spec_from_file_location('app', 'functions/query/app.py')\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print(sum('swagger_ui' in path for path in opened), len(opened))\n"
    )
    # WHEN it imports the query function (its cold start)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT / 'layers/tpns'}", "TPNS_SECRET_ID": "x"},
    )
    # THEN it opened files (the check sees them) but none of Swagger UI's
    swagger_files, files = map(int, out.stdout.split())
    assert files > 0 and swagger_files == 0
