"""Snapshot schema versions: 2 is written; 1 (before the network model's kinds) still loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vpcaudit.aws.collect import SPECS, not_collected
from vpcaudit.errors import SnapshotError
from vpcaudit.snapshot import SCHEMA_VERSION, Snapshot

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures").glob("*.json"))
# The kinds version 2 added, and the kinds read per parent among them.
NEW_KINDS = {
    "network_acls",
    "network_interfaces",
    "transit_gateways",
    "tgw_vpc_attachments",
    "tgw_peering_attachments",
    "tgw_connects",
    "tgw_route_tables",
    "tgw_routes",
    "tgw_associations",
    "tgw_propagations",
    "egress_only_igws",
    "vpn_connections",
    "addresses",
    "prefix_list_entries",
}


def _doc(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def test_version_2_is_written() -> None:
    assert SCHEMA_VERSION == 2
    snap = Snapshot.load(FIXTURES[0])
    assert snap.to_dict()["schema_version"] == 2
    assert Snapshot.parse(snap.dumps(), "re-saved") == snap
    assert {s.kind for s in SPECS} >= NEW_KINDS


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_a_version_1_snapshot_loads_and_says_what_it_lacks(path: Path) -> None:
    doc = _doc(path)
    assert doc["schema_version"] == 1
    snap = Snapshot.load(path)
    assert len(snap.regions) == len(doc["regions"])
    assert all(not NEW_KINDS & set(r.resources) for r in snap.regions)
    missing = not_collected(snap)
    assert {(a, r) for a, r, _ in missing} == {(r.account_id, r.region) for r in snap.regions}
    for _, _, kinds in missing:
        assert set(kinds) >= NEW_KINDS
    # Saved again it is a version 2 file, and still says what it lacks.
    again = Snapshot.parse(snap.dumps(), "re-saved")
    assert not_collected(again) == missing


@pytest.mark.parametrize("version", [0, 3, "2", "1", None, True, 2.0])
def test_other_versions_are_refused(tmp_path: Path, version: object) -> None:
    doc = _doc(FIXTURES[0])
    doc["schema_version"] = version
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SnapshotError, match=r"is not supported \(this vpcaudit reads versions"):
        Snapshot.load(path)
