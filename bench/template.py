"""What the benchmark reads from ``template.yaml``: parameter defaults and where code lives.

The benchmark runs at the template's defaults (QPS, concurrency, memory sizes), so they are read
here rather than copied into the benchmark, where they could drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.servers import ROOT
from local_stack.template import FUNCTION, LAYER, load_yaml

TEMPLATE = ROOT / "template.yaml"


@dataclass(frozen=True)
class Resource:
    logical_id: str
    kind: str
    source: Path  # CodeUri / ContentUri, resolved
    memory: Any  # the function's MemorySize (after Globals), as written; None for a layer


@dataclass(frozen=True)
class Template:
    parameters: dict[str, Any]
    resources: dict[str, Resource]

    @classmethod
    def load(cls, path: Path = TEMPLATE) -> Template:
        document: dict[str, Any] = load_yaml(path)
        function_globals = document.get("Globals", {}).get("Function", {})
        resources: dict[str, Resource] = {}
        for logical_id, body in document["Resources"].items():
            kind = body.get("Type")
            properties = body.get("Properties", {})
            if kind == FUNCTION:
                source, memory = (
                    properties["CodeUri"],
                    properties.get("MemorySize", function_globals.get("MemorySize")),
                )
            elif kind == LAYER:
                source, memory = properties["ContentUri"], None
            else:
                continue
            resources[logical_id] = Resource(logical_id, kind, path.parent / source, memory)
        return cls(document.get("Parameters", {}), resources)

    def default(self, parameter: str) -> float:
        """A numeric parameter's default."""
        return float(self.parameters[parameter]["Default"])

    def memory_mb(self, logical_id: str) -> int:
        """A function's memory at the template's defaults (a number or a parameter's default)."""
        memory = self.resources[logical_id].memory
        if isinstance(memory, dict) and "Ref" in memory:
            return int(self.default(memory["Ref"]))
        return int(memory) if memory is not None else 128  # Lambda's default

    def memory_parameter(self, logical_id: str) -> str | None:
        memory = self.resources[logical_id].memory
        return str(memory["Ref"]) if isinstance(memory, dict) and "Ref" in memory else None
