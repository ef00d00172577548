"""Issue 11, items 6, 7, 8, 14 (first two duplicates) and 17: flow-log and routing rules.

Each expectation was written from AWS's documentation before running the rule:

- CloudWatch Logs creates a flow log's log group only when it delivers the first record, so an
  ACTIVE flow log on an idle VPC has no group yet (VPC user guide, "Troubleshoot VPC Flow
  Logs": the log group is only created when traffic is recorded). A group that is absent while
  DeliverLogsStatus is FAILED is a destination that is gone (or could never be created).
- FlowLog.DeliverLogsErrorMessage (EC2 API reference) takes three documented values: "Rate
  limited", "Access error", "Unknown error". Nothing else is used here.
- TrafficType is ACCEPT, REJECT or ALL; ACCEPT and REJECT logs together record all traffic.
- VPC peering carries only traffic addressed to the peer VPC's own CIDR blocks, IPv4 and IPv6
  apart; a VPC with no IPv6 block receives no IPv6 traffic through a peering.
- A route table associated with an internet or virtual private gateway (an edge, or ingress,
  route table) routes the traffic entering the VPC through that gateway; a subnet with no
  explicit association uses the VPC's main table.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.builders import (
    ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    Side,
    SnapshotBuilder,
    route,
    run_rule,
    with_items,
)
from vpcaudit import cli
from vpcaudit.awscli import ask
from vpcaudit.evaluate import Evaluation, evaluate
from vpcaudit.inventory import Inventory
from vpcaudit.model import Finding, Severity
from vpcaudit.policy import Policy
from vpcaudit.rules.base import Rule
from vpcaudit.rules.flowlogs import (
    DELIVERY_ERRORS,
    DELIVERY_FAILED,
    DESTINATION_MISSING,
    FLOW_LOGS_MISSING,
    PARTIAL_TRAFFIC,
    SUBNET_ONLY,
)
from vpcaudit.rules.routing import (
    PEERING_CIDR_OVERLAP,
    ROUTE_BLACKHOLE,
    ROUTE_NOT_TRANSITIVE,
    ROUTE_TOO_BROAD,
    VPC_CIDR_OVERLAP,
)
from vpcaudit.snapshot import Snapshot

FLOW_RULES = (FLOW_LOGS_MISSING, DELIVERY_FAILED, PARTIAL_TRAFFIC, SUBNET_ONLY, DESTINATION_MISSING)
PEERING_ROUTE_RULES = (ROUTE_NOT_TRANSITIVE, ROUTE_TOO_BROAD)

# AWS's documented DeliverLogsErrorMessage values (EC2 API reference, FlowLog).
AWS_DELIVERY_ERRORS = ("Rate limited", "Access error", "Unknown error")


def run_rules(rules: tuple[Rule[Any], ...], snap: Snapshot) -> Evaluation:
    """Evaluate several rules together, as a scan does."""
    return evaluate(Inventory.from_snapshot(snap), {r.id: r for r in rules}, Policy())


def only(result: Evaluation) -> Finding:
    assert len(result.findings) == 1, [(f.rule_id, f.message) for f in result.findings]
    return result.findings[0]


def cmd(command: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"{command} --region {region}  # as account {account}"


def assert_well_formed(result: Evaluation) -> None:
    """No empty lists in messages, no blank lines in fixes."""
    for f in result.findings:
        assert "()" not in f.message, f.message
        assert f.remediation == f.remediation.strip(), repr(f.remediation)
        assert all(line.strip() for line in f.remediation.splitlines()), repr(f.remediation)


def _set(snap: Snapshot, flow_log_id: str, **fields: Any) -> Snapshot:
    """The snapshot with raw fields of one flow log replaced (None: removed)."""

    def edit(items: list[Any]) -> list[Any]:
        out = []
        for item in items:
            raw = item
            if isinstance(item, dict) and item.get("FlowLogId") == flow_log_id:
                raw = dict(item)
                for k, v in fields.items():
                    if v is None:
                        raw.pop(k, None)
                    else:
                        raw[k] = v
            out.append(raw)
        return out

    return with_items(snap, edit)


# -- item 6: a CloudWatch Logs group not created yet is not a missing destination ----------


def idle_vpc(**kw: Any) -> SnapshotBuilder:
    """An idle VPC with an ACTIVE flow log to a CloudWatch Logs group that was never listed."""
    return (
        SnapshotBuilder()
        .vpc("vpc-idle", "10.20.0.0/16", name="idle")
        .subnet("subnet-idle", "vpc-idle", "10.20.1.0/24")
        .flow_log(
            "fl-idle", "vpc-idle", destination_type="cloud-watch-logs", log_group="/vpc/idle", **kw
        )
        .log_group("/unrelated")  # the account's log groups were read
    )


def test_item6_idle_vpc_whose_group_does_not_exist_yet_is_not_flagged() -> None:
    result = run_rules(FLOW_RULES, idle_vpc().build())
    assert result.findings == ()
    assert result.unverified == ()


def test_item6_variant_subnet_log_in_another_account_and_region_before_first_record() -> None:
    where = {"account": OTHER_ACCOUNT, "region": OTHER_REGION}
    snap = (
        SnapshotBuilder()
        .vpc("vpc-eu", "10.30.0.0/16", name="eu", **where)
        .subnet("subnet-eu", "vpc-eu", "10.30.1.0/24", **where)
        .flow_log("fl-eu-vpc", "vpc-eu", **where)
        .flow_log(
            "fl-eu-cw",
            "subnet-eu",
            destination_type="cloud-watch-logs",
            log_group="/vpc/eu-subnet",
            **where,
        )
        .log_group("/other", **where)
        .build()
    )
    assert run_rules(FLOW_RULES, snap).findings == ()


def test_item6_variant_no_delivery_status_at_all_is_not_evidence() -> None:
    # An item without DeliverLogsStatus (older shapes): nothing says delivery failed.
    snap = _set(idle_vpc().build(), "fl-idle", DeliverLogsStatus=None)
    assert run_rules(FLOW_RULES, snap).findings == ()


@pytest.mark.parametrize("error", AWS_DELIVERY_ERRORS)
def test_item6_group_absent_while_delivery_fails_is_one_medium_finding(error: str) -> None:
    snap = idle_vpc(deliver_status="FAILED", deliver_error=error).build()
    result = run_rules(FLOW_RULES, snap)
    f = only(result)  # not also flow-logs-delivery-failed: one problem, one finding
    assert f.rule_id == "flow-logs-destination-missing"
    assert f.severity is Severity.MEDIUM
    assert f.evidence["error"] == error
    assert DELIVERY_ERRORS[error.lower()] in f.message
    assert f.remediation == cmd("aws logs create-log-group --log-group-name /vpc/idle")
    assert_well_formed(result)


def test_item6_variant_cross_account_group_is_recreated_where_it_lives() -> None:
    # A flow log in 111 us-east-1 delivers to a central group of 222 in eu-west-1.
    central = f"arn:aws:logs:{OTHER_REGION}:{OTHER_ACCOUNT}:log-group:/central/flow-logs"
    snap = (
        idle_vpc(destination=central, deliver_status="FAILED", deliver_error="Access error")
        .log_group("/central/other", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .build()
    )
    f = only(run_rules(FLOW_RULES, snap))
    assert f.rule_id == "flow-logs-destination-missing"
    assert f.remediation == cmd(
        "aws logs create-log-group --log-group-name /central/flow-logs", OTHER_ACCOUNT, OTHER_REGION
    )
    # The same failure where 222's log groups were not read: only the failure is known.
    unread = (
        idle_vpc(destination=central, deliver_status="FAILED", deliver_error="Access error")
        .gap("logs:DescribeLogGroups", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .build()
    )
    assert only(run_rules(FLOW_RULES, unread)).rule_id == "flow-logs-delivery-failed"


# -- item 7: AWS's real delivery errors only ----------------------------------------------


def s3_vpc(**kw: Any) -> SnapshotBuilder:
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .flow_log("fl-s3", "vpc-a", **kw)
    )


@pytest.mark.parametrize("error", AWS_DELIVERY_ERRORS)
def test_item7_s3_delivery_errors_are_delivery_failures_not_missing_destinations(
    error: str,
) -> None:
    # A deleted bucket shows as "Access error" too: the scan cannot tell, and does not claim.
    snap = s3_vpc(deliver_status="FAILED", deliver_error=error).build()
    result = run_rules(FLOW_RULES, snap)
    f = only(result)
    assert f.rule_id == "flow-logs-delivery-failed"
    assert f.severity is Severity.MEDIUM
    assert f.evidence["error"] == error
    assert f.evidence["meaning"] == DELIVERY_ERRORS[error.lower()]
    assert f.message.endswith(f": {error} ({DELIVERY_ERRORS[error.lower()]}).")
    assert_well_formed(result)


def test_item7_variant_firehose_in_another_region() -> None:
    stream = f"arn:aws:firehose:{OTHER_REGION}:{ACCOUNT}:deliverystream/flow-logs"
    snap = (
        SnapshotBuilder()
        .vpc("vpc-eu", "10.40.0.0/16", region=OTHER_REGION)
        .flow_log(
            "fl-fh",
            "vpc-eu",
            destination_type="kinesis-data-firehose",
            destination=stream,
            deliver_status="FAILED",
            deliver_error="Access error",
            region=OTHER_REGION,
        )
        .build()
    )
    f = only(run_rules(FLOW_RULES, snap))
    assert f.rule_id == "flow-logs-delivery-failed"
    assert f.evidence["destination"] == stream
    assert f"--flow-log-ids fl-fh --region {OTHER_REGION}  # as account {ACCOUNT}" in f.remediation


def test_item7_the_documented_meanings_are_the_three_aws_values() -> None:
    assert sorted(DELIVERY_ERRORS) == sorted(e.lower() for e in AWS_DELIVERY_ERRORS)


# -- item 8: ACCEPT + REJECT, or ALL + REJECT, record all traffic --------------------------


def logged_vpc() -> SnapshotBuilder:
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .subnet("subnet-a2", "vpc-a", "10.0.2.0/24", az="b")
    )


def test_item8_accept_and_reject_logs_to_the_same_destination_record_all_traffic() -> None:
    bucket = f"arn:aws:s3:::flow-logs-{ACCOUNT}/vpc-a/"
    snap = (
        logged_vpc()
        .flow_log("fl-acc", "vpc-a", traffic_type="ACCEPT", destination=bucket)
        .flow_log("fl-rej", "vpc-a", traffic_type="REJECT", destination=bucket)
        .build()
    )
    assert run_rules(FLOW_RULES, snap).findings == ()


def test_item8_variant_accept_and_reject_to_different_destinations_in_another_region() -> None:
    # ACCEPT to CloudWatch Logs, REJECT to S3, on a subnet of an eu-west-1 VPC logged on every
    # subnet: both halves are recorded, kept in two places by choice.
    where = {"account": OTHER_ACCOUNT, "region": OTHER_REGION}
    snap = (
        SnapshotBuilder()
        .vpc("vpc-eu", "10.50.0.0/16", **where)
        .subnet("subnet-eu", "vpc-eu", "10.50.1.0/24", **where)
        .flow_log(
            "fl-acc",
            "subnet-eu",
            traffic_type="ACCEPT",
            destination_type="cloud-watch-logs",
            log_group="/vpc/accepted",
            **where,
        )
        .log_group("/vpc/accepted", **where)
        .flow_log("fl-rej", "subnet-eu", traffic_type="REJECT", **where)
        .build()
    )
    assert run_rule(PARTIAL_TRAFFIC, snap).findings == ()


def test_item8_all_plus_reject_for_alerting_is_not_partial() -> None:
    snap = (
        logged_vpc()
        .flow_log("fl-all", "vpc-a", traffic_type="ALL")
        .flow_log(
            "fl-alerts", "vpc-a", traffic_type="REJECT", destination_type="kinesis-data-firehose"
        )
        .build()
    )
    assert run_rules(FLOW_RULES, snap).findings == ()


def test_item8_variant_partial_subnet_and_interface_logs_under_an_all_vpc_log() -> None:
    snap = (
        logged_vpc()
        .network_interface("eni-a1", "subnet-a1", private_ip="10.0.1.10", instance_id="i-a1")
        .flow_log("fl-all", "vpc-a", traffic_type="ALL")
        .flow_log("fl-sub", "subnet-a1", traffic_type="REJECT")
        .flow_log("fl-eni", "eni-a1", traffic_type="ACCEPT")
        .build()
    )
    assert run_rule(PARTIAL_TRAFFIC, snap).findings == ()


def test_item8_reject_only_vpc_is_one_finding_that_keeps_the_reject_log() -> None:
    # The demo's spoke-a: a REJECT-only VPC log. Two REJECT logs (two consumers) and a REJECT
    # subnet log under it are still one problem, reported once, on the VPC.
    snap = (
        logged_vpc()
        .flow_log("fl-rej1", "vpc-a", traffic_type="REJECT")
        .flow_log(
            "fl-rej2", "vpc-a", traffic_type="REJECT", destination_type="kinesis-data-firehose"
        )
        .flow_log("fl-sub", "subnet-a1", traffic_type="REJECT")
        .build()
    )
    result = run_rule(PARTIAL_TRAFFIC, snap)
    f = only(result)
    assert f.resource.resource_id == "fl-rej1"
    assert f.evidence == {
        "resource_id": "vpc-a",
        "traffic_type": "REJECT",
        "missing_traffic": "ACCEPT",
        "flow_logs": ["fl-rej1", "fl-rej2"],
    }
    assert f.remediation == cmd(
        "aws ec2 create-flow-logs --resource-type VPC --resource-ids vpc-a --traffic-type ACCEPT "
        f"--log-destination-type s3 --log-destination arn:aws:s3:::flow-logs-{ACCOUNT}/vpc-a/"
    )
    assert_well_formed(result)


def test_item8_variant_accept_only_subnet_under_an_unlogged_vpc_to_cloudwatch() -> None:
    snap = (
        logged_vpc()
        .flow_log(
            "fl-sub",
            "subnet-a2",
            traffic_type="ACCEPT",
            destination_type="cloud-watch-logs",
            log_group="/vpc/a2",
        )
        .log_group("/vpc/a2")
        .build()
    )
    f = only(run_rule(PARTIAL_TRAFFIC, snap))
    assert (f.evidence["resource_id"], f.evidence["missing_traffic"]) == ("subnet-a2", "REJECT")
    assert f.remediation == cmd(
        "aws ec2 create-flow-logs --resource-type Subnet --resource-ids subnet-a2 "
        "--traffic-type REJECT --log-destination-type cloud-watch-logs --log-destination "
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/vpc/a2 "
        "--deliver-logs-permission-arn "
        + ask("DELIVERY_ROLE_ARN", "a role flow logs may assume to publish")
    )


# -- item 14: one problem, one finding ----------------------------------------------------


def dual_stack_peered(peer_ipv6: tuple[str, ...] = (), *routes: dict[str, str]) -> Snapshot:
    """vpc-a (10.0.0.0/16 and 2600:1f18:a::/56) peered with vpc-b (10.1.0.0/16, IPv4-only
    unless peer_ipv6) of another account; rtb-a serves vpc-a's subnet with `routes`."""
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", ipv6=["2600:1f18:a::/56"])
        .vpc("vpc-b", "10.1.0.0/16", ipv6=list(peer_ipv6), account=OTHER_ACCOUNT)
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24", ipv6=["2600:1f18:a:1::/64"])
        .peering("pcx-1", "vpc-a", "vpc-b")
        .route_table(
            "rtb-a",
            "vpc-a",
            subnets=["subnet-a1"],
            routes=[route("10.1.0.0/16", "pcx-1"), *routes],
        )
        .build()
    )


