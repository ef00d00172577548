"""The command line: exit codes, `rules`, `--version`, and `scan --demo` against the contract."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog

import vpcaudit.demo
from tests.servers import apply_env, sandbox_env
from vpcaudit import __version__, cli, commands, exits
from vpcaudit.aws.collect import SPECS
from vpcaudit.demo.seed import Seeded
from vpcaudit.evaluate import Evaluation
from vpcaudit.model import Finding, Gap, ResourceRef, Severity
from vpcaudit.report import ReportData
from vpcaudit.snapshot import RegionData, Snapshot

# The four headline rules of issue 2, whose ids design.md fixes. Other rules may run too; the
# demo's "correct controls" are correct with respect to these four.
RULE_IDS = {
    "peering-pending-expiring",
    "peering-route-one-way",
    "endpoint-interface-for-gateway-service",
    "vpc-flow-logs-missing",
}
ACCOUNT = "111111111111"
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def headline(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (rule id, resource id) pairs of the four headline rules."""
    return {p for p in pairs if p[0] in RULE_IDS}


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """cli.main in-process: (exit code, stdout, stderr)."""
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


# -- exit codes ---------------------------------------------------------------------------


def _finding(severity: Severity, *, suppressed: bool = False) -> Finding:
    return Finding(
        rule_id="vpc-flow-logs-missing",
        severity=severity,
        resource=ResourceRef(
            ACCOUNT, "us-east-1", "vpc", "vpc-1", f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/vpc-1"
        ),
        message="m",
        evidence={},
        remediation="r",
        fingerprint=f"fp-{severity.value}",
        suppressed=suppressed,
    )


def _data(*findings: Finding, gaps: int = 0) -> ReportData:
    snap = Snapshot(
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:01Z",
        tool_version=__version__,
        accounts={ACCOUNT: ""},
        # One region read (a scan that read nothing is never complete).
        regions=(RegionData(ACCOUNT, "us-east-1", {}),),
        gaps=tuple(
            Gap(ACCOUNT, "us-east-1", f"ec2:Op{i}", "AccessDenied", "no") for i in range(gaps)
        ),
    )
    return ReportData.build(snap, Evaluation(tuple(findings), (), ()))


def test_a_scan_that_read_nothing_is_not_complete() -> None:
    snap = Snapshot(
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:01Z",
        tool_version=__version__,
        accounts={ACCOUNT: ""},
        regions=(),
    )
    data = ReportData.build(snap, Evaluation((), (), ()))
    assert data.complete is False
    assert commands.exit_code(data, LOW, False) == exits.EXIT_INCOMPLETE


LOW, MEDIUM, HIGH, INFO, CRITICAL = (
    Severity.LOW,
    Severity.MEDIUM,
    Severity.HIGH,
    Severity.INFO,
    Severity.CRITICAL,
)


@pytest.mark.parametrize(
    ("data", "fail_on", "allow_partial", "expected"),
    [
        # complete scans: 1 when a finding reaches the threshold, else 0
        (_data(), LOW, False, 0),
        (_data(), INFO, False, 0),
        (_data(_finding(LOW)), LOW, False, 1),
        (_data(_finding(LOW)), MEDIUM, False, 0),
        (_data(_finding(LOW)), None, False, 0),
        (_data(_finding(INFO)), LOW, False, 0),
        (_data(_finding(INFO)), INFO, False, 1),
        (_data(_finding(HIGH)), CRITICAL, False, 0),
        (_data(_finding(CRITICAL)), CRITICAL, False, 1),
        (_data(_finding(LOW), _finding(HIGH)), HIGH, False, 1),
        (_data(_finding(CRITICAL, suppressed=True)), LOW, False, 0),
        (_data(_finding(HIGH)), LOW, True, 1),
        # incomplete scans: 3 beats 1, unless --allow-partial
        (_data(gaps=1), LOW, False, 3),
        (_data(gaps=2), None, False, 3),
        (_data(_finding(CRITICAL), gaps=1), LOW, False, 3),
        (_data(gaps=1), LOW, True, 0),
        (_data(_finding(CRITICAL), gaps=1), LOW, True, 1),
        (_data(_finding(LOW), gaps=1), HIGH, True, 0),
    ],
)
def test_exit_code_precedence(
    data: ReportData, fail_on: Severity | None, allow_partial: bool, expected: int
) -> None:
    assert commands.exit_code(data, fail_on, allow_partial) == expected


