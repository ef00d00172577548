"""Waivers: what they match, when they expire, which are stale, and how reports show them.

Every waiver here is written in a policy file and read by the real parser, so its `source` is
the file and line it was written on. Expiry is judged against the snapshot's finished_at
(2024-06-01 for builder snapshots), never against today's date.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.builders import ACCOUNT, OTHER_ACCOUNT, OTHER_REGION, REGION, SnapshotBuilder
from vpcaudit.cli import main
from vpcaudit.evaluate import Evaluation, at_or_above, evaluate
from vpcaudit.inventory import Inventory
from vpcaudit.model import Severity
from vpcaudit.policy import load_policy
from vpcaudit.report import ReportData, json_report, table
from vpcaudit.rules.registry import load_rules
from vpcaudit.snapshot import Snapshot

FLOW = "vpc-flow-logs-missing"
ENDPOINT = "endpoint-interface-for-gateway-service"


def add_tags(snap: Snapshot, resource_id: str, **tags: str) -> Snapshot:
    """Add tags to the raw item of a resource in every region where it was read."""
    found = False
    for region in snap.regions:
        for items in region.resources.values():
            for raw in items:
                if resource_id in (raw.get("VpcId"), raw.get("VpcEndpointId")) and (
                    "CidrBlockAssociationSet" in raw or "VpcEndpointId" in raw
                ):
                    raw.setdefault("Tags", []).extend(
                        {"Key": k, "Value": v} for k, v in tags.items()
                    )
                    found = True
    assert found, resource_id
    return snap


def estate(finished_at: dt.datetime | None = None) -> Snapshot:
    """Three VPCs without flow logs in two accounts and two regions, and an S3 endpoint.

    vpc-0a1: 111 us-east-1, tags Name=sandbox-a, env=sandbox
    vpc-0a2: 111 eu-west-1, tags env=prod
    vpc-0b1: 222 us-east-1, tags env=sandbox, team=data
    vpce-0s3: interface endpoint for S3 in vpc-0a1 (rule endpoint-interface-for-gateway-service)
    """
    b = SnapshotBuilder() if finished_at is None else SnapshotBuilder(finished_at=finished_at)
    b.vpc("vpc-0a1", "10.0.0.0/16", name="sandbox-a")
    b.subnet("subnet-a1", "vpc-0a1", "10.0.1.0/24")
    b.endpoint("vpce-0s3", "vpc-0a1", "s3", subnets=["subnet-a1"])
    b.vpc("vpc-0a2", "10.1.0.0/16", region=OTHER_REGION)
    b.vpc("vpc-0b1", "10.2.0.0/16", account=OTHER_ACCOUNT)
    snap = b.build()
    add_tags(snap, "vpc-0a1", env="sandbox")
    add_tags(snap, "vpc-0a2", env="prod")
    add_tags(snap, "vpc-0b1", env="sandbox", team="data")
    return snap


def run(tmp_path: Path, waivers_yaml: str, snap: Snapshot | None = None) -> Evaluation:
    """Evaluate the estate (or snap) under a policy file holding these waivers.

    The policy is read against every installed rule, as the CLI reads it, but only the two
    rules the estate is built for run, so rules added later cannot change what is waived.
    """
    path = tmp_path / "waivers.yaml"
    path.write_text(textwrap.dedent(waivers_yaml).lstrip("\n"), encoding="utf-8")
    rules = {k: v.rule for k, v in load_rules().items()}
    return evaluate(
        Inventory.from_snapshot(estate() if snap is None else snap),
        {k: rules[k] for k in (FLOW, ENDPOINT)},
        load_policy([path], rules),
    )


def suppressed(ev: Evaluation) -> list[tuple[str, str]]:
    """(rule id, resource id) of the suppressed findings, sorted."""
    return sorted((f.rule_id, f.resource.resource_id) for f in ev.findings if f.suppressed)


def test_without_waivers_nothing_is_suppressed(tmp_path: Path) -> None:
    ev = run(tmp_path, "waivers: []\n")
    assert sorted((f.rule_id, f.resource.resource_id) for f in ev.findings) == [
        (ENDPOINT, "vpce-0s3"),
        (FLOW, "vpc-0a1"),
        (FLOW, "vpc-0a2"),
        (FLOW, "vpc-0b1"),
    ]
    assert suppressed(ev) == []
    assert ev.waivers.applied == ()
    assert ev.waivers.expired == ()
    assert ev.waivers.stale == ()


@pytest.mark.parametrize(
    ("matchers", "expected"),
    [
        pytest.param("resource: vpc-0a1", ["vpc-0a1"], id="resource-id"),
        pytest.param("resource: vpc-0a*", ["vpc-0a1", "vpc-0a2"], id="resource-id-glob"),
        pytest.param("resource: 'vpc-0?1'", ["vpc-0a1", "vpc-0b1"], id="resource-id-?-glob"),
        pytest.param(
            f"resource: 'arn:aws:ec2:{OTHER_REGION}:{ACCOUNT}:vpc/vpc-0a2'", ["vpc-0a2"], id="arn"
        ),
        pytest.param(
            "resource: 'arn:aws:ec2:us-east-1:*:vpc/*'", ["vpc-0a1", "vpc-0b1"], id="arn-glob"
        ),
        pytest.param(f"account: '{OTHER_ACCOUNT}'", ["vpc-0b1"], id="account"),
        pytest.param(f"account: '{ACCOUNT}'", ["vpc-0a1", "vpc-0a2"], id="account-2"),
        pytest.param("region: 'eu-*'", ["vpc-0a2"], id="region-glob"),
        pytest.param(f"region: {REGION}", ["vpc-0a1", "vpc-0b1"], id="region"),
        pytest.param("tags: {env: sandbox}", ["vpc-0a1", "vpc-0b1"], id="tag"),
        pytest.param("tags: {env: sandbox, team: data}", ["vpc-0b1"], id="every-tag"),
        pytest.param("tags: {Name: sandbox-a}", ["vpc-0a1"], id="name-tag"),
        pytest.param("tags: {env: Sandbox}", [], id="tag-value-exact"),
        pytest.param(f"account: '{ACCOUNT}', region: 'eu-*'", ["vpc-0a2"], id="and"),
        pytest.param("resource: vpc-0b1, region: 'eu-*'", [], id="and-none"),
        pytest.param("resource: VPC-0A1", [], id="case-sensitive"),
    ],
)
def test_waiver_matchers(tmp_path: Path, matchers: str, expected: list[str]) -> None:
    ev = run(
        tmp_path,
        f"waivers:\n  - {{rule: {FLOW}, reason: Known., {matchers}}}\n",
    )
    assert suppressed(ev) == [(FLOW, r) for r in expected]
    # The other rule's finding in the same account, region and VPC is never touched.
    assert not next(f for f in ev.findings if f.rule_id == ENDPOINT).suppressed


def test_rule_star_waives_every_rule(tmp_path: Path) -> None:
    ev = run(
        tmp_path,
        f"""
        waivers:
          - rule: "*"
            account: "{ACCOUNT}"
            region: {REGION}
            reason: Lab account region.
        """,
    )
    assert suppressed(ev) == [(ENDPOINT, "vpce-0s3"), (FLOW, "vpc-0a1")]
    # With a rule id instead, only that rule's finding is waived.
    ev = run(
        tmp_path,
        f"""
        waivers:
          - rule: {ENDPOINT}
            account: "{ACCOUNT}"
            region: {REGION}
            reason: Lab account region.
        """,
    )
    assert suppressed(ev) == [(ENDPOINT, "vpce-0s3")]


def test_waived_finding_carries_the_waiver_and_stops_counting(tmp_path: Path) -> None:
    ev = run(
        tmp_path,
        f"""
        version: 1
        waivers:
          - rule: {FLOW}
            resource: vpc-0b1
            account: "{OTHER_ACCOUNT}"
            region: us-*
            tags: {{team: data}}
            reason: "  Data team logs at the subnet level.  "
            owner: data@example.com
            expires: 2024-06-30
        """,
    )
    [f] = [f for f in ev.findings if f.suppressed]
    assert f.resource.resource_id == "vpc-0b1"
    assert f.severity is Severity.MEDIUM  # the severity stays what it was
    assert f.waiver == {
        "rule": FLOW,
        "resource": "vpc-0b1",
        "account": OTHER_ACCOUNT,
        "region": "us-*",
        "tags": {"team": "data"},
        "reason": "Data team logs at the subnet level.",
        "owner": "data@example.com",
        "expires": "2024-06-30",
        "source": f"{tmp_path / 'waivers.yaml'}:3",
    }
    # --fail-on sees the other three findings only.
    assert sorted(x.resource.resource_id for x in at_or_above(ev.findings, Severity.MEDIUM)) == [
        "vpc-0a1",
        "vpc-0a2",
        "vpce-0s3",
    ]
    [(waiver, n)] = ev.waivers.applied
    assert (waiver.to_dict(), n) == (f.waiver, 1)


def test_waiving_the_only_finding_clears_fail_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap_path = tmp_path / "snap.json"
    SnapshotBuilder().vpc("vpc-0only", "10.0.0.0/16").build().save(snap_path)
    policy = tmp_path / "p.yaml"
    policy.write_text(
        f"waivers:\n  - rule: {FLOW}\n    resource: vpc-0only\n    reason: Sandbox.\n",
        encoding="utf-8",
    )
    args = ["evaluate", str(snap_path), "--format", "json", "--fail-on", "info"]
    assert main(args) == 1
    before = json.loads(capsys.readouterr().out)
    assert main([*args, "--policy", str(policy)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    after = json.loads(out)
    assert before["summary"]["total"] == 1
    assert after["summary"]["total"] == 0
    assert after["summary"]["suppressed"] == 1
    assert after["summary"]["by_severity"] == dict.fromkeys(
        ("critical", "high", "medium", "low", "info"), 0
    )
    assert after["summary"]["by_rule"] == {}
    assert FLOW in after["summary"]["rules_run"]
    [f] = after["findings"]
    assert f["suppressed"] is True
    assert f["waiver"]["source"] == f"{policy}:2"
    assert {k: v for k, v in f.items() if k not in ("suppressed", "waiver")} == {
        k: v for k, v in before["findings"][0].items() if k not in ("suppressed", "waiver")
    }


# -- expiry ----------------------------------------------------------------------------------

EXPIRING = f"""
    waivers:
      - rule: {FLOW}
        resource: vpc-0a*
        reason: Migration in progress.
        expires: {{expires}}
    """


def test_waiver_applies_through_its_last_day(tmp_path: Path) -> None:
    # The snapshot finished 2024-06-01 12:00 UTC; a waiver ending that day still holds, even
    # though that date is long past for the clock of the machine running the test.
    ev = run(tmp_path, EXPIRING.format(expires="2024-06-01"))
    assert suppressed(ev) == [(FLOW, "vpc-0a1"), (FLOW, "vpc-0a2")]
    assert ev.waivers.expired == ()


def test_expired_waiver_no_longer_suppresses_and_is_reported(tmp_path: Path) -> None:
    ev = run(tmp_path, EXPIRING.format(expires="2024-05-31"))
    assert suppressed(ev) == []
    [(waiver, would_match)] = ev.waivers.expired
    assert waiver.expires == dt.date(2024, 5, 31)
    assert would_match == 2
    assert ev.waivers.applied == ()
    assert ev.waivers.stale == ()  # expired is not stale


def test_expiry_is_judged_at_the_snapshot_time(tmp_path: Path) -> None:
    text = EXPIRING.format(expires="2024-06-01")
    day_after = dt.datetime(2024, 6, 2, 0, 30, tzinfo=dt.UTC)
    assert suppressed(run(tmp_path, text, estate())) != []
    late = run(tmp_path, text, estate(finished_at=day_after))
    assert suppressed(late) == []
    assert [n for _, n in late.waivers.expired] == [2]
    # A waiver far in the future holds for both.
    far = EXPIRING.format(expires="2999-12-31")
    assert len(suppressed(run(tmp_path, far, estate(finished_at=day_after)))) == 2


def test_expiry_ignores_the_clock_of_the_machine(tmp_path: Path) -> None:
    # A snapshot from the future: its waiver has expired by its own time, though not by ours.
    future = dt.datetime(2100, 1, 1, 12, 0, tzinfo=dt.UTC)
    ev = run(tmp_path, EXPIRING.format(expires="2099-12-31"), estate(finished_at=future))
    assert suppressed(ev) == []
    assert [(w.expires, n) for w, n in ev.waivers.expired] == [(dt.date(2099, 12, 31), 2)]


def test_stale_waiver_is_reported(tmp_path: Path) -> None:
    ev = run(
        tmp_path,
        f"""
        waivers:
          - rule: {FLOW}
            resource: vpc-0a1
            reason: Sandbox.
          - rule: {FLOW}
            resource: vpc-0gone
            reason: Deleted last quarter.
        """,
    )
    assert suppressed(ev) == [(FLOW, "vpc-0a1")]
    [stale] = ev.waivers.stale
    assert (stale.resource, stale.source) == ("vpc-0gone", f"{tmp_path / 'waivers.yaml'}:5")
    assert [(w.resource, n) for w, n in ev.waivers.applied] == [("vpc-0a1", 1)]


def test_first_matching_waiver_wins(tmp_path: Path) -> None:
    ev = run(
        tmp_path,
        f"""
        waivers:
          - rule: {FLOW}
            resource: vpc-0a1
            reason: Specific reason.
          - rule: "*"
            account: "{ACCOUNT}"
            reason: Whole account.
        """,
    )
    source = str(tmp_path / "waivers.yaml")
    by_id = {f.resource.resource_id: f for f in ev.findings}
    assert by_id["vpc-0a1"].waiver is not None
    assert by_id["vpc-0a1"].waiver["reason"] == "Specific reason."
    assert by_id["vpc-0a1"].waiver["source"] == f"{source}:2"
    for rid in ("vpc-0a2", "vpce-0s3"):
        waiver = by_id[rid].waiver
        assert waiver is not None
        assert waiver["reason"] == "Whole account."
    assert by_id["vpc-0b1"].suppressed is False
    assert [(w.source, n) for w, n in ev.waivers.applied] == [
        (f"{source}:2", 1),
        (f"{source}:5", 2),
    ]


# -- reports ---------------------------------------------------------------------------------

REPORT_WAIVERS = f"""
    waivers:
      - rule: {FLOW}
        resource: vpc-0b1
        reason: Data team logs per subnet.
        owner: data@example.com
      - rule: {FLOW}
        region: eu-west-1
        reason: Old migration.
        expires: 2024-01-31
      - rule: {ENDPOINT}
        resource: vpce-0gone
        reason: Deleted.
    """


def report_data(tmp_path: Path) -> tuple[ReportData, str]:
    """The report data of the estate under REPORT_WAIVERS, and the policy file's path."""
    snap = estate()
    return ReportData.build(snap, run(tmp_path, REPORT_WAIVERS, snap)), str(
        tmp_path / "waivers.yaml"
    )


