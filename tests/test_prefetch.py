"""Decoding a large snapshot file in a second process changes nothing but the time it takes.

The worker is forced on for small files here (VPCAUDIT_PREFETCH_MIN_BYTES=0): the inventory,
its gaps, its faults and its shared strings must be those of the one-process build.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.builders import SnapshotBuilder, load_fixture, route
from vpcaudit import cli, prefetch
from vpcaudit.errors import SnapshotError
from vpcaudit.inventory import Inventory
from vpcaudit.inventory.build import _build_fields
from vpcaudit.snapshot import Snapshot
from vpcaudit.snapshot_file import StoredItems

pytestmark = pytest.mark.skipif(not prefetch.worth_it_here(), reason="needs fork and 2 CPUs")


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The worker on for any file; yields what each take() handed over (None: decoded here)."""
    monkeypatch.setenv("VPCAUDIT_PREFETCH_MIN_BYTES", "0")
    taken: list[Any] = []
    original = prefetch.Prefetch.take

    def take(self: prefetch.Prefetch, stored: StoredItems) -> Any:
        got = original(self, stored)
        taken.append(got)
        return got

    monkeypatch.setattr(prefetch.Prefetch, "take", take)
    yield taken


def _org(n_regions: int = 3) -> Snapshot:
    """Several regions, each with VPCs, subnets, routes, peerings, gateways and flow logs."""
    b = SnapshotBuilder()
    for r, region in enumerate(["eu-west-1", "us-east-1", "ap-south-1"][:n_regions]):
        b.scan(region=region)
        for n in range(4):
            vpc = f"vpc-{r}{n}"
            b.vpc(vpc, f"10.{r}.{n}.0/24", region=region, name=f"app {n}")
            b.subnet(f"subnet-{r}{n}", vpc, f"10.{r}.{n}.0/25", region=region)
            b.internet_gateway(f"igw-{r}{n}", vpc, region=region)
            routes = [route(f"10.{r}.{n}.0/24", "local"), route("0.0.0.0/0", f"igw-{r}{n}")]
            b.route_table(
                f"rtb-{r}{n}", vpc, region=region, subnets=[f"subnet-{r}{n}"], routes=routes
            )
            b.security_group(f"sg-{r}{n}", vpc, region=region)
            b.network_acl(f"acl-{r}{n}", vpc, region=region)
            if n % 2:
                b.flow_log(f"fl-{r}{n}", vpc, region=region)
        b.peering(f"pcx-{r}", b.side(f"vpc-{r}0"), b.side(f"vpc-{r}1"))
    return b.build()


def _file(snap: Snapshot, tmp_path: Path) -> Snapshot:
    path = tmp_path / "s.json"
    snap.save(path)
    return Snapshot.load(path)


def test_the_inventory_is_the_one_process_build(forced: list[Any], tmp_path: Path) -> None:
    snap = _org()
    inv = Inventory.from_snapshot(_file(snap, tmp_path))
    served = [t for t in forced if t is not None]
    assert len(served) >= 15, "the worker handed over the kinds"
    assert inv == Inventory.from_snapshot(snap)
    assert inv.gaps == ()


def test_strings_the_worker_shared_stay_shared(forced: list[Any], tmp_path: Path) -> None:
    inv = Inventory.from_snapshot(_file(_org(1), tmp_path))
    assert any(t is not None for t in forced)
    states = [r.state for t in inv.route_tables for r in t.routes]
    assert len(states) > 4 and len({id(s) for s in states}) == 1


def test_a_malformed_item_takes_the_careful_path(forced: list[Any], tmp_path: Path) -> None:
    snap = _org(2)
    rd = snap.regions[1]
    bad = {**rd.resources["subnets"][0], "SubnetId": "subnet-1;curl x|sh"}
    broken = Snapshot(
        **{
            **snap.__dict__,
            "regions": (
                snap.regions[0],
                type(rd)(rd.account_id, rd.region, {**rd.resources, "subnets": [bad]}),
            ),
        }
    )
    inv = Inventory.from_snapshot(_file(broken, tmp_path))
    assert any(t is not None for t in forced)
    assert inv == Inventory.from_snapshot(broken)
    [gap] = inv.gaps
    assert gap.error_code == "MalformedSnapshotItem" and "SubnetId" in gap.message


