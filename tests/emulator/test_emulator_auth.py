"""Authentication: both schemes verified for real, and the answers for every failure."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from tpns_emulator import compute_sign

ACCESS_ID = "1500001048"
SECRET = "1452fcebae9f3115ba794fb0fff2fd73"
VECTOR_BODY = (
    b'{"operator_type":2,"token_accounts":[{"token":"token1",'
    b'"account_list":[{"account":"926@126.com"}]}]}'
)
VECTOR_SIGN = (
    "MmIxMDA3YjMyZWVmOTE3MzVmNWE3NDJmZmYxNGI4N2MxNjdiZDRkZTMxODRjOWFlZWYyZTA0MjA4MDdiZDU4MQ=="
)
BIND = {
    "operator_type": 2,
    "token_accounts": [{"token": "t1", "account_list": [{"account": "u1"}]}],
}
AUTH_FAILED = {"ret_code": 1008003, "err_msg": "authentication failed"}


def test_compute_sign_matches_the_reference_test_vector():
    # GIVEN the documented test vector WHEN the emulator computes the Sign THEN it matches exactly
    assert compute_sign(SECRET, "1565314789", ACCESS_ID, VECTOR_BODY) == VECTOR_SIGN


def test_test_client_signer_matches_the_reference_test_vector(client):
    # GIVEN the independent signer of the test client THEN it agrees with the vector too
    assert client.sign(SECRET, "1565314789", ACCESS_ID, VECTOR_BODY) == VECTOR_SIGN


def test_vector_request_is_accepted_when_its_timestamp_is_within_the_window(emulator, client):
    # GIVEN a skew window wide enough to cover the vector's 2019 timestamp
    emulator.skew_window_s = time.time()
    headers = {"AccessId": ACCESS_ID, "TimeStamp": "1565314789", "Sign": VECTOR_SIGN}
    # WHEN the exact vector request is sent
    response = client.post("/v3/device/account/batchoperate", raw=VECTOR_BODY, headers=headers)
    # THEN it is accepted and token1 gets bound
    assert response.json() == {"ret_code": 0, "err_msg": "NO_ERROR", "result": ["0"]}
    assert emulator.bindings(ACCESS_ID) == {"token1": [("926@126.com", 0)]}


def test_signed_request_is_accepted(client):
    assert client.batch(BIND)["ret_code"] == 0


def test_basic_auth_is_accepted(client):
    assert client.batch(BIND, headers=client.basic_headers())["ret_code"] == 0


def test_basic_auth_with_wrong_key_is_rejected_with_401(make_client):
    wrong = make_client(secret="wrong")
    response = wrong.post("/v3/device/account/batchoperate", BIND, headers=wrong.basic_headers())
    assert response.status_code == 401
    assert response.json() == AUTH_FAILED


def test_malformed_basic_header_is_rejected_with_401(client):
    headers = {"Authorization": "Basic not-base64!"}
    response = client.post("/v3/device/account/batchoperate", BIND, headers=headers)
    assert response.status_code == 401


def test_request_without_credentials_is_rejected_with_401(client):
    response = client.post("/v3/device/account/batchoperate", BIND, headers={})
    assert response.status_code == 401
    assert response.json() == AUTH_FAILED


def test_signature_over_other_bytes_is_rejected(client):
    # GIVEN a signature computed over a body with different whitespace than the one sent
    signed_body = json.dumps(BIND).encode()
    sent_body = json.dumps(BIND, separators=(",", ":")).encode()
    headers = client.signed_headers(signed_body)
    # WHEN the other bytes are sent THEN authentication fails
    response = client.post("/v3/device/account/batchoperate", raw=sent_body, headers=headers)
    assert response.status_code == 401
    assert response.json()["ret_code"] == 1008003


@pytest.mark.parametrize(
    "variant",
    ["access_id_first", "key_message_swapped", "raw_digest"],
)
def test_known_wrong_signing_variants_are_rejected(client, variant):
    # GIVEN the three signing mistakes public code is known to make
    body = json.dumps(BIND).encode()
    ts = str(int(time.time()))
    if variant == "access_id_first":
        sign = client.sign(SECRET, ACCESS_ID, ts, body)
    elif variant == "key_message_swapped":
        digest = hmac.new(ts.encode() + ACCESS_ID.encode() + body, SECRET.encode(), hashlib.sha256)
        sign = base64.b64encode(digest.hexdigest().encode()).decode()
    else:
        digest = hmac.new(SECRET.encode(), ts.encode() + ACCESS_ID.encode() + body, hashlib.sha256)
        sign = base64.b64encode(digest.digest()).decode()
    headers = {"AccessId": ACCESS_ID, "TimeStamp": ts, "Sign": sign}
    # THEN each is rejected
    response = client.post("/v3/device/account/batchoperate", raw=body, headers=headers)
    assert response.status_code == 401


def test_timestamp_outside_the_skew_window_is_rejected(client):
    body = json.dumps(BIND).encode()
    headers = client.signed_headers(body, timestamp=int(time.time()) - 601)
    response = client.post("/v3/device/account/batchoperate", raw=body, headers=headers)
    assert response.status_code == 401


def test_timestamp_inside_a_narrowed_skew_window_is_checked_against_it(emulator, client):
    # GIVEN a 5 s window WHEN the timestamp is 30 s old THEN it is rejected
    emulator.skew_window_s = 5
    body = json.dumps(BIND).encode()
    headers = client.signed_headers(body, timestamp=int(time.time()) - 30)
    response = client.post("/v3/device/account/batchoperate", raw=body, headers=headers)
    assert response.status_code == 401


def test_unknown_access_id_is_rejected_with_403_and_1008035(make_client):
    response = make_client(access_id="1500009999").post("/v3/device/account/batchoperate", BIND)
    assert response.status_code == 403
    assert response.json()["ret_code"] == 1008035


def test_query_auth_failure_uses_the_query_casing(client):
    payload = {"operator_type": 2, "token_list": ["t1"]}
    response = client.post("/v3/device/account/query", payload, headers={})
    assert response.status_code == 401
    assert response.json() == {"retCode": 1008003, "errMsg": "authentication failed"}


@pytest.mark.parametrize(
    ("state", "code"), [("unpaid", 1008030), ("destroyed", 1008031), ("undeployed", 1010001)]
)
def test_inactive_app_answers_http_200_with_its_state_code(emulator, client, state, code):
    emulator.add_app(ACCESS_ID, SECRET, state=state)
    response = client.post("/v3/device/account/batchoperate", BIND)
    assert response.status_code == 200
    assert response.json()["ret_code"] == code
    assert "result" not in response.json()
    assert emulator.bindings(ACCESS_ID) == {}


def test_rotated_key_replaces_the_old_one(emulator, make_client):
    # GIVEN the app's key is rotated
    emulator.set_secret(ACCESS_ID, "new-secret-key")
    # THEN the old key fails and the new one works
    assert (
        make_client(secret=SECRET).post("/v3/device/account/batchoperate", BIND).status_code == 401
    )
    assert make_client(secret="new-secret-key").batch(BIND)["ret_code"] == 0


def test_second_app_has_its_own_key_and_bindings(emulator, make_client):
    # GIVEN a second app (e.g. the iOS one)
    emulator.add_app("1600000001", "ios-secret")
    ios = make_client("1600000001", "ios-secret")
    # WHEN it binds THEN only its own state changes; its key does not work for the first app
    assert ios.batch(BIND)["ret_code"] == 0
    assert emulator.bindings("1600000001") == {"t1": [("u1", 0)]}
    assert emulator.bindings(ACCESS_ID) == {}
    wrong = make_client(ACCESS_ID, "ios-secret")
    assert wrong.post("/v3/device/account/batchoperate", BIND).status_code == 401
