"""sg-stale-reference, nat-cross-az, nat-gateway-unreferenced and eip-unassociated.

Expected values come from AWS's documentation, not from running the rules: a group pair across
a peering carries PeeringStatus ("deleted" once the peering is) and loses its UserId once the
referenced group is deleted (EC2 API reference, UserIdGroupPair); a revoke must repeat the
permission exactly; a NAT gateway bills $0.045 an hour and a public IPv4 address $0.005 an hour
(us-east-1), 730 hours a month.
"""

from __future__ import annotations

from typing import Any

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    REGION,
    Side,
    SnapshotBuilder,
    permission,
    route,
    run_rule,
    unverified_reasons,
)
from vpcaudit.evaluate import Evaluation
from vpcaudit.model import Finding, Severity
from vpcaudit.rules.hygiene import (
    EIP_UNASSOCIATED,
    NAT_GATEWAY_UNREFERENCED,
    SG_STALE_REFERENCE,
)
from vpcaudit.rules.nat import NAT_CROSS_AZ

PEER = Side(OTHER_ACCOUNT, REGION, "vpc-peer", ("10.1.0.0/16",))
S3_PREFIX_LIST = "pl-63a5400a"


def only(result: Evaluation) -> Finding:
    """The single finding, failing the test when there are none or several."""
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def cmd(command: str, account: str = ACCOUNT, region: str = REGION) -> str:
    """An AWS CLI line as the rules write it."""
    return f"{command} --region {region}  # as account {account}"


# -- sg-stale-reference ---------------------------------------------------------------------


def with_group(*ingress: Any, egress: Any = None, peering: str = "deleted") -> SnapshotBuilder:
    """sg-app in vpc-a, whose peering pcx-peer with vpc-peer (OTHER_ACCOUNT) has `peering`."""
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .peering("pcx-peer", "vpc-a", PEER, status=peering)
        .security_group("sg-app", "vpc-a", ingress=ingress, egress=egress)
    )


def test_rule_naming_a_group_across_a_deleted_peering_is_stale() -> None:
    perm = permission(
        "tcp",
        5432,
        groups=[f"{OTHER_ACCOUNT}/sg-peer"],
        peering_status="deleted",
        group_vpc="vpc-peer",
    )
    f = only(run_rule(SG_STALE_REFERENCE, with_group(perm).build()))
    assert f.rule_id == "sg-stale-reference"
    assert f.severity is Severity.LOW
    assert f.resource.resource_type == "security-group"
    assert f.resource.resource_id == "sg-app"
    assert f.resource.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-app"
    assert f.evidence["security_group_id"] == "sg-app"
    assert f.evidence["vpc_id"] == "vpc-a"
    assert f.evidence["stale_rules"] == [
        {
            "direction": "ingress",
            "protocol": "tcp",
            "ports": "5432",
            "group_id": "sg-peer",
            "group_account_id": OTHER_ACCOUNT,
            "group_vpc_id": "vpc-peer",
            "peering_status": "deleted",
            "peering_id": "pcx-peer",
            "cause": "peering deleted",
        }
    ]
    assert "sg-peer" in f.message
    assert f.remediation == cmd(
        "aws ec2 revoke-security-group-ingress --group-id sg-app --ip-permissions "
        '\'[{"IpProtocol":"tcp","FromPort":5432,"ToPort":5432,'
        f'"UserIdGroupPairs":[{{"GroupId":"sg-peer","UserId":"{OTHER_ACCOUNT}"}}]}}]\''
    )


def test_rule_across_an_active_peering_is_left_alone() -> None:
    perm = permission(
        "tcp",
        5432,
        groups=[f"{OTHER_ACCOUNT}/sg-peer"],
        peering_status="active",
        group_vpc="vpc-peer",
    )
    assert not run_rule(SG_STALE_REFERENCE, with_group(perm, peering="active").build()).findings


def test_reference_in_the_same_vpc_is_left_alone() -> None:
    # No PeeringStatus and a UserId: a plain same-VPC reference.
    perm = permission("tcp", 443, groups=["sg-lb"])
    assert not run_rule(SG_STALE_REFERENCE, with_group(perm).build()).findings