def test_a_corrupt_kind_is_the_same_one_line_error(
    forced: list[Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "s.json"
    _org(2).save(path)
    text = path.read_text(encoding="utf-8")
    # Break one kind's array in the second region (the line layout keeps a kind per line).
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith('"route_tables":[{'))
    at = next(i for i in range(at + 1, len(lines)) if lines[i].startswith('"route_tables":[{'))
    lines[at] = lines[at].replace('"RouteTableId"', '"RouteTableId', 1)
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(SnapshotError) as caught:
        Inventory.from_snapshot(Snapshot.load(path))
    code = cli.main(["evaluate", str(path), "--format", "json", "--fail-on", "none"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "not valid JSON" in err
    assert str(caught.value) in err
    assert any(t is not None for t in forced)
    monkeypatch.setenv("VPCAUDIT_PREFETCH_MIN_BYTES", str(2**62))  # the same, in one process
    with pytest.raises(SnapshotError) as alone:
        Inventory.from_snapshot(Snapshot.load(path))
    assert str(alone.value) == str(caught.value)


def _signal_on_start(monkeypatch: pytest.MonkeyPatch, sig: signal.Signals) -> None:
    """Send `sig` to the worker as soon as the build has started it."""
    original = prefetch.Prefetch.__init__

    def start_then_signal(self: prefetch.Prefetch, *args: Any) -> None:
        original(self, *args)
        os.kill(self._proc.pid, sig)

    monkeypatch.setattr(prefetch.Prefetch, "__init__", start_then_signal)


def test_a_worker_that_dies_loses_nothing(
    monkeypatch: pytest.MonkeyPatch, forced: list[Any], tmp_path: Path
) -> None:
    _signal_on_start(monkeypatch, signal.SIGKILL)
    snap = _org()
    assert Inventory.from_snapshot(_file(snap, tmp_path)) == Inventory.from_snapshot(snap)
    assert forced and all(t is None for t in forced[3:])


def test_the_dry_run_order_is_the_order_the_build_reads(tmp_path: Path) -> None:
    """Kinds the worker sends out of turn are kept until read: right, but held in memory."""
    snap = _file(load_fixture("cross_account_peering.json"), tmp_path)
    order = [id(s) for s in prefetch.read_order(snap, _build_fields)]
    read: list[int] = []

    def inspect(kind: str, items: list[Any]) -> None:
        return None

    from vpcaudit.snapshot_file import watching  # noqa: PLC0415

    with watching(inspect, lambda stored, _: read.append(id(stored))):
        _build_fields(snap)
    first = list(dict.fromkeys(read))
    assert first == order and len(order) >= 5


def test_no_worker_below_the_size_or_with_threads_running(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    snap = _file(_org(1), tmp_path)
    monkeypatch.setenv("VPCAUDIT_PREFETCH_MIN_BYTES", str(10**9))
    assert not prefetch.worth_it(snap)
    monkeypatch.setenv("VPCAUDIT_PREFETCH_MIN_BYTES", "0")
    assert prefetch.worth_it(snap)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not prefetch.worth_it(snap), "fork with a thread running can deadlock the child"
    finally:
        stop.set()
        thread.join()
    monkeypatch.setenv("VPCAUDIT_PREFETCH_MIN_BYTES", "lots")
    assert not prefetch.worth_it(snap)  # an unreadable setting means the default (64 MiB)
    assert json.dumps(prefetch.MIN_BYTES) == str(64 * 1024 * 1024)


def test_ctrl_c_is_for_the_build_not_the_worker(
    monkeypatch: pytest.MonkeyPatch,
    forced: list[Any],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Ctrl-C reaches the whole process group; the worker ignores it (no traceback of its
    own), and goes on serving until the build stops it."""
    _signal_on_start(monkeypatch, signal.SIGINT)
    snap = _org()
    assert Inventory.from_snapshot(_file(snap, tmp_path)) == Inventory.from_snapshot(snap)
    served = [t for t in forced if t is not None]
    assert len(served) >= 15
    assert "Traceback" not in capfd.readouterr().err


def test_no_process_to_be_had_means_one_process(
    monkeypatch: pytest.MonkeyPatch, forced: list[Any], tmp_path: Path
) -> None:
    def refuse(*_: Any) -> None:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(prefetch.Prefetch, "__init__", refuse)
    snap = _org()
    assert Inventory.from_snapshot(_file(snap, tmp_path)) == Inventory.from_snapshot(snap)
    assert forced == []  # nothing was taken from a worker


def test_a_build_that_reads_out_of_turn_holds_a_bounded_number_of_kinds(
    monkeypatch: pytest.MonkeyPatch, forced: list[Any], tmp_path: Path
) -> None:
    """If the dry run's order were wrong (here: reversed), kinds sent early wait in memory
    until read; past AHEAD_KINDS of them the worker is stopped and the build decodes."""
    monkeypatch.setattr(prefetch, "AHEAD_KINDS", 3)
    real = prefetch.read_order
    monkeypatch.setattr(prefetch, "read_order", lambda *a: list(reversed(real(*a))))
    held: list[int] = []
    original = prefetch.Prefetch.take

    def take(self: prefetch.Prefetch, stored: StoredItems) -> Any:
        got = original(self, stored)
        held.append(len(self._arrived))
        return got

    monkeypatch.setattr(prefetch.Prefetch, "take", take)
    snap = _org()
    assert Inventory.from_snapshot(_file(snap, tmp_path)) == Inventory.from_snapshot(snap)
    assert held and max(held) <= 3


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """The demo organization (every kind the collectors read) as a snapshot file."""
    from vpcaudit.demo import demo_options, seeded_demo  # noqa: PLC0415 - moto, only here
    from vpcaudit.scan import ScanOptions, run_scan  # noqa: PLC0415

    with seeded_demo() as (_seeded, fidelity):
        snap = run_scan(demo_options(ScanOptions(), fidelity))
    path = tmp_path_factory.mktemp("demo") / "demo.json"
    snap.save(path)
    return Snapshot.load(path)


def test_the_dry_run_order_holds_for_every_kind_of_the_demo(demo_file: Snapshot) -> None:
    """The demo has Transit Gateways, VPNs, endpoints, NACLs, ENIs, prefix lists ... : the
    builders' order over empty kinds is their order over real ones."""
    from vpcaudit.snapshot_file import watching  # noqa: PLC0415

    order = [id(s) for s in prefetch.read_order(demo_file, _build_fields)]
    read: list[int] = []
    with watching(lambda kind, items: None, lambda stored, _: read.append(id(stored))):
        _build_fields(demo_file)
    assert list(dict.fromkeys(read)) == order
    assert len(order) > 50


def test_the_demo_through_the_worker_is_the_demo(
    demo_file: Snapshot, forced: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from_worker = Inventory.from_snapshot(demo_file)
    assert sum(t is not None for t in forced) > 40
    forced.clear()
    monkeypatch.delenv("VPCAUDIT_PREFETCH_MIN_BYTES")  # the default: no worker for the demo
    alone = Inventory.from_snapshot(demo_file)
    assert forced == [] and from_worker == alone and from_worker.gaps == ()


# -- the worker never outlives the build, hangs it, or prints a traceback -------------------

_ORPHAN = """
import os, signal, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.builders import SnapshotBuilder
from vpcaudit import prefetch
from vpcaudit.snapshot import Snapshot

b = SnapshotBuilder()
for n in range(3000):
    b.vpc(f"vpc-{{n:08x}}", f"10.{{n // 256 % 256}}.{{n % 256}}.0/24", name="x" * 40)
b.build().save(Path({path!r}))
snap = Snapshot.load(Path({path!r}))
order = [v for rd in snap.regions for v in rd.resources.values()
         if isinstance(v, prefetch.StoredItems)] * 40
{setup}
ahead = prefetch.Prefetch(order, lambda kind, items: None)
print(ahead._proc.pid, flush=True)
{then}
"""


def _gone(pid: int, seconds: float) -> bool:
    """Whether the process ended (or is a zombie nobody reaps) within `seconds`."""
    import time  # noqa: PLC0415

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        except (OSError, IndexError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def _run(tmp_path: Path, setup: str, then: str) -> tuple[int, Any]:
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    root = str(Path(__file__).parent.parent)
    script = _ORPHAN.format(root=root, path=str(tmp_path / "s.json"), setup=setup, then=then)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    return int(proc.stdout.split()[0]), proc


def test_a_worker_whose_build_is_killed_ends(tmp_path: Path) -> None:
    """Killed (out of memory, SIGKILL), the build runs no cleanup: the worker, blocked on a
    full pipe, must notice on its own rather than wait for ever."""
    pid, proc = _run(tmp_path, "", "time.sleep(1); os.kill(os.getpid(), signal.SIGKILL)")
    assert proc.returncode == -signal.SIGKILL
    assert _gone(pid, 10), "the worker outlived its build"


def test_stopping_the_worker_ignores_the_builds_own_sigterm_handler(tmp_path: Path) -> None:
    """A program that embeds vpcaudit may catch SIGTERM; the worker must still stop."""
    pid, proc = _run(
        tmp_path,
        "signal.signal(signal.SIGTERM, lambda *a: None)",
        "time.sleep(0.5); ahead.close(); print('closed', flush=True)",
    )
    assert proc.returncode == 0 and "closed" in proc.stdout, proc.stderr
    assert _gone(pid, 5)


def test_ctrl_c_while_the_worker_starts_stops_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ctrl-C held back during the fork is raised once the build unblocks it: the worker
    just started must not be left behind."""
    import multiprocessing  # noqa: PLC0415

    fork = type(multiprocessing.get_context("fork").Process())
    started = fork.start

    def start_then_ctrl_c(self: Any) -> None:
        started(self)
        # To this thread, where it is blocked now and delivered when unblocked: sent to the
        # process, another thread (pytest-xdist's) could take it at any later moment.
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)

    monkeypatch.setattr(fork, "start", start_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        prefetch.Prefetch([], lambda kind, items: None)
    assert not [p for p in multiprocessing.active_children() if p.name == "vpcaudit-prefetch"]


def test_a_worker_that_fails_stops_quietly(
    monkeypatch: pytest.MonkeyPatch,
    forced: list[Any],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Any other fault in the worker (memory, the file gone) ends it without a traceback of
    its own: the build decodes the rest, and meets the fault itself if it is real."""
    from vpcaudit.inventory import quarantine  # noqa: PLC0415

    build_pid = os.getpid()
    checked = quarantine.inspect

    def fails_in_the_worker(kind: str, items: list[Any]) -> bool | None:
        if os.getpid() != build_pid:
            raise MemoryError
        return checked(kind, items)

    monkeypatch.setattr(quarantine, "inspect", fails_in_the_worker)
    snap = _org()
    assert Inventory.from_snapshot(_file(snap, tmp_path)) == Inventory.from_snapshot(snap)
    assert all(t is None for t in forced)
    assert "Traceback" not in capfd.readouterr().err


def test_a_ctrl_c_taken_by_another_thread_during_the_fork_stops_the_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Blocking SIGINT holds it back from this thread only: with other threads (an embedding
    program, a test runner), it can interrupt start() itself, right after the fork."""
    import multiprocessing  # noqa: PLC0415

    fork = type(multiprocessing.get_context("fork").Process())
    started = fork.start

    def start_then_interrupted(self: Any) -> None:
        started(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(fork, "start", start_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        prefetch.Prefetch([], lambda kind, items: None)
    assert not [p for p in multiprocessing.active_children() if p.name == "vpcaudit-prefetch"]
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