def test_exit_code_constants_follow_the_design() -> None:
    assert (exits.EXIT_OK, exits.EXIT_FINDINGS, exits.EXIT_USAGE, exits.EXIT_INCOMPLETE) == (
        0,
        1,
        2,
        3,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [(None, Severity.LOW), ("none", None), ("NONE", None), ("High", Severity.HIGH)],
)
def test_fail_on_parsing(text: str | None, expected: Severity | None) -> None:
    argv = ["evaluate", "s.json"] + ([] if text is None else ["--fail-on", text])
    assert cli.build_parser().parse_args(argv).fail_on == expected


def _snapshot_file(tmp_path: Path, *, gaps: bool) -> Path:
    doc = Snapshot(
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:05Z",
        tool_version=__version__,
        accounts={ACCOUNT: ""},
        regions=(),
        gaps=(Gap(ACCOUNT, "us-east-1", "*", "AuthFailure", "region refused"),) if gaps else (),
    ).to_dict()
    doc["regions"] = [
        {
            "account_id": ACCOUNT,
            "region": "us-west-2",
            # Every kind was read (empty), so the missing flow log is known, not unverifiable.
            "resources": {
                **{spec.kind: [] for spec in SPECS},
                "vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}],
            },
        }
    ]
    path = tmp_path / ("gappy.json" if gaps else "clean.json")
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_evaluate_exit_codes_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean, gappy = _snapshot_file(tmp_path, gaps=False), _snapshot_file(tmp_path, gaps=True)
    assert run_main(["evaluate", str(clean)], capsys)[0] == 1
    assert run_main(["evaluate", str(clean), "--fail-on", "high"], capsys)[0] == 0
    assert run_main(["evaluate", str(gappy), "--fail-on", "none"], capsys)[0] == 3
    assert run_main(["evaluate", str(gappy), "--allow-partial"], capsys)[0] == 1
    code, out, _ = run_main(["evaluate", str(gappy), "--format", "json"], capsys)
    assert code == 3
    scan = json.loads(out)["scan"]
    assert scan["complete"] is False
    assert scan["gaps"] == [
        {
            "account_id": ACCOUNT,
            "region": "us-east-1",
            "operation": "*",
            "error_code": "AuthFailure",
            "message": "region refused",
        }
    ]
    code, out, _ = run_main(["evaluate", str(gappy)], capsys)
    assert "INCOMPLETE" in out
    assert "AuthFailure" in out


def test_output_file_gets_the_report_and_stdout_stays_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = _snapshot_file(tmp_path, gaps=False)
    code, printed, _ = run_main(["evaluate", str(snap), "--format", "json"], capsys)
    target = tmp_path / "report.json"
    code2, out, _ = run_main(
        ["evaluate", str(snap), "--format", "json", "--output", str(target)], capsys
    )
    assert (code, code2) == (1, 1)
    assert out == ""
    assert target.read_text(encoding="utf-8") == printed


# -- --version and rules ------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(["--version"], capsys)
    assert code == 0
    assert out.strip() == f"vpcaudit {__version__}"
    assert err == ""


def test_rules_lists_the_four_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["rules"], capsys)
    assert code == 0
    listed = {line.split()[0] for line in out.splitlines()[2:] if line.strip()}
    assert listed >= RULE_IDS


def test_rule_detail_shows_rationale_evidence_and_remediation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_main(["rules", "peering-route-one-way"], capsys)
    assert code == 0
    assert out.startswith("peering-route-one-way  [medium]")
    assert "Why it matters:" in out
    assert "route" in out.split("Why it matters:")[1].split("Evidence fields:")[0]
    evidence = out.split("Evidence fields:")[1].splitlines()[0]
    assert "routed_side" in evidence
    assert "missing_side" in evidence
    remediation = out.split("Remediation:")[1]
    assert "aws ec2 create-route" in remediation


def test_rules_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["rules", "--format", "json"], capsys)
    assert code == 0
    docs = json.loads(out)
    assert {d["id"] for d in docs} >= RULE_IDS
    for d in docs:
        assert d["severity"] in {s.value for s in Severity}
        assert d["title"]
        assert d["rationale"]
        assert d["remediation"]
        assert isinstance(d["evidence"], list)
        assert d["evidence"]
        assert isinstance(d["params"], list)
    pending = next(d for d in docs if d["id"] == "peering-pending-expiring")
    assert {"name": "warn_window_hours", "type": "float", "default": 48.0} in pending["params"]