def test_stale_egress_for_all_traffic_revokes_without_ports() -> None:
    perm = permission(
        "-1", groups=[f"{OTHER_ACCOUNT}/sg-peer"], peering_status="deleted", group_vpc="vpc-peer"
    )
    f = only(run_rule(SG_STALE_REFERENCE, with_group(egress=[perm]).build()))
    (stale,) = f.evidence["stale_rules"]
    assert (stale["direction"], stale["protocol"], stale["ports"]) == ("egress", "-1", "all")
    assert f.remediation == cmd(
        "aws ec2 revoke-security-group-egress --group-id sg-app --ip-permissions "
        '\'[{"IpProtocol":"-1",'
        f'"UserIdGroupPairs":[{{"GroupId":"sg-peer","UserId":"{OTHER_ACCOUNT}"}}]}}]\''
    )


def test_deleted_referenced_group_is_stale_and_revoked_by_group_id_alone() -> None:
    # AWS omits UserId (and GroupName) once the referenced group in the peer VPC is deleted;
    # permission() always sets a UserId, so this pair is written by hand.
    perm = {
        "IpProtocol": "tcp",
        "FromPort": 22,
        "ToPort": 22,
        "IpRanges": [],
        "Ipv6Ranges": [],
        "PrefixListIds": [],
        "UserIdGroupPairs": [
            {
                "GroupId": "sg-gone",
                "VpcId": "vpc-peer",
                "VpcPeeringConnectionId": "pcx-peer",
                "PeeringStatus": "active",
            }
        ],
    }
    f = only(run_rule(SG_STALE_REFERENCE, with_group(perm, peering="active").build()))
    (stale,) = f.evidence["stale_rules"]
    assert stale["cause"] == "referenced group deleted"
    assert stale["group_account_id"] == ""
    assert stale["peering_id"] == "pcx-peer"
    assert f.remediation == cmd(
        "aws ec2 revoke-security-group-ingress --group-id sg-app --ip-permissions "
        '\'[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,'
        '"UserIdGroupPairs":[{"GroupId":"sg-gone"}]}]\''
    )


def test_several_stale_rules_give_one_finding_and_one_revoke_each() -> None:
    stale = {"peering_status": "deleted", "group_vpc": "vpc-peer"}
    ssh = permission("tcp", 22, groups=[f"{OTHER_ACCOUNT}/sg-peer"], **stale)
    ping = permission("icmp", -1, -1, groups=[f"{OTHER_ACCOUNT}/sg-peer"], **stale)
    web = permission("tcp", 443, cidrs=["10.0.0.0/16"])
    f = only(run_rule(SG_STALE_REFERENCE, with_group(ssh, ping, web).build()))
    assert [r["protocol"] for r in f.evidence["stale_rules"]] == ["tcp", "icmp"]
    lines = f.remediation.splitlines()
    assert len(lines) == 2
    # ICMP permissions carry type and code (-1 for all) in FromPort/ToPort.
    assert '"IpProtocol":"icmp","FromPort":-1,"ToPort":-1' in lines[1]


# -- nat-cross-az ---------------------------------------------------------------------------


def two_zones(*, nat_b: bool = False, main_routes: tuple[Any, ...] = ()) -> SnapshotBuilder:
    """vpc-a with public and private subnets in zones a and b, an internet gateway, nat-a in
    pub-a and (nat_b) nat-b in pub-b; the public subnets route to the internet gateway, the
    main table has main_routes."""
    b = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("pub-a", "vpc-a", "10.0.0.0/24", az="a")
        .subnet("pub-b", "vpc-a", "10.0.1.0/24", az="b")
        .subnet("priv-a", "vpc-a", "10.0.10.0/24", az="a")
        .subnet("priv-b", "vpc-a", "10.0.11.0/24", az="b")
        .internet_gateway("igw-a", "vpc-a")
        .route_table("rtb-main", "vpc-a", main=True, routes=main_routes)
        .route_table(
            "rtb-pub", "vpc-a", subnets=["pub-a", "pub-b"], routes=[route("0.0.0.0/0", "igw-a")]
        )
        .nat_gateway("nat-a", "vpc-a", "pub-a", private_ip="10.0.0.10")
    )
    if nat_b:
        b.nat_gateway("nat-b", "vpc-a", "pub-b", private_ip="10.0.1.10", public_ip="203.0.113.11")
    return b


