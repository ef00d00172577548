"""Issue 11, the endpoint items: 3 (no delete where a legitimate use is seen), 4 (another
region's service), 5 (Cloud WAN, Client VPN, private DNS for inbound Resolver endpoints only),
9 (a Deny that restricts Allow *), 10 (hub endpoints shared through Route 53), 14 (a NAT table
missing from an existing gateway endpoint: one finding, modify-vpc-endpoint), 16 (a VPC in one
zone), 19 (a rejected endpoint still bills), and the legitimate designs every endpoint rule
documents.

Each expectation is written from AWS's documentation before running the rule:
- A gateway endpoint serves only its own VPC and its own region's S3 or DynamoDB; it does not
  carry traffic from on-premises, from peered VPCs or through a Transit Gateway (PrivateLink
  guide, "Gateway endpoints for Amazon S3").
- DnsOptions.PrivateDnsOnlyForInboundResolverEndpoint "routes traffic that originates from the
  VPC to the gateway endpoint and traffic that originates from on-premises to the interface
  endpoint"; it exists for services with both endpoint types (EC2 API, DnsOptionsSpecification).
- Client VPN reaches a VPC through network interfaces in its associated subnets, described
  "ClientVPN Endpoint resource"; a Cloud WAN route has a CoreNetworkArn target.
- Through an endpoint, aws:SourceVpc is the VPC the request traverses and aws:SourceVpce the
  endpoint (IAM global condition keys): in the endpoint's own policy both are fixed.
- "You will be billed for each hour that your VPC endpoint remains provisioned in each
  Availability Zone, irrespective of the state of its association with the service ...
  Such VPC endpoints cannot be reused, you should delete them" (AWS PrivateLink pricing).
- The managed private hosted zone private DNS creates "only works within the VPC with the
  interface endpoint"; spokes sharing a hub endpoint use their own private hosted zone with
  private DNS off on the endpoint (AWS multi-VPC whitepaper, centralized endpoints).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    Side,
    SnapshotBuilder,
    permission,
    route,
    run_rule,
    unverified_reasons,
)
from tests.rules.test_model_rules import central_egress
from vpcaudit.awscli import ask
from vpcaudit.evaluate import Evaluation, evaluate
from vpcaudit.inventory import Inventory
from vpcaudit.model import Finding, Severity
from vpcaudit.policy import Policy
from vpcaudit.rules.endpoints import (
    GATEWAY_PARTIAL,
    GATEWAY_UNUSED,
    INTERFACE_FOR_GATEWAY_SERVICE,
    NAT_TRAFFIC,
    POLICY_FULL_ACCESS,
    PRIVATE_DNS_DISABLED,
    SG_OPEN,
    SINGLE_AZ,
)

CORE = "arn:aws:networkmanager::111111111111:core-network/core-network-0a1b2c3d4e5f67890"
INBOUND_ONLY = {"DnsRecordIpType": "ipv4", "PrivateDnsOnlyForInboundResolverEndpoint": True}


def only(result: Evaluation) -> Finding:
    """The single finding, failing the test when there are none or several."""
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def cmd(command: str, account: str = ACCOUNT, region: str = REGION) -> str:
    """An AWS CLI line as the rules write it."""
    return f"{command} --region {region}  # as account {account}"


def commands(remediation: str) -> list[str]:
    """The command lines of a remediation (comments left out)."""
    return [line for line in remediation.splitlines() if not line.startswith("#")]


def two_zone_vpc(*, account: str = ACCOUNT, region: str = REGION) -> SnapshotBuilder:
    """vpc-a (10.0.0.0/16): subnet-a1 (zone a) and subnet-a2 (zone b) on the main table."""
    where: dict[str, Any] = {"account": account, "region": region}
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", **where)
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24", az="a", **where)
        .subnet("subnet-a2", "vpc-a", "10.0.2.0/24", az="b", **where)
        .route_table("rtb-amain", "vpc-a", main=True, **where)
    )


def interface(
    b: SnapshotBuilder, service: str = "s3", endpoint_id: str = "vpce-if", **kw: Any
) -> SnapshotBuilder:
    """An interface endpoint in vpc-a's two subnets."""
    return b.endpoint(endpoint_id, "vpc-a", service, subnets=["subnet-a1", "subnet-a2"], **kw)


def gateway(
    b: SnapshotBuilder, service: str = "s3", tables: tuple[str, ...] = ("rtb-amain",), **kw: Any
) -> SnapshotBuilder:
    """A gateway endpoint vpce-gw<service> in vpc-a on the given tables."""
    return b.endpoint(
        f"vpce-gw{service}",
        "vpc-a",
        service,
        endpoint_type="Gateway",
        route_tables=list(tables),
        **kw,
    )


# -- item 3: a legitimate use the rule sees is kept, never deleted ----------------------------


