"""The benchmark's AWS: a synthetic Organization seeded into moto, served on 127.0.0.1.

Run by bench/run.py as a separate process (so its CPU does not share a GIL with the scanner):

    python bench/server_proc.py --accounts 10 --regions 17 --vpcs 10 --latency 0.05

It seeds moto's backends in-process inside `mock_aws()` -- the Organization, its accounts and
the role sessions through boto3 (no HTTP), the bulk EC2 resources through moto's backend
objects, which is about 10x faster than boto3 calls because it skips botocore's serializer and
moto's XML rendering -- then serves those same backends over HTTP with
`vpcaudit.demo.server.serve(latency=...)`.

Protocol on stdout/stdin, one JSON document a line:
- it prints {"url": ..., "regions": [...], "accounts": [...], "seed_seconds": ..., ...} once
  the server listens;
- then it answers each line read on stdin: "stats" -> request counts and the server's CPU
  time, "reset" -> forget the counts; EOF or "quit" ends it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

# Fake credentials for moto; set before boto3 reads the environment.
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIABENCHBENCHBENCH0",
    "AWS_SECRET_ACCESS_KEY": "bench-secret-not-a-real-key",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
ORG_ROLE = "OrganizationAccountAccessRole"
HOME = "us-east-1"


@dataclass
class SeedCounts:
    """What the seeding created, for the report."""

    vpcs: int = 0
    subnets: int = 0
    route_tables: int = 0
    routes: int = 0
    peerings: int = 0
    peerings_cross_account: int = 0
    peerings_pending: int = 0
    peerings_one_way: int = 0
    endpoints_gateway: int = 0
    endpoints_interface: int = 0
    vpcs_with_flow_logs: int = 0
    default_vpcs: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class _Cidrs:
    """Distinct /20 blocks for every seeded VPC (peered VPCs must not overlap)."""

    def __init__(self) -> None:
        self.n = 0

    def next(self) -> str:
        n = self.n
        self.n += 1
        first = (10, 172, 100)[(n // 4096) % 3]
        return f"{first}.{(n // 16) % 256}.{(n % 16) * 16}.0/20"


@dataclass
class _Vpc:
    vpc: Any
    rtb: Any
    subnets: list[Any]


def enabled_regions(count: int) -> list[str]:
    """The first `count` regions moto lists as enabled, in its (sorted) order."""
    import boto3  # noqa: PLC0415 - after FAKE_ENV is set

    ec2 = boto3.client("ec2", region_name=HOME)
    regions = ec2.describe_regions(AllRegions=True)["Regions"]
    names = [
        r["RegionName"]
        for r in regions
        if r.get("OptInStatus", "opt-in-not-required") in ("opt-in-not-required", "opted-in")
        and r["RegionName"].split("-")[0] not in ("cn", "us-gov")  # other partitions
    ]
    if count > len(names):
        raise SystemExit(f"moto lists only {len(names)} enabled regions in the aws partition")
    return sorted(names)[:count]


def create_org(n_accounts: int) -> list[str]:
    """An Organization with n member accounts; each reached once through its org role."""
    import boto3  # noqa: PLC0415
    from moto.sts.models import sts_backends  # noqa: PLC0415

    org = boto3.client("organizations", region_name=HOME)
    sts = boto3.client("sts", region_name=HOME)
    org.create_organization(FeatureSet="ALL")
    ids = []
    for i in range(n_accounts):
        status = org.create_account(Email=f"bench{i}@bench.example", AccountName=f"bench-{i:03d}")
        account_id = str(status["CreateAccountStatus"]["AccountId"])
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/{ORG_ROLE}", RoleSessionName="bench-seed"
        )["Credentials"]
        # The assumed role's keys must act as the member account (moto resolves that from
        # its STS backend), so the seeded backends are the ones its sessions will read.
        role = sts_backends[account_id]["aws"].assumed_roles
        found = [r for r in role if r.access_key_id == creds["AccessKeyId"]]
        if not found:
            raise SystemExit(f"assumed role for {account_id} not found in moto's STS backend")
        ids.append(account_id)
    return ids


def _region_network(
    account_id: str, region: str, n_vpcs: int, cidrs: _Cidrs, counts: SeedCounts
) -> list[_Vpc]:
    """V VPCs, each with 2 subnets and a route table associated to both; a VGW on VPC 0."""
    from moto.ec2.models import ec2_backends  # noqa: PLC0415

    ec2 = ec2_backends[account_id][region]
    counts.default_vpcs += sum(1 for v in ec2.vpcs.values() if v.is_default)
    zones = sorted(z.name for z in ec2.describe_availability_zones())[:2]
    out = []
    for k in range(n_vpcs):
        cidr = cidrs.next()
        vpc = ec2.create_vpc(
            cidr_block=cidr, tags=[{"Key": "Name", "Value": f"{account_id[-4:]}-{region}-{k}"}]
        )
        base = cidr.rsplit(".", 2)[0]
        third = int(cidr.split(".")[2])
        subnets = [
            ec2.create_subnet(
                vpc_id=vpc.id,
                cidr_block=f"{base}.{third + i}.0/24",
                availability_zone=zone,
            )
            for i, zone in enumerate(zones)
        ]
        rtb = ec2.create_route_table(vpc_id=vpc.id)
        for s in subnets:
            ec2.associate_route_table(rtb.id, subnet_id=s.id)
        out.append(_Vpc(vpc, rtb, subnets))
    counts.vpcs += n_vpcs
    counts.subnets += 2 * n_vpcs
    counts.route_tables += 2 * n_vpcs  # moto adds a main table to every VPC
    if out:
        vgw = ec2.create_vpn_gateway(gateway_type="ipsec.1")
        ec2.attach_vpn_gateway(vgw.id, out[0].vpc.id)
        ec2.create_route(out[0].rtb.id, "192.168.0.0/16", gateway_id=vgw.id)
        counts.routes += 1
    return out


def _peer(
    req: tuple[str, str, _Vpc],
    acc: tuple[str, str, _Vpc],
    *,
    accept: bool,
    both_ways: bool,
    counts: SeedCounts,
) -> None:
    """A peering request; if accepted, a route from the requester (and back if both_ways)."""
    from moto.ec2.models import ec2_backends  # noqa: PLC0415

    (req_acct, req_region, req_vpc), (acc_acct, acc_region, acc_vpc) = req, acc
    req_ec2 = ec2_backends[req_acct][req_region]
    pcx = req_ec2.create_vpc_peering_connection(req_vpc.vpc, acc_vpc.vpc)
    counts.peerings += 1
    counts.peerings_cross_account += req_acct != acc_acct
    if not accept:
        counts.peerings_pending += 1
        return
    ec2_backends[acc_acct][acc_region].accept_vpc_peering_connection(pcx.id)
    req_ec2.create_route(req_vpc.rtb.id, acc_vpc.vpc.cidr_block, vpc_peering_connection_id=pcx.id)
    counts.routes += 1
    if both_ways:
        ec2_backends[acc_acct][acc_region].create_route(
            acc_vpc.rtb.id, req_vpc.vpc.cidr_block, vpc_peering_connection_id=pcx.id
        )
        counts.routes += 1
    else:
        counts.peerings_one_way += 1


def _endpoints_and_flow_logs(
    account_id: str, region: str, vpcs: list[_Vpc], bucket: str, counts: SeedCounts
) -> None:
    """An S3 gateway endpoint on VPC 0, interface endpoints on VPC 2, flow logs on most."""
    from moto.ec2.models import ec2_backends  # noqa: PLC0415

    ec2 = ec2_backends[account_id][region]
    if vpcs:
        ec2.create_vpc_endpoint(
            vpc_id=vpcs[0].vpc.id,
            service_name=f"com.amazonaws.{region}.s3",
            endpoint_type="Gateway",
            policy_document=None,
            route_table_ids=[vpcs[0].rtb.id],
        )
        counts.endpoints_gateway += 1
    if len(vpcs) > 2:
        # An S3 interface endpoint with no on-premises or peered user: a finding.
        for service in ("s3", "dynamodb"):
            ec2.create_vpc_endpoint(
                vpc_id=vpcs[2].vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                endpoint_type="Interface",
                policy_document=None,
                route_table_ids=[],
                subnet_ids=[s.id for s in vpcs[2].subnets],
            )
            counts.endpoints_interface += 1
    logged = [v.vpc.id for k, v in enumerate(vpcs) if k % 5 != 4]  # every 5th VPC unlogged
    if logged:
        ec2.create_flow_logs(
            resource_type="VPC",
            resource_ids=logged,
            traffic_type="ALL",
            deliver_logs_permission_arn=None,
            log_destination_type="s3",
            log_destination=f"arn:aws:s3:::{bucket}",
            log_group_name=None,
            log_format=None,
            max_aggregation_interval=600,
        )
        counts.vpcs_with_flow_logs += len(logged)


def seed(accounts: list[str], regions: list[str], n_vpcs: int) -> SeedCounts:
    """Build every account's network in every region, then peer and route them."""
    from moto.s3.models import s3_backends  # noqa: PLC0415

    counts = SeedCounts()
    cidrs = _Cidrs()
    nets: dict[tuple[str, str], list[_Vpc]] = {}
    for acct in accounts:
        bucket = f"bench-flow-logs-{acct}"
        s3_backends[acct]["aws"].create_bucket(bucket, HOME)
        for region in regions:
            vpcs = _region_network(acct, region, n_vpcs, cidrs, counts)
            nets[(acct, region)] = vpcs
            _endpoints_and_flow_logs(acct, region, vpcs, bucket, counts)
    n = 0
    for a, acct in enumerate(accounts):
        for region in regions:
            vpcs = nets[(acct, region)]
            # Same-account pairs (0,1), (2,3), ...: most routed both ways, some one-way,
            # some still pending.
            for k in range(0, len(vpcs) - 1, 2):
                n += 1
                _peer(
                    (acct, region, vpcs[k]),
                    (acct, region, vpcs[k + 1]),
                    accept=n % 5 != 0,
                    both_ways=n % 4 != 0,
                    counts=counts,
                )
            # Cross-account: VPC 0 here to VPC 1 of the next account in the same region.
            if len(accounts) > 1 and len(vpcs) > 1:
                other = accounts[(a + 1) % len(accounts)]
                n += 1
                _peer(
                    (acct, region, vpcs[0]),
                    (other, region, nets[(other, region)][1]),
                    accept=n % 7 != 0,
                    both_ways=n % 3 != 0,
                    counts=counts,
                )
    return counts


