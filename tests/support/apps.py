"""The TPNS apps the tests know, and the Secrets Manager secrets that hold their keys."""

from __future__ import annotations

from typing import Any

ACCESS_ID = "1500001048"
# A canary: tests assert this string never shows up in logs, answers or exception text.
SECRET_KEY = "CANARY-5ecre7-k3y-d0-n0t-leak-7f3a9c"
IOS_ACCESS_ID = "1600002222"
IOS_SECRET_KEY = "CANARY-ios-5ecre7-k3y-41b7"

# The one-app secret shape: the app is called "default".
SINGLE_APP_SECRET: dict[str, Any] = {"access_id": ACCESS_ID, "secret_key": SECRET_KEY}
# The multi-app secret shape, as the functions are configured in these tests.
MULTI_APP_SECRET: dict[str, Any] = {
    "default_app": "android",
    "apps": {
        "android": {"access_id": ACCESS_ID, "secret_key": SECRET_KEY},
        "ios": {"access_id": IOS_ACCESS_ID, "secret_key": IOS_SECRET_KEY},
    },
}
