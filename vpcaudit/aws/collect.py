"""Collectors: one task per (account, region), one paginated Describe call per resource kind.

This is the only module that reads resources from AWS. Each resource kind is declared as data
(`ResourceSpec`), so adding a kind is one line and the call count stays one call (plus pages)
per kind and region, never one per VPC or subnet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol

import botocore.exceptions
import structlog

from vpcaudit import __version__
from vpcaudit.aws.session import ClientFactory, error_parts
from vpcaudit.model import Gap
from vpcaudit.snapshot import RawItem, RegionData, Skipped, Snapshot, json_safe

log = structlog.get_logger(__name__)

# Error codes that say the whole region is closed to these credentials: after one of them,
# the other calls in that region would fail the same way, so they are not made.
REGION_WIDE_CODES = frozenset(
    {
        "AuthFailure",
        "OptInRequired",
        "InvalidClientTokenId",
        # Credentials that expired mid-scan fail every later call the same way.
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
    }
)


@dataclass(frozen=True)
class ResourceSpec:
    """How to enumerate one resource kind: the operation, its result key, its page size."""

    kind: str
    operation: str
    """The API operation name, e.g. DescribeVpcs."""
    result_key: str
    page_size: int | None
    """MaxResults to ask for (the API's maximum); None when the operation is not paginated."""
    service: str = "ec2"
    needed: Callable[[dict[str, list[RawItem]]], bool] | None = None
    """Read only when this holds for what was read before it (None: always)."""

    @property
    def method(self) -> str:
        """The boto3 method name (describe_vpcs)."""
        out = []
        for i, ch in enumerate(self.operation):
            if ch.isupper() and i:
                out.append("_")
            out.append(ch.lower())
        return "".join(out)


SPECS: tuple[ResourceSpec, ...] = (
    ResourceSpec("vpcs", "DescribeVpcs", "Vpcs", 1000),
    ResourceSpec("subnets", "DescribeSubnets", "Subnets", 1000),
    ResourceSpec("route_tables", "DescribeRouteTables", "RouteTables", 100),
    ResourceSpec("peerings", "DescribeVpcPeeringConnections", "VpcPeeringConnections", 1000),
    ResourceSpec("endpoints", "DescribeVpcEndpoints", "VpcEndpoints", 1000),
    ResourceSpec("flow_logs", "DescribeFlowLogs", "FlowLogs", 1000),
    ResourceSpec("prefix_lists", "DescribeManagedPrefixLists", "PrefixLists", 100),
    ResourceSpec("vpn_gateways", "DescribeVpnGateways", "VpnGateways", None),
    ResourceSpec(
        "tgw_attachments", "DescribeTransitGatewayAttachments", "TransitGatewayAttachments", 1000
    ),
    ResourceSpec("nat_gateways", "DescribeNatGateways", "NatGateways", 1000),
    ResourceSpec("internet_gateways", "DescribeInternetGateways", "InternetGateways", 1000),
    ResourceSpec("security_groups", "DescribeSecurityGroups", "SecurityGroups", 1000),
    # Log groups tell whether a CloudWatch Logs flow-log destination still exists; a region
    # with no such flow log is not asked (a region can hold thousands of log groups).
    ResourceSpec(
        "log_groups",
        "DescribeLogGroups",
        "logGroups",
        50,
        service="logs",
        needed=lambda res: any(
            f.get("LogDestinationType") == "cloud-watch-logs" for f in res.get("flow_logs", [])
        ),
    ),
)


@dataclass(frozen=True)
class AccountTarget:
    """One account to scan: its id and name, a client factory, and its regions."""

    account_id: str
    name: str
    factory: ClientFactory
    regions: tuple[str, ...]


@dataclass(frozen=True)
class RegionResult:
    """What one (account, region) task read, and what it could not."""

    data: RegionData
    gaps: tuple[Gap, ...]


def _read(client: Any, spec: ResourceSpec) -> list[RawItem]:
    if spec.page_size is None:
        return list(getattr(client, spec.method)().get(spec.result_key, []))
    pages = client.get_paginator(spec.method).paginate(
        PaginationConfig={"PageSize": spec.page_size}
    )
    items: list[RawItem] = []
    for page in pages:
        items.extend(page.get(spec.result_key, []))
    return items


def collect_region(
    factory: ClientFactory,
    account_id: str,
    region: str,
    specs: Sequence[ResourceSpec] = SPECS,
) -> RegionResult:
    """Read every resource kind in one account and region; each failure becomes a gap."""
    resources: dict[str, list[RawItem]] = {}
    gaps: list[Gap] = []
    for spec in specs:
        op = f"{spec.service}:{spec.operation}"
        if spec.needed is not None and not spec.needed(resources):
            continue
        try:
            client = factory.client(spec.service, region)
            resources[spec.kind] = json_safe(_read(client, spec))
        except botocore.exceptions.ClientError as exc:
            code, message = error_parts(exc)
            log.warning("call_failed", account=account_id, region=region, operation=op, code=code)
            if code in REGION_WIDE_CODES:
                gaps.append(
                    Gap(
                        account_id,
                        region,
                        "*",
                        code,
                        f"{op} failed: {message}; no other resource in this region was read",
                    )
                )
                break
            gaps.append(Gap(account_id, region, op, code, message))
        except botocore.exceptions.BotoCoreError as exc:
            # Timeouts and connection failures, after botocore's own retries.
            log.warning(
                "call_failed",
                account=account_id,
                region=region,
                operation=op,
                code=type(exc).__name__,
            )
            gaps.append(Gap(account_id, region, op, type(exc).__name__, str(exc)))
    return RegionResult(RegionData(account_id, region, resources), tuple(gaps))


def not_collected(snap: Snapshot) -> list[tuple[str, str, tuple[str, ...]]]:
    """Per (account, region): kinds this version collects that the snapshot lacks, with no gap
    to explain it (a snapshot taken by an older vpcaudit): rules cannot see those."""
    always = [s for s in SPECS if s.needed is None]
    failed = {(g.account_id, g.region, g.operation) for g in snap.gaps}
    dead = {(g.account_id, g.region) for g in snap.gaps if g.operation == "*"}
    dead |= {(g.account_id, r.region) for g in snap.gaps if g.region == "*" for r in snap.regions}
    out = []
    for r in sorted(snap.regions, key=lambda r: (r.account_id, r.region)):
        if (r.account_id, r.region) in dead:
            continue
        missing = tuple(
            s.kind
            for s in always
            if s.kind not in r.resources
            and (r.account_id, r.region, f"{s.service}:{s.operation}") not in failed
        )
        if missing:
            out.append((r.account_id, r.region, missing))
    return out


def now_iso() -> str:
    """The current UTC time as ISO 8601 with a Z, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class PreparedAccount:
    """An account made ready to scan (credentials, regions), or why it could not be."""

    account_id: str
    name: str
    target: AccountTarget | None
    gaps: tuple[Gap, ...] = ()
    skipped: tuple[Skipped, ...] = ()


PrepareFn = Callable[[], PreparedAccount]


class Progress(Protocol):
    """What the scan reports as it goes (the CLI draws a progress bar from it)."""

    def start(self, accounts: int) -> None:
        """The scan will prepare this many accounts."""

    def account_ready(self, prepared: PreparedAccount) -> None:
        """An account's credentials and regions are known (or it failed)."""

    def region_done(self, result: RegionResult) -> None:
        """One (account, region) task finished."""


@dataclass(frozen=True)
class CollectResult:
    """Everything the pool produced: region data, gaps, skipped regions, accounts."""

    accounts: dict[str, str]
    regions: tuple[RegionData, ...]
    gaps: tuple[Gap, ...]
    skipped: tuple[Skipped, ...]


def run_pool(
    jobs: Sequence[PrepareFn], *, workers: int, progress: Progress | None = None
) -> CollectResult:
    """Prepare accounts and scan their regions on one bounded pool.

    Preparing an account (assume its role, list its regions) is a short chain of dependent
    calls; as soon as one is ready its region tasks join the same queue, so no worker idles
    waiting for all accounts to be prepared first.
    """
    if progress is not None:
        progress.start(len(jobs))
    accounts: dict[str, str] = {}
    regions: list[RegionData] = []
    gaps: list[Gap] = []
    skipped: list[Skipped] = []
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="vpcaudit") as pool:
        pending: set[Future[Any]] = {pool.submit(job) for job in jobs}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                out = fut.result()
                if isinstance(out, PreparedAccount):
                    accounts[out.account_id] = out.name
                    gaps.extend(out.gaps)
                    skipped.extend(out.skipped)
                    if out.target is not None:
                        t = out.target
                        pending |= {
                            pool.submit(collect_region, t.factory, t.account_id, r)
                            for r in t.regions
                        }
                    if progress is not None:
                        progress.account_ready(out)
                else:
                    regions.append(out.data)
                    gaps.extend(out.gaps)
                    if progress is not None:
                        progress.region_done(out)
    return CollectResult(accounts, tuple(regions), tuple(gaps), tuple(skipped))


