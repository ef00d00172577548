"""Endpoint rules beyond interface-for-gateway: gateway coverage, NAT costs, policies,
security groups, private DNS and zones."""

from __future__ import annotations

import pytest

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    SnapshotBuilder,
    permission,
    route,
    run_rule,
    unverified_reasons,
)
from vpcaudit.awscli import ask
from vpcaudit.evaluate import Evaluation
from vpcaudit.model import Finding, Severity
from vpcaudit.rules.endpoints import (
    GATEWAY_PARTIAL,
    GATEWAY_UNUSED,
    NAT_TRAFFIC,
    POLICY_FULL_ACCESS,
    PRIVATE_DNS_DISABLED,
    SG_OPEN,
    SINGLE_AZ,
)

S3 = f"com.amazonaws.{REGION}.s3"
DYNAMODB = f"com.amazonaws.{REGION}.dynamodb"


def only(result: Evaluation) -> Finding:
    """The single finding, failing the test when there are none or several."""
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def cmd(command: str, account: str = ACCOUNT, region: str = REGION) -> str:
    """An AWS CLI line as the rules write it."""
    return f"{command} --region {region}  # as account {account}"


def assert_endpoint_ref(f: Finding, endpoint_id: str) -> None:
    assert f.resource.resource_type == "vpc-endpoint"
    assert f.resource.resource_id == endpoint_id
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)
    assert f.resource.arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-endpoint/{endpoint_id}"


def three_tier() -> SnapshotBuilder:
    """vpc-a: subnet-pub on rtb-pub (to the internet gateway), subnet-priv1 and subnet-priv2
    on rtb-priv (default route to nat-1), subnet-iso on the main table rtb-main implicitly."""
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


# -- endpoint-gateway-unused ----------------------------------------------------------------


def test_gateway_endpoint_with_no_route_table_is_flagged() -> None:
    snap = three_tier().endpoint("vpce-s3", "vpc-a", "s3", endpoint_type="Gateway").build()
    f = only(run_rule(GATEWAY_UNUSED, snap))
    assert f.rule_id == "endpoint-gateway-unused"
    assert f.severity is Severity.LOW
    assert_endpoint_ref(f, "vpce-s3")
    assert f.evidence == {
        "service": S3,
        "vpc_id": "vpc-a",
        "serving_route_tables": ["rtb-main", "rtb-priv", "rtb-pub"],
        "associated_route_tables": [],
    }
    assert f.remediation == cmd(
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-s3 "
        "--add-route-table-ids rtb-main rtb-priv rtb-pub"
    )


def test_gateway_endpoint_with_a_route_table_is_not_unused() -> None:
    snap = (
        three_tier()
        .endpoint("vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-priv"])
        .build()
    )
    assert run_rule(GATEWAY_UNUSED, snap).findings == ()


def test_unused_rule_ignores_interface_and_deleted_endpoints() -> None:
    snap = (
        three_tier()
        .endpoint("vpce-if", "vpc-a", "sqs", subnets=["subnet-priv1"])
        .endpoint("vpce-old", "vpc-a", "s3", endpoint_type="Gateway", state="deleted")
        .build()
    )
    assert run_rule(GATEWAY_UNUSED, snap).findings == ()


# -- endpoint-gateway-partial ---------------------------------------------------------------


def test_gateway_endpoint_missing_from_a_serving_table_is_flagged() -> None:
    snap = (
        three_tier()
        .endpoint(
            "vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-priv", "rtb-main"]
        )
        .build()
    )
    f = only(run_rule(GATEWAY_PARTIAL, snap))
    assert f.rule_id == "endpoint-gateway-partial"
    assert f.severity is Severity.MEDIUM
    assert_endpoint_ref(f, "vpce-s3")
    assert f.evidence == {
        "service": S3,
        "vpc_id": "vpc-a",
        "associated": ["rtb-main", "rtb-priv"],
        "missing": ["rtb-pub"],
        "missing_subnets": ["subnet-pub"],
    }
    assert f.remediation == cmd(
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-s3 --add-route-table-ids rtb-pub"
    )


