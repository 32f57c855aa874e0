"""The TPNS account client: chunk, sign, send concurrently, retry, and merge answers per item.

One ``TpnsClient`` per process: it owns the pooled HTTP connections (``tpns_account.transport``),
the worker threads that bound concurrency, and the QPS pacing, all shared by every call made
through it. Reading TPNS's answers is ``tpns_account.responses``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from tpns_account import codes, defaults
from tpns_account.codes import CodeClass
from tpns_account.credentials import AppCredentials, CredentialsProvider, StaticCredentials
from tpns_account.defaults import AuthScheme
from tpns_account.endpoints import resolve_endpoint
from tpns_account.errors import (
    AuthError,
    RetryableError,
    SettingsError,
    ThrottledError,
    TpnsError,
    UnexpectedResponseError,
    UpstreamError,
    UpstreamTimeoutError,
)
from tpns_account.limits import MAX_ITEMS_PER_CALL
from tpns_account.models import Account, BatchOperation, Query, TokenAccounts
from tpns_account.pacing import Pacer, Pacing, RateLimiter, RetryPolicy, WindowLimiter
from tpns_account.payload import QUERY_PATH, Chunk, chunks, override_warnings
from tpns_account.responses import (
    ItemAnswer,
    interpret,
    per_item,
    query_item,
    retryable_error_for,
)
from tpns_account.results import (
    BatchResult,
    ItemResult,
    QueryItem,
    QueryResult,
    error_item,
    item_status,
)
from tpns_account.signing import basic_headers, signature_headers
from tpns_account.transport import RequestsTransport, Transport, new_transport
from tpns_account.values import Value, field

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

USER_AGENT = "tpns-account-bindings/0.1"
_RETRYABLE_ITEM_CLASSES = (CodeClass.TRANSIENT, CodeClass.THROTTLED)

T = TypeVar("T")
_ChunkOutcome = list[ItemAnswer | TpnsError] | TpnsError


class _Call(Value, frozen=False):
    """One ``batch_operate`` or ``query``: its deadline, its pacing and what it cost."""

    app: str | None
    deadline: float
    pacer: Pacer | None
    calls: int = 0
    retries: int = 0
    throttled: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, *, calls: int = 0, retries: int = 0, throttled: int = 0) -> None:
        with self._lock:
            self.calls += calls
            self.retries += retries
            self.throttled += throttled


class TpnsClient:
    """Bind, unbind and query TPNS account bindings, any number of items at a time."""

    def __init__(
        self,
        credentials: CredentialsProvider | AppCredentials,
        *,
        endpoint: str | None = None,
        auth: AuthScheme = defaults.AUTH,
        timeout: float = defaults.TIMEOUT_S,
        connect_timeout: float = defaults.CONNECT_TIMEOUT_S,
        max_concurrency: int = defaults.MAX_CONCURRENCY,
        max_qps: float | None = None,
        pacing: Pacing = "shared",
        chunk_size: int = MAX_ITEMS_PER_CALL,
        retry: RetryPolicy | None = None,
        time_budget: float = defaults.TIME_BUDGET_S,
        session: requests.Session | None = None,
    ) -> None:
        if auth not in ("signature", "basic"):
            raise SettingsError(f"auth must be 'signature' or 'basic', got {auth!r}")
        if max_concurrency < 1:
            raise SettingsError("max_concurrency must be at least 1")
        if timeout <= 0 or connect_timeout <= 0 or time_budget <= 0:
            raise SettingsError("timeouts and time_budget must be positive")
        if pacing not in ("shared", "per_call"):
            raise SettingsError(f"pacing must be 'shared' or 'per_call', got {pacing!r}")
        self.credentials: CredentialsProvider = (
            StaticCredentials(credentials)
            if isinstance(credentials, AppCredentials)
            else credentials
        )
        self.base_url = resolve_endpoint(endpoint)
        self.auth = auth
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_concurrency = max_concurrency
        self.max_qps = max_qps
        self.pacing = pacing
        self.chunk_size = chunk_size
        self.retry = retry or RetryPolicy()
        self.time_budget = time_budget
        self._shared_pacer = RateLimiter(max_qps) if max_qps and pacing == "shared" else None
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._transport: Transport = (
            RequestsTransport(session)
            if session is not None
            else new_transport(self.base_url, max_concurrency)
        )
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    # -- public API ---------------------------------------------------------------------------

    def batch_operate(
        self,
        operation: BatchOperation,
        *,
        app: str | None = None,
        time_budget: float | None = None,
        raise_on_error: bool = True,
    ) -> BatchResult:
        """Send a bind/unbind of any size; answers come back per item, in input order.

        With ``raise_on_error`` (the default) a call-level failure that survived its retries
        (auth, throttling, unreachable, ...) is raised; without it, the affected items carry
        status ``error`` and the exception, so a bulk caller can keep what succeeded.
        """
        outcomes, call = self._execute(operation, app, time_budget)
        items: list[ItemResult] = []
        warnings = override_warnings(operation)
        for chunk, outcome in outcomes:
            if not isinstance(outcome, TpnsError) and any(
                isinstance(a, ItemAnswer) and a.assumed for a in outcome
            ):
                warnings.append(
                    f"items {chunk.start}-{chunk.start + chunk.size - 1}: TPNS accepted the "
                    "call without a code per item; taken as accepted"
                )
            for position, item in enumerate(chunk.items):
                answer = outcome if isinstance(outcome, TpnsError) else outcome[position]
                index = chunk.start + position
                if isinstance(answer, TpnsError):
                    items.append(error_item(index, item, answer))
                    continue
                reason = (
                    None
                    if answer.code == codes.SUCCESS
                    else answer.raw or codes.describe(answer.code)
                )
                items.append(ItemResult(index, item, item_status(answer.code), answer.code, reason))
        result = BatchResult(operation, items, warnings, call.calls, call.retries, call.throttled)
        if raise_on_error:
            result.raise_for_errors()
        return result

    def query(
        self,
        query: Query,
        *,
        app: str | None = None,
        time_budget: float | None = None,
        raise_on_error: bool = True,
    ) -> QueryResult:
        """Look up bindings in real time; answers are normalised (account_type always set)."""
        outcomes, call = self._execute(query, app, time_budget)
        items: list[QueryItem] = []
        for chunk, outcome in outcomes:
            for position, item in enumerate(chunk.items):
                index = chunk.start + position
                answer = outcome if isinstance(outcome, TpnsError) else outcome[position]
                if isinstance(answer, TpnsError):
                    items.append(
                        QueryItem(
                            index, item, "error", answer.code, reason=answer.message, error=answer
                        )
                    )
                    continue
                items.append(query_item(index, item, answer))
        result = QueryResult(query, items, call.calls, call.retries)
        if raise_on_error:
            result.raise_for_errors()
        return result

    def bind(self, token_accounts: Iterable[TokenAccounts], **kwargs: Any) -> BatchResult:
        """Each token's accounts become exactly the given list (operator_type 2)."""
        return self.batch_operate(BatchOperation.bind(token_accounts), **kwargs)

    def unbind(self, token_accounts: Iterable[TokenAccounts], **kwargs: Any) -> BatchResult:
        """Unbind the listed accounts from each token (operator_type 3)."""
        return self.batch_operate(BatchOperation.unbind(token_accounts), **kwargs)

    def unbind_all_accounts(self, tokens: Iterable[str], **kwargs: Any) -> BatchResult:
        """Unbind each token from all its accounts (operator_type 4)."""
        return self.batch_operate(BatchOperation.unbind_all_accounts(tokens), **kwargs)

    def unbind_all_tokens(self, accounts: Iterable[Account], **kwargs: Any) -> BatchResult:
        """Unbind each account from all its tokens (operator_type 5)."""
        return self.batch_operate(BatchOperation.unbind_all_tokens(accounts), **kwargs)

    def tokens_of(self, accounts: Iterable[Account], **kwargs: Any) -> QueryResult:
        return self.query(Query.tokens_of(accounts), **kwargs)

    def accounts_of(self, tokens: Iterable[str], **kwargs: Any) -> QueryResult:
        return self.query(Query.accounts_of(tokens), **kwargs)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._transport.close()

    def __enter__(self) -> TpnsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TpnsClient(base_url={self.base_url!r}, auth={self.auth!r})"

    # -- orchestration ------------------------------------------------------------------------

    def _execute(
        self, request: BatchOperation | Query, app: str | None, time_budget: float | None
    ) -> tuple[list[tuple[Chunk, _ChunkOutcome]], _Call]:
        self.credentials.get(app)  # an unknown app fails before anything is sent
        budget = time_budget if time_budget is not None else self.time_budget
        pacer: Pacer | None = self._shared_pacer
        if self.max_qps and self.pacing == "per_call":
            pacer = WindowLimiter(self.max_qps)
        call = _Call(app, time.monotonic() + budget, pacer)
        parts = list(chunks(request, self.chunk_size))

        def send(chunk: Chunk) -> _ChunkOutcome:
            try:
                return self._send_chunk(chunk, call)
            except TpnsError as exc:
                return exc
            except Exception as exc:
                # Whatever TPNS sent that we failed to read must not cost the other chunks.
                logger.exception("could not interpret a TPNS answer")
                return UnexpectedResponseError(
                    f"could not interpret TPNS's answer ({type(exc).__name__})"
                )

        outcomes = self._map(send, parts)
        return list(zip(parts, outcomes, strict=True)), call

    def _map(self, fn: Callable[[Chunk], T], parts: Sequence[Chunk]) -> list[T]:
        if len(parts) == 1:
            return [fn(parts[0])]
        executor = self._get_executor()
        # Waited for together, not one by one as executor.map would: the caller's thread
        # wakes once for the whole request rather than once per call.
        futures = [executor.submit(fn, part) for part in parts]
        wait(futures)
        return [future.result() for future in futures]

    def _get_executor(self) -> ThreadPoolExecutor:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.max_concurrency, thread_name_prefix="tpns"
                )
            return self._executor

    def _send_chunk(self, chunk: Chunk, call: _Call) -> list[ItemAnswer | TpnsError]:
        """One chunk until every item has a final answer: retries what is worth retrying."""
        answers: list[ItemAnswer | TpnsError] = [
            UpstreamTimeoutError("not sent before the deadline")
        ] * chunk.size
        pending = list(range(chunk.size))
        attempt = 0
        refreshed = False
        while pending:
            attempt += 1
            part = chunk if len(pending) == chunk.size else chunk.subset(pending)
            call.add(calls=1, retries=1 if attempt > 1 else 0)
            try:
                per_item_answers = self._call(part, call)
            except TpnsError as exc:
                final = self._final_or_retry(exc, attempt, call, refreshed=refreshed)
                if final is not None:
                    return _settle(answers, pending, final)
                refreshed = refreshed or isinstance(exc, AuthError)
                continue
            still_pending: list[int] = []
            worst: ItemAnswer | None = None
            for position, answer in zip(pending, per_item_answers, strict=True):
                answers[position] = answer
                if codes.classify(answer.code) in _RETRYABLE_ITEM_CLASSES:
                    still_pending.append(position)
                    worst = answer
            pending = still_pending
            if worst is not None:
                error = retryable_error_for(worst.code, attempts=attempt)
                final = self._final_or_retry(error, attempt, call, refreshed=refreshed)
                if final is not None:
                    return _settle(answers, pending, final)
        return answers

    def _final_or_retry(
        self, exc: TpnsError, attempt: int, call: _Call, *, refreshed: bool
    ) -> TpnsError | None:
        """A failed attempt: None to try again (after the backoff, or a credentials refresh,
        once), or the error that is final for the items still pending."""
        if isinstance(exc, AuthError):
            exc.attempts = attempt
            if refreshed:
                return exc
            logger.warning("TPNS refused the credentials; re-reading the secret once")
            try:
                self.credentials.refresh()
            except TpnsError as refresh_error:
                return refresh_error
            return None
        if isinstance(exc, RetryableError):
            exc.attempts = attempt
            call.add(throttled=1 if isinstance(exc, ThrottledError) else 0)
            try:
                self._backoff_or_raise(exc, attempt, call.deadline)
            except RetryableError as final:
                return final
            return None
        if isinstance(exc, UpstreamError):
            exc.attempts = attempt
        return exc

    def _backoff_or_raise(self, error: RetryableError, attempt: int, deadline: float) -> None:
        throttled = isinstance(error, ThrottledError)
        delay = self.retry.delay(
            attempt,
            throttled=throttled,
            retry_after=error.retry_after if isinstance(error, ThrottledError) else None,
        )
        remaining = deadline - time.monotonic()
        if attempt >= self.retry.max_attempts or delay >= remaining:
            _give_up(error, attempt)
        logger.info(
            "TPNS call failed (%s, code %s); retry %d in %.2fs",
            type(error).__name__,
            error.code if error.code is not None else error.http_status,
            attempt,
            delay,
        )
        time.sleep(delay)
        if time.monotonic() >= deadline:  # overslept (a busy host): TPNS's last answer is final
            _give_up(error, attempt)

    # -- one HTTP call ------------------------------------------------------------------------

    def _call(self, chunk: Chunk, call: _Call) -> list[ItemAnswer]:
        creds = self.credentials.get(call.app)
        pacer = call.pacer
        with self._slots:
            if pacer is not None and not pacer.acquire(call.deadline):
                raise ThrottledError(
                    "the client's own QPS limit leaves no slot before the deadline"
                )
            remaining = call.deadline - time.monotonic()
            if remaining <= 0:
                raise UpstreamTimeoutError("the deadline passed before TPNS could be called")
            # Signed only now, after any wait, so the TimeStamp is fresh when it is sent.
            headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
            headers.update(self._auth_headers(creds, chunk.body))
            read_timeout = min(self.timeout, remaining)
            started = time.monotonic()
            response = self._transport.post(
                (creds.endpoint or self.base_url) + chunk.path,
                chunk.body,
                headers,
                (min(self.connect_timeout, read_timeout), read_timeout),
            )
        logger.debug(
            "TPNS %s: %d item(s), HTTP %d in %.1f ms",
            chunk.path,
            chunk.size,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        try:
            envelope = interpret(response)
        except ThrottledError:
            if pacer is not None:
                pacer.throttled()
            raise
        answers = per_item(envelope, chunk.items, query=chunk.path == QUERY_PATH)
        if pacer is not None:
            if any(codes.classify(a.code) is CodeClass.THROTTLED for a in answers):
                pacer.throttled()
            else:
                pacer.admitted()
        return answers

    def _auth_headers(self, creds: AppCredentials, body: bytes) -> dict[str, str]:
        if self.auth == "basic":
            return basic_headers(creds.access_id, creds.secret_key)
        return signature_headers(creds.access_id, creds.secret_key, body)


def _give_up(error: RetryableError, attempt: int) -> NoReturn:
    """No more retries: TPNS's last answer is the call's."""
    logger.warning("TPNS call gave up after %d attempt(s): %s", attempt, type(error).__name__)
    raise error


def _settle(
    answers: list[ItemAnswer | TpnsError], pending: list[int], error: TpnsError
) -> list[ItemAnswer | TpnsError]:
    """Give ``error`` to the items still waiting; items TPNS already answered keep that."""
    for position in pending:
        answers[position] = error
    return answers
