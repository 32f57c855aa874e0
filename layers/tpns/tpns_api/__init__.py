"""The bundle over ``tpns_account``: the HTTP API, jobs, the ledger and the queue workflows.

``http`` is the API's contract, ``service`` and ``sending`` the synchronous operations,
``jobs`` and ``ledger`` the DynamoDB-backed memory, ``queue`` the bulk queue and cleanup,
``store`` DynamoDB itself; ``adapter`` is where API Gateway events and Powertools' logger and
metrics come in.
"""
