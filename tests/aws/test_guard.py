"""The read-only guard: mutating calls are refused before any HTTP request is sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from vpcaudit.aws.guard import is_read_only
from vpcaudit.aws.session import ClientFactory
from vpcaudit.errors import MutatingCallRefused

REGION = "us-east-1"


@pytest.fixture
def factory() -> Iterator[ClientFactory]:
    """A scanner client factory over moto in-process."""
    with mock_aws():
        yield ClientFactory(boto3.Session(region_name=REGION))


@pytest.fixture
def sent(factory: ClientFactory) -> list[str]:
    """Every HTTP request that reaches the wire (moto answers it), by operation name."""
    names: list[str] = []

    def on_send(event_name: str, **_: Any) -> None:
        names.append(event_name.rsplit(".", 1)[-1])  # before-send.<service>.<Operation>

    # Registered on the session, so every client the factory makes afterwards carries it.
    factory.session.events.register("before-send", on_send)
    return names


def _unguarded_ec2() -> Any:
    """A plain boto3 client on the same moto state, to look at what the guard protected."""
    return boto3.client("ec2", region_name=REGION)


@pytest.mark.parametrize(
    ("service", "operation"),
    [
        ("ec2", "DescribeVpcs"),
        ("ec2", "DescribeVpcPeeringConnections"),
        ("ec2", "GetManagedPrefixListEntries"),
        ("ec2", "GetTransitGatewayRouteTableAssociations"),
        # A read whose name does not say so, allowed by its exact name.
        ("ec2", "SearchTransitGatewayRoutes"),
        ("organizations", "ListAccounts"),
        ("sts", "GetCallerIdentity"),
        ("sts", "AssumeRole"),
        ("sts", "AssumeRoleWithWebIdentity"),
        ("sts", "AssumeRoleWithSAML"),
        # Credential refresh botocore does by itself for SSO and `aws login` sessions.
        ("sso", "GetRoleCredentials"),
        ("sso-oidc", "CreateToken"),
        ("signin", "CreateOAuth2Token"),
    ],
)
def test_is_read_only_allows_reads_and_role_assumption(service: str, operation: str) -> None:
    assert is_read_only(service, operation)


@pytest.mark.parametrize(
    ("service", "operation"),
    [
        ("ec2", "CreateVpc"),
        ("ec2", "DeleteVpc"),
        ("ec2", "ModifyVpcAttribute"),
        ("ec2", "AcceptVpcPeeringConnection"),
        ("ec2", "CreateRoute"),
        ("ec2", "ReplaceRoute"),
        ("ec2", "AssociateRouteTable"),
        ("ec2", "CreateTags"),
        ("ec2", "RunInstances"),
        ("s3", "PutBucketPolicy"),
        ("organizations", "LeaveOrganization"),
        ("iam", "SetSecurityTokenServicePreferences"),
        # AssumeRole is allowed for sts only, not as a name on another service.
        ("iam", "AssumeRole"),
        # Case matters: botocore operation names are PascalCase.
        ("ec2", "describeVpcs"),
        ("ec2", ""),
        # SearchTransitGatewayRoutes is allowed by name, not the "Search" prefix ...
        ("ec2", "SearchTransitGatewayMulticastGroups"),
        ("ec2", "SearchLocalGatewayRoutes"),
        ("ec2", "SearchTransitGatewayRoutesAndDeleteThem"),
        ("ec2", "searchTransitGatewayRoutes"),
        # ... and for EC2 only.
        ("networkmanager", "SearchTransitGatewayRoutes"),
        # Reads by prefix used to pass: some Get* calls return secrets or mint credentials.
        ("secretsmanager", "GetSecretValue"),
        ("sts", "GetFederationToken"),
        ("sts", "GetSessionToken"),
        ("ssm", "GetParameter"),
        ("ec2", "GetPasswordData"),
        ("ec2", "DescribeInstances"),
        ("iam", "ListUsers"),
    ],
)
def test_is_read_only_refuses_everything_else(service: str, operation: str) -> None:
    assert not is_read_only(service, operation)


def test_create_vpc_is_refused_and_nothing_is_sent(factory: ClientFactory, sent: list[str]) -> None:
    ec2 = factory.client("ec2", REGION)
    with pytest.raises(MutatingCallRefused, match=r"ec2:CreateVpc"):
        ec2.create_vpc(CidrBlock="10.99.0.0/16")
    assert sent == []
    assert factory.counter.attempts == 0
    assert factory.counter.calls == 0
    cidrs = [v["CidrBlock"] for v in _unguarded_ec2().describe_vpcs()["Vpcs"]]
    assert "10.99.0.0/16" not in cidrs


def test_delete_vpc_is_refused_and_the_vpc_survives(
    factory: ClientFactory, sent: list[str]
) -> None:
    plain = _unguarded_ec2()
    vpc_id = plain.create_vpc(CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(MutatingCallRefused, match=r"ec2:DeleteVpc"):
        factory.client("ec2", REGION).delete_vpc(VpcId=vpc_id)
    assert sent == []
    assert [v["VpcId"] for v in plain.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]] == [vpc_id]


def test_modify_and_put_operations_are_refused_before_sending(
    factory: ClientFactory, sent: list[str]
) -> None:
    plain = _unguarded_ec2()
    vpc_id = plain.create_vpc(CidrBlock="10.97.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(MutatingCallRefused, match=r"ec2:ModifyVpcAttribute"):
        factory.client("ec2", REGION).modify_vpc_attribute(
            VpcId=vpc_id, EnableDnsHostnames={"Value": True}
        )
    with pytest.raises(MutatingCallRefused, match=r"s3:PutBucketPolicy"):
        factory.client("s3", REGION).put_bucket_policy(Bucket="some-bucket", Policy="{}")
    with pytest.raises(MutatingCallRefused, match=r"ec2:CreateTags"):
        factory.client("ec2", REGION).create_tags(
            Resources=[vpc_id], Tags=[{"Key": "k", "Value": "v"}]
        )
    assert sent == []
    attr = plain.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
    assert attr["EnableDnsHostnames"]["Value"] is False
    assert plain.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0].get("Tags", []) == []


def test_guard_covers_clients_made_directly_from_the_session(
    factory: ClientFactory, sent: list[str]
) -> None:
    ec2 = factory.session.client("ec2", region_name="eu-west-1")
    with pytest.raises(MutatingCallRefused):
        ec2.create_vpc(CidrBlock="10.96.0.0/16")
    assert sent == []


def test_reads_pass_the_guard_and_are_sent(factory: ClientFactory, sent: list[str]) -> None:
    ec2 = factory.client("ec2", REGION)
    assert isinstance(ec2.describe_vpcs()["Vpcs"], list)
    assert factory.client("sts").get_caller_identity()["Account"] == "123456789012"
    # A read the scanner never makes is refused too, before it is sent.
    with pytest.raises(MutatingCallRefused):
        factory.client("s3", REGION).list_buckets()
    assert sent == ["DescribeVpcs", "GetCallerIdentity"]
    assert factory.counter.calls == 2
    assert factory.counter.attempts == 2
    assert factory.counter.by_operation == {
        "ec2:DescribeVpcs": 1,
        "sts:GetCallerIdentity": 1,
    }


def test_assume_role_passes_the_guard(factory: ClientFactory, sent: list[str]) -> None:
    creds = factory.client("sts").assume_role(
        RoleArn="arn:aws:iam::123456789012:role/vpcaudit-scanner", RoleSessionName="vpcaudit"
    )["Credentials"]
    assert creds["AccessKeyId"]
    assert sent == ["AssumeRole"]


def test_clients_use_adaptive_retries(factory: ClientFactory) -> None:
    retries = factory.client("ec2", REGION).meta.config.retries
    assert retries["mode"] == "adaptive"
    assert retries["total_max_attempts"] >= 3


def test_search_transit_gateway_routes_passes_the_guard_and_is_sent(
    factory: ClientFactory, sent: list[str]
) -> None:
    plain = _unguarded_ec2()
    tgw = plain.create_transit_gateway()["TransitGateway"]
    rtb = tgw["Options"]["AssociationDefaultRouteTableId"]
    routes = factory.client("ec2", REGION).search_transit_gateway_routes(
        TransitGatewayRouteTableId=rtb,
        Filters=[{"Name": "type", "Values": ["static", "propagated"]}],
    )["Routes"]
    assert routes == []
    assert sent == ["SearchTransitGatewayRoutes"]
    assert factory.counter.by_operation == {"ec2:SearchTransitGatewayRoutes": 1}


def test_only_the_named_search_is_allowed_on_a_live_client(
    factory: ClientFactory, sent: list[str]
) -> None:
    # A Search operation that is not named is refused before anything is sent, like a write.
    with pytest.raises(MutatingCallRefused, match=r"ec2:SearchTransitGatewayMulticastGroups"):
        factory.client("ec2", REGION).search_transit_gateway_multicast_groups(
            TransitGatewayMulticastDomainId="tgw-mcast-domain-1"
        )
    assert sent == []