def test_single_nat_gateway_for_two_zones_is_low_with_the_trade_off() -> None:
    b = two_zones().route_table(
        "rtb-priv", "vpc-a", subnets=["priv-a", "priv-b"], routes=[route("0.0.0.0/0", "nat-a")]
    )
    f = only(run_rule(NAT_CROSS_AZ, b.build()))
    assert f.rule_id == "nat-cross-az"
    assert f.severity is Severity.LOW
    assert f.resource.resource_type == "route-table"
    assert f.resource.resource_id == "rtb-priv"
    assert f.evidence == {
        "route_table_id": "rtb-priv",
        "vpc_id": "vpc-a",
        "subnet_ids": ["priv-b"],
        "subnet_zone": "us-east-1b",
        "nat_gateway_id": "nat-a",
        "nat_zone": "us-east-1a",
        "same_zone_nat_gateway_id": "",
        "table_zones": ["us-east-1a", "us-east-1b"],
    }
    assert "deliberate" in f.message
    lines = f.remediation.splitlines()
    assert lines[0].startswith("# If one NAT gateway for the VPC is a deliberate cost choice")
    # A new NAT gateway goes in the zone's public subnet, with a new Elastic IP.
    assert lines[1] == (
        "EIP=$(aws ec2 allocate-address --domain vpc --query AllocationId --output text "
        f"--region {REGION})  # as account {ACCOUNT}"
    )
    assert lines[2] == (
        'NAT=$(aws ec2 create-nat-gateway --subnet-id pub-b --allocation-id "$EIP" '
        f"--query NatGateway.NatGatewayId --output text --region {REGION})  # as account {ACCOUNT}"
    )
    assert lines[3] == cmd('aws ec2 wait nat-gateway-available --nat-gateway-ids "$NAT"')
    # rtb-priv also serves zone a: zone b gets its own table, not a changed shared one.
    assert (
        cmd(
            'aws ec2 create-route --route-table-id "$RTB" --destination-cidr-block 0.0.0.0/0 '
            '--nat-gateway-id "$NAT"'
        )
        in lines
    )
    assert not any("replace-route " in line for line in lines)


def test_shared_table_with_a_nat_gateway_in_each_zone_is_medium_and_copied() -> None:
    b = (
        two_zones(nat_b=True)
        .route_table(
            "rtb-priv",
            "vpc-a",
            subnets=["priv-a", "priv-b"],
            routes=[
                route("0.0.0.0/0", "nat-a"),
                route("10.1.0.0/16", "pcx-peer"),
                route(S3_PREFIX_LIST, "vpce-s3"),
                route("10.9.0.0/16", "pcx-old", state="blackhole"),
            ],
        )
        .endpoint("vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-priv"])
    )
    f = only(run_rule(NAT_CROSS_AZ, b.build()))
    assert f.severity is Severity.MEDIUM
    assert f.evidence["same_zone_nat_gateway_id"] == "nat-b"
    assert f.evidence["subnet_ids"] == ["priv-b"]
    assert "nat-b" in f.message
    lines = f.remediation.splitlines()
    assert lines[1] == (
        "RTB=$(aws ec2 create-route-table --vpc-id vpc-a --query RouteTable.RouteTableId "
        f"--output text --region {REGION})  # as account {ACCOUNT}"
    )
    # Every other live route comes along, so the move cuts no link; the blackhole does not.
    assert lines[2:6] == [
        cmd(
            'aws ec2 create-route --route-table-id "$RTB" --destination-cidr-block 0.0.0.0/0 '
            "--nat-gateway-id nat-b"
        ),
        cmd(
            'aws ec2 create-route --route-table-id "$RTB" --destination-cidr-block '
            "10.1.0.0/16 --vpc-peering-connection-id pcx-peer"
        ),
        cmd('aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-s3 --add-route-table-ids "$RTB"'),
        cmd(
            'aws ec2 replace-route-table-association --route-table-id "$RTB" --association-id '
            "$(aws ec2 describe-route-tables --route-table-ids rtb-priv --query "
            "\"RouteTables[0].Associations[?SubnetId=='priv-b'].RouteTableAssociationId\" "
            f"--output text --region {REGION})"
        ),
    ]
    assert "pcx-old" not in f.remediation


