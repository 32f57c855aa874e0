"""Everything the CLI shows, as rich renderables (tables, bars): one look for every command.

Renderables are built from plain data, so tests render them to a captured ``Console`` and
read the text.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from rich import box
from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from tpns_cli.dlq import DeadLetter, Redrive
from tpns_cli.jobs import SETTLED, VERIFICATION, JobStatus
from tpns_cli.manifest import BadLine

STATE_STYLES: Final = {
    "queued": "cyan",
    "running": "yellow",
    "succeeded": "green",
    "completed_with_failures": "magenta",
    "failed": "red",
}
COUNT_STYLES: Final = {
    "accepted": "green",
    "failed": "red",
    "dead_lettered": "red",
    "superseded": "blue",
    "pending": "yellow",
    "verified": "green",
    "unverified": "red",
}
MAX_BAD_LINES_SHOWN: Final = 50
BAR_WIDTH: Final = 12


def heading(name: str) -> str:
    return name.replace("_", "-")


#: Column headings of the summary, on two lines where a word is long (narrow terminals).
HEADINGS: Final = {"dead_lettered": "dead-\nlettered", "superseded": "super-\nseded"}


def state_text(state: str) -> Text:
    """A job state, with spaces so that a narrow column wraps it (completed with failures)."""
    return Text(state.replace("_", " "), style=STATE_STYLES.get(state, ""))


def bad_lines(bad: Sequence[BadLine], name: str, limit: int = MAX_BAD_LINES_SHOWN) -> Table:
    """The lines that will not be sent, with their numbers and reasons."""
    table = _table(f"{len(bad)} bad line(s) in {name}, not submitted")
    table.add_column("line", justify="right", style="bold")
    table.add_column("reason", overflow="fold")
    for entry in bad[:limit]:
        table.add_row(str(entry.line), entry.reason)
    if len(bad) > limit:
        table.caption = f"... and {len(bad) - limit} more"
    return table


def submitted(rows: Iterable[tuple[int, str, int, Mapping[str, Any]]]) -> Table:
    """One row per part: its list field, items, the job it became, replayed or new."""
    table = _table("jobs")
    table.add_column("part", justify="right")
    table.add_column("list")
    table.add_column("items", justify="right")
    table.add_column("job", overflow="fold")
    table.add_column("queued")
    for number, list_field, items, answer in rows:
        replayed = bool(answer.get("replayed"))
        table.add_row(
            str(number),
            list_field,
            str(items),
            str(answer.get("job_id")),
            Text("no: replayed", style="blue") if replayed else Text("yes", style="green"),
        )
    return table


def progress(rows: Sequence[tuple[str, JobStatus]]) -> RenderableType:
    """The live view while waiting: per job (part of the file), a bar and a count per state."""
    verifying = any(status.verifying for _, status in rows)
    table = _table("waiting for the jobs")
    table.add_column("part", justify="right")
    table.add_column("state", no_wrap=True)
    table.add_column("settled", min_width=BAR_WIDTH, no_wrap=True)
    table.add_column("", justify="right", no_wrap=True)
    table.add_column("items by state")
    for label, status in rows:
        total = status.total or 0
        style = "red" if status.failures else "green"
        bar = ProgressBar(
            total=max(total, 1),
            completed=status.settled if total else 0,
            width=BAR_WIDTH,
            complete_style=style,
            finished_style=style,
        )
        counts = Text(" ").join(
            Text.assemble((f"{heading(name)} ", "dim"), (_count(status, name), COUNT_STYLES[name]))
            for name in _count_names(verifying)
        )
        table.add_row(
            label,
            state_text(status.state),
            bar,
            f"{status.settled}/{'?' if status.total is None else total}",
            counts,
        )
    return table


def summary(rows: Sequence[tuple[str, JobStatus]]) -> Table:
    """Every job's final counts, and their totals (the jobs' ids are in the table above)."""
    verifying = any(status.verifying for _, status in rows)
    names = ["total", *SETTLED, *(VERIFICATION if verifying else ())]
    table = _table("summary")
    table.show_footer = len(rows) > 1
    table.add_column("part", justify="right", footer="all", min_width=4)
    table.add_column("state")
    for name in names:
        if name == "total":
            footer = str(sum(status.total or 0 for _, status in rows))
        else:
            footer = str(sum(status.count(name) for _, status in rows))
        table.add_column(
            HEADINGS.get(name, heading(name)),
            justify="right",
            style=COUNT_STYLES.get(name, ""),
            footer=footer,
            no_wrap=True,
        )
    for label, status in rows:
        values = [
            str(status.total) if name == "total" else str(status.count(name)) for name in names
        ]
        table.add_row(label, state_text(status.state), *values)
    return table


def job(status: JobStatus) -> RenderableType:
    """``tpns-bindings job ID``: what the job is, where it stands, and its counts."""
    answer = status.answer
    about = Table.grid(padding=(0, 2))
    about.add_column(style="bold")
    about.add_column()
    about.add_row("job", status.job_id)
    about.add_row("state", state_text(status.state))
    for name in ("operation", "operator_type", "app", "source"):
        about.add_row(name, str(answer.get(name) or ("(default)" if name == "app" else "-")))
    for name in ("created_at", "updated_at", "finished_at"):
        about.add_row(name, str(answer.get(name) or "-"))
    messages = status.messages
    about.add_row("messages", f"{messages.get('done')}/{messages.get('total')} done")
    counts = _table("items")
    names = ["total", *SETTLED, "pending", *VERIFICATION]
    for name in names:
        counts.add_column(heading(name), justify="right", style=COUNT_STYLES.get(name, ""))
    counts.add_row(*(str(status.items.get(name)) for name in names))
    return Group(about, counts)


def failures(items: Sequence[Mapping[str, Any]], title: str) -> Table:
    """Failed items: index in the job, token or account, outcome, TPNS's code and reason."""
    table = _table(title)
    table.add_column("index", justify="right")
    table.add_column("token / account", overflow="fold")
    table.add_column("type", justify="right")
    table.add_column("outcome")
    table.add_column("code", justify="right")
    table.add_column("reason", overflow="fold")
    for item in items:
        who = item.get("token") if item.get("token") is not None else item.get("account")
        account_type = item.get("account_type")
        table.add_row(
            str(item.get("index")),
            str(who),
            "" if account_type is None else str(account_type),
            Text(str(item.get("outcome")), style="red"),
            "" if item.get("code") is None else str(item.get("code")),
            str(item.get("reason") or ""),
        )
    return table


