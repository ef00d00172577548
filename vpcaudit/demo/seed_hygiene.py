"""The demo's hygiene and waste: NAT gateways, Elastic IPs and a stale security group rule,
each defect beside its correct control.

app-prod, us-east-1, VPC web 10.5.0.0/16 (zones a and b): a public subnet per zone routed to
an internet gateway, each holding a NAT gateway with its Elastic IP, and a private subnet per
zone with its own route table, both tables on S3 and DynamoDB gateway endpoints.
- web-private-a sends 0.0.0.0/0 to zone a's NAT gateway (correct).
- web-private-b was pointed at zone a's NAT gateway during an incident and never moved back:
  zone b's egress crosses zones (nat-cross-az), and zone b's NAT gateway, which no route uses
  any more, bills for nothing (nat-gateway-unreferenced).
app-prod also holds two Elastic IPs associated with nothing: web-spare, forgotten
(eip-unassociated), and partner-allowlisted, tagged vpcaudit:reserved as held on purpose
(left alone).
network, us-east-1: the hub's db-from-retired group admits PostgreSQL from a group of the
retired VPC across the hub-retired peering, since deleted: the rule is stale
(sg-stale-reference). Its control, a reference across an active peering, is in seed_mesh.py.
"""

from __future__ import annotations

from typing import Any

from vpcaudit.demo.accounts import HUB_REGION, Account, Seeded, name_tag

WEB_CIDR = "10.5.0.0/16"


def seed_web(seeded: Seeded, app: Account, endpoint_policy: str) -> None:
    """The web VPC of the module docstring, and app-prod's Elastic IPs."""
    us = app.ec2(HUB_REGION)
    vid = us.create_vpc(CidrBlock=WEB_CIDR, TagSpecifications=name_tag("vpc", "web"))["Vpc"][
        "VpcId"
    ]
    seeded.vpcs["web"] = vid
    seeded.flow_logs["web"] = app.flow_log(HUB_REGION, vid, "VPC")
    igw = us.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    us.attach_internet_gateway(InternetGatewayId=igw, VpcId=vid)
    seeded.gateways["web-igw"] = igw
    public = _table(us, seeded, vid, "web-public")
    us.create_route(RouteTableId=public, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    nats: dict[str, str] = {}
    for i, zone in enumerate("ab", start=1):
        pub = _subnet(
            us, seeded, vid, f"web-public-{zone}", cidr=f"10.5.10{i}.0/24", zone=zone, rtb=public
        )
        eip = us.allocate_address(
            Domain="vpc", TagSpecifications=name_tag("elastic-ip", f"web-nat-{zone}")
        )["AllocationId"]
        seeded.gateways[f"web-nat-{zone}-eip"] = eip
        nats[zone] = us.create_nat_gateway(
            SubnetId=pub, AllocationId=eip, TagSpecifications=name_tag("natgateway", f"web-{zone}")
        )["NatGateway"]["NatGatewayId"]
        seeded.gateways[f"web-nat-{zone}"] = nats[zone]
    private = []
    for i, zone in enumerate("ab", start=1):
        table = _table(us, seeded, vid, f"web-private-{zone}")
        _subnet(us, seeded, vid, f"web-private-{zone}", cidr=f"10.5.{i}.0/24", zone=zone, rtb=table)
        private.append(table)
    # Zone a's table uses zone a's NAT gateway; zone b's too (the defect).
    for table in private:
        us.create_route(
            RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nats["a"]
        )
    # S3 and DynamoDB through gateway endpoints, so the NAT gateways carry no such traffic.
    for service in ("s3", "dynamodb"):
        seeded.endpoints[f"web-{service}-gateway"] = us.create_vpc_endpoint(
            VpcId=vid,
            ServiceName=f"com.amazonaws.{HUB_REGION}.{service}",
            VpcEndpointType="Gateway",
            RouteTableIds=[public, *private],
            PolicyDocument=endpoint_policy,
        )["VpcEndpoint"]["VpcEndpointId"]
    spare = us.allocate_address(
        Domain="vpc", TagSpecifications=name_tag("elastic-ip", "web-spare")
    )["AllocationId"]
    reserved = us.allocate_address(
        Domain="vpc",
        TagSpecifications=[
            {
                "ResourceType": "elastic-ip",
                "Tags": [
                    {"Key": "Name", "Value": "partner-allowlisted"},
                    {"Key": "vpcaudit:reserved", "Value": "on partners' allow-lists"},
                ],
            }
        ],
    )["AllocationId"]
    gw, rt = seeded.gateways, seeded.route_tables
    gw |= {"web-spare-eip": spare, "partner-allowlisted-eip": reserved}
    seeded.expected |= {
        ("nat-cross-az", rt["web-private-b"]),
        ("nat-gateway-unreferenced", nats["b"]),
        ("eip-unassociated", spare),
    }
    seeded.controls["nat-cross-az"] |= {rt["web-private-a"], rt["web-public"], rt["spoke-b"]}
    seeded.controls["nat-gateway-unreferenced"] |= {nats["a"]}
    seeded.controls["eip-unassociated"] |= {
        reserved,
        gw["web-nat-a-eip"],
        gw["web-nat-b-eip"],
        gw["edge-eip"],
    }


def _table(ec2: Any, seeded: Seeded, vpc: str, name: str) -> str:
    rtb = str(
        ec2.create_route_table(VpcId=vpc, TagSpecifications=name_tag("route-table", name))[
            "RouteTable"
        ]["RouteTableId"]
    )
    seeded.route_tables[name] = rtb
    return rtb


def _subnet(
    ec2: Any, seeded: Seeded, vpc: str, name: str, *, cidr: str, zone: str, rtb: str
) -> str:
    sid = str(
        ec2.create_subnet(
            VpcId=vpc,
            CidrBlock=cidr,
            AvailabilityZone=f"{HUB_REGION}{zone}",
            TagSpecifications=name_tag("subnet", name),
        )["Subnet"]["SubnetId"]
    )
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=sid)
    seeded.subnets[name] = sid
    return sid


