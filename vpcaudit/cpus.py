"""How many CPUs this process may use (worker processes, the snapshot decoder)."""

from __future__ import annotations

import math
import os
from pathlib import Path


def available_cpus(cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """The CPUs this process may use: its affinity mask, capped by a container's CPU quota.

    A Kubernetes `limits: {cpu: "2"}` or `docker run --cpus 2` sets a quota (cgroup v2
    cpu.max, v1 cpu.cfs_quota_us) but leaves the affinity mask at every CPU of the node: a
    worker per node CPU would then share two CPUs' worth of time, each with its own memory,
    and a 1 GiB pod on a 32-CPU node would be killed.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    quota = _cgroup_cpu_quota(cgroup_root)
    if quota is not None:
        cpus = min(cpus, quota)
    return max(1, cpus)


def _cgroup_cpu_quota(root: Path) -> int | None:
    """CPUs a cgroup CPU quota allows (rounded up), or None when there is none."""
    try:
        v2 = (root / "cpu.max").read_text().split()
        if len(v2) == 2 and v2[0] != "max":
            return math.ceil(int(v2[0]) / int(v2[1]))
        if v2:
            return None
    except (OSError, ValueError, ZeroDivisionError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return math.ceil(quota / period) if quota > 0 and period > 0 else None
