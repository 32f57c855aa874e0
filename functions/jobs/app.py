"""POST /v1/jobs: split a bulk bind/unbind of any size into bulk-queue messages (202)."""

from __future__ import annotations

from tpns_api.adapter.api import Api
from tpns_api.deadline import Deadline
from tpns_api.http import contract
from tpns_api.http.answers import ApiResponse
from tpns_api.http.contract import JobRequest
from tpns_api.queue.jobs import JobSubmitter

api = Api(JobSubmitter.from_env)


@api.post("/v1/jobs", parse=contract.job_request)
def submit_job(request: JobRequest, deadline: Deadline, service: JobSubmitter) -> ApiResponse:
    """Queue a bind or unbind of any size; 202 with the job's id."""
    return service.submit(request, deadline)


lambda_handler = api.handler()
