"""A local TPNS account API (batchoperate + query) for tests, the local stack and benchmarks.

    with TpnsEmulator(apps={"1500001048": "secret"}) as emu:
        ...  # call emu.url; inspect emu.bindings(...), emu.stats; inject emu.faults.add(...)

Or as a process: ``python -m tpns_emulator --port 8080 --app 1500001048:SECRET``.
"""

from __future__ import annotations

from tpns_emulator.auth import APP_STATES, basic_authorization, compute_sign
from tpns_emulator.emulator import TpnsEmulator
from tpns_emulator.errors import ConfigError, EmulatorError, LifecycleError, UnknownAppError
from tpns_emulator.faults import FAULT_KINDS, Fault, FaultSet
from tpns_emulator.pipeline import BATCH_PATH, QUERY_PATH
from tpns_emulator.state import OVERRIDE_SCOPES, BindingStore, Mutation, OverrideScope
from tpns_emulator.stats import CallRecord, EmulatorStats

__all__ = [
    "APP_STATES",
    "BATCH_PATH",
    "FAULT_KINDS",
    "OVERRIDE_SCOPES",
    "QUERY_PATH",
    "BindingStore",
    "CallRecord",
    "ConfigError",
    "EmulatorError",
    "EmulatorStats",
    "Fault",
    "FaultSet",
    "LifecycleError",
    "Mutation",
    "OverrideScope",
    "TpnsEmulator",
    "UnknownAppError",
    "basic_authorization",
    "compute_sign",
]