def seed_stale_reference(seeded: Seeded, net: Account, retired: str, peering: str) -> None:
    """The hub's db-from-retired group, referencing a retired group across `peering`, which
    the caller deletes next (moto keeps the rule, but only the fidelity layer says that its
    peering is deleted)."""
    us = net.ec2(HUB_REGION)
    clients = _group(us, seeded, retired, "retired/app")
    group = _group(us, seeded, seeded.vpcs["hub"], "hub/db-from-retired")
    us.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[_from_group(5432, clients, net.account_id, retired, peering)],
    )
    seeded.expected.add(("sg-stale-reference", group))
    seeded.needs_fidelity.add(("sg-stale-reference", group))


def _group(ec2: Any, seeded: Seeded, vpc: str, key: str) -> str:
    """A security group named after the part of `key` after the slash."""
    name = key.split("/", 1)[1]
    gid = str(ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"])
    seeded.security_groups[key] = gid
    return gid


def _from_group(port: int, group: str, owner: str, vpc: str, peering: str) -> dict[str, Any]:
    """A tcp permission from a group in a peered VPC."""
    return {
        "IpProtocol": "tcp",
        "FromPort": port,
        "ToPort": port,
        "UserIdGroupPairs": [
            {"GroupId": group, "UserId": owner, "VpcId": vpc, "VpcPeeringConnectionId": peering}
        ],
    }


def reference_across(
    ec2: Any,
    seeded: Seeded,
    owner: str,
    ends: tuple[tuple[str, str], tuple[str, str]],
    peering: str,
) -> str:
    """A group in the first VPC admitting https from a new group of the second, across an
    active peering: ((vpc, group key), (vpc, group key)). Returns the first group."""
    (here, here_key), (there, there_key) = ends
    clients = _group(ec2, seeded, there, there_key)
    group = _group(ec2, seeded, here, here_key)
    ec2.authorize_security_group_ingress(
        GroupId=group, IpPermissions=[_from_group(443, clients, owner, there, peering)]
    )
    return group
