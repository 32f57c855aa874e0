"""POST /v1/jobs (a bulk bind/unbind of any size, queued: 202) and the jobs' status routes."""

from __future__ import annotations

from tpns_api.adapter.api import Api
from tpns_api.deadline import Deadline
from tpns_api.http import contract, lookups
from tpns_api.http.answers import ApiResponse
from tpns_api.http.contract import JobRequest
from tpns_api.http.lookups import JobLookup
from tpns_api.jobs.submit import JobSubmitter

api = Api(JobSubmitter.from_env)


@api.post("/v1/jobs", parse=contract.job_request)
def submit_job(request: JobRequest, deadline: Deadline, service: JobSubmitter) -> ApiResponse:
    """Queue a bind or unbind of any size; 202 with the job's id and where to watch it."""
    return service.submit(request, deadline)


@api.get("/v1/jobs/<job_id>", parse=lookups.job_lookup_request)
def job_status(request: JobLookup, deadline: Deadline, service: JobSubmitter) -> ApiResponse:
    """The job's state and counts (queued, running, then a final state)."""
    return service.status(request)


@api.get("/v1/jobs/<job_id>/failures", parse=lookups.job_lookup_request)
def job_failures(request: JobLookup, deadline: Deadline, service: JobSubmitter) -> ApiResponse:
    """Every item that failed, was dead-lettered or stayed unverified, in pages."""
    return service.failures(request)


lambda_handler = api.handler()
