"""Submitting parts under their keys: a re-run after a crash resumes, never doubles work."""

from __future__ import annotations

import json

import pytest

from tests.support.cli import FakeJobsApi
from tpns_cli.manifest import parse_manifest
from tpns_cli.plan import Part, plan_parts
from tpns_cli.submit import SubmitStoppedError, submit_parts


def three_parts() -> list[Part]:
    lines = [json.dumps({"token": f"t{i}"}) for i in range(30)]
    return plan_parts(parse_manifest("\n".join(lines).encode(), "unbind"), None, job_size=10)


def test_a_rerun_after_a_crash_replays_what_was_sent_and_sends_the_rest() -> None:
    # GIVEN a run that stopped at its second part (the API went away)
    api = FakeJobsApi(fail_at=2)
    with pytest.raises(SubmitStoppedError) as stopped:
        submit_parts(api, three_parts())
    assert [s.part.number for s in stopped.value.done] == [1]

    # WHEN the same command runs again
    done = submit_parts(api, three_parts())

    # THEN the first part answers its job again (replayed), the others are new, and each part
    # was queued exactly once over both runs
    assert [(s.part.number, s.replayed) for s in done] == [(1, True), (2, False), (3, False)]
    assert done[0].job_id == stopped.value.done[0].job_id
    assert len(api.queued) == 3 and len(set(api.queued)) == 3


def test_a_second_run_of_a_finished_command_queues_nothing() -> None:
    # GIVEN a command that submitted every part
    api = FakeJobsApi()
    first = submit_parts(api, three_parts())

    # WHEN it is run again
    second = submit_parts(api, three_parts())

    # THEN every part is replayed onto the same jobs and nothing more is queued
    assert all(s.replayed for s in second)
    assert [s.job_id for s in second] == [s.job_id for s in first]
    assert len(api.queued) == 3


def test_a_stopped_run_says_how_to_resume() -> None:
    # GIVEN an API that fails the first part
    api = FakeJobsApi(fail_at=1)

    # WHEN the parts are submitted
    with pytest.raises(SubmitStoppedError) as stopped:
        submit_parts(api, three_parts())

    # THEN the error names the part and says that running the same command again is safe
    message = stopped.value.message
    assert "part 1 of 3 was not submitted" in message
    assert "run the same command again" in message and "not queued twice" in message


def test_a_key_reused_for_another_body_is_explained() -> None:
    # GIVEN a key the API already holds for another body
    parts = three_parts()
    api = FakeJobsApi()
    api.keys[parts[0].key] = (b"{}", {"job_id": "other"})

    # WHEN the parts are submitted
    with pytest.raises(SubmitStoppedError) as stopped:
        submit_parts(api, parts)

    # THEN the error says so and how to get new keys
    assert "another --job-size makes new keys" in stopped.value.message
