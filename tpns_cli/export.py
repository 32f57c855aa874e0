"""A job's failures as CSV that ``tpns-bindings submit`` takes back.

Columns ``token,account,account_type`` (what submit reads) then ``index,outcome,code,reason``
(which submit ignores). A token or account unbind's failures name their items fully. A
``token_accounts`` job's (a bind, or an unbind of listed accounts) name only the token: the
accounts come from the file that was submitted (``--from FILE``), never guessed, since a
token-only row would mean "unbind every account of the token".
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, TextIO

from tpns_api.http.contract import Operation
from tpns_cli.errors import InputError
from tpns_cli.manifest import read_manifest

COLUMNS: Final = ("token", "account", "account_type", "index", "outcome", "code", "reason")
TOKEN_ACCOUNTS_TYPES: Final = frozenset({1, 2, 3})


def write_failures(
    out: TextIO,
    failures: Iterable[Mapping[str, Any]],
    job: Mapping[str, Any],
    source: Path | None = None,
) -> int:
    """Write the CSV of ``job``'s failures; the number of rows written."""
    accounts: dict[str, list[dict[str, Any]]] | None = None
    if job.get("operator_type") in TOKEN_ACCOUNTS_TYPES:
        if source is None:
            raise InputError(
                f"job {job.get('job_id')} is a {job.get('operation')} of tokens' accounts: its "
                "failures name the tokens only; pass --from FILE (the file you submitted) to "
                "write them with their accounts"
            )
        accounts = _accounts_by_token(source, str(job.get("operation")))
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = 0
    for failure in failures:
        tail = [failure.get(name) for name in ("index", "outcome", "code", "reason")]
        for head in _heads(failure, accounts):
            writer.writerow([_cell(value) for value in (*head, *tail)])
            rows += 1
    return rows


def _heads(
    failure: Mapping[str, Any], accounts: dict[str, list[dict[str, Any]]] | None
) -> list[tuple[Any, Any, Any]]:
    """The ``token, account, account_type`` cells of one failure (one row per account)."""
    token = failure.get("token")
    if token is None:
        return [(None, failure.get("account"), failure.get("account_type"))]
    if accounts is None:
        return [(token, None, None)]
    listed = accounts.get(str(token))
    if not listed:
        raise InputError(f"token {token!r} failed in the job but is not in the --from file")
    return [(token, a["account"], a.get("account_type")) for a in listed]


def _accounts_by_token(source: Path, operation: str) -> dict[str, list[dict[str, Any]]]:
    op: Operation = "bind" if operation == "bind" else "unbind"
    manifest = read_manifest(source, op)
    return {entry["token"]: entry["account_list"] for entry in manifest.items("token_accounts")}


def _cell(value: Any) -> str:
    """One cell, on one line (submit reads a line per row)."""
    return "" if value is None else " ".join(str(value).splitlines())
