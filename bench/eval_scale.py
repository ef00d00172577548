"""`vpcaudit evaluate` at organization scale: wall time, CPU and peak RSS of the real command.

It writes, streaming (one region in memory at a time), a snapshot of 10 accounts x 10 regions
x 1,000 VPCs: per VPC two subnets, one route table with ten routes (local, a default route
and eight /32s to its internet gateway), an internet gateway, a default network ACL and a
default security group; every second VPC has a flow log. That is 100,000 VPCs and 1,000,000
routes. Every other kind this vpcaudit collects is present and empty, so the snapshot reads
as complete. Then it runs

    vpcaudit evaluate SNAP --format json -o OUT.json --output-markdown OUT.md

in a subprocess and reports its wall time, its CPU time (with its decoding worker's) and its
peak RSS (getrusage(RUSAGE_CHILDREN).maxrss, which is the largest child so far: one
evaluation per bench process; the worker's own peak is about 35 MiB, after the command's
peak has passed).

    python bench/eval_scale.py                       # generate (once) and measure
    python bench/eval_scale.py --layout compact      # the one-line layout older versions wrote
    python bench/eval_scale.py --vpcs-per-region 100 # a tenth of the size
    python bench/eval_scale.py --repeat 5            # the median of five, with the host's speed
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vpcaudit.aws.specs import SPECS
from vpcaudit.snapshot import SCHEMA_VERSION, RegionData, Snapshot, write_snapshot

RawItem = dict[str, Any]
NOW = "2025-01-01T00:00:00Z"


def _region(acct: str, region: str, first: int, per_region: int) -> RegionData:
    """One (account, region) of the bench organization: VPCs first..first+per_region-1."""
    res: dict[str, list[RawItem]] = {s.kind: [] for s in SPECS}
    for n in range(first, first + per_region):
        vid = f"vpc-{n:017x}"
        cidr = f"10.{(n // 256) % 256}.{n % 256}.0/24"
        base = cidr.rsplit(".", 1)[0]
        res["vpcs"].append(
            {
                "VpcId": vid,
                "OwnerId": acct,
                "CidrBlock": cidr,
                "CidrBlockAssociationSet": [
                    {
                        "AssociationId": f"vpc-cidr-assoc-{n:017x}",
                        "CidrBlock": cidr,
                        "CidrBlockState": {"State": "associated"},
                    }
                ],
                "DhcpOptionsId": "dopt-0123456789abcdef0",
                "InstanceTenancy": "default",
                "IsDefault": False,
                "State": "available",
                "Tags": [{"Key": "Name", "Value": f"bench-{n}"}],
            }
        )
        subnets = [f"subnet-{n:016x}{i}" for i in range(2)]
        for i, sid in enumerate(subnets):
            res["subnets"].append(
                {
                    "SubnetId": sid,
                    "SubnetArn": f"arn:aws:ec2:{region}:{acct}:subnet/{sid}",
                    "VpcId": vid,
                    "OwnerId": acct,
                    "AvailabilityZone": f"{region}{'ab'[i]}",
                    "CidrBlock": f"{base}.{128 * i}/25",
                    "AvailableIpAddressCount": 123,
                    "MapPublicIpOnLaunch": False,
                    "State": "available",
                }
            )
        igw = f"igw-{n:017x}"
        routes = [
            {"DestinationCidrBlock": cidr, "GatewayId": "local", "Origin": "CreateRouteTable"},
            {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "Origin": "CreateRoute"},
        ] + [
            {"DestinationCidrBlock": f"203.0.113.{j}/32", "GatewayId": igw, "Origin": "CreateRoute"}
            for j in range(8)
        ]
        for r in routes:
            r["State"] = "active"
        rtb = f"rtb-{n:017x}"
        res["route_tables"].append(
            {
                "RouteTableId": rtb,
                "VpcId": vid,
                "OwnerId": acct,
                "Associations": [
                    {
                        "Main": True,
                        "RouteTableAssociationId": f"rtbassoc-{n:017x}",
                        "RouteTableId": rtb,
                        "AssociationState": {"State": "associated"},
                    }
                ],
                "PropagatingVgws": [],
                "Routes": routes,
                "Tags": [],
            }
        )
        res["internet_gateways"].append(
            {
                "InternetGatewayId": igw,
                "OwnerId": acct,
                "Attachments": [{"State": "available", "VpcId": vid}],
                "Tags": [],
            }
        )
        res["network_acls"].append(
            {
                "NetworkAclId": f"acl-{n:017x}",
                "VpcId": vid,
                "OwnerId": acct,
                "IsDefault": True,
                "Associations": [{"NetworkAclId": f"acl-{n:017x}", "SubnetId": s} for s in subnets],
                "Entries": [
                    {
                        "CidrBlock": "0.0.0.0/0",
                        "Egress": egress,
                        "Protocol": "-1",
                        "RuleAction": action,
                        "RuleNumber": number,
                    }
                    for egress in (True, False)
                    for number, action in ((100, "allow"), (32767, "deny"))
                ],
            }
        )
        res["security_groups"].append(
            {
                "GroupId": f"sg-{n:017x}",
                "GroupName": "default",
                "Description": "default VPC security group",
                "VpcId": vid,
                "OwnerId": acct,
                "IpPermissions": [
                    {
                        "IpProtocol": "-1",
                        "UserIdGroupPairs": [{"GroupId": f"sg-{n:017x}", "UserId": acct}],
                        "IpRanges": [],
                        "Ipv6Ranges": [],
                        "PrefixListIds": [],
                    }
                ],
                "IpPermissionsEgress": [
                    {
                        "IpProtocol": "-1",
                        "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                        "Ipv6Ranges": [],
                        "PrefixListIds": [],
                        "UserIdGroupPairs": [],
                    }
                ],
            }
        )
        if n % 2 == 0:
            res["flow_logs"].append(
                {
                    "FlowLogId": f"fl-{n:017x}",
                    "ResourceId": vid,
                    "FlowLogStatus": "ACTIVE",
                    "DeliverLogsStatus": "SUCCESS",
                    "TrafficType": "ALL",
                    "LogDestinationType": "s3",
                    "LogDestination": f"arn:aws:s3:::flow-logs-{acct}",
                    "CreationTime": NOW,
                }
            )
    return RegionData(acct, region, res)


def generate(path: Path, accounts: int, regions: int, per_region: int, layout: str) -> None:
    """Write the bench snapshot to path, one region in memory at a time."""
    account_ids = [f"{100000000000 + a:012d}" for a in range(accounts)]
    region_names = [f"xx-scale-{r}" for r in range(regions)]

    def each() -> Iterator[RegionData]:
        n = 0
        for acct in account_ids:
            for region in region_names:
                yield _region(acct, region, n, per_region)
                n += per_region

    header = Snapshot(
        started_at=NOW,
        finished_at=NOW,
        tool_version="bench",
        accounts={a: f"bench-{i}" for i, a in enumerate(account_ids)},
        regions=(),
        org_account_ids=frozenset(account_ids),
    )
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        if layout == "compact":
            _write_compact(f, header, each())
        else:
            write_snapshot(f, header, each())
    tmp.replace(path)


def _write_compact(f: Any, header: Snapshot, regions: Iterator[RegionData]) -> None:
    """The layout older versions wrote: one line, sorted keys (as json.dumps would)."""
    doc = header.header_dict()
    before = {k: v for k, v in doc.items() if k < "regions"}
    after = {k: v for k, v in doc.items() if k > "regions"}
    after["schema_version"] = SCHEMA_VERSION
    f.write(json.dumps(before, sort_keys=True, separators=(",", ":"))[:-1] + ',"regions":[')
    for i, r in enumerate(regions):
        region = {"account_id": r.account_id, "region": r.region, "resources": r.resources}
        f.write(("," if i else "") + json.dumps(region, sort_keys=True, separators=(",", ":")))
    f.write("]," + json.dumps(after, sort_keys=True, separators=(",", ":"))[1:] + "\n")


def measure(snap: Path, out: Path, extra: list[str], pythonpath: str | None) -> dict[str, Any]:
    """Run `vpcaudit evaluate` once; its wall time, peak RSS and exit code."""
    cmd = [
        sys.executable,
        "-m",
        "vpcaudit",
        "evaluate",
        str(snap),
        "--format",
        "json",
        "-o",
        str(out / "report.json"),
        "--output-markdown",
        str(out / "report.md"),
        "--allow-partial",
        *extra,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = dict(os.environ, **({"PYTHONPATH": pythonpath} if pythonpath else {}))
    # From out/, so that `-m vpcaudit` does not pick the checkout over --pythonpath.
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, cwd=out)
    wall = time.perf_counter() - start
    # ru_maxrss is in KiB on Linux; RUSAGE_CHILDREN's is the largest child waited for.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss = after.ru_maxrss / 1024
    # User and system CPU of the command and its decoding worker (a waited-for grandchild's
    # time is added to its parent's children): steadier than wall time on a shared host.
    cpu = sum(getattr(after, f) - getattr(before, f) for f in ("ru_utime", "ru_stime"))
    return {
        "exit": proc.returncode,
        "stderr": proc.stderr[-2000:],
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "peak_rss_mib": round(rss),
        "snapshot_mb": round(snap.stat().st_size / 1e6, 1),
    }


def host_loop_s() -> float:
    """Seconds a fixed pure-Python loop (20 million additions) takes: how fast the host is
    right now, to tell a slower run from a slower host."""
    start = time.perf_counter()
    total = 0
    for i in range(20_000_000):
        total += i
    return round(time.perf_counter() - start, 2)


def main() -> None:
    """Generate the snapshot if needed, evaluate it (--repeat times), print the figures as
    JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--accounts", type=int, default=10)
    p.add_argument("--regions", type=int, default=10)
    p.add_argument("--vpcs-per-region", type=int, default=1000)
    p.add_argument("--layout", choices=("lines", "compact"), default="lines")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "eval_scale")
    p.add_argument("--regenerate", action="store_true")
    p.add_argument("--no-run", action="store_true", help="only generate the snapshot")
    p.add_argument(
        "--pythonpath", help="PYTHONPATH of the evaluated vpcaudit (e.g. an export of an older one)"
    )
    p.add_argument("--repeat", type=int, default=1, help="runs; wall_s is their median")
    p.add_argument("extra", nargs="*", help="more evaluate options, after --")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"snap-{args.accounts}x{args.regions}x{args.vpcs_per_region}-{args.layout}.json"
    snap = args.out / name
    if args.regenerate or not snap.exists():
        start = time.perf_counter()
        generate(snap, args.accounts, args.regions, args.vpcs_per_region, args.layout)
        print(f"generated {snap} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    if args.no_run:
        return
    runs, cpus, loops = [], [], []
    for _ in range(max(1, args.repeat)):
        loops.append(host_loop_s())
        figures = measure(snap.resolve(), args.out.resolve(), args.extra, args.pythonpath)
        runs.append(figures["wall_s"])
        cpus.append(figures["cpu_s"])
    figures["wall_s"] = round(statistics.median(runs), 2)
    figures["runs_s"] = runs
    figures["cpu_s"] = round(statistics.median(cpus), 2)
    figures["cpu_runs_s"] = cpus
    # The host's speed varies (a shared machine): the same loop, timed before each run.
    figures["host_loop_s"] = loops
    figures["vpcs"] = args.accounts * args.regions * args.vpcs_per_region
    figures["routes"] = figures["vpcs"] * 10
    figures["layout"] = args.layout
    figures["cpus"] = os.cpu_count()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
