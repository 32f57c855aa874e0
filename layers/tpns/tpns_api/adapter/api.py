"""One API function's request cycle: event → request → parse → route → answer → proxy event.

A function module declares its routes on an ``Api`` and exports its handler:

    api = Api(binding_service)

    @api.post("/v1/bind", parse=contract.bind_request)
    def bind(request: BatchRequest, deadline: Deadline, service: BindingService) -> ApiResponse:
        return service.batch_operate(request, deadline)

    lambda_handler = api.handler()

A route gets its parsed request, its deadline and the service (built once per process, on
first use) and returns an ``ApiResponse``; everything else (decoding, errors as answers,
metrics, the proxy shape) happens here, once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aws_lambda_powertools.logging import correlation_paths

from tpns_account.values import Value
from tpns_api.adapter.coldstart import resume_after_first_call
from tpns_api.adapter.events import document_answer, http_request, proxy_answer, request_id
from tpns_api.adapter.observability import count, logger, metrics
from tpns_api.adapter.routing import Routes
from tpns_api.deadline import Deadline
from tpns_api.http.answers import ApiResponse, Document, not_found
from tpns_api.http.request import HttpRequest
from tpns_api.telemetry import Metric, error_metric

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

S = TypeVar("S")
R = TypeVar("R")

#: Leave the function this long to answer after TPNS calls give up.
RESPONSE_MARGIN_S = 2.0

Handler = Callable[[dict[str, Any], "LambdaContext"], dict[str, Any]]
RouteFunction = Callable[[R, Deadline, S], ApiResponse]


class _Route(Value, Generic[R, S]):
    parse: Callable[[HttpRequest, S], R]
    run: RouteFunction[R, S]

    def __call__(self, request: HttpRequest, deadline: Deadline, service: S) -> ApiResponse:
        return self.run(self.parse(request, service), deadline, service)


class _Document(Value):
    """A fixed document (the spec, the docs page, its assets): no service, no deadline."""

    serve: Callable[[HttpRequest], Document]


class Api(Generic[S]):
    """The routes of one API function and the service they share."""

    def __init__(self, service: Callable[[], S]) -> None:
        self._make_service = service
        self._service: S | None = None
        self._lock = threading.Lock()
        self._routes: Routes[_Route[Any, S] | _Document] = Routes()

    # -- declaring routes ---------------------------------------------------------------------

    def route(
        self, method: str, rule: str, parse: Callable[[HttpRequest, S], R]
    ) -> Callable[[RouteFunction[R, S]], RouteFunction[R, S]]:
        def register(run: RouteFunction[R, S]) -> RouteFunction[R, S]:
            self._routes.add(method, rule, _Route(parse, run))
            return run

        return register

    def post(
        self, rule: str, parse: Callable[[HttpRequest, S], R]
    ) -> Callable[[RouteFunction[R, S]], RouteFunction[R, S]]:
        return self.route("POST", rule, parse)

    def get(
        self, rule: str, parse: Callable[[HttpRequest, S], R]
    ) -> Callable[[RouteFunction[R, S]], RouteFunction[R, S]]:
        return self.route("GET", rule, parse)

    def document(self, rule: str, serve: Callable[[HttpRequest], Document]) -> None:
        """Serve a fixed document at ``GET rule`` (its headers may depend on the request)."""
        self._routes.add("GET", rule, _Document(serve))

    # -- serving ------------------------------------------------------------------------------

    def service(self) -> S:
        """The service, built on first use and kept for the process (its pools, its caches)."""
        with self._lock:
            if self._service is None:
                self._service = self._make_service()
            return self._service

    def reset(self) -> None:
        """Forget the service (tests reconfigure the environment between cases)."""
        with self._lock:
            self._service = None

    def handle(self, event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
        """Answer one API Gateway proxy event; no exception escapes."""
        count({Metric.REQUESTS: 1})
        try:
            matched = self._routes.match(str(event["httpMethod"]), str(event["path"]))
            if matched is None:
                return proxy_answer(not_found(str(event.get("path")), request_id(event)))
            target, parameters = matched
            if isinstance(target, _Document):
                return document_answer(target.serve(http_request(event, parameters)))
            remaining = context.get_remaining_time_in_millis() / 1000 if context else None
            deadline = Deadline.for_invocation(remaining, RESPONSE_MARGIN_S)
            answer = target(http_request(event, parameters), deadline, self.service())
        except Exception as exc:
            answer = _error_response(exc, request_id(event))
            count({error_metric(answer.status): 1})
        count(answer.counts)
        return proxy_answer(answer)

    def direct(
        self, parse: Callable[[object, S], R], run: RouteFunction[R, S]
    ) -> Callable[[object, LambdaContext], dict[str, Any]]:
        """A handler for direct invocations (EventBridge, ``aws lambda invoke``) of ``run``.

        It answers like the API (``{"statusCode": ..., <answer>}``) but raises when the
        failure is worth retrying (5xx, 429), so the invoker's retry policy applies.
        """

        @resume_after_first_call
        @logger.inject_lambda_context
        def lambda_handler(event: object, context: LambdaContext) -> dict[str, Any]:
            is_bridge = isinstance(event, dict) and "detail-type" in event
            payload = event.get("detail") if isinstance(event, dict) and is_bridge else event
            remaining = context.get_remaining_time_in_millis() / 1000
            deadline = Deadline.for_invocation(remaining, RESPONSE_MARGIN_S)
            try:
                service = self.service()
                answer = run(parse(payload, service), deadline, service)
            except Exception as exc:
                answer = _error_response(exc, getattr(context, "aws_request_id", None))
                if answer.status >= 500 or answer.status == 429:
                    raise
            logger.info("direct invocation answered", extra={"status": answer.status})
            return {"statusCode": answer.status, **answer.body}

        return lambda_handler

    def handler(self) -> Handler:
        """The Lambda handler: Powertools' context logging and metrics around ``handle``."""

        @resume_after_first_call
        @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
        @metrics.log_metrics
        def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            return self.handle(event, context)

        return lambda_handler


def _error_response(exc: BaseException, request: str | None) -> ApiResponse:
    """The error table's answer (``tpns_api.http.errors``), imported on the first error only:
    it names the exceptions of every part of the API (jobs, idempotency, the ledger's store),
    which a function that never fails on them need not load on its cold start."""
    from tpns_api.http.errors import error_response

    return error_response(exc, request)