def test_main_table_serving_unassociated_subnets_counts() -> None:
    snap = (
        three_tier()
        .endpoint(
            "vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-priv", "rtb-pub"]
        )
        .build()
    )
    f = only(run_rule(GATEWAY_PARTIAL, snap))
    assert f.evidence["missing"] == ["rtb-main"]


def test_subnets_served_implicitly_by_the_main_table_are_named_as_missing() -> None:
    # subnet-iso has no explicit association: it uses rtb-main, which lacks the endpoint, so
    # it is a subnet whose S3 traffic bypasses the endpoint.
    snap = (
        three_tier()
        .endpoint(
            "vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-priv", "rtb-pub"]
        )
        .build()
    )
    f = only(run_rule(GATEWAY_PARTIAL, snap))
    assert f.evidence["missing_subnets"] == ["subnet-iso"]


def test_main_table_serving_no_subnet_does_not_count() -> None:
    snap = (
        three_tier()
        .route_table("rtb-iso", "vpc-a", subnets=["subnet-iso"])
        .endpoint(
            "vpce-s3",
            "vpc-a",
            "s3",
            endpoint_type="Gateway",
            route_tables=["rtb-priv", "rtb-pub", "rtb-iso"],
        )
        .build()
    )
    assert run_rule(GATEWAY_PARTIAL, snap).findings == ()


def test_tables_covered_by_a_second_gateway_endpoint_of_the_same_service_count() -> None:
    snap = (
        three_tier()
        .endpoint("vpce-s3a", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-priv"])
        .endpoint(
            "vpce-s3b", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-pub", "rtb-main"]
        )
        .build()
    )
    assert run_rule(GATEWAY_PARTIAL, snap).findings == ()


def test_an_unused_gateway_endpoint_is_not_also_partial() -> None:
    snap = three_tier().endpoint("vpce-s3", "vpc-a", "s3", endpoint_type="Gateway").build()
    assert run_rule(GATEWAY_PARTIAL, snap).findings == ()


# -- nat-traffic-for-gateway-service --------------------------------------------------------


def test_nat_default_route_without_gateway_endpoints_is_flagged() -> None:
    f = only(run_rule(NAT_TRAFFIC, three_tier().build()))
    assert f.rule_id == "nat-traffic-for-gateway-service"
    assert f.severity is Severity.MEDIUM
    assert (f.resource.resource_type, f.resource.resource_id) == ("route-table", "rtb-priv")
    assert (f.resource.account_id, f.resource.region) == (ACCOUNT, REGION)
    assert f.evidence == {
        "route_table_id": "rtb-priv",
        "nat_gateway_id": "nat-1",
        "missing_services": ["s3", "dynamodb"],
        "existing_gateway_endpoints": {},
        "subnet_ids": ["subnet-priv1", "subnet-priv2"],
        "nat_price_per_gb": 0.045,
    }
    assert f.remediation.splitlines() == [
        cmd(
            "aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id vpc-a "
            f"--service-name {S3} --route-table-ids rtb-priv"
        ),
        cmd(
            "aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id vpc-a "
            f"--service-name {DYNAMODB} --route-table-ids rtb-priv"
        ),
    ]


def test_price_parameter_appears_in_evidence_and_message() -> None:
    f = only(run_rule(NAT_TRAFFIC, three_tier().build(), nat_price_per_gb=0.052))
    assert f.evidence["nat_price_per_gb"] == 0.052
    assert "$0.052/GB" in f.message


def test_s3_gateway_endpoint_on_the_table_leaves_only_dynamodb() -> None:
    snap = (
        three_tier()
        .endpoint("vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-priv"])
        .build()
    )
    f = only(run_rule(NAT_TRAFFIC, snap))
    assert f.evidence["missing_services"] == ["dynamodb"]
    assert f.remediation == cmd(
        "aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id vpc-a "
        f"--service-name {DYNAMODB} --route-table-ids rtb-priv"
    )


def test_gateway_endpoint_on_another_table_does_not_help() -> None:
    snap = (
        three_tier()
        .endpoint("vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-pub"])
        .build()
    )
    assert only(run_rule(NAT_TRAFFIC, snap)).evidence["missing_services"] == ["s3", "dynamodb"]