def test_item14_ipv6_default_route_to_an_ipv4_only_peer_is_one_finding() -> None:
    snap = dual_stack_peered((), route("::/0", "pcx-1"))
    result = run_rules(PEERING_ROUTE_RULES, snap)
    f = only(result)
    assert f.rule_id == "peering-route-not-transitive"  # the more specific rule
    assert f.severity is Severity.MEDIUM
    assert f.evidence["destination"] == "::/0"
    assert "which has no IPv6 CIDR block" in f.message
    assert f.remediation == cmd(
        "aws ec2 delete-route --route-table-id rtb-a --destination-ipv6-cidr-block ::/0"
    )
    assert_well_formed(result)


def test_item14_variant_ipv6_prefix_to_an_ipv4_only_peer_in_another_region() -> None:
    # The route table is the accepter's, in another account and region; the requester is
    # IPv4-only and was not scanned (its blocks are known from the peering).
    requester = Side(ACCOUNT, REGION, "vpc-far", ("10.70.0.0/16",))
    where = {"account": OTHER_ACCOUNT, "region": OTHER_REGION}
    snap = (
        SnapshotBuilder()
        .vpc("vpc-eu", "10.71.0.0/16", ipv6=["2a05:d018:1::/56"], **where)
        .peering("pcx-x", requester, "vpc-eu", seen_from=[(OTHER_ACCOUNT, OTHER_REGION)])
        .route_table(
            "rtb-eu",
            "vpc-eu",
            main=True,
            routes=[route("10.70.0.0/16", "pcx-x"), route("2600:1f18:70::/56", "pcx-x")],
            **where,
        )
        .build()
    )
    result = run_rules(PEERING_ROUTE_RULES, snap)
    f = only(result)
    assert f.rule_id == "peering-route-not-transitive"
    assert (f.resource.account_id, f.resource.region) == (OTHER_ACCOUNT, OTHER_REGION)
    assert f.evidence["destination"] == "2600:1f18:70::/56"
    assert "which has no IPv6 CIDR block" in f.message
    assert_well_formed(result)


