"""The network model's collectors: kinds read per TGW route table or customer prefix list.

moto in-process for what it models (Transit Gateways and their tables, routes, associations,
propagations, NACLs, ENIs, VPNs, prefix lists and their entries); botocore's Stubber for the
shapes moto does not produce: routes that name their attachments, pages of the per-table
calls, AdditionalRoutesAvailable, pre-shared keys in the tunnel options, refusals.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from vpcaudit.aws.collect import SPECS, ResourceSpec, collect_region
from vpcaudit.aws.session import ClientFactory
from vpcaudit.model import Gap
from vpcaudit.snapshot import RegionData, Snapshot

ACCOUNT = "123456789012"
REGION = "us-east-1"
SPEC = {s.kind: s for s in SPECS}
PER_TABLE = ("tgw_routes", "tgw_associations", "tgw_propagations")
PER_TABLE_OPS = tuple(SPEC[k].op for k in PER_TABLE)
ENTRIES_OP = SPEC["prefix_list_entries"].op
ROUTE_TYPES = [{"Name": "type", "Values": ["static", "propagated"]}]


def _factory() -> ClientFactory:
    return ClientFactory(boto3.Session(region_name=REGION))


def test_per_parent_kinds_come_after_their_parents_and_read_only_after_them() -> None:
    order = [s.kind for s in SPECS]
    for spec in SPECS:
        if spec.per is None:
            continue
        assert order.index(spec.per.kind) < order.index(spec.kind), spec.kind
        # Not read (and not listed as read) unless the parent kind was.
        assert spec.needed is not None
        assert not spec.needed({})
        assert spec.needed({spec.per.kind: []})
    parents = {k: SPEC[k].per for k in (*PER_TABLE, "prefix_list_entries")}
    assert {k: (p.kind, p.param) if p else None for k, p in parents.items()} == {
        **dict.fromkeys(PER_TABLE, ("tgw_route_tables", "TransitGatewayRouteTableId")),
        "prefix_list_entries": ("prefix_lists", "PrefixListId"),
    }


def test_tgw_routes_ask_for_every_route_type() -> None:
    spec = SPEC["tgw_routes"]
    assert spec.params == {"Filters": ROUTE_TYPES}
    # Filters is required by the API; "type" has exactly these two values, so every route
    # comes back, active and blackhole alike (no "state" filter).
    model = botocore.session.get_session().get_service_model("ec2")
    op = model.operation_model(spec.operation)
    assert "Filters" in op.input_shape.required_members
    assert "`type` - The type of route (`propagated` | `static`)" in _plain(
        op.input_shape.members["Filters"].documentation
    )
    # No MaxResults is sent: the documented default is already the maximum.
    assert spec.page_size is None
    limit = op.input_shape.members["MaxResults"]
    assert limit.metadata["max"] == 1000
    assert "the default is 1000" in limit.documentation


def _plain(html: str) -> str:
    """botocore's HTML documentation as text, <code> as backquotes."""
    for tag in ("<p>", "</p>", "<li>", "</li>", "<ul>", "</ul>"):
        html = html.replace(tag, "")
    return html.replace("<code>", "`").replace("</code>", "`")


def test_page_sizes_are_the_api_maxima() -> None:
    model = botocore.session.get_session().get_service_model("ec2")
    for spec in SPECS:
        if spec.service != "ec2" or spec.page_size is None:
            continue
        limit = model.operation_model(spec.operation).input_shape.members["MaxResults"]
        # Two older operations (endpoints, flow logs) state their maximum in prose only.
        assert spec.page_size == limit.metadata.get("max", 1000), spec.operation


