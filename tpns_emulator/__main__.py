"""Command line: run the emulator as a process, for the local stack and subprocess tests."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from types import FrameType

from tpns_emulator.emulator import TpnsEmulator
from tpns_emulator.errors import EmulatorError
from tpns_emulator.state import OVERRIDE_SCOPES

logger = logging.getLogger(__name__)

APPS_ENV = "TPNS_EMULATOR_APPS"


def _app(value: str) -> tuple[str, str]:
    access_id, sep, secret_key = value.strip().partition(":")
    if not sep or not access_id or not secret_key:
        raise argparse.ArgumentTypeError("expected ACCESS_ID:SECRET_KEY")
    return access_id, secret_key


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tpns_emulator",
        description="Local TPNS account API (batchoperate + query) on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=8080, help="port (0 = any free port)")
    parser.add_argument(
        "--app",
        action="append",
        type=_app,
        default=[],
        metavar="ACCESS_ID:SECRET_KEY",
        help=f"an app; repeatable (default: ${APPS_ENV}, comma-separated)",
    )
    parser.add_argument("--apply-delay", type=float, default=0.0, help="seconds until binds apply")
    parser.add_argument("--latency", type=float, default=0.0, help="base latency per request (s)")
    parser.add_argument("--qps-cap", type=float, default=None, help="throttle above this rate")
    parser.add_argument("--style", choices=("current", "legacy"), default="current")
    parser.add_argument(
        "--override-scope",
        choices=sorted(OVERRIDE_SCOPES),
        default="token",
        help="what an override (operator_type 2) replaces: all of a token's accounts (token) "
        "or those of the account types it names (type); TPNS's pages allow both readings",
    )
    parser.add_argument("--exit-after", type=float, default=None, help="stop after N seconds")
    parser.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    apps: list[tuple[str, str]] = args.app
    if not apps and os.environ.get(APPS_ENV):
        try:
            apps = [_app(item) for item in os.environ[APPS_ENV].split(",") if item.strip()]
        except argparse.ArgumentTypeError:
            parser.error(f"{APPS_ENV} must be comma-separated ACCESS_ID:SECRET_KEY pairs")
    if not apps:
        logger.warning("no apps configured: every request will fail authentication")
    try:
        emulator = TpnsEmulator(
            apps=dict(apps),
            host=args.host,
            port=args.port,
            apply_delay=args.apply_delay,
            latency_s=args.latency,
            qps_cap=args.qps_cap,
            style=args.style,
            override_scope=args.override_scope,
        )
        emulator.start()
    except (OSError, EmulatorError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"tpns_emulator: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    print(f"TPNS emulator listening on {emulator.url}", flush=True)
    try:
        stop.wait(args.exit_after)
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
