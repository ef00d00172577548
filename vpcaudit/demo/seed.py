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

The network account also holds a Transit Gateway topology with instances, security groups and
network ACLs, for `vpcaudit path` (seed_network.py describes it; `Seeded.paths` lists the
questions and their answers); the reachability intents `scan --demo` applies are checked
over it (intents.py). The Transit Gateway defects beside it are in seed_tgw.py, NAT gateways,
Elastic IPs and a stale security group rule in seed_hygiene.py, and a hub near its peering
quota in seed_mesh.py. `Seeded.controls` names each rule's correct controls.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import boto3

from vpcaudit.demo.accounts import (
    EU_REGION,
    HUB_REGION,
    MANAGEMENT_ACCOUNT,
    ORG_ROLE,
    PARTNER_ACCOUNT,
    REGIONS,
    Account,
    ExpectedPath,
    Seeded,
    assume,
)
from vpcaudit.demo.fidelity import MotoFidelity
from vpcaudit.demo.intents import record_intents
from vpcaudit.demo.seed_hygiene import seed_stale_reference, seed_web
from vpcaudit.demo.seed_mesh import seed_mesh
from vpcaudit.demo.seed_network import seed_network
from vpcaudit.demo.seed_tgw import seed_tgw

__all__ = [
    "EU_REGION",
    "HUB_REGION",
    "MANAGEMENT_ACCOUNT",
    "ORG_ROLE",
    "PARTNER_ACCOUNT",
    "REGIONS",
    "ExpectedPath",
    "Seeded",
    "seed",
]

# The policy a careful team attaches to its endpoints: only its own organization's principals.
ORG_ONLY_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-demo"}},
            }
        ],
    }
)


