"""quick_init: the same construction as a frozen dataclass's own __init__, only faster."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from dataclasses import InitVar, dataclass, field
from typing import Any

import pytest

from vpcaudit.inventory.models import RouteTable, Vpc
from vpcaudit.model import Finding, ResourceRef, Violation
from vpcaudit.quickinit import quick_init


def _pair(**params: Any) -> tuple[type[Any], type[Any]]:
    """The same class twice: as dataclasses made it, and with quick_init."""

    def make() -> type[Any]:
        @dataclass(**params)
        class Model:
            name: str
            count: int
            tags: tuple[str, ...] = ()
            extra: dict[str, Any] = field(default_factory=dict)
            note: str | None = None

        return Model

    return make(), quick_init(make())


@pytest.mark.parametrize("slots", [True, False])
def test_objects_equal_the_dataclass_own_for_every_way_of_calling(slots: bool) -> None:
    plain, quick = _pair(frozen=True, slots=slots)
    assert quick.__init__ is not plain.__init__
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        (("a", 1), {}),
        (("a", 1, ("t",)), {}),
        (("a",), {"count": 2, "note": "n"}),
        ((), {"name": "b", "count": 3, "extra": {"k": 1}, "tags": ("x", "y")}),
    ]
    for args, kwargs in calls:
        want, got = plain(*args, **kwargs), quick(*args, **kwargs)
        assert dataclasses.astuple(got) == dataclasses.astuple(want)
        assert repr(got).split("(", 1)[1] == repr(want).split("(", 1)[1]
    assert quick("a", 1).extra is not quick("a", 1).extra, "a factory's value per object"
    assert str(inspect.signature(quick)) == str(inspect.signature(plain))


@pytest.mark.parametrize("slots", [True, False])
def test_the_same_errors_and_still_frozen(slots: bool) -> None:
    plain, quick = _pair(frozen=True, slots=slots)
    for cls in (plain, quick):
        with pytest.raises(TypeError, match="count"):
            cls("a")
        with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
            cls("a", 1, colour="red")
        with pytest.raises(TypeError, match="multiple values for argument 'name'"):
            cls("a", 1, name="b")
        obj = cls("a", 1)
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.name = "b"
        assert dataclasses.replace(obj, count=5).count == 5


def test_models_and_findings_are_quick_and_round_trip() -> None:
    for cls in (Vpc, RouteTable, ResourceRef, Violation, Finding):
        # A frozen dataclass's own __init__ stores through object.__setattr__.
        assert "__setattr__" not in cls.__init__.__code__.co_names, cls
    ref = ResourceRef("1", "eu-west-1", "vpc", "vpc-1", "arn:aws:ec2:eu-west-1:1:vpc/vpc-1")
    v = Violation(ref, "m", remediation="r")
    assert v.evidence == {} and v.severity is None and v.discriminator == ""
    assert pickle.loads(pickle.dumps(v)) == v  # noqa: S301 - our own bytes
    vpc = Vpc("1", "eu-west-1", "vpc-1", "1", (), False, {})
    assert pickle.loads(pickle.dumps(vpc)) == vpc  # noqa: S301 - our own bytes


def test_what_it_does_not_cover_keeps_the_dataclass_init() -> None:
    @dataclass(frozen=True)
    class PostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True)
    class KwOnly:
        a: int = field(kw_only=True)

    @dataclass(frozen=True)
    class NotInInit:
        a: int
        b: int = field(init=False, default=0)

    @dataclass(frozen=True)
    class WithInitVar:
        a: int
        b: InitVar[int]

    @dataclass(frozen=True)
    class Private:
        _a: int

    @dataclass
    class Mutable:
        a: int

    for cls in (PostInit, KwOnly, NotInInit, WithInitVar, Private, Mutable):
        before = cls.__init__
        assert quick_init(cls).__init__ is before, cls.__name__
    plain, _ = _pair(frozen=True)
    assert "__setattr__" in plain.__init__.__code__.co_names  # what the check above looks for
