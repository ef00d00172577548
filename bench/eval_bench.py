"""Evaluation benchmark (no moto, no network): CPU time of Inventory + every rule.

It synthesizes a Snapshot of raw API items directly -- the shapes DescribeVpcs,
DescribeRouteTables, ... return -- sized by VPC and route count, then times
`Inventory.from_snapshot` and `evaluate` over every rule `load_rules()` finds.

    python bench/eval_bench.py --vpcs 10000 --routes 100000
    python bench/eval_bench.py --vpcs 10000 --routes 100000 --intents 50

With --intents N the snapshot also carries what the network model needs to answer paths (a
default network ACL and an internet gateway per VPC, every other kind read and empty), VPC
tags env (prod, dev, test, shared: VPC n is ENVS[n % 4]) and team (team-000 .. team-249: 10
VPCs of each env per team), subnet tags tier (public, private), and the policy gets N
reachability intents between those tag groups (see `intents_yaml`).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import json
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from vpcaudit.evaluate import evaluate
from vpcaudit.inventory import Inventory
from vpcaudit.inventory.models import KIND_OPERATIONS
from vpcaudit.network import NetworkModel, PathAnswer
from vpcaudit.policy import Policy, parse_policy
from vpcaudit.rules.base import Rule, RuleOutput
from vpcaudit.rules.intents import REACHABILITY_INTENT
from vpcaudit.rules.registry import load_rules
from vpcaudit.runtime import keep_for_the_run
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


ENVS = ("prod", "dev", "test", "shared")
TEAMS = 250


def add_network(snap: Snapshot) -> Snapshot:
    """The snapshot with what the network model needs, and tags (items changed in place)."""
    # Every kind read (empty unless said), a default network ACL allowing all and an internet
    # gateway per VPC, VPC tags env and team, subnet tags tier.
    n = 0
    regions = []
    for r in snap.regions:
        res: dict[str, list[RawItem]] = {k: list(v) for k, v in r.resources.items()}
        regions.append(dataclasses.replace(r, resources=res))
        for kind in KIND_OPERATIONS:
            res.setdefault(kind, [])
        # The S3 prefix list is AWS-managed (its entries are not listed), with an id of its
        # region's own, as in AWS (synthesize() gives every region the same one).
        renamed = {}
        for pl in res["prefix_lists"]:
            new_id = f"pl-{zlib.crc32(r.region.encode()):08x}"
            renamed[pl["PrefixListId"]] = new_id
            pl["PrefixListId"], pl["OwnerId"] = new_id, "AWS"
        for table in res["route_tables"]:
            for rt in table["Routes"]:
                if rt.get("DestinationPrefixListId") in renamed:
                    rt["DestinationPrefixListId"] = renamed[rt["DestinationPrefixListId"]]
        for vpc in res["vpcs"]:
            vid, owner = vpc["VpcId"], vpc["OwnerId"]
            vpc["Tags"] = [
                *vpc["Tags"],
                {"Key": "env", "Value": ENVS[n % len(ENVS)]},
                {"Key": "team", "Value": f"team-{(n // len(ENVS)) % TEAMS:03d}"},
            ]
            entries = [
                {
                    "Egress": egress,
                    "Protocol": "-1",
                    "RuleAction": action,
                    "RuleNumber": number,
                    "CidrBlock": "0.0.0.0/0",
                }
                for egress in (True, False)
                for number, action in ((100, "allow"), (32767, "deny"))
            ]
            res["network_acls"].append(
                {
                    "NetworkAclId": f"acl-{vid[4:]}",
                    "VpcId": vid,
                    "OwnerId": owner,
                    "IsDefault": True,
                    "Associations": [],
                    "Entries": entries,
                }
            )
            res["internet_gateways"].append(
                {
                    "InternetGatewayId": f"igw-{vid[4:]}",
                    "OwnerId": owner,
                    "Attachments": [{"State": "available", "VpcId": vid}],
                }
            )
            n += 1
        for s in res["subnets"]:
            tier = "public" if s["SubnetId"].endswith("0") else "private"
            s["Tags"] = [{"Key": "tier", "Value": tier}]
    return dataclasses.replace(snap, regions=tuple(regions))


def intents_yaml(n: int) -> str:
    """N intents between tag groups, in three kinds, over teams 0, 1, 2, ..."""
    # - isolation (3 in 5): team T's prod subnets must not reach team T's dev subnets (10
    #   VPCs, 20 subnets each side: 400 pairs; the bench peers each VPC with the next two of
    #   its region, so some prod-dev pairs are reachable: violations);
    # - S3 through a gateway endpoint (1 in 5): team T's private subnets (40) reach s3 via
    #   gateway-endpoint (1 VPC in 4 has one);
    # - from the internet (1 in 5): nothing reaches team T's public subnets (40) on tcp 22.
    lines = ["intents:"]
    for i in range(n):
        team = f"team-{i % TEAMS:03d}"
        kind = i % 5
        if kind < 3:
            lines += [
                f"  - name: isolate-{team}-prod-{i}",
                f"    from: {{tag: {{team: {team}, env: prod}}}}",
                f"    to: {{tag: {{team: {team}, env: dev}}}}",
                "    expect: unreachable",
            ]
        elif kind == 3:
            lines += [
                f"  - name: s3-via-gateway-{team}-{i}",
                f"    from: {{tag: {{team: {team}, tier: private}}}}",
                "    to: s3",
                "    via: gateway-endpoint",
                "    expect: reachable",
            ]
        else:
            lines += [
                f"  - name: no-ssh-from-internet-{team}-{i}",
                "    from: internet",
                f"    to: {{tag: {{team: {team}, tier: public}}}}",
                "    protocol: tcp",
                "    port: 22",
                "    expect: unreachable",
            ]
    return "\n".join(lines) + "\n"


def _timed(rule: Rule[Any], spent: dict[str, float]) -> Rule[Any]:
    """The rule with its check's CPU time added up in spent[rule id]."""
    check: Callable[[Inventory, Any], RuleOutput] = rule.check

    def timed(inv: Inventory, params: Any) -> Iterator[Any]:
        t = time.process_time()
        out = list(check(inv, params))
        spent[rule.id] = spent.get(rule.id, 0.0) + time.process_time() - t
        yield from out

    return dataclasses.replace(rule, check=timed)


