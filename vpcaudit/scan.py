"""Scan orchestration: credentials -> targets (account x region) -> collect -> Snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from vpcaudit.aws.collect import AccountTarget, ProgressFn, collect, now_iso
from vpcaudit.aws.regions import check_region_names, plan_regions
from vpcaudit.aws.session import ClientFactory, SessionHook, identify, make_session
from vpcaudit.snapshot import Skipped, Snapshot


@dataclass(frozen=True)
class ScanOptions:
    """What to scan and how; filled from the command line or by the demo."""

    profile: str | None = None
    regions: tuple[str, ...] = ()
    """Only these regions (default: every enabled region)."""
    exclude_regions: tuple[str, ...] = ()
    workers: int = 16
    session_hook: SessionHook | None = None
    """Called on every new boto3 session (the demo uses it for its moto fidelity layer)."""
    extra: dict[str, Any] = field(default_factory=dict)


def run_scan(opts: ScanOptions, progress: ProgressFn | None = None) -> Snapshot:
    """Scan the account behind the credentials across its regions and return the snapshot."""
    check_region_names([*opts.regions, *opts.exclude_regions])
    started = now_iso()
    session = make_session(opts.profile, hook=opts.session_hook)
    factory = ClientFactory(session)
    account_id = identify(factory)
    plan = plan_regions(factory, account_id, opts.regions, opts.exclude_regions)
    target = AccountTarget(account_id, "", factory, plan.regions)
    snap = collect(
        [target],
        workers=opts.workers,
        started_at=started,
        gaps=plan.gaps,
        skipped=[Skipped(account_id, r, why) for r, why in plan.skipped],
        progress=progress,
        extra=dict(opts.extra),
    )
    return _with_call_counts(snap, [factory])


def _with_call_counts(snap: Snapshot, factories: Sequence[ClientFactory]) -> Snapshot:
    """Record how many API calls and HTTP attempts the scan made, for benchmarks and logs."""
    by_op: dict[str, int] = {}
    for f in factories:
        for op, n in f.counter.by_operation.items():
            by_op[op] = by_op.get(op, 0) + n
    stats = {
        "api_calls": sum(f.counter.calls for f in factories),
        "http_attempts": sum(f.counter.attempts for f in factories),
        "calls_by_operation": dict(sorted(by_op.items())),
    }
    return replace(snap, extra={**snap.extra, "stats": stats})
