"""``Value``: a frozen dataclass that costs almost nothing to define.

Why not ``@dataclass(frozen=True, slots=True)``: on CPython 3.11 it compiles six methods (and
rebuilds the class for its slots) when its module is imported, ~0.4 ms a class. An API function
defines about 30 before its first answer: ~13 ms of its cold start, which Lambda runs on every
new instance (``make bench``, "Where the cold start goes").

A ``Value`` subclass is declared like a dataclass (annotated fields, defaults, ``field(...)``)
and mypy checks it as one (PEP 681 ``dataclass_transform``: frozen, the generated ``__init__``,
``__match_args__``, ``field`` typed as ``dataclasses.field``; only ``replace``'s changes go
unchecked). It compiles only its ``__init__``; equality, hashing, ``repr`` and immutability are
this base's, written once for every value class. ``frozen=False`` in the class statement makes a
mutable one (unhashable). Instances keep their fields in a ``__dict__`` (~160 bytes for two
fields against ~57 with slots), so a misspelt attribute is refused by mypy, not at run time.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, dataclass_transform, overload

_MISSING: Any = object()
_T = TypeVar("_T")
#: Names the generated ``__init__`` uses for itself.
_RESERVED = frozenset({"self", "__d", "_MISSING"})


class Field:
    """What ``field()`` declares about one field: its default, whether ``__init__`` takes it,
    and whether repr and equality use it."""

    __slots__ = ("compare", "default", "default_factory", "init", "kw_only", "repr")

    def __init__(
        self,
        default: Any = _MISSING,
        default_factory: Callable[[], Any] | None = None,
        *,
        init: bool = True,
        repr: bool = True,
        compare: bool = True,
    ) -> None:
        if default is not _MISSING and default_factory is not None:
            raise ValueError("a field cannot have both a default and a default_factory")
        if not init and default is _MISSING and default_factory is None:
            raise ValueError("a field left out of __init__ needs a default or a default_factory")
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.compare = compare
        self.kw_only = False  # set by a ``_: KW_ONLY`` marker before it

    @property
    def required(self) -> bool:
        return self.default is _MISSING and self.default_factory is None


@overload
def field(*, default: _T, init: bool = ..., repr: bool = ..., compare: bool = ...) -> _T: ...
@overload
def field(
    *, default_factory: Callable[[], _T], init: bool = ..., repr: bool = ..., compare: bool = ...
) -> _T: ...
@overload
def field(*, init: bool = ..., repr: bool = ..., compare: bool = ...) -> Any: ...
def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | None = None,
    init: bool = True,
    repr: bool = True,
    compare: bool = True,
) -> Any:
    """A field with a default factory, left out of ``__init__``, or of ``repr`` or equality
    (typed as ``dataclasses.field`` is)."""
    return Field(default, default_factory, init=init, repr=repr, compare=compare)


def _marker(annotation: object) -> str:
    """``ClassVar`` or ``KW_ONLY`` if the annotation is one (as text, or the object)."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    name = text.split("[", 1)[0].rsplit(".", 1)[-1] if isinstance(text, str) else ""
    if name in {"ClassVar", "KW_ONLY"}:
        return name
    dataclasses = sys.modules.get("dataclasses")  # only its KW_ONLY: not imported for that
    return "KW_ONLY" if dataclasses and annotation is dataclasses.KW_ONLY else ""


def _own_fields(cls: type) -> dict[str, Field]:
    """The fields ``cls`` declares itself, in order; defaults stay as class attributes (a field
    redeclared without one keeps its base's). Fields after a ``_: KW_ONLY`` marker are
    keyword-only, as in a dataclass."""
    fields: dict[str, Field] = {}
    kw_only = False
    for name, annotation in inspect.get_annotations(cls).items():
        marker = _marker(annotation)
        if marker:
            kw_only = kw_only or marker == "KW_ONLY"
            continue
        if name in _RESERVED:
            raise TypeError(f"{cls.__qualname__}: {name!r} cannot be a field's name")
        value = getattr(cls, name, _MISSING)
        if isinstance(value, Field):
            spec = value
            if spec.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
        else:
            spec = Field(default=value)
        if spec.default is not _MISSING and spec.default.__class__.__hash__ is None:
            raise ValueError(
                f"{cls.__qualname__}.{name}: a mutable default is shared; use a factory"
            )
        spec.kw_only = spec.kw_only or kw_only
        fields[name] = spec
    return fields


def _init(cls: type, fields: dict[str, Field]) -> Callable[..., None]:
    """Compile ``cls.__init__``: one small function, every field stored straight in the
    instance's ``__dict__`` (so it passes the frozen ``__setattr__``)."""
    namespace: dict[str, Any] = {"_MISSING": _MISSING}
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = ["    __d = self.__dict__"]
    for name, spec in fields.items():
        if spec.default_factory is not None:
            namespace[f"_factory_{name}"] = spec.default_factory
            default, value = "_MISSING", f"_factory_{name}() if {name} is _MISSING else {name}"
            if not spec.init:
                value = f"_factory_{name}()"
        elif spec.required:
            default, value = "", name
        else:
            namespace[f"_default_{name}"] = spec.default
            default, value = f"_default_{name}", (name if spec.init else f"_default_{name}")
        body.append(f"    __d[{name!r}] = {value}")
        if not spec.init:
            continue
        params = keyword if spec.kw_only else positional
        if spec.required and params is positional and any("=" in p for p in positional):
            raise TypeError(
                f"{cls.__qualname__}: field {name!r} without a default follows one with"
            )
        params.append(name if spec.required else f"{name}={default}")
    signature = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    source = f"def __init__({signature}):\n" + "\n".join(body) + "\n"
    exec(source, namespace)  # noqa: S102 - our own text, built from identifiers of the class
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


def _fields_of(cls: type[Value]) -> dict[str, Field]:
    """Every field of ``cls``: its Value bases' (in reverse MRO order, as dataclasses collect
    them), then its own, a redeclared one keeping its place."""
    fields: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        fields.update(base.__dict__.get("__value_own__", {}))
    own = _own_fields(cls)
    cls.__value_own__ = own
    return {**fields, **own}


def _frozenness(cls: type, frozen: bool) -> None:
    """Every Value base is frozen, or none is (dataclasses refuse a mix)."""
    for base in cls.__mro__[1:]:
        inherited = base.__dict__.get("__value_frozen__")
        if inherited is not None and inherited != frozen:
            raise TypeError(f"{cls.__qualname__}: frozen and mutable values cannot inherit")


def _key_of(compared: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """What equality and the hash compare: the compared fields as a tuple (built in C)."""
    if len(compared) > 1:
        return attrgetter(*compared)
    if compared:
        one = attrgetter(compared[0])
        return lambda value: (one(value),)
    return lambda value: ()


@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
class Value:
    """Base of the layer's value classes; see the module docstring for why not dataclasses."""

    __slots__ = ()
    __value_fields__: ClassVar[dict[str, Field]] = {}
    __value_own__: ClassVar[dict[str, Field]] = {}
    __value_frozen__: ClassVar[bool | None] = None
    _key: ClassVar[Callable[[Any], tuple[Any, ...]]] = staticmethod(lambda value: ())
    _shown: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, *, frozen: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _frozenness(cls, frozen)
        cls.__value_frozen__ = frozen
        fields = cls.__value_fields__ = _fields_of(cls)
        cls._key = staticmethod(_key_of([n for n, spec in fields.items() if spec.compare]))
        cls._shown = tuple(name for name, spec in fields.items() if spec.repr)
        cls.__match_args__ = tuple(  # type: ignore[attr-defined,misc]
            name for name, spec in fields.items() if spec.init and not spec.kw_only
        )
        own = cls.__dict__  # what the class writes itself wins, as with dataclasses
        if "__init__" not in own:
            cls.__init__ = _init(cls, fields)  # type: ignore[method-assign]
        if not frozen:
            if "__setattr__" not in own:
                cls.__setattr__ = object.__setattr__  # type: ignore[method-assign]
            if "__delattr__" not in own:
                cls.__delattr__ = object.__delattr__  # type: ignore[method-assign]
            if own.get("__hash__") is None:
                cls.__hash__ = None  # type: ignore[assignment]
        elif "__eq__" in own and own.get("__hash__") is None:  # Python's None, not the class's
            cls.__hash__ = Value.__hash__  # type: ignore[method-assign]  # as dataclasses do

    if not TYPE_CHECKING:  # so that mypy still refuses an attribute no class declares

        def __setattr__(self, name: str, value: object) -> None:
            raise AttributeError(f"{self.__class__.__qualname__} is frozen: cannot set {name!r}")

        def __delattr__(self, name: str) -> None:
            raise AttributeError(f"{self.__class__.__qualname__} is frozen: cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Value) and other.__class__ is self.__class__:
            return self.__class__._key(self) == other.__class__._key(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.__class__._key(self))

    def __repr__(self) -> str:
        values = self.__dict__
        shown = ", ".join(f"{name}={values[name]!r}" for name in self._shown)
        return f"{self.__class__.__qualname__}({shown})"


V = TypeVar("V", bound=Value)


def replace(value: V, **changes: Any) -> V:
    """A copy of ``value`` with ``changes``, built through its ``__init__`` as
    ``dataclasses.replace`` does (mypy does not check ``changes``, as it does for that one)."""
    values = value.__dict__
    fields = value.__value_fields__
    for name in changes:
        if name in fields and not fields[name].init:
            raise ValueError(f"{name!r} is not set by __init__: it cannot be replaced")
    kept = {name: values[name] for name, spec in fields.items() if spec.init}
    return value.__class__(**{**kept, **changes})


def asdict(value: Value) -> dict[str, Any]:
    """The fields by name. Shallow, unlike ``dataclasses.asdict``: values are not copied."""
    values = value.__dict__
    return {name: values[name] for name in value.__value_fields__}