def test_table_serving_one_zone_only_gets_its_default_route_replaced() -> None:
    b = (
        two_zones(nat_b=True)
        .route_table(
            "rtb-priv-a", "vpc-a", subnets=["priv-a"], routes=[route("0.0.0.0/0", "nat-a")]
        )
        .route_table(
            "rtb-priv-b", "vpc-a", subnets=["priv-b"], routes=[route("0.0.0.0/0", "nat-a")]
        )
    )
    f = only(run_rule(NAT_CROSS_AZ, b.build()))
    assert f.severity is Severity.MEDIUM
    assert f.resource.resource_id == "rtb-priv-b"
    assert f.evidence["table_zones"] == ["us-east-1b"]
    assert f.remediation == cmd(
        "aws ec2 replace-route --route-table-id rtb-priv-b --destination-cidr-block 0.0.0.0/0 "
        "--nat-gateway-id nat-b"
    )


def test_subnet_without_association_is_judged_by_the_main_table() -> None:
    b = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("pub-a", "vpc-a", "10.0.0.0/24", az="a")
        .subnet("pub-b", "vpc-a", "10.0.1.0/24", az="b")
        .subnet("priv-b", "vpc-a", "10.0.11.0/24", az="b")
        .route_table(
            "rtb-pub", "vpc-a", subnets=["pub-a", "pub-b"], routes=[route("0.0.0.0/0", "igw-a")]
        )
        .route_table("rtb-main", "vpc-a", main=True, routes=[route("0.0.0.0/0", "nat-a")])
        .nat_gateway("nat-a", "vpc-a", "pub-a")
        .nat_gateway("nat-b", "vpc-a", "pub-b", public_ip="203.0.113.11")
    )
    f = only(run_rule(NAT_CROSS_AZ, b.build()))
    assert f.resource.resource_id == "rtb-main"
    assert f.evidence["subnet_ids"] == ["priv-b"]
    assert f.remediation == cmd(
        "aws ec2 replace-route --route-table-id rtb-main --destination-cidr-block 0.0.0.0/0 "
        "--nat-gateway-id nat-b"
    )


def test_subnet_using_the_main_table_in_a_mixed_zone_table_is_associated_afresh() -> None:
    b = two_zones(nat_b=True, main_routes=(route("0.0.0.0/0", "nat-a"),))
    # priv-a and priv-b have no association: both use the main table (zones a and b).
    f = only(run_rule(NAT_CROSS_AZ, b.build()))
    assert f.resource.resource_id == "rtb-main"
    assert f.remediation.splitlines()[-1] == cmd(
        'aws ec2 associate-route-table --route-table-id "$RTB" --subnet-id priv-b'
    )


def test_same_zone_nat_gateways_are_left_alone() -> None:
    b = (
        two_zones(nat_b=True)
        .route_table(
            "rtb-priv-a", "vpc-a", subnets=["priv-a"], routes=[route("0.0.0.0/0", "nat-a")]
        )
        .route_table(
            "rtb-priv-b", "vpc-a", subnets=["priv-b"], routes=[route("0.0.0.0/0", "nat-b")]
        )
    )
    assert not run_rule(NAT_CROSS_AZ, b.build()).findings


def test_default_route_to_a_transit_gateway_is_not_judged() -> None:
    b = two_zones().route_table(
        "rtb-priv", "vpc-a", subnets=["priv-a", "priv-b"], routes=[route("0.0.0.0/0", "tgw-0hub")]
    )
    assert not run_rule(NAT_CROSS_AZ, b.build()).findings


def test_route_to_a_deleted_nat_gateway_is_left_to_route_blackhole() -> None:
    b = (
        two_zones()
        .nat_gateway("nat-old", "vpc-a", "pub-a", state="deleted")
        .route_table(
            "rtb-priv", "vpc-a", subnets=["priv-b"], routes=[route("0.0.0.0/0", "nat-old")]
        )
    )
    assert not run_rule(NAT_CROSS_AZ, b.build()).findings


def test_nothing_is_judged_where_nat_gateways_could_not_be_read() -> None:
    b = (
        two_zones()
        .route_table("rtb-priv", "vpc-a", subnets=["priv-b"], routes=[route("0.0.0.0/0", "nat-a")])
        .gap("DescribeNatGateways")
    )
    assert not run_rule(NAT_CROSS_AZ, b.build()).findings


