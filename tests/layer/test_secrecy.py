"""The SecretKey never appears in logs, exceptions or reprs, whatever goes wrong."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import pytest

from tests.support.apps import ACCESS_ID, IOS_SECRET_KEY, SECRET_KEY, SINGLE_APP_SECRET
from tests.support.aws import MakeSecret
from tests.support.layer_clients import MakeClient
from tpns_account import (
    Account,
    AppCredentials,
    SecretsManagerCredentials,
    StaticCredentials,
    TokenAccounts,
    TpnsError,
    parse_secret,
)
from tpns_emulator import TpnsEmulator


def test_secret_key_never_reaches_logs_or_exceptions(
    make_client: MakeClient,
    emulator: TpnsEmulator,
    make_secret: MakeSecret,
    moto_endpoint: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN every log line captured at DEBUG, including urllib3's and boto's, and the default
    # Powertools provider reaching moto through the standard AWS_ENDPOINT_URL
    secret_name = make_secret(SINGLE_APP_SECRET)
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    texts: list[str] = []
    creds = SecretsManagerCredentials(secret_name, max_age=0)
    # WHEN credentials are shown, and calls with either auth scheme succeed, fail per item, fail
    # on auth, and fail transiently
    texts += [repr(creds.get()), str(creds.get())]
    for auth in ("signature", "basic"):
        client = make_client(credentials=creds, auth=auth)
        texts.append(repr(client))
        emulator.invalid_tokens.add("bad")
        client.bind(
            [TokenAccounts("good", (Account("aa"),)), TokenAccounts("bad", (Account("bb"),))]
        )
        faults: list[dict[str, Any]] = [
            {"kind": "http", "status": 503},
            {"kind": "drop"},
            {"kind": "error", "code": 1008003},
        ]
        for fault in faults:
            emulator.faults.clear()
            kind = fault.pop("kind")
            emulator.faults.add(kind, **fault)
            with pytest.raises(TpnsError) as caught:
                client.bind([TokenAccounts("t1", (Account("aa"),))], time_budget=0.3)
            texts.append(str(caught.value))
            texts.append("".join(traceback.format_exception(caught.value)))
        emulator.faults.clear()
    # AND a client signs with another app's key, and a secret value is parsed
    bad_client = make_client(
        credentials=StaticCredentials(AppCredentials(ACCESS_ID, IOS_SECRET_KEY))
    )
    with pytest.raises(TpnsError) as caught:
        bad_client.bind([TokenAccounts("t1", (Account("aa"),))])
    texts.append("".join(traceback.format_exception(caught.value)))
    texts += [repr(parse_secret({"access_id": "1", "secret_key": SECRET_KEY}))]
    # THEN the canaries appear nowhere: not in a repr, an exception, a traceback or a log line
    texts += [record.getMessage() for record in caplog.records]
    texts.append(caplog.text)
    assert len(caplog.records) > 0
    for text in texts:
        assert SECRET_KEY not in text
        assert IOS_SECRET_KEY not in text