def test_gateway_endpoint_via_prefix_list_route_counts() -> None:
    b = three_tier().prefix_list("pl-63a5400a", S3).prefix_list("pl-02cd2c6b", DYNAMODB)
    b.route_table(
        "rtb-priv2",
        "vpc-a",
        subnets=["subnet-iso"],
        routes=[
            route("0.0.0.0/0", "nat-1"),
            route("pl-63a5400a", "vpce-0s3", origin="CreateRoute"),
        ],
    )
    result = run_rule(NAT_TRAFFIC, b.build())
    by_table = {f.resource.resource_id: f.evidence["missing_services"] for f in result.findings}
    assert by_table == {"rtb-priv": ["s3", "dynamodb"], "rtb-priv2": ["dynamodb"]}


def test_both_gateway_endpoints_on_the_table_is_fine() -> None:
    snap = (
        three_tier()
        .endpoint("vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-priv"])
        .endpoint(
            "vpce-ddb", "vpc-a", "dynamodb", endpoint_type="Gateway", route_tables=["rtb-priv"]
        )
        .build()
    )
    assert run_rule(NAT_TRAFFIC, snap).findings == ()


def test_nat_table_serving_no_subnet_is_fine() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a")
        .route_table("rtb-main", "vpc-a", main=True)
        .route_table("rtb-spare", "vpc-a", routes=[route("0.0.0.0/0", "nat-1")])
        .build()
    )
    assert run_rule(NAT_TRAFFIC, snap).findings == ()


def test_deleted_gateway_endpoint_does_not_count() -> None:
    snap = (
        three_tier()
        .endpoint(
            "vpce-s3",
            "vpc-a",
            "s3",
            endpoint_type="Gateway",
            route_tables=["rtb-priv"],
            state="deleted",
        )
        .build()
    )
    assert only(run_rule(NAT_TRAFFIC, snap)).evidence["missing_services"] == ["s3", "dynamodb"]


def test_internet_gateway_and_blackholed_nat_routes_are_not_nat_traffic() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a")
        .subnet("subnet-a2", "vpc-a", "10.0.2.0/24")
        .route_table(
            "rtb-pub", "vpc-a", subnets=["subnet-a1"], routes=[route("0.0.0.0/0", "igw-1")]
        )
        .route_table(
            "rtb-dead",
            "vpc-a",
            subnets=["subnet-a2"],
            routes=[route("0.0.0.0/0", "nat-0gone", state="blackhole")],
        )
        .build()
    )
    assert run_rule(NAT_TRAFFIC, snap).findings == ()


def test_endpoints_not_read_are_not_judged() -> None:
    snap = three_tier().gap("DescribeVpcEndpoints").build()
    assert run_rule(NAT_TRAFFIC, snap).findings == ()


# -- endpoint-policy-full-access ------------------------------------------------------------


def test_default_full_access_policy_is_flagged() -> None:
    snap = three_tier().endpoint("vpce-s3", "vpc-a", "s3", endpoint_type="Gateway").build()
    f = only(run_rule(POLICY_FULL_ACCESS, snap))
    assert f.rule_id == "endpoint-policy-full-access"
    assert f.severity is Severity.LOW
    assert_endpoint_ref(f, "vpce-s3")
    assert f.evidence == {
        "service": S3,
        "endpoint_type": "Gateway",
        "statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
    }
    assert f.remediation == cmd(
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-s3 "
        "--policy-document file://endpoint-policy.json"
    )


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Principal": "*", "Action": ["*"], "Resource": ["*"]},
        {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "*", "Resource": "*"},
    ],
)
def test_full_access_in_other_spellings_is_flagged(statement: dict[str, object]) -> None:
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    snap = three_tier().endpoint("vpce-sqs", "vpc-a", "sqs", policy=policy).build()
    f = only(run_rule(POLICY_FULL_ACCESS, snap))
    assert f.evidence["statement"] == statement
    assert f.evidence["endpoint_type"] == "Interface"


