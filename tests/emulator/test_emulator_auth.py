"""Authentication: both schemes verified for real, and the answers for every failure."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

import pytest

from tests.support.tpns_client import (
    BATCHOPERATE_PATH,
    QUERY_PATH,
    MakeTestClient,
    TpnsTestClient,
)
from tests.support.vector import (
    VECTOR_ACCESS_ID,
    VECTOR_BODY,
    VECTOR_SECRET_KEY,
    VECTOR_SIGN,
    VECTOR_TIMESTAMP,
)
from tpns_emulator import TpnsEmulator, compute_sign

BIND = {
    "operator_type": 2,
    "token_accounts": [{"token": "t1", "account_list": [{"account": "u1"}]}],
}
AUTH_FAILED = {"ret_code": 1008003, "err_msg": "authentication failed"}


def test_compute_sign_matches_the_reference_test_vector() -> None:
    # GIVEN the documented test vector
    inputs = (VECTOR_SECRET_KEY, str(VECTOR_TIMESTAMP), VECTOR_ACCESS_ID, VECTOR_BODY)
    # WHEN the emulator computes the Sign
    signed = compute_sign(*inputs)
    # THEN it matches exactly
    assert signed == VECTOR_SIGN


def test_test_client_signer_matches_the_reference_test_vector(client: TpnsTestClient) -> None:
    # GIVEN the documented test vector
    inputs = (VECTOR_SECRET_KEY, str(VECTOR_TIMESTAMP), VECTOR_ACCESS_ID, VECTOR_BODY)
    # WHEN the test client's independent signer computes the Sign
    signed = client.sign(*inputs)
    # THEN it agrees with the vector too
    assert signed == VECTOR_SIGN


def test_vector_request_is_accepted_when_its_timestamp_is_within_the_window(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a skew window wide enough to cover the vector's 2019 timestamp
    emulator.skew_window_s = time.time()
    headers = {
        "AccessId": VECTOR_ACCESS_ID,
        "TimeStamp": str(VECTOR_TIMESTAMP),
        "Sign": VECTOR_SIGN,
    }
    # WHEN the exact vector request is sent
    response = client.post(BATCHOPERATE_PATH, raw=VECTOR_BODY, headers=headers)
    # THEN it is accepted and token1 gets bound
    assert response.json() == {"ret_code": 0, "err_msg": "NO_ERROR", "result": ["0"]}
    assert emulator.bindings(VECTOR_ACCESS_ID) == {"token1": [("926@126.com", 0)]}


def test_signed_request_is_accepted(client: TpnsTestClient) -> None:
    # GIVEN a client signing with the app's key
    # WHEN it binds
    answer = client.batch(BIND)
    # THEN the call succeeds
    assert answer["ret_code"] == 0


def test_basic_auth_is_accepted(client: TpnsTestClient) -> None:
    # GIVEN Basic auth headers with the app's key
    headers = client.basic_headers()
    # WHEN a bind is sent with them
    answer = client.batch(BIND, headers=headers)
    # THEN the call succeeds
    assert answer["ret_code"] == 0


def test_basic_auth_with_wrong_key_is_rejected_with_401(make_client: MakeTestClient) -> None:
    # GIVEN Basic auth headers with a wrong key
    wrong = make_client(secret="wrong")
    # WHEN a bind is sent with them
    response = wrong.post(BATCHOPERATE_PATH, BIND, headers=wrong.basic_headers())
    # THEN it is refused with 401 and TPNS's auth failure
    assert response.status_code == 401
    assert response.json() == AUTH_FAILED


def test_malformed_basic_header_is_rejected_with_401(client: TpnsTestClient) -> None:
    # GIVEN a Basic header that is not base64
    headers = {"Authorization": "Basic not-base64!"}
    # WHEN a bind is sent with it
    response = client.post(BATCHOPERATE_PATH, BIND, headers=headers)
    # THEN it is refused with 401
    assert response.status_code == 401


def test_request_without_credentials_is_rejected_with_401(client: TpnsTestClient) -> None:
    # GIVEN no auth headers at all
    headers: dict[str, str] = {}
    # WHEN a bind is sent
    response = client.post(BATCHOPERATE_PATH, BIND, headers=headers)
    # THEN it is refused with 401 and TPNS's auth failure
    assert response.status_code == 401
    assert response.json() == AUTH_FAILED


def test_signature_over_other_bytes_is_rejected(client: TpnsTestClient) -> None:
    # GIVEN a signature computed over a body with different whitespace than the one sent
    signed_body = json.dumps(BIND).encode()
    sent_body = json.dumps(BIND, separators=(",", ":")).encode()
    headers = client.signed_headers(signed_body)
    # WHEN the other bytes are sent
    response = client.post(BATCHOPERATE_PATH, raw=sent_body, headers=headers)
    # THEN authentication fails
    assert response.status_code == 401
    assert response.json()["ret_code"] == 1008003


def _access_id_first(ts: str, body: bytes) -> str:
    return TpnsTestClient.sign(VECTOR_SECRET_KEY, VECTOR_ACCESS_ID, ts, body)


def _key_message_swapped(ts: str, body: bytes) -> str:
    message = ts.encode() + VECTOR_ACCESS_ID.encode() + body
    digest = hmac.new(message, VECTOR_SECRET_KEY.encode(), hashlib.sha256)
    return base64.b64encode(digest.hexdigest().encode()).decode()


def _raw_digest(ts: str, body: bytes) -> str:
    message = ts.encode() + VECTOR_ACCESS_ID.encode() + body
    digest = hmac.new(VECTOR_SECRET_KEY.encode(), message, hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


@pytest.mark.parametrize(
    "wrong_sign",
    [_access_id_first, _key_message_swapped, _raw_digest],
    ids=["access_id_first", "key_message_swapped", "raw_digest"],
)
def test_known_wrong_signing_variants_are_rejected(
    client: TpnsTestClient, wrong_sign: Callable[[str, bytes], str]
) -> None:
    # GIVEN a request signed with one of the mistakes public code is known to make
    body = json.dumps(BIND).encode()
    ts = str(int(time.time()))
    headers = {"AccessId": VECTOR_ACCESS_ID, "TimeStamp": ts, "Sign": wrong_sign(ts, body)}
    # WHEN it is sent
    response = client.post(BATCHOPERATE_PATH, raw=body, headers=headers)
    # THEN it is rejected
    assert response.status_code == 401


def test_timestamp_outside_the_skew_window_is_rejected(client: TpnsTestClient) -> None:
    # GIVEN a request signed 601 s ago, outside the default window
    body = json.dumps(BIND).encode()
    headers = client.signed_headers(body, timestamp=int(time.time()) - 601)
    # WHEN it is sent
    response = client.post(BATCHOPERATE_PATH, raw=body, headers=headers)
    # THEN it is rejected
    assert response.status_code == 401


def test_timestamp_inside_a_narrowed_skew_window_is_checked_against_it(
    emulator: TpnsEmulator, client: TpnsTestClient
) -> None:
    # GIVEN a 5 s window
    emulator.skew_window_s = 5
    body = json.dumps(BIND).encode()
    # WHEN the timestamp is 30 s old
    headers = client.signed_headers(body, timestamp=int(time.time()) - 30)
    response = client.post(BATCHOPERATE_PATH, raw=body, headers=headers)
    # THEN it is rejected
    assert response.status_code == 401


def test_unknown_access_id_is_rejected_with_403_and_1008035(make_client: MakeTestClient) -> None:
    # GIVEN a client for an access id the emulator does not know
    stranger = make_client(access_id="1500009999")
    # WHEN it binds
    response = stranger.post(BATCHOPERATE_PATH, BIND)
    # THEN it is refused with 403 and 1008035
    assert response.status_code == 403
    assert response.json()["ret_code"] == 1008035


def test_query_auth_failure_uses_the_query_casing(client: TpnsTestClient) -> None:
    # GIVEN a query without credentials
    payload = {"operator_type": 2, "token_list": ["t1"]}
    # WHEN it is sent
    response = client.post(QUERY_PATH, payload, headers={})
    # THEN it is refused with 401, the envelope in the query's camelCase
    assert response.status_code == 401
    assert response.json() == {"retCode": 1008003, "errMsg": "authentication failed"}


@pytest.mark.parametrize(
    ("state", "code"), [("unpaid", 1008030), ("destroyed", 1008031), ("undeployed", 1010001)]
)
def test_inactive_app_answers_http_200_with_its_state_code(
    emulator: TpnsEmulator, client: TpnsTestClient, state: str, code: int
) -> None:
    # GIVEN the app in an inactive state
    emulator.add_app(VECTOR_ACCESS_ID, VECTOR_SECRET_KEY, state=state)
    # WHEN it binds
    response = client.post(BATCHOPERATE_PATH, BIND)
    # THEN the answer is HTTP 200 with the state's code, no result, and nothing bound
    assert response.status_code == 200
    assert response.json()["ret_code"] == code
    assert "result" not in response.json()
    assert emulator.bindings(VECTOR_ACCESS_ID) == {}


def test_rotated_key_replaces_the_old_one(
    emulator: TpnsEmulator, make_client: MakeTestClient
) -> None:
    # GIVEN the app's key is rotated
    emulator.set_secret(VECTOR_ACCESS_ID, "new-secret-key")
    # WHEN clients with the old and the new key bind
    old = make_client(secret=VECTOR_SECRET_KEY).post(BATCHOPERATE_PATH, BIND)
    new = make_client(secret="new-secret-key").batch(BIND)
    # THEN the old key fails and the new one works
    assert old.status_code == 401
    assert new["ret_code"] == 0


def test_second_app_has_its_own_key_and_bindings(
    emulator: TpnsEmulator, make_client: MakeTestClient
) -> None:
    # GIVEN a second app (e.g. the iOS one)
    emulator.add_app("1600000001", "ios-secret")
    ios = make_client("1600000001", "ios-secret")
    # WHEN it binds
    answer = ios.batch(BIND)
    # THEN only its own state changes
    assert answer["ret_code"] == 0
    assert emulator.bindings("1600000001") == {"t1": [("u1", 0)]}
    assert emulator.bindings(VECTOR_ACCESS_ID) == {}
    # AND its key does not work for the first app
    wrong = make_client(VECTOR_ACCESS_ID, "ios-secret")
    assert wrong.post(BATCHOPERATE_PATH, BIND).status_code == 401
