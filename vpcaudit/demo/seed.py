"""Build the demo organization's network in moto: correct controls beside seeded defects.

Accounts (an AWS Organization, scanned with --org):
- network: the hub VPC (us-east-1) with an S3 gateway endpoint, a VPN gateway and a DynamoDB
  interface endpoint; eu-app (eu-west-1) peered to the hub across regions, routed both ways.
- app-prod: spoke-a, peered to the hub and routed both ways; spoke-b, peered to the hub but
  with no route back and no flow log; eu-legacy (eu-west-1), no flow log, whose peering
  request to the hub lapses in under a day.
- analytics: a VPC paying for an S3 interface endpoint in two AZs that nothing needs, and a
  fresh peering request to spoke-a.
Outside the Organization, a partner account's VPC is peered to the hub: its side cannot be
scanned, so the route check on that peering is reported as unverifiable, not guessed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import boto3

from vpcaudit.demo.fidelity import MotoFidelity

MANAGEMENT_ACCOUNT = "123456789012"
PARTNER_ACCOUNT = "210987654321"
ORG_ROLE = "OrganizationAccountAccessRole"
HUB_REGION = "us-east-1"
EU_REGION = "eu-west-1"
REGIONS = (HUB_REGION, EU_REGION)


@dataclass
class Seeded:
    """Ids of what the seeding created, so tests can name the expected findings."""

    accounts: dict[str, str] = field(default_factory=dict)
    """Account name -> id."""
    vpcs: dict[str, str] = field(default_factory=dict)
    peerings: dict[str, str] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)
    expected: set[tuple[str, str]] = field(default_factory=set)
    """(rule id, resource id) of every defect the demo seeds on purpose."""
    unverifiable: set[tuple[str, str]] = field(default_factory=set)
    """(rule id, resource id) of checks that cannot be decided from the scanned accounts."""


def _name_tag(kind: str, name: str) -> Any:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


class _Account:
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
        self, region: str, name: str, cidr: str, zones: str = "a", *, flow_log: bool = True
    ) -> tuple[str, str, list[str]]:
        """A VPC with one /24 per zone sharing one route table: (vpc, route table, subnets)."""
        ec2 = self.ec2(region)
        vid = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=_name_tag("vpc", name))["Vpc"][
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
            ec2.create_flow_logs(
                ResourceIds=[vid],
                ResourceType="VPC",
                TrafficType="ALL",
                LogDestinationType="s3",
                LogDestination=f"arn:aws:s3:::{self.bucket}",
            )
        self.seeded.vpcs[name] = vid
        return vid, rtb, subnets

    def route(self, region: str, rtb: str, cidr: str, pcx: str) -> None:
        self.ec2(region).create_route(
            RouteTableId=rtb, DestinationCidrBlock=cidr, VpcPeeringConnectionId=pcx
        )


def _assume(mgmt: boto3.Session, account_id: str) -> boto3.Session:
    creds = mgmt.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ORG_ROLE}", RoleSessionName="demo-seed"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=HUB_REGION,
    )


def seed(session: boto3.Session, fidelity: MotoFidelity, now: dt.datetime) -> Seeded:
    """Create the demo Organization and its network, from the management account's session."""
    seeded = Seeded()
    org = session.client("organizations", region_name=HUB_REGION)
    org.create_organization(FeatureSet="ALL")
    accounts: dict[str, _Account] = {}
    for name in ("network", "app-prod", "analytics"):
        status = org.create_account(Email=f"{name}@demo.example", AccountName=name)
        account_id = status["CreateAccountStatus"]["AccountId"]
        seeded.accounts[name] = account_id
        accounts[name] = _Account(_assume(session, account_id), account_id, seeded)
    partner = _Account(_assume(session, PARTNER_ACCOUNT), PARTNER_ACCOUNT, seeded)
    for acct in accounts.values():
        for region in REGIONS:
            acct.remove_default_vpc(region)
    net, app, ana = accounts["network"], accounts["app-prod"], accounts["analytics"]

    hub, hub_rt, hub_subnets = net.vpc(HUB_REGION, "hub", "10.0.0.0/16", "ab")
    eu_app, eu_app_rt, _ = net.vpc(EU_REGION, "eu-app", "172.16.0.0/16")
    spoke_a, spoke_a_rt, _ = app.vpc(HUB_REGION, "spoke-a", "10.1.0.0/16")
    spoke_b, _, _ = app.vpc(HUB_REGION, "spoke-b", "10.2.0.0/16", flow_log=False)
    eu_legacy, _, _ = app.vpc(EU_REGION, "eu-legacy", "172.20.0.0/16", flow_log=False)
    analytics, _, analytics_subnets = ana.vpc(HUB_REGION, "analytics", "10.3.0.0/16", "ab")
    partner_vpc, _, _ = partner.vpc(HUB_REGION, "partner", "192.168.0.0/16")

    def peer(
        name: str,
        requester: tuple[_Account, str, str],
        accepter: tuple[_Account, str, str],
        made: dt.datetime,
        *,
        accept: bool,
    ) -> str:
        (req, req_region, req_vpc), (acc, acc_region, acc_vpc) = requester, accepter
        pcx = req.ec2(req_region).create_vpc_peering_connection(
            VpcId=req_vpc, PeerVpcId=acc_vpc, PeerOwnerId=acc.account_id, PeerRegion=acc_region
        )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        pcx = str(pcx)
        fidelity.record_peering(pcx, made)
        if accept:
            acc.ec2(acc_region).accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
        seeded.peerings[name] = pcx
        return pcx

    month_ago = now - dt.timedelta(days=30)
    hub_side = (net, HUB_REGION, hub)
    # Hub and spokes across accounts: spoke-a routes back (correct); spoke-b does not.
    pcx_a = peer("hub-spoke-a", hub_side, (app, HUB_REGION, spoke_a), month_ago, accept=True)
    pcx_b = peer("hub-spoke-b", hub_side, (app, HUB_REGION, spoke_b), month_ago, accept=True)
    pcx_eu = peer("hub-eu-app", hub_side, (net, EU_REGION, eu_app), month_ago, accept=True)
    pcx_partner = peer(
        "hub-partner", hub_side, (partner, HUB_REGION, partner_vpc), month_ago, accept=True
    )
    net.route(HUB_REGION, hub_rt, "10.1.0.0/16", pcx_a)
    app.route(HUB_REGION, spoke_a_rt, "10.0.0.0/16", pcx_a)
    net.route(HUB_REGION, hub_rt, "10.2.0.0/16", pcx_b)
    net.route(HUB_REGION, hub_rt, "172.16.0.0/16", pcx_eu)
    net.route(EU_REGION, eu_app_rt, "10.0.0.0/16", pcx_eu)
    net.route(HUB_REGION, hub_rt, "192.168.0.0/16", pcx_partner)
    seeded.expected.add(("peering-route-one-way", pcx_b))
    seeded.unverifiable.add(("peering-route-one-way", pcx_partner))

    # Pending requests: one lapses in under a day (high), one was made yesterday (low).
    late = now - dt.timedelta(days=6, hours=4)
    pcx_late = peer("eu-legacy-hub", (app, EU_REGION, eu_legacy), hub_side, late, accept=False)
    fresh = now - dt.timedelta(days=1)
    pcx_new = peer(
        "analytics-spoke-a",
        (ana, HUB_REGION, analytics),
        (app, HUB_REGION, spoke_a),
        fresh,
        accept=False,
    )
    seeded.expected |= {
        ("peering-pending-expiring", pcx_late),
        ("peering-pending-expiring", pcx_new),
    }

    waste, ddb = _seed_endpoints(seeded, net, ana, (hub, hub_rt, hub_subnets), analytics_subnets)
    seeded.expected |= {
        ("endpoint-interface-for-gateway-service", waste),
        ("endpoint-interface-for-gateway-service", ddb),
        ("vpc-flow-logs-missing", spoke_b),
        ("vpc-flow-logs-missing", eu_legacy),
    }
    return seeded


