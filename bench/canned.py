"""A canned-response AWS for the scan bench: moto's answers recorded once, replayed cheaply.

moto spends 3-10 ms of CPU per call, as much as the scanner, on the same cores; this server
spends a few tens of microseconds, so the bench measures the scanner, not the emulator:

    python bench/canned.py --accounts 100 --regions 17 --populated 0.2 --vpcs 10 --latency 0.05

1. Record (in-process moto, no HTTP): one account, two regions; one seeded with V VPCs (two
   subnets and a route table each, peerings, endpoints, flow logs: bench/server_proc.py's
   seeding), the other with its default VPC deleted. Each collector operation is called once in
   each and its raw response body kept, with DescribeRegions.
2. Replay on 127.0.0.1 (ThreadingHTTPServer, HTTP/1.1 keep-alive), after `--latency` seconds:
   requests are matched by service and Action only (the bench seeds no TGW route table and no
   customer prefix list, so no operation is asked with varying parameters). The account comes
   from the request's access key (AssumeRole hands out keys that name the account), the region
   from its credential scope; the recorded account id and region are replaced by those. Which
   (account, region) holds VPCs is fixed: region j of account i is populated when
   (i + j) % round(1 / populated) == 0, so 20 % gives exactly 1 region in 5.
   Organizations (DescribeOrganization, ListAccounts in pages of 20, as AWS) and STS
   (GetCallerIdentity, AssumeRole) answers are generated.

Protocol, one JSON document a line: the server prints {"url", "regions", "accounts",
"populated", "record_seconds"} once it listens; then "stats" on stdin answers request counts
and the server's CPU seconds, "reset" zeroes them, EOF ends it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

sys.path.insert(0, str(Path(__file__).resolve().parent))

RECORD_ACCOUNT = "123456789012"  # moto's default account
POPULATED = "eu-west-1"
EMPTY = "eu-west-2"
MANAGEMENT = "111111111111"
ORG_PAGE = 20  # ListAccounts: AWS answers at most 20 a page
_CRED = re.compile(rb"Credential=([A-Z0-9]+)/\d+/([a-z0-9-]+)/([a-z0-9-]+)/")
_TARGET = re.compile(r"\.(\w+)$")


def member_ids(n: int) -> list[str]:
    """The member accounts' ids: 200000000000, 200000000001, ..."""
    return [f"{200_000_000_000 + i:012d}" for i in range(n)]


def _key_for(account: str) -> str:
    """An access key that names its account (20 characters, like AWS's)."""
    return f"ASIA{account}BNCH"


def record(n_vpcs: int) -> dict[str, Any]:
    """Seed moto in-process and record one raw answer per collector operation and region."""
    import boto3  # noqa: PLC0415 - after the fake environment is set
    from moto import mock_aws  # noqa: PLC0415
    from server_proc import FAKE_ENV, seed  # noqa: PLC0415 - bench/ sibling

    from vpcaudit.aws.specs import SPECS  # noqa: PLC0415
    from vpcaudit.demo.fidelity import answer_unimplemented  # noqa: PLC0415

    os.environ.update(FAKE_ENV)
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(k, None)
    bodies: dict[str, dict[str, str]] = {"populated": {}, "empty": {}}
    with mock_aws(), answer_unimplemented():
        for region in (POPULATED, EMPTY):
            _delete_default_vpc(boto3.client("ec2", region_name=region))
        counts = seed([RECORD_ACCOUNT], [POPULATED], n_vpcs)
        for which, region in (("populated", POPULATED), ("empty", EMPTY)):
            for spec in SPECS:
                if spec.per is not None or spec.service != "ec2":
                    continue  # none in the bench's seed; log groups: flow logs go to S3
                bodies[which][spec.operation] = _raw(
                    boto3.client("ec2", region_name=region), spec.method
                )
        regions = _raw(boto3.client("ec2", region_name="us-east-1"), "describe_regions")
    return {"bodies": bodies, "describe_regions": regions, "seeded": counts.__dict__}


