"""The TPNS account client: chunk, sign, send concurrently, retry, and merge answers per item.

One ``TpnsClient`` per process: it owns the pooled HTTP connections (``tpns_account.transport``),
the worker threads that bound concurrency, and the optional QPS pacer, all shared by every call
made through it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from tpns_account import codes
from tpns_account.codes import CodeClass
from tpns_account.credentials import AppCredentials, CredentialsProvider, StaticCredentials
from tpns_account.endpoints import resolve_endpoint
from tpns_account.errors import (
    AppStateError,
    AuthError,
    BadRequestError,
    ConfigurationError,
    RetryableError,
    SettingsError,
    ThrottledError,
    TpnsError,
    UnexpectedResponseError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from tpns_account.models import Account, BatchOperation, Query, TokenAccounts
from tpns_account.pacing import RateLimiter, RetryPolicy
from tpns_account.payload import QUERY_PATH, Chunk, chunks, override_warnings
from tpns_account.results import (
    BatchResult,
    ItemResult,
    QueryItem,
    QueryResult,
    error_item,
    item_status,
    query_status,
)
from tpns_account.signing import basic_headers, signature_headers
from tpns_account.transport import HttpAnswer, RequestsTransport, Transport, new_transport

if TYPE_CHECKING:
    import requests

logger = logging.getLogger(__name__)

AuthScheme = Literal["signature", "basic"]
USER_AGENT = "tpns-account-bindings/0.1"
MAX_ERR_MSG = 200
_RETRYABLE_ITEM_CLASSES = (CodeClass.TRANSIENT, CodeClass.THROTTLED)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _ItemAnswer:
    code: int
    raw: str | None
    entry: dict[str, Any] | None = None


_ChunkOutcome = list[_ItemAnswer | TpnsError] | TpnsError


class _Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0
        self.retries = 0
        self.throttled = 0

    def add(self, calls: int = 0, retries: int = 0, throttled: int = 0) -> None:
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
        auth: AuthScheme = "signature",
        timeout: float = 5.0,
        connect_timeout: float = 3.0,
        max_concurrency: int = 8,
        max_qps: float | None = None,
        chunk_size: int = 20,
        retry: RetryPolicy | None = None,
        time_budget: float = 20.0,
        session: requests.Session | None = None,
    ) -> None:
        if auth not in ("signature", "basic"):
            raise SettingsError(f"auth must be 'signature' or 'basic', got {auth!r}")
        if max_concurrency < 1:
            raise SettingsError("max_concurrency must be at least 1")
        if timeout <= 0 or connect_timeout <= 0 or time_budget <= 0:
            raise SettingsError("timeouts and time_budget must be positive")
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
        self.chunk_size = chunk_size
        self.retry = retry or RetryPolicy()
        self.time_budget = time_budget
        self._limiter = RateLimiter(max_qps) if max_qps else None
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
        outcomes, counters = self._execute(operation, app, time_budget)
        items: list[ItemResult] = []
        for chunk, outcome in outcomes:
            for position, item in enumerate(chunk.items):
                index = chunk.start + position
                answer = outcome if isinstance(outcome, TpnsError) else outcome[position]
                if isinstance(answer, TpnsError):
                    items.append(error_item(index, item, answer))
                    continue
                reason = (
                    None
                    if answer.code == codes.SUCCESS
                    else answer.raw or codes.describe(answer.code)
                )
                items.append(ItemResult(index, item, item_status(answer.code), answer.code, reason))
        result = BatchResult(
            operation,
            items,
            override_warnings(operation),
            counters.calls,
            counters.retries,
            counters.throttled,
        )
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
        outcomes, counters = self._execute(query, app, time_budget)
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
                items.append(_query_item(index, item, answer))
        result = QueryResult(query, items, counters.calls, counters.retries)
        if raise_on_error:
            result.raise_for_errors()
        return result

    def bind(self, token_accounts: Iterable[TokenAccounts], **kwargs: Any) -> BatchResult:
        """Each token's accounts become exactly the given list (operator_type 2)."""
        return self.batch_operate(BatchOperation.bind(token_accounts), **kwargs)

    def unbind(self, token_accounts: Iterable[TokenAccounts], **kwargs: Any) -> BatchResult:
        """Unbind the listed accounts from each token (operator_type 3)."""
        return self.batch_operate(BatchOperation.unbind_accounts(token_accounts), **kwargs)

    def unbind_tokens(self, tokens: Iterable[str], **kwargs: Any) -> BatchResult:
        """Unbind each token from all its accounts (operator_type 4)."""
        return self.batch_operate(BatchOperation.unbind_tokens(tokens), **kwargs)

    def unbind_accounts(self, accounts: Iterable[Account], **kwargs: Any) -> BatchResult:
        """Unbind each account from all its tokens (operator_type 5)."""
        return self.batch_operate(BatchOperation.unbind_accounts_everywhere(accounts), **kwargs)

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
    ) -> tuple[list[tuple[Chunk, _ChunkOutcome]], _Counters]:
        self.credentials.get(app)  # an unknown app fails before anything is sent
        deadline = time.monotonic() + (time_budget if time_budget is not None else self.time_budget)
        parts = list(chunks(request, self.chunk_size))
        counters = _Counters()

        def send(chunk: Chunk) -> _ChunkOutcome:
            try:
                return self._send_chunk(chunk, app, deadline, counters)
            except TpnsError as exc:
                return exc
            except Exception as exc:
                # Whatever TPNS sent that we failed to read must not cost the other chunks.
                logger.exception("could not interpret a TPNS answer")
                return UnexpectedResponseError(
                    f"could not interpret TPNS's answer ({type(exc).__name__})"
                )

        outcomes = self._map(send, parts)
        return list(zip(parts, outcomes, strict=True)), counters

    def _map(self, fn: Callable[[Chunk], T], parts: Sequence[Chunk]) -> list[T]:
        if len(parts) == 1:
            return [fn(parts[0])]
        executor = self._get_executor()
        return list(executor.map(fn, parts))

    def _get_executor(self) -> ThreadPoolExecutor:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.max_concurrency, thread_name_prefix="tpns"
                )
            return self._executor

    def _send_chunk(
        self, chunk: Chunk, app: str | None, deadline: float, counters: _Counters
    ) -> list[_ItemAnswer | TpnsError]:
        """One chunk until every item has a final answer: retries what is worth retrying."""
        answers: list[_ItemAnswer | TpnsError] = [
            UpstreamTimeoutError("not sent before the deadline")
        ] * chunk.size
        pending = list(range(chunk.size))
        attempt = 0
        refreshed = False
        while pending:
            attempt += 1
            part = chunk if len(pending) == chunk.size else chunk.subset(pending)
            counters.add(calls=1, retries=1 if attempt > 1 else 0)
            try:
                per_item = self._call(part, app, deadline)
            except AuthError as exc:
                exc.attempts = attempt
                if refreshed:
                    return _settle(answers, pending, exc)
                refreshed = True
                logger.warning("TPNS refused the credentials; re-reading the secret once")
                try:
                    self.credentials.refresh()
                except TpnsError as refresh_error:
                    return _settle(answers, pending, refresh_error)
                continue
            except RetryableError as exc:
                exc.attempts = attempt
                counters.add(throttled=1 if isinstance(exc, ThrottledError) else 0)
                try:
                    self._backoff_or_raise(exc, attempt, deadline)
                except RetryableError as final:
                    return _settle(answers, pending, final)
                continue
            except TpnsError as exc:
                if isinstance(exc, UpstreamError):
                    exc.attempts = attempt
                return _settle(answers, pending, exc)
            still_pending: list[int] = []
            worst: _ItemAnswer | None = None
            for position, answer in zip(pending, per_item, strict=True):
                answers[position] = answer
                if codes.classify(answer.code) in _RETRYABLE_ITEM_CLASSES:
                    still_pending.append(position)
                    worst = answer
            pending = still_pending
            if worst is not None:
                error = _error_for_code(worst.code, "", attempts=attempt)
                assert isinstance(error, RetryableError)
                counters.add(throttled=1 if isinstance(error, ThrottledError) else 0)
                try:
                    self._backoff_or_raise(error, attempt, deadline)
                except RetryableError as final:
                    return _settle(answers, pending, final)
        return answers

    def _backoff_or_raise(self, error: RetryableError, attempt: int, deadline: float) -> None:
        throttled = isinstance(error, ThrottledError)
        delay = self.retry.delay(
            attempt,
            throttled=throttled,
            retry_after=error.retry_after if isinstance(error, ThrottledError) else None,
        )
        remaining = deadline - time.monotonic()
        if attempt >= self.retry.max_attempts or delay >= remaining:
            logger.warning(
                "TPNS call gave up after %d attempt(s): %s", attempt, type(error).__name__
            )
            raise error
        logger.info(
            "TPNS call failed (%s, code %s); retry %d in %.2fs",
            type(error).__name__,
            error.code if error.code is not None else error.http_status,
            attempt,
            delay,
        )
        time.sleep(delay)

    # -- one HTTP call ------------------------------------------------------------------------

    def _call(self, chunk: Chunk, app: str | None, deadline: float) -> list[_ItemAnswer]:
        creds = self.credentials.get(app)
        with self._slots:
            if self._limiter is not None and not self._limiter.acquire(deadline):
                raise ThrottledError(
                    "the client's own QPS limit leaves no slot before the deadline"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UpstreamTimeoutError("the deadline passed before TPNS could be called")
            # Signed only now, after any wait, so the TimeStamp is fresh when it is sent.
            headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
            headers.update(self._auth_headers(creds, chunk.body))
            read_timeout = min(self.timeout, remaining)
            started = time.monotonic()
            response = self._transport.post(
                self.base_url + chunk.path,
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
            body = _interpret(response)
            answers = _per_item(body, chunk)
        except ThrottledError:
            if self._limiter is not None:
                self._limiter.throttled()
            raise
        if self._limiter is not None:
            if any(codes.classify(a.code) is CodeClass.THROTTLED for a in answers):
                self._limiter.throttled()
            else:
                self._limiter.admitted()
        return answers

    def _auth_headers(self, creds: AppCredentials, body: bytes) -> dict[str, str]:
        if self.auth == "basic":
            return basic_headers(creds.access_id, creds.secret_key)
        return signature_headers(creds.access_id, creds.secret_key, body)


# -- response normalisation -------------------------------------------------------------------


def _envelope_code(body: object) -> int | None:
    if not isinstance(body, dict):
        return None
    value = body.get("ret_code", body.get("retCode"))
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and codes.INTEGER.fullmatch(value.strip()):
        return int(value)
    return None


def _envelope_message(body: object) -> str:
    if not isinstance(body, dict):
        return ""
    value = body.get("err_msg", body.get("errMsg"))
    return str(value)[:MAX_ERR_MSG] if value is not None else ""


def _retry_after(response: HttpAnswer) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _interpret(response: HttpAnswer) -> dict[str, Any]:
    """Turn an HTTP answer into a usable envelope, or raise the class of failure it is."""
    status = response.status_code
    try:
        body: Any = json.loads(response.content) if response.content else None
    except ValueError:
        body = None
    code = _envelope_code(body)
    message = _envelope_message(body)
    if status == 429:
        raise ThrottledError(
            "TPNS answered HTTP 429 (throttled)",
            http_status=status,
            code=code,
            retry_after=_retry_after(response),
        )
    if status >= 500:
        raise UpstreamUnavailableError(
            f"TPNS answered HTTP {status}", http_status=status, code=code
        )
    if code is not None:
        kind = codes.classify(code)
        if kind in (CodeClass.OK, CodeClass.PARTIAL, CodeClass.ITEM) and status < 300:
            assert isinstance(body, dict)
            return body
        raise _error_for_code(code, message, http_status=status)
    if status == 401:
        raise AuthError("TPNS answered HTTP 401 (authentication failed)", http_status=status)
    if status in (403, 404):
        raise ConfigurationError(
            f"TPNS answered HTTP {status}: wrong AccessID, regional host or base URL",
            http_status=status,
        )
    if status >= 400:
        raise BadRequestError(f"TPNS answered HTTP {status}", http_status=status)
    raise UnexpectedResponseError(
        f"TPNS answered HTTP {status} without a ret_code envelope", http_status=status
    )


def _error_for_code(
    code: int, message: str, *, http_status: int | None = None, attempts: int = 1
) -> UpstreamError:
    kind = codes.classify(code)
    text = f"TPNS code {code}: {codes.describe(code)}" + (f" ({message})" if message else "")
    classes: dict[CodeClass, type[UpstreamError]] = {
        CodeClass.BAD_REQUEST: BadRequestError,
        CodeClass.AUTH: AuthError,
        CodeClass.CONFIGURATION: ConfigurationError,
        CodeClass.APP_STATE: AppStateError,
        CodeClass.TRANSIENT: UpstreamUnavailableError,
        CodeClass.THROTTLED: ThrottledError,
    }
    error_class = classes.get(kind, UnexpectedResponseError)
    return error_class(text, code=code, http_status=http_status, attempts=attempts)


def _per_item(body: dict[str, Any], chunk: Chunk) -> list[_ItemAnswer]:
    code = _envelope_code(body)
    assert code is not None
    result = body.get("result")
    if result is None:
        if codes.classify(code) in (CodeClass.OK, CodeClass.ITEM):
            answers = [_ItemAnswer(code, None)] * chunk.size
        else:
            raise UnexpectedResponseError(f"TPNS answered code {code} without per-item results")
    elif not isinstance(result, list) or len(result) != chunk.size:
        count = len(result) if isinstance(result, list) else "no list of"
        raise UnexpectedResponseError(f"TPNS answered {count} results for {chunk.size} items")
    else:
        answers = [_ItemAnswer(*codes.parse_item_code(value)) for value in result]
    if chunk.path != QUERY_PATH:
        return answers
    entries = _query_entries(body, chunk)
    return [_ItemAnswer(a.code, a.raw, e) for a, e in zip(answers, entries, strict=True)]


def _query_entries(body: dict[str, Any], chunk: Chunk) -> list[dict[str, Any] | None]:
    """Match query answer entries to the asked items by key (order is not relied upon)."""
    by_key: dict[object, dict[str, Any]] = {}
    for name in ("account_tokens", "token_accounts"):
        entries = body.get(name)
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            if "token" in entry:
                by_key.setdefault(str(entry["token"]), entry)
            elif "account" in entry:
                account = str(entry["account"])
                typed = "account_type" in entry
                account_type = _account_type(entry.get("account_type")) if typed else None
                by_key.setdefault((account, account_type), entry)
    asked = Counter(item.account for item in chunk.items if isinstance(item, Account))
    found: list[dict[str, Any] | None] = []
    for item in chunk.items:
        if isinstance(item, Account):
            entry = by_key.get((item.account, item.account_type))
            if entry is None and asked[item.account] == 1:
                # TPNS may omit account_type; that is unambiguous only if asked once
                entry = by_key.get((item.account, None))
            found.append(entry)
        else:
            found.append(by_key.get(str(item)))
    return found


def _query_item(index: int, item: str | Account, answer: _ItemAnswer) -> QueryItem:
    entry = answer.entry or {}
    code = answer.code
    if code == codes.SUCCESS and answer.entry is None:
        code = codes.NOT_FOUND  # "found", yet nothing listed for it
    status = query_status(code)
    reason = None if code == codes.SUCCESS else answer.raw or codes.describe(code)
    if isinstance(item, Account):
        tokens = entry.get("token_list") or []
        return QueryItem(
            index,
            item,
            status,
            code,
            tokens=tuple(str(t) for t in tokens if isinstance(t, str | int)),
            reason=reason,
        )
    raw_accounts = entry.get("account_list") or []
    accounts = tuple(
        Account(str(a["account"]), _account_type(a.get("account_type")))
        for a in raw_accounts
        if isinstance(a, dict) and "account" in a
    )
    return QueryItem(index, item, status, code, accounts=accounts, reason=reason)


def _account_type(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and codes.INTEGER.fullmatch(value):
        return int(value)
    return 0


def _settle(
    answers: list[_ItemAnswer | TpnsError], pending: list[int], error: TpnsError
) -> list[_ItemAnswer | TpnsError]:
    """Give ``error`` to the items still waiting; items TPNS already answered keep that."""
    for position in pending:
        answers[position] = error
    return answers