def test_issue_direct_connect_use_keeps_the_endpoint() -> None:
    # The issue's topology: an S3 interface endpoint (private DNS on, AWS's default) in a VPC
    # with a virtual private gateway (VPN or Direct Connect) and no gateway endpoint.
    snap = interface(two_zone_vpc()).vpn_gateway("vgw-0dc", "vpc-a").build()
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    assert f.severity is Severity.LOW
    assert f.evidence["legitimate_uses"] == ["VPN/Direct Connect gateway vgw-0dc"]
    assert "delete-vpc-endpoints" not in f.remediation
    first = f.remediation.splitlines()[0]
    assert first.startswith("# vpce-if may carry traffic a gateway endpoint cannot")
    assert "eni-vpce-if-subnet-a1 eni-vpce-if-subnet-a2" in first
    # Keep it for on-premises, give in-VPC clients the free gateway endpoint, and let only
    # inbound Resolver queries resolve to the interface endpoint (it needs the gateway first).
    assert commands(f.remediation) == [
        cmd(
            "aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id vpc-a "
            f"--service-name com.amazonaws.{REGION}.s3 --route-table-ids rtb-amain"
        ),
        cmd(
            "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-if "
            "--dns-options PrivateDnsOnlyForInboundResolverEndpoint=true"
        ),
    ]


def test_transit_gateway_use_beside_an_existing_dynamodb_gateway_endpoint() -> None:
    # Variant: DynamoDB, a Transit Gateway attachment, a gateway endpoint already there.
    b = gateway(interface(two_zone_vpc(), "dynamodb"), "dynamodb")
    snap = b.tgw_attachment("tgw-attach-0a", "vpc-a").build()
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    assert f.severity is Severity.LOW
    assert f.evidence["gateway_endpoints"] == ["vpce-gwdynamodb"]
    assert commands(f.remediation) == [
        cmd(
            "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-if "
            "--dns-options PrivateDnsOnlyForInboundResolverEndpoint=true"
        )
    ]
    assert "delete" not in f.remediation


def test_cross_account_peering_with_private_dns_off_beside_a_gateway_needs_no_command() -> None:
    # Variant: a peer in another account; private DNS off and a gateway endpoint: in-VPC
    # clients already use the gateway endpoint (the classic hybrid pattern). Nothing to run.
    peer = Side(OTHER_ACCOUNT, REGION, "vpc-peer", ("10.5.0.0/16",))
    b = gateway(interface(two_zone_vpc(), private_dns=False))
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, b.peering("pcx-0p", "vpc-a", peer).build()))
    assert f.severity is Severity.LOW
    assert commands(f.remediation) == []
    assert "already use the gateway endpoint (vpce-gws3)" in f.remediation


def test_ipv6_vpc_with_tgw_and_private_dns_off_only_adds_the_gateway() -> None:
    # Variant: a dual-stack VPC, private DNS off, no gateway endpoint: add it, keep the rest.
    b = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", ipv6=["2600:1f18:a::/56"])
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24", az="a", ipv6=["2600:1f18:a:1::/64"])
        .subnet("subnet-a2", "vpc-a", "10.0.2.0/24", az="b", ipv6=["2600:1f18:a:2::/64"])
        .route_table("rtb-amain", "vpc-a", main=True, routes=[route("::/0", "tgw-0hub")])
        .tgw_attachment("tgw-attach-0a", "vpc-a")
    )
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, interface(b, private_dns=False).build()))
    assert f.severity is Severity.LOW
    assert commands(f.remediation) == [
        cmd(
            "aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id vpc-a "
            f"--service-name com.amazonaws.{REGION}.s3 --route-table-ids rtb-amain"
        )
    ]


def test_unread_checks_ask_to_confirm_before_deleting() -> None:
    # Unknown is not guilty: with the VPN gateways unread, the fix says to confirm first.
    snap = interface(two_zone_vpc()).gap("DescribeVpnGateways").build()
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    lines = f.remediation.splitlines()
    assert lines[1].startswith("# vpn_gateways could not be read: first confirm nothing")
    assert lines[2] == cmd("aws ec2 delete-vpc-endpoints --vpc-endpoint-ids vpce-if")


# -- item 4: another region's service ---------------------------------------------------------


def test_issue_another_regions_s3_is_not_told_to_get_a_local_gateway_endpoint() -> None:
    # The issue's topology: com.amazonaws.eu-west-1.s3 in a us-east-1 VPC. A gateway endpoint
    # for it cannot exist in us-east-1; the interface endpoint is the only private path.
    snap = interface(two_zone_vpc(), f"com.amazonaws.{OTHER_REGION}.s3").build()
    assert run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap).findings == ()


def test_another_regions_dynamodb_beside_a_local_s3_endpoint() -> None:
    # Variant: a VPC in eu-west-1 with us-east-1's DynamoDB and its own region's S3: only the
    # local S3 endpoint is judged, and only its own region's service is ever created.
    b = two_zone_vpc(region=OTHER_REGION)
    b.endpoint(
        "vpce-ddbx",
        "vpc-a",
        f"com.amazonaws.{REGION}.dynamodb",
        subnets=["subnet-a1"],
        region=OTHER_REGION,
    )
    b.endpoint("vpce-s3", "vpc-a", "s3", subnets=["subnet-a1"], region=OTHER_REGION)
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, b.build()))
    assert f.resource.resource_id == "vpce-s3"
    assert f"--service-name com.amazonaws.{OTHER_REGION}.s3 " in f.remediation
    assert f"com.amazonaws.{REGION}." not in f.remediation


