"""Worker processes: accounts split across processes, each with its own thread pool.

botocore spends 3-4 ms of CPU per call under the GIL (bench/README.md), so one process tops
out near one core. `run_workers` starts N processes (spawn: no fork after threads exist, and
each child reads the environment as it is now), hands each a share of the accounts, and turns
what they send back over one queue into the one result the in-process path gives: region
data, gaps, skipped regions and kinds, progress events and log events, in the parent.

A worker builds its own sessions from the same options (boto3 objects are never pickled), so
its clients carry the read-only guard like every other (ClientFactory installs it). A worker
that dies before it finishes becomes a gap for each of its accounts not fully reported; the
regions it did report are kept.
"""

from __future__ import annotations

import multiprocessing
import queue
import resource
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from vpcaudit.aws.collect import (
    AccountTarget,
    CollectResult,
    PreparedAccount,
    Progress,
    RegionResult,
    SkippedKinds,
)
from vpcaudit.cpus import available_cpus
from vpcaudit.errors import VpcauditError
from vpcaudit.model import Gap
from vpcaudit.snapshot import RegionData, Skipped

log = structlog.get_logger(__name__)

WORKER_GAP_OPERATION = "worker"
"""The operation of the gap a worker process that died leaves for each unfinished account."""


def process_count(asked: int | None, accounts: int) -> int:
    """Processes to use: as asked, else one per available CPU; never more than accounts."""
    n = asked if asked is not None else available_cpus()
    return max(1, min(n, accounts))


def split(items: Sequence[Any], n: int) -> list[list[Any]]:
    """Deal items round-robin into n lists (an even share of accounts for each worker)."""
    return [list(items[i::n]) for i in range(n)]


def peak_rss_mib() -> float:
    """This process's peak resident set size so far, in MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class Outbox(Protocol):
    """Where a worker's messages go (a multiprocessing queue)."""

    def put(self, obj: Any) -> None:
        """Send one message."""


@dataclass(frozen=True)
class WorkerStats:
    """What a worker reports when it finishes: its calls and its peak memory."""

    calls: int
    attempts: int
    by_operation: dict[str, int]
    peak_rss_mib: float


class ForwardingProgress:
    """A worker's Progress: each event is sent to the parent, which draws the one bar."""

    def __init__(self, outbox: Outbox) -> None:
        """Send on outbox."""
        self._outbox = outbox

    def start(self, accounts: int) -> None:
        """The parent already knows how many accounts there are."""

    def account_ready(self, prepared: PreparedAccount) -> None:
        """Send the account without its client factory (boto3 objects stay in the worker)."""
        regions = prepared.target.regions if prepared.target is not None else None
        self._outbox.put(
            (
                "account",
                prepared.account_id,
                prepared.name,
                regions,
                prepared.gaps,
                prepared.skipped,
            )
        )

    def region_done(self, result: RegionResult) -> None:
        """Send the region's result."""
        self._outbox.put(("region", result))


def forward_logs(outbox: Outbox) -> None:
    """Configure structlog in a worker to send every event to the parent, which logs it."""

    def forward(_: Any, method: str, event: MutableMapping[str, Any]) -> Any:
        # Tracebacks cross as text (no frame locals: they held credentials).
        event = structlog.processors.format_exc_info(_, method, event)
        outbox.put(("log", method, dict(event)))
        raise structlog.DropEvent

    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, forward],
        wrapper_class=structlog.make_filtering_bound_logger(0),
        cache_logger_on_first_use=False,
    )


def _relog(method: str, event: dict[str, Any]) -> None:
    """Log a worker's event in the parent, through the parent's configuration and level."""
    name = str(event.pop("event", ""))
    logger = structlog.get_logger("vpcaudit.worker")
    emit: Callable[..., Any] = getattr(logger, method, logger.info)
    emit(name, **event)


@dataclass
class _Tally:
    """The parent's view of one worker's accounts."""

    accounts: dict[str, str]
    """Account id -> name, of every account the worker was given."""
    regions: dict[str, int | None] = field(default_factory=dict)
    """Account id -> regions it will report (None: nothing to read), once prepared."""
    done: dict[str, int] = field(default_factory=dict)
    finished: bool = False
    dead_seen: bool = False
    """The process was seen exited without saying it was done (once: its last messages may
    still be in the pipe)."""
    gaps: list[Gap] = field(default_factory=list)
    """One per account left unfinished by a process that died."""

    def unfinished(self) -> list[str]:
        """Accounts not prepared, or with regions still unreported."""
        out = []
        for a in sorted(self.accounts):
            expected = self.regions.get(a, -1)
            if expected == -1 or (expected is not None and self.done.get(a, 0) < expected):
                out.append(a)
        return out


WorkerMain = Callable[[Any, Outbox], None]


