"""Regression tests for bugs a review found: each test names the bug it pins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.builders import ACCOUNT, OTHER_ACCOUNT, REGION, SnapshotBuilder, route
from vpcaudit import cli, commands
from vpcaudit.aws.targets import MANAGEMENT_SKIPPED, OrgAccounts, unscannable
from vpcaudit.baseline import diff_reports
from vpcaudit.errors import SnapshotError
from vpcaudit.snapshot import Snapshot, merge_snapshots


def _main(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _shard(i: int, n: int, account: str) -> Snapshot:
    b = SnapshotBuilder()
    b.vpc(f"vpc-{account}", "10.0.0.0/16", account=account)
    snap = b.build()
    return Snapshot.from_dict({**snap.to_dict(), "extra": {"shard": f"{i}/{n}"}})


def test_merging_an_incomplete_set_of_shards_is_refused() -> None:
    """A missing shard used to vanish from the merged scan, which said 'complete'."""
    with pytest.raises(SnapshotError, match=r"missing 2/3"):
        merge_snapshots([_shard(0, 3, ACCOUNT), _shard(1, 3, OTHER_ACCOUNT)])
    with pytest.raises(SnapshotError, match=r"given twice 0/2; missing|missing 1/2"):
        merge_snapshots([_shard(0, 2, ACCOUNT), _shard(0, 2, ACCOUNT)])
    with pytest.raises(SnapshotError, match="different splits"):
        merge_snapshots([_shard(0, 2, ACCOUNT), _shard(1, 3, OTHER_ACCOUNT)])
    merged = merge_snapshots([_shard(1, 2, OTHER_ACCOUNT), _shard(0, 2, ACCOUNT)])
    assert merged.extra["shards"] == ["0/2", "1/2"]
    assert sorted(merged.accounts) == sorted([ACCOUNT, OTHER_ACCOUNT])


def _report(findings: list[dict[str, str]], **extra: object) -> dict[str, object]:
    return {
        "tool": {"name": "vpcaudit"},
        "scan": {
            "accounts": [ACCOUNT],
            "regions": [REGION],
            "gaps": [],
            "read": [{"account_id": ACCOUNT, "region": REGION}],
        },
        "findings": findings,
        **extra,
    }


OLD = {
    "fingerprint": "f1",
    "rule_id": "vpc-flow-logs-missing",
    "severity": "medium",
    "account_id": ACCOUNT,
    "region": REGION,
    "resource_id": "vpc-1",
}


def test_a_finding_of_a_rule_that_did_not_run_is_not_resolved() -> None:
    """Disabling a rule used to make its old findings 'resolved'."""
    new = _report([], summary={"rules_run": ["peering-route-one-way"]})
    d = diff_reports(_report([OLD]), new, "old.json")
    assert d.resolved == () and d.unknown == (OLD,)
    ran = _report([], summary={"rules_run": ["vpc-flow-logs-missing"]})
    assert diff_reports(_report([OLD]), ran, "old.json").resolved == (OLD,)


def test_a_finding_the_rule_could_not_decide_now_is_not_resolved() -> None:
    """A check that became unverifiable (the peer side unread) used to count as resolved."""
    new = _report([], unverified=[{"rule_id": "vpc-flow-logs-missing", "resource_id": "vpc-1"}])
    d = diff_reports(_report([OLD]), new, "old.json")
    assert d.resolved == () and d.unknown == (OLD,)


def test_a_report_whose_findings_lack_fields_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vpcaudit diff` used to crash with a KeyError traceback."""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"tool": {"name": "vpcaudit"}, "findings": [{"fingerprint": "a"}]}))
    code, out, err = _main(capsys, "diff", bad, bad)
    assert (code, out) == (2, "")
    assert err.startswith(f"vpcaudit: error: {bad}: a finding lacks one of fingerprint")
    assert len(err.splitlines()) == 1