# -- item 5: Cloud WAN, Client VPN, private DNS for inbound Resolver endpoints only -----------


@pytest.mark.parametrize("destination", ["0.0.0.0/0", "::/0", "10.64.0.0/10"])
def test_issue_route_to_a_cloud_wan_core_network_is_a_use(destination: str) -> None:
    b = two_zone_vpc()
    b.route_table("rtb-a1", "vpc-a", subnets=["subnet-a1"], routes=[route(destination, CORE)])
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, interface(b, "dynamodb").build()))
    assert f.severity is Severity.LOW
    assert f.evidence["legitimate_uses"] == [f"Cloud WAN core network {CORE}"]
    assert "delete-vpc-endpoints" not in f.remediation


def test_blackholed_core_network_route_is_not_a_use() -> None:
    b = two_zone_vpc()
    b.route_table(
        "rtb-a1",
        "vpc-a",
        subnets=["subnet-a1"],
        routes=[route("0.0.0.0/0", CORE, state="blackhole")],
    )
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, interface(b).build()))
    assert f.severity is Severity.MEDIUM


def test_issue_client_vpn_interfaces_in_the_vpc_are_a_use() -> None:
    b = interface(two_zone_vpc()).network_interface(
        "eni-0cvpn",
        "subnet-a1",
        private_ip="10.0.1.99",
        description="ClientVPN Endpoint resource",
        requester_managed=True,
    )
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, b.build()))
    assert f.severity is Severity.LOW
    assert f.evidence["legitimate_uses"] == ["Client VPN network interface eni-0cvpn"]
    assert "delete-vpc-endpoints" not in f.remediation


def test_client_vpn_in_another_account_and_region_named_by_its_endpoint() -> None:
    where: dict[str, Any] = {"account": OTHER_ACCOUNT, "region": OTHER_REGION}
    b = interface(two_zone_vpc(**where), "dynamodb", **where)
    for eni, subnet, ip in (("eni-1", "subnet-a1", "10.0.1.9"), ("eni-2", "subnet-a2", "10.0.2.9")):
        b.network_interface(
            eni,
            subnet,
            private_ip=ip,
            description="ClientVPN Endpoint resource cvpn-endpoint-0123456789abcdef0",
            requester_managed=True,
            **where,
        )
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, b.build()))
    assert f.evidence["legitimate_uses"] == ["Client VPN cvpn-endpoint-0123456789abcdef0"]
    assert f.remediation.endswith(f"--region {OTHER_REGION}  # as account {OTHER_ACCOUNT}")


def test_interfaces_of_other_kinds_are_not_client_vpn() -> None:
    b = interface(two_zone_vpc()).network_interface(
        "eni-0lb", "subnet-a1", private_ip="10.0.1.7", description="ELB app/web/0123456789"
    )
    assert only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, b.build())).severity is Severity.MEDIUM


@pytest.mark.parametrize("service", ["s3", "dynamodb"])
def test_issue_inbound_resolver_only_beside_a_gateway_endpoint_is_not_waste(service: str) -> None:
    # AWS's recommended hybrid pattern: in-VPC traffic takes the gateway endpoint.
    b = gateway(interface(two_zone_vpc(), service, dns_options=INBOUND_ONLY), service)
    assert run_rule(INTERFACE_FOR_GATEWAY_SERVICE, b.build()).findings == ()


def test_inbound_resolver_only_without_a_gateway_endpoint_is_still_judged() -> None:
    # Without the gateway endpoint, in-VPC clients resolve S3's public name and miss both.
    snap = interface(two_zone_vpc(), dns_options=INBOUND_ONLY).build()
    assert only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap)).severity is Severity.MEDIUM


def test_private_dns_for_all_resolvers_beside_a_gateway_endpoint_is_still_waste() -> None:
    # With private DNS for every resolver, in-VPC clients resolve S3 to the paid interface.
    snap = gateway(interface(two_zone_vpc(), dns_options={"DnsRecordIpType": "ipv4"})).build()
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    assert f.severity is Severity.MEDIUM
    assert f.remediation == cmd("aws ec2 delete-vpc-endpoints --vpc-endpoint-ids vpce-if")