def test_json_report_lists_applied_expired_and_stale_waivers(tmp_path: Path) -> None:
    data, source = report_data(tmp_path)
    doc: dict[str, Any] = json.loads(json_report.render(data))
    applied: dict[str, Any] = {
        "rule": FLOW,
        "resource": "vpc-0b1",
        "account": None,
        "region": None,
        "tags": {},
        "reason": "Data team logs per subnet.",
        "owner": "data@example.com",
        "expires": None,
        "source": f"{source}:2",
    }
    expired: dict[str, Any] = {
        "rule": FLOW,
        "resource": None,
        "account": None,
        "region": "eu-west-1",
        "tags": {},
        "reason": "Old migration.",
        "owner": None,
        "expires": "2024-01-31",
        "source": f"{source}:6",
    }
    stale: dict[str, Any] = {
        "rule": ENDPOINT,
        "resource": "vpce-0gone",
        "account": None,
        "region": None,
        "tags": {},
        "reason": "Deleted.",
        "owner": None,
        "expires": None,
        "source": f"{source}:10",
    }
    assert doc["waivers"] == {
        "applied": [{**applied, "suppressed": 1}],
        "expired": [{**expired, "would_match": 1}],
        "stale": [stale],
    }
    [waived] = [f for f in doc["findings"] if f["suppressed"]]
    assert (waived["resource_id"], waived["waiver"]) == ("vpc-0b1", applied)
    assert all(f["waiver"] is None for f in doc["findings"] if not f["suppressed"])
    assert doc["summary"]["total"] == 3
    assert doc["summary"]["suppressed"] == 1
    assert doc["summary"]["by_rule"] == {ENDPOINT: 1, FLOW: 2}