def test_private_nat_gateway_is_recreated_private_in_the_subnets_zone() -> None:
    b = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("priv-a", "vpc-a", "10.0.10.0/24", az="a")
        .subnet("priv-b", "vpc-a", "10.0.11.0/24", az="b")
        .route_table("rtb-b", "vpc-a", subnets=["priv-b"], routes=[route("0.0.0.0/0", "nat-p")])
        .nat_gateway("nat-p", "vpc-a", "priv-a", connectivity="private", public_ip=None)
    )
    f = only(run_rule(NAT_CROSS_AZ, b.build()))
    assert f.severity is Severity.LOW
    lines = f.remediation.splitlines()
    assert lines[1] == (
        "NAT=$(aws ec2 create-nat-gateway --connectivity-type private --subnet-id priv-b "
        f"--query NatGateway.NatGatewayId --output text --region {REGION})  # as account {ACCOUNT}"
    )
    assert lines[-1] == cmd(
        "aws ec2 replace-route --route-table-id rtb-b --destination-cidr-block 0.0.0.0/0 "
        '--nat-gateway-id "$NAT"'
    )


def test_zone_without_a_public_subnet_gets_advice_not_a_failing_command() -> None:
    # Zone b has no subnet whose own table reaches the internet: no place for a NAT gateway.
    b = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("pub-a", "vpc-a", "10.0.0.0/24", az="a")
        .subnet("priv-b", "vpc-a", "10.0.11.0/24", az="b")
        .route_table("rtb-pub", "vpc-a", subnets=["pub-a"], routes=[route("0.0.0.0/0", "igw-a")])
        .route_table("rtb-priv", "vpc-a", subnets=["priv-b"], routes=[route("0.0.0.0/0", "nat-a")])
        .nat_gateway("nat-a", "vpc-a", "pub-a")
    )
    f = only(run_rule(NAT_CROSS_AZ, b.build()))
    assert f.severity is Severity.LOW
    assert all(line.startswith("#") for line in f.remediation.splitlines())
    assert "needs a public subnet" in f.remediation


# -- nat-gateway-unreferenced ---------------------------------------------------------------


def idle_nat(**kwargs: Any) -> SnapshotBuilder:
    """vpc-a with pub-a (routed to igw-a by rtb-pub) and NAT gateway nat-idle in it."""
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("pub-a", "vpc-a", "10.0.0.0/24")
        .route_table("rtb-pub", "vpc-a", subnets=["pub-a"], routes=[route("0.0.0.0/0", "igw-a")])
        .nat_gateway("nat-idle", "vpc-a", "pub-a", **kwargs)
    )


def test_nat_gateway_no_route_uses_is_medium_with_its_monthly_cost() -> None:
    b = idle_nat().elastic_ip(
        "eipalloc-idle", "203.0.113.10", eni="eni-nat-idle", private_ip="10.0.0.10"
    )
    f = only(run_rule(NAT_GATEWAY_UNREFERENCED, b.build()))
    assert f.rule_id == "nat-gateway-unreferenced"
    assert f.severity is Severity.MEDIUM
    assert f.resource.resource_type == "nat-gateway"
    assert f.resource.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:natgateway/nat-idle"
    # 0.045 x 730 = 32.85 for the gateway, 0.005 x 730 = 3.65 for its public IPv4 address.
    assert f.evidence == {
        "nat_gateway_id": "nat-idle",
        "vpc_id": "vpc-a",
        "subnet_id": "pub-a",
        "connectivity": "public",
        "public_ip": "203.0.113.10",
        "allocation_id": "eipalloc-idle",
        "referencing_route_tables": [],
        "monthly_cost_usd": 36.5,
    }
    assert "$36.50" in f.message
    assert f.remediation.splitlines() == [
        cmd("aws ec2 delete-nat-gateway --nat-gateway-id nat-idle"),
        cmd("aws ec2 wait nat-gateway-deleted --nat-gateway-ids nat-idle"),
        cmd("aws ec2 release-address --allocation-id eipalloc-idle"),
    ]


def test_nat_gateway_a_serving_table_routes_to_is_used() -> None:
    b = (
        idle_nat()
        .subnet("priv-a", "vpc-a", "10.0.10.0/24")
        .route_table(
            "rtb-priv", "vpc-a", subnets=["priv-a"], routes=[route("0.0.0.0/0", "nat-idle")]
        )
    )
    assert not run_rule(NAT_GATEWAY_UNREFERENCED, b.build()).findings