def _sensitive_paths(shape: Any, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Key paths below an item shape that botocore's model marks sensitive (lists walked)."""
    if shape.metadata.get("sensitive"):
        return {path}
    if shape.type_name == "list":
        return _sensitive_paths(shape.member, path)
    if shape.type_name == "structure":
        out: set[tuple[str, ...]] = set()
        for name, member in shape.members.items():
            out |= _sensitive_paths(member, (*path, name))
        return out
    return set()


def test_every_secret_the_api_model_marks_is_redacted() -> None:
    session = botocore.session.get_session()
    for spec in SPECS:
        model = session.get_service_model(spec.service)
        items = model.operation_model(spec.operation).output_shape.members[spec.result_key]
        assert set(spec.redact) == _sensitive_paths(items.member), spec.operation
    assert set(SPEC["vpn_connections"].redact) == {
        ("CustomerGatewayConfiguration",),
        ("Options", "TunnelOptions", "PreSharedKey"),
    }


# -- moto in-process ---------------------------------------------------------------------------


@pytest.fixture
def moto() -> Iterator[None]:
    """moto in-process, fresh for each test."""
    with mock_aws():
        yield


def _ec2() -> Any:
    """An unguarded client on moto, to build what the scanner then reads."""
    return boto3.client("ec2", region_name=REGION)


def _vpcs(ec2: Any, count: int, start: int = 0) -> list[str]:
    """VPCs with a subnet, an ENI and a custom NACL each: what would grow a per-VPC scanner."""
    out = []
    for i in range(start, start + count):
        vpc = ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{i}.1.0/24")["Subnet"]["SubnetId"]
        ec2.create_network_interface(SubnetId=subnet)
        ec2.create_network_acl(VpcId=vpc)
        out.append(vpc)
    return out


def _hub(ec2: Any, vpc: str, tables: int, prefix_lists: int) -> dict[str, Any]:
    """A TGW with its default table plus `tables - 1` more, a VPC attachment, a static and a
    blackhole route in the last table, and customer-managed prefix lists."""
    tgw = ec2.create_transit_gateway()["TransitGateway"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]
    att = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw["TransitGatewayId"], VpcId=vpc, SubnetIds=[subnet["SubnetId"]]
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    rtbs = [tgw["Options"]["AssociationDefaultRouteTableId"]]
    for _ in range(tables - 1):
        rtbs.append(
            ec2.create_transit_gateway_route_table(TransitGatewayId=tgw["TransitGatewayId"])[
                "TransitGatewayRouteTable"
            ]["TransitGatewayRouteTableId"]
        )
    ec2.create_transit_gateway_route(
        DestinationCidrBlock="10.200.0.0/16",
        TransitGatewayRouteTableId=rtbs[-1],
        TransitGatewayAttachmentId=att,
    )
    ec2.create_transit_gateway_route(
        DestinationCidrBlock="10.201.0.0/16", TransitGatewayRouteTableId=rtbs[-1], Blackhole=True
    )
    pls = [
        ec2.create_managed_prefix_list(
            PrefixListName=f"corp-{i}",
            AddressFamily="IPv4",
            MaxEntries=5,
            Entries=[{"Cidr": f"192.168.{i}.0/24"}, {"Cidr": f"172.16.{i}.0/24"}],
        )["PrefixList"]["PrefixListId"]
        for i in range(prefix_lists)
    ]
    return {"tgw": tgw["TransitGatewayId"], "attachment": att, "tables": rtbs, "lists": pls}


def test_per_table_calls_count_tables_and_lists_never_vpcs(moto: None) -> None:
    ec2 = _ec2()
    [first] = _vpcs(ec2, 1)
    hub = _hub(ec2, first, tables=3, prefix_lists=2)

    small = _factory()
    before = collect_region(small, ACCOUNT, REGION)
    assert before.gaps == ()
    res = before.data.resources
    assert len(res["tgw_route_tables"]) == 3
    expected_per_parent = {op: 3 for op in PER_TABLE_OPS} | {ENTRIES_OP: 2}
    region_wide = {s.op: 1 for s in SPECS if s.per is None and s.kind != "log_groups"}
    assert small.counter.by_operation == region_wide | expected_per_parent
    assert small.counter.calls == len(region_wide) + 3 * 3 + 2

    # Nineteen more VPCs, each with a subnet, an ENI and a NACL: not one call more.
    _vpcs(ec2, 19, start=1)
    big = _factory()
    after = collect_region(big, ACCOUNT, REGION)
    assert after.gaps == ()
    assert len(after.data.resources["vpcs"]) == len(res["vpcs"]) + 19
    assert len(after.data.resources["network_interfaces"]) >= 20
    assert big.counter.by_operation == small.counter.by_operation
    assert big.counter.attempts == small.counter.attempts

    # One more table: three calls more, one per per-table kind.
    ec2.create_transit_gateway_route_table(TransitGatewayId=hub["tgw"])
    more = _factory()
    collect_region(more, ACCOUNT, REGION)
    assert more.counter.calls == big.counter.calls + 3
    assert {op: more.counter.by_operation[op] for op in PER_TABLE_OPS} == dict.fromkeys(
        PER_TABLE_OPS, 4
    )


def test_items_read_per_parent_carry_the_parent_id(moto: None) -> None:
    ec2 = _ec2()
    [vpc] = _vpcs(ec2, 1)
    hub = _hub(ec2, vpc, tables=2, prefix_lists=2)
    default_rtb, last = hub["tables"]
    ec2.enable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=last, TransitGatewayAttachmentId=hub["attachment"]
    )
    res = collect_region(_factory(), ACCOUNT, REGION).data.resources

    # Both routes of the last table, the active one and the blackhole one, each stamped.
    routes = {
        (r["TransitGatewayRouteTableId"], r["DestinationCidrBlock"], r["State"])
        for r in res["tgw_routes"]
    }
    assert routes == {(last, "10.200.0.0/16", "active"), (last, "10.201.0.0/16", "blackhole")}
    assocs = [
        (a["TransitGatewayRouteTableId"], a["TransitGatewayAttachmentId"])
        for a in res["tgw_associations"]
    ]
    assert assocs == [(default_rtb, hub["attachment"])]
    props = [
        (p["TransitGatewayRouteTableId"], p["TransitGatewayAttachmentId"])
        for p in res["tgw_propagations"]
    ]
    assert props == [(last, hub["attachment"])]

    # Entries of the customer-managed lists only, each stamped with its list.
    aws_lists = {p["PrefixListId"] for p in res["prefix_lists"] if p["OwnerId"] == "AWS"}
    assert aws_lists, "moto lists AWS-managed prefix lists too"
    entries = sorted((e["PrefixListId"], e["Cidr"]) for e in res["prefix_list_entries"])
    assert entries == sorted(
        (pl, cidr)
        for i, pl in enumerate(hub["lists"])
        for cidr in (f"192.168.{i}.0/24", f"172.16.{i}.0/24")
    )


