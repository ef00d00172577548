"""The demo organization's building blocks: its accounts, their clients, and the record of
what the seeding created (`Seeded`), shared by seed.py and seed_network.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import boto3

MANAGEMENT_ACCOUNT = "123456789012"
PARTNER_ACCOUNT = "210987654321"
ORG_ROLE = "OrganizationAccountAccessRole"
HUB_REGION = "us-east-1"
EU_REGION = "eu-west-1"
REGIONS = (HUB_REGION, EU_REGION)


class ExpectedPath(NamedTuple):
    """A `vpcaudit path` question on the demo and the answer AWS would give."""

    source: str
    destination: str
    protocol: str
    port: int | None
    verdict: str
    """reachable | not-reachable | unknown"""
    code: str
    """The explanation code of docs/network-model.md ("" when reachable)."""


@dataclass
class Seeded:
    """Ids of what the seeding created, so tests can name the expected findings."""

    accounts: dict[str, str] = field(default_factory=dict)
    """Account name -> id."""
    vpcs: dict[str, str] = field(default_factory=dict)
    peerings: dict[str, str] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)
    route_tables: dict[str, str] = field(default_factory=dict)
    flow_logs: dict[str, str] = field(default_factory=dict)
    subnets: dict[str, str] = field(default_factory=dict)
    """Subnets the network model's paths use, by name (e.g. "prod-app-reports")."""
    instances: dict[str, str] = field(default_factory=dict)
    security_groups: dict[str, str] = field(default_factory=dict)
    network_acls: dict[str, str] = field(default_factory=dict)
    transit_gateways: dict[str, str] = field(default_factory=dict)
    tgw_route_tables: dict[str, str] = field(default_factory=dict)
    tgw_attachments: dict[str, str] = field(default_factory=dict)
    gateways: dict[str, str] = field(default_factory=dict)
    """Internet, egress-only, VPN and customer gateways, VPN connections, Elastic IPs."""
    prefix_lists: dict[str, str] = field(default_factory=dict)
    expected: set[tuple[str, str]] = field(default_factory=set)
    """(rule id, resource id) of every defect the demo seeds on purpose."""
    unverifiable: set[tuple[str, str]] = field(default_factory=set)
    """(rule id, resource id) of checks that cannot be decided from the scanned accounts."""
    without_fidelity: set[tuple[str, str]] = field(default_factory=set)
    """Findings that appear instead, or as well, when moto is read without the fidelity layer
    (e.g. served over HTTP to a subprocess): there an overlapping peering stays pending."""
    needs_fidelity: set[tuple[str, str]] = field(default_factory=set)
    """Expected findings that only the fidelity layer's facts produce (a peering status in a
    security group rule, a route to a deleted TGW attachment, TGW route propagation, an
    attachment with no association): a scan without the layer lacks them."""
    intent_violations: set[tuple[str, str]] = field(default_factory=set)
    """Expected findings of the demo's reachability intents (vpcaudit/demo/intents.py), which
    `scan --demo` applies and a plain `vpcaudit scan` of the seeded organization does not."""
    controls: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Rule id -> resources seeded as that rule's correct controls: the demo must not flag
    them with that rule."""
    paths: dict[str, ExpectedPath] = field(default_factory=dict)
    """`vpcaudit path` questions with the answer AWS would give, by name: (source, destination,
    protocol, port, verdict, code). Addresses are fixed, so they are the same every run."""

    @property
    def expected_without_fidelity(self) -> set[tuple[str, str]]:
        """The expected findings of a plain `vpcaudit scan` of the seeded organization: moto
        read without the fidelity layer, and the policy without the demo's intents."""
        return (self.expected - self.needs_fidelity - self.intent_violations) | (
            self.without_fidelity
        )


def name_tag(kind: str, name: str) -> Any:
    """TagSpecifications naming a resource."""
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


class Account:
    """One account's clients and the helpers to build its network."""

    def __init__(self, session: boto3.Session, account_id: str, seeded: Seeded) -> None:
        self.session = session
        self.account_id = account_id
        self.seeded = seeded
        self._ec2: dict[str, Any] = {}
        self.bucket = f"flow-logs-{account_id}"
        session.client("s3", region_name=HUB_REGION).create_bucket(Bucket=self.bucket)

    def ec2(self, region: str) -> Any:
        if region not in self._ec2:
            self._ec2[region] = self.session.client("ec2", region_name=region)
        return self._ec2[region]

    def remove_default_vpcs(self) -> None:
        """Delete the default VPCs of the demo regions."""
        for region in REGIONS:
            self.remove_default_vpc(region)

    def remove_default_vpc(self, region: str) -> None:
        # The demo organization deleted its default VPCs, as many hardened accounts do.
        ec2 = self.ec2(region)
        for vpc in ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]:
            vid = vpc["VpcId"]
            by_vpc = [{"Name": "vpc-id", "Values": [vid]}]
            for s in ec2.describe_subnets(Filters=by_vpc)["Subnets"]:
                ec2.delete_subnet(SubnetId=s["SubnetId"])
            attached = [{"Name": "attachment.vpc-id", "Values": [vid]}]
            for g in ec2.describe_internet_gateways(Filters=attached)["InternetGateways"]:
                ec2.detach_internet_gateway(InternetGatewayId=g["InternetGatewayId"], VpcId=vid)
                ec2.delete_internet_gateway(InternetGatewayId=g["InternetGatewayId"])
            ec2.delete_vpc(VpcId=vid)

    def vpc(
        self,
        region: str,
        name: str,
        cidr: str,
        zones: str = "a",
        *,
        flow_log: bool = True,
        traffic: str = "ALL",
    ) -> tuple[str, str, list[str]]:
        """A VPC with one /24 per zone sharing one route table: (vpc, route table, subnets)."""
        ec2 = self.ec2(region)
        vid = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=name_tag("vpc", name))["Vpc"][
            "VpcId"
        ]
        rtb = ec2.create_route_table(VpcId=vid)["RouteTable"]["RouteTableId"]
        base = cidr.split("/", maxsplit=1)[0].rsplit(".", 2)[0]
        subnets = []
        for i, zone in enumerate(zones, start=1):
            sid = ec2.create_subnet(
                VpcId=vid, CidrBlock=f"{base}.{i}.0/24", AvailabilityZone=f"{region}{zone}"
            )["Subnet"]["SubnetId"]
            ec2.associate_route_table(RouteTableId=rtb, SubnetId=sid)
            subnets.append(sid)
        if flow_log:
            self.seeded.flow_logs[name] = self.flow_log(region, vid, "VPC", traffic)
        self.seeded.vpcs[name] = vid
        self.seeded.route_tables[name] = rtb
        return vid, rtb, subnets

    def flow_log(self, region: str, resource: str, kind: str, traffic: str = "ALL") -> str:
        """A flow log to the account's S3 bucket; returns its id."""
        out = self.ec2(region).create_flow_logs(
            ResourceIds=[resource],
            ResourceType=kind,
            TrafficType=traffic,
            LogDestinationType="s3",
            LogDestination=f"arn:aws:s3:::{self.bucket}",
        )
        return str(out["FlowLogIds"][0])

    def route(self, region: str, rtb: str, cidr: str, pcx: str) -> None:
        self.ec2(region).create_route(
            RouteTableId=rtb, DestinationCidrBlock=cidr, VpcPeeringConnectionId=pcx
        )


def assume(mgmt: boto3.Session, account_id: str) -> boto3.Session:
    """A session in a member account, through the Organization's role."""
    creds = mgmt.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ORG_ROLE}", RoleSessionName="demo-seed"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=HUB_REGION,
    )