def test_item14_variant_ipv6_default_route_to_a_dual_stack_peer_is_too_broad_only() -> None:
    # The peer has an IPv6 block: the route holds it and more, peering-route-too-broad's.
    snap = dual_stack_peered(("2600:1f18:b::/56",), route("::/0", "pcx-1"))
    result = run_rules(PEERING_ROUTE_RULES, snap)
    f = only(result)
    assert f.rule_id == "peering-route-too-broad"
    assert f.remediation.splitlines() == [
        cmd(
            "aws ec2 create-route --route-table-id rtb-a --destination-ipv6-cidr-block "
            "2600:1f18:b::/56 --vpc-peering-connection-id pcx-1"
        ),
        cmd("aws ec2 delete-route --route-table-id rtb-a --destination-ipv6-cidr-block ::/0"),
    ]
    assert_well_formed(result)


def test_item14_variant_ipv4_default_route_when_the_peer_block_is_already_routed() -> None:
    # 10.1.0.0/16 is routed alone already: the fix is the delete alone, no blank first line.
    snap = dual_stack_peered((), route("0.0.0.0/0", "pcx-1"))
    result = run_rules(PEERING_ROUTE_RULES, snap)
    f = only(result)
    assert f.rule_id == "peering-route-too-broad"
    assert f.remediation == cmd(
        "aws ec2 delete-route --route-table-id rtb-a --destination-cidr-block 0.0.0.0/0"
    )
    assert_well_formed(result)


