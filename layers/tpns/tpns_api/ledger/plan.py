"""What to send for an operation: the calls (``Send``), the items the ledger superseded, and
what verification will check (``Target``).

The ledger's ``Planner`` (``tpns_api.ledger.planner``) makes a ``Plan`` from what it records;
with ``LedgerMode`` off the operation goes as it is (``tpns_api.sending.passthrough``). Every
sync call and bulk message uses these types, so this module imports none of the ledger's
DynamoDB code.
"""

from __future__ import annotations

from typing import Literal

from tpns_account import BatchOperation
from tpns_account.values import Value, field, replace

TargetKind = Literal["token", "account"]


class Target(Value):
    """What verification checks for one item: a token's accounts, or an account's tokens."""

    kind: TargetKind
    key: str
    account_type: int = 0
    index: int = 0  # the item's index in the operation


class Send(Value):
    """One call to make; ``origins[i]`` is the index of the item that ``items[i]`` serves."""

    operation: BatchOperation
    origins: tuple[int, ...]


class Plan(Value, frozen=False):
    sends: list[Send] = field(default_factory=list)
    superseded: set[int] = field(default_factory=set)
    targets: list[Target] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # about the operation as it came

    def shifted(self, start: int) -> Plan:
        """This plan of the slice of an operation that starts at ``start``, indexed in the
        whole operation."""
        return Plan(
            [Send(s.operation, tuple(i + start for i in s.origins)) for s in self.sends],
            {i + start for i in self.superseded},
            [replace(t, index=t.index + start) for t in self.targets],
            list(self.warnings),
        )
