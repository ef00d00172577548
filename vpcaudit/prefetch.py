"""A snapshot file's kinds decoded and checked in a second process, ahead of the build.

Building the inventory of a 100,000-VPC snapshot is a JSON decode, the item checks and the
models, in that order, for every kind: all of it on one core. Here a forked worker decodes and
checks the kinds in the order the build will read them (found by a dry run of the build over
empty kinds) and sends each back pickled; the build unpickles it (faster than decoding the
JSON, and the repeated strings the worker shared stay shared) and makes the models meanwhile.

Nothing depends on the worker: a kind it has not sent, or sends out of turn, is decoded in the
build's process; a worker that dies leaves the rest to the build; a file fault (bad JSON, a
file that changed) comes back as the same one-line error the build would have raised. The
worker only reads the file: it holds no AWS client and runs no rule.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any

from vpcaudit.cpus import available_cpus
from vpcaudit.errors import SnapshotError
from vpcaudit.snapshot import RawItem, Snapshot
from vpcaudit.snapshot_file import Inspect, StoredItems

MIN_BYTES = 64 * 1024 * 1024
"""Below this a file is decoded in one process: starting the worker costs more than it saves."""

AHEAD_KINDS = 32
"""Kinds the worker may hold decoded and unsent: bounded, so its memory is too (a region's
route tables of 1,000 VPCs are about 1 MB pickled)."""

LOCAL_EVERY = 6
"""Of the kinds the build reads, every this many is decoded by the build itself."""

_OK, _FAULT = b"o", b"f"


class Prefetch:
    """A worker process decoding and inspecting `order`, one kind at a time, in that order."""

    def __init__(self, order: Sequence[StoredItems], inspect: Inspect) -> None:
        ctx = multiprocessing.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        self._pending = deque(id(s) for s in order)
        self._wanted = set(self._pending)
        self._arrived: dict[int, bytes] = {}
        self._conn: Connection | None = receive
        self._proc = ctx.Process(
            target=_serve, args=(send, receive, list(order), inspect), name="vpcaudit-prefetch"
        )
        self._proc.daemon = True
        # Started with SIGINT blocked, so that the worker ignores Ctrl-C from its first
        # instruction (the build reports the interrupt, and stops it); blocked, not ignored,
        # here: a Ctrl-C meanwhile is delivered to the build once unblocked.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self._proc.start()
        except BaseException:  # a fault; or a Ctrl-C another thread took, after the fork
            send.close()
            self._stop()  # the worker, if it was started, and the build's end
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            raise
        send.close()  # the worker's end: EOF here when it exits
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a Ctrl-C meanwhile: raised here
        except BaseException:
            self.close()
            raise

    def take(self, stored: StoredItems) -> tuple[bool | None, list[RawItem]] | None:
        """The verdict and items of `stored`, or None to decode it in this process."""
        key = id(stored)
        if key not in self._wanted:
            return None  # not planned, or already handed over once
        self._wanted.discard(key)
        while key not in self._arrived:
            if self._conn is None or not self._pending:
                return None
            if len(self._arrived) >= AHEAD_KINDS:
                # The build reads in another order than the dry run said: held kinds would
                # grow without bound. Stop the worker; the build decodes the rest itself.
                self.close()
                return None
            try:
                message = self._conn.recv_bytes()
            except (EOFError, OSError):  # the worker stopped: the build decodes the rest
                self._stop()  # (keeping what arrived)
                return None
            self._arrived[self._pending.popleft()] = message
        message = self._arrived.pop(key)
        if message[:1] == _FAULT:
            raise SnapshotError(message[1:].decode("utf-8", "replace"))
        verdict, items = pickle.loads(message[1:])  # noqa: S301 - made by our own worker
        return verdict, items

    def close(self) -> None:
        """Stop the worker (it may still be decoding kinds the build did not read), and let
        go of what it sent that was not read."""
        self._arrived.clear()
        self._stop()

    def _stop(self) -> None:
        self._pending.clear()
        if self._conn is not None:
            self._conn.close()  # the worker's next send fails: it stops by itself
            self._conn = None
        if self._proc.pid is None:
            return  # never started
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(timeout=5)
        if self._proc.is_alive():  # pragma: no cover - SIGTERM is reset to its default
            self._proc.kill()
        self._proc.join()


def _serve(
    send: Connection, receive: Connection, order: list[StoredItems], inspect: Inspect
) -> None:
    """The worker: decode, inspect and send each kind, until done or the build stops.

    A thread sends, so decoding goes on while the build is busy and the pipe is full (a kind
    is megabytes; the pipe holds 64 KiB); at most AHEAD_KINDS wait unsent."""
    # The build's end of the pipe, inherited by the fork: closed, so that if the build dies
    # (killed, out of memory) the next send fails and this worker ends instead of waiting.
    receive.close()
    # Ctrl-C reaches the whole process group: the build reports it, and stops this worker;
    # SIGTERM (how the build stops it) ends it, whatever handler the build's process had.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    outbox: queue.Queue[bytes | None] = queue.Queue()
    room = threading.BoundedSemaphore(AHEAD_KINDS)
    stopped = threading.Event()

    def sender() -> None:
        try:
            while (message := outbox.get()) is not None:
                send.send_bytes(message)
                room.release()
        except OSError:  # the build is done with us (BrokenPipeError, a closed pipe)
            stopped.set()
            room.release()

    thread = threading.Thread(target=sender, name="vpcaudit-prefetch-send", daemon=True)
    thread.start()
    for stored in order:
        try:
            items = stored.decode()
            verdict = inspect(stored.kind, items)
            message = _OK + pickle.dumps((verdict, items), protocol=pickle.HIGHEST_PROTOCOL)
        except SnapshotError as exc:
            message = _FAULT + str(exc).encode()
        except Exception:  # noqa: BLE001 - the file vanished, memory ran out, ...: stop quietly
            break  # (the build decodes the rest itself, and meets the same fault, if any)
        room.acquire()
        if stopped.is_set():
            break
        outbox.put(message)
    outbox.put(None)
    thread.join()
    send.close()


def read_order(snap: Snapshot, build: Callable[[Snapshot], Any]) -> list[StoredItems]:
    """The file kinds `build` reads, in the order it first reads them: a dry run of the build
    over the same snapshot with every stored kind empty."""
    order: dict[int, StoredItems] = {}

    class Probe(Sequence[RawItem]):
        def __init__(self, stored: StoredItems) -> None:
            self.stored = stored

        def _read(self) -> list[RawItem]:
            order.setdefault(id(self.stored), self.stored)
            return []

        def __iter__(self) -> Iterator[RawItem]:
            return iter(self._read())

        def __len__(self) -> int:
            return len(self._read())

        def __getitem__(self, index: Any) -> Any:
            return self._read()[index]

    empty = replace(
        snap,
        regions=tuple(
            replace(
                rd,
                resources={
                    kind: Probe(v) if isinstance(v, StoredItems) else v
                    for kind, v in rd.resources.items()
                },
            )
            for rd in snap.regions
        ),
    )
    with contextlib.suppress(Exception):  # an order is an optimisation: a partial one will do
        build(empty)
    return list(order.values())


def worth_it(snap: Snapshot, min_bytes: int | None = None) -> bool:
    """Whether to decode in a second process: a large file, a second CPU, and fork."""
    if min_bytes is None:
        given = os.environ.get("VPCAUDIT_PREFETCH_MIN_BYTES", "").strip()
        min_bytes = int(given) if given.isascii() and given.isdigit() else MIN_BYTES
    stored = sum(
        v.size for rd in snap.regions for v in rd.resources.values() if isinstance(v, StoredItems)
    )
    return (
        stored >= min_bytes
        and threading.active_count() == 1  # never fork a process with threads running
        and worth_it_here()
    )


def worth_it_here() -> bool:
    """Whether this machine can decode in a second process: fork and a second CPU."""
    # Linux only: macOS's fork is unsafe once system libraries are loaded.
    return sys.platform == "linux" and available_cpus() > 1


@contextlib.contextmanager
def prefetching(
    snap: Snapshot, build: Callable[[Snapshot], Any], inspect: Inspect
) -> Iterator[Prefetch | None]:
    """A Prefetch for the kinds `build` reads from `snap`, when worth it; else None."""
    if not worth_it(snap):
        yield None
        return
    order = read_order(snap, build)
    if not order:
        yield None
        return
    # The worker's share: decoding, checking and pickling a kind costs it more than
    # unpickling and building costs the build, so the build decodes every LOCAL_EVERY-th kind
    # itself and the two finish together (the bench: worker 11.5 s CPU and build 10.1 s with
    # none; 9.7 s and 11.0 s with every fifth).
    every = LOCAL_EVERY
    try:
        ahead = Prefetch([s for i, s in enumerate(order) if i % every != every - 1], inspect)
    except OSError:  # no process to be had (a process limit): decode in this one
        yield None
        return
    try:
        yield ahead
    finally:
        ahead.close()
