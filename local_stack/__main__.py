"""``python -m local_stack``: run the bundle locally, trigger its schedules, invoke its functions.

python -m local_stack [run] [--port 3000] [--parameter-overrides K=V ...]
python -m local_stack trigger [SCHEDULE]        # run the cleanup schedule now
python -m local_stack invoke FUNCTION [JSON]    # like `aws lambda invoke`
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local_stack.stack import DEMO_ACCESS_ID, Config, LocalStack, StartError
from local_stack.template import TemplateError

DEMO_BIND = (
    '{"token_accounts": [{"token": "demo-token-1", '
    '"account_list": [{"account": "alice@example.com", "account_type": 0}]}]}'
)

UNBIND = '{"token_list": ["demo-token-1"]}'


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    state_dir = Path(args.state_dir)
    if args.command == "trigger":
        return _call(state_dir, "schedules", args.name, "trigger", None)
    if args.command == "invoke":
        return _call(state_dir, "functions", args.function, "invoke", args.payload)
    return _run(args, state_dir)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_stack",
        description="The TPNS bindings bundle on loopback, wired from template.yaml.",
    )
    parser.add_argument("--state-dir", default=".local-stack", help="API key, logs, endpoints")
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="start the stack (the default)")
    _run_options(parser)
    # Given after `run` they win; not given, they leave what came before `run` alone.
    _run_options(run, suppress=True)
    trigger = commands.add_parser("trigger", help="run a schedule now (default: the only one)")
    trigger.add_argument("name", nargs="?")
    invoke = commands.add_parser("invoke", help="invoke a function with a JSON payload")
    invoke.add_argument("function")
    invoke.add_argument("payload", nargs="?", default="{}")
    return parser


def _run_options(parser: argparse.ArgumentParser, suppress: bool = False) -> None:
    config = Config()

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument("--template", default=default(str(config.template)))
    parser.add_argument("--port", type=int, default=default(config.port), help="API gateway port")
    parser.add_argument("--aws-port", type=int, default=default(config.aws_port), help="moto port")
    parser.add_argument(
        "--tpns-port", type=int, default=default(config.tpns_port), help="emulator port"
    )
    parser.add_argument(
        "--parameter-overrides",
        nargs="*",
        default=default([]),
        metavar="KEY=VALUE",
        help="template parameters, as for sam deploy",
    )
    parser.add_argument(
        "--apply-delay",
        type=float,
        default=default(config.apply_delay_s),
        help="seconds before the emulator applies a bind or unbind (TPNS is asynchronous)",
    )
    parser.add_argument(
        "--redelivery-delay",
        type=int,
        default=default(config.redelivery_delay_s),
        help="seconds before a failed queue message is delivered again (deployed: the queue's "
        "visibility timeout)",
    )
    parser.add_argument(
        "--verify-delay",
        type=int,
        default=default(config.verify_delay_s),
        help="seconds before a write is checked against TPNS (deployed: VerifyDelaySeconds, 30)",
    )
    parser.add_argument("--max-instances", type=int, default=default(config.max_instances))
    parser.add_argument(
        "--exit-after", type=float, default=default(None), help="stop after N seconds"
    )


def _run(args: argparse.Namespace, state_dir: Path) -> int:
    try:
        overrides = dict(item.split("=", 1) for item in args.parameter_overrides)
    except ValueError:
        print("local stack: --parameter-overrides takes KEY=VALUE pairs", file=sys.stderr)
        return 2
    endpoint = os.environ.get("TPNS_ENDPOINT") or None
    secret_file = os.environ.get("TPNS_SECRET_FILE") or None
    config = Config(
        template=Path(args.template),
        state_dir=state_dir,
        port=args.port,
        aws_port=args.aws_port,
        tpns_port=args.tpns_port,
        parameter_overrides=overrides,
        apply_delay_s=args.apply_delay,
        redelivery_delay_s=args.redelivery_delay,
        verify_delay_s=args.verify_delay,
        max_instances=args.max_instances,
        tpns_endpoint=endpoint,
        secret_file=Path(secret_file) if secret_file else None,
    )
    stack = LocalStack(config, say=lambda line: print(line, flush=True))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print("starting the local stack...", flush=True)
    try:
        stack.start()
    except (StartError, TemplateError) as exc:
        print(f"local stack: {exc}", file=sys.stderr, flush=True)
        return 2
    print(_banner(stack, state_dir), flush=True)
    stop.wait(args.exit_after)
    print("stopping...", flush=True)
    stack.stop()
    print("stopped.", flush=True)
    return 0


def _banner(stack: LocalStack, state_dir: Path) -> str:
    e = stack.endpoints
    api = e["api"]
    key_file = state_dir / "api-key"
    tpns = (
        f"{e['tpns']}  REAL TPNS - binds are real"
        if e["real_tpns"]
        else f"{e['tpns']}  emulator, demo app {DEMO_ACCESS_ID}, "
        f"apply delay {stack.config.apply_delay_s:g} s"
    )
    lines = [
        "",
        f"TPNS bindings local stack is up ({stack.config.template}).",
        "",
        f"  API          {api}/v1/...  (header x-api-key: the key in {key_file})",
        f"  Swagger UI   {api}/v1/docs",
        f"  AWS (moto)   {e['aws']}  Secrets Manager, SQS, S3, DynamoDB - "
        f"export AWS_ENDPOINT_URL={e['aws']} AWS_DEFAULT_REGION={e['region']}",
        f"  TPNS         {tpns}",
        f"  Credentials  secret {e['secret_id']} in the local Secrets Manager "
        "(aws secretsmanager get-secret-value --secret-id ...)",
        f"  Logs         {e['logs']}/<Function>.log (one line per request here)",
        "",
        "  Routes:",
        *(f"    {route}" for route in e["routes"]),
        "  Outputs:",
        *(f"    {name:<34} {value}" for name, value in e["outputs"].items()),
    ]
    trigger = "make cleanup-now"
    if state_dir != Path(".local-stack"):
        trigger = f"python -m local_stack --state-dir {state_dir} trigger"
    for name, (schedule, expression) in stack.schedules.items():
        when = "not on a timer"
        if expression is not None:
            due = expression.next_after(datetime.now(UTC))
            when = f"next {due:%Y-%m-%d %H:%M %Z}" if due else "no future run"
        lines.append(
            f"  Schedule:    {name} {schedule.expression} {schedule.timezone} ({when}); "
            f"run it now: {trigger}"
        )
    lines += [
        "",
        "Try it (from the repository root):",
        f"  KEY=$(cat {key_file})",
        f"  curl -s -w '\\n' -H \"x-api-key: $KEY\" -d '{DEMO_BIND}' {api}/v1/bind",
        f"  sleep 2; curl -s -w '\\n' -H \"x-api-key: $KEY\" {api}/v1/tokens/demo-token-1/accounts",
        f"  curl -s -w '\\n' -H \"x-api-key: $KEY\" -d '{UNBIND}' {api}/v1/unbind",
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def _call(state_dir: Path, kind: str, name: str | None, action: str, payload: str | None) -> int:
    try:
        endpoints: dict[str, Any] = json.loads((state_dir / "endpoints.json").read_text())
        key = Path(endpoints["api_key_file"]).read_text().strip()
    except (OSError, ValueError, KeyError):
        print(
            f"local stack: not running (no {state_dir}/endpoints.json); start it with make run",
            file=sys.stderr,
        )
        return 2
    if name is None:
        names = endpoints.get(kind, [])
        if len(names) != 1:
            print(f"local stack: name one of {names}", file=sys.stderr)
            return 2
        name = names[0]
    request = urllib.request.Request(  # noqa: S310 - the stack's own loopback URL
        f"{endpoints['api']}/_local/{kind}/{name}/{action}",
        data=(payload or "{}").encode(),
        headers={"x-api-key": key, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=960) as answer:  # noqa: S310 - loopback
            print(answer.read().decode())
            return 0
    except urllib.error.HTTPError as exc:
        print(exc.read().decode(), file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        print(f"local stack: cannot reach {endpoints['api']}: {exc.reason}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