def seed(session: boto3.Session, fidelity: MotoFidelity, now: dt.datetime) -> Seeded:
    """Create the demo Organization and its network, from the management account's session."""
    seeded = Seeded()
    org = session.client("organizations", region_name=HUB_REGION)
    org.create_organization(FeatureSet="ALL")
    accounts: dict[str, Account] = {}
    for name in ("network", "app-prod", "analytics"):
        status = org.create_account(Email=f"{name}@demo.example", AccountName=name)
        account_id = status["CreateAccountStatus"]["AccountId"]
        seeded.accounts[name] = account_id
        accounts[name] = Account(assume(session, account_id), account_id, seeded)
    partner = Account(assume(session, PARTNER_ACCOUNT), PARTNER_ACCOUNT, seeded)
    for acct in accounts.values():
        acct.remove_default_vpcs()
    net, app, ana = accounts["network"], accounts["app-prod"], accounts["analytics"]

    hub, hub_rt, hub_subnets = net.vpc(HUB_REGION, "hub", "10.0.0.0/16", "ab")
    eu_app, eu_app_rt, (seeded.subnets["eu-app-a"],) = net.vpc(EU_REGION, "eu-app", "172.16.0.0/16")
    spoke_a, spoke_a_rt, (seeded.subnets["spoke-a-a"],) = app.vpc(
        HUB_REGION, "spoke-a", "10.1.0.0/16", traffic="REJECT"
    )
    spoke_b, _, (seeded.subnets["spoke-b-a"],) = app.vpc(
        HUB_REGION, "spoke-b", "10.2.0.0/16", flow_log=False
    )
    eu_legacy, _, _ = app.vpc(EU_REGION, "eu-legacy", "172.20.0.0/16", flow_log=False)
    analytics, _, analytics_subnets = ana.vpc(HUB_REGION, "analytics", "10.3.0.0/16", "ab")
    partner_vpc, _, _ = partner.vpc(HUB_REGION, "partner", "192.168.0.0/16")

    def peer(
        name: str,
        requester: tuple[Account, str, str],
        accepter: tuple[Account, str, str],
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
    for acct, region, rtb, cidr, pcx in (
        (net, HUB_REGION, hub_rt, "10.1.0.0/16", pcx_a),
        (app, HUB_REGION, spoke_a_rt, "10.0.0.0/16", pcx_a),
        (net, HUB_REGION, hub_rt, "10.2.0.0/16", pcx_b),  # spoke-b never routes back
        (net, HUB_REGION, hub_rt, "172.16.0.0/16", pcx_eu),
        (net, EU_REGION, eu_app_rt, "10.0.0.0/16", pcx_eu),
        (net, HUB_REGION, hub_rt, "192.168.0.0/16", pcx_partner),
    ):
        acct.route(region, rtb, cidr, pcx)
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
    _seed_routing(seeded, fidelity, net=net, app=app, ana=ana, peer=peer, made=month_ago)
    _seed_more_endpoints(seeded, net, app)
    _seed_flow_logs(seeded, app, ana)
    _seed_networks(seeded, fidelity, accounts)
    seeded.expected |= {
        ("endpoint-interface-for-gateway-service", waste),
        ("endpoint-interface-for-gateway-service", ddb),
        ("vpc-flow-logs-missing", spoke_b),
        ("vpc-flow-logs-missing", eu_legacy),
    }
    return seeded


def _seed_networks(seeded: Seeded, fidelity: MotoFidelity, accounts: dict[str, Account]) -> None:
    """The Transit Gateways, NAT gateways and Elastic IPs, the peering mesh, the intents."""
    net, app, ana = accounts["network"], accounts["app-prod"], accounts["analytics"]
    core, eu_tgw = seed_network(seeded, fidelity, net)
    seed_web(seeded, app, ORG_ONLY_POLICY)
    seed_tgw(seeded, fidelity, app, core, eu_tgw)
    seed_mesh(seeded, ana)
    record_intents(seeded)


def _seed_endpoints(
    seeded: Seeded,
    net: Account,
    ana: Account,
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
        PolicyDocument=ORG_ONLY_POLICY,
    )["VpcEndpoint"]["VpcEndpointId"]
    # Its security group admits the whole internet on 443 (endpoint-sg-open).
    open_sg = ana_ec2.create_security_group(
        GroupName="analytics-endpoints", Description="endpoint access", VpcId=analytics
    )["GroupId"]
    ana_ec2.authorize_security_group_ingress(
        GroupId=open_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    waste = ana_ec2.create_vpc_endpoint(
        VpcId=analytics,
        ServiceName=f"com.amazonaws.{HUB_REGION}.s3",
        VpcEndpointType="Interface",
        SubnetIds=analytics_subnets,
        SecurityGroupIds=[open_sg],
    )["VpcEndpoint"]["VpcEndpointId"]
    vgw = hub_ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    hub_ec2.attach_vpn_gateway(VpcId=hub, VpnGatewayId=vgw)
    seeded.gateways["hub-vgw"] = vgw
    ddb = hub_ec2.create_vpc_endpoint(
        VpcId=hub,
        ServiceName=f"com.amazonaws.{HUB_REGION}.dynamodb",
        VpcEndpointType="Interface",
        SubnetIds=hub_subnets,
        PrivateDnsEnabled=False,
    )["VpcEndpoint"]["VpcEndpointId"]
    seeded.endpoints |= {"analytics-s3-interface": waste, "hub-dynamodb-interface": ddb}
    seeded.expected |= {
        ("endpoint-sg-open", waste),
        ("endpoint-policy-full-access", waste),
        ("endpoint-policy-full-access", ddb),
        ("endpoint-private-dns-disabled", ddb),
    }
    return str(waste), str(ddb)


PeerFn = Callable[..., str]


def _seed_routing(
    seeded: Seeded,
    fidelity: MotoFidelity,
    *,
    net: Account,
    app: Account,
    ana: Account,
    peer: PeerFn,
    made: dt.datetime,
) -> None:
    """Routes peering cannot carry, dead routes, overlapping address space, DNS options."""
    hub, hub_rt = seeded.vpcs["hub"], seeded.route_tables["hub"]
    eu_app_rt = seeded.route_tables["eu-app"]
    pcx = seeded.peerings
    # The hub routes a range behind spoke-a through its peering: peering is not transitive.
    net.route(HUB_REGION, hub_rt, "10.9.0.0/16", pcx["hub-spoke-a"])
    # eu-app routes all of 10/8 to the hub, wider than the hub's 10.0.0.0/16.
    net.route(EU_REGION, eu_app_rt, "10.0.0.0/8", pcx["hub-eu-app"])
    # A retired VPC's peering was deleted, but the hub still routes to it.
    retired, _, _ = net.vpc(HUB_REGION, "retired", "10.8.0.0/16")
    pcx_old = peer(
        "hub-retired", (net, HUB_REGION, hub), (net, HUB_REGION, retired), made, accept=True
    )
    net.route(HUB_REGION, hub_rt, "10.8.0.0/16", pcx_old)
    # A hub security group still admits a group of the retired VPC across it.
    seed_stale_reference(seeded, net, retired, pcx_old)
    net.ec2(HUB_REGION).delete_vpc_peering_connection(VpcPeeringConnectionId=pcx_old)
    fidelity.record_deleted_peering(pcx_old)
    # eu-app kept a route to a NAT gateway that was deleted: a blackhole.
    eu = net.ec2(EU_REGION)
    eu_subnet = eu.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [seeded.vpcs["eu-app"]]}]
    )["Subnets"][0]["SubnetId"]
    dead_nat = eu.create_nat_gateway(SubnetId=eu_subnet)["NatGateway"]["NatGatewayId"]
    eu.create_route(
        RouteTableId=eu_app_rt, DestinationCidrBlock="203.0.113.0/24", NatGatewayId=dead_nat
    )
    eu.delete_nat_gateway(NatGatewayId=dead_nat)
    # spoke-b's private subnet reaches the internet through a NAT gateway, with no gateway
    # endpoint: its S3 and DynamoDB traffic pays NAT processing.
    spoke_b_rt = seeded.route_tables["spoke-b"]
    us = app.ec2(HUB_REGION)
    b_subnet = us.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [seeded.vpcs["spoke-b"]]}]
    )["Subnets"][0]["SubnetId"]
    nat = us.create_nat_gateway(SubnetId=b_subnet)["NatGateway"]["NatGatewayId"]
    us.create_route(RouteTableId=spoke_b_rt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    # analytics-dr re-used analytics' address space: the two can never be peered, and the
    # request between them fails (moto leaves it pending; the fidelity layer fails it).
    dr, _, _ = ana.vpc(EU_REGION, "analytics-dr", "10.3.0.0/16", flow_log=False)
    pcx_dr = peer(
        "analytics-dr",
        (ana, HUB_REGION, seeded.vpcs["analytics"]),
        (ana, EU_REGION, dr),
        made,
        accept=False,
    )
    fidelity.fail_peering(pcx_dr, "Failed due to overlapping CIDR range")
    # A lab VPC that took the same range without any peering: a planning note (the overlap of
    # the two peered above is peering-cidr-overlap's finding, not this one's).
    lab, _, _ = ana.vpc(EU_REGION, "analytics-lab", "10.3.0.0/16", zones="ab")
    # hub-spoke-a resolves private DNS both ways (correct); the other peerings do not.
    _enable_remote_dns(net, app, pcx["hub-spoke-a"])
    seeded.expected |= {
        ("peering-route-not-transitive", hub_rt),
        ("peering-route-too-broad", eu_app_rt),
        ("peering-inactive-lingering", hub_rt),
        ("route-blackhole", eu_app_rt),
        ("nat-traffic-for-gateway-service", spoke_b_rt),
        ("peering-cidr-overlap", pcx_dr),
        ("vpc-cidr-overlap", seeded.vpcs["analytics"]),
        ("vpc-cidr-overlap", dr),
        ("vpc-cidr-overlap", lab),
        ("peering-external-account", pcx["hub-partner"]),
        ("peering-dns-resolution-disabled", pcx["hub-spoke-b"]),
        ("peering-dns-resolution-disabled", pcx["hub-eu-app"]),
        ("peering-dns-resolution-disabled", pcx["hub-partner"]),
    }
    seeded.without_fidelity.add(("peering-pending-expiring", pcx_dr))


def _enable_remote_dns(requester: Account, accepter: Account, pcx: str) -> None:
    on = {"AllowDnsResolutionFromRemoteVpc": True}
    requester.ec2(HUB_REGION).modify_vpc_peering_connection_options(
        VpcPeeringConnectionId=pcx, RequesterPeeringConnectionOptions=on
    )
    accepter.ec2(HUB_REGION).modify_vpc_peering_connection_options(
        VpcPeeringConnectionId=pcx, AccepterPeeringConnectionOptions=on
    )


def _seed_more_endpoints(seeded: Seeded, net: Account, app: Account) -> None:
    """A gateway endpoint missing a route table, an unused one, a single-AZ interface."""
    hub = seeded.vpcs["hub"]
    us = net.ec2(HUB_REGION)
    # A third hub subnet with its own route table that the S3 gateway endpoint lacks.
    isolated = us.create_route_table(VpcId=hub)["RouteTable"]["RouteTableId"]
    sub_c = us.create_subnet(VpcId=hub, CidrBlock="10.0.3.0/24", AvailabilityZone=f"{HUB_REGION}c")[
        "Subnet"
    ]["SubnetId"]
    us.associate_route_table(RouteTableId=isolated, SubnetId=sub_c)
    unused = app.ec2(HUB_REGION).create_vpc_endpoint(
        VpcId=seeded.vpcs["spoke-a"],
        ServiceName=f"com.amazonaws.{HUB_REGION}.dynamodb",
        VpcEndpointType="Gateway",
        PolicyDocument=ORG_ONLY_POLICY,
    )["VpcEndpoint"]["VpcEndpointId"]
    eu = net.ec2(EU_REGION)
    eu_subnet = eu.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [seeded.vpcs["eu-app"]]}]
    )["Subnets"][0]["SubnetId"]
    sqs = eu.create_vpc_endpoint(
        VpcId=seeded.vpcs["eu-app"],
        ServiceName=f"com.amazonaws.{EU_REGION}.sqs",
        VpcEndpointType="Interface",
        SubnetIds=[eu_subnet],
        PolicyDocument=ORG_ONLY_POLICY,
    )["VpcEndpoint"]["VpcEndpointId"]
    seeded.endpoints |= {"spoke-a-dynamodb-gateway": unused, "eu-app-sqs-interface": sqs}
    seeded.expected |= {
        ("endpoint-gateway-partial", seeded.endpoints["hub-s3-gateway"]),
        ("endpoint-gateway-unused", unused),
        ("endpoint-single-az", sqs),
    }


