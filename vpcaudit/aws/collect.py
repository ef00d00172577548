"""Collectors: one task per (account, region), one paginated Describe call per resource kind.

This is the only module that reads resources from AWS. Each resource kind is declared as data
(`ResourceSpec`), so adding a kind is one line and the call count stays one call (plus pages)
per kind and region, never one per VPC or subnet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import botocore.exceptions
import structlog

from vpcaudit import __version__
from vpcaudit.aws.session import ClientFactory, error_parts
from vpcaudit.model import Gap
from vpcaudit.snapshot import RawItem, RegionData, Skipped, Snapshot, json_safe

log = structlog.get_logger(__name__)

# Error codes that say the whole region is closed to these credentials: after one of them,
# the other calls in that region would fail the same way, so they are not made.
REGION_WIDE_CODES = frozenset({"AuthFailure", "OptInRequired", "InvalidClientTokenId"})


@dataclass(frozen=True)
class ResourceSpec:
    """How to enumerate one resource kind: the operation, its result key, its page size."""

    kind: str
    operation: str
    """The API operation name, e.g. DescribeVpcs."""
    result_key: str
    page_size: int | None
    """MaxResults to ask for (the API's maximum); None when the operation is not paginated."""

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


ProgressFn = Callable[[RegionResult], None]


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
    client = factory.client("ec2", region)
    resources: dict[str, list[RawItem]] = {}
    gaps: list[Gap] = []
    for spec in specs:
        op = f"ec2:{spec.operation}"
        try:
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


def now_iso() -> str:
    """The current UTC time as ISO 8601 with a Z, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def collect(
    targets: Sequence[AccountTarget],
    *,
    workers: int = 16,
    started_at: str | None = None,
    gaps: Sequence[Gap] = (),
    skipped: Sequence[Skipped] = (),
    org_account_ids: frozenset[str] | None = None,
    progress: ProgressFn | None = None,
    extra: dict[str, Any] | None = None,
) -> Snapshot:
    """Scan every (account, region) of the targets on a bounded pool; return the snapshot."""
    started = started_at or now_iso()
    tasks = [(t, r) for t in targets for r in t.regions]
    results: list[RegionResult] = []
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="collect") as pool:
        futures = [pool.submit(collect_region, t.factory, t.account_id, r) for t, r in tasks]
        for fut in as_completed(futures):
            res = fut.result()
            results.append(res)
            if progress is not None:
                progress(res)
    all_gaps = [*gaps, *(g for r in results for g in r.gaps)]
    return Snapshot(
        started_at=started,
        finished_at=now_iso(),
        tool_version=__version__,
        accounts={t.account_id: t.name for t in targets},
        regions=tuple(r.data for r in results),
        gaps=tuple(sorted(set(all_gaps))),
        skipped=tuple(skipped),
        org_account_ids=org_account_ids,
        extra=extra or {},
    )
