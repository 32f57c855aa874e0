"""POST /v1/jobs: split a bulk bind/unbind of any size into bulk-queue messages (202)."""

from __future__ import annotations

import os
from functools import cache

from tpns_api.jobs import JobSubmitter
from tpns_api.lambda_adapter import Response, create_app, handler, json_body, service, to_response

app = create_app()


@cache
def submitter() -> JobSubmitter:
    import boto3

    return JobSubmitter(
        queue_url=os.environ["BULK_QUEUE_URL"],
        sqs=boto3.client("sqs"),
        credentials=service().client.credentials,
    )


@app.post("/v1/jobs")
def submit_job() -> Response:
    return to_response(submitter().submit(json_body(app)))


lambda_handler = handler(app)