def test_an_integer_parameter_written_as_5_0_is_read_as_5(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sample: 5.0` passed `policy check` and then crashed the rule with a traceback."""
    b = SnapshotBuilder()
    b.vpc("vpc-a", "10.0.0.0/16").vpc("vpc-b", "10.0.0.0/16", account=OTHER_ACCOUNT)
    snap = tmp_path / "s.json"
    b.build().save(snap)
    policy = tmp_path / "p.yaml"
    policy.write_text("rules:\n  vpc-cidr-overlap:\n    params:\n      sample: 5.0\n")
    code, out, err = _main(
        capsys, "evaluate", snap, "--policy", policy, "--format", "json", "--fail-on", "none"
    )
    assert code == 0, err
    overlaps = [f for f in json.loads(out)["findings"] if f["rule_id"] == "vpc-cidr-overlap"]
    assert {f["resource_id"] for f in overlaps} == {"vpc-a", "vpc-b"}


def test_an_internal_error_is_one_line_and_exit_4_not_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unexpected exception used to leave a traceback and exit 1, which reads 'findings'."""

    def broken(args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setitem(commands.COMMANDS, "rules", broken)
    code, out, err = _main(capsys, "rules")
    assert (code, out) == (4, "")
    assert err.startswith("vpcaudit: internal error: RuntimeError: boom")
    assert "Traceback" not in err


def test_accounts_named_but_not_scannable_are_said() -> None:
    """--org --accounts used to drop non-members, suspended and management accounts silently."""
    org = OrgAccounts(
        "000000000001",
        (
            ("000000000001", "mgmt", "ACTIVE"),
            ("000000000002", "old", "SUSPENDED"),
            ("000000000003", "app", "ACTIVE"),
        ),
    )
    asked = ("000000000001", "000000000002", "000000000003", "999999999999")
    assert unscannable(org, asked, include_management=False) == [
        ("000000000001", MANAGEMENT_SKIPPED),
        ("000000000002", "account is SUSPENDED, not ACTIVE"),
        ("999999999999", "not a member of the Organization"),
    ]
    assert unscannable(org, asked, include_management=True)[0][0] == "000000000002"


def test_an_incomplete_scan_is_not_a_successful_sarif_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitHub would take alerts missing from unread regions as fixed."""
    b = SnapshotBuilder()
    b.vpc("vpc-a", "10.0.0.0/16")
    b.route_table("rtb-a", "vpc-a", main=True, routes=[route("0.0.0.0/0", "igw-1")])
    b.gap("DescribeFlowLogs")
    snap = tmp_path / "s.json"
    b.build().save(snap)
    code, out, err = _main(capsys, "evaluate", snap, "--format", "sarif", "--allow-partial")
    assert code in (0, 1), err
    run = json.loads(out)["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["properties"]["complete"] is False


def test_an_older_snapshot_says_which_kinds_it_lacks(capsys: pytest.CaptureFixture[str]) -> None:
    """A snapshot taken before a collector existed used to say nothing about what it lacks."""
    fixture = Path(__file__).parent / "fixtures" / "cross_account_peering.json"
    code, out, err = _main(capsys, "evaluate", fixture, "--format", "json", "--fail-on", "none")
    assert code == 0, err
    missing = json.loads(out)["scan"]["not_collected"]
    assert missing, "the fixture predates the NAT gateway, IGW and security group collectors"
    assert all(
        {"nat_gateways", "internet_gateways", "security_groups"} <= set(m["kinds"]) for m in missing
    )
    code, out, _ = _main(capsys, "evaluate", fixture, "--fail-on", "none")
    assert "not in this snapshot (taken by an older vpcaudit?)" in out


def test_sarif_rule_without_results_takes_the_policy_severity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A policy lowering a rule's severity used to be ignored in SARIF when it found nothing."""
    b = SnapshotBuilder()
    b.vpc("vpc-a", "10.0.0.0/16").flow_log("fl-a", "vpc-a")
    snap = tmp_path / "s.json"
    b.build().save(snap)
    policy = tmp_path / "p.yaml"
    policy.write_text("rules:\n  peering-cidr-overlap:\n    severity: low\n")
    code, out, err = _main(capsys, "evaluate", snap, "--policy", policy, "--format", "sarif")
    assert code in (0, 1), err
    rules = {r["id"]: r for r in json.loads(out)["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["peering-cidr-overlap"]["properties"]["security-severity"] == "2.0"
    assert rules["peering-route-one-way"]["properties"]["security-severity"] == "5.5"
