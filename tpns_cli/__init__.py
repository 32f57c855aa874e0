"""``tpns-bindings``: the command-line tool for people who run bulk binds and unbinds.

It validates files locally with the layer's own validators, submits them to ``POST /v1/jobs``
in parts with deterministic idempotency keys (so re-running a command never doubles work),
watches the jobs, lists their failures and redrives the bulk dead-letter queue. It talks to a
deployed API (SigV4 or an API key) or to the local stack; it is not part of the Lambda layer.
"""
