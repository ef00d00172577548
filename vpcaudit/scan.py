"""Scan orchestration: credentials -> targets (account x region) -> collect -> Snapshot."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import botocore.exceptions
import structlog

from vpcaudit.aws.collect import (
    SERVICES,
    AccountTarget,
    PreparedAccount,
    PrepareFn,
    Progress,
    build_snapshot,
    now_iso,
    run_pool,
)
from vpcaudit.aws.procs import (
    ForwardingProgress,
    Outbox,
    WorkerStats,
    forward_logs,
    peak_rss_mib,
    process_count,
    run_workers,
    split,
)
from vpcaudit.aws.regions import check_region_names, plan_regions
from vpcaudit.aws.session import (
    CallCounter,
    ClientFactory,
    SessionHook,
    describe_failure,
    error_parts,
    identify,
    make_session,
)
from vpcaudit.aws.targets import (
    AccountSpec,
    RoleOptions,
    account_of_role,
    assume_role_session,
    check_account_ids,
    list_org_accounts,
    org_specs,
    unscannable,
)
from vpcaudit.defaults import DEFAULT_ORG_ROLE
from vpcaudit.errors import ConfigError, VpcauditError
from vpcaudit.inventory import partition_of
from vpcaudit.model import Gap
from vpcaudit.snapshot import Skipped, Snapshot

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ScanOptions:
    """What to scan and how; filled from the command line or by the demo."""

    profile: str | None = None
    regions: tuple[str, ...] = ()
    """Only these regions (default: every enabled region)."""
    exclude_regions: tuple[str, ...] = ()
    workers: int = 16
    """Concurrent API calls in all, shared among the processes."""
    processes: int | None = None
    """Worker processes the accounts are split across (None: the CPUs available to this
    process, at most one per account; 1: scan in this process)."""
    role_arns: tuple[str, ...] = ()
    """Scan the account of each role (instead of the caller's own account)."""
    role: RoleOptions = field(default_factory=RoleOptions)
    org: bool = False
    """Scan every ACTIVE account of the caller's Organization."""
    org_role_name: str = DEFAULT_ORG_ROLE
    accounts: tuple[str, ...] = ()
    """Only these account ids (with --org or --role-arn)."""
    exclude_accounts: tuple[str, ...] = ()
    org_include_management: bool = False
    shard: tuple[int, int] | None = None
    """(I, N): scan only the accounts whose stable hash falls in shard I of N."""
    run_id: str | None = None
    """The run a shard belongs to; merge refuses shards of different runs."""
    session_hook: SessionHook | None = None
    """Called on every new boto3 session (the demo uses it for its moto fidelity layer)."""
    extra: dict[str, Any] = field(default_factory=dict)


def validate(opts: ScanOptions) -> None:
    """Refuse bad options before any API call."""
    check_region_names([*opts.regions, *opts.exclude_regions])
    check_account_ids(opts.accounts, "--accounts")
    check_account_ids(opts.exclude_accounts, "--exclude-accounts")
    for arn in opts.role_arns:
        account_of_role(arn)
    if opts.regions and set(opts.regions) <= set(opts.exclude_regions):
        raise ConfigError("no region left to scan: every --region is also an --exclude-region")
    if opts.org and opts.role_arns:
        raise ConfigError("--org and --role-arn cannot be combined")
    if opts.shard is not None and not opts.run_id:
        raise ConfigError(
            "--shard needs --run-id ID (or VPCAUDIT_RUN_ID), the same for every shard of one "
            "run: merge uses it to refuse shards of different runs"
        )
    if opts.workers < 1:
        raise ConfigError("--workers must be at least 1")
    if opts.processes is not None and opts.processes < 1:
        raise ConfigError("--processes must be at least 1")
    d = opts.role.duration_seconds
    if d is not None and not 900 <= d <= 43200:
        raise ConfigError("--duration must be between 900 and 43200 seconds")


def run_scan(opts: ScanOptions, progress: Progress | None = None) -> Snapshot:
    """Scan the accounts the options name across their regions and return the snapshot."""
    validate(opts)
    started = now_iso()
    counter = CallCounter()
    base = base_factory(opts, counter)
    caller = identify(base)
    org_ids: frozenset[str] | None = None
    skipped: list[Skipped] = []
    if opts.org:
        org = list_org_accounts(base)
        org_ids = frozenset(a for a, _, _ in org.accounts)
        specs = org_specs(
            org,
            caller,
            opts.org_role_name,
            include=opts.accounts,
            exclude=opts.exclude_accounts,
            include_management=opts.org_include_management,
            partition=partition_of(base.home_region),
        )
        # An account asked for by name that will not be read is said, not silently dropped.
        skipped = [
            Skipped(a, "*", why)
            for a, why in unscannable(
                org, opts.accounts, opts.org_include_management, opts.exclude_accounts
            )
        ]
    elif opts.role_arns:
        specs = [
            AccountSpec(account_of_role(arn), "", arn)
            for arn in opts.role_arns
            if _selected(account_of_role(arn), opts)
        ]
    else:
        specs = [AccountSpec(caller, "", None)]
    if opts.shard is not None:
        specs = [s for s in specs if shard_of(s.account_id, opts.shard[1]) == opts.shard[0]]
    if not specs:
        if opts.shard is not None:
            log.warning("shard_empty", shard=f"{opts.shard[0]}/{opts.shard[1]}")
        else:
            raise ConfigError("no account left to scan after the account filters")
    processes = _processes(opts, len(specs))
    log.info("scan_start", accounts=len(specs), caller=caller, processes=processes)
    rss: dict[str, float] = {}
    if processes == 1:
        base.warm(SERVICES)
        jobs = [_prepare_job(spec, base, opts) for spec in specs]
        res = run_pool(jobs, workers=opts.workers, progress=progress)
    else:
        res, stats = run_workers(_worker_main, _plans(opts, specs, processes), progress=progress)
        for i, st in enumerate(stats):
            counter.add(st.calls, st.attempts, st.by_operation)
            rss[f"worker-{i}"] = st.peak_rss_mib
    rss["parent"] = peak_rss_mib()
    extra = dict(opts.extra)
    if opts.shard is not None:
        extra["shard"] = f"{opts.shard[0]}/{opts.shard[1]}"
    if opts.run_id:
        extra["run_id"] = opts.run_id
    snap = build_snapshot(res, started, org_account_ids=org_ids, extra=extra, skipped=skipped)
    return _with_call_counts(snap, counter, rss)


def base_factory(opts: ScanOptions, counter: CallCounter | None = None) -> ClientFactory:
    """The caller's guarded client factory, as the scan and every worker process build it."""
    return ClientFactory(make_session(opts.profile, hook=opts.session_hook), counter)


def _processes(opts: ScanOptions, accounts: int) -> int:
    """How many processes to scan with (1: in this one)."""
    if opts.session_hook is not None:
        # The demo's moto lives in this process (and its fidelity hook cannot be pickled):
        # worker processes would read an empty, separate moto. Its 3-4 accounts take seconds.
        if (opts.processes or 1) > 1:
            log.info("processes_ignored", reason="the demo runs in one process")
        return 1
    return process_count(opts.processes, accounts)


@dataclass(frozen=True)
class WorkerPlan:
    """What one worker process scans: the options and its share of the accounts."""

    index: int
    opts: ScanOptions
    specs: tuple[AccountSpec, ...]


def _plans(
    opts: ScanOptions, specs: list[AccountSpec], processes: int
) -> list[tuple[WorkerPlan, dict[str, str]]]:
    # --workers caps the concurrent calls of the whole scan (AWS throttles per account and
    # region, but the caller's rate limits and connection budget are the scan's).
    per = replace(opts, processes=1, workers=max(1, -(-opts.workers // processes)))
    return [
        (WorkerPlan(i, per, tuple(chunk)), {s.account_id: s.name for s in chunk})
        for i, chunk in enumerate(split(sorted(specs, key=lambda s: s.account_id), processes))
    ]


def _worker_main(plan: WorkerPlan, outbox: Outbox) -> None:
    """A worker process: prepare and scan its accounts, sending everything to the parent."""
    forward_logs(outbox)
    counter = CallCounter()
    try:
        base = base_factory(plan.opts, counter)
        base.warm(SERVICES)
        jobs = [_prepare_job(spec, base, plan.opts) for spec in plan.specs]
        run_pool(jobs, workers=plan.opts.workers, progress=ForwardingProgress(outbox))
    except VpcauditError as exc:
        outbox.put(("error", plan.index, exc))
        return
    stats = WorkerStats(counter.calls, counter.attempts, dict(counter.by_operation), peak_rss_mib())
    outbox.put(("done", plan.index, stats))


def shard_of(account_id: str, shards: int) -> int:
    """The shard an account belongs to: a stable hash, the same on every machine and run."""
    return int(hashlib.sha256(account_id.encode()).hexdigest(), 16) % shards


def _selected(account_id: str, opts: ScanOptions) -> bool:
    if account_id in opts.exclude_accounts:
        return False
    return not opts.accounts or account_id in opts.accounts


def _prepare_job(spec: AccountSpec, base: ClientFactory, opts: ScanOptions) -> PrepareFn:
    def guarded() -> PreparedAccount:
        # One account's failure is a gap for that account; a bad option (a region AWS does
        # not list) still stops the scan with exit 2.
        try:
            return prepare()
        except VpcauditError:
            raise
        except Exception as exc:  # the task boundary, as in guarded_region
            log.error("account_failed", account=spec.account_id, exc_info=True)
            gap = Gap(
                spec.account_id,
                "*",
                "prepare",
                type(exc).__name__,
                f"preparing this account failed: {describe_failure(exc)}; nothing in it was read",
            )
            return PreparedAccount(spec.account_id, spec.name, None, (gap,))

    def prepare() -> PreparedAccount:
        factory = base
        if spec.role_arn is not None:
            session = assume_role_session(base, spec.role_arn, opts.role, opts.session_hook)
            factory = ClientFactory(session, base.counter)
            failure = _assume(factory, spec)
            if failure is not None:
                log.warning("assume_role_failed", account=spec.account_id, code=failure.error_code)
                return PreparedAccount(spec.account_id, spec.name, None, (failure,))
        plan = plan_regions(factory, spec.account_id, opts.regions, opts.exclude_regions)
        return PreparedAccount(
            spec.account_id,
            spec.name,
            AccountTarget(spec.account_id, spec.name, factory, plan.regions),
            plan.gaps,
            tuple(Skipped(spec.account_id, r, why) for r, why in plan.skipped),
        )

    return guarded


def _assume(factory: ClientFactory, spec: AccountSpec) -> Gap | None:
    """Assume the account's role now, so a refusal is one account-wide gap."""
    creds = factory.session.get_credentials()
    try:
        if creds is None:
            raise ConfigError("no credentials")
        creds.get_frozen_credentials()
    except botocore.exceptions.ClientError as exc:
        code, message = error_parts(exc)
        return Gap(spec.account_id, "*", "sts:AssumeRole", code, f"{spec.role_arn}: {message}")
    except botocore.exceptions.BotoCoreError as exc:
        return Gap(
            spec.account_id, "*", "sts:AssumeRole", type(exc).__name__, f"{spec.role_arn}: {exc}"
        )
    return None


def _with_call_counts(
    snap: Snapshot, counter: CallCounter, rss: dict[str, float] | None = None
) -> Snapshot:
    """Record how many API calls and HTTP attempts the scan made, and the peak memory of each
    process, for benchmarks and logs."""
    stats: dict[str, Any] = {
        "api_calls": counter.calls,
        "http_attempts": counter.attempts,
        "calls_by_operation": dict(sorted(counter.by_operation.items())),
    }
    if rss:
        stats["peak_rss_mib"] = dict(sorted(rss.items()))
    return replace(snap, extra={**snap.extra, "stats": stats})