def _seed_flow_logs(seeded: Seeded, app: Account, ana: Account) -> None:
    """Partial logs: one subnet only, a log group that is gone, a role that may not write,
    REJECT-only traffic."""
    del app
    # analytics-dr (seeded without a VPC flow log) is logged on its one subnet only.
    eu = ana.ec2(EU_REGION)
    dr_subnet = eu.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [seeded.vpcs["analytics-dr"]]}]
    )["Subnets"][0]["SubnetId"]
    ana.flow_log(EU_REGION, dr_subnet, "Subnet")
    # A subnet log to a CloudWatch Logs group that was deleted: delivery fails, and the group
    # is gone (one finding: flow-logs-destination-missing).
    us = ana.ec2(HUB_REGION)
    subnets = us.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [seeded.vpcs["analytics"]]}]
    )["Subnets"]
    subnet_a, subnet_b = sorted(s["SubnetId"] for s in subnets)[:2]
    role = f"arn:aws:iam::{ana.account_id}:role/flow-logs"
    gone = us.create_flow_logs(
        ResourceIds=[subnet_a],
        ResourceType="Subnet",
        TrafficType="ALL",
        LogGroupName="/vpc/analytics-subnet-a",
        DeliverLogsPermissionArn=role,
    )["FlowLogIds"][0]
    # A subnet log whose group exists but whose role may not write to it: "Access error"
    # (moto reports FAILED for a group missing when the flow log is made; it is then created).
    denied = us.create_flow_logs(
        ResourceIds=[subnet_b],
        ResourceType="Subnet",
        TrafficType="ALL",
        LogGroupName="/vpc/analytics-subnet-b",
        DeliverLogsPermissionArn=role,
    )["FlowLogIds"][0]
    ana.session.client("logs", region_name=HUB_REGION).create_log_group(
        logGroupName="/vpc/analytics-subnet-b"
    )
    seeded.flow_logs["analytics-subnet-cloudwatch"] = gone
    seeded.flow_logs["analytics-subnet-denied"] = denied
    seeded.expected |= {
        ("flow-logs-subnet-only", seeded.vpcs["analytics-dr"]),
        ("flow-logs-partial-traffic", seeded.flow_logs["spoke-a"]),
        ("flow-logs-delivery-failed", denied),
        ("flow-logs-destination-missing", gone),
    }
