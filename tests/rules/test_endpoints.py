"""endpoint-interface-for-gateway-service: paid interface endpoints for S3 and DynamoDB."""

from __future__ import annotations

import pytest

from tests.builders import (
    ACCOUNT,
    OTHER_REGION,
    REGION,
    Side,
    SnapshotBuilder,
    load_fixture,
    run_rule,
)
from vpcaudit.evaluate import Evaluation
from vpcaudit.model import Finding, Severity
from vpcaudit.rules.endpoints import INTERFACE_FOR_GATEWAY_SERVICE

RULE_ID = "endpoint-interface-for-gateway-service"
CHECKS = ["vpn_gateways", "tgw_attachments", "peerings", "route_tables", "network_interfaces"]


def vpc_with_two_azs() -> SnapshotBuilder:
    """vpc-a with a subnet in each of two zones, both using the main route table."""
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24", az="a")
        .subnet("subnet-a2", "vpc-a", "10.0.2.0/24", az="b")
        .route_table("rtb-amain", "vpc-a", main=True)
    )


def with_interface(service: str, **kw: str) -> SnapshotBuilder:
    """vpc_with_two_azs plus an interface endpoint for service in both zones."""
    return vpc_with_two_azs().endpoint(
        "vpce-if", "vpc-a", service, subnets=["subnet-a1", "subnet-a2"], **kw
    )


def only(result: Evaluation) -> Finding:
    """The single finding, failing the test when there are none or several."""
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


@pytest.mark.parametrize("service", ["s3", "dynamodb"])
def test_interface_endpoint_for_gateway_service_is_medium(service: str) -> None:
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, with_interface(service).build()))
    assert f.rule_id == RULE_ID
    assert f.severity is Severity.MEDIUM
    assert f.resource.resource_type == "vpc-endpoint"
    assert f.resource.resource_id == "vpce-if"
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)
    assert f.resource.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-endpoint/vpce-if"
    assert f.evidence["service"] == f"com.amazonaws.{REGION}.{service}"
    assert f.evidence["service_region"] == REGION
    assert f.evidence["az_count"] == 2
    assert f.evidence["monthly_cost_usd"] == 14.6
    assert f.evidence["legitimate_uses"] == []
    assert f.evidence["unchecked"] == []
    assert f.evidence["gateway_endpoints"] == []
    assert f.evidence["subnet_ids"] == ["subnet-a1", "subnet-a2"]
    assert "$14.60/month" in f.message
    assert f.remediation.splitlines() == [
        "aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id vpc-a "
        f"--service-name com.amazonaws.{REGION}.{service} --route-table-ids rtb-amain "
        f"--region {REGION}  # as account {ACCOUNT}",
        f"aws ec2 delete-vpc-endpoints --vpc-endpoint-ids vpce-if --region {REGION}  "
        f"# as account {ACCOUNT}",
    ]


def test_az_count_is_zones_not_subnets() -> None:
    snap = (
        vpc_with_two_azs()
        .subnet("subnet-a3", "vpc-a", "10.0.3.0/24", az="a")
        .endpoint("vpce-if", "vpc-a", "s3", subnets=["subnet-a1", "subnet-a3"])
        .build()
    )
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    assert f.evidence["az_count"] == 1
    assert f.evidence["monthly_cost_usd"] == 7.3


def test_custom_price_parameters() -> None:
    snap = with_interface("s3").build()
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap, hourly_price_per_az=0.013))
    assert f.evidence["monthly_cost_usd"] == 18.98
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap, hours_per_month=720.0))
    assert f.evidence["monthly_cost_usd"] == 14.4


def test_gateway_endpoint_is_not_flagged() -> None:
    snap = (
        vpc_with_two_azs()
        .endpoint("vpce-gw", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-amain"])
        .build()
    )
    assert run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap).findings == ()


@pytest.mark.parametrize(
    "service",
    [
        f"com.amazonaws.{REGION}.sqs",
        f"com.amazonaws.{REGION}.s3-outposts",
        f"com.amazonaws.{REGION}.dynamodb-streams",
        "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
    ],
)
def test_interface_for_other_services_is_not_flagged(service: str) -> None:
    assert run_rule(INTERFACE_FOR_GATEWAY_SERVICE, with_interface(service).build()).findings == ()


# A rejected endpoint is not gone: it bills until deleted (tests/rules/test_issue11_endpoints.py).
@pytest.mark.parametrize("state", ["deleted", "Deleted", "deleting", "failed"])
def test_gone_endpoint_is_not_flagged(state: str) -> None:
    snap = with_interface("s3", state=state).build()
    assert run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap).findings == ()


@pytest.mark.parametrize("state", ["available", "Available", "pending", "pendingAcceptance"])
def test_live_endpoint_states_are_flagged(state: str) -> None:
    snap = with_interface("s3", state=state).build()
    assert only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap)).severity is Severity.MEDIUM


def test_attached_vpn_gateway_lowers_to_low() -> None:
    snap = with_interface("s3").vpn_gateway("vgw-0dc", "vpc-a").build()
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    assert f.severity is Severity.LOW
    assert f.evidence["legitimate_uses"] == ["VPN/Direct Connect gateway vgw-0dc"]
    assert "VPN/Direct Connect gateway vgw-0dc" in f.message