def test_item14_every_peering_route_shape_gives_at_most_one_finding_per_route() -> None:
    snap = dual_stack_peered(
        (),
        route("::/0", "pcx-1"),
        route("0.0.0.0/0", "pcx-1"),
        route("10.0.0.0/8", "pcx-1"),
        route("172.16.0.0/12", "pcx-1"),
        route("2600:1f18:c::/56", "pcx-1"),
    )
    result = run_rules(PEERING_ROUTE_RULES, snap)
    per_route = [f.evidence["destination"] for f in result.findings]
    assert sorted(per_route) == sorted(
        ["::/0", "0.0.0.0/0", "10.0.0.0/8", "172.16.0.0/12", "2600:1f18:c::/56"]
    )
    assert_well_formed(result)


def test_item14_class_no_empty_list_when_the_overlap_sample_is_zero() -> None:
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .vpc("vpc-b", "10.0.0.0/16", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .build()
    )
    result = run_rule(VPC_CIDR_OVERLAP, snap, sample=0)
    assert [f.message for f in result.findings] == [
        "VPC vpc-a overlaps 1 other VPC block(s): they can never be peered.",
        "VPC vpc-b overlaps 1 other VPC block(s): they can never be peered.",
    ]
    assert_well_formed(result)


def subnet_logged(*, all_subnets: bool, **where: str) -> SnapshotBuilder:
    b = (
        SnapshotBuilder()
        .vpc("vpc-s", "10.60.0.0/16", name="legacy", **where)
        .subnet("subnet-s1", "vpc-s", "10.60.1.0/24", **where)
        .subnet("subnet-s2", "vpc-s", "10.60.2.0/24", az="b", **where)
        .flow_log("fl-s1", "subnet-s1", **where)
    )
    if all_subnets:
        b.flow_log("fl-s2", "subnet-s2", **where)
    return b