def test_vpn_key_material_never_reaches_the_snapshot(moto: None) -> None:
    ec2 = _ec2()
    tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    cgw = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="203.0.113.10", BgpAsn=65000)[
        "CustomerGateway"
    ]["CustomerGatewayId"]
    vpn_id = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw, TransitGatewayId=tgw)[
        "VpnConnection"
    ]["VpnConnectionId"]
    # What the API hands out: the device configuration, with the tunnels' pre-shared keys.
    [raw] = ec2.describe_vpn_connections(VpnConnectionIds=[vpn_id])["VpnConnections"]
    config = raw["CustomerGatewayConfiguration"]
    keys = [k.split("</pre_shared_key>")[0] for k in config.split("<pre_shared_key>")[1:]]
    assert keys and all(len(k) >= 16 for k in keys)

    result = collect_region(_factory(), ACCOUNT, REGION)
    [vpn] = result.data.resources["vpn_connections"]
    assert "CustomerGatewayConfiguration" not in vpn
    assert (vpn["VpnConnectionId"], vpn["TransitGatewayId"], vpn["CustomerGatewayId"]) == (
        vpn_id,
        tgw,
        cgw,
    )
    text = _snapshot(result.data).dumps()
    assert vpn_id in text
    for key in keys:
        assert key not in text
    assert "pre_shared_key" not in text
    assert "PreSharedKey" not in text


def _snapshot(*regions: RegionData, gaps: tuple[Gap, ...] = ()) -> Snapshot:
    return Snapshot(
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:01:00Z",
        tool_version="test",
        accounts={ACCOUNT: ""},
        regions=regions,
        gaps=gaps,
    )


