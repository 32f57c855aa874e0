"""Every exception the bundle's own code raises (beside the library's ``TpnsError`` family).

Each says what failed, so that its HTTP answer, its log line and a bulk message's fate follow
from the class alone (``tpns_api.http.errors`` maps them to answers).
"""

from __future__ import annotations


class BundleError(Exception):
    """Base class of everything ``tpns_api`` raises."""

    retryable: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PayloadTooLargeError(BundleError):
    """More items (or bytes) than a synchronous request may carry."""


class QueueUnavailableError(BundleError):
    """SQS refused or could not take messages after retries; sending again may succeed."""

    retryable = True

    def __init__(self, message: str, unsent: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.unsent = unsent  # the indices of the messages that were not queued


class NeverSucceedsError(BundleError):
    """A queue message that cannot succeed however often it is delivered (not JSON, bad shape)."""


class LedgerOffError(BundleError):
    """The deployment has no ledger (``LedgerMode`` off): nothing to read."""