def test_inventory_reads_dns_options_and_defaults_when_absent() -> None:
    b = interface(
        two_zone_vpc(),
        dns_options={
            "DnsRecordIpType": "dualstack",
            "PrivateDnsOnlyForInboundResolverEndpoint": True,
        },
    )
    b.endpoint("vpce-plain", "vpc-a", "sqs", subnets=["subnet-a1"])
    b.endpoint(
        "vpce-v6",
        "vpc-a",
        "sqs",
        subnets=["subnet-a1"],
        dns_options={"DnsRecordIpType": "ipv6", "PrivateDnsOnlyForInboundResolverEndpoint": False},
    )
    eps = {e.endpoint_id: e for e in Inventory.from_snapshot(b.build()).endpoints}
    assert eps["vpce-if"].dns_record_ip_type == "dualstack"
    assert eps["vpce-if"].private_dns_only_for_inbound_resolver is True
    assert (
        eps["vpce-plain"].dns_record_ip_type,
        eps["vpce-plain"].private_dns_only_for_inbound_resolver,
    ) == ("", False)
    assert (
        eps["vpce-v6"].dns_record_ip_type,
        eps["vpce-v6"].private_dns_only_for_inbound_resolver,
    ) == ("ipv6", False)


def test_network_interfaces_not_read_is_listed_as_unchecked() -> None:
    snap = interface(two_zone_vpc()).gap("DescribeNetworkInterfaces").build()
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    assert f.evidence["unchecked"] == ["network_interfaces"]
    assert "could not be read" in f.remediation


# -- item 9: a Deny that restricts an Allow of everything -------------------------------------

ALLOW_ALL = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}


def deny(condition: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """A Deny of everything by anyone under a condition."""
    return {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "*",
        "Resource": "*",
        "Condition": condition,
        **kw,
    }


def with_policy(
    *statements: dict[str, Any], service: str = "s3", kind: str = "Gateway"
) -> SnapshotBuilder:
    policy = {"Version": "2012-10-17", "Statement": list(statements)}
    extra: dict[str, Any] = (
        {"route_tables": ["rtb-amain"]} if kind == "Gateway" else {"subnets": ["subnet-a1"]}
    )
    return two_zone_vpc().endpoint(
        "vpce-p", "vpc-a", service, endpoint_type=kind, policy=policy, **extra
    )


def test_issue_allow_all_beside_a_deny_outside_the_organization_is_restricted() -> None:
    snap = with_policy(
        ALLOW_ALL, deny({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}})
    ).build()
    assert run_rule(POLICY_FULL_ACCESS, snap).findings == ()


@pytest.mark.parametrize(
    ("condition", "action"),
    [
        ({"StringNotEquals": {"aws:PrincipalAccount": ["111111111111", "222222222222"]}}, "*"),
        ({"StringNotEquals": {"aws:ResourceOrgID": "o-abc123"}}, "*"),
        ({"StringNotEquals": {"aws:ResourceAccount": "111111111111"}}, "s3:*"),
        # AWS's data perimeter example: AWS services acting for you are let through.
        (
            {
                "StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
            "*",
        ),
        (
            {"ForAnyValue:StringNotLike": {"aws:PrincipalOrgPaths": "o-abc123/r-ab12/ou-ab12-*"}},
            "*",
        ),
    ],
    ids=["principal-account", "resource-org", "resource-account-s3", "perimeter", "org-paths"],
)
def test_other_perimeter_denies_restrict(condition: dict[str, Any], action: str) -> None:
    snap = with_policy(ALLOW_ALL, deny(condition, Action=action)).build()
    assert run_rule(POLICY_FULL_ACCESS, snap).findings == ()


def test_perimeter_deny_on_an_interface_endpoint_of_another_service() -> None:
    # Variant: an SQS interface endpoint, the Deny naming sqs:* (every action it carries).
    snap = with_policy(
        ALLOW_ALL,
        deny({"StringNotEquals": {"aws:ResourceOrgID": "o-abc123"}}, Action=["sqs:*"]),
        service="sqs",
        kind="Interface",
    ).build()
    assert run_rule(POLICY_FULL_ACCESS, snap).findings == ()


@pytest.mark.parametrize(
    ("condition", "key"),
    [
        ({"StringNotEquals": {"aws:SourceVpc": "vpc-a"}}, "aws:SourceVpc"),
        ({"StringNotEquals": {"aws:sourceVpce": "vpce-p"}}, "aws:SourceVpce"),
        (
            {
                "StringNotEquals": {"aws:PrincipalOrgID": "o-abc123", "aws:SourceVpc": "vpc-a"},
            },
            "aws:SourceVpc",
        ),
    ],
    ids=["source-vpc", "source-vpce", "org-and-source-vpc"],
)
def test_issue_deny_on_the_endpoints_own_vpc_restricts_nothing(
    condition: dict[str, Any], key: str
) -> None:
    # aws:SourceVpc is always vpc-a through this endpoint: "not vpc-a" never holds, and a Deny
    # whose clauses are ANDed with it never applies.
    snap = with_policy(ALLOW_ALL, deny(condition)).build()
    f = only(run_rule(POLICY_FULL_ACCESS, snap))
    assert f.evidence["statement"] == ALLOW_ALL
    assert f"Its Deny on {key} never applies" in f.message


def test_allow_conditioned_only_on_the_endpoint_itself_is_full_access() -> None:
    allow = {**ALLOW_ALL, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-p"}}}
    f = only(run_rule(POLICY_FULL_ACCESS, with_policy(allow).build()))
    assert f.evidence["statement"] == allow


def test_deny_of_other_principals_only_or_some_actions_does_not_restrict() -> None:
    limited = {
        "Effect": "Deny",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}},
    }
    some = deny({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}, Action="s3:GetObject")
    for statement in (limited, some):
        assert (
            len(run_rule(POLICY_FULL_ACCESS, with_policy(ALLOW_ALL, statement).build()).findings)
            == 1
        )


