"""Policy files: rule switches, severities, parameters, layering, validation and `policy check`.

The acceptance test of issue 4 is here: a policy that disables one rule, overrides a severity,
sets a parameter and waives one resource changes a scan's output exactly so, and nothing else.
Malformed files (tests/fixtures/policies/, one defect each) must stop `policy check`, `evaluate`
and `scan` with exit 2 and one stderr line naming the file and the line of the defect, before
any AWS call.
"""

from __future__ import annotations

import copy
import importlib
import json
import pkgutil
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

import vpcaudit.rules
from tests.builders import (
    ACCOUNT,
    EXTERNAL_ACCOUNT,
    FIXTURES,
    OTHER_REGION,
    Side,
    SnapshotBuilder,
    hours_from_now,
    route,
)
from vpcaudit.cli import main
from vpcaudit.errors import ConfigError
from vpcaudit.evaluate import evaluate
from vpcaudit.inventory import Inventory
from vpcaudit.model import Severity
from vpcaudit.policy import Policy, default_policy_text, load_policy, parse_policy
from vpcaudit.report import ReportData, json_report
from vpcaudit.rules.base import Rule
from vpcaudit.rules.registry import load_rules
from vpcaudit.snapshot import Snapshot

POLICIES = FIXTURES / "policies"
ACCEPTANCE_RULE_IDS = {
    "peering-pending-expiring",
    "peering-route-one-way",
    "endpoint-interface-for-gateway-service",
    "vpc-flow-logs-missing",
}
"""The rules the acceptance snapshot and issue 4's acceptance test are about."""


def loaded_rules() -> dict[str, Rule[Any]]:
    """Every rule of the entry-point group, as the CLI loads them."""
    return {k: v.rule for k, v in load_rules().items()}


def builtin_rule_ids() -> set[str]:
    """The ids of the rules vpcaudit itself ships (not plugins), as the CLI loads them."""
    return {k for k, v in load_rules().items() if v.source.startswith("vpcaudit:")}


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write a dedented policy file and return its path."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def focus(tmp_path: Path, keep: set[str] = ACCEPTANCE_RULE_IDS) -> Path:
    """A policy file that turns off every installed rule except those in keep.

    Layered before a test's own policy, it keeps the test about the rules it was written for
    when other rules would also fire on its snapshot.
    """
    others = sorted(set(loaded_rules()) - keep)
    lines = ["version: 1", "rules:" if others else "rules: {}"]
    lines += [f"  {rule_id}: {{enabled: false}}" for rule_id in others]
    path = tmp_path / "focus.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def report(snap: Snapshot, *policy_files: Path) -> dict[str, Any]:
    """The JSON report (as a dict) of a snapshot evaluated under the given policy files."""
    rules = loaded_rules()
    policy = load_policy(list(policy_files), rules)
    evaluation = evaluate(Inventory.from_snapshot(snap), rules, policy)
    return json_report.report_dict(ReportData.build(snap, evaluation))


def cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    """Run vpcaudit.cli.main in-process: (exit code, stdout, stderr)."""
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def by_fingerprint(findings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Findings keyed by their stable fingerprint."""
    out = {f["fingerprint"]: f for f in findings}
    assert len(out) == len(findings)
    return out


def assert_sorted_by_severity(findings: list[dict[str, Any]]) -> None:
    """Reports list the most severe finding first."""
    ranks = [Severity(f["severity"]).rank for f in findings]
    assert ranks == sorted(ranks, reverse=True)


# -- acceptance ------------------------------------------------------------------------------


def acceptance_snapshot() -> Snapshot:
    """One finding per rule in account 111 / us-east-1, beside VPCs that are in order.

    - pcx-pending: a request to an external account, expiring in 30 h (high under the
      default 48 h window, low under a 24 h one);
    - pcx-oneway: active between vpc-0app and vpc-0peer, routed from vpc-0app only;
    - vpce-0s3: an S3 interface endpoint in 2 AZs of vpc-0svc (medium, $14.60/month);
    - vpc-0sandbox: no flow log (medium).
    """
    b = SnapshotBuilder()
    b.vpc("vpc-0app", "10.0.0.0/16", name="app")
    b.subnet("subnet-app", "vpc-0app", "10.0.1.0/24")
    b.route_table(
        "rtb-app", "vpc-0app", subnets=["subnet-app"], routes=[route("10.1.0.0/16", "pcx-oneway")]
    )
    b.flow_log("fl-app", "vpc-0app")
    b.vpc("vpc-0peer", "10.1.0.0/16", name="peer")
    b.subnet("subnet-peer", "vpc-0peer", "10.1.1.0/24")
    b.route_table("rtb-peer", "vpc-0peer", subnets=["subnet-peer"])
    b.flow_log("fl-peer", "vpc-0peer")
    b.peering("pcx-oneway", "vpc-0app", "vpc-0peer")
    b.peering(
        "pcx-pending",
        "vpc-0app",
        Side(EXTERNAL_ACCOUNT, OTHER_REGION, "vpc-0ext", ("10.7.0.0/16",)),
        status="pending-acceptance",
        expires=hours_from_now(30),
    )
    b.vpc("vpc-0svc", "10.2.0.0/16", name="svc")
    b.subnet("subnet-svc-a", "vpc-0svc", "10.2.1.0/24", az="a")
    b.subnet("subnet-svc-b", "vpc-0svc", "10.2.2.0/24", az="b")
    b.endpoint("vpce-0s3", "vpc-0svc", "s3", subnets=["subnet-svc-a", "subnet-svc-b"])
    b.flow_log("fl-svc", "vpc-0svc")
    b.vpc("vpc-0sandbox", "10.9.0.0/16", name="sandbox")
    return b.build()


ACCEPTANCE_POLICY = """
    version: 1
    rules:
      peering-route-one-way:
        enabled: false
      endpoint-interface-for-gateway-service:
        severity: low
        params:
          hourly_price_per_az: 0.02
      peering-pending-expiring:
        params:
          warn_window_hours: 24
    waivers:
      - rule: vpc-flow-logs-missing
        resource: vpc-0sandbox
        reason: Sandbox VPC, torn down nightly.
        owner: platform@example.com
        expires: 2024-12-31
"""


def test_acceptance_policy_changes_the_report_exactly_so(tmp_path: Path) -> None:
    snap = acceptance_snapshot()
    policy = write(tmp_path, "team.yaml", ACCEPTANCE_POLICY)
    only = focus(tmp_path)

    before = report(snap, only)
    after = report(snap, only, policy)

    # Without a policy, every rule of the acceptance fires once.
    base = {f["rule_id"]: f for f in before["findings"]}
    assert {r: (f["resource_id"], f["severity"]) for r, f in base.items()} == {
        "peering-pending-expiring": ("pcx-pending", "high"),
        "peering-route-one-way": ("pcx-oneway", "medium"),
        "endpoint-interface-for-gateway-service": ("vpce-0s3", "medium"),
        "vpc-flow-logs-missing": ("vpc-0sandbox", "medium"),
    }
    assert base["endpoint-interface-for-gateway-service"]["evidence"]["monthly_cost_usd"] == 14.6
    assert not any(f["suppressed"] for f in before["findings"])

    # With it: the expected findings are the old ones changed exactly as the policy says.
    expected = copy.deepcopy(base)
    del expected["peering-route-one-way"]
    expected["peering-pending-expiring"]["severity"] = "low"
    expected["peering-pending-expiring"]["message"] = expected["peering-pending-expiring"][
        "message"
    ].replace("it expires in 30.0 h,", "it expires in 1.2 days,")
    ep = expected["endpoint-interface-for-gateway-service"]
    ep["severity"] = "low"
    ep["evidence"]["monthly_cost_usd"] = 29.2
    ep["message"] = ep["message"].replace("$14.60/month", "$29.20/month")
    sandbox = expected["vpc-flow-logs-missing"]
    sandbox["suppressed"] = True
    sandbox["waiver"] = {
        "rule": "vpc-flow-logs-missing",
        "resource": "vpc-0sandbox",
        "account": None,
        "region": None,
        "tags": {},
        "reason": "Sandbox VPC, torn down nightly.",
        "owner": "platform@example.com",
        "expires": "2024-12-31",
        "source": f"{policy}:13",
    }
    assert by_fingerprint(after["findings"]) == by_fingerprint(list(expected.values()))
    assert_sorted_by_severity(after["findings"])

    # Summary: the disabled rule did not run; the waived finding is counted apart.
    assert before["summary"]["total"] == 4
    expected_summary = {
        "total": 2,
        "by_severity": {"critical": 0, "high": 0, "medium": 0, "low": 2, "info": 0},
        "by_rule": {"endpoint-interface-for-gateway-service": 1, "peering-pending-expiring": 1},
        "suppressed": 1,
        "unverified": 0,
        "rules_run": [
            "endpoint-interface-for-gateway-service",
            "peering-pending-expiring",
            "vpc-flow-logs-missing",
        ],
    }
    assert {k: after["summary"].get(k) for k in expected_summary} == expected_summary
    assert after["waivers"] == {
        "applied": [{**sandbox["waiver"], "suppressed": 1}],
        "expired": [],
        "stale": [],
    }
    # Nothing outside findings, summary and waivers moved.
    for key in ("schema_version", "tool", "scan", "unverified"):
        assert after[key] == before[key]

    # With every installed rule running, the policy changes the acceptance rules' findings
    # exactly as above and leaves every other rule's findings alone.
    full_before = report(snap)
    full_after = report(snap, policy)

    def split(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        ours = [f for f in doc["findings"] if f["rule_id"] in ACCEPTANCE_RULE_IDS]
        others = [f for f in doc["findings"] if f["rule_id"] not in ACCEPTANCE_RULE_IDS]
        return ours, others

    assert split(full_before)[0] == before["findings"]
    assert split(full_after)[0] == after["findings"]
    assert split(full_after)[1] == split(full_before)[1]
    assert not any(f["suppressed"] for f in split(full_after)[1])
    assert_sorted_by_severity(full_after["findings"])
    assert set(full_after["summary"]["rules_run"]) == set(loaded_rules()) - {
        "peering-route-one-way"
    }


def test_acceptance_exit_codes_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap_path = tmp_path / "snap.json"
    acceptance_snapshot().save(snap_path)
    policy = write(tmp_path, "team.yaml", ACCEPTANCE_POLICY)
    only = focus(tmp_path)  # the other installed rules would fail the run on their own

    rc, out, err = cli(
        capsys, "evaluate", snap_path, "--policy", only, "--format", "json", "--fail-on", "medium"
    )
    assert (rc, err) == (1, "")
    assert json.loads(out)["summary"]["by_severity"]["medium"] == 3

    # The only finding left at medium is the waived one: it does not fail the run...
    team = ["--policy", only, "--policy", policy, "--format", "json"]
    rc, out, err = cli(capsys, "evaluate", snap_path, *team, "--fail-on", "medium")
    assert (rc, err) == (0, "")
    doc = json.loads(out)
    [waived] = [f for f in doc["findings"] if f["suppressed"]]
    assert (waived["resource_id"], waived["severity"]) == ("vpc-0sandbox", "medium")
    assert doc["findings"] == report(Snapshot.load(snap_path), only, policy)["findings"]

    # ...while the unwaived low findings still do at --fail-on low.
    rc, _, err = cli(capsys, "evaluate", snap_path, *team, "--fail-on", "low")
    assert (rc, err) == (1, "")


def test_acceptance_on_the_cross_account_fixture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixture = FIXTURES / "cross_account_peering.json"
    policy = write(
        tmp_path,
        "p.yaml",
        """
        rules:
          peering-route-one-way: {enabled: false}
          vpc-flow-logs-missing: {severity: info}
          peering-pending-expiring:
            params: {warn_window_hours: 12}
        waivers:
          - rule: peering-pending-expiring
            resource: "arn:aws:ec2:eu-west-1:*:vpc-peering-connection/pcx-0pending"
            reason: Accepter is onboarding this week.
        """,
    )
    only = focus(
        tmp_path, {"peering-pending-expiring", "peering-route-one-way", "vpc-flow-logs-missing"}
    )
    rc, out, err = cli(
        capsys, "evaluate", fixture, "--policy", only, "--format", "json", "--fail-on", "low"
    )
    assert (rc, err) == (1, "")
    before = json.loads(out)
    rc, out, err = cli(
        capsys,
        "evaluate",
        fixture,
        "--policy",
        only,
        "--policy",
        policy,
        "--format",
        "json",
        "--fail-on",
        "low",
    )
    assert (rc, err) == (0, "")
    after = json.loads(out)

    def brief(doc: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
        return [
            (f["rule_id"], f["resource_id"], f["severity"], f["suppressed"])
            for f in doc["findings"]
        ]

    assert brief(before) == [
        ("peering-pending-expiring", "pcx-0pending", "high", False),
        ("peering-route-one-way", "pcx-0oneway", "medium", False),
        ("vpc-flow-logs-missing", "vpc-0app", "medium", False),
    ]
    # 20 h left: high inside the default 48 h window, low outside a 12 h one.
    assert brief(after) == [
        ("peering-pending-expiring", "pcx-0pending", "low", True),
        ("vpc-flow-logs-missing", "vpc-0app", "info", False),
    ]
    pending = after["findings"][0]
    assert pending["evidence"]["hours_left"] == 20.0
    assert pending["waiver"]["source"] == f"{policy}:7"
    assert pending["waiver"]["reason"] == "Accepter is onboarding this week."
    assert "peering-route-one-way" not in after["summary"]["rules_run"]
    assert after["summary"]["total"] == 1
    assert after["summary"]["suppressed"] == 1
    assert after["summary"]["by_severity"]["info"] == 1
    assert after["summary"]["by_rule"] == {"vpc-flow-logs-missing": 1}


def test_table_report_shows_the_waived_finding_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap_path = tmp_path / "snap.json"
    acceptance_snapshot().save(snap_path)
    policy = write(tmp_path, "team.yaml", ACCEPTANCE_POLICY)
    only = focus(tmp_path)
    rc, out, err = cli(
        capsys, "evaluate", snap_path, "--policy", only, "--policy", policy, "--fail-on", "none"
    )
    assert (rc, err) == (0, "")
    lines = out.splitlines()
    assert (
        f"Suppressed: vpc-flow-logs-missing {ACCOUNT} us-east-1 vpc-0sandbox [medium] "
        + (f"waived by {policy}:13")
        in lines
    )
    assert f"Waived: 1 finding(s) by {policy}:13 (Sandbox VPC, torn down nightly.)" in lines
    assert "Summary: 2 finding(s) (2 low)" in lines
    # The waived VPC appears on its Suppressed line only, not among the finding rows.
    [mention] = [ln for ln in lines if "vpc-0sandbox" in ln]
    assert mention.startswith("Suppressed: ")
    assert "MEDIUM" not in out


# -- severity and params ---------------------------------------------------------------------


def test_severity_override_replaces_the_rules_own_grading(tmp_path: Path) -> None:
    policy = write(
        tmp_path, "p.yaml", "rules:\n  peering-pending-expiring:\n    severity: critical\n"
    )
    [f] = [
        f
        for f in report(acceptance_snapshot(), policy)["findings"]
        if f["rule_id"] == "peering-pending-expiring"
    ]
    assert f["severity"] == "critical"


def test_integer_yaml_value_is_accepted_for_a_float_param() -> None:
    rules = loaded_rules()
    policy = parse_policy(
        "rules:\n  endpoint-interface-for-gateway-service:\n    params: {hours_per_month: 720}\n",
        "p.yaml",
        rules,
    )
    params = policy.params_for(rules["endpoint-interface-for-gateway-service"])
    assert params.hours_per_month == 720.0
    assert isinstance(params.hours_per_month, float)
    assert params.hourly_price_per_az == 0.01


def test_boolean_param_turns_default_vpcs_off(tmp_path: Path) -> None:
    b = SnapshotBuilder().vpc("vpc-0default", "172.31.0.0/16", is_default=True)
    b.vpc("vpc-0custom", "10.0.0.0/16")
    snap = b.build()
    policy = write(
        tmp_path,
        "p.yaml",
        "rules:\n  vpc-flow-logs-missing:\n    params:\n      include_default_vpcs: false\n",
    )
    assert [f["resource_id"] for f in report(snap)["findings"]] == ["vpc-0custom", "vpc-0default"]
    assert [f["resource_id"] for f in report(snap, policy)["findings"]] == ["vpc-0custom"]


# -- layering --------------------------------------------------------------------------------


def test_later_files_override_earlier_ones_key_by_key(tmp_path: Path) -> None:
    rules = loaded_rules()
    sev = write(
        tmp_path,
        "sev.yaml",
        """
        rules:
          endpoint-interface-for-gateway-service:
            severity: high
            params: {hourly_price_per_az: 0.05, hours_per_month: 700}
        """,
    )
    par = write(
        tmp_path,
        "par.yaml",
        """
        rules:
          endpoint-interface-for-gateway-service:
            params: {hourly_price_per_az: 0.02}
        """,
    )
    policy = load_policy([sev, par], rules)
    rule = rules["endpoint-interface-for-gateway-service"]
    s = policy.settings(rule.id)
    assert s.enabled is True
    assert s.severity is Severity.HIGH  # from sev.yaml, untouched by par.yaml
    params = policy.params_for(rule)
    assert params.hourly_price_per_az == 0.02  # par.yaml wins on the key both set
    assert params.hours_per_month == 700.0  # sev.yaml's key that par.yaml does not set
    assert policy.sources == ("<built-in default.yaml>", str(sev), str(par))

    [f] = report(acceptance_snapshot(), sev, par)["findings"][:1]
    assert (f["rule_id"], f["severity"]) == ("endpoint-interface-for-gateway-service", "high")
    assert f["evidence"]["monthly_cost_usd"] == round(2 * 0.02 * 700, 2)


@pytest.mark.parametrize(
    ("first", "second", "runs"), [(False, True, True), (True, False, False), (False, False, False)]
)
def test_enabled_follows_the_last_file_that_sets_it(
    tmp_path: Path, first: bool, second: bool, runs: bool
) -> None:
    a = write(
        tmp_path, "a.yaml", f"rules:\n  peering-route-one-way: {{enabled: {str(first).lower()}}}\n"
    )
    b = write(
        tmp_path, "b.yaml", f"rules:\n  peering-route-one-way: {{enabled: {str(second).lower()}}}\n"
    )
    doc = report(acceptance_snapshot(), a, b)
    assert ("peering-route-one-way" in doc["summary"]["rules_run"]) is runs
    assert any(f["rule_id"] == "peering-route-one-way" for f in doc["findings"]) is runs


def test_waivers_from_every_file_add_up(tmp_path: Path) -> None:
    a = write(
        tmp_path,
        "a.yaml",
        """
        waivers:
          - rule: vpc-flow-logs-missing
            resource: vpc-0sandbox
            reason: Sandbox.
        """,
    )
    b = write(
        tmp_path,
        "b.yaml",
        """
        # team waivers
        waivers:
          - rule: peering-pending-expiring
            resource: pcx-pending
            reason: Being accepted.
        """,
    )
    policy = load_policy([a, b], loaded_rules())
    assert [(w.rule, w.source) for w in policy.waivers] == [
        ("vpc-flow-logs-missing", f"{a}:2"),
        ("peering-pending-expiring", f"{b}:3"),
    ]
    doc = report(acceptance_snapshot(), a, b)
    assert sorted(f["resource_id"] for f in doc["findings"] if f["suppressed"]) == [
        "pcx-pending",
        "vpc-0sandbox",
    ]
    assert doc["summary"]["suppressed"] == 2


def test_packaged_default_policy_is_exactly_the_rules_defaults() -> None:
    loaded = load_rules()
    rules = {k: v.rule for k, v in loaded.items()}
    policy = parse_policy(default_policy_text(), "default.yaml", rules)
    shipped = builtin_rule_ids()
    # Every rule defined in vpcaudit.rules is shipped, as an entry point the CLI loads.
    defined = {
        obj.id
        for info in pkgutil.iter_modules(vpcaudit.rules.__path__, "vpcaudit.rules.")
        for obj in vars(importlib.import_module(info.name)).values()
        if isinstance(obj, Rule)
    }
    assert shipped == defined
    assert shipped >= ACCEPTANCE_RULE_IDS
    # The default spells out every built-in rule, and nothing else (plugins may add rules it
    # cannot know, and it names no rule that does not exist).
    assert set(policy.rules) == shipped
    assert policy.waivers == ()
    for rid, rule in rules.items():
        s = policy.settings(rid)
        assert s.enabled is True, rid
        assert policy.params_for(rule) == rule.default_params(), rid
        assert s.severity in (None, rule.severity), rid
    # Every parameter is written out, so a team can copy the file and edit it.
    for rid in shipped:
        names = {p["name"] for p in rules[rid].params_doc()}
        assert set(policy.settings(rid).params) == names, rid


def test_packaged_default_is_the_file_in_policies() -> None:
    repo_default = Path(__file__).parent.parent / "policies" / "default.yaml"
    assert default_policy_text() == repo_default.read_text(encoding="utf-8")


def test_default_policy_alone_changes_nothing() -> None:
    snap = acceptance_snapshot()
    rules = loaded_rules()
    inv = Inventory.from_snapshot(snap)
    assert evaluate(inv, rules, load_policy([], rules)) == evaluate(inv, rules, Policy())


def test_empty_policy_file_is_valid(tmp_path: Path) -> None:
    empty = write(tmp_path, "empty.yaml", "# nothing to change\n")
    assert report(acceptance_snapshot(), empty) == report(acceptance_snapshot())


# -- malformed files -------------------------------------------------------------------------

# file -> (line of the defect, words the message must contain)
MALFORMED: dict[str, tuple[int, str]] = {
    "yaml_syntax_error.yaml": (6, "YAML syntax error"),
    "unknown_rule_id.yaml": (6, "unknown rule id 'vpc-flowlogs-missing'"),
    "unknown_param.yaml": (7, "has no parameter 'warn_window_days'"),
    "mistyped_param.yaml": (8, "'one cent' is not of type 'number'"),
    "bad_severity.yaml": (5, "'urgent' is not one of"),
    "waiver_no_reason.yaml": (8, "has no 'reason'"),
    "waiver_empty_reason.yaml": (6, "reason"),
    "waiver_unknown_rule.yaml": (5, "unknown rule id 'vpc-flow-log-missing'"),
    "waiver_bad_date.yaml": (7, "'2027-13-45' is not a date"),
    "waiver_account_unquoted.yaml": (6, "account ids must be quoted"),
    "unknown_top_level_key.yaml": (5, "unknown key 'waiver'"),
    "version_2.yaml": (3, "version"),
    "top_level_list.yaml": (3, "is not of type 'object'"),
}
# Files that fail before YAML is parsed: (fixture, message with the line of the bad byte).
UNREADABLE: dict[str, str] = {"not_utf8.yaml": "4: policy is not UTF-8 text (byte 0xe9)"}


def test_every_malformed_fixture_is_covered() -> None:
    assert {p.name for p in POLICIES.iterdir()} == set(MALFORMED) | set(UNREADABLE)


def assert_one_error_line(rc: int, out: str, err: str, prefix: str, words: str) -> None:
    """Exit 2, nothing on stdout, one stderr line starting with prefix and saying words."""
    assert rc == 2, err
    assert out == ""
    assert "Traceback" not in err
    assert err.endswith("\n")
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(prefix), lines[0]
    assert words in lines[0][len(prefix) :], lines[0]


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_policy_check(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    line, words = MALFORMED[name]
    path = POLICIES / name
    rc, out, err = cli(capsys, "policy", "check", path)
    assert_one_error_line(rc, out, err, f"vpcaudit: error: {path}:{line}: ", words)


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_policy_parse_raises_config_error(name: str) -> None:
    line, words = MALFORMED[name]
    path = POLICIES / name
    with pytest.raises(ConfigError) as exc:
        load_policy([path], loaded_rules())
    assert str(exc.value).startswith(f"{path}:{line}: ")
    assert words in str(exc.value)


@pytest.fixture
def no_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any scan, real or demo, fail the test; the demo module (and moto) never loads."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        pytest.fail("the scan started before the policy was validated")

    monkeypatch.setattr("vpcaudit.commands.run_scan", refuse)
    demo = types.ModuleType("vpcaudit.demo")
    demo.run_demo_scan = refuse  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vpcaudit.demo", demo)


@pytest.mark.parametrize("name", sorted(MALFORMED))
@pytest.mark.usefixtures("no_scan")
def test_malformed_policy_stops_scan_before_any_aws_call(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line, words = MALFORMED[name]
    path = POLICIES / name
    rc, out, err = cli(capsys, "scan", "--demo", "--policy", path, "--format", "json")
    assert_one_error_line(rc, out, err, f"vpcaudit: error: {path}:{line}: ", words)


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_policy_stops_evaluate(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line, words = MALFORMED[name]
    path = POLICIES / name
    snap_path = tmp_path / "snap.json"
    acceptance_snapshot().save(snap_path)
    rc, out, err = cli(capsys, "evaluate", snap_path, "--policy", path)
    assert_one_error_line(rc, out, err, f"vpcaudit: error: {path}:{line}: ", words)


def unreadable_cases(tmp_path: Path) -> list[tuple[Path, str]]:
    """(path, expected stderr line) of the files that cannot even be read as text."""
    cases = [
        (POLICIES / n, f"vpcaudit: error: {POLICIES / n}:{msg}") for n, msg in UNREADABLE.items()
    ]
    missing = tmp_path / "no-such-policy.yaml"
    cases.append(
        (missing, f"vpcaudit: error: {missing}: cannot read policy (No such file or directory)")
    )
    return cases


def test_unreadable_policy_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for path, line in unreadable_cases(tmp_path):
        rc, out, err = cli(capsys, "policy", "check", path)
        assert (rc, out, err) == (2, "", line + "\n"), path


@pytest.mark.usefixtures("no_scan")
def test_unreadable_policy_stops_scan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for path, line in unreadable_cases(tmp_path):
        rc, out, err = cli(capsys, "scan", "--demo", "--policy", path)
        assert (rc, out, err) == (2, "", line + "\n"), path


def test_bad_policy_after_good_one_still_stops_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_scan: None
) -> None:
    good = write(tmp_path, "good.yaml", "rules:\n  peering-route-one-way: {enabled: false}\n")
    bad = POLICIES / "bad_severity.yaml"
    rc, out, err = cli(capsys, "scan", "--demo", "--policy", good, "--policy", bad)
    assert_one_error_line(rc, out, err, f"vpcaudit: error: {bad}:5: ", "'urgent'")


def test_bad_policy_in_a_real_process_never_imports_moto(tmp_path: Path) -> None:
    """A fresh interpreter: the scan exits 2 with one line and moto is never imported."""
    bad = POLICIES / "waiver_bad_date.yaml"
    code = (
        "import sys\n"
        "from vpcaudit.cli import main\n"
        f"rc = main(['scan', '--demo', '--policy', {str(bad)!r}])\n"
        "assert 'moto' not in sys.modules and 'vpcaudit.demo' not in sys.modules\n"
        "sys.exit(rc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == (
        f"vpcaudit: error: {bad}:7: expires '2027-13-45' is not a date (YYYY-MM-DD)\n"
    )


def test_whitespace_only_reason_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        """
        waivers:
          - rule: "*"
            reason: "   "
        """,
    )
    rc, out, err = cli(capsys, "policy", "check", path)
    assert_one_error_line(rc, out, err, f"vpcaudit: error: {path}:3: ", "reason")


def test_waiver_account_with_eleven_digits_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        """
        waivers:
          - rule: "*"
            reason: Old account.
            account: "11112222333"
        """,
    )
    with pytest.raises(ConfigError, match=rf"^{path}:4: .*not a 12-digit account id"):
        load_policy([path], loaded_rules())


# -- policy check ----------------------------------------------------------------------------


ACCEPTANCE_COUNTS = "1 rule disabled, 1 severity override, 2 parameters, 1 waiver"
"""What ACCEPTANCE_POLICY itself sets, as `policy check` counts it."""


def expired_warning(path: Path) -> str:
    """The warning for ACCEPTANCE_POLICY's waiver, whose last day (2024-12-31) has passed."""
    return (
        f"vpcaudit: warning: {path}:13: waiver for vpc-flow-logs-missing expired on "
        "2024-12-31; its findings count again\n"
    )


def test_policy_check_good_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "team.yaml", ACCEPTANCE_POLICY)
    rc, out, err = cli(capsys, "policy", "check", path)
    assert (rc, err) == (0, expired_warning(path))
    assert out == f"{path}: ok ({ACCEPTANCE_COUNTS})\n"


