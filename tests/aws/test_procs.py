"""Worker processes (vpcaudit.aws.procs): the guard in a worker, a worker that dies.

The targets below run in spawned processes, so they are module-level functions.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest

from tests.servers import apply_env, sandbox_env
from vpcaudit.aws.collect import RegionResult
from vpcaudit.aws.procs import (
    WORKER_GAP_OPERATION,
    ForwardingProgress,
    Outbox,
    WorkerStats,
    process_count,
    run_workers,
    split,
)
from vpcaudit.errors import ConfigError
from vpcaudit.scan import ScanOptions, base_factory
from vpcaudit.snapshot import RegionData

A, B, C = "111111111111", "222222222222", "333333333333"


def _try_to_mutate(opts: ScanOptions, out: Any) -> None:
    """In a worker process: build the factory as a scan worker does, then try a write."""
    try:
        base_factory(opts).client("ec2", "us-east-1").create_vpc(CidrBlock="10.0.0.0/16")
    except Exception as exc:  # noqa: BLE001 - the type is the answer, sent to the test
        out.put(type(exc).__name__)
    else:
        out.put("created")


def test_a_worker_process_cannot_call_a_mutating_api(monkeypatch: pytest.MonkeyPatch) -> None:
    # No endpoint at all: the guard refuses before anything is built or sent.
    apply_env(monkeypatch, sandbox_env(os.environ))
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_try_to_mutate, args=(ScanOptions(), out))
    proc.start()
    answer = out.get(timeout=60)
    proc.join(timeout=30)
    assert answer == "MutatingCallRefused"


def _region(account: str, region: str) -> RegionResult:
    return RegionResult(RegionData(account, region, {"vpcs": []}), ())


def _dies_midway(plan: str, outbox: Outbox) -> None:
    """Plan "dies": prepare A (two regions), report one, die; B is never prepared.
    Plan "lives": prepare C (one region), report it, finish."""
    progress = ForwardingProgress(outbox)
    if plan == "dies":
        outbox.put(("account", A, "a", ("eu-west-1", "us-east-1"), (), ()))
        progress.region_done(_region(A, "eu-west-1"))
        # What a worker sent before it died arrives (the queue's feeder thread flushed).
        queue: Any = outbox
        queue.close()
        queue.join_thread()
        os._exit(3)
    outbox.put(("account", C, "c", ("us-east-1",), (), ()))
    progress.region_done(_region(C, "us-east-1"))
    outbox.put(("done", 1, WorkerStats(1, 1, {"ec2:DescribeVpcs": 1}, 10.0)))


def test_a_dead_worker_is_a_gap_per_unfinished_account_and_the_rest_is_kept() -> None:
    plans = [("dies", {A: "a", B: "b"}), ("lives", {C: "c"})]
    res, stats = run_workers(_dies_midway, plans)
    assert len(stats) == 1
    assert sorted((r.account_id, r.region) for r in res.regions) == [
        (A, "eu-west-1"),
        (C, "us-east-1"),
    ]
    dead = sorted(g for g in res.gaps if g.operation == WORKER_GAP_OPERATION)
    assert [(g.account_id, g.region, g.error_code) for g in dead] == [
        (A, "*", "WorkerDied"),
        (B, "*", "WorkerDied"),
    ]
    assert "code 3" in dead[0].message
    assert res.accounts == {A: "a", B: "b", C: "c"}


def _refuses(plan: str, outbox: Outbox) -> None:
    outbox.put(("error", 0, ConfigError(f"unknown region {plan!r}")))


def test_a_configuration_error_in_a_worker_is_raised_in_the_parent() -> None:
    with pytest.raises(ConfigError, match="unknown region 'xx-1'"):
        run_workers(_refuses, [("xx-1", {A: "a"})])


def test_process_count_and_split() -> None:
    assert process_count(None, 1) == 1
    assert process_count(8, 3) == 3
    assert process_count(1, 100) == 1
    assert split([1, 2, 3, 4, 5], 2) == [[1, 3, 5], [2, 4]]


def test_a_container_cpu_quota_caps_the_default_processes(tmp_path: Path) -> None:
    """`limits: {cpu: "2"}` leaves the affinity mask at every CPU of the node: the default
    must follow the quota (cgroup v2 cpu.max, v1 cpu.cfs_quota_us), rounded up."""
    from vpcaudit.aws.procs import available_cpus  # noqa: PLC0415

    unlimited = available_cpus(tmp_path / "none")
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cpu.max").write_text("150000 100000\n")
    assert available_cpus(v2) == min(2, unlimited)
    (v2 / "cpu.max").write_text("max 100000\n")
    assert available_cpus(v2) == unlimited
    v1 = tmp_path / "v1" / "cpu"
    v1.mkdir(parents=True)
    (v1 / "cpu.cfs_quota_us").write_text("100000\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    assert available_cpus(v1.parent) == 1
    (v1 / "cpu.cfs_quota_us").write_text("-1\n")
    assert available_cpus(v1.parent) == unlimited