def test_gateway_load_balancer_endpoint_takes_no_policy() -> None:
    snap = (
        two_zone_vpc()
        .endpoint(
            "vpce-gwlb",
            "vpc-a",
            "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
            endpoint_type="GatewayLoadBalancer",
            subnets=["subnet-a1"],
        )
        .build()
    )
    assert run_rule(POLICY_FULL_ACCESS, snap).findings == ()


# -- item 10: hub endpoints shared through Route 53 private hosted zones ----------------------


def hub(*ingress: dict[str, Any], ipv6: bool = False) -> SnapshotBuilder:
    """vpc-hub (10.0.0.0/16) with an SQS interface endpoint, private DNS off, group sg-ep."""
    b = SnapshotBuilder().vpc("vpc-hub", "10.0.0.0/16", ipv6=["2600:1f18:a::/56"] if ipv6 else [])
    b.subnet("subnet-h1", "vpc-hub", "10.0.1.0/24", az="a")
    b.subnet("subnet-h2", "vpc-hub", "10.0.2.0/24", az="b")
    b.route_table("rtb-hub", "vpc-hub", main=True)
    b.security_group("sg-ep", "vpc-hub", ingress=list(ingress))
    return b.endpoint(
        "vpce-sqs",
        "vpc-hub",
        "sqs",
        subnets=["subnet-h1", "subnet-h2"],
        groups=["sg-ep"],
        private_dns=False,
    )


def test_issue_hub_on_a_tgw_admitting_spokes_is_info_and_checks_the_zones_first() -> None:
    b = hub(permission("tcp", 443, cidrs=["10.0.0.0/8"])).tgw_attachment(
        "tgw-attach-hub", "vpc-hub"
    )
    f = only(run_rule(PRIVATE_DNS_DISABLED, b.build()))
    assert f.severity is Severity.INFO
    assert f.evidence["hub_signals"] == ["Transit Gateway attachment tgw-attach-hub"]
    assert f.evidence["admits_from_outside"] == ["10.0.0.0/8"]
    assert "Route 53 private hosted zone" in f.message
    lines = f.remediation.splitlines()
    assert lines[0].startswith("# Check the Route 53 private hosted zones vpc-hub uses")
    assert lines[1] == cmd(
        "aws route53 list-hosted-zones-by-vpc --vpc-id vpc-hub --vpc-region us-east-1"
    )
    assert lines[-1] == cmd(
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-sqs --private-dns-enabled"
    )


def test_peered_hub_admitting_only_its_own_range_is_low_confirm() -> None:
    # Variant: peered to another account's VPC; the group admits only the hub's own block.
    peer = Side(OTHER_ACCOUNT, REGION, "vpc-spoke", ("10.1.0.0/16",))
    b = hub(permission("tcp", 443, cidrs=["10.0.0.0/16"])).peering("pcx-0hs", "vpc-hub", peer)
    f = only(run_rule(PRIVATE_DNS_DISABLED, b.build()))
    assert f.severity is Severity.LOW
    assert f.evidence["hub_signals"] == ["active peering pcx-0hs"]
    assert f.evidence["admits_from_outside"] == []
    assert f.remediation.startswith("# Check the Route 53 private hosted zones")


def test_ipv6_spoke_range_and_cloud_wan_route_make_a_hub() -> None:
    # Variant: IPv6, and a Cloud WAN core network instead of a TGW.
    b = hub(permission("tcp", 443, ipv6=["2600:1f18:b::/56"]), ipv6=True)
    b.route_table("rtb-h1", "vpc-hub", subnets=["subnet-h1"], routes=[route("::/0", CORE)])
    f = only(run_rule(PRIVATE_DNS_DISABLED, b.build()))
    assert f.severity is Severity.INFO
    assert f.evidence["admits_from_outside"] == ["2600:1f18:b::/56"]


def test_group_of_a_peered_vpc_is_a_sign_of_sharing() -> None:
    peer = Side(ACCOUNT, REGION, "vpc-spoke", ("10.1.0.0/16",))
    b = hub(permission("tcp", 443, groups=["sg-spokeapp"], group_vpc="vpc-spoke"))
    f = only(run_rule(PRIVATE_DNS_DISABLED, b.peering("pcx-0hs", "vpc-hub", peer).build()))
    assert f.evidence["admits_from_outside"] == ["sg-spokeapp (vpc-spoke)"]