def test_policy_check_checks_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path, "a.yaml", "version: 1\n")
    b = write(tmp_path, "b.yaml", ACCEPTANCE_POLICY)
    rc, out, err = cli(capsys, "policy", "check", a, b)
    assert (rc, err) == (0, expired_warning(b))
    assert out.splitlines() == [
        f"{a}: ok (0 rules disabled, 0 severity overrides, 0 parameters, 0 waivers)",
        f"{b}: ok ({ACCEPTANCE_COUNTS})",
    ]


def test_policy_check_stops_at_the_first_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path, "good.yaml", ACCEPTANCE_POLICY)
    bad1 = POLICIES / "unknown_param.yaml"
    bad2 = POLICIES / "version_2.yaml"
    after = write(tmp_path, "after.yaml", "version: 1\n")
    rc, out, err = cli(capsys, "policy", "check", good, bad1, bad2, after)
    assert rc == 2
    assert out == f"{good}: ok ({ACCEPTANCE_COUNTS})\n"
    assert err.splitlines()[1:] == [
        f"vpcaudit: error: {bad1}:7: rule 'peering-pending-expiring' has no parameter "
        "'warn_window_days' (parameters: trusted_accounts, warn_window_hours)"
    ]
    assert str(after) not in out + err


def test_policy_check_counts_what_the_file_sets_not_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It used to count the built-in default's settings too: every file said "37 rule
    settings", whatever it set."""
    path = write(
        tmp_path,
        "two.yaml",
        """
        rules:
          vpc-flow-logs-missing: {enabled: false}
          peering-route-one-way: {enabled: false, severity: high}
          peering-pending-expiring:
            params: {warn_window_hours: 12, trusted_accounts: ["111122223333"]}
        waivers:
          - rule: "*"
            reason: Lab account.
            account: "111122223333"
            expires: 2999-01-01
          - rule: vpc-flow-logs-missing
            reason: Sandbox.
        """,
    )
    rc, out, err = cli(capsys, "policy", "check", path)
    assert (rc, err) == (0, "")  # no waiver has expired: no warning
    assert out == (f"{path}: ok (2 rules disabled, 1 severity override, 2 parameters, 2 waivers)\n")