class _Gather:
    """The parent's side: what the workers sent, put together as run_pool would."""

    def __init__(self, plans: Sequence[tuple[Any, dict[str, str]]], progress: Progress | None):
        self.tallies = [_Tally(dict(accounts)) for _, accounts in plans]
        self.owner = {a: i for i, t in enumerate(self.tallies) for a in t.accounts}
        self.progress = progress
        self.accounts: dict[str, str] = {}
        self.regions: list[RegionData] = []
        self.gaps: list[Gap] = []
        self.skipped: list[Skipped] = []
        self.kinds: list[SkippedKinds] = []
        self.stats: list[WorkerStats] = []

    def handle(self, msg: tuple[Any, ...]) -> None:
        """One message from a worker."""
        kind = msg[0]
        if kind == "log":
            _relog(msg[1], msg[2])
        elif kind == "account":
            self._account(*msg[1:])
        elif kind == "region":
            self._region(msg[1])
        elif kind == "done":
            self.tallies[msg[1]].finished = True
            self.stats.append(msg[2])
        elif kind == "error":
            error: VpcauditError = msg[2]
            raise error

    def _account(
        self,
        account_id: str,
        name: str,
        regions: tuple[str, ...] | None,
        gaps: tuple[Gap, ...],
        skipped: tuple[Skipped, ...],
    ) -> None:
        self.tallies[self.owner[account_id]].regions[account_id] = (
            None if regions is None else len(regions)
        )
        self.accounts[account_id] = name
        self.gaps.extend(gaps)
        self.skipped.extend(skipped)
        if self.progress is not None:
            target = None if regions is None else AccountTarget(account_id, name, None, regions)
            self.progress.account_ready(PreparedAccount(account_id, name, target, gaps, skipped))

    def _region(self, result: RegionResult) -> None:
        account_id = result.data.account_id
        t = self.tallies[self.owner[account_id]]
        t.done[account_id] = t.done.get(account_id, 0) + 1
        self.regions.append(result.data)
        self.gaps.extend(result.gaps)
        if result.skipped_kinds is not None:
            self.kinds.append(result.skipped_kinds)
        if self.progress is not None:
            self.progress.region_done(result)

    def result(self) -> CollectResult:
        """Everything gathered, with a gap per account a dead worker left unfinished."""
        for t in self.tallies:
            self.gaps.extend(t.gaps)
            for gap in t.gaps:
                self.accounts.setdefault(gap.account_id, t.accounts[gap.account_id])
        return CollectResult(
            self.accounts,
            tuple(self.regions),
            tuple(self.gaps),
            tuple(self.skipped),
            tuple(self.kinds),
        )


def run_workers(
    target: WorkerMain,
    plans: Sequence[tuple[Any, dict[str, str]]],
    *,
    progress: Progress | None = None,
) -> tuple[CollectResult, list[WorkerStats]]:
    """Run target(plan, outbox) in one spawned process per plan and gather what they send.

    Each plan comes with the accounts (id -> name) it covers, so a worker that dies leaves a
    gap for each of those it had not finished. A VpcauditError a worker sends (a bad option
    found once AWS answered) stops every worker and is raised here, as in one process.
    """
    ctx = multiprocessing.get_context("spawn")
    inbox = ctx.Queue()
    gather = _Gather(plans, progress)
    if progress is not None:
        progress.start(len(gather.owner))
    procs = [
        ctx.Process(target=target, args=(plan, inbox), name=f"vpcaudit-worker-{i}", daemon=True)
        for i, (plan, _) in enumerate(plans)
    ]
    try:
        for p in procs:
            p.start()
        log.info("workers_started", processes=len(procs))
        while not all(t.finished for t in gather.tallies):
            try:
                msg = inbox.get(timeout=0.5)
            except queue.Empty:
                _reap(procs, gather.tallies)
                continue
            gather.handle(msg)
        for p in procs:
            p.join(timeout=10)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
        inbox.close()
    return gather.result(), gather.stats


def _reap(procs: Sequence[Any], tallies: list[_Tally]) -> None:
    """Called when the queue stayed empty a while: a worker seen exited twice without saying
    it was done (so whatever it sent before dying has arrived) leaves a gap for each account
    it had not finished."""
    for i, (p, t) in enumerate(zip(procs, tallies, strict=True)):
        if t.finished or p.is_alive():
            continue
        if not t.dead_seen:
            t.dead_seen = True
            continue
        lost = t.unfinished()
        log.error("worker_died", worker=i, exitcode=p.exitcode, accounts=len(lost))
        t.gaps = [
            Gap(
                a,
                "*",
                WORKER_GAP_OPERATION,
                "WorkerDied",
                f"the worker process scanning this account exited (code {p.exitcode}) before "
                f"it finished; the regions it reported are kept, the others were not read",
            )
            for a in lost
        ]
        t.finished = True