def test_unconnected_vpc_admitting_other_ranges_is_the_plain_finding() -> None:
    # No TGW, peering or Cloud WAN: nothing could share the endpoint; the plain fix stands.
    f = only(
        run_rule(PRIVATE_DNS_DISABLED, hub(permission("tcp", 443, cidrs=["10.0.0.0/8"])).build())
    )
    assert f.severity is Severity.LOW
    assert f.remediation == cmd(
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-sqs --private-dns-enabled"
    )


@pytest.mark.parametrize("service", ["s3", "dynamodb"])
def test_s3_or_dynamodb_interface_beside_a_gateway_with_private_dns_off_is_fine(
    service: str,
) -> None:
    snap = gateway(interface(two_zone_vpc(), service, private_dns=False), service).build()
    assert run_rule(PRIVATE_DNS_DISABLED, snap).findings == ()


# -- item 14: a NAT table missing from an existing gateway endpoint ---------------------------


def three_tier() -> SnapshotBuilder:
    """vpc-a: subnet-pub on rtb-pub (internet gateway), subnet-priv1/2 on rtb-priv (nat-1),
    subnet-iso on the main table rtb-main implicitly."""
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-pub", "vpc-a", "10.0.0.0/24", az="a")
        .subnet("subnet-priv1", "vpc-a", "10.0.1.0/24", az="a")
        .subnet("subnet-priv2", "vpc-a", "10.0.2.0/24", az="b")
        .subnet("subnet-iso", "vpc-a", "10.0.3.0/24", az="b")
        .internet_gateway("igw-1", "vpc-a")
        .nat_gateway("nat-1", "vpc-a", "subnet-pub")
        .route_table("rtb-main", "vpc-a", main=True)
        .route_table(
            "rtb-pub", "vpc-a", subnets=["subnet-pub"], routes=[route("0.0.0.0/0", "igw-1")]
        )
        .route_table(
            "rtb-priv",
            "vpc-a",
            subnets=["subnet-priv1", "subnet-priv2"],
            routes=[route("0.0.0.0/0", "nat-1")],
        )
    )


def both(snap_builder: SnapshotBuilder) -> Evaluation:
    """nat-traffic-for-gateway-service and endpoint-gateway-partial together."""
    rules = {r.id: r for r in (NAT_TRAFFIC, GATEWAY_PARTIAL)}
    return evaluate(Inventory.from_snapshot(snap_builder.build()), rules, Policy())


def test_issue_nat_table_missing_from_the_s3_gateway_endpoint_is_one_finding() -> None:
    b = three_tier().endpoint(
        "vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-pub", "rtb-main"]
    )
    result = both(b)
    about_priv = [
        f
        for f in result.findings
        if f.resource.resource_id == "rtb-priv" or "rtb-priv" in f.evidence.get("missing", [])
    ]
    assert [f.rule_id for f in about_priv] == ["nat-traffic-for-gateway-service"]
    f = about_priv[0]
    assert f.evidence["existing_gateway_endpoints"] == {"s3": "vpce-s3"}
    assert "gateway endpoint vpce-s3 is not associated with it" in f.message
    assert f.remediation.splitlines() == [
        cmd("aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-s3 --add-route-table-ids rtb-priv"),
        cmd(
            "aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id vpc-a "
            f"--service-name com.amazonaws.{REGION}.dynamodb --route-table-ids rtb-priv"
        ),
    ]
    # The endpoint is on every other serving table: endpoint-gateway-partial has nothing left.
    assert [x.rule_id for x in result.findings] == ["nat-traffic-for-gateway-service"]


def test_dynamodb_endpoint_missing_a_nat_table_and_a_public_one() -> None:
    # Variant: DynamoDB; the endpoint lacks rtb-priv (NAT: nat-traffic's) and rtb-pub
    # (internet gateway, no NAT charge: endpoint-gateway-partial's), each reported once.
    b = three_tier().endpoint(
        "vpce-ddb", "vpc-a", "dynamodb", endpoint_type="Gateway", route_tables=["rtb-main"]
    )
    by_rule = {f.rule_id: f for f in both(b).findings}
    assert set(by_rule) == {"nat-traffic-for-gateway-service", "endpoint-gateway-partial"}
    assert by_rule["endpoint-gateway-partial"].evidence["missing"] == ["rtb-pub"]
    nat = by_rule["nat-traffic-for-gateway-service"]
    assert nat.evidence["existing_gateway_endpoints"] == {"dynamodb": "vpce-ddb"}
    assert cmd(
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-ddb --add-route-table-ids rtb-priv"
    ) in (nat.remediation.splitlines())