def run(n_vpcs: int, n_routes: int, n_intents: int = 0) -> dict[str, Any]:
    """Synthesize, then time inventory building and rule evaluation (CPU seconds)."""
    snap = synthesize(n_vpcs, n_routes)
    rules = {k: v.rule for k, v in load_rules().items()}
    policy = Policy()
    asked = [0]
    if n_intents:
        snap = add_network(snap)
        # Until the entry point is registered, the rule is added here.
        rules.setdefault(REACHABILITY_INTENT.id, REACHABILITY_INTENT)
        policy = parse_policy(intents_yaml(n_intents), "<bench intents>", rules)
        path = NetworkModel.path

        def counted(self: NetworkModel, *args: Any, **kwargs: Any) -> PathAnswer:
            asked[0] += 1
            return path(self, *args, **kwargs)

        NetworkModel.path = counted  # type: ignore[method-assign]
    spent: dict[str, float] = {}
    rules = {k: _timed(r, spent) for k, r in rules.items()}
    gc.collect()
    t0 = time.process_time()
    inv = Inventory.from_snapshot(snap)
    keep_for_the_run(inv, snap)  # as the CLI does
    t1 = time.process_time()
    result = evaluate(inv, rules, policy)
    t2 = time.process_time()
    by_rule: dict[str, int] = {}
    for f in result.findings:
        by_rule[f.rule_id] = by_rule.get(f.rule_id, 0) + 1
    costly = sorted(spent.items(), key=lambda kv: -kv[1])[:6]
    out = {
        "items": counts(snap),
        "rules": sorted(rules),
        "inventory_cpu_s": round(t1 - t0, 3),
        "evaluate_cpu_s": round(t2 - t1, 3),
        "total_cpu_s": round(t2 - t0, 3),
        # The first rule to ask the network model pays for building it.
        "costliest_rules_cpu_s": {k: round(v, 3) for k, v in costly},
        "findings_by_rule": by_rule,
        "unverified": len(result.unverified),
    }
    if n_intents:
        out["intents"] = {
            "count": len(policy.intents),
            "path_questions": asked[0],
            "cpu_s": round(spent.get(REACHABILITY_INTENT.id, 0.0), 3),
        }
    return out


def main() -> None:
    """Print the evaluation benchmark's figures as JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vpcs", type=int, default=10_000)
    p.add_argument("--routes", type=int, default=100_000)
    p.add_argument(
        "--intents",
        type=int,
        default=0,
        help="reachability intents between tag groups (the snapshot then carries network ACLs, "
        "internet gateways and tags)",
    )
    args = p.parse_args()
    print(json.dumps(run(args.vpcs, args.routes, args.intents), indent=2))


if __name__ == "__main__":
    main()