def _table(title: str) -> Table:
    """A table in the CLI's look: compact (narrow terminals), title on the left."""
    return Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
    )


def _count_names(verifying: bool) -> list[str]:
    return [*SETTLED, "pending", *(VERIFICATION if verifying else ())]


def _count(status: JobStatus, name: str) -> str:
    value = status.items.get(name)
    return "?" if value is None else str(value)


def dead_letters(messages: Sequence[DeadLetter], title: str) -> Table:
    """DLQ messages: when sent, the job and items they carry, deliveries, and why."""
    table = _table(f"{title}: {len(messages)} message(s)")
    table.add_column("sent (UTC)")
    table.add_column("job", overflow="fold")
    table.add_column("operation")
    table.add_column("items", justify="right")
    table.add_column("deliveries", justify="right")
    table.add_column("reason", overflow="fold", ratio=1)
    for message in messages:
        about = message.summary()
        sent = message.sent_at_ms
        table.add_row(
            "-" if sent is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(sent / 1000)),
            str(about.get("job_id") or "-"),
            str(about.get("operation") or "-"),
            "-" if about.get("items") is None else str(about["items"]),
            message.deliveries or "-",
            message.reason or "-",
        )
    return table


def redrive(result: Redrive, dlq_url: str, queue_url: str) -> Table:
    """What a redrive did, in counts."""
    table = _table(f"redrive {dlq_url} -> {queue_url}")
    table.add_column("moved", justify="right", style="green")
    table.add_column("not sent (still in the DLQ)", justify="right", style="red")
    table.add_column("sent, not deleted (will come again)", justify="right", style="yellow")
    table.add_column("left in the DLQ", justify="right")
    table.add_row(
        str(result.moved), str(result.not_sent), str(result.sent_not_deleted), str(result.left)
    )
    return table
