"""Baselines and `vpcaudit diff`: new, unchanged, resolved and not-rechecked findings."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    SnapshotBuilder,
    hours_from_now,
    with_items,
    write_fixture,
)
from tests.report_golden import only_contract_rules_policy
from vpcaudit import cli
from vpcaudit.model import Gap
from vpcaudit.snapshot import Snapshot

FLOW = "vpc-flow-logs-missing"
PENDING = "peering-pending-expiring"


def org(
    *,
    fixed: bool = False,
    new_vpc: bool = False,
    flowlog_gap: bool = False,
    only_us_east_1: bool = False,
    rename: bool = False,
) -> SnapshotBuilder:
    """Two accounts, two regions; each keyword turns one thing of the 'after' state on.

    Findings of the plain snapshot:
      - vpc-fixme (111 us-east-1): no flow log, medium     -> fixed=True gives it a flow log
      - vpc-stays (222 eu-west-1): no flow log, medium     -> unchanged in every variant
      - pcx-pend (111 us-east-1 -> 222 eu-west-1): pending, expires in 20 h, high
    new_vpc adds vpc-newbie (111 us-east-1) with no flow log (a new medium finding).
    """
    b = SnapshotBuilder(org_account_ids=[ACCOUNT, OTHER_ACCOUNT])
    b.account(ACCOUNT, "network").account(OTHER_ACCOUNT, "app")
    b.vpc("vpc-fixme", "10.0.0.0/16", name="fix-me-renamed" if rename else "fix-me")
    b.subnet("subnet-fixme", "vpc-fixme", "10.0.1.0/24")
    b.route_table("rtb-fixme", "vpc-fixme", main=True, subnets=["subnet-fixme"])
    b.vpc("vpc-ok", "10.5.0.0/16", name="ok")
    b.flow_log("fl-ok", "vpc-ok")
    if fixed:
        b.flow_log("fl-fixme", "vpc-fixme")
    if new_vpc:
        b.vpc("vpc-newbie", "10.6.0.0/16", name="newbie")
    if flowlog_gap:
        b.gap("DescribeFlowLogs")
    if not only_us_east_1:
        where = {"account": OTHER_ACCOUNT, "region": OTHER_REGION}
        b.vpc("vpc-stays", "10.1.0.0/16", name="stays", **where)
        b.vpc("vpc-peer", "10.2.0.0/16", name="peer", **where)
        b.flow_log("fl-peer", "vpc-peer", **where)
        b.peering(
            "pcx-pend",
            "vpc-fixme",
            "vpc-peer",
            status="pending-acceptance",
            expires=hours_from_now(20),
        )
    return b


def save(snap: Snapshot, path: Path) -> Path:
    write_fixture(snap, path)
    return path


_ONLY_CONTRACT_RULES: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def only_contract_rules(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Evaluate with the four contract rules only, so new rules do not change these counts."""
    path = tmp_path_factory.mktemp("policy") / "only4.yaml"
    _ONLY_CONTRACT_RULES[:] = [only_contract_rules_policy(path)]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """cli.main in-process: (exit code, stdout, stderr); evaluate gets the contract rules only."""
    capsys.readouterr()
    args = [str(a) for a in argv]
    if args[0] == "evaluate":
        args[2:2] = ["--policy", str(_ONLY_CONTRACT_RULES[0])]
    code = cli.main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def report(
    snap: Snapshot, tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str], *extra: Any
) -> dict[str, Any]:
    """Evaluate a snapshot to a JSON report file; return the parsed report."""
    src = save(snap, tmp_path / f"{name}.snapshot.json")
    out = tmp_path / f"{name}.json"
    code, _, err = run(
        ["evaluate", src, "--format", "json", "--output", out, "--allow-partial", *extra], capsys
    )
    assert code in (0, 1), err
    return json.loads(out.read_text("utf-8"))


def by_rule_resource(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(f["rule_id"], f["resource_id"]): f for f in doc["findings"]}


@pytest.fixture
def old_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    report(org().build(), tmp_path, "old", capsys)
    return tmp_path / "old.json"


@pytest.fixture
def new_snapshot(tmp_path: Path) -> Path:
    return save(org(fixed=True, new_vpc=True).build(), tmp_path / "new.snapshot.json")


# -- --baseline ---------------------------------------------------------------------------------


