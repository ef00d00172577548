"""Untrusted snapshots (issue 13, item 8): a malformed file is one line and exit 2, never a
traceback or exit 4; a snapshot of nothing is incomplete (exit 3), not a clean scan."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.report_golden import SNAPSHOT
from vpcaudit import cli
from vpcaudit.errors import SnapshotError
from vpcaudit.inventory import Inventory
from vpcaudit.snapshot import NOTHING_READ, Snapshot
from vpcaudit.snapshot_file import StoredItems

HOSTILE = Path(__file__).parent / "fixtures" / "hostile" / "snapshots"
REFUSED = {
    "truncated.json": "not valid JSON",
    "depth-bomb.json": "nests deeper than 64 levels",
    "huge-integer.json": "an integer too long to read",
    "wrong-top-level.json": "not a vpcaudit snapshot (a JSON list",
    "regions-null.json": "regions must be a list",
    "regions-not-objects.json": "regions[0] must be an object",
    "kind-not-a-list.json": "must be a list of objects, not dict",
    "accounts-wrong-type.json": "accounts must be an object",
    "wrong-schema-version.json": "schema_version 99 is not supported",
    "not-utf8.json": "not UTF-8",
    "nan.json": "NaN is not a JSON number",
}


def _evaluate(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = cli.main(["evaluate", str(path), "--format", "json", "--fail-on", "none", *extra])
    captured = capsys.readouterr()
    return code, captured.err


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_malformed_snapshot_is_one_line_and_exit_2(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _evaluate(HOSTILE / name, capsys)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("vpcaudit: error: ")
    assert REFUSED[name] in err
    assert "Traceback" not in err and len(err) < 400  # no raw content echoed


def test_every_hostile_fixture_is_covered() -> None:
    assert {p.name for p in HOSTILE.glob("*.json")} == {*REFUSED, "empty-regions.json"}


def test_an_empty_snapshot_is_incomplete_not_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _evaluate(HOSTILE / "empty-regions.json", capsys)
    assert code == 3
    snap = Snapshot.load(HOSTILE / "empty-regions.json")
    assert [g.error_code for g in snap.gaps] == [NOTHING_READ]
    # Saved again, the gap is not stored: it is what loading an empty snapshot says.
    assert json.loads(snap.dumps())["gaps"] == []


def test_the_size_cap_is_configurable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VPCAUDIT_SNAPSHOT_MAX_BYTES", "100")
    code, err = _evaluate(SNAPSHOT, capsys)
    assert code == 2 and "over the 100-byte limit" in err and err.count("\n") == 1
    monkeypatch.setenv("VPCAUDIT_SNAPSHOT_MAX_BYTES", "lots")
    code, err = _evaluate(SNAPSHOT, capsys)
    assert code == 2 and "is not a number of bytes" in err


# -- the line layout: items decoded kind by kind, with the same checks --------------------------


def test_the_line_layout_loads_lazily_and_equals_the_whole_document(tmp_path: Path) -> None:
    snap = Snapshot.load(SNAPSHOT)
    path = tmp_path / "s.json"
    path.write_text(snap.dumps(), encoding="utf-8")
    again = Snapshot.load(path)
    stored = [v for r in again.regions for v in r.resources.values() if isinstance(v, StoredItems)]
    assert stored  # big kinds are left in the file until read
    assert again == snap
    assert json.loads(path.read_text("utf-8")) == snap.to_dict()  # still one JSON document
    assert Inventory.from_snapshot(again) == Inventory.from_snapshot(snap)


@pytest.mark.parametrize(
    ("inject", "message"),
    [
        ('"Big":1' + "0" * 5000 + ",", "an integer too long to read"),
        ('"Deep":' + "[" * 200 + "]" * 200 + ",", "nests deeper than 64 levels"),
    ],
)
def test_hostile_items_in_the_line_layout_are_exit_2(
    tmp_path: Path, inject: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = Snapshot.load(SNAPSHOT).dumps()
    assert '\n"route_tables":[{' in text
    path = tmp_path / "s.json"
    path.write_text(text.replace('\n"route_tables":[{', '\n"route_tables":[{' + inject, 1))
    code, err = _evaluate(path, capsys)
    assert code == 2 and message in err and err.count("\n") == 1


def test_a_file_changed_after_indexing_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(Snapshot.load(SNAPSHOT).dumps(), encoding="utf-8")
    snap = Snapshot.load(path)
    path.write_text(path.read_text("utf-8") + " ", encoding="utf-8")
    with pytest.raises(SnapshotError, match="changed while it was being read"):
        Inventory.from_snapshot(snap)


def test_lines_longer_than_a_read_chunk_are_indexed_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The index finds each line's end in the mapped file and copies only its first bytes:
    a kind's line of several MiB still decodes to every item."""
    doc = Snapshot.load(SNAPSHOT).to_dict()
    resources = doc["regions"][0]["resources"]
    first = resources["vpcs"][0]
    resources["vpcs"] = [dict(first, VpcId=f"vpc-{i:017x}") for i in range(12_000)]
    whole = tmp_path / "whole.json"
    whole.write_text(json.dumps(doc), encoding="utf-8")
    snap = Snapshot.load(whole)
    path = tmp_path / "lines.json"
    path.write_text(snap.dumps(), encoding="utf-8")
    longest = max(len(line) for line in path.read_bytes().split(b"\n"))
    assert longest > 4 * (1 << 20)  # several of the reader's 1 MiB chunks
    again = Snapshot.load(path)
    vpcs = again.regions[0].resources["vpcs"]
    assert isinstance(vpcs, StoredItems)
    assert again == snap and len(list(vpcs)) == 12_000
    path.write_bytes(path.read_bytes() + b"x")  # anything after the document
    code, err = _evaluate(path, capsys)
    assert code == 2 and err.count("\n") == 1


def test_a_snapshot_from_a_pipe_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`vpcaudit evaluate <(aws s3 cp ... -)`: a pipe cannot be read twice, so it is not
    indexed (that read it, then failed to seek back: an internal error) but read whole."""
    snap = Snapshot.load(SNAPSHOT)
    fifo = tmp_path / "snapshot.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=(snap.dumps(),), daemon=True)
    writer.start()
    opens: list[str] = []
    real_open = Path.open

    def counted(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == fifo and "w" not in str(args[:1] or kwargs.get("mode", "r")):
            opens.append(str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counted)

    def opened_twice(signum: int, frame: object) -> None:
        raise TimeoutError("the pipe was opened a second time, with no writer left")

    before = signal.signal(signal.SIGALRM, opened_twice)
    signal.alarm(30)  # interrupts a blocked open(): the test fails instead of hanging
    try:
        again = Snapshot.load(fifo)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
    writer.join(timeout=30)
    assert len(opens) == 1, "opened for reading more than once"
    assert again == snap
    assert Inventory.from_snapshot(again) == Inventory.from_snapshot(snap)