def test_detached_vpn_gateway_does_not_lower() -> None:
    snap = with_interface("s3").vpn_gateway("vgw-0dc", "vpc-a", attachment_state="detached")
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap.build()))
    assert f.severity is Severity.MEDIUM
    assert f.evidence["legitimate_uses"] == []


def test_vpn_gateway_on_another_vpc_does_not_lower() -> None:
    snap = with_interface("s3").vpc("vpc-other", "10.9.0.0/16").vpn_gateway("vgw-0x", "vpc-other")
    assert only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap.build())).severity is Severity.MEDIUM


def test_transit_gateway_attachment_lowers_to_low() -> None:
    snap = with_interface("dynamodb").tgw_attachment("tgw-attach-0a", "vpc-a").build()
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    assert f.severity is Severity.LOW
    assert f.evidence["legitimate_uses"] == ["Transit Gateway attachment tgw-attach-0a"]


def test_deleted_transit_gateway_attachment_does_not_lower() -> None:
    snap = with_interface("s3").tgw_attachment("tgw-attach-0a", "vpc-a", state="deleted")
    assert only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap.build())).severity is Severity.MEDIUM


def test_active_peering_lowers_to_low() -> None:
    peer = Side(ACCOUNT, REGION, "vpc-peer", ("10.5.0.0/16",))
    snap = with_interface("s3").peering("pcx-0p", "vpc-a", peer).build()
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    assert f.severity is Severity.LOW
    assert f.evidence["legitimate_uses"] == ["active peering pcx-0p"]


def test_pending_peering_does_not_lower() -> None:
    peer = Side(ACCOUNT, REGION, "vpc-peer", ("10.5.0.0/16",))
    snap = with_interface("s3").peering("pcx-0p", "vpc-a", peer, status="pending-acceptance")
    assert only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap.build())).severity is Severity.MEDIUM


def test_cross_region_service_is_not_flagged() -> None:
    # A gateway endpoint serves only its own region: nothing free could replace this one.
    snap = with_interface(f"com.amazonaws.{OTHER_REGION}.s3").build()
    assert run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap).findings == ()


def test_several_uses_are_all_listed() -> None:
    snap = (
        with_interface("s3")
        .vpn_gateway("vgw-0dc", "vpc-a")
        .tgw_attachment("tgw-attach-0a", "vpc-a")
        .build()
    )
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    assert f.severity is Severity.LOW
    assert f.evidence["legitimate_uses"] == [
        "VPN/Direct Connect gateway vgw-0dc",
        "Transit Gateway attachment tgw-attach-0a",
    ]


@pytest.mark.parametrize(
    ("operation", "kind"),
    [
        ("DescribeVpnGateways", "vpn_gateways"),
        ("DescribeTransitGatewayAttachments", "tgw_attachments"),
        ("DescribeVpcPeeringConnections", "peerings"),
    ],
)
def test_gap_lists_the_check_as_unchecked(operation: str, kind: str) -> None:
    snap = with_interface("s3").gap(operation).build()
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    assert f.evidence["unchecked"] == [kind]
    assert f.evidence["legitimate_uses"] == []
    assert f.severity is Severity.MEDIUM


def test_region_wide_gap_lists_every_check_as_unchecked() -> None:
    snap = with_interface("s3").gap("*", code="AuthFailure").build()
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    assert f.evidence["unchecked"] == CHECKS


def test_gap_in_another_region_does_not_leave_checks_unchecked() -> None:
    snap = with_interface("s3").gap("DescribeVpnGateways", region=OTHER_REGION).build()
    assert only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap)).evidence["unchecked"] == []


def test_existing_gateway_endpoint_is_evidence_and_not_recreated() -> None:
    snap = (
        with_interface("s3")
        .endpoint("vpce-gw", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-amain"])
        .build()
    )
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    assert f.resource.resource_id == "vpce-if"
    assert f.evidence["gateway_endpoints"] == ["vpce-gw"]
    assert "create-vpc-endpoint" not in f.remediation
    assert f.remediation == (
        f"aws ec2 delete-vpc-endpoints --vpc-endpoint-ids vpce-if --region {REGION}  "
        f"# as account {ACCOUNT}"
    )


def test_gateway_endpoint_for_the_other_service_does_not_count() -> None:
    snap = (
        with_interface("s3")
        .endpoint("vpce-gw", "vpc-a", "dynamodb", endpoint_type="Gateway")
        .build()
    )
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    assert f.evidence["gateway_endpoints"] == []
    assert "create-vpc-endpoint" in f.remediation


def test_fixture_snapshot_endpoints() -> None:
    result = run_rule(INTERFACE_FOR_GATEWAY_SERVICE, load_fixture("endpoints.json"))
    assert [(f.resource.resource_id, f.severity) for f in result.findings] == [
        ("vpce-0s3iface", Severity.MEDIUM),
        ("vpce-0ddbiface", Severity.LOW),
    ]
    waste, onprem = result.findings
    assert waste.evidence["monthly_cost_usd"] == 14.6
    assert "--route-table-ids rtb-0lake" in waste.remediation
    assert onprem.evidence["monthly_cost_usd"] == 7.3
    assert onprem.evidence["legitimate_uses"] == ["VPN/Direct Connect gateway vgw-0dc"]
    assert onprem.evidence["gateway_endpoints"] == ["vpce-0ddbgw"]
    assert "create-vpc-endpoint" not in onprem.remediation
