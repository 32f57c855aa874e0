"""``tpns-bindings``: argument parsing and the commands, each a few calls into the modules.

Exit codes: 0 when everything was done and nothing failed; 1 when it was done but some lines
were bad or some items failed; 2 when it could not be done (see ``tpns_cli.errors``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tpns_account import RequestValidationError
from tpns_account.validation import MISSING
from tpns_api.http import contract
from tpns_api.http.lookups import MAX_PAGE
from tpns_cli import dlq, render
from tpns_cli.errors import EXIT_FAILURES, EXIT_OK, CliError, TargetError
from tpns_cli.export import write_failures
from tpns_cli.jobs import POLL_INTERVAL_S, JobStatus, Watched, watch
from tpns_cli.manifest import Manifest, read_manifest
from tpns_cli.plan import DEFAULT_JOB_ITEMS, Part, plan_parts
from tpns_cli.submit import JobsApi, SubmitStoppedError, Submitted, submit_parts
from tpns_cli.target import API_KEY_ENV, API_URL_ENV, Target

PROG: Final = "tpns-bindings"
JOB_FAILURES_SHOWN: Final = 20
DLQ_LISTED: Final = 50


@dataclass(frozen=True, slots=True)
class Io:
    """Where output goes: rich consoles for people, ``out`` for data (CSV) as it is."""

    console: Console
    err: Console
    out: TextIO


Command = Callable[[argparse.Namespace, Io], int]


def main(
    argv: Sequence[str] | None = None,
    *,
    console: Console | None = None,
    err: Console | None = None,
    out: TextIO | None = None,
) -> int:
    """Run one command; its exit code (the console script exits with it)."""
    io = Io(console or Console(), err or Console(stderr=True), out or sys.stdout)
    args = parser().parse_args(argv)
    command: Command = args.command
    try:
        return command(args, io)
    except CliError as exc:
        io.err.print(Text("error: ", style="bold red") + Text(exc.message))
        return exc.exit_code
    except KeyboardInterrupt:
        io.err.print("interrupted: jobs already submitted go on (tpns-bindings job ID)")
        return 130


# -- submit -----------------------------------------------------------------------------------


def submit(args: argparse.Namespace, io: Io) -> int:
    """Validate the file, submit its good items in parts, and with --wait watch them."""
    manifest = read_manifest(args.file, args.operation)
    if manifest.bad:
        io.console.print(render.bad_lines(manifest.bad, str(args.file)))
    _warn_overridden(manifest, io)
    parts = plan_parts(manifest, args.app, args.job_size)
    io.console.print(
        f"{args.file}: {manifest.valid_lines} valid line(s) of {manifest.lines}, "
        f"{len(manifest.bad)} bad; {manifest.total_items} item(s) "
        f"({manifest.merged} repeated line(s) merged) in {len(parts)} job(s) "
        f"of at most {args.job_size}",
        highlight=False,
    )
    clean = EXIT_FAILURES if manifest.bad else EXIT_OK
    if not parts:
        io.console.print("nothing to submit")
        return EXIT_FAILURES
    if args.dry_run:
        io.console.print("dry run: nothing submitted")
        return clean
    api = _target(args).api()
    done = _submit(api, parts, io)
    if not args.wait:
        io.console.print(f"watch them: {PROG} job JOB_ID (or submit again with --wait)")
        return clean
    rows = watch(
        api,
        [Watched(str(s.part.number), s.job_id) for s in done],
        io.console,
        render.progress,
        interval_s=args.poll_interval,
        timeout_s=args.timeout,
    )
    io.console.print(render.summary(rows))
    return EXIT_FAILURES if any(status.failures for _, status in rows) else clean


def _submit(api: JobsApi, parts: list[Part], io: Io) -> list[Submitted]:
    with io.console.status("submitting") as status:

        def before(part: Part) -> None:
            status.update(f"submitting part {part.number} of {len(parts)}")

        try:
            done = submit_parts(api, parts, before)
        except SubmitStoppedError as exc:
            if exc.done:
                io.console.print(_submitted_table(exc.done))
            raise
    io.console.print(_submitted_table(done))
    return done


def _submitted_table(done: Sequence[Submitted]) -> Table:
    return render.submitted(
        (s.part.number, s.part.list_field, s.part.items, s.answer) for s in done
    )


def _warn_overridden(manifest: Manifest, io: Io) -> None:
    tokens = manifest.overridden() if manifest.operation == "bind" else []
    if tokens:
        io.err.print(
            f"warning: {len(tokens)} token(s) get two accounts of one account_type (first: "
            f"{tokens[0]}); TPNS keeps one account per type, the last listed",
            highlight=False,
        )


# -- job, failures ----------------------------------------------------------------------------


def job(args: argparse.Namespace, io: Io) -> int:
    """A job's state and counts, and its first failures."""
    api = _target(args).api()
    status = JobStatus.of(api.job(args.job_id))
    io.console.print(render.job(status))
    page = api.failures_page(args.job_id, limit=args.limit)
    items = page.get("items", [])
    if items:
        title = f"failures (the first {len(items)})" if page.get("next_cursor") else "failures"
        io.console.print(render.failures(items, title))
        if page.get("next_cursor"):
            io.console.print(f"every failure: {PROG} failures {args.job_id} [--csv]")
    elif status.final:
        io.console.print("no failures")
    return EXIT_OK