def _serve(latency: float, info: dict[str, Any]) -> None:
    from vpcaudit.demo.server import serve  # noqa: PLC0415

    with serve(latency=latency) as (url, app):
        print(json.dumps({**info, "url": url}), flush=True)
        cpu0 = time.process_time()
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "quit":
                break
            if cmd == "reset":
                app.reset_counts()
                cpu0 = time.process_time()
                print(json.dumps({"ok": True}), flush=True)
            elif cmd == "stats":
                stats = {
                    "requests": dict(app.requests),
                    "failed": dict(app.failed),
                    "total": sum(app.requests.values()),
                    "cpu_seconds": time.process_time() - cpu0,
                }
                print(json.dumps(stats), flush=True)


def main() -> None:
    """Seed, serve, answer the stats protocol until stdin closes."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--accounts", type=int, default=10)
    p.add_argument("--regions", type=int, default=17)
    p.add_argument("--vpcs", type=int, default=10)
    p.add_argument("--latency", type=float, default=0.05)
    args = p.parse_args()
    os.environ.update(FAKE_ENV)
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(k, None)

    from moto import mock_aws  # noqa: PLC0415

    with mock_aws():
        t0 = time.perf_counter()
        regions = enabled_regions(args.regions)
        accounts = create_org(args.accounts)
        t_org = time.perf_counter() - t0
        counts = seed(accounts, regions, args.vpcs)
        info = {
            "regions": regions,
            "accounts": accounts,
            "org_seconds": round(t_org, 3),
            "seed_seconds": round(time.perf_counter() - t0, 3),
            "seeded": counts.__dict__,
        }
        _serve(args.latency, info)


if __name__ == "__main__":
    main()