def test_item14_vpc_with_only_subnet_flow_logs_is_one_finding() -> None:
    result = run_rules(FLOW_RULES, subnet_logged(all_subnets=False).build())
    f = only(result)
    assert f.rule_id == "flow-logs-subnet-only"
    assert f.severity is Severity.MEDIUM  # subnet-s2 is dark
    assert f.evidence["unlogged_subnets"] == ["subnet-s2"]
    assert f.message.startswith("VPC vpc-s (legacy) is logged only on 1 of 2 subnet(s)")
    assert_well_formed(result)


def test_item14_variant_every_subnet_logged_in_another_account_and_region() -> None:
    where = {"account": OTHER_ACCOUNT, "region": OTHER_REGION}
    result = run_rules(FLOW_RULES, subnet_logged(all_subnets=True, **where).build())
    f = only(result)
    assert f.rule_id == "flow-logs-subnet-only"
    assert f.severity is Severity.LOW  # all recorded today; new subnets will not be
    assert (f.resource.account_id, f.resource.region) == (OTHER_ACCOUNT, OTHER_REGION)


def test_item14_variant_shared_vpc_logged_on_subnets_by_its_owner() -> None:
    b = subnet_logged(all_subnets=False, account=OTHER_ACCOUNT)
    b.vpc("vpc-s", "10.60.0.0/16", owner=OTHER_ACCOUNT)  # the participant's view (111)
    result = run_rules(FLOW_RULES, b.build())
    f = only(result)
    assert (f.rule_id, f.resource.account_id) == ("flow-logs-subnet-only", OTHER_ACCOUNT)
    assert result.unverified == ()