def test_full_access_statement_among_restricted_ones_is_found() -> None:
    restricted = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::my-bucket/*",
    }
    full = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "*"}
    policy = {"Version": "2012-10-17", "Statement": [restricted, full]}
    snap = three_tier().endpoint("vpce-s3", "vpc-a", "s3", policy=policy).build()
    assert only(run_rule(POLICY_FULL_ACCESS, snap)).evidence["statement"] == full


@pytest.mark.parametrize(
    "policy",
    [
        # With a condition (the recommended organisation guardrail).
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
                }
            ],
        },
        # Restricted resources.
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": ["arn:aws:s3:::my-bucket", "arn:aws:s3:::my-bucket/*"],
                }
            ],
        },
        # Restricted actions and principals.
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                    "Action": "*",
                    "Resource": "*",
                },
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
            ],
        },
        # A deny of everything.
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}],
        },
    ],
    ids=["condition", "resources", "principal-and-actions", "deny"],
)
def test_restricted_policies_are_fine(policy: dict[str, object]) -> None:
    snap = three_tier().endpoint("vpce-s3", "vpc-a", "s3", policy=policy).build()
    assert run_rule(POLICY_FULL_ACCESS, snap).findings == ()


@pytest.mark.parametrize("policy", ['{"Statement": [', "not json", None, ""])
def test_invalid_or_absent_policy_is_not_judged(policy: str | None) -> None:
    snap = three_tier().endpoint("vpce-s3", "vpc-a", "s3", policy=policy).build()
    assert run_rule(POLICY_FULL_ACCESS, snap).findings == ()


def test_gone_endpoint_policy_is_not_judged() -> None:
    snap = three_tier().endpoint("vpce-s3", "vpc-a", "s3", state="deleted").build()
    assert run_rule(POLICY_FULL_ACCESS, snap).findings == ()


# -- endpoint-sg-open -----------------------------------------------------------------------


def with_sg(*ingress: dict[str, object]) -> SnapshotBuilder:
    """three_tier plus interface endpoint vpce-sqs using security group sg-ep."""
    return (
        three_tier()
        .security_group("sg-ep", "vpc-a", ingress=list(ingress), name="endpoint")
        .endpoint("vpce-sqs", "vpc-a", "sqs", subnets=["subnet-priv1"], groups=["sg-ep"])
    )


def test_security_group_open_to_ipv4_world_is_flagged() -> None:
    snap = with_sg(permission("tcp", 443, cidrs=["0.0.0.0/0"])).build()
    f = only(run_rule(SG_OPEN, snap))
    assert f.rule_id == "endpoint-sg-open"
    assert f.severity is Severity.MEDIUM
    assert_endpoint_ref(f, "vpce-sqs")
    assert f.evidence == {
        "service": f"com.amazonaws.{REGION}.sqs",
        "group_id": "sg-ep",
        "open_ingress": ["tcp 443 from 0.0.0.0/0"],
    }
    assert "sg-ep" in f.message
    # The VPC's own range is allowed before the open rule goes: revoking first would cut the
    # clients inside the VPC. Both calls name the exact permission, as AWS requires.
    comment, allow, revoke = f.remediation.splitlines()
    assert comment.startswith("# Allow vpc-a's own ranges first")
    perm = '[{"IpProtocol":"tcp","FromPort":443,"ToPort":443,"IpRanges":[{"CidrIp":"%s"}]}]'
    assert allow == cmd(
        "aws ec2 authorize-security-group-ingress --group-id sg-ep --ip-permissions "
        f"'{perm % '10.0.0.0/16'}'"
    )
    assert revoke == cmd(
        "aws ec2 revoke-security-group-ingress --group-id sg-ep --ip-permissions "
        f"'{perm % '0.0.0.0/0'}'"
    )


def test_security_group_open_to_ipv6_world_and_all_traffic_is_flagged() -> None:
    snap = with_sg(
        permission("tcp", 443, cidrs=["10.0.0.0/16"], ipv6=["::/0"]),
        permission("-1", cidrs=["0.0.0.0/0"]),
    ).build()
    f = only(run_rule(SG_OPEN, snap))
    assert f.evidence["open_ingress"] == ["tcp 443 from ::/0", "all all ports from 0.0.0.0/0"]
    lines = [x for x in f.remediation.splitlines() if x.startswith("aws ")]
    calls = [x.split(" --ip-permissions ")[1].split(" --region")[0] for x in lines]
    # tcp 443 from the VPC is already allowed (authorizing it again is refused as a
    # duplicate); the VPC has no IPv6 block, so only the IPv4 all-traffic rule is narrowed.
    assert calls == [
        """'[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"10.0.0.0/16"}]}]'""",
        """'[{"IpProtocol":"tcp","FromPort":443,"ToPort":443,"Ipv6Ranges":[{"CidrIpv6":"::/0"}]}]'""",
        """'[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]'""",
    ]


def test_each_open_group_of_an_endpoint_is_a_finding() -> None:
    snap = (
        three_tier()
        .security_group("sg-1", "vpc-a", ingress=[permission(cidrs=["0.0.0.0/0"])])
        .security_group("sg-2", "vpc-a", ingress=[permission(ipv6=["::/0"])])
        .security_group("sg-3", "vpc-a", ingress=[permission(cidrs=["10.0.0.0/16"])])
        .endpoint(
            "vpce-sqs", "vpc-a", "sqs", subnets=["subnet-priv1"], groups=["sg-1", "sg-2", "sg-3"]
        )
        .build()
    )
    result = run_rule(SG_OPEN, snap)
    assert sorted(f.evidence["group_id"] for f in result.findings) == ["sg-1", "sg-2"]


@pytest.mark.parametrize(
    "ingress",
    [
        [permission("tcp", 443, cidrs=["10.0.0.0/16"])],
        [permission("tcp", 443, groups=["sg-clients"])],
        [permission("tcp", 443, ipv6=["2600:1f18:a::/56"])],
        [],
    ],
    ids=["vpc-cidr", "source-group", "ipv6-vpc-block", "no-ingress"],
)
def test_security_group_limited_to_the_vpc_is_fine(ingress: list[dict[str, object]]) -> None:
    assert run_rule(SG_OPEN, with_sg(*ingress).build()).findings == ()


def test_open_group_on_a_gateway_endpoint_is_not_judged() -> None:
    snap = (
        three_tier()
        .security_group("sg-ep", "vpc-a", ingress=[permission(cidrs=["0.0.0.0/0"])])
        .endpoint("vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", groups=["sg-ep"])
        .build()
    )
    assert run_rule(SG_OPEN, snap).findings == ()


def test_security_groups_not_read_is_unverifiable() -> None:
    snap = with_sg(permission(cidrs=["0.0.0.0/0"])).gap("DescribeSecurityGroups").build()
    result = run_rule(SG_OPEN, snap)
    assert result.findings == ()
    assert unverified_reasons(result) == [("vpce-sqs", "security groups could not be read")]
    (u,) = result.unverified
    assert u.rule_id == "endpoint-sg-open"
    assert (u.item.resource.account_id, u.item.resource.region) == (ACCOUNT, REGION)


def test_security_groups_of_another_account_do_not_apply() -> None:
    # The same group id read in another account is not the endpoint's group.
    snap = (
        three_tier()
        .security_group(
            "sg-ep", "vpc-x", ingress=[permission(cidrs=["0.0.0.0/0"])], account=OTHER_ACCOUNT
        )
        .endpoint("vpce-sqs", "vpc-a", "sqs", subnets=["subnet-priv1"], groups=["sg-ep"])
        .build()
    )
    assert run_rule(SG_OPEN, snap).findings == ()


# -- endpoint-private-dns-disabled ----------------------------------------------------------


def test_interface_endpoint_with_private_dns_off_is_flagged() -> None:
    snap = (
        three_tier()
        .endpoint("vpce-sqs", "vpc-a", "sqs", subnets=["subnet-priv1"], private_dns=False)
        .build()
    )
    f = only(run_rule(PRIVATE_DNS_DISABLED, snap))
    assert f.rule_id == "endpoint-private-dns-disabled"
    assert f.severity is Severity.LOW
    assert_endpoint_ref(f, "vpce-sqs")
    assert f.evidence == {
        "service": f"com.amazonaws.{REGION}.sqs",
        "hub_signals": [],
        "admits_from_outside": [],
    }
    assert f.remediation == cmd(
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-sqs --private-dns-enabled"
    )


def test_interface_endpoint_with_private_dns_on_is_fine() -> None:
    snap = three_tier().endpoint("vpce-sqs", "vpc-a", "sqs", subnets=["subnet-priv1"]).build()
    assert run_rule(PRIVATE_DNS_DISABLED, snap).findings == ()


def test_gateway_endpoints_have_no_private_dns_to_judge() -> None:
    snap = three_tier().endpoint("vpce-s3", "vpc-a", "s3", endpoint_type="Gateway").build()
    assert run_rule(PRIVATE_DNS_DISABLED, snap).findings == ()


def test_privatelink_service_of_another_account_is_not_judged() -> None:
    # Endpoint services (PrivateLink) are named com.amazonaws.vpce.<region>.vpce-svc-...; their
    # provider chooses the DNS, as the rule's own comment says.
    snap = (
        three_tier()
        .endpoint(
            "vpce-partner",
            "vpc-a",
            f"com.amazonaws.vpce.{REGION}.vpce-svc-0123456789abcdef0",
            subnets=["subnet-priv1"],
            private_dns=False,
        )
        .build()
    )
    assert run_rule(PRIVATE_DNS_DISABLED, snap).findings == ()


# -- endpoint-single-az ---------------------------------------------------------------------


def test_interface_endpoint_in_one_zone_is_flagged() -> None:
    snap = (
        three_tier()
        .endpoint("vpce-sqs", "vpc-a", "sqs", subnets=["subnet-priv1", "subnet-pub"])
        .build()
    )
    f = only(run_rule(SINGLE_AZ, snap))
    assert f.rule_id == "endpoint-single-az"
    assert f.severity is Severity.LOW
    assert_endpoint_ref(f, "vpce-sqs")
    assert f.evidence == {
        "service": f"com.amazonaws.{REGION}.sqs",
        "availability_zones": [f"{REGION}a"],
        "subnet_ids": ["subnet-priv1", "subnet-pub"],
        "vpc_zones": [f"{REGION}a", f"{REGION}b"],
    }
    assert f"({REGION}a)" in f.message
    assert f.remediation == cmd(
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-sqs "
        "--add-subnet-ids " + ask("SUBNET_ID", "a subnet of the VPC in another zone")
    )


def test_interface_endpoint_in_two_zones_is_fine() -> None:
    snap = (
        three_tier()
        .endpoint("vpce-sqs", "vpc-a", "sqs", subnets=["subnet-priv1", "subnet-priv2"])
        .build()
    )
    assert run_rule(SINGLE_AZ, snap).findings == ()


def test_single_unknown_subnet_is_one_zone() -> None:
    snap = three_tier().endpoint("vpce-sqs", "vpc-a", "sqs", subnets=["subnet-unlisted"]).build()
    f = only(run_rule(SINGLE_AZ, snap))
    assert f.evidence["availability_zones"] == []


def test_several_unknown_subnets_are_not_judged() -> None:
    snap = (
        three_tier()
        .endpoint("vpce-sqs", "vpc-a", "sqs", subnets=["subnet-x1", "subnet-x2"])
        .build()
    )
    assert run_rule(SINGLE_AZ, snap).findings == ()


def test_single_az_ignores_gateway_and_gone_endpoints() -> None:
    snap = (
        three_tier()
        .endpoint("vpce-s3", "vpc-a", "s3", endpoint_type="Gateway", route_tables=["rtb-priv"])
        .endpoint("vpce-old", "vpc-a", "sqs", subnets=["subnet-priv1"], state="deleted")
        .build()
    )
    assert run_rule(SINGLE_AZ, snap).findings == ()


def test_single_az_in_another_account_and_region_is_located_there() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-x", "10.9.0.0/16", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .subnet("subnet-x1", "vpc-x", "10.9.1.0/24", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .endpoint(
            "vpce-x",
            "vpc-x",
            "sqs",
            subnets=["subnet-x1"],
            account=OTHER_ACCOUNT,
            region=OTHER_REGION,
        )
        .build()
    )
    f = only(run_rule(SINGLE_AZ, snap))
    assert (f.resource.account_id, f.resource.region) == (OTHER_ACCOUNT, OTHER_REGION)
    assert f.evidence["service"] == f"com.amazonaws.{OTHER_REGION}.sqs"
    assert f.evidence["availability_zones"] == [f"{OTHER_REGION}a"]