def _raw(client: Any, method: str) -> str:
    """The raw response body of one call (captured before botocore parses it)."""
    seen: list[bytes] = []

    def keep(response_dict: dict[str, Any], **_: Any) -> None:
        seen.append(response_dict["body"])

    client.meta.events.register("before-parse", keep)
    kwargs = {"AllRegions": True} if method == "describe_regions" else {}
    getattr(client, method)(**kwargs)
    return seen[-1].decode()


def _delete_default_vpc(ec2: Any) -> None:
    for vpc in ec2.describe_vpcs()["Vpcs"]:
        vid = vpc["VpcId"]
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vid]}])["Subnets"]:
            ec2.delete_subnet(SubnetId=s["SubnetId"])
        igws = ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [vid]}]
        )["InternetGateways"]
        for igw in igws:
            ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vid)
            ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
        ec2.delete_vpc(VpcId=vid)


def enabled_regions(describe_regions: str) -> list[str]:
    """The regions of the recorded DescribeRegions that need no opt-in, sorted (the bench's
    first N are the ones bench/server_proc.py seeds)."""
    items = re.findall(r"<item>(.*?)</item>", describe_regions, re.S)
    out = []
    for item in items:
        name = re.search(r"<regionName>([a-z0-9-]+)</regionName>", item)
        status = re.search(r"<optInStatus>([a-z-]+)</optInStatus>", item)
        other_partition = name is not None and name[1].startswith(("cn-", "us-gov-"))
        if (
            name
            and not other_partition
            and (status is None or status[1] in ("opt-in-not-required", "opted-in"))
        ):
            out.append(name[1])
    return sorted(out)


class Canned:
    """The replay state: templates, the organization, which regions hold VPCs, counts."""

    def __init__(
        self, rec: dict[str, Any], accounts: list[str], regions: list[str], every: int
    ) -> None:
        """Pre-encode every template (bytes) with the recorded account id as a placeholder."""
        self.templates = {
            which: {op: body.encode() for op, body in ops.items()}
            for which, ops in rec["bodies"].items()
        }
        self.describe_regions = rec["describe_regions"].encode()
        self.accounts = accounts
        self.index = {a: i for i, a in enumerate(accounts)}
        self.regions = {r: j for j, r in enumerate(regions)}
        self.every = every
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def populated(self, account: str, region: str) -> bool:
        """Whether this account's region holds the seeded VPCs."""
        i, j = self.index.get(account), self.regions.get(region)
        return i is not None and j is not None and (i + j) % self.every == 0

    def answer(self, service: str, action: str, account: str, region: str, form: Any) -> bytes:
        """The response body for one request."""
        if service == "ec2":
            if action == "DescribeRegions":
                return self.describe_regions
            which = "populated" if self.populated(account, region) else "empty"
            body = self.templates[which][action]
            return body.replace(RECORD_ACCOUNT.encode(), account.encode()).replace(
                (POPULATED if which == "populated" else EMPTY).encode(), region.encode()
            )
        if service == "sts":
            return self._sts(action, account, form)
        if service == "organizations":
            return json.dumps(self._org(action, form)).encode()
        raise KeyError(f"{service}:{action}")

    def _sts(self, action: str, account: str, form: dict[str, str]) -> bytes:
        ns = "https://sts.amazonaws.com/doc/2011-06-15/"
        if action == "GetCallerIdentity":
            inner = (
                f"<Arn>arn:aws:iam::{account}:user/bench</Arn><UserId>AIDABENCH</UserId>"
                f"<Account>{account}</Account>"
            )
        else:
            target = form["RoleArn"].split(":")[4]
            exp = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            inner = (
                f"<Credentials><AccessKeyId>{_key_for(target)}</AccessKeyId>"
                "<SecretAccessKey>bench-secret</SecretAccessKey>"
                "<SessionToken>bench-token</SessionToken>"
                f"<Expiration>{exp}</Expiration></Credentials>"
                f"<AssumedRoleUser><Arn>{form['RoleArn']}</Arn>"
                "<AssumedRoleId>AROABENCH:bench</AssumedRoleId></AssumedRoleUser>"
            )
        return (
            f'<{action}Response xmlns="{ns}"><{action}Result>{inner}</{action}Result>'
            f"<ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata>"
            f"</{action}Response>"
        ).encode()

    def _org(self, action: str, form: dict[str, Any]) -> dict[str, Any]:
        if action == "DescribeOrganization":
            return {
                "Organization": {
                    "Id": "o-bench",
                    "MasterAccountId": MANAGEMENT,
                    "FeatureSet": "ALL",
                }
            }
        everyone = [MANAGEMENT, *self.accounts]
        start = int(form.get("NextToken") or 0)
        page = everyone[start : start + ORG_PAGE]
        out: dict[str, Any] = {
            "Accounts": [
                {"Id": a, "Name": f"bench-{a[-3:]}", "Status": "ACTIVE", "State": "ACTIVE"}
                for a in page
            ]
        }
        if start + ORG_PAGE < len(everyone):
            out["NextToken"] = str(start + ORG_PAGE)
        return out


