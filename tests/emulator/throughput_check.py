"""Hand-run throughput check of the emulator (not collected by pytest, asserts nothing).

Run from the repository root:  PYTHONPATH=. .venv/bin/python tests/emulator/throughput_check.py
It prints requests/s for one keep-alive ``requests.Session`` doing signed batchoperate calls,
then signed queries, against an in-process emulator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import time

import requests

from tests.support.tpns_client import BATCHOPERATE_PATH, QUERY_PATH
from tests.support.vector import VECTOR_ACCESS_ID, VECTOR_SECRET_KEY
from tpns_emulator import TpnsEmulator


def signed_headers(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    message = (ts + VECTOR_ACCESS_ID).encode() + body
    digest = hmac.new(VECTOR_SECRET_KEY.encode(), message, hashlib.sha256)
    sign = base64.b64encode(digest.hexdigest().encode()).decode()
    return {"AccessId": VECTOR_ACCESS_ID, "TimeStamp": ts, "Sign": sign}


def run(session: requests.Session, url: str, body: bytes, seconds: float) -> float:
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        response = session.post(url, data=body, headers=signed_headers(body), timeout=5)
        response.raise_for_status()
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    bind = json.dumps(
        {
            "operator_type": 2,
            "token_accounts": [
                {"token": f"token-{i}", "account_list": [{"account": f"user-{i}"}]}
                for i in range(20)
            ],
        }
    ).encode()
    query = json.dumps(
        {"operator_type": 1, "account_list": [{"account": f"user-{i}"} for i in range(20)]}
    ).encode()
    with (
        TpnsEmulator(apps={VECTOR_ACCESS_ID: VECTOR_SECRET_KEY}) as emu,
        requests.Session() as session,
    ):
        batch_rate = run(session, emu.url + BATCHOPERATE_PATH, bind, seconds)
        query_rate = run(session, emu.url + QUERY_PATH, query, seconds)
        print(f"batchoperate (20 tokens): {batch_rate:,.0f} req/s")
        print(f"query (20 accounts):      {query_rate:,.0f} req/s")
        print(f"server saw {emu.stats.requests} requests, outcomes {emu.stats.by_outcome}")


if __name__ == "__main__":
    main()