def test_rule_detail_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["rules", "vpc-flow-logs-missing", "--format", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["id"] == "vpc-flow-logs-missing"
    assert doc["area"] == "flowlogs"


def test_unknown_rule_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(["rules", "unknown-id"], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("vpcaudit: error: ")
    assert "unknown-id" in err


# -- scan --demo --------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoRun:
    """One `vpcaudit scan --demo --format json --save-snapshot` run and what it seeded."""

    code: int
    stdout: str
    stderr: str
    seeded: Seeded
    snapshot: Path

    @property
    def report(self) -> dict[str, Any]:
        """The JSON report."""
        doc: dict[str, Any] = json.loads(self.stdout)
        return doc


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """Run the demo once for the module, keeping the ids the seeding created."""
    captured: list[Seeded] = []
    real_seed = sys.modules["vpcaudit.demo.seed"].seed

    def seed_and_keep(*args: Any, **kwargs: Any) -> Seeded:
        seeded: Seeded = real_seed(*args, **kwargs)
        captured.append(seeded)
        return seeded

    snap = tmp_path_factory.mktemp("demo") / "demo-snapshot.json"
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        apply_env(mp, sandbox_env(os.environ))
        mp.setattr(vpcaudit.demo, "seed", seed_and_keep)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["scan", "--demo", "--format", "json", "--save-snapshot", str(snap)])
    structlog.reset_defaults()
    assert len(captured) == 1
    yield DemoRun(code, out.getvalue(), err.getvalue(), captured[0], snap)


CONTRACT_TOP = ["schema_version", "tool", "scan", "summary", "findings"]
CONTRACT_SCAN = {"started_at", "finished_at", "accounts", "regions", "complete", "gaps"}
CONTRACT_FINDING = {
    "rule_id",
    "severity",
    "account_id",
    "region",
    "resource_type",
    "resource_id",
    "resource_arn",
    "message",
    "evidence",
    "remediation",
    "fingerprint",
    "suppressed",
    "waiver",
}
CONTRACT_GAP = {"account_id", "region", "operation", "error_code", "message"}
SEVERITIES = ["critical", "high", "medium", "low", "info"]


def test_demo_exit_code_and_clean_stderr(demo: DemoRun) -> None:
    assert demo.code == 1
    assert "Traceback" not in demo.stderr


def test_demo_json_follows_the_contract(demo: DemoRun) -> None:
    doc = demo.report
    assert list(doc)[: len(CONTRACT_TOP)] == CONTRACT_TOP
    assert isinstance(doc["schema_version"], int)
    assert doc["tool"] == {"name": "vpcaudit", "version": __version__}

    scan = doc["scan"]
    assert set(scan) >= CONTRACT_SCAN
    assert ISO_Z.match(scan["started_at"])
    assert ISO_Z.match(scan["finished_at"])
    assert scan["started_at"] <= scan["finished_at"]
    assert scan["accounts"] == sorted(demo.seeded.accounts.values())
    assert scan["regions"] == ["eu-west-1", "us-east-1"]
    assert scan["complete"] is True
    assert scan["gaps"] == []

    findings = doc["findings"]
    assert findings
    fingerprints = set()
    for f in findings:
        assert set(f) == CONTRACT_FINDING
        assert f["rule_id"] in doc["summary"]["rules_run"]
        assert SLUG.match(f["rule_id"])
        assert f["severity"] in SEVERITIES
        assert f["account_id"] in scan["accounts"]
        assert f["region"] in scan["regions"]
        # The ARN names the type as AWS spells it there: a NAT gateway's is "natgateway".
        arn_type = {"nat-gateway": "natgateway"}.get(f["resource_type"], f["resource_type"])
        assert f["resource_arn"] == (
            f"arn:aws:ec2:{f['region']}:{f['account_id']}:{arn_type}/{f['resource_id']}"
        )
        assert isinstance(f["message"], str)
        assert f["message"]
        assert isinstance(f["evidence"], dict)
        assert f["evidence"]
        assert isinstance(f["remediation"], str)
        assert f["remediation"]
        assert isinstance(f["fingerprint"], str)
        assert f["fingerprint"]
        fingerprints.add(f["fingerprint"])
        assert f["suppressed"] is False
        assert f["waiver"] is None
    assert len(fingerprints) == len(findings)
    ranks = [SEVERITIES.index(f["severity"]) for f in findings]
    assert ranks == sorted(ranks)


def test_demo_summary_counts_the_findings(demo: DemoRun) -> None:
    doc = demo.report
    summary, findings = doc["summary"], doc["findings"]
    assert summary["total"] == len(findings)
    assert list(summary["by_severity"]) == SEVERITIES
    for sev in SEVERITIES:
        assert summary["by_severity"][sev] == sum(f["severity"] == sev for f in findings)
    assert summary["by_rule"] == {
        r: n
        for r in sorted(summary["rules_run"])
        if (n := sum(f["rule_id"] == r for f in findings))
    }
    assert set(summary["rules_run"]) >= RULE_IDS


def test_demo_finds_exactly_the_seeded_defects(demo: DemoRun) -> None:
    pairs = {(f["rule_id"], f["resource_id"]) for f in demo.report["findings"]}
    assert headline(pairs) == headline(demo.seeded.expected)
    assert demo.seeded.expected <= pairs
    assert {rule_id for rule_id, _ in headline(pairs)} == RULE_IDS


def test_demo_reports_nothing_on_the_correct_controls(demo: DemoRun) -> None:
    s = demo.seeded
    correct = {
        s.endpoints["hub-s3-gateway"],
        s.vpcs["hub"],
        s.vpcs["spoke-a"],
        s.vpcs["eu-app"],
        s.vpcs["analytics"],
        s.peerings["hub-spoke-a"],
        s.peerings["hub-eu-app"],
    }
    assert all(correct)
    flagged = {f["resource_id"] for f in demo.report["findings"] if f["rule_id"] in RULE_IDS}
    assert flagged.isdisjoint(correct)
    # The flow-log findings name the two VPCs seeded without one, and only them.
    names = {
        f["evidence"]["vpc_name"]
        for f in demo.report["findings"]
        if f["rule_id"] == "vpc-flow-logs-missing"
    }
    assert names == {"spoke-b", "eu-legacy"}


def test_demo_flags_each_rule_beside_its_correct_controls(demo: DemoRun) -> None:
    s = demo.seeded
    pairs = {(f["rule_id"], f["resource_id"]) for f in demo.report["findings"]}
    assert pairs == s.expected
    for rule_id, controls in s.controls.items():
        assert controls, rule_id
        assert any(r == rule_id for r, _ in s.expected), f"{rule_id} has no seeded defect"
        flagged = {x for r, x in pairs if r == rule_id}
        assert flagged.isdisjoint(controls), rule_id
    # Every rule of issue 12 fires in the demo beside its correct control.
    assert set(s.controls) >= {
        "tgw-route-blackhole",
        "tgw-route-one-way",
        "tgw-attachment-unassociated",
        "tgw-default-route-table-open",
        "tgw-auto-accept-shared-attachments",
        "tgw-flow-logs-missing",
        "tgw-peering-pending",
        "sg-stale-reference",
        "nat-gateway-unreferenced",
        "eip-unassociated",
        "nat-cross-az",
        "peering-quota-near",
        "peering-mesh-consider-tgw",
        "reachability-intent",
    }


def test_demo_intents_are_checked_and_named(demo: DemoRun) -> None:
    intents = [f for f in demo.report["findings"] if f["rule_id"] == "reachability-intent"]
    assert {f["resource_id"] for f in intents} == {
        x for r, x in demo.seeded.intent_violations if r == "reachability-intent"
    }
    for f in intents:
        assert f["evidence"]["intent"] == "shared-services-reach-reports"
        assert f["evidence"]["code"] == "NACL_EGRESS_DENIED"
        assert f["evidence"]["defined_at"].startswith("<demo intents>:")
        assert f["evidence"]["destination"] == demo.seeded.subnets["prod-app-reports"]


def test_demo_grades_pending_peerings_by_their_expiry(demo: DemoRun) -> None:
    # The demo's fidelity layer gives moto's pending peerings an ExpirationTime.
    rule = "peering-pending-expiring"
    by_id = {f["resource_id"]: f for f in demo.report["findings"] if f["rule_id"] == rule}
    late = by_id[demo.seeded.peerings["eu-legacy-hub"]]
    fresh = by_id[demo.seeded.peerings["analytics-spoke-a"]]
    assert (late["severity"], fresh["severity"]) == ("high", "low")
    for f in (late, fresh):
        assert f["evidence"]["expiry_known"] is True
        assert f["evidence"]["expiration_time"].endswith("Z")
    assert 0 < late["evidence"]["hours_left"] < 48 < fresh["evidence"]["hours_left"]


def test_demo_endpoint_findings_are_graded_by_legitimate_use(demo: DemoRun) -> None:
    rule = "endpoint-interface-for-gateway-service"
    by_id = {f["resource_id"]: f for f in demo.report["findings"] if f["rule_id"] == rule}
    waste = by_id[demo.seeded.endpoints["analytics-s3-interface"]]
    ddb = by_id[demo.seeded.endpoints["hub-dynamodb-interface"]]
    assert waste["severity"] == "medium"
    assert waste["evidence"]["legitimate_uses"] == []
    assert waste["evidence"]["az_count"] == 2
    assert waste["evidence"]["monthly_cost_usd"] == pytest.approx(2 * 0.01 * 730)
    assert ddb["severity"] == "low"
    assert ddb["evidence"]["legitimate_uses"]


def test_demo_partner_peering_is_unverifiable(demo: DemoRun) -> None:
    unverified = {(u["rule_id"], u["resource_id"]) for u in demo.report["unverified"]}
    assert headline(unverified) == headline(demo.seeded.unverifiable)
    assert demo.seeded.unverifiable <= unverified


def test_demo_snapshot_evaluates_to_the_same_report(
    demo: DemoRun, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_main(["evaluate", str(demo.snapshot), "--format", "json"], capsys)
    assert code == demo.code
    assert out == demo.stdout


def test_demo_table_shows_every_rule(demo: DemoRun, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["evaluate", str(demo.snapshot)], capsys)
    assert code == 1
    lines = out.splitlines()
    for rule_id, resource_id in demo.seeded.expected:
        assert any(rule_id in line and resource_id in line for line in lines), resource_id
    for severity, count in demo.report["summary"]["by_severity"].items():
        assert (f"{severity.upper()} ({count})" in out) == (count > 0)
    # Every enabled region was read; the management account is left out by default, and said.
    assert "Coverage: complete for every enabled region." in out
    assert "management account, not scanned by default" in out
    gateway = demo.seeded.endpoints["hub-s3-gateway"]
    assert not any(gateway in line and any(r in line for r in RULE_IDS) for line in lines)


# -- the terminal at 80 and 140 columns (issue 14) ----------------------------------------------


def _display_widths(text: str) -> list[int]:
    from vpcaudit.termtext import width  # noqa: PLC0415 - only these tests measure columns

    return [width(line) for line in text.splitlines()]


def test_demo_table_fits_80_columns_as_blocks(
    demo: DemoRun, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run_main(["evaluate", str(demo.snapshot)], capsys)
    assert code == 1
    assert max(_display_widths(out)) <= 80, out
    lines = out.splitlines()
    # Every finding is a block headed by its severity, rule and resource.
    for f in demo.report["findings"]:
        head = f"{f['severity'].upper()}  {f['rule_id']}  {f['resource_id']}"
        assert head in lines, head
    assert not any(line.startswith("rule ") for line in lines)  # no wide table header


def test_demo_table_is_a_table_at_140_columns(
    demo: DemoRun, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "140")
    code, out, _ = run_main(["evaluate", str(demo.snapshot)], capsys)
    assert code == 1
    assert max(_display_widths(out)) <= 140, out
    assert any(re.match(r"rule +account +region +resource +finding$", x) for x in out.split("\n"))


@pytest.mark.parametrize("argv", [["rules"], ["rules", "endpoint-interface-for-gateway-service"]])
def test_rules_wrap_to_80_columns(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run_main(argv, capsys)
    assert code == 0
    assert max(_display_widths(out)) <= 80, out
    if argv == ["rules"]:
        assert {"peering-route-one-way  [medium]", "vpc-flow-logs-missing  [medium]"} <= set(
            out.splitlines()
        )
    else:
        assert "(aws ec2 delete-vpc-endpoints)" in out  # a command name is never broken
