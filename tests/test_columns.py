"""The column-at-a-time checks give the item-at-a-time verdict, on every shape of defect.

`columns.well_formed` is how a snapshot file's items are checked on the fast path; `_problem`
is the reference (it names the defect on the careful path). They must never disagree: a
disagreement either quarantines a good item or lets a malformed one reach a shell command.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vpcaudit.inventory.columns import well_formed
from vpcaudit.inventory.quarantine import _COMPILED, _problem
from vpcaudit.snapshot import Snapshot

from .builders import SnapshotBuilder

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = json.loads((FIXTURES / "hostile" / "malformed_items.json").read_text(encoding="utf-8"))

# Wrong types, wrong alphabets, values equal across types (1 == True == 1.0, 0 == False),
# empty values (an optional "" passes, a required one does not) and near-miss CIDRs.
BAD_VALUES: list[Any] = [
    None,
    0,
    1,
    True,
    False,
    1.0,
    70000,
    -2,
    "",
    " ",
    "x y",
    "VPC-UP",
    "vpc-1;sh",
    "10.0.0.0/33",
    "01.2.3.4/8",
    "10.0.0.0/024",
    "::/129",
    "2001:db8::/32",
    "10.0.0.1",
    "a" * 200,
    [],
    [1],
    {},
    {"k": "v"},
    "\x1b[31m",
]


def _reference(kind: str, items: list[Any]) -> bool:
    return all(_problem(_COMPILED[kind], raw) is None for raw in items)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside an item (keys and list indexes)."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield (*path, key)
            yield from _paths(sub, (*path, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield (*path, i)
            yield from _paths(sub, (*path, i))


def _with(item: Any, path: tuple[Any, ...], value: Any, *, delete: bool = False) -> Any:
    out = copy.deepcopy(item)
    node = out
    for step in path[:-1]:
        node = node[step]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


@pytest.fixture(scope="module")
def demo_items() -> dict[str, list[Any]]:
    """The demo organization's raw items by kind, as moto returns them (every kind it has)."""
    from vpcaudit.demo import demo_options, seeded_demo  # noqa: PLC0415 - moto, only here
    from vpcaudit.scan import ScanOptions, run_scan  # noqa: PLC0415

    with seeded_demo() as (_seeded, fidelity):
        snap = run_scan(demo_options(ScanOptions(), fidelity))
    by_kind: dict[str, list[Any]] = {}
    for rd in snap.regions:
        for kind, items in rd.resources.items():
            by_kind.setdefault(kind, []).extend(copy.deepcopy(list(items)))
    return by_kind


def test_the_demo_is_well_formed_both_ways(demo_items: dict[str, list[Any]]) -> None:
    checked = [kind for kind in _COMPILED if demo_items.get(kind)]
    assert len(checked) >= 12, checked  # the differential test below covers these kinds
    for kind in checked:
        assert _reference(kind, demo_items[kind])
        assert well_formed(_COMPILED[kind], copy.deepcopy(demo_items[kind]))


def test_every_mutation_gets_the_same_verdict(demo_items: dict[str, list[Any]]) -> None:
    compared = disagreed = malformed = 0
    failures: list[str] = []
    for kind, fields in _COMPILED.items():
        items = demo_items.get(kind) or []
        for index, item in enumerate(items[:3]):
            for path in _paths(item):
                variants = [_with(item, path, v) for v in BAD_VALUES]
                variants.append(_with(item, path, None, delete=True))
                for variant in variants:
                    batch = [*copy.deepcopy(items[:index]), variant, *copy.deepcopy(items[3:6])]
                    expected = _reference(kind, batch)
                    got = well_formed(fields, batch)
                    compared += 1
                    malformed += not expected
                    if got != expected:
                        disagreed += 1
                        failures.append(f"{kind} {path} -> {variant!r:.120}: {got} != {expected}")
    assert not failures, f"{disagreed} of {compared}:\n" + "\n".join(failures[:20])
    # The mutations reach real defects, not only ignored fields.
    assert compared > 2000 and malformed > compared // 4


@pytest.mark.parametrize("case", CORPUS["malformed"], ids=lambda c: c["name"])
def test_the_hostile_corpus_is_malformed_both_ways(case: dict[str, Any]) -> None:
    fields = _COMPILED[case["kind"]]
    assert _problem(fields, case["item"]) is not None
    assert not well_formed(fields, [case["item"]])


@pytest.mark.parametrize("case", CORPUS["legitimate"], ids=lambda c: c["name"])
def test_legitimate_shapes_pass_both_ways(case: dict[str, Any]) -> None:
    fields = _COMPILED[case["kind"]]
    assert _problem(fields, case["item"]) is None
    assert well_formed(fields, [copy.deepcopy(case["item"])])