def _seed_endpoints(
    seeded: Seeded,
    net: _Account,
    ana: _Account,
    hub_net: tuple[str, str, list[str]],
    analytics_subnets: list[str],
) -> tuple[str, str]:
    """Endpoints: a correct gateway, a wasted interface, and an interface with a use."""
    hub, hub_rt, hub_subnets = hub_net
    analytics = seeded.vpcs["analytics"]
    # Endpoints: the hub uses a free S3 gateway endpoint (correct); analytics pays for an S3
    # interface endpoint in two AZs that nothing needs (medium); the hub's DynamoDB interface
    # endpoint may serve its VPN and peers (graded low, with that evidence).
    hub_ec2, ana_ec2 = net.ec2(HUB_REGION), ana.ec2(HUB_REGION)
    seeded.endpoints["hub-s3-gateway"] = hub_ec2.create_vpc_endpoint(
        VpcId=hub,
        ServiceName=f"com.amazonaws.{HUB_REGION}.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[hub_rt],
    )["VpcEndpoint"]["VpcEndpointId"]
    waste = ana_ec2.create_vpc_endpoint(
        VpcId=analytics,
        ServiceName=f"com.amazonaws.{HUB_REGION}.s3",
        VpcEndpointType="Interface",
        SubnetIds=analytics_subnets,
    )["VpcEndpoint"]["VpcEndpointId"]
    vgw = hub_ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    hub_ec2.attach_vpn_gateway(VpcId=hub, VpnGatewayId=vgw)
    ddb = hub_ec2.create_vpc_endpoint(
        VpcId=hub,
        ServiceName=f"com.amazonaws.{HUB_REGION}.dynamodb",
        VpcEndpointType="Interface",
        SubnetIds=hub_subnets,
    )["VpcEndpoint"]["VpcEndpointId"]
    seeded.endpoints |= {"analytics-s3-interface": waste, "hub-dynamodb-interface": ddb}
    return str(waste), str(ddb)
