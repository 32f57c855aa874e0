"""Every metric the functions emit, named once (namespace ``TpnsBindings`` by default).

The dashboard in ``template.yaml`` may only name metrics listed here (a test checks it).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

NAMESPACE: Final = "TpnsBindings"
SERVICE: Final = "tpns-bindings"


class Metric(StrEnum):
    # API functions
    REQUESTS = "Requests"
    # items, whichever path carried them
    ITEMS_ACCEPTED = "ItemsAccepted"
    ITEMS_FAILED = "ItemsFailed"
    ITEMS_DEAD_LETTERED = "ItemsDeadLettered"
    ITEMS_SUPERSEDED = "ItemsSuperseded"
    # verified apply
    ITEMS_VERIFIED = "ItemsVerified"
    ITEMS_UNVERIFIED = "ItemsUnverified"
    ITEMS_REPUSHED = "ItemsRepushed"
    # bulk queue
    MESSAGES = "Messages"
    MESSAGES_RETRIED = "MessagesRetried"
    MESSAGES_DEAD_LETTERED = "MessagesDeadLettered"
    UPSTREAM_CALLS = "UpstreamCalls"
    UPSTREAM_RETRIES = "UpstreamRetries"
    UPSTREAM_THROTTLES = "UpstreamThrottles"
    # scheduled cleanup
    MANIFESTS_COMPLETED = "ManifestsCompleted"
    MANIFESTS_UNFINISHED = "ManifestsUnfinished"
    ITEMS_QUEUED = "ItemsQueued"
    LINES_REJECTED = "LinesRejected"


Counts = dict[Metric, int]


def error_metric(status: int) -> str:
    """The API functions count refusals per status: ``Error400``, ``Error503``..."""
    return f"Error{status}"
