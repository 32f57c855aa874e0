"""Counting a job's messages: once each, however often SQS delivers them, however many."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.support.memory import Memory
from tpns_api.jobs.model import Counts, Failure
from tpns_api.jobs.store import JobStore, NewJob

#: A long part name (100 characters, a cleanup's job id and its manifest's key): 5,000 of them
#: are more than a DynamoDB item holds (400 KB).
LONG_NAME = "cleanup-0123456789abcdef.manifests/2026/12/01/devices-to-unbind/tokens-{:05d}.csv.part-of-the-manifest"


def new_job(jobs: JobStore, job_id: str, *, items: int, messages: int) -> None:
    jobs.create(NewJob(job_id, "unbind", None, None, "cleanup", items, messages, False))


def test_a_job_of_5000_long_named_parts_settles_every_part_and_finishes(memory: Memory) -> None:
    # GIVEN a job of 5,001 messages, of which 5,000 have settled (long part names)
    jobs = memory.jobs()
    new_job(jobs, "big", items=5001, messages=5001)
    names = [LONG_NAME.format(n) for n in range(5000)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda name: jobs.settle("big", name, Counts(accepted=1)), names))

    # WHEN its last part settles
    job = jobs.settle("big", LONG_NAME.format(5000), Counts(accepted=1))

    # THEN it is counted, and the job has finished
    assert job is not None
    assert (job.counts.accepted, job.messages_done, job.state) == (5001, 5001, "succeeded")


def test_a_redelivered_part_is_counted_once(memory: Memory) -> None:
    # GIVEN a job of two messages, the first settled
    jobs = memory.jobs()
    new_job(jobs, "twice", items=4, messages=2)
    jobs.settle("twice", "0", Counts(accepted=2))

    # WHEN the first is delivered again and settles again
    again = jobs.settle("twice", "0", Counts(accepted=2))

    # THEN it is not counted again: the job still waits for its second message
    assert again is None
    job = jobs.get("twice")
    assert (job.counts.accepted, job.messages_done, job.state) == (2, 1, "running")
    assert jobs.part_settled("twice", "0") and not jobs.part_settled("twice", "1")


def test_an_item_reported_by_two_checks_is_counted_by_the_first_only(memory: Memory) -> None:
    # GIVEN a verifying job of two accepted items, item 1 found verified by one check
    jobs = memory.jobs()
    jobs.create(NewJob("checked", "bind", 2, None, "api", 2, 1, True))
    jobs.settle("checked", "0", Counts(accepted=2))
    jobs.settle_verification("checked", [1], [])

    # WHEN another check (a redelivery, a duplicate, a give-up) reports it again, unverified
    again = jobs.settle_verification("checked", [], [Failure(1, "unverified", token="t1")])

    # THEN nothing is counted again, and no failure is listed for it
    assert again is None
    job = jobs.get("checked")
    assert (job.counts.verified, job.counts.unverified, job.state) == (1, 0, "running")
    assert jobs.failures("checked", limit=10, cursor=None) == ([], None)


def test_the_failures_list_only_failures_among_the_counted_markers(memory: Memory) -> None:
    # GIVEN a verifying job whose part settled with one failure, and whose items were checked
    jobs = memory.jobs()
    jobs.create(NewJob("mixed", "bind", 2, None, "api", 3, 1, True))
    failed = Failure(2, "failed", token="t2", code=10110, reason="bad token")
    jobs.settle("mixed", "0", Counts(accepted=2, failed=1), [failed])
    unverified = Failure(1, "unverified", token="t1", reason="TPNS does not hold it")

    # WHEN its items' checks are counted
    job = jobs.settle_verification("mixed", [0], [unverified])

    # THEN it finished, and its failures are the two failed items, in one page
    assert job is not None and job.state == "completed_with_failures"
    page, cursor = jobs.failures("mixed", limit=1, cursor=None)
    rest, end = jobs.failures("mixed", limit=10, cursor=cursor)
    assert [f.index for f in page + rest] == [1, 2] and end is None