# -- botocore Stubber: the real shapes ---------------------------------------------------------


class _Ec2Stub:
    """A Stubber on the factory's EC2 client, and the names of the calls it was asked."""

    def __init__(self, factory: ClientFactory, stack: contextlib.ExitStack) -> None:
        client = factory.client("ec2", REGION)
        self.calls: list[str] = []
        client.meta.events.register("before-parameter-build.ec2", self._on_build)
        self.stub = stack.enter_context(Stubber(client))

    def _on_build(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def answer(
        self,
        kind: str,
        items: list[dict[str, Any]],
        params: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        """Queue one page for a kind; `params` are the parent's and the page token, if any."""
        spec = SPEC[kind]
        expected = _params(spec, **(params or {}))
        self.stub.add_response(spec.method, {spec.result_key: items, **extra}, expected)

    def refuse(
        self, kind: str, code: str, params: dict[str, Any] | None = None, status: int = 403
    ) -> None:
        """Queue an AWS error for a kind."""
        spec = SPEC[kind]
        self.stub.add_client_error(
            spec.method,
            service_error_code=code,
            service_message=f"{code} on {spec.operation}",
            http_status_code=status,
            expected_params=_params(spec, **(params or {})),
        )


# One VPC in every stubbed region, so that no kind is skipped.
A_VPC = {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}


def _params(spec: ResourceSpec, **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = dict(spec.params)
    if spec.page_size is not None:
        out["MaxResults"] = spec.page_size
    return out | more


def _table(rtb: str, state: str = "available") -> dict[str, Any]:
    return {"TransitGatewayRouteTableId": rtb, "TransitGatewayId": "tgw-1", "State": state}


def _route(cidr: str, attachment: str | None, state: str = "active") -> dict[str, Any]:
    route: dict[str, Any] = {"DestinationCidrBlock": cidr, "Type": "static", "State": state}
    if attachment is not None:
        route["TransitGatewayAttachments"] = [
            {
                "ResourceId": "vpc-1",
                "TransitGatewayAttachmentId": attachment,
                "ResourceType": "vpc",
            }
        ]
    return route


@pytest.fixture
def ec2() -> Iterator[tuple[ClientFactory, _Ec2Stub]]:
    """A factory whose EC2 client answers only what a test queues (only EC2 is asked: no
    flow log writes to CloudWatch Logs)."""
    factory = _factory()
    with contextlib.ExitStack() as stack:
        yield factory, _Ec2Stub(factory, stack)


def _answer_region(
    stub: _Ec2Stub,
    *,
    tables: list[dict[str, Any]] | None = None,
    prefix_lists: list[dict[str, Any]] | None = None,
    vpns: list[dict[str, Any]] | None = None,
    per_table: Any = None,
    refuse: dict[str, str] | None = None,
) -> None:
    """Queue an answer for every kind, in SPECS order: the given items, else none (but one VPC,
    so that no kind is skipped); `per_table` queues the calls for each table; `refuse` maps a
    region-wide kind to an error code."""
    refuse = refuse or {}
    for spec in SPECS:
        if spec.service != "ec2":
            continue
        if spec.kind in refuse:
            stub.refuse(spec.kind, refuse[spec.kind])
        elif spec.kind == "vpcs":
            stub.answer(spec.kind, [A_VPC])
        elif spec.kind == "tgw_route_tables":
            stub.answer(spec.kind, tables or [])
        elif spec.kind == "prefix_lists":
            stub.answer(spec.kind, prefix_lists or [])
        elif spec.kind == "vpn_connections":
            stub.answer(spec.kind, vpns or [])
        elif spec.kind == "tgw_routes" and per_table is not None:
            per_table(stub)
        elif spec.per is None:
            stub.answer(spec.kind, [])


def test_routes_name_their_attachments_and_every_page_is_read(
    ec2: tuple[ClientFactory, _Ec2Stub],
) -> None:
    # Real EC2 names the attachment of a static route (moto leaves the list empty), and pages.
    factory, stub = ec2

    def per_table(s: _Ec2Stub) -> None:
        rtb = {"TransitGatewayRouteTableId": "tgw-rtb-1"}
        s.answer(
            "tgw_routes",
            [_route("10.1.0.0/16", "tgw-attach-1")],
            rtb,
            NextToken="r2",
            AdditionalRoutesAvailable=True,
        )
        s.answer(
            "tgw_routes",
            [_route("10.2.0.0/16", "tgw-attach-2"), _route("10.3.0.0/16", None, "blackhole")],
            rtb | {"NextToken": "r2"},
            AdditionalRoutesAvailable=False,
        )
        s.answer(
            "tgw_associations",
            [{"TransitGatewayAttachmentId": "tgw-attach-1", "State": "associated"}],
            rtb,
            NextToken="a2",
        )
        s.answer(
            "tgw_associations",
            [{"TransitGatewayAttachmentId": "tgw-attach-2", "State": "associated"}],
            rtb | {"NextToken": "a2"},
        )
        s.answer(
            "tgw_propagations",
            [{"TransitGatewayAttachmentId": "tgw-attach-2", "State": "enabled"}],
            rtb,
        )

    _answer_region(
        stub,
        tables=[_table("tgw-rtb-1")],
        prefix_lists=[{"PrefixListId": "pl-corp", "OwnerId": ACCOUNT}],
        per_table=per_table,
    )
    stub.answer(
        "prefix_list_entries",
        [{"Cidr": "192.168.0.0/24"}],
        {"PrefixListId": "pl-corp"},
        NextToken="e2",
    )
    stub.answer(
        "prefix_list_entries",
        [{"Cidr": "192.168.1.0/24"}],
        {"PrefixListId": "pl-corp", "NextToken": "e2"},
    )
    result = collect_region(factory, ACCOUNT, REGION)
    stub.stub.assert_no_pending_responses()
    assert result.gaps == ()
    res = result.data.resources
    assert [(r["DestinationCidrBlock"], r["State"]) for r in res["tgw_routes"]] == [
        ("10.1.0.0/16", "active"),
        ("10.2.0.0/16", "active"),
        ("10.3.0.0/16", "blackhole"),
    ]
    assert all(r["TransitGatewayRouteTableId"] == "tgw-rtb-1" for r in res["tgw_routes"])
    assert res["tgw_routes"][0]["TransitGatewayAttachments"][0]["TransitGatewayAttachmentId"] == (
        "tgw-attach-1"
    )
    assert [a["TransitGatewayAttachmentId"] for a in res["tgw_associations"]] == [
        "tgw-attach-1",
        "tgw-attach-2",
    ]
    assert all(a["TransitGatewayRouteTableId"] == "tgw-rtb-1" for a in res["tgw_associations"])
    assert res["tgw_propagations"] == [
        {
            "TransitGatewayAttachmentId": "tgw-attach-2",
            "State": "enabled",
            "TransitGatewayRouteTableId": "tgw-rtb-1",
        }
    ]
    assert res["prefix_list_entries"] == [
        {"Cidr": "192.168.0.0/24", "PrefixListId": "pl-corp"},
        {"Cidr": "192.168.1.0/24", "PrefixListId": "pl-corp"},
    ]
    assert stub.calls.count("SearchTransitGatewayRoutes") == 2
    assert stub.calls.count("GetTransitGatewayRouteTableAssociations") == 2
    assert stub.calls.count("GetManagedPrefixListEntries") == 2


def test_routes_held_back_without_a_token_are_a_truncated_gap(
    ec2: tuple[ClientFactory, _Ec2Stub],
) -> None:
    # An older form of the API answers up to its limit and says more exist, with no token.
    factory, stub = ec2

    # Kind by kind, in SPECS order: routes of both tables, then associations, then propagations.
    def in_spec_order(s: _Ec2Stub) -> None:
        for kind in PER_TABLE:
            for rtb, more in (("tgw-rtb-1", True), ("tgw-rtb-2", False)):
                params = {"TransitGatewayRouteTableId": rtb}
                extra = {"AdditionalRoutesAvailable": more} if kind == "tgw_routes" else {}
                items = (
                    [_route(f"10.{rtb[-1]}.0.0/16", "tgw-attach-1")] if kind == "tgw_routes" else []
                )
                s.answer(kind, items, params, **extra)

    _answer_region(stub, tables=[_table("tgw-rtb-1"), _table("tgw-rtb-2")], per_table=in_spec_order)
    result = collect_region(factory, ACCOUNT, REGION)
    stub.stub.assert_no_pending_responses()
    [gap] = result.gaps
    assert (gap.account_id, gap.region, gap.operation, gap.error_code) == (
        ACCOUNT,
        REGION,
        "ec2:SearchTransitGatewayRoutes",
        "Truncated",
    )
    assert "AdditionalRoutesAvailable=true" in gap.message
    assert "TransitGatewayRouteTableId tgw-rtb-1; 1 of 2" in gap.message
    # What was answered is kept, for both tables.
    assert [
        (r["TransitGatewayRouteTableId"], r["DestinationCidrBlock"])
        for r in result.data.resources["tgw_routes"]
    ] == [
        ("tgw-rtb-1", "10.1.0.0/16"),
        ("tgw-rtb-2", "10.2.0.0/16"),
    ]


def _per_table_answers(tables: list[str], refused: dict[tuple[str, str], str] | None = None) -> Any:
    """Queue the per-table calls of every table, in SPECS order; `refused` maps (kind, table)
    to an error code."""
    refused = refused or {}

    def queue(s: _Ec2Stub) -> None:
        for kind in PER_TABLE:
            for rtb in tables:
                params = {"TransitGatewayRouteTableId": rtb}
                if (kind, rtb) in refused:
                    s.refuse(kind, refused[(kind, rtb)], params)
                else:
                    items = [_route("10.0.0.0/8", "tgw-attach-1")] if kind == "tgw_routes" else []
                    s.answer(kind, items, params)

    return queue


def test_a_refused_table_is_one_gap_for_that_operation_only(
    ec2: tuple[ClientFactory, _Ec2Stub],
) -> None:
    factory, stub = ec2
    tables = ["tgw-rtb-1", "tgw-rtb-2", "tgw-rtb-3"]
    _answer_region(
        stub,
        tables=[_table(t) for t in tables],
        per_table=_per_table_answers(tables, {("tgw_routes", "tgw-rtb-2"): "AccessDenied"}),
    )
    result = collect_region(factory, ACCOUNT, REGION)
    stub.stub.assert_no_pending_responses()
    assert result.gaps == (
        Gap(
            ACCOUNT,
            REGION,
            "ec2:SearchTransitGatewayRoutes",
            "AccessDenied",
            "AccessDenied on SearchTransitGatewayRoutes "
            "(TransitGatewayRouteTableId tgw-rtb-2; 1 of 3)",
        ),
    )
    res = result.data.resources
    # The other tables' routes are kept; the gap marks the kind as unknown in the region.
    assert [r["TransitGatewayRouteTableId"] for r in res["tgw_routes"]] == [
        "tgw-rtb-1",
        "tgw-rtb-3",
    ]
    # Every table's associations and propagations were still read, and every later kind.
    assert stub.calls.count("GetTransitGatewayRouteTableAssociations") == 3
    assert stub.calls.count("GetTransitGatewayRouteTablePropagations") == 3
    assert {"tgw_associations", "tgw_propagations", "vpn_connections", "addresses"} <= set(res)


def test_an_operation_refused_for_every_table_is_one_gap(
    ec2: tuple[ClientFactory, _Ec2Stub],
) -> None:
    factory, stub = ec2
    tables = [f"tgw-rtb-{i}" for i in range(1, 8)]
    refused = {("tgw_propagations", t): "UnauthorizedOperation" for t in tables}
    _answer_region(
        stub, tables=[_table(t) for t in tables], per_table=_per_table_answers(tables, refused)
    )
    result = collect_region(factory, ACCOUNT, REGION)
    stub.stub.assert_no_pending_responses()
    [gap] = result.gaps
    assert (gap.operation, gap.error_code) == (
        "ec2:GetTransitGatewayRouteTablePropagations",
        "UnauthorizedOperation",
    )
    assert gap.message.endswith(
        "(TransitGatewayRouteTableId tgw-rtb-1, tgw-rtb-2, tgw-rtb-3, tgw-rtb-4, tgw-rtb-5 "
        "and 2 more; 7 of 7)"
    )
    assert result.data.resources["tgw_propagations"] == []
    assert len(result.data.resources["tgw_routes"]) == 7


def test_unreadable_route_tables_mean_no_per_table_calls(
    ec2: tuple[ClientFactory, _Ec2Stub],
) -> None:
    factory, stub = ec2
    _answer_region(
        stub,
        refuse={"tgw_route_tables": "UnauthorizedOperation"},
        prefix_lists=[{"PrefixListId": "pl-corp", "OwnerId": ACCOUNT}],
    )
    stub.answer("prefix_list_entries", [{"Cidr": "10.0.0.0/8"}], {"PrefixListId": "pl-corp"})
    result = collect_region(factory, ACCOUNT, REGION)
    stub.stub.assert_no_pending_responses()
    assert [(g.operation, g.error_code) for g in result.gaps] == [
        ("ec2:DescribeTransitGatewayRouteTables", "UnauthorizedOperation")
    ]
    res = result.data.resources
    for kind in ("tgw_route_tables", *PER_TABLE):
        assert kind not in res, kind
    assert not set(stub.calls) & {SPEC[k].operation for k in PER_TABLE}
    # The prefix lists were read, so their entries were too.
    assert res["prefix_list_entries"] == [{"Cidr": "10.0.0.0/8", "PrefixListId": "pl-corp"}]


def test_a_region_wide_refusal_in_a_per_table_call_stops_the_region(
    ec2: tuple[ClientFactory, _Ec2Stub],
) -> None:
    factory, stub = ec2

    def expire(s: _Ec2Stub) -> None:
        s.refuse("tgw_routes", "ExpiredToken", {"TransitGatewayRouteTableId": "tgw-rtb-1"}, 400)

    for spec in SPECS:
        if spec.kind == "tgw_routes":
            expire(stub)
            break
        items = {"tgw_route_tables": [_table("tgw-rtb-1"), _table("tgw-rtb-2")], "vpcs": [A_VPC]}
        stub.answer(spec.kind, items.get(spec.kind, []))
    result = collect_region(factory, ACCOUNT, REGION)
    stub.stub.assert_no_pending_responses()
    [gap] = result.gaps
    assert (gap.operation, gap.error_code) == ("*", "ExpiredToken")
    assert gap.message.startswith("ec2:SearchTransitGatewayRoutes failed")
    # Not the second table, and no later kind.
    assert stub.calls[-1] == "SearchTransitGatewayRoutes"
    assert stub.calls.count("SearchTransitGatewayRoutes") == 1
    assert "tgw_routes" not in result.data.resources


def test_deleted_tables_and_aws_or_deleted_prefix_lists_are_not_read(
    ec2: tuple[ClientFactory, _Ec2Stub],
) -> None:
    factory, stub = ec2
    tables = [
        _table("tgw-rtb-1"),
        _table("tgw-rtb-gone", "deleted"),
        _table("tgw-rtb-going", "deleting"),
    ]
    lists = [
        {"PrefixListId": "pl-s3", "OwnerId": "AWS", "State": "create-complete"},
        {"PrefixListId": "pl-corp", "OwnerId": ACCOUNT, "State": "modify-complete"},
        {"PrefixListId": "pl-old", "OwnerId": ACCOUNT, "State": "delete-complete"},
        # Shared with this account through RAM: another account's list, still a customer one.
        {"PrefixListId": "pl-shared", "OwnerId": "210987654321", "State": "create-complete"},
    ]
    _answer_region(
        stub, tables=tables, prefix_lists=lists, per_table=_per_table_answers(["tgw-rtb-1"])
    )
    for pl in ("pl-corp", "pl-shared"):
        stub.answer("prefix_list_entries", [], {"PrefixListId": pl})
    result = collect_region(factory, ACCOUNT, REGION)
    stub.stub.assert_no_pending_responses()
    assert result.gaps == ()
    assert stub.calls.count("SearchTransitGatewayRoutes") == 1
    assert stub.calls.count("GetManagedPrefixListEntries") == 2


def test_pre_shared_keys_are_stripped_from_vpn_connections(
    ec2: tuple[ClientFactory, _Ec2Stub],
) -> None:
    factory, stub = ec2
    secret = "Kq9-not-a-real-pre-shared-key-7Zp"
    vpn = {
        "VpnConnectionId": "vpn-1",
        "State": "available",
        "Type": "ipsec.1",
        "CustomerGatewayId": "cgw-1",
        "TransitGatewayId": "tgw-1",
        "CustomerGatewayConfiguration": (
            f"<vpn_connection><pre_shared_key>{secret}</pre_shared_key></vpn_connection>"
        ),
        "Options": {
            "StaticRoutesOnly": False,
            "TunnelOptions": [
                {"OutsideIpAddress": "198.51.100.1", "PreSharedKey": secret},
                {"OutsideIpAddress": "198.51.100.2", "PreSharedKey": secret + "-2"},
            ],
        },
        "VgwTelemetry": [{"OutsideIpAddress": "198.51.100.1", "Status": "UP"}],
    }
    _answer_region(stub, vpns=[vpn])
    result = collect_region(factory, ACCOUNT, REGION)
    stub.stub.assert_no_pending_responses()
    assert result.gaps == ()
    [kept] = result.data.resources["vpn_connections"]
    assert "CustomerGatewayConfiguration" not in kept
    assert kept["Options"] == {
        "StaticRoutesOnly": False,
        "TunnelOptions": [
            {"OutsideIpAddress": "198.51.100.1"},
            {"OutsideIpAddress": "198.51.100.2"},
        ],
    }
    assert kept["VgwTelemetry"] == vpn["VgwTelemetry"]
    text = _snapshot(result.data).dumps()
    assert secret not in text
    assert "PreSharedKey" not in text
    assert "vpn-1" in text


# -- not_collected and old snapshots ------------------------------------------------------------


def test_not_collected_names_dependent_kinds_of_an_old_snapshot() -> None:
    from pathlib import Path  # noqa: PLC0415 - only here

    from vpcaudit.aws.collect import not_collected  # noqa: PLC0415 - same

    fixture = Path(__file__).parent.parent / "fixtures" / "cross_account_peering.json"
    assert json.loads(fixture.read_text())["schema_version"] == 1
    snap = Snapshot.load(fixture)
    missing = not_collected(snap)
    assert missing
    for _, _, kinds in missing:
        # Its prefix lists are there but were never expanded; it has no TGW route tables at
        # all, so neither their routes, associations nor propagations.
        assert {"prefix_list_entries", "tgw_route_tables", *PER_TABLE} <= set(kinds)
        assert "log_groups" not in kinds


def test_not_collected_leaves_out_what_a_failed_parent_explains() -> None:
    from vpcaudit.aws.collect import not_collected  # noqa: PLC0415 - only here

    # A current scan whose TGW route tables could not be read: the per-table kinds are absent
    # because of that gap, not because the snapshot is old.
    resources = {s.kind: [] for s in SPECS if s.every_region and s.kind != "tgw_route_tables"}
    resources["prefix_list_entries"] = []
    region = RegionData(ACCOUNT, REGION, resources)
    gap = Gap(ACCOUNT, REGION, "ec2:DescribeTransitGatewayRouteTables", "AccessDenied", "no")
    assert not_collected(_snapshot(region, gaps=(gap,))) == []
    # The same without the gap: the table kind and the per-table kinds are named.
    assert not_collected(_snapshot(region)) == [(ACCOUNT, REGION, ("tgw_route_tables", *PER_TABLE))]
    # A parent read but its per-parent kind absent (an older collector): named.
    old = {k: v for k, v in resources.items() if k != "prefix_list_entries"}
    old |= {k: [] for k in ("tgw_route_tables", *PER_TABLE)}
    assert not_collected(_snapshot(RegionData(ACCOUNT, REGION, old))) == [
        (ACCOUNT, REGION, ("prefix_list_entries",))
    ]
