"""``tpns_account.values.Value`` behaves as the frozen dataclass it replaces."""

from __future__ import annotations

import copy as copy_module
from dataclasses import KW_ONLY
from typing import Any, ClassVar

import pytest

from tpns_account.values import Value, asdict, field, replace


class Point(Value):
    x: int
    y: int = 0
    label: str = field(default="", compare=False)


class Secret(Value):
    name: str
    key: str = field(repr=False)


class Bag(Value):
    items: list[int] = field(default_factory=list)


class Counter(Value, frozen=False):
    n: int = 0


class Base(Value):
    a: int


class Derived(Base):
    b: str = "b"


class Options(Value):
    name: str
    _: KW_ONLY
    size: int = 1
    strict: bool = False
    seen: set[str] = field(default_factory=set, init=False)
    LIMIT: ClassVar[int] = 3


def test_fields_are_taken_by_position_or_by_name_with_their_defaults() -> None:
    # GIVEN / WHEN a point built by position, and one by name
    by_position = Point(1, 2)
    by_name = Point(x=1)
    # THEN each field holds what was given, or its default
    assert (by_position.x, by_position.y, by_name.y, by_name.label) == (1, 2, 0, "")


def test_a_missing_required_field_is_a_type_error() -> None:
    # GIVEN / WHEN / THEN a point without its x is refused, as a dataclass refuses it
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]


def test_each_instance_gets_its_own_default_from_the_factory() -> None:
    # GIVEN two bags built without items
    first, second = Bag(), Bag()
    # WHEN one of them gains an item
    first.items.append(1)
    # THEN the other is still empty
    assert second.items == []


def test_a_frozen_value_refuses_assignment() -> None:
    # GIVEN a point
    point = Point(1)
    # WHEN its field is assigned, THEN that is refused, naming the field
    with pytest.raises(AttributeError, match="'x'"):
        point.x = 2  # type: ignore[misc]


def test_a_frozen_value_refuses_deletion() -> None:
    # GIVEN a point
    point = Point(1)
    # WHEN its field is deleted, THEN that is refused, naming the field
    with pytest.raises(AttributeError, match="'x'"):
        del point.x


def test_equal_values_are_equal_and_hash_alike_ignoring_uncompared_fields() -> None:
    # GIVEN two points that differ only in their uncompared label
    first, second = Point(1, 2, "a"), Point(1, 2, "b")
    # WHEN / THEN they are equal, with one hash, and a different point is not equal
    assert first == second
    assert hash(first) == hash(second)
    assert first != Point(1, 3)


def test_values_of_different_classes_are_never_equal() -> None:
    # GIVEN a Base and a Derived with the same a
    # WHEN / THEN they are not equal, as dataclasses of two classes are not
    assert Base(1) != Derived(1)


def test_repr_shows_every_field_but_those_left_out_of_it() -> None:
    # GIVEN a secret
    secret = Secret("app", "s3cr3t")
    # WHEN it is shown
    shown = repr(secret)
    # THEN its name is there and its key is not
    assert shown == "Secret(name='app')"


def test_a_mutable_value_can_be_assigned_and_cannot_be_hashed() -> None:
    # GIVEN a mutable counter
    counter = Counter()
    # WHEN its field is assigned
    counter.n = 5
    # THEN it holds the new value, and it has no hash (its value may change)
    assert counter == Counter(5)
    with pytest.raises(TypeError):
        hash(counter)


def test_a_subclass_takes_its_base_fields_first() -> None:
    # GIVEN / WHEN a derived value built by position
    derived = Derived(1, "x")
    # THEN the base's field comes first
    assert (derived.a, derived.b) == (1, "x")
    assert repr(derived) == "Derived(a=1, b='x')"


def test_fields_after_kw_only_are_keyword_only() -> None:
    # GIVEN / WHEN options given by name after the marker
    options = Options("n", size=2)
    # THEN they are set; given by position, they are refused
    assert (options.name, options.size, options.strict) == ("n", 2, False)
    with pytest.raises(TypeError):
        Options("n", 2)  # type: ignore[call-arg]


def test_a_field_left_out_of_init_comes_from_its_factory_and_cannot_be_given() -> None:
    # GIVEN / WHEN options built twice
    first, second = Options("a"), Options("b")
    # THEN each has its own set, and passing one is refused
    assert first.seen == set() and first.seen is not second.seen
    with pytest.raises(TypeError):
        Options("c", seen={"x"})  # type: ignore[call-arg]


def test_a_class_var_is_not_a_field() -> None:
    # GIVEN / WHEN / THEN the class constant is not among the shown fields
    assert "LIMIT" not in repr(Options("n"))
    assert Options.LIMIT == 3


def test_a_required_field_after_a_defaulted_one_is_refused_when_the_class_is_defined() -> None:
    # GIVEN / WHEN a class whose required field follows a defaulted one, THEN it is refused
    with pytest.raises(TypeError, match="'b'"):

        class Wrong(Value):
            a: int = 0
            b: int  # type: ignore[misc]


