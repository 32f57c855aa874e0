"""The functions that keep the ledger, in-process, on the test's queues and tables (moto)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.api_events import ApiFunctions
from tests.support.bulk import BulkRig
from tests.support.lambda_runtime import load_function
from tests.support.memory import VERIFY_MAX_RECEIVE_COUNT, Memory
from tests.support.verify import VerifyRig


@pytest.fixture
def verify(bulk: BulkRig, memory: Memory, monkeypatch: pytest.MonkeyPatch) -> Iterator[VerifyRig]:
    """The verify function, configured like the template does (as the bulk function is), on
    the test's verify queue."""
    monkeypatch.setenv("VERIFY_MAX_RECEIVE_COUNT", str(VERIFY_MAX_RECEIVE_COUNT))
    module = load_function("verify")
    module.verifier.cache_clear()
    yield VerifyRig(memory.sqs, memory.verify_queue_url, module)
    module.verifier.cache_clear()


@pytest.fixture
def jobs_api(bulk: BulkRig, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiFunctions]:
    """The API functions (``api(function, event)``), their jobs queued on the bulk rig's queue."""
    monkeypatch.setenv("BULK_QUEUE_URL", bulk.queue_url)
    functions = ApiFunctions()
    functions.reset()
    yield functions
    functions.reset()
