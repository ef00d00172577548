"""Collectors: one task per (account, region), one paginated Describe call per resource kind.

This is the only module that reads resources from AWS. Each resource kind is declared as data
(`ResourceSpec`, in vpcaudit.aws.specs), so adding a kind is one line and the call count stays
one call (plus pages) per kind and region, never one per VPC or subnet; the few kinds AWS
offers no bulk call for are read with one call per Transit Gateway route table or
customer-managed prefix list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol

import botocore.exceptions
import structlog
from botocore.parsers import ResponseParserError

from vpcaudit import __version__
from vpcaudit.aws.session import ClientFactory, describe_failure, error_parts
from vpcaudit.aws.specs import (
    NO_VPC,
    NO_VPC_NO_TGW,
    SPECS,
    PerParent,
    Resources,
    ResourceSpec,
    not_collected,
    strip_secrets,
)
from vpcaudit.model import Gap
from vpcaudit.snapshot import RawItem, RegionData, Skipped, Snapshot, json_safe

# The specs live in vpcaudit.aws.specs; they are named here too, where callers look for them.
__all__ = [
    "REGION_WIDE_CODES",
    "SPECS",
    "AccountTarget",
    "CollectResult",
    "PerParent",
    "PreparedAccount",
    "Progress",
    "RegionResult",
    "ResourceSpec",
    "SkippedKinds",
    "build_snapshot",
    "collect",
    "collect_region",
    "not_collected",
    "now_iso",
    "run_pool",
]

log = structlog.get_logger(__name__)

SERVICES = tuple(sorted({s.service for s in SPECS}))
"""The services the collectors call."""

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
class AccountTarget:
    """One account to scan: its id and name, a client factory, and its regions."""

    account_id: str
    name: str
    factory: ClientFactory | None
    """None in the parent of worker processes: the account is read in a worker."""
    regions: tuple[str, ...]


@dataclass(frozen=True)
class SkippedKinds:
    """Kinds not asked for in a region because they cannot exist there (it holds no VPC).

    Not a gap: the region is fully read. The kinds are in the region's resources as empty
    lists, so everything downstream sees them read and empty; this says why.
    """

    account_id: str
    region: str
    kinds: tuple[str, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form kept in the snapshot's extra["skipped_kinds"]."""
        return {
            "account_id": self.account_id,
            "region": self.region,
            "kinds": list(self.kinds),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class RegionResult:
    """What one (account, region) task read, and what it could not."""

    data: RegionData
    gaps: tuple[Gap, ...]
    skipped_kinds: SkippedKinds | None = None
    """The kinds not asked for because they cannot exist in the region, and why."""


def _read(client: Any, spec: ResourceSpec, params: dict[str, Any]) -> tuple[list[RawItem], bool]:
    """Every item one call answers, all pages followed, and whether AWS said it held back more."""
    if client.can_paginate(spec.method):
        config = {} if spec.page_size is None else {"PageSize": spec.page_size}
        pages = client.get_paginator(spec.method).paginate(**params, PaginationConfig=config)
    else:
        pages = [getattr(client, spec.method)(**params)]
    items: list[RawItem] = []
    last: dict[str, Any] = {}
    for page in pages:
        items.extend(page.get(spec.result_key, []))
        last = page
    # The paginator stops at a page whose flag is set but that carries no token: only the last
    # page can say that something was left behind.
    return items, bool(spec.more_results and last.get(spec.more_results))


class _RegionClosed(Exception):
    """A region-wide refusal: its gap, and no further call in that region."""

    def __init__(self, gap: Gap) -> None:
        super().__init__(gap.message)
        self.gap = gap


def _calls(spec: ResourceSpec, resources: Resources) -> list[tuple[str, dict[str, Any]]]:
    """(parent id, request parameters) of each call that reads the kind: one for a kind read
    region-wide (with no parent), else one per parent item."""
    per = spec.per
    if per is None:
        return [("", dict(spec.params))]
    return [
        (str(p[per.param]), {**spec.params, per.param: p[per.param]})
        for p in per.parents(resources)
        if p.get(per.param)
    ]


def _which(spec: ResourceSpec, message: str, ids: list[str], total: int) -> str:
    """A gap's message, naming the parents whose calls it is about (up to five of them)."""
    if spec.per is None:
        return message
    shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    return f"{message} ({spec.per.param} {shown}; {len(ids)} of {total})"


def _collect_kind(
    factory: ClientFactory,
    account_id: str,
    region: str,
    spec: ResourceSpec,
    resources: Resources,
) -> list[Gap]:
    """Read one kind into `resources` and return its gaps; raise _RegionClosed on a refusal
    that closes the whole region.

    A kind read with one call is kept only if that call succeeded. A kind read per parent item
    keeps what the calls that succeeded returned: the gap, which names the parents that failed,
    already marks the kind as unknown in that region.
    """
    per = spec.per
    calls = _calls(spec, resources)
    items: list[RawItem] = []
    # Error code -> (its first message, the parents it failed for): a refusal of the operation
    # itself fails every parent alike, and is one gap, not one per route table.
    failed: dict[str, tuple[str, list[str]]] = {}
    truncated: list[str] = []
    for parent_id, params in calls:
        try:
            client = factory.client(spec.service, region)
            answered, more = _read(client, spec, params)
        except botocore.exceptions.ClientError as exc:
            code, message = error_parts(exc)
            _log_failure(account_id, region, spec, code, parent_id)
            if code in REGION_WIDE_CODES:
                raise _RegionClosed(
                    Gap(
                        account_id,
                        region,
                        "*",
                        code,
                        f"{spec.op} failed: {message}; no other resource in this region was read",
                    )
                ) from None
            failed.setdefault(code, (message, []))[1].append(parent_id)
            continue
        except (botocore.exceptions.BotoCoreError, ResponseParserError) as exc:
            # Timeouts and connection failures, after botocore's own retries; and answers that
            # are not AWS's (e.g. a proxy's HTML error page), which botocore cannot parse and
            # which say no more about the other calls than a timeout does.
            code = type(exc).__name__
            _log_failure(account_id, region, spec, code, parent_id)
            failed.setdefault(code, (describe_failure(exc), []))[1].append(parent_id)
            continue
        safe: list[RawItem] = json_safe(answered)
        for item in safe:
            for path in spec.redact:
                strip_secrets(item, path)
            if per is not None:
                item[per.param] = parent_id
        items.extend(safe)
        if more:
            truncated.append(parent_id)
    if per is not None or not failed:
        resources[spec.kind] = items
    if truncated:
        note = (
            f"{spec.operation} answered {spec.more_results}=true with no token to read the "
            "rest: the items it did return are kept"
        )
        failed["Truncated"] = (note, truncated)
    return [
        Gap(account_id, region, spec.op, code, _which(spec, message, ids, len(calls)))
        for code, (message, ids) in failed.items()
    ]


def _log_failure(account_id: str, region: str, spec: ResourceSpec, code: str, parent: str) -> None:
    log.warning(
        "call_failed",
        account=account_id,
        region=region,
        operation=spec.op,
        code=code,
        **({"parent": parent} if parent else {}),
    )


def collect_region(
    factory: ClientFactory,
    account_id: str,
    region: str,
    specs: Sequence[ResourceSpec] = SPECS,
) -> RegionResult:
    """Read every resource kind in one account and region; each failure becomes a gap.

    The VPCs are read first: where there is none, the kinds that cannot exist without one are
    not asked for (see ResourceSpec.scope), kept as read and empty, and said in the result.
    The kinds are read one after another, so this costs no extra round trip.
    """
    resources: Resources = {}
    gaps: list[Gap] = []
    skipped: list[str] = []
    reasons: set[str] = set()
    for spec in specs:
        why = spec.skip_reason(resources)
        if why is not None:
            resources[spec.kind] = []
            skipped.append(spec.kind)
            reasons.add(why)
            continue
        if spec.needed is not None and not spec.needed(resources):
            continue
        try:
            gaps.extend(_collect_kind(factory, account_id, region, spec, resources))
        except _RegionClosed as closed:
            gaps.append(closed.gap)
            break
    note = None
    if skipped:
        # The wider reason (no VPC and no TGW) covers the narrower one.
        reason = NO_VPC_NO_TGW if NO_VPC_NO_TGW in reasons else NO_VPC
        note = SkippedKinds(account_id, region, tuple(skipped), reason)
    return RegionResult(RegionData(account_id, region, resources), tuple(gaps), note)


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
    skipped_kinds: tuple[SkippedKinds, ...] = ()


def guarded_region(factory: ClientFactory, account_id: str, region: str) -> RegionResult:
    """collect_region, with any exception of one task turned into a gap for that task: an
    organization scan never dies of one region."""
    try:
        return collect_region(factory, account_id, region)
    except Exception as exc:  # the task boundary: record it, keep the scan going
        log.error("region_failed", account=account_id, region=region, exc_info=True)
        gap = Gap(
            account_id,
            region,
            "*",
            type(exc).__name__,
            f"reading this region failed: {describe_failure(exc)}; nothing in it was read "
            f"(rerun with --log-level debug for the traceback)",
        )
        return RegionResult(RegionData(account_id, region, {}), (gap,))
    finally:
        # Nothing else reads this account's region: its clients would only hold memory.
        factory.release(region, SERVICES)


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
    kinds: list[SkippedKinds] = []
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
                    if out.target is not None and out.target.factory is not None:
                        t, factory = out.target, out.target.factory
                        pending |= {
                            pool.submit(guarded_region, factory, t.account_id, r) for r in t.regions
                        }
                    if progress is not None:
                        progress.account_ready(out)
                else:
                    regions.append(out.data)
                    gaps.extend(out.gaps)
                    if out.skipped_kinds is not None:
                        kinds.append(out.skipped_kinds)
                    if progress is not None:
                        progress.region_done(out)
    return CollectResult(accounts, tuple(regions), tuple(gaps), tuple(skipped), tuple(kinds))


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
    extra = dict(extra or {})
    if res.skipped_kinds:
        # Kept in extra (snapshot.py's region entries carry only resources): a reader of the
        # snapshot sees why a region's VPC-bound kinds are empty lists.
        extra["skipped_kinds"] = [
            k.to_dict() for k in sorted(res.skipped_kinds, key=lambda k: (k.account_id, k.region))
        ]
    return Snapshot(
        started_at=started_at,
        finished_at=now_iso(),
        tool_version=__version__,
        accounts=dict(sorted(res.accounts.items())),
        regions=tuple(sorted(res.regions, key=lambda r: (r.account_id, r.region))),
        gaps=tuple(sorted({*gaps, *res.gaps})),
        skipped=tuple(sorted({*skipped, *res.skipped}, key=lambda s: (s.account_id, s.region))),
        org_account_ids=org_account_ids,
        extra=extra,
    )
