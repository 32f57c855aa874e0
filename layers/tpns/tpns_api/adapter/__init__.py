"""The Lambda side of the API functions: API Gateway events, Powertools' logger and metrics
(the queue functions read their SQS events with ``tpns_api.queue.messages.records_of``).

``api.Api`` owns an API function's request cycle (event → request → route → answer),
``events`` reads API Gateway's proxy events, ``routing`` matches paths, ``observability``
holds the Powertools logger and metrics every function shares, ``coldstart`` keeps the cyclic
collector out of the cold start: importing this package in a Lambda execution environment
pauses it, before Powertools and botocore load, until a handler resumes it (an API function's
after its first request, a queue function's as its first batch begins).
"""

from tpns_api.adapter.coldstart import pause_collector

pause_collector()