def test_policy_check_warns_once_per_expired_waiver_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        "old.yaml",
        """
        waivers:
          - rule: vpc-flow-logs-missing
            reason: Gone.
            expires: 2020-01-31
          - rule: peering-route-one-way
            reason: Still in force.
            expires: 2999-01-01
          - rule: "*"
            reason: Also gone.
            expires: 2021-06-30
        """,
    )
    rc, out, err = cli(capsys, "policy", "check", path)
    assert rc == 0
    assert out == f"{path}: ok (0 rules disabled, 0 severity overrides, 0 parameters, 3 waivers)\n"
    assert err.splitlines() == [
        f"vpcaudit: warning: {path}:2: waiver for vpc-flow-logs-missing expired on 2020-01-31; "
        "its findings count again",
        f"vpcaudit: warning: {path}:8: waiver for * expired on 2021-06-30; its findings count "
        "again",
    ]


def test_policy_check_of_the_shipped_default_counts_its_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "default.yaml", default_policy_text())
    rc, out, err = cli(capsys, "policy", "check", path)
    assert (rc, err) == (0, "")
    assert "0 rules disabled" in out
    assert f"{len(builtin_rule_ids())} rules enabled" in out


def test_enabled_false_survives_a_later_file_that_does_not_set_it(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "rules:\n  vpc-flow-logs-missing: {enabled: false}\n")
    b = write(tmp_path, "b.yaml", "rules:\n  vpc-flow-logs-missing: {severity: high}\n")
    policy = load_policy([a, b], loaded_rules())
    assert policy.settings("vpc-flow-logs-missing").enabled is False
    assert policy.settings("vpc-flow-logs-missing").severity == Severity.HIGH


def test_duplicate_keys_are_refused_with_their_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        "dup.yaml",
        "rules:\n  vpc-flow-logs-missing: {enabled: false}\n  vpc-flow-logs-missing: {}\n",
    )
    rc, out, err = cli(capsys, "policy", "check", path)
    assert_one_error_line(rc, out, err, f"vpcaudit: error: {path}:3: ", "duplicate key")
