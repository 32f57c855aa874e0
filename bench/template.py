"""What the benchmark reads from ``template.yaml``: parameter defaults and where code lives.

The benchmark runs at the template's defaults (QPS, concurrency, memory sizes), so they are read
here rather than copied into the benchmark, where they could drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.servers import ROOT

TEMPLATE = ROOT / "template.yaml"
FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags, kept as ``{"Tag": value}``."""


def _tagged(loader: _Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return {suffix: value}


_Loader.add_multi_constructor("!", _tagged)


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
        document: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
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
