"""Read ``template.yaml`` into what the local stack runs: functions, routes, queues, schedules.

Only what running locally needs is interpreted: parameters (defaults or overrides), conditions,
the intrinsic functions the template uses (``Ref``, ``GetAtt``, ``Sub``, ``If``, ``Equals``,
``Not``, ``And``, ``Or``, ``Select``, ``Split``, ``Join``), ``Globals.Function`` merged into each
function, and the ``Api``, ``SQS`` and ``ScheduleV2`` events. Anything else is left alone, so a
template feature the local stack does not know cannot silently change its wiring: it fails loudly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"

# Parameters the template leaves without a default, given a local value.
LOCAL_PARAMETER_DEFAULTS = {"TpnsSecretId": "tpns-local/credentials"}


class TemplateError(Exception):
    """The template asks for something the local stack cannot wire (or is malformed)."""


class _NoValue:
    """``AWS::NoValue``: the property or list element is dropped."""


NO_VALUE = _NoValue()


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (``!Ref X`` → ``{"Ref": "X"}``)."""


def _intrinsic(loader: _Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _intrinsic)


def load_yaml(path: Path) -> Any:
    """A CloudFormation template file as data, its short-form tags in their long form."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - SafeLoader subclass


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    function: str
    # Its API's MinimumCompressionSize: answers of at least this many bytes are compressed.
    minimum_compression_size: int | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        """The path template as a regex over the raw request path (``{x}`` one segment)."""
        parts = re.split(r"(\{[^}]+\})", self.path)
        regex = ""
        for part in parts:
            if part.startswith("{") and part.endswith("+}"):
                regex += f"(?P<{part[1:-2]}>.+)"
            elif part.startswith("{"):
                regex += f"(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += re.escape(part)
        return re.compile(regex)


@dataclass(frozen=True)
class SqsSource:
    function: str
    queue: str
    batch_size: int
    batching_window_s: float
    report_batch_item_failures: bool
    max_concurrency: int | None = None


@dataclass(frozen=True)
class Schedule:
    function: str
    event: str
    expression: str
    timezone: str
    input: str


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    timeout_s: float
    memory_mb: int
    layer_dirs: tuple[Path, ...]
    environment: dict[str, str] = field(default_factory=dict)


@dataclass
class Physical:
    """What the local stack created for each resource: ``Ref`` values and ``GetAtt`` values."""

    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)


class Template:
    """One template, its parameters resolved (defaults, local defaults, then overrides).

    ``overrides`` are checked against the parameters' constraints, as a deploy would check them;
    ``local_overrides`` (the local stack's own endpoints) are not.
    """

    def __init__(
        self,
        path: Path,
        overrides: Mapping[str, str] | None = None,
        *,
        local_overrides: Mapping[str, str] | None = None,
        stack_name: str = "tpns-local",
        region: str = "us-east-1",
        account_id: str = "123456789012",
    ) -> None:
        self.path = path.resolve()
        self.root = self.path.parent
        try:
            document = load_yaml(self.path)
        except (OSError, yaml.YAMLError) as exc:
            raise TemplateError(f"cannot read {path}: {exc}") from exc
        if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
            raise TemplateError(f"{path}: not a CloudFormation template (no Resources)")
        self.document: dict[str, Any] = document
        self.pseudo = {
            "AWS::StackName": stack_name,
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.resources: dict[str, dict[str, Any]] = document["Resources"]
        self.parameters = self._parameters(dict(overrides or {}))
        self.parameters |= local_overrides or {}
        self.conditions: dict[str, bool] = {}
        for name in document.get("Conditions", {}):
            self.conditions[name] = self._condition(name)
        self.resources = {  # as deployed: a resource whose condition is false does not exist
            logical_id: resource
            for logical_id, resource in self.resources.items()
            if "Condition" not in resource or self._condition(resource["Condition"])
        }

    # -------------------------------------------------------------- parameters and conditions

    def _parameters(self, overrides: dict[str, str]) -> dict[str, str]:
        declared: dict[str, Any] = self.document.get("Parameters", {})
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise TemplateError(f"unknown parameter(s): {', '.join(unknown)}")
        values: dict[str, str] = {}
        for name, spec in declared.items():
            if name in overrides:
                values[name] = _checked(name, spec, overrides[name])
            elif "Default" in spec:
                values[name] = str(spec["Default"])
            elif name in LOCAL_PARAMETER_DEFAULTS:
                values[name] = LOCAL_PARAMETER_DEFAULTS[name]
            else:
                raise TemplateError(f"parameter {name} has no default: pass {name}=VALUE")
        return values

    def _condition(self, name: str) -> bool:
        if name not in self.conditions:
            spec = self.document.get("Conditions", {}).get(name)
            if spec is None:
                raise TemplateError(f"unknown condition {name}")
            self.conditions[name] = bool(self.resolve(spec, Physical()))
        return self.conditions[name]

    # -------------------------------------------------------------- intrinsic functions

    def resolve(self, value: Any, physical: Physical) -> Any:
        """``value`` with every intrinsic function evaluated (``NO_VALUE`` entries dropped)."""
        if isinstance(value, list):
            items = [self.resolve(v, physical) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            function = _FUNCTIONS.get(key)
            if function is not None:
                return function(self, arg, physical)
        resolved = {k: self.resolve(v, physical) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _ref(self, name: str, physical: Physical) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in physical.refs:
            return physical.refs[name]
        if name in self.resources:
            return f"{self.pseudo['AWS::StackName']}-{name}"
        raise TemplateError(f"Ref to unknown name {name}")

    def _get_att(self, arg: list[str], physical: Physical) -> str:
        logical_id, attribute = arg
        if (logical_id, attribute) in physical.attributes:
            return physical.attributes[(logical_id, attribute)]
        if logical_id not in self.resources:
            raise TemplateError(f"GetAtt of unknown resource {logical_id}")
        return f"{self.pseudo['AWS::StackName']}-{logical_id}-{attribute}"

    def _sub(self, arg: str | list[Any], physical: Physical) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        values = {k: self.resolve(v, physical) for k, v in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                return self._get_att(name.split(".", 1), physical)
            return str(self._ref(name, physical))

        return re.sub(r"\$\{([^}]+)\}", substitute, text)

    def _if(self, arg: list[Any], physical: Physical) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self._condition(name) else when_false, physical)


def _checked(name: str, spec: dict[str, Any], value: str) -> str:
    """``value`` if it meets the parameter's constraints, as CloudFormation checks them."""
    problem = None
    allowed = [str(v) for v in spec.get("AllowedValues", [])]
    if allowed and value not in allowed:
        problem = f"must be one of {', '.join(allowed)}"
    elif "AllowedPattern" in spec and not re.fullmatch(str(spec["AllowedPattern"]), value):
        problem = f"must match {spec['AllowedPattern']}"
    elif not int(spec.get("MinLength", 0)) <= len(value) <= int(spec.get("MaxLength", 1 << 20)):
        problem = "has the wrong length"
    elif spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            problem = "must be a number"
        else:
            if "MinValue" in spec and number < float(spec["MinValue"]):
                problem = f"must be at least {spec['MinValue']}"
            elif "MaxValue" in spec and number > float(spec["MaxValue"]):
                problem = f"must be at most {spec['MaxValue']}"
    if problem:
        raise TemplateError(f"parameter {name}={value!r} {problem}")
    return value


_Intrinsic = Callable[[Template, Any, Physical], Any]
_FUNCTIONS: dict[str, _Intrinsic] = {
    "Ref": lambda t, a, p: t._ref(a, p),
    "Fn::GetAtt": lambda t, a, p: t._get_att(a, p),
    "Fn::Sub": lambda t, a, p: t._sub(a, p),
    "Fn::If": lambda t, a, p: t._if(a, p),
    "Condition": lambda t, a, p: t._condition(a),
    "Fn::Equals": lambda t, a, p: str(t.resolve(a[0], p)) == str(t.resolve(a[1], p)),
    "Fn::Not": lambda t, a, p: not t.resolve(a[0], p),
    "Fn::And": lambda t, a, p: all(t.resolve(c, p) for c in a),
    "Fn::Or": lambda t, a, p: any(t.resolve(c, p) for c in a),
    "Fn::Select": lambda t, a, p: t.resolve(a[1], p)[int(t.resolve(a[0], p))],
    "Fn::Split": lambda t, a, p: str(t.resolve(a[1], p)).split(a[0]),
    "Fn::Join": lambda t, a, p: a[0].join(str(v) for v in t.resolve(a[1], p)),
}


@dataclass
class Wiring:
    """Everything the local stack starts, as the template declares it."""

    functions: dict[str, FunctionSpec]
    routes: list[ApiRoute]
    sqs_sources: list[SqsSource]
    schedules: list[Schedule]


def number(value: Any, what: str) -> float:
    """A template value that must be a number (a ``TemplateError`` otherwise)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TemplateError(f"{what}: expected a number, got {value!r}") from None


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(number(value, "MaximumConcurrency"))


def wire(template: Template, physical: Physical) -> Wiring:
    """Functions (environment resolved against what was created), routes, sources, schedules."""
    raw_globals = template.document.get("Globals", {}).get("Function", {})
    globals_ = template.resolve(raw_globals, physical)
    functions: dict[str, FunctionSpec] = {}
    routes: list[ApiRoute] = []
    sources: list[SqsSource] = []
    schedules: list[Schedule] = []
    for logical_id, resource in template.resources.items():
        if resource.get("Type") != FUNCTION:
            continue
        raw_properties = resource.get("Properties", {})
        properties = template.resolve(
            {k: v for k, v in raw_properties.items() if k != "Events"}, physical
        )
        merged = {**globals_, **properties}
        environment = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **properties.get("Environment", {}).get("Variables", {}),
        }
        code_uri = merged.get("CodeUri")
        if not isinstance(code_uri, str):
            raise TemplateError(f"{logical_id}: CodeUri must be a local directory")
        functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=(template.root / code_uri).resolve(),
            handler=str(merged.get("Handler", "")),
            timeout_s=number(merged.get("Timeout", 3), f"{logical_id}.Timeout"),
            memory_mb=int(number(merged.get("MemorySize", 128), f"{logical_id}.MemorySize")),
            # SAM appends a function's layers to the global ones.
            layer_dirs=_layer_dirs(
                template, [*raw_globals.get("Layers", []), *raw_properties.get("Layers", [])]
            ),
            environment={k: str(v) for k, v in environment.items()},
        )
        for event_name, event in raw_properties.get("Events", {}).items():
            kind = event.get("Type")
            spec = event.get("Properties", {})
            if kind == "Api":
                routes.append(
                    ApiRoute(
                        str(template.resolve(spec["Method"], physical)).upper(),
                        str(template.resolve(spec["Path"], physical)),
                        logical_id,
                        _minimum_compression_size(template, spec.get("RestApiId"), physical),
                    )
                )
            elif kind == "SQS":
                queue = spec.get("Queue", {})
                if not (isinstance(queue, dict) and "Fn::GetAtt" in queue):
                    raise TemplateError(f"{logical_id}.{event_name}: Queue must be !GetAtt Q.Arn")
                resolved = template.resolve(spec, physical)
                sources.append(
                    SqsSource(
                        function=logical_id,
                        queue=queue["Fn::GetAtt"][0],
                        batch_size=int(number(resolved.get("BatchSize", 10), "BatchSize")),
                        batching_window_s=number(
                            resolved.get("MaximumBatchingWindowInSeconds", 0), "BatchingWindow"
                        ),
                        report_batch_item_failures="ReportBatchItemFailures"
                        in resolved.get("FunctionResponseTypes", []),
                        max_concurrency=_optional_int(
                            resolved.get("ScalingConfig", {}).get("MaximumConcurrency")
                        ),
                    )
                )
            elif kind in ("ScheduleV2", "Schedule"):
                resolved = template.resolve(spec, physical)
                schedules.append(
                    Schedule(
                        function=logical_id,
                        event=event_name,
                        expression=str(
                            resolved.get("ScheduleExpression", resolved.get("Schedule"))
                        ),
                        timezone=str(resolved.get("ScheduleExpressionTimezone", "UTC")),
                        input=str(resolved.get("Input", "{}")),
                    )
                )
            else:
                raise TemplateError(f"{logical_id}.{event_name}: event type {kind} is not wired")
    return Wiring(functions, routes, sources, schedules)


def _minimum_compression_size(template: Template, api: Any, physical: Physical) -> int | None:
    """An Api event's ``!Ref``-ed API's MinimumCompressionSize (none for SAM's implicit API)."""
    name = api.get("Ref") if isinstance(api, dict) else None
    properties = template.resources.get(name or "", {}).get("Properties", {})
    size = template.resolve(properties.get("MinimumCompressionSize"), physical)
    if size is None or size is NO_VALUE:
        return None
    return int(number(size, f"{name}.MinimumCompressionSize"))


def _layer_dirs(template: Template, layers: Any) -> tuple[Path, ...]:
    """Layers given as ``!Ref`` to layers of this template → their ContentUri directories."""
    dirs = []
    for layer in layers or []:
        name = layer.get("Ref") if isinstance(layer, dict) else None
        resource = template.resources.get(name or "")
        if not resource or resource.get("Type") != LAYER:
            raise TemplateError(f"layer {layer!r} is not !Ref to a layer of this template")
        dirs.append((template.root / str(resource["Properties"]["ContentUri"])).resolve())
    return tuple(dirs)