def test_nat_gateway_used_only_by_a_table_no_subnet_uses_is_low() -> None:
    b = idle_nat().route_table("rtb-spare", "vpc-a", routes=[route("0.0.0.0/0", "nat-idle")])
    f = only(run_rule(NAT_GATEWAY_UNREFERENCED, b.build()))
    assert f.severity is Severity.LOW
    assert f.evidence["referencing_route_tables"] == ["rtb-spare"]
    # The route goes first, so deleting the gateway leaves no blackhole behind.
    assert f.remediation.splitlines()[:2] == [
        cmd("aws ec2 delete-route --route-table-id rtb-spare --destination-cidr-block 0.0.0.0/0"),
        cmd("aws ec2 delete-nat-gateway --nat-gateway-id nat-idle"),
    ]


def test_private_nat_gateway_costs_no_public_address() -> None:
    f = only(run_rule(NAT_GATEWAY_UNREFERENCED, idle_nat(connectivity="private").build()))
    assert f.evidence["monthly_cost_usd"] == 32.85
    assert f.remediation == cmd("aws ec2 delete-nat-gateway --nat-gateway-id nat-idle")


def test_nat_gateway_prices_are_parameters() -> None:
    result = run_rule(
        NAT_GATEWAY_UNREFERENCED, idle_nat().build(), hourly_price=0.05, public_ipv4_hourly=0.0
    )
    assert only(result).evidence["monthly_cost_usd"] == 36.5


def test_nat_gateways_not_available_are_left_alone() -> None:
    for state in ("pending", "deleting", "deleted", "failed"):
        assert not run_rule(NAT_GATEWAY_UNREFERENCED, idle_nat(state=state).build()).findings


def test_unread_route_tables_make_the_check_unverifiable() -> None:
    result = run_rule(NAT_GATEWAY_UNREFERENCED, idle_nat().gap("DescribeRouteTables").build())
    assert not result.findings
    assert [r for r, _ in unverified_reasons(result)] == ["nat-idle"]


# -- eip-unassociated -----------------------------------------------------------------------


def test_unassociated_elastic_ip_is_low_with_its_monthly_cost() -> None:
    b = SnapshotBuilder().elastic_ip("eipalloc-free", "198.51.100.7")
    f = only(run_rule(EIP_UNASSOCIATED, b.build()))
    assert f.rule_id == "eip-unassociated"
    assert f.severity is Severity.LOW
    assert f.resource.resource_type == "elastic-ip"
    assert f.resource.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:elastic-ip/eipalloc-free"
    assert f.evidence == {
        "allocation_id": "eipalloc-free",
        "public_ip": "198.51.100.7",
        "tags": {},
        "monthly_cost_usd": 3.65,
    }
    assert f.remediation.splitlines()[0] == cmd(
        "aws ec2 release-address --allocation-id eipalloc-free"
    )


def test_elastic_ip_on_an_interface_or_instance_is_left_alone() -> None:
    b = (
        SnapshotBuilder()
        .vpc("vpc-a")
        .subnet("subnet-a", "vpc-a")
        .network_interface("eni-web", "subnet-a", private_ip="10.0.1.10")
        .elastic_ip("eipalloc-eni", "198.51.100.8", eni="eni-web")
        .elastic_ip("eipalloc-i", "198.51.100.9", instance="i-web", private_ip="10.0.1.11")
    )
    assert not run_rule(EIP_UNASSOCIATED, b.build()).findings


def tagged_address(key: str) -> SnapshotBuilder:
    """An unassociated address tagged `key`; the builder's elastic_ip takes no tags, so the
    raw Address is written here."""
    b = SnapshotBuilder().scan()
    b._add(
        ACCOUNT,
        REGION,
        "addresses",
        {
            "AllocationId": "eipalloc-kept",
            "PublicIp": "198.51.100.10",
            "Domain": "vpc",
            "PublicIpv4Pool": "amazon",
            "NetworkBorderGroup": REGION,
            "Tags": [{"Key": key, "Value": "partner allow-list"}],
        },
    )
    return b


def test_address_tagged_as_held_on_purpose_is_left_alone() -> None:
    assert not run_rule(EIP_UNASSOCIATED, tagged_address("vpcaudit:reserved").build()).findings


def test_ignore_tag_is_a_parameter() -> None:
    snap = tagged_address("allowlist").build()
    assert only(run_rule(EIP_UNASSOCIATED, snap)).evidence["tags"] == {
        "allowlist": "partner allow-list"
    }
    assert not run_rule(EIP_UNASSOCIATED, snap, ignore_tag="allowlist").findings