def failures(args: argparse.Namespace, io: Io) -> int:
    """Every failure of a job, as a table or as CSV to submit again."""
    api = _target(args).api()
    if args.csv:
        answer = api.job(args.job_id)
        rows = write_failures(io.out, api.failures(args.job_id), answer, args.source)
        io.err.print(f"{rows} row(s) written", highlight=False)
        return EXIT_OK
    items = list(api.failures(args.job_id))
    io.console.print(render.failures(items, f"{len(items)} failure(s) of job {args.job_id}"))
    return EXIT_OK


# -- dlq --------------------------------------------------------------------------------------


def dlq_list(args: argparse.Namespace, io: Io) -> int:
    """The messages in the bulk dead-letter queue (left where they are)."""
    queues = _target(args).queues()
    messages = dlq.peek(queues, args.limit)
    io.console.print(render.dead_letters(messages, "bulk dead-letter queue"))
    io.console.print(f"about {dlq.depth(queues)} message(s) in {queues.dlq_url}", highlight=False)
    return EXIT_OK


def dlq_redrive(args: argparse.Namespace, io: Io) -> int:
    """Move dead-lettered messages back to the bulk queue (after their cause is fixed)."""
    queues = _target(args).queues()
    if args.dry_run:
        messages = dlq.peek(queues, args.max or sys.maxsize)
        io.console.print(render.dead_letters(messages, "would be moved"))
        io.console.print(f"dry run: {len(messages)} message(s) would be moved; none was")
        return EXIT_OK
    result = dlq.redrive(queues, args.max)
    io.console.print(render.redrive(result, queues.dlq_url, queues.queue_url))
    return EXIT_FAILURES if result.not_sent or result.sent_not_deleted else EXIT_OK


