"""Collectors: every kind read with one paginated call per region, failures become gaps."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
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


def _factory(region: str = REGION) -> ClientFactory:
    return ClientFactory(boto3.Session(region_name=region))


@pytest.fixture
def moto() -> Iterator[None]:
    """moto in-process, fresh for each test."""
    with mock_aws():
        yield


# -- moto in-process: every kind, one call per kind ------------------------------------------


@pytest.fixture
def seeded(moto: None) -> dict[str, str]:
    """One of each resource kind in us-east-1 (created through an unguarded client)."""
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
    flow_log = ec2.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="cloud-watch-logs",
        LogGroupName="flow-logs",
        DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/flow-logs",
    )["FlowLogIds"][0]
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    tgwa = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet]
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    return {
        "vpcs": vpc,
        "subnets": subnet,
        "route_tables": rtb,
        "peerings": pcx,
        "endpoints": vpce,
        "flow_logs": flow_log,
        "vpn_gateways": vgw,
        "tgw_attachments": tgwa,
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
    "prefix_lists": "PrefixListId",
}


def test_specs_cover_every_kind_once() -> None:
    assert set(SPEC) == set(_ID_FIELDS)
    assert len(SPECS) == len(SPEC)
    assert SPEC["route_tables"].method == "describe_route_tables"
    assert SPEC["peerings"].method == "describe_vpc_peering_connections"
    assert SPEC["tgw_attachments"].method == "describe_transit_gateway_attachments"


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
    assert len(result.data.resources["vpcs"]) >= 7
    assert len(result.data.resources["subnets"]) >= 16
    assert factory.counter.calls == len(SPECS)
    assert factory.counter.by_operation == {f"ec2:{s.operation}": 1 for s in SPECS}


def test_empty_region_makes_exactly_one_call_per_kind(moto: None) -> None:
    factory = _factory()
    result = collect_region(factory, ACCOUNT, "eu-west-1")
    assert result.gaps == ()
    assert factory.counter.calls == len(SPECS)
    assert factory.counter.attempts == len(SPECS)
    assert result.data.resources["peerings"] == []
    assert result.data.resources["flow_logs"] == []


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
    assert factory.counter.calls == 2 * len(SPECS)
    us = next(r for r in snap.regions if r.region == REGION)
    eu = next(r for r in snap.regions if r.region == "eu-west-1")
    assert seeded["vpcs"] in {v["VpcId"] for v in us.resources["vpcs"]}
    assert seeded["vpcs"] not in {v["VpcId"] for v in eu.resources["vpcs"]}


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


# -- botocore Stubber: real AWS shapes moto does not produce --------------------------------


def _route_table(rtb_id: str) -> dict[str, Any]:
    return {"RouteTableId": rtb_id, "VpcId": "vpc-1", "Routes": [], "Associations": []}


def _record_calls(client: Any) -> list[str]:
    """The operations the client is asked for, in order.

    Stubber answers in before-call, ahead of the factory's call counter, so the calls are
    counted one event earlier, where the guard also looks.
    """
    calls: list[str] = []

    def on_build(model: Any, **_: Any) -> None:
        calls.append(model.name)

    client.meta.events.register("before-parameter-build.ec2", on_build)
    return calls


def _stub_all(
    stubber: Stubber,
    overrides: dict[str, Any] | None = None,
) -> None:
    """Queue one answer per spec, in collection order; `overrides[kind]` replaces the default.

    An override is a callable taking (stubber, spec) that queues its own responses.
    """
    overrides = overrides or {}
    for spec in SPECS:
        if spec.kind in overrides:
            overrides[spec.kind](stubber, spec)
            continue
        params = {} if spec.page_size is None else {"MaxResults": spec.page_size}
        stubber.add_response(spec.method, {spec.result_key: []}, params)


def test_pagination_reads_every_page_with_the_spec_page_size() -> None:
    factory = _factory()
    client = factory.client("ec2", REGION)
    size = SPEC["route_tables"].page_size
    assert size == 100

    def two_pages(stubber: Stubber, spec: ResourceSpec) -> None:
        stubber.add_response(
            spec.method,
            {spec.result_key: [_route_table("rtb-1"), _route_table("rtb-2")], "NextToken": "t1"},
            {"MaxResults": size},
        )
        stubber.add_response(
            spec.method,
            {spec.result_key: [_route_table("rtb-3")]},
            {"MaxResults": size, "NextToken": "t1"},
        )

    calls = _record_calls(client)
    with Stubber(client) as stubber:
        _stub_all(stubber, {"route_tables": two_pages})
        result = collect_region(factory, ACCOUNT, REGION)
        stubber.assert_no_pending_responses()
    assert result.gaps == ()
    assert [t["RouteTableId"] for t in result.data.resources["route_tables"]] == [
        "rtb-1",
        "rtb-2",
        "rtb-3",
    ]
    assert calls.count("DescribeRouteTables") == 2
    assert len(calls) == len(SPECS) + 1


def test_every_paginated_spec_sends_its_max_results() -> None:
    # Stubber checks the parameters of each call: MaxResults is the spec's page size, and
    # the one unpaginated operation (DescribeVpnGateways) is called without it.
    factory = _factory()
    client = factory.client("ec2", REGION)
    calls = _record_calls(client)
    with Stubber(client) as stubber:
        _stub_all(stubber)
        result = collect_region(factory, ACCOUNT, REGION)
        stubber.assert_no_pending_responses()
    assert result.gaps == ()
    assert calls == [s.operation for s in SPECS]
    assert all(result.data.resources[s.kind] == [] for s in SPECS)


def _error(code: str, status: int) -> Any:
    def queue(stubber: Stubber, spec: ResourceSpec) -> None:
        params = {} if spec.page_size is None else {"MaxResults": spec.page_size}
        stubber.add_client_error(
            spec.method,
            service_error_code=code,
            service_message=f"{code} on {spec.operation}",
            http_status_code=status,
            expected_params=params,
        )

    return queue


def test_access_denied_on_one_call_is_one_gap_and_the_rest_is_read() -> None:
    factory = _factory()
    client = factory.client("ec2", REGION)
    calls = _record_calls(client)
    with Stubber(client) as stubber:
        _stub_all(stubber, {"flow_logs": _error("AccessDenied", 403)})
        result = collect_region(factory, ACCOUNT, REGION)
        stubber.assert_no_pending_responses()
    assert result.gaps == (
        Gap(
            ACCOUNT,
            REGION,
            "ec2:DescribeFlowLogs",
            "AccessDenied",
            "AccessDenied on DescribeFlowLogs",
        ),
    )
    assert "flow_logs" not in result.data.resources
    assert set(result.data.resources) == set(SPEC) - {"flow_logs"}
    # Every kind after the refused one was still asked for, once.
    assert calls == [s.operation for s in SPECS]


def test_two_refused_calls_give_two_gaps() -> None:
    factory = _factory()
    with Stubber(factory.client("ec2", REGION)) as stubber:
        _stub_all(
            stubber,
            {
                "vpcs": _error("UnauthorizedOperation", 403),
                "endpoints": _error("AccessDenied", 403),
            },
        )
        result = collect_region(factory, ACCOUNT, REGION)
        stubber.assert_no_pending_responses()
    assert [(g.operation, g.error_code) for g in result.gaps] == [
        ("ec2:DescribeVpcs", "UnauthorizedOperation"),
        ("ec2:DescribeVpcEndpoints", "AccessDenied"),
    ]
    assert set(result.data.resources) == set(SPEC) - {"vpcs", "endpoints"}


@pytest.mark.parametrize(("code", "status"), [("AuthFailure", 401), ("OptInRequired", 401)])
def test_region_wide_error_is_one_gap_and_stops_the_region(code: str, status: int) -> None:
    factory = _factory()
    client = factory.client("ec2", REGION)
    calls = _record_calls(client)
    with Stubber(client) as stubber:
        stubber.add_response("describe_vpcs", {"Vpcs": [{"VpcId": "vpc-1"}]}, {"MaxResults": 1000})
        _error(code, status)(stubber, SPEC["subnets"])
        result = collect_region(factory, ACCOUNT, REGION)
        stubber.assert_no_pending_responses()
    assert len(result.gaps) == 1
    gap = result.gaps[0]
    assert (gap.account_id, gap.region, gap.operation, gap.error_code) == (
        ACCOUNT,
        REGION,
        "*",
        code,
    )
    assert "ec2:DescribeSubnets" in gap.message
    assert f"{code} on DescribeSubnets" in gap.message
    # No call after the region-wide refusal.
    assert calls == ["DescribeVpcs", "DescribeSubnets"]


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
    assert "subnets" not in result.data.resources
    # The other kinds still came from moto.
    assert set(result.data.resources) == set(SPEC) - {"subnets"}
    assert result.data.resources["vpcs"]


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_endpoint_gives_a_gap_per_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_retries(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    factory = _factory()
    result = collect_region(factory, ACCOUNT, REGION)
    assert [g.operation for g in result.gaps] == [f"ec2:{s.operation}" for s in SPECS]
    assert {g.error_code for g in result.gaps} == {"EndpointConnectionError"}
    assert all(g.message for g in result.gaps)
    assert result.data.resources == {}