def test_item14_variant_only_inactive_subnet_logs_is_a_vpc_without_flow_logs() -> None:
    snap = _set(subnet_logged(all_subnets=False).build(), "fl-s1", FlowLogStatus="INACTIVE")
    f = only(run_rules(FLOW_RULES, snap))
    assert f.rule_id == "vpc-flow-logs-missing"


def test_item14_class_failed_flow_log_to_a_deleted_group_is_one_finding() -> None:
    # The demo's shape: a subnet log to a CloudWatch Logs group that was deleted, in a VPC
    # that is itself logged; delivery fails with AWS's "Access error".
    snap = (
        SnapshotBuilder()
        .vpc("vpc-an", "10.3.0.0/16")
        .subnet("subnet-an", "vpc-an", "10.3.1.0/24")
        .flow_log("fl-vpc", "vpc-an")
        .flow_log(
            "fl-gone",
            "subnet-an",
            destination_type="cloud-watch-logs",
            log_group="/vpc/analytics-subnet-a",
            deliver_status="FAILED",
            deliver_error="Access error",
        )
        .log_group("/vpc/flow")
        .build()
    )
    result = run_rules(FLOW_RULES, snap)
    f = only(result)
    assert (f.rule_id, f.resource.resource_id) == ("flow-logs-destination-missing", "fl-gone")
    assert_well_formed(result)


# -- item 17: a blackhole's severity follows what its table carries ------------------------


def vpc_with_tables(*, dead: dict[str, str]) -> SnapshotBuilder:
    """vpc-a: main table rtb-main, rtb-used (subnet-a1), rtb-spare (nothing); `dead` in each."""
    return (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .route_table("rtb-main", "vpc-a", main=True)
        .route_table("rtb-used", "vpc-a", subnets=["subnet-a1"], routes=[dead])
        .route_table("rtb-spare", "vpc-a", routes=[dead])
    )


def severities(snap: Snapshot) -> dict[str, Severity]:
    return {f.resource.resource_id: f.severity for f in run_rule(ROUTE_BLACKHOLE, snap).findings}


def test_item17_unused_table_ranks_below_used_table_and_edge_table_above() -> None:
    dead = route("0.0.0.0/0", "i-0gone", state="blackhole")
    snap = (
        vpc_with_tables(dead=dead)
        .internet_gateway("igw-a", "vpc-a")
        .route_table(
            "rtb-edge",
            "vpc-a",
            gateways=["igw-a"],
            routes=[route("10.0.1.0/24", "eni-0firewall", state="blackhole")],
        )
        .build()
    )
    result = run_rule(ROUTE_BLACKHOLE, snap)
    by_table = {f.resource.resource_id: f for f in result.findings}
    assert {t: f.severity for t, f in by_table.items()} == {
        "rtb-spare": Severity.LOW,
        "rtb-used": Severity.MEDIUM,
        "rtb-edge": Severity.HIGH,
    }
    assert by_table["rtb-spare"].evidence["subnet_ids"] == []
    assert "nothing is dropped until one is associated" in by_table["rtb-spare"].message
    edge = by_table["rtb-edge"]
    assert edge.evidence["gateway_ids"] == ["igw-a"]
    assert "all inbound traffic from it to 10.0.1.0/24 is dropped" in edge.message
    assert edge.remediation == cmd(
        "aws ec2 delete-route --route-table-id rtb-edge --destination-cidr-block 10.0.1.0/24"
    )