def test_restricted_endpoint_policy_is_flagged_before_adding_the_table() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::app-bucket/*",
            }
        ],
    }
    b = three_tier().endpoint(
        "vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-pub"], policy=policy
    )
    f = only(run_rule(NAT_TRAFFIC, b.build()))
    lines = f.remediation.splitlines()
    # A restricted policy would deny these subnets what they reach through NAT today.
    assert lines[0].startswith("# vpce-s3's endpoint policy is not full access: check that")
    assert lines[1] == cmd(
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-s3 --add-route-table-ids rtb-priv"
    )
    assert "create-vpc-endpoint" in lines[2] and ".dynamodb " in lines[2]


def test_nat_table_of_another_account_and_region_is_added_there() -> None:
    where: dict[str, Any] = {"account": OTHER_ACCOUNT, "region": OTHER_REGION}
    b = (
        SnapshotBuilder()
        .vpc("vpc-x", "10.9.0.0/16", **where)
        .subnet("subnet-x1", "vpc-x", "10.9.1.0/24", **where)
        .subnet("subnet-x2", "vpc-x", "10.9.2.0/24", **where)
        .route_table("rtb-xmain", "vpc-x", main=True, subnets=["subnet-x2"], **where)
        .route_table(
            "rtb-xnat",
            "vpc-x",
            subnets=["subnet-x1"],
            routes=[route("0.0.0.0/0", "nat-x")],
            **where,
        )
        .endpoint(
            "vpce-xs3", "vpc-x", "s3", endpoint_type="Gateway", route_tables=["rtb-xmain"], **where
        )
        .endpoint(
            "vpce-xddb",
            "vpc-x",
            "dynamodb",
            endpoint_type="Gateway",
            route_tables=["rtb-xmain"],
            **where,
        )
    )
    result = both(b)
    f = only(result)
    assert f.rule_id == "nat-traffic-for-gateway-service"
    assert f.remediation.splitlines() == [
        cmd(
            f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-x{s} "
            "--add-route-table-ids rtb-xnat",
            OTHER_ACCOUNT,
            OTHER_REGION,
        )
        for s in ("s3", "ddb")
    ]


def test_spoke_on_a_tgw_to_central_nat_missing_from_its_s3_endpoint() -> None:
    # Variant: centralized egress through a Transit Gateway (issue 10's model).
    b = central_egress().endpoint(
        "vpce-s3", "vpc-spoke", "s3", endpoint_type="Gateway", route_tables=["rtb-spokemain"]
    )
    result = both(b)
    spoke = [f for f in result.findings if f.resource.resource_id in ("rtb-spoke", "vpce-s3")]
    assert [f.rule_id for f in spoke] == ["nat-traffic-for-gateway-service"]
    assert spoke[0].remediation.splitlines()[0] == cmd(
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-s3 --add-route-table-ids rtb-spoke"
    )


def test_unverifiable_nat_path_leaves_the_table_to_endpoint_gateway_partial() -> None:
    # Where nat-traffic cannot decide, the table's gap is still reported, once.
    b = central_egress(egress_account=OTHER_ACCOUNT, egress_scanned=False).endpoint(
        "vpce-s3", "vpc-spoke", "s3", endpoint_type="Gateway", route_tables=["rtb-spokemain"]
    )
    result = both(b)
    assert [r for r, _ in unverified_reasons(result)] == ["rtb-spoke"]
    partial = only(result)
    assert partial.rule_id == "endpoint-gateway-partial"
    assert partial.evidence["missing"] == ["rtb-spoke"]


def test_interface_endpoint_with_private_dns_takes_s3_off_a_direct_nat_path() -> None:
    # As the network model has it for a TGW path: S3's name resolves to the endpoint.
    b = three_tier().endpoint("vpce-s3if", "vpc-a", "s3", subnets=["subnet-priv1"])
    assert only(run_rule(NAT_TRAFFIC, b.build())).evidence["missing_services"] == ["dynamodb"]
    inbound = three_tier().endpoint(
        "vpce-s3if", "vpc-a", "s3", subnets=["subnet-priv1"], dns_options=INBOUND_ONLY
    )
    assert only(run_rule(NAT_TRAFFIC, inbound.build())).evidence["missing_services"] == [
        "s3",
        "dynamodb",
    ]


# -- item 16: a VPC whose subnets are all in one zone -----------------------------------------


def test_issue_vpc_in_one_zone_is_info_and_creates_a_subnet_first() -> None:
    b = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24", az="a")
        .subnet("subnet-a2", "vpc-a", "10.0.2.0/24", az="a")
        .endpoint("vpce-sqs", "vpc-a", "sqs", subnets=["subnet-a1", "subnet-a2"])
    )
    f = only(run_rule(SINGLE_AZ, b.build()))
    assert f.severity is Severity.INFO
    assert f.evidence["vpc_zones"] == [f"{REGION}a"]
    assert "a subnet of the VPC in another zone" not in f.remediation
    assert commands(f.remediation) == [
        cmd(
            "aws ec2 create-subnet --vpc-id vpc-a --availability-zone "
            + ask("ZONE", "another Availability Zone")
            + " "
            "--cidr-block " + ask("CIDR", "a free block of the VPC")
        ),
        cmd(
            "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-sqs "
            "--add-subnet-ids " + ask("SUBNET_ID", "the SubnetId create-subnet printed")
        ),
    ]


def test_one_zone_vpc_in_another_account_and_region() -> None:
    where: dict[str, Any] = {"account": OTHER_ACCOUNT, "region": OTHER_REGION}
    b = (
        SnapshotBuilder()
        .vpc("vpc-x", "10.9.0.0/16", ipv6=["2600:1f18:9::/56"], **where)
        .subnet("subnet-x1", "vpc-x", "10.9.1.0/24", az="b", ipv6=["2600:1f18:9:1::/64"], **where)
        .endpoint("vpce-x", "vpc-x", "ssm", subnets=["subnet-x1"], **where)
    )
    f = only(run_rule(SINGLE_AZ, b.build()))
    assert f.severity is Severity.INFO
    assert f.remediation.splitlines()[1].endswith(
        f"--region {OTHER_REGION}  # as account {OTHER_ACCOUNT}"
    )


def test_vpc_with_another_zone_keeps_the_add_subnet_fix() -> None:
    snap = two_zone_vpc().endpoint("vpce-sqs", "vpc-a", "sqs", subnets=["subnet-a1"]).build()
    f = only(run_rule(SINGLE_AZ, snap))
    assert f.severity is Severity.LOW
    assert f.remediation == cmd(
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-sqs "
        "--add-subnet-ids " + ask("SUBNET_ID", "a subnet of the VPC in another zone")
    )


# -- item 19: a rejected endpoint still exists, and bills -------------------------------------


def test_issue_rejected_interface_endpoint_is_a_lingering_bill_to_delete() -> None:
    snap = interface(two_zone_vpc(), state="rejected").build()
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    assert f.severity is Severity.MEDIUM
    assert f.evidence["state"] == "rejected"
    assert f.evidence["monthly_cost_usd"] == 14.6
    assert "rejected" in f.message and "cannot be reused" in f.message
    # It carries nothing: deleting it cuts no link, and no gateway endpoint is proposed.
    assert f.remediation == cmd("aws ec2 delete-vpc-endpoints --vpc-endpoint-ids vpce-if")


def test_expired_endpoint_of_another_regions_dynamodb_in_another_account() -> None:
    where: dict[str, Any] = {"account": OTHER_ACCOUNT, "region": OTHER_REGION}
    snap = (
        interface(
            two_zone_vpc(**where), f"com.amazonaws.{REGION}.dynamodb", state="Expired", **where
        )
        .vpn_gateway("vgw-0x", "vpc-a", **where)
        .build()
    )
    f = only(run_rule(INTERFACE_FOR_GATEWAY_SERVICE, snap))
    assert f.evidence["state"] == "expired"
    assert f.evidence["legitimate_uses"] == []  # it carries nothing, whatever the VPC has
    assert f.remediation == cmd(
        "aws ec2 delete-vpc-endpoints --vpc-endpoint-ids vpce-if", OTHER_ACCOUNT, OTHER_REGION
    )


@pytest.mark.parametrize("rule", [POLICY_FULL_ACCESS, SG_OPEN, PRIVATE_DNS_DISABLED, SINGLE_AZ])
def test_a_rejected_endpoint_carries_nothing_to_judge(rule: Any) -> None:
    b = two_zone_vpc().security_group("sg-open", "vpc-a", ingress=[permission(cidrs=["0.0.0.0/0"])])
    b.endpoint(
        "vpce-r",
        "vpc-a",
        "sqs",
        subnets=["subnet-a1"],
        state="rejected",
        private_dns=False,
        groups=["sg-open"],
    )
    assert run_rule(rule, b.build()).findings == ()


# -- legitimate designs are documented on every endpoint rule ---------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        INTERFACE_FOR_GATEWAY_SERVICE,
        POLICY_FULL_ACCESS,
        SG_OPEN,
        PRIVATE_DNS_DISABLED,
        SINGLE_AZ,
        GATEWAY_UNUSED,
        GATEWAY_PARTIAL,
        NAT_TRAFFIC,
    ],
    ids=lambda r: r.id,
)
def test_every_endpoint_rule_documents_what_it_leaves_alone(rule: Any) -> None:
    assert rule.legitimate
    assert all(len(x) > 40 and "  " not in x and "\n" not in x for x in rule.legitimate)


def test_legitimate_designs_name_the_issues_cases() -> None:
    text = json.dumps(
        {
            r.id: r.legitimate
            for r in (
                INTERFACE_FOR_GATEWAY_SERVICE,
                POLICY_FULL_ACCESS,
                PRIVATE_DNS_DISABLED,
                SINGLE_AZ,
                GATEWAY_PARTIAL,
            )
        }
    )
    for words in (
        "another region",
        "PrivateDnsOnlyForInboundResolverEndpoint",
        "Cloud WAN",
        "Client VPN",
        "aws:PrincipalOrgID",
        "Route 53 private hosted zone",
        "one Availability Zone",
        "nat-traffic-for-gateway-service",
    ):
        assert words in text, words
