"""Evaluation benchmark (no moto, no network): CPU time of Inventory + every rule.

It synthesizes a Snapshot of raw API items directly -- the shapes DescribeVpcs,
DescribeRouteTables, ... return -- sized by VPC and route count, then times
`Inventory.from_snapshot` and `evaluate` over every rule `load_rules()` finds.

    python bench/eval_bench.py --vpcs 10000 --routes 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import time
from typing import Any

from vpcaudit.commands import keep_for_the_run
from vpcaudit.evaluate import evaluate
from vpcaudit.inventory import Inventory
from vpcaudit.policy import Policy
from vpcaudit.rules.registry import load_rules
from vpcaudit.snapshot import RegionData, Snapshot

RawItem = dict[str, Any]
NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _cidr(n: int) -> str:
    first = (10, 172, 100)[(n // 4096) % 3]
    return f"{first}.{(n // 16) % 256}.{(n % 16) * 16}.0/20"


def _iso(t: dt.datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def synthesize(
    n_vpcs: int = 10_000, n_routes: int = 100_000, accounts: int = 20, regions: int = 10
) -> Snapshot:
    """A snapshot of about n_vpcs VPCs and n_routes routes, with the other kinds in proportion.

    Per VPC: 2 subnets, a main route table and a custom one on the subnets, peerings to the
    next two VPCs of its region (every 7th pending, every 5th routed one way only; the
    region's last VPC peers across accounts), an S3 gateway endpoint on every 4th, an S3
    interface endpoint on every 10th, flow logs on 4 of 5. Routes: local, a default route to
    an internet gateway, the peering routes, and static routes to a VPN gateway to make up
    the count.
    """
    per_region = max(1, n_vpcs // (accounts * regions))
    routes_per_vpc = max(2, n_routes // (per_region * accounts * regions))
    account_ids = [f"{100000000000 + a:012d}" for a in range(accounts)]
    region_names = [f"xx-bench-{r}" for r in range(regions)]
    data: dict[tuple[str, str], dict[str, list[RawItem]]] = {}
    vpc_cidr: dict[str, str] = {}
    rtbs: dict[str, RawItem] = {}
    n = 0
    for acct in account_ids:
        for region in region_names:
            res: dict[str, list[RawItem]] = {
                k: []
                for k in (
                    "vpcs",
                    "subnets",
                    "route_tables",
                    "peerings",
                    "endpoints",
                    "flow_logs",
                    "prefix_lists",
                    "vpn_gateways",
                    "tgw_attachments",
                )
            }
            data[(acct, region)] = res
            vgw = f"vgw-{acct[-4:]}{region[-1]}"
            res["vpn_gateways"].append(
                {"VpnGatewayId": vgw, "State": "available", "VpcAttachments": []}
            )
            res["prefix_lists"].append(
                {"PrefixListId": "pl-63a5400a", "PrefixListName": f"com.amazonaws.{region}.s3"}
            )
            for k in range(per_region):
                vid = f"vpc-{n:08x}"
                cidr = _cidr(n)
                vpc_cidr[vid] = cidr
                base, third = cidr.rsplit(".", 2)[0], int(cidr.split(".")[2])
                res["vpcs"].append(
                    {
                        "VpcId": vid,
                        "OwnerId": acct,
                        "CidrBlock": cidr,
                        "CidrBlockAssociationSet": [
                            {"CidrBlock": cidr, "CidrBlockState": {"State": "associated"}}
                        ],
                        "IsDefault": False,
                        "State": "available",
                        "Tags": [{"Key": "Name", "Value": f"bench-{n}"}],
                    }
                )
                subnets = [f"subnet-{n:08x}{i}" for i in range(2)]
                for i, sid in enumerate(subnets):
                    res["subnets"].append(
                        {
                            "SubnetId": sid,
                            "VpcId": vid,
                            "AvailabilityZone": f"{region}{'ab'[i]}",
                            "CidrBlock": f"{base}.{third + i}.0/24",
                        }
                    )
                local = {
                    "DestinationCidrBlock": cidr,
                    "GatewayId": "local",
                    "Origin": "CreateRouteTable",
                    "State": "active",
                }
                res["route_tables"].append(
                    {
                        "RouteTableId": f"rtb-{n:08x}m",
                        "VpcId": vid,
                        "OwnerId": acct,
                        "Associations": [
                            {"Main": True, "AssociationState": {"State": "associated"}}
                        ],
                        "Routes": [local],
                    }
                )
                rtb = {
                    "RouteTableId": f"rtb-{n:08x}c",
                    "VpcId": vid,
                    "OwnerId": acct,
                    "Associations": [
                        {"SubnetId": s, "Main": False, "AssociationState": {"State": "associated"}}
                        for s in subnets
                    ],
                    "Routes": [
                        dict(local),
                        {
                            "DestinationCidrBlock": "0.0.0.0/0",
                            "GatewayId": f"igw-{n:08x}",
                            "Origin": "CreateRoute",
                            "State": "active",
                        },
                    ],
                }
                rtbs[vid] = rtb
                res["route_tables"].append(rtb)
                if k % 4 == 0:
                    vpce = f"vpce-{n:08x}g"
                    res["endpoints"].append(
                        {
                            "VpcEndpointId": vpce,
                            "VpcId": vid,
                            "OwnerId": acct,
                            "VpcEndpointType": "Gateway",
                            "ServiceName": f"com.amazonaws.{region}.s3",
                            "State": "available",
                            "RouteTableIds": [rtb["RouteTableId"]],
                        }
                    )
                    rtb["Routes"].append(
                        {
                            "DestinationPrefixListId": "pl-63a5400a",
                            "GatewayId": vpce,
                            "Origin": "CreateRoute",
                            "State": "active",
                        }
                    )
                if k % 10 == 5:
                    res["endpoints"].append(
                        {
                            "VpcEndpointId": f"vpce-{n:08x}i",
                            "VpcId": vid,
                            "OwnerId": acct,
                            "VpcEndpointType": "Interface",
                            "ServiceName": f"com.amazonaws.{region}.s3",
                            "State": "available",
                            "SubnetIds": subnets,
                            "Groups": [{"GroupId": f"sg-{n:08x}"}],
                            "PrivateDnsEnabled": False,
                        }
                    )
                if k % 5 != 4:
                    res["flow_logs"].append(
                        {
                            "FlowLogId": f"fl-{n:08x}",
                            "ResourceId": vid,
                            "FlowLogStatus": "ACTIVE",
                            "DeliverLogsStatus": "SUCCESS",
                            "TrafficType": "ALL",
                            "LogDestinationType": "s3",
                            "LogDestination": f"arn:aws:s3:::flow-logs-{acct}",
                        }
                    )
                n += 1
    _peerings(data, account_ids, region_names, per_region, vpc_cidr, rtbs)
    # Static routes to the VPN gateway up to the route count.
    routes = sum(len(t["Routes"]) for r in data.values() for t in r["route_tables"])
    extra = max(0, n_routes - routes)
    tables = list(rtbs.items())
    for i in range(extra):
        vid, rtb = tables[i % len(tables)]
        j = i // len(tables)
        rtb["Routes"].append(
            {
                "DestinationCidrBlock": f"192.168.{j % 256}.0/24",
                "GatewayId": f"vgw-{vid[-4:]}",
                "Origin": "CreateRoute",
                "State": "active",
            }
        )
    del routes_per_vpc
    return Snapshot(
        started_at=_iso(NOW),
        finished_at=_iso(NOW),
        tool_version="bench",
        accounts={a: f"bench-{i}" for i, a in enumerate(account_ids)},
        regions=tuple(RegionData(a, r, res) for (a, r), res in sorted(data.items())),
        org_account_ids=frozenset(account_ids),
    )


def _peerings(  # noqa: PLR0917 - a private helper of synthesize()
    data: dict[tuple[str, str], dict[str, list[RawItem]]],
    account_ids: list[str],
    region_names: list[str],
    per_region: int,
    vpc_cidr: dict[str, str],
    rtbs: dict[str, RawItem],
) -> None:
    n = 0
    for a, acct in enumerate(account_ids):
        for region in region_names:
            vpcs = [v["VpcId"] for v in data[(acct, region)]["vpcs"]]
            pairs: list[tuple[str, str, str, str]] = []
            for k in range(per_region):
                for step in (1, 2):
                    if k + step < per_region:
                        pairs.append((acct, vpcs[k], acct, vpcs[k + step]))
            other = account_ids[(a + 1) % len(account_ids)]
            if other != acct:
                pairs.append((acct, vpcs[-1], other, data[(other, region)]["vpcs"][0]["VpcId"]))
            for req_acct, req_vpc, acc_acct, acc_vpc in pairs:
                n += 1
                pcx = f"pcx-{n:08x}"
                pending = n % 7 == 0
                side = {"Region": region}
                item = {
                    "VpcPeeringConnectionId": pcx,
                    "Status": {
                        "Code": "pending-acceptance" if pending else "active",
                        "Message": "",
                    },
                    "RequesterVpcInfo": {
                        **side,
                        "OwnerId": req_acct,
                        "VpcId": req_vpc,
                        "CidrBlock": vpc_cidr[req_vpc],
                    },
                    "AccepterVpcInfo": {
                        **side,
                        "OwnerId": acc_acct,
                        "VpcId": acc_vpc,
                        "CidrBlock": vpc_cidr[acc_vpc],
                    },
                }
                if pending:
                    made = NOW - dt.timedelta(days=n % 7)
                    item["ExpirationTime"] = _iso(made + dt.timedelta(days=7))
                data[(req_acct, region)]["peerings"].append(item)
                if acc_acct != req_acct:
                    data[(acc_acct, region)]["peerings"].append(json.loads(json.dumps(item)))
                if pending:
                    continue
                for here, there, both in ((req_vpc, acc_vpc, True), (acc_vpc, req_vpc, n % 5)):
                    if both:
                        rtbs[here]["Routes"].append(
                            {
                                "DestinationCidrBlock": vpc_cidr[there],
                                "VpcPeeringConnectionId": pcx,
                                "Origin": "CreateRoute",
                                "State": "active",
                            }
                        )


def counts(snap: Snapshot) -> dict[str, int]:
    """How many raw items of each kind (and routes) the snapshot holds."""
    out: dict[str, int] = {}
    for r in snap.regions:
        for kind, items in r.resources.items():
            out[kind] = out.get(kind, 0) + len(items)
        out["routes"] = out.get("routes", 0) + sum(
            len(t.get("Routes") or []) for t in r.resources.get("route_tables", [])
        )
    return out


def run(n_vpcs: int, n_routes: int) -> dict[str, Any]:
    """Synthesize, then time inventory building and rule evaluation (CPU seconds)."""
    snap = synthesize(n_vpcs, n_routes)
    rules = {k: v.rule for k, v in load_rules().items()}
    gc.collect()
    t0 = time.process_time()
    inv = Inventory.from_snapshot(snap)
    keep_for_the_run(inv, snap)  # as the CLI does
    t1 = time.process_time()
    result = evaluate(inv, rules, Policy())
    t2 = time.process_time()
    by_rule: dict[str, int] = {}
    for f in result.findings:
        by_rule[f.rule_id] = by_rule.get(f.rule_id, 0) + 1
    return {
        "items": counts(snap),
        "rules": sorted(rules),
        "inventory_cpu_s": round(t1 - t0, 3),
        "evaluate_cpu_s": round(t2 - t1, 3),
        "total_cpu_s": round(t2 - t0, 3),
        "findings_by_rule": by_rule,
        "unverified": len(result.unverified),
    }


def main() -> None:
    """Print the evaluation benchmark's figures as JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vpcs", type=int, default=10_000)
    p.add_argument("--routes", type=int, default=100_000)
    args = p.parse_args()
    print(json.dumps(run(args.vpcs, args.routes), indent=2))


if __name__ == "__main__":
    main()
