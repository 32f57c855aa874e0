"""The Swagger UI page in a real browser (headless Chromium) against the running local stack.

The page must work offline: its script and stylesheet come from the API, and every request the
page makes is recorded (anything not to the local stack is refused and fails the test).
``DOCS_SCREENSHOT=docs/swagger-ui.png`` (``make screenshot``) saves the README's screenshot.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from local_stack.gateway import OPEN_PATHS
from tests.e2e.browser import NetworkLog, launch_chromium
from tests.support.local_stack import RunningStack

LOAD_TIMEOUT_MS = 15_000
BIND_BODY = {
    "token_accounts": [
        {
            "token": "e2e-ui-token",
            "account_list": [{"account": "ui@example.com", "account_type": 0}],
        }
    ]
}


@dataclass
class DocsPage:
    page: Any
    network: NetworkLog
    console_errors: list[str] = field(default_factory=list)

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_selector(".opblock", timeout=LOAD_TIMEOUT_MS)

    def operations(self) -> set[tuple[str, str]]:
        """(METHOD, path) of every operation block the page rendered."""
        pairs = self.page.eval_on_selector_all(
            ".opblock",
            """blocks => blocks.map(block => [
                 block.querySelector('.opblock-summary-method').textContent,
                 block.querySelector('.opblock-summary-path').getAttribute('data-path')])""",
        )
        return {(method.upper(), path) for method, path in pairs}

    def authorize(self, key: str) -> None:
        self.page.click("button.authorize")
        dialog = self.page.locator(".modal-ux")
        scheme = dialog.locator(".auth-container", has_text="x-api-key")
        scheme.locator("input").fill(key)
        scheme.locator("button.authorize").click()
        dialog.locator("button.btn-done").first.click()

    def try_bind(self, body: dict[str, Any]) -> tuple[str, str]:
        """Try it out on POST /v1/bind: (status shown, response body shown)."""
        operation = self.page.locator("#operations-default-post_v1_bind")
        operation.locator(".opblock-summary").click()
        operation.locator("button.try-out__btn").click()
        operation.locator("textarea.body-param__text").fill(json.dumps(body))
        operation.locator("button.execute").click()
        answer = operation.locator(".live-responses-table .response").first
        answer.wait_for(timeout=LOAD_TIMEOUT_MS)
        status = answer.locator(".response-col_status").inner_text().strip()
        shown = answer.locator(".response-col_description pre.microlight").first.inner_text()
        return status, shown


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.fixture
def docs(browser: Any) -> Iterator[DocsPage]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    network = NetworkLog()
    network.attach(context)
    page = context.new_page()
    opened = DocsPage(page, network)
    page.on(
        "console",
        lambda message: message.type == "error" and opened.console_errors.append(message.text),
    )
    try:
        yield opened
    finally:
        context.close()


def api_routes(stack: RunningStack) -> set[tuple[str, str]]:
    """The stack's API routes (read from template.yaml), less the documentation itself."""
    routes = {tuple(line.split()[:2]) for line in stack.endpoints["routes"]}
    return {(method, path) for method, path in routes if path not in OPEN_PATHS}


def test_the_page_renders_an_operation_for_every_api_route(
    stack: RunningStack, docs: DocsPage, tmp_path: Path
) -> None:
    # GIVEN the routes the template declares (bind, unbind, query, the lookups, jobs)
    expected = api_routes(stack)
    assert ("POST", "/v1/bind") in expected and ("POST", "/v1/jobs") in expected

    # WHEN a browser opens the docs page
    docs.open(stack.api + "/v1/docs")

    # THEN it shows one operation for each of them, and nothing else
    assert docs.operations() == expected
    screenshot = docs.page.screenshot()
    (tmp_path / "swagger-ui.png").write_bytes(screenshot)
    if os.environ.get("DOCS_SCREENSHOT"):
        Path(os.environ["DOCS_SCREENSHOT"]).write_bytes(screenshot)


def test_the_page_requests_nothing_but_the_local_api(stack: RunningStack, docs: DocsPage) -> None:
    # WHEN the page is opened and has finished loading
    docs.open(stack.api + "/v1/docs")
    docs.page.wait_for_load_state("networkidle")

    # THEN every request went to the local stack: the page, its script and stylesheet, the spec
    assert docs.network.outside == []
    paths = {url.removeprefix(stack.api).split("?")[0] for url in docs.network.urls}
    assert paths == {
        "/v1/docs",
        "/v1/docs/swagger-ui-bundle.js",
        "/v1/docs/swagger-ui.css",
        "/v1/openapi.json",
    }


def test_the_assets_reach_the_browser_gzipped_and_cached_for_a_year(
    stack: RunningStack, docs: DocsPage
) -> None:
    # GIVEN every answer the page gets
    answers: dict[str, Any] = {}
    docs.page.on(
        "response",
        lambda response: answers.setdefault(response.url.split("?")[0], response),
    )

    # WHEN the page is opened
    docs.open(stack.api + "/v1/docs")
    docs.page.wait_for_load_state("networkidle")

    # THEN its script and stylesheet came gzipped by the gateway (the API's
    # MinimumCompressionSize, as API Gateway compresses), cacheable for a year
    for path in ("/v1/docs/swagger-ui-bundle.js", "/v1/docs/swagger-ui.css"):
        headers = answers[stack.api + path].all_headers()
        assert headers["content-encoding"] == "gzip", path
        assert headers["vary"] == "Accept-Encoding", path
        assert headers["cache-control"] == "public, max-age=31536000, immutable", path


def test_the_page_loads_without_errors_and_is_styled(stack: RunningStack, docs: DocsPage) -> None:
    # WHEN the page is opened
    docs.open(stack.api + "/v1/docs")
    docs.page.wait_for_load_state("networkidle")

    # THEN the browser reports no error (a refused asset or a Content-Security-Policy violation
    # would be one), and the served stylesheet applies (POST operations get their green border)
    assert docs.console_errors == []
    border = docs.page.eval_on_selector(
        ".opblock.opblock-post", "block => getComputedStyle(block).borderTopColor"
    )
    assert border == "rgb(73, 204, 144)"


def test_try_it_out_on_bind_with_the_api_key_answers_200(
    stack: RunningStack, docs: DocsPage
) -> None:
    # GIVEN the docs page, authorized with the local API key
    docs.open(stack.api + "/v1/docs")
    docs.authorize(stack.key)

    # WHEN "Try it out" sends a bind
    status, body = docs.try_bind(BIND_BODY)

    # THEN the bind function answered it: 200, the item accepted
    assert status == "200"
    assert json.loads(body)["accepted"] == 1
    assert docs.network.outside == []


def test_behind_a_stage_prefix_the_page_calls_the_api_under_it(
    stack: RunningStack, docs: DocsPage
) -> None:
    # GIVEN the stack served under /prod, as API Gateway serves a stage
    staged: list[str] = []

    def strip_stage(route: Any) -> None:
        staged.append(route.request.url)
        local_url = route.request.url.replace(f"{stack.api}/prod/", f"{stack.api}/", 1)
        route.fulfill(response=route.fetch(url=local_url))

    docs.page.context.route(f"{stack.api}/prod/**", strip_stage)

    # WHEN the page is opened there and "Try it out" sends a bind
    docs.open(stack.api + "/prod/v1/docs")
    docs.authorize(stack.key)
    status, _ = docs.try_bind(BIND_BODY)

    # THEN the page offered that stage as its server, and the bind went there
    server = docs.page.locator(".servers select").input_value()
    assert server == f"{stack.api}/prod"
    assert status == "200"
    assert f"{stack.api}/prod/v1/bind" in staged