# -- arguments --------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog=PROG,
        description="Bulk TPNS binds and unbinds through the bundle's API: submit files as "
        "jobs, watch them, list failures, redrive the dead-letter queue.",
    )
    commands = top.add_subparsers(required=True, metavar="COMMAND")
    api_target, queue_target = _target_options()

    sub = commands.add_parser(
        "submit", parents=[api_target], help="validate a CSV or JSON lines file and submit it"
    )
    sub.add_argument("file", type=Path, metavar="FILE")
    sub.add_argument("--operation", required=True, choices=("bind", "unbind"))
    sub.add_argument("--app", type=_app, help="the secret's app (default: its default app)")
    sub.add_argument("--wait", action="store_true", help="watch the jobs until they are final")
    sub.add_argument(
        "--job-size",
        type=_positive,
        default=DEFAULT_JOB_ITEMS,
        metavar="N",
        help=f"items per job (default {DEFAULT_JOB_ITEMS}; part of the idempotency keys)",
    )
    sub.add_argument("--dry-run", action="store_true", help="validate and plan, submit nothing")
    sub.add_argument(
        "--poll-interval", type=_seconds, default=POLL_INTERVAL_S, metavar="S", help="with --wait"
    )
    sub.add_argument("--timeout", type=_seconds, metavar="S", help="stop waiting after S seconds")
    sub.set_defaults(command=submit)

    sub = commands.add_parser("job", parents=[api_target], help="a job's status and failures")
    sub.add_argument("job_id", type=_job_id, metavar="JOB_ID")
    sub.add_argument("--limit", type=_page, default=JOB_FAILURES_SHOWN, metavar="N")
    sub.set_defaults(command=job)

    sub = commands.add_parser("failures", parents=[api_target], help="every failure of a job")
    sub.add_argument("job_id", type=_job_id, metavar="JOB_ID")
    sub.add_argument("--csv", action="store_true", help="CSV for tpns-bindings submit")
    sub.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="FILE",
        help="the submitted file: a bind's failures name tokens only; it gives their accounts",
    )
    sub.set_defaults(command=failures)

    dead = commands.add_parser("dlq", help="the bulk dead-letter queue").add_subparsers(
        required=True, metavar="ACTION"
    )
    sub = dead.add_parser("list", parents=[queue_target], help="list its messages")
    sub.add_argument("--limit", type=_positive, default=DLQ_LISTED, metavar="N")
    sub.set_defaults(command=dlq_list)
    sub = dead.add_parser(
        "redrive", parents=[queue_target], help="move its messages back to the bulk queue"
    )
    sub.add_argument("--dry-run", action="store_true", help="show what would move; move nothing")
    sub.add_argument("--max", type=_positive, metavar="N", help="move at most N messages")
    sub.set_defaults(command=dlq_redrive)
    return top


def _target_options() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The options naming where requests go: for API commands, and for the queue commands."""
    api = argparse.ArgumentParser(add_help=False)
    group = api.add_argument_group("target (the local stack, or a deployed API)")
    _local_option(group)
    group.add_argument(
        "--api", dest="api_url", metavar="URL", help=f"the API's base URL ({API_URL_ENV})"
    )
    group.add_argument(
        "--api-key", metavar="KEY", help=f"x-api-key instead of SigV4 ({API_KEY_ENV})"
    )
    _aws_options(group)
    queues = argparse.ArgumentParser(add_help=False)
    group = queues.add_argument_group("target (the local stack, or a deployed stack's queues)")
    _local_option(group)
    group.add_argument("--queue-url", metavar="URL", help="the bulk queue")
    group.add_argument("--dlq-url", metavar="URL", help="the bulk dead-letter queue")
    _aws_options(group)
    return api, queues


def _local_option(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--local",
        type=Path,
        metavar="STATE_DIR",
        help="the local stack with this state dir (make run: .local-stack)",
    )


def _aws_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--stack", metavar="NAME", help="a deployed stack: URLs from its outputs")
    group.add_argument("--region", help="AWS region (default: the URL's, or your configuration)")
    group.add_argument("--profile", help="AWS profile for credentials")


def _target(args: argparse.Namespace) -> Target:
    others = ("api_url", "stack", "queue_url", "dlq_url")
    if args.local is not None and any(getattr(args, name, None) for name in others):
        raise TargetError("--local names the local stack: do not also pass --api, --stack or URLs")
    return Target(
        local=args.local,
        api_url=getattr(args, "api_url", None),
        api_key=getattr(args, "api_key", None),
        stack=args.stack,
        region=args.region,
        profile=args.profile,
        queue_url=getattr(args, "queue_url", None),
        dlq_url=getattr(args, "dlq_url", None),
    )


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value!r}")
    return int(value)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {value!r}")
    return seconds


def _page(value: str) -> int:
    number = _positive(value)
    if number > MAX_PAGE:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_PAGE}")
    return number


def _app(value: str) -> str:
    return _name("app", value)


def _job_id(value: str) -> str:
    return _name("job_id", value)


def _name(field: str, value: str) -> str:
    try:
        parsed = contract.parse_name(field, value if value else MISSING)
    except RequestValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if parsed is None:
        raise argparse.ArgumentTypeError(f"{field}: must not be empty")
    return parsed


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
