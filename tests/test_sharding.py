"""Sharded scans merged give the same findings as one unsharded scan, cross-account included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.servers import MotoServer, make_bucket, run_vpcaudit
from vpcaudit.demo.seed import Seeded
from vpcaudit.scan import shard_of

REGIONS = ("--region", "us-east-1", "--region", "eu-west-1")
BUCKET = "shard-snapshots"


@pytest.fixture(scope="module")
def seeded(seeded_org: Seeded, moto_server: MotoServer) -> Seeded:
    """The demo organization (tests/conftest.py), with this module's bucket."""
    make_bucket(moto_server, BUCKET)
    return seeded_org


def _findings(path: Path) -> set[tuple[str, str, str, str]]:
    doc = json.loads(path.read_text())
    return {
        (f["rule_id"], f["resource_id"], f["account_id"], f["severity"]) for f in doc["findings"]
    }


def test_shards_partition_the_accounts_stably() -> None:
    accounts = [f"{n:012d}" for n in range(1000)]
    for shards in (1, 2, 3, 7):
        groups = [[a for a in accounts if shard_of(a, shards) == i] for i in range(shards)]
        assert sorted(a for g in groups for a in g) == accounts  # every account exactly once
        assert all(groups), "a shard of 1,000 accounts should not be empty"
    assert shard_of("123456789012", 4) == shard_of("123456789012", 4)


def test_merged_shards_equal_one_unsharded_scan(
    seeded: Seeded, moto_server: MotoServer, tmp_path: Path
) -> None:
    whole = run_vpcaudit(
        "scan",
        "--org",
        *REGIONS,
        "--format",
        "json",
        "--output",
        "whole.json",
        cwd=tmp_path,
        endpoint=moto_server.endpoint,
    )
    assert whole.returncode == 1, whole.stderr
    shards = 3
    snapshots = []
    for i in range(shards):
        # One shard goes to S3, as a Kubernetes Indexed Job would; the others to files.
        dest = f"s3://{BUCKET}/run/shard-{i}.json" if i == 0 else f"shard-{i}.json"
        out = run_vpcaudit(
            "scan",
            "--org",
            *REGIONS,
            "--shard",
            f"{i}/{shards}",
            "--run-id",
            "nightly-2024-06-01",
            "--save-snapshot",
            dest,
            "--format",
            "json",
            "--output",
            f"shard-{i}.report.json",
            cwd=tmp_path,
            endpoint=moto_server.endpoint,
        )
        assert out.returncode in (0, 1), out.stderr
        snapshots.append(dest)
    merged = run_vpcaudit(
        "merge", *snapshots, "--output", "merged.json", cwd=tmp_path, endpoint=moto_server.endpoint
    )
    assert merged.returncode == 0, merged.stderr
    doc = json.loads((tmp_path / "merged.json").read_text())
    assert sorted(doc["accounts"]) == sorted(seeded.accounts.values())
    # Evaluated offline, with no credentials and no endpoint at all.
    ev = run_vpcaudit(
        "evaluate",
        "merged.json",
        "--format",
        "json",
        "--output",
        "m.json",
        cwd=tmp_path,
        credentials=False,
    )
    assert ev.returncode == 1, ev.stderr
    assert _findings(tmp_path / "m.json") == _findings(tmp_path / "whole.json")
    # The cross-account one-way peering is found only once both sides are merged.
    one_way = ("peering-route-one-way", seeded.peerings["hub-spoke-b"])
    assert one_way in {(r, i) for r, i, _, _ in _findings(tmp_path / "m.json")}
    owners = {shard_of(seeded.accounts[n], shards) for n in ("network", "app-prod")}
    if len(owners) == 2:  # the two sides landed in different shards: neither saw both
        for i in range(shards):
            assert one_way not in {
                (r, x) for r, x, _, _ in _findings(tmp_path / f"shard-{i}.report.json")
            }


def test_merging_shards_of_different_runs_that_disagree_is_refused(tmp_path: Path) -> None:
    base = {
        "kind": "vpcaudit-snapshot",
        "schema_version": 1,
        "tool_version": "x",
        "started_at": "2026-01-01T00:00:00Z",
        "finished_at": "2026-01-01T00:01:00Z",
        "accounts": {"111111111111": ""},
        "org_account_ids": None,
        "skipped": [],
        "gaps": [],
        "extra": {},
    }
    a = {
        **base,
        "regions": [
            {"account_id": "111111111111", "region": "us-east-1", "resources": {"vpcs": []}}
        ],
    }
    b = {
        **base,
        "regions": [
            {
                "account_id": "111111111111",
                "region": "us-east-1",
                "resources": {"vpcs": [{"VpcId": "vpc-1"}]},
            }
        ],
    }
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    out = run_vpcaudit(
        "merge", "a.json", "b.json", "--output", "m.json", cwd=tmp_path, credentials=False
    )
    assert out.returncode == 2
    assert out.stderr.startswith("vpcaudit: error: account 111111111111 region us-east-1 is in ")
    assert not (tmp_path / "m.json").exists()


def test_merge_keeps_why_each_shard_read_little() -> None:
    """Issue 15: a region with no VPC is read in a few calls, and the snapshot says which kinds
    were skipped and why; merging the shards keeps every shard's note."""
    import dataclasses  # noqa: PLC0415

    from tests.builders import SnapshotBuilder  # noqa: PLC0415
    from vpcaudit.snapshot import merge_snapshots  # noqa: PLC0415

    notes = [
        {"account_id": "111111111111", "region": "eu-west-1", "kinds": ["subnets"], "reason": "x"},
        {"account_id": "222222222222", "region": "eu-west-1", "kinds": ["subnets"], "reason": "x"},
    ]
    a = SnapshotBuilder().scan("111111111111", "eu-west-1").build()
    b = SnapshotBuilder().scan("222222222222", "eu-west-1").build()
    a = dataclasses.replace(a, extra={**a.extra, "skipped_kinds": [notes[0]]})
    b = dataclasses.replace(b, extra={**b.extra, "skipped_kinds": [notes[1], notes[0]]})
    assert merge_snapshots([a, b]).extra["skipped_kinds"] == notes