def test_one_and_true_are_not_merged_when_values_are_checked_once() -> None:
    """Distinct values are checked once; 1 == True, so they are told apart by type."""
    ok = {"NetworkAclId": "acl-1", "VpcId": "vpc-1", "IsDefault": True}
    bad = {"NetworkAclId": "acl-2", "VpcId": "vpc-1", "IsDefault": 1}
    fields = _COMPILED["network_acls"]
    assert _problem(fields, bad) is not None
    assert not well_formed(fields, [ok, bad])
    assert not well_formed(fields, [bad, ok])


def test_repeated_strings_become_one_object() -> None:
    """The models keep these strings: one object per value, not one per item."""
    routes = json.loads(
        json.dumps(
            [
                {
                    "RouteTableId": f"rtb-{n}",
                    "VpcId": "vpc-1",
                    "Routes": [
                        {
                            "DestinationCidrBlock": f"10.0.{n}.{i}/32",
                            "GatewayId": "igw-1",
                            "State": "active",
                            "Origin": "CreateRoute",
                        }
                        for i in range(3)
                    ],
                }
                for n in range(4)
            ]
        )
    )
    # json.loads makes a new string object for every occurrence.
    assert routes[0]["VpcId"] is not routes[1]["VpcId"]
    assert well_formed(_COMPILED["route_tables"], routes)
    every = [r for t in routes for r in t["Routes"]]
    for key in ("GatewayId", "State", "Origin"):
        assert len({id(r[key]) for r in every}) == 1, key
    assert len({id(t["VpcId"]) for t in routes}) == 1
    # Distinct values are left alone, and nothing changes value.
    assert [r["DestinationCidrBlock"] for r in every[:3]] == [f"10.0.0.{i}/32" for i in range(3)]


def test_a_file_snapshot_shares_strings_the_models_keep(tmp_path: Path) -> None:
    """Through the real path (a snapshot file, decoded as the build reads it): a zone that
    recurs within a region and across regions is one object in every model that keeps it."""
    from vpcaudit.inventory import Inventory  # noqa: PLC0415

    b = SnapshotBuilder()
    for region in ("eu-west-1", "us-east-1"):
        b.scan(region=region).vpc("vpc-" + region[:2], region=region)
        for n in range(3):
            b.subnet(
                f"subnet-{region[:2]}{n}",
                "vpc-" + region[:2],
                az="eu-west-1a",
                region=region,
                cidr=f"10.0.{n}.0/24",
            )
    snap = b.build()
    path = tmp_path / "s.json"
    snap.save(path)
    from_file = Inventory.from_snapshot(Snapshot.load(path))
    assert from_file == Inventory.from_snapshot(snap)
    zones = [s.availability_zone for s in from_file.subnets]
    assert zones == ["eu-west-1a"] * 6
    assert len({id(z) for z in zones}) == 1


def _route_reference(raw: dict[str, Any]) -> tuple[str, ...]:
    """The route target rule as written before the fast path: the first named target, in
    priority order, with a value."""
    from vpcaudit.inventory.build import _ROUTE_TARGETS  # noqa: PLC0415

    target = next(
        ((kind, str(raw[key])) for key, kind in _ROUTE_TARGETS if raw.get(key)), ("unknown", "")
    )
    destination = (
        raw.get("DestinationCidrBlock")
        or raw.get("DestinationIpv6CidrBlock")
        or raw.get("DestinationPrefixListId")
        or ""
    )
    return (str(destination), *target, str(raw.get("State", "active")), str(raw.get("Origin", "")))


def test_a_route_names_the_same_target_as_the_priority_rule() -> None:
    """Instance routes name the instance and its interface; empty ids; no target at all."""
    from vpcaudit.inventory.build import _ROUTE_TARGETS, _route  # noqa: PLC0415
    from vpcaudit.inventory.models import Route  # noqa: PLC0415

    keys = [key for key, _ in _ROUTE_TARGETS]
    keys += ["DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId"]
    keys += ["State", "Origin"]
    values: list[Any] = ["", "igw-1", "local", "eni-1", None, 0]
    rng = random.Random(10)  # noqa: S311 - reproducible test input, not a secret
    for _ in range(50_000):
        raw = {k: rng.choice(values) for k in rng.sample(keys, rng.randint(0, 6))}
        route = _route(raw)
        assert type(route) is Route
        assert tuple(route) == _route_reference(raw), raw