def test_baseline_marks_new_and_unchanged_and_lists_resolved(
    old_report: Path, new_snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = json.loads(old_report.read_text("utf-8"))
    assert set(by_rule_resource(old)) == {
        (FLOW, "vpc-fixme"),
        (FLOW, "vpc-stays"),
        (PENDING, "pcx-pend"),
    }
    out = tmp_path / "new.json"
    code, _, err = run(
        ["evaluate", new_snapshot, "--baseline", old_report, "--format", "json", "--output", out],
        capsys,
    )
    assert code == 1, err
    new = json.loads(out.read_text("utf-8"))
    status = {k: f["baseline"] for k, f in by_rule_resource(new).items()}
    assert status == {
        (FLOW, "vpc-newbie"): "new",
        (FLOW, "vpc-stays"): "unchanged",
        (PENDING, "pcx-pend"): "unchanged",
    }
    b = new["baseline"]
    assert b["source"] == str(old_report)
    assert (b["new"], b["unchanged"]) == (1, 2)
    assert [(f["rule_id"], f["resource_id"]) for f in b["resolved"]] == [(FLOW, "vpc-fixme")]
    fixed = by_rule_resource(old)[(FLOW, "vpc-fixme")]
    assert b["resolved"][0]["fingerprint"] == fixed["fingerprint"]
    assert b["not_rechecked"] == []
    # Unchanged findings keep the fingerprint they had in the baseline.
    assert (
        by_rule_resource(new)[(FLOW, "vpc-stays")]["fingerprint"]
        == by_rule_resource(old)[(FLOW, "vpc-stays")]["fingerprint"]
    )


def test_report_without_baseline_has_no_baseline_marks(old_report: Path) -> None:
    old = json.loads(old_report.read_text("utf-8"))
    assert old["baseline"] is None
    assert all("baseline" not in f for f in old["findings"])


def test_markdown_and_csv_carry_the_baseline(
    old_report: Path, new_snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, md, err = run(
        ["evaluate", new_snapshot, "--baseline", old_report, "--format", "markdown"], capsys
    )
    assert code == 1, err
    assert "**1 new**, 2 unchanged, 1 resolved, 0 not rechecked" in md
    assert "## Since the baseline" in md
    resolved = md.split("## Since the baseline", 1)[1]
    assert f"- `{FLOW}` `vpc-fixme` ({ACCOUNT} {REGION})" in resolved
    assert "| medium **new** |" in md
    assert "| high **unchanged** |" in md

    code, text, err = run(
        ["evaluate", new_snapshot, "--baseline", old_report, "--format", "csv"], capsys
    )
    assert code == 1, err
    rows = {r["resource_id"]: r["baseline"] for r in csv.DictReader(io.StringIO(text))}
    assert rows == {"vpc-newbie": "new", "vpc-stays": "unchanged", "pcx-pend": "unchanged"}


# -- --fail-on-new ------------------------------------------------------------------------------


def test_fail_on_new_fails_only_because_of_the_new_finding(
    old_report: Path, new_snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["evaluate", new_snapshot, "--baseline", old_report, "--format", "json"]
    # The new finding is medium: it trips --fail-on medium.
    assert run([*base, "--fail-on", "medium", "--fail-on-new"], capsys)[0] == 1
    # Nothing new is high, though an unchanged pending peering is: only new findings count.
    assert run([*base, "--fail-on", "high", "--fail-on-new"], capsys)[0] == 0
    assert run([*base, "--fail-on", "high"], capsys)[0] == 1
    # Against a baseline that already has every finding, nothing is new: exit 0.
    same = tmp_path / "same.json"
    assert run(["evaluate", new_snapshot, "--format", "json", "--output", same], capsys)[0] == 1
    code, out, _ = run(
        ["evaluate", new_snapshot, "--baseline", same, "--fail-on", "low", "--fail-on-new"],
        capsys,
    )
    assert code == 0
    assert out  # the report is still printed


def test_fail_on_new_ignores_new_findings_that_are_waived(
    old_report: Path, new_snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "waive.yaml"
    policy.write_text(
        "version: 1\nwaivers:\n  - rule: vpc-flow-logs-missing\n    resource: vpc-newbie\n"
        "    reason: being built this week\n",
        encoding="utf-8",
    )
    argv = ["evaluate", new_snapshot, "--baseline", old_report, "--fail-on-new"]
    assert run([*argv, "--policy", policy, "--format", "json"], capsys)[0] == 0


def test_fail_on_new_without_baseline_is_a_usage_error(
    new_snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["evaluate", new_snapshot, "--fail-on-new"], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("vpcaudit: error:")
    assert "--baseline" in err


@pytest.mark.parametrize(
    "content",
    ['{"findings": []}', "[1, 2]", "not json at all", '{"tool": {"name": "vpcaudit"}}'],
)
def test_baseline_that_is_not_a_report_is_a_usage_error(
    content: str, new_snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    code, out, err = run(["evaluate", new_snapshot, "--baseline", bad], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("vpcaudit: error:") and "bad.json" in err
    assert "Traceback" not in err


# -- not rechecked ------------------------------------------------------------------------------


def test_finding_in_a_region_with_a_gap_is_not_rechecked_not_resolved(
    old_report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The flow logs of 111 us-east-1 could not be read: vpc-fixme's finding is not produced,
    # but nobody knows whether it was fixed.
    new = report(org(flowlog_gap=True).build(), tmp_path, "gappy", capsys, "--baseline", old_report)
    assert new["scan"]["complete"] is False
    assert [f["resource_id"] for f in new["baseline"]["not_rechecked"]] == ["vpc-fixme"]
    assert new["baseline"]["resolved"] == []


def test_findings_of_an_account_that_could_not_be_entered_are_not_rechecked(
    old_report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = org().build()
    # The role in 222 could not be assumed: none of its regions was read.
    snap = Snapshot(
        started_at=snap.started_at,
        finished_at=snap.finished_at,
        tool_version=snap.tool_version,
        accounts=snap.accounts,
        regions=tuple(r for r in snap.regions if r.account_id != OTHER_ACCOUNT),
        gaps=(Gap(OTHER_ACCOUNT, "*", "sts:AssumeRole", "AccessDenied", "not authorized"),),
        org_account_ids=snap.org_account_ids,
    )
    new = report(snap, tmp_path, "no-222", capsys, "--baseline", old_report)
    assert OTHER_ACCOUNT in new["scan"]["accounts"]
    not_rechecked = sorted(f["resource_id"] for f in new["baseline"]["not_rechecked"])
    assert not_rechecked == ["pcx-pend", "vpc-stays"]
    assert new["baseline"]["resolved"] == []


def test_findings_in_a_region_this_scan_did_not_target_are_not_rechecked(
    old_report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scan limited to us-east-1 (say `--region us-east-1`) read nothing in eu-west-1.

    The baseline's eu-west-1 findings were not looked at again: they must not be claimed
    resolved (design.md: a region that was not read is never reported as clean).
    """
    b = org(only_us_east_1=True)
    b.scan(OTHER_ACCOUNT, REGION)  # 222 is still scanned, but only in us-east-1
    new = report(b.build(), tmp_path, "us-only", capsys, "--baseline", old_report)
    assert new["scan"]["regions"] == [REGION]
    assert new["scan"]["complete"] is True
    not_rechecked = {f["resource_id"] for f in new["baseline"]["not_rechecked"]}
    resolved = {f["resource_id"] for f in new["baseline"]["resolved"]}
    assert "vpc-stays" in not_rechecked
    assert "vpc-stays" not in resolved


# -- fingerprints -------------------------------------------------------------------------------


def test_fingerprints_are_stable_across_runs_and_item_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = org(new_vpc=True).build()
    first = report(snap, tmp_path, "first", capsys)
    again = report(snap, tmp_path, "again", capsys)
    shuffled = report(with_items(snap, lambda xs: list(reversed(xs))), tmp_path, "rev", capsys)
    assert len(first["findings"]) == 4

    def fps(doc: dict[str, Any]) -> list[str]:
        return [f["fingerprint"] for f in doc["findings"]]

    assert fps(first) == fps(again) == fps(shuffled)
    assert first["findings"] == shuffled["findings"]
    assert len(set(fps(first))) == 4
    assert all(len(fp) == 32 and int(fp, 16) >= 0 for fp in fps(first))


def test_fingerprint_ignores_what_the_message_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Renaming a VPC changes the finding's message, not its identity."""
    before = by_rule_resource(report(org().build(), tmp_path, "before", capsys))
    after = by_rule_resource(report(org(rename=True).build(), tmp_path, "after", capsys))
    key = (FLOW, "vpc-fixme")
    assert before[key]["message"] != after[key]["message"]
    assert before[key]["fingerprint"] == after[key]["fingerprint"]


# -- vpcaudit diff ------------------------------------------------------------------------------


@pytest.fixture
def new_report(new_snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "new.json"
    assert run(["evaluate", new_snapshot, "--format", "json", "--output", out], capsys)[0] == 1
    return out


def test_diff_table(old_report: Path, new_report: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["diff", old_report, new_report, "-v"], capsys)
    assert code == 0, err
    assert err == ""
    sections: dict[str, list[str]] = {}
    current = ""
    for line in out.splitlines():
        if not line.startswith(" "):
            name, count = line.rsplit(":", 1)
            current = name
            sections[name] = []
            assert int(count) >= 0
        else:
            sections[current].append(line.split()[-1])
    assert sections == {
        "new": ["vpc-newbie"],
        "changed": [],
        "resolved": ["vpc-fixme"],
        "not rechecked": [],
        "unchanged": ["pcx-pend", "vpc-stays"],
    }
    assert "new: 1\n" in out
    assert "resolved: 1\n" in out
    assert "unchanged: 2\n" in out
    line = next(x for x in out.splitlines() if x.endswith("vpc-newbie"))
    assert line.split() == ["medium", FLOW, ACCOUNT, REGION, "vpc-newbie"]


def test_diff_json(old_report: Path, new_report: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["diff", old_report, new_report, "--format", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"new", "changed", "resolved", "not_rechecked", "unchanged"}
    ids = {k: sorted(f["resource_id"] for f in v) for k, v in doc.items()}
    assert ids == {
        "new": ["vpc-newbie"],
        "changed": [],
        "resolved": ["vpc-fixme"],
        "not_rechecked": [],
        "unchanged": ["pcx-pend", "vpc-stays"],
    }
    new = json.loads(new_report.read_text("utf-8"))
    # New and unchanged entries are the findings of the newer report, resolved ones the older.
    assert doc["new"][0] == by_rule_resource(new)[(FLOW, "vpc-newbie")]
    old = json.loads(old_report.read_text("utf-8"))
    assert doc["resolved"][0] == by_rule_resource(old)[(FLOW, "vpc-fixme")]


def test_diff_of_a_report_with_itself_has_nothing_new_or_resolved(
    old_report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["diff", old_report, old_report, "--format", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert (doc["new"], doc["resolved"], doc["not_rechecked"]) == ([], [], [])
    assert len(doc["unchanged"]) == 3


@pytest.mark.parametrize("which", ["old", "new"])
def test_diff_on_a_snapshot_instead_of_a_report_exits_2_with_one_line(
    which: str,
    old_report: Path,
    new_snapshot: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = (
        ["diff", new_snapshot, old_report] if which == "old" else ["diff", old_report, new_snapshot]
    )
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("vpcaudit: error:")
    assert str(new_snapshot) in err and "not a vpcaudit JSON report" in err


def test_diff_on_a_missing_file_exits_2(
    old_report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["diff", old_report, tmp_path / "nope.json"], capsys)
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert "nope.json" in err


# -- severity changes and -v ---------------------------------------------------------------------


@pytest.fixture
def regraded_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The old scan again, with a policy that raises vpc-flow-logs-missing to high."""
    policy = tmp_path / "regrade.yaml"
    policy.write_text(f"rules:\n  {FLOW}: {{severity: high}}\n", encoding="utf-8")
    report(org().build(), tmp_path, "regraded", capsys, "--policy", policy)
    return tmp_path / "regraded.json"


def test_diff_reports_a_severity_change_as_changed_not_unchanged(
    old_report: Path, regraded_report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["diff", old_report, regraded_report, "--format", "json"], capsys)
    assert (code, err) == (0, "")
    doc = json.loads(out)
    changed = {f["resource_id"]: (f["previous_severity"], f["severity"]) for f in doc["changed"]}
    assert changed == {"vpc-fixme": ("medium", "high"), "vpc-stays": ("medium", "high")}
    assert [f["resource_id"] for f in doc["unchanged"]] == ["pcx-pend"]
    assert (doc["new"], doc["resolved"], doc["not_rechecked"]) == ([], [], [])


def test_diff_table_shows_old_and_new_severity(
    old_report: Path, regraded_report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["diff", old_report, regraded_report], capsys)
    assert code == 0
    assert "changed: 2\n" in out
    line = next(x for x in out.splitlines() if x.endswith("vpc-stays"))
    assert line.split()[:4] == ["medium", "->", "high", FLOW]


def test_diff_table_lists_unchanged_findings_only_with_verbose(
    old_report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["diff", old_report, old_report], capsys)
    assert code == 0
    assert "unchanged: 3 (-v lists them)\n" in out
    assert not any(x.startswith("  ") for x in out.splitlines())
    code, out, _ = run(["diff", old_report, old_report, "-v"], capsys)
    assert "unchanged: 3\n" in out
    assert sum(x.startswith("  ") for x in out.splitlines()) == 3


def test_baseline_status_of_a_regraded_finding_is_changed(
    old_report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "regrade.yaml"
    policy.write_text(f"rules:\n  {FLOW}: {{severity: high}}\n", encoding="utf-8")
    doc = report(
        org().build(), tmp_path, "again", capsys, "--policy", policy, "--baseline", old_report
    )
    status = {f["resource_id"]: f["baseline"] for f in doc["findings"]}
    assert status == {"vpc-fixme": "changed", "vpc-stays": "changed", "pcx-pend": "unchanged"}