def test_item17_variant_main_table_serving_subnets_implicitly_is_medium() -> None:
    dead = route("192.168.0.0/16", "eni-0gone", state="blackhole")
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16")
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24")
        .subnet("subnet-a2", "vpc-a", "10.0.2.0/24", az="b")
        .route_table("rtb-main", "vpc-a", main=True, routes=[dead])
        .route_table("rtb-a1", "vpc-a", subnets=["subnet-a1"])
        .build()
    )
    f = only(run_rule(ROUTE_BLACKHOLE, snap))
    assert f.severity is Severity.MEDIUM
    assert f.evidence["subnet_ids"] == ["subnet-a2"]  # no explicit association: the main table


def test_item17_variant_main_table_every_subnet_left_is_low() -> None:
    # A deleted NAT gateway, in a main table no subnet uses (each has its own table).
    snap = (
        SnapshotBuilder()
        .vpc("vpc-a", "10.0.0.0/16", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .subnet("subnet-a1", "vpc-a", "10.0.1.0/24", account=OTHER_ACCOUNT, region=OTHER_REGION)
        .route_table(
            "rtb-main",
            "vpc-a",
            main=True,
            routes=[route("0.0.0.0/0", "nat-0gone")],
            account=OTHER_ACCOUNT,
            region=OTHER_REGION,
        )
        .route_table(
            "rtb-a1", "vpc-a", subnets=["subnet-a1"], account=OTHER_ACCOUNT, region=OTHER_REGION
        )
        .nat_gateway(
            "nat-0gone", "vpc-a", state="deleted", account=OTHER_ACCOUNT, region=OTHER_REGION
        )
        .build()
    )
    f = only(run_rule(ROUTE_BLACKHOLE, snap))
    assert f.severity is Severity.LOW
    assert f.evidence["reason"] == "is a NAT gateway in state deleted"


def test_item17_variant_virtual_private_gateway_edge_table_ipv6_is_high() -> None:
    where = {"account": OTHER_ACCOUNT, "region": OTHER_REGION}
    snap = (
        SnapshotBuilder()
        .vpc("vpc-x", "10.9.0.0/16", ipv6=["2a05:d018:9::/56"], **where)
        .subnet("subnet-x", "vpc-x", "10.9.1.0/24", ipv6=["2a05:d018:9:1::/64"], **where)
        .vpn_gateway("vgw-x", "vpc-x", **where)
        .route_table(
            "rtb-vgw-edge",
            "vpc-x",
            gateways=["vgw-x"],
            routes=[route("2a05:d018:9:1::/64", "eni-0inspect", state="blackhole")],
            **where,
        )
        .build()
    )
    f = only(run_rule(ROUTE_BLACKHOLE, snap))
    assert f.severity is Severity.HIGH
    assert (f.resource.account_id, f.resource.region) == (OTHER_ACCOUNT, OTHER_REGION)
    assert "edge route table of vgw-x" in f.message


# -- legitimate designs, documented for `vpcaudit rules RULE` ------------------------------

RULES = (*FLOW_RULES, ROUTE_BLACKHOLE, *PEERING_ROUTE_RULES, PEERING_CIDR_OVERLAP, VPC_CIDR_OVERLAP)


def test_ten_rules_document_the_legitimate_designs_they_leave_alone() -> None:
    assert len(RULES) == 10
    for r in RULES:
        assert r.legitimate, r.id
        assert all(x.strip() and "\n" not in x for x in r.legitimate), r.id


@pytest.mark.parametrize("rule_id", [r.id for r in RULES])
def test_rules_command_shows_them(rule_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["rules", rule_id, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    expected = next(r for r in RULES if r.id == rule_id)
    assert doc["not_flagged"] == list(expected.legitimate)
    assert cli.main(["rules", rule_id]) == 0
    text = capsys.readouterr().out
    assert "Deliberately not flagged" in text and "(not documented)" not in text
