"""evaluate: every rule over an inventory, stamped, deduplicated and sorted; pure and stable."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    SnapshotBuilder,
    hours_from_now,
    load_fixture,
    route,
    with_items,
)
from vpcaudit.evaluate import Evaluation, at_or_above, evaluate, fingerprint
from vpcaudit.inventory import Inventory
from vpcaudit.model import ResourceRef, Severity, Violation
from vpcaudit.policy import Policy, RuleSettings
from vpcaudit.rules.base import NoParams, Rule, RuleOutput, rule
from vpcaudit.rules.endpoints import INTERFACE_FOR_GATEWAY_SERVICE
from vpcaudit.rules.flowlogs import FLOW_LOGS_MISSING
from vpcaudit.rules.peering import PENDING_EXPIRING, ROUTE_ONE_WAY
from vpcaudit.snapshot import Snapshot

RULES: dict[str, Rule[Any]] = {
    r.id: r
    for r in (PENDING_EXPIRING, ROUTE_ONE_WAY, INTERFACE_FOR_GATEWAY_SERVICE, FLOW_LOGS_MISSING)
}


def org_snapshot() -> Snapshot:
    """Two accounts, two regions, every rule firing at least once beside correct controls."""
    b = SnapshotBuilder(org_account_ids=[ACCOUNT, OTHER_ACCOUNT])
    b.vpc("vpc-hub", "10.0.0.0/16", name="hub")
    b.subnet("subnet-hub1", "vpc-hub", "10.0.1.0/24", az="a")
    b.subnet("subnet-hub2", "vpc-hub", "10.0.2.0/24", az="b")
    b.route_table(
        "rtb-hub1", "vpc-hub", subnets=["subnet-hub1"], routes=[route("10.1.0.0/16", "pcx-1")]
    )
    b.route_table(
        "rtb-hub2", "vpc-hub", subnets=["subnet-hub2"], routes=[route("10.1.0.0/16", "pcx-1")]
    )
    b.route_table("rtb-hubmain", "vpc-hub", main=True)
    b.endpoint("vpce-s3", "vpc-hub", "s3", subnets=["subnet-hub1", "subnet-hub2"])
    b.vpc("vpc-spoke", "10.1.0.0/16", account=OTHER_ACCOUNT, region=OTHER_REGION)
    b.subnet("subnet-sp1", "vpc-spoke", "10.1.1.0/24", account=OTHER_ACCOUNT, region=OTHER_REGION)
    b.subnet("subnet-sp2", "vpc-spoke", "10.1.2.0/24", account=OTHER_ACCOUNT, region=OTHER_REGION)
    for t in ("rtb-sp2", "rtb-sp1"):
        b.route_table(
            t, "vpc-spoke", subnets=[f"subnet-{t[4:]}"], account=OTHER_ACCOUNT, region=OTHER_REGION
        )
    b.flow_log("fl-spoke", "vpc-spoke", account=OTHER_ACCOUNT, region=OTHER_REGION)
    b.vpc("vpc-ml", "10.2.0.0/16", account=OTHER_ACCOUNT)
    b.flow_log("fl-ml", "vpc-ml", account=OTHER_ACCOUNT)
    b.peering("pcx-1", "vpc-hub", "vpc-spoke")
    b.peering("pcx-2", "vpc-hub", "vpc-ml", status="pending-acceptance", expires=hours_from_now(6))
    return b.build()


def run(snap: Snapshot, policy: Policy | None = None) -> Evaluation:
    return evaluate(Inventory.from_snapshot(snap), RULES, policy or Policy())


def summary(result: Evaluation) -> list[tuple[str, Severity, str, str, str]]:
    return [
        (f.rule_id, f.severity, f.resource.account_id, f.resource.region, f.resource.resource_id)
        for f in result.findings
    ]


def test_every_rule_runs_and_findings_are_most_severe_first() -> None:
    result = run(org_snapshot())
    assert result.rules_run == tuple(sorted(RULES))
    assert summary(result) == [
        ("peering-pending-expiring", Severity.HIGH, OTHER_ACCOUNT, REGION, "pcx-2"),
        ("peering-route-one-way", Severity.MEDIUM, OTHER_ACCOUNT, OTHER_REGION, "pcx-1"),
        ("vpc-flow-logs-missing", Severity.MEDIUM, ACCOUNT, REGION, "vpc-hub"),
        ("endpoint-interface-for-gateway-service", Severity.LOW, ACCOUNT, REGION, "vpce-s3"),
    ]
    ranks = [f.severity.rank for f in result.findings]
    assert ranks == sorted(ranks, reverse=True)
    assert result.unverified == ()


def test_evaluating_twice_gives_equal_results() -> None:
    snap = org_snapshot()
    first, second = run(snap), run(snap)
    assert first == second
    inv = Inventory.from_snapshot(snap)
    assert evaluate(inv, RULES, Policy()) == evaluate(inv, RULES, Policy())


def test_fingerprints_are_stable_and_distinct() -> None:
    a, b = run(org_snapshot()), run(org_snapshot())
    fps = [f.fingerprint for f in a.findings]
    assert fps == [f.fingerprint for f in b.findings]
    assert len(set(fps)) == len(fps)
    assert all(len(fp) == 32 and int(fp, 16) >= 0 for fp in fps)


def shuffled(snap: Snapshot, seed: int) -> Snapshot:
    rng = random.Random(seed)  # noqa: S311 - a reproducible shuffle, not a secret

    def shuffle(items: list[Any]) -> list[Any]:
        out = list(items)
        rng.shuffle(out)
        return out

    return with_items(snap, shuffle)


@pytest.mark.parametrize("seed", range(8))
def test_results_do_not_depend_on_snapshot_item_order(seed: int) -> None:
    snap = org_snapshot()
    base = run(snap)
    other = run(shuffled(snap, seed))
    assert [f.fingerprint for f in other.findings] == [f.fingerprint for f in base.findings]
    assert other.findings == base.findings


@pytest.mark.parametrize("seed", range(4))
def test_fixture_results_do_not_depend_on_item_order(seed: int) -> None:
    snap = load_fixture("cross_account_peering.json")
    assert run(shuffled(snap, seed)) == run(snap)


def test_fingerprint_depends_on_identity_not_on_wording() -> None:
    ref = ResourceRef(ACCOUNT, REGION, "vpc", "vpc-a", "arn:aws:ec2:us-east-1:111:vpc/vpc-a")
    v = Violation(ref, "one message", {"a": 1})
    assert fingerprint("r", v) == fingerprint("r", replace(v, message="other", evidence={}))
    assert fingerprint("r", v) != fingerprint("r2", v)
    assert fingerprint("r", v) != fingerprint("r", replace(v, discriminator="side-b"))
    assert fingerprint("r", v) != fingerprint("r", replace(v, resource=replace(ref, region="x")))


def test_policy_severity_override_wins_over_the_rule_grade() -> None:
    policy = Policy(rules={"peering-pending-expiring": RuleSettings(severity=Severity.CRITICAL)})
    result = run(org_snapshot(), policy)
    assert summary(result)[0] == (
        "peering-pending-expiring",
        Severity.CRITICAL,
        OTHER_ACCOUNT,
        REGION,
        "pcx-2",
    )
    assert result.findings[0].severity.rank == 4


def test_policy_can_disable_a_rule() -> None:
    policy = Policy(rules={"vpc-flow-logs-missing": RuleSettings(enabled=False)})
    result = run(org_snapshot(), policy)
    assert "vpc-flow-logs-missing" not in result.rules_run
    assert len(result.rules_run) == 3
    assert {f.rule_id for f in result.findings} == {
        "peering-pending-expiring",
        "endpoint-interface-for-gateway-service",
        "peering-route-one-way",
    }


def test_policy_params_reach_the_rule() -> None:
    policy = Policy(
        rules={"peering-pending-expiring": RuleSettings(params={"warn_window_hours": 2.0})}
    )
    [pending] = [
        f for f in run(org_snapshot(), policy).findings if f.rule_id == PENDING_EXPIRING.id
    ]
    assert pending.severity is Severity.LOW


def test_bad_param_name_is_a_type_error() -> None:
    policy = Policy(rules={"peering-pending-expiring": RuleSettings(params={"window": 2.0})})
    with pytest.raises(TypeError):
        run(org_snapshot(), policy)


def test_unverified_checks_are_collected_and_sorted() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-b", "10.1.0.0/16")
        .vpc("vpc-a", "10.0.0.0/16")
        .gap("DescribeFlowLogs")
        .build()
    )
    result = run(snap)
    assert result.findings == ()
    assert [(u.rule_id, u.item.resource.resource_id) for u in result.unverified] == [
        ("vpc-flow-logs-missing", "vpc-a"),
        ("vpc-flow-logs-missing", "vpc-b"),
    ]


def _dup_rule() -> Rule[NoParams]:
    @rule(
        id="test-duplicate",
        title="t",
        severity=Severity.INFO,
        area="test",
        rationale="r",
        remediation="r",
        evidence=(),
        params=NoParams,
    )
    def check(inv: Inventory, params: NoParams) -> RuleOutput:
        del inv, params
        ref = ResourceRef(ACCOUNT, REGION, "vpc", "vpc-a", "arn")
        yield Violation(ref, "seen from one account", severity=Severity.HIGH)
        yield Violation(ref, "seen again from another")
        yield Violation(ref, "the other side", discriminator="b")

    return check


def test_same_resource_twice_is_one_finding_and_rule_severity_is_the_default() -> None:
    dup = _dup_rule()
    result = evaluate(Inventory.from_snapshot(org_snapshot()), {dup.id: dup}, Policy())
    assert [(f.message, f.severity) for f in result.findings] == [
        ("seen from one account", Severity.HIGH),
        ("the other side", Severity.INFO),
    ]


def test_at_or_above_ignores_suppressed_findings() -> None:
    findings = run(org_snapshot()).findings
    assert [f.severity for f in at_or_above(findings, Severity.MEDIUM)] == [
        Severity.HIGH,
        Severity.MEDIUM,
        Severity.MEDIUM,
    ]
    hidden = (replace(findings[0], suppressed=True), *findings[1:])
    assert [f.severity for f in at_or_above(hidden, Severity.HIGH)] == []
    assert len(at_or_above(findings, Severity.INFO)) == 4
