"""Benchmark the network model: build it for a large organization, then answer path questions.

    python bench/network_bench.py [--vpcs 10000] [--queries 1000]

The synthetic organization: 10 accounts x 10 regions; per VPC two subnets, one route table of
ten routes (local, a default route, eight spoke routes through peerings or the region's
Transit Gateway), five network interfaces, one security group and one network ACL; each region
has a Transit Gateway with two route tables. Questions mix same-VPC, peering, Transit Gateway,
internet and S3 paths. Reported: inventory build, model build, query time (CPU seconds).
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vpcaudit.inventory import KIND_OPERATIONS, Inventory
from vpcaudit.network import NetworkModel
from vpcaudit.runtime import keep_for_the_run
from vpcaudit.snapshot import RegionData, Snapshot

ACCOUNTS = [f"{100000000000 + i}" for i in range(10)]
REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "ap-south-1",
    "ap-northeast-1",
    "sa-east-1",
]

KINDS = tuple(KIND_OPERATIONS)


def _vpc_block(n: int) -> ipaddress.IPv4Network:
    # 10.0.0.0/8 holds 256 /16s; beyond that spill into 100.64/10 and 172.16/12 as /20s.
    if n < 256:
        return ipaddress.IPv4Network(f"10.{n}.0.0/16")
    base = int(ipaddress.IPv4Address("100.64.0.0")) + (n - 256) * 4096
    return ipaddress.IPv4Network((base, 20))


def build_snapshot(n_vpcs: int) -> tuple[Snapshot, list[tuple[str, str]]]:
    """A synthetic snapshot and the (eni, vpc) pairs to ask about."""
    rnd = random.Random(7)
    per_region = n_vpcs // (len(ACCOUNTS) * len(REGIONS))
    regions: list[RegionData] = []
    enis: list[tuple[str, str]] = []
    n = 0
    for acct in ACCOUNTS:
        for region in REGIONS:
            res: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
            tgw = f"tgw-{acct[-3:]}{region}"
            rts = [f"tgw-rtb-{acct[-3:]}{region}-{i}" for i in range(2)]
            res["transit_gateways"].append({"TransitGatewayId": tgw, "OwnerId": acct})
            first = n
            for _ in range(per_region):
                vid = f"vpc-{n:06d}"
                block = _vpc_block(n)
                subs = list(block.subnets(new_prefix=block.prefixlen + 4))[:2]
                res["vpcs"].append(
                    {"VpcId": vid, "OwnerId": acct, "CidrBlock": str(block), "IsDefault": False}
                )
                att = f"tgw-attach-{n:06d}"
                for i, s in enumerate(subs):
                    sid = f"subnet-{n:06d}{i}"
                    res["subnets"].append(
                        {
                            "SubnetId": sid,
                            "VpcId": vid,
                            "CidrBlock": str(s),
                            "AvailabilityZone": f"{region}{'ab'[i]}",
                        }
                    )
                    for k in range(5 if i == 0 else 0):
                        eid = f"eni-{n:06d}{k}"
                        res["network_interfaces"].append(
                            {
                                "NetworkInterfaceId": eid,
                                "SubnetId": sid,
                                "VpcId": vid,
                                "AvailabilityZone": f"{region}a",
                                "PrivateIpAddresses": [
                                    {"PrivateIpAddress": str(s[10 + k]), "Primary": True}
                                ],
                                "Groups": [{"GroupId": f"sg-{n:06d}"}],
                                "InterfaceType": "interface",
                            }
                        )
                        enis.append((eid, vid))
                routes = [
                    {"DestinationCidrBlock": str(block), "GatewayId": "local", "State": "active"},
                    {
                        "DestinationCidrBlock": "0.0.0.0/0",
                        "TransitGatewayId": tgw,
                        "State": "active",
                    },
                ]
                for _ in range(8):
                    other = _vpc_block(rnd.randrange(n_vpcs))
                    routes.append(
                        {
                            "DestinationCidrBlock": str(other),
                            "TransitGatewayId": tgw,
                            "State": "active",
                        }
                    )
                res["route_tables"].append(
                    {
                        "RouteTableId": f"rtb-{n:06d}",
                        "VpcId": vid,
                        "OwnerId": acct,
                        "Associations": [
                            {"Main": True, "AssociationState": {"State": "associated"}}
                        ],
                        "Routes": routes,
                    }
                )
                res["security_groups"].append(
                    {
                        "GroupId": f"sg-{n:06d}",
                        "VpcId": vid,
                        "OwnerId": acct,
                        "IpPermissions": [
                            {
                                "IpProtocol": "tcp",
                                "FromPort": 443,
                                "ToPort": 443,
                                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
                            }
                        ],
                        "IpPermissionsEgress": [
                            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
                        ],
                    }
                )
                res["network_acls"].append(
                    {
                        "NetworkAclId": f"acl-{n:06d}",
                        "VpcId": vid,
                        "IsDefault": True,
                        "Associations": [{"SubnetId": f"subnet-{n:06d}{i}"} for i in range(2)],
                        "Entries": [
                            {
                                "RuleNumber": 100,
                                "Protocol": "-1",
                                "RuleAction": "allow",
                                "Egress": e,
                                "CidrBlock": "0.0.0.0/0",
                            }
                            for e in (False, True)
                        ],
                    }
                )
                res["tgw_attachments"].append(
                    {
                        "TransitGatewayAttachmentId": att,
                        "TransitGatewayId": tgw,
                        "TransitGatewayOwnerId": acct,
                        "ResourceOwnerId": acct,
                        "ResourceType": "vpc",
                        "ResourceId": vid,
                        "State": "available",
                    }
                )
                res["tgw_vpc_attachments"].append(
                    {
                        "TransitGatewayAttachmentId": att,
                        "SubnetIds": [f"subnet-{n:06d}0", f"subnet-{n:06d}1"],
                    }
                )
                rt = rts[n % 2]
                res["tgw_associations"].append(
                    {
                        "TransitGatewayRouteTableId": rt,
                        "TransitGatewayAttachmentId": att,
                        "State": "associated",
                    }
                )
                for r in rts:
                    res["tgw_routes"].append(
                        {
                            "TransitGatewayRouteTableId": r,
                            "DestinationCidrBlock": str(block),
                            "Type": "propagated",
                            "State": "active",
                            "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": att}],
                        }
                    )
                n += 1
            for r in rts:
                res["tgw_route_tables"].append(
                    {"TransitGatewayRouteTableId": r, "TransitGatewayId": tgw}
                )
            del first
            regions.append(RegionData(acct, region, res))
    snap = Snapshot(
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:01:00Z",
        tool_version="bench",
        accounts={a: "" for a in ACCOUNTS},
        regions=tuple(regions),
    )
    return snap, enis


def main() -> None:
    """Build, then query; print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vpcs", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=1_000)
    args = ap.parse_args()
    snap, enis = build_snapshot(args.vpcs)
    t0 = time.process_time()
    inv = Inventory.from_snapshot(snap)
    keep_for_the_run(inv, snap)  # as the CLI does
    t1 = time.process_time()
    model = NetworkModel(inv)
    t2 = time.process_time()
    rnd = random.Random(11)
    verdicts: dict[str, int] = {}
    for i in range(args.queries):
        src, _ = rnd.choice(enis)
        kind = i % 4
        if kind == 0:
            # Half the time a neighbour in the same region (its TGW has the route).
            near = enis.index((src, _)) + rnd.randrange(-200, 200)
            dst = enis[max(0, min(len(enis) - 1, near))][0] if i % 8 == 0 else rnd.choice(enis)[0]
        elif kind == 1:
            dst = "internet"
        elif kind == 2:
            dst = "s3"
        else:
            dst = str(
                ipaddress.IPv4Address(
                    rnd.randrange(
                        int(ipaddress.IPv4Address("10.0.0.0")),
                        int(ipaddress.IPv4Address("10.255.255.255")),
                    )
                )
            )
        a = model.path(src, dst, protocol="tcp", port=443)
        key = a.verdict.value + (f" {a.code}" if a.code else "")
        verdicts[key] = verdicts.get(key, 0) + 1
    t3 = time.process_time()
    routes = sum(len(t.routes) for t in inv.route_tables)
    print(
        f"vpcs={len(inv.vpcs)} routes={routes} enis={len(inv.network_interfaces)} "
        f"tgw_routes={sum(len(t.routes) for t in inv.tgw_route_tables)}"
    )
    print(f"inventory build: {t1 - t0:.2f} s CPU")
    print(f"model build:     {t2 - t1:.2f} s CPU")
    print(
        f"{args.queries} queries: {t3 - t2:.2f} s CPU "
        f"({(t3 - t2) / args.queries * 1000:.2f} ms each)"
    )
    print("verdicts:", dict(sorted(verdicts.items())))


if __name__ == "__main__":
    main()
