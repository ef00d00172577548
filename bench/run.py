"""vpcaudit benchmark: scan a synthetic Organization served with injected latency, then rules.

    python bench/run.py --accounts 10 --regions 17 --vpcs 10 --latency 0.05 --workers 16

1. starts bench/server_proc.py (moto seeded in-process, served on 127.0.0.1 with latency);
2. runs `vpcaudit scan --org ...` as a subprocess against it (once per --workers value) and
   prints calls made vs the minimum, wall time vs the lower bound, and the scanner's peak RSS;
3. with --profile, runs the scan once more under `py-spy record --gil` and summarizes where
   the scanner's GIL time goes;
4. runs the evaluation benchmark (bench/eval_bench.py) unless --eval-routes 0.
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
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from vpcaudit.aws.collect import SPECS

HERE = Path(__file__).resolve().parent
# One call per unconditional kind (moto does not paginate); the bench seeds no CloudWatch Logs
# flow log, so the conditional DescribeLogGroups is never needed.
KINDS_PER_REGION = sum(1 for s in SPECS if s.every_region)
# Kinds read with one call per parent item: per TGW route table (routes, associations,
# propagations) and per customer-managed prefix list (entries).
PER_PARENT = tuple(s for s in SPECS if s.per is not None)
PER_PARENT_TEXT = ", ".join(
    f"{n} per {kind} item"
    for kind, n in Counter(s.per.kind for s in PER_PARENT if s.per is not None).items()
)
MOTO_LIST_ACCOUNTS_PAGE = 100  # moto's ListAccounts default page (real AWS: at most 20)


class Server:
    """bench/server_proc.py as a child process, spoken to over its stdin/stdout."""

    def __init__(self, accounts: int, regions: int, vpcs: int, latency: float) -> None:
        """Start the server and wait until it is seeded and listening."""
        cmd = [
            sys.executable,
            str(HERE / "server_proc.py"),
            f"--accounts={accounts}",
            f"--regions={regions}",
            f"--vpcs={vpcs}",
            f"--latency={latency}",
        ]
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.info: dict[str, Any] = self._read()
        self.info["start_seconds"] = round(time.perf_counter() - t0, 2)

    def _read(self) -> dict[str, Any]:
        out: TextIO | None = self.proc.stdout
        assert out is not None  # noqa: S101 - Popen was given stdout=PIPE
        line = out.readline()
        if not line:
            raise SystemExit(f"bench server exited (rc={self.proc.wait()})")
        doc: dict[str, Any] = json.loads(line)
        return doc

    def ask(self, cmd: str) -> dict[str, Any]:
        """Send one command line; return its JSON answer."""
        stdin = self.proc.stdin
        assert stdin is not None  # noqa: S101 - Popen was given stdin=PIPE
        stdin.write(cmd + "\n")
        stdin.flush()
        return self._read()

    def close(self) -> None:
        """Ask the server to stop and wait for it."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def scan_env(url: str) -> dict[str, str]:
    """The scanner's environment: the local endpoint, fake credentials, no config files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "VPCAUDIT_DEMO"}
    env.update(
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID="AKIABENCHBENCHBENCH0",
        AWS_SECRET_ACCESS_KEY="bench-secret-not-a-real-key",  # noqa: S106 - moto only
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return env


def scan_cmd(regions: list[str], workers: int, snapshot: Path) -> list[str]:
    """`vpcaudit scan --org` over the given regions, JSON report, snapshot saved."""
    cmd = [sys.executable, "-m", "vpcaudit", "scan", "--org", "--format", "json"]
    for r in regions:
        cmd += ["--region", r]
    return [*cmd, "--workers", str(workers), "--save-snapshot", str(snapshot), "--allow-partial"]


def run_child(
    cmd: list[str], env: dict[str, str], out: Path, err: Path
) -> tuple[int, float, int, float]:
    """Run a child to completion: (exit code, wall s, its peak RSS in KiB, its CPU s)."""
    with out.open("wb") as fo, err.open("wb") as fe:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=fo, stderr=fe)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4 above
    return proc.returncode, wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def per_parent_calls(snapshot: dict[str, Any]) -> tuple[int, int]:
    """(calls a scan makes per parent item in all, the most of them in one region task).

    Counted from the parents the scan read (TGW route tables, customer-managed prefix lists),
    with the specs' own rule for which parents are read: these calls grow with those, never
    with VPCs.
    """
    per_region = [
        sum(len(s.per.parents(r["resources"])) for s in PER_PARENT if s.per is not None)
        for r in snapshot.get("regions", [])
    ]
    return sum(per_region), max(per_region, default=0)


def minimum_calls(
    n_accounts: int, n_regions: int, per_parent: tuple[int, int] = (0, 0)
) -> tuple[int, int]:
    """(fewest API calls a complete --org scan can make, longest chain of dependent calls).

    GetCallerIdentity + DescribeOrganization + ListAccounts pages, then per member account
    AssumeRole + DescribeRegions, then per account and region one call per resource kind,
    plus the per-parent calls (see per_parent_calls: total, most in one region).
    The chain is the scanner's sequence: identity -> organization -> account pages ->
    AssumeRole -> DescribeRegions -> the kinds (and per-parent calls), read one after another
    in one region task.
    """
    total, most = per_parent
    pages = math.ceil((n_accounts + 1) / MOTO_LIST_ACCOUNTS_PAGE)
    calls = 2 + pages + n_accounts * 2 + n_accounts * n_regions * KINDS_PER_REGION + total
    chain = 2 + pages + 2 + KINDS_PER_REGION + most
    return calls, chain


def measure(server: Server, args: argparse.Namespace, workers: int, outdir: Path) -> dict[str, Any]:
    """One scan at a worker count: calls, wall time, bound, RSS."""
    regions: list[str] = server.info["regions"]
    n_accounts = len(server.info["accounts"])
    server.ask("reset")
    snap_path = outdir / f"snapshot-w{workers}.json"
    rc, wall, rss_kib, cpu = run_child(
        scan_cmd(regions, workers, snap_path),
        scan_env(server.info["url"]),
        outdir / f"report-w{workers}.json",
        outdir / f"stderr-w{workers}.log",
    )
    served = server.ask("stats")
    if not snap_path.exists():
        raise SystemExit(f"scan failed (rc={rc}); see {outdir}/stderr-w{workers}.log")
    snap = json.loads(snap_path.read_text())
    stats = snap["extra"]["stats"]
    report = json.loads((outdir / f"report-w{workers}.json").read_text() or "{}")
    parent_calls = per_parent_calls(snap)
    min_calls, chain = minimum_calls(n_accounts, len(regions), parent_calls)
    bound = max(min_calls * args.latency / workers, chain * args.latency)
    return {
        "workers": workers,
        "rc": rc,
        "api_calls": stats["api_calls"],
        "http_attempts": stats["http_attempts"],
        "server_requests": served["total"],
        "server_cpu_s": round(served["cpu_seconds"], 2),
        "min_calls": min_calls,
        "per_parent_calls": parent_calls[0],
        "chain": chain,
        "wall_s": round(wall, 2),
        "bound_s": round(bound, 2),
        # --latency 0 has no bound to compare with.
        "ratio": round(wall / bound, 2) if bound else "-",
        "rss_mib": round(rss_kib / 1024, 1),
        "scanner_cpu_s": round(cpu, 2),
        "gaps": len(snap.get("gaps", [])),
        "findings": len(report.get("findings", [])) if isinstance(report, dict) else None,
        "calls_by_operation": stats["calls_by_operation"],
        "server_by_operation": served["requests"],
    }


def profile(server: Server, workers: int, outdir: Path, rate: int) -> dict[str, Any]:
    """Run the scan under py-spy (GIL-holding samples only) and summarize the stacks."""
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(pyspy).exists():
        return {"error": "py-spy not found: pip install py-spy"}
    raw = outdir / f"profile-w{workers}.txt"
    cmd = [
        pyspy,
        "record",
        "--gil",
        "--threads",
        "--rate",
        str(rate),
        "--format",
        "raw",
        "-o",
        str(raw),
        "--",
        *scan_cmd(server.info["regions"], workers, outdir / "snapshot-profiled.json"),
    ]
    server.ask("reset")
    rc, wall, _, _ = run_child(
        cmd, scan_env(server.info["url"]), outdir / "profile.out", outdir / "profile.err"
    )
    return {"wall_s": round(wall, 2), "rc": rc, **summarize(raw)}


# Where a stack's time goes, first match wins (frames are "function (file:line)").
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("client creation (session.client / create_client)", ("create_client (",)),
    ("assume-role credential fetch", ("fetch_credentials (", "_get_credentials (")),
    ("response parsing (botocore/parsers.py)", ("botocore/parsers.py",)),
    ("request signing (botocore/auth.py)", ("botocore/auth.py",)),
    ("request serialization (botocore/serialize.py)", ("botocore/serialize.py",)),
    ("retry/adaptive rate limiter", ("botocore/retries/",)),
    ("HTTP send/receive (urllib3, http.client)", ("urllib3/", "http/client.py")),
    ("event hooks and other botocore per call", ("botocore/",)),
    ("vpcaudit json_safe", ("json_safe (",)),
    ("snapshot save / report / evaluate", ("vpcaudit/snapshot.py", "vpcaudit/report", "evaluate")),
    ("imports (startup)", ("_find_and_load (",)),
)


def summarize(raw: Path) -> dict[str, Any]:
    """Samples per category, and the top functions by inclusive and self samples."""
    cats: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    if not raw.exists():
        return {"error": f"no profile written ({raw})"}
    for line in raw.read_text().splitlines():
        stack, _, n_text = line.rpartition(" ")
        if not stack or not n_text.isdigit():
            continue
        n = int(n_text)
        total += n
        frames = stack.split(";")
        cat = next((name for name, keys in CATEGORIES if any(k in stack for k in keys)), "other")
        cats[cat] += n
        for f in {_short(f) for f in frames}:
            inclusive[f] += n
        leaf[_short(frames[-1])] += n

    def pct(c: Counter[str], k: int) -> list[tuple[str, float]]:
        return [(name, round(100 * v / total, 1)) for name, v in c.most_common(k)]

    return {
        "samples": total,
        "categories_pct": pct(cats, 20),
        "top_inclusive_pct": pct(inclusive, 25),
        "top_self_pct": pct(leaf, 15),
    }


def _short(frame: str) -> str:
    """'fn (/long/path/site-packages/pkg/mod.py:12)' -> 'fn (pkg/mod.py)'."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    if "/work/main/" in path:
        path = path.split("/work/main/", 1)[1]
    return f"{name} ({path})"