class Handler(BaseHTTPRequestHandler):
    """One request: parse just enough, sleep the latency, answer the canned body."""

    protocol_version = "HTTP/1.1"
    canned: Canned
    latency: float

    def do_POST(self) -> None:
        """Answer a query-protocol (EC2, STS) or JSON-protocol (Organizations) request."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        m = _CRED.search(self.headers.get("Authorization", "").encode())
        key, region, service = (m[1].decode(), m[2].decode(), m[3].decode()) if m else ("", "", "")
        account = key[4:16] if key.startswith("ASIA") else MANAGEMENT
        target = self.headers.get("X-Amz-Target")
        if target:
            t = _TARGET.search(target)
            action = t[1] if t else ""
            form: dict[str, Any] = json.loads(raw or b"{}")
            ctype = "application/x-amz-json-1.1"
        else:
            form = dict(parse_qsl(raw.decode()))
            action = form.get("Action", "")
            ctype = "text/xml"
        time.sleep(self.latency)
        try:
            body = self.canned.answer(service, action, account, region, form)
            status = 200
        except KeyError as exc:
            body = f"<Error><Code>NotCanned</Code><Message>{exc}</Message></Error>".encode()
            status = 400
        with self.canned.lock:
            self.canned.counts[f"{service}:{action}"] += 1
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a log line per request would cost more CPU than the answer."""


def main() -> None:
    """Record, serve, answer the stats protocol until stdin closes."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--accounts", type=int, default=100)
    p.add_argument("--regions", type=int, default=17)
    p.add_argument("--populated", type=float, default=0.2, help="share of regions with VPCs")
    p.add_argument("--vpcs", type=int, default=10)
    p.add_argument("--latency", type=float, default=0.05)
    args = p.parse_args()
    t0 = time.perf_counter()
    rec = record(args.vpcs)
    record_s = time.perf_counter() - t0
    regions = enabled_regions(rec["describe_regions"])[: args.regions]
    accounts = member_ids(args.accounts)
    every = max(1, round(1 / args.populated)) if args.populated > 0 else 10**9
    canned = Canned(rec, accounts, regions, every)
    handler = type("H", (Handler,), {"canned": canned, "latency": args.latency})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.request_queue_size = 512
    threading.Thread(target=server.serve_forever, daemon=True).start()
    populated = sum(canned.populated(a, r) for a in accounts for r in regions)
    info = {
        "url": f"http://127.0.0.1:{server.server_address[1]}",
        "regions": regions,
        "accounts": accounts,
        "populated": populated,
        "record_seconds": round(record_s, 2),
        "seeded_per_populated_region": rec["seeded"],
    }
    print(json.dumps(info), flush=True)
    cpu0 = time.process_time()
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "reset":
            with canned.lock:
                canned.counts.clear()
            cpu0 = time.process_time()
            print(json.dumps({"ok": True}), flush=True)
        elif cmd == "stats":
            with canned.lock:
                counts = dict(canned.counts)
            stats = {
                "requests": counts,
                "total": sum(counts.values()),
                "cpu_seconds": round(time.process_time() - cpu0, 2),
            }
            print(json.dumps(stats), flush=True)
    server.shutdown()


if __name__ == "__main__":
    main()
