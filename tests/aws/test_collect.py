"""Collectors: every kind read with one paginated call per region, failures become gaps.

The tests are driven by `SPECS`, so a kind added there is covered without editing them.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.stub import Stubber
from moto import mock_aws

from vpcaudit.aws import session as session_module
from vpcaudit.aws.collect import (
    SPECS,
    AccountTarget,
    PreparedAccount,
    RegionResult,
    ResourceSpec,
    collect,
    collect_region,
)
from vpcaudit.aws.session import ClientFactory
from vpcaudit.model import Gap

ACCOUNT = "123456789012"
REGION = "us-east-1"
SPEC = {s.kind: s for s in SPECS}
# Kinds read in every region; the others only when what was read before calls for them.
ALWAYS = tuple(s for s in SPECS if s.every_region)
ALWAYS_KINDS = {s.kind for s in ALWAYS}
# Kinds read with one call per parent item (a TGW route table, a customer prefix list).
PER_PARENT = tuple(s for s in SPECS if s.per is not None)
# What a region holds when every region-wide kind answered empty: the per-parent kinds too
# (read, with no call, since their parents were read and are empty).
EMPTY_REGION_KINDS = ALWAYS_KINDS | {s.kind for s in PER_PARENT}


# The one VPC a stubbed region holds unless a test says otherwise.
A_VPC = {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "OwnerId": ACCOUNT}


def _op(spec: ResourceSpec) -> str:
    return f"{spec.service}:{spec.operation}"


def _expected_calls(resources: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    """Calls by operation for what a region holds: one per kind read region-wide, one per
    parent item for the others (none when there is no parent)."""
    out = {_op(s): 1 for s in SPECS if s.per is None and s.kind in resources}
    for s in PER_PARENT:
        assert s.per is not None
        if n := len(s.per.parents(resources)):
            out[_op(s)] = n
    return out


def _factory(region: str = REGION) -> ClientFactory:
    return ClientFactory(boto3.Session(region_name=region))


@pytest.fixture
def moto() -> Iterator[None]:
    """moto in-process, fresh for each test."""
    with mock_aws():
        yield


def test_specs_name_each_kind_and_operation_once() -> None:
    assert len(SPEC) == len(SPECS)
    assert len({_op(s) for s in SPECS}) == len(SPECS)
    for kind in ("vpcs", "subnets", "route_tables", "peerings", "endpoints", "flow_logs"):
        assert kind in ALWAYS_KINDS
    assert {s.kind for s in PER_PARENT} == {
        "tgw_routes",
        "tgw_associations",
        "tgw_propagations",
        "prefix_list_entries",
    }
    assert SPEC["route_tables"].method == "describe_route_tables"
    assert SPEC["peerings"].method == "describe_vpc_peering_connections"
    assert SPEC["tgw_attachments"].method == "describe_transit_gateway_attachments"
    session: Any = boto3.Session(region_name=REGION)
    for spec in SPECS:
        assert hasattr(session.client(spec.service), spec.method)


# -- moto in-process: every kind, one call per kind ------------------------------------------


@pytest.fixture
def seeded(moto: None) -> dict[str, str]:
    """Resources of most kinds in us-east-1 (created through an unguarded client)."""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    peer_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=peer_vpc)["VpcPeeringConnection"][
        "VpcPeeringConnectionId"
    ]
    vpce = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName=f"com.amazonaws.{REGION}.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[rtb],
    )["VpcEndpoint"]["VpcEndpointId"]
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="flow-logs")
    # A CloudWatch Logs destination, so that every conditional kind is read as well.
    flow_log = ec2.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="cloud-watch-logs",
        LogGroupName="flow-logs",
        DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/flow-logs",
    )["FlowLogIds"][0]
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    tgw_options = ec2.create_transit_gateway()["TransitGateway"]
    tgw = tgw_options["TransitGatewayId"]
    # The attachment is associated with the TGW's default table (moto records no default
    # propagation: it is enabled by hand into the second table below).
    default_rtb = tgw_options["Options"]["AssociationDefaultRouteTableId"]
    tgwa = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet]
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    # A second TGW route table beside the default one, with a static route to the VPC.
    tgw_rtb = ec2.create_transit_gateway_route_table(TransitGatewayId=tgw)[
        "TransitGatewayRouteTable"
    ]["TransitGatewayRouteTableId"]
    ec2.create_transit_gateway_route(
        DestinationCidrBlock="10.0.0.0/16",
        TransitGatewayRouteTableId=tgw_rtb,
        TransitGatewayAttachmentId=tgwa,
    )
    ec2.enable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=tgw_rtb, TransitGatewayAttachmentId=tgwa
    )
    peer_tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    tgw_peering = ec2.create_transit_gateway_peering_attachment(
        TransitGatewayId=tgw,
        PeerTransitGatewayId=peer_tgw,
        PeerAccountId=ACCOUNT,
        PeerRegion=REGION,
    )["TransitGatewayPeeringAttachment"]["TransitGatewayAttachmentId"]
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    eigw = ec2.create_egress_only_internet_gateway(VpcId=vpc)["EgressOnlyInternetGateway"][
        "EgressOnlyInternetGatewayId"
    ]
    cgw = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="203.0.113.10", BgpAsn=65000)[
        "CustomerGateway"
    ]["CustomerGatewayId"]
    vpn = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw, TransitGatewayId=tgw)[
        "VpnConnection"
    ]["VpnConnectionId"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    corp = ec2.create_managed_prefix_list(
        PrefixListName="corp",
        AddressFamily="IPv4",
        MaxEntries=5,
        Entries=[{"Cidr": "192.168.0.0/24", "Description": "office"}],
    )["PrefixList"]["PrefixListId"]
    nacl = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"][
        0
    ]["NetworkAclId"]
    return {
        "vpcs": vpc,
        "subnets": subnet,
        "route_tables": rtb,
        "peerings": pcx,
        "endpoints": vpce,
        "flow_logs": flow_log,
        "vpn_gateways": vgw,
        "tgw_attachments": tgwa,
        "tgw_vpc_attachments": tgwa,
        "tgw_peering_attachments": tgw_peering,
        "transit_gateways": tgw,
        "tgw_route_tables": tgw_rtb,
        "network_acls": nacl,
        "network_interfaces": eni,
        "egress_only_igws": eigw,
        "vpn_connections": vpn,
        "addresses": eip,
        "prefix_lists": corp,
        "prefix_list_entries": corp,
        "tgw_routes": tgw_rtb,
        "tgw_associations": default_rtb,
        "tgw_propagations": tgw_rtb,
    }


_ID_FIELDS = {
    "vpcs": "VpcId",
    "subnets": "SubnetId",
    "route_tables": "RouteTableId",
    "peerings": "VpcPeeringConnectionId",
    "endpoints": "VpcEndpointId",
    "flow_logs": "FlowLogId",
    "vpn_gateways": "VpnGatewayId",
    "tgw_attachments": "TransitGatewayAttachmentId",
    "tgw_vpc_attachments": "TransitGatewayAttachmentId",
    "tgw_peering_attachments": "TransitGatewayAttachmentId",
    "transit_gateways": "TransitGatewayId",
    "tgw_route_tables": "TransitGatewayRouteTableId",
    "network_acls": "NetworkAclId",
    "network_interfaces": "NetworkInterfaceId",
    "egress_only_igws": "EgressOnlyInternetGatewayId",
    "vpn_connections": "VpnConnectionId",
    "addresses": "AllocationId",
    "prefix_lists": "PrefixListId",
    # Items read per parent carry the parent's id, stamped by the collector.
    "prefix_list_entries": "PrefixListId",
    "tgw_routes": "TransitGatewayRouteTableId",
    "tgw_associations": "TransitGatewayRouteTableId",
    "tgw_propagations": "TransitGatewayRouteTableId",
}


def test_collect_region_reads_every_kind(seeded: dict[str, str]) -> None:
    factory = _factory()
    result = collect_region(factory, ACCOUNT, REGION)
    assert result.gaps == ()
    data = result.data
    assert (data.account_id, data.region) == (ACCOUNT, REGION)
    assert set(data.resources) == set(SPEC)
    for kind, resource_id in seeded.items():
        ids = {item[_ID_FIELDS[kind]] for item in data.resources[kind]}
        assert resource_id in ids, kind
    # moto has no Transit Gateway Connect attachment to create: the kind is read, empty.
    assert data.resources["tgw_connects"] == []
    names = {p["PrefixListName"] for p in data.resources["prefix_lists"]}
    assert f"com.amazonaws.{REGION}.s3" in names
    # Raw items are kept as plain JSON values: datetimes became ISO strings.
    flow_log = next(f for f in data.resources["flow_logs"] if f["FlowLogId"] == seeded["flow_logs"])
    assert isinstance(flow_log["CreationTime"], str)
    assert flow_log["CreationTime"].endswith("Z")


def test_one_call_per_kind_whatever_the_inventory_size(seeded: dict[str, str]) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    for i in range(5):
        vpc = ec2.create_vpc(CidrBlock=f"10.{10 + i}.0.0/16")["Vpc"]["VpcId"]
        for j in range(3):
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{10 + i}.{j}.0/24")
    factory = _factory()
    result = collect_region(factory, ACCOUNT, REGION)
    res = result.data.resources
    assert len(res["vpcs"]) >= 7
    assert len(res["subnets"]) >= 16
    # Two TGWs (each with its default table) plus the extra table: three route tables, and one
    # customer-managed prefix list; the AWS-managed ones are not expanded.
    assert len(res["tgw_route_tables"]) == 3
    assert {p["PrefixListId"] for p in res["prefix_lists"] if p["OwnerId"] != "AWS"} == {
        seeded["prefix_lists"]
    }
    per_table = {_op(SPEC[k]): 3 for k in ("tgw_routes", "tgw_associations", "tgw_propagations")}
    assert factory.counter.by_operation == {
        **{_op(s): 1 for s in SPECS if s.per is None},
        **per_table,
        "ec2:GetManagedPrefixListEntries": 1,
    }
    assert factory.counter.by_operation == _expected_calls(res)
    assert factory.counter.calls == len(SPECS) - len(PER_PARENT) + 3 * 3 + 1


def test_empty_region_makes_exactly_one_call_per_kind(moto: None) -> None:
    factory = _factory()
    result = collect_region(factory, ACCOUNT, "eu-west-1")
    assert result.gaps == ()
    # No TGW route table, no customer prefix list: the per-parent kinds are read with no call.
    assert set(result.data.resources) == EMPTY_REGION_KINDS
    assert all(result.data.resources[s.kind] == [] for s in PER_PARENT)
    assert factory.counter.calls == len(ALWAYS)
    assert factory.counter.attempts == len(ALWAYS)
    assert factory.counter.by_operation == {_op(s): 1 for s in ALWAYS}
    assert result.data.resources["peerings"] == []
    assert result.data.resources["flow_logs"] == []


class _Recorder:
    """A Progress that remembers what it was told."""

    def __init__(self) -> None:
        self.accounts = 0
        self.ready: list[str] = []
        self.regions: list[str] = []

    def start(self, accounts: int) -> None:
        self.accounts = accounts

    def account_ready(self, prepared: PreparedAccount) -> None:
        self.ready.append(prepared.account_id)

    def region_done(self, result: RegionResult) -> None:
        self.regions.append(result.data.region)


def test_collect_runs_every_region_and_builds_the_snapshot(seeded: dict[str, str]) -> None:
    factory = _factory()
    target = AccountTarget(ACCOUNT, "prod", factory, (REGION, "eu-west-1"))
    progress = _Recorder()
    snap = collect([target], workers=2, started_at="2026-01-01T00:00:00Z", progress=progress)
    assert progress.accounts == 1
    assert progress.ready == [ACCOUNT]
    assert sorted(progress.regions) == ["eu-west-1", REGION]
    assert snap.region_names == ["eu-west-1", REGION]
    assert snap.accounts == {ACCOUNT: "prod"}
    assert snap.gaps == ()
    assert snap.started_at == "2026-01-01T00:00:00Z"
    us = next(r for r in snap.regions if r.region == REGION)
    eu = next(r for r in snap.regions if r.region == "eu-west-1")
    # us-east-1 has a CloudWatch Logs flow log (every kind), eu-west-1 is empty.
    assert factory.counter.calls == sum(_expected_calls(us.resources).values()) + len(ALWAYS)
    assert set(us.resources) == set(SPEC)
    assert seeded["vpcs"] in {v["VpcId"] for v in us.resources["vpcs"]}
    assert seeded["vpcs"] not in {v["VpcId"] for v in eu.resources["vpcs"]}


# -- botocore Stubber: real AWS shapes moto does not produce --------------------------------


def _page_params(
    spec: ResourceSpec, token: str | None = None, parent: str | None = None
) -> dict[str, Any]:
    """The parameters a page request must carry: the spec's fixed ones, the parent's id for a
    kind read per parent, the API's limit key set to the page size, the page token."""
    params: dict[str, Any] = dict(spec.params)
    if spec.per is not None:
        assert parent is not None, spec.kind
        params[spec.per.param] = parent
    if spec.page_size is None and token is None:
        return params
    model = botocore.session.get_session().get_paginator_model(spec.service)
    paging = model.get_paginator(spec.operation)
    if spec.page_size is not None:
        params[paging["limit_key"]] = spec.page_size
    if token is not None:
        params[paging["input_token"]] = token
    return params