def test_table_report_shows_suppressed_expired_and_stale_lines(tmp_path: Path) -> None:
    data, source = report_data(tmp_path)
    lines = table.render(data).splitlines()
    assert (
        f"Suppressed: {FLOW} {OTHER_ACCOUNT} us-east-1 vpc-0b1 [medium] waived by {source}:2"
    ) in lines
    assert f"Waived: 1 finding(s) by {source}:2 (Data team logs per subnet.)" in lines
    assert (
        f"EXPIRED waiver {source}:6 (ended 2024-01-31): no longer suppresses 1 finding(s)"
    ) in lines
    assert f"Stale waiver {source}:10: matched no finding" in lines
    assert "Summary: 3 finding(s) (3 medium)" in lines
    # The suppressed VPC appears on its Suppressed line only, not as a finding row.
    assert [ln for ln in lines if "vpc-0b1" in ln] == [
        f"Suppressed: {FLOW} {OTHER_ACCOUNT} us-east-1 vpc-0b1 [medium] waived by {source}:2"
    ]


def test_table_report_without_waivers_has_no_waiver_lines(tmp_path: Path) -> None:
    snap = estate()
    text = table.render(ReportData.build(snap, run(tmp_path, "version: 1\n", snap)))
    for word in ("Suppressed:", "Waived:", "EXPIRED", "Stale"):
        assert word not in text
