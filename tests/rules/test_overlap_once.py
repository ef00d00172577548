"""One problem, one finding: two peered VPCs whose blocks overlap are peering-cidr-overlap's
finding (it says what breaks); vpc-cidr-overlap keeps the overlaps nothing connects yet."""

from __future__ import annotations

from tests.builders import ACCOUNT, OTHER_ACCOUNT, REGION, Side, SnapshotBuilder
from vpcaudit.evaluate import evaluate
from vpcaudit.inventory import Inventory
from vpcaudit.policy import Policy
from vpcaudit.rules.routing import PEERING_CIDR_OVERLAP, VPC_CIDR_OVERLAP

A, B, C = "vpc-0000000000000000a", "vpc-0000000000000000b", "vpc-0000000000000000c"


def _findings(b: SnapshotBuilder) -> list[tuple[str, str, int | None]]:
    rules = {r.id: r for r in (PEERING_CIDR_OVERLAP, VPC_CIDR_OVERLAP)}
    ev = evaluate(Inventory.from_snapshot(b.build()), rules, Policy())
    return sorted(
        (f.rule_id, f.resource.resource_id, f.evidence.get("overlap_count")) for f in ev.findings
    )


def _pair(status: str, *, third: bool = False, account_b: str = ACCOUNT) -> SnapshotBuilder:
    b = SnapshotBuilder()
    b.vpc(A, "10.0.0.0/16")
    b.vpc(B, "10.0.128.0/17", account=account_b)
    if third:
        b.vpc(C, "10.0.0.0/8")
    b.peering(
        "pcx-00000000000000001",
        Side(ACCOUNT, REGION, A, ("10.0.0.0/16",)),
        Side(account_b, REGION, B, ("10.0.128.0/17",)),
        status=status,
    )
    return b


def test_an_overlapping_active_peering_is_one_finding() -> None:
    assert [r for r, _, _ in _findings(_pair("active"))] == ["peering-cidr-overlap"]


def test_a_pending_cross_account_peering_is_one_finding() -> None:
    found = _findings(_pair("pending-acceptance", account_b=OTHER_ACCOUNT))
    assert [r for r, _, _ in found] == ["peering-cidr-overlap"]


def test_unpeered_overlaps_are_still_noted_and_counted_without_the_peer() -> None:
    found = _findings(_pair("active", third=True))
    assert ("peering-cidr-overlap", "pcx-00000000000000001", None) in found
    overlap = {rid: n for r, rid, n in found if r == "vpc-cidr-overlap"}
    # A and B each overlap only C outside their peering; C overlaps both.
    assert overlap == {A: 1, B: 1, C: 2}


def test_an_ended_peering_leaves_the_overlap_to_the_planning_rule() -> None:
    found = _findings(_pair("deleted"))
    assert [(r, rid) for r, rid, _ in found] == [("vpc-cidr-overlap", A), ("vpc-cidr-overlap", B)]