class _Stubs:
    """Stubbers on the factory's (cached) clients of every service, and the calls made."""

    def __init__(self, factory: ClientFactory, stack: contextlib.ExitStack) -> None:
        self.calls: list[str] = []
        self.by_service: dict[str, Stubber] = {}
        for service in sorted({s.service for s in SPECS}):
            client = factory.client(service, REGION)
            # Stubber answers in before-call, ahead of the factory's call counter, so calls
            # are recorded one event earlier, where the guard also looks.
            client.meta.events.register(f"before-parameter-build.{service}", self._on_build)
            self.by_service[service] = stack.enter_context(Stubber(client))

    def _on_build(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def ok(
        self,
        spec: ResourceSpec,
        items: list[dict[str, Any]] | None = None,
        *,
        parent: str | None = None,
        token: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Queue a one-page answer (to the page asked for with `token`). DescribeVpcs answers
        one VPC unless told otherwise: a region with none is not asked for the other kinds."""
        if items is None and spec.kind == "vpcs":
            items = [A_VPC]
        self.by_service[spec.service].add_response(
            spec.method,
            {spec.result_key: items or [], **(extra or {})},
            _page_params(spec, token, parent),
        )

    def error(
        self, spec: ResourceSpec, code: str, status: int = 403, *, parent: str | None = None
    ) -> None:
        """Queue an AWS error answer."""
        self.by_service[spec.service].add_client_error(
            spec.method,
            service_error_code=code,
            service_message=f"{code} on {spec.operation}",
            http_status_code=status,
            expected_params=_page_params(spec, parent=parent),
        )

    def done(self) -> None:
        """Every queued answer was asked for."""
        for stubber in self.by_service.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def stubbed() -> Iterator[tuple[ClientFactory, _Stubs]]:
    """A factory whose clients answer only what a test queues."""
    factory = _factory()
    with contextlib.ExitStack() as stack:
        yield factory, _Stubs(factory, stack)


def test_pagination_reads_every_page_with_the_spec_page_size(
    stubbed: tuple[ClientFactory, _Stubs],
) -> None:
    factory, stubs = stubbed
    spec = SPEC["route_tables"]
    assert spec.page_size == 100
    ec2 = stubs.by_service["ec2"]

    def table(rtb_id: str) -> dict[str, Any]:
        return {"RouteTableId": rtb_id, "VpcId": "vpc-1", "Routes": [], "Associations": []}

    for s in ALWAYS:
        if s is not spec:
            stubs.ok(s)
            continue
        ec2.add_response(
            s.method,
            {s.result_key: [table("rtb-1"), table("rtb-2")], "NextToken": "t1"},
            {"MaxResults": 100},
        )
        ec2.add_response(
            s.method, {s.result_key: [table("rtb-3")]}, {"MaxResults": 100, "NextToken": "t1"}
        )
    result = collect_region(factory, ACCOUNT, REGION)
    stubs.done()
    assert result.gaps == ()
    assert [t["RouteTableId"] for t in result.data.resources["route_tables"]] == [
        "rtb-1",
        "rtb-2",
        "rtb-3",
    ]
    assert stubs.calls.count("DescribeRouteTables") == 2
    assert len(stubs.calls) == len(ALWAYS) + 1


def test_every_paginated_spec_sends_its_page_size(stubbed: tuple[ClientFactory, _Stubs]) -> None:
    # Stubber checks the parameters of each call: the limit is the spec's page size, and an
    # unpaginated operation (DescribeVpnGateways) is called without one. A mismatch would
    # surface as a gap.
    factory, stubs = stubbed
    for spec in ALWAYS:
        stubs.ok(spec)
    result = collect_region(factory, ACCOUNT, REGION)
    stubs.done()
    assert result.gaps == ()
    assert stubs.calls == [s.operation for s in ALWAYS]
    assert all(result.data.resources[s.kind] == [] for s in ALWAYS if s.kind != "vpcs")


def test_conditional_kinds_are_read_when_called_for(
    stubbed: tuple[ClientFactory, _Stubs],
) -> None:
    # A CloudWatch Logs flow log calls for log groups; one TGW route table and one customer
    # prefix list (beside an AWS-managed one) call for one call of each per-parent kind.
    factory, stubs = stubbed
    conditional = [s for s in SPECS if s.needed is not None]
    answers: dict[str, list[dict[str, Any]]] = {
        "flow_logs": [
            {
                "FlowLogId": "fl-1",
                "ResourceId": "vpc-1",
                "FlowLogStatus": "ACTIVE",
                "LogDestinationType": "cloud-watch-logs",
                "LogGroupName": "flow-logs",
            }
        ],
        "tgw_route_tables": [{"TransitGatewayRouteTableId": "tgw-rtb-1", "State": "available"}],
        "prefix_lists": [
            {"PrefixListId": "pl-aws", "OwnerId": "AWS", "State": "create-complete"},
            {"PrefixListId": "pl-corp", "OwnerId": ACCOUNT, "State": "create-complete"},
        ],
    }
    parents = {"tgw_route_tables": "tgw-rtb-1", "prefix_lists": "pl-corp"}
    for spec in SPECS:
        parent = parents[spec.per.kind] if spec.per is not None else None
        stubs.ok(spec, answers.get(spec.kind), parent=parent)
    result = collect_region(factory, ACCOUNT, REGION)
    stubs.done()
    assert result.gaps == ()
    assert stubs.calls == [s.operation for s in SPECS]
    assert set(result.data.resources) == set(SPEC)
    assert {s.kind for s in conditional} >= {s.kind for s in PER_PARENT} | {"log_groups"}


def test_access_denied_on_one_call_is_one_gap_and_the_rest_is_read(
    stubbed: tuple[ClientFactory, _Stubs],
) -> None:
    factory, stubs = stubbed
    for spec in ALWAYS:
        if spec.kind == "flow_logs":
            stubs.error(spec, "AccessDenied")
        else:
            stubs.ok(spec)
    result = collect_region(factory, ACCOUNT, REGION)
    stubs.done()
    assert result.gaps == (
        Gap(
            ACCOUNT,
            REGION,
            "ec2:DescribeFlowLogs",
            "AccessDenied",
            "AccessDenied on DescribeFlowLogs",
        ),
    )
    assert set(result.data.resources) == EMPTY_REGION_KINDS - {"flow_logs"}
    # Every kind after the refused one was still asked for, once.
    assert stubs.calls == [s.operation for s in ALWAYS]


def test_two_refused_calls_give_two_gaps(stubbed: tuple[ClientFactory, _Stubs]) -> None:
    factory, stubs = stubbed
    refused = {"vpcs": "UnauthorizedOperation", "endpoints": "AccessDenied"}
    for spec in ALWAYS:
        if spec.kind in refused:
            stubs.error(spec, refused[spec.kind])
        else:
            stubs.ok(spec)
    result = collect_region(factory, ACCOUNT, REGION)
    stubs.done()
    assert [(g.operation, g.error_code) for g in result.gaps] == [
        ("ec2:DescribeVpcs", "UnauthorizedOperation"),
        ("ec2:DescribeVpcEndpoints", "AccessDenied"),
    ]
    assert set(result.data.resources) == EMPTY_REGION_KINDS - set(refused)


@pytest.mark.parametrize(("code", "status"), [("AuthFailure", 401), ("OptInRequired", 401)])
def test_region_wide_error_is_one_gap_and_stops_the_region(
    code: str, status: int, stubbed: tuple[ClientFactory, _Stubs]
) -> None:
    factory, stubs = stubbed
    assert SPECS[0].kind == "vpcs"
    assert SPECS[1].kind == "transit_gateways"
    stubs.ok(SPEC["vpcs"], [{"VpcId": "vpc-1"}])
    stubs.error(SPEC["transit_gateways"], code, status)
    result = collect_region(factory, ACCOUNT, REGION)
    stubs.done()
    assert len(result.gaps) == 1
    gap = result.gaps[0]
    assert (gap.account_id, gap.region, gap.operation, gap.error_code) == (
        ACCOUNT,
        REGION,
        "*",
        code,
    )
    assert "ec2:DescribeTransitGateways" in gap.message
    assert f"{code} on DescribeTransitGateways" in gap.message
    # No call after the region-wide refusal (an unqueued call would also have been a gap).
    assert stubs.calls == ["DescribeVpcs", "DescribeTransitGateways"]


# -- connection failures ------------------------------------------------------------------


def _no_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """One attempt per call, so a connection failure is not retried with back-off sleeps."""

    def single_attempt(max_attempts: int = 10) -> Config:
        del max_attempts
        return Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5)

    monkeypatch.setattr(session_module, "client_config", single_attempt)


def test_read_timeout_is_a_gap_named_after_the_error(
    moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_retries(monkeypatch)
    factory = _factory()
    client = factory.client("ec2", REGION)

    def time_out(request: Any, **_: Any) -> None:
        raise botocore.exceptions.ReadTimeoutError(endpoint_url=request.url)

    client.meta.events.register("before-send.ec2.DescribeSubnets", time_out)
    result = collect_region(factory, ACCOUNT, REGION)
    assert [(g.operation, g.error_code) for g in result.gaps] == [
        ("ec2:DescribeSubnets", "ReadTimeoutError")
    ]
    assert result.gaps[0].region == REGION
    # The other kinds still came from moto.
    assert set(result.data.resources) == EMPTY_REGION_KINDS - {"subnets"}
    assert result.data.resources["vpcs"]


class _Raw:
    """Just enough of a urllib3 response for botocore to read a body from."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def test_an_answer_that_is_not_aws_is_a_gap_not_the_end_of_the_scan(
    moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy (or moto, for an action it lacks) answering an HTML error page: botocore cannot
    # parse it and raises an exception that is neither a ClientError nor a BotoCoreError.
    _no_retries(monkeypatch)
    factory = _factory()
    client = factory.client("ec2", REGION)
    page = b"<!doctype html>\n<html><title>500 Internal Server Error</title></html>\n"

    def html_error(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 500, {"Content-Type": "text/html"}, _Raw(page))

    client.meta.events.register("before-send.ec2.DescribeNetworkAcls", html_error)
    result = collect_region(factory, ACCOUNT, REGION)
    assert [(g.operation, g.error_code) for g in result.gaps] == [
        ("ec2:DescribeNetworkAcls", "ResponseParserError")
    ]
    # Said plainly, and the body of the answer (a proxy's page) is not echoed.
    assert "did not answer like AWS" in result.gaps[0].message
    assert set(result.data.resources) == EMPTY_REGION_KINDS - {"network_acls"}


def test_a_timeout_that_a_retry_cures_is_no_gap(moto: None) -> None:
    # The factory's own retry policy (adaptive): one failed attempt, then success.
    factory = _factory()
    client = factory.client("ec2", REGION)
    failures = [botocore.exceptions.ReadTimeoutError(endpoint_url="http://127.0.0.1:1")]

    def time_out_once(event_name: str, **_: Any) -> None:
        if event_name.endswith(".DescribeSubnets") and failures:
            raise failures.pop()

    # On the generic event, so it runs after the factory's attempt counter, as a network
    # failure would.
    client.meta.events.register("before-send", time_out_once)
    result = collect_region(factory, ACCOUNT, REGION)
    assert result.gaps == ()
    assert result.data.resources["subnets"]
    assert factory.counter.calls == len(ALWAYS)
    assert factory.counter.attempts == len(ALWAYS) + 1


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_endpoint_gives_a_gap_per_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_retries(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    factory = _factory()
    result = collect_region(factory, ACCOUNT, REGION)
    assert [g.operation for g in result.gaps] == [_op(s) for s in ALWAYS]
    assert {g.error_code for g in result.gaps} == {"EndpointConnectionError"}
    assert all(g.message for g in result.gaps)
    assert result.data.resources == {}