def print_table(rows: list[dict[str, Any]], latency: float) -> None:
    """The headline figures, one line per worker count."""
    head = (
        f"{'workers':>7} {'calls':>6} {'min':>6} {'attempts':>8} {'served':>6} "
        f"{'wall s':>7} {'bound s':>7} {'ratio':>6} {'RSS MiB':>7} {'CPU s':>6} "
        f"{'srv CPU s':>9} {'gaps':>4}"
    )
    print(f"\nscan figures (latency {latency * 1000:.0f} ms per call)")
    print(head)
    for r in rows:
        print(
            f"{r['workers']:>7} {r['api_calls']:>6} {r['min_calls']:>6} {r['http_attempts']:>8} "
            f"{r['server_requests']:>6} {r['wall_s']:>7} {r['bound_s']:>7} {r['ratio']:>6} "
            f"{r['rss_mib']:>7} {r['scanner_cpu_s']:>6} {r['server_cpu_s']:>9} {r['gaps']:>4}"
        )


def main() -> None:
    """Build, serve, scan, report."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--accounts", type=int, default=10)
    p.add_argument("--regions", type=int, default=17)
    p.add_argument("--vpcs", type=int, default=10, help="VPCs per account and region")
    p.add_argument("--latency", type=float, default=0.05, help="seconds added to every call")
    p.add_argument(
        "--workers",
        type=lambda s: [int(w) for w in s.split(",")],
        default=[16],
        help="scanner --workers; a comma list runs one scan per value (default 16)",
    )
    p.add_argument("--profile", action="store_true", help="one more scan under py-spy")
    p.add_argument("--profile-rate", type=int, default=250, help="py-spy samples per second")
    p.add_argument("--eval-vpcs", type=int, default=10_000)
    p.add_argument("--eval-routes", type=int, default=100_000, help="0 skips the eval bench")
    p.add_argument("--out", type=Path, default=HERE / "out", help="artifacts directory")
    p.add_argument("--json", action="store_true", help="also print every figure as JSON")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    server = Server(args.accounts, args.regions, args.vpcs, args.latency)
    results: dict[str, Any] = {"server": server.info, "scans": []}
    try:
        info = server.info
        print(
            f"org: {len(info['accounts'])} accounts x {len(info['regions'])} regions x "
            f"{args.vpcs} VPCs; seeded in {info['seed_seconds']} s "
            f"(org+roles {info['org_seconds']} s), server up in {info['start_seconds']} s"
        )
        print(f"seeded: {json.dumps(info['seeded'])}")
        for w in args.workers:
            row = measure(server, args, w, args.out)
            results["scans"].append(row)
            print(
                f"  workers={w}: {row['wall_s']} s, {row['api_calls']} calls, rc={row['rc']}",
                flush=True,
            )
        print_table(results["scans"], args.latency)
        r0 = results["scans"][0]
        print(
            f"minimum = 2 + ListAccounts pages + 2 x {len(info['accounts'])} accounts + "
            f"{KINDS_PER_REGION} x {len(info['accounts'])} x {len(info['regions'])} + "
            f"{r0['per_parent_calls']} per-parent calls ({PER_PARENT_TEXT}); "
            f"bound = max(min x latency / workers, {r0['chain']}-call chain x latency)"
        )
        extra_ops = {
            op: n
            for op, n in r0["server_by_operation"].items()
            if n != r0["calls_by_operation"].get(op.replace(":", ":", 1), n)
        }
        print(f"calls by operation: {json.dumps(r0['calls_by_operation'])}")
        if extra_ops:
            print(f"server saw different counts for: {json.dumps(extra_ops)}")
        if args.profile:
            prof = profile(server, args.workers[0], args.out, args.profile_rate)
            results["profile"] = prof
            print_profile(prof)
    finally:
        server.close()
    if args.eval_routes:
        from eval_bench import run as eval_run  # noqa: PLC0415 - bench/ sibling

        ev = eval_run(args.eval_vpcs, args.eval_routes)
        results["eval"] = ev
        items = ev["items"]
        print(
            f"\nevaluation: {items['vpcs']} VPCs, {items['routes']} routes, "
            f"{items['peerings']} peerings, {items['endpoints']} endpoints, "
            f"{items['flow_logs']} flow logs, {len(ev['rules'])} rules: "
            f"Inventory.from_snapshot {ev['inventory_cpu_s']} s + evaluate "
            f"{ev['evaluate_cpu_s']} s = {ev['total_cpu_s']} s CPU"
        )
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    if args.json:
        print(json.dumps(results, indent=2))


def print_profile(prof: dict[str, Any]) -> None:
    """The profile summary, as percentages of GIL-holding samples."""
    if "error" in prof:
        print(f"\nprofile: {prof['error']}")
        return
    print(f"\nprofile (py-spy --gil, {prof['samples']} samples, wall {prof['wall_s']} s):")
    for title, key in (
        ("by category", "categories_pct"),
        ("top inclusive", "top_inclusive_pct"),
        ("top self", "top_self_pct"),
    ):
        print(f"  {title}:")
        for name, pct in prof[key]:
            print(f"    {pct:5.1f}%  {name}")


if __name__ == "__main__":
    main()