def collect(
    targets: Sequence[AccountTarget],
    *,
    workers: int = 16,
    started_at: str | None = None,
    gaps: Sequence[Gap] = (),
    skipped: Sequence[Skipped] = (),
    org_account_ids: frozenset[str] | None = None,
    progress: Progress | None = None,
    extra: dict[str, Any] | None = None,
) -> Snapshot:
    """Scan every region of already-prepared targets and return the snapshot."""
    started = started_at or now_iso()

    def ready(t: AccountTarget) -> PrepareFn:
        return lambda: PreparedAccount(t.account_id, t.name, t)

    res = run_pool([ready(t) for t in targets], workers=workers, progress=progress)
    return build_snapshot(
        res, started, gaps=gaps, skipped=skipped, org_account_ids=org_account_ids, extra=extra
    )


def build_snapshot(
    res: CollectResult,
    started_at: str,
    *,
    gaps: Sequence[Gap] = (),
    skipped: Sequence[Skipped] = (),
    org_account_ids: frozenset[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Snapshot:
    """Assemble the snapshot of a finished pool run."""
    return Snapshot(
        started_at=started_at,
        finished_at=now_iso(),
        tool_version=__version__,
        accounts=dict(sorted(res.accounts.items())),
        regions=tuple(sorted(res.regions, key=lambda r: (r.account_id, r.region))),
        gaps=tuple(sorted({*gaps, *res.gaps})),
        skipped=tuple(sorted({*skipped, *res.skipped}, key=lambda s: (s.account_id, s.region))),
        org_account_ids=org_account_ids,
        extra=extra or {},
    )
