"""Build the demo organization's network in moto: correct controls beside seeded defects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import boto3

from vpcaudit.demo.fidelity import MotoFidelity

ACCOUNT_ID = "123456789012"
HUB_REGION = "us-east-1"
EU_REGION = "eu-west-1"
REGIONS = (HUB_REGION, EU_REGION)
LOG_BUCKET = "demo-flow-logs"


@dataclass
class Seeded:
    """Ids of what the seeding created, so tests can name the expected findings."""

    vpcs: dict[str, str] = field(default_factory=dict)
    peerings: dict[str, str] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)
    route_tables: dict[str, str] = field(default_factory=dict)
    expected: set[tuple[str, str]] = field(default_factory=set)
    """(rule id, resource id) of every defect the demo seeds on purpose."""


def _tag(name: str) -> Any:
    return [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}]


class _Region:
    def __init__(self, session: boto3.Session, region: str, seeded: Seeded) -> None:
        self.ec2 = session.client("ec2", region_name=region)
        self.region = region
        self.seeded = seeded

    def remove_default_vpc(self) -> None:
        # The demo organization deleted its default VPCs, as many hardened accounts do.
        for vpc in self.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])[
            "Vpcs"
        ]:
            vid = vpc["VpcId"]
            for s in self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vid]}])[
                "Subnets"
            ]:
                self.ec2.delete_subnet(SubnetId=s["SubnetId"])
            for g in self.ec2.describe_internet_gateways(
                Filters=[{"Name": "attachment.vpc-id", "Values": [vid]}]
            )["InternetGateways"]:
                self.ec2.detach_internet_gateway(
                    InternetGatewayId=g["InternetGatewayId"], VpcId=vid
                )
                self.ec2.delete_internet_gateway(InternetGatewayId=g["InternetGatewayId"])
            self.ec2.delete_vpc(VpcId=vid)

    def vpc(
        self, name: str, cidr: str, subnets: list[tuple[str, str]], flow_log: bool = True
    ) -> tuple[str, str, list[str]]:
        """Create a VPC with subnets sharing one route table; return (vpc, rtb, subnets)."""
        vid = self.ec2.create_vpc(CidrBlock=cidr, TagSpecifications=_tag(name))["Vpc"]["VpcId"]
        rtb = self.ec2.create_route_table(VpcId=vid)["RouteTable"]["RouteTableId"]
        subnet_ids = []
        for sub_cidr, az in subnets:
            sid = self.ec2.create_subnet(
                VpcId=vid, CidrBlock=sub_cidr, AvailabilityZone=f"{self.region}{az}"
            )["Subnet"]["SubnetId"]
            self.ec2.associate_route_table(RouteTableId=rtb, SubnetId=sid)
            subnet_ids.append(sid)
        if flow_log:
            self.ec2.create_flow_logs(
                ResourceIds=[vid],
                ResourceType="VPC",
                TrafficType="ALL",
                LogDestinationType="s3",
                LogDestination=f"arn:aws:s3:::{LOG_BUCKET}",
            )
        self.seeded.vpcs[name] = vid
        self.seeded.route_tables[name] = rtb
        return vid, rtb, subnet_ids

    def route(self, rtb: str, cidr: str, pcx: str) -> None:
        self.ec2.create_route(
            RouteTableId=rtb, DestinationCidrBlock=cidr, VpcPeeringConnectionId=pcx
        )


def seed(session: boto3.Session, fidelity: MotoFidelity, now: dt.datetime) -> Seeded:
    """Create the demo network in the moto account behind `session`."""
    seeded = Seeded()
    s3 = session.client("s3", region_name=HUB_REGION)
    s3.create_bucket(Bucket=LOG_BUCKET)
    us, eu = _Region(session, HUB_REGION, seeded), _Region(session, EU_REGION, seeded)
    us.remove_default_vpc()
    eu.remove_default_vpc()

    hub, hub_rt, hub_subnets = us.vpc(
        "hub", "10.0.0.0/16", [("10.0.1.0/24", "a"), ("10.0.2.0/24", "b")]
    )
    spoke_a, spoke_a_rt, _ = us.vpc("spoke-a", "10.1.0.0/16", [("10.1.1.0/24", "a")])
    spoke_b, _, _ = us.vpc("spoke-b", "10.2.0.0/16", [("10.2.1.0/24", "a")], flow_log=False)
    analytics, _, analytics_subnets = us.vpc(
        "analytics", "10.3.0.0/16", [("10.3.1.0/24", "a"), ("10.3.2.0/24", "b")]
    )
    eu_app, eu_app_rt, _ = eu.vpc("eu-app", "172.16.0.0/16", [("172.16.1.0/24", "a")])
    eu_legacy, _, _ = eu.vpc("eu-legacy", "172.20.0.0/16", [("172.20.1.0/24", "a")], flow_log=False)

    def peer(
        name: str,
        requester: _Region,
        vpcs: tuple[str, str],
        peer_region: str,
        made: dt.datetime,
        *,
        accept: bool,
    ) -> str:
        vpc, peer_vpc = vpcs
        pcx = requester.ec2.create_vpc_peering_connection(
            VpcId=vpc, PeerVpcId=peer_vpc, PeerRegion=peer_region
        )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        fidelity.record_peering(pcx, made)
        if accept:
            session.client("ec2", region_name=peer_region).accept_vpc_peering_connection(
                VpcPeeringConnectionId=pcx
            )
        seeded.peerings[name] = pcx
        return pcx

    long_ago = now - dt.timedelta(days=30)
    # Hub and spoke: spoke-a routes back (correct), spoke-b does not (one-way defect).
    pcx_a = peer("hub-spoke-a", us, (hub, spoke_a), HUB_REGION, long_ago, accept=True)
    pcx_b = peer("hub-spoke-b", us, (hub, spoke_b), HUB_REGION, long_ago, accept=True)
    pcx_eu = peer("hub-eu-app", us, (hub, eu_app), EU_REGION, long_ago, accept=True)
    us.route(hub_rt, "10.1.0.0/16", pcx_a)
    us.route(spoke_a_rt, "10.0.0.0/16", pcx_a)
    us.route(hub_rt, "10.2.0.0/16", pcx_b)
    us.route(hub_rt, "172.16.0.0/16", pcx_eu)
    eu.route(eu_app_rt, "10.0.0.0/16", pcx_eu)
    seeded.expected.add(("peering-route-one-way", pcx_b))

    # Pending requests: one lapses in under a day (high), one was made yesterday (low).
    late, new = now - dt.timedelta(days=6, hours=4), now - dt.timedelta(days=1)
    pcx_late = peer("eu-legacy-hub", eu, (eu_legacy, hub), HUB_REGION, late, accept=False)
    pcx_new = peer("eu-app-spoke-a", eu, (eu_app, spoke_a), HUB_REGION, new, accept=False)
    seeded.expected |= {
        ("peering-pending-expiring", pcx_late),
        ("peering-pending-expiring", pcx_new),
    }

    # Endpoints: the hub uses a free S3 gateway endpoint (correct); analytics pays for an S3
    # interface endpoint in two AZs with nothing that needs it (defect); the hub also has a
    # DynamoDB interface endpoint, but it has a VPN gateway and peerings (graded low).
    gw = us.ec2.create_vpc_endpoint(
        VpcId=hub,
        ServiceName=f"com.amazonaws.{HUB_REGION}.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[hub_rt],
    )["VpcEndpoint"]["VpcEndpointId"]
    seeded.endpoints["hub-s3-gateway"] = gw
    waste = us.ec2.create_vpc_endpoint(
        VpcId=analytics,
        ServiceName=f"com.amazonaws.{HUB_REGION}.s3",
        VpcEndpointType="Interface",
        SubnetIds=analytics_subnets,
    )["VpcEndpoint"]["VpcEndpointId"]
    seeded.endpoints["analytics-s3-interface"] = waste
    vgw = us.ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    us.ec2.attach_vpn_gateway(VpcId=hub, VpnGatewayId=vgw)
    ddb = us.ec2.create_vpc_endpoint(
        VpcId=hub,
        ServiceName=f"com.amazonaws.{HUB_REGION}.dynamodb",
        VpcEndpointType="Interface",
        SubnetIds=hub_subnets,
    )["VpcEndpoint"]["VpcEndpointId"]
    seeded.endpoints["hub-dynamodb-interface"] = ddb
    seeded.expected |= {
        ("endpoint-interface-for-gateway-service", waste),
        ("endpoint-interface-for-gateway-service", ddb),
    }

    seeded.expected |= {("vpc-flow-logs-missing", spoke_b), ("vpc-flow-logs-missing", eu_legacy)}
    return seeded