def test_a_mutable_default_is_refused_when_the_class_is_defined() -> None:
    # GIVEN / WHEN a class with a list as a default, THEN it is refused (it would be shared)
    with pytest.raises(ValueError, match="factory"):

        class Shared(Value):
            items: list[int] = []


def test_replace_builds_a_new_value_through_init() -> None:
    # GIVEN a point
    point = Point(1, 2, "a")
    # WHEN its y is replaced
    moved = replace(point, y=5)
    # THEN the copy has the new y and the rest, and the original is unchanged
    assert (moved.x, moved.y, moved.label, point.y) == (1, 5, "a", 2)


def test_asdict_lists_every_field_by_name() -> None:
    # GIVEN / WHEN / THEN a point's fields, by name, hidden and uncompared ones included
    assert asdict(Point(1, 2, "a")) == {"x": 1, "y": 2, "label": "a"}


def test_a_deep_copy_is_an_equal_frozen_value() -> None:
    # GIVEN a point
    point = Point(1, 2, "a")
    # WHEN it is deep-copied (copy and pickle rebuild it without __init__)
    copy: Any = copy_module.deepcopy(point)
    # THEN it is an equal, still frozen point
    assert copy == point and copy.label == "a"
    with pytest.raises(AttributeError):
        copy.x = 3


def test_a_frozen_value_cannot_inherit_from_a_mutable_one() -> None:
    # GIVEN / WHEN a frozen subclass of the mutable counter, THEN it is refused, as dataclasses
    # refuse it (it would be hashable, yet assignable through its base)
    with pytest.raises(TypeError, match="cannot inherit"):

        class Frozen(Counter):  # type: ignore[misc]
            pass


def test_a_value_matches_a_class_pattern_by_position() -> None:
    # GIVEN a point
    point = Point(1, 2)
    # WHEN it is matched against a positional class pattern
    match point:
        case Point(x, y):
            matched = (x, y)
    # THEN its positional fields are bound in order
    assert matched == (1, 2)


def test_a_field_redeclared_uncompared_leaves_equality_to_the_others() -> None:
    # GIVEN a subclass that takes its only field out of equality
    class Loose(Base):
        a: int = field(default=0, compare=False)

    # WHEN / THEN two of them with different values are equal
    assert Loose(1) == Loose(2)


def test_fields_of_every_value_base_are_collected() -> None:
    # GIVEN a value with two value bases
    class Left(Value):
        left: int = 0

    class Right(Value):
        right: int = 0

    class Both(Left, Right):
        both: int = 0

    # WHEN / THEN it has all three fields, in the order dataclasses give them
    assert list(asdict(Both(1, 2, 3)).items()) == [("right", 1), ("left", 2), ("both", 3)]


def test_a_field_named_as_the_generated_init_names_its_own_locals_is_refused() -> None:
    # GIVEN / WHEN a class with a field called self, THEN it is refused at definition
    with pytest.raises(TypeError, match="'self'"):

        class Odd(Value):
            self: int


def test_a_field_left_out_of_init_cannot_be_replaced() -> None:
    # GIVEN options, whose seen set is not taken by __init__
    options = Options("n")
    # WHEN / THEN replacing it is refused, as dataclasses.replace refuses it
    with pytest.raises(ValueError, match="seen"):
        replace(options, seen={"x"})


def test_a_single_compared_field_that_is_nan_equals_itself() -> None:
    # GIVEN a value whose one field is NaN
    class Measure(Value):
        value: float

    nan = float("nan")
    # WHEN / THEN it equals itself, as a dataclass (comparing tuples) does
    assert Measure(nan) == Measure(nan)


def test_a_frozen_value_that_writes_its_own_eq_still_hashes_by_its_fields() -> None:
    # GIVEN a frozen value with its own equality (Python would leave it without a hash)
    class Named(Value):
        name: str

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Named) and other.name.lower() == self.name.lower()

    # WHEN / THEN it hashes by its fields, as a frozen dataclass does
    assert hash(Named("a")) == hash(Named("a"))


def test_a_field_with_both_a_default_and_a_factory_is_refused() -> None:
    # GIVEN / WHEN / THEN a field given both is refused, as dataclasses refuse it
    with pytest.raises(ValueError, match="both"):
        field(default=0, default_factory=int)  # type: ignore[call-overload]


def test_a_field_left_out_of_init_without_a_default_is_refused() -> None:
    # GIVEN / WHEN / THEN such a field could never be set: it is refused
    with pytest.raises(ValueError, match="needs a default"):
        field(init=False)


def test_annotations_given_as_objects_mark_kw_only_and_class_vars_too() -> None:
    # GIVEN a class whose annotations are objects, not text (a module without
    # ``from __future__ import annotations``)
    annotations = {"name": str, "_": KW_ONLY, "size": int, "LIMIT": ClassVar[int]}
    built_class: Any = type(
        "Built", (Value,), {"__annotations__": annotations, "size": 1, "LIMIT": 3}
    )
    # WHEN it is built by name
    built = built_class("n", size=2)
    # THEN size is keyword-only and LIMIT is no field
    assert repr(built) == "Built(name='n', size=2)"
    with pytest.raises(TypeError):
        built_class("n", 2)
