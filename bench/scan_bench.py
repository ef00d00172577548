"""The scan bench: `vpcaudit scan --org` against bench/canned.py, per --processes value.

    python bench/scan_bench.py --accounts 100 --regions 17 --populated 0.2 --latency 0.05 \\
        --processes 1,2 --workers 32 --repeat 3

For each run it reports calls (and the two minimums below), wall, the scanner's CPU (its
process and its worker processes, not the server), peak RSS, the latency bound, the CPU bound
and wall / max(bounds). With --profile the first --processes value runs once more under
py-spy (the in-process path, every thread) and its summary is printed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, TextIO

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import run_child, scan_env, summarize  # noqa: E402 - bench/ sibling, after sys.path

from vpcaudit.aws.specs import SPECS, Scope  # noqa: E402

# Kinds read with one call in a region that holds VPCs, and in one that holds none (no TGW):
# the bench seeds no TGW route table, customer prefix list or CloudWatch Logs flow log.
KINDS_POPULATED = sum(1 for s in SPECS if s.every_region)
KINDS_EMPTY = sum(1 for s in SPECS if s.every_region and s.scope is Scope.REGION)
ORG_PAGE = 20


class CannedServer:
    """bench/canned.py as a child process, spoken to over stdin/stdout."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Start it and wait until it has recorded and listens."""
        cmd = [
            sys.executable,
            str(HERE / "canned.py"),
            f"--accounts={args.accounts}",
            f"--regions={args.regions}",
            f"--populated={args.populated}",
            f"--vpcs={args.vpcs}",
            f"--latency={args.latency}",
        ]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.info = self._read()

    def _read(self) -> dict[str, Any]:
        out: TextIO | None = self.proc.stdout
        assert out is not None  # noqa: S101 - stdout=PIPE
        line = out.readline()
        if not line:
            raise SystemExit(f"canned server exited (rc={self.proc.wait()})")
        doc: dict[str, Any] = json.loads(line)
        return doc

    def ask(self, cmd: str) -> dict[str, Any]:
        """One command line, its JSON answer."""
        assert self.proc.stdin is not None  # noqa: S101 - stdin=PIPE
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        """EOF on stdin ends it."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=20)


def expected(info: dict[str, Any], latency: float, workers: int) -> dict[str, Any]:
    """The minimum calls (ours and the issue's), the dependent chain, the latency bound."""
    accounts = len(info["accounts"])
    regions = len(info["regions"])
    populated = int(info["populated"])
    empty = accounts * regions - populated
    pages = math.ceil((accounts + 1) / ORG_PAGE)
    base = 2 + pages + 2 * accounts + populated * KINDS_POPULATED
    calls = base + empty * KINDS_EMPTY
    # identity, organization, account pages, AssumeRole, DescribeRegions, a populated region
    chain = 2 + pages + 2 + KINDS_POPULATED
    return {
        "min_calls": calls,
        "issue_target_calls": base + empty,
        "chain": chain,
        "latency_bound_s": round(max(calls * latency / workers, chain * latency), 2),
    }


def scan_cmd(regions: list[str], workers: int, processes: int, out: Path) -> list[str]:
    """`vpcaudit scan --org` over the bench's regions."""
    cmd = [sys.executable, "-m", "vpcaudit", "scan", "--org", "--format", "json"]
    for r in regions:
        cmd += ["--region", r]
    cmd += ["--workers", str(workers), "--processes", str(processes), "--allow-partial"]
    return [*cmd, "--save-snapshot", str(out / f"snapshot-p{processes}.json")]


def measure(
    server: CannedServer, args: argparse.Namespace, processes: int, out: Path
) -> dict[str, Any]:
    """One scan: its figures against the bounds."""
    server.ask("reset")
    rc, wall, rss_kib, cpu = run_child(
        scan_cmd(server.info["regions"], args.workers, processes, out),
        scan_env(server.info["url"]),
        out / f"report-p{processes}.json",
        out / f"stderr-p{processes}.log",
    )
    served = server.ask("stats")
    snap = json.loads((out / f"snapshot-p{processes}.json").read_text())
    stats = snap["extra"]["stats"]
    exp = expected(server.info, args.latency, args.workers)
    cores = len(os.sched_getaffinity(0))
    cpu_bound = cpu / cores
    bound = max(exp["latency_bound_s"], cpu_bound)
    rss = stats.get("peak_rss_mib") or {}
    report = json.loads((out / f"report-p{processes}.json").read_text() or "{}")
    return {
        "processes": processes,
        "workers": args.workers,
        "rc": rc,
        "calls": stats["api_calls"],
        "attempts": stats["http_attempts"],
        "served": served["total"],
        **exp,
        "wall_s": round(wall, 2),
        "scanner_cpu_s": round(cpu, 2),
        "cpu_per_call_ms": round(1000 * cpu / max(1, stats["api_calls"]), 2),
        "cpu_bound_s": round(cpu_bound, 2),
        "ratio": round(wall / bound, 2) if bound else None,
        # Peak RSS: the largest process (wait4) and the parent + every worker's peak summed
        # (an upper bound on what was resident at once).
        "rss_max_process_mib": round(rss_kib / 1024, 1),
        "rss_sum_mib": round(sum(rss.values()), 1) if rss else None,
        "server_cpu_s": served["cpu_seconds"],
        "gaps": len(snap.get("gaps", [])),
        "findings": len(report.get("findings", [])),
    }


def profile(server: CannedServer, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """The scan once in-process (--processes 1) under py-spy, GIL-holding samples only (every
    thread), summarized by bench/run.py's categories."""
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raw = out / "profile-raw.txt"
    cmd = [pyspy, "record", "--gil", "--threads", "--rate", "200", "--format", "raw"]
    cmd += ["-o", str(raw), "--", *scan_cmd(server.info["regions"], args.workers, 1, out)]
    server.ask("reset")
    run_child(cmd, scan_env(server.info["url"]), out / "profile.out", out / "profile.err")
    return summarize(raw)


def main() -> None:
    """Record, serve, scan per --processes value (--repeat times), print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--accounts", type=int, default=100)
    p.add_argument("--regions", type=int, default=17)
    p.add_argument("--populated", type=float, default=0.2)
    p.add_argument("--vpcs", type=int, default=10)
    p.add_argument("--latency", type=float, default=0.05)
    p.add_argument("--workers", type=int, default=32, help="scanner --workers (all processes)")
    p.add_argument("--processes", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2])
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--profile", action="store_true", help="one more scan under cProfile")
    p.add_argument("--out", type=Path, default=HERE / "out" / "scan")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    server = CannedServer(args)
    info = server.info
    print(
        f"canned: {len(info['accounts'])} accounts x {len(info['regions'])} regions, "
        f"{info['populated']} populated ({args.vpcs} VPCs each), recorded in "
        f"{info['record_seconds']} s, up in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    rows = []
    try:
        for _ in range(args.repeat):
            for n in args.processes:
                row = measure(server, args, n, args.out)
                rows.append(row)
                print(json.dumps(row), flush=True)
        if args.profile:
            print(json.dumps(profile(server, args, args.out), indent=1))
    finally:
        server.close()
    (args.out / "results.json").write_text(json.dumps(rows, indent=2))
    keys = [
        "processes",
        "workers",
        "calls",
        "min_calls",
        "wall_s",
        "scanner_cpu_s",
        "cpu_per_call_ms",
        "latency_bound_s",
        "cpu_bound_s",
        "ratio",
        "rss_sum_mib",
        "rss_max_process_mib",
        "server_cpu_s",
        "gaps",
    ]
    print(" | ".join(keys))
    for r in rows:
        print(" | ".join(str(r[k]) for k in keys))


if __name__ == "__main__":
    main()
